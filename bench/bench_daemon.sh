#!/bin/sh
# bench_daemon: end to end through the daemon.  N packages are dropped
# into a provider's incoming folder at once (rename from the same
# filesystem); the clock runs until every upload has its receipt (all
# committed).  Printed: packages/s, the per-package cost, the parent's
# peak RSS (VmHWM), and the same shell pipeline as bench_check.py
# (bsdtar + xmllint --schema per package) over a sample of the same
# packages, as a ratio from this run.  Once for zip packages, once for a
# mix with tar.xz; each REPEAT times (default 3) on a fresh daemon, the
# median printed with the CPU each package cost the parent and the
# workers, and the rate that cost allows at best with every core busy
# (a ceiling no scheduling can pass).  N_DAEMON (default 2000); FORMATS
# (default "zip mix").
set -eu
B=${B:-build}
N=${N_DAEMON:-2000}
REPEAT=${REPEAT:-3}
PIPE_N=300
cd "$(dirname "$0")/.."
. tests/daemon_lib.sh
TOP=$(mktemp -d "${BENCH_DIR:-/var/tmp}/beiand-bench.XXXXXX")
trap 'bd_stop; rm -rf "$TOP"' EXIT

now_ms() { date +%s%3N; }

pipeline_rate() # DIR -> packages/s over the first PIPE_N packages
{
	ls "$1" | head -n $PIPE_N | sed "s#^#$1/#" >"$TOP/sample"
	t0=$(now_ms)
	while read -r p; do
		d=$(mktemp -d -p "$TOP")
		bsdtar -xf "$p" -C "$d" && xmllint --noout --nonet --schema parsers/xsd/filing.xsd "$d/filing.xml" 2>/dev/null
		rm -rf "$d"
	done <"$TOP/sample"
	t1=$(now_ms)
	awk -v n=$PIPE_N -v ms=$((t1 - t0)) 'BEGIN { printf "%.1f", n * 1000 / ms }'
}

cpu_ms() # PID -> user + system CPU time in ms
{
	awk -v hz="$(getconf CLK_TCK)" '{ printf "%d", ($14 + $15) * 1000 / hz }' "/proc/$1/stat"
}

median() # numbers on stdin -> their median
{
	sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

once() # FORMAT -> "ms parent_cpu_ms workers_cpu_ms hwm_kib" of one run
{
	rm -rf "$TOP/b"
	bd_config "$TOP/b" "settle_ms = 50"
	bd_start
	P=$BEIAND_DIR/spool/providers/P001
	mkdir "$P/stage"
	cp "$TOP"/pk/* "$P/stage/"
	sync
	ms=$(/usr/bin/python3 bench/drop_wait.py "$P/stage" "$P/incoming" "$P/outgoing" "$N")
	pc=$(cpu_ms "$BEIAND_PID")
	wc=0
	for w in $(pgrep -P "$BEIAND_PID"); do wc=$((wc + $(cpu_ms "$w"))); done
	hwm=$(awk '/VmHWM/ { print $2 }' "/proc/$BEIAND_PID/status")
	bd_stop
	bad=$(grep -L 'state="awaiting_verification"' "$P"/outgoing/*.receipt.xml | wc -l)
	[ "$bad" = 0 ] || { echo "bench_daemon: $bad uploads not filed" >&2; exit 1; }
	echo "$ms $pc $wc $hwm"
}

run() # FORMAT FIRST
{
	fmt=$1
	rm -rf "$TOP/pk"
	/usr/bin/python3 bench/gen_packages.py "$TOP/pk" "$N" --format "$fmt" --first "$2" >/dev/null
	: >"$TOP/runs"
	for _r in $(seq "$REPEAT"); do once "$fmt" >>"$TOP/runs"; done
	: >"$TOP/pipes"
	for _r in $(seq "$REPEAT"); do pipeline_rate "$TOP/pk" >>"$TOP/pipes"; echo >>"$TOP/pipes"; done
	ms=$(awk '{ print $1 }' "$TOP/runs" | median)
	pc=$(awk '{ print $2 }' "$TOP/runs" | median)
	wc=$(awk '{ print $3 }' "$TOP/runs" | median)
	hwm=$(awk '{ print $4 }' "$TOP/runs" | sort -n | tail -1)
	pipe=$(grep . "$TOP/pipes" | median)
	awk -v n="$N" -v ms="$ms" -v pc="$pc" -v wc="$wc" -v pipe="$pipe" -v hwm="$hwm" \
	    -v fmt="$fmt" -v r="$REPEAT" -v runs="$(awk '{ printf "%s%d", (NR > 1 ? "/" : ""), $1 }' "$TOP/runs")" \
	    -v cores="$(nproc)" 'BEGIN {
		rate = n * 1000 / ms
		printf "daemon %-4s N=%d (median of %d, runs %s ms)  beiand: %.0f packages/s, %.3f ms/package wall, CPU per package: parent %.3f ms (its threads included), workers %.3f ms; parent peak RSS %d KiB | pipeline: %.1f packages/s | ratio %.1fx\n",
		    fmt, n, r, runs, rate, ms / n, pc / n, wc / n, hwm, pipe, rate / pipe
		# what this CPU cost allows at best: every core busy with beiand
		if (pc + wc > 0) {
			cap = cores * n * 1000 / (pc + wc)
			printf "daemon %-4s at that CPU cost %d cores allow at most %.0f packages/s (%.1fx the pipeline); the run reached %.0f%% of it\n",
			    fmt, cores, cap, cap / pipe, 100 * rate / cap
		}
	}'
}

for f in ${FORMATS:-zip mix}; do
	case $f in
	zip) run zip 400000 ;;
	mix) run mix 500000 ;;
	esac
done
