/*
 * cmd_intercept.c - `tcptwin intercept`: options -> the intercept engine
 * (relay/icept.c), then the event loop until SIGINT/SIGTERM. Prints a
 * statistics line on SIGUSR1 and at exit. No packet logic here.
 */
#include "cli/cli.h"
#include "core/err.h"
#include "core/log.h"
#include "core/loop.h"
#include "relay/icept.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum {
	OPT_ALLOW = 256,
	OPT_SECRET,
	OPT_HOLD,
	OPT_WIRE_VERSION,
	OPT_HELP,
};

static const struct tw_opt icept_opts[] = {
	{NULL, 'i', 1, "IFACE[,IFACE]", "capture the target's replies on these interfaces (default any)"},
	{NULL, 'F', 1, "FILTER", "BPF filter for the replies, e.g. 'tcp and src port 8080' (required)"},
	{NULL, 'p', 1, "PORT", "listen for copy on PORT (default 36524)"},
	{NULL, 'b', 1, "ADDR", "listen on this address only (default all)"},
	{"allow", OPT_ALLOW, 1, "CIDR[,CIDR]", "accept copy only from these networks"},
	{"secret-file", OPT_SECRET, 1, "FILE", "require copy to prove it holds the secret in FILE"},
	{"hold-ms", OPT_HOLD, 1, "MS", "hold replies that come before their registration this long (3000)"},
	{NULL, 's', 1, "SNAPLEN", "bytes captured per reply (default 256: headers only)"},
	{NULL, 'B', 1, "KIB", "capture ring per interface in KiB (default 65536)"},
	{NULL, 'd', 0, NULL, "run in the background"},
	{NULL, 'l', 1, "FILE", "log to FILE"},
	{NULL, 'P', 1, "FILE", "write the process id to FILE"},
	{NULL, 'v', 0, NULL, "more log lines (repeat for debug)"},
	{"wire-version", OPT_WIRE_VERSION, 1, "N", "speak channel version N only (for testing)"},
	{"help", OPT_HELP, 0, NULL, "show this help"},
	{NULL, 0, 0, NULL, NULL},
};

static const char synopsis[] = "-F FILTER [-i IFACE[,IFACE]] [-p PORT] [-b ADDR] [options]";

static int usage_error(const char *what, const char *arg)
{
	return tw_cli_usage_error("intercept", synopsis, icept_opts, what, arg);
}

int tw_cmd_intercept(int argc, char **argv)
{
	struct tw_icept_cfg cfg;
	struct tw_secret secret;
	struct tw_loop *loop = NULL;
	struct tw_icept *ic = NULL;
	const char *logfile = NULL, *pidfile = NULL, *secret_file = NULL;
	bool daemonize = false;
	int verbose = 0, c, rc;
	char err[512] = "";
	unsigned long long v;

	tw_icept_cfg_init(&cfg);
	memset(&secret, 0, sizeof(secret));
	cfg.ifaces = "any";
	optind = 1;
	opterr = 0;
	while ((c = tw_cli_getopt(argc, argv, icept_opts)) != -1) {
		switch (c) {
		case 'i': cfg.ifaces = optarg; break;
		case 'F': cfg.filter = optarg; break;
		case 'p':
			if (tw_cli_parse_u64(optarg, 1, 65535, &v))
				return usage_error("-p: bad port", optarg);
			cfg.srv.port = (uint16_t)v;
			break;
		case 'b': cfg.srv.bind = optarg; break;
		case OPT_ALLOW:
			if (tw_relay_parse_allow(&cfg.srv, optarg, err, sizeof(err)) < 0)
				return usage_error(err, NULL);
			break;
		case OPT_SECRET: secret_file = optarg; break;
		case OPT_HOLD:
			if (tw_cli_parse_u64(optarg, 1, 600000, &v))
				return usage_error("--hold-ms: bad value", optarg);
			cfg.srv.hold_ns = v * 1000000ull;
			break;
		case 's':
			if (tw_cli_parse_u64(optarg, 128, 262144, &v))
				return usage_error("-s: snap length must be 128..262144", optarg);
			cfg.snaplen = (uint32_t)v;
			break;
		case 'B':
			if (tw_cli_parse_u64(optarg, 1024, 4u << 20, &v))
				return usage_error("-B: ring size must be 1024..4194304 KiB", optarg);
			cfg.buffer_kb = (uint32_t)v;
			break;
		case 'd': daemonize = true; break;
		case 'l': logfile = optarg; break;
		case 'P': pidfile = optarg; break;
		case 'v': verbose++; break;
		case OPT_WIRE_VERSION:
			if (tw_cli_parse_u64(optarg, 1, 65535, &v))
				return usage_error("--wire-version: bad value", optarg);
			cfg.srv.ver_min = cfg.srv.ver_max = (uint16_t)v;
			break;
		case OPT_HELP:
			tw_cli_help(stdout, "intercept", synopsis, icept_opts);
			return 0;
		default:
			return usage_error("unknown option or missing argument:", argv[optind - 1]);
		}
	}
	if (optind < argc)
		return usage_error("unexpected argument", argv[optind]);
	if (!cfg.filter || !*cfg.filter)
		return usage_error("-F FILTER is required (e.g. -F 'tcp and src port 8080')", NULL);
	if (verbose)
		tw_log_set_level(verbose > 1 ? TW_LOG_DEBUG : TW_LOG_INFO);
	if (secret_file) {
		if (tw_secret_load(&secret, secret_file, err, sizeof(err)) < 0) {
			fprintf(stderr, "tcptwin intercept: %s\n", err);
			return 1;
		}
		cfg.srv.secret = &secret;
	}
	loop = tw_loop_new(0);
	if (!loop) {
		fprintf(stderr, "tcptwin intercept: event loop: %s\n", strerror(errno));
		return 1;
	}
	rc = tw_icept_new(loop, &cfg, &ic, err, sizeof(err));
	if (rc < 0) {
		fprintf(stderr, "tcptwin intercept: %s\n", *err ? err : tw_strerror(rc));
		tw_loop_free(loop);
		return 1;
	}
	if ((rc = tw_cli_service("intercept", logfile, daemonize, pidfile))) {
		tw_icept_free(ic);
		tw_loop_free(loop);
		return rc;
	}
	tw_log(TW_LOG_NOTICE, 0, "intercept listening on %s port %u, capturing on %s with '%s'",
	       cfg.srv.bind ? cfg.srv.bind : "every address", cfg.srv.port, cfg.ifaces, cfg.filter);
	tw_cli_signals(loop);
	while (!tw_cli_sig_stop()) {
		rc = tw_loop_run_once(loop, true);
		if (rc < 0 && rc != -EINTR) {
			fprintf(stderr, "tcptwin intercept: event loop: %s\n", tw_strerror(rc));
			break;
		}
		if (tw_cli_sig_stats())
			tw_icept_print_stats(ic, tw_log_stream());
	}
	tw_icept_print_stats(ic, tw_log_stream());
	tw_icept_free(ic);
	tw_loop_free(loop);
	secret.len = 0;
	return rc < 0 && rc != -EINTR ? 1 : 0;
}
