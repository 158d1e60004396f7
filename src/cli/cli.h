/*
 * cli.h - subcommand entry points and the option-table helper they share.
 *
 * Each subcommand describes its options once, in a table of struct tw_opt;
 * the same table drives getopt_long and the --help text. Subcommands return
 * the process exit status (0 ok, 1 runtime error, 2 usage error); only
 * src/cli/ and main() decide to exit.
 */
#ifndef TW_CLI_CLI_H
#define TW_CLI_CLI_H

#include <stdbool.h>
#include <stdio.h>

struct tw_loop;

struct tw_opt {
	const char *lname;   /* long name, or NULL */
	int sname;           /* short letter, or a value >= 256 for long-only */
	int has_arg;         /* 0 none, 1 required */
	const char *argname; /* shown in help */
	const char *help;    /* one line */
};

/* getopt_long over TABLE (terminated by a zeroed row). Fills the short-option
 * string and long-option array from the table; returns as getopt_long does. */
int tw_cli_getopt(int argc, char **argv, const struct tw_opt *table);
/* Print "Usage: tcptwin CMD SYNOPSIS" then one line per option. */
void tw_cli_help(FILE *out, const char *cmd, const char *synopsis, const struct tw_opt *table);
/* Usage error of command CMD: "tcptwin CMD: WHAT 'ARG'" (ARG may be NULL),
 * then the usage from TABLE on stderr. Returns 2, the exit status. */
int tw_cli_usage_error(const char *cmd, const char *synopsis, const struct tw_opt *table,
		       const char *what, const char *arg);
/* Parse an unsigned number with an optional range check; -EINVAL otherwise. */
int tw_cli_parse_u64(const char *s, unsigned long long min, unsigned long long max,
		     unsigned long long *out);

/* Long-running commands (daemon.c): -l LOGFILE, -d, -P PIDFILE; returns 0
 * or an exit status after printing one line. */
int tw_cli_service(const char *cmd, const char *logfile, bool daemonize, const char *pidfile);
/* SIGINT/SIGTERM count stop requests, SIGUSR1 asks for statistics; each
 * wakes LOOP. SIGPIPE is ignored. */
void tw_cli_signals(struct tw_loop *loop);
int tw_cli_sig_stop(void);      /* stop requests so far */
bool tw_cli_sig_stats(void);    /* a statistics request since the last call */

int tw_cmd_capture(int argc, char **argv);
int tw_cmd_copy(int argc, char **argv);
int tw_cmd_intercept(int argc, char **argv);
int tw_cmd_doctor(int argc, char **argv);
int tw_cmd_blast(int argc, char **argv);

#endif
