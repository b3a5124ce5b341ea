#!/usr/bin/python3
"""web_load: the staff console under measure, from loopback HTTP clients.

  web_load.py render BASE USER PASSWORD ID N
      one session fetches /filings/ID N times (then each with its photos);
      prints the median and 90th percentile in ms: the server's time to
      render the page (the package read through the worker once, then
      from the cache), and the page with every photo on it.
  web_load.py browse BASE USER PASSWORD ID SESSIONS PERIOD STOPFILE
      SESSIONS logged-in sessions (accounts USER1 … USERn), each loading a page every PERIOD
      seconds (the queue or the filing, with its photos), as people
      reading at a counter; until STOPFILE exists.  Prints the pages
      served and the errors.
"""
import http.client
import re
import statistics
import sys
import threading
import time
import urllib.parse


class Session:
    def __init__(self, base, user, pw):
        u = urllib.parse.urlsplit(base)
        self.c = http.client.HTTPConnection(u.hostname, u.port, timeout=60)
        self.cookie = ""
        st, body, hdr = self.req("GET", "/login")
        tok = re.search(r'name="csrf" value="([0-9a-f]+)"', body).group(1)
        login = re.search(r"beiand_login=([0-9a-f]+)", hdr.get("Set-Cookie", ""))
        self.cookie = "beiand_login=" + login.group(1)
        st, body, hdr = self.req(
            "POST", "/login", "csrf=%s&username=%s&password=%s" % (
                tok, urllib.parse.quote(user), urllib.parse.quote(pw)))
        sid = re.search(r"beiand_session=([0-9a-f]{64})", hdr.get("Set-Cookie", ""))
        if st != 303 or sid is None:
            sys.exit("web_load: login %s: %d" % (user, st))
        self.cookie = "beiand_session=" + sid.group(1)

    def req(self, method, path, body=None):
        h = {"Cookie": self.cookie} if self.cookie else {}
        if body is not None:
            h["Content-Type"] = "application/x-www-form-urlencoded"
        self.c.request(method, path, body=body, headers=h)
        r = self.c.getresponse()
        data = r.read()
        hdr = {}
        for k, v in r.getheaders():
            hdr[k] = (hdr[k] + "; " + v) if k in hdr else v
        return r.status, data.decode("utf-8", "replace"), hdr

    def page(self, path, photos=True):
        st, body, _ = self.req("GET", path)
        if st != 200:
            raise RuntimeError("%s: %d" % (path, st))
        if photos:
            for src in sorted(set(re.findall(r'<img class="photo"[^>]*src="([^"]+)"', body))):
                st2, _, _ = self.req("GET", src)
                if st2 != 200:
                    raise RuntimeError("%s: %d" % (src, st2))
        return body


def pct(v, p):
    v = sorted(v)
    return v[min(len(v) - 1, int(len(v) * p))]


def render(base, user, pw, fid, n):
    s = Session(base, user, pw)
    s.page("/filings/" + fid)  # the first read goes through the worker
    page, whole = [], []
    for _ in range(n):
        t = time.perf_counter()
        s.page("/filings/" + fid, photos=False)
        page.append((time.perf_counter() - t) * 1000)
    nphotos = len(set(re.findall(r'<img class="photo"', s.page("/filings/" + fid, False))))
    for _ in range(n):
        t = time.perf_counter()
        s.page("/filings/" + fid)
        whole.append((time.perf_counter() - t) * 1000)
    print("web render: /filings/%s, %d requests: page median %.2f ms (p90 %.2f); "
          "page with its %d photos median %.2f ms (p90 %.2f); goal < 50 ms"
          % (fid, n, statistics.median(page), pct(page, .9),
             len(re.findall(r'<img class="photo"', s.page("/filings/" + fid, False))),
             statistics.median(whole), pct(whole, .9)))
    del nphotos


def browse(base, user, pw, fid, sessions, period, stopfile):
    import os
    done = [0, 0]
    lock = threading.Lock()
    ready = threading.Barrier(sessions + 1)

    def one(k):
        s = Session(base, "%s%d" % (user, k + 1), pw)
        ready.wait()
        nxt = time.monotonic() + period * k / sessions
        i = 0
        while not os.path.exists(stopfile):
            time.sleep(max(0, nxt - time.monotonic()))
            nxt += period
            try:
                if i % 2:
                    s.page("/", photos=False)
                else:
                    s.page("/filings/" + fid)
                with lock:
                    done[0] += 1
            except Exception as e:
                with lock:
                    done[1] += 1
                    if done[1] == 1:
                        print("web_load: %r" % e, file=sys.stderr, flush=True)
                s = Session(base, "%s%d" % (user, k + 1), pw)
            i += 1

    ts = [threading.Thread(target=one, args=(k,), daemon=True) for k in range(sessions)]
    for t in ts:
        t.start()
    ready.wait()
    print("browsing", flush=True)
    for t in ts:
        t.join()
    print("web browse: %d sessions served %d pages, %d errors" % (sessions, done[0], done[1]))


if __name__ == "__main__":
    if sys.argv[1] == "render":
        render(sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5], int(sys.argv[6]))
    else:
        browse(sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5], int(sys.argv[6]),
               float(sys.argv[7]), sys.argv[8])
