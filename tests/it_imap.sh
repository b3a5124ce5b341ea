#!/bin/sh
# it_imap: the IMAP fetcher (mail/imap*.c) against a private Dovecot.
# tests/tool_imap.c plays the daemon's side of the protocol (include/
# imap.h) with its last_uid in a small state file.  Checks: messages
# delivered before start and while running each arrive exactly once and
# end up in Processed; IDLE notices a new message (well before the poll
# interval of 300 s: within 30 s, some 0.5 s on an idle machine); a
# message over mail_max_bytes is reported with its From and left in
# INBOX; a Dovecot restart (with a delivery while it is down) is
# survived; killing the driver between "new" and its commit, and between
# the commit and "done", loses and duplicates nothing; no password in the
# logs; tls = encrypt against a server without STARTTLS fails before
# LOGIN; imaps:// certificates are verified (a good chain passes, a
# foreign CA, the system store and a wrong name are refused before
# LOGIN).
. "$(dirname "$0")/lib/servers.sh"

if [ "$(id -u)" != 0 ]; then
	echo "it_imap: needs root, skipped"
	exit 0
fi
cd "$(dirname "$0")/.." || exit 2
B=${B:-build}
# the driver lives in a temporary folder: the fetcher program is the build's
case "$B" in
/*) BEIAND_LIBEXEC=$B ;;
*) BEIAND_LIBEXEC=$(pwd)/$B ;;
esac
export BEIAND_LIBEXEC

srv_init || exit 1
DRIVER=
# A failure must not leave a driver (and its fetcher) running.
trap '_st=$?; [ -n "$DRIVER" ] && kill -KILL "$DRIVER" 2>/dev/null; srv_cleanup $_st' EXIT
T=$SRV_DIR/t
mkdir "$T" "$T/inbox"
chmod 700 "$T/inbox"

# The driver, against the project's library (the fetcher it starts is
# the build's beiand-imap: there is nothing to test without a build).
[ -f "$B/libbeiand.a" ] && [ -x "$B/beiand-imap" ] ||
	srv_fail "no $B/libbeiand.a and $B/beiand-imap: make first"
CC=${CC:-cc}
FLAGS="-std=c17 -D_GNU_SOURCE -Wall -Wextra -Wformat=2 -Wshadow \
    -Wstrict-prototypes -Wmissing-prototypes -Wvla -Wwrite-strings -Wundef \
    -Wno-unused-parameter -Werror -Iinclude $(pkg-config --cflags gnutls)"
. tests/lib/cc_tool.sh
LIBS="$(pkg-config --libs $BEIAND_PKGS) -letpan"
build()
{
	# shellcheck disable=SC2086
	$CC $FLAGS "$@" tests/tool_imap.c "$B/libbeiand.a" $LIBS \
	    -o "$T/tool_imap"
}
# a sanitizer build of the library (make asan) needs them at link time too
build 2>/dev/null || build -fsanitize=address,undefined ||
    srv_fail "building tool_imap"

srv_dovecot_start intake || srv_fail "dovecot"
URL="imap://intake:secret@127.0.0.1:$SRV_IMAP_PORT/INBOX"
MD=$SRV_DIR/mail/intake/Maildir
MAXB=20000

mkmail()
{
	{
		printf 'From: Owner <owner@example.test>\r\n'
		printf 'To: intake@example.test\r\nSubject: test %s\r\n' "$1"
		printf 'Message-ID: <%s.%s@example.test>\r\n' "$1" "$$"
		printf 'X-Test-Id: %s\r\n\r\nbody of %s\r\n' "$1" "$1"
		[ -n "$2" ] && head -c "$2" /dev/zero | tr '\0' 'x' | fold -w 76
	} >"$T/$1.eml"
}
deliver()
{
	mkmail "$1" "$2"
	srv_deliver intake "$T/$1.eml" || srv_fail "deliver $1"
}

RUN=0
start_driver()
{
	RUN=$((RUN + 1))
	: >"$T/out.$RUN"
	"$T/tool_imap" "$URL" "$T/inbox" "$T/state" "$MAXB" 300 \
	    >>"$T/out.$RUN" 2>"$T/err.$RUN" &
	DRIVER=$!
}
stop_driver()
{
	_fetcher=$(cat /proc/"$DRIVER"/task/*/children 2>/dev/null)
	kill "${1:--TERM}" "$DRIVER" 2>/dev/null
	wait "$DRIVER" 2>/dev/null
	# its fetcher ends with it (PR_SET_PDEATHSIG): gone before the next
	# driver's starts, so that two never share the mailbox
	# shellcheck disable=SC2086 # one pid per word
	srv_wait_gone_pids 60 $_fetcher ||
	    srv_fail "the fetcher outlived its driver: $_fetcher"
}
# wait_line REGEX [SECONDS]: until the current driver prints it (60 s:
# a bound for a hung test, not a speed).
wait_line()
{
	_n=$(( ${2:-60} * 20 ))
	until grep -Eq "$1" "$T/out.$RUN"; do
		[ "$_n" -gt 0 ] || srv_fail "no line /$1/ in out.$RUN:
$(cat "$T/out.$RUN")
$(cat "$T/err.$RUN")"
		sleep 0.05
		_n=$((_n - 1))
	done
}
processed_count()
{
	find "$MD/.Processed/new" "$MD/.Processed/cur" -type f 2>/dev/null |
	    wc -l
}

