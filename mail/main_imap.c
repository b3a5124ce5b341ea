/*
 * beiand-imap: the IMAP fetcher's entry point (mail/imap_sandbox.c).
 */
#include "mail/imap_int.h"

int
main(int argc, char **argv)
{
	return imap_program_main(argc, argv);
}
