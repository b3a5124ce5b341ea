/*
 * ctl_query: the read-only verbs of beianctl — status, list, show, outbox,
 * quarantine (DESIGN.md, Command line).
 *
 * Everything printed here was stored from outside (sponsor names, site
 * names, mail replies, file names): plain output goes through
 * ctl_put_escaped() so that no control byte reaches the terminal, JSON
 * through ctl_put_json().  Nothing here writes to the store.
 */
#include <getopt.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "common/config.h"
#include "common/workflow.h"
#include "ctl/ctl.h"
#include "lib/xmalloc.h"
#include "store/channels.h"
#include "store/outbox.h"
#include "store/query.h"
#include "store/status.h"
#include "store/store.h"

#define RECENT_ERRORS_SHOWN 20

static const char *const outbox_states[] = {
	"queued", "sending", "sent", "deferred", "failed"
};
#define NOUTBOX_STATES (sizeof(outbox_states) / sizeof(outbox_states[0]))

/* Parse the options of a verb that takes only --json (and maybe one more
 * flag); returns the index of the first operand, or -1 on a usage error. */
static int
opts_parse(int argc, char **argv, const struct option *opts, int *json,
    int *flag, const char **arg)
{
	int ch;

	optind = 1;
	opterr = 1;
	while ((ch = getopt_long(argc, argv, "+", opts, NULL)) != -1) {
		switch (ch) {
		case 'j':
			*json = 1;
			break;
		case 'f':
			*flag = 1;
			break;
		case 'a':
			*arg = optarg;
			break;
		default:
			return -1;
		}
	}
	return optind;
}

static void
put_time(FILE *fp, time_t t)
{
	char buf[32];

	if (t == 0) {
		fputs("-", fp);
		return;
	}
	time_rfc3339_cst(t, buf);
	fputs(buf, fp);
}

/* A plain value: escaped, "-" for NULL or empty. */
static void
put_plain(FILE *fp, const char *s)
{
	ctl_put_escaped(fp, s != NULL && s[0] != '\0' ? s : "-");
}

/* ---- status ----------------------------------------------------------- */

struct counts {
	long filings[WF_NSTATES];
	long outbox[NOUTBOX_STATES];
	long quarantine;
};

static int
counts_cb(const char *kind, const char *name, long count, void *arg)
{
	struct counts *c = arg;
	enum wf_state s;

	if (strcmp(kind, "filings") == 0) {
		if (name != NULL && workflow_state_parse(name, &s) == 0)
			c->filings[s] = count;
	} else if (strcmp(kind, "outbox") == 0) {
		for (size_t i = 0; i < NOUTBOX_STATES; i++)
			if (name != NULL && strcmp(name, outbox_states[i]) == 0)
				c->outbox[i] = count;
	} else if (strcmp(kind, "quarantine") == 0)
		c->quarantine = count;
	return 0;
}

struct errs_out {
	int json, n;
};

static int
errors_cb(time_t at, const char *source, const char *code,
    const char *message, void *arg)
{
	struct errs_out *o = arg;

	if (o->json) {
		fputs(o->n++ > 0 ? "," : "", stdout);
		fputs("{\"at\":", stdout);
		ctl_put_json_time(stdout, at);
		fputs(",\"source\":", stdout);
		ctl_put_json(stdout, source);
		fputs(",\"code\":", stdout);
		ctl_put_json(stdout, code);
		fputs(",\"message\":", stdout);
		ctl_put_json(stdout, message);
		fputs("}", stdout);
		return 0;
	}
	if (o->n++ == 0)
		fputs("recent errors:\n", stdout);
	fputs("  ", stdout);
	put_time(stdout, at);
	fputs("  ", stdout);
	put_plain(stdout, source);
	fputs("  ", stdout);
	put_plain(stdout, code);
	fputs("  ", stdout);
	put_plain(stdout, message);
	fputc('\n', stdout);
	return 0;
}

