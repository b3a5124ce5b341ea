"""ctl_flow: beianctl's store verbs from the command line (DESIGN.md,
Command line): the four-stage flow, the return loops, refusals and exit
statuses, the JSON keys, import, password-reset, quarantine, backup.

Usage: ctl_flow.py BUILD_DIR.  Runs build/beianctl against a temporary
configuration; any mismatch stops the run with a message and exit 1.
"""
import json
import os
import re
import shutil
import sqlite3
import stat
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import fxlib  # noqa: E402

B = sys.argv[1] if len(sys.argv) > 1 else "build"
CTL = os.path.abspath(os.path.join(B, "beianctl"))
TIME_RE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+08:00$")
ID_RE = re.compile(r"^(BA-(\d{4})-\d{6}): (\w+)$", re.M)

LIST_KEYS = ["id", "state", "type", "mode", "province", "provider", "owner",
             "created", "updated"]
SHOW_KEYS = LIST_KEYS + ["sponsor", "websites", "subject_licence", "errors",
                         "events"]
OUTBOX_KEYS = ["id", "filing", "to", "template", "state", "attempts",
               "last_reply", "next_try", "message_id"]
STATES = ["received", "invalid", "awaiting_verification", "returned_to_owner",
          "under_review", "returned_to_provider", "approved", "withdrawn"]

checks = 0


def fail(msg):
    print("FAIL: " + msg)
    sys.exit(1)


def expect(cond, msg):
    global checks
    checks += 1
    if not cond:
        fail(msg)


class Env:
    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="beiand-ctl-")
        self.conf = os.path.join(self.dir, "beiand.conf")
        with open(self.conf, "w") as f:
            f.write("[daemon]\nspool_dir = spool\nstate_dir = var\n"
                    "[smtp]\nfrom = beian@provider.example\n"
                    "[bureau.11]\naddresses = review@bureau.example\n"
                    "record_to = records@bureau.example\n"
                    "[provider.P001]\nname = 示例网络科技有限公司\n"
                    "email = filing@p001.example\n"
                    "ip_ranges = 203.0.113.0/24, 2001:db8::/32\n"
                    "[provider.P002]\nname = 另一家\n"
                    "email = filing@p002.example\n"
                    "ip_ranges = 198.51.100.0/24\n")
        self.db = os.path.join(self.dir, "var", "beiand.db")

    def path(self, name):
        return os.path.join(self.dir, name)

    def write(self, name, data):
        p = self.path(name)
        os.makedirs(os.path.dirname(p), exist_ok=True)
        with open(p, "wb") as f:
            f.write(data if isinstance(data, bytes) else data.encode())
        return p

    def run(self, *args, rc=None):
        env = dict(os.environ, BEIAND_PWHASH_FAST="1")
        env.pop("SUDO_USER", None)
        p = subprocess.run([CTL, "-c", self.conf] + list(args),
                           capture_output=True, env=env, cwd=self.dir)
        out = p.stdout.decode("utf-8", "replace")
        err = p.stderr.decode("utf-8", "replace")
        if rc is not None and p.returncode != rc:
            fail("beianctl %s: exit %d, wanted %d\nstdout:\n%s\nstderr:\n%s"
                 % (" ".join(args), p.returncode, rc, out, err))
        if "AddressSanitizer" in err or "runtime error" in err:
            fail("beianctl %s: sanitizer report\n%s" % (" ".join(args), err))
        return p.returncode, out, err

    def json_lines(self, *args):
        _, out, _ = self.run(*args, rc=0)
        try:
            return [json.loads(l) for l in out.splitlines() if l.strip()]
        except ValueError as e:
            fail("beianctl %s: not JSON lines (%s):\n%s"
                 % (" ".join(args), e, out))

    def sql(self, q, *params):
        c = sqlite3.connect(self.db, timeout=60)
        try:
            rows = c.execute(q, params).fetchall()
            c.commit()
            return rows
        finally:
            c.close()

    def show(self, fid):
        v = self.json_lines("show", fid, "--json")
        expect(len(v) == 1, "show --json prints one object")
        return v[0]

    def outbox(self, fid=None, failed=False):
        args = ["outbox", "--json"] + (["--failed"] if failed else [])
        return [m for m in self.json_lines(*args)
                if fid is None or m["filing"] == fid]


