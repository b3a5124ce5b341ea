#!/usr/bin/python3
"""mkrecords: provider records for a filing, as one-record batches.

mkrecords.py OUT verification ID   OUT: a batch with ID.verification.xml
                                   (pass, examples/ shape) and its photo and
                                   checklist scan beside it
mkrecords.py OUT withdrawal ID     OUT: a batch with ID.withdrawal.xml
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fxlib  # noqa: E402


def main():
    out, kind, fid = sys.argv[1], sys.argv[2], sys.argv[3]
    if kind == "verification":
        rec = fxlib.example("BA-2026-000123.verification.xml").decode()
        files = {
            fid + ".verification.xml": rec.replace("BA-2026-000123", fid),
            "onsite.jpg": fxlib.jpeg(color=(90, 120, 150)),
            "checklist.jpg": fxlib.jpeg(color=(240, 240, 230)),
        }
    elif kind == "withdrawal":
        files = {fid + ".withdrawal.xml":
                 '<withdrawal xmlns="urn:beiand:withdrawal:1" filing="%s">'
                 '<reason>撤回 / withdrawn by the provider</reason>'
                 '</withdrawal>' % fid}
    else:
        sys.exit("mkrecords: unknown kind " + kind)
    with open(out, "wb") as f:
        f.write(fxlib.zip_bytes(files))


if __name__ == "__main__":
    main()
