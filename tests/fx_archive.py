"""fx_archive: archive fixtures for ar_read and `beianctl check`.

Every archive holds a valid filing package, so that the archive problem
is the only error.  Hostile shapes (flagless GB18030 names, the Info-ZIP
Unicode Path field, lying headers, bombs) are built byte by byte: Python's
zipfile sets the UTF-8 flag on its own and would write gigabytes for a bomb.
Bombs are made in milliseconds: after a full flush, deflate of a zero block
is the same bytes every time, so the compressed stream is one block
repeated, and its CRC comes from crc32_combine.
"""
import gzip
import io
import os
import random
import struct
import tarfile
import zlib

import fxlib

MIB = 1 << 20
BOMB_MIB = 2560  # 2.5 GiB of zeros


# ---- CRC of long runs without touching every byte (zlib's crc32_combine)

def _gf2_times(mat, vec):
    s, i = 0, 0
    while vec:
        if vec & 1:
            s ^= mat[i]
        vec >>= 1
        i += 1
    return s


def _gf2_square(mat):
    return [_gf2_times(mat, mat[n]) for n in range(32)]


def crc32_combine(crc1, crc2, len2):
    if len2 == 0:
        return crc1
    odd = [0xEDB88320] + [1 << (n - 1) for n in range(1, 32)]
    even = _gf2_square(odd)
    odd = _gf2_square(even)
    while True:
        even = _gf2_square(odd)
        if len2 & 1:
            crc1 = _gf2_times(even, crc1)
        len2 >>= 1
        if not len2:
            break
        odd = _gf2_square(even)
        if len2 & 1:
            crc1 = _gf2_times(odd, crc1)
        len2 >>= 1
        if not len2:
            break
    return crc1 ^ crc2


def crc32_zeros(mib):
    """CRC-32 of mib MiB of zero bytes, by doubling."""
    crc = None
    step, length = zlib.crc32(bytes(MIB)), MIB
    while mib:
        if mib & 1:
            crc = step if crc is None else crc32_combine(crc, step, length)
        mib >>= 1
        if mib:
            step = crc32_combine(step, step, length)
            length *= 2
    return crc or 0


def deflate_zeros(mib, prefix=b"", suffix=b""):
    """Raw deflate of prefix + mib MiB of zeros + suffix, built fast."""
    co = zlib.compressobj(9, zlib.DEFLATED, -15)
    head = co.compress(prefix) + co.flush(zlib.Z_FULL_FLUSH)
    block = co.compress(bytes(MIB)) + co.flush(zlib.Z_FULL_FLUSH)
    tail = co.compress(suffix) + co.flush()
    return head + block * mib + tail


# ---- zip byte by byte

class Member:
    def __init__(self, name, data=b"", flags=0, extra=b"", method=8,
                 unix_mode=0o100644, comp=None, usize=None, crc=None):
        self.name = name if isinstance(name, bytes) else name.encode("utf-8")
        self.data = data
        self.flags = flags
        self.extra = extra
        self.method = method
        self.unix_mode = unix_mode
        if comp is None:
            if method == 8:
                co = zlib.compressobj(6, zlib.DEFLATED, -15)
                comp = co.compress(data) + co.flush()
            else:
                comp = data
        self.comp = comp
        self.usize = len(data) if usize is None else usize
        self.crc = zlib.crc32(data) if crc is None else crc


def zip_build(members):
    out = io.BytesIO()
    cd = io.BytesIO()
    for m in members:
        off = out.tell()
        out.write(struct.pack("<IHHHHHIIIHH", 0x04034B50, 20, m.flags,
                              m.method, 0, 0x5B7C, m.crc, len(m.comp),
                              m.usize, len(m.name), len(m.extra)))
        out.write(m.name + m.extra + m.comp)
        cd.write(struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 0x0314, 20,
                             m.flags, m.method, 0, 0x5B7C, m.crc,
                             len(m.comp), m.usize, len(m.name),
                             len(m.extra), 0, 0, 0, m.unix_mode << 16, off))
        cd.write(m.name + m.extra)
    cdb = cd.getvalue()
    cdoff = out.tell()
    out.write(cdb)
    out.write(struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, len(members),
                          len(members), len(cdb), cdoff, 0))
    return out.getvalue()


def package_members(extra=()):
    files = fxlib.package_files(fxlib.good_filing_xml())
    return [Member(n, d) for n, d in files.items()] + list(extra)


def unicode_path_field(raw_name, utf8_name):
    body = struct.pack("<BI", 1, zlib.crc32(raw_name)) + utf8_name
    return struct.pack("<HH", 0x7075, len(body)) + body


# ---- tar

