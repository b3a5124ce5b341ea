#!/bin/sh
# bench_imap: owner mail from a ready mailbox to committed filings, beside
# getmail6 fetching the same mails from the same private Dovecot.  N
# distinct owner mails (From the principal's address in each of
# bench/gen_packages.py's packages: zhangsan@benchNNNNNN.cn), each with one package as a zip
# attachment, composed by Python's email package, are dropped into the
# INBOX with dovecot-lda before beiand starts.  beiand's clock runs from
# its start until `beianctl list --json` shows N filings (polled every
# 50 ms); the time until the INBOX is empty (every mail moved to
# Processed) is printed beside it.  getmail6 (SimpleIMAPRetriever,
# read_all, no delete) fetches the same N mails into a fresh Maildir.
# Medians of RUNS runs each (beiand: a fresh state folder and a fresh
# INBOX per run), and the ratio beiand/getmail6: beiand does much more
# per mail (stores the mail, parses MIME, unpacks and checks the package,
# commits the filing, queues the reply, moves the mail), so the ratio says
# how far that work costs beyond the fetch.  N_IMAP (default 300).
# The state lives on a real disk (BENCH_DIR, else /var/tmp), as in
# bench_daemon.  Needs root (tests/lib/servers.sh) and getmail6.
B=${B:-build}
N=${N_IMAP:-300}
RUNS=${RUNS:-3}
cd "$(dirname "$0")/.." || exit 1

if [ "$(id -u)" != 0 ]; then
	echo "bench_imap: needs root, skipped"
	exit 0
fi
if ! command -v getmail >/dev/null 2>&1; then
	echo "bench_imap: getmail6 is not installed (make deps), skipped"
	exit 0
fi

. tests/lib/servers.sh
. tests/daemon_lib.sh
srv_init || exit 1
TOP=$(mktemp -d "${BENCH_DIR:-/var/tmp}/beiand-bench-imap.XXXXXX") || exit 1
chmod 755 "$TOP"	# getmail runs as nobody in it
trap 'bd_kill; rm -rf "$TOP"; srv_cleanup' EXIT
trap 'exit 1' INT TERM HUP

die()
{
	echo "bench_imap: $*" >&2
	[ -n "${BEIAND_DIR:-}" ] && [ -f "$BEIAND_DIR/beiand.log" ] &&
	    tail -20 "$BEIAND_DIR/beiand.log" >&2
	exit 1
}

now_ms() { date +%s%3N; }
median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
rate() { awk -v n="$N" -v ms="$1" 'BEGIN { printf "%.1f\n", n * 1000 / ms }'; }

# One intake user per beiand run (each starts from the same full INBOX),
# one for getmail6.
USERS=reader
k=1
while [ $k -le "$RUNS" ]; do
	USERS="$USERS intake$k"
	k=$((k + 1))
done
# shellcheck disable=SC2086
srv_dovecot_start $USERS || die "dovecot did not start"

/usr/bin/python3 bench/gen_packages.py "$TOP/pk" "$N" --first 700000 >/dev/null ||
    die "gen_packages failed"
/usr/bin/python3 - "$TOP/pk" "$TOP/mail" <<'EOF' || die "composing the mails failed"
import os, re, sys, zipfile
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
src, dst = sys.argv[1], sys.argv[2]
os.makedirs(dst)
for i, name in enumerate(sorted(os.listdir(src))):
    path = os.path.join(src, name)
    # the From is the owner address: the principal's email in the package
    # (gen_packages gives every package a domain, and an address, of its own)
    with zipfile.ZipFile(path) as z:
        x = z.read("filing.xml").decode()
    owner = re.search(r"<principal>.*?<email>([^<]+)</email>", x, re.S).group(1)
    m = EmailMessage()
    m["From"] = "张三 <%s>" % owner
    m["To"] = "intake@example.test"
    m["Subject"] = "备案申请 %s" % name
    m["Date"] = formatdate(localtime=True)
    m["Message-ID"] = make_msgid(domain="mua.example")
    m.set_content("请查收备案材料。\n")
    with open(path, "rb") as f:
        m.add_attachment(f.read(), maintype="application", subtype="zip",
                         filename=name)
    with open(os.path.join(dst, "m%06d.eml" % i), "wb") as f:
        f.write(m.as_bytes())
