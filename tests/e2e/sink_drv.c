/*
 * sink_drv.c - test driver for the packet sinks and route lookups
 * (tests/e2e/test_sink.sh compiles it against libtw.a). Run it only inside a
 * test namespace: it forges packets.
 *
 *   sink_drv route DST
 *       the route to DST: "oif=N dev=NAME type=N gateway=A|- nexthop=A
 *       prefsrc=A|- route_mtu=N dev_mtu=N mtu=N"
 *   sink_drv neigh DEV ADDR [WAIT_MS]
 *       resolve ADDR's MAC on DEV: "mac=xx:xx:xx:xx:xx:xx state=0xNN"
 *   sink_drv send -s SRC -t DST [-e rawip|afpacket] [-o DEV] [-m MAC]
 *                 [-n COUNT] [-b BATCH] [-l PAYLOAD] [-p DPORT] [-P SPORT] [-x] [-r] [-q]
 *       forge COUNT TCP SYNs (MSS 1460, PAYLOAD bytes of data) from SRC,
 *       SRC+1, ... ports SPORT, SPORT+1, ... to DST:DPORT; -x puts one
 *       malformed packet (IP version 5) in the middle of the first batch;
 *       -r resends what failed with EAGAIN/ENOBUFS (flag TW_SINK_PKT_RETRY,
 *       every 50 ms, at most 200 rounds) as the session engine will, and
 *       prints "first=E,E,..." (the results of the first pass) too;
 *       -q sets PACKET_QDISC_BYPASS (afpacket).
 *       Prints "results=E,E,..." (each packet's err, up to 64) and the sink's
 *       counters as key=value.
 * Exit 0 when the command ran (send errors are results, not failures), 1 on
 * a setup error, 2 on bad usage. Not part of tcptwin.
 */
#include "pkt/decode.h"
#include "pkt/forge.h"
#include "send/route.h"
#include "send/sink.h"

#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static int usage(void)
{
	fprintf(stderr, "usage: sink_drv route DST | neigh DEV ADDR [WAIT_MS] |\n"
			"       send -s SRC -t DST [-e ENGINE] [-o DEV] [-m MAC] [-n N] [-b B]"
			" [-l LEN] [-p DPORT] [-P SPORT] [-x]\n");
	return 2;
}

static int parse_addr(const char *s, uint8_t out[16])
{
	if (inet_pton(AF_INET, s, out) == 1)
		return AF_INET;
	if (inet_pton(AF_INET6, s, out) == 1)
		return AF_INET6;
	return 0;
}

static const char *fmt_addr(int family, const uint8_t *a, char *buf, size_t len)
{
	return inet_ntop(family, a, buf, (socklen_t)len) ? buf : "?";
}

static int cmd_route(int argc, char **argv)
{
	struct tw_rtnl *nl;
	struct tw_route r;
	uint8_t dst[16];
	char g[64], nh[64], src[64];
	int fam, rc;

	if (argc != 3)
		return usage();
	fam = parse_addr(argv[2], dst);
	if (!fam)
		return usage();
	rc = tw_rtnl_open(&nl, 0);
	if (rc < 0) {
		fprintf(stderr, "rtnl: %s\n", strerror(-rc));
		return 1;
	}
	rc = tw_route_get(nl, fam, dst, 0, &r);
	tw_rtnl_close(nl);
	if (rc < 0) {
		printf("error=%d\n", rc);
		return 0;
	}
	printf("oif=%d dev=%s type=%u gateway=%s nexthop=%s prefsrc=%s route_mtu=%u dev_mtu=%u mtu=%u\n",
	       r.oif, r.ifname, r.type, r.has_gateway ? fmt_addr(fam, r.gateway, g, sizeof(g)) : "-",
	       fmt_addr(fam, r.nexthop, nh, sizeof(nh)),
	       r.has_prefsrc ? fmt_addr(fam, r.prefsrc, src, sizeof(src)) : "-", r.route_mtu,
	       r.dev_mtu, r.mtu);
	return 0;
}

