#!/bin/sh
# it_lock: one beiand per state_dir (DESIGN.md, Command line).  A second
# beiand -f on the same configuration refuses to start, exit 1, naming the
# running one's pid, and the first one goes on undisturbed; beiand -n and
# beianctl work while it runs; no child of the daemon (parser workers, the
# IMAP fetcher) holds the lock file open; a reload keeps the lock; after a SIGKILL the
# stale lock file locks nothing and the next start goes through.
. "$(dirname "$0")/daemon_lib.sh"

TOP=$(mktemp -d /tmp/beiand-lock.XXXXXX)
trap 'bd_kill; rm -rf "$TOP"' EXIT
bd_config "$TOP/b"
# an IMAP fetcher too (a forked child, not exec'd): nobody listens on port
# 1, it only waits and tries again
printf '[imap]\nurl = imap://u:p@127.0.0.1:1/INBOX\naddress = intake@example.test\nprovider = P001\n' \
    >>"$BEIAND_DIR/beiand.conf"
bd_start || fail "beiand did not start"
LOCK=$BEIAND_DIR/var/beiand.lock

# The second one: refused at once, with the first's pid.
"$BEIAND" -f -c "$BEIAND_DIR/beiand.conf" >"$TOP/second.out" 2>&1 &
SECOND=$!
bd_wait 20 sh -c "! kill -0 $SECOND 2>/dev/null" || {
	kill -KILL $SECOND; fail "a second beiand -f on the same state_dir kept running"; }
wait $SECOND
rc=$?
cat "$TOP/second.out"
[ $rc = 1 ] || fail "the second beiand exited $rc, not 1"
grep -q "another beiand (pid $BEIAND_PID) runs on state_dir $BEIAND_DIR/var; not starting" \
    "$TOP/second.out" || fail "the refusal does not name pid $BEIAND_PID"
grep -q "beiand: started" "$TOP/second.out" && fail "the second beiand started"
kill -0 "$BEIAND_PID" || fail "the first beiand is gone"
[ "$(cat "$LOCK")" = "$BEIAND_PID" ] ||
	fail "beiand.lock holds '$(cat "$LOCK")', not the running pid $BEIAND_PID"

# -n and beianctl are not affected.
"$BEIAND" -n -c "$BEIAND_DIR/beiand.conf" >"$TOP/n.out" 2>&1 ||
	fail "beiand -n refused while beiand runs: $(cat "$TOP/n.out")"
bd_ctl status >"$TOP/status.out" 2>&1 || fail "beianctl status: $(cat "$TOP/status.out")"

# Nothing but the daemon holds the lock: not its parser workers (exec'd),
# not its IMAP fetcher (forked).
kids=$(ps -o pid= --ppid "$BEIAND_PID")
[ "$(echo $kids | wc -w)" -ge 3 ] ||
	fail "beiand has not its 2 workers and its IMAP fetcher: $kids"
for k in $kids; do
	ls -l "/proc/$k/fd" 2>/dev/null | grep -q 'beiand\.lock' &&
		fail "child $k of beiand holds beiand.lock open"
done
ls -l "/proc/$BEIAND_PID/fd" | grep -q 'beiand\.lock' ||
	fail "beiand does not hold beiand.lock open"

# A reload keeps the lock.
kill -HUP "$BEIAND_PID"
bd_wait_log "config: reloaded" || fail "no reload"
"$BEIAND" -f -c "$BEIAND_DIR/beiand.conf" >"$TOP/third.out" 2>&1
[ $? = 1 ] || fail "after a reload a second beiand was not refused"

# A SIGKILL leaves the file; it locks nothing.
OLD=$BEIAND_PID
bd_kill
[ -f "$LOCK" ] || fail "beiand.lock is gone after SIGKILL (expected it left)"
: >"$BEIAND_DIR/beiand.log"
bd_start || fail "beiand did not start after SIGKILL of pid $OLD"
[ "$(cat "$LOCK")" = "$BEIAND_PID" ] || fail "beiand.lock does not name the new pid"
bd_stop
echo "it_lock: ok"
