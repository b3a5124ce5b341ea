#!/bin/sh
# it_spool: the spool channel end to end with a real OpenSSH sshd and real
# clients.  A provider uploads with `sftp -b` (plain put; put to .part and
# rename) and with `curl -T sftp://`; receipts appear in outgoing/ and are
# downloaded over SFTP; a truncated upload is never processed but reported
# after upload_timeout and kept; a re-upload repeats the first receipt; a
# hostile item never stops the other items of its batch; nothing stays in
# work/; an upload written to after it was handed over is quarantined;
# killed workers are replaced and their upload is tried again; a provider
# added on SIGHUP is watched.
. "$(dirname "$0")/lib/servers.sh"
. "$(dirname "$0")/daemon_lib.sh"

# sftp_cmds CMD...: run the commands in one sftp session as provider P001.
sftp_cmds()
{
	printf '%s\n' "$@" >"$T/sftp.batch"
	srv_sftp P001 "$T/sftp.batch" >/dev/null
}

# state_of RECEIPT ITEM-PATH: the item's state ("missing" when absent).
state_of()
{
	/usr/bin/python3 -c '
import sys, xml.etree.ElementTree as ET
r = ET.parse(sys.argv[1]).getroot()
for i in r.iter("{urn:beiand:receipt:1}item"):
    if i.get("path") == sys.argv[2]:
        print(i.get("state") or "none"); break
else:
    print("missing")' "$1" "$2"
}

srv_init || exit 1
T=$SRV_DIR/t
mkdir -p "$T"
bd_config "$SRV_DIR/b"
bd_start || fail "beiand did not start"
P=$BEIAND_DIR/spool/providers/P001
chown "$SRV_NOBODY" "$P/incoming"
chgrp "$SRV_NOBODY" "$P/outgoing" 2>/dev/null || chgrp nogroup "$P/outgoing"
srv_sshd_start P001 "$P" >/dev/null || fail "sshd"

/usr/bin/python3 tests/mkspoolpkgs.py "$T" || fail "packages"

# 1. plain sftp put
sftp_cmds "put $T/pkg1.zip incoming/pkg1.zip" || fail "sftp put"
bd_wait_file "$P/outgoing/pkg1.zip.receipt.xml" || fail "no receipt for a plain put"
[ "$(state_of "$P/outgoing/pkg1.zip.receipt.xml" /)" = awaiting_verification ] ||
	fail "pkg1: $(cat "$P/outgoing/pkg1.zip.receipt.xml")"
# the provider downloads its receipt over SFTP
sftp_cmds "get outgoing/pkg1.zip.receipt.xml $T/got.xml" || fail "sftp get receipt"
cmp -s "$T/got.xml" "$P/outgoing/pkg1.zip.receipt.xml" || fail "downloaded receipt differs"

# 2. put to .part, then rename; a batch with a hostile item
sftp_cmds "put $T/batch.zip incoming/batch.zip.part" \
    "rename incoming/batch.zip.part incoming/batch.zip" || fail "sftp put+rename"
bd_wait_file "$P/outgoing/batch.zip.receipt.xml" || fail "no receipt for the batch"
R=$P/outgoing/batch.zip.receipt.xml
[ "$(state_of "$R" site-a/)" = awaiting_verification ] || fail "batch site-a: $(cat "$R")"
[ "$(state_of "$R" site-b/)" = invalid ] || fail "batch site-b: $(cat "$R")"
grep -q 'code="XML_DTD_FORBIDDEN"' "$R" || fail "XXE item not reported: $(cat "$R")"
[ "$(state_of "$R" site-c/)" = invalid ] || fail "batch site-c: $(cat "$R")"
grep -q 'code="PHOTO_CORRUPT"' "$R" || fail "corrupt photo not reported: $(cat "$R")"

