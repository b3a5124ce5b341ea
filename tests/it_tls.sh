#!/bin/sh
# it_tls: beiand against a private Postfix and Dovecot shaped as Debian
# ships them (STARTTLS offered, login in the clear allowed, a self-signed
# certificate named "somehost", which is not the address connected to),
# with implicit TLS (smtps, imaps), and demanding TLS.  Mail comes in
# through the intake mailbox (dropped in with dovecot-lda) and beiand's
# help reply goes out through Postfix, so both channels are used.
# Checks:
#  1. The URLs alone work on loopback: mail fetched and sent, both over
#     STARTTLS (the servers' logs say TLS); status and metrics say ok;
#     `beianctl probe` shows the TLS version, the subject, the pin.
#  2. tls = verify with the self-signed certificate as ca_file is refused
#     (its name is not 127.0.0.1), channel failing at once in `status
#     --json` and beiand_channel_up, the mail deferred (not failed), the
#     refusal logged once over several attempts with the pin and the key
#     that would set it; that tls_pin makes it work, logged once; the same
#     for IMAP.  A CA whose certificate names 127.0.0.1 works with verify
#     and is refused without ca_file (system store).
#  3. A wrong pin is refused before any credential is sent (Postfix logs
#     no SASL attempt, Dovecot "no auth attempts"); the right one with
#     credentials logs in.
#  4. smtps:// and imaps:// (auto: encrypt) work.
#  5. Against servers that demand TLS: tls = none fails with a clear
#     reason, the channel failing in status and metrics, the mail kept
#     (deferred an hour); fixed and restarted, the mail goes at once;
#     auto (may) uses STARTTLS and works.
#  6. The old starttls key is refused by beiand -n; a password_file is
#     checked by -n (mode), read by the mailer, used for AUTH; probe's
#     usage and configuration errors exit 2.
. "$(dirname "$0")/lib/servers.sh"

if [ "$(id -u)" != 0 ]; then
	echo "it_tls: needs root, skipped"
	exit 0
fi
cd "$(dirname "$0")/.." || exit 2
. tests/daemon_lib.sh

srv_init || exit 1
SRV_TLS=may
SRV_TLS_CERT=self
export SRV_TLS SRV_TLS_CERT
srv_dovecot_start intake sender owner || srv_fail "dovecot"
srv_postfix_start || srv_fail "postfix"

BEIAND_DIR=$SRV_DIR/bd
mkdir -p "$BEIAND_DIR"
chmod 755 "$BEIAND_DIR"
export BEIAND_DIR
PF_LOG=$SRV_DIR/log/postfix.log
DC_LOG=$SRV_DIR/log/dovecot.log
LOG=$BEIAND_DIR/beiand.log
PIN_SELF=$(srv_tls_pin self)
PIN_CA=$(srv_tls_pin ca)
WRONG=sha256//AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=
IMAP_URL="imap://intake:secret@127.0.0.1:$SRV_IMAP_PORT/INBOX"
SMTP_URL="smtp://127.0.0.1:$SRV_SMTP_PORT"

fail()
{
	echo "--- beiand.log" >&2
	tail -30 "$LOG" >&2
	bd_kill
	srv_fail "$@"
}

# conf IMAP_LINES SMTP_LINES: the configuration, with those lines in
# [imap] and [smtp].
conf()
{
	cat >"$BEIAND_DIR/beiand.conf" <<EOF
[daemon]
spool_dir = spool
state_dir = var
settle_ms = 300
workers = 1
metrics_file = metrics.prom
[imap]
address = intake@example.test
provider = P001
poll_interval = 2s
$1
[smtp]
from = beian@example.test
retry_min = ${RETRY:-1s}
retry_max = ${RETRY:-2s}
$2
[bureau.11]
addresses = bureau@example.test
[provider.P001]
name = 示例网络科技有限公司
email = provider@example.test
ip_ranges = 203.0.113.0/24
EOF
}

