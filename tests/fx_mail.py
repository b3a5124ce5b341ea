"""fx_mail: raw mails for tests/test_mime.c, as real clients compose them.

Python's email package composes the Thunderbird-like ones (it writes
RFC 2231 filename*=utf-8''... for non-ASCII names, as Thunderbird does);
what it never writes (Outlook's RFC 2047 words inside name="...", split
RFC 2231 continuations, GBK subjects, junk in base64, a lying charset) is
written by hand.  Every file goes to OUTDIR/mail/NAME.eml; test_mime.c
checks each decoded field exactly.  No beianctl-check rows: returns [].
"""
import base64
import email.policy
import random
from email.message import EmailMessage
from email.utils import format_datetime
import datetime

import fxlib

DATE = format_datetime(datetime.datetime(2026, 11, 28, 10, 0, 0,
                                         tzinfo=datetime.timezone(datetime.timedelta(hours=8))))
OWNER = "zhangsan@example.cn"
TAG = "[BA-2026-000123 k3J9xQ2m]"
REVIEW = "[review:ABCDEFGHJKMNPQRS]"


def _msg(subject, frm='"张三" <ZhangSan@Example.CN>', to="intake@p001.example",
         mid="<m1@example.cn>"):
    m = EmailMessage(policy=email.policy.SMTP)
    m["From"] = frm
    m["To"] = to
    m["Subject"] = subject
    m["Date"] = DATE
    m["Message-ID"] = mid
    m["MIME-Version"] = "1.0"
    return m


def _b64(data, width=76):
    s = base64.b64encode(data).decode("ascii")
    return "\r\n".join(s[i:i + width] for i in range(0, len(s), width))


def _hand(headers, body):
    """A mail written by hand: header lines and body joined with CRLF."""
    return ("\r\n".join(headers) + "\r\n\r\n" + body).encode("utf-8")


def thunderbird_zip():
    """A zip with a Chinese name (RFC 2231 by email), UTF-8 subject."""
    m = _msg("Re: 更正材料 " + TAG)
    m.set_content("您好，附件是更正后的材料。\n\n张三\n")
    m.add_alternative("<p>您好，附件是更正后的材料。</p>", subtype="html")
    z = fxlib.zip_bytes(fxlib.package_files(fxlib.good_filing_xml()))
    m.add_attachment(z, maintype="application", subtype="zip",
                     filename="备案材料.zip")
    return m.as_bytes(), z


def outlook_gb2312():
    """Outlook: GBK subject, RFC 2047 GB2312 name= in quotes, GB2312 body."""
    subj = "=?GBK?B?%s?=" % base64.b64encode(
        ("回复：备案通知 " + TAG).encode("gbk")).decode()
    name = "=?GB2312?B?%s?=" % base64.b64encode("备案材料.zip".encode("gb2312")).decode()
    z = fxlib.zip_bytes({"filing.xml": fxlib.good_filing_xml().encode()})
    body = "\r\n".join([
        "This is a multi-part message in MIME format.",
        "",
        "------=_NextPart_000_0001_01DB0000.12345670",
        'Content-Type: text/plain;\r\n\tcharset="gb2312"',
        "Content-Transfer-Encoding: base64",
        "",
        _b64("请查收附件。\r\n".encode("gb2312")),
        "",
        "------=_NextPart_000_0001_01DB0000.12345670",
        'Content-Type: application/x-zip-compressed;\r\n\tname="%s"' % name,
        "Content-Transfer-Encoding: base64",
        'Content-Disposition: attachment;\r\n\tfilename="%s"' % name,
        "",
        _b64(z),
        "",
        "------=_NextPart_000_0001_01DB0000.12345670--",
        "",
    ])
    return _hand([
        "Return-Path: <zhangsan@example.cn>",
        "From: =?gb2312?B?%s?= <zhangsan@EXAMPLE.cn>" % base64.b64encode("张三".encode("gb2312")).decode(),
        "To: <intake@p001.example>",
        "Subject: " + subj,
        "Date: " + DATE,
        "Message-ID: <000001db0000$12345670$abcdef00@example.cn>",
        "MIME-Version: 1.0",
        'Content-Type: multipart/mixed;\r\n\tboundary="----=_NextPart_000_0001_01DB0000.12345670"',
        "X-Mailer: Microsoft Outlook 16.0",
    ], body), z


