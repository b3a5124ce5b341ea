#!/bin/sh
# it_flood: a mail flood does not hold back the other senders, fill
# state_dir, or turn beiand into a mail cannon (DESIGN.md, Hostile
# senders).  Against a private Postfix and Dovecot: 2,000 mails From one
# forged address (the first 40 of them valid packages naming it as the
# owner, the rest help requests) and 500 from 50 other senders, composed
# by Python's email package and sent through Postfix (SMTP, envelope and
# From forged alike, as a spam run sends them; the delivery path is the
# real one because Return-Path and the ENVELOPE From are what the limits
# read).  Limits: inbox_max 8, sender_max 30 a sender_window,
# reply_cap 5, recipient_max 10 (tests/flood_flow.py).
#
#   1. the 40 packages wait in the INBOX; beiand starts (an hour's
#      window); the other 2,460 mails come, interleaved.
#   2. every other sender's mail is processed while the flood waits:
#      exactly sender_max of the flood are processed, the rest is still
#      in the INBOX; the forged address got recipient_max "received"
#      mails, the others failed as capped (outbox --failed, metrics);
#      status, the metrics and the log say the sender is over sender_max.
#   3. restarted with a sender_window of 2 s: the flood is taken window
#      by window, without a restart, oldest first.
#   4. restarted with a sender_max above the flood: everything drained,
#      each mail processed exactly once; the forged address got, all in
#      all, recipient_max received mails and reply_cap help replies;
#      beianctl retry of a capped mail sends it.
# Throughout, inotify follows state_dir/inbox: never more than inbox_max
# mails wait in it (the most seen is printed).
. "$(dirname "$0")/lib/servers.sh"

if [ "$(id -u)" != 0 ]; then
	echo "it_flood: needs root, skipped"
	exit 0
fi
cd "$(dirname "$0")/.." || exit 2
. tests/daemon_lib.sh

INBOX_MAX=8
SENDER_MAX=30
export FLOOD_INBOX_MAX=$INBOX_MAX FLOOD_SENDER_MAX=$SENDER_MAX
export FLOOD_REPLY_CAP=5 FLOOD_RECIPIENT_MAX=10

srv_init || exit 1
USERS="intake victim provider bureau beian"
i=0
while [ $i -lt 50 ]; do
	USERS="$USERS $(printf 'other%02d' $i)"
	i=$((i + 1))
done
# shellcheck disable=SC2086
srv_dovecot_start $USERS || srv_fail "dovecot"
srv_postfix_start || srv_fail "postfix"

BEIAND_DIR=$SRV_DIR/bd
export BEIAND_DIR
BEIANCTL=$(cd "$(dirname "$BEIANCTL")" && pwd)/beianctl
export BEIANCTL
ST=$SRV_DIR/flood.json
WATCH=
flow() { /usr/bin/python3 tests/flood_flow.py "$ST" "$@"; }
fail() {
	echo "--- beiand.log" >&2
	tail -40 "$BEIAND_DIR/beiand.log" >&2
	bd_kill
	[ -n "$WATCH" ] && kill "$WATCH" 2>/dev/null
	srv_fail "$@"
}

# conf SENDER_MAX SENDER_WINDOW
conf()
{
	mkdir -p "$BEIAND_DIR"
	chmod 755 "$BEIAND_DIR"
	cat >"$BEIAND_DIR/beiand.conf" <<EOF
[daemon]
spool_dir = spool
state_dir = var
settle_ms = 300
workers = 2
min_free = 16M
metrics_file = metrics.prom
[imap]
url = imap://intake:secret@127.0.0.1:$SRV_IMAP_PORT/INBOX
address = intake@example.test
provider = P001
poll_interval = 2s
reply_cap = $FLOOD_REPLY_CAP
inbox_max = $INBOX_MAX
sender_max = $1
sender_window = $2
[smtp]
url = smtp://127.0.0.1:$SRV_SMTP_PORT
from = beian@example.test
tls = none
retry_min = 1s
retry_max = 2s
recipient_max = $FLOOD_RECIPIENT_MAX
[bureau.11]
addresses = bureau@example.test
[provider.P001]
name = 示例网络科技有限公司
email = provider@example.test
ip_ranges = 203.0.113.0/24, 2001:db8::/32
EOF
}

metric() # NAME: its value in the metrics file (the daemon rewrites it)
{
	awk -v n="$1" '$1 == n { print $2 }' "$BEIAND_DIR/metrics.prom"
}
# metric_is NAME VALUE: wait until the daemon's metrics file says so
metric_is() { bd_wait 20 sh -c "[ \"\$(awk -v n='$1' '\$1 == n { print \$2 }' \
    '$BEIAND_DIR/metrics.prom' 2>/dev/null)\" = '$2' ]"; }
# status_has PATTERN: wait until beianctl status shows it
status_has() { bd_wait 20 sh -c "'$BEIANCTL' -c '$BEIAND_DIR/beiand.conf' status | grep -q '$1'"; }

