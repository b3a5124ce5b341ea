/*
 * beiand-worker: the parser worker's entry point (worker/worker_child.c).
 */
#include "worker/worker_int.h"

int
main(int argc, char **argv)
{
	return worker_program_main(argc, argv);
}