def rfc2231_split():
    """Continuations: encoded pieces, encoded + plain, a language tag."""
    gb = "".join("%%%02X" % b for b in "备案".encode("gb2312"))
    body = "\r\n".join([
        "--b1",
        "Content-Type: text/plain; charset=us-ascii",
        "",
        "see attached",
        "--b1",
        "Content-Type: application/zip;",
        " name*0*=UTF-8''%E5%A4%87;",
        " name*1*=%E6%A1%88.zip",
        "Content-Disposition: attachment;",
        " filename*0*=UTF-8''%E5%A4%87;",
        " filename*1*=%E6%A1%88.zip",
        "Content-Transfer-Encoding: base64",
        "",
        _b64(b"PK\x05\x06" + b"\0" * 18),
        "--b1",
        "Content-Type: application/octet-stream",
        "Content-Disposition: attachment;",
        " filename*1=\"-v2\"; filename*0*=utf-8''%E5%A4%87%E6%A1%88;",
        " filename*2*=%2Etxt",
        "",
        "abc",
        "--b1",
        "Content-Type: application/octet-stream",
        "Content-Disposition: attachment; filename*=gb2312'zh-cn'%s.doc" % gb,
        "",
        "x",
        "--b1",
        "Content-Type: application/octet-stream",
        "Content-Disposition: attachment; filename=\"../../etc/passwd\"",
        "",
        "y",
        "--b1",
        "Content-Type: application/octet-stream",
        "Content-Disposition: attachment; filename=\"..\"",
        "",
        "z",
        "--b1--",
        "",
    ])
    return _hand([
        "From: owner@example.cn",
        "To: intake@p001.example",
        "Subject: =?utf-8?q?=E5=A4=87=E6=A1=88?= =?utf-8?q?=E6=9D=90=E6=96=99?= plain",
        "Message-ID: <split@example.cn>",
        "MIME-Version: 1.0",
        "Content-Type: multipart/mixed; boundary=b1",
    ], body)


def files_direct():
    """filing.xml and the photos attached directly."""
    m = _msg("新备案 / new filing")
    m.set_content("备案材料见附件。\n")
    files = fxlib.package_files(fxlib.good_filing_xml())
    for name, data in files.items():
        if name.endswith(".xml"):
            m.add_attachment(data, maintype="application", subtype="xml",
                             filename=name)
        else:
            m.add_attachment(data, maintype="image", subtype="jpeg",
                             filename=name)
    return m.as_bytes(), files


def reject_gbk():
    m = _msg("回复：评审请求 " + REVIEW, frm="审核 <Review@Bureau.example>",
             mid="<r1@bureau.example>")
    m.set_content("\nREJECT：域名持有者与主办单位不一致\n\n> 原邮件\n",
                  charset="gbk", cte="base64")
    return m.as_bytes()


def approve_quoted():
    m = _msg("Re: review " + REVIEW, frm="review@bureau.example",
             mid="<r2@bureau.example>")
    m.set_content("\n   \n> REJECT: not this one\n>> nor this\n  Approve  \n\nregards\n",
                  cte="quoted-printable")
    return m.as_bytes()


def withdraw():
    m = _msg("Re: " + TAG + " 撤回", mid="<w1@example.cn>")
    m.set_content("withdraw\n")
    return m.as_bytes()


def ooo():
    m = _msg("自动回复: 备案通知 " + TAG, mid="<ooo@example.cn>")
    m["Auto-Submitted"] = "auto-replied"
    m.set_content("我正在休假。\n")
    return m.as_bytes()


def dsn():
    return _hand([
        "Return-Path: <>",
        "From: MAILER-DAEMON@mx.example.cn (Mail Delivery System)",
        "To: filing@p001.example",
        "Subject: Undelivered Mail Returned to Sender",
        "Message-ID: <dsn1@mx.example.cn>",
        "MIME-Version: 1.0",
        'Content-Type: multipart/report; report-type=delivery-status;\r\n\tboundary="DSN.1"',
    ], "\r\n".join([
        "--DSN.1",
        "Content-Type: text/plain; charset=us-ascii",
        "",
        "I'm sorry to have to inform you that your message could not",
        "--DSN.1",
        "Content-Type: message/delivery-status",
        "",
        "Reporting-MTA: dns; mx.example.cn",
        "",
        "Final-Recipient: rfc822; nobody@example.cn",
        "Action: failed",
        "Status: 5.1.1",
        "--DSN.1",
        "Content-Type: message/rfc822",
        "",
        "From: filing@p001.example",
        "Subject: x",
        "",
        "body",
        "--DSN.1--",
        "",
    ]))


