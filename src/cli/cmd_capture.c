/*
 * cmd_capture.c - `tcptwin capture`: tcpdump's job. Options -> a config,
 * then a loop that reads frames from a capture source and prints them in
 * tcpdump's format or writes them to pcap (with rotation), optionally
 * decapsulating tunnels. Prints tcpdump's statistics lines on exit, on
 * SIGUSR1 (one line, and goes on); SIGUSR2 flushes -w output.
 *
 * No packet parsing lives here: decode, print and write are the modules'.
 * With --decap, a filter expression applies to the inner packet (it is
 * evaluated in user space by libpcap on the inner IP packet); without it, to
 * the frame as captured (in the kernel for live sources).
 */
#include "cli/cli.h"
#include "capture/print.h"
#include "capture/source.h"
#include "core/err.h"
#include "core/log.h"
#include "pkt/decode.h"
#include "send/sink_pcap.h"

#include <errno.h>
#include <getopt.h>
#include <pcap/pcap.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define BATCH 64
#define DEFAULT_SNAPLEN 262144u

enum {
	OPT_TSPREC = 256,
	OPT_MICRO,
	OPT_NANO,
	OPT_DECAP,
	OPT_VNI,
	OPT_VXLAN_PORT,
	OPT_GENEVE_PORT,
	OPT_HELP,
};

static const struct tw_opt capture_opts[] = {
	{NULL, 'i', 1, "IFACE", "capture live on IFACE, or receive a mirror: vxlan:[ADDR:]PORT, geneve:[ADDR:]PORT"},
	{NULL, 'r', 1, "FILE", "read packets from a pcap or pcapng FILE ('-' = stdin)"},
	{NULL, 'w', 1, "FILE", "write packets to pcap FILE ('-' = stdout) instead of printing them"},
	{NULL, 'c', 1, "COUNT", "exit after COUNT packets"},
	{NULL, 's', 1, "SNAPLEN", "bytes kept per packet (default 262144; 0 = default)"},
	{NULL, 'F', 1, "FILE", "read the filter expression from FILE"},
	{NULL, 'C', 1, "SIZE", "with -w: new file when the current one exceeds SIZE million bytes (k, m, g suffixes: KiB, MiB, GiB)"},
	{NULL, 'G', 1, "SEC", "with -w: new file every SEC seconds; FILE is a strftime pattern"},
	{NULL, 'W', 1, "N", "with -C: ring of N files; with -G: stop after N files"},
	{NULL, 'B', 1, "KIB", "capture buffer size in KiB (default 32768)"},
	{NULL, 'U', 0, NULL, "with -w: flush after every packet"},
	{NULL, 'l', 0, NULL, "line-buffered output"},
	{NULL, 'n', 0, NULL, "do not resolve names (always the case; accepted for tcpdump users)"},
	{NULL, 'S', 0, NULL, "print absolute TCP sequence numbers"},
	{NULL, 'p', 0, NULL, "do not put the interface in promiscuous mode"},
	{"time-stamp-precision", OPT_TSPREC, 1, "micro|nano", "time stamp precision of output (print and -w)"},
	{"micro", OPT_MICRO, 0, NULL, "same as --time-stamp-precision=micro"},
	{"nano", OPT_NANO, 0, NULL, "same as --time-stamp-precision=nano"},
	{"decap", OPT_DECAP, 0, NULL, "print or write the inner packet of a tunnel (written as raw IP, LINKTYPE_RAW)"},
	{"vni", OPT_VNI, 1, "N", "keep only tunnelled packets with this VNI / GRE key / ERSPAN session"},
	{"vxlan-port", OPT_VXLAN_PORT, 1, "PORT", "UDP port recognised as VXLAN (default 4789)"},
	{"geneve-port", OPT_GENEVE_PORT, 1, "PORT", "UDP port recognised as Geneve (default 6081)"},
	{"help", OPT_HELP, 0, NULL, "show this help"},
	{NULL, 0, 0, NULL, NULL},
};

