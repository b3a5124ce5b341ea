#!/usr/bin/python3
"""intake_flow: the mail side of beiand end to end (driven by it_intake.sh).

Mails are composed as real clients compose them (Python's email package;
Outlook-style RFC 2047 names and split RFC 2231 continuations by hand),
sent through the private Postfix to intake@example.test, and the answers
are read back from the private Dovecot over IMAP.

  intake_flow.py STATE phase1          two filings by mail, a spoofed and a
                                     real withdrawal
  intake_flow.py STATE phase2          (after a Dovecot restart) automated
                                     mail, help, verify, the bureau's wrong
                                     and right APPROVE, the approval mail
  intake_flow.py STATE final          nothing lost or processed twice
  intake_flow.py STATE large          a mail over mail_max_bytes
  intake_flow.py STATE large_again    (after a restart) not refused twice
  intake_flow.py STATE uidv_prepare   (beiand stopped) a UIDVALIDITY change
  intake_flow.py STATE uidv_check     reconciled by Message-ID and hash

STATE is a JSON file carried between the phases.  Environment:
SRV_IMAP_PORT, SRV_SMTP_PORT, BEIANCTL, BEIAND_DIR.
"""
import base64
import email
import email.policy
import imaplib
import json
import os
import re
import smtplib
import sqlite3
import subprocess
import sys
import time
from email.header import Header
from email.mime.application import MIMEApplication
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from email.utils import formataddr, formatdate, make_msgid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fxlib  # noqa: E402

IMAP_PORT = int(os.environ["SRV_IMAP_PORT"])
SMTP_PORT = int(os.environ["SRV_SMTP_PORT"])
BEIANCTL = os.environ["BEIANCTL"]
BEIAND_DIR = os.environ["BEIAND_DIR"]
INTAKE = "intake@example.test"
OWNER = "owner@example.test"
BUREAU = "bureau@example.test"
MALLORY = "mallory@example.test"
USCC_SET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
TAG_RE = re.compile(r"\[(BA-\d{4}-\d{6,7}) ([A-Za-z0-9]{8})\]")
REVIEW_RE = re.compile(r"\[review:([A-Za-z0-9]{16})\]")


def fail(msg):
    print("intake_flow: FAIL: " + msg, file=sys.stderr)
    sys.exit(1)


def expect(cond, msg):
    if not cond:
        fail(msg)


def say(msg):
    print("intake_flow: " + msg, flush=True)


def uscc(i):
    body = "%08d" % (30000000 + i)
    c = 11 - sum(int(ch, 36) * w for ch, w in
                 zip(body, [3, 7, 9, 10, 5, 8, 4, 2])) % 11
    s17 = "91110108" + body + ("X" if c == 10 else "0" if c == 11 else str(c))
    s = sum(USCC_SET.index(ch) * pow(3, k, 31) for k, ch in enumerate(s17))
    return s17 + USCC_SET[(31 - s % 31) % 31]


def filing_xml(n, names=None):
    """The example first filing, owned by owner@example.test, subject n."""
    x = fxlib.good_filing_xml().replace("zhangsan@example.cn", OWNER)
    if n:
        x = x.replace("example.cn", "site%d.cn" % n)
        x = x.replace("91110108MA01XY3K34", uscc(n))
    for old, new in (names or {}).items():
        x = x.replace('file="%s"' % old, 'file="%s"' % new)
    return x


# ---- IMAP ---------------------------------------------------------------

def imap(user):
    m = imaplib.IMAP4("127.0.0.1", IMAP_PORT)
    m.login(user, "secret")
    return m


def mails(user, folder="INBOX"):
    """Every message of a folder, parsed, oldest first."""
    m = imap(user)
    typ, _ = m.select(folder, readonly=True)
    out = []
    if typ == "OK":
        _, data = m.search(None, "ALL")
        for num in data[0].split():
            _, d = m.fetch(num, "(RFC822)")
            out.append(email.message_from_bytes(d[0][1],
                                                policy=email.policy.default))
    m.logout()
    return out


def count(user, folder="INBOX"):
    m = imap(user)
    typ, data = m.select(folder, readonly=True)
    n = int(data[0]) if typ == "OK" else 0
    m.logout()
    return n


def body(msg):
    part = msg.get_body(preferencelist=("plain",))
    return part.get_content() if part is not None else ""


