#!/bin/sh
# it_mail: daemon/mailer.c delivering the outbox through a real Postfix
# into a real Dovecot.  A driver (tests/tool_mailer.c, built here from the
# sources) makes filings with the store API and runs the mailer.  Checks,
# reading the mails back over IMAP (python3 imaplib): headers, decoded
# subjects with the tag, bodies, the numbers and the password in the
# owner's approval mail (and its wipe from the store), threading,
# Auto-Submitted and X-Beiand-Loop, the review request's attachments; a
# 5xx recipient failed at once; an outage deferring everything (attempts
# 1, a curl reply) then, the server back, every mail delivered exactly
# once; a crash leaving a row in sending, recovered and sent once with
# the same Message-ID.
. "$(dirname "$0")/lib/servers.sh"

if [ "$(id -u)" != 0 ]; then
	echo "it_mail: needs root, skipped"
	exit 0
fi
cd "$(dirname "$0")/.." || exit 2

srv_init || exit 1
T=$SRV_DIR/t
mkdir "$T" "$T/state"
chmod 0700 "$T/state"

. "$(dirname "$0")/lib/cc_tool.sh"
cc_tool "$T/tool" tests/tool_mailer.c || srv_fail "building tool_mailer"

srv_dovecot_start owner provider bureau records late crash || srv_fail "dovecot"
srv_postfix_start || srv_fail "postfix"
URL="smtp://127.0.0.1:$SRV_SMTP_PORT"
tool() { "$T/tool" "$T/state" "$URL" "$@"; }

# 1. A first filing driven to approval, and one whose owner is refused.
tool file owner@example.test approve >"$T/f1" || srv_fail "file 1"
tool file reject@example.test >"$T/f2" || srv_fail "file 2"
cat "$T/f1" "$T/f2"
ID1=$(awk '/^filing/ {print $2}' "$T/f1")
TOKEN1=$(awk '/^filing/ {print $3}' "$T/f1")
PW1=$(awk '/^password/ {print $3}' "$T/f1")
[ -n "$PW1" ] || srv_fail "no password row for $ID1"

tool run 0 >"$T/run1" || srv_fail "run 1"
cat "$T/run1"
# F1: 7 mails, F2: 3 of which the owner's is refused (5xx)
grep -q '^run handled 10 sent 9 deferred 0 failed 1 ' "$T/run1" ||
    srv_fail "run 1: $(cat "$T/run1")"
tool failed >"$T/failed1"
grep -q ' failed 1 received owner reject@example.test .* 550 ' "$T/failed1" ||
    srv_fail "the 5xx row is not failed: $(cat "$T/failed1")"
tool rows >"$T/rows1"
grep -q "approved_owner" "$T/rows1" || srv_fail "no approved_owner row"
tool rows | grep -q "$PW1" && srv_fail "the password is still in the store"

srv_wait_mail owner 2 || srv_fail "owner mails never arrived"
srv_wait_mail provider 5 || srv_fail "provider mails never arrived"
srv_wait_mail bureau 1 || srv_fail "review request never arrived"
srv_wait_mail records 1 || srv_fail "result record never arrived"

cat >"$T/check.py" <<'EOF'
# Reads every mailbox over IMAP and checks what the mailer sent.
import email, email.policy, imaplib, json, os, sys
port = int(os.environ["SRV_IMAP_PORT"])
mode = sys.argv[1]

def fetch(user):
    m = imaplib.IMAP4("127.0.0.1", port)
    m.login(user, "secret")
    m.select("INBOX", readonly=True)
    typ, data = m.search(None, "ALL")
    out = []
    for num in data[0].split():
        typ, d = m.fetch(num, "(RFC822)")
        out.append(email.message_from_bytes(d[0][1], policy=email.policy.default))
    m.logout()
    return out

def fail(msg):
    print("check: " + msg)
    sys.exit(1)

users = ["owner", "provider", "bureau", "records", "late", "crash"]
mails = {u: fetch(u) for u in users}

if mode == "count":
    # every Message-ID exactly once in all mailboxes
    seen = {}
    for u in users:
        for m in mails[u]:
            seen[m["Message-ID"]] = seen.get(m["Message-ID"], 0) + 1
    dup = [k for k, v in seen.items() if v != 1]
    if dup:
        fail("delivered more than once: %s" % dup)
    print(json.dumps({u: len(mails[u]) for u in users}))
    sys.exit(0)

ident, token, pw = sys.argv[2], sys.argv[3], sys.argv[4]
def one(user, tpl):
    got = [m for m in mails[user] if ("." + tpl + ".") in m["Message-ID"]
           and ident in m["Message-ID"]]
    if len(got) != 1:
        fail("%s: %d %s mails" % (user, len(got), tpl))
    return got[0]

def text(m):
    return m.get_body(preferencelist=("plain",)).get_content()

def common(m, to, tag):
    if m["From"] != "beian@example.test" or m["To"] != to:
        fail("%s: From/To %s %s" % (m["Message-ID"], m["From"], m["To"]))
    if not str(m["Subject"]).startswith(tag + " "):
        fail("%s: subject %r without %r" % (m["Message-ID"], str(m["Subject"]), tag))
    if m["Auto-Submitted"] != "auto-generated":
        fail("%s: Auto-Submitted" % m["Message-ID"])
    if m["X-Beiand-Loop"] != "beian@example.test":
        fail("%s: X-Beiand-Loop" % m["Message-ID"])
    if ident not in text(m):
        fail("%s: tracking id not in the body" % m["Message-ID"])

