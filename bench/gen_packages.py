#!/usr/bin/python3
"""gen_packages: OUTDIR N [--format zip|mix] — N distinct valid packages.

Each is examples/filing.xml with its own sponsor USCC, domain and site
name (so no two are the same filing, and none conflicts with another by
subject or domain), and three 480x640 JPEGs of its own: three base photos
made once, each copy made distinct by a COM segment after SOI naming the
package (re-encoding 60,000 photos would take minutes).  The five
attachments name those three files.  --format mix alternates zip and
tar.xz.  Only the packages are written into OUTDIR.
"""
import argparse
import io
import lzma
import multiprocessing
import os
import sys
import tarfile
import zipfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "tests"))
import fxlib  # noqa: E402

USCC_SET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
USCC_W = [pow(3, i, 31) for i in range(17)]
ORG_W = [3, 7, 9, 10, 5, 8, 4, 2]

# which of the three photos each attachment names
RENAME = {
    "license.jpg": "license.jpg",
    "zs-front.jpg": "front.jpg",
    "wf-front.jpg": "front.jpg",
    "zs-back.jpg": "back.jpg",
    "wf-back.jpg": "back.jpg",
}
COLORS = {
    "license.jpg": (230, 220, 200),
    "front.jpg": (200, 180, 160),
    "back.jpg": (150, 170, 210),
}


def org_code(body):
    """8 body characters + the GB 11714 check character."""
    s = sum(int(c, 36) * w for c, w in zip(body, ORG_W))
    c = 11 - s % 11
    return body + ("X" if c == 10 else "0" if c == 11 else str(c))


def uscc(i):
    """A valid USCC for a Beijing (110108) enterprise numbered i."""
    body = "91110108" + org_code("%08d" % (10000000 + i % 90000000))
    s = sum(USCC_SET.index(c) * w for c, w in zip(body, USCC_W))
    return body + USCC_SET[(31 - s % 31) % 31]


def filing_xml(base, i):
    x = base.replace("91110108MA01XY3K34", uscc(i))
    x = x.replace("example.cn", "bench%06d.cn" % i)
    x = x.replace("<name>示例科技官网</name>", "<name>示例站点%d号</name>" % i)
    for old, new in RENAME.items():
        x = x.replace('file="%s"' % old, 'file="%s"' % new)
    return x.encode("utf-8")


def distinct(jpeg, tag):
    """The JPEG with a COM segment naming tag right after SOI."""
    com = tag.encode()
    return jpeg[:2] + b"\xff\xfe" + (len(com) + 2).to_bytes(2, "big") + \
        com + jpeg[2:]


def zip_package(files):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for name, data in files.items():
            # JPEGs do not deflate; storing them keeps generation fast
            zi = zipfile.ZipInfo(name, (2025, 11, 28, 0, 0, 0))
            zi.external_attr = 0o644 << 16
            zi.compress_type = zipfile.ZIP_DEFLATED \
                if name.endswith(".xml") else zipfile.ZIP_STORED
            z.writestr(zi, data)
    return buf.getvalue()


def txz_package(files):
    return lzma.compress(fxlib.tar_bytes(files), preset=0)


def work(args):
    outdir, start, stop, fmt, base, photos = args
    for i in range(start, stop):
        files = {"filing.xml": filing_xml(base, i)}
        for name, data in photos.items():
            files[name] = distinct(data, "beiand bench %d %s" % (i, name))
        if fmt == "mix" and i % 2 == 1:
            name, data = "p%06d.tar.xz" % i, txz_package(files)
        else:
            name, data = "p%06d.zip" % i, zip_package(files)
        with open(os.path.join(outdir, name), "wb") as f:
            f.write(data)
    return stop - start


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("outdir")
    ap.add_argument("n", type=int)
    ap.add_argument("--format", choices=("zip", "mix"), default="zip")
    ap.add_argument("--first", type=int, default=0,
                    help="number of the first package (subjects and domains follow it)")
    a = ap.parse_args()
    os.makedirs(a.outdir, exist_ok=True)
    base = fxlib.good_filing_xml()
    photos = {n: fxlib.jpeg(480, 640, color=c) for n, c in COLORS.items()}
    step = 500
    end = a.first + a.n
    jobs = [(a.outdir, s, min(s + step, end), a.format, base, photos)
            for s in range(a.first, end, step)]
    with multiprocessing.Pool() as pool:
        done = sum(pool.imap_unordered(work, jobs))
    print("gen_packages: %d %s packages in %s" % (done, a.format, a.outdir))


if __name__ == "__main__":
    main()
