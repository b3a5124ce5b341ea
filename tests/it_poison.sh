#!/bin/sh
# it_poison: one upload the store cannot take never holds back the others
# (DESIGN.md, Hostile senders).
#  1. A year's tracking ids used up to the last seven-digit number: a new
#     package and a withdrawal of another filing dropped together; the
#     withdrawal is committed and receipted, the package fails alone and
#     is quarantined with a NOT_PROCESSED receipt.
#  2. With room for two more: requeued, it is filed as BA-YYYY-1000000
#     beside BA-YYYY-999999; `list` orders them by number, `show`, a
#     withdrawal record and `withdraw` take the seven-digit id.
#  3. An SQLite trigger (made by the test on the test's database) refuses
#     one package's domain: four good packages and a verification record
#     dropped in the same burst are committed in their group and
#     receipted; the poison package alone is quarantined (NOT_PROCESSED).
#  4. A busy database is the environment's: the upload waits and is filed,
#     never quarantined.
#  5. Upload names of 222-226 bytes (claimable, but "<claim>.reason"
#     would be too long): quarantined under a short name, the
#     uploaded name kept in the .reason; nothing left in work/.
#  6. A file with a second hard link is refused, in incoming/ and (a link
#     made after its claim) in work/; an upload quarantined before
#     quarantine names were short, left in work/, goes at the next start.
. "$(dirname "$0")/daemon_lib.sh"

TOP=$(mktemp -d /tmp/beiand-poison.XXXXXX)
trap 'bd_kill; exec 3>&- 2>/dev/null; rm -rf "$TOP"' EXIT
trap 'exit 1' INT TERM

/usr/bin/python3 bench/gen_packages.py "$TOP/gp" 12 --format zip --first 810000 >/dev/null ||
	fail "gen_packages"
bd_config "$TOP/b" "settle_ms = 50"
bd_start || fail "beiand did not start"
P=$BEIAND_DIR/spool/providers/P001
W=$BEIAND_DIR/spool/work
Q=$BEIAND_DIR/spool/quarantine
DB=$BEIAND_DIR/var/beiand.db
STAGE=$BEIAND_DIR/spool/providers/P001/stage
mkdir -p "$STAGE"
YEAR=$(TZ=Asia/Shanghai date +%Y)