def wait_mail(user, pred, what, timeout=60):
    end = time.time() + timeout
    while time.time() < end:
        for msg in mails(user):
            if pred(msg):
                return msg
        time.sleep(0.3)
    fail("no %s in %s's mailbox; it holds: %s" % (
        what, user, [str(m["Subject"]) for m in mails(user)]))


def subject(msg):
    return str(msg["Subject"] or "")


def template_is(msg, tpl):
    """beiand's Message-ID names the template: <ID.EVENT.TEMPLATE.ROLE@D>."""
    mid = str(msg["Message-ID"] or "")
    return (".%s." % tpl) in mid


# ---- SMTP ---------------------------------------------------------------

def send(msg, envelope, rcpt=INTAKE):
    raw = msg if isinstance(msg, bytes) else msg.as_bytes()
    with smtplib.SMTP("127.0.0.1", SMTP_PORT) as s:
        s.sendmail(envelope, [rcpt], raw)


def base(frm, subj_header, mid=None):
    m = MIMEMultipart()
    m["From"] = frm
    m["To"] = INTAKE
    m["Subject"] = subj_header
    m["Date"] = formatdate(localtime=True)
    m["Message-ID"] = mid or make_msgid(domain="mua.example")
    return m


# ---- beianctl -----------------------------------------------------------

def ctl(*args, rc=0):
    conf = os.path.join(BEIAND_DIR, "beiand.conf")
    p = subprocess.run([BEIANCTL, "-c", conf] + list(args),
                       capture_output=True, text=True)
    if rc is not None and p.returncode != rc:
        fail("beianctl %s: exit %d: %s%s" % (" ".join(args), p.returncode,
                                             p.stdout, p.stderr))
    return p.stdout


def state_of(fid):
    return json.loads(ctl("show", fid, "--json").splitlines()[0])["state"]


def wait_state(fid, want, timeout=60):
    end = time.time() + timeout
    while time.time() < end:
        s = state_of(fid)
        if s == want:
            return
        time.sleep(0.3)
    fail("%s is %s, not %s" % (fid, state_of(fid), want))


def db():
    return sqlite3.connect(os.path.join(BEIAND_DIR, "var", "beiand.db"),
                           timeout=60)


# Every wait below is for a state; its bound only ends a test that would
# otherwise hang, so it is generous (a loaded machine is slow, never wrong).
def wait_for(cond, what, timeout=60):
    """what: a text, or a function giving one (the state at the end)."""
    end = time.time() + timeout
    while not cond():
        if time.time() >= end:
            fail("waited %d s for %s" % (timeout, what() if callable(what)
                                          else what))
        time.sleep(0.3)


def wait_processed(n, timeout=60):
    """Until n mails are in Processed and none left in the INBOX.  A mail
    is moved there once beiand has committed what it made of it (its
    replies queued in the outbox in the same transaction)."""
    wait_for(lambda: count(INTAKE, "Processed") >= n and count(INTAKE) == 0,
             lambda: "%d mails processed (Processed holds %d, INBOX %d)" % (
                 n, count(INTAKE, "Processed"), count(INTAKE)), timeout)
    expect(count(INTAKE, "Processed") == n, "Processed holds %d of %d mails"
           % (count(INTAKE, "Processed"), n))


def outbox_max():
    c = db()
    n = c.execute("SELECT coalesce(max(id), 0) FROM outbox").fetchone()[0]
    c.close()
    return n


def outbox_to(addr, after=0):
    """(template, state) of the outbox rows to addr with an id > after."""
    c = db()
    rows = c.execute("SELECT template, state FROM outbox WHERE id > ? AND"
                     " rcpt LIKE ? ORDER BY id",
                     (after, "%" + addr + "%")).fetchall()
    c.close()
    return rows


def mailer_idle():
    """Every queued mail has been handed to the relay (or given up)."""
    c = db()
    n = c.execute("SELECT count(*) FROM outbox WHERE state IN"
                  " ('queued', 'sending', 'deferred')").fetchone()[0]
    c.close()
    return n == 0


# ---- phases -------------------------------------------------------------