def keys_exact(obj, keys, what):
    expect(list(obj.keys()) == keys,
           "%s keys %s, wanted %s" % (what, list(obj.keys()), keys))


def with_id(xml, fid):
    new = xml.replace('<filing xmlns="urn:beiand:filing:1"',
                      '<filing xmlns="urn:beiand:filing:1" id="%s"' % fid, 1)
    expect(new != xml, "could not put @id into filing.xml")
    return new


def package(env, name, xml, **kw):
    return env.write(name, fxlib.zip_bytes(fxlib.package_files(xml, **kw)))


def submitted(out, fid=None, state=None):
    m = ID_RE.search(out)
    expect(m is not None, "submit printed no 'BA-…: STATE' line:\n" + out)
    if fid is not None:
        expect(m.group(1) == fid, "submit acted on %s, not %s"
               % (m.group(1), fid))
    if state is not None:
        expect(m.group(3) == state, "%s is %s, wanted %s"
               % (m.group(1), m.group(3), state))
    return m.group(1), m.group(2)


def state_of(env, fid):
    return env.show(fid)["state"]


def refused(env, code, *args, rc=1):
    """Run a command that must be refused with ID: CODE: message."""
    _, out, _ = env.run(*args, rc=rc)
    expect(re.search(r"^\S+: %s: \S" % code, out, re.M) is not None,
           "beianctl %s: no '%s' line in:\n%s" % (" ".join(args), code, out))


def main():
    if not os.access(CTL, os.X_OK):
        fail("%s not built" % CTL)
    env = Env()
    try:
        flow(env)
        users(env)
    finally:
        shutil.rmtree(env.dir, ignore_errors=True)
    print("ctl_flow: %d checks passed" % checks)


