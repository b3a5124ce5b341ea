#!/bin/sh
# it_deploy: docs/operations.md's way from a fresh system to a working
# deployment, followed in a staged root under a private folder:
#   1. make install DESTDIR=R PREFIX=/usr; systemd-sysusers and
#      systemd-tmpfiles --root=R make the service user and the tree
#      (R/etc/passwd and group start as copies of this system's, so the
#      ids they hand out are free here too).
#   2. beiand -n, as the service user, names the configured provider's
#      missing folder and the command that makes it (and a helper program
#      it cannot find); `beianctl provider add` refuses to run as anyone
#      but root, then (as root, --root R) makes the account and folders
#      with DESIGN.md's owners and prints the config section and the sshd
#      Match block; beiand -n is happy.
#   3. metrics_file in node_exporter's textfile folder: beiand -n says
#      the folder is not writable and how to make it so; after that
#      setfacl it is fine, and the file is written there, mode 0644.
#   4. A real sshd, configured with the printed Match block (paths moved
#      into R) and seeing R's accounts (its own mount namespace with R's
#      passwd and group bound over the system's), takes the provider's
#      uploads as the account provider add made.  beiand runs as the
#      service user, without -f (its log lines go to stderr all the
#      same), first without CAP_DAC_READ_SEARCH:
#        - an upload the client sends as 0600 gets an UPLOAD_UNREADABLE
#          receipt the provider downloads, one log line, a recent error
#          in `beianctl status`, and no busy loop: the daemon's CPU time
#          while three tries go by stays low;
#        - the provider's sftp chmod 640 gets it claimed and filed;
#      then with the capability (as the unit grants it): a 0600 upload is
#      filed as it is, and its helpers hold no capability.
#   5. A reload naming a provider whose folder is missing says
#      "missing", not "Permission denied", and keeps the running config.
#   6. beianctl backup into the folder tmpfiles made; into a missing one:
#      a plain message.
#   7. provider remove refuses while the provider is configured; then it
#      removes the account and moves the folder, with its receipts, aside.
# Nothing outside the test's folder is touched: this system's accounts are
# checked unchanged at the end.
. "$(dirname "$0")/lib/servers.sh"

if [ "$(id -u)" != 0 ]; then
	echo "it_deploy: needs root, skipped"
	exit 0
fi
cd "$(dirname "$0")/.." || exit 2
. tests/daemon_lib.sh

srv_init || exit 1
fail()
{
	echo "FAIL: $*" >&2
	[ -f "$SRV_DIR/beiand.log" ] && tail -n 30 "$SRV_DIR/beiand.log" >&2
	bd_stop
	srv_fail "$@"
}

# wait_for SEC COMMAND...: poll every 0.1 s until COMMAND succeeds.
wait_for()
{
	_n=$(( $1 * 10 ))
	shift
	until "$@"; do
		_n=$((_n - 1))
		[ $_n -le 0 ] && return 1
		sleep 0.1
	done
}

# ---- 1. install, service user, tree ---------------------------------------
R=$SRV_DIR/root
mkdir -p "$R/etc"
# this system's accounts (so that R's new ids are free here), without
# beiand's own: R makes those afresh
grep -v '^beiand' /etc/passwd >"$R/etc/passwd"
grep -v '^beiand' /etc/group >"$R/etc/group"
HOST_ACCOUNTS=$(getent passwd beiand-p001 beiand; getent group beiand-p001 beiand)
make -s B="$B" DESTDIR="$R" PREFIX=/usr install >"$SRV_DIR/install.log" 2>&1 ||
	{ cat "$SRV_DIR/install.log"; fail "make install"; }
systemd-sysusers --root="$R" "$R/usr/lib/sysusers.d/beiand.conf" \
    >/dev/null 2>&1 || fail "systemd-sysusers"
systemd-tmpfiles --root="$R" --create "$R/usr/lib/tmpfiles.d/beiand.conf" ||
	fail "systemd-tmpfiles"
