"""fx_rules: one package per rule of parsers/filing_check.c (FORMAT.md §1).

Each package is the example first filing (or the example addSite) with
one targeted text substitution, zipped with a photo for every named file.
Rows are (file, expected, path); an expected "CODE@P001" means run
`beianctl check --provider P001`.  Dates assume a processing day of
2026-11-28 or later (certificates that expire by 2026-12-31 are short).
"""
import fxlib

FIRST = "first"
NEWS = "news"


def _sub(xml, old, new, count=1):
    assert xml.count(old) >= count, "fixture text not found: %r" % old
    return xml.replace(old, new, count)


# name, base, [(old, new), ...], expected, path, package_files keywords
CASES = [
    ("CERT_NUMBER_INVALID", FIRST,
     [("110108199003078886", "110108199003078888")],
     "CERT_NUMBER_INVALID", "/filing/sponsor/principal/certNumber", {}),
    ("CERT_NUMBER_INVALID-sponsor", FIRST,
     [("91110108MA01XY3K34", "91110108MA01XY3K35")],
     "CERT_NUMBER_INVALID", "/filing/sponsor/certNumber", {}),
    ("CERT_TYPE_MISMATCH", FIRST,
     [("<certType>uscc</certType>", "<certType>passport</certType>")],
     "CERT_TYPE_MISMATCH", "/filing/sponsor/certType", {}),
    ("CERT_EXPIRED", FIRST,
     [("2036-03-07", "2026-12-31")],
     "CERT_EXPIRED", "/filing/sponsor/principal/certValidTo", {}),
    ("CERT_EXPIRED-not-a-date", FIRST,
     [("<certValidTo>longTerm</certValidTo>",
       "<certValidTo>forever</certValidTo>")],
     "CERT_EXPIRED", "/filing/website[1]/manager/certValidTo", {}),
    ("NAME_INVALID", FIRST,
     [("<name>张三</name>", "<name>张3</name>")],
     "NAME_INVALID", "/filing/sponsor/principal/name", {}),
    ("NAME_MISMATCH", FIRST,
     [("<nature>enterprise</nature>", "<nature>individual</nature>"),
      ("<certType>uscc</certType>", "<certType>residentId</certType>"),
      ("<certNumber>91110108MA01XY3K34</certNumber>",
       "<certNumber>110108199003078886</certNumber>")],
     "NAME_MISMATCH", "/filing/sponsor/name", {}),
    ("ADDRESS_INCOMPLETE", FIRST,
     [("<certAddress>北京市海淀区中关村大街1号</certAddress>",
       "<certAddress>北京</certAddress>")],
     "ADDRESS_INCOMPLETE", "/filing/sponsor/certAddress", {}),
    ("REGION_INVALID", FIRST,
     [("<region>110108</region>", "<region>990108</region>")],
     "REGION_INVALID", "/filing/sponsor/region", {}),
    ("REGION_INVALID-serverLocation", FIRST,
     [("<serverLocation>11</serverLocation>",
       "<serverLocation>99</serverLocation>")],
     "REGION_INVALID", "/filing/website[1]/access[1]/serverLocation", {}),
    ("CROSS_PROVINCE", FIRST,
     [("<region>110108</region>", "<region>120101</region>")],
     "CROSS_PROVINCE", "/filing/sponsor/region", {}),
    ("PROVINCE_NOT_SERVED", FIRST,
     [("<province>11</province>", "<province>12</province>"),
      ("<region>110108</region>", "<region>120101</region>")],
     "PROVINCE_NOT_SERVED", "/filing/province", {}),
    ("MOBILE_INVALID", FIRST,
     [("13800138000", "12800138000")],
     "MOBILE_INVALID", "/filing/sponsor/principal/mobile", {}),
    ("PHONE_INVALID", FIRST,
     [("010-62345679", "62345679")],
     "PHONE_INVALID", "/filing/website[1]/manager/officePhone", {}),
    ("EMAIL_INVALID", FIRST,
     [("zhangsan@example.cn", "zhangsan@@example.cn")],
     "EMAIL_INVALID", "/filing/sponsor/principal/email", {}),
    ("ATTACHMENT_REQUIRED", FIRST,
     [('      <attachment kind="certBack" file="zs-back.jpg"/>\n', "")],
     "ATTACHMENT_REQUIRED", "/filing/sponsor/principal", {}),
    ("ATTACHMENT_REQUIRED-sponsor", FIRST,
     [('    <attachment kind="sponsorCert" file="license.jpg"/>\n', "")],
     "ATTACHMENT_REQUIRED", "/filing/sponsor", {}),
    ("ATTACHMENT_MISSING", FIRST, [],
     "ATTACHMENT_MISSING", "/filing/website[1]/manager/attachment[2]/@file",
     {"drop": ("wf-back.jpg",)}),
    ("ATTACHMENT_UNUSED", FIRST, [],
     "ATTACHMENT_UNUSED", "notes.txt",
     {"extra": {"notes.txt": b"remember the photos\n"}}),
    ("SITE_NAME_INVALID", FIRST,
     [("<name>示例科技官网</name>", "<name>中国示例网</name>")],
     "SITE_NAME_INVALID", "/filing/website[1]/name", {}),
    ("DOMAIN_INVALID", FIRST,
     [("<domain>example.cn</domain>", "<domain>exa_mple.cn</domain>")],
     "DOMAIN_INVALID", "/filing/website[1]/domain[1]", {}),
    ("DOMAIN_NOT_REGISTRABLE", FIRST,
     [("<domain>example.cn</domain>", "<domain>www.example.cn</domain>")],
     "DOMAIN_NOT_REGISTRABLE", "/filing/website[1]/domain[1]", {}),
    ("DOMAIN_DUPLICATE", FIRST,
     [("<domain>example.cn</domain>",
       "<domain>example.cn</domain>\n    <domain>EXAMPLE.cn.</domain>")],
     "DOMAIN_DUPLICATE", "/filing/website[1]/domain[2]", {}),
    ("HOMEURL_NOT_IN_DOMAINS", FIRST,
     [("<homeUrl>www.example.cn</homeUrl>",
       "<homeUrl>https://notexample.cn/</homeUrl>")],
     "HOMEURL_NOT_IN_DOMAINS", "/filing/website[1]/homeUrl[1]", {}),
    ("PREAPPROVAL_MISSING", FIRST,
     [("<serviceContent>unitPortal</serviceContent>",
       "<serviceContent>news</serviceContent>")],
     "PREAPPROVAL_MISSING", "/filing/website[1]/serviceContent", {}),
    ("PREAPPROVAL_MISSING-type", NEWS,
     [('type="news"', 'type="culture"')],
     "PREAPPROVAL_MISSING", "/filing/website[1]/serviceContent", {}),
    ("IP_NOT_PUBLIC", FIRST,
     [("<ip>203.0.113.10</ip>", "<ip>10.0.0.1</ip>")],
     "IP_NOT_PUBLIC", "/filing/website[1]/access[1]/ip[1]", {}),
    ("IP_NOT_PUBLIC-range", FIRST,
     [('start="203.0.113.20" end="203.0.113.29"',
       'start="192.168.1.20" end="192.168.1.29"')],
     "IP_NOT_PUBLIC", "/filing/website[1]/access[1]/ipRange[1]", {}),
    ("IP_INVALID", FIRST,
     [("<ip>203.0.113.10</ip>", "<ip>203.0.113.010</ip>")],
     "IP_INVALID", "/filing/website[1]/access[1]/ip[1]", {}),
    ("IP_INVALID-range-size", FIRST,
     [('end="203.0.113.29"', 'end="203.1.113.29"')],
     "IP_INVALID", "/filing/website[1]/access[1]/ipRange[1]", {}),
    ("IP_INVALID-range-order", FIRST,
     [('start="203.0.113.20"', 'start="203.0.113.30"')],
     "IP_INVALID", "/filing/website[1]/access[1]/ipRange[1]", {}),
    ("IP_NOT_PROVIDER", FIRST,
     [("<ip>203.0.113.10</ip>", "<ip>198.51.100.7</ip>")],
     "IP_NOT_PROVIDER@P001", "/filing/website[1]/access[1]/ip[1]", {}),
    ("LICENCE_FORMAT", NEWS,
     [("<subjectLicence>京ICP备2026000001号</subjectLicence>",
       "<subjectLicence>京ICP备26000001</subjectLicence>")],
     "LICENCE_FORMAT", "/filing/subjectLicence", {}),
    ("PHOTO_FORMAT-preApproval", NEWS, [],
     "PHOTO_FORMAT", "/filing/website[1]/preApproval[1]/@file",
     {"extra": {"news-approval.jpg": b"%PDF-1.4 not a photo\n"}}),
]


def make(outdir):
    base = {FIRST: fxlib.good_filing_xml(),
            NEWS: fxlib.example("news-site.xml").decode("utf-8")}
    rows = []

    def add(name, xml, expected, path, **kw):
        files = fxlib.package_files(xml, **kw)
        rows.append((fxlib.write(outdir, "rules/%s.zip" % name,
                                 fxlib.zip_bytes(files)), expected, path))

    add("ok-first", base[FIRST], "OK", "*")
    add("ok-addSite", base[NEWS], "OK", "*")
    add("ok-provider", base[FIRST], "OK@P001", "*")
    for name, which, subs, expected, path, kw in CASES:
        xml = base[which]
        for old, new in subs:
            xml = _sub(xml, old, new)
        add(name, xml, expected, path, **kw)
    return rows