def simple(name, extra):
    m = _msg("备案咨询", mid="<%s@example.cn>" % name)
    for k, v in extra:
        m[k] = v
    m.set_content("hello\n")
    return m.as_bytes()


def broken_charset():
    body = b"ok \xb1\xb8\xb0\xb8\r\n"
    return b"\r\n".join([
        b"From: owner@example.cn",
        b"Subject: =?x-unknown?B?" + base64.b64encode("备案".encode("utf-8")) + b"?= "
        b"=?utf-8?B?broken!?= =?gb2312?Q?=B1=B8?=",
        b"Message-ID: <bc@example.cn>",
        b"MIME-Version: 1.0",
        b"Content-Type: text/plain; charset=x-unknown",
        b"Content-Transfer-Encoding: 8bit",
        b"",
        body,
    ])


def b64_junk():
    rnd = random.Random(2026)
    data = bytes(rnd.randrange(256) for _ in range(3001))
    s = base64.b64encode(data).decode("ascii")
    lines, i = [], 0
    while i < len(s):
        w = rnd.randrange(10, 90)
        lines.append(" " + s[i:i + w] + ("*!" if rnd.random() < 0.3 else "") + "\t")
        i += w
    body = "\r\n".join([
        "--=_x",
        "Content-Type: text/plain; charset=utf-8",
        "Content-Transfer-Encoding: quoted-printable",
        "",
        "caf=C3=A9 soft=",
        "break =3D done",
        "--=_x",
        "Content-Type: application/octet-stream; name=blob.bin",
        "Content-Transfer-Encoding: BASE64",
        "",
    ] + lines + ["", "--=_x--", ""])
    return _hand([
        "From: owner@example.cn",
        "Subject: junk",
        "Message-ID: <junk@example.cn>",
        "MIME-Version: 1.0",
        "Content-Type: multipart/mixed; boundary=\"=_x\"",
    ], body), data


def nested(depth):
    """multipart/mixed nested depth deep, a text leaf at the bottom."""
    heads, tails = [], []
    for d in range(depth):
        heads.append("--n%d\r\nContent-Type: multipart/mixed; boundary=n%d\r\n" % (d, d + 1))
        tails.insert(0, "--n%d--\r\n" % d)
    body = "".join(heads) + "--n%d\r\nContent-Type: image/png\r\n\r\nPNG\r\n--n%d--\r\n" % (depth, depth) + "".join(tails)
    return _hand([
        "From: owner@example.cn",
        "Subject: nested",
        "MIME-Version: 1.0",
        "Content-Type: multipart/mixed; boundary=n0",
    ], body)


def make(outdir):
    w = lambda name, data: fxlib.write(outdir, "mail/" + name, data)
    msg, z = thunderbird_zip()
    w("thunderbird_zip.eml", msg)
    w("thunderbird_zip.zip", z)
    msg, z = outlook_gb2312()
    w("outlook_gb2312.eml", msg)
    w("outlook_gb2312.zip", z)
    w("rfc2231_split.eml", rfc2231_split())
    msg, files = files_direct()
    w("files_direct.eml", msg)
    w("reject_gbk.eml", reject_gbk())
    w("approve_quoted.eml", approve_quoted())
    w("withdraw.eml", withdraw())
    w("ooo.eml", ooo())
    w("dsn.eml", dsn())
    w("bulk.eml", simple("bulk", [("Precedence", "bulk")]))
    w("list.eml", simple("list", [("List-Id", "Filings <filings.lists.example.cn>")]))
    w("nullrp.eml", b"Return-Path: <>\r\n" + simple("nullrp", []))
    w("loop.eml", simple("loop", [("X-Beiand-Loop", "p001.example")]))
    w("plain.eml", b"Return-Path: <Owner@Example.CN>\r\n" +
      simple("plain", [("Auto-Submitted", "no"), ("Reply-To", "Other <other@Example.Net>")]))
    w("broken_charset.eml", broken_charset())
    msg, data = b64_junk()
    w("b64_junk.eml", msg)
    w("b64_junk.bin", data)
    w("nested16.eml", nested(15))
    w("nested17.eml", nested(16))
    return []


if __name__ == "__main__":
    import sys
    make(sys.argv[1])