def tar_build(extra=(), prefix="", fmt=tarfile.PAX_FORMAT, encoding="utf-8"):
    """The package as a tar, then extra TarInfo (with data or None)."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=fmt, encoding=encoding,
                      errors="strict") as t:
        for name, data in fxlib.package_files(fxlib.good_filing_xml()).items():
            ti = tarfile.TarInfo(prefix + name)
            ti.size = len(data)
            ti.mtime = 1764288000
            ti.mode = 0o644
            t.addfile(ti, io.BytesIO(data))
        for ti, data in extra:
            ti.mtime = 1764288000
            if data is not None:
                ti.size = len(data)
                t.addfile(ti, io.BytesIO(data))
            else:
                t.addfile(ti)
    return buf.getvalue()


def tar_data_end(tarbytes):
    """Offset just past the last member's data (where end blocks go)."""
    with tarfile.open(fileobj=io.BytesIO(tarbytes)) as t:
        last = t.getmembers()[-1]
        return last.offset_data + (last.size + 511) // 512 * 512


def tinfo(name, kind, **kw):
    ti = tarfile.TarInfo(name)
    ti.type = kind
    for k, v in kw.items():
        setattr(ti, k, v)
    return ti


def gzip_wrap(raw_deflate, crc, size):
    return (b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x02\x03" + raw_deflate +
            struct.pack("<II", crc & 0xFFFFFFFF, size & 0xFFFFFFFF))


def bomb_tar_gz():
    """The package, then zeros.bin declaring BOMB_MIB MiB, gzip'd."""
    head = tar_build()
    head = head[:tar_data_end(head)]
    ti = tarfile.TarInfo("zeros.bin")
    ti.size = BOMB_MIB * MIB
    ti.mtime = 1764288000
    prefix = head + ti.tobuf(tarfile.USTAR_FORMAT)
    suffix = bytes(1024) + bytes((-(len(prefix) + 1024)) % 10240)
    total = len(prefix) + BOMB_MIB * MIB + len(suffix)
    crc = crc32_combine(zlib.crc32(prefix), crc32_zeros(BOMB_MIB),
                        BOMB_MIB * MIB)
    crc = crc32_combine(crc, zlib.crc32(suffix), len(suffix))
    return gzip_wrap(deflate_zeros(BOMB_MIB, prefix, suffix), crc, total)


