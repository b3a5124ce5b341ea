#!/bin/sh
# it_receipt: a receipt that cannot be written (outgoing/ read-only here:
# a bind mount remounted ro, which stops root too) loses nothing.  The
# upload is committed, its claimed file stays in work/, the failure is
# logged; once outgoing/ is writable again the daemon writes the receipt
# by itself, without a restart, and only then removes the claimed file
# (or, for an upload refused as a whole, moves it to quarantine/).  The
# same over a stop, with outgoing/ full instead: the next start owes the
# receipt and writes it once it can, without another restart.
. "$(dirname "$0")/daemon_lib.sh"

TOP=$(mktemp -d /tmp/beiand-receipt.XXXXXX)
OUT=$TOP/b/spool/providers/P001/outgoing
trap 'bd_kill; umount "$OUT" 2>/dev/null; umount "$OUT" 2>/dev/null; rm -rf "$TOP"' EXIT
trap 'exit 1' INT TERM

[ "$(id -u)" = 0 ] || fail "must run as root (mount)"
/usr/bin/python3 tests/mkspoolpkgs.py "$TOP" || fail "packages"
bd_config "$TOP/b" "settle_ms = 50"
bd_start || fail "beiand did not start"
P=$BEIAND_DIR/spool/providers/P001
W=$BEIAND_DIR/spool/work

mount --bind "$OUT" "$OUT" && mount -o remount,bind,ro "$OUT" ||
	fail "read-only bind mount of outgoing/"
touch "$OUT/probe" 2>/dev/null && fail "outgoing/ is still writable"

cp "$TOP/pkg1.zip" "$P/incoming/.ok.zip.part" && mv "$P/incoming/.ok.zip.part" "$P/incoming/ok.zip"
cp "$TOP/bomb.zip" "$P/incoming/.bomb.zip.part" && mv "$P/incoming/.bomb.zip.part" "$P/incoming/bomb.zip"
bd_wait_log 'upload=ok.zip: receipt: Read-only file system' || fail "no receipt failure logged for ok.zip"
bd_wait_log 'upload=bomb.zip: receipt: Read-only file system' || fail "no receipt failure logged for bomb.zip"
# committed (the filing exists), kept in work/, nothing quarantined yet
bd_ctl list | grep -q awaiting_verification || fail "ok.zip not committed: $(bd_ctl list)"
[ "$(ls "$W" | grep -c 'ok\.zip$')" = 1 ] || fail "ok.zip not kept in work/: $(ls "$W")"
[ "$(ls "$W" | grep -c 'bomb\.zip$')" = 1 ] || fail "bomb.zip not kept in work/: $(ls "$W")"
bd_quarantined bomb.zip && fail "bomb.zip quarantined before its receipt"

umount "$OUT" || fail "umount"
# the first retry comes 5 s after the failure
bd_wait_file "$OUT/ok.zip.receipt.xml" || fail "no receipt for ok.zip without a restart"
bd_wait_file "$OUT/bomb.zip.receipt.xml" || fail "no receipt for bomb.zip without a restart"
grep -q 'state="awaiting_verification"' "$OUT/ok.zip.receipt.xml" ||
	fail "ok.zip: $(cat "$OUT/ok.zip.receipt.xml")"
grep -q 'code="ARCHIVE_BOMB"' "$OUT/bomb.zip.receipt.xml" ||
	fail "bomb.zip: $(cat "$OUT/bomb.zip.receipt.xml")"
bd_wait_log 'receipts written after all' || fail "no recovery logged"
bd_wait_log 'upload=bomb.zip quarantined as' || fail "bomb.zip not quarantined after its receipt"
bd_wait_empty "$W" || fail "work/ not empty: $(ls "$W")"
[ "$(bd_ctl list | grep -c awaiting_verification)" = 1 ] || fail "filed more than once: $(bd_ctl list)"

# A stop while a receipt is owed leaves the upload in work/; the next
# start, outgoing/ still full (a tmpfs over it, filled), owes it again and
# writes it by itself once there is room.
mount -t tmpfs -o size=256k beiand-test "$OUT" || fail "tmpfs over outgoing/"
dd if=/dev/zero of="$OUT/filler" bs=4k 2>/dev/null
cp "$TOP/pkg3.zip" "$P/incoming/.late.zip.part" && mv "$P/incoming/.late.zip.part" "$P/incoming/late.zip"
bd_wait_log 'upload=late.zip: receipt: No space left on device' || fail "no receipt failure logged for late.zip"
bd_stop
[ "$(ls "$W" | grep -c 'late\.zip$')" = 1 ] || fail "late.zip not left in work/: $(ls "$W")"
: >"$BEIAND_DIR/beiand.log"
bd_start || fail "beiand did not start again"
bd_wait_log 'upload=late.zip: receipt: No space left on device' || fail "late.zip: no failure at the start"
rm -f "$OUT/filler"
bd_wait_file "$OUT/late.zip.receipt.xml" || fail "no receipt for late.zip without another restart"
grep -q 'state="awaiting_verification"' "$OUT/late.zip.receipt.xml" ||
	fail "late.zip: $(cat "$OUT/late.zip.receipt.xml")"
bd_wait_empty "$W" || fail "work/ not empty after late.zip: $(ls "$W")"
[ "$(bd_ctl list | grep -c awaiting_verification)" = 2 ] || fail "late.zip not filed once: $(bd_ctl list)"
kill -0 "$BEIAND_PID" || fail "beiand died"
bd_stop
bd_log_run | grep -q "beiand: stopped" || fail "no clean stop"
echo "it_receipt: ok"