static int cmd_neigh(int argc, char **argv)
{
	struct tw_rtnl *nl;
	struct tw_neigh n;
	struct tw_link link;
	uint8_t addr[16];
	unsigned wait = argc > 4 ? (unsigned)atoi(argv[4]) : 1000;
	int fam, rc;

	if (argc < 4)
		return usage();
	fam = parse_addr(argv[3], addr);
	if (!fam)
		return usage();
	rc = tw_rtnl_open(&nl, 0);
	if (rc < 0)
		return 1;
	rc = tw_route_link(nl, 0, argv[2], &link);
	if (rc == 0)
		rc = tw_route_resolve(nl, fam, link.ifindex, addr, wait, &n);
	tw_rtnl_close(nl);
	if (rc < 0) {
		printf("error=%d\n", rc);
		return 0;
	}
	printf("mac=%02x:%02x:%02x:%02x:%02x:%02x state=0x%02x\n", n.lladdr[0], n.lladdr[1],
	       n.lladdr[2], n.lladdr[3], n.lladdr[4], n.lladdr[5], n.state);
	return 0;
}

/* ADDR + I (IPv4: as a 32-bit number; IPv6: in the last 32 bits) */
static void addr_add(int fam, const uint8_t *base, unsigned i, uint8_t *out)
{
	size_t len = fam == AF_INET ? 4 : 16;
	uint32_t v;

	memcpy(out, base, len);
	v = (uint32_t)out[len - 4] << 24 | (uint32_t)out[len - 3] << 16 |
	    (uint32_t)out[len - 2] << 8 | out[len - 1];
	v += i;
	out[len - 4] = (uint8_t)(v >> 24);
	out[len - 3] = (uint8_t)(v >> 16);
	out[len - 2] = (uint8_t)(v >> 8);
	out[len - 1] = (uint8_t)v;
}

static int parse_mac(const char *s, uint8_t mac[6])
{
	unsigned v[6];
	int i;

	if (sscanf(s, "%x:%x:%x:%x:%x:%x", &v[0], &v[1], &v[2], &v[3], &v[4], &v[5]) != 6)
		return -1;
	for (i = 0; i < 6; i++) {
		if (v[i] > 255)
			return -1;
		mac[i] = (uint8_t)v[i];
	}
	return 0;
}

