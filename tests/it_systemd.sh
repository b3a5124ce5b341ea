#!/bin/sh
# it_systemd: the operational side.
#   1. make install into a DESTDIR: binaries, unit, sysusers, tmpfiles,
#      man pages (groff-clean), a default config that `beiand -n` accepts.
#   2. The installed units (beiand, beiand-web), paths pointed into the DESTDIR, pass
#      `systemd-analyze verify`; `systemd-analyze security --offline=true`
#      rates it at exposure <= 2.0; sysusers and tmpfiles build their
#      tree in a scratch root.
#   3. sd_notify: beiand -f with a NOTIFY_SOCKET of our own (a python3
#      datagram listener, noting the kernel's send time of each message)
#      and WATCHDOG_USEC=2 s sends READY=1, STATUS=, WATCHDOG=1 at least
#      every period and at most every half period (on average over five
#      pings); SIGHUP with a bad config keeps the old one (RELOADING=1
#      ... READY=1, still running), SIGTERM sends STOPPING=1; beiand-web
#      the same (READY once it serves, WATCHDOG=1, STOPPING=1).
#   4. SIGTERM in the middle of a batch loses nothing: every upload has a
#      receipt or is still in incoming/ or work/, and after a restart all
#      are filed exactly once.
#   5. metrics_file is parsed by a real Prometheus text parser
#      (python3-prometheus-client) and agrees with the store.
#   6. A metrics file that cannot be written is logged once, not at every
#      refresh (counted by the STATUS= messages that come with each), and
#      once more when it works again; beiand -n names its missing folder.
#   The unit grants CAP_DAC_READ_SEARCH alone (bounding and ambient) and
#   has no PrivateUsers= (a capability would not reach the providers'
#   files in a user namespace).
. "$(dirname "$0")/daemon_lib.sh"

N=${SYSTEMD_N:-150}
TOP=$(mktemp -d /tmp/beiand-sd.XXXXXX)
chmod 755 "$TOP"
LPID=
trap 'bd_kill; [ -n "$LPID" ] && kill "$LPID" 2>/dev/null; rm -rf "$TOP"' EXIT

fail()
{
	echo "FAIL: $*" >&2
	[ -f "${BEIAND_DIR:-/nonexistent}/beiand.log" ] &&
		tail -n 30 "$BEIAND_DIR/beiand.log" >&2
	[ -f "$TOP/notify.out" ] && { echo "notify:"; cat "$TOP/notify.out"; } >&2
	exit 1
}

# wait_for SEC COMMAND...: poll every 0.1 s until COMMAND succeeds (a
# wait for a state: SEC only bounds a test that would hang).
wait_for()
{
	_n=$(( $1 * 10 ))
	shift
	until "$@"; do
		_n=$((_n - 1))
		[ $_n -le 0 ] && return 1
		sleep 0.1
	done
}

# ---- 1. make install -------------------------------------------------
D=$TOP/dest
make -s B="$B" DESTDIR="$D" PREFIX=/usr install >"$TOP/install.log" 2>&1 ||
	{ cat "$TOP/install.log"; fail "make install"; }
for f in usr/sbin/beiand usr/bin/beianctl usr/sbin/beiand-web \
    usr/libexec/beiand/beiand-worker usr/libexec/beiand/beiand-imap \
    usr/lib/systemd/system/beiand.service \
    usr/lib/systemd/system/beiand-web.service usr/lib/sysusers.d/beiand.conf \
    usr/lib/tmpfiles.d/beiand.conf usr/share/man/man8/beiand.8 \
    usr/share/man/man8/beianctl.8 usr/share/man/man8/beiand-web.8 \
    usr/share/man/man5/beiand.conf.5 etc/beiand/beiand.conf; do
	[ -f "$D/$f" ] || fail "make install: no $f"
done
[ -x "$D/usr/sbin/beiand" ] && [ -x "$D/usr/bin/beianctl" ] &&
    [ -x "$D/usr/libexec/beiand/beiand-worker" ] &&
    [ -x "$D/usr/libexec/beiand/beiand-imap" ] ||
	fail "binaries not executable"
[ "$(stat -c %a "$D/etc/beiand/beiand.conf")" = 640 ] ||
	fail "beiand.conf is not mode 0640"
grep -q '@[A-Z]*@' "$D/usr/lib/systemd/system/beiand.service" \
    "$D/usr/lib/systemd/system/beiand-web.service" &&
	fail "unit has unsubstituted @VARS@"