# 1. Mail waiting before the start, and an oversize one.
deliver m1
deliver m2
deliver big 60000
deliver m3
start_driver
wait_line '^commit m3 '
wait_line '^large [0-9]+ 3 [0-9]+ Owner <owner@example.test>$'
grep -q 'idle=yes' "$T/err.$RUN" || srv_fail "IDLE not used"

# 2. IDLE: a new message is noticed without waiting for the poll
#    interval (300 s).  Delivered once the fetcher's session is in IDLE
#    (its Dovecot process title says so), it must be committed within
#    30 s: Dovecot's notice takes ~0.5 s on an idle machine, 30 s is room
#    for a loaded one and still a tenth of the poll interval.
wait_line '^synced [0-9]+ 4$'
srv_wait 60 srv_imap_idle intake || srv_fail "the fetcher never entered IDLE"
t0=$(date +%s%N)
deliver m4
wait_line '^commit m4 ' 30
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
echo "IDLE latency: $ms ms"
[ "$ms" -lt 30000 ] || srv_fail "IDLE took $ms ms"
wait_line '^moved [0-9]+ 5$'

# 3. Dovecot restarts, with a delivery while it is down (dovecot-lda
#    needs the running auth service: a plain maildir delivery instead).
srv_dovecot_stop
mkmail m5
f=$(date +%s).M1P$$.test
cp "$T/m5.eml" "$MD/tmp/$f" && chown "$SRV_NOBODY:$SRV_NOBODY" "$MD/tmp/$f" &&
    mv "$MD/tmp/$f" "$MD/new/$f" || srv_fail "maildir delivery of m5"
srv_dovecot_start || srv_fail "dovecot restart"
wait_line '^commit m5 '
deliver m6
wait_line '^commit m6 '
wait_line '^moved [0-9]+ 7$'
stop_driver

# 4. The driver dies between "new" and its commit: reported again, from
#    the file already written (not fetched twice), committed once.
TOOL_IMAP_STALL=m7 start_driver
wait_line '^synced '
deliver m7
wait_line '^got m7 '
V=$(awk '/^got m7 /{ print $3 }' "$T/out.$RUN")
U=$(awk '/^got m7 /{ print $4 }' "$T/out.$RUN")
stop_driver -KILL
[ -f "$T/inbox/$V-$U.eml" ] || srv_fail "m7 not kept in the inbox folder"
[ "$(stat -c %a "$T/inbox/$V-$U.eml")" = 600 ] || srv_fail "m7 not mode 0600"
start_driver
wait_line '^commit m7 '
wait_line "^moved $V $U\$"
grep -q "uid=$U .*already stored" "$T/err.$RUN" ||
    srv_fail "m7 was fetched again instead of reported from its file"

# 5. The driver dies after the commit, before "done": on restart the
#    fetcher asks ("old") and moves it; it is not processed again.
stop_driver
TOOL_IMAP_STALL_DONE=m8 start_driver
wait_line '^synced '
deliver m8
wait_line '^commit m8 '
U8=$(awk '/^commit m8 /{ print $4 }' "$T/out.$RUN")
stop_driver -KILL
start_driver
wait_line "^old $V $U8 done\$"
wait_line "^moved $V $U8\$"
grep -q "^old $V 3 keep\$" "$T/out.$RUN" || srv_fail "big not kept on restart"
stop_driver

# Every message exactly once, in Processed, except big, left in INBOX.
cat "$T"/out.* >"$T/all"
for id in m1 m2 m3 m4 m5 m6 m7 m8; do
	n=$(grep -c "^commit $id " "$T/all")
	[ "$n" = 1 ] || srv_fail "$id committed $n times"
