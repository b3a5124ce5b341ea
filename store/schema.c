/*
 * schema: the tables and their migrations.  store_open() runs migrate()
 * before anything else touches the database.
 */
#include <stdint.h>
#include <stdio.h>

#include <sqlite3.h>

#include "store/store.h"
#include "store/store_priv.h"

/* ---- migrations ------------------------------------------------------ */

/*
 * Each entry brings the schema from version i to i + 1.  Applied in one
 * transaction at open; never edit an entry once released, append one.
 */
static const char *const migrations[] = {
	/* 1 */
	"CREATE TABLE filings("
	" id TEXT PRIMARY KEY,"
	" year INTEGER NOT NULL, seq INTEGER NOT NULL,"
	" type TEXT, mode TEXT, state TEXT NOT NULL,"
	" province TEXT, provider TEXT, owner TEXT,"
	" owner_token TEXT NOT NULL,"
	" subject_cert TEXT, subject_licence TEXT, site_licence TEXT,"
	" sponsor_name TEXT, sponsor_nature TEXT, sponsor_cert_type TEXT,"
	" xml TEXT,"
	" review_round INTEGER NOT NULL DEFAULT 0,"
	" created INTEGER NOT NULL, updated INTEGER NOT NULL,"
	" UNIQUE(year, seq));"
	"CREATE INDEX filings_state ON filings(state);"
	"CREATE INDEX filings_subject ON filings(subject_cert);"
	"CREATE TABLE tracking_seq(year INTEGER PRIMARY KEY, last INTEGER NOT NULL);"
	"CREATE TABLE filing_websites("
	" filing TEXT NOT NULL REFERENCES filings(id), idx INTEGER NOT NULL,"
	" name TEXT, domains TEXT NOT NULL DEFAULT '', site_licence TEXT,"
	" PRIMARY KEY(filing, idx));"
	"CREATE TABLE filing_domains("
	" filing TEXT NOT NULL REFERENCES filings(id), domain TEXT NOT NULL,"
	" PRIMARY KEY(filing, domain));"
	"CREATE INDEX filing_domains_domain ON filing_domains(domain);"
	"CREATE TABLE filing_errors("
	" filing TEXT NOT NULL REFERENCES filings(id), idx INTEGER NOT NULL,"
	" path TEXT NOT NULL, code TEXT NOT NULL, message TEXT NOT NULL,"
	" PRIMARY KEY(filing, idx));"
	"CREATE TABLE subjects("
	" licence TEXT PRIMARY KEY, province TEXT NOT NULL,"
	" cert_number TEXT NOT NULL UNIQUE, name TEXT, nature TEXT, cert_type TEXT,"
	" owner_email TEXT, password_hash TEXT,"
	" pw_fail_day TEXT, pw_fail_count INTEGER NOT NULL DEFAULT 0,"
	" site_count INTEGER NOT NULL DEFAULT 0,"
	" filing TEXT, created INTEGER NOT NULL);"
	"CREATE TABLE sites("
	" licence TEXT PRIMARY KEY,"
	" subject TEXT NOT NULL REFERENCES subjects(licence),"
	" n INTEGER NOT NULL, name TEXT,"
	" state TEXT NOT NULL CHECK(state IN ('active','cancelled')),"
	" filing TEXT, created INTEGER NOT NULL, updated INTEGER NOT NULL,"
	" UNIQUE(subject, n));"
	"CREATE TABLE site_access("
	" site TEXT NOT NULL REFERENCES sites(licence), provider TEXT NOT NULL,"
	" PRIMARY KEY(site, provider));"
	"CREATE TABLE site_domains("
	" site TEXT NOT NULL REFERENCES sites(licence), domain TEXT NOT NULL,"
	" PRIMARY KEY(site, domain));"
	"CREATE INDEX site_domains_domain ON site_domains(domain);"
	"CREATE TABLE number_seq("
	" province TEXT NOT NULL, year INTEGER NOT NULL, last INTEGER NOT NULL,"
	" PRIMARY KEY(province, year));"
	"CREATE TABLE issued_numbers("
	" province TEXT NOT NULL, year INTEGER NOT NULL, serial INTEGER NOT NULL,"
	" old_form INTEGER NOT NULL, licence TEXT NOT NULL, origin TEXT NOT NULL,"
	" at INTEGER NOT NULL,"
	" PRIMARY KEY(province, year, serial, old_form));"
	"CREATE TABLE attachments("
	" sha256 TEXT PRIMARY KEY, size INTEGER NOT NULL, created INTEGER NOT NULL);"
	"CREATE TABLE attachment_entries("
	" sha256 TEXT NOT NULL REFERENCES attachments(sha256), idx INTEGER NOT NULL,"
	" name TEXT NOT NULL, entry_sha256 TEXT NOT NULL, size INTEGER NOT NULL,"
	" PRIMARY KEY(sha256, idx));"
	"CREATE TABLE filing_attachments("
	" id INTEGER PRIMARY KEY AUTOINCREMENT,"
	" filing TEXT NOT NULL REFERENCES filings(id), kind TEXT NOT NULL,"
	" sha256 TEXT NOT NULL REFERENCES attachments(sha256), at INTEGER NOT NULL);"
	"CREATE INDEX filing_attachments_filing ON filing_attachments(filing, kind);"
	"CREATE TABLE events("
	" id INTEGER PRIMARY KEY AUTOINCREMENT,"
	" filing TEXT REFERENCES filings(id), at INTEGER NOT NULL,"
	" actor TEXT, actor_kind TEXT NOT NULL"
	"  CHECK(actor_kind IN ('owner','provider','bureau','system','operator')),"
	" channel TEXT NOT NULL CHECK(channel IN ('spool','mail','cli')),"
	" from_state TEXT, to_state TEXT, reason TEXT, source TEXT);"
	"CREATE INDEX events_filing ON events(filing);"
	"CREATE TRIGGER events_append_only_u BEFORE UPDATE ON events"
	" BEGIN SELECT RAISE(ABORT, 'events are append-only'); END;"
	"CREATE TRIGGER events_append_only_d BEFORE DELETE ON events"
	" BEGIN SELECT RAISE(ABORT, 'events are append-only'); END;"
	"CREATE TABLE outbox("
	" id INTEGER PRIMARY KEY AUTOINCREMENT,"
	" filing TEXT REFERENCES filings(id),"
	" event INTEGER NOT NULL REFERENCES events(id),"
	" template TEXT NOT NULL,"
	" role TEXT NOT NULL CHECK(role IN ('owner','provider','bureau','sender')),"
	" rcpt TEXT NOT NULL, params TEXT NOT NULL,"
	" message_id TEXT NOT NULL UNIQUE,"
	" state TEXT NOT NULL"
	"  CHECK(state IN ('queued','sending','sent','deferred','failed')),"
	" attempts INTEGER NOT NULL DEFAULT 0, last_reply TEXT,"
	" next_try INTEGER NOT NULL, created INTEGER NOT NULL, secret TEXT);"
	"CREATE INDEX outbox_due ON outbox(state, next_try);"
	"CREATE TABLE ingests("
	" source TEXT NOT NULL, sha256 TEXT NOT NULL, filing TEXT, state TEXT,"
	" final INTEGER NOT NULL, at INTEGER NOT NULL,"
	" PRIMARY KEY(source, sha256));"
	"CREATE TABLE ingest_findings("
	" source TEXT NOT NULL, sha256 TEXT NOT NULL, idx INTEGER NOT NULL,"
	" code TEXT NOT NULL, path TEXT NOT NULL, message TEXT NOT NULL,"
	" PRIMARY KEY(source, sha256, idx));"
	"CREATE TABLE review_tokens("
	" filing TEXT NOT NULL REFERENCES filings(id), round INTEGER NOT NULL,"
	" token TEXT NOT NULL, used INTEGER NOT NULL DEFAULT 0,"
	" created INTEGER NOT NULL, PRIMARY KEY(filing, round));"
	"CREATE TABLE imap_state("
	" mailbox TEXT PRIMARY KEY, uidvalidity INTEGER NOT NULL,"
	" last_uid INTEGER NOT NULL);"
	"CREATE TABLE quarantine("
	" item TEXT PRIMARY KEY, source TEXT, at INTEGER NOT NULL, reason TEXT);"
	"CREATE TABLE recent_errors("
	" id INTEGER PRIMARY KEY AUTOINCREMENT, at INTEGER NOT NULL,"
	" source TEXT, code TEXT, message TEXT);"
	"CREATE TABLE reply_counts("
	" address TEXT NOT NULL, day TEXT NOT NULL, count INTEGER NOT NULL,"
	" PRIMARY KEY(address, day));",
	/* 2: spool uploads and their receipts */
	"CREATE TABLE uploads("
	" key TEXT PRIMARY KEY, source TEXT NOT NULL, sha256 TEXT NOT NULL,"
	" received INTEGER NOT NULL, receipt TEXT NOT NULL,"
	" quarantined INTEGER NOT NULL DEFAULT 0);"
	"CREATE INDEX uploads_source ON uploads(source, sha256, received);",
	/* 3: mails of the intake mailbox whose result is committed */
	"CREATE TABLE mail_seen("
	" mailbox TEXT NOT NULL, uidvalidity INTEGER NOT NULL,"
	" uid INTEGER NOT NULL, message_id TEXT NOT NULL, sha256 TEXT NOT NULL,"
	" stays INTEGER NOT NULL DEFAULT 0, at INTEGER NOT NULL,"
	" PRIMARY KEY(mailbox, uidvalidity, uid));"
	"CREATE INDEX mail_seen_content ON mail_seen(message_id, sha256);",
	/* 4: the same CHECKs without IN lists, for which SQLite builds a
	 * temporary b-tree every time it checks a row (half the CPU of an
	 * insert into events or outbox).  Equivalent constraints, so the
	 * rows stand and only their text in the schema changes: the
	 * writable_schema procedure of SQLite's "ALTER TABLE" page;
	 * migrate() moves schema_version on. */
	"PRAGMA writable_schema = ON;"
	"UPDATE sqlite_schema SET sql = replace(sql,"
	" 'CHECK(state IN (''active'',''cancelled''))',"
	" 'CHECK(state = ''active'' OR state = ''cancelled'')')"
	" WHERE type = 'table' AND name = 'sites';"
	"UPDATE sqlite_schema SET sql = replace(replace(sql,"
	" 'CHECK(actor_kind IN"
	" (''owner'',''provider'',''bureau'',''system'',''operator''))',"
	" 'CHECK(actor_kind = ''owner'' OR actor_kind = ''provider''"
	" OR actor_kind = ''bureau'' OR actor_kind = ''system''"
	" OR actor_kind = ''operator'')'),"
	" 'CHECK(channel IN (''spool'',''mail'',''cli''))',"
	" 'CHECK(channel = ''spool'' OR channel = ''mail''"
	" OR channel = ''cli'')')"
	" WHERE type = 'table' AND name = 'events';"
	"UPDATE sqlite_schema SET sql = replace(replace(sql,"
	" 'CHECK(role IN (''owner'',''provider'',''bureau'',''sender''))',"
	" 'CHECK(role = ''owner'' OR role = ''provider'' OR role = ''bureau''"
	" OR role = ''sender'')'),"
	" 'CHECK(state IN"
	" (''queued'',''sending'',''sent'',''deferred'',''failed''))',"
	" 'CHECK(state = ''queued'' OR state = ''sending'' OR state = ''sent''"
	" OR state = ''deferred'' OR state = ''failed'')')"
	" WHERE type = 'table' AND name = 'outbox';"
	"PRAGMA writable_schema = OFF;",
	/* 5: counters the high-water mark file is compared with
	 * (store/highwater.c): site numbers addSite approvals issued so far
	 * (with those a restore made the database forget) */
	"CREATE TABLE IF NOT EXISTS highwater("
	" name TEXT PRIMARY KEY, value INTEGER NOT NULL);"
	"INSERT OR IGNORE INTO highwater(name, value) SELECT 'added_sites',"
	" count(*) FROM sites s JOIN filings f ON f.id = s.filing"
	" WHERE f.type = 'addSite';",
	/* 6: hostile senders (DESIGN.md) — the mails mail intake caused to
	 * an outside address per CST day (recipient_max), counters the
	 * metrics keep across restarts, and the limits the daemon is
	 * holding intake at (beianctl status) */
	"CREATE TABLE recipient_counts("
	" address TEXT NOT NULL, day TEXT NOT NULL, count INTEGER NOT NULL,"
	" PRIMARY KEY(address, day));"
	"CREATE TABLE counters("
	" name TEXT PRIMARY KEY, value INTEGER NOT NULL);"
	"CREATE TABLE limits("
	" name TEXT PRIMARY KEY, since INTEGER NOT NULL,"
	" detail TEXT NOT NULL);",
	/* 7: the mail channels' state for `beianctl status` and
	 * beiand_channel_up, written by the daemon on each change */
	"CREATE TABLE IF NOT EXISTS channels("
	" name TEXT PRIMARY KEY,"
	" state TEXT NOT NULL CHECK(state = 'ok' OR state = 'failing'),"
	" reason TEXT NOT NULL DEFAULT '', since INTEGER NOT NULL,"
	" refused INTEGER NOT NULL DEFAULT 0);",
	/* 8: the staff console (beiand-web).  Its accounts and server-side
	 * sessions (the session id and the CSRF token are random; only the
	 * id's SHA-256 is kept, so a copy of the database opens no
	 * session); web becomes a channel, and an event says where an
	 * action came from (origin: the console's client address).  The
	 * column is added the way migration 4 changed its CHECKs: ALTER
	 * TABLE in the same transaction would work from the schema as it
	 * was read before migration 4 rewrote it, and break the text. */
	"CREATE TABLE accounts("
	" name TEXT PRIMARY KEY, role TEXT NOT NULL,"
	" password_hash TEXT NOT NULL, disabled INTEGER NOT NULL DEFAULT 0,"
	" created INTEGER NOT NULL, updated INTEGER NOT NULL,"
	" last_login INTEGER);"
	"CREATE TABLE sessions("
	" id_hash TEXT PRIMARY KEY,"
	" account TEXT NOT NULL REFERENCES accounts(name),"
	" csrf TEXT NOT NULL, origin TEXT,"
	" created INTEGER NOT NULL, seen INTEGER NOT NULL);"
	"CREATE INDEX sessions_account ON sessions(account);"
	"PRAGMA writable_schema = ON;"
	"UPDATE sqlite_schema SET sql = replace(replace(sql,"
	" 'OR channel = ''cli'')',"
	" 'OR channel = ''cli'' OR channel = ''web'')'),"
	" ' reason TEXT, source TEXT)',"
	" ' reason TEXT, source TEXT, origin TEXT)')"
	" WHERE type = 'table' AND name = 'events';"
	"PRAGMA writable_schema = OFF;",
};

