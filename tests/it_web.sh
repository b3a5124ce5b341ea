#!/bin/sh
# it_web: the staff console end to end — beiand (mails as .eml) and
# beiand-web on a loopback port, driven by a real headless Chromium
# through Selenium (tests/web_flow.py: verification with photo and scan,
# approval, the mails, scopes, CSRF, idle sessions, throttling; the
# screenshots of docs/).  Then what curl sees: the headers every answer
# carries, a Secure cookie behind an https base_url, the address of a
# trusted proxy's X-Forwarded-For, request size limits, HTTPS with
# tls_cert/tls_key.
. "$(dirname "$0")/lib/servers.sh"
. "$(dirname "$0")/daemon_lib.sh"

if [ "$(id -u)" != 0 ]; then
	echo "it_web: needs root, skipped"
	exit 0
fi
cd "$(dirname "$0")/.." || exit 2
TOP=$(pwd)
case "$B" in /*) WEB=$B/beiand-web ;; *) WEB=$TOP/$B/beiand-web ;; esac
srv_init || exit 1
WPID=

fail()
{
	echo "FAIL: $*" >&2
	for f in "$BEIAND_DIR/beiand.log" "$BEIAND_DIR/web.log"; do
		[ -f "$f" ] && { echo "--- $f"; tail -n 30 "$f"; } >&2
	done
	web_stop
	bd_stop
	exit 1
}

web_stop()
{
	[ -n "$WPID" ] || return 0
	kill -TERM "$WPID" 2>/dev/null
	wait "$WPID" 2>/dev/null
	WPID=
	# under make asan: a report (a leak at exit included) fails the test
	if grep -qE 'AddressSanitizer|LeakSanitizer|runtime error' \
	    "$BEIAND_DIR/web.log"; then
		cat "$BEIAND_DIR/web.log" >&2
		echo "FAIL: a sanitizer report from beiand-web" >&2
		exit 1
	fi
}

# web_start: beiand-web -f in the background until it serves.
web_start()
{
	: >"$BEIAND_DIR/web.log"
	"$WEB" -f -c "$BEIAND_DIR/beiand.conf" >>"$BEIAND_DIR/web.log" 2>&1 &
	WPID=$!
	bd_wait 20 grep -q "web: started" "$BEIAND_DIR/web.log" ||
		fail "beiand-web did not start"
}

PORT=$(srv_free_port)
IDLE=10
bd_config "$SRV_DIR/b" "workers = 1"
cat >>"$BEIAND_DIR/beiand.conf" <<CONF
[web]
listen = 127.0.0.1:$PORT
session_idle = ${IDLE}s
login_fail_max = 3
CONF
printf 'console-pass-1\n' >"$SRV_DIR/pw"
for u in "li.si provider:P001" "p2 provider:P002" "wang.wu bureau:11" \
    "op operator"; do
	set -- $u
	bd_ctl user add "$1" --role "$2" --password-file "$SRV_DIR/pw" \
	    >/dev/null || fail "user add $1"
done
bd_start || fail "beiand did not start"
"$WEB" -n -c "$BEIAND_DIR/beiand.conf" | grep -qx "configuration OK" ||
	fail "beiand-web -n"
web_start

# ---- the browser ------------------------------------------------------------
SHOTS=${WEB_SHOTS:-$SRV_DIR/shots}
mkdir -p "$SHOTS"
/usr/bin/python3 tests/web_flow.py "http://127.0.0.1:$PORT" "$BEIANCTL" \
    "$BEIAND_DIR/beiand.conf" "$BEIAND_DIR/var" "$SHOTS" "$IDLE" ||
	fail "web_flow"
# The screenshots stay beside the build ($B/); `make screenshots` also
# puts them in docs/ (a test run leaves the checkout as it was), given a
# CJK font to draw them with.
cp "$SHOTS/console-queue.png" "$SHOTS/console-filing.png" "$B/" 2>/dev/null
if [ -n "${WEB_UPDATE_DOCS:-}" ]; then
	[ -n "$(fc-list :lang=zh 2>/dev/null)" ] ||
		fail "no CJK font (fonts-wqy-zenhei) to draw the screenshots with"
	cp "$SHOTS/console-queue.png" "$SHOTS/console-filing.png" docs/
fi

# ---- what curl sees -------------------------------------------------------------
U="http://127.0.0.1:$PORT"
H=$SRV_DIR/h
curl -s -D "$H" -o /dev/null "$U/login" || fail "curl /login"
for h in "Content-Security-Policy: default-src 'self'" \
    "X-Frame-Options: DENY" "X-Content-Type-Options: nosniff" \
    "Cache-Control: no-store"; do
	grep -qi "^$h" "$H" || fail "no '$h' on /login"
done
grep -i '^Set-Cookie: beiand_login=' "$H" | grep -q 'HttpOnly; SameSite=Strict' ||
	fail "login cookie attributes: $(grep -i set-cookie "$H")"
grep -i '^Set-Cookie:' "$H" | grep -qi secure &&
	fail "a Secure cookie over plain http without an https base_url"
st=$(curl -s -o /dev/null -w '%{http_code}' "$U/")
[ "$st" = 303 ] || fail "/ without a session: $st"
st=$(curl -s -o /dev/null -w '%{http_code}' "$U/filings/BA-2026-000001")
[ "$st" = 303 ] || fail "a filing without a session: $st"
st=$(curl -s -o /dev/null -w '%{http_code}' "$U/nothing/here")
[ "$st" = 404 ] || fail "/nothing/here: $st"
# a body over request_max is refused before it is read
st=$(curl -s -o /dev/null -w '%{http_code}' -H 'Content-Length: 999999999' \
    -X POST --data-binary @/dev/null "$U/login")
[ "$st" = 413 ] || fail "Content-Length over request_max: $st"
head -c 13000000 /dev/zero | tr '\0' a >"$SRV_DIR/big"
st=$(curl -s -o /dev/null -w '%{http_code}' -H 'Transfer-Encoding: chunked' \
    -F "username=@$SRV_DIR/big" "$U/login")
[ "$st" = 413 ] || fail "a chunked body over request_max: $st"
grep -q "web: started" "$BEIAND_DIR/web.log" && kill -0 "$WPID" ||
	fail "beiand-web died"
web_stop

# ---- behind a proxy: an https base_url, a trusted X-Forwarded-For ---------------
sed -i "s|^login_fail_max = 3|login_fail_max = 3\nbase_url = https://beian.example/\ntrusted_proxy = 127.0.0.1|" \
    "$BEIAND_DIR/beiand.conf"
web_start
curl -s -c "$SRV_DIR/cj" -D "$H" -o "$SRV_DIR/login.html" "$U/login"
grep -i '^Set-Cookie: beiand_login=' "$H" | grep -q '; Secure' ||
	fail "no Secure cookie with an https base_url"
tok=$(sed -n 's/.*name="csrf" value="\([0-9a-f]*\)".*/\1/p' "$SRV_DIR/login.html")
# curl keeps a Secure cookie for https only: send it by hand
curl -s -D "$H" -o /dev/null -H "Cookie: beiand_login=$tok" \
    -H "X-Forwarded-For: 203.0.113.99, 198.51.100.7" \
    -d "csrf=$tok&username=op&password=console-pass-1" "$U/login"
