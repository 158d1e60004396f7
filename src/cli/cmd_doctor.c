/*
 * cmd_doctor.c - `tcptwin doctor`: copy's -x/-s/-i/-o/-M/--mode options ->
 * struct tw_doc_cfg, then one line per check on stdout ("PASS name: detail",
 * "FAIL name: what is wrong; fix: what to do", "SKIP name: why") and a
 * summary line. Exit 0 when nothing failed, 1 otherwise, 2 on usage errors.
 * The checks themselves are in src/copy/doctor*.c.
 */
#include "cli/cli.h"
#include "copy/doctor.h"
#include "core/err.h"
#include "relay/auth.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>

enum {
	OPT_MODE = 256,
	OPT_SECRET,
	OPT_TIMEOUT,
	OPT_PROBE_CLIENT,
	OPT_WIRE_VERSION,
	OPT_HELP,
};

static const struct tw_opt doctor_opts[] = {
	{NULL, 'x', 1, "[IP:]PORT-TIP:TPORT[,...]", "the targets, as copy's -x"},
	{NULL, 's', 1, "HOST[:PORT][,...]", "the intercepts (required in raw mode)"},
	{NULL, 'p', 1, "PORT", "intercept port when -s names none (default 36524)"},
	{NULL, 'i', 1, "SOURCE", "copy's input: pcap FILE, IFACE, or vxlan:[ADDR:]PORT / geneve:..."},
	{NULL, 'o', 1, "DEV", "copy sends at the link layer on DEV (AF_PACKET)"},
	{NULL, 'M', 1, "MTU", "copy's -M (default: the route's MTU)"},
	{NULL, 'c', 1, "ADDR|RANGE|CIDR[,...]",
	 "copy's client addresses; the first one is the probe client"},
	{"probe-client", OPT_PROBE_CLIENT, 1, "ADDR",
	 "probe SYN source without -c: a client address the target routes to the assistant"},
	{"mode", OPT_MODE, 1, "raw|socket", "replay mode to check (default raw)"},
	{"secret-file", OPT_SECRET, 1, "FILE", "the channel's shared secret, as copy's"},
	{"timeout-ms", OPT_TIMEOUT, 1, "MS", "how long each connection or probe may take (2000)"},
	{"wire-version", OPT_WIRE_VERSION, 1, "N", "speak channel version N only (for testing)"},
	{"help", OPT_HELP, 0, NULL, "show this help"},
	{NULL, 0, 0, NULL, NULL},
};

static const char synopsis[] =
	"-x [IP:]PORT-TIP:TPORT -s INTERCEPT [-i SOURCE] [-c ADDRS | --probe-client ADDR] [options]";

struct doctor_opts {
	struct tw_doc_cfg cfg;
	struct tw_secret secret;
	const char *secret_file;
};

static int usage_error(const char *what, const char *arg)
{
	return tw_cli_usage_error("doctor", synopsis, doctor_opts, what, arg);
}

static int parse_options(int argc, char **argv, struct doctor_opts *o)
{
	struct tw_doc_cfg *cfg = &o->cfg;
	unsigned long long v;
	char err[512];
	int c;

	memset(o, 0, sizeof(*o));
	tw_doc_cfg_init(cfg);
	optind = 1;
	opterr = 0;
	while ((c = tw_cli_getopt(argc, argv, doctor_opts)) != -1) {
		err[0] = '\0';
		switch (c) {
		case 'x':
			if (tw_ap_parse_x(&cfg->ap, optarg, err, sizeof(err)) < 0)
				return usage_error(err, NULL);
			break;
		case 'c':
			if (tw_ap_parse_c(&cfg->ap, optarg, err, sizeof(err)) < 0)
				return usage_error(err, NULL);
			break;
		case 's': cfg->servers = optarg; break;
		case 'p':
			if (tw_cli_parse_u64(optarg, 1, 65535, &v))
				return usage_error("-p: bad port", optarg);
			cfg->port = (uint16_t)v;
			break;
		case 'i': cfg->input = optarg; break;
		case 'o': cfg->outdev = optarg; break;
		case 'M':
			/* as copy's -M, less strict: doctor says why a small one fails */
			if (tw_cli_parse_u64(optarg, 68, 65535, &v))
				return usage_error("-M: MTU must be 68..65535", optarg);
			cfg->mtu = (uint32_t)v;
			break;
		case OPT_PROBE_CLIENT:
			if (tw_ap_parse_ip(optarg, strlen(optarg), &cfg->probe_client) < 0)
				return usage_error("--probe-client: not an IP address", optarg);
			cfg->has_probe_client = true;
			break;
		case OPT_MODE:
			if (!strcmp(optarg, "raw"))
				cfg->mode = TW_DOC_RAW;
			else if (!strcmp(optarg, "socket"))
				cfg->mode = TW_DOC_SOCKET;
			else
				return usage_error("--mode: raw or socket", optarg);
			break;
		case OPT_SECRET: o->secret_file = optarg; break;
		case OPT_TIMEOUT:
			if (tw_cli_parse_u64(optarg, 10, 600000, &v))
				return usage_error("--timeout-ms: 10..600000", optarg);
			cfg->timeout_ms = (unsigned)v;
			break;
		case OPT_WIRE_VERSION:
			if (tw_cli_parse_u64(optarg, 1, 65535, &v))
				return usage_error("--wire-version: bad value", optarg);
			cfg->ver_min = cfg->ver_max = (uint16_t)v;
			break;
		case OPT_HELP:
			tw_cli_help(stdout, "doctor", synopsis, doctor_opts);
			return -1;
		default:
			return usage_error("unknown option or missing argument:", argv[optind - 1]);
		}
	}
	if (optind < argc)
		return usage_error("unexpected argument", argv[optind]);
	if (!cfg->ap.nrules)
		return usage_error("-x is required (e.g. -x 80-10.0.0.2:8080)", NULL);
	if (cfg->mode == TW_DOC_RAW && !cfg->servers)
		return usage_error("-s is required in raw mode: the intercept(s) that relay the target's "
				   "replies", NULL);
	return 0;
}

static void print_line(void *arg, const struct tw_doc_line *l)
{
	static const char *const tag[] = {"PASS", "FAIL", "SKIP"};

	(void)arg;
	printf("%s %s: %s\n", tag[l->status], l->name, l->text);
	fflush(stdout);
}

int tw_cmd_doctor(int argc, char **argv)
{
	struct doctor_opts o;
	struct tw_doc_sum sum;
	char err[512] = "";
	int rc;

	rc = parse_options(argc, argv, &o);
	if (rc)
		return rc < 0 ? 0 : rc;
	if (o.secret_file) {
		if (tw_secret_load(&o.secret, o.secret_file, err, sizeof(err)) < 0) {
			fprintf(stderr, "tcptwin doctor: %s\n", err);
			return 1;
		}
		o.cfg.secret = &o.secret;
	}
	rc = tw_doctor_run(&o.cfg, print_line, NULL, &sum);
	if (rc < 0) {
		fprintf(stderr, "tcptwin doctor: %s\n", tw_strerror(rc));
		return 1;
	}
	printf("doctor: %u passed, %u failed, %u skipped: %s\n", sum.pass, sum.fail, sum.skip,
	       sum.fail ? "fix the FAIL lines before replaying" : "ready to replay");
	return sum.fail ? 1 : 0;
}
