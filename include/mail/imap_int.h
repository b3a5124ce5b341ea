/*
 * imap: what the fetcher's files share (private to mail/imap.c,
 * mail/imap_session.c and mail/imap_fetch.c; no other file includes it).
 * struct imap_child is the fetcher child's state: it lives in the child
 * process only, one per process, no threads.
 */
#ifndef BEIAND_IMAP_INT_H
#define BEIAND_IMAP_INT_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "mail/imap.h"

#define IMAP_NET_TIMEOUT   60          /* seconds per network read */
#define IMAP_LINE_MAX      128

struct config;
struct mailimap;
struct mailimap_fetch_att;
struct mailimap_fetch_type;
struct clist_s;

struct imap_done {
	uint32_t uidvalidity, uid;
};

struct imap_child {
	int sock;
	int dirfd;
	struct imap_url url;
	char *done_folder;
	char *ca_file;          /* NULL: the system store */
	uint64_t poll_interval; /* seconds, >= 1 */
	uint64_t max_bytes;
	struct mailimap *imap;
	int has_idle, has_move, has_uidplus;
	uint32_t uidvalidity;   /* of the session; 0 outside one */
	uint32_t prev_uidvalidity;
	uint32_t cursor;        /* highest UID reported under prev_uidvalidity */
	int resumed;
	uint32_t resume_last;
	int stopping;
	struct imap_done *done;
	size_t ndone, capdone;
	uint64_t rng;
};

/* ---- imap.c: frames ---------------------------------------------------- */

int imap_u32_parse(const char *s, int zero_ok, uint32_t *out);
int imap_frame_split(const char *buf, size_t len, char line[IMAP_LINE_MAX],
    char **tok, int maxtok, const char **rest);

/* ---- imap_session.c: the IMAP session (MAILIMAP_* codes) --------------- */

const char *imap_strerror(int r);
int imap_conn_lost(int r);
int imap_child_connect(struct imap_child *c);
void imap_child_disconnect(struct imap_child *c, int logout);
int imap_child_search(struct imap_child *c, uint32_t first, uint32_t last,
    uint32_t **uids, size_t *nuids);
int imap_child_fetch(struct imap_child *c, uint32_t uid,
    struct mailimap_fetch_type *ft, struct clist_s **res, int *found,
    uint32_t *size, const char **body, size_t *blen);
struct mailimap_fetch_type *imap_fetch_type(struct mailimap_fetch_att *att);

/* ---- imap_fetch.c: the child process ----------------------------------- */

/* The child's life, from fork to _exit: never returns. */
void imap_child_main(const struct config *cf, const char *inbox_dir,
    int sock, pid_t parent) __attribute__((noreturn));

#endif
