#!/usr/bin/python3
"""flood_flow: a mail flood against beiand (driven by it_flood.sh).

The mails are composed by Python's email package and go through the
private Postfix, envelope sender and From alike (a forger controls both),
into the intake mailbox of the private Dovecot.

  flood_flow.py STATE compose            the mails, as .eml files
  flood_flow.py STATE send GROUP         send a group through Postfix
                                         (packages | rest), wait until
                                         Dovecot holds them
  flood_flow.py STATE watch INBOX OUT    follow state_dir/inbox with
                                         inotify; OUT holds the most
                                         .eml files ever seen at once
  flood_flow.py STATE others             wait until every other sender's
                                         mail is processed; the flood waits
  flood_flow.py STATE window N           wait until N flood mails are
                                         processed (a moving sender_window)
  flood_flow.py STATE drained            every mail processed, exactly once
  flood_flow.py STATE caps [final]       what the forged address received
  flood_flow.py STATE retry              beianctl retry sends a capped mail

STATE is a JSON file carried between the steps.  Environment:
SRV_DIR, SRV_SMTP_PORT, SRV_IMAP_PORT, BEIAND_DIR, BEIANCTL, and
FLOOD_* for the sizes and limits it checks against.
"""
import ctypes
import email
import email.policy
import glob
import json
import os
import random
import re
import signal
import smtplib
import sqlite3
import struct
import subprocess
import sys
import threading
import time
import zipfile
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

HERE = os.path.dirname(os.path.abspath(__file__))
SRV_DIR = os.environ["SRV_DIR"]
BEIAND_DIR = os.environ["BEIAND_DIR"]
INTAKE = "intake@example.test"
VICTIM = "victim@victim-corp.cn"      # forged: the flood's From
FLOOD = int(os.environ.get("FLOOD_MAILS", "2000"))
FLOOD_PKGS = int(os.environ.get("FLOOD_PKGS", "40"))
OTHERS = int(os.environ.get("FLOOD_OTHERS", "50"))
PER_OTHER = int(os.environ.get("FLOOD_PER_OTHER", "10"))
SENDER_MAX = int(os.environ.get("FLOOD_SENDER_MAX", "30"))
INBOX_MAX = int(os.environ.get("FLOOD_INBOX_MAX", "20"))
REPLY_CAP = int(os.environ.get("FLOOD_REPLY_CAP", "5"))
RECIPIENT_MAX = int(os.environ.get("FLOOD_RECIPIENT_MAX", "10"))
MAILDIR = os.path.join(SRV_DIR, "mail")


def fail(msg):
    print("flood_flow: FAIL: " + msg, file=sys.stderr, flush=True)
    sys.exit(1)


def expect(cond, msg):
    if not cond:
        fail(msg)


def say(msg):
    print("flood_flow: " + msg, flush=True)


def other(i):
    return "other%02d@senders.example" % i


def load(path):
    with open(path) as f:
        return json.load(f)


def save(path, st):
    with open(path + ".tmp", "w") as f:
        json.dump(st, f)
    os.rename(path + ".tmp", path)


# ---- composing -------------------------------------------------------------


def packages(outdir, n):
    """n valid packages whose principal (the owner address) is VICTIM."""
    subprocess.run(["/usr/bin/python3",
                    os.path.join(HERE, "..", "bench", "gen_packages.py"),
                    outdir, str(n), "--first", "910000"], check=True,
                   stdout=subprocess.DEVNULL)
    out = []
    for p in sorted(glob.glob(os.path.join(outdir, "p*.zip"))):
        with zipfile.ZipFile(p) as z:
            files = {i.filename: z.read(i.filename) for i in z.infolist()}
        x = files["filing.xml"].decode()
        x, k = re.subn(r"(<principal>.*?<email>)[^<]+(</email>)",
                       r"\g<1>%s\g<2>" % VICTIM, x, count=1, flags=re.S)
        expect(k == 1, "no principal email in " + p)
        files["filing.xml"] = x.encode()
        with zipfile.ZipFile(p, "w") as z:
            for name, data in files.items():
                z.writestr(name, data)
        out.append(p)
    return out


def mail(frm, subject, body, attach=None):
    m = EmailMessage()
    m["From"] = frm
    m["To"] = INTAKE
    m["Subject"] = subject
    m["Date"] = formatdate(localtime=True)
    m["Message-ID"] = make_msgid(domain="mua.example")
    m.set_content(body)
    if attach is not None:
        with open(attach, "rb") as f:
            m.add_attachment(f.read(), maintype="application",
                             subtype="zip", filename=os.path.basename(attach))
    return m


