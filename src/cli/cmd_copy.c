/*
 * cmd_copy.c - `tcptwin copy` (raw mode): TCPCopy's options -> the replay
 * engine's config; connects to the intercepts, opens the capture source
 * (a pcap/pcapng file, a live interface, or a VXLAN/Geneve mirror), runs the
 * event loop with a progress line every few seconds, and prints the summary
 * (and --report JSON) at the end. No packet logic here.
 */
#include "cli/cli.h"
#include "capture/source.h"
#include "copy/engine.h"
#include "core/err.h"
#include "core/log.h"
#include "core/loop.h"
#include "relay/client.h"

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>

#define NS 1000000000ull
#define MS 1000000ull

enum {
	OPT_TOPSPEED = 256,
	OPT_LOOP,
	OPT_MAX_SESS,
	OPT_MAX_HELD,
	OPT_MAX_CONNECTING,
	OPT_REPORT,
	OPT_SECRET,
	OPT_PORT_RANGE,
	OPT_SETTLE,
	OPT_REQ_TIMEOUT,
	OPT_GAP,
	OPT_PROGRESS,
	OPT_WIRE_VERSION,
	OPT_MODE,
	OPT_SOURCE_IP,
	OPT_TRANSPARENT,
	OPT_DIFF,
	OPT_HELP,
};

static const struct tw_opt copy_opts[] = {
	{NULL, 'x', 1, "[IP:]PORT-TIP:TPORT[,...]", "replay sessions to server PORT against target TIP:TPORT (IPv6 in brackets; @MAC forms as TCPCopy)"},
	{NULL, 's', 1, "HOST[:PORT][,...]", "raw mode: the intercepts that relay the target's replies"},
	{"mode", OPT_MODE, 1, "raw|socket", "raw: forged client packets, replies via intercept (default); socket: kernel TCP connections"},
	{"source-ip", OPT_SOURCE_IP, 1, "ADDR[,ADDR]", "socket mode: connect from these local addresses, in turn (past 64k ports)"},
	{"transparent", OPT_TRANSPARENT, 0, NULL, "socket mode: keep the client addresses (IP_TRANSPARENT; replies must route back here)"},
	{NULL, 'p', 1, "PORT", "intercept port when -s names none (default 36524)"},
	{NULL, 'i', 1, "SOURCE", "pcap/pcapng FILE (offline), IFACE (live), or vxlan:[ADDR:]PORT / geneve:[ADDR:]PORT (mirror)"},
	{NULL, 'F', 1, "FILTER", "BPF filter for the captured traffic (default: tcp to the -x ports)"},
	{NULL, 'B', 1, "KIB", "live: capture ring in KiB (default 32768)"},
	{NULL, 'c', 1, "ADDR|RANGE|CIDR[,...]", "replay with these client addresses (a.b.c.x = .1-.254)"},
	{NULL, 'n', 1, "N", "replay every session N times (1-1023)"},
	{NULL, 'r', 1, "PERCENT", "replay this percentage of sessions (by client address and port)"},
	{NULL, 'a', 1, "SPEED", "offline: replay SPEED times faster than recorded (default 1)"},
	{"topspeed", OPT_TOPSPEED, 0, NULL, "offline: as fast as the target takes the sessions"},
	{"loop", OPT_LOOP, 1, "N", "offline: replay the file N times"},
	{NULL, 'M', 1, "MTU", "MTU of the packets sent (default: the route's)"},
	{NULL, 'o', 1, "DEV", "send at the link layer on DEV (AF_PACKET) instead of raw IP"},
	{NULL, 't', 1, "SECONDS", "after the input ends, the longest sessions may take to finish (30)"},
	{"max-sessions", OPT_MAX_SESS, 1, "N", "sessions alive at once (65536)"},
	{"max-held-bytes", OPT_MAX_HELD, 1, "SIZE", "captured bytes held for sessions (512m; k/m/g suffixes)"},
	{"max-connecting", OPT_MAX_CONNECTING, 1, "N", "files: start no session while N SYNs are unanswered (256)"},
	{"port-range", OPT_PORT_RANGE, 1, "LO-HI", "client ports used for replayed sessions (1024-65535)"},
	{"settle-ms", OPT_SETTLE, 1, "MS", "release the next request when the reply was quiet this long (50)"},
	{"request-timeout-ms", OPT_REQ_TIMEOUT, 1, "MS", "release the next request after waiting this long (2000)"},
	{"gap-ms", OPT_GAP, 1, "MS", "how long a hole in a captured stream may wait (3000)"},
	{"report", OPT_REPORT, 1, "FILE", "write the final report as JSON to FILE"},
	{"diff", OPT_DIFF, 1, "FILE", "each reply that differs from production's, as a JSON line"},
	{"secret-file", OPT_SECRET, 1, "FILE", "prove to intercept that we hold the secret in FILE"},
	{"progress", OPT_PROGRESS, 1, "SEC", "seconds between progress lines (5; 0 = none)"},
	{NULL, 'd', 0, NULL, "run in the background"},
	{NULL, 'l', 1, "FILE", "log to FILE"},
	{NULL, 'P', 1, "FILE", "write the process id to FILE"},
	{NULL, 'v', 0, NULL, "more log lines (repeat for debug)"},
	{"wire-version", OPT_WIRE_VERSION, 1, "N", "speak channel version N only (for testing)"},
	{"help", OPT_HELP, 0, NULL, "show this help"},
	{NULL, 0, 0, NULL, NULL},
};

