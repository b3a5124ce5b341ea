# servers.sh: private Dovecot, Postfix and sshd instances for the
# integration tests.  POSIX sh; source it, never run it.  Must run as
# root.  Everything lives under one work directory below /run (sshd
# refuses a ChrootDirectory below the world-writable /tmp) and listens on
# 127.0.0.1 only, on free high ports; the machine's own dovecot, postfix
# and sshd are neither used nor disturbed.  The one system-wide trace is
# /run/sshd (sshd's compiled-in privilege separation directory), created
# empty when missing and left in place.
#
#   srv_init                  make SRV_DIR (/run/beiand-test.XXXXXX, 0755),
#                             install the traps (EXIT/INT/TERM/HUP/PIPE) that
#                             call srv_cleanup.
#   srv_cleanup [STATUS]      stop everything started, remove SRV_DIR; with
#                             SRV_KEEP=1 and a non-zero STATUS keep it (logs).
#   srv_free_port             print a free loopback TCP port (20000-31999,
#                             below the ephemeral range, never handed out
#                             twice in one run).
#   srv_wait_port PORT [SEC]  wait until 127.0.0.1:PORT accepts (default 30 s).
#   srv_wait SEC COMMAND...   run COMMAND every 0.1 s until it succeeds; 1
#                             when it has not after SEC seconds.
#   srv_wait_gone_pids SEC PID...
#                             wait until no PID is a live process (a zombie
#                             counts as gone).
#   srv_log_tail [N]          print the last N (20) lines of every log.
#   srv_fail MSG...           print MSG and the log tails to stderr, exit 1.
#
#   srv_dovecot_start USER... IMAP on SRV_IMAP_PORT, LMTP on SRV_LMTP_PORT;
#                             users USER with password "secret", address
#                             USER@example.test (LMTP takes any domain: the
#                             local part names the user); maildirs in
#                             $SRV_DIR/mail/USER/Maildir owned by nobody.
#                             Returns once the IMAP greeting answers.
#   srv_dovecot_stop          stop it and wait until it has gone.
#   srv_dovecot_restart       stop, then start again on the same ports/users.
#   srv_dovecot_add_user USER add a user to a running Dovecot.
#   srv_imap_idle USER        succeeds while one of USER's IMAP sessions is
#                             in IDLE (Dovecot's process titles say so).
#   srv_deliver USER FILE     drop FILE into USER's INBOX with dovecot-lda
#                             (no SMTP involved).
#   srv_mail_count USER       number of messages in USER's INBOX maildir.
#   srv_wait_mail USER N [SEC] wait until USER's INBOX holds >= N messages
#                             (default 60 s).
#
#   srv_postfix_start         Postfix on 127.0.0.1:SRV_SMTP_PORT; accepts
#                             mail for any domain from loopback and hands it
#                             all to the Dovecot LMTP (start Dovecot first);
#                             nothing leaves the machine.  RCPT
#                             reject@example.test gets 550 5.1.1 and
#                             tempfail@example.test 450 4.2.0, at once.
#                             Returns once the SMTP greeting answers.  The
#                             instance is kept across stop/start.
#   srv_postfix_stop          stop it and wait until it has gone.
#   srv_postfix_flush         retry deferred mail now (postqueue -f).
#   srv_postfix_queue         print the queue (postqueue -p).
#   srv_postfix_wait_empty [SEC] wait until the queue holds nothing (every
#                             accepted mail delivered or bounced; 60 s).
#                             Load generator against it (for benches):
#                               smtp-source -c -s 4 -m 100 -l 2048 \
#                                 -f a@example.test -t owner@example.test \
#                                 127.0.0.1:$SRV_SMTP_PORT
#
#   srv_sshd_start CODE CHROOT  an sshd for one provider: user nobody,
#                             ChrootDirectory CHROOT (root:root 0755 all the
#                             way up; checked), internal-sftp -u 0007,
#                             public keys only.  Sets SRV_SSHD_PORT_<CODE>,
#                             SRV_SSH_KEY_<CODE> (ed25519 private key, for
#                             sftp, libssh2 and libcurl) and prints the port.
#                             Again after srv_sshd_stop: same port and keys.
#   srv_sshd_port CODE        print its port (also when started in $(...)).
#   srv_sshd_key CODE         print the client private key path (.pub next
#                             to it).
#   srv_sshd_stop CODE        stop that sshd (open sessions live on).
#   srv_sftp CODE BATCH       sftp -b BATCH as nobody ("-" reads stdin).
#   srv_curl_sftp_put CODE LOCAL REMOTE
#                             curl -T LOCAL sftp://127.0.0.1:PORT/REMOTE
#                             (REMOTE relative to the chroot, e.g.
#                             incoming/x.zip).
#
# TLS (Debian 12's stock Postfix and Dovecot offer STARTTLS with a
# self-signed certificate); set before srv_dovecot_start/srv_postfix_start,
# read at every start (a restart switches):
#   SRV_TLS=                  (empty, the default) no TLS at all, as before.
#   SRV_TLS=may               as Debian ships them: STARTTLS offered, login
#                             in the clear allowed (Dovecot ssl=yes, Postfix
#                             smtpd_tls_security_level=may).
#   SRV_TLS=required          TLS demanded before login (Dovecot ssl=required
#                             with disable_plaintext_auth; Postfix
#                             smtpd_tls_security_level=encrypt).
#   With either, also implicit TLS: IMAPS on SRV_IMAPS_PORT, SMTPS
#   (wrapper mode) on SRV_SMTPS_PORT.
#   SRV_TLS_CERT=self         (default) a self-signed certificate CN=somehost,
#                             made as NOTES.md says (the name is not the
#                             address connected to, as Debian's snakeoil).
#   SRV_TLS_CERT=ca           one signed by the test CA $SRV_DIR/tls/ca.pem,
#                             CN=somehost, subjectAltName IP:127.0.0.1.
#   srv_tls_pin self|ca       print that certificate's public-key pin
#                             (sha256//BASE64, curl's form).
#   The certificates are $SRV_DIR/tls/{self,ca,ipsan}.pem (keys .key).
#   Postfix offers AUTH (PLAIN, LOGIN) through Dovecot's auth service: the
#   users of srv_dovecot_start with password "secret".  Dovecot logs every
#   authentication (auth_verbose), Postfix every SASL login, so a test can
#   show that no credential was sent.
#   Dovecot also listens on 127.0.0.2: it counts a client whose address is
#   its own (127.0.0.1 to 127.0.0.1) as secure and lets it log in without
#   TLS even when TLS is required; from 127.0.0.1 to 127.0.0.2 it does not.
#
# Variables: SRV_DIR, SRV_IMAP_PORT, SRV_LMTP_PORT, SRV_SMTP_PORT,
# SRV_IMAPS_PORT, SRV_SMTPS_PORT,
# SRV_SSHD_PORT_<CODE>, SRV_SSH_KEY_<CODE> (all exported, and also
# written to the sourceable $SRV_DIR/env, so starting a server inside
# $(...) loses nothing), SRV_DOMAIN (example.test), SRV_PASSWORD
# (secret), SRV_NOBODY (65534), SRV_KEEP.

