#!/bin/sh
# it_asroot: beianctl run as root acts as the owner of state_dir
# (DESIGN.md, Command line).  beiand runs as another user (nobody, via
# setpriv, as the unit runs it as beiand) on a state_dir that user owns;
# the configuration is root:nogroup 0640 (readable by the daemon, and by
# beianctl before it switches).  As root: submit, verify --pass (the
# review request, which attaches the stored package and photos), review
# --reject and handback of it; a second filing verified and approved; a
# third withdrawn; import, password-reset, retry, backup, status; later
# backup DIR and, beiand stopped, restore.  Then every file under
# state_dir belongs to nobody, and the daemon writes every mail those
# verbs queued (no SMTP URL: .eml files in state_dir/mail/), the review
# request with its attachments among them, none deferred.  An input the
# owner cannot read is refused with a line naming the user acted as; a
# state_dir not made yet is made by the owner of the folder above it;
# check stays root.
. "$(dirname "$0")/daemon_lib.sh"

if [ "$(id -u)" != 0 ]; then
	echo "it_asroot: needs root, skipped"
	exit 0
fi
command -v setpriv >/dev/null || { echo "it_asroot: no setpriv, skipped"; exit 0; }
U=nobody
G=$(id -gn nobody)

TOP=$(mktemp -d /tmp/beiand-asroot.XXXXXX)
chmod 755 "$TOP"
trap 'bd_kill; rm -rf "$TOP"' EXIT
bd_config "$TOP/b"
chown root:"$G" "$BEIAND_DIR/beiand.conf"
chmod 0640 "$BEIAND_DIR/beiand.conf"
mkdir -p "$BEIAND_DIR/var" "$BEIAND_DIR/spool"
chown "$U:$G" "$BEIAND_DIR/var" "$BEIAND_DIR/spool"
chmod 0700 "$BEIAND_DIR/var"

# beiand as nobody, as its unit runs it as beiand.
bd_start_as()
{
	setpriv --reuid="$U" --regid="$G" --clear-groups \
	    "$BEIAND" -f -c "$BEIAND_DIR/beiand.conf" >>"$BEIAND_DIR/beiand.log" 2>&1 &
	BEIAND_PID=$!
	bd_wait 10 _bd_logged "beiand: started" || return 1
}
bd_start_as || fail "beiand (as $U) did not start"

IN=$TOP/in
mkdir "$IN"
/usr/bin/python3 bench/gen_packages.py "$IN" 4 --first 420000 >/dev/null ||
	fail "gen_packages"
/usr/bin/python3 -c 'import sys; sys.path.insert(0, "tests"); import fxlib
open(sys.argv[1], "wb").write(fxlib.jpeg())
open(sys.argv[2], "wb").write(fxlib.jpeg(600, 800))' "$IN/photo.jpg" "$IN/scan.jpg" ||
	fail "photos"
printf '%s\r\n%s\r\n' \
    "subject_licence,site_licence,sponsor_name,cert_type,cert_number,domains,owner_email,providers" \
    "京ICP备2020000123号,京ICP备2020000123号-1,旧公司,uscc,91110000717800000X,old-example.com,li@old.example,P001" \
    >"$IN/imp.csv"
chmod 755 "$IN"
chmod 644 "$IN"/*
mkdir "$TOP/backups"
chown "$U:$G" "$TOP/backups"

ctl()
{
	_want=$1
	shift
	bd_ctl "$@" >"$TOP/ctl.out" 2>&1
	_rc=$?
	[ "$_rc" = "$_want" ] || fail "beianctl $* exited $_rc, not $_want: $(cat "$TOP/ctl.out")"
	cat "$TOP/ctl.out"
}
idof() { sed -n 's/^\(BA-[0-9]*-[0-9]*\): .*/\1/p' "$TOP/ctl.out" | head -n 1; }

ctl 0 submit --provider P001 "$IN/p420000.zip"
A=$(idof)
ctl 0 verify "$A" --pass --photo "$IN/photo.jpg" --scan "$IN/scan.jpg" --verifier 王五
ctl 0 review "$A" --reject "SITE_NAME_INVALID:网站名称不符" --reviewer 局
ctl 0 handback "$A"
ctl 0 submit --provider P001 "$IN/p420001.zip"
B=$(idof)
ctl 0 verify "$B" --pass --photo "$IN/photo.jpg" --scan "$IN/scan.jpg"
ctl 0 review "$B" --approve
SUBJ=$(bd_ctl show "$B" --json | /usr/bin/python3 -c 'import json, sys; print(json.load(sys.stdin)["subject_licence"])')
ctl 0 submit --provider P001 "$IN/p420002.zip"
C=$(idof)
ctl 0 withdraw "$C"
ctl 0 import "$IN/imp.csv"
ctl 0 password-reset "$SUBJ"
ctl 1 retry 1          # sent already: refused, the store opened all the same
ctl 0 backup "$TOP/backups/beiand.db"
[ "$(stat -c %U "$TOP/backups/beiand.db")" = "$U" ] ||
	fail "the backup belongs to $(stat -c %U "$TOP/backups/beiand.db"), not $U"