grep -q '^ExecStart=/usr/sbin/beiand-web -c /etc/beiand/beiand.conf$' \
    "$D/usr/lib/systemd/system/beiand-web.service" || fail "web ExecStart path"
grep -q '^ExecStart=/usr/sbin/beiand -c /etc/beiand/beiand.conf$' \
    "$D/usr/lib/systemd/system/beiand.service" || fail "ExecStart path"
# staged in D: its helpers are in D's /usr/libexec/beiand
out=$(BEIAND_LIBEXEC="$D/usr/libexec/beiand" "$D/usr/sbin/beiand" -n \
    -c "$D/etc/beiand/beiand.conf" 2>&1)
[ "$out" = "configuration OK" ] || fail "installed config: $out"
grep -q '^spool_dir *= /var/spool/beiand' "$D/etc/beiand/beiand.conf" ||
	fail "installed config: spool_dir"
for m in man8/beiand.8 man8/beianctl.8 man8/beiand-web.8 man5/beiand.conf.5; do
	w=$(groff -k -man -ww -z "$D/usr/share/man/$m" 2>&1)
	[ -z "$w" ] || fail "groff warnings in $m: $w"
done
# a second install keeps an administrator's configuration
echo "; local" >>"$D/etc/beiand/beiand.conf"
make -s B="$B" DESTDIR="$D" PREFIX=/usr install >/dev/null 2>&1 ||
	fail "second make install"
tail -n 1 "$D/etc/beiand/beiand.conf" | grep -q '^; local$' ||
	fail "make install overwrote beiand.conf"
echo "ok: make install"

# ---- 2. the unit, offline ---------------------------------------------
U=$TOP/unit
mkdir -p "$U"
for unit in beiand beiand-web; do
	sed -e "s|/usr/sbin/beiand|$D/usr/sbin/beiand|g" \
	    -e "s| /etc/beiand/| $D/etc/beiand/|g" \
	    "$D/usr/lib/systemd/system/$unit.service" >"$U/$unit.service"
	v=$(MANPATH="$D/usr/share/man" systemd-analyze verify "$U/$unit.service" 2>&1)
	[ -z "$v" ] || fail "systemd-analyze verify $unit: $v"
	grep -q '^Type=notify$' "$U/$unit.service" || fail "$unit: not Type=notify"
	grep -q '^User=beiand$' "$U/$unit.service" || fail "$unit: not User=beiand"
	if [ $unit = beiand ]; then
		grep -q '^CapabilityBoundingSet=CAP_DAC_READ_SEARCH$' "$U/beiand.service" &&
		    grep -q '^AmbientCapabilities=CAP_DAC_READ_SEARCH$' "$U/beiand.service" ||
			fail "the unit does not grant CAP_DAC_READ_SEARCH (alone)"
		grep -q '^PrivateUsers=' "$U/beiand.service" &&
			fail "PrivateUsers= would keep the capability from the providers' files"
	fi
	if systemd-analyze security --help 2>&1 | grep -q -- '--offline'; then
		sec=$(systemd-analyze security --offline=true "$U/$unit.service" 2>&1)
		exp=$(echo "$sec" | sed -n "s/.*Overall exposure level for $unit.service: \([0-9.]*\).*/\1/p")
		[ -n "$exp" ] || fail "systemd-analyze security $unit: $sec"
		awk -v e="$exp" 'BEGIN { exit !(e <= 2.0) }' ||
			{ echo "$sec" | grep '✗'; fail "$unit: exposure $exp > 2.0"; }
		echo "ok: $unit exposure $exp"
	else
		echo "skip: systemd-analyze security has no --offline here"
	fi
done
R=$TOP/root
mkdir -p "$R/etc/beiand"
cp "$D/etc/beiand/beiand.conf" "$R/etc/beiand/"
systemd-sysusers --root="$R" "$D/usr/lib/sysusers.d/beiand.conf" >/dev/null 2>&1 ||
	fail "systemd-sysusers"
grep -q '^beiand:' "$R/etc/passwd" || fail "sysusers made no user beiand"
grep -q '^beiand-worker:' "$R/etc/passwd" ||
	fail "sysusers made no user beiand-worker"
systemd-tmpfiles --root="$R" --create "$D/usr/lib/tmpfiles.d/beiand.conf" ||
	fail "systemd-tmpfiles"