# mail N: a mail without a package into the intake mailbox; beiand
# answers sender@example.test with a help reply.
N_SENT=0
mail()
{
	printf 'From: sender@example.test\r\nTo: intake@example.test\r\nSubject: question %s\r\nMessage-ID: <tls%s.%s@mua.example>\r\nDate: Mon, 07 Dec 2026 10:00:00 +0800\r\n\r\nHow do I file? (%s)\r\n' \
	    "$1" "$1" "$$" "$1" >"$SRV_DIR/mail$1.eml"
	srv_deliver intake "$SRV_DIR/mail$1.eml" || fail "delivering mail $1"
}
# help N: wait until sender@example.test holds N help replies.
help() { srv_wait_mail sender "$1" 40 || fail "help reply $1 never arrived"; }

status_json() { bd_ctl status --json; }
# chan NAME STATE [REASON-PATTERN]: status --json shows it so.
_chan()
{
	status_json >"$SRV_DIR/status.json" 2>/dev/null || return 1
	grep -q "{\"name\":\"$1\",\"state\":\"$2\",\"reason\":\"[^\"]*$3" \
	    "$SRV_DIR/status.json"
}
chan() { bd_wait 40 _chan "$@" || fail "channel $1 not $2 ($3): $(cat "$SRV_DIR/status.json")"; }
# metric NAME VALUE: beiand_channel_up in the metrics file.
_metric() { grep -q "^beiand_channel_up{channel=\"$1\"} $2\$" "$BEIAND_DIR/metrics.prom" 2>/dev/null; }
metric() { bd_wait 20 _metric "$@" || fail "beiand_channel_up{$1} not $2: $(grep channel_up "$BEIAND_DIR/metrics.prom")"; }
# attempts N: the outbox has a mail deferred after at least N attempts.
_attempts()
{
	bd_ctl outbox --json | /usr/bin/python3 -c '
import json, sys
n = int(sys.argv[1])
rows = [json.loads(l) for l in sys.stdin if l.strip()]
sys.exit(0 if any(r["state"] == "deferred" and r["attempts"] >= n for r in rows) else 1)' "$1"
}
attempts() { bd_wait 40 _attempts "$1" || fail "no mail deferred $1 times: $(bd_ctl outbox)"; }
count() { grep -c -- "$1" "$2" 2>/dev/null || true; }
# probe CHANNEL WANT-EXIT: beianctl probe, its output in $SRV_DIR/probe.out
probe()
{
	bd_ctl probe "$1" >"$SRV_DIR/probe.out" 2>&1
	_rc=$?
	cat "$SRV_DIR/probe.out"
	[ "$_rc" = "$2" ] || fail "probe $1 exited $_rc, not $2"
}
probe_has() { grep -q -- "$1" "$SRV_DIR/probe.out" || fail "probe: no \"$1\""; }
restart() { bd_stop; bd_start || fail "beiand did not start"; }

# ---------------------------------------------------------------- 1
echo "1. the URLs alone, on loopback, against STARTTLS-offering servers"
conf "url = $IMAP_URL" "url = $SMTP_URL"
"$BEIAND" -n -c "$BEIAND_DIR/beiand.conf" || fail "beiand -n"
bd_start || fail "beiand did not start"
mail 1
help 1
N_SENT=1
chan imap ok
chan smtp ok
metric imap 1
metric smtp 1
grep -q 'Anonymous TLS connection established from localhost\[127.0.0.1\]' "$PF_LOG" ||
	fail "the mail did not go over TLS"
grep -q 'imap-login: Info: Login: user=<intake>.*, TLS' "$DC_LOG" ||
	fail "the IMAP login was not over TLS"
probe smtp 0
probe_has "^tls: *TLS1\.[23]$"
probe_has "^certificate: *CN=somehost$"
probe_has "^public key: *$PIN_SELF$"
probe_has "^verification: *not checked (tls = may)"
probe_has "^result: *usable"
probe imap 0
probe_has "^tls: *TLS1\.[23]$"
probe_has "^public key: *$PIN_SELF$"
probe_has "^login: *ok as intake"

