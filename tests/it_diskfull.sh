#!/bin/sh
# it_diskfull: a full state filesystem loses nothing.  state_dir is a
# small tmpfs; once it is filled, an upload cannot be kept or committed:
# the error is logged (with fewer lines as it goes on: the group is tried
# again at doubling intervals, read from the log's timestamps, and the
# daemon does not spin meanwhile, read from its CPU time), the upload
# waits in work/, the daemon stays up.  A stop does not wait for space:
# the upload is left in work/.  Space freed and the daemon started again,
# the upload is filed once, receipted, and work/ is empty.
. "$(dirname "$0")/daemon_lib.sh"

TOP=$(mktemp -d /tmp/beiand-diskfull.XXXXXX)
VAR=$TOP/b/var
trap 'bd_kill; umount "$VAR" 2>/dev/null; rm -rf "$TOP"' EXIT
trap 'exit 1' INT TERM

[ "$(id -u)" = 0 ] || fail "must run as root (mount)"
/usr/bin/python3 tests/mkspoolpkgs.py "$TOP" || fail "packages"
/usr/bin/python3 bench/gen_packages.py "$TOP/gp" 2 --format zip --first 800000 >/dev/null ||
	fail "gen_packages"
# min_free 0: this test is about the environment failing under a commit,
# not about the pause before it (it_minfree.sh)
bd_config "$TOP/b" "settle_ms = 50" "min_free = 0"
mkdir -p "$VAR"
mount -t tmpfs -o size=16m,mode=0700 beiand-test "$VAR" || fail "mount tmpfs"
bd_start || fail "beiand did not start"
P=$BEIAND_DIR/spool/providers/P001
W=$BEIAND_DIR/spool/work

drop() # FILE NAME
{
	cp "$1" "$P/incoming/.$2.part" && mv "$P/incoming/.$2.part" "$P/incoming/$2"
}

drop "$TOP/gp/p800000.zip" one.zip
bd_wait_file "$P/outgoing/one.zip.receipt.xml" || fail "no receipt for one.zip"

# fill the state filesystem to the last block
dd if=/dev/zero of="$VAR/filler" bs=64k 2>/dev/null
[ "$(df --output=avail "$VAR" | tail -1)" -lt 64 ] || fail "the tmpfs is not full"
drop "$TOP/gp/p800001.zip" two.zip
FULL='No space left on device\|database or disk is full'
bd_wait_log "$FULL" || fail "no disk-full error logged"
cpu() { awk '{ print $14 + $15 }' "/proc/$BEIAND_PID/stat"; } # in ticks
c0=$(cpu)
# attempts: runs of error lines (one attempt's lines come together; two
# attempts are a second or more apart), as "START-SECONDS" lines
attempts()
{
	bd_log_run | grep "$FULL" | awk '{
		split($1, t, ":"); s = t[1] * 3600 + t[2] * 60 + t[3]
		if (n && s < last) s += 86400   # past midnight
		if (!n || s - last > 0.5) print s
		n++; last = s }'
}
attempts_at_least() { [ "$(attempts | wc -l)" -ge "$1" ]; }
# The group is tried again 1, 2, then 4 s after each failure: wait for
# the fourth attempt (about 7 s after the first; later on a busy machine)
bd_wait 60 attempts_at_least 4 ||
	fail "not tried again: $(attempts | wc -l) attempts"
c1=$(cpu)
# waiting costs nothing: not a busy loop (that would be seconds of CPU);
# what an idle daemon uses does not grow with the machine's load
[ $((c1 - c0)) -lt $(( $(getconf CLK_TCK) / 2 )) ] ||
	fail "$((c1 - c0)) ticks of CPU while waiting for space"
# tried again with growing intervals, each at least its back-off (1, 2,
# 4 s): a late turn on a loaded machine only makes an interval longer
attempts | awk '
	NR > 1 && NR <= 4 { want = 2 ^ (NR - 2)
		if ($1 - prev < 0.9 * want) { printf "attempt %d came %.3f s after the one before, want >= %d s\n", NR, $1 - prev, want; bad = 1 } }
	{ prev = $1 }
	END { exit bad }' >"$TOP/backoff" || fail "no back-off: $(cat "$TOP/backoff")"
[ -e "$P/outgoing/two.zip.receipt.xml" ] && fail "two.zip receipted on a full disk"
[ "$(ls "$W" | grep -c 'two\.zip$')" = 1 ] || fail "two.zip not waiting in work/: $(ls "$W")"
kill -0 "$BEIAND_PID" || fail "beiand died on a full disk"

# a stop on a full disk does not wait for space: two.zip stays in work/
# (the disk stays full: a stop that waited for space would never end;
# the bound only keeps a broken daemon from hanging the test)
kill -TERM "$BEIAND_PID"
bd_wait 60 sh -c "! kill -0 $BEIAND_PID 2>/dev/null" ||
	fail "beiand did not stop within 60 s on a full disk"
wait "$BEIAND_PID" || fail "beiand exited $? on a full disk"
BEIAND_PID=
grep -q 'stopping with 1 uploads not committed' "$BEIAND_DIR/beiand.log" ||
	fail "the stop did not say what it left"
[ "$(ls "$W" | grep -c 'two\.zip$')" = 1 ] || fail "two.zip not left in work/: $(ls "$W")"

rm -f "$VAR/filler"
bd_start || fail "beiand did not start again"
bd_wait_file "$P/outgoing/two.zip.receipt.xml" || fail "no receipt for two.zip once space was freed"
grep -q 'state="awaiting_verification"' "$P/outgoing/two.zip.receipt.xml" ||
	fail "two.zip: $(cat "$P/outgoing/two.zip.receipt.xml")"
bd_wait_empty "$W" || fail "work/ not empty: $(ls "$W")"
[ "$(bd_ctl list | grep -c awaiting_verification)" = 2 ] || fail "not filed once each: $(bd_ctl list)"
bd_stop
bd_log_run | grep -q "beiand: stopped" || fail "no clean stop"
echo "it_diskfull: ok"