SRV_DOMAIN=example.test
SRV_PASSWORD=secret
SRV_NOBODY=65534
SRV_PORTS_USED=

srv_init()
{
	if [ "$(id -u)" != 0 ]; then
		echo "servers.sh: must run as root" >&2
		return 1
	fi
	SRV_DIR=$(mktemp -d /run/beiand-test.XXXXXX) || return 1
	chmod 755 "$SRV_DIR"
	mkdir "$SRV_DIR/log"
	export SRV_DIR SRV_DOMAIN SRV_PASSWORD
	trap 'srv_cleanup $?' EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM
	trap 'exit 129' HUP
	trap 'exit 141' PIPE
}

srv_cleanup()
{
	_st=${1:-0}
	trap - EXIT INT TERM HUP PIPE
	[ -n "$SRV_DIR" ] && [ -d "$SRV_DIR" ] || return 0
	for _c in "$SRV_DIR"/sshd/*/sshd.pid; do
		[ -f "$_c" ] || continue
		_c=${_c%/sshd.pid}
		srv_sshd_stop "${_c##*/}"
	done
	srv_postfix_stop
	srv_dovecot_stop
	if [ "$_st" != 0 ] && [ "${SRV_KEEP:-0}" = 1 ]; then
		echo "servers.sh: kept $SRV_DIR" >&2
	else
		rm -rf "$SRV_DIR"
	fi
	return "$_st"
}

srv_free_port()
{
	while :; do
		_p=$(od -An -N2 -tu2 /dev/urandom | tr -d ' ')
		_p=$((20000 + _p % 12000))
		case " $SRV_PORTS_USED " in *" $_p "*) continue ;; esac
		if [ -z "$(ss -Htan "sport = :$_p")" ]; then
			SRV_PORTS_USED="$SRV_PORTS_USED $_p"
			echo "$_p"
			return 0
		fi
	done
}

# srv__connects PORT: does 127.0.0.1:PORT accept a connection?
srv__connects()
{
	[ -n "$(ss -Hltn "sport = :$1" "src 127.0.0.1")" ]
}