def phase1(st):
    # A: a zip attachment named in Chinese (RFC 2231, as Thunderbird and
    # Python write it), a GBK subject.
    files = fxlib.package_files(filing_xml(0))
    m = base(formataddr(("张三", OWNER)), Header("ICP备案申请 网站备案", "gbk").encode())
    m.attach(MIMEText("您好，附件是备案材料。\n", "plain", "utf-8"))
    a = MIMEApplication(fxlib.zip_bytes(files), "zip")
    a.add_header("Content-Disposition", "attachment",
                 filename=("utf-8", "", "备案材料.zip"))
    m.attach(a)
    st["mids"].append(m["Message-ID"])
    send(m, OWNER)
    rec = wait_mail(OWNER, lambda x: template_is(x, "received"), "received mail A")
    t = TAG_RE.search(subject(rec))
    expect(t is not None, "received mail without the owner tag: " + subject(rec))
    st["A"], st["tokenA"] = t.group(1), t.group(2)
    expect(str(rec["Reply-To"] or "").find(INTAKE) >= 0,
           "received mail has no Reply-To intake: %s" % rec["Reply-To"])
    say("filing A %s received by mail" % st["A"])
    show = json.loads(ctl("show", st["A"], "--json").splitlines()[0])
    expect(show["mode"] == "self" and show["provider"] == "P001",
           "A: mode %s provider %s" % (show["mode"], show["provider"]))

    # B: filing.xml and its photos attached directly, written by hand the
    # way Outlook names files (RFC 2047 GB2312 inside quotes) and with a
    # split RFC 2231 continuation.
    names = {"license.jpg": "营业执照.jpg", "zs-front.jpg": "身份证正面.jpg"}
    xml = filing_xml(1, names)
    files = fxlib.package_files(xml)
    bnd = "----=_NextPart_000_0001_01DB0000.12345678"
    mid = make_msgid(domain="outlook.example")
    st["mids"].append(mid)
    parts = [
        "From: =?gb2312?B?%s?= <%s>" % (
            base64.b64encode("张三".encode("gb2312")).decode(),
            OWNER),
        "To: %s" % INTAKE,
        "Subject: =?gb2312?B?%s?=" % base64.b64encode(
            "第二个网站的备案".encode("gb2312")).decode(),
        "Message-ID: %s" % mid,
        "Date: Sat, 28 Nov 2026 10:00:00 +0800",
        "MIME-Version: 1.0",
        'Content-Type: multipart/mixed; boundary="%s"' % bnd,
        "",
        "This is a multi-part message in MIME format.",
        "",
        "--" + bnd,
        'Content-Type: text/plain; charset="gb2312"',
        "Content-Transfer-Encoding: base64",
        "",
        base64.b64encode("请查收。\r\n".encode("gb2312")).decode(),
    ]
    b64 = base64.b64encode
    for name, data in files.items():
        parts.append("--" + bnd)
        if name == "营业执照.jpg":
            enc = "=?gb2312?B?%s?=" % b64(name.encode("gb2312")).decode()
            parts += ['Content-Type: image/jpeg; name="%s"' % enc,
                      'Content-Disposition: attachment; filename="%s"' % enc]
        elif name == "身份证正面.jpg":
            q = "".join("%%%02X" % c for c in name.encode("utf-8"))
            parts += ["Content-Type: image/jpeg",
                      "Content-Disposition: attachment;",
                      " filename*0*=utf-8''%s;" % q[:27],
                      " filename*1*=%s" % q[27:]]
        else:
            ctype = "text/xml" if name.endswith(".xml") else "image/jpeg"
            parts += ['Content-Type: %s; name="%s"' % (ctype, name),
                      'Content-Disposition: attachment; filename="%s"' % name]
        parts.append("Content-Transfer-Encoding: base64")
        parts.append("")
        s = b64(data).decode()
        parts += [s[i:i + 76] for i in range(0, len(s), 76)]
    parts += ["--" + bnd + "--", ""]
    send("\r\n".join(parts).encode("ascii"), OWNER)
    rec = wait_mail(OWNER, lambda x: template_is(x, "received") and
                    st["A"] not in subject(x), "received mail B")
    t = TAG_RE.search(subject(rec))
    expect(t is not None, "B: no tag: " + subject(rec))
    st["B"], st["tokenB"] = t.group(1), t.group(2)
    say("filing B %s received by mail (Outlook-style names)" % st["B"])

    # A spoofed withdrawal of B: the right tag, From not the owner.
    m = base(MALLORY, "Re: [%s %s]" % (st["B"], st["tokenB"]))
    m.attach(MIMEText("withdraw\n", "plain", "utf-8"))
    st["mids"].append(m["Message-ID"])
    send(m, MALLORY)
    ref = wait_mail(MALLORY, lambda x: template_is(x, "invalid"),
                    "SENDER_MISMATCH refusal")
    expect("SENDER_MISMATCH" in body(ref), "refusal without SENDER_MISMATCH:\n"
           + body(ref))
    expect(state_of(st["B"]) == "awaiting_verification",
           "the spoofed withdrawal moved B")
    say("spoofed withdrawal refused with SENDER_MISMATCH")

    # The owner's own withdrawal, a reply to the received mail.
    m = base(OWNER, "Re: " + subject(rec))
    m["In-Reply-To"] = str(rec["Message-ID"])
    m.attach(MIMEText("withdraw\n\n> %s\n" % body(rec).splitlines()[0],
                      "plain", "utf-8"))
    st["mids"].append(m["Message-ID"])
    send(m, OWNER)
    wait_state(st["B"], "withdrawn")
    say("B withdrawn by the owner's reply")


