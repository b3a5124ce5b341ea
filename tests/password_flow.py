#!/usr/bin/python3
"""password_flow: no stranger can lock an owner out (driven by it_password.sh).

A subject is filed and approved with beianctl (its password mailed to
the owner through Postfix and read back over IMAP).  Then a stranger,
forging the owner's address as From (the envelope is the stranger's:
refusals go there), mails cancelSite requests with wrong passwords, more
than the old lockout allowed; each is refused with PASSWORD_WRONG.  The
owner, right after, cancels the site with the right password: accepted.
The owner's mailbox gets one password_failed notice (bilingual, naming
the subject, never the password tried); the metrics count the failures.
Mails are composed by Python's email package.  Environment: SRV_IMAP_PORT,
SRV_SMTP_PORT, BEIANCTL, BEIAND_DIR.
"""
import email
import email.policy
import imaplib
import json
import os
import re
import smtplib
import subprocess
import sys
import time
from email.message import EmailMessage
from email.utils import formataddr, formatdate, make_msgid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fxlib  # noqa: E402

IMAP_PORT = int(os.environ["SRV_IMAP_PORT"])
SMTP_PORT = int(os.environ["SRV_SMTP_PORT"])
BEIANCTL = os.environ["BEIANCTL"]
BEIAND_DIR = os.environ["BEIAND_DIR"]
INTAKE = "intake@example.test"
OWNER = "owner@example.test"
STRANGER = "mallory@example.test"
TRIES = 7  # the old lockout came after 5 a day
WRONG = "WrongPass234"


def fail(msg):
    print("password_flow: FAIL: " + msg, file=sys.stderr, flush=True)
    sys.exit(1)


def expect(cond, msg):
    if not cond:
        fail(msg)


def say(msg):
    print("password_flow: " + msg, flush=True)


def ctl(*args, rc=0):
    p = subprocess.run([BEIANCTL, "-c", os.path.join(BEIAND_DIR,
                        "beiand.conf")] + list(args), capture_output=True,
                       text=True)
    if rc is not None and p.returncode != rc:
        fail("beianctl %s: exit %d: %s%s" % (" ".join(args), p.returncode,
                                             p.stdout, p.stderr))
    return p.stdout


def mails(user):
    m = imaplib.IMAP4("127.0.0.1", IMAP_PORT)
    m.login(user, "secret")
    m.select("INBOX", readonly=True)
    _, data = m.search(None, "ALL")
    out = []
    for num in data[0].split():
        _, d = m.fetch(num, "(RFC822)")
        out.append(email.message_from_bytes(d[0][1],
                                            policy=email.policy.default))
    m.logout()
    return out


def template_is(msg, tpl):
    return (".%s." % tpl) in str(msg["Message-ID"] or "")


def text(msg):
    part = msg.get_body(preferencelist=("plain",))
    return part.get_content() if part is not None else ""


def wait(what, cond, timeout=60):
    end = time.time() + timeout
    while time.time() < end:
        r = cond()
        if r:
            return r
        time.sleep(0.3)
    fail("timed out waiting for " + what)


def cancel_mail(frm, subject_licence, site_licence, password):
    xml = ("<filing xmlns='urn:beiand:filing:1' type='cancelSite' mode='self'>"
           "<province>11</province><subjectLicence>%s</subjectLicence>"
           "<siteLicence>%s</siteLicence><password>%s</password></filing>\n"
           % (subject_licence, site_licence, password))
    m = EmailMessage()
    m["From"] = frm
    m["To"] = INTAKE
    m["Subject"] = "注销网站 / cancel a website"
    m["Date"] = formatdate(localtime=True)
    m["Message-ID"] = make_msgid(domain="mua.example")
    m.set_content("请注销网站。\n")
    m.add_attachment(xml.encode(), maintype="application", subtype="xml",
                     filename="filing.xml")
    return m


