/*
 * eml: the transport used when [smtp] url is empty: each message becomes
 * a file state_dir/mail/<name>.eml (mode 0600), so the daemon works out
 * of the box and a human or a test can read what would have been sent.
 */
#ifndef BEIAND_EML_H
#define BEIAND_EML_H

#include <stddef.h>

/*
 * The file name (without ".eml") for a Message-ID: the part between '<'
 * and the last '@', each byte outside [A-Za-z0-9._+-] replaced by '_', a
 * leading '.' too; at most 200 bytes.  "<BA-2026-000123.17.received.
 * owner@p.example>" gives "BA-2026-000123.17.received.owner".
 * Returns 0, or -1 when size is too small or the id has no usable part.
 */
int eml_name(const char *message_id, char *buf, size_t size);

/*
 * Write msg[0..len) as dir/<eml_name>.eml: a temporary file in dir
 * (O_CREAT|O_EXCL, 0600), fsync, a rename that never replaces, fsync of
 * dir.  dir is created (0700) when missing.  When the file exists already
 * with the same bytes (a resend after a crash) nothing is written.
 * Returns 0 written, 1 already there with these bytes, -1 on error with
 * errno set (EEXIST: the name holds a different message).  path, when not
 * NULL, receives the file's path (also on -1 EEXIST).
 */
int eml_write(const char *dir, const char *message_id, const void *msg,
    size_t len, char *path, size_t pathsize);

/*
 * The same with flags: EML_NOSYNC leaves out the fsync of the file and
 * of dir; the caller then makes a batch durable at once with
 * eml_sync(dir) (syncfs) before it records the mails as sent.
 */
#define EML_NOSYNC 0x1
int eml_write_flags(const char *dir, const char *message_id, const void *msg,
    size_t len, char *path, size_t pathsize, int flags);
int eml_sync(const char *dir);

#endif
