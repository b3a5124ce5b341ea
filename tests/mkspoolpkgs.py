#!/usr/bin/python3
"""mkspoolpkgs: the uploads of tests/it_spool.sh, into DIR.

pkg1.zip, pkg3.zip        single valid packages (distinct subjects)
batch.zip                 site-a valid, site-b XXE filing.xml, site-c a
                          damaged photo
trunc-whole.zip           a valid package; trunc-part.zip its first half
bomb.zip                  a compression bomb (refused, quarantined)
"""
import os
import sys
import zipfile
import zlib

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fxlib  # noqa: E402

USCC_SET = "0123456789ABCDEFGHJKLMNPQRTUWXY"


def uscc(i):
    """A valid USCC of its own for test subject i."""
    body = "%08d" % (20000000 + i)
    c = 11 - sum(int(ch, 36) * w for ch, w in zip(body, [3, 7, 9, 10, 5, 8, 4, 2])) % 11
    s17 = "91110108" + body + ("X" if c == 10 else "0" if c == 11 else str(c))
    s = sum(USCC_SET.index(ch) * pow(3, k, 31) for k, ch in enumerate(s17))
    return s17 + USCC_SET[(31 - s % 31) % 31]


USCC = [uscc(i) for i in range(8)]


def variant(n, uscc):
    x = fxlib.good_filing_xml().replace("example.cn", "site%d.cn" % n)
    return x.replace("91110108MA01XY3K34", uscc)


def bomb():
    """A zip with one member of 2 GiB of zeros, made without holding it."""
    co = zlib.compressobj(9, zlib.DEFLATED, -15)
    chunk = bytes(1 << 20)
    parts = [co.compress(chunk) for _ in range(2048)]
    parts.append(co.flush())
    data = b"".join(parts)
    size = 2048 << 20
    crc = 0
    for _ in range(2048):
        crc = zlib.crc32(chunk, crc)
    name = b"zeros.bin"
    import struct
    local = struct.pack("<IHHHHHIIIHH", 0x04034b50, 45, 0, 8, 0, 0, crc,
                        len(data), size & 0xffffffff, len(name), 0) + name
    central = struct.pack("<IHHHHHHIIIHHHHHII", 0x02014b50, 45, 45, 0, 8, 0, 0,
                          crc, len(data), size & 0xffffffff, len(name), 0, 0, 0,
                          0, 0, 0) + name
    end = struct.pack("<IHHHHIIH", 0x06054b50, 0, 0, 1, 1, len(central),
                      len(local) + len(data), 0)
    return local + data + central + end


def main():
    t = sys.argv[1]

    def put(name, data):
        with open(os.path.join(t, name), "wb") as f:
            f.write(data)

    put("pkg1.zip", fxlib.zip_bytes(fxlib.package_files(variant(1, USCC[0]))))
    b = {}
    for k, v in fxlib.package_files(variant(2, USCC[1])).items():
        b["site-a/" + k] = v
    xxe = variant(3, USCC[2]).replace(
        '<?xml version="1.0" encoding="UTF-8"?>',
        '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>')
    for k, v in fxlib.package_files(xxe).items():
        b["site-b/" + k] = v
    broken = bytearray(fxlib.png())
    broken[40] ^= 0xff
    for k, v in fxlib.package_files(variant(6, USCC[6]), photo=bytes(broken)).items():
        b["site-c/" + k] = v
    put("batch.zip", fxlib.zip_bytes(b))
    put("pkg3.zip", fxlib.zip_bytes(fxlib.package_files(variant(4, USCC[4]))))
    whole = fxlib.zip_bytes(fxlib.package_files(
        variant(5, USCC[5]).replace("site5", "site5b")))
    put("trunc-whole.zip", whole)
    put("trunc-part.zip", whole[: len(whole) // 2])
    put("bomb.zip", bomb())


if __name__ == "__main__":
    main()
