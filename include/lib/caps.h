/*
 * caps: giving up the process's capabilities.
 *
 * Under its unit beiand holds CAP_DAC_READ_SEARCH (to read uploads whatever
 * mode a client gave them).  The processes it forks for hostile bytes (the
 * parser workers, the IMAP fetcher) need none and must not keep it: they
 * drop every capability, effective, permitted, inheritable and ambient,
 * before their first read.
 */
#ifndef BEIAND_CAPS_H
#define BEIAND_CAPS_H

/* Drop every capability of the calling thread (and, so, of a process with
 * one thread).  0, or -1 with errno. */
int caps_drop_all(void);

#endif
