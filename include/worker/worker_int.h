/*
 * worker: what the pool, the client and the worker program share
 * (private to worker/ and its unit tests): the set-up the
 * parent sends, the job message, the ready message.
 */
#ifndef BEIAND_WORKER_INT_H
#define BEIAND_WORKER_INT_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define WORKER_PROGRAM   "beiand-worker"
#define WORKER_JOB_CPU   30         /* seconds of CPU per job */
#define WORKER_NAME_MAX  4096
#define WORKER_PROV_MAX  255
#define WORKER_FILES_MAX 3          /* descriptors of one job (WJ_VERIFY) */
#define WORKER_SETUP_MAX (16U << 20) /* bytes of the set-up message */

/*
 * The program's first message, parent to worker, on its socket (fd 3):
 * a 4-byte little-endian length, then the set-up (worker_setup.c).  The
 * worker answers WORKER_READY and one byte, the Landlock ABI in force,
 * once its sandbox is on.
 */
#define WORKER_READY      "BWR1"
#define WORKER_READY_SIZE 5

/*
 * Job message, parent to worker: this header, the name, the provider;
 * the descriptors (1, or up to WORKER_FILES_MAX for WJ_VERIFY) ride on
 * the first byte.  For WJ_VERIFY the name holds one name per
 * descriptor, separated by NUL bytes; for the others it holds no NUL.
 */
#define JOB_MAGIC        0x4a /* 'J' */
#define JOB_HDR_SIZE     7

struct config;

/*
 * The set-up: what parsing needs of the configuration and nothing else
 * ([limits], the served provinces, each provider's code and IP ranges,
 * the [imap] address).  No password, no path, no URL is in it.
 * Encoded into a malloc'd *out (*len bytes, the length prefix included).
 */
void worker_setup_encode(const struct config *cf, unsigned char **out,
    size_t *len);
/*
 * Decode the set-up (without its length prefix) into a configuration
 * with only those fields set (every other string is NULL, every other
 * count 0); free with config_free.  NULL when it does not decode.
 */
struct config *worker_setup_decode(const unsigned char *buf, size_t len);

/* The uid and gid workers run as when the parent is root: beiand-worker,
 * else nobody.  -1 when neither exists. */
int worker_user(uid_t *uid, gid_t *gid, char *err, size_t errsize);

/*
 * Start one worker program with the set-up setup[0..setup_len): its
 * socket's parent end in *fd (non-blocking), the Landlock ABI it
 * confined itself with in *abi, its pid returned; the call waits (up to
 * a generous bound) for WORKER_READY.  -1 with the reason in err.
 */
pid_t worker_spawn(const unsigned char *setup, size_t setup_len, int drop,
    uid_t uid, gid_t gid, int *fd, int *abi, char *err, size_t errsize);

/* What a dead worker's status means, for the job it had. */
void worker_reason_status(int status, char *buf, size_t size);

/* ---- the worker program (worker_child.c, worker_sandbox.c) ------------ */

/* main() of beiand-worker. */
int worker_program_main(int argc, char **argv);
/* "beiand-worker[PID]: what: strerror(errno)" on stderr, then exit 1. */
void worker_die(const char *what) __attribute__((noreturn));
/*
 * Preload, limit and confine the worker (worker_sandbox.c) for the
 * set-up cf: returns the Landlock ABI in force (0: none on this kernel).
 * Dies when any step fails.
 */
int worker_sandbox_enter(const struct config *cf);

#endif
