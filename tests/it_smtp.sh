#!/bin/sh
# it_smtp: mail/smtp.c and mail/mail_compose.c against a real Postfix
# delivering into a real Dovecot.  A small driver (tests/tool_smtpsend.c,
# built here from the sources) sends, over one libcurl handle: a
# review_request with a Chinese-named attachment and "received" mails to
# a good, a 5xx (reject@) and a 4xx (tempfail@) recipient, then a good one
# again.  Checks: the result classes and reply texts, that the good mails
# arrive byte for byte (IMAP fetch), that the connection is reused, and
# that tls = encrypt refuses a server without STARTTLS (deferred, the
# channel refused with the reason), and what each send says about the
# channel.
. "$(dirname "$0")/lib/servers.sh"

if [ "$(id -u)" != 0 ]; then
	echo "it_smtp: needs root, skipped"
	exit 0
fi
cd "$(dirname "$0")/.." || exit 2

srv_init || exit 1
T=$SRV_DIR/t
mkdir "$T" "$T/out" "$T/out2"

. "$(dirname "$0")/lib/cc_tool.sh"
cc_tool "$T/smtpsend" tests/tool_smtpsend.c || srv_fail "building tool_smtpsend"

srv_dovecot_start owner bureau || srv_fail "dovecot"
srv_postfix_start || srv_fail "postfix"
URL="smtp://127.0.0.1:$SRV_SMTP_PORT"

"$T/smtpsend" "$URL" may "$T/out" bureau@example.test owner@example.test \
    reject@example.test tempfail@example.test owner@example.test \
    >"$T/result" 2>"$T/stderr" || srv_fail "smtpsend: $(cat "$T/stderr")"
cat "$T/result"

expect()
{
	grep -q "^$1 $2 $3 $4 $5" "$T/result" ||
	    srv_fail "send $1 to $2: expected '$3 $4 $5…', got: $(grep "^$1 " "$T/result")"
}
expect 1 bureau@example.test sent 250 "250 2.0.0 Ok: queued"
expect 2 owner@example.test sent 250 "250 2.0.0 Ok: queued"
expect 3 reject@example.test failed 550 "550 5.1.1 <reject@example.test>"
expect 4 tempfail@example.test deferred 450 "450 4.2.0 <tempfail@example.test>"
expect 5 owner@example.test sent 250 "250 2.0.0 Ok: queued"

srv_wait_mail bureau 1 || srv_fail "review_request never reached bureau"
srv_wait_mail owner 2 || srv_fail "owner mails never arrived"

# What arrives is what was composed: the sent message is the tail of the
# fetched one (Postfix and Dovecot only prepend trace headers).
fetch_check()
{
	curl -sS "imap://$1:secret@127.0.0.1:$SRV_IMAP_PORT/INBOX;UID=$2" \
	    >"$T/fetched" || srv_fail "IMAP fetch $1 UID $2"
	_n=$(wc -c <"$3")
	tail -c "$_n" "$T/fetched" | cmp -s - "$3" ||
	    srv_fail "$1 UID $2 differs from $3"
	grep -q '^Auto-Submitted: auto-generated' "$T/fetched" ||
	    srv_fail "no Auto-Submitted in $1 UID $2"
}
# Postfix delivers in parallel: the owner's two mails may land in either
# order, so each is looked for under both UIDs.
fetch_either()
{
	for _u in 1 2; do
		curl -sS "imap://$1:secret@127.0.0.1:$SRV_IMAP_PORT/INBOX;UID=$_u" \
		    >"$T/fetched" || srv_fail "IMAP fetch $1 UID $_u"
		_n=$(wc -c <"$2")
		if tail -c "$_n" "$T/fetched" | cmp -s - "$2"; then
			fetch_check "$1" "$_u" "$2"
			return 0
		fi
	done
	srv_fail "$2 is in none of $1's mails"
}
fetch_check bureau 1 "$T/out/1.eml"
fetch_either owner "$T/out/2.eml"
fetch_either owner "$T/out/5.eml"
grep -q "filename\*=UTF-8''%E5%A4%87%E6%A1%88" "$T/out/1.eml" ||
    grep -q "filename\*0\*=UTF-8''%E5%A4%87%E6%A1%88" "$T/out/1.eml" ||
    srv_fail "no RFC 2231 filename in the review request"

# One handle, one connection while all goes well: sends 1 and 2 share a
# session (libcurl closes it after a refused RCPT, and reconnects).
# smtpd logs a session when it ends, through postlogd: waited for.
reused() { grep -q 'postfix/smtpd.*disconnect from .* data=2 ' "$SRV_DIR/log/postfix.log"; }
srv_wait 60 reused ||
    srv_fail "no connection reuse: $(grep 'disconnect from' "$SRV_DIR/log/postfix.log")"

# tls = encrypt against a server without STARTTLS: deferred, nothing sent.
"$T/smtpsend" "$URL" encrypt "$T/out2" owner@example.test >"$T/result2" \
    2>&1 || srv_fail "smtpsend encrypt: $(cat "$T/result2")"
cat "$T/result2"
grep -q '^1 owner@example.test deferred ' "$T/result2" ||
    srv_fail "tls = encrypt without STARTTLS was not deferred"
grep -q '^channel 1 refused 127.0.0.1 offers no STARTTLS, which \[smtp\] tls = encrypt requires (no credential was sent)$' \
    "$T/result2" || srv_fail "the channel is not refused with the reason"
# a refused recipient is the mail's matter, not the channel's
grep -q '^channel 3 ok $' "$T/result" || srv_fail "a 550 made the channel fail"

# Server down: deferred with curl's reason.
srv_postfix_stop
"$T/smtpsend" "$URL" may "$T/out2" owner@example.test >"$T/result3" 2>&1 ||
    srv_fail "smtpsend down: $(cat "$T/result3")"
cat "$T/result3"
grep -q '^1 owner@example.test deferred 0 curl: ' "$T/result3" ||
    srv_fail "a stopped server did not defer"
grep -q '^channel 1 down curl: ' "$T/result3" ||
    srv_fail "a stopped server did not make the channel down"
echo "it_smtp: ok"
