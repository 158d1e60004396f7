/*
 * main.c - tcptwin's entry point: dispatches to a subcommand. Nothing else.
 */
#include "cli/cli.h"
#include "core/log.h"
#include "core/version.h"

#include <stdio.h>
#include <string.h>


struct cmd {
	const char *name;
	int (*run)(int argc, char **argv);
	const char *summary;
};

static const struct cmd cmds[] = {
	{"capture", tw_cmd_capture, "record to pcap or print packets (tcpdump's job), with tunnel decapsulation"},
	{"copy", tw_cmd_copy, "replay captured TCP sessions against a target (TCPCopy's job)"},
	{"intercept", tw_cmd_intercept, "relay the target's replies back to copy (TCPCopy's intercept)"},
	{"blast", tw_cmd_blast, "stateless pcap replay at a given rate, with rewriting (tcpreplay's job)"},
	{"doctor", tw_cmd_doctor, "check a deployment before anything is sent (one probe session)"},
};

static void usage(FILE *out)
{
	fprintf(out, "Usage: tcptwin COMMAND [OPTIONS]\n"
		     "       tcptwin COMMAND --help\n"
		     "       tcptwin --version\n\n"
		     "Replays real production TCP traffic against a test server.\n\nCommands:\n");
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		fprintf(out, "  %-10s %s\n", cmds[i].name, cmds[i].summary);
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
		usage(stdout);
		return 0;
	}
	if (!strcmp(argv[1], "--version") || !strcmp(argv[1], "-V")) {
		printf("tcptwin %s\n", tw_version());
		return 0;
	}
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
		if (strcmp(argv[1], cmds[i].name))
			continue;
		if (!cmds[i].run) {
			fprintf(stderr, "tcptwin: '%s' is not available in this version yet\n", cmds[i].name);
			return 2;
		}
		tw_log_set_prog("tcptwin");
		return cmds[i].run(argc - 1, argv + 1);
	}
	fprintf(stderr, "tcptwin: unknown command '%s'\n", argv[1]);
	usage(stderr);
	return 2;
}
