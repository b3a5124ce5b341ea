/*
 * beiand: the daemon's entry point.
 */
#include <stdio.h>

int
main(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	fprintf(stderr, "beiand: not yet built\n");
	return 2;
}
