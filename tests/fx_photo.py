"""fx_photo: photo fixtures (FORMAT.md §2).

Loose photos under photo/ are read by tests/test_photo.c; packages under
photo/ carry one bad photo in place of the principal's certFront
(zs-front.jpg, /filing/sponsor/principal/attachment[1]) and are the rows
returned for the integration test.
"""
import io
import random

from PIL import Image

import fxlib

CERT_FRONT = "zs-front.jpg"
CERT_FRONT_PATH = "/filing/sponsor/principal/attachment[1]/@file"
MIB = 1024 * 1024


def _textured(w, h, seed):
    """An image with some structure, so encoders produce real data."""
    r = random.Random(seed)
    im = Image.new("RGB", (w, h), (r.randrange(256), 120, 200))
    for y in range(0, h, 8):
        for x in range(0, w, 8):
            im.putpixel((x, y), (r.randrange(256), r.randrange(256), 64))
    return im


def _encode(im, fmt, **kw):
    buf = io.BytesIO()
    im.save(buf, fmt, **kw)
    return buf.getvalue()


def _big_jpeg():
    """A JPEG over 5 MiB: 2200x2200 noise at quality 95, padded if short."""
    r = random.Random(5)
    im = Image.frombytes("RGB", (2200, 2200), r.randbytes(2200 * 2200 * 3))
    data = _encode(im, "JPEG", quality=95)
    pad = []
    missing = 5 * MIB + 4096 - len(data)
    while missing > 0:
        n = min(missing, 65533)
        # COM segments of noise: do not compress away inside a zip
        pad.append(b"\xff\xfe" + (n + 2).to_bytes(2, "big") + r.randbytes(n))
        missing -= n + 4
    data = data[:2] + b"".join(pad) + data[2:]
    assert len(data) > 5 * MIB
    return data


def _corrupt_crc(png):
    """Flip one byte of the first IDAT chunk's CRC."""
    i = png.index(b"IDAT")
    n = int.from_bytes(png[i - 4:i], "big")
    crc = i + 4 + n
    return png[:crc] + bytes([png[crc] ^ 0x01]) + png[crc + 1:]


def make(outdir):
    ok_jpg = _encode(_textured(480, 640, 1), "JPEG", quality=85)
    photos = {
        "ok.jpg": ok_jpg,
        "progressive.jpg": _encode(_textured(800, 600, 2), "JPEG",
                                   quality=80, progressive=True),
        "ok.png": _encode(_textured(600, 800, 3), "PNG"),
        "small.jpg": _encode(_textured(300, 400, 4), "JPEG", quality=85),
        "huge-dims.png": _encode(_textured(480, 6000, 6), "PNG"),
        "truncated.jpg": ok_jpg[:len(ok_jpg) * 2 // 3],
        "gif.gif": _encode(_textured(480, 640, 7), "GIF"),
        "big.jpg": _big_jpeg(),
    }
    photos["corrupt-crc.png"] = _corrupt_crc(photos["ok.png"])
    for name, data in photos.items():
        fxlib.write(outdir, "photo/" + name, data)

    xml = fxlib.good_filing_xml()
    rows = []
    bad = [
        ("pkg-dimensions.zip", "small.jpg", "PHOTO_DIMENSIONS"),
        ("pkg-dimensions-long.zip", "huge-dims.png", "PHOTO_DIMENSIONS"),
        ("pkg-corrupt.zip", "truncated.jpg", "PHOTO_CORRUPT"),
        ("pkg-corrupt-crc.zip", "corrupt-crc.png", "PHOTO_CORRUPT"),
        ("pkg-format.zip", "gif.gif", "PHOTO_FORMAT"),
        ("pkg-too-large.zip", "big.jpg", "PHOTO_TOO_LARGE"),
    ]
    for pkg, photo, code in bad:
        files = fxlib.package_files(xml)
        files[CERT_FRONT] = photos[photo]
        rows.append((fxlib.write(outdir, "photo/" + pkg,
                                 fxlib.zip_bytes(files)),
                     code, CERT_FRONT_PATH))
    files = fxlib.package_files(xml, photo=photos["ok.png"])
    rows.append((fxlib.write(outdir, "photo/pkg-png-ok.zip",
                             fxlib.zip_bytes(files)), "OK", "*"))
    return rows


if __name__ == "__main__":
    import sys
    for row in make(sys.argv[1]):
        print("\t".join(row))