def flow(env):
    good = fxlib.good_filing_xml()
    photo = env.write("photo.jpg", fxlib.jpeg())
    scan = env.write("scan.jpg", fxlib.jpeg(600, 800))
    broken = env.write("broken.jpg", fxlib.jpeg()[:200])

    # ---- stage 1: a new filing ---------------------------------------
    _, out, _ = env.run("submit", package(env, "a.zip", good), rc=0)
    A, year = submitted(out, state="awaiting_verification")
    subj = "京ICP备%s000001号" % year

    # usage and unknown ids
    env.run("review", A, rc=2)
    env.run("review", A, "--approve", "--reject", "X:y", rc=2)
    env.run("verify", A, "--pass", "--photo", photo, rc=2)
    env.run("verify", A, "--return", rc=2)
    env.run("verify", A, "--return", "no-equals-sign", rc=2)
    env.run("list", "--state", "bogus", rc=2)
    env.run("frobnicate", rc=2)
    unknown = "BA-2000-999999"
    for args in (["show", unknown], ["show", unknown, "--json"],
                 ["withdraw", unknown], ["review", unknown, "--approve"],
                 ["handback", unknown],
                 ["verify", unknown, "--pass", "--photo", photo,
                  "--scan", scan],
                 ["verify", unknown, "--return", "/=X:y"]):
        refused(env, "TRACKING_ID_UNKNOWN", *args, rc=3)

    # a refused transition changes nothing
    refused(env, "WRONG_STATE", "review", A, "--approve")
    refused(env, "WRONG_STATE", "handback", A)
    expect(state_of(env, A) == "awaiting_verification", "refusal moved it")

    # ---- stage 2: the provider returns it, the owner corrects it ---------
    _, out, _ = env.run("verify", A, "--return",
                        "/filing/sponsor/principal/name=NAME_MISMATCH:与证件不符",
                        rc=0)
    expect(out.strip() == "%s: returned_to_owner" % A, "verify --return: " + out)
    s = env.show(A)
    expect(s["state"] == "returned_to_owner", "not returned_to_owner")
    expect([(e["path"], e["code"], e["message"]) for e in s["errors"]] ==
           [("/filing/sponsor/principal/name", "NAME_MISMATCH", "与证件不符")],
           "return issues: %r" % s["errors"])
    expect(any(m["template"] == "returned_to_owner" and
               m["to"] == "zhangsan@example.cn" for m in env.outbox(A)),
           "no returned_to_owner mail to the owner")
    refused(env, "WRONG_STATE", "verify", A, "--return", "/=X:again")

    _, out, _ = env.run("submit", package(env, "a2.zip", with_id(good, A)),
                        rc=0)
    submitted(out, A, "awaiting_verification")
    expect(env.show(A)["errors"] == [], "resubmission kept old errors")

    # ---- stage 3: verified face to face ----------------------------------
    _, out, _ = env.run("verify", A, "--pass", "--photo", broken,
                        "--scan", scan, rc=1)
    expect(re.search(r"^%s: PHOTO_(CORRUPT|FORMAT): " % A, out, re.M),
           "broken photo not refused with a photo code:\n" + out)
    expect(state_of(env, A) == "awaiting_verification", "bad photo moved it")
    _, out, _ = env.run("verify", A, "--pass", "--photo", photo, "--scan",
                        scan, "--verifier", "李四", rc=0)
    expect(out.strip() == "%s: under_review" % A, "verify --pass: " + out)
    kinds = sorted(k for (k,) in env.sql(
        "SELECT kind FROM filing_attachments WHERE filing = ?", A))
    for k in ("checklist_scan", "onsite_photo", "package", "verification"):
        expect(k in kinds, "attachment %s not kept: %r" % (k, kinds))
    rec = env.sql("SELECT fa.sha256 FROM filing_attachments fa WHERE"
                  " fa.filing = ? AND fa.kind = 'verification'", A)[0][0]
    with open(os.path.join(env.dir, "var", "store", rec[:2], rec), "rb") as f:
        body = f.read().decode()
    expect('result="pass"' in body and "李四" in body and A in body,
           "stored verification record:\n" + body)
    expect(any(m["template"] == "review_request" and
               m["to"] == "review@bureau.example" for m in env.outbox(A)),
           "no review_request to the bureau")

    # ---- stage 4: the bureau rejects, the provider corrects --------------
    _, out, _ = env.run("review", A, "--reject",
                        "DOMAIN_OWNER_MISMATCH:域名持有者与主办单位不一致",
                        "--reviewer", "王五", rc=0)
    expect(out.strip() == "%s: returned_to_provider" % A, "reject: " + out)
    s = env.show(A)
    expect([(e["path"], e["code"]) for e in s["errors"]] ==
           [("/", "DOMAIN_OWNER_MISMATCH")], "reject reason: %r" % s["errors"])
    expect(any(m["template"] == "returned_to_provider" and
               m["to"] == "filing@p001.example" for m in env.outbox(A)),
           "no returned_to_provider mail")
    # another provider cannot move it (its IP ranges do not match: an
    # invalid attempt, recorded as an event from = to)
    _, out, _ = env.run("submit", "--provider", "P002",
                        package(env, "a3x.zip", with_id(good, A)), rc=1)
    expect("NOT_YOUR_FILING" in out or "IP_NOT_PROVIDER" in out,
           "P002 resubmitted P001's filing:\n" + out)
    expect(state_of(env, A) == "returned_to_provider", "P002 moved it")
    _, out, _ = env.run("submit", "--provider", "P001",
                        package(env, "a3.zip", with_id(good, A)), rc=0)
    submitted(out, A, "under_review")
    rounds = env.sql("SELECT count(*) FROM review_tokens WHERE filing = ?", A)
    expect(rounds[0][0] == 2, "new review round: %r" % rounds)
    expect(sum(m["template"] == "review_request" for m in env.outbox(A)) == 2,
           "second review request not queued")

    # ---- handback: the bureau's reason goes on to the owner -------------
    env.run("review", A, "--reject", "SITE_NAME_INVALID:网站名称不符", rc=0)
    _, out, _ = env.run("handback", A, rc=0)
    expect(out.strip() == "%s: returned_to_owner" % A, "handback: " + out)
    s = env.show(A)
    expect([(e["path"], e["code"], e["message"]) for e in s["errors"]] ==
           [("/", "SITE_NAME_INVALID", "网站名称不符")],
           "handback lost the bureau's reason: %r" % s["errors"])
    owner_returns = [m for m in env.outbox(A)
                     if m["template"] == "returned_to_owner"]
    expect(len(owner_returns) == 2, "handback mail: %r" % owner_returns)

    _, out, _ = env.run("submit", package(env, "a4.zip", with_id(good, A)),
                        rc=0)
    submitted(out, A, "awaiting_verification")

    # verify --record: a record and the files beside it
    rec = fxlib.example("BA-2026-000123.verification.xml").decode()
    env.write("rec/other.verification.xml", rec)
    env.write("rec/onsite.jpg", fxlib.jpeg())
    env.write("rec/checklist.jpg", fxlib.jpeg(500, 700))
    env.run("verify", A, "--record", env.path("rec/other.verification.xml"),
            rc=2)  # a record about another filing
    env.write("rec/a.verification.xml", rec.replace("BA-2026-000123", A))
    env.write("norec/a.verification.xml", rec.replace("BA-2026-000123", A))
    refused(env, "ATTACHMENT_MISSING", "verify", A, "--record",
            env.path("norec/a.verification.xml"))
    _, out, _ = env.run("verify", A, "--record",
                        env.path("rec/a.verification.xml"), rc=0)
    expect(out.strip() == "%s: under_review" % A, "verify --record: " + out)

    # approval
    env.run("review", A, "--approve", rc=0)
    s = env.show(A)
    expect(s["state"] == "approved", "not approved")
    expect(s["subject_licence"] == subj, "subject licence %r, wanted %r"
           % (s["subject_licence"], subj))
    expect(len(s["websites"]) == 1 and
           s["websites"][0]["site_licence"] == subj + "-1" and
           s["websites"][0]["domains"] == ["example.cn"],
           "websites: %r" % s["websites"])
    keys_exact(s["websites"][0], ["name", "domains", "site_licence"],
               "show websites[]")
    keys_exact(s["sponsor"], ["name", "nature", "cert_type", "cert_number"],
               "show sponsor")
    expect(s["sponsor"]["cert_number"] == "91110108MA01XY3K34", "sponsor")
    mails = {m["template"]: m for m in env.outbox(A)}
    for t, to in (("approved_owner", "zhangsan@example.cn"),
                  ("approved_provider", "filing@p001.example"),
                  ("approved_bureau", "records@bureau.example")):
        expect(t in mails and mails[t]["to"] == to,
               "%s to %s missing: %r" % (t, to, mails.get(t)))
    secret = env.sql("SELECT secret FROM outbox WHERE filing = ? AND"
                     " template = 'approved_owner'", A)
    expect(len(secret) == 1 and secret[0][0] is not None and
           re.match(r"^[2-9A-HJ-NP-Za-km-z]{12}$", secret[0][0]),
           "approved_owner secret: %r" % secret)
    expect(env.sql("SELECT count(*) FROM outbox WHERE secret IS NOT NULL"
                   " AND template <> 'approved_owner'")[0][0] == 0,
           "a secret in another mail")
    refused(env, "WRONG_STATE", "withdraw", A)
    refused(env, "WRONG_STATE", "review", A, "--reject", "X:y")

    # the events: operator at the CLI, first one from null
    ev = s["events"]
    expect(ev[0]["from"] is None and ev[0]["to"] == "received",
           "first event: %r" % ev[0])
    for e in ev:
        keys_exact(e, ["at", "actor", "actor_kind", "channel", "from", "to",
                       "reason", "origin"], "show events[]")
        expect(e["origin"] is None, "a CLI event has no origin: %r" % e)
        expect(TIME_RE.match(e["at"]), "event time %r" % e["at"])
        expect(e["channel"] == "cli", "event channel %r" % e)
        expect(e["actor_kind"] in ("operator", "system"), "actor %r" % e)
    moves = [(e["from"], e["to"]) for e in ev]
    want = [(None, "received"), ("received", "awaiting_verification"),
            ("awaiting_verification", "returned_to_owner"),
            ("returned_to_owner", "awaiting_verification"),
            ("awaiting_verification", "under_review"),
            ("under_review", "returned_to_provider"),
            ("returned_to_provider", "returned_to_provider"),
            ("returned_to_provider", "under_review"),
            ("under_review", "returned_to_provider"),
            ("returned_to_provider", "returned_to_owner"),
            ("returned_to_owner", "awaiting_verification"),
            ("awaiting_verification", "under_review"),
            ("under_review", "approved")]
    expect(moves == want, "events:\n%r\nwanted\n%r" % (moves, want))
    expect(all(e["actor_kind"] == "operator" for e in ev
               if e["to"] in ("under_review", "approved",
                              "returned_to_provider", "returned_to_owner")),
           "decisions not by the operator")
    keys_exact(s, SHOW_KEYS, "show")

    # ---- an invalid package; withdrawal ---------------------------------
    _, out, _ = env.run("submit", package(env, "bad.zip", good,
                                          drop=("license.jpg",)), rc=1)
    bad, _ = submitted(out, state="invalid")
    refused(env, "WRONG_STATE", "withdraw", bad)

    # ---- import, then addSite on the imported subject ---------------------
    csv = ("\ufeffsubject_licence,site_licence,sponsor_name,cert_type,"
           "cert_number,domains,owner_email,providers\r\n"
           '京ICP备2020000123号,京ICP备2020000123号-1,"旧公司, 有限",uscc,'
           "91110000717800000X,old-example.com,li@old.example,P001\r\n"
           "京ICP备2020000124号,京ICP备2020000125号-1,x,uscc,Y1,a-x.com,"
           "x@y.example,P001\r\n"
           "京ICP备2020000126号,京ICP备2020000126号-1,z,uscc,Z1,"
           "old-example.com,z@y.example,P001\r\n")
    _, out, _ = env.run("import", env.write("imp.csv", csv), rc=1)
    expect(re.search(r"^3: LICENCE_FORMAT: ", out, re.M),
           "import row 3 not refused:\n" + out)
    expect(re.search(r"^4: DOMAIN_CONFLICT: ", out, re.M),
           "import row 4 not refused:\n" + out)
    expect("imported 1 of 3 rows" in out, "import count:\n" + out)
    env.run("import", env.write("hdr.csv", "a,b\n"), rc=2)
    expect(env.sql("SELECT count(*) FROM subjects WHERE licence ="
                   " '京ICP备2020000123号'")[0][0] == 1, "subject imported")

    news = fxlib.example("news-site.xml").decode().replace(
        "京ICP备2026000001号", "京ICP备2020000123号")
    _, out, _ = env.run("submit", "--provider", "P001",
                        package(env, "add.zip", news), rc=0)
    Bid, _ = submitted(out, state="awaiting_verification")
    expect(env.show(Bid)["owner"] == "li@old.example", "addSite owner")
    _, out, _ = env.run("withdraw", Bid, rc=0)
    expect(out.strip() == "%s: withdrawn" % Bid, "withdraw: " + out)
    w = [m["to"] for m in env.outbox(Bid) if m["template"] == "withdrawn"]
    expect(sorted(w) == ["filing@p001.example", "li@old.example"],
           "withdrawn mails: %r" % w)
    refused(env, "WRONG_STATE", "withdraw", Bid)

    _, out, _ = env.run("submit", "--provider", "P001",
                        package(env, "add2.zip", news), rc=0)
    B2, _ = submitted(out, state="awaiting_verification")
    env.run("verify", B2, "--pass", "--photo", photo, "--scan", scan, rc=0)
    env.run("review", B2, "--approve", rc=0)
    s = env.show(B2)
    expect(s["state"] == "approved" and
           s["websites"][0]["site_licence"] == "京ICP备2020000123号-2",
           "addSite on the imported subject: %r" % s["websites"])
    expect(env.sql("SELECT secret FROM outbox WHERE filing = ? AND"
                   " template = 'approved_owner'", B2)[0][0] is None,
           "an addSite approval issued a password")

    # ---- password-reset ------------------------------------------------------
    _, out, _ = env.run("password-reset", "京ICP备2020000123号", rc=0)
    row = env.sql("SELECT rcpt, secret, state FROM outbox WHERE"
                  " template = 'password_reset'")
    expect(len(row) == 1 and row[0][0] == "li@old.example" and
           row[0][2] == "queued" and row[0][1] is not None and
           re.match(r"^[2-9A-HJ-NP-Za-km-z]{12}$", row[0][1]),
           "password_reset mail: %r" % row)
    expect(env.sql("SELECT password_hash IS NOT NULL FROM subjects WHERE"
                   " licence = '京ICP备2020000123号'")[0][0] == 1,
           "no password hash after the reset")
    refused(env, "LICENCE_UNKNOWN", "password-reset", "京ICP备2020000999号",
            rc=3)

    # ---- outbox, retry ---------------------------------------------------------
    mails = env.outbox()
    for m in mails:
        keys_exact(m, OUTBOX_KEYS, "outbox")
        expect(isinstance(m["id"], int) and isinstance(m["attempts"], int),
               "outbox id/attempts not numbers: %r" % m)
        expect(TIME_RE.match(m["next_try"]), "next_try %r" % m["next_try"])
        expect(m["state"] != "sent", "outbox shows a sent mail")
    mid = mails[0]["id"]
    refused(env, "WRONG_STATE", "retry", str(mid))
    expect(env.outbox(failed=True) == [], "outbox --failed not empty")
    env.sql("UPDATE outbox SET state = 'failed', last_reply = '550 no'"
            " WHERE id = %d" % mid)
    fl = env.outbox(failed=True)
    expect(len(fl) == 1 and fl[0]["id"] == mid and
           fl[0]["last_reply"] == "550 no", "outbox --failed: %r" % fl)
    env.run("retry", str(mid), rc=0)
    expect(env.sql("SELECT state FROM outbox WHERE id = ?", mid)[0][0] ==
           "queued", "retry did not queue it")
    refused(env, "TRACKING_ID_UNKNOWN", "retry", "999999", rc=3)
    env.run("retry", "abc", rc=2)

    # ---- quarantine, requeue ------------------------------------------------------
    q = env.write("spool/quarantine/q1.zip", b"PK\x03\x04broken")
    env.write("spool/quarantine/q1.zip.reason", "ARCHIVE_CORRUPT\n")
    os.makedirs(env.path("spool/providers/P001/incoming"), exist_ok=True)
    env.sql("INSERT INTO quarantine(item, source, at, reason) VALUES"
            " ('q1.zip', 'providers/P001/incoming/q1.zip', 1795000000,"
            " 'ARCHIVE_CORRUPT')")
    c = sqlite3.connect(env.db)
    c.execute("INSERT INTO recent_errors(at, source, code, message) VALUES"
              " (1795000000, 'spool:P001', 'ARCHIVE_CORRUPT', 'x')")
    c.commit()
    c.close()
    ql = env.json_lines("quarantine", "--json")
    expect(len(ql) == 1, "quarantine --json: %r" % ql)
    keys_exact(ql[0], ["item", "source", "at", "reason"], "quarantine")
    expect(ql[0]["item"] == "q1.zip" and
           ql[0]["at"] == "2026-11-18T19:06:40+08:00",
           "quarantine row: %r" % ql[0])

    # ---- status ------------------------------------------------------------------
    # a limit the daemon holds intake at (it writes the row; here by hand)
    env.sql("INSERT INTO limits(name, since, detail) VALUES"
            " ('sender_max', 1795000000, '1 From addresses over sender_max')")
    st = env.json_lines("status", "--json")
    expect(len(st) == 1, "status --json prints one object")
    st = st[0]
    keys_exact(st, ["filings", "outbox", "quarantine", "channels",
                    "recent_errors", "limits"], "status")
    expect(st["limits"] == [{"name": "sender_max",
                             "since": "2026-11-18T19:06:40+08:00",
                             "detail": "1 From addresses over sender_max"}],
           "status limits: %r" % st["limits"])
    # no [imap] or [smtp] url: no channel in use
    expect(st["channels"] == [], "status channels: %r" % st["channels"])
    expect(sorted(st["filings"]) == sorted(STATES), "status filings keys")
    all_list = env.json_lines("list", "--json")
    for k in STATES:
        n = sum(1 for f in all_list if f["state"] == k)
        expect(st["filings"][k] == n, "status %s = %d, list has %d"
               % (k, st["filings"][k], n))
    expect(st["quarantine"] == 1, "status quarantine")
    expect(sum(st["outbox"].values()) ==
           env.sql("SELECT count(*) FROM outbox")[0][0], "status outbox")
    expect(len(st["recent_errors"]) == 1, "recent errors")
    keys_exact(st["recent_errors"][0], ["at", "source", "code", "message"],
               "status recent_errors[]")
    _, out, _ = env.run("status", rc=0)
    expect("sender_max since 2026-11-18T19:06:40+08:00: 1 From addresses"
           in out, "status limits: %s" % out)
    # the channels in use, as the daemon recorded them: smtp failing, imap
    # never tried (ok, since null)
    env.sql("INSERT INTO channels(name, state, reason, since) VALUES"
            "('smtp', 'failing', 'certificate of mail.example.net refused"
            " (x)\x1b[31m', 1795000000)")
    with_urls = env.path("urls.conf")
    with open(env.conf) as f, open(with_urls, "w") as g:
        g.write(f.read().replace(
            "[smtp]\n", "[smtp]\nurl = smtp://mail.example.net:25\n").replace(
            "[daemon]\n", "[imap]\nurl = imap://u:p@mail.example.net/INBOX\n"
            "[daemon]\n"))
    _, out, _ = env.run("-c", with_urls, "status", "--json", rc=0)
    ch = json.loads(out)["channels"]
    expect(len(ch) == 2, "two channels: %r" % ch)
    for c in ch:
        keys_exact(c, ["name", "state", "reason", "since"], "channels[]")
    expect(ch[0] == {"name": "imap", "state": "ok", "reason": "",
                     "since": None}, "imap channel: %r" % ch[0])
    expect(ch[1] == {"name": "smtp", "state": "failing",
                     "reason": "certificate of mail.example.net refused"
                               " (x)\x1b[31m",
                     "since": "2026-11-18T19:06:40+08:00"},
           "smtp channel: %r" % ch[1])
    _, out, _ = env.run("-c", with_urls, "status", rc=0)
    expect("  smtp                   failing since 2026-11-18T19:06:40+08:00:"
           " certificate of mail.example.net refused (x)\\x1b[31m\n" in out,
           "plain status channels:\n" + out)
    expect("  imap                   ok (not tried yet)\n" in out,
           "plain status imap:\n" + out)

    # ---- list ---------------------------------------------------------------------
    expect([f["id"] for f in all_list] == [A, bad, Bid, B2],
           "list: %r" % [f["id"] for f in all_list])
    for f in all_list:
        keys_exact(f, LIST_KEYS, "list")
        expect(TIME_RE.match(f["created"]) and TIME_RE.match(f["updated"]),
               "list times: %r" % f)
    ap = env.json_lines("list", "--state", "approved", "--json")
    expect([f["id"] for f in ap] == [A, B2], "list --state approved")
    _, out, _ = env.run("list", rc=0)
    lines = out.splitlines()
    expect(len(lines) == 5 and lines[0].startswith("ID"),
           "plain list:\n" + out)
    col = lines[0].index("STATE")
    expect(all(l[col - 2:col] == "  " and l[col] != " " for l in lines[1:]),
           "plain list columns not aligned:\n" + out)
    env.run("show", A, rc=0)

    # requeue after the status count
    _, out, _ = env.run("requeue", "q1.zip", rc=0)
    expect(os.path.exists(env.path("spool/providers/P001/incoming/q1.zip")),
           "requeue did not move the file back")
    expect(not os.path.exists(q) and
           not os.path.exists(q + ".reason"), "requeue left the quarantine")
    expect(env.json_lines("quarantine", "--json") == [], "quarantine row kept")
    refused(env, "TRACKING_ID_UNKNOWN", "requeue", "q1.zip", rc=3)

    # ---- backup ---------------------------------------------------------------------
    bk = env.path("backup.db")
    env.run("backup", bk, rc=0)
    expect(stat.S_IMODE(os.stat(bk).st_mode) == 0o600, "backup mode %o"
           % stat.S_IMODE(os.stat(bk).st_mode))
    n = env.sql("SELECT count(*) FROM filings")[0][0]
    c = sqlite3.connect(bk)
    expect(c.execute("SELECT count(*) FROM filings").fetchone()[0] == n,
           "backup filings count")
    expect(c.execute("PRAGMA integrity_check").fetchone()[0] == "ok",
           "backup integrity")
    c.close()
    if shutil.which("sqlite3"):
        p = subprocess.run(["sqlite3", bk, "SELECT count(*) FROM filings"],
                           capture_output=True)
        expect(p.returncode == 0 and p.stdout.strip() == str(n).encode(),
               "sqlite3 on the backup: %r" % (p.stdout + p.stderr))
    env.run("backup", env.path("nodir/x.db"), rc=2)