def compose(path):
    top = os.path.dirname(path)
    mdir = os.path.join(top, "mails")
    os.makedirs(mdir, exist_ok=True)
    st = {"packages": [], "rest": [], "flood": [], "others": [],
          "mids": {}}

    def keep(group, name, m, envelope):
        f = os.path.join(mdir, name)
        with open(f, "wb") as fp:
            fp.write(m.as_bytes())
        st[group].append([f, envelope])
        st["mids"][m["Message-ID"]] = envelope

    for i, p in enumerate(packages(os.path.join(top, "pk"), FLOOD_PKGS)):
        m = mail("张三 <%s>" % VICTIM, "备案申请 %d" % i,
                 "请查收备案材料。\n", p)
        keep("packages", "flood-pkg-%03d.eml" % i, m, VICTIM)
        st["flood"].append(m["Message-ID"])
    rest = []
    for i in range(FLOOD - FLOOD_PKGS):
        m = mail(VICTIM, "how do I file? %d" % i,
                 "How do I file for an ICP licence? (%d)\n" % i)
        rest.append(("flood-help-%04d.eml" % i, m, VICTIM))
        st["flood"].append(m["Message-ID"])
    for s in range(OTHERS):
        for k in range(PER_OTHER):
            m = mail("Other %02d <%s>" % (s, other(s)), "question %d" % k,
                     "hello, how do I file? (%d-%d)\n" % (s, k))
            rest.append(("other-%02d-%02d.eml" % (s, k), m, other(s)))
            st["others"].append(m["Message-ID"])
    # the flood and the others interleaved, as they would arrive
    random.Random(17).shuffle(rest)
    for name, m, env in rest:
        keep("rest", name, m, env)
    save(path, st)
    say("composed %d flood mails (%d packages) and %d from %d others" %
        (len(st["flood"]), FLOOD_PKGS, len(st["others"]), OTHERS))


# ---- sending ----------------------------------------------------------------


def maildir_count(user, folder=""):
    base = os.path.join(MAILDIR, user, "Maildir", folder)
    n = 0
    for sub in ("new", "cur"):
        try:
            n += len(os.listdir(os.path.join(base, sub)))
        except FileNotFoundError:
            pass
    return n


def send(path, group):
    st = load(path)
    items = st[group]
    before = maildir_count("intake")
    port = int(os.environ["SRV_SMTP_PORT"])
    t0 = time.time()

    def run(part):
        with smtplib.SMTP("127.0.0.1", port) as s:
            for f, env in part:
                with open(f, "rb") as fp:
                    s.sendmail(env, [INTAKE], fp.read())

    # a few connections at once, as a spam run would use
    parts = [items[i::4] for i in range(4)]
    th = [threading.Thread(target=run, args=(p,)) for p in parts]
    for t in th:
        t.start()
    for t in th:
        t.join()
    # Dovecot holds them (those beiand took meanwhile moved to Processed)
    deadline = time.time() + 120
    while maildir_count("intake") + maildir_count("intake", ".Processed") < \
            before + len(items):
        expect(time.time() < deadline, "Postfix delivered %d of %d" %
               (maildir_count("intake") - before, len(items)))
        time.sleep(0.1)
    say("sent %d mails through Postfix in %.1f s" %
        (len(items), time.time() - t0))


# ---- the inbox watcher -------------------------------------------------------

IN_CREATE, IN_DELETE, IN_MOVED_FROM, IN_MOVED_TO = 0x100, 0x200, 0x40, 0x80
IN_Q_OVERFLOW = 0x4000
EML_RE = re.compile(r"^\d+-\d+\.eml$")


def watch(inbox, out):
    """Count the V-U.eml files of inbox at every change (inotify)."""
    libc = ctypes.CDLL("libc.so.6", use_errno=True)
    fd = libc.inotify_init1(0)
    expect(fd >= 0, "inotify_init1")
    wd = libc.inotify_add_watch(fd, inbox.encode(),
                                IN_CREATE | IN_DELETE | IN_MOVED_FROM |
                                IN_MOVED_TO)
    expect(wd >= 0, "inotify_add_watch %s" % inbox)
    names = set(n for n in os.listdir(inbox) if EML_RE.match(n))
    top = [len(names)]

    def write():
        with open(out + ".tmp", "w") as f:
            f.write("%d\n" % top[0])
        os.rename(out + ".tmp", out)

    def stop(*_):
        write()
        sys.exit(0)

    signal.signal(signal.SIGTERM, stop)
    write()
    while True:
        buf = os.read(fd, 65536)
        off = 0
        while off < len(buf):
            _, mask, _, ln = struct.unpack_from("iIII", buf, off)
            name = buf[off + 16:off + 16 + ln].rstrip(b"\0").decode()
            off += 16 + ln
            expect(not mask & IN_Q_OVERFLOW, "inotify queue overflow")
            if not EML_RE.match(name):
                continue
            if mask & (IN_CREATE | IN_MOVED_TO):
                names.add(name)
            elif mask & (IN_DELETE | IN_MOVED_FROM):
                names.discard(name)
        if len(names) > top[0]:
            top[0] = len(names)
            write()


