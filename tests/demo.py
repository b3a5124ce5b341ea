#!/usr/bin/python3
"""demo: drive a running beiand from upload to filing number.

1. A provider uploads batch-a.zip (two filings: one valid, one with a
   wrong check digit) under a temporary name and renames it.
2. The receipt names the tracking ids; the provider uploads the valid
   filing's verification record (核验单) with its photos.
3. The review request mail (.eml under var/mail/) carries the review
   token; the bureau drops its approval into its spool folder.
4. beianctl shows the filing approved with its number.
"""
import email
import email.header
import email.policy
import glob
import io
import os
import re
import subprocess
import sys
import time
import zipfile
import xml.etree.ElementTree as ET

B, CONF = sys.argv[1], sys.argv[2]
TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SPOOL = os.path.join(TOP, "spool")
VAR = os.path.join(TOP, "var")
EX = os.path.join(TOP, "examples")
R = "{urn:beiand:receipt:1}"


def say(msg):
    print("\n\033[1mdemo:\033[0m " + msg, flush=True)


def photo(name):
    with open(os.path.join(EX, "photos", name), "rb") as f:
        return f.read()


def upload(folder, name, data):
    """The upload protocol: a temporary name, then a rename."""
    inc = os.path.join(SPOOL, folder, "incoming")
    tmp = os.path.join(inc, "." + name + ".part")
    with open(tmp, "wb") as f:
        f.write(data)
    os.rename(tmp, os.path.join(inc, name))


def receipt(folder, name, timeout=60):
    path = os.path.join(SPOOL, folder, "outgoing", name + ".receipt.xml")
    end = time.time() + timeout
    while time.time() < end:
        if os.path.exists(path):
            return ET.parse(path).getroot(), path
        time.sleep(0.2)
    sys.exit("demo: no receipt for %s after %ds" % (name, timeout))


def unique(xml):
    """A subject and domain of its own, so the demo can run again."""
    n = int(time.time()) % 100000
    xml = xml.replace("example.cn", "demo%05d.cn" % n)
    return xml