done
grep -q '^got big \|^commit big ' "$T/all" && srv_fail "big was fetched"
grep -q '^fetcher gone' "$T/all" && srv_fail "the fetcher died"
[ "$(processed_count)" = 8 ] || srv_fail "Processed holds $(processed_count), not 8"
ids=$(cat "$MD"/.Processed/new/* "$MD"/.Processed/cur/* 2>/dev/null |
    sed -n 's/^X-Test-Id: \([a-z0-9]*\).*/\1/p' | sort | tr '\n' ' ')
[ "$ids" = "m1 m2 m3 m4 m5 m6 m7 m8 " ] || srv_fail "Processed holds: $ids"
[ "$(srv_mail_count intake)" = 1 ] || srv_fail "INBOX holds $(srv_mail_count intake), not just big"
grep -q 'X-Test-Id: big' "$MD"/new/* "$MD"/cur/* 2>/dev/null ||
    srv_fail "big is not in INBOX"
[ -z "$(ls "$T/inbox")" ] || srv_fail "inbox folder not emptied: $(ls -a "$T/inbox")"
grep -l secret "$T"/err.* && srv_fail "a password in the logs"

# 5b. This Dovecot offers no STARTTLS: with tls = encrypt the fetcher
#    says why and never logs in (the password is not sent).
LOGINS=$(grep -c 'Login: user=<intake>' "$SRV_DIR/log/dovecot.log")
TOOL_IMAP_TLS=encrypt start_driver
wait_line '^failing 1 127.0.0.1 offers no STARTTLS, which \[imap\] tls = encrypt requires \(the password was not sent\)$'
stop_driver
[ "$(grep -c 'Login: user=<intake>' "$SRV_DIR/log/dovecot.log")" = "$LOGINS" ] ||
    srv_fail "tls = encrypt logged in without TLS"

# 6. imaps:// certificate verification, against openssl s_server (a
#    TLS endpoint that says an IMAP greeting; what comes after the
#    handshake shows whether the fetcher went on).
if command -v openssl >/dev/null; then
	C=$T/tls
	mkdir "$C"
	cert()
	{
		# cert NAME CA SAN: a server certificate signed by CA
		openssl req -new -newkey rsa:2048 -nodes -subj "/CN=$1" \
		    -keyout "$C/$1.key" -out "$C/$1.csr" 2>/dev/null &&
		printf 'subjectAltName=%s\nextendedKeyUsage=serverAuth\n' "$3" \
		    >"$C/$1.ext" &&
		openssl x509 -req -in "$C/$1.csr" -CA "$C/$2.pem" \
		    -CAkey "$C/$2.key" -CAcreateserial -days 2 \
		    -extfile "$C/$1.ext" -out "$C/$1.pem" 2>/dev/null
	}
	for ca in ca other; do
		openssl req -x509 -newkey rsa:2048 -nodes -days 2 \
		    -subj "/CN=test $ca" -keyout "$C/$ca.key" \
		    -out "$C/$ca.pem" 2>/dev/null || srv_fail "openssl CA"
	done
	cert good ca "IP:127.0.0.1" || srv_fail "openssl cert"
	cert wrongname ca "DNS:other.example.test" || srv_fail "openssl cert"
	tls_try()
	{
		# tls_try SERVERCERT CAFILE(or -) expect(pass|refuse)
		_p=$(srv_free_port)
		mkfifo "$C/in.$_p"
		openssl s_server -quiet -accept "127.0.0.1:$_p" \
		    -cert "$C/$1.pem" -key "$C/$1.key" <"$C/in.$_p" \
		    >"$C/srv.$_p" 2>"$C/srv-err.$_p" &
		_s=$!
		exec 9>"$C/in.$_p"
		printf '* OK test server ready\r\n' >&9
		srv_wait_port "$_p" || srv_fail "s_server"
		_ca=
		[ "$2" != - ] && _ca=$C/$2.pem
		RUN=$((RUN + 1))
		TOOL_IMAP_TLS=verify TOOL_IMAP_CA=$_ca "$T/tool_imap" \
		    "imaps://intake:secret@127.0.0.1:$_p/INBOX" "$T/inbox" \
		    "$T/state" "$MAXB" 300 >"$T/out.$RUN" 2>"$T/err.$RUN" &
		DRIVER=$!
		_n=600
		while [ "$_n" -gt 0 ]; do
			grep -q CAPABILITY "$C/srv.$_p" && break
			grep -q 'certificate of 127.0.0.1 refused' \
			    "$T/out.$RUN" "$T/err.$RUN" 2>/dev/null && break
			sleep 0.1
			_n=$((_n - 1))
		done
		stop_driver
		exec 9>&-
		kill "$_s" 2>/dev/null
		wait "$_s" 2>/dev/null
		case $3 in
		pass)
			grep -q CAPABILITY "$C/srv.$_p" ||
			    srv_fail "TLS $1/$2 refused: $(cat "$T/err.$RUN")" ;;
		refuse)
			grep -q '^failing 1 certificate of 127.0.0.1 refused' \
			    "$T/out.$RUN" ||
			    srv_fail "TLS $1/$2 not refused: $(cat "$T/out.$RUN" "$T/err.$RUN")"
			grep -q . "$C/srv.$_p" &&
			    srv_fail "TLS $1/$2: the client spoke after a refused certificate: $(cat "$C/srv.$_p")" ;;
		esac
		grep 'certificate' "$T/out.$RUN" | head -n 1
	}
	tls_try good ca pass
	tls_try good other refuse
	tls_try good - refuse
	tls_try wrongname ca refuse
fi
grep -l 'AddressSanitizer\|runtime error' "$T"/err.* &&
    srv_fail "sanitizer findings: $(grep -h -A5 'AddressSanitizer\|runtime error' "$T"/err.*)"
echo "it_imap: ok"