def too_large_data():
    """17 MiB that deflates about 50:1: under every ratio, over 16 MiB."""
    rng = random.Random(7)
    seg = []
    for _ in range(17 * MIB // 4096):
        seg.append(rng.randbytes(64) + bytes(4032))
    return b"".join(seg)


def make(outdir):
    rows = []
    d = "archive"
    xml = fxlib.good_filing_xml()
    files = fxlib.package_files(xml)
    cn = "说明.txt"
    note = "本文件未被 filing.xml 引用。\n".encode("utf-8")

    def put(name, data, code="OK", path="*"):
        rows.append((fxlib.write(outdir, d + "/" + name, data), code, path))

    # valid, one per format
    put("valid.zip", fxlib.zip_bytes(files))
    put("valid-stored.zip", zip_build([Member(n, v, method=0)
                                       for n, v in files.items()]))
    put("valid.tar", fxlib.tar_bytes(files))
    put("valid.tar.gz", fxlib.tar_bytes(files, mode="w:gz"))
    put("valid.tar.xz", fxlib.tar_bytes(files, mode="w:xz"))
    put("valid-dotslash.tar", tar_build(prefix="./"))
    put("valid-gnu.tar.gz", gzip.compress(tar_build(fmt=tarfile.GNU_FORMAT),
                                          mtime=0))

    # names
    put("zipslip.zip", zip_build(package_members([Member("../evil.txt", b"x")])),
        "ARCHIVE_UNSAFE_PATH", "../evil.txt")
    put("absolute.zip", zip_build(package_members([Member("/etc/evil.txt", b"x")])),
        "ARCHIVE_UNSAFE_PATH", "/etc/evil.txt")
    put("backslash.zip", zip_build(package_members(
        [Member("..\\evil.txt", b"x")])), "ARCHIVE_UNSAFE_PATH", "..\\evil.txt")
    put("dotdot.tar", tar_build([(tarfile.TarInfo("a/../../evil.txt"), b"x")]),
        "ARCHIVE_UNSAFE_PATH", "a/../../evil.txt")
    put("absolute.tar", tar_build([(tarfile.TarInfo("/tmp/evil.txt"), b"x")]),
        "ARCHIVE_UNSAFE_PATH", "/tmp/evil.txt")
    long_name = "a" * 300 + ".txt"
    put("longpath.zip", zip_build(package_members([Member(long_name, b"x")])),
        "ARCHIVE_UNSAFE_PATH", long_name)
    put("duplicate.zip", zip_build(package_members(
        [Member("notes.txt", b"one"), Member("notes.txt", b"two")])),
        "ARCHIVE_DUPLICATE_ENTRY", "notes.txt")

    # links and special files
    put("symlink.tar", tar_build([(tinfo("link.jpg", tarfile.SYMTYPE,
                                         linkname="license.jpg"), None)]),
        "ARCHIVE_LINK", "link.jpg")
    put("hardlink.tar", tar_build([(tinfo("hard.jpg", tarfile.LNKTYPE,
                                          linkname="license.jpg"), None)]),
        "ARCHIVE_LINK", "hard.jpg")
    put("symlink.zip", zip_build(package_members(
        [Member("link.jpg", b"license.jpg", unix_mode=0o120777)])),
        "ARCHIVE_LINK", "link.jpg")
    put("fifo.tar", tar_build([(tinfo("pipe", tarfile.FIFOTYPE), None)]),
        "ARCHIVE_SPECIAL_FILE", "pipe")
    put("device.tar", tar_build([(tinfo("null", tarfile.CHRTYPE, devmajor=1,
                                        devminor=3), None)]),
        "ARCHIVE_SPECIAL_FILE", "null")

    # nesting
    inner = fxlib.zip_bytes({"x.txt": b"inner"})
    put("nested.zip", zip_build(package_members([Member("inner.zip", inner)])),
        "ARCHIVE_NESTED", "inner.zip")
    put("nested-gz.tar", tar_build([(tarfile.TarInfo("x.gz"),
                                     gzip.compress(b"x"))]),
        "ARCHIVE_NESTED", "x.gz")

    # limits
    bomb = deflate_zeros(BOMB_MIB)
    put("bomb.zip", zip_build(package_members(
        [Member("zeros.bin", comp=bomb, usize=BOMB_MIB * MIB,
                crc=crc32_zeros(BOMB_MIB))])),
        "ARCHIVE_BOMB", "zeros.bin")
    put("bomb.tar.gz", bomb_tar_gz(), "ARCHIVE_BOMB", "/")
    many = [Member("f/%05d.txt" % i, b"", method=0) for i in range(20000)]
    put("many.zip", zip_build(package_members(many)),
        "ARCHIVE_TOO_MANY_ENTRIES", "/")
    put("toolarge.zip", zip_build(package_members(
        [Member("big.bin", too_large_data())])), "ARCHIVE_TOO_LARGE", "big.bin")

    # damage
    good_zip = fxlib.zip_bytes(files)
    put("truncated.zip", good_zip[:len(good_zip) // 2],
        "ARCHIVE_TRUNCATED", "/")
    tgz = fxlib.tar_bytes(files, mode="w:gz")
    put("truncated.tar.gz", tgz[:len(tgz) // 2], "ARCHIVE_TRUNCATED", "/")
    txz = fxlib.tar_bytes(files, mode="w:xz")
    put("truncated.tar.xz", txz[:len(txz) - 40], "ARCHIVE_TRUNCATED", "/")
    plain = fxlib.tar_bytes(files)
    put("noend.tar", plain[:tar_data_end(plain)], "ARCHIVE_TRUNCATED", "/")
    put("noend.tar.gz", gzip.compress(plain[:tar_data_end(plain)],
                                                    mtime=0),
        "ARCHIVE_TRUNCATED", "/")
    bad = [Member(n, v) for n, v in files.items()]
    bad[0].crc ^= 1  # filing.xml, in both headers
    put("corrupt.zip", zip_build(bad), "ARCHIVE_CORRUPT", "filing.xml")
    put("empty.zip", b"", "ARCHIVE_FORMAT", "/")
    put("random.zip", random.Random(3).randbytes(4096), "ARCHIVE_FORMAT", "/")
    put("bare.gz", gzip.compress(files["filing.xml"], mtime=0),
        "ARCHIVE_FORMAT", "/")

    # Chinese names, decoded end to end: the only finding is the unused file
    put("cn-utf8flag.zip", zip_build(package_members(
        [Member(cn, note, flags=0x0800)])), "ATTACHMENT_UNUSED", cn)
    put("cn-gb18030.zip", zip_build(package_members(
        [Member(cn.encode("gb18030"), note)])), "ATTACHMENT_UNUSED", cn)
    raw = b"??.txt"  # what a tool writes when the name will not encode
    put("cn-unicodepath.zip", zip_build(package_members(
        [Member(raw, note, extra=unicode_path_field(raw, cn.encode()))])),
        "ATTACHMENT_UNUSED", cn)
    put("cn-gb18030.tar", tar_build([(tarfile.TarInfo(cn), note)],
                                    fmt=tarfile.USTAR_FORMAT,
                                    encoding="gb18030"),
        "ATTACHMENT_UNUSED", cn)
    put("cn-pax.tar", tar_build([(tarfile.TarInfo(cn), note)]),
        "ATTACHMENT_UNUSED", cn)
    return rows


if __name__ == "__main__":
    import sys
    for r in make(sys.argv[1] if len(sys.argv) > 1 else "/tmp/fx"):
        print("\t".join(r))
