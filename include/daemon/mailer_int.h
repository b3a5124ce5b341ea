/*
 * mailer: what its two files share (private to daemon/mailer.c and
 * daemon/mailer_draft.c; no other file includes it): struct mailer and
 * the draft of one mail.
 */
#ifndef BEIAND_MAILER_INT_H
#define BEIAND_MAILER_INT_H

#include <limits.h>
#include <stddef.h>
#include <time.h>

#include "daemon/chanstate.h"
#include "daemon/mailer.h"
#include "lib/forksafe.h"
#include "mail/mail.h"
#include "mail/smtp.h"
#include "store/store.h"

#define REPLY_MAX 512
#define MAIL_PARAMS_MAX 32
#define ATTACH_MAX 4

struct config;
struct json;
struct sendjob;

struct mailer {
	const struct config *cf;
	struct store *st;
	struct smtp *smtp;      /* NULL: .eml files */
	char maildir[PATH_MAX];
	/* the filing of the previous mail (mails of one filing come
	 * together: one lookup for all of them) */
	struct store_filing_detail *detail;
	/* the run's server is unreachable or refuses the session: defer
	 * the rest with this */
	int down;
	char down_reply[REPLY_MAX];
	int down_chan;          /* enum smtp_channel */
	char down_reason[SMTP_REASON_MAX];
	struct chanstate chan;   /* the smtp channel's state (loop) */
	struct mailer_stats stats;
	int eml_unsynced;       /* .eml files written, not yet synced */
	/*
	 * SMTP: the run on its way.  Its rows are sending; its mails were
	 * composed here and handed to the sending thread in one list, which
	 * the thread works through while the loop goes on; the loop marks
	 * the outcomes as they come (nmarked).  The thread owns smtp,
	 * from, down and down_reply; under pk.mu: jobs, njobs, nsent.
	 */
	struct store_mail *rows;
	size_t nrows;
	struct sendjob *jobs;
	size_t njobs, nsent, nmarked;
	time_t run_now;
	char *from;
	struct parking pk;
	int efd;                /* eventfd: the thread finished a mail */
	int threaded;
};

/* Everything one mail's spec points into; freed by draft_clear. */
struct draft {
	struct json *params;
	struct mail_param p[MAIL_PARAMS_MAX];
	size_t np;
	char *owned[MAIL_PARAMS_MAX];
	size_t nowned;
	struct mail_finding *findings;
	size_t nfindings;
	struct mail_attachment att[ATTACH_MAX];
	unsigned char *attdata[ATTACH_MAX];
	char *attname[ATTACH_MAX];
	size_t natt;
	char *root;             /* the thread's first Message-ID */
	char tag[STORE_ID_SIZE + STORE_TOKEN_LEN + 4];
	struct mail_spec spec;
};

/* ---- mailer_draft.c -------------------------------------------------------- */

/*
 * The spec of mail row in *d (its pointers into d and row): 0 ready, 1
 * the mail cannot be made (reply says why; permanent when *permanent),
 * -1 store error.  Whatever it returns, draft_clear(d) frees what d
 * holds.  m->detail caches the last filing's details between calls.
 */
int draft_build(struct mailer *m, const struct store_mail *row,
    struct draft *d, char *reply, size_t replysize, int *permanent);
void draft_clear(struct draft *d);

#endif
