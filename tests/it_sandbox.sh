#!/bin/sh
# it_sandbox: the helpers that touch hostile bytes hold no secret and can
# do nothing but their job (beiand(8), SANDBOX).  Twice: beiand started
# as root, then as an unprivileged user the way the shipped unit starts
# it (nobody here, with an ambient CAP_DAC_READ_SEARCH, no_new_privs and
# a seccomp filter of its own that refuses capset with EPERM, as the
# unit's does: tests/tool_unitfilter.c).  Against a private Dovecot and Postfix with passwords
# made up for this run:
#   1. every parser worker and the IMAP fetcher runs its own seccomp
#      filter on top of the daemon's (Seccomp_filters above its
#      parent's), with NoNewPrivs 1, no capability in any set, never as
#      root, holding no descriptor of the database, the configuration
#      or the spool (a worker: its socket and stdio only); the fetcher
#      has logged in with the IMAP password;
#   2. a scan of each one's memory (/proc/PID/maps, /proc/PID/mem) finds
#      the SMTP password in none of them, the IMAP password in the
#      fetcher only, and the SMTP one in the daemon (the scan can see
#      it).  In the root round the IMAP password is in a password_file of
#      root's, which the fetcher (uid beiand) could not open: beiand reads
#      it for each fetcher it starts, and keeps no copy.  The file is
#      first refused (its group may read it: the channel fails, saying
#      so), then holds a wrong password (the login is refused, the
#      fetcher ends), then the right one: each change is taken up by the
#      next fetcher, without a restart or reload of beiand;
#   3. BEIAND_WORKER_SELFTEST makes a worker try open("/etc/passwd"),
#      socket() and execve() in a job: each is refused (its name in the
#      log), the worker is replaced (beiand_worker_restarts_total) and
#      the upload is handled as a crashed worker's: tried twice, then
#      quarantined with a receipt saying it could not be read safely;
#   4. beianctl check, submit and verify --record hand the package to a
#      worker: the same hook makes each report the refused call, and
#      without it check accepts the package;
#   5. beianctl probe imap, as root, reads its password then talks to
#      the server as the owner of state_dir, in the fetcher's sandbox.
# A sanitizer build (make asan) lets open through its filter, by a named
# exception, for Landlock to refuse: there the open hook checks that,
# and that an AddressSanitizer report comes out of a worker.
. "$(dirname "$0")/lib/servers.sh"

if [ "$(id -u)" != 0 ]; then
	echo "it_sandbox: needs root (it reads other processes' memory), skipped"
	exit 0
fi
cd "$(dirname "$0")/.." || exit 2
. tests/daemon_lib.sh
FX=${BEIAND_FIXTURES:-$B/fixtures}
[ -f "$FX/archive/valid.zip" ] || { echo "it_sandbox: no fixtures (make fixtures)"; exit 1; }

rand() { od -An -N12 -tx1 /dev/urandom | tr -d ' \n'; }
SAN=0
ldd "$B/beiand-worker" 2>/dev/null | grep -q libasan && SAN=1
IMAPPW=imap$(rand)
SMTPPW=smtp$(rand)
# servers.sh gives its Dovecot users SRV_PASSWORD
SRV_PASSWORD=$IMAPPW

srv_init || exit 1
. tests/lib/cc_tool.sh
UNITFILTER=$SRV_DIR/tool_unitfilter
cc_tool "$UNITFILTER" tests/tool_unitfilter.c || srv_fail "building tool_unitfilter"
chmod 755 "$UNITFILTER"
srv_dovecot_start intake || srv_fail "dovecot"
srv_postfix_start || srv_fail "postfix"

fail()
{
	echo "FAIL ($MODE): $*" >&2
	[ -f "${BEIAND_DIR:-/nonexistent}/beiand.log" ] &&
		tail -n 40 "$BEIAND_DIR/beiand.log" >&2
	bd_kill
	srv_fail "$*"
}

# as_mode CMD...: run CMD as the daemon's user of this round
as_mode()
{
	if [ "$MODE" = root ]; then
		"$@"
	else
		setpriv --reuid=65534 --regid=65534 --clear-groups \
		    --inh-caps=+dac_read_search --ambient-caps=+dac_read_search \
		    --no-new-privs "$@"
	fi
}

