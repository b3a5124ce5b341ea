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
		# (min_free: the machine's free space is no test's business)
		for kv in "spool_dir = spool" "state_dir = var" "settle_ms = 300" \
		    "upload_timeout = 3s" "workers = 2" "min_free = 16M"; do
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

# bd_start: run beiand -f in the background (-v too when BD_VERBOSE=1:
# debug lines such as "intake: synced up to uid N"); wait until this run
# has logged "beiand: started" (a line of an earlier run in the same log
# does not count) and made its spool tree.  BD_LOG_OFF (exported) is the
# log's size before this run: bd_wait_log and bd_log_run look after it.
bd_start()
{
	: >>"$BEIAND_DIR/beiand.log"
	BD_LOG_OFF=$(wc -c <"$BEIAND_DIR/beiand.log")
	export BD_LOG_OFF
	_v=
	[ "${BD_VERBOSE:-0}" = 1 ] && _v=-v
	"$BEIAND" -f $_v -c "$BEIAND_DIR/beiand.conf" >>"$BEIAND_DIR/beiand.log" 2>&1 &
	BEIAND_PID=$!
	# a start is a second or less; the bound is for a machine under load
	_i=600
	while [ ! -d "$BEIAND_DIR/spool/bureau/11/incoming" ] ||
	    ! _bd_logged "beiand: started"; do
		_i=$((_i - 1))
		[ $_i -le 0 ] && { tail -20 "$BEIAND_DIR/beiand.log"; return 1; }
		kill -0 "$BEIAND_PID" 2>/dev/null || { tail -20 "$BEIAND_DIR/beiand.log"; return 1; }
		sleep 0.1
	done
}

# bd_stop: SIGTERM and wait.
bd_stop()
{
	[ -n "${BEIAND_PID:-}" ] || return 0
	kill -TERM "$BEIAND_PID" 2>/dev/null
	wait "$BEIAND_PID" 2>/dev/null
	BEIAND_PID=
}

# bd_children [PID]: the live (not zombie) child processes of PID (the
# daemon's: its workers and IMAP fetcher), one per line, sorted.
bd_children()
{
	ps -o pid=,stat= --ppid "${1:-$BEIAND_PID}" 2>/dev/null |
	    awk '$2 !~ /^Z/ { print $1 }' | sort -n
}

# _bd_all_gone PID...: none of PID is a live process any more (a zombie
# counts as gone: an orphan's may stay until its new parent, here maybe
# not a real init, reaps it).
_bd_all_gone()
{
	for _p in "$@"; do
		case $(ps -o stat= -p "$_p" 2>/dev/null) in
		'' | Z*) ;;
		*) return 1 ;;
		esac
	done
	return 0
}

# bd_kill: SIGKILL and wait; then wait until its children have gone too
# (workers die with it by PDEATHSIG SIGKILL, the IMAP fetcher ends on its
# PDEATHSIG SIGTERM), so that nothing of this run overlaps the next.
# 1 (and the stragglers killed) when they have not after 60 s.
bd_kill()
{
	[ -n "${BEIAND_PID:-}" ] || return 0
	# (read from /proc, not by ps: the kill lands when it was called)
	_kids=$(cat /proc/"$BEIAND_PID"/task/*/children 2>/dev/null)
	kill -KILL "$BEIAND_PID" 2>/dev/null
	wait "$BEIAND_PID" 2>/dev/null
	BEIAND_PID=
	[ -n "$_kids" ] || return 0
	# shellcheck disable=SC2086 # one pid per word
	bd_wait 60 _bd_all_gone $_kids && return 0
	echo "bd_kill: children of the killed daemon still alive: $_kids" >&2
	# shellcheck disable=SC2086
	kill -KILL $_kids 2>/dev/null
	return 1
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
# bd_log_run: this run's part of the daemon's log (since the last bd_start).
bd_log_run() { tail -c +"$((${BD_LOG_OFF:-0} + 1))" "$BEIAND_DIR/beiand.log" 2>/dev/null; }
_bd_logged() { bd_log_run | grep -q -- "$1"; }

# Every wait below is for a state; its bound only ends a test that would
# otherwise hang, so it is generous (a loaded machine is slow, never wrong).
# bd_wait_file PATH [SEC]: wait until PATH exists.
bd_wait_file() { bd_wait "${2:-60}" test -e "$1"; }
# bd_wait_gone PATH [SEC]: wait until PATH no longer exists.
bd_wait_gone() { bd_wait "${2:-60}" _bd_absent "$1"; }
# bd_wait_empty DIR [SEC]: wait until DIR is empty (a claimed file goes
# once its receipt is durable).
bd_wait_empty() { bd_wait "${2:-60}" _bd_empty "$1"; }
# bd_wait_log PATTERN [SEC]: wait until a line that this run of the
# daemon logged (since the last bd_start) matches PATTERN (grep's basic
# regular expression).
bd_wait_log() { bd_wait "${2:-60}" _bd_logged "$1"; }

# bd_wait_count SEC TARGET COMMAND...: wait until COMMAND prints a number
# >= TARGET; 1 when the number has not grown for SEC seconds (a batch
# that a loaded machine works through slowly is waited for as long as it
# makes progress; one that is stuck fails).
bd_wait_count()
{
	_sec=$1 _target=$2
	shift 2
	_last=-1
	_still=0
	while :; do
		_now=$("$@")
		[ "$_now" -ge "$_target" ] && return 0
		if [ "$_now" -gt "$_last" ]; then
			_last=$_now
			_still=0
		else
			_still=$((_still + 1))
			[ $_still -ge $((_sec * 10)) ] && return 1
		fi
		sleep 0.1
	done
}

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
