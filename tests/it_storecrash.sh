#!/bin/sh
# it_storecrash: the store survives SIGKILL at any moment.
#
# tests/tool_storecrash.c (built here against $B/libbeiand.a) walks
# filings through the workflow, alone and in group commits.  It is killed
# with SIGKILL at random moments, ROUNDS times, each time started again on
# the same database to go on, then one last run goes to its end.  After
# every kill and at the end the database must hold:
#   - PRAGMA integrity_check ok, no foreign key violation;
#   - for each filing, events from the creation (NULL -> received) on
#     whose from_state is the to_state of the one before, each a pair of
#     the workflow table (or an invalid resubmission, state kept), the
#     last one's to_state the filing's state;
#   - every outbox row pointing at an existing event of its own filing,
#     every transition event with its mails, every first-filing approval
#     with its subject, its numbers and the owner's password mail (the
#     password wiped once sent);
#   - tracking ids, subject numbers (per province and year) and site
#     numbers (per subject) 1..N without gaps or duplicates.
# At least MIN_EVENTS transition events in all (runs to their end make
# up what the killed ones did not reach).  The database lives in
# the build folder (a real disk: fsync matters).
B=${B:-build}
cd "$(dirname "$0")/.." || exit 2
. tests/lib/cc_tool.sh
ROUNDS=${ROUNDS:-8}
MIN_EVENTS=${MIN_EVENTS:-1000}
CC=${CC:-cc}

fail()
{
	echo "it_storecrash: FAIL: $*"
	exit 1
}

command -v sqlite3 >/dev/null || fail "the sqlite3 command-line tool is missing"
[ -f "$B/libbeiand.a" ] || fail "$B/libbeiand.a not built"
TMP=$(mktemp -d "$B/storecrash.XXXXXX") || exit 2
trap 'rm -rf "$TMP"' EXIT INT TERM
DB=$TMP/beiand.db
TOOL=$TMP/tool_storecrash

build()
{
	$CC -std=c17 -D_GNU_SOURCE "$@" -Iinclude $(pkg-config --cflags libxml-2.0) \
	    tests/tool_storecrash.c "$B/libbeiand.a" \
	    $(pkg-config --libs $BEIAND_PKGS) -letpan -o "$TOOL"
}
# a sanitizer build of the library (make asan) needs them at link time too
build 2>/dev/null || build -fsanitize=address,undefined ||
    fail "building tool_storecrash"
export BEIAND_PWHASH_FAST=1

# The workflow's pairs, as SQL rows, for the event check.
PAIRS=$("$TOOL" pairs | awk '{ printf "%s(\x27%s\x27,\x27%s\x27)", (NR > 1 ? "," : ""), $1, $2 }')
[ -n "$PAIRS" ] || fail "tool_storecrash pairs printed nothing"

# Every query prints the rows that break an invariant: none is ok.  (The
# outbox has no index on event or filing: NOT IN builds one per query
# where NOT EXISTS would scan it per row.)
CHECKS="
CREATE TEMP TABLE pairs(f TEXT, t TEXT);
INSERT INTO pairs VALUES $PAIRS;

-- the filing's state is the last event's
SELECT 'state: filing', f.id, f.state, 'last event to',
    (SELECT to_state FROM events e WHERE e.filing = f.id ORDER BY e.id DESC LIMIT 1)
  FROM filings f
  WHERE f.state IS NOT (SELECT to_state FROM events e WHERE e.filing = f.id
      ORDER BY e.id DESC LIMIT 1);

-- a continuous chain from the creation
SELECT 'chain: filing', filing, 'event', id, from_state, to_state, 'after', prev
  FROM (SELECT id, filing, from_state, to_state,
      lag(to_state) OVER (PARTITION BY filing ORDER BY id) AS prev,
      row_number() OVER (PARTITION BY filing ORDER BY id) AS rn
    FROM events WHERE filing IS NOT NULL)
  WHERE (rn = 1 AND (from_state IS NOT NULL OR to_state IS NOT 'received'))
     OR (rn > 1 AND from_state IS NOT prev);

-- each step is one the workflow allows (from = to: an invalid resubmission)
SELECT 'pair: event', id, filing, from_state, to_state FROM events
  WHERE filing IS NOT NULL AND from_state IS NOT NULL
    AND NOT (from_state = to_state
        AND from_state IN ('returned_to_owner', 'returned_to_provider'))
    AND NOT EXISTS (SELECT 1 FROM pairs p
        WHERE p.f = from_state AND p.t = to_state);

-- every mail belongs to a committed event of the same filing
SELECT 'outbox: mail', o.id, o.filing, 'event', o.event, 'of', e.filing
  FROM outbox o LEFT JOIN events e ON e.id = o.event
  WHERE e.id IS NULL OR e.filing IS NOT o.filing;

