#!/bin/sh
# it_minfree: intake pauses while state_dir has less than min_free
# (DESIGN.md, Hostile senders) instead of filling it.  state_dir is a
# 24 MiB tmpfs, min_free 8M; uploads come by rename into incoming/ and
# owner mail through a private Dovecot (dropped with dovecot-lda: the
# way a mail reaches the mailbox is not what this test is about).
#   - with room, an upload is receipted and a mail processed;
#   - the tmpfs filled to 4 MiB free: "intake: paused" is logged once,
#     beianctl status shows min_free, the metrics beiand_intake_paused 1;
#     an upload dropped then stays in incoming/ (not claimed) and a mail
#     delivered then stays on the server (the fetcher logs why, the
#     metrics count it waiting for "disk");
#   - space freed: "intake: resumed", the upload is receipted, the mail
#     processed, the status row gone.
. "$(dirname "$0")/lib/servers.sh"

if [ "$(id -u)" != 0 ]; then
	echo "it_minfree: needs root, skipped"
	exit 0
fi
cd "$(dirname "$0")/.." || exit 2
. tests/daemon_lib.sh

srv_init || exit 1
srv_dovecot_start intake || srv_fail "dovecot"
TOP=$SRV_DIR/t
mkdir -p "$TOP"
VAR=$SRV_DIR/bd/var
fail() {
	echo "FAIL: $*" >&2
	tail -30 "$BEIAND_DIR/beiand.log" >&2
	bd_kill
	umount "$VAR" 2>/dev/null
	exit 1
}
/usr/bin/python3 tests/mkspoolpkgs.py "$TOP" || fail "packages"
bd_config "$SRV_DIR/bd" "settle_ms = 50" "min_free = 8M" \
    "metrics_file = metrics.prom" \
    "[imap]" \
    "url = imap://intake:$SRV_PASSWORD@127.0.0.1:$SRV_IMAP_PORT/INBOX" \
    "address = intake@example.test" \
    "provider = P001" \
    "poll_interval = 2s"
mkdir -p "$VAR"
mount -t tmpfs -o size=24m,mode=0700 beiand-minfree "$VAR" || fail "mount tmpfs"
trap 'bd_kill; umount "$VAR" 2>/dev/null; srv_cleanup $?' EXIT
bd_start || fail "beiand did not start"
P=$BEIAND_DIR/spool/providers/P001
W=$BEIAND_DIR/spool/work
M=$SRV_DIR/mail/intake/Maildir

mail() # NAME: a help request composed by Python's email package, delivered
{
	/usr/bin/python3 - "$TOP/$1.eml" "$1" <<'EOF' || return 1
import sys
from email.message import EmailMessage
from email.utils import make_msgid
m = EmailMessage()
m["From"] = "asker@example.test"
m["To"] = "intake@example.test"
m["Subject"] = sys.argv[2]
m["Message-ID"] = make_msgid(domain="mua.example")
m.set_content("how do I file?\n")
open(sys.argv[1], "wb").write(m.as_bytes())
EOF
	srv_deliver intake "$TOP/$1.eml"
}
processed() { find "$M/.Processed/new" "$M/.Processed/cur" -type f 2>/dev/null | wc -l; }
drop() # FILE NAME
{
	cp "$1" "$P/incoming/.$2.part" && mv "$P/incoming/.$2.part" "$P/incoming/$2"
}
metric() { awk -v n="$1" '$1 == n { print $2 }' "$BEIAND_DIR/metrics.prom"; }
# metric_is NAME VALUE: wait until the daemon's metrics file says so
metric_is() { bd_wait 20 sh -c "[ \"\$(awk -v n='$1' '\$1 == n { print \$2 }' \
    '$BEIAND_DIR/metrics.prom')\" = '$2' ]"; }

# ---- with room ----------------------------------------------------------------
drop "$TOP/pkg1.zip" one.zip
bd_wait_file "$P/outgoing/one.zip.receipt.xml" 20 || fail "no receipt for one.zip"
mail first || fail "delivering a mail"
bd_wait 30 sh -c "[ \$(find '$M/.Processed/new' '$M/.Processed/cur' -type f 2>/dev/null | wc -l) = 1 ]" ||
	fail "the first mail was not processed"
metric_is beiand_intake_paused 0 || fail "paused with room"
bd_ctl status | grep -q '^limits: none' || fail "status: $(bd_ctl status)"

# ---- below min_free -------------------------------------------------------------
avail=$(df -B1 --output=avail "$VAR" | tail -1)
dd if=/dev/zero of="$VAR/filler" bs=1M count=$(( (avail >> 20) - 4 )) 2>/dev/null
bd_wait_log "intake: paused: state_dir $VAR has .* free, below min_free (8.0 MiB)" ||
	fail "no pause logged"
drop "$TOP/pkg3.zip" two.zip
mail second || fail "delivering a mail"
# the fetcher has looked at the mail and left it on the server: by then
# the upload, settled for 50 ms, would long have been claimed
bd_wait_log "imap: state_dir has [0-9]* bytes free, min_free is 8388608: new mail waits on the server" ||
	fail "the fetcher did not hold the mail back"
[ -e "$P/incoming/two.zip" ] || fail "two.zip claimed while intake was paused"
[ -z "$(ls "$W")" ] || fail "work/ holds $(ls "$W") while intake was paused"
[ "$(processed)" = 1 ] || fail "a mail processed while intake was paused"
[ "$(srv_mail_count intake)" = 1 ] || fail "the mail is not on the server"
metric_is beiand_intake_paused 1 || fail "beiand_intake_paused $(metric beiand_intake_paused)"
metric_is 'beiand_imap_waiting{reason="disk"}' 1 ||
	fail "waiting{disk} $(metric 'beiand_imap_waiting{reason="disk"}')"
[ "$(metric 'beiand_imap_deferred_total{reason="disk"}')" = 1 ] ||
	fail "deferred{disk} $(metric 'beiand_imap_deferred_total{reason="disk"}')"
bd_ctl status | grep -q "^  min_free since .*: intake paused: state_dir has .* free, below min_free (8.0 MiB); uploads wait in incoming/, 1 mails on the server" ||
	fail "status: $(bd_ctl status)"
bd_ctl status --json | grep -q '"limits":\[{"name":"min_free"' ||
	fail "status --json: $(bd_ctl status --json)"
[ "$(grep -c 'intake: paused' "$BEIAND_DIR/beiand.log")" = 1 ] ||
	fail "the pause logged more than once"

# ---- space again ------------------------------------------------------------------
rm -f "$VAR/filler"
bd_wait_log "intake: resumed: state_dir $VAR has" || fail "no resume logged"
bd_wait_file "$P/outgoing/two.zip.receipt.xml" 20 || fail "no receipt for two.zip"
grep -q 'state="awaiting_verification"' "$P/outgoing/two.zip.receipt.xml" ||
	fail "two.zip: $(cat "$P/outgoing/two.zip.receipt.xml")"
bd_wait 30 sh -c "[ \$(find '$M/.Processed/new' '$M/.Processed/cur' -type f 2>/dev/null | wc -l) = 2 ]" ||
	fail "the second mail was not processed once space was freed"
metric_is beiand_intake_paused 0 || fail "still paused"
metric_is 'beiand_imap_waiting{reason="disk"}' 0 || fail "a mail still waits"
bd_ctl status | grep -q '^limits: none' || fail "status: $(bd_ctl status)"
bd_stop
grep -E "AddressSanitizer|runtime error" "$BEIAND_DIR/beiand.log" && fail "errors in the log"
echo "it_minfree: ok"