owner_tag = "[%s %s]" % (ident, token)
rec = one("owner", "received")
common(rec, "owner@example.test", owner_tag)
if rec["In-Reply-To"] is not None:
    fail("the first owner mail answers something")
if rec["Reply-To"] != "beian-in@example.test":
    fail("owner mail without Reply-To")
app = one("owner", "approved_owner")
common(app, "owner@example.test", owner_tag)
body = text(app)
if pw not in body:
    fail("the password is not in the approval mail")
if "京ICP备" not in body or "号-1" not in body:
    fail("no numbers in the approval mail")
if app["In-Reply-To"] != rec["Message-ID"] or rec["Message-ID"] not in app["References"]:
    fail("approval not threaded under %s" % rec["Message-ID"])
for tpl in ("received", "awaiting_verification", "approved_provider"):
    m = one("provider", tpl)
    common(m, "provider@example.test", "[%s]" % ident)
    if pw in text(m):
        fail("password in the provider's %s" % tpl)
    if m["Reply-To"] is not None:
        fail("provider mail with Reply-To")
prec = one("provider", "received")
if one("provider", "approved_provider")["In-Reply-To"] != prec["Message-ID"]:
    fail("provider thread")
rr = one("bureau", "review_request")
common(rr, "bureau@example.test", "[%s]" % ident)
if "[review:" not in str(rr["Subject"]):
    fail("no review token in the subject")
if pw in text(rr) or "张核验" not in text(rr) or "北京示例科技有限公司" not in text(rr):
    fail("review request body")
atts = sorted((a.get_filename(), a.get_content_type()) for a in rr.iter_attachments())
want = sorted([(ident + ".zip", "application/zip"),
               ("verification.xml", "application/xml"),
               ("现场照片.jpg", "image/jpeg"), ("checklist.pdf", "application/pdf")])
if atts != want:
    fail("review request attachments %s" % atts)
rb = one("records", "approved_bureau")
common(rb, "records@example.test", "[%s]" % ident)
if rb["In-Reply-To"] != rr["Message-ID"]:
    fail("result record not threaded under the review request")
print("check: ok")
EOF
/usr/bin/python3 "$T/check.py" flow "$ID1" "$TOKEN1" "$PW1" ||
    srv_fail "mail content checks"

# 2. Outage: nothing reaches a stopped server; everything defers.
srv_postfix_stop
tool file late@example.test >"$T/f3" || srv_fail "file 3"
ID3=$(awk '/^filing/ {print $2}' "$T/f3")
tool run 0 >"$T/run2" || srv_fail "run 2"
cat "$T/run2"
grep -q '^run handled 3 sent 0 deferred 3 failed 0 ' "$T/run2" ||
    srv_fail "outage: $(cat "$T/run2")"
tool rows | grep "$ID3" >"$T/rows3"
cat "$T/rows3"
[ "$(grep -c " deferred 1 .* curl: " "$T/rows3")" = 3 ] ||
    srv_fail "outage rows not deferred with attempts 1 and a curl reply"
# not due yet: nothing happens
tool run 0 | grep -q '^run handled 0 ' || srv_fail "deferred mails retried early"
srv_postfix_start || srv_fail "postfix restart"
tool run +7200 >"$T/run3" || srv_fail "run 3"
cat "$T/run3"
grep -q '^run handled 3 sent 3 ' "$T/run3" || srv_fail "after the outage: $(cat "$T/run3")"
srv_wait_mail late 1 || srv_fail "late owner mail never arrived"
srv_wait_mail provider 7 || srv_fail "late provider mails never arrived"

# 3. Crash: a row left in sending is recovered and sent once.
tool file crash@example.test >"$T/f4" || srv_fail "file 4"
ID4=$(awk '/^filing/ {print $2}' "$T/f4")
ROW=$(tool rows | awk -v id="$ID4" '$0 ~ id && / received owner / {print $2}')
MID=$(tool crash "$ROW") || srv_fail "crash"
tool rows | grep -q "^row $ROW sending 1 " || srv_fail "row $ROW not left in sending"
tool run 0 | grep -q '^run handled 2 sent 2 ' || srv_fail "the other rows"
tool rows | grep -q "^row $ROW sending " || srv_fail "a sending row was touched"
tool recover | grep -q '^recovered 1$' || srv_fail "recover"
tool run 0 | grep -q '^run handled 1 sent 1 ' || srv_fail "resend after recovery"
tool rows | grep -q "^row $ROW sent 2 .* $MID " || srv_fail "row $ROW: $(tool rows | grep "^row $ROW ")"
srv_wait_mail crash 1 || srv_fail "crash owner mail never arrived"
srv_wait_mail provider 9 || srv_fail "the provider's mails of file 4 never arrived"

# Everything, exactly once: with Postfix's queue empty, every mail it
# accepted has reached its mailbox, so a duplicate would be there too.
srv_postfix_wait_empty || srv_fail "Postfix still holds mail: $(srv_postfix_queue)"
/usr/bin/python3 "$T/check.py" count >"$T/counts" || srv_fail "$(cat "$T/counts")"
cat "$T/counts"
grep -q '"owner": 2, "provider": 9, "bureau": 1, "records": 1, "late": 1, "crash": 1' \
    "$T/counts" || srv_fail "mail counts: $(cat "$T/counts")"
grep -q "$MID" "$SRV_DIR"/mail/crash/Maildir/*/* 2>/dev/null ||
    grep -rq "$MID" "$SRV_DIR/mail/crash" || srv_fail "crash mail has another Message-ID"
echo "it_mail: ok"