def phase2(st):
    ob0 = outbox_max()
    # An out-of-office answer and a DSN: no reply, ever.
    m = base(OWNER, "自动回复: 备案")
    m["Auto-Submitted"] = "auto-replied"
    m.attach(MIMEText("我正在休假。\n", "plain", "utf-8"))
    st["mids"].append(m["Message-ID"])
    send(m, OWNER)
    dmid = make_msgid(domain="example.test")
    dsn = "\r\n".join([
        "From: Mail Delivery System <MAILER-DAEMON@example.test>",
        "To: %s" % INTAKE,
        "Subject: Undelivered Mail Returned to Sender",
        "Message-ID: %s" % dmid,
        "Date: %s" % formatdate(localtime=True),
        "MIME-Version: 1.0",
        "Content-Type: multipart/report; report-type=delivery-status;",
        ' boundary="dsnb"',
        "",
        "--dsnb",
        "Content-Type: text/plain",
        "",
        "delivery failed",
        "--dsnb",
        "Content-Type: message/delivery-status",
        "",
        "Reporting-MTA: dns; example.test",
        "",
        "Final-Recipient: rfc822; x@example.test",
        "Action: failed",
        "Status: 5.1.1",
        "--dsnb--",
        ""]).encode("ascii")
    st["mids"].append(dmid)
    send(dsn, "")
    # A mail with no package: the help reply.
    m = base(OWNER, Header("请问如何备案", "gbk").encode())
    m.attach(MIMEText("请问如何提交备案？\n", "plain", "utf-8"))
    st["mids"].append(m["Message-ID"])
    send(m, OWNER)
    hm = wait_mail(OWNER, lambda x: template_is(x, "help"), "help reply")
    forms = [p for p in hm.walk() if p.get_filename() == "filing.xml"]
    expect(len(forms) == 1 and b'<filing xmlns="urn:beiand:filing:1"'
           in forms[0].get_payload(decode=True),
           "the help reply carries the blank filing.xml form")
    # Every mail so far processed, so every reply to them is in the
    # outbox: for the owner, the help reply alone (none to the automated
    # ones).  Then, the mailer done, the owner's mailbox holds every mail
    # the outbox sent to the owner, and nothing else.
    wait_processed(len(st["mids"]))
    rows = outbox_to(OWNER, ob0)
    expect([t for t, _ in rows] == ["help"],
           "mails queued to the owner for the automated ones + help: %s" % rows)
    wait_for(mailer_idle, "the mailer to hand every queued mail over")
    sent = len([1 for _, s in outbox_to(OWNER) if s == "sent"])
    wait_for(lambda: count(OWNER) >= sent, lambda: "%d mails in the owner's"
             " mailbox (it holds %d)" % (sent, count(OWNER)))
    expect(count(OWNER) == sent, "the owner's mailbox holds %d mails, the"
           " outbox sent %d" % (count(OWNER), sent))
    say("no reply to automated mail; help reply sent after a Dovecot restart")

    # The provider verifies A; the review request reaches the bureau.
    photo = os.path.join(BEIAND_DIR, "photo.jpg")
    scan = os.path.join(BEIAND_DIR, "scan.jpg")
    with open(photo, "wb") as f:
        f.write(fxlib.jpeg())
    with open(scan, "wb") as f:
        f.write(fxlib.jpeg(600, 800))
    ctl("verify", st["A"], "--pass", "--photo", photo, "--scan", scan)
    # beianctl queued it: the daemon's mailer finds it on its next pass
    # (at most a minute later when it has nothing else to do)
    req = wait_mail(BUREAU, lambda x: template_is(x, "review_request"),
                    "review request", timeout=90)
    r = REVIEW_RE.search(subject(req))
    expect(r is not None, "review request without [review:TOKEN]: "
           + subject(req))
    token = r.group(1)
    say("review request for %s with its token" % st["A"])

    # A reply with a wrong token changes nothing.
    wrong = "".join("ABCDEFGHJKMNPQRS"[("ABCDEFGHJKMNPQRS".find(c) + 1) % 16]
                    if c in "ABCDEFGHJKMNPQRS" else "A" for c in token)
    if wrong == token:
        wrong = "ZZZZZZZZZZZZZZZZ"
    m = base(BUREAU, "Re: " + subject(req).replace(token, wrong))
    m["In-Reply-To"] = str(req["Message-ID"])
    m.attach(MIMEText("APPROVE\n", "plain", "utf-8"))
    st["mids"].append(m["Message-ID"])
    send(m, BUREAU)
    wait_processed(len(st["mids"]))
    expect(state_of(st["A"]) == "under_review",
           "a wrong token moved A to " + state_of(st["A"]))
    say("a bureau reply with a wrong token changed nothing")

    # The bureau's reply: APPROVE on the first line, the request quoted.
    quoted = "\n".join("> " + l for l in body(req).splitlines()[:5])
    m = base(formataddr(("王五", BUREAU)), "Re: " + subject(req))
    m["In-Reply-To"] = str(req["Message-ID"])
    m["References"] = str(req["Message-ID"])
    m.attach(MIMEText("\nAPPROVE\n\n%s\n" % quoted, "plain", "utf-8"))
    st["mids"].append(m["Message-ID"])
    send(m, BUREAU)
    wait_state(st["A"], "approved")
    appr = wait_mail(OWNER, lambda x: template_is(x, "approved_owner"),
                     "approved_owner mail")
    text = body(appr)
    num = re.search(r"京ICP备\d+号", text)
    expect(num is not None, "approval mail without a number:\n" + text)
    expect(st["tokenA"] in subject(appr), "approval mail without the owner tag")
    pw = re.search(r"[A-Za-z0-9]{12}", text)
    expect(pw is not None, "approval mail without a password")
    say("approved by mail: %s, password mailed to the owner" % num.group(0))


