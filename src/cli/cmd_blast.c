/*
 * cmd_blast.c - `tcptwin blast`: tcpreplay's job. Options (tcpreplay's
 * letters and long names where it has them) -> struct tw_blast_cfg, then
 * tw_blast_run and tcpreplay's final statistics on stdout. SIGINT/SIGTERM
 * stop the run early; the statistics are still printed.
 * No packet logic here: blast/ does the sending, rewriting and pacing.
 */
#include "cli/cli.h"
#include "blast/blast.h"
#include "core/err.h"
#include "core/log.h"

#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum {
	OPT_DURATION = 256,
	OPT_UNIQUE_IP,
	OPT_SRCMAC,
	OPT_DSTMAC,
	OPT_SRCIPMAP,
	OPT_DSTIPMAP,
	OPT_PORTMAP,
	OPT_FIXCSUM,
	OPT_MTU_TRUNC,
	OPT_MTU,
	OPT_ENGINE,
	OPT_BATCH,
	OPT_NO_RESEG,
	OPT_HELP,
};

static const struct tw_opt blast_opts[] = {
	{"intf1", 'i', 1, "IFACE", "send on IFACE (run it only where that is safe: a lab namespace)"},
	{"multiplier", 'x', 1, "X", "replay at X times the captured speed (default 1.0)"},
	{"pps", 'p', 1, "N", "replay at N packets per second"},
	{"mbps", 'M', 1, "N", "replay at N megabits per second (frame bytes)"},
	{"topspeed", 't', 0, NULL, "replay as fast as possible"},
	{"loop", 'l', 1, "N", "send the files N times (0 = until stopped; default 1)"},
	{"duration", OPT_DURATION, 1, "SEC", "stop after SEC seconds"},
	{"limit", 'L', 1, "N", "stop after N packets sent"},
	{"preload-pcap", 'K', 0, NULL, "read and prepare the files into memory before sending"},
	{"unique-ip", OPT_UNIQUE_IP, 0, NULL, "with --loop: add the loop number to both addresses each loop"},
	{"srcmac", OPT_SRCMAC, 1, "MAC", "rewrite the source MAC"},
	{"dstmac", OPT_DSTMAC, 1, "MAC", "rewrite the destination MAC"},
	{"srcipmap", OPT_SRCIPMAP, 1, "CIDR:CIDR,...", "map source addresses (host bits kept; IPv6: [CIDR]:[CIDR])"},
	{"dstipmap", OPT_DSTIPMAP, 1, "CIDR:CIDR,...", "map destination addresses (host bits kept; IPv6: [CIDR]:[CIDR])"},
	{"portmap", OPT_PORTMAP, 1, "P:Q,A-B:C,...", "map TCP/UDP ports (both directions)"},
	{"fixcsum", OPT_FIXCSUM, 0, NULL, "recompute IP, TCP and UDP checksums of every packet"},
	{"mtu-trunc", OPT_MTU_TRUNC, 0, NULL, "cut packets above the MTU to the MTU (instead of re-segmenting TCP)"},
	{"mtu", OPT_MTU, 1, "BYTES", "MTU to cut to (default: the interface's)"},
	{"no-resegment", OPT_NO_RESEG, 0, NULL, "send TCP packets above the MTU as they are (they fail, as in tcpreplay)"},
	{"engine", OPT_ENGINE, 1, "afpacket|txring|xdp", "send engine: afpacket (sendmmsg batches, default), txring (PACKET_TX_RING), xdp (AF_XDP)"},
	{"batch", OPT_BATCH, 1, "N", "frames per send call (default 64, at most 1024)"},
	{"help", OPT_HELP, 0, NULL, "show this help"},
	{NULL, 0, 0, NULL, NULL},
};

static const char synopsis[] = "-i IFACE [options] FILE...";

static int usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static int usage_error(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "tcptwin blast: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n");
	tw_cli_help(stderr, "blast", synopsis, blast_opts);
	return 2;
}

static int parse_rate(const char *s, double *out)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s || *end || !isfinite(v) || v <= 0 || v >= 1e12)
		return -EINVAL;
	*out = v;
	return 0;
}

static void on_signal(int sig)
{
	(void)sig;
	tw_blast_stop();
}

