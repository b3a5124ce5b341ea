/*
 * startcheck: what `beiand -n` checks besides the configuration file —
 * that the folders a start needs exist, or will be made by it, and that
 * this process may use them (DESIGN.md, Command line).
 *
 * The unit runs `beiand -n` as ExecStartPre, as the daemon's own user and
 * inside the same sandbox, so what it finds is what the start would
 * find.  It checks existence and usability (faccessat(2) with
 * AT_EACCESS: modes, ACLs, capabilities, read-only mounts), never owners:
 * inside a user namespace other accounts' files show as nobody, and
 * owners are the administrator's choice as long as the daemon can do its
 * work.  Each problem is one line naming the folder and what is wrong
 * ("missing" is told apart from "permission denied"), and one line with
 * the command that fixes it.
 */
#ifndef BEIAND_STARTCHECK_H
#define BEIAND_STARTCHECK_H

#include <stddef.h>
#include <stdio.h>

struct config;

#define STARTCHECK_READ  0x1  /* list (and watch) it */
#define STARTCHECK_WRITE 0x2  /* make, rename and remove names in it */
#define STARTCHECK_MKDIR_P 0x4 /* when missing, the start makes it and its
                               * missing parents (else only the folder) */

/*
 * May this process use folder path as need says (searching it always)?
 * 0: yes; 1: it is missing and the start will make it (its nearest
 * existing parent is writable); -1: no, with why set to what is wrong:
 * "missing, and … may not be written", "not a folder", "permission denied
 * (needs …)", "read-only file system".
 */
int startcheck_dir(const char *path, int need, char *why, size_t whysize);

/*
 * Check everything cf's start needs: the spool tree (work/, quarantine/,
 * each provider's and bureau's incoming/ and outgoing/, work/ on the
 * filesystem of every incoming/), state_dir and its folders, the
 * folder of metrics_file, and the helper programs it runs
 * (beiand-worker; beiand-imap with an [imap] url).  Problems are printed on out, with the command
 * that fixes each; cfpath is the -c argument (NULL: the default), named
 * in the commands printed.  Returns the number of problems.
 */
int startcheck_run(const struct config *cf, const char *cfpath, FILE *out);

#endif
