/*
 * secret: a password read from a file of its own ([imap] and [smtp]
 * password_file) at the moment it is needed, by the daemon (its mailer
 * for SMTP; for IMAP each time it starts the fetcher, which gets the
 * password among its settings: it runs as another user, confined, and
 * could not open the file) and by `beianctl probe` for the channel it
 * probes.  The configuration reader never opens these files, so a
 * program that shares the configuration (beiand-web, a parser worker)
 * never holds the passwords.
 */
#ifndef BEIAND_SECRET_H
#define BEIAND_SECRET_H

#include <stddef.h>

#define SECRET_MAX 1024 /* bytes of one password, its NUL included */

/*
 * Read the password in path into buf[0..size): the file's first line
 * without its line end (one trailing "\n" or "\r\n"; nothing may follow
 * it).  Refused, with "path: why" in err and buf wiped: a file that is
 * not a regular file, whose mode gives anything to others, or to its
 * group (unless the group bits are the mask of an ACL that names users
 * only, as systemd's LoadCredential= makes: a password readable by more
 * than its owner and the users named is a leak already),
 * that is empty, longer than size - 1 bytes, or holds a NUL or another
 * control byte.  The message never holds a byte of the file.  0, or -1.
 * The caller wipes buf (explicit_bzero) once the password is handed on.
 */
int secret_file_read(const char *path, char *buf, size_t size, char *err,
    size_t errsize);

#endif