static int parse_options(int argc, char **argv, struct tw_blast_cfg *c)
{
	unsigned long long v;
	double d;
	int ch, modes = 0;

	memset(c, 0, sizeof(*c));
	c->mode = TW_SCHED_MULT;
	c->rate = 1.0;
	c->loops = 1;
	optind = 1;
	opterr = 0;
	while ((ch = tw_cli_getopt(argc, argv, blast_opts)) != -1) {
		switch (ch) {
		case 'i': c->dev = optarg; break;
		case 'x': case 'p': case 'M':
			if (parse_rate(optarg, &c->rate))
				return usage_error("invalid rate '%s'", optarg);
			c->mode = ch == 'x' ? TW_SCHED_MULT : ch == 'p' ? TW_SCHED_PPS : TW_SCHED_MBPS;
			modes++;
			break;
		case 't': c->mode = TW_SCHED_TOP; modes++; break;
		case 'l':
			if (tw_cli_parse_u64(optarg, 0, UINT64_MAX, &v))
				return usage_error("invalid loop count '%s'", optarg);
			c->loops = v;
			break;
		case OPT_DURATION:
			if (parse_rate(optarg, &d) || d > 1e9)
				return usage_error("invalid duration '%s'", optarg);
			c->duration_ns = (uint64_t)(d * 1e9);
			break;
		case 'L':
			if (tw_cli_parse_u64(optarg, 1, UINT64_MAX, &v))
				return usage_error("invalid limit '%s'", optarg);
			c->limit = v;
			break;
		case 'K': c->preload = true; break;
		case OPT_UNIQUE_IP: c->unique_ip = true; break;
		case OPT_SRCMAC: case OPT_DSTMAC:
			if (tw_rw_parse_mac(optarg, ch == OPT_SRCMAC ? c->rw.srcmac : c->rw.dstmac))
				return usage_error("invalid MAC '%s' (aa:bb:cc:dd:ee:ff)", optarg);
			if (ch == OPT_SRCMAC)
				c->rw.has_srcmac = true;
			else
				c->rw.has_dstmac = true;
			break;
		case OPT_SRCIPMAP:
			if (tw_rw_parse_ipmap46(optarg, c->rw.srcmap, &c->rw.nsrcmap, c->rw.srcmap6,
						&c->rw.nsrcmap6))
				return usage_error("invalid --srcipmap '%s' (CIDR:CIDR,...)", optarg);
			break;
		case OPT_DSTIPMAP:
			if (tw_rw_parse_ipmap46(optarg, c->rw.dstmap, &c->rw.ndstmap, c->rw.dstmap6,
						&c->rw.ndstmap6))
				return usage_error("invalid --dstipmap '%s' (CIDR:CIDR,...)", optarg);
			break;
		case OPT_PORTMAP:
			if (tw_rw_parse_portmap(optarg, c->rw.port, &c->rw.nport))
				return usage_error("invalid --portmap '%s' (P:Q,A-B:C,...)", optarg);
			break;
		case OPT_FIXCSUM: c->rw.fixcsum = true; break;
		case OPT_MTU_TRUNC: c->rw.mtu_trunc = true; break;
		case OPT_NO_RESEG: c->no_reseg = true; break;
		case OPT_MTU:
			if (tw_cli_parse_u64(optarg, 68, 65535, &v))
				return usage_error("invalid MTU '%s' (68-65535)", optarg);
			c->mtu = (uint32_t)v;
			break;
		case OPT_ENGINE:
			if (tw_btx_engine_parse(optarg, &c->engine))
				return usage_error("unknown engine '%s' (afpacket, txring, xdp)", optarg);
			break;
		case OPT_BATCH:
			if (tw_cli_parse_u64(optarg, 1, TW_BTX_MAX_BATCH, &v))
				return usage_error("invalid batch '%s' (1-%u)", optarg, TW_BTX_MAX_BATCH);
			c->batch = (unsigned)v;
			break;
		case OPT_HELP:
			tw_cli_help(stdout, "blast", synopsis, blast_opts);
			return -1;
		default:
			return usage_error("unknown option or missing argument '%s'", argv[optind - 1]);
		}
	}
	if (modes > 1)
		return usage_error("give only one of -x, -p, -M, -t");
	if (!c->dev)
		return usage_error("no interface (-i IFACE)");
	if (optind >= argc)
		return usage_error("no pcap file given");
	c->files = argv + optind;
	c->nfiles = (unsigned)(argc - optind);
	return 0;
}

int tw_cmd_blast(int argc, char **argv)
{
	struct tw_blast_cfg cfg;
	struct tw_blast_stats st;
	struct sigaction sa;
	char err[512];
	int rc;

	rc = parse_options(argc, argv, &cfg);
	if (rc)
		return rc < 0 ? 0 : rc;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	rc = tw_blast_run(&cfg, &st, err, sizeof(err));
	if (rc < 0 && !st.engine) {
		tw_log(TW_LOG_ERR, 0, "%s", err);
		return 1;
	}
	tw_blast_report(stdout, &st, cfg.dev);
	fflush(stdout);
	if (rc < 0) {
		tw_log(TW_LOG_ERR, 0, "%s", err);
		return 1;
	}
	return 0;
}
