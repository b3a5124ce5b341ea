/*
 * beiand: what is told about an upload left where it is, in incoming/,
 * because beiand may not open it (its mode, say): one log line, a receipt
 * with UPLOAD_UNREADABLE and a recent error, then tries with a backoff
 * (spool_cand_unreadable()).  Run by the loop in beiand.c, on its thread,
 * through daemon/beiand_int.h.
 *
 * The upload is hostile and unread here: only its name (written to the
 * receipt escaped, to the log with control bytes shown) and its lstat(2)
 * mode and owner are used.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "daemon/beiand_int.h"
#include "daemon/receipt.h"
#include "daemon/spool.h"
#include "lib/log.h"
#include "parsers/errlist.h"
#include "store/status.h"
#include "store/store.h"

/*
 * A candidate that could not be opened (errno e): it stays in incoming/
 * and is tried again with a backoff (spool_cand_unreadable()), at once
 * when it changes.  The first time since it was uploaded, one log line;
 * when beiand may not read it (EACCES: a client that asked for mode
 * 0600, say), also a receipt with UPLOAD_UNREADABLE telling the sender
 * what to change, and a recent error for `beianctl status`.
 */
void
upload_unreadable(struct daemon *d, struct spool_cand *c, int e)
{
	const struct spool_src *src = spool_src(d->sp, c->src);
	int64_t now = mono_ms();
	struct errlist *el;
	char msg[1024], mode[64] = "", path[4096];
	struct stat st;
	char *xml;

	if (!spool_cand_unreadable(d->sp, c, now)) {
		log_debug("spool: upload=%s still cannot be read: %s; next try "
		    "in %lld s", c->name, strerror(e),
		    (long long)(c->backoff_ms / 1000));
		return;
	}
	if (e != EACCES && e != EPERM) {
		log_err("spool: %s/%s: %s; tried again later", src->incoming,
		    c->name, strerror(e));
		return;
	}
	snprintf(path, sizeof(path), "%s/%s", src->incoming, c->name);
	if (lstat(path, &st) == 0)
		snprintf(mode, sizeof(mode), "mode %04o, uid %ld, gid %ld",
		    (unsigned)(st.st_mode & 07777), (long)st.st_uid,
		    (long)st.st_gid);
	log_warn("spool: upload=%s%s%s cannot be read: %s (%s); receipt "
	    "UPLOAD_UNREADABLE written, tried again from time to time and "
	    "at once when it changes", c->name, src->is_bureau ? "" :
	    " provider=", src->is_bureau ? "" : src->code, strerror(e),
	    mode[0] ? mode : "mode unknown");
	el = errlist_new();
	errlist_add(el, ERR_UPLOAD_UNREADABLE, "/",
	    "beiand 无权读取此文件（%s）。请让 beiand 组可读：sftp 中执行 "
	    "chmod 640 加文件名，或上传前 chmod 640 后重新上传；文件保留在 "
	    "incoming/ 中，可读后即处理 / beiand may not read this file (%s): "
	    "make it readable by the group, with sftp's chmod 640 and the "
	    "file's name, or chmod 640 before uploading it again; it stays in "
	    "incoming/ and is processed once it can be read",
	    mode[0] ? mode : "权限不足", mode[0] ? mode : "its permissions");
	/* unread: no digest to give */
	xml = receipt_build(c->name, "", time(NULL), el, NULL, 0);
	if (receipt_write(src->outgoing, c->name, xml) == -1)
		log_err("spool: upload=%s: receipt: %s", c->name,
		    strerror(errno));
	free(xml);
	errlist_free(el);
	snprintf(msg, sizeof(msg), "cannot read %s: %s (%s)", c->name,
	    strerror(e), mode[0] ? mode : "mode unknown");
	if (store_error_add(d->st, src->source, "UPLOAD_UNREADABLE", msg,
	    time(NULL)) == -1)
		log_err("store: %s", store_errmsg(d->st));
}
