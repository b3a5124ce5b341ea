#!/bin/sh
# it_restore: backups, damage, restores, new filings — and no tracking id
# or filing number that left the system is issued again (FORMAT.md §4
# "never reused"; DESIGN.md, Command line).
#
# 1. What the first week's operator did: `beianctl backup FILE` after one
#    upload (BA-…-000001 on its receipt) was approved (…000001号); then
#    three uploads (ids 2, 3, 4 on their receipts), one approved
#    (…000002号), one approved with a number the bureau gave (…000050号),
#    one withdrawn; the database damaged and put back from FILE by hand
#    (beiand stopped, the file copied over beiand.db, -wal and -shm
#    removed).  The next upload must get an id above 4 (ids are marked
#    ahead: it may be well above), the next approval a number other than
#    1, 2 and 50, and the bureau giving 2 again is LICENCE_CONFLICT.
#    beiand logs what moved.
# 2. `beianctl backup DIR` (the database, the blobs, the high-water marks)
#    while beiand runs; a second one into the same folder copies no blob
#    again.  More filings; `beianctl restore DIR` is refused while beiand
#    runs.  Then the whole state_dir is lost and restored from DIR (blobs
#    and marks with it); lost again and restored from FILE alone: the
#    receipts in the spool still keep every id on them from being issued
#    again.  No two receipts name one id.
. "$(dirname "$0")/daemon_lib.sh"

TOP=$(mktemp -d /tmp/beiand-restore.XXXXXX)
trap 'bd_kill; rm -rf "$TOP"' EXIT
bd_config "$TOP/b"
IN=$TOP/in
mkdir "$IN"
/usr/bin/python3 bench/gen_packages.py "$IN" 10 --first 430000 >/dev/null ||
	fail "gen_packages"
/usr/bin/python3 -c 'import sys; sys.path.insert(0, "tests"); import fxlib
open(sys.argv[1], "wb").write(fxlib.jpeg())
open(sys.argv[2], "wb").write(fxlib.jpeg(600, 800))' "$IN/photo.jpg" "$IN/scan.jpg" ||
	fail "photos"
P=$BEIAND_DIR/spool/providers/P001
VAR=$BEIAND_DIR/var
BK=$TOP/backup

# upload N: drop p4300N.zip into P001's incoming/ and print the id on
# its receipt once it is there.
upload()
{
	mkdir -p "$TOP/stage"
	cp "$IN/p43000$1.zip" "$TOP/stage/up$1.zip"
	bd_drop "$TOP/stage" "$P/incoming" || fail "dropping up$1.zip"
	bd_wait_file "$P/outgoing/up$1.zip.receipt.xml" 30 ||
		fail "no receipt for up$1.zip"
	sed -n 's/.* id="\(BA-[0-9]*-[0-9]*\)".*/\1/p' \
	    "$P/outgoing/up$1.zip.receipt.xml" | head -n 1
}
approve()
{
	bd_ctl verify "$1" --pass --photo "$IN/photo.jpg" --scan "$IN/scan.jpg" \
	    >/dev/null || fail "verify $1"
	bd_ctl review "$1" --approve $2 >/dev/null || fail "review $1 $2"
	bd_ctl show "$1" --json | /usr/bin/python3 -c \
	    'import json, sys; print(json.load(sys.stdin)["subject_licence"])'
}

bd_start || fail "beiand did not start"
I1=$(upload 0)
N1=$(approve "$I1")
echo "before the backup: $I1 $N1"
bd_ctl backup "$TOP/file.db" >/dev/null || fail "backup FILE"

I2=$(upload 1)
I3=$(upload 2)
I4=$(upload 3)
N2=$(approve "$I2")
N3=$(approve "$I3" "--licence 京ICP备$(date +%Y)000050号")
bd_ctl withdraw "$I4" >/dev/null || fail "withdraw $I4"
echo "after the backup: $I2 $N2, $I3 $N3, $I4 withdrawn"

# 1. Damage, and the database put back from FILE by hand.
bd_stop
dd if=/dev/urandom of="$VAR/beiand.db" bs=4096 seek=2 count=4 conv=notrunc 2>/dev/null
mv "$VAR/beiand.db" "$VAR/beiand.db.broken"
rm -f "$VAR/beiand.db-wal" "$VAR/beiand.db-shm"
install -m 0600 "$TOP/file.db" "$VAR/beiand.db"
: >"$BEIAND_DIR/beiand.log"
bd_start || fail "beiand did not start on the restored database"
I5=$(upload 4)
N5=$(approve "$I5")
echo "after the restore: $I5 $N5"
for old in "$I2" "$I3" "$I4"; do
	[ "$I5" != "$old" ] || fail "tracking id $I5 issued again after the restore"
done
[ "${I5##*-}" -gt "${I4##*-}" ] || fail "$I5 is not above $I4"
for old in "$N1" "$N2" "$N3"; do
	[ "$N5" != "$old" ] || fail "filing number $N5 issued again after the restore"