def final(st):
    n = len(st["mids"])
    wait_processed(n)
    c = db()
    rows = c.execute("SELECT message_id, count(*) FROM mail_seen GROUP BY"
                     " message_id").fetchall()
    seen = {r[0]: r[1] for r in rows}
    for mid in st["mids"]:
        k = mid.strip("<>")
        expect(seen.get(k) == 1, "mail %s processed %s times" %
               (k, seen.get(k)))
    nf = c.execute("SELECT count(*) FROM filings").fetchone()[0]
    expect(nf == st.get("nfilings", 2), "%d filings, not %d" %
           (nf, st.get("nfilings", 2)))
    dup = c.execute("SELECT source, count(*) FROM events WHERE channel ="
                    " 'mail' AND to_state = 'received' GROUP BY source"
                    " HAVING count(*) > 1").fetchall()
    expect(not dup, "a mail filed twice: %s" % dup)
    say("%d mails, each processed once; %d filings; intake INBOX empty" %
        (n, nf))


def invalid(st):
    """A package with a wrong check character makes an invalid filing;
    the refusal to its sender is about that filing (its tracking id in
    the Message-ID, the filing in the outbox row)."""
    x = filing_xml(7).replace(uscc(7), uscc(7)[:-1] +
                              ("0" if uscc(7)[-1] != "0" else "1"))
    m = base(OWNER, "备案")
    m.attach(MIMEText("附件\n", "plain", "utf-8"))
    m.attach(MIMEApplication(fxlib.zip_bytes(fxlib.package_files(x)), "zip"))
    st["mids"].append(m["Message-ID"])
    send(m, OWNER)
    ref = wait_mail(OWNER, lambda y: template_is(y, "invalid") and
                    "CERT_NUMBER_INVALID" in body(y), "invalid-package refusal")
    mid = str(ref["Message-ID"])
    expect(re.match(r"<BA-\d{4}-\d{6}\.\d+\.invalid\.sender@", mid)
           is not None, "the refusal is not about the filing: " + mid)
    fid = mid[1:15]
    expect(state_of(fid) == "invalid", "%s is not invalid" % fid)
    c = db()
    row = c.execute("SELECT filing FROM outbox WHERE message_id = ?",
                    (mid,)).fetchone()
    expect(row is not None and row[0] == fid,
           "the refusal's outbox row names %r, not %s" % (row, fid))
    st["nfilings"] = st.get("nfilings", 2) + 1
    say("an invalid package by mail: filing %s, its refusal about it" % fid)