-- and every transition queued its mails in the same transaction
SELECT 'mails: event without mail', e.id, e.filing, e.from_state, e.to_state
  FROM events e
  WHERE e.filing IS NOT NULL AND e.from_state IS NOT NULL
    AND e.id NOT IN (SELECT event FROM outbox);

-- tracking ids: BA-YYYY-NNNNNN, 1..N per year, the sequence at N
SELECT 'tracking id: malformed', id FROM filings
  WHERE id IS NOT printf('BA-%04d-%06d', year, seq);
SELECT 'tracking ids: year', year, 'count', count(*), 'distinct', count(DISTINCT seq),
    'min', min(seq), 'max', max(seq)
  FROM filings GROUP BY year
  HAVING count(*) <> max(seq) OR min(seq) <> 1 OR count(DISTINCT seq) <> count(*);
SELECT 'tracking seq: year', y.year, 'last', y.last, 'max', max(f.seq)
  FROM tracking_seq y LEFT JOIN filings f ON f.year = y.year
  GROUP BY y.year HAVING y.last IS NOT max(f.seq);
SELECT 'tracking seq: missing for year', year FROM filings
  WHERE year NOT IN (SELECT year FROM tracking_seq) GROUP BY year;

-- subject numbers: 1..N per province and year, each once
SELECT 'subject numbers:', province, year, 'count', count(*),
    'distinct', count(DISTINCT serial), 'min', min(serial), 'max', max(serial)
  FROM issued_numbers WHERE old_form = 0 GROUP BY province, year
  HAVING count(*) <> max(serial) OR min(serial) <> 1
      OR count(DISTINCT serial) <> count(*);
SELECT 'subject numbers: licence text', province, year, serial, licence
  FROM issued_numbers WHERE old_form = 0
    AND substr(licence, -11) IS NOT printf('%04d%06d号', year, serial);
SELECT 'subject numbers: duplicate licence', licence, count(*)
  FROM issued_numbers GROUP BY licence HAVING count(*) > 1;
SELECT 'number seq:', s.province, s.year, 'last', s.last, 'max', max(i.serial)
  FROM number_seq s LEFT JOIN issued_numbers i
    ON i.province = s.province AND i.year = s.year AND i.old_form = 0
  GROUP BY s.province, s.year HAVING s.last IS NOT max(i.serial);
SELECT 'number seq: missing', province, year FROM issued_numbers
  WHERE old_form = 0 AND NOT EXISTS (SELECT 1 FROM number_seq s
      WHERE s.province = issued_numbers.province AND s.year = issued_numbers.year)
  GROUP BY province, year;
SELECT 'subject without issued number', licence FROM subjects
  WHERE licence NOT IN (SELECT licence FROM issued_numbers);
SELECT 'issued number without subject', licence FROM issued_numbers
  WHERE licence NOT IN (SELECT licence FROM subjects);

-- a subject exactly for each approved first filing, with its password
-- and the owner's mail carrying it
SELECT 'subject: filing', s.licence, s.filing, f.state, f.subject_licence
  FROM subjects s LEFT JOIN filings f ON f.id = s.filing
  WHERE f.id IS NULL OR f.state IS NOT 'approved'
     OR f.subject_licence IS NOT s.licence OR s.password_hash IS NULL;
SELECT 'approved first filing without subject', f.id FROM filings f
  WHERE f.state = 'approved' AND f.type = 'firstFiling'
    AND NOT EXISTS (SELECT 1 FROM subjects s
        WHERE s.filing = f.id AND s.licence = f.subject_licence);
SELECT 'approved first filing without password mail', f.id FROM filings f
  WHERE f.state = 'approved' AND f.type = 'firstFiling'
    AND f.id NOT IN (SELECT filing FROM outbox WHERE filing IS NOT NULL
        AND template = 'approved_owner'
        AND (secret IS NOT NULL OR state = 'sent'));
SELECT 'sent mail still holding a password', id, filing FROM outbox
  WHERE state = 'sent' AND secret IS NOT NULL;
SELECT 'subject number on unapproved filing', id, state, subject_licence
  FROM filings WHERE type = 'firstFiling' AND state <> 'approved'
    AND subject_licence IS NOT NULL;

-- site numbers: 1..N per subject, unique, site_count at N, text = subject-N
SELECT 'site numbers: subject', subject, 'count', count(*),
    'distinct', count(DISTINCT n), 'min', min(n), 'max', max(n)
  FROM sites GROUP BY subject
  HAVING count(*) <> max(n) OR min(n) <> 1 OR count(DISTINCT n) <> count(*);
SELECT 'site number text', licence, subject, n FROM sites
  WHERE licence IS NOT subject || '-' || n;
SELECT 'site count: subject', s.licence, s.site_count, 'max', max(t.n)
  FROM subjects s LEFT JOIN sites t ON t.subject = s.licence
  GROUP BY s.licence HAVING s.site_count IS NOT max(t.n);