static const char synopsis[] = "[-i IFACE | -r FILE] [-w FILE] [options] [filter expression]";

struct capture_cfg {
	const char *iface;
	const char *rfile;
	const char *wfile;
	const char *filter_file;
	char *filter;            /* owned */
	unsigned long long count;
	uint32_t snaplen;
	uint64_t rotate_bytes;
	uint32_t rotate_secs;
	uint32_t max_files;
	uint32_t buffer_kb;
	bool packet_buffered;
	bool line_buffered;
	bool absolute_seq;
	bool nano;
	bool no_promisc;
	bool decap;
	bool have_vni;
	uint32_t vni;
	struct tw_decode_cfg dcfg;
};

struct capture_counts {
	uint64_t captured;       /* printed or written */
	uint64_t truncated;      /* inner packets flagged truncated (--decap) */
	uint64_t not_ip;         /* --decap -w: frames without an IP packet, skipped */
};

static volatile sig_atomic_t sig_stop, sig_stats, sig_flush;
static struct tw_src *sig_src;

static void on_signal(int sig)
{
	if (sig == SIGUSR1) {
		sig_stats = 1;
	} else if (sig == SIGUSR2) {
		sig_flush = 1;
	} else {
		sig_stop = 1;
	}
	if (sig_src)
		tw_src_break(sig_src);
}

static int usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static int usage_error(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "tcptwin capture: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n");
	tw_cli_help(stderr, "capture", synopsis, capture_opts);
	return 2;
}

/* tcpdump's -C: millions of bytes, or k/m/g suffixes in 1024 units. */
static int parse_size(const char *s, uint64_t *out)
{
	char *end;
	unsigned long long v;
	uint64_t mult = 1000000;

	if (!*s || *s == '-')
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || end == s || v == 0)
		return -EINVAL;
	if (*end) {
		switch (*end) {
		case 'k': case 'K': mult = 1024; break;
		case 'm': case 'M': mult = 1024 * 1024; break;
		case 'g': case 'G': mult = 1024ull * 1024 * 1024; break;
		default: return -EINVAL;
		}
		if (end[1])
			return -EINVAL;
	}
	if (v > UINT64_MAX / mult)
		return -EINVAL;
	*out = v * mult;
	return 0;
}

static char *read_filter_file(const char *path, char *err, size_t errlen)
{
	FILE *f = fopen(path, "r");
	char *buf = NULL;
	size_t len = 0;
	long sz;

	if (!f) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return NULL;
	}
	if (fseek(f, 0, SEEK_END) == 0 && (sz = ftell(f)) >= 0 && sz < (1 << 20) &&
	    fseek(f, 0, SEEK_SET) == 0) {
		buf = malloc((size_t)sz + 1);
		if (buf) {
			len = fread(buf, 1, (size_t)sz, f);
			buf[len] = '\0';
			/* tcpdump treats '#' to end of line as a comment */
			for (char *p = buf, *h; (h = strchr(p, '#')); p = h) {
				while (*h && *h != '\n')
					*h++ = ' ';
			}
		}
	} else {
		snprintf(err, errlen, "%s: not a readable filter file", path);
	}
	fclose(f);
	if (!buf && !*err)
		snprintf(err, errlen, "%s: out of memory", path);
	return buf;
}

static char *join_args(int argc, char **argv)
{
	size_t len = 1;
	char *s;

	for (int i = 0; i < argc; i++)
		len += strlen(argv[i]) + 1;
	s = malloc(len);
	if (!s)
		return NULL;
	s[0] = '\0';
	for (int i = 0; i < argc; i++) {
		if (i)
			strcat(s, " ");
		strcat(s, argv[i]);
	}
	return s;
}