BU=$(awk -F: '$1 == "beiand" { print $3 }' "$R/etc/passwd")
BG=$(awk -F: '$1 == "beiand" { print $3 }' "$R/etc/group")
[ -n "$BU" ] && [ -n "$BG" ] || fail "no user beiand in $R"
[ -d "$R/var/lib/beiand/backup" ] || fail "tmpfiles made no backup folder"
for h in beiand-worker beiand-imap; do
	[ "$(stat -c %a "$R/usr/libexec/beiand/$h" 2>/dev/null)" = 755 ] ||
		fail "make install: no $R/usr/libexec/beiand/$h"
done
# the installed programs look for their helpers in /usr/libexec/beiand:
# in the staged root, that is R's
BEIAND_LIBEXEC=$R/usr/libexec/beiand
export BEIAND_LIBEXEC
echo "ok: installed; service user beiand is $BU:$BG"

as_beiand() { setpriv --reuid="$BU" --regid="$BG" --clear-groups "$@"; }
CONF=$R/etc/beiand/beiand.conf
RC=$R/etc/beiand/run.conf
SBIN=$R/usr/sbin/beiand
CTL=$R/usr/bin/beianctl
PROMDIR=$R/var/lib/prometheus/node-exporter
METRICS=
# run.conf: the installed file with its paths moved into R (and a quick
# settle), readable by beiand as the installed one is
mkrun()
{
	sed -e "s|^spool_dir .*|spool_dir = $R/var/spool/beiand|" \
	    -e "s|^state_dir .*|state_dir = $R/var/lib/beiand|" \
	    -e "s|^settle_ms .*|settle_ms = 300|" \
	    -e "s|^workers .*|workers = 1|" \
	    -e "s|^metrics_file .*|metrics_file = $METRICS|" "$CONF" >"$RC"
	chown "root:$BG" "$RC"
	chmod 640 "$RC"
}
mkrun
# as installed, the configuration serves no province and no provider yet,
# and says so; beiand -n passes on it
out=$(as_beiand "$SBIN" -n -c "$RC" 2>&1) || fail "-n on the installed configuration: $out"
[ "$out" = "configuration OK" ] || fail "-n on the installed configuration: $out"
grep -q '^;   beianctl provider add CODE$' "$CONF" ||
	fail "the installed configuration does not say how to add a provider"
echo "ok: the installed configuration serves nothing yet; -n passes on it"

# ---- 2. beiand -n, provider add ----------------------------------------------
# the administrator names the province and the provider (as the example
# and `provider add` show them)
sed -n '/^\[bureau.11\]/,$p' docs/beiand.conf.example >>"$CONF"
mkrun
P=$R/var/spool/beiand/providers/P001
out=$(as_beiand "$SBIN" -n -c "$RC" 2>&1) && fail "-n passed without P001's folders: $out"
echo "$out" | grep -q "^$P: missing, and beiand may not make it" ||
	fail "-n does not say P001's folder is missing: $out"
echo "$out" | grep -q "fix: as root: beianctl -c $RC provider add P001" ||
	fail "-n does not give the command: $out"
echo "$out" | grep -qi "permission denied" && fail "-n: $out"
echo "ok: beiand -n names the missing folder and the command"

out=$(as_beiand "$CTL" provider add P001 2>&1)
[ $? -eq 2 ] || fail "provider add as beiand: exit not 2"
echo "$out" | grep -q "must be run as root" || fail "provider add as beiand: $out"
[ -e "$P" ] && fail "provider add as beiand made $P"

"$CTL" -c "$CONF" provider add --root "$R" P001 >"$SRV_DIR/add.out" 2>"$SRV_DIR/add.err" ||
	{ cat "$SRV_DIR/add.err"; fail "provider add"; }
grep -q '^beiand-p001:x:[0-9]*:[0-9]*:.*:/:/usr/sbin/nologin$' "$R/etc/passwd" ||
	fail "no account beiand-p001 (nologin, home /) in R"
AU=$(awk -F: '$1 == "beiand-p001" { print $3 }' "$R/etc/passwd")
AG=$(awk -F: '$1 == "beiand-p001" { print $3 }' "$R/etc/group")
for row in "$P 755 0 0" "$P/incoming 2770 $AU $BG" "$P/outgoing 2750 $BU $AG"; do
	set -- $row
	got=$(stat -c '%a %u %g' "$1")
	[ "$got" = "$2 $3 $4" ] || fail "$1 is '$got', want '$2 $3 $4'"