grep -q '^HTTP/1.1 303' "$H" || fail "login behind the proxy: $(head -1 "$H")"
grep -q 'web: login account=op role=operator origin=198.51.100.7' \
    "$BEIAND_DIR/web.log" || fail "the proxy's X-Forwarded-For not taken"
web_stop

# a client that is not the proxy cannot name its own address
sed -i "s|^trusted_proxy = 127.0.0.1|trusted_proxy = 192.0.2.1|" \
    "$BEIAND_DIR/beiand.conf"
web_start
curl -s -c "$SRV_DIR/cj2" -o "$SRV_DIR/login.html" "$U/login"
tok=$(sed -n 's/.*name="csrf" value="\([0-9a-f]*\)".*/\1/p' "$SRV_DIR/login.html")
curl -s -o /dev/null -H "Cookie: beiand_login=$tok" \
    -H "X-Forwarded-For: 198.51.100.8" \
    -d "csrf=$tok&username=op&password=console-pass-1" "$U/login"
bd_wait 10 grep -q 'web: login account=op role=operator origin=127.0.0.1' \
    "$BEIAND_DIR/web.log" || fail "an untrusted X-Forwarded-For believed"
web_stop

# ---- HTTPS with tls_cert / tls_key ------------------------------------------------
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
    -subj /CN=console.test -days 2 -keyout "$SRV_DIR/key.pem" \
    -out "$SRV_DIR/cert.pem" 2>/dev/null || fail "openssl"
sed -i -e "s|^base_url = .*|tls_cert = $SRV_DIR/cert.pem\ntls_key = $SRV_DIR/key.pem|" \
    -e "/^trusted_proxy/d" "$BEIAND_DIR/beiand.conf"
web_start
curl -sk -D "$H" -o /dev/null "https://127.0.0.1:$PORT/login" ||
	fail "no HTTPS"
grep -i '^Set-Cookie: beiand_login=' "$H" | grep -q '; Secure' ||
	fail "no Secure cookie over HTTPS"
grep -qi '^Strict-Transport-Security:' "$H" || fail "no HSTS over HTTPS"
curl -s -o /dev/null "http://127.0.0.1:$PORT/login" &&
	fail "plain HTTP answered on the HTTPS port"
web_stop
bd_stop
echo "ok: it_web"