static const char synopsis[] =
	"-x [IP:]PORT-TIP:TPORT (-s INTERCEPT | --mode socket) -i FILE|IFACE|vxlan:PORT [options]";

struct copy_opts {
	struct tw_copy_cfg cfg;
	struct tw_relay_client_cfg rc;
	struct tw_secret secret;
	const char *input, *filter, *report, *secret_file, *logfile, *pidfile, *diff;
	unsigned progress_s;
	uint32_t buffer_kb;
	bool daemonize;
	int verbose;
};

struct run {
	struct copy_opts *o;
	struct tw_loop *loop;
	struct tw_copy *copy;
	struct tw_relay_client *relay;
	struct tw_src *src;
	struct tw_src_cfg sc;
	bool failed;
	uint64_t started;
	struct tw_timer t_progress;
	char filter[512];
};

static int usage_error(const char *what, const char *arg)
{
	return tw_cli_usage_error("copy", synopsis, copy_opts, what, arg);
}

static int parse_size(const char *s, uint64_t *out)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s || v < 0 || !isfinite(v))
		return -EINVAL;
	switch (*end) {
	case 'k': case 'K': v *= 1024; end++; break;
	case 'm': case 'M': v *= 1024 * 1024; end++; break;
	case 'g': case 'G': v *= 1024.0 * 1024 * 1024; end++; break;
	default: break;
	}
	if (*end || v < 1 || v > 1e15)
		return -EINVAL;
	*out = (uint64_t)v;
	return 0;
}

static int parse_ms(const char *s, uint64_t *ns)
{
	unsigned long long v;

	if (tw_cli_parse_u64(s, 1, 86400000ull, &v))
		return -EINVAL;
	*ns = v * MS;
	return 0;
}

static int parse_sources(struct tw_copy_cfg *cfg, const char *s)
{
	while (*s) {
		const char *comma = strchr(s, ',');
		size_t len = comma ? (size_t)(comma - s) : strlen(s);

		if (cfg->nsource == TW_COPY_MAX_SOURCES ||
		    tw_ap_parse_ip(s, len, &cfg->source_ip[cfg->nsource]) < 0)
			return -EINVAL;
		cfg->nsource++;
		s += len;
		if (*s == ',')
			s++;
	}
	return cfg->nsource ? 0 : -EINVAL;
}

