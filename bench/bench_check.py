#!/usr/bin/python3
"""bench_check: `beianctl check` throughput against a shell pipeline.

The pipeline does the same work the way one would by hand: unpack with
bsdtar into a temporary folder and validate filing.xml with
`xmllint --schema`.  Both run in this one invocation on the same packages;
the figure is the ratio of their medians (3 runs each).  Peak RSS of
beianctl is read at N/4 and N packages to show it stays flat.
"""
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

B = sys.argv[1]
N = int(sys.argv[2])
CTL = os.path.abspath(os.path.join(B, "beianctl"))
XSD = os.path.abspath("parsers/xsd/filing.xsd")
PIPE_N = min(N, 300)
RUNS = 3


def gen(outdir, n, fmt):
    subprocess.run(["/usr/bin/python3", "bench/gen_packages.py", outdir, str(n),
                    "--format", fmt], check=True, stdout=subprocess.DEVNULL)
    return sorted(os.path.join(outdir, f) for f in os.listdir(outdir))


def run_ctl(pkgs, conf):
    """Seconds and peak RSS (KiB) of one beianctl process over pkgs."""
    t = time.monotonic()
    p = subprocess.Popen([CTL, "-c", conf, "check"] + pkgs,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    out, err = p.communicate()
    dt = time.monotonic() - t
    if p.returncode != 0:
        sys.exit("beianctl check failed (%d): %s %s" % (p.returncode, out[:300], err[:300]))
    return dt


def peak_rss(pkgs, conf):
    pid = os.fork()
    if pid == 0:
        fd = os.open(os.devnull, os.O_WRONLY)
        os.dup2(fd, 1)
        os.dup2(fd, 2)
        os.execv(CTL, [CTL, "-c", conf, "check"] + pkgs)
    _, status, ru = os.wait4(pid, 0)
    return ru.ru_maxrss


def run_pipeline(pkgs, tmp):
    script = ('for p in "$@"; do d=$(mktemp -d -p %s); bsdtar -xf "$p" -C "$d" && '
              'xmllint --noout --nonet --schema %s "$d/filing.xml" 2>/dev/null || exit 1; '
              'rm -rf "$d"; done' % (tmp, XSD))
    t = time.monotonic()
    subprocess.run(["sh", "-c", script, "sh"] + pkgs, check=True)
    return time.monotonic() - t


def bench(fmt, conf, tmp):
    d = os.path.join(tmp, fmt)
    pkgs = gen(d, N, fmt)
    mb = sum(os.path.getsize(p) for p in pkgs) / 1e6
    ctl = statistics.median(run_ctl(pkgs, conf) for _ in range(RUNS))
    pipe = statistics.median(run_pipeline(pkgs[:PIPE_N], tmp) for _ in range(RUNS))
    rss_small = peak_rss(pkgs[: max(1, N // 4)], conf)
    rss_full = peak_rss(pkgs, conf)
    ctl_rate = N / ctl
    pipe_rate = PIPE_N / pipe
    print("check %-4s N=%d  beianctl: %.0f packages/s, %.1f MB/s, %.3f ms/package | "
          "pipeline: %.1f packages/s | ratio %.1fx | peak RSS %d KiB at N/4, %d KiB at N"
          % (fmt, N, ctl_rate, mb / ctl, 1000 * ctl / N, pipe_rate,
             ctl_rate / pipe_rate, rss_small, rss_full))
    shutil.rmtree(d)


def main():
    tmp = tempfile.mkdtemp(prefix="beiand-bench-")
    try:
        conf = os.path.join(tmp, "beiand.conf")
        open(conf, "w").close()
        bench("zip", conf, tmp)
        bench("mix", conf, tmp)
    finally:
        shutil.rmtree(tmp)


if __name__ == "__main__":
    main()
