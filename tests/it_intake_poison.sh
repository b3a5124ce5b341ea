#!/bin/sh
# it_intake_poison: one mail the store cannot take never holds back the
# other mails (DESIGN.md, Hostile senders), against a private Dovecot.
# An SQLite trigger (made by the test on the test's database) refuses one
# package's domain.  That mail and two good ones are delivered at once
# (composed by Python's email package, delivered with dovecot-lda): the
# two good ones are filed; the poison one fails alone and is kept for the
# operator — listed by `beianctl quarantine`, its file in
# state_dir/quarantine/ with a .reason, its message moved to Processed
# like every mail whose outcome is recorded, no reply sent.  The trigger
# dropped, `beianctl requeue` puts it back: it is filed once, and nothing
# else is processed again.
. "$(dirname "$0")/lib/servers.sh"

if [ "$(id -u)" != 0 ]; then
	echo "it_intake_poison: needs root, skipped"
	exit 0
fi
cd "$(dirname "$0")/.." || exit 2
. tests/daemon_lib.sh

srv_init || exit 1
srv_dovecot_start intake || srv_fail "dovecot"

BEIAND_DIR=$SRV_DIR/bd
mkdir -p "$BEIAND_DIR"
chmod 755 "$BEIAND_DIR"
cat >"$BEIAND_DIR/beiand.conf" <<EOF
[daemon]
spool_dir = spool
state_dir = var
workers = 2
[imap]
url = imap://intake:secret@127.0.0.1:$SRV_IMAP_PORT/INBOX
address = intake@example.test
provider = P001
poll_interval = 2s
[smtp]
from = beian@example.test
[bureau.11]
addresses = bureau@example.test
[provider.P001]
name = 示例网络科技有限公司
email = provider@example.test
ip_ranges = 203.0.113.0/24, 2001:db8::/32
EOF
export BEIAND_DIR
fail() {
	echo "--- beiand.log" >&2
	tail -40 "$BEIAND_DIR/beiand.log" >&2
	bd_kill
	srv_fail "$@"
}
bd_start || fail "beiand did not start"
DB=$BEIAND_DIR/var/beiand.db
sql() { sqlite3 -cmd ".timeout 10000" "$DB" "$@"; }
M=$SRV_DIR/mails
mkdir -p "$M"

# three packages by mail from the owner, each of its own subject and domain
/usr/bin/python3 - "$M" <<'EOF' || fail "composing the mails"
import os, sys
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
sys.path.insert(0, "tests")
import fxlib
USCC_SET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
def uscc(i):
    body = "%08d" % (40000000 + i)
    c = 11 - sum(int(ch, 36) * w for ch, w in
                 zip(body, [3, 7, 9, 10, 5, 8, 4, 2])) % 11
    s17 = "91110108" + body + ("X" if c == 10 else "0" if c == 11 else str(c))
    s = sum(USCC_SET.index(ch) * pow(3, k, 31) for k, ch in enumerate(s17))
    return s17 + USCC_SET[(31 - s % 31) % 31]
for n, name in ((1, "good1"), (2, "poison"), (3, "good3")):
    x = fxlib.good_filing_xml().replace("zhangsan@example.cn", "owner@example.test")
    x = x.replace("example.cn", "mail%d.cn" % n).replace("91110108MA01XY3K34", uscc(n))
    m = EmailMessage()
    m["From"] = "owner@example.test"
    m["To"] = "intake@example.test"
    m["Subject"] = "备案申请 %s" % name
    m["Date"] = formatdate(localtime=True)
    m["Message-ID"] = make_msgid(domain="mua.example")
    m.set_content("附件是备案材料。\n")
    m.add_attachment(fxlib.zip_bytes(fxlib.package_files(x)), maintype="application",
                     subtype="zip", filename="%s.zip" % name)
    with open(os.path.join(sys.argv[1], name + ".eml"), "wb") as f:
        f.write(bytes(m))
EOF