# ---- what was processed ---------------------------------------------------------


def folder_mids(user, folder=""):
    """Message-IDs of the messages in a maildir folder, with repeats."""
    base = os.path.join(MAILDIR, user, "Maildir", folder)
    mids = []
    for sub in ("new", "cur"):
        d = os.path.join(base, sub)
        try:
            names = os.listdir(d)
        except FileNotFoundError:
            continue
        for n in names:
            try:
                with open(os.path.join(d, n), "rb") as f:
                    h = email.message_from_binary_file(
                        f, policy=email.policy.compat32, _class=None)
            except FileNotFoundError:
                continue  # moved meanwhile
            mids.append(str(h["Message-ID"]).strip())
    return mids


def processed(st):
    done = folder_mids("intake", ".Processed")
    flood = set(st["flood"])
    return (sum(1 for m in done if m in flood),
            sum(1 for m in done if m not in flood), done)


def wait_for(what, cond, timeout=120):
    deadline = time.time() + timeout
    while True:
        r = cond()
        if r:
            return r
        expect(time.time() < deadline, "timed out waiting for " + what)
        time.sleep(0.3)


def others_done(path):
    st = load(path)
    nothers = len(st["others"])
    t0 = time.time()
    wait_for("the others' mails",
             lambda: processed(st)[1] >= nothers, timeout=180)
    say("all %d mails of %d other senders processed in %.1f s" %
        (nothers, OTHERS, time.time() - t0))
    # the flood: its first sender_max taken, the rest left on the server
    wait_for("the flood's first %d" % SENDER_MAX,
             lambda: processed(st)[0] >= SENDER_MAX)
    nflood, nothers_done, done = processed(st)
    expect(nflood == SENDER_MAX, "%d flood mails processed, sender_max is %d"
           % (nflood, SENDER_MAX))
    expect(nothers_done == nothers, "%d others processed" % nothers_done)
    left = folder_mids("intake")
    flood = set(st["flood"])
    expect(len(left) == len(flood) - SENDER_MAX and
           all(m in flood for m in left),
           "INBOX holds %d mails, %d of the flood" %
           (len(left), sum(1 for m in left if m in flood)))
    expect(len(set(done)) == len(done), "a mail processed twice")
    say("the flood waits: %d processed, %d still on the server" %
        (nflood, len(left)))


def window(path, n):
    st = load(path)
    t0 = time.time()
    wait_for("%d flood mails" % n, lambda: processed(st)[0] >= n)
    say("%d flood mails processed %.1f s after the restart" %
        (processed(st)[0], time.time() - t0))


def drained(path):
    st = load(path)
    total = len(st["flood"]) + len(st["others"])
    wait_for("an empty INBOX", lambda: maildir_count("intake") == 0 and
             len(processed(st)[2]) >= total, timeout=180)
    done = processed(st)[2]
    expect(len(done) == total and set(done) == set(st["mids"]),
           "Processed holds %d mails (%d distinct) of %d" %
           (len(done), len(set(done)), total))
    db = sqlite3.connect(os.path.join(BEIAND_DIR, "var", "beiand.db"))
    seen = db.execute("SELECT count(*), count(DISTINCT message_id)"
                      " FROM mail_seen").fetchone()
    db.close()
    expect(seen == (total, total), "mail_seen: %r of %d" % (seen, total))
    say("drained: all %d mails processed exactly once" % total)


