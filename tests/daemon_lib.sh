# daemon_lib.sh: start and stop a beiand for integration tests (sourced
# after tests/lib/servers.sh and srv_init).  BEIAND_DIR holds the config,
# the spool and the state; the daemon logs to $BEIAND_DIR/beiand.log.
B=${B:-build}
case "$B" in
/*) BEIAND=$B/beiand BEIANCTL=$B/beianctl ;;
*) BEIAND=$(pwd)/$B/beiand BEIANCTL=$(pwd)/$B/beianctl ;;
esac
export BEIAND_PWHASH_FAST=1

# fail MESSAGE: the test fails; the daemon's last log lines go with it,
# and the daemon is stopped.
# (A test that needs more, or less, defines its own after this file.)
fail()
{
	echo "FAIL: $*" >&2
	[ -f "${BEIAND_DIR:-/nonexistent}/beiand.log" ] &&
		tail -n 30 "$BEIAND_DIR/beiand.log" >&2
	bd_stop
	exit 1
}

# bd_config DIR [EXTRA...]: write DIR/beiand.conf; EXTRA lines go into
# [daemon] (e.g. "settle_ms = 200").
bd_config()
{
	BEIAND_DIR=$1
	shift
	mkdir -p "$BEIAND_DIR"
	chmod 755 "$BEIAND_DIR"
	{
		echo "[daemon]"
		# defaults, unless EXTRA sets the key
		for kv in "spool_dir = spool" "state_dir = var" "settle_ms = 300" \
		    "upload_timeout = 3s" "workers = 2"; do
			_k=${kv%% *}
			_set=0
			for l in "$@"; do
				case "$l" in "$_k "* | "$_k="*) _set=1 ;; esac
			done
			[ $_set = 1 ] || echo "$kv"
		done
		for l in "$@"; do echo "$l"; done
		echo "[smtp]"
		echo "from = beian@provider.example"
		echo "[bureau.11]"
		echo "addresses = review@bureau.example"
		echo "[provider.P001]"
		echo "name = 示例网络科技有限公司"
		echo "email = filing@p001.example"
		echo "ip_ranges = 203.0.113.0/24, 2001:db8::/32"
		echo "[provider.P002]"
		echo "name = 另一家接入商"
		echo "email = filing@p002.example"
		echo "ip_ranges = 198.51.100.0/24"
	} >"$BEIAND_DIR/beiand.conf"
	export BEIAND_DIR
}

# bd_start: run beiand -f in the background; wait for its spool tree.
bd_start()
{
	"$BEIAND" -f -c "$BEIAND_DIR/beiand.conf" >>"$BEIAND_DIR/beiand.log" 2>&1 &
	BEIAND_PID=$!
	_i=0
	while [ ! -d "$BEIAND_DIR/spool/bureau/11/incoming" ] ||
	    ! grep -q "beiand: started" "$BEIAND_DIR/beiand.log" 2>/dev/null; do
		_i=$((_i + 1))
		[ $_i -gt 100 ] && { tail -20 "$BEIAND_DIR/beiand.log"; return 1; }
		kill -0 "$BEIAND_PID" 2>/dev/null || { tail -20 "$BEIAND_DIR/beiand.log"; return 1; }
		sleep 0.1
	done
	# the last "started" line must be this run's
	: >"$BEIAND_DIR/started.mark"
}

# bd_stop: SIGTERM and wait.
bd_stop()
{
	[ -n "${BEIAND_PID:-}" ] || return 0
	kill -TERM "$BEIAND_PID" 2>/dev/null
	wait "$BEIAND_PID" 2>/dev/null
	BEIAND_PID=
}

# bd_kill: SIGKILL and wait (its workers die with it: PDEATHSIG).
bd_kill()
{
	[ -n "${BEIAND_PID:-}" ] || return 0
	kill -KILL "$BEIAND_PID" 2>/dev/null
	wait "$BEIAND_PID" 2>/dev/null
	BEIAND_PID=
	sleep 0.2
}

# bd_wait SEC COMMAND...: run COMMAND every 0.1 s until it succeeds;
# 1 when it has not after SEC seconds.
bd_wait()
{
	_n=$(( $1 * 10 ))
	shift
	until "$@"; do
		_n=$((_n - 1))
		[ $_n -le 0 ] && return 1
		sleep 0.1
	done
}

_bd_absent() { [ ! -e "$1" ]; }
_bd_empty() { [ -z "$(ls -A "$1")" ]; }
_bd_logged() { grep -q -- "$1" "$BEIAND_DIR/beiand.log" 2>/dev/null; }

# bd_wait_file PATH [SEC]: wait until PATH exists.
bd_wait_file() { bd_wait "${2:-20}" test -e "$1"; }
# bd_wait_gone PATH [SEC]: wait until PATH no longer exists.
bd_wait_gone() { bd_wait "${2:-20}" _bd_absent "$1"; }
# bd_wait_empty DIR [SEC]: wait until DIR is empty (a claimed file goes
# once its receipt is durable).
bd_wait_empty() { bd_wait "${2:-10}" _bd_empty "$1"; }
# bd_wait_log PATTERN [SEC]: wait until a line of the daemon's log
# matches PATTERN (grep's basic regular expression).
bd_wait_log() { bd_wait "${2:-20}" _bd_logged "$1"; }

# bd_drop FROM TO: rename(2) every file of FROM into TO, at once, as an
# upload client's final renames (mv(1) was seen to complain of a name the
# daemon had claimed before mv was done with it).
bd_drop()
{
	/usr/bin/python3 -c 'import os, sys
for n in sorted(os.listdir(sys.argv[1])):
    os.rename(os.path.join(sys.argv[1], n), os.path.join(sys.argv[2], n))' "$1" "$2"
}

# bd_quarantined NAME: the upload NAME is in spool/quarantine/ (its file is
# named after its claim; the first line of its .reason names the upload)
bd_quarantined()
{
	for _r in "$BEIAND_DIR"/spool/quarantine/*.reason; do
		[ -f "$_r" ] && [ -e "${_r%.reason}" ] &&
		    [ "$(head -n 1 "$_r")" = "upload: $1" ] && return 0
	done
	return 1
}

bd_ctl()
{
	"$BEIANCTL" -c "$BEIAND_DIR/beiand.conf" "$@"
}
