#!/usr/bin/python3
"""web_flow: the staff console driven by a real headless Chromium.

Usage: web_flow.py BASE_URL BEIANCTL CONF STATE_DIR SHOTS_DIR IDLE_SECONDS
(tests/it_web.sh starts beiand and beiand-web and makes the accounts).

A P001 verifier logs in and sees only P001's queue (a filing of P002 is
not in it), fields holding <script>, quotes and GB18030 text are shown as
text, the filing's photos load; a form without its CSRF token changes
nothing; a pass without every check is refused as the mails show it; the
pass with photo and scan puts the filing under review (channel web, the
client's address in the event) and the review request mail goes out.  A
P002 account gets 404 for P001's filing and its photos; a reviewer of
bureau 11 approves, and the number and password are mailed.  The
operator's pages open; an idle session is refused; repeated wrong
passwords throttle.  Screenshots of the queue and of a filing go to
SHOTS_DIR.
"""
import email
import email.policy
import glob
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import fxlib  # noqa: E402

from selenium import webdriver  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.common.exceptions import WebDriverException  # noqa: E402

BASE, CTL, CONF, STATE, SHOTS, IDLE = sys.argv[1:7]
IDLE = int(IDLE)
PW = "console-pass-1"
EX = os.path.join(HERE, "..", "examples", "photos")
HOSTILE = "<script>window.xss=1</script>\"'&公司"
HOSTILE_SITE = "示例<b>官网\""
GB_NAME = "北京㐀示例科技有限公司"  # U+3400: four bytes in GB18030

checks = 0


def fail(msg):
    print("FAIL: " + msg, flush=True)
    sys.exit(1)


def expect(cond, msg):
    global checks
    checks += 1
    if not cond:
        fail(msg)


def ctl(*args):
    env = dict(os.environ, BEIAND_PWHASH_FAST="1")
    p = subprocess.run([CTL, "-c", CONF] + list(args), capture_output=True,
                       env=env)
    return p.returncode, p.stdout.decode(), p.stderr.decode()


def show(fid):
    rc, out, err = ctl("show", fid, "--json")
    expect(rc == 0, "show %s: %s" % (fid, err))
    return json.loads(out)


def uscc(k):
    """91 + region 110108 + an org code + check, different per k and run."""
    cs = "0123456789ABCDEFGHJKLMNPQRTUWXY"
    n = (int(time.time() * 10) * 8 + k) % 10 ** 7
    body8 = "M%07d" % n
    w = [3, 7, 9, 10, 5, 8, 4, 2]
    val = lambda c: int(c) if c.isdigit() else ord(c) - 55  # noqa: E731
    c = 11 - sum(val(ch) * wt for ch, wt in zip(body8, w)) % 11
    org = body8 + ("X" if c == 10 else "0" if c == 11 else str(c))
    s17 = "91110108" + org
    wts = [pow(3, i, 31) for i in range(17)]
    chk = (31 - sum(cs.index(ch) * wt for ch, wt in zip(s17, wts)) % 31) % 31
    return s17 + cs[chk]


def esc(s):
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def submit(tag, k, provider="P001", sponsor=None, site=None, encoding=None):
    xml = fxlib.good_filing_xml()
    xml = xml.replace("91110108MA01XY3K34", uscc(k))
    xml = xml.replace("example.cn", "%s%d.cn" % (tag, int(time.time()) % 100000))
    if sponsor is not None:
        xml = xml.replace("<name>北京示例科技有限公司</name>",
                          "<name>%s</name>" % esc(sponsor), 1)
    if site is not None:
        xml = xml.replace("<name>示例科技官网</name>",
                          "<name>%s</name>" % esc(site), 1)
    if provider == "P002":
        xml = xml.replace("203.0.113.", "198.51.100.")
    data = xml.encode("utf-8")
    if encoding is not None:
        data = xml.replace('encoding="UTF-8"', 'encoding="%s"' % encoding,
                           1).encode(encoding)
        expect(b'encoding="' + encoding.encode() + b'"' in data,
               "no encoding declaration to change")
    files = fxlib.package_files(data, photo=open(os.path.join(
        EX, "zs-front.jpg"), "rb").read())
    d = tempfile.mkdtemp(prefix="beiand-web-pkg-")
    path = os.path.join(d, tag + ".zip")
    with open(path, "wb") as f:
        f.write(fxlib.zip_bytes(files))
    rc, out, err = ctl("submit", "--provider", provider, path)
    shutil.rmtree(d)
    m = re.search(r"^(BA-\d{4}-\d{6,7}): awaiting_verification$", out, re.M)
    expect(rc == 0 and m, "submit %s: %s%s" % (tag, out, err))
    return m.group(1)


