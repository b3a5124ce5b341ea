#!/bin/sh
# bench_daemon: end to end through the daemon.  N packages are dropped
# into a provider's incoming folder at once (rename from the same
# filesystem); the clock runs until every upload has its receipt (all
# committed).  Printed: packages/s, the per-package cost, the parent's
# peak RSS (VmHWM), and the same shell pipeline as bench_check.py
# (bsdtar + xmllint --schema per package) over a sample of the same
# packages, as a ratio from this run.  Once for zip packages, once for a
# mix with tar.xz.  N_DAEMON (default 2000); FORMATS (default "zip mix").
set -eu
B=${B:-build}
N=${N_DAEMON:-2000}
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

run() # FORMAT FIRST
{
	fmt=$1
	rm -rf "$TOP/b" "$TOP/pk"
	/usr/bin/python3 bench/gen_packages.py "$TOP/pk" "$N" --format "$fmt" --first "$2" >/dev/null
	bd_config "$TOP/b" "settle_ms = 50"
	bd_start
	P=$BEIAND_DIR/spool/providers/P001
	mkdir "$P/stage"
	cp "$TOP"/pk/* "$P/stage/"
	sync
	t0=$(now_ms)
	mv "$P/stage"/* "$P/incoming/"
	while [ "$(ls "$P/outgoing" | grep -c 'receipt.xml$')" -lt "$N" ]; do sleep 0.05; done
	t1=$(now_ms)
	hwm=$(awk '/VmHWM/ { print $2 }' "/proc/$BEIAND_PID/status")
	bd_stop
	bad=$(grep -L 'state="awaiting_verification"' "$P"/outgoing/*.receipt.xml | wc -l)
	[ "$bad" = 0 ] || { echo "bench_daemon: $bad uploads not filed" >&2; exit 1; }
	pipe=$(pipeline_rate "$TOP/pk")
	awk -v n="$N" -v ms=$((t1 - t0)) -v pipe="$pipe" -v hwm="$hwm" -v fmt="$fmt" 'BEGIN {
		rate = n * 1000 / ms
		printf "daemon %-4s N=%d  beiand: %.0f packages/s, %.3f ms/package, parent peak RSS %d KiB | pipeline: %.1f packages/s | ratio %.1fx\n",
		    fmt, n, rate, ms / n, hwm, pipe, rate / pipe }'
}

for f in ${FORMATS:-zip mix}; do
	case $f in
	zip) run zip 400000 ;;
	mix) run mix 500000 ;;
	esac
done