/* The limits holding intake back (DESIGN.md, Hostile senders). */
static int
limits_cb(const char *name, time_t since, const char *detail, void *arg)
{
	struct errs_out *o = arg;

	if (o->json) {
		fputs(o->n++ > 0 ? "," : "", stdout);
		fputs("{\"name\":", stdout);
		ctl_put_json(stdout, name);
		fputs(",\"since\":", stdout);
		ctl_put_json_time(stdout, since);
		fputs(",\"detail\":", stdout);
		ctl_put_json(stdout, detail);
		fputs("}", stdout);
		return 0;
	}
	if (o->n++ == 0)
		fputs("limits:\n", stdout);
	fputs("  ", stdout);
	put_plain(stdout, name);
	fputs(" since ", stdout);
	put_time(stdout, since);
	fputs(": ", stdout);
	put_plain(stdout, detail);
	fputc('\n', stdout);
	return 0;
}

/*
 * The mail channels in use ([imap] url, [smtp] url set) and their state
 * as the daemon recorded it; one never tried yet is ok, since unknown.
 * JSON: the "channels" array's members; plain: "channels:" lines.
 */
static int
channels_put(struct store *st, const struct config *cf, int json)
{
	static const char *const names[2] = { "imap", "smtp" };
	char reason[STORE_CHANNEL_REASON_MAX];
	int n = 0;

	for (int i = 0; i < 2; i++) {
		const char *url = i == 0 ? cf->imap_url : cf->smtp_url;
		time_t since = 0;
		int failing = 0, r;

		if (url[0] == '\0')
			continue;
		reason[0] = '\0';
		if ((r = store_channel_get(st, names[i], &failing, NULL, reason,
		    sizeof(reason), &since)) == -1)
			return -1;
		if (json) {
			fputs(n++ > 0 ? "," : "", stdout);
			fputs("{\"name\":", stdout);
			ctl_put_json(stdout, names[i]);
			fputs(",\"state\":", stdout);
			ctl_put_json(stdout, failing ? "failing" : "ok");
			fputs(",\"reason\":", stdout);
			ctl_put_json(stdout, reason);
			fputs(",\"since\":", stdout);
			ctl_put_json_time(stdout, since);
			fputs("}", stdout);
			continue;
		}
		if (n++ == 0)
			fputs("channels:\n", stdout);
		printf("  %-22s %s", names[i], failing ? "failing" : "ok");
		if (since != 0) {
			fputs(" since ", stdout);
			put_time(stdout, since);
		} else
			fputs(" (not tried yet)", stdout);
		if (failing) {
			fputs(": ", stdout);
			put_plain(stdout, reason);
		}
		fputc('\n', stdout);
	}
	return 0;
}