static int parse_options(int argc, char **argv, struct copy_opts *o)
{
	char err[512];
	unsigned long long v;
	uint64_t sz;
	int c;

	memset(o, 0, sizeof(*o));
	tw_copy_cfg_init(&o->cfg);
	tw_relay_client_cfg_init(&o->rc);
	o->progress_s = 5;
	optind = 1;
	opterr = 0;
	while ((c = tw_cli_getopt(argc, argv, copy_opts)) != -1) {
		err[0] = '\0';
		switch (c) {
		case 'x':
			if (tw_ap_parse_x(&o->cfg.ap, optarg, err, sizeof(err)) < 0)
				return usage_error(err, NULL);
			break;
		case 's': o->rc.servers = optarg; break;
		case 'p':
			if (tw_cli_parse_u64(optarg, 1, 65535, &v))
				return usage_error("-p: bad port", optarg);
			o->rc.port = (uint16_t)v;
			break;
		case 'i': o->input = optarg; break;
		case 'F': o->filter = optarg; break;
		case 'B':
			if (tw_cli_parse_u64(optarg, 1024, 4u << 20, &v))
				return usage_error("-B: ring size must be 1024..4194304 KiB", optarg);
			o->buffer_kb = (uint32_t)v;
			break;
		case 'c':
			if (tw_ap_parse_c(&o->cfg.ap, optarg, err, sizeof(err)) < 0)
				return usage_error(err, NULL);
			break;
		case 'n':
			if (tw_ap_parse_n(&o->cfg.ap, optarg, err, sizeof(err)) < 0)
				return usage_error(err, NULL);
			break;
		case 'r':
			if (tw_ap_parse_r(&o->cfg.ap, optarg, err, sizeof(err)) < 0)
				return usage_error(err, NULL);
			break;
		case OPT_PORT_RANGE:
			if (tw_ap_parse_ports(&o->cfg.ap, optarg, err, sizeof(err)) < 0)
				return usage_error(err, NULL);
			break;
		case 'a': {
			char *end;
			double s = strtod(optarg, &end);
			if (end == optarg || *end || !(s > 0) || s > 1e6)
				return usage_error("-a: speed must be a number above 0", optarg);
			o->cfg.speed = s;
			break;
		}
		case OPT_TOPSPEED: o->cfg.topspeed = true; break;
		case OPT_LOOP:
			if (tw_cli_parse_u64(optarg, 1, 1000000, &v))
				return usage_error("--loop: bad count", optarg);
			o->cfg.loops = (unsigned)v;
			break;
		case 'M':
			if (tw_cli_parse_u64(optarg, 576, 65535, &v))
				return usage_error("-M: MTU must be 576..65535", optarg);
			o->cfg.mtu = (uint32_t)v;
			break;
		case 'o': o->cfg.outdev = optarg; break;
		case 't':
			if (tw_cli_parse_u64(optarg, 1, 86400, &v))
				return usage_error("-t: bad number of seconds", optarg);
			o->cfg.drain_ns = v * NS;
			break;
		case OPT_MAX_SESS:
			if (tw_cli_parse_u64(optarg, 1, 1u << 24, &v))
				return usage_error("--max-sessions: bad count", optarg);
			o->cfg.max_sessions = (uint32_t)v;
			break;
		case OPT_MAX_HELD:
			if (parse_size(optarg, &sz) || sz < 65536)
				return usage_error("--max-held-bytes: bad size (at least 64k)", optarg);
			o->cfg.max_held_bytes = sz;
			break;
		case OPT_MAX_CONNECTING:
			if (tw_cli_parse_u64(optarg, 1, 1u << 24, &v))
				return usage_error("--max-connecting: bad count", optarg);
			o->cfg.max_connecting = (uint32_t)v;
			break;
		case OPT_SETTLE:
			if (parse_ms(optarg, &o->cfg.sess.settle_ns))
				return usage_error("--settle-ms: bad value", optarg);
			break;
		case OPT_REQ_TIMEOUT:
			if (parse_ms(optarg, &o->cfg.sess.req_timeout_ns))
				return usage_error("--request-timeout-ms: bad value", optarg);
			break;
		case OPT_GAP:
			if (parse_ms(optarg, &o->cfg.sess.gap_ns))
				return usage_error("--gap-ms: bad value", optarg);
			break;
		case OPT_REPORT: o->report = optarg; break;
		case OPT_SECRET: o->secret_file = optarg; break;
		case OPT_PROGRESS:
			if (tw_cli_parse_u64(optarg, 0, 86400, &v))
				return usage_error("--progress: bad number of seconds", optarg);
			o->progress_s = (unsigned)v;
			break;
		case 'd': o->daemonize = true; break;
		case 'l': o->logfile = optarg; break;
		case 'P': o->pidfile = optarg; break;
		case 'v': o->verbose++; break;
		case OPT_WIRE_VERSION:
			if (tw_cli_parse_u64(optarg, 1, 65535, &v))
				return usage_error("--wire-version: bad value", optarg);
			o->rc.ver_min = o->rc.ver_max = (uint16_t)v;
			break;
		case OPT_MODE:
			if (!strcmp(optarg, "socket"))
				o->cfg.socket_mode = true;
			else if (strcmp(optarg, "raw"))
				return usage_error("--mode: raw or socket", optarg);
			break;
		case OPT_SOURCE_IP:
			if (parse_sources(&o->cfg, optarg) < 0)
				return usage_error("--source-ip: bad address list", optarg);
			break;
		case OPT_TRANSPARENT: o->cfg.transparent = true; break;
		case OPT_DIFF: o->diff = optarg; break;
		case OPT_HELP:
			tw_cli_help(stdout, "copy", synopsis, copy_opts);
			return -1;
		default:
			return usage_error("unknown option or missing argument:", argv[optind - 1]);
		}
	}
	if (optind < argc)
		return usage_error("unexpected argument", argv[optind]);
	if (!o->cfg.ap.nrules)
		return usage_error("-x is required (e.g. -x 80-10.0.0.2:8080)", NULL);
	if (!o->rc.servers && !o->cfg.socket_mode)
		return usage_error("-s is required in raw mode: the intercept(s) that relay the target's "
				   "replies (or --mode socket)", NULL);
	if ((o->cfg.transparent || o->cfg.nsource) && !o->cfg.socket_mode)
		return usage_error("--source-ip and --transparent are for --mode socket", NULL);
	if (o->cfg.transparent && o->cfg.nsource)
		return usage_error("--transparent keeps the client addresses: no --source-ip with it", NULL);
	if (!o->input)
		return usage_error("-i is required: a pcap file, an interface, or vxlan:PORT", NULL);
	if (o->cfg.ap.rule[0].has_dst_mac) {
		/* TCPCopy's srcPort@MAC-targetIP:port@nextHopMAC: the next hop is given */
		if (!o->cfg.outdev)
			return usage_error("-x with @MAC needs -o DEV (send at the link layer)", NULL);
		o->cfg.has_dst_mac = true;
		memcpy(o->cfg.dst_mac, o->cfg.ap.rule[0].dst_mac, 6);
	}
	return 0;
}

