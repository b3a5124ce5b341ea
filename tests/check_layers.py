#!/usr/bin/python3
"""check_layers: what may include what (DESIGN.md, "Shape of the code").

Run from the top of the tree.  Prints one line per breach,
`FILE:LINE: #include "X": why`, and exits 1 if there is any.

- A part includes its own headers and those of parts below it, never one
  above or beside it:
      lib  <-  parsers  <-  common  <-  store, mail, worker  <-  daemon, ctl, web
- Every project header is named with its part ("store/outbox.h").
- Only store/ includes <sqlite3.h>.
- Channels reach the mailer only through the outbox: daemon/mailer.h is
  included by the mailer itself and by the event loop that runs it.
- No source file is much over 1,000 lines (LINES_MAX).
"""
import os
import re
import sys

RANK = {"lib": 0, "parsers": 1, "common": 2,
        "store": 3, "mail": 3, "worker": 3,
        "daemon": 4, "ctl": 4, "web": 4}
LINES_MAX = 1100
# who may include the mailer's header: the mailer's own files and the loop
# that runs it (daemon/beiand.c); never a channel (spool, intake, pipeline)
MAILER_USERS = {"daemon/mailer.c", "daemon/mailer_draft.c",
                "include/daemon/mailer_int.h", "daemon/beiand.c"}

INC = re.compile(r'^\s*#\s*include\s*([<"])([^>"]+)[>"]')


def sources(root):
    for part in RANK:
        for top in (part, os.path.join("include", part)):
            d = os.path.join(root, top)
            if not os.path.isdir(d):
                continue
            for dirpath, _, names in os.walk(d):
                for n in sorted(names):
                    if n.endswith((".c", ".h")):
                        yield part, os.path.relpath(os.path.join(dirpath, n), root)


def check(root="."):
    bad = []
    for part, path in sources(root):
        with open(os.path.join(root, path), encoding="utf-8", errors="replace") as f:
            lines = f.readlines()
        if len(lines) > LINES_MAX:
            bad.append("%s: %d lines (at most %d: split it where a seam is)"
                       % (path, len(lines), LINES_MAX))
        for no, line in enumerate(lines, 1):
            m = INC.match(line)
            if not m:
                continue
            kind, name = m.groups()
            where = '%s:%d: #include %s%s%s' % (
                path, no, kind, name, '"' if kind == '"' else ">")
            if kind == "<":
                if name == "sqlite3.h" and part != "store":
                    bad.append(where + ": only store/ uses SQLite")
                continue
            if "/" not in name:
                if part == "parsers" and name.endswith("_data.h"):
                    continue
                bad.append(where + ": name the header with its part (e.g. \"lib/%s\")" % name)
                continue
            to = name.split("/", 1)[0]
            if to not in RANK:
                bad.append(where + ": no part %s/" % to)
                continue
            if not os.path.exists(os.path.join(root, "include", name)):
                bad.append(where + ": no such header in include/")
                continue
            if to != part and RANK[to] >= RANK[part]:
                rel = "above" if RANK[to] > RANK[part] else "beside"
                bad.append(where + ": %s/ may not include %s/ (a part %s it)"
                           % (part, to, rel))
                continue
            if name == "daemon/mailer.h" and path not in MAILER_USERS \
                    and path != "include/daemon/mailer.h":
                bad.append(where + ": channels reach the mailer only through the outbox")
    for top in ("tests", "bench", "fuzz"):
        d = os.path.join(root, top)
        if not os.path.isdir(d):
            continue
        for n in sorted(os.listdir(d)):
            if n.endswith((".c", ".h")):
                path = os.path.join(top, n)
                with open(os.path.join(root, path), encoding="utf-8", errors="replace") as f:
                    count = sum(1 for _ in f)
                if count > LINES_MAX:
                    bad.append("%s: %d lines (at most %d: split it where a seam is)"
                               % (path, count, LINES_MAX))
    return bad


def main():
    root = sys.argv[1] if len(sys.argv) > 1 else "."
    bad = check(root)
    for b in bad:
        print(b)
    if bad:
        print("check_layers: %d breach(es)" % len(bad))
        return 1
    print("check_layers: ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())
