/*
 * beiand-web: the staff console's entry point.
 */
#include "web/web.h"

int
main(int argc, char **argv)
{
	return web_main(argc, argv);
}