# ---------------------------------------------------------------- 2
echo "2a. smtp tls = verify with the snakeoil-like certificate as ca_file"
conf "url = $IMAP_URL" "url = $SMTP_URL
tls = verify
ca_file = $SRV_DIR/tls/self.pem"
probe smtp 1
probe_has "^verification: *refused"
probe_has "to trust this key instead of its chain: \[smtp\] tls = encrypt and tls_pin = $PIN_SELF"
restart
mail 2
chan smtp failing "certificate of 127.0.0.1 refused"
metric smtp 0
metric imap 1
attempts 3
REFUSED="smtp: certificate of 127.0.0.1 refused (.*); its public key: $PIN_SELF; to trust this key instead of its chain: \[smtp\] tls = encrypt and tls_pin = $PIN_SELF"
[ "$(count "$REFUSED" "$LOG")" = 1 ] ||
	fail "the refused certificate was not logged exactly once: $(grep 'smtp: certificate' "$LOG")"
bd_ctl outbox --json | grep -q '"state":"failed"' && fail "a mail failed for the configuration"

echo "2b. its pin makes it work"
conf "url = $IMAP_URL" "url = $SMTP_URL
tls_pin = $PIN_SELF"
restart
help 2
chan smtp ok
metric smtp 1
[ "$(count "smtp: the server works again" "$LOG")" = 1 ] || fail "no line for the channel working again"
[ "$(count "$REFUSED" "$LOG")" = 1 ] || fail "the refusal logged again"

echo "2c. imap tls = verify with that ca_file; then its pin"
conf "url = $IMAP_URL
tls = verify
ca_file = $SRV_DIR/tls/self.pem" "url = $SMTP_URL"
probe imap 1
probe_has "^verification: *refused: The certificate is NOT trusted. The name in the certificate does not match"
probe_has "^login: *not attempted"
NA0=$(count "no auth attempts" "$DC_LOG")
restart
chan imap failing "certificate of 127.0.0.1 refused"
metric imap 0
# the fetcher tries again (1 s, 2 s, ...): several refusals, one line
_tries() { [ "$(count "no auth attempts" "$DC_LOG")" -ge $((NA0 + 3)) ]; }
bd_wait 40 _tries || fail "the fetcher did not try again"
[ "$(count "imap: certificate of 127.0.0.1 refused (.*); its public key: $PIN_SELF; to trust this key instead of its chain: \[imap\] tls = encrypt and tls_pin = $PIN_SELF" "$LOG")" = 1 ] ||
	fail "the refused IMAP certificate was not logged exactly once: $(grep 'imap: certificate' "$LOG")"
conf "url = $IMAP_URL
tls_pin = $PIN_SELF" "url = $SMTP_URL"
restart
chan imap ok
mail 3
help 3
[ "$(count "imap: the server works again" "$LOG")" = 1 ] || fail "no line for imap working again"

echo "2d. a certificate that names 127.0.0.1, from a CA"
bd_stop
SRV_TLS_CERT=ca
srv_postfix_stop
srv_dovecot_stop
srv_dovecot_start || fail "dovecot with the CA's certificate"
srv_postfix_start || fail "postfix with the CA's certificate"
conf "url = $IMAP_URL
tls = verify
ca_file = $SRV_DIR/tls/ca.pem" "url = $SMTP_URL
tls = verify
ca_file = $SRV_DIR/tls/ca.pem"
probe smtp 0
probe_has "^verification: *ok (chain and name)"
probe_has "^public key: *$PIN_CA$"
probe imap 0
probe_has "^verification: *ok (chain and name)"
bd_start || fail "beiand did not start"
mail 4
help 4
chan imap ok
chan smtp ok
# without ca_file: the system store knows no such CA
conf "url = $IMAP_URL
tls = verify" "url = $SMTP_URL
tls = verify"
probe smtp 1
probe_has "^verification: *refused"
probe imap 1
probe_has "issuer is unknown"
bd_stop
SRV_TLS_CERT=self
srv_postfix_stop
srv_dovecot_stop
srv_dovecot_start || fail "dovecot"
srv_postfix_start || fail "postfix"