static int parse_options(int argc, char **argv, struct capture_cfg *cfg)
{
	unsigned long long v;
	int c;

	memset(cfg, 0, sizeof(*cfg));
	tw_decode_cfg_init(&cfg->dcfg);
	cfg->snaplen = DEFAULT_SNAPLEN;
	optind = 1;
	opterr = 0;
	while ((c = tw_cli_getopt(argc, argv, capture_opts)) != -1) {
		switch (c) {
		case 'i': cfg->iface = optarg; break;
		case 'r': cfg->rfile = optarg; break;
		case 'w': cfg->wfile = optarg; break;
		case 'F': cfg->filter_file = optarg; break;
		case 'c':
			if (tw_cli_parse_u64(optarg, 1, UINT64_MAX, &cfg->count))
				return usage_error("invalid packet count '%s'", optarg);
			break;
		case 's':
			if (tw_cli_parse_u64(optarg, 0, DEFAULT_SNAPLEN, &v))
				return usage_error("invalid snaplen '%s'", optarg);
			cfg->snaplen = v ? (uint32_t)v : DEFAULT_SNAPLEN;
			break;
		case 'C':
			if (parse_size(optarg, &cfg->rotate_bytes))
				return usage_error("invalid file size '%s'", optarg);
			break;
		case 'G':
			if (tw_cli_parse_u64(optarg, 1, UINT32_MAX, &v))
				return usage_error("invalid rotation interval '%s'", optarg);
			cfg->rotate_secs = (uint32_t)v;
			break;
		case 'W':
			if (tw_cli_parse_u64(optarg, 1, 1000000, &v))
				return usage_error("invalid number of files '%s'", optarg);
			cfg->max_files = (uint32_t)v;
			break;
		case 'B':
			if (tw_cli_parse_u64(optarg, 1, 4u << 20, &v))
				return usage_error("invalid buffer size '%s'", optarg);
			cfg->buffer_kb = (uint32_t)v;
			break;
		case 'U': cfg->packet_buffered = true; break;
		case 'l': cfg->line_buffered = true; break;
		case 'n': break;
		case 'S': cfg->absolute_seq = true; break;
		case 'p': cfg->no_promisc = true; break;
		case OPT_TSPREC:
			if (!strcmp(optarg, "nano"))
				cfg->nano = true;
			else if (!strcmp(optarg, "micro"))
				cfg->nano = false;
			else
				return usage_error("unknown time stamp precision '%s' (micro or nano)", optarg);
			break;
		case OPT_MICRO: cfg->nano = false; break;
		case OPT_NANO: cfg->nano = true; break;
		case OPT_DECAP: cfg->decap = true; break;
		case OPT_VNI:
			if (tw_cli_parse_u64(optarg, 0, 0xffffffffu, &v))
				return usage_error("invalid VNI '%s'", optarg);
			cfg->have_vni = true;
			cfg->vni = (uint32_t)v;
			break;
		case OPT_VXLAN_PORT:
			if (tw_cli_parse_u64(optarg, 0, 65535, &v))
				return usage_error("invalid port '%s'", optarg);
			cfg->dcfg.vxlan_port = (uint16_t)v;
			break;
		case OPT_GENEVE_PORT:
			if (tw_cli_parse_u64(optarg, 0, 65535, &v))
				return usage_error("invalid port '%s'", optarg);
			cfg->dcfg.geneve_port = (uint16_t)v;
			break;
		case OPT_HELP:
			tw_cli_help(stdout, "capture", synopsis, capture_opts);
			return -1;
		default:
			if (optopt && optopt < 256)
				return usage_error("invalid option or missing argument: -%c", optopt);
			return usage_error("invalid option '%s'", argv[optind - 1]);
		}
	}
	if (cfg->iface && cfg->rfile)
		return usage_error("%s", "-i and -r cannot be used together");
	if ((cfg->rotate_bytes || cfg->rotate_secs || cfg->max_files) && !cfg->wfile)
		return usage_error("%s", "-C, -G and -W need -w");
	if (cfg->max_files && !cfg->rotate_bytes && !cfg->rotate_secs)
		return usage_error("%s", "-W needs -C or -G");
	cfg->dcfg.decap = cfg->decap;
	if (cfg->filter_file) {
		char err[256] = "";
		cfg->filter = read_filter_file(cfg->filter_file, err, sizeof(err));
		if (!cfg->filter) {
			fprintf(stderr, "tcptwin capture: %s\n", err);
			return 1;
		}
	} else if (optind < argc) {
		cfg->filter = join_args(argc - optind, argv + optind);
		if (!cfg->filter)
			return 1;
	}
	return 0;
}

