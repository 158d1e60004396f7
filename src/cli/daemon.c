/*
 * daemon.c - what copy and intercept share as long-running services:
 * -l (log to a file), -d (run in the background), -P (pid file, removed on
 * exit), and a signal set that stops or reports through the event loop.
 * No option parsing and no packet logic.
 */
#include "cli/cli.h"
#include "core/log.h"
#include "core/loop.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static volatile sig_atomic_t sig_stop, sig_stats;
static struct tw_loop *sig_loop;
static const char *pid_path;

static void on_signal(int sig)
{
	if (sig == SIGUSR1)
		sig_stats = 1;
	else
		sig_stop++;
	if (sig_loop)
		tw_loop_wakeup(sig_loop);
}

void tw_cli_signals(struct tw_loop *loop)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sig_loop = loop;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGUSR1, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
}

int tw_cli_sig_stop(void)
{
	return sig_stop;
}

bool tw_cli_sig_stats(void)
{
	bool v = sig_stats;

	sig_stats = 0;
	return v;
}

static void remove_pid(void)
{
	if (pid_path)
		(void)unlink(pid_path);
}

int tw_cli_service(const char *cmd, const char *logfile, bool daemonize, const char *pidfile)
{
	if (logfile) {
		int rc = tw_log_open(logfile);
		if (rc < 0) {
			fprintf(stderr, "tcptwin %s: -l %s: %s\n", cmd, logfile, strerror(-rc));
			return 1;
		}
	}
	if (daemonize) {
		if (daemon(1, logfile ? 0 : 1) < 0) {
			fprintf(stderr, "tcptwin %s: -d: %s\n", cmd, strerror(errno));
			return 1;
		}
	}
	if (pidfile) {
		FILE *f = fopen(pidfile, "w");
		if (!f) {
			fprintf(stderr, "tcptwin %s: -P %s: %s\n", cmd, pidfile, strerror(errno));
			return 1;
		}
		fprintf(f, "%ld\n", (long)getpid());
		fclose(f);
		pid_path = pidfile;
		atexit(remove_pid);
	}
	return 0;
}
