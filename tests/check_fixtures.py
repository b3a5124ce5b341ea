#!/usr/bin/python3
"""check_fixtures: run `beianctl check` on every fixture of expect.tsv.

Each fixture runs under a 1 GiB address-space limit and a 20 s time
limit: hostile archives must be refused quickly and in bounded memory.
Then the command line contract of DESIGN.md is checked on a few cases.
"""
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time

B = sys.argv[1] if len(sys.argv) > 1 else "build"
CTL = os.path.join(B, "beianctl")
FX = os.path.join(B, "fixtures")
failures = []
EMPTY_CONF = None


def sanitized(path):
    # a binary built with AddressSanitizer carries its runtime's entry
    with open(path, "rb") as f:
        return b"__asan_init" in f.read()


SANITIZED = os.path.exists(CTL) and sanitized(CTL)


def limit():
    # ASan reserves terabytes of address space: the memory bound is
    # checked by the plain build only.
    if not SANITIZED:
        resource.setrlimit(resource.RLIMIT_AS, (1 << 30, 1 << 30))


def run(args, **kw):
    t = time.monotonic()
    # the timeout only ends a check that hangs (each takes well under a
    # second): generous, for a loaded machine and a sanitizer build
    p = subprocess.run([CTL, "-c", EMPTY_CONF] + args, capture_output=True,
                       preexec_fn=limit, timeout=120, **kw)
    return p, time.monotonic() - t


def fail(msg):
    failures.append(msg)
    print("FAIL " + msg)


def fixtures():
    rows = [l.rstrip("\n").split("\t") for l in open(os.path.join(FX, "expect.tsv"))]
    slowest = (0, "")
    for file, expected, epath in rows:
        args = ["check", "--json"]
        if "@" in expected:
            expected, prov = expected.split("@")
            args += ["--provider", prov]
        p, dt = run(args + [os.path.join(FX, file)])
        slowest = max(slowest, (dt, file))
        out = [json.loads(l) for l in p.stdout.decode().splitlines() if l.strip()]
        errors = [o for o in out if o["severity"] == "error"]
        if expected == "OK":
            if p.returncode != 0 or errors:
                fail("%s: expected valid, exit %d: %s %s" % (file, p.returncode, errors[:3], p.stderr.decode()[:300]))
            continue
        hits = [o for o in out if o["code"] == expected and (epath == "*" or o["path"] == epath)]
        want_rc = 0 if expected == "ATTACHMENT_UNUSED" else 1
        if not hits:
            fail("%s: expected %s at %s, got %s (exit %d) %s" % (
                file, expected, epath, [(o["code"], o["path"]) for o in out][:6], p.returncode, p.stderr.decode()[:300]))
        elif p.returncode != want_rc:
            fail("%s: exit %d, want %d" % (file, p.returncode, want_rc))
        elif expected == "ATTACHMENT_UNUSED" and errors:
            fail("%s: unexpected errors %s" % (file, errors[:3]))
    print("%d fixtures checked, slowest %.2fs (%s)" % (len(rows), slowest[0], slowest[1]))


def contract():
    tmp = tempfile.mkdtemp()
    try:
        ok = os.path.join(FX, "archive", "valid.zip")
        bad = os.path.join(FX, "rules", "CERT_NUMBER_INVALID.zip")
        # one package: "PATH: CODE: message"
        p, _ = run(["check", bad])
        line = p.stdout.decode().splitlines()[0] if p.stdout else ""
        if p.returncode != 1 or not line.startswith("/filing/sponsor/principal/certNumber: CERT_NUMBER_INVALID: "):
            fail("single format: exit %d %r" % (p.returncode, line))
        # several: "PACKAGE: PATH: CODE: message"
        p, _ = run(["check", ok, bad])
        lines = p.stdout.decode().splitlines()
        if p.returncode != 1 or not lines or not all(l.startswith(bad + ": /") for l in lines):
            fail("multi format: exit %d %r" % (p.returncode, lines[:2]))
        # all valid: exit 0, nothing on stdout
        p, _ = run(["check", ok, ok])
        if p.returncode != 0 or p.stdout:
            fail("valid: exit %d %r" % (p.returncode, p.stdout[:200]))
        # control bytes in names are escaped
        weird = os.path.join(tmp, "bad\x01\x7fname.zip")
        shutil.copy(bad, weird)
        p, _ = run(["check", ok, weird])
        text = p.stdout.decode()
        if "bad\\x01\\x7fname.zip: " not in text or "\x01" in text:
            fail("escapes: %r" % text[:200])
        # missing file: exit 2
        p, _ = run(["check", os.path.join(tmp, "nope.zip")])
        if p.returncode != 2:
            fail("missing file: exit %d" % p.returncode)
        p, _ = run(["check"])
        if p.returncode != 2:
            fail("no package: exit %d" % p.returncode)
        p, _ = run(["check", "--provider", "NOPE", ok])
        if p.returncode != 2:
            fail("unknown provider: exit %d" % p.returncode)
        # JSON keys
        p, _ = run(["check", "--json", bad])
        o = json.loads(p.stdout.decode().splitlines()[0])
        if sorted(o) != ["code", "message", "package", "path", "severity"]:
            fail("json keys %s" % sorted(o))
        # warnings to stderr, exit 0
        unused = os.path.join(FX, "rules", "ATTACHMENT_UNUSED.zip")
        if os.path.exists(unused):
            p, _ = run(["check", unused])
            if p.returncode != 0 or b"ATTACHMENT_UNUSED" not in p.stderr or p.stdout:
                fail("warning: exit %d out %r err %r" % (p.returncode, p.stdout[:100], p.stderr[:100]))
    finally:
        shutil.rmtree(tmp)


def main():
    global EMPTY_CONF
    d = tempfile.mkdtemp()
    EMPTY_CONF = os.path.join(d, "beiand.conf")
    # the built-in defaults, but never /etc's: a file serves only the
    # provinces and providers it names, so it names the examples
    with open("docs/beiand.conf.example") as f:
        example = f.read()
    with open(EMPTY_CONF, "w") as f:
        f.write(example[example.index("[bureau.11]"):])
    fixtures()
    contract()
    shutil.rmtree(d)
    print("%d failures" % len(failures))
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