# start_daemon [ENV=VALUE]: beiand -f as the round's user
start_daemon()
{
	: >"$BEIAND_DIR/beiand.log"
	# (servers.sh's SRV_PASSWORD, the IMAP password, is no part of
	# beiand's environment: the memory scan looks for it)
	if [ "$MODE" = root ]; then
		env -u SRV_PASSWORD "$@" "$BEIAND" -f -c "$BEIAND_DIR/beiand.conf" \
		    >>"$BEIAND_DIR/beiand.log" 2>&1 &
	else
		env -u SRV_PASSWORD "$@" setpriv --reuid=65534 --regid=65534 --clear-groups \
		    --inh-caps=+dac_read_search --ambient-caps=+dac_read_search \
		    --no-new-privs "$UNITFILTER" "$BEIAND" -f \
		    -c "$BEIAND_DIR/beiand.conf" >>"$BEIAND_DIR/beiand.log" 2>&1 &
	fi
	BEIAND_PID=$!
	bd_wait 30 _bd_logged "beiand: started" ||
		fail "beiand did not start"
}

# The helpers below the daemon: "PID PROGRAM" lines.
children()
{
	for s in /proc/[0-9]*/status; do
		p=${s#/proc/}
		p=${p%/status}
		pp=$(awk '$1 == "PPid:" { print $2 }' "$s" 2>/dev/null)
		[ "$pp" = "$BEIAND_PID" ] || continue
		echo "$p $(basename "$(readlink "/proc/$p/exe" 2>/dev/null)")"
	done
}
nchildren() { children | grep -c " $1\$"; }
have_helpers() { [ "$(nchildren beiand-worker)" -ge 2 ] &&
    [ "$(nchildren beiand-imap)" -eq 1 ]; }

field() { awk -v f="$2:" '$1 == f { print $2 }' "/proc/$1/status"; }

check_confined()
{
	pf=$(field "$BEIAND_PID" Seccomp_filters)
	children >"$BEIAND_DIR/children"
	[ -s "$BEIAND_DIR/children" ] || fail "no helper processes"
	while read -r pid prog; do
		case "$prog" in
		beiand-worker | beiand-imap) ;;
		*) fail "an unexpected child of beiand: $pid $prog" ;;
		esac
		f=$(field "$pid" Seccomp_filters)
		[ "$(field "$pid" Seccomp)" = 2 ] ||
			fail "$prog $pid: Seccomp $(field "$pid" Seccomp)"
		[ "$f" -gt "$pf" ] ||
			fail "$prog $pid: Seccomp_filters $f, its parent's $pf"
		[ "$(field "$pid" NoNewPrivs)" = 1 ] ||
			fail "$prog $pid: NoNewPrivs $(field "$pid" NoNewPrivs)"
		for c in CapPrm CapEff CapAmb; do
			[ "$(field "$pid" $c)" = 0000000000000000 ] ||
				fail "$prog $pid: $c $(field "$pid" $c)"
		done
		# the inheritable set: emptied, unless the unit's filter
		# refuses capset (then it is beiand's, which gives nothing)
		ci=$(field "$pid" CapInh)
		[ "$ci" = 0000000000000000 ] ||
		    { [ "$MODE" = user ] && [ "$ci" = "$(field "$BEIAND_PID" CapInh)" ]; } ||
			fail "$prog $pid: CapInh $ci"
		uid=$(field "$pid" Uid)
		[ "$uid" != 0 ] || fail "$prog $pid runs as root"
		# its descriptors: a worker its socket and stdio only; no
		# helper the database, the configuration or the spool
		fds=$(ls "/proc/$pid/fd" | sort -n | tr '\n' ' ')
		[ "$prog" = beiand-imap ] || [ "$fds" = "0 1 2 3 " ] ||
			fail "$prog $pid: descriptors $fds"
		for fd in /proc/"$pid"/fd/*; do
			case "$(readlink "$fd")" in
			*beiand.db* | *beiand.conf | *beiand.lock | *imap.pw | \
			    "$BEIAND_DIR/spool"*)
				fail "$prog $pid: holds $(readlink "$fd")" ;;
			esac
		done
		echo "ok ($MODE): $prog $pid: Seccomp_filters $f (beiand $pf), NoNewPrivs 1, no capability (inheritable $ci), uid $uid"
	done <"$BEIAND_DIR/children"
}

# The memory scan: the SMTP password in no helper, the IMAP password in
# the fetcher only; the SMTP one in the daemon itself (the scan sees a
# password where there is one), the IMAP one too when its url has it,
# and not when it comes from a password_file (read for each fetcher,
# wiped once handed over).
check_memory()
{
	/usr/bin/python3 - "$BEIAND_PID" "$IMAPPW" "$SMTPPW" \
	    "$BEIAND_DIR/children" "$MODE" <<'PY' || fail "memory scan"
import os, sys

parent, imap, smtp = sys.argv[1], sys.argv[2].encode(), sys.argv[3].encode()
helpers = [l.split() for l in open(sys.argv[4])]
from_file = sys.argv[5] == "root"

def scan(pid):
    found = set()
    with open("/proc/%s/maps" % pid) as maps, \
            open("/proc/%s/mem" % pid, "rb", 0) as mem:
        for line in maps:
            f = line.split()
            lo, hi = (int(x, 16) for x in f[0].split("-"))
            # unreadable, the kernel's, or a sanitizer's shadow
            if "r" not in f[1] or "[v" in line or hi - lo > (1 << 30):
                continue
            try:
                mem.seek(lo)
                data = mem.read(hi - lo)
            except OSError:
                continue
            for n in (imap, smtp):
                if n in data:
                    found.add(n)
    return found

bad = []
got = scan(parent)
if smtp not in got:
    bad.append("the scan does not see the SMTP password in beiand itself")
if from_file and imap in got:
    bad.append("beiand kept the IMAP password of its password_file")
if not from_file and imap not in got:
    bad.append("the scan does not see the IMAP password of the url in beiand")
print("ok: scanned beiand %s: %s" % (parent, " and ".join(
    sorted("the %s password" % n.decode()[:4].upper() for n in got))))
if len(helpers) < 3:
    bad.append("only %d helpers to scan" % len(helpers))
for pid, prog in helpers:
    got = scan(pid)
    if smtp in got:
        bad.append("%s %s holds the SMTP password" % (prog, pid))
    if prog == "beiand-imap" and imap not in got:
        bad.append("the fetcher %s does not hold the IMAP password" % pid)
    if prog != "beiand-imap" and imap in got:
        bad.append("%s %s holds the IMAP password" % (prog, pid))
    print("ok: scanned %s %s: %s" % (prog, pid, " and ".join(
        sorted("the %s password" % n.decode()[:4].upper() for n in got))
        or "no password"))
if bad:
    sys.exit("\n".join(bad))
PY
}

metric() { awk -v m="$1" '$1 == m { print $2 }' "$BEIAND_DIR/beiand.prom" 2>/dev/null; }
restarts_at_least() { r=$(metric beiand_worker_restarts_total); [ "${r:-0}" -ge "$1" ]; }

# check_hook CALL NAME: a worker that tries CALL during a job dies of it
check_hook()
{
	bd_stop
	start_daemon BEIAND_WORKER_SELFTEST="$1"
	up=hook-$1.zip
	cp "$FX/archive/valid.zip" "$P/.$up.part"
	mv "$P/.$up.part" "$P/$up"
	rc=$BEIAND_DIR/spool/providers/P001/outgoing/$up.receipt.xml
	bd_wait 60 test -f "$rc" || fail "$1: no receipt for $up"
	as_mode "$BEIANCTL" -c "$BEIAND_DIR/beiand.conf" quarantine --json |
	    grep -q "$up" || fail "$1: $up is not in quarantine"
	if [ $SAN = 1 ] && [ "$1" = open ]; then
		grep -q "ARCHIVE_CORRUPT.*open refused with an error (Permission denied), not by the filter" "$rc" ||
			fail "$1: $(cat "$rc")"
		echo "ok ($MODE): open refused by Landlock (a sanitizer build's filter lets it through), $up quarantined"
		return
	fi
	grep -q "ARCHIVE_CORRUPT" "$rc" && grep -q "SIGSYS" "$rc" ||
		fail "$1: the receipt does not say the worker died: $(cat "$rc")"
	n=$(grep -c "beiand-worker\[[0-9]*\]: sandbox: refused system call $2\$" \
	    "$BEIAND_DIR/beiand.log")
	[ "$n" -ge 2 ] || fail "$1: $n lines of a refused $2 (two attempts)"
	grep -q "worker: upload=$up attempt 2 failed: worker killed by signal 31 (SIGSYS" \
	    "$BEIAND_DIR/beiand.log" || fail "$1: no second failed attempt"
	bd_wait 20 restarts_at_least 2 ||
		fail "$1: beiand_worker_restarts_total $(metric beiand_worker_restarts_total)"
	have_helpers || bd_wait 10 have_helpers ||
		fail "$1: the workers were not replaced"
	echo "ok ($MODE): $1 refused ($2), worker replaced, $up quarantined"
}

check_ctl()
{
	pkg=$BEIAND_DIR/pkg.zip
	cp "$FX/archive/valid.zip" "$pkg"
	chmod 644 "$pkg"
	ctl() { as_mode env "$@"; }
	out=$(ctl BEIAND_WORKER_SELFTEST= "$BEIANCTL" -c "$BEIAND_DIR/beiand.conf" check "$pkg" 2>&1) ||
		fail "check of a valid package: $out"
	for call in open:openat socket:socket execve:execve; do
		c=${call%%:*}
		out=$(ctl BEIAND_WORKER_SELFTEST=$c "$BEIANCTL" -c "$BEIAND_DIR/beiand.conf" \
		    check "$pkg" 2>&1)
		st=$?
		[ $st = 1 ] || fail "check with a refused $c: exit $st: $out"
		if [ $SAN = 1 ] && [ $c = open ]; then
			echo "$out" | grep -q "ARCHIVE_CORRUPT.*open refused with an error" ||
				fail "check with a refused $c: $out"
			continue
		fi
		echo "$out" | grep -q "sandbox: refused system call ${call#*:}\$" &&
		    echo "$out" | grep -q "ARCHIVE_CORRUPT.*SIGSYS" ||
			fail "check with a refused $c: $out"
	done
	if [ $SAN = 1 ]; then
		# the sanitizers' reports get out of the sandbox
		out=$(ctl BEIAND_WORKER_SELFTEST=overflow "$BEIANCTL" \
		    -c "$BEIAND_DIR/beiand.conf" check "$pkg" 2>&1)
		echo "$out" | grep -q "SUMMARY: AddressSanitizer: heap-buffer-overflow" ||
			fail "no AddressSanitizer report from a worker: $out"
	fi
	out=$(ctl BEIAND_WORKER_SELFTEST=socket "$BEIANCTL" -c "$BEIAND_DIR/beiand.conf" \
	    submit --provider P001 "$pkg" 2>&1)
	st=$?
	[ $st = 1 ] && echo "$out" | grep -q "refused system call socket\$" ||
		fail "submit with a refused socket: exit $st: $out"
	cp examples/BA-2026-000123.verification.xml "$BEIAND_DIR/rec.verification.xml"
	chmod 644 "$BEIAND_DIR/rec.verification.xml"
	out=$(ctl BEIAND_WORKER_SELFTEST=execve "$BEIANCTL" -c "$BEIAND_DIR/beiand.conf" \
	    verify BA-2026-000123 --record "$BEIAND_DIR/rec.verification.xml" 2>&1)
	st=$?
	[ $st = 1 ] && echo "$out" | grep -q "refused system call execve\$" ||
		fail "verify --record with a refused execve: exit $st: $out"
	echo "ok ($MODE): beianctl check, submit and verify --record parse in a worker"
}

# beianctl probe imap, run as root: it reads the password (a password
# file only root may read, in the root round) as root, then talks to the
# server as the owner of state_dir (nobody here), inside the fetcher's
# sandbox; the login works.
check_probe()
{
	conf=$BEIAND_DIR/probe.conf
	mkdir -p "$BEIAND_DIR/probe-state"
	chown 65534:65534 "$BEIAND_DIR/probe-state"
	sed "s|^state_dir = .*|state_dir = $BEIAND_DIR/probe-state|" \
	    "$BEIAND_DIR/beiand.conf" >"$conf"
	chmod 600 "$conf"
	out=$("$BEIANCTL" -c "$conf" probe imap 2>&1) || fail "probe imap: $out"
	echo "$out" | grep -q "^sandbox: *seccomp" ||
		fail "probe imap took no sandbox: $out"
	echo "$out" | grep -q "^user: *nobody\$" ||
		fail "probe imap did not act as the owner of state_dir: $out"
	echo "$out" | grep -q "^login: *ok as intake" ||
		fail "probe imap did not log in: $out"
	echo "ok ($MODE): beianctl probe imap as root: password read, then $(echo "$out" | grep "^sandbox:" | tr -s ' ') as nobody, login ok"
}

for MODE in root user; do
	BEIAND_DIR=$SRV_DIR/$MODE
	mkdir -p "$BEIAND_DIR"
	if [ "$MODE" = root ]; then
		IMAPURL="imap://intake@127.0.0.1:$SRV_IMAP_PORT/INBOX"
		PWFILE="password_file = $BEIAND_DIR/imap.pw"
		(umask 077 && printf 'wrong%s\n' "$(rand)" >"$BEIAND_DIR/imap.pw")
		chmod 640 "$BEIAND_DIR/imap.pw" # refused: its group may read it
	else
		IMAPURL="imap://intake:$IMAPPW@127.0.0.1:$SRV_IMAP_PORT/INBOX"
		PWFILE=
	fi
	cat >"$BEIAND_DIR/beiand.conf" <<EOF
[daemon]
spool_dir = spool
state_dir = var
settle_ms = 200
workers = 2
metrics_file = beiand.prom
[imap]
url = $IMAPURL
$PWFILE
address = intake@example.test
provider = P001
poll_interval = 2s
[smtp]
url = smtp://beiand:$SMTPPW@127.0.0.1:$SRV_SMTP_PORT
from = beian@example.test
[bureau.11]
addresses = bureau@example.test
[provider.P001]
name = 示例网络科技有限公司
email = provider@example.test
ip_ranges = 203.0.113.0/24, 2001:db8::/32
EOF
	chmod 600 "$BEIAND_DIR/beiand.conf"
	[ "$MODE" = root ] || chown -R 65534:65534 "$BEIAND_DIR"
	export BEIAND_DIR

	start_daemon
	if [ "$MODE" = root ]; then
		bd_wait 30 _bd_logged "imap: \[imap\] password_file $BEIAND_DIR/imap.pw: mode 0640 lets its group" ||
			fail "a password file its group may read was not refused"
		chmod 600 "$BEIAND_DIR/imap.pw"
		bd_wait 30 _bd_logged "imap: login as intake at 127.0.0.1: refused" ||
			fail "the wrong password was not refused"
		bd_wait 30 _bd_logged "imap: login refused: the fetcher ends" ||
			fail "the fetcher did not end after a refused login"
		(umask 077 && printf '%s\n' "$IMAPPW" >"$BEIAND_DIR/imap.pw.new") &&
		    mv "$BEIAND_DIR/imap.pw.new" "$BEIAND_DIR/imap.pw"
		bd_wait 60 _bd_logged "imap: the server works again" ||
			fail "the corrected password file was not taken up"
		echo "ok (root): beiand reads the password file for each fetcher: refused while its group may read it, then a refused login, then the corrected file"
	fi
	bd_wait 30 _bd_logged "imap: connected to 127.0.0.1" ||
		fail "the fetcher did not log in"
	bd_wait 30 have_helpers || fail "helpers: $(children)"
	grep -q "worker: parser workers started, sandboxed" "$BEIAND_DIR/beiand.log" ||
		fail "no sandbox line for the workers"
	grep -q "imap: fetcher pid [0-9]* sandboxed" "$BEIAND_DIR/beiand.log" ||
		fail "no sandbox line for the fetcher"
	check_confined
	check_memory
	P=$BEIAND_DIR/spool/providers/P001/incoming
	check_hook open openat
	check_hook socket socket
	check_hook execve execve
	bd_stop
	check_ctl
	check_probe
	grep -n -e "$IMAPPW" -e "$SMTPPW" "$BEIAND_DIR/beiand.log" &&
		fail "a password in the log"
done
echo "it_sandbox: ok"