/* Default capture filter: TCP to any -x server port (and from it, in socket mode). */
static void default_filter(const struct tw_copy_cfg *cfg, char *buf, size_t len)
{
	size_t n = (size_t)snprintf(buf, len, "tcp and (");

	/* socket mode also takes the server's replies, for the comparison */
	for (int i = 0; i < cfg->ap.nrules && n < len; i++)
		n += (size_t)snprintf(buf + n, len - n, "%s%sport %u", i ? " or " : "",
				      cfg->socket_mode ? "" : "dst ", cfg->ap.rule[i].src_port);
	if (n < len)
		n += (size_t)snprintf(buf + n, len - n, ")");
	/* socket mode captures outgoing packets too (the server's replies, when
	 * the online host is the server): never our own connections */
	for (int i = 0; cfg->socket_mode && i < cfg->ap.nrules && n < len; i++) {
		char a[64];
		tw_ap_ip_str(&cfg->ap.rule[i].dst_ip, a, sizeof(a));
		n += (size_t)snprintf(buf + n, len - n, " and not (host %s and port %u)", a,
				      cfg->ap.rule[i].dst_port);
	}
}

static void on_reply(void *arg, const struct tw_wire_reply *r)
{
	struct run *run = arg;

	if (run->copy)
		tw_copy_reply(run->copy, r);
}

