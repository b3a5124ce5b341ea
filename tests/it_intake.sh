#!/bin/sh
# it_intake: owner and bureau mail through beiand, against a private
# Postfix and Dovecot.  Mails composed by Python's email package (and by
# hand where it never writes Outlook's forms) go through Postfix to
# intake@example.test; beiand fetches them over IMAP, and its answers are
# read back over IMAP (tests/intake_flow.py).  Checks: two filings by
# mail (a zip named in RFC 2231 with a GBK subject; filing.xml and photos
# with Outlook RFC 2047 GB2312 names and a split RFC 2231 continuation),
# a spoofed withdrawal refused with SENDER_MISMATCH, the owner's own
# withdrawal; Dovecot restarted mid-run; no reply to an out-of-office or a
# DSN; the help reply; the provider's verify, the review request with its
# token, a bureau reply with a wrong token changing nothing, "APPROVE" as
# a reply, the owner's approval mail; every mail processed exactly once
# and moved to Processed.  Then beiand killed and restarted with a mail
# waiting: it is processed once.  Last, a mail over mail_max_bytes:
# refused with MAIL_TOO_LARGE, left on the server, not refused again
# after a restart; and a UIDVALIDITY change with a processed mail copied
# back into the INBOX: nothing processed again.
. "$(dirname "$0")/lib/servers.sh"

if [ "$(id -u)" != 0 ]; then
	echo "it_intake: needs root, skipped"
	exit 0
fi
cd "$(dirname "$0")/.." || exit 2
. tests/daemon_lib.sh

srv_init || exit 1
srv_dovecot_start intake owner bureau provider mallory || srv_fail "dovecot"
srv_postfix_start || srv_fail "postfix"

BEIAND_DIR=$SRV_DIR/bd
mkdir -p "$BEIAND_DIR"
chmod 755 "$BEIAND_DIR"
cat >"$BEIAND_DIR/beiand.conf" <<EOF
[daemon]
spool_dir = spool
state_dir = var
settle_ms = 300
workers = 2
[limits]
mail_max_bytes = 300K
[imap]
url = imap://intake:secret@127.0.0.1:$SRV_IMAP_PORT/INBOX
address = intake@example.test
provider = P001
poll_interval = 2s
reply_cap = 5
[smtp]
url = smtp://127.0.0.1:$SRV_SMTP_PORT
from = beian@example.test
tls = none
retry_min = 1s
retry_max = 2s
[bureau.11]
addresses = bureau@example.test
[provider.P001]
name = 示例网络科技有限公司
email = provider@example.test
ip_ranges = 203.0.113.0/24, 2001:db8::/32
EOF
export BEIAND_DIR
BEIANCTL=$(cd "$(dirname "$BEIANCTL")" && pwd)/beianctl
export BEIANCTL
# debug lines too: "intake: synced up to uid N" ends each scan of the INBOX
BD_VERBOSE=1
bd_start || srv_fail "beiand did not start"
ST=$SRV_DIR/flow.json
flow() { /usr/bin/python3 tests/intake_flow.py "$ST" "$@"; }
fail() {
	echo "--- beiand.log" >&2
	tail -40 "$BEIAND_DIR/beiand.log" >&2
	bd_kill
	srv_fail "$@"
}

flow phase1 || fail "phase 1"

# Dovecot goes away under beiand's IDLE and comes back.
resumed() { grep -c "intake: mailbox INBOX uidvalidity .* resumed" \
    "$BEIAND_DIR/beiand.log"; }
R0=$(resumed)
srv_dovecot_restart || fail "dovecot restart"
flow phase2 || fail "phase 2"
flow final || fail "final"
[ "$(resumed)" -gt "$R0" ] || fail "beiand never reconnected to Dovecot"

# beiand killed with a mail waiting in the mailbox: after the restart it
# is processed once (the help reply), and nothing before it again.
bd_kill
/usr/bin/python3 - "$ST" <<'EOF' || fail "sending the last mail"
import json, smtplib, sys, os
from email.message import EmailMessage
from email.utils import make_msgid
st = json.load(open(sys.argv[1]))
m = EmailMessage()
m["From"] = "owner@example.test"
m["To"] = "intake@example.test"
m["Subject"] = "hello"
m["Message-ID"] = make_msgid(domain="mua.example")
m.set_content("how do I file?\n")
st["mids"].append(m["Message-ID"])
with smtplib.SMTP("127.0.0.1", int(os.environ["SRV_SMTP_PORT"])) as s:
    s.send_message(m)
json.dump(st, open(sys.argv[1], "w"))
EOF
bd_start || fail "beiand did not restart"
flow final || fail "final after a restart"

# An invalid package: the refusal names the filing it made (in its
# Message-ID, its outbox row and the mailer's log line).
flow invalid || fail "invalid package"
bd_wait_log 'mailer: mail=[0-9]* filing=BA-[0-9-]* template=invalid to=owner@' ||
	fail "the refusal of an invalid package is logged without its filing"

# Over mail_max_bytes: refused once, left on the server, also across a
# restart.
flow large || fail "large"
bd_stop
bd_start || fail "beiand did not restart"
# A refusal is decided (and logged) as the fetcher reports the mail, and
# it reports every mail before it says its scan is done: once this run
# has synced, a second refusal would be in its log.
bd_wait_log 'intake: synced up to uid' || fail "no scan of the INBOX after the restart"
bd_log_run | grep 'over mail_max_bytes: refused' &&
    fail "the large mail was refused again after a restart"
flow large_again || fail "large again"
bd_stop

# A UIDVALIDITY change with a processed mail back in the INBOX (and the
# large one still there): reconciled by Message-ID and content hash.
flow uidv_prepare || fail "uidvalidity prepare"
bd_start || fail "beiand did not restart"
flow uidv_check || fail "uidvalidity"
grep -q "reconciling by Message-ID" "$BEIAND_DIR/beiand.log" &&
    grep -q "Message-ID seen before" "$BEIAND_DIR/beiand.log" ||
    fail "the UIDVALIDITY change was not reconciled"
bd_stop
grep -E "intake: .*(given up|not committed)|AddressSanitizer|runtime error" \
    "$BEIAND_DIR/beiand.log" && fail "errors in the log"
# every delivery is logged as a mail system logs it, with the reply
grep -q 'mailer: mail=[0-9]* filing=BA-[0-9-]* template=[a-z_]* to=[^ ]* status=sent reply="250 ' \
    "$BEIAND_DIR/beiand.log" || fail "no mailer line with the server's reply"
echo "it_intake: ok"