def users(env):
    """beianctl user: the console's accounts."""
    _, out, _ = env.run("user", "add", "li.si", "--role", "provider:P001",
                        rc=0)
    m = re.search(r"^password: (\S+)$", out, re.M)
    expect(m is not None and len(m.group(1)) >= 12,
           "user add printed no generated password:\n" + out)
    gen = m.group(1)
    expect(env.sql("SELECT count(*) FROM accounts WHERE password_hash LIKE"
                   " '$argon2id$%' AND role = 'provider:P001'")[0][0] == 1,
           "account not stored with an Argon2id hash")
    expect(gen not in str(env.sql("SELECT * FROM accounts")),
           "the clear password is in the database")
    pwf = env.write("pw.txt", "wang-wu-secret\n")
    _, out, _ = env.run("user", "add", "wang.wu", "--role", "bureau:11",
                        "--password-file", pwf, rc=0)
    expect("password:" not in out and "wang-wu-secret" not in out,
           "a given password is printed:\n" + out)
    env.run("user", "add", "op", "--role", "operator", "--password-file",
            pwf, rc=0)
    # refusals: a taken name, roles not configured or not roles at all
    env.run("user", "add", "li.si", "--role", "operator", rc=1)
    env.run("user", "add", "x", "--role", "provider:P999", rc=2)
    env.run("user", "add", "x", "--role", "bureau:12", rc=2)
    env.run("user", "add", "x", "--role", "admin", rc=2)
    env.run("user", "add", "bad name", "--role", "operator", rc=2)
    env.run("user", "add", "x", rc=2)
    short = env.write("short.txt", "abc\n")
    env.run("user", "add", "x", "--role", "operator", "--password-file",
            short, rc=2)
    env.run("user", "add", "x", "--role", "operator", "--password-file",
            env.path("missing.txt"), rc=2)
    expect(env.sql("SELECT count(*) FROM accounts WHERE name = 'x'")[0][0]
           == 0, "a refused user add made an account")

    lst = env.json_lines("user", "list", "--json")
    for u in lst:
        keys_exact(u, ["name", "role", "disabled", "created", "last_login"],
                   "user list --json")
        expect(TIME_RE.match(u["created"]) and u["last_login"] is None,
               "user list times: %r" % u)
    expect([(u["name"], u["role"], u["disabled"]) for u in lst] ==
           [("li.si", "provider:P001", False), ("op", "operator", False),
            ("wang.wu", "bureau:11", False)], "user list: %r" % lst)
    _, out, _ = env.run("user", "list", rc=0)
    expect(len(out.splitlines()) == 3 and "li.si" in out, "user list:\n" + out)

    env.run("user", "disable", "li.si", rc=0)
    expect([u["disabled"] for u in env.json_lines("user", "list", "--json")
            if u["name"] == "li.si"] == [True], "user disable")
    env.run("user", "enable", "li.si", rc=0)
    env.run("user", "disable", "nobody", rc=3)
    env.run("user", "enable", "nobody", rc=3)
    old = env.sql("SELECT password_hash FROM accounts WHERE name = 'li.si'")
    _, out, _ = env.run("user", "passwd", "li.si", rc=0)
    expect(re.search(r"^password: \S+$", out, re.M) is not None,
           "user passwd printed no new password:\n" + out)
    expect(env.sql("SELECT password_hash FROM accounts WHERE name = 'li.si'")
           != old, "user passwd kept the hash")
    env.run("user", "passwd", "nobody", "--password-file", pwf, rc=3)
    env.run("user", "passwd", "li.si", "--role", "operator", rc=2)
    env.run("user", "frobnicate", rc=2)


if __name__ == "__main__":
    main()
