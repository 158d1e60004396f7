/* cmd_capture.c - placeholder replaced in the next commit. */
#include "cli/cli.h"
int tw_cmd_capture(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	return 2;
}