done
grep -q '^\[provider.P001\] is in' "$SRV_DIR/add.out" ||
	fail "provider add: no word on the config section: $(cat "$SRV_DIR/add.out")"
grep -q "^Match User beiand-p001$" "$SRV_DIR/add.out" ||
	fail "provider add printed no Match block"
# a second add repairs, and changes nothing that is right
"$CTL" -c "$CONF" provider add --root "$R" P001 >/dev/null 2>&1 ||
	fail "provider add, again"
out=$(as_beiand "$SBIN" -n -c "$RC" 2>&1) || fail "-n after provider add: $out"
[ "$out" = "configuration OK" ] || fail "-n: $out"
echo "ok: provider add made beiand-p001 ($AU) and its folders; -n OK"
out=$(BEIAND_LIBEXEC=$SRV_DIR/nohelpers as_beiand "$SBIN" -n -c "$RC" 2>&1) &&
	fail "-n without the helper programs"
echo "$out" | grep -q "^$SRV_DIR/nohelpers/beiand-worker: missing" &&
    echo "$out" | grep -q "fix: make install (it goes to LIBEXECDIR), or set BEIAND_LIBEXEC" ||
	fail "-n does not name the missing helper: $out"
echo "ok: -n names a missing helper program"

# ---- 3. metrics in node_exporter's textfile folder -------------------------
install -d -m 0755 "$PROMDIR"
METRICS=$PROMDIR/beiand.prom
mkrun
out=$(as_beiand "$SBIN" -n -c "$RC" 2>&1) && fail "-n accepts an unwritable metrics folder"
echo "$out" | grep -q "^$PROMDIR: permission denied" ||
	fail "-n on the metrics folder: $out"
echo "$out" | grep -qE "setfacl -m u:($BU|beiand):rwx $PROMDIR" ||
	fail "-n gives no setfacl for the metrics folder: $out"
setfacl -m "u:$BU:rwx" "$PROMDIR" || fail "setfacl"
out=$(as_beiand "$SBIN" -n -c "$RC" 2>&1) || fail "-n after setfacl: $out"
echo "ok: -n checks the metrics folder"

# ---- 4. sshd with R's accounts; uploads as the provider ---------------------
SD=$SRV_DIR/sshd/DEPLOY
mkdir -p "$SD" /run/sshd
chmod 755 "$SD"
ssh-keygen -q -t ed25519 -N '' -f "$SD/host_ed25519" </dev/null >/dev/null || fail "host key"
ssh-keygen -q -t ed25519 -N '' -f "$SD/id_ed25519" </dev/null >/dev/null || fail "client key"
install -d -m 0755 "$R/etc/ssh/beiand-keys"
install -m 0644 "$SD/id_ed25519.pub" "$R/etc/ssh/beiand-keys/beiand-p001"
SPORT=$(srv_free_port)
{
	cat <<EOF
ListenAddress 127.0.0.1:$SPORT
HostKey $SD/host_ed25519
PidFile $SD/sshd.pid
UsePAM no
PermitRootLogin no
PasswordAuthentication no
KbdInteractiveAuthentication no
AllowUsers beiand-p001
UseDNS no
LogLevel VERBOSE
Subsystem sftp internal-sftp
EOF
	# the block provider add printed, its paths moved into R
	sed -n '/^Match User beiand-p001$/,/^$/p' "$SRV_DIR/add.out" |
	    sed -e "s|ChrootDirectory /|ChrootDirectory $R/|" \
	        -e "s|AuthorizedKeysFile /|AuthorizedKeysFile $R/|"
} >"$SD/sshd_config"
/usr/sbin/sshd -t -f "$SD/sshd_config" 2>"$SRV_DIR/log/sshd-deploy.log" ||
	fail "sshd -t: $(cat "$SRV_DIR/log/sshd-deploy.log")"
unshare --mount --propagation private sh -c '
	mount --bind "$1/etc/passwd" /etc/passwd &&
	mount --bind "$1/etc/group" /etc/group &&
	exec /usr/sbin/sshd -f "$2/sshd_config" -E "$3"' sh "$R" "$SD" \
    "$SRV_DIR/log/sshd-deploy.log" || fail "sshd"