int
ctl_status(int argc, char **argv, const struct config *cf)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ NULL, 0, NULL, 0 },
	};
	struct counts c;
	struct errs_out eo = { 0 }, lo = { 0 };
	struct store *st;
	const char *unused = NULL;
	int json = 0, flag = 0, i, rc = CTL_OK;

	if ((i = opts_parse(argc, argv, opts, &json, &flag, &unused)) == -1 ||
	    i != argc) {
		fprintf(stderr, "usage: beianctl status [--json]\n");
		return CTL_USAGE;
	}
	if ((st = ctl_store_open(cf)) == NULL)
		return CTL_USAGE;
	memset(&c, 0, sizeof(c));
	if (store_counts(st, counts_cb, &c) == -1) {
		rc = ctl_store_error(st);
		goto out;
	}
	eo.json = json;
	lo.json = json;
	if (json) {
		fputs("{\"filings\":{", stdout);
		for (int s = WF_RECEIVED; s < WF_NSTATES; s++) {
			if (s != WF_RECEIVED)
				fputc(',', stdout);
			ctl_put_json(stdout, workflow_state_name((enum wf_state)s));
			printf(":%ld", c.filings[s]);
		}
		fputs("},\"outbox\":{", stdout);
		for (size_t k = 0; k < NOUTBOX_STATES; k++) {
			if (k > 0)
				fputc(',', stdout);
			ctl_put_json(stdout, outbox_states[k]);
			printf(":%ld", c.outbox[k]);
		}
		printf("},\"quarantine\":%ld,\"channels\":[", c.quarantine);
		if (channels_put(st, cf, 1) == -1) {
			fflush(stdout);
			rc = ctl_store_error(st);
			goto out;
		}
		fputs("],\"recent_errors\":[", stdout);
		if (store_errors_recent(st, RECENT_ERRORS_SHOWN, errors_cb,
		    &eo) == -1) {
			fflush(stdout);
			rc = ctl_store_error(st);
			goto out;
		}
		fputs("],\"limits\":[", stdout);
		if (store_limits_list(st, limits_cb, &lo) == -1) {
			fflush(stdout);
			rc = ctl_store_error(st);
			goto out;
		}
		fputs("]}\n", stdout);
		goto out;
	}
	fputs("filings:\n", stdout);
	for (int s = WF_RECEIVED; s < WF_NSTATES; s++)
		printf("  %-22s %ld\n", workflow_state_name((enum wf_state)s),
		    c.filings[s]);
	fputs("outbox:\n", stdout);
	for (size_t k = 0; k < NOUTBOX_STATES; k++)
		printf("  %-22s %ld\n", outbox_states[k], c.outbox[k]);
	printf("quarantine: %ld\n", c.quarantine);
	if (channels_put(st, cf, 0) == -1) {
		rc = ctl_store_error(st);
		goto out;
	}
	if (store_errors_recent(st, RECENT_ERRORS_SHOWN, errors_cb, &eo) == -1)
		rc = ctl_store_error(st);
	else if (eo.n == 0)
		fputs("recent errors: none\n", stdout);
	if (rc == CTL_OK && store_limits_list(st, limits_cb, &lo) == -1)
		rc = ctl_store_error(st);
	else if (rc == CTL_OK && lo.n == 0)
		fputs("limits: none holding intake back\n", stdout);
out:
	store_close(st);
	return rc;
}

/* ---- list ---------------------------------------------------------------- */

#define LIST_COLS 9

struct list_out {
	int json;
	char **cells; /* rows * LIST_COLS, plain only */
	size_t nrows, cap;
};

static char *
time_dup(time_t t)
{
	char buf[32];

	if (t == 0)
		return xstrdup("-");
	time_rfc3339_cst(t, buf);
	return xstrdup(buf);
}

static void
put_info_json(const struct store_filing_info *i)
{
	fputs("{\"id\":", stdout);
	ctl_put_json(stdout, i->id);
	fputs(",\"state\":", stdout);
	ctl_put_json(stdout, i->state);
	fputs(",\"type\":", stdout);
	ctl_put_json(stdout, i->type);
	fputs(",\"mode\":", stdout);
	ctl_put_json(stdout, i->mode);
	fputs(",\"province\":", stdout);
	ctl_put_json(stdout, i->province);
	fputs(",\"provider\":", stdout);
	ctl_put_json(stdout, i->provider);
	fputs(",\"owner\":", stdout);
	ctl_put_json(stdout, i->owner);
	fputs(",\"created\":", stdout);
	ctl_put_json_time(stdout, i->created);
	fputs(",\"updated\":", stdout);
	ctl_put_json_time(stdout, i->updated);
}