def main():
    # The daemon makes its spool tree as it starts.  An upload renamed in
    # before it watches the folder is found by its start-up scan: no
    # need to wait any longer than for the folder.
    end = time.time() + 60
    inc = os.path.join(SPOOL, "providers", "P001", "incoming")
    while not os.path.isdir(inc):
        if time.time() >= end:
            sys.exit("demo: no %s after 60 s: did beiand start?" % inc)
        time.sleep(0.1)
    with open(os.path.join(EX, "filing.xml"), encoding="utf-8") as f:
        good = unique(f.read())
    # A fresh subject per run: a USCC with a valid check character.
    good_uscc, bad_uscc = uscc_for_run(0), uscc_for_run(1)
    bad = good.replace("91110108MA01XY3K34", bad_uscc).replace(
        "110108199003078886", "110108199003078888").replace("demo", "demob")
    # site-c waits for the console: verified and approved in a browser
    console = good.replace("91110108MA01XY3K34", uscc_for_run(2)).replace(
        "demo", "democ").replace("北京示例科技有限公司", "北京演示网络有限公司")
    good = good.replace("91110108MA01XY3K34", good_uscc)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for folder, xml in (("site-a/", good), ("site-b/", bad),
                            ("site-c/", console)):
            z.writestr(folder + "filing.xml", xml)
            for n in ("license.jpg", "zs-front.jpg", "zs-back.jpg", "wf-front.jpg", "wf-back.jpg"):
                z.writestr(folder + n, photo(n))
    say("provider P001 uploads batch-a.zip (site-a and site-c valid, site-b with a wrong check digit)")
    upload("providers/P001", "batch-a.zip", buf.getvalue())
    root, path = receipt("providers/P001", "batch-a.zip")
    say("receipt %s:\n%s" % (path, open(path, encoding="utf-8").read()))
    items = {i.get("path"): i for i in root.iter(R + "item")}
    fid = items["site-a/"].get("id")
    cid = items["site-c/"].get("id")

    with open(os.path.join(EX, "BA-2026-000123.verification.xml"), encoding="utf-8") as f:
        ver = f.read().replace("BA-2026-000123", fid)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr(fid + ".verification.xml", ver)
        z.writestr("onsite.jpg", photo("onsite.jpg"))
        z.writestr("checklist.jpg", photo("checklist.jpg"))
    say("provider P001 verified %s face to face and uploads batch-b.zip with the 核验单" % fid)
    upload("providers/P001", "batch-b.zip", buf.getvalue())
    root, path = receipt("providers/P001", "batch-b.zip")
    say("receipt %s:\n%s" % (path, open(path, encoding="utf-8").read()))

    token = None
    end = time.time() + 60
    while token is None and time.time() < end:
        for eml in sorted(glob.glob(os.path.join(VAR, "mail", "*.eml"))):
            if fid not in eml or "review_request" not in eml:
                continue
            with open(eml, "rb") as f:
                msg = email.message_from_binary_file(f, policy=email.policy.default)
            m = re.search(r"\[review:([A-Za-z0-9]+)\]", str(msg["Subject"]))
            if m:
                token, review_eml = m.group(1), eml
        time.sleep(0.2)
    if token is None:
        sys.exit("demo: no review request mail for %s under var/mail/" % fid)
    say("the bureau's review request is %s; its token is in the subject" % review_eml)

    with open(os.path.join(EX, "BA-2026-000123.decision.xml"), encoding="utf-8") as f:
        dec = f.read().replace("BA-2026-000123", fid)
    dec = re.sub(r'token="[^"]*"', 'token="%s"' % token, dec)
    say("bureau 11 approves: %s.decision.xml into spool/bureau/11/incoming/" % fid)
    upload("bureau/11", fid + ".decision.xml", dec.encode("utf-8"))
    root, path = receipt("bureau/11", fid + ".decision.xml")
    say("receipt %s:\n%s" % (path, open(path, encoding="utf-8").read()))
    out = subprocess.run([os.path.join(B, "beianctl"), "-c", CONF, "show", fid],
                         capture_output=True, text=True)
    say("beianctl show %s:\n%s%s" % (fid, out.stdout, out.stderr))
    say("done. Look at: spool/providers/P001/outgoing/ and spool/bureau/11/outgoing/ "
        "(receipts), var/mail/ (every mail as .eml: received, invalid, review_request, "
        "approved_owner with the number and password, approved_provider, approved_bureau), "
        "`%s/beianctl list` and `%s/beianctl outbox`. Ctrl-C stops beiand." % (B, B))
    say("the staff console: http://127.0.0.1:8080/ — log in as demo-verifier to "
        "verify %s (tick the checks, add examples/photos/onsite.jpg and "
        "checklist.jpg), then as demo-reviewer to approve it; demo-operator sees "
        "everything, the quarantine and the outbox.\n%s"
        % (cid, os.environ.get("DEMO_ACCOUNTS", "")))


def uscc_for_run(k):
    """91 + region 110108 + an org code + check, varying per run."""
    cs = "0123456789ABCDEFGHJKLMNPQRTUWXY"
    n = (int(time.time() * 10) * 3 + k) % 10 ** 7
    body8 = "M%07d" % n
    w = [3, 7, 9, 10, 5, 8, 4, 2]
    val = lambda c: int(c) if c.isdigit() else ord(c) - 55
    c = 11 - sum(val(ch) * wt for ch, wt in zip(body8, w)) % 11
    org = body8 + ("X" if c == 10 else "0" if c == 11 else str(c))
    s17 = "91110108" + org
    wts = [pow(3, i, 31) for i in range(17)]
    chk = (31 - sum(cs.index(ch) * wt for ch, wt in zip(s17, wts)) % 31) % 31
    return s17 + cs[chk]


if __name__ == "__main__":
    main()