#define NMIGRATIONS ((int)(sizeof(migrations) / sizeof(migrations[0])))

int
store_schema_version(void)
{
	return NMIGRATIONS;
}

int
migrate(struct store *st)
{
	int64_t v, sv;
	char sql[64];

	if (pragma(st, "BEGIN IMMEDIATE") == -1)
		return -1;
	if (one_int(st, &v, "PRAGMA user_version", "") != 1)
		goto fail;
	if (v > NMIGRATIONS) {
		seterr(st, "database schema version %lld is newer than this "
		    "program's %d: a newer beiand has upgraded it; run "
		    "that version (nothing was changed)", (long long)v,
		    NMIGRATIONS);
		goto fail;
	}
	if (v == NMIGRATIONS)
		return pragma(st, "COMMIT");
	for (; v < NMIGRATIONS; v++)
		if (pragma(st, migrations[v]) == -1)
			goto fail;
	/* A schema written through writable_schema takes effect, here and
	 * in every other connection, once its version moves on. */
	if (one_int(st, &sv, "PRAGMA schema_version", "") != 1)
		goto fail;
	snprintf(sql, sizeof(sql), "PRAGMA schema_version = %lld",
	    (long long)sv + 1);
	if (pragma(st, sql) == -1)
		goto fail;
	snprintf(sql, sizeof(sql), "PRAGMA user_version = %d", NMIGRATIONS);
	if (pragma(st, sql) == -1 || pragma(st, "COMMIT") == -1)
		goto fail;
	return 0;
fail:
	if (!sqlite3_get_autocommit(st->db))
		sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
	return -1;
}