srv_wait_port "$SPORT" || fail "sshd does not listen"
sftp_p001()
{
	sftp -q -b - -i "$SD/id_ed25519" -P "$SPORT" \
	    -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null \
	    -o BatchMode=yes -o LogLevel=ERROR -o IdentitiesOnly=yes \
	    beiand-p001@127.0.0.1 >/dev/null
}

/usr/bin/python3 bench/gen_packages.py "$SRV_DIR/pk" 2 >/dev/null || fail "gen_packages"
set -- "$SRV_DIR"/pk/*
PK1=$1 PK2=$2
chmod 600 "$PK1" "$PK2"

LOG=$SRV_DIR/beiand.log
: >"$LOG"
# beiand_start [setpriv capability options]: as the service user, without
# -f; -v for the debug line of each try
beiand_start()
{
	setpriv --reuid="$BU" --regid="$BG" --clear-groups "$@" \
	    "$SBIN" -v -c "$RC" 2>>"$LOG" &
	BEIAND_PID=$!
	wait_for 20 grep -q "beiand\[$BEIAND_PID\]: beiand: started" "$LOG" ||
		fail "beiand did not start (as $BU)"
}
beiand_start
echo "ok: beiand runs as $BU without -f; its lines are on stderr"

printf 'cd incoming\nput %s batch-a.zip\n' "$PK1" | sftp_p001 ||
	fail "sftp put"
[ "$(stat -c %a "$P/incoming/batch-a.zip")" = 600 ] ||
	fail "the client did not upload 0600: $(stat -c %a "$P/incoming/batch-a.zip")"
RCPT=$P/outgoing/batch-a.zip.receipt.xml
wait_for 30 grep -q 'code="UPLOAD_UNREADABLE"' "$RCPT" 2>/dev/null ||
	fail "no UPLOAD_UNREADABLE receipt"
cpu() { awk '{ print $14 + $15 }' "/proc/$BEIAND_PID/stat"; }
c0=$(cpu)
# three tries go by (1 s, 2 s, then "next try in 4 s"): a state, not a time
wait_for 30 grep -q "upload=batch-a.zip still cannot be read: .*next try in 4 s" "$LOG" ||
	fail "no backoff seen"
c1=$(cpu)
used=$((c1 - c0))
[ "$used" -lt 50 ] || fail "beiand used $used ticks of CPU while the upload waited"
n=$(grep -c "upload=batch-a.zip provider=P001 cannot be read" "$LOG")
[ "$n" -eq 1 ] || fail "the unreadable upload was logged $n times"
[ -e "$P/incoming/batch-a.zip" ] || fail "the unreadable upload left incoming/"
printf 'get outgoing/batch-a.zip.receipt.xml %s/got-a.xml\n' "$SRV_DIR" | sftp_p001 ||
	fail "the provider cannot download its receipt"
grep -q 'chmod 640' "$SRV_DIR/got-a.xml" || fail "the receipt does not say what to change"
as_beiand "$CTL" -c "$RC" status >"$SRV_DIR/status.out" 2>&1 || fail "status"
grep -q "UPLOAD_UNREADABLE.*batch-a.zip" "$SRV_DIR/status.out" ||
	fail "status shows no UPLOAD_UNREADABLE: $(cat "$SRV_DIR/status.out")"
echo "ok: a 0600 upload: UPLOAD_UNREADABLE receipt, one log line, status; $used ticks of CPU over three tries"

printf 'chmod 640 incoming/batch-a.zip\n' | sftp_p001 || fail "sftp chmod"
filed() { grep -q '<item path="/" kind="filing" id="BA-' "$1" 2>/dev/null; }
wait_for 30 filed "$RCPT" || fail "not filed after chmod: $(cat "$RCPT")"
wait_for 10 test ! -e "$P/incoming/batch-a.zip" || fail "still in incoming/"
grep -q "upload=batch-a.zip provider=P001 readable now" "$LOG" ||
	fail "no line for the upload becoming readable"
echo "ok: filed once the provider's chmod made it readable"

kill -TERM "$BEIAND_PID"
wait "$BEIAND_PID"
BEIAND_PID=
beiand_start --inh-caps=+dac_read_search --ambient-caps=+dac_read_search
printf 'cd incoming\nput %s batch-b.zip\n' "$PK2" | sftp_p001 || fail "sftp put b"
wait_for 30 filed "$P/outgoing/batch-b.zip.receipt.xml" ||
	fail "a 0600 upload not filed with CAP_DAC_READ_SEARCH"
grep -q "upload=batch-b.zip.*cannot be read" "$LOG" &&
	fail "batch-b.zip was unreadable with the capability"
for pid in $(pgrep -P "$BEIAND_PID"); do
	for c in CapPrm CapEff CapAmb; do
		grep -q "^$c:	0000000000000000\$" "/proc/$pid/status" ||
			fail "child $pid of beiand kept a capability: $(grep Cap "/proc/$pid/status")"
	done
done
echo "ok: with CAP_DAC_READ_SEARCH a 0600 upload is filed; its workers hold none"

wait_for 20 test -s "$METRICS" || fail "no metrics file"
[ "$(stat -c %a "$METRICS")" = 644 ] || fail "metrics file mode"
echo "ok: metrics written to $METRICS"

# ---- 5. reload with a provider whose folder is missing ------------------
cp "$RC" "$SRV_DIR/run.good"
printf '[provider.P002]\nname = b\nemail = b@p002.example\nip_ranges = 198.51.100.0/24\n' >>"$RC"
kill -HUP "$BEIAND_PID"
wait_for 20 grep -q "keeping the running configuration" "$LOG" ||
	fail "reload: no refusal"
line=$(grep "keeping the running configuration" "$LOG")
echo "$line" | grep -q "providers/P002: missing" || fail "reload: $line"
echo "$line" | grep -q "provider add P002" || fail "reload gives no fix: $line"
echo "$line" | grep -qi "permission denied" && fail "reload: $line"
kill -0 "$BEIAND_PID" || fail "beiand died on the reload"
cp "$SRV_DIR/run.good" "$RC"
echo "ok: a reload says what is missing"

# ---- 6. backup ---------------------------------------------------------------
as_beiand "$CTL" -c "$RC" backup "$R/var/lib/beiand/backup/b.db" >/dev/null ||
	fail "backup into the documented folder"
[ "$(stat -c %a "$R/var/lib/beiand/backup/b.db")" = 600 ] || fail "backup mode"
out=$(as_beiand "$CTL" -c "$RC" backup "$R/var/lib/beiand/nosuch/b.db" 2>&1) &&
	fail "backup into a missing folder"
echo "$out" | grep -q "nosuch does not exist" || fail "backup: $out"
echo "ok: backup"

kill -TERM "$BEIAND_PID"
wait "$BEIAND_PID" || fail "beiand exited $?"
BEIAND_PID=

# ---- 7. provider remove ----------------------------------------------------
out=$("$CTL" -c "$CONF" provider remove --root "$R" P001 2>&1)
[ $? -eq 1 ] || fail "provider remove of a configured provider: $out"
echo "$out" | grep -q "still in" || fail "provider remove: $out"
grep -q '^beiand-p001:' "$R/etc/passwd" || fail "refused remove took the account"
sed -i '/^\[provider.P001\]/,$d' "$CONF"
"$CTL" -c "$CONF" provider remove --root "$R" P001 >"$SRV_DIR/rm.out" 2>&1 ||
	fail "provider remove: $(cat "$SRV_DIR/rm.out")"
grep -q '^beiand-p001:' "$R/etc/passwd" "$R/etc/group" && fail "the account is still there"
[ -e "$P" ] && fail "$P is still there"
set -- "$P".removed-*
[ -d "$1" ] || fail "the provider's folder was not kept"
[ "$(stat -c '%a %u' "$1")" = "700 0" ] || fail "kept folder: $(stat -c '%a %u' "$1")"
[ -f "$1/outgoing/batch-a.zip.receipt.xml" ] || fail "the receipts were not kept"
echo "ok: provider remove: account gone, receipts kept in $(basename "$1")"

[ "$(getent passwd beiand-p001 beiand; getent group beiand-p001 beiand)" = \
    "$HOST_ACCOUNTS" ] || fail "this system's accounts changed"
echo "it_deploy: all passed"
