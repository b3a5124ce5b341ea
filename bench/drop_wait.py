#!/usr/bin/python3
"""drop_wait: STAGE INCOMING OUTGOING N — rename every file of STAGE into
INCOMING (as an SFTP client finishing its uploads does), then wait until
OUTGOING holds N receipts.  Prints the milliseconds from the first rename
to the last receipt.  One process, no shell loop: the clock measures the
daemon, not the harness."""
import os
import sys
import time


def main():
    stage, incoming, outgoing, n = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
    names = sorted(os.listdir(stage))
    t0 = time.monotonic()
    for name in names:
        os.rename(os.path.join(stage, name), os.path.join(incoming, name))
    deadline = t0 + 600
    while True:
        got = sum(1 for e in os.scandir(outgoing) if e.name.endswith(".receipt.xml"))
        if got >= n:
            break
        if time.monotonic() > deadline:
            sys.exit("drop_wait: %d of %d receipts after 600 s" % (got, n))
        time.sleep(0.01)
    print("%d" % round((time.monotonic() - t0) * 1000))


if __name__ == "__main__":
    main()
