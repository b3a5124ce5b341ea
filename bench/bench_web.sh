#!/bin/sh
# bench_web: the staff console.  (1) The server's time to render a filing
# page, and the page with its photos, from a loopback client (median of
# RENDER_N, default 300).  (2) The spool's throughput while 50 sessions
# browse the console (each a page with its photos every 2 s, as people
# reading), against the same without them: N_WEB packages (default 1000)
# dropped at once, timed to the last receipt, REPEAT times (default 3)
# each way, alternating; the medians and their ratio (goal: within 10 %).
set -eu
B=${B:-build}
N=${N_WEB:-1000}
REPEAT=${REPEAT:-3}
SESSIONS=${SESSIONS:-50}
cd "$(dirname "$0")/.."
. tests/daemon_lib.sh
. tests/lib/servers.sh
TOP=$(mktemp -d "${BENCH_DIR:-/var/tmp}/beiand-benchweb.XXXXXX")
WPID=
LPID=
trap 'touch "$TOP/stop"; [ -n "$LPID" ] && wait "$LPID" 2>/dev/null; [ -n "$WPID" ] && kill "$WPID" 2>/dev/null; bd_stop; rm -rf "$TOP"' EXIT

median() { sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

PORT=$(srv_free_port)
URL=http://127.0.0.1:$PORT
printf 'bench-pass-1\n' >"$TOP/pw"

start() # a fresh daemon and console
{
	[ -n "$WPID" ] && { kill "$WPID"; wait "$WPID" 2>/dev/null || true; WPID=; }
	bd_stop
	rm -rf "$TOP/b"
	bd_config "$TOP/b" "settle_ms = 50"
	printf '[web]\nlisten = 127.0.0.1:%s\nthreads = 4\nconnections_max = 256\n' \
	    "$PORT" >>"$BEIAND_DIR/beiand.conf"
	# one account per person: an account keeps at most 16 sessions
	for k in $(seq 0 "$SESSIONS"); do
		bd_ctl user add "bench$k" --role provider:P001 \
		    --password-file "$TOP/pw" >/dev/null
	done
	bd_start
	"$B/beiand-web" -f -c "$BEIAND_DIR/beiand.conf" >"$TOP/web.log" 2>&1 &
	WPID=$!
	bd_wait 20 grep -q "web: started" "$TOP/web.log"
	# the filing every session reads: the example package, photos and all
	/usr/bin/python3 bench/gen_packages.py "$TOP/one" 1 --first 900000 >/dev/null
	FID=$(bd_ctl submit --provider P001 "$TOP"/one/* 2>/dev/null | sed -n 's/^\(BA-[0-9-]*\): .*/\1/p')
	rm -rf "$TOP/one"
	[ -n "$FID" ]
}

start
/usr/bin/python3 bench/web_load.py render "$URL" bench0 bench-pass-1 "$FID" "${RENDER_N:-300}"

/usr/bin/python3 bench/gen_packages.py "$TOP/pk" "$N" --first 600000 >/dev/null
once() # browse: 0 or 1 -> ms to drain N packages
{
	start
	rm -f "$TOP/stop"
	if [ "$1" = 1 ]; then
		/usr/bin/python3 bench/web_load.py browse "$URL" bench bench-pass-1 \
		    "$FID" "$SESSIONS" 2 "$TOP/stop" >"$TOP/browse.out" 2>&1 &
		LPID=$!
		bd_wait 120 grep -q browsing "$TOP/browse.out" ||
		    { cat "$TOP/browse.out" "$TOP/web.log" >&2; exit 1; }
	fi
	P=$BEIAND_DIR/spool/providers/P001
	mkdir "$P/stage"
	cp "$TOP"/pk/* "$P/stage/"
	sync
	/usr/bin/python3 bench/drop_wait.py "$P/stage" "$P/incoming" "$P/outgoing" "$N"
	if [ "$1" = 1 ]; then
		wcpu=$(awk -v hz="$(getconf CLK_TCK)" '{ printf "%d", ($14 + $15) * 1000 / hz }' "/proc/$WPID/stat")
		lcpu=$(awk -v hz="$(getconf CLK_TCK)" '{ printf "%d", ($14 + $15) * 1000 / hz }' "/proc/$LPID/stat")
		echo "cpu: beiand-web $wcpu ms, clients $lcpu ms" >&2
		touch "$TOP/stop"
		wait "$LPID"
		LPID=
		grep -v "^browsing" "$TOP/browse.out" | head -5 >&2
	fi
}
: >"$TOP/without"
: >"$TOP/with"
for _r in $(seq "$REPEAT"); do
	once 0 >>"$TOP/without"
	once 1 >>"$TOP/with"
done
echo "runs without: $(tr "\n" " " <"$TOP/without") with: $(tr "\n" " " <"$TOP/with")" >&2
a=$(median <"$TOP/without")
w=$(median <"$TOP/with")
awk -v n="$N" -v a="$a" -v w="$w" -v s="$SESSIONS" -v r="$REPEAT" 'BEGIN {
	printf "web spool N=%d (median of %d): without the console %.0f packages/s, while %d sessions browse %.0f packages/s, ratio %.3f (goal >= 0.90)\n",
	    n, r, n * 1000 / a, s, n * 1000 / w, a / w
}'