# filings whose domain is DOMAIN, by their state
filed() { bd_ctl list --json | /usr/bin/python3 -c '
import json, subprocess, sys
n = 0
for l in sys.stdin:
    o = json.loads(l)
    if o["state"] != "awaiting_verification":
        continue
    s = json.loads(subprocess.run(sys.argv[2:] + ["show", o["id"], "--json"],
                   capture_output=True, text=True).stdout.splitlines()[0])
    n += any(sys.argv[1] in w["domains"] for w in s["websites"])
print(n)' "$1" "$BEIANCTL" -c "$BEIAND_DIR/beiand.conf"; }
filed_once() { [ "$(filed "$1")" = 1 ]; }
processed() { [ "$(srv_mail_count intake)" = 0 ] &&
    [ "$(ls "$SRV_DIR/mail/intake/Maildir/.Processed/cur" \
        "$SRV_DIR/mail/intake/Maildir/.Processed/new" 2>/dev/null |
        grep -c .)" -ge "$1" ]; }

sql "CREATE TRIGGER poison BEFORE INSERT ON filing_domains WHEN NEW.domain = 'mail2.cn'
     BEGIN SELECT RAISE(ABORT, 'refused by the test'); END" || fail "trigger"
for n in good1 poison good3; do
	srv_deliver intake "$M/$n.eml" || fail "deliver $n"
done
bd_wait 60 filed_once mail1.cn || fail "good1 not filed beside the poison mail"
bd_wait 30 filed_once mail3.cn || fail "good3 not filed beside the poison mail"
bd_wait_log 'intake: uid=[0-9]* fails alone: .*refused by the test; quarantined' 30 ||
	fail "the poison mail was not tried alone and quarantined"
bd_wait_log 'intake: uid=[0-9]* quarantined as ' 10 || fail "no quarantined file"
[ "$(filed mail2.cn)" = 0 ] || fail "the poison mail was filed"
Q=$(bd_ctl quarantine --json | /usr/bin/python3 -c '
import json, sys
for l in sys.stdin:
    o = json.loads(l)
    if (o["source"] or "").startswith("mail:"):
        print(o["item"])')
[ -n "$Q" ] || fail "beianctl quarantine: $(bd_ctl quarantine)"
[ -f "$BEIAND_DIR/var/quarantine/$Q" ] && [ -f "$BEIAND_DIR/var/quarantine/$Q.reason" ] ||
	fail "state_dir/quarantine/: $(ls "$BEIAND_DIR/var/quarantine")"
grep -q 'refused by the test' "$BEIAND_DIR/var/quarantine/$Q.reason" || fail ".reason"
grep -q 'poison.zip' "$BEIAND_DIR/var/quarantine/$Q" || fail "not the poison mail: $Q"
bd_wait 30 processed 3 || fail "the mailbox was held back: INBOX $(srv_mail_count intake)"
bd_ctl status | grep -q '^quarantine: 1$' || fail "status: $(bd_ctl status)"
bd_ctl status --json | grep -q '"code":"NOT_PROCESSED"' || fail "status --json"
# no answer to it: only the two good ones were mailed about (received)
[ "$(ls "$BEIAND_DIR/var/mail" | grep -c 'received\.owner')" = 2 ] ||
	fail "mails: $(ls "$BEIAND_DIR/var/mail")"

# the cause removed, the operator puts it back
sql "DROP TRIGGER poison" || fail "drop trigger"
bd_ctl requeue "$Q" >/dev/null || fail "requeue $Q"
[ -f "$BEIAND_DIR/var/quarantine/$Q" ] && fail "requeue left the file in quarantine/"
bd_wait 30 filed_once mail2.cn || fail "the requeued mail was not filed"
bd_wait_gone "$BEIAND_DIR/var/inbox/$Q" 10 || fail "the requeued file stayed in inbox/"
[ -z "$(bd_ctl quarantine)" ] || fail "still quarantined: $(bd_ctl quarantine)"
filed_once mail1.cn && filed_once mail3.cn || fail "a good mail processed again"
[ "$(ls "$BEIAND_DIR/var/mail" | grep -c 'received\.owner')" = 3 ] ||
	fail "mails: $(ls "$BEIAND_DIR/var/mail")"
# a restart takes nothing up again
bd_stop
bd_start || fail "beiand did not restart"
bd_wait_log 'intake: mailbox INBOX uidvalidity .* resumed' 20 || fail "no resume"
[ "$(bd_ctl list --json | grep -c awaiting_verification)" = 3 ] || fail "$(bd_ctl list)"
bd_stop
grep -E "AddressSanitizer|runtime error" "$BEIAND_DIR/beiand.log" && fail "errors in the log"
echo "it_intake_poison: ok"