def send(m, envelope):
    with smtplib.SMTP("127.0.0.1", SMTP_PORT) as s:
        s.sendmail(envelope, [INTAKE], m.as_bytes())


def filings():
    return [json.loads(l) for l in ctl("list", "--json").splitlines()]


def main():
    top = BEIAND_DIR
    # ---- an approved subject, its password mailed to the owner ----------
    xml = fxlib.good_filing_xml().replace("zhangsan@example.cn", OWNER)
    pkg = os.path.join(top, "first.zip")
    with open(pkg, "wb") as f:
        f.write(fxlib.zip_bytes(fxlib.package_files(xml)))
    out = ctl("submit", "--provider", "P001", pkg)
    fid = re.search(r"(BA-\d{4}-\d{6,7}): awaiting_verification", out)
    expect(fid is not None, "submit: " + out)
    fid = fid.group(1)
    photo, scan = os.path.join(top, "photo.jpg"), os.path.join(top, "scan.jpg")
    with open(photo, "wb") as f:
        f.write(fxlib.jpeg())
    with open(scan, "wb") as f:
        f.write(fxlib.jpeg(600, 800))
    ctl("verify", fid, "--pass", "--photo", photo, "--scan", scan)
    ctl("review", fid, "--approve")
    show = json.loads(ctl("show", fid, "--json").splitlines()[0])
    subj = show["subject_licence"]
    site = show["websites"][0]["site_licence"]
    appr = wait("the approval mail", lambda: [m for m in mails("owner")
                if template_is(m, "approved_owner")])[0]
    pw = re.search(r"备案密码：\s*(\S{12})\s", text(appr))
    expect(pw is not None, "no password in the approval mail")
    pw = pw.group(1)
    say("%s approved: %s, password mailed to the owner" % (fid, subj))

    # ---- a stranger, forging the owner's From, many wrong passwords -------
    before = len(filings())
    for i in range(TRIES):
        send(cancel_mail(formataddr(("张三", OWNER)), subj, site, WRONG),
             STRANGER)
    wait("the forged requests refused", lambda: len(filings()) >=
         before + TRIES)
    bad = [f for f in filings()[before:]]
    expect(all(f["state"] == "invalid" for f in bad),
           "forged requests: %r" % bad)
    for f in bad:
        errs = json.loads(ctl("show", f["id"], "--json").splitlines()[0])
        codes = [e["code"] for e in errs["errors"]]
        expect(codes == ["PASSWORD_WRONG"], "%s: %r" % (f["id"], codes))
    say("%d forged cancelSite mails refused with PASSWORD_WRONG" % TRIES)

    # ---- the owner, right after: not locked out ---------------------------
    send(cancel_mail(formataddr(("张三", OWNER)), subj, site, pw), OWNER)
    wait("the owner's request", lambda: len(filings()) >= before + TRIES + 1)
    mine = filings()[-1]
    expect(mine["state"] == "awaiting_verification",
           "the owner's cancelSite: %r" % mine)
    say("the owner's own cancelSite with the right password: %s %s" %
        (mine["id"], mine["state"]))

    # ---- the owner was told once, without the password tried --------------
    notes = wait("the password_failed notice", lambda: [
        m for m in mails("owner") if template_is(m, "password_failed")])
    # the owner's received mail comes after it: by then all are sent
    wait("the owner's received mail", lambda: [
        m for m in mails("owner") if template_is(m, "received")])
    notes = [m for m in mails("owner") if template_is(m, "password_failed")]
    expect(len(notes) == 1, "%d password_failed notices" % len(notes))
    n = notes[0]
    body = text(n)
    raw = n.as_string()
    expect(WRONG not in raw and pw not in raw,
           "the notice shows a password")
    expect(subj in body, "the notice does not name the subject")
    expect(body.find("您好") < body.find("Hello"), "not zh-CN first")
    expect(" / " in str(n["Subject"]), "subject not bilingual")
    say("the owner was told once: %s" % n["Subject"])


if __name__ == "__main__":
    main()