-- each site is the number of a website of an approved filing, and back
SELECT 'site without its website', t.licence, t.filing FROM sites t
  WHERE NOT EXISTS (SELECT 1 FROM filing_websites w JOIN filings f ON f.id = w.filing
      WHERE w.site_licence = t.licence AND w.filing = t.filing
        AND f.state = 'approved');
SELECT 'website number unknown', w.filing, w.idx, w.site_licence
  FROM filing_websites w
  WHERE w.site_licence IS NOT NULL
    AND NOT EXISTS (SELECT 1 FROM sites t WHERE t.licence = w.site_licence);
SELECT 'approved website without number', w.filing, w.idx FROM filing_websites w
  JOIN filings f ON f.id = w.filing
  WHERE f.state = 'approved' AND f.type IN ('firstFiling', 'addSite')
    AND w.site_licence IS NULL;
"

# check WHEN: the store's own view, then the SQL invariants.
check()
{
	ic=$(sqlite3 "$DB" 'PRAGMA integrity_check;') ||
	    fail "$1: sqlite3 cannot open the database"
	[ "$ic" = ok ] || fail "$1: integrity_check: $ic"
	fk=$(sqlite3 "$DB" 'PRAGMA foreign_key_check;')
	[ -z "$fk" ] || fail "$1: foreign_key_check: $fk"
	"$TOOL" check "$DB" >"$TMP/check.out" 2>&1 ||
	    fail "$1: tool_storecrash check: $(head -n 20 "$TMP/check.out")"
	bad=$(sqlite3 -separator ' ' "$DB" "$CHECKS" 2>&1) ||
	    fail "$1: the SQL checks did not run: $bad"
	[ -z "$bad" ] || fail "$1: invariants broken:
$(echo "$bad" | head -n 40)"
	echo "$1: $(cat "$TMP/check.out")"
}

# A random number in [0, $1) from the kernel.
rand()
{
	echo $(( $(od -An -N4 -tu4 /dev/urandom | tr -d ' ') % $1 ))
}

# The schema first, so that even the earliest kill finds a database.
"$TOOL" run "$DB" 0 0 >/dev/null || fail "creating the database"

start=$(date +%s)
i=1
kills=0
while [ $i -le "$ROUNDS" ]; do
	seed=$(( i * 7919 + $(rand 100000) ))
	# a walk longer than the time it is given: the kill lands inside.
	# Inside the walk whatever the machine's speed: 0 .. 699 ms after
	# its first progress line (100 calls done); every fourth round 0 ..
	# 49 ms after the start instead (opening the database, recovering).
	"$TOOL" run "$DB" 1000000 "$seed" >"$TMP/run.out" 2>"$TMP/run.err" &
	pid=$!
	if [ $((i % 4)) -eq 2 ]; then
		ms=$(rand 50)
	else
		ms=$(rand 700)
		n=0
		until grep -q '^progress' "$TMP/run.out" 2>/dev/null; do
			n=$((n + 1))
			{ [ $n -le 6000 ] && kill -0 "$pid" 2>/dev/null; } ||
				fail "round $i: no progress line: $(cat "$TMP/run.err")"
			sleep 0.01
		done
	fi
	sleep "$(printf '%d.%03d' $((ms / 1000)) $((ms % 1000)))"
	if kill -9 "$pid" 2>/dev/null; then
		kills=$((kills + 1))
	fi
	# (the braces keep the shell's "Killed" notice out of the log)
	{ wait "$pid"; } 2>/dev/null
	rc=$?
	[ $rc -eq 137 ] || fail "round $i: the driver ended by itself (exit $rc):
$(cat "$TMP/run.err")"
	echo "round $i: seed $seed killed ${ms} ms later," \
	    "$(tail -n 1 "$TMP/run.out")"
	check "after kill $i"
	i=$((i + 1))
done

# The last run goes to its end; then at least MIN_EVENTS transitions.
# How far the killed runs got depends on the disk's fsync: further runs
# to their end (500 calls each, at most 10) make up the rest.
n=0
runs=0
while [ $runs -eq 0 ] || { [ "$n" -lt "$MIN_EVENTS" ] && [ $runs -lt 10 ]; }; do
	"$TOOL" run "$DB" 500 "$(rand 100000)" >"$TMP/run.out" 2>"$TMP/run.err" ||
	    fail "final run: $(cat "$TMP/run.err")"
	runs=$((runs + 1))
	echo "final run $runs: $(tail -n 1 "$TMP/run.out")"
	check "at the end"
	n=$(sqlite3 "$DB" 'SELECT count(*) FROM events WHERE from_state IS NOT NULL;')
done
[ "$n" -ge "$MIN_EVENTS" ] ||
    fail "only $n transition events (want >= $MIN_EVENTS)"
echo "it_storecrash: ok: $kills kills, $n transition events," \
    "$(($(date +%s) - start)) s"
