#!/bin/sh
# it_diskfull: a full state filesystem loses nothing.  state_dir is a
# small tmpfs; once it is filled, an upload cannot be kept or committed:
# the error is logged (with fewer lines as it goes on: the group is tried
# again at doubling intervals, and the daemon does not spin meanwhile),
# the upload waits in work/, the daemon stays up.  A stop does not wait
# for space: the upload is left in work/.  Space freed and the daemon
# started again, the upload is filed once, receipted, and work/ is
# empty.
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
bd_wait_file "$P/outgoing/one.zip.receipt.xml" 20 || fail "no receipt for one.zip"

# fill the state filesystem to the last block
dd if=/dev/zero of="$VAR/filler" bs=64k 2>/dev/null
[ "$(df --output=avail "$VAR" | tail -1)" -lt 64 ] || fail "the tmpfs is not full"
drop "$TOP/gp/p800001.zip" two.zip
bd_wait_log 'No space left on device\|database or disk is full' 20 ||
	fail "no disk-full error logged"
cpu() { awk '{ print $14 + $15 }' "/proc/$BEIAND_PID/stat"; } # in ticks
c0=$(cpu)
sleep 8
c1=$(cpu)
# waiting costs nothing: not a busy loop (that would be ~8 s of CPU)
[ $((c1 - c0)) -lt $(( $(getconf CLK_TCK) / 2 )) ] ||
	fail "$((c1 - c0)) ticks of CPU in 8 s of waiting"
[ -e "$P/outgoing/two.zip.receipt.xml" ] && fail "two.zip receipted on a full disk"
[ "$(ls "$W" | grep -c 'two\.zip$')" = 1 ] || fail "two.zip not waiting in work/: $(ls "$W")"
kill -0 "$BEIAND_PID" || fail "beiand died on a full disk"
# tried again with growing intervals: 1, 2, 4 s ... not once a second
n=$(grep -c 'No space left on device\|database or disk is full' "$BEIAND_DIR/beiand.log")
[ "$n" -le 8 ] || fail "$n error lines in 8 s: no back-off"

# a stop on a full disk does not wait for space: two.zip stays in work/
kill -TERM "$BEIAND_PID"
n=50
while kill -0 "$BEIAND_PID" 2>/dev/null && [ $n -gt 0 ]; do n=$((n - 1)); sleep 0.1; done
kill -0 "$BEIAND_PID" 2>/dev/null && fail "beiand did not stop within 5 s on a full disk"
wait "$BEIAND_PID" || fail "beiand exited $? on a full disk"
BEIAND_PID=
grep -q 'stopping with 1 uploads not committed' "$BEIAND_DIR/beiand.log" ||
	fail "the stop did not say what it left"
[ "$(ls "$W" | grep -c 'two\.zip$')" = 1 ] || fail "two.zip not left in work/: $(ls "$W")"

rm -f "$VAR/filler"
bd_start || fail "beiand did not start again"
bd_wait_file "$P/outgoing/two.zip.receipt.xml" 40 || fail "no receipt for two.zip once space was freed"
grep -q 'state="awaiting_verification"' "$P/outgoing/two.zip.receipt.xml" ||
	fail "two.zip: $(cat "$P/outgoing/two.zip.receipt.xml")"
bd_wait_empty "$W" 5 || fail "work/ not empty: $(ls "$W")"
[ "$(bd_ctl list | grep -c awaiting_verification)" = 2 ] || fail "not filed once each: $(bd_ctl list)"
bd_stop
grep -q "beiand: stopped" "$BEIAND_DIR/beiand.log" || fail "no clean stop"
echo "it_diskfull: ok"