ctl 0 status
ctl 0 check "$IN/p420000.zip"

# An input nobody cannot read: refused, naming the user acted as.
install -m 0600 "$IN/photo.jpg" "$TOP/secret.jpg"
ctl 2 submit --provider P001 "$TOP/secret.jpg"
grep -q "secret.jpg: Permission denied (beianctl acts as $U, the owner of state_dir" "$TOP/ctl.out" ||
	fail "no line naming the user for an unreadable input: $(cat "$TOP/ctl.out")"

# The mails those verbs queued: all written by the daemon (as nobody).
Q="SELECT count(*) FROM outbox WHERE state <> 'sent'"
unsent() { [ "$(sqlite3 -cmd '.timeout 10000' "$BEIAND_DIR/var/beiand.db" "$Q")" = 0 ]; }
bd_wait 30 unsent || fail "mails not sent: $(sqlite3 "$BEIAND_DIR/var/beiand.db" \
    "SELECT id, template, state, last_reply FROM outbox WHERE state <> 'sent'")"
for t in review_request approved_owner password_reset withdrawn returned_to_owner; do
	ls "$BEIAND_DIR/var/mail" | grep -q "\.$t\." || fail "no $t mail written"
done
grep -q "Permission denied" "$BEIAND_DIR/beiand.log" &&
	fail "beiand met a Permission denied: $(grep 'Permission denied' "$BEIAND_DIR/beiand.log")"
R=$(ls "$BEIAND_DIR/var/mail" | grep "^$A\..*\.review_request\." | head -n 1)
for k in 'filename\*\?=' ; do
	[ "$(grep -c "$k" "$BEIAND_DIR/var/mail/$R")" -ge 3 ] ||
		fail "the review request of $A has fewer than 3 attachments"
done

# Everything under state_dir is nobody's: the blobs, their folders, the
# -wal and -shm, the mails.
bad=$(find "$BEIAND_DIR/var" ! -user "$U" -o ! -group "$G")
[ -z "$bad" ] || fail "not owned by $U:$G under state_dir: $(ls -ld $bad)"
find "$BEIAND_DIR/var/store" -type f | grep -q . || fail "no blobs stored"

# backup DIR and restore, as root too: everything they write is nobody's,
# and beiand (as nobody) starts on the restored state.
ctl 0 backup "$TOP/backups/full/"
bad=$(find "$TOP/backups/full" ! -user "$U")
[ -z "$bad" ] || fail "not owned by $U in the backup folder: $bad"
bd_stop
rm -rf "$BEIAND_DIR/var/store"
ctl 0 restore "$TOP/backups/full"
bad=$(find "$BEIAND_DIR/var" ! -user "$U" -o ! -group "$G")
[ -z "$bad" ] || fail "not owned by $U:$G after restore: $(ls -ld $bad)"
: >"$BEIAND_DIR/beiand.log"
bd_start_as || fail "beiand (as $U) did not start on the restored state"
ctl 0 submit --provider P001 "$IN/p420003.zip"
D=$(idof)
ctl 0 verify "$D" --pass --photo "$IN/photo.jpg" --scan "$IN/scan.jpg"
bd_wait 30 unsent || fail "mails not sent after the restore"
ls "$BEIAND_DIR/var/mail" | grep -q "^$D\..*\.review_request\." ||
	fail "no review request for $D after the restore"
grep -q "Permission denied" "$BEIAND_DIR/beiand.log" &&
	fail "beiand met a Permission denied after the restore"
bad=$(find "$BEIAND_DIR/var" ! -user "$U" -o ! -group "$G")
[ -z "$bad" ] || fail "not owned by $U:$G: $(ls -ld $bad)"

# A state_dir not made yet: made by the owner of the folder above it.
mkdir "$TOP/fresh"
chown "$U:$G" "$TOP/fresh"
sed "s|^state_dir = var\$|state_dir = $TOP/fresh/var|" "$BEIAND_DIR/beiand.conf" >"$TOP/fresh.conf"
"$BEIANCTL" -c "$TOP/fresh.conf" status >/dev/null || fail "status on a fresh state_dir"
[ "$(stat -c %U:%G "$TOP/fresh/var")" = "$U:$G" ] ||
	fail "a fresh state_dir belongs to $(stat -c %U:%G "$TOP/fresh/var")"
bad=$(find "$TOP/fresh" ! -user "$U")
[ -z "$bad" ] || fail "not owned by $U in the fresh state_dir: $bad"

bd_stop
echo "it_asroot: ok"