# ---------------------------------------------------------------- 3
echo "3. a wrong pin: refused before any credential is sent"
SASL0=$(count "sasl_username=owner" "$PF_LOG")
SASLF0=$(count "authentication failed" "$PF_LOG")
conf "url = $IMAP_URL" "url = smtp://owner:secret@127.0.0.1:$SRV_SMTP_PORT
tls_pin = $WRONG"
probe smtp 1
probe_has "^tls_pin: *does not match"
probe_has "^login: *not attempted"
probe_has "its public key: $PIN_SELF; to trust this key: \[smtp\] tls_pin = $PIN_SELF"
bd_start || fail "beiand did not start"
mail 5
chan smtp failing "its public key is not the tls_pin"
attempts 2
LOGIN0=$(count "Login: user=<intake>" "$DC_LOG")
NA0=$(count "no auth attempts" "$DC_LOG")
conf "url = $IMAP_URL
tls_pin = $WRONG" "url = smtp://owner:secret@127.0.0.1:$SRV_SMTP_PORT
tls_pin = $WRONG"
probe imap 1
probe_has "^tls_pin: *does not match"
probe_has "^login: *not attempted"
restart
chan imap failing "its public key is not the tls_pin"
metric imap 0
_tries() { [ "$(count "no auth attempts" "$DC_LOG")" -ge $((NA0 + 3)) ]; }
bd_wait 40 _tries || fail "the fetcher did not try again"
[ "$(count "Login: user=<intake>" "$DC_LOG")" = "$LOGIN0" ] ||
	fail "a login reached Dovecot through a wrong pin"
grep -E "auth: .*(intake|owner).*(mismatch|unknown|failed)" "$DC_LOG" &&
	fail "a password reached Dovecot's auth through a wrong pin"
[ "$(count "sasl_username=owner" "$PF_LOG")" = "$SASL0" ] &&
    [ "$(count "authentication failed" "$PF_LOG")" = "$SASLF0" ] ||
	fail "an AUTH reached Postfix through a wrong pin"
grep -q "sasl_method" "$PF_LOG" && fail "Postfix saw SASL through a wrong pin"

echo "3b. the right pin, with credentials"
conf "url = $IMAP_URL
tls_pin = $PIN_SELF" "url = smtp://owner:secret@127.0.0.1:$SRV_SMTP_PORT
tls_pin = $PIN_SELF"
restart
help 5
chan smtp ok
chan imap ok
[ "$(count "sasl_username=owner" "$PF_LOG")" -gt "$SASL0" ] ||
	fail "no SMTP AUTH with the right pin"

# ---------------------------------------------------------------- 4
echo "4. implicit TLS: imaps:// and smtps://"
conf "url = imaps://intake:secret@127.0.0.1:$SRV_IMAPS_PORT/INBOX" \
    "url = smtps://127.0.0.1:$SRV_SMTPS_PORT"
probe smtp 0
probe_has "^level: *encrypt (tls = auto), TLS from the first byte"
probe imap 0
restart
mail 6
help 6
chan imap ok
chan smtp ok

