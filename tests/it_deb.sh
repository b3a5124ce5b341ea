#!/bin/sh
# it_deb: the Debian package as a Debian administrator meets it.  It
# changes the system (installs and purges beiand, makes the user beiand),
# so it is not part of `make test`: `make check-deb` runs it, and CI
# (.ci/run, on a throwaway machine) after the suite.
#
# lintian finds no error; dpkg -i works where systemd is not running;
# the installed configuration passes `beiand -n` as the service user and
# `beianctl status` works with the packaged paths; a database of the
# previous schema is taken over (migrated, its filings kept); a binary
# older than the database's schema refuses it; remove keeps the
# configuration and the data; purge leaves nothing but the user (the
# documented choice, docs/operations.md); a second install works too.
set -u
deb=${1:?usage: it_deb.sh beiand_VERSION_ARCH.deb}
cd "$(dirname "$0")/.." || exit 2

fail()
{
	echo "FAIL: $*" >&2
	exit 1
}
[ "$(id -u)" = 0 ] || fail "it_deb needs root (it installs a package)"
[ -f "$deb" ] || fail "$deb: no such package"
if dpkg-query -W -f='${Status}' beiand 2>/dev/null | grep -q 'installed'; then
	fail "beiand is installed on this machine already; it_deb would change it"
fi
trap 'dpkg -P beiand >/dev/null 2>&1' EXIT
ver=$(dpkg-deb -f "$deb" Version)
T=$(mktemp -d)
trap 'dpkg -P beiand >/dev/null 2>&1; rm -rf "$T"' EXIT

# owner:group mode of a path
perm() { stat -c '%U:%G %a' "$1"; }

echo "== lintian"
lintian --fail-on error --tag-display-limit 0 "$deb" >"$T/lintian" 2>&1 ||
	{ cat "$T/lintian"; fail "lintian reports errors"; }
grep -v 'running with root privileges' "$T/lintian" || true

installed_ok()
{
	dpkg -i "$deb" >"$T/dpkg.log" 2>&1 || { cat "$T/dpkg.log"; fail "dpkg -i $deb"; }
	id beiand >/dev/null 2>&1 || fail "no user beiand after the install"
	[ "$(perm /var/lib/beiand)" = "beiand:beiand 700" ] ||
		fail "/var/lib/beiand is $(perm /var/lib/beiand)"
	for d in providers bureau work quarantine; do
		[ -d "/var/spool/beiand/$d" ] || fail "/var/spool/beiand/$d missing"
	done
	[ "$(perm /etc/beiand/beiand.conf)" = "root:beiand 640" ] ||
		fail "/etc/beiand/beiand.conf is $(perm /etc/beiand/beiand.conf)"
	dpkg-query -W -f='${Conffiles}\n' beiand | grep -q ' /etc/beiand/beiand.conf ' ||
		fail "/etc/beiand/beiand.conf is not a conffile"
	[ "$(/usr/sbin/beiand -V)" = "beiand $ver" ] || fail "beiand -V: $(/usr/sbin/beiand -V)"
	[ "$(/usr/bin/beianctl -V)" = "beianctl $ver" ] || fail "beianctl -V: $(/usr/bin/beianctl -V)"
	# as the unit's ExecStartPre does it, as the service user
	out=$(runuser -u beiand -- /usr/sbin/beiand -n -c /etc/beiand/beiand.conf 2>&1) ||
		fail "beiand -n on the installed configuration: $out"
	echo "$out" | grep -q "configuration OK" || fail "beiand -n said: $out"
	out=$(/usr/bin/beianctl status 2>&1) || fail "beianctl status: $out"
	echo "$out"
	[ "$(stat -c %U /var/lib/beiand/beiand.db)" = beiand ] ||
		fail "beiand.db belongs to $(stat -c %U /var/lib/beiand/beiand.db)"
}

echo "== install"
installed_ok

echo "== a database of the previous schema is taken over"
rm -f /var/lib/beiand/beiand.db /var/lib/beiand/beiand.db-wal /var/lib/beiand/beiand.db-shm
runuser -u beiand -- sqlite3 /var/lib/beiand/beiand.db <tests/data/beiand-schema4.sql ||
	fail "loading the schema 4 database"
[ "$(sqlite3 /var/lib/beiand/beiand.db 'PRAGMA user_version')" = 4 ] || fail "not schema 4"
out=$(/usr/bin/beianctl list 2>&1) || fail "beianctl list on the schema 4 database: $out"
echo "$out" | grep -q 'BA-2026-000001 *awaiting_verification' ||
	fail "the old filing is not listed: $out"
new=$(sqlite3 /var/lib/beiand/beiand.db 'PRAGMA user_version')
[ "$new" -gt 4 ] || fail "the database was not migrated (user_version $new)"
/usr/bin/beianctl show BA-2026-000001 >/dev/null || fail "beianctl show of the old filing"
echo "schema 4 -> $new"

echo "== a binary older than the schema refuses it"
mkdir -p "$T/newer"
cp /var/lib/beiand/beiand.db "$T/newer/beiand.db"
sqlite3 "$T/newer/beiand.db" "PRAGMA user_version = $((new + 1))"
printf '[daemon]\nstate_dir = %s\nspool_dir = %s/spool\n' "$T/newer" "$T/newer" >"$T/newer.conf"
out=$(/usr/bin/beianctl -c "$T/newer.conf" status 2>&1) && fail "beianctl used a newer schema: $out"
echo "$out" | grep -q "newer" || fail "no clear refusal of a newer schema: $out"
echo "$out"
[ "$(sqlite3 "$T/newer/beiand.db" 'PRAGMA user_version')" = $((new + 1)) ] ||
	fail "the refusing binary changed the newer database"

echo "== remove keeps the configuration and the data"
dpkg -r beiand >"$T/dpkg.log" 2>&1 || { cat "$T/dpkg.log"; fail "dpkg -r"; }
[ ! -e /usr/sbin/beiand ] || fail "/usr/sbin/beiand left after remove"
[ -e /etc/beiand/beiand.conf ] || fail "remove took the configuration"
[ -e /var/lib/beiand/beiand.db ] || fail "remove took the database"

echo "== purge leaves nothing but the user"
dpkg -P beiand >"$T/dpkg.log" 2>&1 || { cat "$T/dpkg.log"; fail "dpkg -P"; }
for p in /etc/beiand /var/lib/beiand /var/spool/beiand /usr/sbin/beiand /usr/bin/beianctl \
    /lib/systemd/system/beiand.service /usr/lib/sysusers.d/beiand.conf \
    /usr/lib/tmpfiles.d/beiand.conf /usr/share/doc/beiand; do
	[ ! -e "$p" ] || fail "$p left after purge"
done
id beiand >/dev/null 2>&1 || fail "the user beiand was removed (the documented choice keeps it)"

echo "== install again, then purge"
installed_ok
dpkg -P beiand >"$T/dpkg.log" 2>&1 || { cat "$T/dpkg.log"; fail "the last purge"; }
[ ! -e /var/lib/beiand ] || fail "/var/lib/beiand left after the last purge"
echo "it_deb: ok ($deb)"