bu=$(awk -F: '$1 == "beiand" { print $3 }' "$R/etc/passwd")
for row in "var/spool/beiand 755 0" "var/spool/beiand/providers 755 0" \
    "var/spool/beiand/work 700 $bu" "var/spool/beiand/quarantine 750 $bu" \
    "var/spool/beiand/bureau 755 $bu" "var/lib/beiand 700 $bu" \
    "etc/beiand/beiand.conf 640 0"; do
	set -- $row
	got=$(stat -c '%a %u' "$R/$1" 2>/dev/null)
	[ "$got" = "$2 $3" ] || fail "tmpfiles: $1 is '$got', want '$2 $3'"
done
echo "ok: unit verified; sysusers and tmpfiles"

# ---- 3. sd_notify --------------------------------------------------------
SOCK=$TOP/notify.sock
cat >"$TOP/listen.py" <<'PY'
# Each message with the time the kernel stamped it as it was sent, not
# when this process got round to reading it (late on a busy machine).
import socket, struct, sys, time
SO_TIMESTAMPNS = getattr(socket, "SO_TIMESTAMPNS", 35)
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMPNS, 1)
s.bind(sys.argv[1])
with open(sys.argv[2], "a", buffering=1) as out:
    print("listening", file=out)
    while True:
        m, anc, _, _ = s.recvmsg(4096, socket.CMSG_SPACE(16))
        t = time.time()
        for lvl, typ, data in anc:
            if lvl == socket.SOL_SOCKET and typ == SO_TIMESTAMPNS:
                sec, nsec = struct.unpack("qq", data[:16])
                t = sec + nsec / 1e9
        m = m.decode("utf-8", "replace")
        print("%.3f %s" % (t, m.replace("\n", "|")), file=out)
PY
: >"$TOP/notify.out"
/usr/bin/python3 "$TOP/listen.py" "$SOCK" "$TOP/notify.out" &
LPID=$!
wait_for 30 grep -q '^listening' "$TOP/notify.out" || fail "listener"

bd_config "$TOP/b" "metrics_file = beiand.prom" "workers = 1"
cp "$BEIAND_DIR/beiand.conf" "$TOP/good.conf"
export NOTIFY_SOCKET="$SOCK" WATCHDOG_USEC=2000000
bd_start || fail "beiand did not start"
unset NOTIFY_SOCKET WATCHDOG_USEC
has() { grep -q " $1" "$TOP/notify.out"; }
count() { grep -c " $1" "$TOP/notify.out"; }
# (wait_for's arguments are expanded once: counts are taken in functions)
ready_more_than() { [ "$(count 'READY=1')" -gt "$1" ]; }
wait_for 60 has 'READY=1' || fail "no READY=1"
wait_for 60 has 'STATUS=' || fail "no STATUS="
# 2 s period: the daemon pings every half period.  Five pings after
# READY (a state, waited for), then their pace from the kernel's send
# times, on average over the four intervals (a loop turn that wakes a
# little early or late moves one ping, not the average): no slower than
# the period (what systemd enforces; the daemon aims at half of it, the
# rest is room for a loaded machine), no faster than half the period
# (the rate limit; 0.9 s allows for the clocks).
wd_pings() { awk '/ READY=1/ { r = 1 } r && / WATCHDOG=1/ { print $1 }' "$TOP/notify.out"; }
wd_five() { [ "$(wd_pings | wc -l)" -ge 5 ]; }
wait_for 60 wd_five || fail "only $(wd_pings | wc -l) WATCHDOG=1 after READY"
pace=$(wd_pings | head -n 5 | awk 'NR == 1 { f = $1 } { l = $1 } END { printf "%.3f", (l - f) / 4 }')
awk -v p="$pace" 'BEGIN { exit !(p <= 2.0) }' ||
	fail "watchdog pinged every $pace s on average, WATCHDOG_USEC is 2 s"
awk -v p="$pace" 'BEGIN { exit !(p >= 0.9) }' ||
	fail "watchdog pinged every $pace s on average: faster than WATCHDOG_USEC/2"
echo "ok: READY, STATUS, watchdog pings every $pace s"

# SIGHUP with a bad file: the running configuration stays
printf '[nosuch]\nkey = 1\n' >>"$BEIAND_DIR/beiand.conf"
nr=$(count 'READY=1')
kill -HUP "$BEIAND_PID"
wait_for 60 grep -q 'keeping the running configuration' "$BEIAND_DIR/beiand.log" ||
	fail "bad config on SIGHUP not reported"