# ---------------------------------------------------------------- 5
echo "5. servers that demand TLS"
bd_stop
SRV_TLS=required
srv_postfix_stop
srv_dovecot_stop
srv_dovecot_start || fail "dovecot requiring TLS"
srv_postfix_start || fail "postfix requiring TLS"
# a retry an hour away: the fix below must not wait for it
RETRY=1h
conf "url = $IMAP_URL" "url = $SMTP_URL
tls = none"
probe smtp 1
probe_has "^result: *not usable: 127.0.0.1 demands TLS and \[smtp\] tls = none: 530 5.7.0 Must issue a STARTTLS command first"
bd_start || fail "beiand did not start"
mail 7
chan smtp failing "127.0.0.1 demands TLS and \[smtp\] tls = none: 530 "
metric smtp 0
chan imap ok
attempts 1
bd_ctl outbox --json | grep -q '"state":"failed"' && fail "a mail failed for the configuration"
# the fix: started with the channel failing, the deferred mail goes now
conf "url = imap://intake:secret@127.0.0.2:$SRV_IMAP_PORT/INBOX
tls = none" "url = $SMTP_URL"
probe imap 1
probe_has "127.0.0.2 refuses LOGIN without TLS (LOGINDISABLED) and \[imap\] tls = none"
restart
help 7
grep -q "mailer: the smtp channel was refused; deferred mails due now: 1" "$LOG" ||
	fail "the deferred mail was not made due"
RETRY=
chan smtp ok
chan imap failing "refuses LOGIN without TLS"
metric imap 0
conf "url = imap://intake:secret@127.0.0.2:$SRV_IMAP_PORT/INBOX" "url = $SMTP_URL"
restart
chan imap ok
metric imap 1
bd_stop

# ---------------------------------------------------------------- 6
echo "6. the old key, password files, probe's errors"
conf "url = $IMAP_URL" "url = $SMTP_URL
starttls = try"
"$BEIAND" -n -c "$BEIAND_DIR/beiand.conf" >"$SRV_DIR/n.out" 2>&1 &&
	fail "beiand -n took starttls"
grep -q "beiand.conf:[0-9]*: starttls is gone: set tls = none, may, encrypt or verify" \
    "$SRV_DIR/n.out" || fail "beiand -n: $(cat "$SRV_DIR/n.out")"
bd_ctl probe smtp >/dev/null 2>&1
[ $? = 2 ] || fail "probe on a bad configuration did not exit 2"
printf 'secret\n' >"$SRV_DIR/smtp.pw"
chmod 644 "$SRV_DIR/smtp.pw"
conf "url = $IMAP_URL" "url = smtp://owner@127.0.0.1:$SRV_SMTP_PORT
password_file = $SRV_DIR/smtp.pw"
"$BEIAND" -n -c "$BEIAND_DIR/beiand.conf" >"$SRV_DIR/n.out" 2>&1 &&
	fail "beiand -n took a password file others can read"
grep -q "password_file $SRV_DIR/smtp.pw: mode 0644" "$SRV_DIR/n.out" ||
	fail "beiand -n: $(cat "$SRV_DIR/n.out")"
bd_ctl probe smtp >/dev/null 2>&1
[ $? = 2 ] || fail "probe with a readable password file did not exit 2"
chmod 600 "$SRV_DIR/smtp.pw"
"$BEIAND" -n -c "$BEIAND_DIR/beiand.conf" || fail "beiand -n with the password file"
SASL0=$(count "sasl_username=owner" "$PF_LOG")
probe smtp 0
probe_has "^login: *ok"
bd_start || fail "beiand did not start"
mail 8
help 8
[ "$(count "sasl_username=owner" "$PF_LOG")" -gt "$SASL0" ] ||
	fail "no AUTH with the password file's password"
for a in "" "pop3" "smtp imap"; do
	# shellcheck disable=SC2086 # the words are the arguments
	bd_ctl probe $a >/dev/null 2>&1
	[ $? = 2 ] || fail "probe '$a' did not exit 2"
done
conf "url = $IMAP_URL" ""
bd_ctl probe smtp >"$SRV_DIR/probe.out" 2>&1
[ $? = 2 ] || fail "probe smtp without a url did not exit 2"
grep -q "url is empty" "$SRV_DIR/probe.out" || fail "probe without url: $(cat "$SRV_DIR/probe.out")"
bd_stop

grep -n "secret" "$LOG" && fail "a password in the log"
grep -E "AddressSanitizer|runtime error" "$LOG" && fail "sanitizer findings"
echo "it_tls: ok"
