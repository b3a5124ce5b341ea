#!/bin/sh
# it_smtphang: a relay that takes the connection and never answers holds
# up nothing but its own mails.  With [smtp] url on such a relay (a
# listener on loopback that accepts and stays silent; the default
# 10-minute timeout), uploads are still filed and receipted at once, a
# worker killed meanwhile is replaced at once (the mailer's thread parks
# for the fork), and SIGTERM ends the daemon within seconds, the mail on
# the wire given up and queued again.  Started again on a real Postfix,
# every mail goes out exactly once.  "At once" and "within seconds" are
# checked against the relay's 10 minutes with a minute's bound: what
# waits for the silent relay would take ten times as long.
. "$(dirname "$0")/lib/servers.sh"
. "$(dirname "$0")/daemon_lib.sh"

if [ "$(id -u)" != 0 ]; then
	echo "it_smtphang: needs root, skipped"
	exit 0
fi
cd "$(dirname "$0")/.." || exit 2

srv_init || exit 1
T=$SRV_DIR/t
mkdir -p "$T/stage"
srv_dovecot_start owner || srv_fail "dovecot"
srv_postfix_start || srv_fail "postfix"
HANG=$(srv_free_port)
/usr/bin/python3 -c '
import socket, sys
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1])))
s.listen(16)
held = []
while True:
    c, _ = s.accept()
    held.append(c)
    with open(sys.argv[2], "a") as f:
        f.write("accepted\n")' "$HANG" "$T/accepted" &
HANG_PID=$!
trap 'kill $HANG_PID 2>/dev/null; srv_cleanup $?' EXIT
srv_wait_port "$HANG" || fail "the silent relay did not listen"

/usr/bin/python3 bench/gen_packages.py "$T/pk" 3 --format zip --first 800000 >/dev/null ||
	fail "gen_packages"
set -- "$T"/pk/*.zip

# smtp_conf URL: the [smtp] section of the configuration on URL
smtp_conf()
{
	sed -i '/^url = \|^tls = \|^retry_min = \|^retry_max = /d' "$BEIAND_DIR/beiand.conf"
	sed -i "s|^\[smtp\]\$|[smtp]\nurl = $1\ntls = none\nretry_min = 1s\nretry_max = 2s|" \
	    "$BEIAND_DIR/beiand.conf"
}

drop() # FILE NAME: the upload protocol's final rename
{
	cp "$1" "$T/stage/$2"
	bd_drop "$T/stage" "$P/incoming"
}

bd_config "$SRV_DIR/b"
smtp_conf "smtp://127.0.0.1:$HANG"
bd_start || fail "beiand did not start"
P=$BEIAND_DIR/spool/providers/P001

drop "$1" a.zip
bd_wait_file "$P/outgoing/a.zip.receipt.xml" || fail "no receipt for a.zip"
bd_wait_file "$T/accepted" || fail "the mailer never connected"

# the relay holds a mail: the next upload is filed all the same
drop "$2" b.zip
bd_wait_file "$P/outgoing/b.zip.receipt.xml" 60 ||
	fail "b.zip not receipted within 60 s while the relay is silent"
grep -q 'kind="filing"' "$P/outgoing/b.zip.receipt.xml" || fail "b.zip not filed"

# a worker replaced meanwhile: the fork does not wait for the mail
old_ws=$(bd_children)
killed=$(echo "$old_ws" | head -n 1)
kill -KILL "$killed"
drop "$3" c.zip
bd_wait_file "$P/outgoing/c.zip.receipt.xml" 60 ||
	fail "c.zip not receipted within 60 s after a worker was replaced"
# as many live workers as before, the killed one not among them
replaced() {
	new_ws=$(bd_children)
	[ "$(echo "$new_ws" | wc -l)" = "$(echo "$old_ws" | wc -l)" ] &&
	    ! echo "$new_ws" | grep -qx "$killed"
}
bd_wait 60 replaced || fail "worker not replaced within 60 s: $old_ws -> $new_ws"
grep -q 'status=sent' "$BEIAND_DIR/beiand.log" && fail "a mail counted sent through a silent relay"

# SIGTERM: the mail on the wire is given up, the daemon ends at once
t0=$(date +%s)
kill -TERM "$BEIAND_PID"
bd_wait 60 sh -c "! kill -0 $BEIAND_PID 2>/dev/null" ||
	fail "beiand still running 60 s after SIGTERM"
grep -q "beiand: stopped" "$BEIAND_DIR/beiand.log" || fail "no clean stop"
echo "stopped in $(($(date +%s) - t0)) s with the relay silent"

# on a real relay: every mail of the three filings, once.  Counted while
# the daemon is stopped: once started, a fast relay may have sent them all
# before a count could see them queued.
want=$(bd_ctl outbox --json | wc -l)
[ "$want" -ge 6 ] || fail "only $want mails queued for three filings"
smtp_conf "smtp://127.0.0.1:$SRV_SMTP_PORT"
bd_start || fail "beiand did not start again"
bd_wait 60 sh -c "[ \$(grep -c 'status=sent reply=\"250 ' '$BEIAND_DIR/beiand.log') -ge $want ]" ||
	fail "not every mail sent: $(bd_ctl outbox)"
# the log line comes as the relay answers; the row is marked sent after
all_sent() { ! bd_ctl outbox --json | grep -qv '"state":"sent"'; }
bd_wait 60 all_sent || fail "mails not sent: $(bd_ctl outbox --json | grep -v '"state":"sent"')"
dups=$(grep 'status=sent reply="250 ' "$BEIAND_DIR/beiand.log" |
	sed 's/.*mailer: mail=\([0-9]*\) .*/\1/' | sort | uniq -d)
[ -z "$dups" ] || fail "mails sent twice: $dups"
bd_stop
echo "it_smtphang: ok ($want mails)"