kill -0 "$BEIAND_PID" || fail "beiand died on a bad config"
wait_for 60 has 'RELOADING=1|MONOTONIC_USEC=' || fail "no RELOADING=1 with MONOTONIC_USEC"
wait_for 60 ready_more_than "$nr" || fail "no READY=1 after a failed reload"
cp "$TOP/good.conf" "$BEIAND_DIR/beiand.conf"
kill -HUP "$BEIAND_PID"
wait_for 60 grep -q 'config: reloaded' "$BEIAND_DIR/beiand.log" ||
	fail "good config not reloaded"
echo "ok: SIGHUP with a bad config keeps the old one"

# beiand-web: READY=1 once it serves, watchdog pings, STOPPING=1
case "$B" in /*) WEBBIN=$B/beiand-web ;; *) WEBBIN=$(pwd)/$B/beiand-web ;; esac
cp "$BEIAND_DIR/beiand.conf" "$BEIAND_DIR/web.conf"
printf '[web]\nlisten = 127.0.0.1:%s\n' "$(/usr/bin/python3 -c 'import socket
s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')" \
    >>"$BEIAND_DIR/web.conf"
: >"$TOP/notify.out"
NOTIFY_SOCKET="$SOCK" WATCHDOG_USEC=2000000 \
    "$WEBBIN" -f -c "$BEIAND_DIR/web.conf" >"$TOP/web.log" 2>&1 &
WEBPID=$!
wait_for 10 has 'READY=1' || fail "beiand-web: no READY=1 ($(cat "$TOP/web.log"))"
grep -q 'web: started' "$TOP/web.log" || fail "beiand-web: READY before it serves"
wait_for 5 has 'WATCHDOG=1' || fail "beiand-web: no WATCHDOG=1"
kill -TERM "$WEBPID"
wait_for 5 has 'STOPPING=1' || fail "beiand-web: no STOPPING=1"
wait "$WEBPID" || fail "beiand-web exited $? after SIGTERM"
echo "ok: beiand-web READY, WATCHDOG, STOPPING"

# ---- 4. SIGTERM during a batch ----------------------------------------
# (metrics are checked with a real parser after each run: see 5.)
M=$BEIAND_DIR/beiand.prom
cat >"$TOP/prom.py" <<'PY'
import sys
from prometheus_client.parser import text_string_to_metric_families
want_n = int(sys.argv[2])
want_ingested = int(sys.argv[3])
fams = {f.name: f for f in text_string_to_metric_families(open(sys.argv[1]).read())}
# the text parser strips _total from counter family names
need = {"beiand_filings": "gauge", "beiand_ingested": "counter",
        "beiand_mails_total": "gauge", "beiand_outbox_depth": "gauge",
        "beiand_outbox_oldest_deferred_seconds": "gauge",
        "beiand_imap_last_sync_timestamp_seconds": "gauge",
        "beiand_quarantine_items": "gauge", "beiand_worker_restarts": "counter"}
for name, typ in need.items():
    if name not in fams:
        sys.exit("missing family %s (have %s)" % (name, sorted(fams)))
    if fams[name].type != typ:
        sys.exit("%s is %s, want %s" % (name, fams[name].type, typ))
av = [s.value for s in fams["beiand_filings"].samples
      if s.labels.get("state") == "awaiting_verification"]
if av != [want_n]:
    sys.exit("awaiting_verification %r, want %d" % (av, want_n))
for s in fams["beiand_ingested"].samples:
    if set(s.labels) != {"channel", "result"}:
        sys.exit("ingested labels %r" % s.labels)
got = sum(s.value for s in fams["beiand_ingested"].samples
          if s.labels["channel"] == "spool")
if got != want_ingested:
    sys.exit("spool ingests %r, want %d" % (got, want_ingested))
PY
/usr/bin/python3 bench/gen_packages.py "$TOP/pk" "$N" --first 400000 >/dev/null ||
	fail "gen_packages"
P=$BEIAND_DIR/spool/providers/P001
mv "$TOP/pk" "$P/stage"
# all at once (one mv per upload lets the daemon keep up with the drops)
bd_drop "$P/stage" "$P/incoming" || fail "dropping the uploads"
rmdir "$P/stage"
receipts() { ls "$P/outgoing" | grep -c '\.receipt\.xml$'; }
receipts_at_least() { [ "$(receipts)" -ge "$1" ]; }
# SIGTERM at the first receipt: polled often, so that it lands mid-batch
i=0
until receipts_at_least 1; do
	i=$((i + 1))
	[ $i -le 6000 ] || fail "no receipt"
	sleep 0.01
done
kill -TERM "$BEIAND_PID"
wait_for 60 has 'STOPPING=1' || fail "no STOPPING=1 on SIGTERM"
wait "$BEIAND_PID"
rc=$?
BEIAND_PID=
[ $rc -eq 0 ] || fail "beiand exited $rc after SIGTERM"
done1=$(receipts)
left_in=$(ls "$P/incoming" | wc -l)
left_work=$(ls "$BEIAND_DIR/spool/work" | wc -l)
[ $((done1 + left_in + left_work)) -eq "$N" ] ||
	fail "after SIGTERM: $done1 receipts + $left_in incoming + $left_work work != $N"
[ "$done1" -lt "$N" ] || echo "note: the batch was done before SIGTERM"
# the final metrics of this run: what it committed
/usr/bin/python3 "$TOP/prom.py" "$M" "$done1" "$done1" ||
	fail "metrics after SIGTERM"
echo "ok: SIGTERM with $done1 of $N done, $left_in waiting, $left_work claimed"
kill "$LPID" 2>/dev/null
LPID=

bd_start || fail "restart"
bd_wait_count 60 "$N" receipts || fail "only $(receipts) of $N receipts, none more for 60 s"
nf=$(bd_ctl list --json | wc -l)
[ "$nf" -eq "$N" ] || fail "$nf filings for $N packages"
[ "$(ls "$P/incoming" | wc -l)" -eq 0 ] || fail "incoming/ not empty"
echo "ok: after the restart all $N are filed exactly once"

# ---- 5. metrics ---------------------------------------------------------
check_metrics() {
	/usr/bin/python3 "$TOP/prom.py" "$M" "$N" $((N - done1)) 2>"$TOP/prom.err"
}
wait_for 60 check_metrics || fail "metrics: $(cat "$TOP/prom.err")"
[ "$(stat -c %a "$M")" = 644 ] || fail "metrics file mode"
bd_stop
# (while the daemon runs, a rewrite may be under way: looked for after)
ls -a "$BEIAND_DIR" | grep -q '\.beiand\.prom\.tmp' && fail "metrics temp file left"
echo "ok: metrics parsed by prometheus_client"
# ---- 6. a metrics file that cannot be written ---------------------------
rm -f "$SOCK"
: >"$TOP/notify.out"
/usr/bin/python3 "$TOP/listen.py" "$SOCK" "$TOP/notify.out" &
LPID=$!
wait_for 60 grep -q '^listening' "$TOP/notify.out" || fail "listener"
bd_config "$TOP/m" "metrics_file = nosuch/beiand.prom" "workers = 1"
out=$("$BEIAND" -n -c "$BEIAND_DIR/beiand.conf" 2>&1) &&
	fail "-n accepts a missing metrics folder"
echo "$out" | grep -q "^$TOP/m/nosuch: missing (the folder of metrics_file)" ||
	fail "-n on a missing metrics folder: $out"
export NOTIFY_SOCKET="$SOCK"
bd_start || fail "beiand did not start"
unset NOTIFY_SOCKET
failed() { grep -c "metrics: $TOP/m/nosuch/beiand.prom: No such file" \
    "$BEIAND_DIR/beiand.log"; }
bd_wait_log "metrics: $TOP/m/nosuch/beiand.prom: No such file" 60 ||
	fail "the failing metrics file is not logged"
# every refresh sends STATUS=: three after the first failure are three
# more tries
s0=$(count 'STATUS=')
status_past() { [ "$(count 'STATUS=')" -ge $(($1 + 3)) ]; }
wait_for 60 status_past "$s0" || fail "no refreshes"
[ "$(failed)" -eq 1 ] || fail "the metrics failure was logged $(failed) times"
mkdir "$TOP/m/nosuch"
bd_wait_log "metrics: $TOP/m/nosuch/beiand.prom written again" 60 ||
	fail "no line when the metrics file works again"
[ -f "$TOP/m/nosuch/beiand.prom" ] || fail "no metrics file"
bd_stop
echo "ok: a failing metrics file is logged once per change"
echo "it_systemd: all passed"
