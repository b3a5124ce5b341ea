/*
 * ctl: beianctl's verbs (DESIGN.md, Command line).
 */
#ifndef BEIAND_CTL_H
#define BEIAND_CTL_H

/* Exit statuses of every verb. */
#define CTL_OK 0        /* done */
#define CTL_REFUSED 1   /* invalid or refused */
#define CTL_USAGE 2     /* usage, configuration or I/O error */
#define CTL_UNKNOWN_ID 3

int ctl_main(int argc, char **argv);

#endif
