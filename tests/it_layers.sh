#!/bin/sh
# it_layers: the include rule of DESIGN.md ("Shape of the code") holds for
# the tree, and tests/check_layers.py names each kind of breach (a copy of
# the tree with one planted per rule must fail on each, by file and include).
cd "$(dirname "$0")/.." || exit 2
fail() { echo "FAIL: $*" >&2; exit 1; }

/usr/bin/python3 tests/check_layers.py . || fail "the tree breaks the include rule"

T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
for d in lib parsers common store mail worker daemon ctl web include; do
	[ -d "$d" ] && cp -r "$d" "$T/"
done
printf '#include "daemon/spool.h"\n' >"$T/ctl/zz_above.c"
printf '#include "store/store.h"\n' >"$T/mail/zz_beside.c"
printf '#include <sqlite3.h>\n' >"$T/parsers/zz_sqlite.c"
printf '#include "daemon/mailer.h"\n' >"$T/daemon/zz_channel.c"
printf '#include "xmalloc.h"\n' >"$T/lib/zz_bare.c"
printf '#include "common/config.h"\n' >"$T/lib/zz_up.c"
seq 1 1200 | sed 's|^|/* |; s|$| */|' >"$T/store/zz_long.c"
out=$(/usr/bin/python3 tests/check_layers.py "$T") && fail "planted breaches passed"
for want in 'ctl/zz_above.c:1: #include "daemon/spool.h": ctl/ may not include daemon/' \
    'mail/zz_beside.c:1: #include "store/store.h": mail/ may not include store/' \
    'parsers/zz_sqlite.c:1: #include <sqlite3.h>: only store/' \
    'daemon/zz_channel.c:1: #include "daemon/mailer.h": channels reach the mailer only through the outbox' \
    'lib/zz_bare.c:1: #include "xmalloc.h": name the header' \
    'lib/zz_up.c:1: #include "common/config.h": lib/ may not include common/' \
    'store/zz_long.c: 1200 lines'; do
	echo "$out" | grep -qF "$want" || fail "breach not named: $want
$out"
done
echo "it_layers: ok"
