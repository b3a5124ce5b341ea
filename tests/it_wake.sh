#!/bin/sh
# it_wake: mail queued by another process goes out at once, and
# `beianctl retry` means now (as `postqueue -f`), against a real Postfix
# delivering into Dovecot.  The relay is down when a filing is submitted
# with beianctl: its mails are deferred with retry_min = 1h.  The relay
# comes back; `beianctl retry` of one of them sends it within seconds,
# while the others keep waiting for their retry time.  Then `beianctl
# verify --pass` queues the review request while those mails are still
# deferred: it is sent at once too and reaches the bureau's mailbox.
# Last, `retry` of a mail that failed (5xx) tries it again at once.
# Each wait is for the mail's state `sent`, bounded at 30 s — far below
# the hour the old mailer slept.  The delays are printed as figures.
. "$(dirname "$0")/lib/servers.sh"

if [ "$(id -u)" != 0 ]; then
	echo "it_wake: needs root, skipped"
	exit 0
fi
cd "$(dirname "$0")/.." || exit 2
. tests/daemon_lib.sh
fail() {
	echo "--- beiand.log" >&2
	tail -30 "$BEIAND_DIR/beiand.log" >&2
	bd_kill
	srv_fail "$@"
}

srv_init || exit 1
srv_dovecot_start filing review || srv_fail "dovecot"
srv_postfix_start || srv_fail "postfix"
srv_postfix_stop    # the outage: the port stays, nothing listens

bd_config "$SRV_DIR/bd"
sed -i "s|^\[smtp\]\$|[smtp]\nurl = smtp://127.0.0.1:$SRV_SMTP_PORT\nretry_min = 1h\nretry_max = 2h|" \
    "$BEIAND_DIR/beiand.conf"
sed -i -e 's|^email = filing@p002.example$|email = reject@example.test|' \
    -e 's|^ip_ranges = 198.51.100.0/24$|ip_ranges = 203.0.113.0/24|' "$BEIAND_DIR/beiand.conf"
T=$SRV_DIR/t
mkdir -p "$T"
/usr/bin/python3 bench/gen_packages.py "$T" 2 --first 410000 >/dev/null ||
	fail "gen_packages"
/usr/bin/python3 -c 'import sys; sys.path.insert(0, "tests"); import fxlib
open(sys.argv[1], "wb").write(fxlib.jpeg())
open(sys.argv[2], "wb").write(fxlib.jpeg(600, 800))' "$T/photo.jpg" "$T/scan.jpg" ||
	fail "photos"
DB=$BEIAND_DIR/var/beiand.db
q() { sqlite3 -cmd '.timeout 10000' "$DB" "$1"; }
state_is() { [ "$(q "SELECT state FROM outbox WHERE id = $1")" = "$2" ]; }
ms() { date +%s%3N; }

bd_start || fail "beiand did not start"

# 1. The outage: the new filing's mails are deferred for an hour.
bd_ctl submit --provider P001 "$T/p410000.zip" >"$T/submit.out" ||
	fail "submit: $(cat "$T/submit.out")"
ID=$(sed -n 's/^\(BA-[0-9]*-[0-9]*\): awaiting_verification$/\1/p' "$T/submit.out")
[ -n "$ID" ] || fail "submit: $(cat "$T/submit.out")"
N=$(q "SELECT count(*) FROM outbox WHERE filing = '$ID'")
[ "$N" -ge 2 ] || fail "$ID queued $N mails, expected at least 2"
deferred_all() { [ "$(q "SELECT count(*) FROM outbox WHERE filing = '$ID' AND state = 'deferred' AND next_try > strftime('%s','now') + 3000")" = "$N" ]; }
bd_wait 30 deferred_all || fail "the mails of $ID were not all deferred for an hour: $(q "SELECT id, state, next_try, last_reply FROM outbox")"

# 2. The relay is back; retry one mail: it goes now, not in an hour.
srv_postfix_start || fail "postfix again"
M=$(q "SELECT min(id) FROM outbox WHERE filing = '$ID'")
t0=$(ms)
bd_ctl retry "$M" >"$T/retry.out" || fail "retry: $(cat "$T/retry.out")"
grep -q "^$M: queued\$" "$T/retry.out" || fail "retry said: $(cat "$T/retry.out")"
bd_wait 30 state_is "$M" sent ||
	fail "mail $M retried but not sent within 30 s: $(q "SELECT id, state, attempts, next_try, last_reply FROM outbox WHERE id = $M")"
echo "retry: mail $M sent $(( $(ms) - t0 )) ms after beianctl retry"
LEFT=$(q "SELECT count(*) FROM outbox WHERE filing = '$ID' AND state = 'deferred'")
[ "$LEFT" = $((N - 1)) ] ||
	fail "$LEFT mails of $ID still deferred, expected $((N - 1)) (retry is for one mail)"

# 3. A mail queued by beianctl while others wait deferred: sent at once.
t0=$(ms)
bd_ctl verify "$ID" --pass --photo "$T/photo.jpg" --scan "$T/scan.jpg" \
    >"$T/verify.out" || fail "verify: $(cat "$T/verify.out")"
grep -q "^$ID: under_review\$" "$T/verify.out" || fail "verify: $(cat "$T/verify.out")"
R=$(q "SELECT id FROM outbox WHERE filing = '$ID' AND template = 'review_request'")
[ -n "$R" ] || fail "no review_request row for $ID"
bd_wait 30 state_is "$R" sent ||
	fail "review request $R not sent within 30 s: $(q "SELECT id, state, attempts, next_try, last_reply FROM outbox WHERE id = $R")"
echo "verify: review request $R sent $(( $(ms) - t0 )) ms after beianctl verify"
[ "$(q "SELECT count(*) FROM outbox WHERE filing = '$ID' AND state = 'deferred'")" = "$LEFT" ] ||
	fail "the deferred mails did not keep waiting"
srv_wait_mail review 1 30 || fail "the review request never reached the bureau's mailbox"

# 4. retry of a failed mail is now too: P002's address is refused (550)
# by Postfix, so its mails fail at once; retried, one is tried again at
# once (and fails again: attempts 2).
bd_ctl submit --provider P002 "$T/p410001.zip" >"$T/submit2.out" ||
	fail "submit 2: $(cat "$T/submit2.out")"
failed_one() { [ -n "$(q "SELECT id FROM outbox WHERE rcpt = 'reject@example.test' AND state = 'failed'")" ]; }
bd_wait 30 failed_one || fail "no failed mail to reject@example.test: $(q "SELECT id, rcpt, state, last_reply FROM outbox")"
F=$(q "SELECT min(id) FROM outbox WHERE rcpt = 'reject@example.test' AND state = 'failed'")
bd_ctl retry "$F" >"$T/retry2.out" || fail "retry $F: $(cat "$T/retry2.out")"
tried_again() { [ "$(q "SELECT state || ' ' || attempts FROM outbox WHERE id = $F")" = "failed 2" ]; }
bd_wait 30 tried_again ||
	fail "failed mail $F retried but not tried again within 30 s: $(q "SELECT id, state, attempts, last_reply FROM outbox WHERE id = $F")"

bd_stop
echo "it_wake: ok"
