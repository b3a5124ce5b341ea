#!/bin/sh
# it_spoolfs: a claim is a rename(2) into spool/work/, so every incoming/
# folder must be on work/'s filesystem.  An incoming/ on another
# filesystem (a tmpfs mounted there) stops the start with a message that
# names both folders; unmounted, the same tree starts.
. "$(dirname "$0")/daemon_lib.sh"

TOP=$(mktemp -d /tmp/beiand-spoolfs.XXXXXX)
IN=$TOP/b/spool/providers/P001/incoming
trap 'umount "$IN" 2>/dev/null; bd_stop; rm -rf "$TOP"' EXIT
trap 'exit 1' INT TERM

[ "$(id -u)" = 0 ] || fail "must run as root (mount)"
bd_config "$TOP/b"
mkdir -p "$IN"
mount -t tmpfs -o size=1m beiand-test "$IN" || fail "mount tmpfs"
if "$BEIAND" -f -c "$BEIAND_DIR/beiand.conf" >"$TOP/out" 2>&1; then
	fail "beiand started with incoming/ on another filesystem"
fi
grep -q "$IN and .*/spool/work are on different filesystems" "$TOP/out" ||
	fail "no clear message: $(cat "$TOP/out")"
umount "$IN"
bd_start || fail "beiand did not start once incoming/ was back on the spool's filesystem"
bd_stop
echo "it_spoolfs: ok"