/* The first up, non-loopback interface, as tcpdump picks one without -i. */
static const char *default_iface(char *buf, size_t len)
{
	char err[PCAP_ERRBUF_SIZE];
	pcap_if_t *all = NULL;
	const char *name = NULL;

	if (pcap_findalldevs(&all, err) != 0)
		return NULL;
	for (pcap_if_t *d = all; d; d = d->next) {
		if ((d->flags & PCAP_IF_LOOPBACK) || !(d->flags & PCAP_IF_UP) || !strcmp(d->name, "any"))
			continue;
		snprintf(buf, len, "%s", d->name);
		name = buf;
		break;
	}
	pcap_freealldevs(all);
	return name;
}

static void print_stats(const struct capture_counts *cc, struct tw_src *src, bool one_line)
{
	struct tw_src_stats st;
	unsigned long long cap = cc->captured;

	memset(&st, 0, sizeof(st));
	(void)tw_src_stats(src, &st);
	if (one_line) {
		fprintf(stderr, "tcptwin: %llu packet%s captured, %llu packet%s received by filter, %llu packet%s dropped by kernel\n",
			cap, cap == 1 ? "" : "s", (unsigned long long)st.filtered,
			st.filtered == 1 ? "" : "s", (unsigned long long)st.dropped,
			st.dropped == 1 ? "" : "s");
		return;
	}
	fprintf(stderr, "%llu packet%s captured\n", cap, cap == 1 ? "" : "s");
	fprintf(stderr, "%llu packet%s received by filter\n", (unsigned long long)st.filtered,
		st.filtered == 1 ? "" : "s");
	fprintf(stderr, "%llu packet%s dropped by kernel\n", (unsigned long long)st.dropped,
		st.dropped == 1 ? "" : "s");
	if (st.ifdropped)
		fprintf(stderr, "%llu packet%s dropped by interface\n",
			(unsigned long long)st.ifdropped, st.ifdropped == 1 ? "" : "s");
	if (cc->truncated)
		fprintf(stderr, "%llu truncated packet%s (inner packet shorter than its IP length)\n",
			(unsigned long long)cc->truncated, cc->truncated == 1 ? "" : "s");
}

struct run {
	struct capture_cfg *cfg;
	struct tw_src *src;
	struct tw_printer *pr;
	struct tw_pcapw *w;
	int linktype;
	bool inner_filter;           /* filter evaluated on the inner packet */
	struct bpf_program prog;
	bool have_prog;
	struct capture_counts cc;
	char line[4096];
};

/* Decide what to do with one frame: returns 1 to stop (-c or -W reached),
 * 0 to go on, <0 on a write error. */