# 3. curl -T sftp://
srv_curl_sftp_put P001 "$T/pkg3.zip" incoming/pkg3.zip >/dev/null 2>&1 || fail "curl sftp"
bd_wait_file "$P/outgoing/pkg3.zip.receipt.xml" || fail "no receipt for curl -T"
[ "$(state_of "$P/outgoing/pkg3.zip.receipt.xml" /)" = awaiting_verification ] ||
	fail "pkg3: $(cat "$P/outgoing/pkg3.zip.receipt.xml")"

# 4. a truncated upload waits, is reported after upload_timeout (3 s),
# stays.  "After" is read from the files' times, not from a sleep: the
# receipt is written 3 s or more after the upload's last write however
# slow the machine (a few ms less for the clocks' granularity).
cp "$T/trunc-part.zip" "$P/incoming/trunc.zip"
bd_wait_file "$P/outgoing/trunc.zip.receipt.xml" || fail "no ARCHIVE_TRUNCATED receipt"
grep -q 'code="ARCHIVE_TRUNCATED"' "$P/outgoing/trunc.zip.receipt.xml" || fail "truncated receipt"
/usr/bin/python3 -c '
import os, sys
up, rec = (os.stat(p).st_mtime_ns for p in sys.argv[1:3])
sys.exit(0 if rec - up >= 2_950_000_000 else "receipt %.3f s after the upload" % ((rec - up) / 1e9))
' "$P/incoming/trunc.zip" "$P/outgoing/trunc.zip.receipt.xml" ||
	fail "a truncated upload was reported before upload_timeout"
[ -e "$P/incoming/trunc.zip" ] || fail "the truncated upload was not kept"
# completing it makes it go through
rm "$P/outgoing/trunc.zip.receipt.xml"
cat "$T/trunc-whole.zip" >"$P/incoming/trunc.zip"
bd_wait_file "$P/outgoing/trunc.zip.receipt.xml" || fail "completed upload not processed"
[ "$(state_of "$P/outgoing/trunc.zip.receipt.xml" /)" = awaiting_verification ] ||
	fail "completed upload: $(cat "$P/outgoing/trunc.zip.receipt.xml")"

# 5. a re-upload is a no-op repeating the first receipt
n1=$(bd_ctl list --json | wc -l)
sftp_cmds "put $T/pkg1.zip incoming/again.zip" || fail "sftp re-put"
bd_wait_file "$P/outgoing/again.zip.receipt.xml" || fail "no receipt for the re-upload"
n2=$(bd_ctl list --json | wc -l)
[ "$n1" = "$n2" ] || fail "a re-upload made a filing ($n1 -> $n2)"
sed 's/upload="[^"]*"//' "$P/outgoing/pkg1.zip.receipt.xml" >"$T/r1"
sed 's/upload="[^"]*"//' "$P/outgoing/again.zip.receipt.xml" >"$T/r2"
cmp -s "$T/r1" "$T/r2" || fail "re-upload receipt differs: $(diff "$T/r1" "$T/r2")"

# 6. unreadable input is quarantined with a reason, the rest goes on
# (2 MB: renamed into place, so that a writer that stalls on a loaded
# machine is not taken for an incomplete upload past upload_timeout)
cp "$T/bomb.zip" "$P/incoming/.bomb.zip.part"
mv "$P/incoming/.bomb.zip.part" "$P/incoming/bomb.zip"
bd_wait_file "$P/outgoing/bomb.zip.receipt.xml" || fail "no receipt for the bomb"
grep -q 'code="ARCHIVE_BOMB"' "$P/outgoing/bomb.zip.receipt.xml" || fail "bomb receipt"
# the receipt is written first, the file moved once the receipt is durable
bd_wait_log 'upload=bomb.zip quarantined as' || fail "bomb: no quarantine logged"
bd_quarantined bomb.zip || fail "bomb not quarantined"
bd_ctl quarantine | grep -q bomb.zip || fail "beianctl quarantine does not list the bomb"

# 6b. a symlink and a FIFO are never read: quarantined, and the uploads
# after them still go through
ln -s /etc/passwd "$P/incoming/link.zip"
mkfifo "$P/incoming/fifo.zip"
cp "$T/pkg1.zip" "$P/incoming/after.zip"
for u in link.zip fifo.zip after.zip; do
	bd_wait_file "$P/outgoing/$u.receipt.xml" || fail "no receipt for $u"
