/*
 * imap: what the fetcher's files share (private to mail/imap*.c,
 * mail/main_imap.c and the unit tests).  struct imap_child is
 * the fetcher's state: it lives in the fetcher program (beiand-imap)
 * only, one per process, no threads.
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

/* ---- imap_fetch.c: the fetcher's loop ----------------------------------- */

/*
 * The fetcher's life once confined, to its _exit: cf holds only the
 * fields of imap_settings.c; messages go to the folder dirfd; sock is
 * its end of the parent's socket.  Never returns.
 */
void imap_child_main(const struct config *cf, int dirfd, int sock)
    __attribute__((noreturn));

/* ---- imap_settings.c: what the parent tells the fetcher ------------------ */

#define IMAP_PROGRAM      "beiand-imap"
#define IMAP_SETTINGS_MAX 65536 /* bytes of the settings message */

/*
 * The settings the fetcher needs of cf (and nothing else: see
 * imap_settings.c), and where its log lines go: a malloc'd *out of *len
 * bytes, which may hold the IMAP password (wipe it, then free).
 */
void imap_settings_encode(const struct config *cf, unsigned char **out,
    size_t *len);
/*
 * In the fetcher: a configuration with only those fields set (free with
 * config_free), the log sink and verbosity in *sink, *verbose.  NULL
 * when the message does not decode.
 */
struct config *imap_settings_decode(const unsigned char *buf, size_t len,
    int *sink, int *verbose);

/* ---- imap_sandbox.c: the fetcher program --------------------------------- */

/* main() of beiand-imap: its settings, its sandbox, then imap_child_main. */
int imap_program_main(int argc, char **argv);

#endif
