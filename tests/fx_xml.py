"""fx_xml: packages whose filing.xml has one XML-level problem.

Each is a zip with the example filing's photos, so that the only finding
expected is the XML one.  Rows: (file, expected code or "OK", path or "*").
"""
import random

import fxlib

DECL = '<?xml version="1.0" encoding="UTF-8"?>'


def _billion_laughs():
    ents = ['<!ENTITY lol0 "lol">']
    for i in range(1, 11):
        ents.append('<!ENTITY lol%d "%s">' % (i, ("&lol%d;" % (i - 1)) * 10))
    return "<!DOCTYPE filing [\n" + "\n".join(ents) + "\n]>"


def _oversize(xml):
    # incompressible padding, so that the archive is no zip bomb
    rnd = random.Random(20261128)
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
    pad = "".join(rnd.choice(alphabet) for _ in range((1 << 20) + 1024))
    return xml.replace("</filing>", "<!-- %s -->\n</filing>" % pad)


def make(outdir):
    good = fxlib.good_filing_xml()
    rows = []

    # the photos of the good filing, whatever the encoding of the XML
    photos = {n: fxlib.jpeg() for n in fxlib.named_files(good)}

    def add(name, xml, expected, path):
        data = fxlib.zip_bytes(fxlib.package_files(xml, extra=photos))
        rows.append((fxlib.write(outdir, "xml/" + name, data), expected, path))

    add("doctype.zip",
        good.replace(DECL, DECL + "\n<!DOCTYPE filing>"),
        "XML_DTD_FORBIDDEN", "/")
    add("xxe.zip",
        good.replace(DECL, DECL + '\n<!DOCTYPE filing [<!ENTITY xxe SYSTEM '
                     '"file:///etc/passwd">]>')
        .replace("<province>11</province>", "<province>&xxe;</province>"),
        "XML_DTD_FORBIDDEN", "/")
    add("billion-laughs.zip",
        good.replace(DECL, DECL + "\n" + _billion_laughs())
        .replace("<investor>", "<investor>&lol10;"),
        "XML_DTD_FORBIDDEN", "/")
    add("malformed.zip",
        good.replace("</province>", "</provnce>"),
        "XML_MALFORMED", "/")
    add("utf16.zip",
        good.replace('encoding="UTF-8"', 'encoding="UTF-16"')
        .encode("utf-16"),
        "XML_ENCODING", "/")
    b = good.encode("utf-8")
    i = b.index("北京示例科技有限公司".encode("utf-8"))
    add("invalid-utf8.zip", b[:i] + b"\xff\xfe" + b[i:],
        "XML_ENCODING", "/")
    add("latin1.zip",
        good.replace('encoding="UTF-8"', 'encoding="ISO-8859-1"')
        .encode("utf-8"),
        "XML_ENCODING", "/")
    add("oversize.zip", _oversize(good), "XML_TOO_LARGE", "/")
    add("schema-enum.zip",
        good.replace("<serviceContent>unitPortal", "<serviceContent>casino"),
        "SCHEMA_VIOLATION", "/filing/website[1]/serviceContent")
    add("schema-type.zip",
        good.replace('type="firstFiling"', 'type="renewal"'),
        "SCHEMA_VIOLATION", "/filing/@type")
    s0 = good.index("  <sponsor>")
    s1 = good.index("</sponsor>\n") + len("</sponsor>\n")
    add("schema-two-sponsors.zip", good[:s1] + good[s0:s1] + good[s1:],
        "SCHEMA_VIOLATION", "/filing/sponsor")
    add("schema-unknown-element.zip",
        good.replace("<serviceContent>", "<category>x</category>"
                     "<serviceContent>"),
        "SCHEMA_VIOLATION", "/filing/website[1]/category")
    add("schema-root.zip",
        good.replace('xmlns="urn:beiand:filing:1"',
                     'xmlns="urn:beiand:filing:2"'),
        "SCHEMA_VIOLATION", "/")
    add("gbk.zip",
        good.replace('encoding="UTF-8"', 'encoding="GBK"').encode("gbk"),
        "OK", "*")
    add("gb18030.zip",
        good.replace('encoding="UTF-8"', 'encoding="GB18030"')
        .encode("gb18030"),
        "OK", "*")
    return rows