done
grep -q "highwater: .*tracking ids of [0-9]* go on after BA-[0-9]*-[0-9]* (the database knew up to $I1)" \
    "$BEIAND_DIR/beiand.log" || fail "beiand did not log that the tracking ids go on"
grep -q "highwater: .*subject numbers of province 11, [0-9]* go on after serial" \
    "$BEIAND_DIR/beiand.log" || fail "beiand did not log that the subject numbers go on"
grep -q "highwater: .*000050号, issued by the bureau, is recorded as issued again" \
    "$BEIAND_DIR/beiand.log" || fail "beiand did not bring back the bureau's number"
# the bureau giving a number issued before the restore: refused
bd_ctl submit --provider P001 "$IN/p430005.zip" >"$TOP/s6.out" || fail "submit 6"
I6=$(sed -n 's/^\(BA-[0-9]*-[0-9]*\): .*/\1/p' "$TOP/s6.out")
bd_ctl verify "$I6" --pass --photo "$IN/photo.jpg" --scan "$IN/scan.jpg" >/dev/null ||
	fail "verify $I6"
bd_ctl review "$I6" --approve --licence "$N2" >"$TOP/r6.out"
[ $? = 1 ] && grep -q "LICENCE_CONFLICT" "$TOP/r6.out" ||
	fail "the number $N2 issued before the restore was accepted again: $(cat "$TOP/r6.out")"

# 2. A full backup while beiand runs.
bd_ctl backup "$BK/" >"$TOP/backup.out" 2>&1 || fail "backup: $(cat "$TOP/backup.out")"
cat "$TOP/backup.out"
[ -f "$BK/beiand.db" ] && [ -f "$BK/highwater" ] && [ -d "$BK/store" ] ||
	fail "backup DIR lacks beiand.db, highwater or store/: $(ls -R "$BK")"
[ "$(find "$BK/store" -type f | wc -l)" = "$(find "$VAR/store" -type f | wc -l)" ] ||
	fail "backup DIR: not every blob was copied"
bd_ctl backup "$BK" >"$TOP/backup2.out" || fail "second backup"
grep -q "(beiand.db, 0 new blobs in store/, highwater)" "$TOP/backup2.out" ||
	fail "a second backup copied blobs again: $(cat "$TOP/backup2.out")"
I7=$(upload 6)

# While beiand runs, restore refuses.
bd_ctl restore "$BK" >"$TOP/r0.out" 2>&1 && fail "restore while beiand runs went through"
grep -q "beiand (pid $BEIAND_PID) runs on state_dir $VAR: stop it first" "$TOP/r0.out" ||
	fail "restore while beiand runs: $(cat "$TOP/r0.out")"

# The whole state_dir lost: restored from DIR, blobs and marks with it.
bd_stop
rm -rf "$VAR"
mkdir "$VAR"
chmod 0700 "$VAR"
bd_ctl restore "$BK" >"$TOP/r2.out" 2>&1 || fail "restore: $(cat "$TOP/r2.out")"
cat "$TOP/r2.out"
grep -q "restored into $VAR ([0-9]* blobs copied)" "$TOP/r2.out" ||
	fail "restore did not say what it did"
[ "$(find "$BK/store" -type f | wc -l)" = "$(find "$VAR/store" -type f | wc -l)" ] ||
	fail "restore: not every blob was copied back"
[ -f "$VAR/highwater" ] || fail "restore did not bring the high-water marks back"
: >"$BEIAND_DIR/beiand.log"
bd_start || fail "beiand did not start after the second restore"
grep -q "highwater: [0-9]* receipts read" "$BEIAND_DIR/beiand.log" ||
	fail "beiand did not log its scan"
I8=$(upload 7)
[ "${I8##*-}" -gt "${I7##*-}" ] || fail "$I8 issued after the restore is not above $I7"

# Lost again, and only the database of FILE to restore (no marks): the
# receipts in the spool still keep every id on them from being issued
# again.  (I6 was filed by beianctl: its id is on no receipt, only in
# mails of the lost state_dir — what the docs say only the marks save.)
bd_stop
rm -rf "$VAR"
mkdir "$VAR"
chmod 0700 "$VAR"
bd_ctl restore "$TOP/file.db" >"$TOP/r3.out" 2>&1 || fail "restore FILE: $(cat "$TOP/r3.out")"
cat "$TOP/r3.out"
grep -q "$I8 was issued (.*up7.zip.receipt.xml)" "$TOP/r3.out" ||
	fail "the receipts' ids were not found after losing state_dir"
: >"$BEIAND_DIR/beiand.log"
bd_start || fail "beiand did not start after the third restore"
I9=$(upload 8)
[ "${I9##*-}" -gt "${I8##*-}" ] ||
	fail "$I9 issued after losing state_dir is not above $I8, on a receipt"
# every receipt names a different filing
dups=$(cat "$P"/outgoing/*.receipt.xml | sed -n 's/.* id="\(BA-[0-9]*-[0-9]*\)".*/\1/p' | sort | uniq -d)
[ -z "$dups" ] || fail "tracking ids on two receipts: $dups"
bd_stop
echo "it_restore: ok"