def large(st):
    """Over mail_max_bytes: refused unread (MAIL_TOO_LARGE to the envelope
    sender), left in the mailbox, and refused once only."""
    before = len([x for x in mails(OWNER) if template_is(x, "invalid")])
    m = base(OWNER, "big")
    m.attach(MIMEText("see attached\n", "plain", "utf-8"))
    m.attach(MIMEApplication(os.urandom(400 * 1024), "octet-stream"))
    send(m, OWNER)
    ref = wait_mail(OWNER, lambda x: template_is(x, "invalid") and
                    "MAIL_TOO_LARGE" in body(x) and
                    len([y for y in mails(OWNER)
                         if template_is(y, "invalid")]) > before,
                    "MAIL_TOO_LARGE refusal")
    expect(ref is not None, "no refusal")
    expect(count(INTAKE) == 1, "the large mail left the INBOX")
    st["large_refusals"] = before + 1
    say("a mail over mail_max_bytes refused with MAIL_TOO_LARGE, left on "
        "the server")


def large_again(st):
    # (it_intake.sh has waited for this run's first scan of the mailbox,
    # and checked that its log refused nothing: a refusal is decided and
    # logged as the mail is reported, before the scan ends)
    n = len([x for x in mails(OWNER) if template_is(x, "invalid")])
    expect(n == st["large_refusals"], "the large mail was refused %d times"
           % (n - st["large_refusals"] + 1))
    expect(count(INTAKE) == 1, "the large mail left the INBOX")
    say("after a restart the large mail is not refused again")


def uidv_prepare(st):
    """beiand stopped: the mailbox looks new to it (its stored UIDVALIDITY
    is another), and a processed mail is back in the INBOX, as after a
    server migration."""
    c = db()
    c.execute("UPDATE imap_state SET uidvalidity = uidvalidity + 1")
    c.commit()
    st["events"] = c.execute("SELECT count(*) FROM events").fetchone()[0]
    st["outbox"] = c.execute("SELECT count(*) FROM outbox").fetchone()[0]
    c.close()
    m = imap(INTAKE)
    m.select("Processed")
    typ, _ = m.uid("COPY", "1", "INBOX")
    expect(typ == "OK", "IMAP COPY back to INBOX")
    m.logout()
    expect(count(INTAKE) == 2, "INBOX: %d" % count(INTAKE))


def uidv_check(st):
    # The copy is moved once beiand has committed what it made of it; the
    # large one, seen before under this UIDVALIDITY, makes no job.  So
    # once the copy has gone, nothing more can come of either.
    wait_for(lambda: count(INTAKE) == 1, lambda: "the copy to be moved (INBOX"
             " holds %d)" % count(INTAKE))
    c = db()
    ev = c.execute("SELECT count(*) FROM events").fetchone()[0]
    ob = c.execute("SELECT count(*) FROM outbox").fetchone()[0]
    nf = c.execute("SELECT count(*) FROM filings").fetchone()[0]
    expect(ev == st["events"] and ob == st["outbox"] and
           nf == st.get("nfilings", 2),
           "reconciliation processed something again: events %d->%d, "
           "outbox %d->%d, filings %d" % (st["events"], ev, st["outbox"],
                                          ob, nf))
    say("after a UIDVALIDITY change, mails seen before (by Message-ID and "
        "hash) are moved, not processed again")


def main():
    path, phase = sys.argv[1], sys.argv[2]
    st = {"mids": []}
    if os.path.exists(path):
        with open(path) as f:
            st = json.load(f)
    {"phase1": phase1, "phase2": phase2, "final": final, "large": large,
     "large_again": large_again, "invalid": invalid,
     "uidv_prepare": uidv_prepare,
     "uidv_check": uidv_check}[phase](st)
    with open(path, "w") as f:
        json.dump(st, f)


if __name__ == "__main__":
    main()