done
grep -q 'code="ARCHIVE_CORRUPT"' "$P/outgoing/link.zip.receipt.xml" || fail "link receipt"
for u in link.zip fifo.zip; do
	bd_wait_log "upload=$u quarantined as" || fail "$u: no quarantine logged"
done
bd_quarantined link.zip || fail "link not quarantined"
bd_quarantined fifo.zip || fail "fifo not quarantined"
grep -q 'kind="filing"' "$P/outgoing/after.zip.receipt.xml" || fail "after.zip: $(cat "$P/outgoing/after.zip.receipt.xml")"

# 6c. an upload still written after it was renamed into place (a client
# that keeps its handle open): what the parser read may not be what was
# hashed and kept, so it is quarantined, not filed.  Large, so that the
# daemon is still reading it when the writes begin.
head -c 32M /dev/urandom >"$T/held.bin"
/usr/bin/python3 - "$T/held.bin" "$P/incoming" "$P/outgoing" <<'PY' || fail "held writer"
import os, sys, time
src, inc, out = sys.argv[1:4]
data = open(src, "rb").read()
fd = os.open(inc + "/.held.part", os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
os.write(fd, data)
os.rename(inc + "/.held.part", inc + "/held.zip")
end = time.time() + 120  # a bound for a hung test, not a speed
while os.path.exists(inc + "/held.zip") and time.time() < end:
    time.sleep(0.001)
while not os.path.exists(out + "/held.zip.receipt.xml") and time.time() < end:
    os.pwrite(fd, data[:4096], 0)  # the same bytes again
os.close(fd)
PY
bd_wait_file "$P/outgoing/held.zip.receipt.xml" || fail "no receipt for held.zip"
grep -q 'changed while beiand read it' "$P/outgoing/held.zip.receipt.xml" ||
	fail "held.zip: $(cat "$P/outgoing/held.zip.receipt.xml")"
grep -q 'upload=held.zip changed while it was read' "$BEIAND_DIR/beiand.log" ||
	fail "held.zip: no log line"
bd_wait_log 'upload=held.zip quarantined as' || fail "held.zip: no quarantine logged"
bd_quarantined held.zip || fail "held.zip not quarantined"

# 6d. workers killed while one holds an upload are replaced; the upload
# is tried again on a new worker and filed
/usr/bin/python3 bench/gen_packages.py "$T/gp" 1 --format zip --first 700000 >/dev/null ||
	fail "gen_packages"
old_ws=$(bd_children)
[ -n "$old_ws" ] || fail "no workers"
# queued_to_worker: a job waits unread on a (stopped) worker's socket
queued_to_worker()
{
	for w in $old_ws; do
		ss -xpH | awk -v p="pid=$w," 'index($0, p) && $3 > 0 { f = 1 } END { exit !f }' &&
		    return 0
	done
	return 1
}
kill -STOP $old_ws
queued_to_worker && fail "a worker has unread input before the upload"
cp "$T/gp/p700000.zip" "$P/incoming/.crash.zip.part"
mv "$P/incoming/.crash.zip.part" "$P/incoming/crash.zip"
bd_wait_gone "$P/incoming/crash.zip" || fail "crash.zip not claimed"
# handed to a stopped worker (in the turn that claimed it): killed then,
# that worker fails the attempt
bd_wait 60 queued_to_worker || fail "crash.zip never sent to a worker"
kill -KILL $old_ws
bd_wait_file "$P/outgoing/crash.zip.receipt.xml" || fail "no receipt for crash.zip"
[ "$(state_of "$P/outgoing/crash.zip.receipt.xml" /)" = awaiting_verification ] ||
	fail "crash.zip: $(cat "$P/outgoing/crash.zip.receipt.xml")"
grep -q 'worker: upload=crash.zip attempt 1 failed: .*signal 9' "$BEIAND_DIR/beiand.log" ||
	fail "no failed attempt logged for crash.zip"
# as many live workers as before, none of the killed ones
replaced()
{
	new_ws=$(bd_children)
	[ "$(echo "$new_ws" | wc -l)" = "$(echo "$old_ws" | wc -l)" ] || return 1
	for w in $old_ws; do
		echo "$new_ws" | grep -qx "$w" && return 1
	done
	return 0
}
bd_wait 60 replaced || fail "workers not replaced: $old_ws -> $new_ws"

# 6e. a provider added to the configuration is watched after SIGHUP
cat >>"$BEIAND_DIR/beiand.conf" <<'EOF2'
[provider.P003]
name = 新加的接入商
email = filing@p003.example
ip_ranges = 192.0.2.0/24
EOF2
kill -HUP "$BEIAND_PID"
bd_wait_file "$BEIAND_DIR/spool/providers/P003/incoming" || fail "P003 folders not made on reload"
bd_wait_log 'config: reloaded' || fail "no reload logged"
cp "$T/gp/p700000.zip" "$BEIAND_DIR/spool/providers/P003/incoming/p3.zip"
bd_wait_file "$BEIAND_DIR/spool/providers/P003/outgoing/p3.zip.receipt.xml" ||
	fail "no receipt for an upload of the new provider"
grep -q 'kind="filing"' "$BEIAND_DIR/spool/providers/P003/outgoing/p3.zip.receipt.xml" ||
	fail "p3.zip: $(cat "$BEIAND_DIR/spool/providers/P003/outgoing/p3.zip.receipt.xml")"

# 6f. every mail is logged once it is handed over (here: written as .eml)
bd_wait_log 'mailer: mail=[0-9]* filing=BA-2026-000001 template=received to=[^ ]* status=sent reply="eml: BA-2026-000001\.' ||
	fail "no mailer line for BA-2026-000001"

# 6g. names that are not UTF-8 (GBK, as Windows clients in China send
# them): the receipts stay well-formed XML, the name written as \xhh
# text; the refusal still reaches the provider by mail
gbk_bad=$(printf 'bad\260\241.zip')
gbk_dup=$(printf '\260\241pkg1.zip')
mkdir "$P/gbk"
printf 'not an archive' >"$P/gbk/$gbk_bad"
cp "$T/pkg1.zip" "$P/gbk/$gbk_dup"
bd_drop "$P/gbk" "$P/incoming"
for u in "$gbk_bad" "$gbk_dup"; do
	r="$P/outgoing/$u.receipt.xml"
	bd_wait_file "$r" || fail "no receipt for a GBK name"
	xmllint --noout "$r" || fail "receipt of a GBK name is not well-formed XML"
done
grep -q 'upload="bad\\xb0\\xa1.zip"' "$P/outgoing/$gbk_bad.receipt.xml" ||
	fail "GBK name in the receipt: $(grep -o 'upload="[^"]*"' "$P/outgoing/$gbk_bad.receipt.xml")"
grep -q 'kind="filing"' "$P/outgoing/$gbk_dup.receipt.xml" || fail "GBK-named package"
# the refusal's mail is named after the upload's hash
ref=$(printf 'not an archive' | sha256sum | cut -c1-16)
bd_wait_log "template=invalid to=filing@p001.example status=sent reply=\"eml: $ref\\." ||
	fail "the refusal of a GBK-named upload was not mailed: $(grep "$ref" "$BEIAND_DIR/beiand.log")"

# 7. nothing left behind (a claimed file goes once its receipt is durable)
bd_wait_empty "$BEIAND_DIR/spool/work" ||
	fail "work/ not empty: $(ls "$BEIAND_DIR/spool/work")"
kill -0 "$BEIAND_PID" || fail "beiand died"
bd_stop
grep -q "beiand: stopped" "$BEIAND_DIR/beiand.log" || fail "no clean stop"
echo "it_spool: ok ($(bd_ctl list --json | wc -l) filings)"