static void on_fail(void *arg, const char *msg)
{
	struct run *run = arg;

	tw_log(TW_LOG_ERR, 0, "%s; stopping", msg);
	run->failed = true;
	tw_loop_stop(run->loop);
}

static int reg(void *arg, bool add, int ipver, const uint8_t client[16], uint16_t cport,
	       const uint8_t target[16], uint16_t tport)
{
	struct run *run = arg;

	return tw_relay_client_reg(run->relay, add, ipver, client, cport, target, tport);
}

static void reg_flush(void *arg)
{
	struct run *run = arg;

	tw_relay_client_flush(run->relay);
}

static struct tw_src *reopen(void *arg)
{
	struct run *run = arg;
	char err[256];

	tw_src_close(run->src);
	run->src = NULL;
	if (tw_src_open(&run->sc, &run->src, err, sizeof(err)) < 0) {
		tw_log(TW_LOG_ERR, 0, "%s", err);
		return NULL;
	}
	return run->src;
}

static void progress(struct run *run, FILE *out)
{
	struct tw_copy_stats st;
	struct timespec ts;
	uint64_t pos, size;
	char eta[48] = "";
	double el;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	el = (double)((uint64_t)ts.tv_sec * NS + (uint64_t)ts.tv_nsec - run->started) / 1e9;

	if (run->src && tw_src_progress(run->src, &pos, &size) == 0 && size && pos && el > 0) {
		double f = (double)pos / (double)size;
		if (f > 1)
			f = 1;
		snprintf(eta, sizeof(eta), " %3.0f%% of the file, ETA %.0fs,", f * 100,
			 el * (1 - f) / f);
	}
	tw_copy_get_stats(run->copy, &st);
	fprintf(out,
		"[%6.1fs]%s sessions %" PRIu64 " (live %zu, done %" PRIu64 ", lost %" PRIu64
		"), sent %" PRIu64 " pkts %" PRIu64 " B, retrans %" PRIu64 ", replies %" PRIu64
		" (%" PRIu64 " B), input %" PRIu64 " frames\n",
		el, eta, st.sessions, tw_copy_live_sessions(run->copy), st.sess.outcomes[TW_OUT_DONE],
		st.sess.outcomes[TW_OUT_RESET] + st.sess.outcomes[TW_OUT_GAP] +
			st.sess.outcomes[TW_OUT_TIMEOUT] + st.sess.outcomes[TW_OUT_NO_SYNACK] +
			st.sess.outcomes[TW_OUT_SEND_ERROR] + st.sess.outcomes[TW_OUT_TRUNCATED],
		st.sess.pkts_sent, st.sess.bytes_sent, st.sess.retrans, st.replies, st.sess.reply_bytes,
		st.frames);
	fflush(out);
}

static void on_progress(struct tw_timer *t, uint64_t now, void *arg)
{
	struct run *run = arg;

	(void)t;
	(void)now;
	progress(run, tw_log_stream());
	tw_loop_timer_after(run->loop, &run->t_progress, run->o->progress_s * NS);
}