static int
list_cb(const struct store_filing_info *i, void *arg)
{
	struct list_out *o = arg;
	const char *v[LIST_COLS - 2];
	char **row;

	if (o->json) {
		put_info_json(i);
		fputs("}\n", stdout);
		return 0;
	}
	/* plain: kept to align the columns once all rows are known */
	if (o->nrows == o->cap) {
		o->cap = o->cap ? o->cap * 2 : 64;
		o->cells = xreallocarray(o->cells, o->cap,
		    LIST_COLS * sizeof(*o->cells));
	}
	row = o->cells + o->nrows++ * LIST_COLS;
	v[0] = i->id;
	v[1] = i->state;
	v[2] = i->type;
	v[3] = i->mode;
	v[4] = i->province;
	v[5] = i->provider;
	v[6] = i->owner;
	for (size_t k = 0; k < LIST_COLS - 2; k++)
		row[k] = xstrdup(v[k] != NULL && v[k][0] != '\0' ? v[k] : "-");
	row[LIST_COLS - 2] = time_dup(i->created);
	row[LIST_COLS - 1] = time_dup(i->updated);
	return 0;
}

/* Display width of a cell as escaped: UTF-8 continuation bytes count
 * nothing, CJK counts two columns, a control byte four (\xHH). */
static size_t
cell_width(const char *s)
{
	size_t w = 0;

	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (*p < 0x20 || *p == 0x7f)
			w += 4;
		else if (*p < 0x80)
			w++;
		else if (*p >= 0xe0)
			w += 2; /* three- and four-byte sequences: wide, mostly */
		else if (*p >= 0xc0)
			w++;
	}
	return w;
}

static void
list_print(struct list_out *o)
{
	static const char *const head[LIST_COLS] = {
		"ID", "STATE", "TYPE", "MODE", "PROVINCE", "PROVIDER", "OWNER",
		"CREATED", "UPDATED"
	};
	size_t width[LIST_COLS];

	for (size_t k = 0; k < LIST_COLS; k++)
		width[k] = strlen(head[k]);
	for (size_t r = 0; r < o->nrows; r++)
		for (size_t k = 0; k < LIST_COLS; k++) {
			size_t w = cell_width(o->cells[r * LIST_COLS + k]);

			if (w > width[k])
				width[k] = w;
		}
	for (size_t r = 0; r <= o->nrows; r++) {
		for (size_t k = 0; k < LIST_COLS; k++) {
			const char *c = r == 0 ? head[k] :
			    o->cells[(r - 1) * LIST_COLS + k];

			ctl_put_escaped(stdout, c);
			if (k + 1 < LIST_COLS)
				for (size_t w = cell_width(c); w < width[k] + 2; w++)
					fputc(' ', stdout);
		}
		fputc('\n', stdout);
	}
	for (size_t r = 0; r < o->nrows * LIST_COLS; r++)
		free(o->cells[r]);
	free(o->cells);
}

int
ctl_list(int argc, char **argv, const struct config *cf)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "state", required_argument, NULL, 'a' },
		{ NULL, 0, NULL, 0 },
	};
	struct list_out o = { 0 };
	struct store *st;
	const char *state = NULL;
	enum wf_state s;
	int flag = 0, i, rc = CTL_OK;

	if ((i = opts_parse(argc, argv, opts, &o.json, &flag, &state)) == -1 ||
	    i != argc) {
		fprintf(stderr, "usage: beianctl list [--state S] [--json]\n");
		return CTL_USAGE;
	}
	if (state != NULL && workflow_state_parse(state, &s) == -1) {
		fputs("beianctl: unknown state: ", stderr);
		ctl_put_escaped(stderr, state);
		fputs(" (one of", stderr);
		for (int k = WF_RECEIVED; k < WF_NSTATES; k++)
			fprintf(stderr, " %s", workflow_state_name((enum wf_state)k));
		fputs(")\n", stderr);
		return CTL_USAGE;
	}
	if ((st = ctl_store_open(cf)) == NULL)
		return CTL_USAGE;
	if (store_filing_list(st, state, list_cb, &o) == -1)
		rc = ctl_store_error(st);
	if (!o.json)
		list_print(&o);
	store_close(st);
	return rc;
}

/* ---- show ------------------------------------------------------------------ */

