#!/bin/sh
# it_servers: self-test of tests/lib/servers.sh.  Private Dovecot, Postfix
# and sshd come up fast, mail goes SMTP -> LMTP -> IMAP, a 5xx recipient is
# refused, both mail servers survive a restart, SFTP uploads (sftp put,
# put + rename, curl -T) land in the chroot, and nothing is left behind.
# Needs root.  Quiet on success apart from the start timings.
. "$(dirname "$0")/lib/servers.sh"

if [ "$(id -u)" != 0 ]; then
	echo "it_servers: needs root (private sshd chroots, dovecot users)" >&2
	exit 1
fi

now_ms()
{
	date +%s%3N
}

timed()
{
	_t0=$(now_ms)
	"$@" || srv_fail "$* failed"
	echo "  $* ($(( $(now_ms) - _t0 )) ms)"
}

srv_init || exit 1
T=$SRV_DIR/t
mkdir "$T"
echo "start timings:"

timed srv_dovecot_start intake owner bureau provider
timed srv_postfix_start

ROOT=$SRV_DIR/spool/providers/P001
mkdir -p "$ROOT/incoming"
chmod 755 "$SRV_DIR/spool" "$SRV_DIR/spool/providers" "$ROOT"
chown "$SRV_NOBODY" "$ROOT/incoming"
chmod 770 "$ROOT/incoming"
_t0=$(now_ms)
srv_sshd_start P001 "$ROOT" >/dev/null || srv_fail "sshd start"
echo "  srv_sshd_start P001 ($(( $(now_ms) - _t0 )) ms)"

# ---------------------------------------------------------------- mail

# send_mail N RCPT: SMTP a message with Subject "test N" to RCPT.
send_mail()
{
	printf 'From: a@example.test\r\nTo: %s\r\nSubject: test %s\r\nMessage-ID: <%s.%s@example.test>\r\n\r\nbody %s\r\n' \
	    "$2" "$1" "$1" "$$" "$1" >"$T/msg$1.eml"
	curl -sS --url "smtp://127.0.0.1:$SRV_SMTP_PORT" \
	    --mail-from a@example.test --mail-rcpt "$2" \
	    --upload-file "$T/msg$1.eml"
}

# check_imap USER UID N: message UID of USER's INBOX has Subject "test N".
check_imap()
{
	curl -sS "imap://$1:secret@127.0.0.1:$SRV_IMAP_PORT/INBOX;UID=$2" \
	    >"$T/fetched" || srv_fail "IMAP fetch $1 UID $2"
	grep -q "^Subject: test $3" "$T/fetched" ||
	    srv_fail "IMAP $1 UID $2: no 'Subject: test $3' in: $(head -c 400 "$T/fetched")"
}

send_mail 1 owner@example.test || srv_fail "SMTP send to owner"
srv_wait_mail owner 1 || srv_fail "mail 1 never reached owner's INBOX"
check_imap owner 1 1

# Any domain reaches the user named by the local part.
send_mail 2 bureau@elsewhere.test || srv_fail "SMTP send to bureau@elsewhere"
srv_wait_mail bureau 1 || srv_fail "mail 2 never reached bureau"
check_imap bureau 1 2

# A wrong password is refused.
if curl -sS "imap://owner:wrong@127.0.0.1:$SRV_IMAP_PORT/INBOX;UID=1" \
    >/dev/null 2>&1; then
	srv_fail "IMAP login with a wrong password succeeded"
fi

# reject@ gets a 5xx at RCPT time.
printf 'Subject: x\r\n\r\nx\r\n' >"$T/rej.eml"
out=$(curl -sS --url "smtp://127.0.0.1:$SRV_SMTP_PORT" \
    --mail-from a@example.test --mail-rcpt reject@example.test \
    --upload-file "$T/rej.eml" 2>&1) && srv_fail "reject@ was accepted"
echo "$out" | grep -q 'RCPT failed: 550' ||
    srv_fail "reject@: expected 'RCPT failed: 550', got: $out"

out=$(curl -sS --url "smtp://127.0.0.1:$SRV_SMTP_PORT" \
    --mail-from a@example.test --mail-rcpt tempfail@example.test \
    --upload-file "$T/rej.eml" 2>&1) && srv_fail "tempfail@ was accepted"
echo "$out" | grep -q 'RCPT failed: 450' ||
    srv_fail "tempfail@: expected 'RCPT failed: 450', got: $out"

# dovecot-lda drop-in.
printf 'Subject: test 3\n\nlda\n' >"$T/lda.eml"
srv_deliver intake "$T/lda.eml" || srv_fail "dovecot-lda"
srv_wait_mail intake 1 || srv_fail "dovecot-lda message missing"
check_imap intake 1 3

# Outage: Postfix down refuses, up again works.
timed srv_postfix_stop
if send_mail 4 owner@example.test 2>/dev/null; then
	srv_fail "SMTP accepted with Postfix stopped"