# Every wait here is for a state; its bound only ends a test that would
# otherwise hang, so it is generous (a loaded machine is slow, never wrong).
srv_wait_port()
{
	_n=$(( ${2:-30} * 50 ))
	while [ "$_n" -gt 0 ]; do
		srv__connects "$1" && return 0
		sleep 0.02
		_n=$((_n - 1))
	done
	echo "servers.sh: nothing listens on 127.0.0.1:$1" >&2
	return 1
}

srv_wait()
{
	_w=$(( $1 * 10 ))
	shift
	until "$@"; do
		_w=$((_w - 1))
		[ $_w -le 0 ] && return 1
		sleep 0.1
	done
}

# srv__gone PID...: none of PID is a live process (a zombie is gone: an
# orphan's may stay until its new parent reaps it).
srv__gone()
{
	for _g in "$@"; do
		case $(ps -o stat= -p "$_g" 2>/dev/null) in
		'' | Z*) ;;
		*) return 1 ;;
		esac
	done
	return 0
}

srv_wait_gone_pids()
{
	_sg_sec=$1
	shift
	[ $# -gt 0 ] || return 0
	srv_wait "$_sg_sec" srv__gone "$@"
}

# srv__wait_greeting SCHEME PORT: wait (60 s) until the server behind
# 127.0.0.1:PORT answers a harmless command (IMAP CAPABILITY, SMTP NOOP):
# a listening socket alone may still be waiting for its worker.
srv__wait_greeting()
{
	case $1 in imap) _cmd=CAPABILITY ;; *) _cmd=NOOP ;; esac
	_end=$(( $(date +%s) + 60 ))
	until curl -s --max-time 10 -X "$_cmd" "$1://127.0.0.1:$2" >/dev/null; do
		[ "$(date +%s)" -lt "$_end" ] || {
			echo "servers.sh: no $1 greeting on 127.0.0.1:$2" >&2
			return 1
		}
		sleep 0.1
	done
}

# srv__wait_gone PID [SEC]: wait until process PID has exited (30 s).
srv__wait_gone()
{
	srv_wait_gone_pids "${2:-30}" "$1"
}

# srv__stop_master PID [LOGGER]: stop a server's master process.  Both
# masters wait a second or more after their workers have gone (Dovecot
# for its log process, Postfix just sleeps); tests stop and restart
# servers often, so once no worker but the logger (a child whose command
# line ends in LOGGER) is alive, the master and the logger are killed.
# Mail is safe: both have written it to disk before acknowledging.
# Returns once the master and every child it had are gone (their
# listening sockets closed with them); 1 when they are not after 30 s.
srv__stop_master()
{
	_pid=$1
	[ -n "$_pid" ] || return 0
	_all="$_pid $(ps -o pid= --ppid "$_pid" | tr '\n' ' ')"
	kill -TERM "$_pid" 2>/dev/null || return 0
	_n=500
	while :; do
		case $(ps -o stat= -p "$_pid") in ''|Z*) break ;; esac
		_busy=$(ps -o stat=,args= --ppid "$_pid" |
		    awk -v l="${2:-@none@}" '$1 !~ /^Z/ && $2 !~ l"$"')
		if [ -z "$_busy" ] || [ "$_n" -le 0 ]; then
			_all=$({ echo "$_all"; ps -o pid= --ppid "$_pid"; } |
			    tr ' ' '\n' | grep . | sort -u)
			pkill -KILL -P "$_pid" 2>/dev/null
			kill -KILL "$_pid" 2>/dev/null
		fi
		[ "$_n" -gt -3000 ] || return 1
		sleep 0.01
		_n=$((_n - 1))
	done
	# The master gone, what is left of its children (the logger, ones on
	# their way out) goes too; then they are waited for.
	# shellcheck disable=SC2086 # one pid per word
	kill -KILL $_all 2>/dev/null
	# shellcheck disable=SC2086
	srv_wait_gone_pids 30 $_all
}

# srv__save NAME VALUE: set and export NAME, and record it in
# $SRV_DIR/env (sourceable; lets a later $(...)-less caller, a child
# script or a Python test find the ports).
srv__save()
{
	eval "$1=\$2"
	# shellcheck disable=SC2163 # export the variable named by $1
	export "$1"
	echo "export $1='$2'" >>"$SRV_DIR/env"
}

