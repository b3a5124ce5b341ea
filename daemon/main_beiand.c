/*
 * beiand: the daemon's entry point.
 */
#include "daemon/beiand.h"

int
main(int argc, char **argv)
{
	return beiand_main(argc, argv);
}