static int cmd_send(int argc, char **argv)
{
	static const uint8_t mss[4] = { 2, 4, 0x05, 0xb4 };
	static const uint8_t bad[20] = { 0x55 };
	struct tw_sink_cfg cfg = { .kind = TW_SINK_RAWIP };
	struct tw_sink_stats st;
	struct tw_sink *sink;
	struct tw_sink_pkt *pkts;
	uint8_t src[16], dst[16], s_i[16], *bufs, *payload;
	unsigned count = 1, payload_len = 0, dport = 8080, sport = 40000, i, k, b, total;
	size_t bufsz;
	char err[256];
	int sfam = 0, dfam = 0, opt, rc, sent = 0;
	bool with_bad = false, retry = false;
	int *first = NULL;
	unsigned round;

	optind = 2;
	while ((opt = getopt(argc, argv, "s:t:e:o:m:n:b:l:p:P:xrq")) != -1) {
		switch (opt) {
		case 's': sfam = parse_addr(optarg, src); break;
		case 't': dfam = parse_addr(optarg, dst); break;
		case 'e':
			if (!strcmp(optarg, "rawip"))
				cfg.kind = TW_SINK_RAWIP;
			else if (!strcmp(optarg, "afpacket"))
				cfg.kind = TW_SINK_AFPACKET;
			else
				return usage();
			break;
		case 'o': cfg.dev = optarg; break;
		case 'm':
			if (parse_mac(optarg, cfg.dst_mac) < 0)
				return usage();
			cfg.has_dst_mac = true;
			break;
		case 'n': count = (unsigned)atoi(optarg); break;
		case 'b': cfg.batch = (uint32_t)atoi(optarg); break;
		case 'l': payload_len = (unsigned)atoi(optarg); break;
		case 'p': dport = (unsigned)atoi(optarg); break;
		case 'P': sport = (unsigned)atoi(optarg); break;
		case 'x': with_bad = true; break;
		case 'r': retry = true; break;
		case 'q': cfg.qdisc_bypass = true; break;
		default: return usage();
		}
	}
	if (!sfam || sfam != dfam || count == 0 || count > 100000 || payload_len > 65000)
		return usage();
	rc = tw_sink_open(&cfg, &sink, err, sizeof(err));
	if (rc < 0) {
		fprintf(stderr, "open: %s\n", err);
		return 1;
	}
	total = count + (with_bad ? 1 : 0);
	bufsz = 60 + 4 + payload_len;
	bufs = malloc(bufsz * total);
	payload = calloc(1, payload_len + 1);
	pkts = calloc(total, sizeof(*pkts));
	if (!bufs || !payload || !pkts)
		return 1;
	memset(payload, 'p', payload_len);
	for (i = 0, k = 0; i < count; i++, k++) {
		struct tw_forge_tcp f = {
			.ipver = sfam == AF_INET ? 4 : 6, .src = s_i, .dst = dst,
			.sport = (uint16_t)(sport + i), .dport = (uint16_t)dport,
			.seq = 1000 + i, .flags = TW_TH_SYN, .win = 64240, .ip_id = (uint16_t)(i + 1),
			.df = 1, .opt = mss, .opt_len = sizeof(mss),
			.payload = payload, .payload_len = payload_len,
		};
		if (with_bad && i == count / 2) {
			pkts[k].data = bad;
			pkts[k].len = sizeof(bad);
			k++;
		}
		addr_add(sfam, src, i, s_i);
		rc = tw_forge_tcp(bufs + bufsz * i, bufsz, &f);
		if (rc < 0) {
			fprintf(stderr, "forge: %d\n", rc);
			return 1;
		}
		pkts[k].data = bufs + bufsz * i;
		pkts[k].len = (uint32_t)rc;
	}
	b = tw_sink_batch(sink);
	for (i = 0; i < total; i += b) {
		rc = tw_sink_send(sink, pkts + i, total - i < b ? total - i : b);
		if (rc < 0) {
			fprintf(stderr, "send: %d\n", rc);
			return 1;
		}
		sent += rc;
	}
	if (retry) {
		first = calloc(total, sizeof(*first));
		if (!first)
			return 1;
		for (i = 0; i < total; i++)
			first[i] = pkts[i].err;
		for (round = 0; round < 200; round++) {
			unsigned m = 0;
			struct tw_sink_pkt *again[TW_SINK_MAX_BATCH];
			const struct timespec tick = { .tv_nsec = 50 * 1000000L };

			for (i = 0; i < total && m < b; i++) {
				if (pkts[i].err == -EAGAIN || pkts[i].err == -ENOBUFS)
					again[m++] = &pkts[i];
			}
			if (!m)
				break;
			nanosleep(&tick, NULL);
			/* resend in place: copy the slots out, send, copy back */
			{
				struct tw_sink_pkt batch[TW_SINK_MAX_BATCH];

				for (k = 0; k < m; k++) {
					batch[k] = *again[k];
					batch[k].flags |= TW_SINK_PKT_RETRY;
				}
				rc = tw_sink_send(sink, batch, m);
				if (rc < 0)
					return 1;
				sent += rc;
				for (k = 0; k < m; k++)
					again[k]->err = batch[k].err;
			}
		}
		printf("first=");
		for (i = 0; i < total && i < 64; i++)
			printf("%s%d", i ? "," : "", first[i]);
		printf("\n");
		free(first);
	}
	tw_sink_flush(sink);
	printf("results=");
	for (i = 0; i < total && i < 64; i++)
		printf("%s%d", i ? "," : "", pkts[i].err);
	printf("\n");
	tw_sink_stats(sink, &st);
	printf("engine=%s sent=%d packets=%llu bytes=%llu err_msgsize=%llu err_nobufs=%llu "
	       "err_perm=%llu err_unreach=%llu err_other=%llu retries=%llu calls=%llu resolves=%llu\n",
	       tw_sink_engine(sink), sent, (unsigned long long)st.packets,
	       (unsigned long long)st.bytes, (unsigned long long)st.err_msgsize,
	       (unsigned long long)st.err_nobufs, (unsigned long long)st.err_perm,
	       (unsigned long long)st.err_unreach, (unsigned long long)st.err_other,
	       (unsigned long long)st.retries, (unsigned long long)st.calls,
	       (unsigned long long)st.resolves);
	tw_sink_close(sink);
	free(bufs);
	free(payload);
	free(pkts);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc < 2)
		return usage();
	if (!strcmp(argv[1], "route"))
		return cmd_route(argc, argv);
	if (!strcmp(argv[1], "neigh"))
		return cmd_neigh(argc, argv);
	if (!strcmp(argv[1], "send"))
		return cmd_send(argc, argv);
	return usage();
}
