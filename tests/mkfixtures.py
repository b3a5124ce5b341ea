#!/usr/bin/python3
"""mkfixtures: build every test fixture into OUTDIR.

Each tests/fx_*.py module has make(outdir) returning rows
(file, expected, path): expected is "OK" for a valid package or the
error code beianctl check must report, path the error path ("*" = any).
The rows are written to OUTDIR/expect.tsv for tests/it_check.sh.
"""
import glob
import importlib
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    rows = []
    here = os.path.dirname(os.path.abspath(__file__))
    for path in sorted(glob.glob(os.path.join(here, "fx_*.py"))):
        mod = importlib.import_module(os.path.basename(path)[:-3])
        rows.extend(mod.make(out))
    with open(os.path.join(out, "expect.tsv"), "w") as f:
        for file, expected, epath in rows:
            f.write("%s\t%s\t%s\n" % (file, expected, epath))
    print("fixtures: %d in %s" % (len(rows), out))


if __name__ == "__main__":
    main()
