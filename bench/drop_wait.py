#!/usr/bin/python3
"""drop_wait: STAGE INCOMING OUTGOING N — rename every file of STAGE into
INCOMING (as an SFTP client finishing its uploads does), then wait until
OUTGOING holds N receipts.  Prints the milliseconds from the first rename
to the last receipt.  One process, no shell loop, and no polling: the
receipts are counted from inotify events (a receipt is renamed into
OUTGOING), so the harness sleeps while the daemon works and the clock
measures the daemon, not the harness."""
import ctypes
import os
import select
import struct
import sys
import time

IN_CLOSE_WRITE = 0x00000008
IN_MOVED_TO = 0x00000080
IN_Q_OVERFLOW = 0x00004000
IN_CLOEXEC = 0o2000000
EVENT = struct.Struct("iIII")


def receipts(outgoing):
    return {e.name for e in os.scandir(outgoing) if e.name.endswith(".receipt.xml")}


def main():
    stage, incoming, outgoing, n = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
    libc = ctypes.CDLL(None, use_errno=True)
    fd = libc.inotify_init1(IN_CLOEXEC)
    if fd < 0 or libc.inotify_add_watch(fd, outgoing.encode(), IN_MOVED_TO | IN_CLOSE_WRITE) < 0:
        sys.exit("drop_wait: inotify: %s" % os.strerror(ctypes.get_errno()))
    seen = receipts(outgoing)
    names = sorted(os.listdir(stage))
    t0 = time.monotonic()
    for name in names:
        os.rename(os.path.join(stage, name), os.path.join(incoming, name))
    deadline = t0 + 600
    while len(seen) < n:
        left = deadline - time.monotonic()
        if left <= 0 or not select.select([fd], [], [], left)[0]:
            sys.exit("drop_wait: %d of %d receipts after 600 s" % (len(seen), n))
        buf = os.read(fd, 1 << 16)
        off = 0
        while off < len(buf):
            _wd, mask, _cookie, ln = EVENT.unpack_from(buf, off)
            name = buf[off + EVENT.size:off + EVENT.size + ln].rstrip(b"\0").decode()
            off += EVENT.size + ln
            if mask & IN_Q_OVERFLOW:
                seen = receipts(outgoing)  # events were lost: count again
            elif name.endswith(".receipt.xml"):
                seen.add(name)
    print("%d" % round((time.monotonic() - t0) * 1000))


if __name__ == "__main__":
    main()