static int handle_frame(struct run *r, const struct tw_frame *f)
{
	const struct capture_cfg *cfg = r->cfg;
	const uint8_t *data = f->data;
	uint32_t caplen = f->caplen, wirelen = f->wirelen;
	struct tw_pkt pkt;
	int rc = 0;

	if (cfg->decap || cfg->have_vni) {
		rc = tw_pkt_decode(&cfg->dcfg, r->linktype, f->data, f->caplen, f->wirelen, &pkt);
		if (cfg->have_vni && (pkt.tun.encap == TW_ENCAP_NONE || !pkt.tun.has_vni ||
				      pkt.tun.vni != cfg->vni))
			return 0;
		if (cfg->decap && rc == 0 && pkt.tun.encap != TW_ENCAP_NONE && pkt.truncated)
			r->cc.truncated++;
		if (cfg->decap && (cfg->wfile || r->inner_filter)) {
			if (rc != 0 || !pkt.l3) {
				r->cc.not_ip++;
				return 0;
			}
			data = pkt.l3;
			caplen = (uint32_t)pkt.l3_caplen;
			wirelen = (uint32_t)(pkt.ip_len > pkt.l3_caplen ? pkt.ip_len : pkt.l3_caplen);
		}
	}
	if (r->inner_filter && r->have_prog) {
		struct pcap_pkthdr h = {.caplen = caplen, .len = wirelen};
		if (!pcap_offline_filter(&r->prog, &h, data))
			return 0;
	}
	r->cc.captured++;
	if (r->w) {
		rc = data == f->data ? tw_pcapw_write(r->w, f) : tw_pcapw_write_data(r->w, f, data, caplen);
		if (rc < 0)
			return rc;
		if (rc == 1) {
			fprintf(stderr, "Maximum file limit reached: %u\n", cfg->max_files);
			return 1;
		}
	} else {
		size_t n = tw_print_frame(r->pr, r->linktype, f, r->line, sizeof(r->line));
		fwrite(r->line, 1, n, stdout);
	}
	if (cfg->count && r->cc.captured >= cfg->count)
		return 1;
	return 0;
}

static int open_output(struct run *r)
{
	struct capture_cfg *cfg = r->cfg;
	char err[512] = "";
	int rc;

	if (cfg->wfile) {
		struct tw_pcapw_cfg wc = {
			.path = cfg->wfile,
			.linktype = cfg->decap ? TW_LT_RAW : r->linktype,
			.snaplen = tw_src_snaplen(r->src),
			.nano = cfg->nano,
			.rotate_bytes = cfg->rotate_bytes,
			.rotate_secs = cfg->rotate_secs,
			.max_files = cfg->max_files,
			.packet_buffered = cfg->packet_buffered,
		};
		rc = tw_pcapw_open(&wc, &r->w, err, sizeof(err));
		if (rc < 0) {
			fprintf(stderr, "tcptwin capture: %s\n", *err ? err : tw_strerror(rc));
			return 1;
		}
		return 0;
	}
	struct tw_print_cfg pc = {
		.absolute_seq = cfg->absolute_seq,
		.nano = cfg->nano,
		.decap = cfg->decap,
		.dcfg = &cfg->dcfg,
	};
	r->pr = tw_print_new(&pc);
	if (!r->pr) {
		fprintf(stderr, "tcptwin capture: %s\n", strerror(errno));
		return 1;
	}
	if (cfg->line_buffered)
		setvbuf(stdout, NULL, _IOLBF, 0);
	return 0;
}

/* With --decap the expression is compiled for raw IP and run on the inner packet. */
static int compile_inner_filter(struct run *r)
{
	pcap_t *dead = pcap_open_dead(DLT_RAW, (int)r->cfg->snaplen);

	if (!dead)
		return 1;
	if (pcap_compile(dead, &r->prog, r->cfg->filter, 1, PCAP_NETMASK_UNKNOWN) != 0) {
		fprintf(stderr, "tcptwin capture: bad filter expression '%s': %s\n", r->cfg->filter,
			pcap_geterr(dead));
		pcap_close(dead);
		return 1;
	}
	pcap_close(dead);
	r->have_prog = true;
	return 0;
}

static void install_signals(struct tw_src *src)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sig_src = src;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGUSR1, &sa, NULL);
	sigaction(SIGUSR2, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
}

static int capture_loop(struct run *r, bool live)
{
	struct tw_frame frames[BATCH];
	int rc = 0, n;

	for (;;) {
		if (sig_stop)
			break;
		if (sig_stats) {
			sig_stats = 0;
			fflush(stdout);
			print_stats(&r->cc, r->src, true);
		}
		if (sig_flush) {
			sig_flush = 0;
			if (r->w)
				tw_pcapw_flush(r->w);
		}
		n = tw_src_next(r->src, frames, BATCH, live ? 200 : -1);
		if (n == -TW_EEOF)
			break;
		if (n == -EINTR || n == -EAGAIN)
			continue;
		if (n < 0) {
			fflush(stdout);
			fprintf(stderr, "tcptwin capture: %s\n",
				*tw_src_error(r->src) ? tw_src_error(r->src) : tw_strerror(n));
			return 1;
		}
		for (int i = 0; i < n; i++) {
			rc = handle_frame(r, &frames[i]);
			if (rc < 0) {
				fprintf(stderr, "tcptwin capture: writing %s: %s\n", r->cfg->wfile,
					tw_strerror(rc));
				return 1;
			}
			if (rc == 1)
				return 0;
		}
	}
	return 0;
}