srv_log_tail()
{
	for _f in "$SRV_DIR"/log/*; do
		[ -s "$_f" ] || continue
		echo "--- $_f"
		tail -n "${1:-20}" "$_f"
	done
}

srv_fail()
{
	{
		echo "FAIL: $*"
		srv_log_tail 20
	} >&2
	exit 1
}

# ---------------------------------------------------------------- Dovecot

srv__dovecot_conf()
{
	_d=$SRV_DIR/dovecot
	cat >"$_d/dovecot.conf" <<EOF
# Private test instance; reads nothing else.
instance_name = $(basename "$SRV_DIR")
base_dir = $_d/run
state_dir = $_d/state
log_path = $SRV_DIR/log/dovecot.log
listen = 127.0.0.1, 127.0.0.2
protocols = imap lmtp
# process titles name each session's user and command: srv_imap_idle
verbose_proctitle = yes
$(srv__dovecot_tls)
auth_mechanisms = plain login
auth_verbose = yes
auth_username_format = %n
mail_location = maildir:$SRV_DIR/mail/%n/Maildir
first_valid_uid = $SRV_NOBODY
last_valid_uid = $SRV_NOBODY
lda_mailbox_autocreate = yes
shutdown_clients = yes
# Tests log in with wrong passwords on purpose: no 2 s failure delay and
# no per-IP penalty growing up to 15 s (anvil's penalty socket is off).
auth_failure_delay = 0

passdb {
  driver = passwd-file
  args = scheme=PLAIN username_format=%n $_d/users
}
userdb {
  driver = passwd-file
  args = username_format=%n $_d/users
  default_fields = uid=$SRV_NOBODY gid=$SRV_NOBODY home=$SRV_DIR/mail/%n
}
service imap-login {
  inet_listener imap {
    address = 127.0.0.1, 127.0.0.2
    port = $SRV_IMAP_PORT
  }
  inet_listener imaps {
    address = 127.0.0.1, 127.0.0.2
    port = $(if [ -n "${SRV_TLS:-}" ]; then echo "$SRV_IMAPS_PORT"; else echo 0; fi)
    ssl = yes
  }
}
# Postfix's SMTP AUTH asks here.
service auth {
  unix_listener auth-postfix {
    mode = 0666
  }
}
service lmtp {
  inet_listener lmtp {
    address = 127.0.0.1
    port = $SRV_LMTP_PORT
  }
}
service anvil {
  unix_listener anvil-auth-penalty {
    mode = 0
  }
}
protocol lmtp {
  postmaster_address = postmaster@$SRV_DOMAIN
}
EOF
}

# srv__dovecot_tls: the ssl lines of dovecot.conf for SRV_TLS.
srv__dovecot_tls()
{
	case ${SRV_TLS:-} in
	'')
		echo "ssl = no"
		echo "disable_plaintext_auth = no" ;;
	may|required)
		[ "$SRV_TLS" = may ] && echo "ssl = yes" || echo "ssl = required"
		[ "$SRV_TLS" = may ] && echo "disable_plaintext_auth = no" ||
		    echo "disable_plaintext_auth = yes"
		echo "ssl_cert = <$(srv__tls_cert).pem"
		echo "ssl_key = <$(srv__tls_cert).key"
		[ -f /usr/share/dovecot/dh.pem ] &&
		    echo "ssl_dh = </usr/share/dovecot/dh.pem" ;;
	*)
		echo "servers.sh: SRV_TLS=$SRV_TLS: expected may or required" >&2
		return 1 ;;
	esac
}

# ---------------------------------------------------------------- TLS

# srv__tls_make: the test certificates, once per SRV_DIR.
srv__tls_make()
{
	_t=$SRV_DIR/tls
	[ -f "$_t/ipsan.pem" ] && return 0
	mkdir -p "$_t"
	chmod 755 "$_t"
	# as NOTES.md: a self-signed certificate named for no address
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 \
	    -nodes -days 30 -subj /CN=somehost -keyout "$_t/self.key" \
	    -out "$_t/self.pem" 2>/dev/null &&
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 \
	    -nodes -days 30 -subj "/CN=beiand test CA" -keyout "$_t/ca.key" \
	    -out "$_t/ca.pem" 2>/dev/null &&
	openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 \
	    -nodes -subj /CN=somehost -keyout "$_t/ipsan.key" \
	    -out "$_t/ipsan.csr" 2>/dev/null &&
	printf 'subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n' \
	    >"$_t/ipsan.ext" &&
	openssl x509 -req -in "$_t/ipsan.csr" -CA "$_t/ca.pem" \
	    -CAkey "$_t/ca.key" -CAcreateserial -days 30 \
	    -extfile "$_t/ipsan.ext" -out "$_t/ipsan.pem" 2>/dev/null || {
		echo "servers.sh: openssl could not make the certificates" >&2
		return 1
	}
	chmod 644 "$_t"/*.pem "$_t"/*.key
}

# srv__tls_cert: the server certificate's path without .pem/.key.
srv__tls_cert()
{
	case ${SRV_TLS_CERT:-self} in
	ca) echo "$SRV_DIR/tls/ipsan" ;;
	*) echo "$SRV_DIR/tls/self" ;;
	esac
}

srv_tls_pin()
{
	srv__tls_make || return 1
	case $1 in ca) _c=$SRV_DIR/tls/ipsan.pem ;; *) _c=$SRV_DIR/tls/self.pem ;; esac
	printf 'sha256//%s\n' "$(openssl x509 -in "$_c" -pubkey -noout |
	    openssl pkey -pubin -outform der | openssl dgst -sha256 -binary |
	    base64)"
}

# srv__tls_ports: the implicit-TLS ports, once.
srv__tls_ports()
{
	[ -f "$SRV_DIR/env" ] && . "$SRV_DIR/env"
	if [ -z "${SRV_IMAPS_PORT:-}" ]; then
		SRV_IMAPS_PORT=$(srv_free_port)
		SRV_PORTS_USED="$SRV_PORTS_USED $SRV_IMAPS_PORT"
		srv__save SRV_IMAPS_PORT "$SRV_IMAPS_PORT"
	fi
	if [ -z "${SRV_SMTPS_PORT:-}" ]; then
		SRV_SMTPS_PORT=$(srv_free_port)
		SRV_PORTS_USED="$SRV_PORTS_USED $SRV_SMTPS_PORT"
		srv__save SRV_SMTPS_PORT "$SRV_SMTPS_PORT"
	fi
}

srv_dovecot_add_user()
{
	printf '%s:{PLAIN}%s::::::\n' "$1" "$SRV_PASSWORD" \
	    >>"$SRV_DIR/dovecot/users"
	mkdir -p "$SRV_DIR/mail/$1"
	chown "$SRV_NOBODY:$SRV_NOBODY" "$SRV_DIR/mail/$1"
}

srv_dovecot_start()
{
	_d=$SRV_DIR/dovecot
	if [ ! -f "$_d/dovecot.conf" ]; then
		mkdir -p "$_d/run" "$_d/state" "$SRV_DIR/mail"
		chown "$SRV_NOBODY:$SRV_NOBODY" "$SRV_DIR/mail"
		: >"$_d/users"
		chmod 644 "$_d/users"
		for _u in "$@"; do
			srv_dovecot_add_user "$_u"
		done
		SRV_IMAP_PORT=$(srv_free_port)
		SRV_PORTS_USED="$SRV_PORTS_USED $SRV_IMAP_PORT"
		SRV_LMTP_PORT=$(srv_free_port)
		SRV_PORTS_USED="$SRV_PORTS_USED $SRV_LMTP_PORT"
		srv__save SRV_IMAP_PORT "$SRV_IMAP_PORT"
		srv__save SRV_LMTP_PORT "$SRV_LMTP_PORT"
	else
		. "$SRV_DIR/env"
		for _u in "$@"; do
			grep -q "^$_u:" "$_d/users" || srv_dovecot_add_user "$_u"
		done
	fi
	if [ -n "${SRV_TLS:-}" ]; then
		srv__tls_make && srv__tls_ports || return 1
	fi
	# written at every start: SRV_TLS may have changed
	srv__dovecot_conf || return 1
	/usr/sbin/dovecot -c "$_d/dovecot.conf" || {
		srv_log_tail >&2
		return 1
	}
	srv_wait_port "$SRV_IMAP_PORT" && srv_wait_port "$SRV_LMTP_PORT" &&
	    srv__wait_greeting imap "$SRV_IMAP_PORT" &&
	    { [ -z "${SRV_TLS:-}" ] || srv_wait_port "$SRV_IMAPS_PORT"; } || {
		srv_log_tail >&2
		return 1
	}
}

# srv__descendants PID: every process below PID, now.
srv__descendants()
{
	ps -e -o pid=,ppid= | awk -v root="$1" '
	    { kids[$2] = kids[$2] " " $1 }
	    END { n = split(kids[root], q, " "); i = 1
	        while (i <= n) { p = q[i++]; print p
	            m = split(kids[p], c, " "); for (j = 1; j <= m; j++) q[++n] = c[j] } }'
}

srv_dovecot_stop()
{
	_pf=$SRV_DIR/dovecot/run/master.pid
	[ -f "$_pf" ] || return 0
	# A session process may outlive its master: a restart must end every
	# client connection, as a real server restart does.
	_kids=$(srv__descendants "$(cat "$_pf")")
	srv__stop_master "$(cat "$_pf")" /log
	if [ -n "$_kids" ]; then
		# shellcheck disable=SC2086 # one pid per word
		kill -KILL $_kids 2>/dev/null
		# gone, not just signalled: their sockets close with them
		# shellcheck disable=SC2086
		srv_wait_gone_pids 30 $_kids
	fi
	rm -f "$_pf"
	return 0
}

srv_dovecot_restart()
{
	srv_dovecot_stop && srv_dovecot_start
}

srv_imap_idle()
{
	# "dovecot-INSTANCE/imap [USER 127.0.0.1 IDLE]" (pgrep -f would
	# read the brackets as a pattern)
	# shellcheck disable=SC2009
	ps -eo args= | grep -F "dovecot-$(basename "$SRV_DIR")/imap [$1 " |
	    grep -q ' IDLE\]$'
}

srv_deliver()
{
	/usr/lib/dovecot/dovecot-lda -c "$SRV_DIR/dovecot/dovecot.conf" \
	    -d "$1" -f "sender@$SRV_DOMAIN" <"$2"
}

srv_mail_count()
{
	_m=$SRV_DIR/mail/$1/Maildir
	find "$_m/new" "$_m/cur" -type f 2>/dev/null | wc -l
}

srv_wait_mail()
{
	_n=$(( ${3:-60} * 20 ))
	while [ "$(srv_mail_count "$1")" -lt "$2" ]; do
		[ "$_n" -gt 0 ] || return 1
		sleep 0.05
		_n=$((_n - 1))
	done
	return 0
}

# ---------------------------------------------------------------- Postfix

srv__postfix_conf()
{
	_e=$SRV_DIR/postfix/etc
	_q=$SRV_DIR/postfix/spool
	cat >"$_e/main.cf" <<EOF
# Private test instance: everything goes to the test Dovecot over LMTP.
compatibility_level = 3.6
queue_directory = $_q
data_directory = $SRV_DIR/postfix/data
maillog_file = $SRV_DIR/log/postfix.log
maillog_file_prefixes = $SRV_DIR
mail_owner = postfix
setgid_group = postdrop
myhostname = mx.$SRV_DOMAIN
mydomain = $SRV_DOMAIN
myorigin = $SRV_DOMAIN
mydestination =
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
mynetworks = 127.0.0.0/8
smtp_host_lookup = native
lmtp_host_lookup = native
disable_dns_lookups = yes
alias_maps =
alias_database =
local_recipient_maps =
virtual_alias_domains =
virtual_alias_maps =
virtual_mailbox_domains = static:all
virtual_mailbox_maps = static:all
virtual_transport = lmtp:inet:[127.0.0.1]:$SRV_LMTP_PORT
default_transport = error:5.7.1 test instance: no external delivery
relay_transport = error:5.7.1 test instance: no external delivery
local_transport = error:5.7.1 test instance: no local delivery
smtpd_relay_restrictions = permit_mynetworks, reject_unauth_destination
smtpd_recipient_restrictions = check_recipient_access texthash:$_e/rcpt_access
smtpd_banner = \$myhostname ESMTP test
smtpd_sasl_auth_enable = yes
smtpd_sasl_type = dovecot
smtpd_sasl_path = $SRV_DIR/dovecot/run/auth-postfix
$(srv__postfix_tls)
biff = no
message_size_limit = 52428800
queue_run_delay = 1s
minimal_backoff_time = 1s
maximal_backoff_time = 2s
bounce_queue_lifetime = 1h
maximal_queue_lifetime = 1h
daemon_timeout = 60s
smtpd_error_sleep_time = 0
smtpd_soft_error_limit = 1000
smtpd_hard_error_limit = 1000
smtpd_client_connection_count_limit = 0
smtpd_client_connection_rate_limit = 0
lmtp_destination_concurrency_limit = 20
EOF
	cat >"$_e/rcpt_access" <<EOF
reject@$SRV_DOMAIN 550 5.1.1 <reject@$SRV_DOMAIN>: rejected by the test server
tempfail@$SRV_DOMAIN 450 4.2.0 <tempfail@$SRV_DOMAIN>: try again later
EOF
	cat >"$_e/master.cf" <<EOF
127.0.0.1:$SRV_SMTP_PORT inet n - n - - smtpd
$(if [ -n "${SRV_TLS:-}" ]; then echo "127.0.0.1:$SRV_SMTPS_PORT inet n - n - - smtpd -o smtpd_tls_wrappermode=yes -o smtpd_tls_security_level=encrypt"; fi)
tlsmgr    unix  - - n 1000? 1 tlsmgr
pickup    unix  n - n 60 1 pickup
cleanup   unix  n - n -  0 cleanup
qmgr      unix  n - n 300 1 qmgr
rewrite   unix  - - n -  - trivial-rewrite
bounce    unix  - - n -  0 bounce
defer     unix  - - n -  0 bounce
trace     unix  - - n -  0 bounce
verify    unix  - - n -  1 verify
flush     unix  n - n 1000? 0 flush
proxymap  unix  - - n -  - proxymap
showq     unix  n - n -  - showq
error     unix  - - n -  - error
retry     unix  - - n -  - error
discard   unix  - - n -  - discard
smtp      unix  - - n -  - smtp
lmtp      unix  - - n -  - lmtp
anvil     unix  - - n -  1 anvil
scache    unix  - - n -  1 scache
postlog   unix-dgram n - n - 1 postlogd
EOF
	# Postfix waits for config files younger than a second.
	touch -d '-10 seconds' "$_e/main.cf" "$_e/master.cf" "$_e/rcpt_access"
}

# srv__postfix_tls: the smtpd_tls lines of main.cf for SRV_TLS.
srv__postfix_tls()
{
	case ${SRV_TLS:-} in
	'') echo "smtpd_tls_security_level = none" ;;
	may|required)
		[ "$SRV_TLS" = may ] && echo "smtpd_tls_security_level = may" ||
		    echo "smtpd_tls_security_level = encrypt"
		echo "smtpd_tls_cert_file = $(srv__tls_cert).pem"
		echo "smtpd_tls_key_file = $(srv__tls_cert).key"
		echo "smtpd_tls_loglevel = 1" ;;
	*)
		echo "servers.sh: SRV_TLS=$SRV_TLS: expected may or required" >&2
		return 1 ;;
	esac
}

srv__postfix_dirs()
{
	_q=$SRV_DIR/postfix/spool
	mkdir -p "$SRV_DIR/postfix/etc" "$SRV_DIR/postfix/data" "$_q/pid"
	chown postfix "$SRV_DIR/postfix/data"
	chmod 700 "$SRV_DIR/postfix/data"
	for _s in active bounce corrupt defer deferred flush hold incoming \
	    private saved trace; do
		mkdir -p "$_q/$_s"
		chown postfix "$_q/$_s"
		chmod 700 "$_q/$_s"
	done
	mkdir -p "$_q/maildrop" "$_q/public"
	chown postfix:postdrop "$_q/maildrop" "$_q/public"
	chmod 730 "$_q/maildrop"
	chmod 710 "$_q/public"
}

srv_postfix_start()
{
	[ -f "$SRV_DIR/env" ] && . "$SRV_DIR/env"
	if [ -z "$SRV_LMTP_PORT" ]; then
		echo "servers.sh: start Dovecot before Postfix" >&2
		return 1
	fi
	_e=$SRV_DIR/postfix/etc
	if [ ! -f "$_e/main.cf" ]; then
		srv__postfix_dirs
		SRV_SMTP_PORT=$(srv_free_port)
		SRV_PORTS_USED="$SRV_PORTS_USED $SRV_SMTP_PORT"
		srv__save SRV_SMTP_PORT "$SRV_SMTP_PORT"
	else
		. "$SRV_DIR/env"
	fi
	if [ -n "${SRV_TLS:-}" ]; then
		srv__tls_make && srv__tls_ports || return 1
	fi
	# written at every start: SRV_TLS may have changed
	srv__postfix_conf || return 1
	: >>"$SRV_DIR/log/postfix.log"
	# -w: return once the master has initialised (in the background).
	/usr/lib/postfix/sbin/master -c "$_e" -w || {
		# master reports nothing when it fails this early: ask
		# postconf and "postfix check" (which talks only to a tty).
		{
			# shellcheck disable=SC2069 # stderr to the log only
			/usr/sbin/postconf -c "$_e" -n 2>&1 >/dev/null
			script -qc "/usr/sbin/postfix -c $_e check" /dev/null
		} >>"$SRV_DIR/log/postfix-start.log" 2>&1
		srv_log_tail >&2
		return 1
	}
	srv_wait_port "$SRV_SMTP_PORT" &&
	    srv__wait_greeting smtp "$SRV_SMTP_PORT" &&
	    { [ -z "${SRV_TLS:-}" ] || srv_wait_port "$SRV_SMTPS_PORT"; } || {
		srv_log_tail >&2
		return 1
	}
}

srv_postfix_stop()
{
	_pf=$SRV_DIR/postfix/spool/pid/master.pid
	[ -f "$_pf" ] || return 0
	srv__stop_master "$(tr -d ' ' <"$_pf")" postlogd
	rm -f "$_pf"
}

srv_postfix_flush()
{
	/usr/sbin/postqueue -c "$SRV_DIR/postfix/etc" -f
}

srv_postfix_queue()
{
	/usr/sbin/postqueue -c "$SRV_DIR/postfix/etc" -p
}

# srv__postfix_queued: number of queue files (mail accepted and not yet
# delivered or bounced).
srv__postfix_queued()
{
	_q=$SRV_DIR/postfix/spool
	find "$_q/maildrop" "$_q/incoming" "$_q/active" "$_q/deferred" \
	    -type f 2>/dev/null | wc -l
}

srv__postfix_empty() { [ "$(srv__postfix_queued)" = 0 ]; }

srv_postfix_wait_empty()
{
	srv_wait "${1:-60}" srv__postfix_empty
}

# ---------------------------------------------------------------- sshd

# srv__check_chroot DIR: sshd wants every component root-owned and not
# group/world-writable; say which one is wrong instead of a silent
# "bad ownership or modes for chroot directory" in the log.
srv__check_chroot()
{
	case $1 in /*) ;; *) echo "servers.sh: chroot $1 not absolute" >&2; return 1 ;; esac
	_p=$1
	while :; do
		_sm=$(stat -c '%u %a' "$_p") || return 1
		# shellcheck disable=SC2086 # split "uid mode"
		set -- $_sm
		if [ "$1" != 0 ] || [ $(( 0$2 & 022 )) != 0 ]; then
			echo "servers.sh: chroot component $_p is uid $1 mode $2" \
			    "(needs root, not group/world-writable)" >&2
			return 1
		fi
		[ "$_p" = / ] && return 0
		_p=$(dirname "$_p")
	done
}

srv_sshd_start()
{
	_code=$1
	_root=$2
	_d=$SRV_DIR/sshd/$_code
	if [ -f "$_d/sshd.pid" ] && kill -0 "$(cat "$_d/sshd.pid")" 2>/dev/null; then
		echo "servers.sh: sshd $_code already running" >&2
		return 1
	fi
	srv__check_chroot "$_root" || return 1
	# State lives in files, not variables, so that a caller may run
	# this in $(...) and cleanup still finds the server.
	if [ ! -f "$_d/sshd_config" ]; then
		mkdir -p "$_d"
		chmod 755 "$_d"
		ssh-keygen -q -t ed25519 -N '' -C "host-$_code" \
		    -f "$_d/host_ed25519" </dev/null >/dev/null || return 1
		ssh-keygen -q -t ed25519 -N '' -C "client-$_code" \
		    -f "$_d/id_ed25519" </dev/null >/dev/null || return 1
		cp "$_d/id_ed25519.pub" "$_d/authorized_keys"
		_port=$(srv_free_port)
		echo "$_port" >"$_d/port"
		srv__sshd_conf "$_d" "$_port" "$_root"
	fi
	_port=$(cat "$_d/port")
	SRV_PORTS_USED="$SRV_PORTS_USED $_port"
	mkdir -p /run/sshd
	_log=$SRV_DIR/log/sshd-$_code.log
	/usr/sbin/sshd -t -f "$_d/sshd_config" 2>>"$_log" || {
		srv_log_tail >&2
		return 1
	}
	/usr/sbin/sshd -f "$_d/sshd_config" -E "$_log" || {
		srv_log_tail >&2
		return 1
	}
	srv_wait_port "$_port" || {
		srv_log_tail >&2
		return 1
	}
	srv__save "SRV_SSHD_PORT_$_code" "$_port"
	srv__save "SRV_SSH_KEY_$_code" "$_d/id_ed25519"
	echo "$_port"
}

srv__sshd_conf()
{
	cat >"$1/sshd_config" <<EOF
ListenAddress 127.0.0.1:$2
HostKey $1/host_ed25519
PidFile $1/sshd.pid
AuthorizedKeysFile $1/authorized_keys
StrictModes no
UsePAM no
PermitRootLogin no
AllowUsers nobody
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
HostbasedAuthentication no
AllowTcpForwarding no
AllowAgentForwarding no
X11Forwarding no
PermitTTY no
UseDNS no
MaxStartups 100
MaxSessions 100
LogLevel VERBOSE
Subsystem sftp internal-sftp -u 0007
Match User nobody
	ChrootDirectory $3
	ForceCommand internal-sftp -u 0007
EOF
}

srv_sshd_port()
{
	cat "$SRV_DIR/sshd/$1/port"
}

srv_sshd_key()
{
	echo "$SRV_DIR/sshd/$1/id_ed25519"
}

srv_sshd_stop()
{
	_pf=$SRV_DIR/sshd/$1/sshd.pid
	[ -f "$_pf" ] || return 0
	_pid=$(cat "$_pf")
	# The listener only: sessions end when their clients go.
	kill -TERM "$_pid" 2>/dev/null && srv__wait_gone "$_pid" 30
	rm -f "$_pf"
}

srv_sftp()
{
	sftp -q -b "$2" -i "$(srv_sshd_key "$1")" -P "$(srv_sshd_port "$1")" \
	    -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null \
	    -o BatchMode=yes -o LogLevel=ERROR -o IdentitiesOnly=yes \
	    nobody@127.0.0.1
}

srv_curl_sftp_put()
{
	_k=$(srv_sshd_key "$1")
	# -k: no known_hosts check (fresh host key per run).  The path after
	# the port is absolute inside the chroot.
	curl -sS -k --key "$_k" --pubkey "$_k.pub" -u nobody: \
	    -T "$2" "sftp://127.0.0.1:$(srv_sshd_port "$1")/$3"
}