static int write_report(struct run *run)
{
	FILE *f = fopen(run->o->report, "w");
	int rc;

	if (!f) {
		fprintf(stderr, "tcptwin copy: --report %s: %s\n", run->o->report, strerror(errno));
		return 1;
	}
	rc = tw_copy_write_json(run->copy, f);
	if (fclose(f) || rc) {
		fprintf(stderr, "tcptwin copy: --report %s: write error\n", run->o->report);
		return 1;
	}
	return 0;
}

static int open_input(struct run *run, bool *live)
{
	struct copy_opts *o = run->o;
	struct tw_src_cfg *sc = &run->sc;
	struct stat stt;
	char err[512] = "";
	int rc;

	memset(sc, 0, sizeof(*sc));
	sc->spec = o->input;
	*live = !(strcmp(o->input, "-") == 0 ||
		  (stat(o->input, &stt) == 0 && !S_ISDIR(stt.st_mode) &&
		   !(strncmp(o->input, "vxlan:", 6) == 0 || strncmp(o->input, "geneve:", 7) == 0)));
	sc->kind = *live ? TW_SRC_AUTO : TW_SRC_FILE;
	if (o->filter) {
		sc->filter = o->filter;
	} else if (*live && strncmp(o->input, "vxlan:", 6) && strncmp(o->input, "geneve:", 7)) {
		default_filter(&o->cfg, run->filter, sizeof(run->filter));
		sc->filter = run->filter;
	}
	sc->nano = true;
	sc->promisc = true;
	/* frames up to 64 KiB (GRO/TSO super-packets; IPv4 cannot say more): 128 KiB
	 * blocks, 256 of them in the 32 MiB ring, each handed over within 10 ms */
	sc->snaplen = 65535 + 512;
	sc->buffer_kb = o->buffer_kb;
	sc->block_tov_ms = 10;
	/* raw mode: never our own forged packets; socket mode: the filter keeps
	 * our connections out, and the server's replies may be outgoing here */
	sc->ignore_outgoing = !o->cfg.socket_mode;
	rc = tw_src_open(sc, &run->src, err, sizeof(err));
	if (rc < 0) {
		fprintf(stderr, "tcptwin copy: %s\n", *err ? err : tw_strerror(rc));
		return 1;
	}
	return 0;
}

