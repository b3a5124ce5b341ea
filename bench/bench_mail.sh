#!/bin/sh
# bench_mail: mails/s the outbox mailer (daemon/mailer.c) hands to a
# private Postfix, beside Postfix's own load generator smtp-source against
# the same instance: N mails, about the same size, one session (-s 1 -d:
# one connection, as the mailer keeps its libcurl handle).  The mailer's
# figure includes everything it does per mail: the store reads, compose,
# and the two committed state changes (sending, sent) with their fsyncs,
# so the database lives on a real disk (the build folder, else /var/tmp;
# never tmpfs).  Median of RUNS runs each; prints the ratio (target >= 0.5).
# Needs root (tests/lib/servers.sh).
set -eu
B=${B:-build}
N=${N:-500}
RUNS=${RUNS:-3}
CC=${CC:-cc}
cd "$(dirname "$0")/.."

if [ "$(id -u)" != 0 ]; then
	echo "bench_mail: needs root, skipped"
	exit 0
fi
fstype()
{
	df -PT "$1" 2>/dev/null | awk 'NR == 2 { print $2 }'
}
TMP=
for d in "$B" /var/tmp; do
	[ -d "$d" ] || continue
	case "$(fstype "$d")" in
	tmpfs|ramfs|"") continue ;;
	esac
	TMP=$(mktemp -d "$d/bench_mail.XXXXXX") && break
done
[ -n "$TMP" ] || { echo "bench_mail: no folder on a real disk"; exit 1; }

. tests/lib/servers.sh
set +e	# servers.sh reports by return codes
srv_init || exit 1
trap 'rm -rf "$TMP"; srv_cleanup' EXIT INT TERM

. tests/lib/cc_tool.sh
cc_tool "$TMP/tool" tests/tool_mailer.c || { echo "bench_mail: build failed"; exit 1; }

srv_dovecot_start owner || { echo "bench_mail: dovecot"; exit 1; }
srv_postfix_start || { echo "bench_mail: postfix"; exit 1; }
URL="smtp://127.0.0.1:$SRV_SMTP_PORT"

# the size of one mailer message, for smtp-source's payload
mkdir "$TMP/one"
"$TMP/tool" "$TMP/one" "" bulk 1 owner@example.test >/dev/null &&
"$TMP/tool" "$TMP/one" "" run 0 >/dev/null ||
    { echo "bench_mail: sizing run failed"; exit 1; }
SIZE=$(cat "$TMP"/one/mail/*.eml | wc -c)

now() { date +%s.%N; }
rate() { awk -v n="$N" -v a="$1" -v b="$2" 'BEGIN { printf "%.1f\n", n / (b - a) }'; }
median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

: >"$TMP/mailer" 
: >"$TMP/source"
k=1
while [ $k -le "$RUNS" ]; do
	rm -rf "$TMP/s"
	mkdir "$TMP/s"
	"$TMP/tool" "$TMP/s" "$URL" bulk "$N" owner@example.test >/dev/null ||
	    { echo "bench_mail: queueing failed"; exit 1; }
	a=$(now)
	out=$("$TMP/tool" "$TMP/s" "$URL" run 0 "$N")
	b=$(now)
	echo "$out" | grep -q "^run handled $N sent $N " ||
	    { echo "bench_mail: mailer run: $out"; exit 1; }
	rate "$a" "$b" >>"$TMP/mailer"

	a=$(now)
	/usr/sbin/smtp-source -s 1 -d -m "$N" -l "$SIZE" \
	    -f beian@example.test -t owner@example.test \
	    "127.0.0.1:$SRV_SMTP_PORT" ||
	    { echo "bench_mail: smtp-source failed"; exit 1; }
	b=$(now)
	rate "$a" "$b" >>"$TMP/source"
	k=$((k + 1))
done
M=$(median <"$TMP/mailer")
S=$(median <"$TMP/source")
echo "bench_mail: N=$N size=${SIZE}B runs=$RUNS mailer $(tr '\n' ' ' <"$TMP/mailer")mails/s"
echo "bench_mail: smtp-source -s 1 -d: $(tr '\n' ' ' <"$TMP/source")mails/s"
awk -v m="$M" -v s="$S" 'BEGIN { printf "bench_mail: mailer %.1f mails/s, smtp-source %.1f mails/s, ratio %.2f (target >= 0.5)\n", m, s, m / s }'