def browser():
    o = webdriver.ChromeOptions()
    for a in ("--headless=new", "--no-sandbox", "--disable-gpu",
              "--disable-background-networking", "--disable-component-update",
              "--disable-sync", "--no-first-run", "--disable-quic",
              "--user-data-dir=" + tempfile.mkdtemp(prefix="beiand-chrome-")):
        o.add_argument(a)
    d = webdriver.Chrome(options=o)
    d.set_window_size(1280, 900)
    d.set_page_load_timeout(60)
    return d


def click(d, el):
    """Click what submits a form, and wait until the next page has
    replaced this one (a state, not a time)."""
    d.execute_script("window.beiandOldPage = true;")
    el.click()
    end = time.time() + 60
    while time.time() < end:
        try:
            if d.execute_script("return window.beiandOldPage === undefined "
                                "&& document.readyState === 'complete';"):
                return
        except WebDriverException:
            pass  # between two documents
        time.sleep(0.05)
    fail("no new page after a click at %s" % d.current_url)


def text(d):
    return d.find_element(By.TAG_NAME, "body").text


def login(d, name, pw=PW):
    d.get(BASE + "/login")
    d.find_element(By.ID, "username").send_keys(name)
    d.find_element(By.ID, "password").send_keys(pw)
    click(d, d.find_element(By.ID, "login"))


def logout(d):
    click(d, d.find_element(By.ID, "logout"))
    expect(d.current_url.endswith("/login"), "logout lands on %s"
           % d.current_url)


def photos_loaded(d, at_least):
    """Every picture on the page decoded (naturalWidth > 0); a bounded wait
    for the state, not a time."""
    end = time.time() + 30
    while time.time() < end:
        r = d.execute_script(
            "var a = Array.from(document.querySelectorAll('img.photo'));"
            "return [a.length, a.filter(i => i.complete && i.naturalWidth > 0)"
            ".length];")
        if r[0] >= at_least and r[0] == r[1]:
            return r[0]
        d.execute_script("document.querySelectorAll('img.photo').forEach("
                         "i => i.loading = 'eager');")
        time.sleep(0.2)
    fail("photos: %r of at least %d loaded" % (r, at_least))


def shot(d, name, full=False):
    if full:
        h = d.execute_script("return document.documentElement.scrollHeight")
        d.set_window_size(1280, min(max(h, 900), 5000))
    path = os.path.join(SHOTS, name)
    expect(d.save_screenshot(path), "screenshot " + path)
    d.set_window_size(1280, 900)


def wait_mail(fid, template, timeout=60):
    end = time.time() + timeout
    while time.time() < end:
        for p in sorted(glob.glob(os.path.join(STATE, "mail", "*.eml"))):
            if fid in p and "." + template + "." in p:
                with open(p, "rb") as f:
                    return email.message_from_binary_file(
                        f, policy=email.policy.default)
        time.sleep(0.2)
    fail("no %s mail for %s in %s/mail" % (template, fid, STATE))


def body_of(msg):
    return msg.get_body(preferencelist=("plain",)).get_content()


def verify_form(d, all_checks=True, files=True, drop_csrf=False):
    f = d.find_element(By.ID, "verify-form")
    v = f.find_element(By.NAME, "verifier")
    v.clear()
    v.send_keys("李四")
    boxes = f.find_elements(By.CSS_SELECTOR, "input[type=checkbox]")
    expect(len(boxes) == 7, "seven checks, got %d" % len(boxes))
    for b in boxes[:7 if all_checks else 6]:
        b.click()
    if files:
        f.find_element(By.ID, "photo").send_keys(
            os.path.abspath(os.path.join(EX, "onsite.jpg")))
        f.find_element(By.ID, "scan").send_keys(
            os.path.abspath(os.path.join(EX, "checklist.jpg")))
    if drop_csrf:
        d.execute_script("document.querySelector('#verify-form "
                         "input[name=csrf]').remove();")
    click(d, d.find_element(By.ID, "verify-submit"))


def main():
    A = submit("weba", 1)
    X = submit("webx", 2, sponsor=HOSTILE, site=HOSTILE_SITE)
    G = submit("webg", 3, sponsor=GB_NAME, encoding="GB18030")
    C = submit("webc", 4, provider="P002")
    d = browser()
    try:
        flow(d, A, X, G, C)
    finally:
        d.quit()
    print("web_flow: %d checks passed" % checks, flush=True)