static void
show_json(const struct store_filing_detail *d)
{
	put_info_json(&d->info);
	/* always an object, so that every key is there (null: none) */
	fputs(",\"sponsor\":{\"name\":", stdout);
	ctl_put_json(stdout, d->sponsor_name);
	fputs(",\"nature\":", stdout);
	ctl_put_json(stdout, d->sponsor_nature);
	fputs(",\"cert_type\":", stdout);
	ctl_put_json(stdout, d->sponsor_cert_type);
	fputs(",\"cert_number\":", stdout);
	ctl_put_json(stdout, d->sponsor_cert_number);
	fputc('}', stdout);
	fputs(",\"websites\":[", stdout);
	for (size_t i = 0; i < d->nwebsites; i++) {
		const struct store_website *w = &d->websites[i];
		char *list, *p, *tok, *save = NULL;
		int n = 0;

		fputs(i > 0 ? ",{\"name\":" : "{\"name\":", stdout);
		ctl_put_json(stdout, w->name);
		fputs(",\"domains\":[", stdout);
		list = xstrdup(w->domains != NULL ? w->domains : "");
		for (p = list; (tok = strtok_r(p, " ", &save)) != NULL; p = NULL) {
			if (n++ > 0)
				fputc(',', stdout);
			ctl_put_json(stdout, tok);
		}
		free(list);
		fputs("],\"site_licence\":", stdout);
		ctl_put_json(stdout, w->site_licence);
		fputc('}', stdout);
	}
	fputs("],\"subject_licence\":", stdout);
	ctl_put_json(stdout, d->subject_licence);
	fputs(",\"errors\":[", stdout);
	for (size_t i = 0; i < d->nerrors; i++) {
		fputs(i > 0 ? ",{\"path\":" : "{\"path\":", stdout);
		ctl_put_json(stdout, d->errors[i].path);
		fputs(",\"code\":", stdout);
		ctl_put_json(stdout, d->errors[i].code);
		fputs(",\"message\":", stdout);
		ctl_put_json(stdout, d->errors[i].message);
		fputc('}', stdout);
	}
	fputs("],\"events\":[", stdout);
	for (size_t i = 0; i < d->nevents; i++) {
		const struct store_event *e = &d->events[i];

		fputs(i > 0 ? ",{\"at\":" : "{\"at\":", stdout);
		ctl_put_json_time(stdout, e->at);
		fputs(",\"actor\":", stdout);
		ctl_put_json(stdout, e->actor);
		fputs(",\"actor_kind\":", stdout);
		ctl_put_json(stdout, e->actor_kind);
		fputs(",\"channel\":", stdout);
		ctl_put_json(stdout, e->channel);
		fputs(",\"from\":", stdout);
		ctl_put_json(stdout, e->from);
		fputs(",\"to\":", stdout);
		ctl_put_json(stdout, e->to);
		fputs(",\"reason\":", stdout);
		ctl_put_json(stdout, e->reason);
		fputs(",\"origin\":", stdout);
		ctl_put_json(stdout, e->origin);
		fputc('}', stdout);
	}
	fputs("]}\n", stdout);
}

static void
field(const char *name, const char *value)
{
	printf("%-16s ", name);
	put_plain(stdout, value);
	fputc('\n', stdout);
}

