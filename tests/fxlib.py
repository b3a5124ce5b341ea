"""fxlib: building blocks for the test fixtures (used by tests/fx_*.py).

Photos are real JPEG/PNG files made with Pillow; archives with Python's
zipfile/tarfile, or built byte by byte where a hostile shape needs it.
"""
import io
import os
import re
import tarfile
import zipfile

from PIL import Image

HERE = os.path.dirname(os.path.abspath(__file__))
EXAMPLES = os.path.join(HERE, "..", "examples")

_photo_cache = {}


def jpeg(w=480, h=640, color=(200, 180, 160), quality=80):
    key = ("jpeg", w, h, color, quality)
    if key not in _photo_cache:
        im = Image.new("RGB", (w, h), color)
        # a little structure so the JPEG is not trivially tiny
        for x in range(0, w, 16):
            for y in range(0, h, 16):
                im.putpixel((x, y), ((x * 7) % 256, (y * 3) % 256, 90))
        buf = io.BytesIO()
        im.save(buf, "JPEG", quality=quality)
        _photo_cache[key] = buf.getvalue()
    return _photo_cache[key]


def png(w=480, h=640, color=(120, 160, 200)):
    key = ("png", w, h, color)
    if key not in _photo_cache:
        im = Image.new("RGB", (w, h), color)
        buf = io.BytesIO()
        im.save(buf, "PNG")
        _photo_cache[key] = buf.getvalue()
    return _photo_cache[key]


def example(name):
    with open(os.path.join(EXAMPLES, name), "rb") as f:
        return f.read()


def good_filing_xml():
    """The example first filing (valid on any day before 2036-03-07 - 90d)."""
    return example("filing.xml").decode("utf-8")


def named_files(xml):
    """Every file="…" the document names, in order, without repeats."""
    seen = []
    for m in re.finditer(r'file="([^"]+)"', xml):
        if m.group(1) not in seen:
            seen.append(m.group(1))
    return seen


def package_files(xml, photo=None, extra=None, drop=()):
    """filing.xml plus a photo for every named file (minus drop)."""
    if isinstance(xml, str):
        xml_bytes = xml.encode("utf-8")
    else:
        xml_bytes = xml
        xml = xml.decode("utf-8", "replace")
    files = {"filing.xml": xml_bytes}
    for n in named_files(xml):
        if n not in drop:
            files[n] = photo if photo is not None else jpeg()
    if extra:
        files.update(extra)
    return files


def zip_bytes(files, prefix="", compression=zipfile.ZIP_DEFLATED):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression) as z:
        for name, data in files.items():
            z.writestr(prefix + name, data)
    return buf.getvalue()


def tar_bytes(files, prefix="", mode="w"):
    """mode: "w" (tar), "w:gz", "w:xz"."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode=mode, format=tarfile.PAX_FORMAT) as t:
        for name, data in files.items():
            ti = tarfile.TarInfo(prefix + name)
            ti.size = len(data)
            ti.mtime = 1764288000
            ti.mode = 0o644
            t.addfile(ti, io.BytesIO(data))
    return buf.getvalue()


def write(outdir, name, data):
    path = os.path.join(outdir, name)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(data)
    return name