EOF
SIZE=$(cat "$TOP"/mail/*.eml | wc -c)

deliver() # USER
{
	for f in "$TOP"/mail/*.eml; do
		srv_deliver "$1" "$f" || return 1
	done
	[ "$(srv_mail_count "$1")" -eq "$N" ]
}
for u in $USERS; do
	deliver "$u" || die "delivering to $u failed"
done

inbox_count() # USER: messages left in the INBOX maildir
{
	srv_mail_count "$1"
}

# ---------------------------------------------------------------- beiand
: >"$TOP/bd_rate"
: >"$TOP/bd_empty"
k=1
while [ $k -le "$RUNS" ]; do
	u=intake$k
	bd_config "$TOP/b$k" "settle_ms = 50" \
	    "[imap]" \
	    "url = imap://$u:$SRV_PASSWORD@127.0.0.1:$SRV_IMAP_PORT/INBOX" \
	    "address = intake@example.test" \
	    "provider = P001" \
	    "poll_interval = 5m"
	sync
	t0=$(now_ms)
	bd_start || die "beiand did not start"
	t1=
	t2=
	deadline=$((t0 + 120000))
	while :; do
		t=$(now_ms)
		if [ -z "$t1" ] &&
		    [ "$(bd_ctl list --json 2>/dev/null | wc -l)" -ge "$N" ]; then
			t1=$t
		fi
		if [ -z "$t2" ] && [ "$(inbox_count "$u")" -eq 0 ]; then
			t2=$t
		fi
		[ -n "$t1" ] && [ -n "$t2" ] && break
		[ "$t" -gt "$deadline" ] &&
		    die "run $k: $(bd_ctl list --json | wc -l) of $N filings, $(inbox_count "$u") mails left after 120 s"
		sleep 0.05
	done
	bd_stop
	# every mail a filing awaiting verification, nothing refused
	got=$(bd_ctl list --json | grep -c '"state": *"awaiting_verification"')
	[ "$got" -eq "$N" ] ||
	    die "run $k: $got of $N filings awaiting verification: $(bd_ctl list --json | grep -v awaiting_verification | head -3)"
	grep -Ei "given up|not committed|refused|fail|warn|\berror\b|AddressSanitizer|runtime error" \
	    "$BEIAND_DIR/beiand.log" >&2 && die "run $k: errors in the log"
	moved=$(grep -c "imap: uid=[0-9]* moved to Processed" "$BEIAND_DIR/beiand.log")
	[ "$moved" -eq "$N" ] || die "run $k: $moved of $N mails moved to Processed"
	rate $((t1 - t0)) >>"$TOP/bd_rate"
	rate $((t2 - t0)) >>"$TOP/bd_empty"
	k=$((k + 1))
done

# -------------------------------------------------------------- getmail6
: >"$TOP/gm_rate"
k=1
while [ $k -le "$RUNS" ]; do
	G=$TOP/g$k
	mkdir -p "$G/Maildir/new" "$G/Maildir/cur" "$G/Maildir/tmp"
	cat >"$G/getmailrc" <<EOF
[retriever]
type = SimpleIMAPRetriever
server = 127.0.0.1
port = $SRV_IMAP_PORT
username = reader
password = $SRV_PASSWORD
mailboxes = ("INBOX",)
[destination]
type = Maildir
path = $G/Maildir/
[options]
read_all = true
delete = false
verbose = 0
EOF
	# getmail refuses to deliver as root: it runs as nobody, as a user would
	chown -R "$SRV_NOBODY:$SRV_NOBODY" "$G"
	sync
	t0=$(now_ms)
	setpriv --reuid="$SRV_NOBODY" --regid="$SRV_NOBODY" --clear-groups \
	    getmail --getmaildir "$G" --rcfile "$G/getmailrc" >"$G/out" 2>&1 ||
	    { cat "$G/out" >&2; die "getmail run $k failed"; }
	t1=$(now_ms)
	got=$(find "$G/Maildir/new" -type f | wc -l)
	[ "$got" -eq "$N" ] || die "getmail run $k: $got of $N mails"
	rate $((t1 - t0)) >>"$TOP/gm_rate"
	k=$((k + 1))
done

BD=$(median <"$TOP/bd_rate")
BE=$(median <"$TOP/bd_empty")
GM=$(median <"$TOP/gm_rate")
echo "bench_imap: N=$N mails of $((SIZE / N)) B average, runs=$RUNS"
echo "bench_imap: beiand to committed filings: $(tr '\n' ' ' <"$TOP/bd_rate")mails/s; to an empty INBOX: $(tr '\n' ' ' <"$TOP/bd_empty")mails/s"
echo "bench_imap: getmail6 to a Maildir: $(tr '\n' ' ' <"$TOP/gm_rate")mails/s"
awk -v b="$BD" -v e="$BE" -v g="$GM" 'BEGIN {
	printf "bench_imap: beiand %.1f mails/s (%.2f ms/mail; INBOX empty at %.1f mails/s), getmail6 %.1f mails/s (%.2f ms/mail), ratio beiand/getmail6 %.2f\n",
	    b, 1000 / b, e, g, 1000 / g, b / g }'
exit 0
