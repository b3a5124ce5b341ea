#!/bin/sh
# it_crash: SIGKILL beiand at random moments while it processes 500
# uploads, restart it, a few times over; then every package is filed
# exactly once, every receipt is whole and names its filing, and nothing
# is left in work/ or incoming/.
. "$(dirname "$0")/daemon_lib.sh"

N=${CRASH_N:-500}
ROUNDS=${CRASH_ROUNDS:-5}
TOP=$(mktemp -d /tmp/beiand-crash.XXXXXX)
trap 'bd_kill; rm -rf "$TOP"' EXIT

bd_config "$TOP/b" "settle_ms = 50"
/usr/bin/python3 bench/gen_packages.py "$TOP/pk" "$N" --first 300000 >/dev/null ||
	fail "gen_packages"
bd_start || fail "beiand did not start"
P=$BEIAND_DIR/spool/providers/P001
# The uploads arrive whole (rename from the same filesystem), all at once.
mv "$TOP/pk" "$P/stage"
bd_drop "$P/stage" "$P/incoming" || fail "dropping the uploads"
rmdir "$P/stage"

receipts() { ls "$P/outgoing" | grep -c '\.receipt\.xml$'; }
rnd() { echo $(( $(od -An -N2 -tu2 /dev/urandom) % $1 )); }

# Each kill lands mid-batch whatever the machine's speed: after 1 .. 80
# more receipts since the last start (the pipeline then holds uploads at
# every stage: claimed, parsing, in a group, syncing, receipts half
# written).  Round 2 kills the start-up's recovery instead, 0 .. 49 ms
# after "started".
r=0
while [ $r -lt "$ROUNDS" ]; do
	r=$((r + 1))
	before=$(receipts)
	if [ $r -eq 2 ]; then
		sleep "$(awk -v ms="$(rnd 50)" 'BEGIN { printf "%.3f", ms / 1000 }')"
	else
		want=$((before + 1 + $(rnd 80)))
		[ $want -lt "$N" ] || want=$((N - 1))
		# polled often, so that the kill lands soon after; stuck only
		# when no receipt came for 60 s
		last=$before
		i=0
		while [ "$(receipts)" -lt $want ]; do
			now=$(receipts)
			[ "$now" -gt "$last" ] && { last=$now; i=0; }
			i=$((i + 1))
			[ $i -gt 6000 ] && fail "round $r: stuck at $(receipts) receipts for 60 s"
			sleep 0.01
		done
	fi
	bd_kill
	done_now=$(receipts)
	echo "round $r: killed with $done_now receipts written ($((done_now - before)) since the start)"
	[ "$done_now" -lt "$N" ] || echo "round $r: (the batch was done before the kill)"
	bd_start || fail "restart $r"
done

# Let it finish: every receipt, then work/ empties (a claimed file goes
# once its receipt is durable).
bd_wait_count 60 "$N" receipts ||
	fail "only $(receipts) of $N receipts, none more for 60 s"
bd_wait_empty "$BEIAND_DIR/spool/work" ||
	fail "work/ not empty: $(ls "$BEIAND_DIR/spool/work" | head)"
bd_stop

[ -z "$(ls -A "$BEIAND_DIR/spool/work")" ] || fail "work/ not empty after the stop: $(ls "$BEIAND_DIR/spool/work" | head)"
[ -z "$(ls -A "$P/incoming")" ] || fail "incoming/ not empty: $(ls "$P/incoming" | head)"

/usr/bin/python3 - "$P/outgoing" "$N" "$BEIANCTL" "$BEIAND_DIR/beiand.conf" <<'PY' || fail "invariants"
import json, os, subprocess, sys, xml.etree.ElementTree as ET
out, n, ctl, conf = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
R = "{urn:beiand:receipt:1}"
ids = {}
for name in os.listdir(out):
    if not name.endswith(".receipt.xml"):
        if not name.startswith("."):
            sys.exit("stray file in outgoing: " + name)
        continue
    root = ET.parse(os.path.join(out, name)).getroot()   # whole, or this raises
    items = list(root.iter(R + "item"))
    if len(items) != 1 or items[0].get("state") != "awaiting_verification":
        sys.exit("%s: %s" % (name, ET.tostring(root)[:400]))
    fid = items[0].get("id")
    if fid in ids:
        sys.exit("%s and %s name the same filing %s" % (ids[fid], name, fid))
    ids[fid] = name
if len(ids) != n:
    sys.exit("%d receipts with a filing, want %d" % (len(ids), n))
rows = [json.loads(l) for l in subprocess.run([ctl, "-c", conf, "list", "--json"],
        capture_output=True, text=True, check=True).stdout.splitlines()]
if len(rows) != n:
    sys.exit("%d filings in the store, want %d: some package was filed twice or lost" % (len(rows), n))
if set(r["id"] for r in rows) != set(ids):
    sys.exit("the store's filings and the receipts' differ")
print("%d packages, %d filings, %d receipts: each filed once" % (n, len(rows), len(ids)))
PY
echo "it_crash: ok"