# stage FILE NAME: ready to drop (same filesystem as incoming/)
stage() { cp "$1" "$STAGE/$2"; }
# drop_all: everything staged into incoming/ at once
drop_all() { bd_drop "$STAGE" "$P/incoming"; }
receipt() { echo "$P/outgoing/$1.receipt.xml"; }
wait_receipt() { bd_wait_file "$(receipt "$1")" "${2:-30}" || fail "no receipt for $1"; }
# item NAME PATH FIELD: the item's id or state in the receipt of NAME
item()
{
	/usr/bin/python3 -c '
import sys, xml.etree.ElementTree as ET
r = ET.parse(sys.argv[1]).getroot()
for i in r.iter("{urn:beiand:receipt:1}item"):
    if i.get("path") == sys.argv[2]:
        print(i.get(sys.argv[3]) or ""); break
else:
    print("missing")' "$(receipt "$1")" "$2" "$3"
}
# top_code NAME: the code of the receipt's own error, "" when none
top_code()
{
	/usr/bin/python3 -c '
import sys, xml.etree.ElementTree as ET
r = ET.parse(sys.argv[1]).getroot()
e = r.find("{urn:beiand:receipt:1}error")
print(e.get("code") if e is not None else "")' "$(receipt "$1")"
}
sql() { sqlite3 -cmd ".timeout 10000" "$DB" "$@"; }
# quarantined NAME: the quarantine item whose source ends in /NAME
quarantined() { bd_ctl quarantine --json | /usr/bin/python3 -c '
import json, sys
for l in sys.stdin:
    o = json.loads(l)
    if (o["source"] or "").endswith("/" + sys.argv[1]):
        print(o["item"])' "$1"; }

# two filings to act on
stage "$TOP/gp/p810000.zip" a.zip
stage "$TOP/gp/p810001.zip" b.zip
drop_all
wait_receipt a.zip
wait_receipt b.zip
A=$(item a.zip / id)
B=$(item b.zip / id)
[ "$(item a.zip / state)" = awaiting_verification ] || fail "a.zip: $(cat "$(receipt a.zip)")"
[ "$(item b.zip / state)" = awaiting_verification ] || fail "b.zip: $(cat "$(receipt b.zip)")"

# ---- 1. tracking ids used up ---------------------------------------------------
sql "UPDATE tracking_seq SET last = 9999999 WHERE year = $YEAR" || fail "sqlite3"
/usr/bin/python3 tests/mkrecords.py "$STAGE/w.zip" withdrawal "$A" || fail "mkrecords"
stage "$TOP/gp/p810002.zip" new.zip
drop_all
wait_receipt w.zip
wait_receipt new.zip
[ "$(item w.zip "$A.withdrawal.xml" state)" = withdrawn ] ||
	fail "the withdrawal beside the poison item: $(cat "$(receipt w.zip)")"
[ "$(top_code new.zip)" = NOT_PROCESSED ] || fail "new.zip: $(cat "$(receipt new.zip)")"
grep -q 'exhausted' "$(receipt new.zip)" || fail "the receipt does not say why"
bd_wait_log "upload=new.zip set aside from its group" 5 || fail "not set aside"
bd_wait_log "upload=new.zip fails alone" 5 || fail "not tried alone"
bd_wait_empty "$W" 10 || fail "work/ not empty: $(ls "$W")"
QN=$(quarantined new.zip)
[ -n "$QN" ] || fail "new.zip not in beianctl quarantine: $(bd_ctl quarantine)"
[ -f "$Q/$QN" ] && [ -f "$Q/$QN.reason" ] || fail "quarantine/: $(ls "$Q")"
grep -q '^upload: new.zip$' "$Q/$QN.reason" || fail ".reason: $(cat "$Q/$QN.reason")"
bd_ctl status | grep -q '^quarantine: 1$' || fail "status: $(bd_ctl status)"
bd_ctl status --json | grep -q '"code":"NOT_PROCESSED"' || fail "status --json: $(bd_ctl status --json)"

# ---- 2. a seventh digit -----------------------------------------------------------
sql "UPDATE tracking_seq SET last = 999998 WHERE year = $YEAR" || fail "sqlite3"
stage "$TOP/gp/p810003.zip" c.zip
drop_all
wait_receipt c.zip
C=$(item c.zip / id)
[ "$C" = "BA-$YEAR-999999" ] || fail "c.zip: $(cat "$(receipt c.zip)")"
rm -f "$(receipt new.zip)"
bd_ctl requeue "$QN" >/dev/null || fail "requeue $QN"
wait_receipt new.zip
N=$(item new.zip / id)
[ "$N" = "BA-$YEAR-1000000" ] || fail "requeued new.zip: $(cat "$(receipt new.zip)")"
[ "$(item new.zip / state)" = awaiting_verification ] || fail "new.zip: $(cat "$(receipt new.zip)")"
bd_ctl list | awk '{ print $1 }' | grep "^BA-$YEAR-" >"$TOP/ids"
[ "$(tail -n 2 "$TOP/ids" | tr '\n' ' ')" = "BA-$YEAR-999999 BA-$YEAR-1000000 " ] ||
	fail "list order: $(cat "$TOP/ids")"
bd_ctl show "$N" | grep -q awaiting_verification || fail "show $N: $(bd_ctl show "$N")"
/usr/bin/python3 tests/mkrecords.py "$STAGE/w7.zip" withdrawal "$N" || fail "mkrecords"
drop_all
wait_receipt w7.zip
[ "$(item w7.zip "$N.withdrawal.xml" state)" = withdrawn ] || fail "w7.zip: $(cat "$(receipt w7.zip)")"
[ "$(bd_ctl withdraw "$C")" = "$C: withdrawn" ] || fail "withdraw $C"

# ---- 3. a trigger refuses one package ------------------------------------------------
sql "CREATE TRIGGER poison BEFORE INSERT ON filing_domains WHEN NEW.domain = 'bench810008.cn'
     BEGIN SELECT RAISE(ABORT, 'refused by the test'); END" || fail "trigger"
before=$(grep -c 'not committed' "$BEIAND_DIR/beiand.log")
for i in 4 5 6 7; do stage "$TOP/gp/p81000$i.zip" "good$i.zip"; done
stage "$TOP/gp/p810008.zip" poison.zip
/usr/bin/python3 tests/mkrecords.py "$STAGE/v.zip" verification "$B" || fail "mkrecords"
drop_all
for n in good4 good5 good6 good7 v poison; do wait_receipt "$n.zip"; done
for i in 4 5 6 7; do
	[ "$(item "good$i.zip" / state)" = awaiting_verification ] ||
		fail "good$i.zip: $(cat "$(receipt "good$i.zip")")"
done
[ "$(item v.zip "$B.verification.xml" state)" = under_review ] || fail "v.zip: $(cat "$(receipt v.zip)")"
[ "$(top_code poison.zip)" = NOT_PROCESSED ] || fail "poison.zip: $(cat "$(receipt poison.zip)")"
grep -q 'refused by the test' "$(receipt poison.zip)" || fail "the poison receipt does not say why"
# the others were never held back: no group failed for it
[ "$(grep -c 'not committed' "$BEIAND_DIR/beiand.log")" = "$before" ] ||
	fail "a group was held back: $(grep 'not committed' "$BEIAND_DIR/beiand.log" | tail -3)"
bd_wait_empty "$W" 10 || fail "work/ not empty: $(ls "$W")"
[ -n "$(quarantined poison.zip)" ] || fail "poison.zip not quarantined: $(bd_ctl quarantine)"
sql "DROP TRIGGER poison" || fail "drop trigger"

# ---- 4. a busy database holds, never quarantines -------------------------------------
mkfifo "$TOP/lock"
sqlite3 "$DB" <"$TOP/lock" >/dev/null 2>&1 &
LOCKER=$!
exec 3>"$TOP/lock"
echo "BEGIN IMMEDIATE; INSERT INTO recent_errors(at, source, code, message) VALUES(0, 'test', 'X', 'lock');" >&3
stage "$TOP/gp/p810009.zip" busy.zip
drop_all
bd_wait_log 'store: begin: .*database is locked' 40 ||
	fail "the busy database was not met"
echo "ROLLBACK;" >&3
exec 3>&-
wait "$LOCKER"
wait_receipt busy.zip 60
[ "$(item busy.zip / state)" = awaiting_verification ] || fail "busy.zip: $(cat "$(receipt busy.zip)")"
grep -q 'upload=busy.zip set aside' "$BEIAND_DIR/beiand.log" && fail "busy.zip taken for a poison item"

# ---- 5. long upload names ---------------------------------------------------------------
for len in 222 224 226; do
	name=$(/usr/bin/python3 -c "import sys; print('n' * (int(sys.argv[1]) - 4) + '.zip')" $len)
	echo "not an archive" >"$STAGE/$name"
	eval "LONG$len=\$name"
done
good=$(/usr/bin/python3 -c "print('g' * 221 + '.zip')")
stage "$TOP/gp/p810010.zip" "$good"
drop_all
for len in 222 224 226; do
	eval "name=\$LONG$len"
	wait_receipt "$name"
	[ "$(top_code "$name")" = ARCHIVE_FORMAT ] || fail "$len-byte name: $(cat "$(receipt "$name")")"
	grep -q "upload=\"$name\"" "$(receipt "$name")" || fail "the receipt does not name the upload verbatim"
	qn=$(quarantined "$name")
	[ -n "$qn" ] && [ -f "$Q/$qn" ] && [ -f "$Q/$qn.reason" ] || fail "$len bytes: quarantine/: $(ls "$Q")"
	[ ${#qn} -lt 100 ] || fail "quarantine name $qn"
	grep -q "^upload: $name$" "$Q/$qn.reason" || fail "the .reason does not keep the name"
done
wait_receipt "$good"
[ "$(item "$good" / state)" = awaiting_verification ] || fail "long good name: $(cat "$(receipt "$good")")"
bd_wait_empty "$W" 10 || fail "work/ not empty: $(ls "$W")"
# requeue takes the long name back to incoming/ (the file, not its
# quarantine name): it comes back with the same answer
qn=$(quarantined "$LONG226")
rm -f "$(receipt "$LONG226")"
bd_ctl requeue "$qn" >/dev/null || fail "requeue a long name"
wait_receipt "$LONG226"

# ---- 6. hard links ---------------------------------------------------------------------
cp "$TOP/gp/p810011.zip" "$BEIAND_DIR/keep.zip"
ln "$BEIAND_DIR/keep.zip" "$STAGE/linked.zip"
drop_all
wait_receipt linked.zip
[ "$(top_code linked.zip)" = ARCHIVE_CORRUPT ] || fail "linked.zip: $(cat "$(receipt linked.zip)")"
cmp -s "$BEIAND_DIR/keep.zip" "$TOP/gp/p810011.zip" || fail "the other link was touched"
rm "$BEIAND_DIR/keep.zip"
# a link made after the claim's rename, before the file is opened there
# (made deterministic: the daemon stopped in between, the claim left in
# work/; the next start opens it)
bd_stop
cp "$TOP/gp/p810011.zip" "$W/1700000000.000001.1~p~P001~raced.zip"
ln "$W/1700000000.000001.1~p~P001~raced.zip" "$BEIAND_DIR/outside.zip"
# and one quarantined before quarantine names were short, left in work/
# for want of room for its .reason: it goes, and its row follows it
L=1700000000.000002.2~p~P001~legacy.zip
echo "not an archive" >"$W/$L"
sql "INSERT INTO uploads(key, source, sha256, received, receipt, quarantined)
     VALUES('$L', 'spool:P001', '00', 0, '<receipt upload=\"legacy.zip\"/>', 1);
     INSERT INTO quarantine(item, source, at, reason)
     VALUES('$L', 'providers/P001/incoming/legacy.zip', 0, 'ARCHIVE_FORMAT')" ||
	fail "sqlite3"
bd_start || fail "beiand did not start again"
wait_receipt legacy.zip
[ "$(quarantined legacy.zip)" = "${L%~legacy.zip}" ] ||
	fail "legacy row: $(bd_ctl quarantine --json)"
bd_wait_file "$Q/${L%~legacy.zip}" 10 || fail "legacy file: $(ls "$Q")"
wait_receipt raced.zip
[ "$(top_code raced.zip)" = ARCHIVE_CORRUPT ] || fail "raced.zip: $(cat "$(receipt raced.zip)")"
grep -q 'another (hard) link' "$(receipt raced.zip)" || fail "raced.zip: $(cat "$(receipt raced.zip)")"
bd_wait_empty "$W" 10 || fail "work/ not empty: $(ls "$W")"
cmp -s "$BEIAND_DIR/outside.zip" "$TOP/gp/p810011.zip" || fail "the outside link was touched"
kill -0 "$BEIAND_PID" || fail "beiand died"
bd_stop
grep -q "beiand: stopped" "$BEIAND_DIR/beiand.log" || fail "no clean stop"
echo "it_poison: ok"