int tw_cmd_capture(int argc, char **argv)
{
	struct capture_cfg cfg;
	struct run r;
	struct tw_src_cfg sc;
	char err[512] = "", ifbuf[64];
	bool live;
	int rc;

	rc = parse_options(argc, argv, &cfg);
	if (rc)
		return rc < 0 ? 0 : rc;
	memset(&r, 0, sizeof(r));
	r.cfg = &cfg;

	memset(&sc, 0, sizeof(sc));
	live = cfg.rfile == NULL;
	if (live && !cfg.iface) {
		cfg.iface = default_iface(ifbuf, sizeof(ifbuf));
		if (!cfg.iface) {
			fprintf(stderr, "tcptwin capture: no suitable interface found; use -i IFACE or -r FILE\n");
			free(cfg.filter);
			return 1;
		}
	}
	sc.kind = live ? TW_SRC_AUTO : TW_SRC_FILE;
	sc.spec = live ? cfg.iface : cfg.rfile;
	sc.snaplen = cfg.snaplen;
	sc.nano = cfg.nano;
	sc.promisc = !cfg.no_promisc;
	sc.buffer_kb = cfg.buffer_kb;
	/* printing live wants low latency; writing wants efficiency */
	sc.block_tov_ms = cfg.wfile ? 100 : 10;
	r.inner_filter = cfg.decap && cfg.filter;
	sc.filter = r.inner_filter ? NULL : cfg.filter;

	rc = tw_src_open(&sc, &r.src, err, sizeof(err));
	if (rc < 0) {
		fprintf(stderr, "tcptwin capture: %s\n", *err ? err : tw_strerror(rc));
		free(cfg.filter);
		return 1;
	}
	r.linktype = tw_src_linktype(r.src);
	if (r.inner_filter && compile_inner_filter(&r)) {
		rc = 1;
		goto out;
	}
	if (open_output(&r)) {
		rc = 1;
		goto out;
	}
	install_signals(r.src);

	if (!live) {
		fprintf(stderr, "reading from file %s, link-type %s, snapshot length %u\n", cfg.rfile,
			tw_print_linktype_name(r.linktype), tw_src_snaplen(r.src));
	} else if (!cfg.wfile) {
		fprintf(stderr, "tcptwin: verbose output suppressed, use -v[v]... for full protocol decode\n"
				"listening on %s, link-type %s, snapshot length %u bytes\n",
			cfg.iface, tw_print_linktype_name(r.linktype), tw_src_snaplen(r.src));
	} else {
		fprintf(stderr, "tcptwin: listening on %s, link-type %s, snapshot length %u bytes\n",
			cfg.iface, tw_print_linktype_name(r.linktype), tw_src_snaplen(r.src));
	}

	rc = capture_loop(&r, live);
	fflush(stdout);
	if (live) {
		/* tcpdump prints a newline before the statistics when interrupted on a tty */
		print_stats(&r.cc, r.src, false);
	} else if (r.cc.truncated) {
		fprintf(stderr, "%llu truncated packet%s (inner packet shorter than its IP length)\n",
			(unsigned long long)r.cc.truncated, r.cc.truncated == 1 ? "" : "s");
	}
out:
	sig_src = NULL;
	if (r.w)
		tw_pcapw_close(r.w);
	if (r.pr)
		tw_print_free(r.pr);
	if (r.have_prog)
		pcap_freecode(&r.prog);
	tw_src_close(r.src);
	free(cfg.filter);
	return rc;
}