def flow(d, A, X, G, C):
    # ---- a P001 verifier: only P001's queue; every value as text ----------
    login(d, "li.si")
    expect(d.current_url == BASE + "/", "after login: %s" % d.current_url)
    rows = [r.get_attribute("data-id") for r in
            d.find_elements(By.CSS_SELECTOR, "#queue tr.filing")]
    expect(A in rows and X in rows and G in rows, "P001 queue %r" % rows)
    expect(C not in rows, "P002's filing %s in P001's queue" % C)
    expect(d.execute_script("return window.xss === undefined"),
           "a script from a field ran")
    expect(HOSTILE in text(d), "the hostile name is not shown as text")
    expect(GB_NAME in text(d), "the GB18030 name is not shown as it is")
    expect("首次备案" in text(d) and "待核验" in text(d),
           "types and states by label")
    expect(d.execute_script("return document.cookie") == "",
           "the session cookie is readable by scripts")
    shot(d, "console-queue.png")

    d.get(BASE + "/filings/" + X)
    expect(HOSTILE in text(d) and HOSTILE_SITE in text(d),
           "hostile fields on the filing page")
    expect(d.execute_script("return window.xss === undefined"),
           "a script from a field ran on the filing page")
    expect(not d.find_elements(By.CSS_SELECTOR, "main b"),
           "a field's markup became an element")

    d.get(BASE + "/")
    click(d, d.find_element(By.CSS_SELECTOR,
                            "tr[data-id='%s'] a.filing-link" % A))
    expect(d.current_url == BASE + "/filings/" + A, "opened %s"
           % d.current_url)
    n = photos_loaded(d, 5)
    photo_url = d.find_element(By.CSS_SELECTOR, "img.photo") \
        .get_attribute("src")
    # narrow, as on a phone: nothing wider than the screen
    d.set_window_size(390, 844)
    over = d.execute_script("return document.documentElement.scrollWidth - "
                            "document.documentElement.clientWidth")
    expect(over <= 1, "the page is %dpx wider than a phone" % over)
    d.set_window_size(1280, 900)
    shot(d, "console-filing.png", full=True)

    # a form posted without its CSRF token changes nothing
    verify_form(d, drop_csrf=True)
    expect("表单已失效" in text(d), "no CSRF refusal:\n" + text(d)[:500])
    expect(show(A)["state"] == "awaiting_verification",
           "a form without its token changed the filing")

    # a pass without every check: refused as the mails show it
    d.get(BASE + "/filings/" + A)
    verify_form(d, all_checks=False)
    res = d.find_element(By.ID, "result").text
    expect("VERIFICATION_INCOMPLETE" in res and "photoTaken" in res,
           "refusal: %s" % res)
    expect("awaiting_verification" in
           d.find_element(By.ID, "new-state").text, "state after refusal")
    expect(show(A)["state"] == "awaiting_verification", "refused pass moved")

    # the pass, with the on-site photo and the signed scan
    verify_form(d)
    expect("under_review" in d.find_element(By.ID, "new-state").text,
           "after pass: %s" % d.find_element(By.ID, "result").text)
    s = show(A)
    expect(s["state"] == "under_review", "state %s" % s["state"])
    ev = s["events"][-1]
    expect(ev["channel"] == "web" and ev["actor"] == "li.si" and
           ev["actor_kind"] == "provider" and ev["origin"] == "127.0.0.1" and
           ev["reason"] == "李四", "the event: %r" % ev)
    photos_loaded(d, n + 2)
    # return X to its owner with a remark on the sponsor's name
    d.get(BASE + "/filings/" + X)
    d.find_element(By.CSS_SELECTOR, "details#return summary").click()
    rf = d.find_element(By.ID, "return-form")
    rf.find_element(By.NAME, "text_0").send_keys("名称与营业执照不符")
    click(d, d.find_element(By.ID, "return-submit"))
    expect("returned_to_owner" in d.find_element(By.ID, "new-state").text,
           "after return: %s" % d.find_element(By.ID, "result").text)
    errs = show(X)["errors"]
    expect([(e["path"], e["code"], e["message"]) for e in errs] ==
           [("/filing/sponsor/name", "INFO_INCORRECT", "名称与营业执照不符")],
           "return remarks: %r" % errs)
    b = body_of(wait_mail(X, "returned_to_owner"))
    expect("名称与营业执照不符" in b and "INFO_INCORRECT" in b,
           "the return mail without the remark:\n" + b)
    # and pass G, for the bureau to reject
    d.get(BASE + "/filings/" + G)
    expect(GB_NAME in text(d), "the GB18030 name on its page:\n" + text(d)[:1500])
    verify_form(d)
    expect(show(G)["state"] == "under_review", "G not under review")

    m = wait_mail(A, "review_request")
    b = body_of(m)
    expect("备案类型：首次备案（firstFiling）" in b and
           "Filing type: first filing (firstFiling)" in b,
           "review request without the type's label:\n" + b)
    expect("李四" in b, "review request without the verifier")
    logout(d)

    # ---- P002: P001's filing and its photos do not exist ------------------
    login(d, "p2")
    rows = [r.get_attribute("data-id") for r in
            d.find_elements(By.CSS_SELECTOR, "#queue tr.filing")]
    expect(rows == [C], "P002 queue %r" % rows)
    d.get(BASE + "/filings/" + A)
    expect("没有这个备案" in text(d) and "No such filing" in text(d),
           "P002 sees P001's filing")
    d.get(photo_url)
    expect("没有这个文件" in d.page_source, "P002 gets P001's photo")
    d.get(BASE + "/filings/" + C)
    expect("webc" in text(d), "P002's own filing")
    d.get(BASE + "/quarantine")
    expect("没有这个页面" in text(d), "a provider reaches the quarantine")
    d.get(BASE + "/")
    logout(d)

    # ---- a reviewer of bureau 11 approves ----------------------------------
    login(d, "wang.wu")
    rows = [r.get_attribute("data-id") for r in
            d.find_elements(By.CSS_SELECTOR, "#queue tr.filing")]
    expect(rows == [A, G], "bureau queue %r" % rows)
    d.get(BASE + "/filings/" + X)
    expect("没有这个备案" in text(d), "the bureau sees a filing never sent "
           "to it")
    d.get(BASE + "/filings/" + A)
    expect(d.find_elements(By.ID, "verification"), "no verification record")
    photos_loaded(d, n + 2)
    click(d, d.find_element(By.ID, "approve-submit"))
    expect("approved" in d.find_element(By.ID, "new-state").text,
           "after approve: %s" % d.find_element(By.ID, "result").text)
    s = show(A)
    expect(s["state"] == "approved", "state %s" % s["state"])
    expect(s["events"][-1]["channel"] == "web" and
           s["events"][-1]["actor"] == "wang.wu", "approve event")
    lic = s["subject_licence"]
    expect(lic and re.match(r"^京ICP备\d+号$", lic), "licence %r" % lic)
    expect(lic in text(d), "the number is not on the page")
    b = body_of(wait_mail(A, "approved_owner"))
    expect(lic in b and re.search(r"[A-Za-z0-9]{12}", b),
           "approval mail without the number and password:\n" + b)
    # reject G with a reason
    d.get(BASE + "/filings/" + G)
    d.find_element(By.ID, "reason").send_keys("域名持有者与主办单位不一致")
    click(d, d.find_element(By.ID, "reject-submit"))
    expect("returned_to_provider" in d.find_element(By.ID, "new-state").text,
           "after reject: %s" % d.find_element(By.ID, "result").text)
    b = body_of(wait_mail(G, "returned_to_provider"))
    expect("域名持有者与主办单位不一致" in b, "the rejection mail:\n" + b)
    # approving it now is refused as the mails show it
    d.get(BASE + "/filings/" + G)
    expect(not d.find_elements(By.ID, "approve-form"),
           "an approve form on a returned filing")
    logout(d)

    # ---- the verifier hands the bureau's reason to the owner ------------------
    login(d, "li.si")
    rows = [r.get_attribute("data-id") for r in
            d.find_elements(By.CSS_SELECTOR, "#queue tr.filing")]
    expect(G in rows and A not in rows and X not in rows,
           "P001 queue after review %r" % rows)
    d.get(BASE + "/filings/" + G)
    d.find_element(By.ID, "remark").send_keys("请更换域名")
    click(d, d.find_element(By.ID, "handback-submit"))
    expect("returned_to_owner" in d.find_element(By.ID, "new-state").text,
           "after handback: %s" % d.find_element(By.ID, "result").text)
    msgs = [e["message"] for e in show(G)["errors"]]
    expect(msgs == ["域名持有者与主办单位不一致", "请更换域名"],
           "handback issues %r" % msgs)
    logout(d)

    # ---- the operator: read only, quarantine, outbox ------------------------
    login(d, "op")
    expect("待核验" in text(d), "operator counts")
    d.get(BASE + "/filings/" + C)
    expect("webc" in text(d) and not d.find_elements(By.ID, "actions"),
           "the operator sees and acts not")
    for page, mark in (("/quarantine", "隔离区"), ("/outbox", "发件箱")):
        d.get(BASE + page)
        expect(mark in d.title, "operator page %s: %s" % (page, d.title))
    # idle: the session ends after session_idle without a request
    d.get(BASE + "/")
    expect(d.current_url == BASE + "/", "session before idle")
    time.sleep(IDLE)
    end = time.time() + 30
    while time.time() < end:
        d.get(BASE + "/")
        if d.current_url.endswith("/login"):
            break
        time.sleep(0.2)
    expect(d.current_url.endswith("/login"), "an idle session still works")
    expect("会话已结束" in text(d), "no word on the ended session")

    # ---- repeated wrong passwords throttle ---------------------------------
    for i in range(3):
        login(d, "li.si", "wrong-%d" % i)
        expect("用户名或密码错误" in text(d), "wrong password %d" % i)
    login(d, "li.si")
    expect("登录失败次数过多" in text(d) and d.current_url.endswith("/login"),
           "no throttling after repeated failures:\n" + text(d)[:300])


if __name__ == "__main__":
    main()