T0=$(date +%s)
flow compose || fail "composing the mails"
conf $SENDER_MAX 1h
mkdir -p "$BEIAND_DIR/var/inbox"
chmod 700 "$BEIAND_DIR/var" "$BEIAND_DIR/var/inbox"
/usr/bin/python3 tests/flood_flow.py "$ST" watch "$BEIAND_DIR/var/inbox" \
    "$SRV_DIR/inbox.max" &
WATCH=$!
bd_wait 10 test -s "$SRV_DIR/inbox.max" || fail "the inbox watcher did not start"

# ---- 1, 2: the flood waits, the others are processed -----------------------
flow send packages || fail "sending the packages"
bd_start || fail "beiand did not start"
flow send rest || fail "sending the rest"
flow others || fail "the others while the flood waits"
bd_wait_log "imap: sender=victim@victim-corp.cn over sender_max" ||
	fail "no log line for the throttled sender"
[ "$(grep -c 'imap: sender=victim@victim-corp.cn over sender_max' \
    "$BEIAND_DIR/beiand.log")" = 1 ] || fail "the throttle logged more than once"
# the mailer has sent what it may: nothing left queued for the forged address
bd_wait 60 sh -c "[ \"\$(sqlite3 '$BEIAND_DIR/var/beiand.db' \
    \"SELECT count(*) FROM outbox WHERE rcpt = 'victim@victim-corp.cn'
      AND state IN ('queued','sending','deferred')\")\" = 0 ]" ||
	fail "mails to the forged address still queued"
flow caps || fail "caps after the first hour"
capped=$(bd_ctl outbox --failed --json | grep -c '"last_reply": *"capped:')
[ "$capped" = 20 ] || fail "outbox --failed shows $capped capped mails"
metric_is beiand_mails_capped_total 20 ||
	fail "beiand_mails_capped_total $(metric beiand_mails_capped_total)"
metric_is 'beiand_imap_waiting{reason="sender"}' $((2000 - SENDER_MAX)) ||
	fail "waiting{sender} $(metric 'beiand_imap_waiting{reason="sender"}')"
metric_is beiand_imap_throttled_senders 1 ||
	fail "throttled senders $(metric beiand_imap_throttled_senders)"
status_has '^  sender_max since .*: 1 From addresses over sender_max (30 a sender_window of 3600 s); 1970 of their mails wait on the server' ||
	fail "status: $(bd_ctl status)"
bd_ctl status --json | grep -q '"limits":\[.*{"name":"sender_max","since":"[^"]*","detail":"1 From addresses' ||
	fail "status --json: $(bd_ctl status --json)"
status_has '^  recipient_max since .*: 20 mails caused by mail intake failed as capped' ||
	fail "status: $(bd_ctl status)"

# ---- 3: the window moves: taken later, without a restart --------------------
bd_stop
conf $SENDER_MAX 2s
bd_start || fail "beiand did not restart"
flow window $((SENDER_MAX * 4)) || fail "the flood taken window by window"
bd_wait_log "imap: sender=victim@victim-corp.cn: its sender_window is over" ||
	fail "no log line for the window's end"

# ---- 4: drained, exactly once -------------------------------------------------
bd_stop
conf 100000 1h
bd_start || fail "beiand did not restart"
flow drained || fail "drained"
bd_wait 60 sh -c "[ \"\$(sqlite3 '$BEIAND_DIR/var/beiand.db' \
    \"SELECT count(*) FROM outbox WHERE state IN ('queued','sending','deferred')\")\" = 0 ]" ||
	fail "mails still queued"
flow caps final || fail "caps at the end"
flow retry || fail "retry of a capped mail"
bd_stop
kill "$WATCH"
wait "$WATCH"
WATCH=
most=$(cat "$SRV_DIR/inbox.max")
echo "it_flood: at most $most mails waited in state_dir/inbox (inbox_max $INBOX_MAX)"
[ "$most" -le $INBOX_MAX ] || fail "$most mails in state_dir/inbox, inbox_max is $INBOX_MAX"
[ "$most" -gt 0 ] || fail "the inbox watcher saw nothing"
grep -E "intake: .*(given up|not committed)|AddressSanitizer|runtime error" \
    "$BEIAND_DIR/beiand.log" && fail "errors in the log"
# the limits are logged when they start and stop holding mail back, not
# at every mail at their edge
for l in "imap: sender=victim@victim-corp.cn over sender_max" \
    "imap: [0-9]* messages wait in the inbox" \
    "imap: no mail waits for room in the inbox" "outbox: to=.* reached recipient_max"; do
	echo "it_flood: $(grep -c "$l" "$BEIAND_DIR/beiand.log") log lines \"$l\""
done
[ "$(grep -c "outbox: to=victim@victim-corp.cn reached recipient_max" \
    "$BEIAND_DIR/beiand.log")" = 1 ] || fail "the cap logged more than once a day"
echo "it_flood: 2,500 mails in $(( $(date +%s) - T0 )) s"
echo "it_flood: ok"