static void
show_plain(const struct store_filing_detail *d)
{
	field("id:", d->info.id);
	field("state:", d->info.state);
	field("type:", d->info.type);
	field("mode:", d->info.mode);
	field("province:", d->info.province);
	field("provider:", d->info.provider);
	field("owner:", d->info.owner);
	printf("%-16s ", "created:");
	put_time(stdout, d->info.created);
	printf("\n%-16s ", "updated:");
	put_time(stdout, d->info.updated);
	fputc('\n', stdout);
	if (d->sponsor_name != NULL || d->sponsor_cert_number != NULL) {
		field("sponsor:", d->sponsor_name);
		field("  nature:", d->sponsor_nature);
		field("  cert type:", d->sponsor_cert_type);
		field("  cert number:", d->sponsor_cert_number);
	}
	if (d->subject_licence != NULL)
		field("subject licence:", d->subject_licence);
	for (size_t i = 0; i < d->nwebsites; i++) {
		printf("website %-8zu ", i + 1);
		put_plain(stdout, d->websites[i].name);
		fputc('\n', stdout);
		field("  domains:", d->websites[i].domains);
		if (d->websites[i].site_licence != NULL)
			field("  site licence:", d->websites[i].site_licence);
	}
	if (d->nerrors > 0)
		fputs("errors:\n", stdout);
	for (size_t i = 0; i < d->nerrors; i++) {
		fputs("  ", stdout);
		put_plain(stdout, d->errors[i].path);
		fputs(": ", stdout);
		put_plain(stdout, d->errors[i].code);
		fputs(": ", stdout);
		put_plain(stdout, d->errors[i].message);
		fputc('\n', stdout);
	}
	fputs("events:\n", stdout);
	for (size_t i = 0; i < d->nevents; i++) {
		const struct store_event *e = &d->events[i];

		fputs("  ", stdout);
		put_time(stdout, e->at);
		fputs("  ", stdout);
		put_plain(stdout, e->from);
		fputs(" -> ", stdout);
		put_plain(stdout, e->to);
		fputs("  ", stdout);
		put_plain(stdout, e->actor_kind);
		fputc(' ', stdout);
		put_plain(stdout, e->actor);
		fputs(" (", stdout);
		put_plain(stdout, e->channel);
		if (e->origin != NULL) {
			fputc(' ', stdout);
			put_plain(stdout, e->origin);
		}
		fputc(')', stdout);
		if (e->reason != NULL && e->reason[0] != '\0') {
			fputs(": ", stdout);
			ctl_put_escaped(stdout, e->reason);
		}
		fputc('\n', stdout);
	}
}

int
ctl_show(int argc, char **argv, const struct config *cf)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ NULL, 0, NULL, 0 },
	};
	struct store_filing_detail *d = NULL;
	struct store *st;
	int json = 0, ch, i, rc;

	/* permuting: "show ID --json" as well as "show --json ID" */
	optind = 1;
	opterr = 1;
	while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (ch != 'j') {
			fprintf(stderr, "usage: beianctl show ID [--json]\n");
			return CTL_USAGE;
		}
		json = 1;
	}
	i = optind;
	if (argc - i != 1) {
		fprintf(stderr, "usage: beianctl show ID [--json]\n");
		return CTL_USAGE;
	}
	if ((st = ctl_store_open(cf)) == NULL)
		return CTL_USAGE;
	rc = store_filing_show(st, argv[i], &d);
	if (rc == -1)
		rc = ctl_store_error(st);
	else if (rc == 1) {
		ctl_put_escaped(stdout, argv[i]);
		printf(": TRACKING_ID_UNKNOWN: %s\n",
		    err_code_message(ERR_TRACKING_ID_UNKNOWN));
		rc = CTL_UNKNOWN_ID;
	} else {
		if (json)
			show_json(d);
		else
			show_plain(d);
		store_filing_detail_free(d);
		rc = CTL_OK;
	}
	store_close(st);
	return rc;
}

/* ---- outbox -------------------------------------------------------------------- */

struct outbox_out {
	int json, n;
};