int tw_cmd_copy(int argc, char **argv)
{
	struct copy_opts o;
	struct run run;
	struct tw_copy_registrar registrar;
	char err[512] = "";
	bool live;
	int rc, status = 0;

	rc = parse_options(argc, argv, &o);
	if (rc)
		return rc < 0 ? 0 : rc;
	if (o.verbose)
		tw_log_set_level(o.verbose > 1 ? TW_LOG_DEBUG : TW_LOG_INFO);
	if (o.secret_file) {
		if (tw_secret_load(&o.secret, o.secret_file, err, sizeof(err)) < 0) {
			fprintf(stderr, "tcptwin copy: %s\n", err);
			return 1;
		}
		o.rc.secret = &o.secret;
	}
	memset(&run, 0, sizeof(run));
	run.o = &o;
	if (o.diff && !(o.cfg.diff = fopen(o.diff, "w"))) {
		fprintf(stderr, "tcptwin copy: --diff %s: %s\n", o.diff, strerror(errno));
		return 1;
	}
	run.loop = tw_loop_new(0);
	if (!run.loop) {
		fprintf(stderr, "tcptwin copy: event loop: %s\n", strerror(errno));
		return 1;
	}
	/* a bad file fails before intercept hears of us; a pipe or a live source
	 * is opened after (opening a FIFO waits for its writer) */
	struct stat in_st;
	bool in_first = stat(o.input, &in_st) == 0 && S_ISREG(in_st.st_mode);
	if (in_first && open_input(&run, &live)) {
		status = 1;
		goto out;
	}
	if (o.cfg.socket_mode) {
		/* a descriptor per session */
		struct rlimit rl;
		rlim_t want = (rlim_t)o.cfg.max_sessions + 1024;
		if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < want) {
			rl.rlim_cur = want;
			if (rl.rlim_max < want)
				rl.rlim_max = want;
			if (setrlimit(RLIMIT_NOFILE, &rl) < 0)
				tw_log(TW_LOG_WARN, -errno, "cannot raise the open file limit to %llu",
				       (unsigned long long)want);
		}
	} else {
		o.rc.payload = 64; /* the first reply bytes: status lines, for the comparison */
		o.rc.on_reply = on_reply;
		o.rc.on_fail = on_fail;
		o.rc.arg = &run;
		rc = tw_relay_client_open(run.loop, &o.rc, &run.relay, err, sizeof(err));
		if (rc < 0) {
			fprintf(stderr, "tcptwin copy: %s\n", err);
			status = 1;
			goto out;
		}
	}
	registrar = (struct tw_copy_registrar){.reg = reg, .flush = reg_flush, .arg = &run};
	rc = tw_copy_new(run.loop, &o.cfg, o.cfg.socket_mode ? NULL : &registrar, &run.copy, err,
			 sizeof(err));
	if (rc < 0) {
		fprintf(stderr, "tcptwin copy: %s\n", *err ? err : tw_strerror(rc));
		status = 1;
		goto out;
	}
	if (!in_first && open_input(&run, &live)) {
		status = 1;
		goto out;
	}
	if ((status = tw_cli_service("copy", o.logfile, o.daemonize, o.pidfile)))
		goto out;
	rc = tw_copy_start(run.copy, run.src, live, live ? NULL : reopen, &run);
	if (rc < 0) {
		fprintf(stderr, "tcptwin copy: %s: %s\n", o.input, tw_strerror(rc));
		status = 1;
		goto out;
	}
	tw_cli_signals(run.loop);
	{
		/* the loop's cached clock still holds the time it was created */
		struct timespec ts;
		clock_gettime(CLOCK_MONOTONIC, &ts);
		run.started = (uint64_t)ts.tv_sec * NS + (uint64_t)ts.tv_nsec;
	}
	tw_timer_init(&run.t_progress, on_progress, &run);
	if (o.progress_s)
		tw_loop_timer_after(run.loop, &run.t_progress, o.progress_s * NS);
	tw_log(TW_LOG_NOTICE, 0, "replaying %s %s", live ? "live from" : "file", o.input);
	int stops = 0;
	while (!run.failed && !tw_copy_finished(run.copy)) {
		if (tw_cli_sig_stop() > stops) {
			stops = tw_cli_sig_stop();
			if (stops == 1) {
				tw_log(TW_LOG_NOTICE, 0, "stopping: sessions finish what they have (again to abort)");
				tw_copy_stop_input(run.copy);
			} else {
				break;
			}
		}
		if (tw_cli_sig_stats())
			progress(&run, tw_log_stream());
		rc = tw_loop_run_once(run.loop, true);
		if (rc < 0 && rc != -EINTR) {
			fprintf(stderr, "tcptwin copy: event loop: %s\n", tw_strerror(rc));
			status = 1;
			break;
		}
	}
	tw_loop_timer_cancel(run.loop, &run.t_progress);
	if (run.failed)
		status = 1;
	if (run.relay)
		tw_relay_client_flush(run.relay);
	tw_copy_print_summary(run.copy, tw_log_stream());
	if (o.report && write_report(&run))
		status = 1;
out:
	tw_copy_free(run.copy);
	tw_src_close(run.src);
	tw_relay_client_close(run.relay);
	tw_loop_free(run.loop);
	if (o.cfg.diff && fclose(o.cfg.diff) != 0) {
		fprintf(stderr, "tcptwin copy: --diff %s: write error\n", o.diff);
		status = 1;
	}
	return status;
}