def caps(path, final):
    """What the forged address got: within reply_cap and recipient_max."""
    st = load(path)
    db = sqlite3.connect(os.path.join(BEIAND_DIR, "var", "beiand.db"),
                         timeout=10)
    # One read transaction: the outbox rows and the mails whose commit
    # made them, whatever order the flood reached the mailbox in (Postfix
    # delivers in parallel: the help mails may come before the packages).
    db.execute("BEGIN")
    rows = db.execute("SELECT template, state, last_reply FROM outbox"
                      " WHERE lower(rcpt) = ?", (VICTIM,)).fetchall()
    # (mail_seen keeps a Message-ID without its angle brackets)
    seen = set("<%s>" % r[0] for r in
               db.execute("SELECT message_id FROM mail_seen"))
    db.execute("COMMIT")
    db.close()
    pkg_mids = set(st["flood"][:FLOOD_PKGS])
    took_pkgs = sum(1 for m in st["flood"] if m in seen and m in pkg_mids)
    took_help = sum(1 for m in st["flood"] if m in seen and
                    m not in pkg_mids)
    by = {}
    for tpl, state, reply in rows:
        key = (tpl, "capped" if reply and reply.startswith("capped:")
               else state)
        by[key] = by.get(key, 0) + 1
    say("to the forged address: %s" %
        ", ".join("%s %s: %d" % (k[0], k[1], v) for k, v in sorted(by.items())))
    received = sum(v for k, v in by.items()
                   if k[0] == "received" and k[1] != "capped")
    capped = sum(v for k, v in by.items() if k[1] == "capped")
    replies = sum(v for k, v in by.items() if k[0] in ("help", "invalid"))
    expect(took_pkgs + took_help <= (SENDER_MAX if not final else FLOOD),
           "%d flood mails taken, sender_max is %d" %
           (took_pkgs + took_help, SENDER_MAX))
    expect(received == min(RECIPIENT_MAX, took_pkgs),
           "%d received mails not capped of %d packages taken, recipient_max "
           "is %d" % (received, took_pkgs, RECIPIENT_MAX))
    expect(by.get(("received", "capped"), 0) == took_pkgs - received,
           "capped: %r, %d packages taken" % (by, took_pkgs))
    expect(replies == min(REPLY_CAP, took_help), "%d refusals and help "
           "replies for %d help mails taken, reply_cap is %d" %
           (replies, took_help, REPLY_CAP))
    if final:
        expect(took_pkgs == FLOOD_PKGS, "packages taken: %d" % took_pkgs)
        expect(replies == REPLY_CAP, "help replies: %d" % replies)
    # and what Dovecot delivered to it: only what was sent
    sent = sum(v for k, v in by.items() if k[1] == "sent")
    wait_for("the forged address's mailbox",
             lambda: maildir_count("victim") >= sent)
    expect(maildir_count("victim") == sent, "the forged address holds %d "
           "mails, %d sent" % (maildir_count("victim"), sent))
    say("the forged address got %d mails (recipient_max %d, reply_cap %d); "
        "%d capped" % (sent, RECIPIENT_MAX, REPLY_CAP, capped))


def ctl(*args):
    p = subprocess.run([os.environ["BEIANCTL"], "-c",
                        os.path.join(BEIAND_DIR, "beiand.conf")] +
                       list(args), capture_output=True, text=True)
    expect(p.returncode == 0, "beianctl %s: %s%s" % (" ".join(args),
                                                    p.stdout, p.stderr))
    return p.stdout


def retry(path):
    """The operator sends one capped mail anyway: retry bypasses the cap."""
    failed = [json.loads(l) for l in
              ctl("outbox", "--failed", "--json").splitlines()]
    capped = [m for m in failed if (m["last_reply"] or "").startswith(
        "capped:")]
    expect(capped, "no capped mail in outbox --failed")
    m = capped[0]
    expect(m["to"] == VICTIM and m["template"] == "received",
           "capped: %r" % m)
    before = maildir_count("victim")
    ctl("retry", str(m["id"]))
    wait_for("the retried mail sent", lambda: [
        x for x in json.loads("[%s]" % ",".join(
            ctl("outbox", "--json").splitlines()))
        if x["id"] == m["id"]] == [] and maildir_count("victim") > before,
        timeout=90)
    expect(maildir_count("victim") == before + 1, "the forged address got "
           "%d mails after the retry, %d before" %
           (maildir_count("victim"), before))
    say("beianctl retry %d sent a capped mail: the cap is not applied to a "
        "retry" % m["id"])


def main():
    if len(sys.argv) < 3:
        fail(__doc__)
    path, cmd, args = sys.argv[1], sys.argv[2], sys.argv[3:]
    if cmd == "compose":
        compose(path)
    elif cmd == "send":
        send(path, args[0])
    elif cmd == "watch":
        watch(args[0], args[1])
    elif cmd == "others":
        others_done(path)
    elif cmd == "window":
        window(path, int(args[0]))
    elif cmd == "drained":
        drained(path)
    elif cmd == "caps":
        caps(path, args[:1] == ["final"])
    elif cmd == "retry":
        retry(path)
    else:
        fail("unknown step " + cmd)


if __name__ == "__main__":
    main()
