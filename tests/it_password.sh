#!/bin/sh
# it_password: a stranger cannot lock an owner out (DESIGN.md, Hostile
# senders): wrong filing passwords mailed with the owner's address forged
# are refused, counted and told to the owner once a day; the owner's own
# request right after goes through (tests/password_flow.py).  Against a
# private Postfix and Dovecot; the metrics count the failures.
. "$(dirname "$0")/lib/servers.sh"

if [ "$(id -u)" != 0 ]; then
	echo "it_password: needs root, skipped"
	exit 0
fi
cd "$(dirname "$0")/.." || exit 2
. tests/daemon_lib.sh

srv_init || exit 1
srv_dovecot_start intake owner mallory provider bureau beian || srv_fail "dovecot"
srv_postfix_start || srv_fail "postfix"
bd_config "$SRV_DIR/bd" "metrics_file = metrics.prom" \
    "[imap]" \
    "url = imap://intake:$SRV_PASSWORD@127.0.0.1:$SRV_IMAP_PORT/INBOX" \
    "address = intake@example.test" \
    "provider = P001" \
    "poll_interval = 2s"
# the mails leave through Postfix: [smtp] of bd_config, with the url
sed -i "s|^\[smtp\]\$|[smtp]\nurl = smtp://127.0.0.1:$SRV_SMTP_PORT\ntls = none\nretry_min = 1s\nretry_max = 2s|" \
    "$BEIAND_DIR/beiand.conf"
sed -i 's|^email = filing@p001.example$|email = provider@example.test|; s|^addresses = review@bureau.example$|addresses = bureau@example.test|' \
    "$BEIAND_DIR/beiand.conf"
BEIANCTL=$(cd "$(dirname "$BEIANCTL")" && pwd)/beianctl
export BEIANCTL
fail() {
	echo "--- beiand.log" >&2
	tail -30 "$BEIAND_DIR/beiand.log" >&2
	bd_kill
	srv_fail "$@"
}
bd_start || fail "beiand did not start"
/usr/bin/python3 tests/password_flow.py || fail "password flow"
# counted in the metrics (the store keeps the counter), logged per refusal
bd_wait 20 sh -c "grep -q '^beiand_password_failures_total 7\$' '$BEIAND_DIR/metrics.prom'" ||
	fail "metrics: $(grep password "$BEIAND_DIR/metrics.prom")"
[ "$(grep -c 'intake: uid=[0-9]* filing=BA-[0-9-]* refused: PASSWORD_WRONG' \
    "$BEIAND_DIR/beiand.log")" = 7 ] || fail "the refusals are not logged"
grep -q "WrongPass234" "$BEIAND_DIR/beiand.log" && fail "a password in the log"
bd_stop
echo "it_password: ok"