static int
outbox_cb(const struct store_mail *m, void *arg)
{
	struct outbox_out *o = arg;

	if (o->json) {
		printf("{\"id\":%" PRId64 ",\"filing\":", m->id);
		ctl_put_json(stdout, m->filing);
		fputs(",\"to\":", stdout);
		ctl_put_json(stdout, m->to);
		fputs(",\"template\":", stdout);
		ctl_put_json(stdout, workflow_template_name(m->tpl));
		fputs(",\"state\":", stdout);
		ctl_put_json(stdout, m->state);
		printf(",\"attempts\":%d,\"last_reply\":", m->attempts);
		ctl_put_json(stdout, m->last_reply);
		fputs(",\"next_try\":", stdout);
		ctl_put_json_time(stdout, m->next_try);
		fputs(",\"message_id\":", stdout);
		ctl_put_json(stdout, m->message_id);
		fputs("}\n", stdout);
		return 0;
	}
	if (o->n++ == 0)
		printf("%-6s %-15s %-22s %-9s %-3s %-25s %s\n", "ID", "FILING",
		    "TEMPLATE", "STATE", "TRY", "NEXT", "TO");
	printf("%-6" PRId64 " ", m->id);
	printf("%-15s ", m->filing != NULL ? m->filing : "-");
	printf("%-22s %-9s %-3d ", workflow_template_name(m->tpl),
	    m->state != NULL ? m->state : "-", m->attempts);
	put_time(stdout, m->next_try);
	fputs("  ", stdout);
	put_plain(stdout, m->to);
	fputc('\n', stdout);
	if (m->last_reply != NULL && m->last_reply[0] != '\0') {
		fputs("       last reply: ", stdout);
		ctl_put_escaped(stdout, m->last_reply);
		fputc('\n', stdout);
	}
	return 0;
}

int
ctl_outbox(int argc, char **argv, const struct config *cf)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "failed", no_argument, NULL, 'f' },
		{ NULL, 0, NULL, 0 },
	};
	struct outbox_out o = { 0 };
	struct store *st;
	const char *unused = NULL;
	int failed = 0, i, rc = CTL_OK;

	if ((i = opts_parse(argc, argv, opts, &o.json, &failed, &unused)) ==
	    -1 || i != argc) {
		fprintf(stderr, "usage: beianctl outbox [--failed] [--json]\n");
		return CTL_USAGE;
	}
	if ((st = ctl_store_open(cf)) == NULL)
		return CTL_USAGE;
	if (store_outbox_list(st, failed, outbox_cb, &o) == -1)
		rc = ctl_store_error(st);
	store_close(st);
	return rc;
}

/* ---- quarantine ---------------------------------------------------------------- */

struct quarantine_out {
	int json, n;
};

static int
quarantine_cb(const char *item, const char *source, time_t at,
    const char *reason, void *arg)
{
	struct quarantine_out *o = arg;

	if (o->json) {
		fputs("{\"item\":", stdout);
		ctl_put_json(stdout, item);
		fputs(",\"source\":", stdout);
		ctl_put_json(stdout, source);
		fputs(",\"at\":", stdout);
		ctl_put_json_time(stdout, at);
		fputs(",\"reason\":", stdout);
		ctl_put_json(stdout, reason);
		fputs("}\n", stdout);
		return 0;
	}
	o->n++;
	put_plain(stdout, item);
	fputs("  ", stdout);
	put_time(stdout, at);
	fputs("  ", stdout);
	put_plain(stdout, source);
	fputs("  ", stdout);
	put_plain(stdout, reason);
	fputc('\n', stdout);
	return 0;
}

int
ctl_quarantine(int argc, char **argv, const struct config *cf)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ NULL, 0, NULL, 0 },
	};
	struct quarantine_out o = { 0 };
	struct store *st;
	const char *unused = NULL;
	int flag = 0, i, rc = CTL_OK;

	if ((i = opts_parse(argc, argv, opts, &o.json, &flag, &unused)) == -1 ||
	    i != argc) {
		fprintf(stderr, "usage: beianctl quarantine [--json]\n");
		return CTL_USAGE;
	}
	if ((st = ctl_store_open(cf)) == NULL)
		return CTL_USAGE;
	if (store_quarantine_list(st, quarantine_cb, &o) == -1)
		rc = ctl_store_error(st);
	store_close(st);
	return rc;
}
