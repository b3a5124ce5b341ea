#!/bin/sh
# bench_store: filings/s of the submit path (store_filing_create) with a
# group commit of GROUP filings per transaction against one transaction
# per filing; median of RUNS runs each on a new database, and the ratio.
# The database must be on a real disk (every commit is an fsync): the
# build folder, else /var/tmp; never tmpfs.
set -eu
B=${B:-build}
N=${N:-2000}
GROUP=${GROUP:-100}
RUNS=${RUNS:-3}
CC=${CC:-cc}
cd "$(dirname "$0")/.."
. tests/lib/cc_tool.sh

[ -f "$B/libbeiand.a" ] || { echo "bench_store: $B/libbeiand.a not built"; exit 1; }
fstype()
{
	df -PT "$1" 2>/dev/null | awk 'NR == 2 { print $2 }'
}
TMP=
for d in "$B" /var/tmp; do
	t=$(fstype "$d")
	case "$t" in
	tmpfs|ramfs|"") continue ;;
	esac
	TMP=$(mktemp -d "$d/bench_store.XXXXXX") && break
done
[ -n "$TMP" ] || { echo "bench_store: no folder on a real disk"; exit 1; }
trap 'rm -rf "$TMP"' EXIT INT TERM

build()
{
	$CC -std=c17 -D_GNU_SOURCE "$@" -Iinclude $(pkg-config --cflags libxml-2.0) \
	    bench/bench_store.c "$B/libbeiand.a" \
	    $(pkg-config --libs $BEIAND_PKGS) -letpan -o "$TMP/bench_store"
}
# a sanitizer build of the library needs the sanitizers at link time
build -O2 2>/dev/null || build -O2 -fsanitize=address,undefined ||
    { echo "bench_store: build failed"; exit 1; }

# run GROUP: the median filings/s of RUNS runs
median_rate()
{
	k=1
	: >"$TMP/rates"
	while [ $k -le "$RUNS" ]; do
		rm -f "$TMP/b.db" "$TMP/b.db-wal" "$TMP/b.db-shm"
		out=$("$TMP/bench_store" "$TMP/b.db" "$N" "$1") ||
		    { echo "bench_store: run failed" >&2; exit 1; }
		echo "$out" | awk '{ print $4 }' >>"$TMP/rates"
		k=$((k + 1))
	done
	# "median (run run run)": fsync latency varies with what else the
	# disk is doing, so the single runs are shown too
	sort -n "$TMP/rates" | awk '{ r[NR] = $1; l = l (NR > 1 ? " " : "") $1 }
	    END { print r[int((NR + 1) / 2)] " (" l ")" }'
}

one=$(median_rate 1)
grp=$(median_rate "$GROUP")
echo "store submit N=$N on $(fstype "$TMP") ($TMP), median of $RUNS:"
echo "  one transaction per filing: $one filings/s"
echo "  group commit of $GROUP:       $grp filings/s"
echo "  ratio $(awk -v a="${grp%% *}" -v b="${one%% *}" \
    'BEGIN { printf "%.1f", a / b }')x"