fi
timed srv_postfix_start
send_mail 4 owner@example.test || srv_fail "SMTP after Postfix restart"
srv_wait_mail owner 2 || srv_fail "mail 4 never arrived"
check_imap owner 2 4

# Dovecot down: Postfix defers, delivers after the restart (flush).
timed srv_dovecot_stop
send_mail 5 owner@example.test || srv_fail "SMTP with Dovecot stopped"
timed srv_dovecot_start
srv_postfix_flush || srv_fail "postqueue -f"
srv_wait_mail owner 3 || srv_fail "mail 5 not delivered after restart"
check_imap owner 3 5
timed srv_dovecot_restart
check_imap owner 1 1

# ---------------------------------------------------------------- sftp

head -c 100000 /dev/urandom >"$T/x.zip"
head -c 70000 /dev/urandom >"$T/y.zip"
head -c 50000 /dev/urandom >"$T/z.zip"
cat >"$T/batch" <<EOF
cd incoming
put $T/x.zip x.zip
put $T/y.zip .y.zip.part
rename .y.zip.part y.zip
EOF
srv_sftp P001 "$T/batch" >/dev/null || srv_fail "sftp batch"
cmp -s "$T/x.zip" "$ROOT/incoming/x.zip" || srv_fail "sftp put x.zip differs"
cmp -s "$T/y.zip" "$ROOT/incoming/y.zip" || srv_fail "sftp put+rename y.zip"
[ ! -e "$ROOT/incoming/.y.zip.part" ] || srv_fail ".y.zip.part left behind"
[ "$(stat -c %u "$ROOT/incoming/x.zip")" = "$SRV_NOBODY" ] ||
    srv_fail "x.zip not owned by nobody"

srv_curl_sftp_put P001 "$T/z.zip" incoming/z.zip || srv_fail "curl -T sftp"
cmp -s "$T/z.zip" "$ROOT/incoming/z.zip" || srv_fail "curl put z.zip differs"

# Nothing outside the chroot: absolute and ../ paths to files outside
# do not exist inside it, and the chroot root is not writable.  "-" lets
# the batch go on after each expected failure.
echo x >"$SRV_DIR/outside"
cat >"$T/batch2" <<EOF
-get /etc/passwd $T/got1
-get ../../outside $T/got2
-get $SRV_DIR/outside $T/got3
-get /incoming/../../../outside $T/got4
cd ..
cd ..
-put $T/x.zip escaped.zip
get /incoming/x.zip $T/back.zip
EOF
srv_sftp P001 "$T/batch2" >/dev/null 2>&1 || srv_fail "sftp batch2"
cmp -s "$T/x.zip" "$T/back.zip" || srv_fail "sftp get /incoming/x.zip"
for f in got1 got2 got3 got4; do
	[ ! -e "$T/$f" ] || srv_fail "sftp reached a file outside the chroot ($f)"
done
[ ! -e "$ROOT/escaped.zip" ] && [ ! -e "$SRV_DIR/spool/providers/escaped.zip" ] ||
    srv_fail "sftp wrote escaped.zip at or above the chroot root"

# A wrong key is refused.
ssh-keygen -q -t ed25519 -N '' -f "$T/other" </dev/null >/dev/null
if curl -sS -k --key "$T/other" --pubkey "$T/other.pub" -u nobody: \
    -T "$T/z.zip" "sftp://127.0.0.1:$(srv_sshd_port P001)/incoming/w.zip" \
    2>/dev/null; then
	srv_fail "sftp accepted an unknown key"
fi

# ---------------------------------------------------------------- cleanup

# strays DIR: pids of processes whose command line or environment names
# DIR (Postfix workers carry it in MAIL_CONFIG, Dovecot ones in their
# title), this shell excepted.
strays()
{
	for e in /proc/[0-9]*; do
		pid=${e#/proc/}
		[ "$pid" != $$ ] || continue
		if grep -qsF "$1" "$e/cmdline" "$e/environ"; then
			echo "$pid $(tr '\0' ' ' <"$e/cmdline" 2>/dev/null)"
		fi
	done
}

dir=$(basename "$SRV_DIR")
ports="$SRV_IMAP_PORT $SRV_LMTP_PORT $SRV_SMTP_PORT $SRV_SSHD_PORT_P001"
[ -n "$(strays "$dir")" ] || srv_fail "stray-process check finds nothing"
srv_cleanup 0 || exit 1
# srv_cleanup returns once the servers' processes have gone; an sftp
# session's sshd (left to end by itself, as it does once its client has
# gone) may still be on its way out: left behind is what stays.
no_strays() { [ -z "$(strays "$dir")" ]; }
if ! srv_wait 60 no_strays; then
	echo "FAIL: processes left behind:" >&2
	strays "$dir" >&2
	exit 1
fi
for p in $ports; do
	if srv__connects "$p"; then
		echo "FAIL: port $p still listening" >&2
		exit 1
	fi
done
[ ! -e "/run/$dir" ] || { echo "FAIL: /run/$dir left behind" >&2; exit 1; }
exit 0
