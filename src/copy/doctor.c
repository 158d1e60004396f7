/*
 * doctor.c - `tcptwin doctor`'s checks of this host and the runner (see
 * doctor.h): routes and devices, the raw sink, the capture source, the MTU
 * rule, rp_filter, conntrack and the intercept handshakes, plus the pure
 * rules tests call. The probe sessions and the TCP connects of socket mode
 * are in doctor_probe.c.
 * Reads /proc and asks the kernel over rtnetlink and ethtool ioctls; changes
 * nothing on the host and prints nothing (lines go to the caller).
 */
#include "copy/doctor.h"
#include "copy/doctor_int.h"
#include "capture/print.h"
#include "capture/source.h"
#include "core/err.h"
#include "core/loop.h"
#include "relay/auth.h"
#include "relay/client.h"
#include "send/route.h"
#include "send/sink.h"

#include <errno.h>
#include <inttypes.h>
#include <linux/ethtool.h>
#include <linux/rtnetlink.h>
#include <linux/sockios.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

void tw_doc_cfg_init(struct tw_doc_cfg *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	tw_ap_cfg_init(&cfg->ap);
	cfg->port = 36524;
	cfg->timeout_ms = TW_DOC_DEF_TIMEOUT_MS;
}

/* ---- pure rules ---------------------------------------------------------- */

int tw_doc_parse_u64(const char *text, uint64_t *out)
{
	uint64_t v = 0;
	const char *p = text;

	if (!p || *p < '0' || *p > '9')
		return -EINVAL;
	for (; *p >= '0' && *p <= '9'; p++) {
		uint64_t dg = (uint64_t)(*p - '0');

		if (v > UINT64_MAX / 10 || (v == UINT64_MAX / 10 && dg > UINT64_MAX % 10))
			return -EINVAL;
		v = v * 10 + dg;
	}
	for (; *p; p++)
		if (*p != ' ' && *p != '\t' && *p != '\n' && *p != '\r')
			return -EINVAL;
	*out = v;
	return 0;
}

int tw_doc_rp_effective(int all, int dev)
{
	return all > dev ? all : dev;
}

bool tw_doc_conntrack_full(uint64_t count, uint64_t max)
{
	if (!max)
		return count > 0;
	/* count / max > 0.8 without overflow for any count <= max * 2 */
	return count > max / 5 * 4 + (max % 5) * 4 / 5;
}

enum tw_doc_status tw_doc_mtu_rule(const struct tw_doc_mtu *m, uint32_t *send_mtu, char *buf,
				   size_t len)
{
	uint32_t route = m->route_mtu ? m->route_mtu : 1500;
	uint32_t min = m->ipver == 6 ? 1280 : 576;
	uint32_t e = m->opt_mtu ? m->opt_mtu : route;
	const char *dev = m->dev && *m->dev ? m->dev : "its device";
	size_t n;

	*send_mtu = e;
	if (m->opt_mtu && m->opt_mtu > route) {
		snprintf(buf, len,
			 "-M %u is above the route's MTU %u (%s): raw sends of packets above %u fail with "
			 "EMSGSIZE (forged packets are never fragmented); fix: -M %u or less, or leave "
			 "-M out (copy then uses the route's MTU)",
			 m->opt_mtu, route, dev, route, route);
		return TW_DOC_FAIL;
	}
	if (e < min) {
		snprintf(buf, len,
			 "copy would send at MTU %u%s, below the IPv%d minimum of %u: too small for "
			 "replayed TCP segments (headers with options take up to 72 bytes of each); "
			 "fix: %s",
			 e, m->opt_mtu ? " (-M)" : " (the route's)", m->ipver == 6 ? 6 : 4, min,
			 m->opt_mtu ? "a larger -M (at most the route's MTU)"
				    : "raise the MTU of the route or of its device (ip link set DEV mtu 1500)");
		return TW_DOC_FAIL;
	}
	n = (size_t)snprintf(buf, len, "copy sends at MTU %u (%s; route MTU %u via %s)", e,
			     m->opt_mtu ? "-M" : "the route's", route, dev);
	if (n >= len)
		return TW_DOC_PASS;
	if (m->cap_if) {
		bool bigger = m->cap_mtu > e;

		snprintf(buf + n, len - n,
			 "; packets captured on %s (MTU %u%s) %s re-segmented to it",
			 m->cap_if, m->cap_mtu,
			 m->cap_gro > 0 ? ", GRO/LRO on: super-packets up to 64 KB"
					: m->cap_gro == 0 ? ", GRO/LRO off" : "",
			 bigger || m->cap_gro > 0 ? "are" : "larger than that (TSO super-packets) are");
	} else {
		snprintf(buf + n, len - n, "; captured packets larger than that (GRO/TSO "
					   "super-packets) are re-segmented to it");
	}
	return TW_DOC_PASS;
}

unsigned tw_doc_mtu_sizes(int ipver, uint32_t send_mtu, uint32_t *sizes, unsigned cap)
{
	static const uint32_t common[] = {1500, 1480, 1450, 1400, 1280, 576};
	uint32_t min = ipver == 6 ? 1280 : 576;
	unsigned n = 0;

	if (!cap)
		return 0;
	sizes[n++] = send_mtu;
	for (size_t i = 0; i < sizeof(common) / sizeof(common[0]) && n < cap; i++)
		if (common[i] < send_mtu && common[i] >= min)
			sizes[n++] = common[i];
	return n;
}

uint32_t tw_doc_mtu_best(const uint32_t *sizes, const bool *ok, unsigned n)
{
	uint32_t best = 0;

	for (unsigned i = 0; i < n; i++)
		if (ok[i] && sizes[i] > best)
			best = sizes[i];
	return best;
}

int tw_doc_cover(const struct tw_ap_ip *lo, const struct tw_ap_ip *hi, struct tw_ap_ip *net)
{
	int bytes = lo->ver == 6 ? 16 : 4, plen = 0;

	memset(net, 0, sizeof(*net));
	net->ver = lo->ver;
	for (int i = 0; i < bytes; i++) {
		uint8_t d = (uint8_t)(lo->a[i] ^ hi->a[i]);
		int b = 0;

		if (!d) {
			net->a[i] = lo->a[i];
			plen += 8;
			continue;
		}
		while (!(d & 0x80)) {
			d = (uint8_t)(d << 1);
			b++;
		}
		net->a[i] = (uint8_t)(lo->a[i] & (uint8_t)(0xff00u >> b));
		return plen + b;
	}
	return plen;
}

const char *tw_doc_relay_fix(int rc, const char *err)
{
	err = err ? err : "";
	switch (rc) {
	case -ECONNREFUSED:
		return "start `tcptwin intercept -i IFACE -F 'tcp and src port TPORT'` on the assistant, "
		       "or point -s/-p at the port it listens on";
	case -ETIMEDOUT:
		if (strstr(err, "handshake"))
			return "something listens there but does not answer like a tcptwin intercept: "
			       "point -s at intercept's address and port";
		return "check the -s address, that intercept runs there, and that no firewall drops "
		       "the channel port between the two hosts";
	case -EHOSTUNREACH:
	case -ENETUNREACH:
		return "give this host a route to the assistant (ip route add ASSISTANT via GATEWAY), "
		       "or correct the -s address";
	case -EACCES:
	case -EPERM:
		if (strstr(err, "allowed networks") || strstr(err, "network not allowed"))
			return "add this host's network to intercept's --allow";
		return "give doctor and copy the same --secret-file as intercept (the same bytes; "
		       "trailing newlines do not count)";
	case -TW_EPROTO_VERSION:
		return "run the same tcptwin release on this host and on the assistant";
	case -EBUSY:
		return "intercept has reached its connection limit: stop other copies first";
	case -ECONNRESET:
		return "intercept closed the channel during the handshake: read its log";
	default:
		return "point -s at a running `tcptwin intercept` (not another service)";
	}
}

/* ---- output -------------------------------------------------------------- */

void tw_doc_emit(struct tw_doc_ctx *d, enum tw_doc_status st, const char *name,
		 const char *fmt, ...)
{
	char text[2048];
	struct tw_doc_line l = {.status = st, .name = name, .text = text};
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	if (st == TW_DOC_PASS)
		d->sum->pass++;
	else if (st == TW_DOC_FAIL)
		d->sum->fail++;
	else
		d->sum->skip++;
	d->out(d->arg, &l);
}

void tw_doc_add(struct tw_doc_ctx *d, size_t *pos, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (*pos >= sizeof(d->text) - 1)
		return;
	va_start(ap, fmt);
	n = vsnprintf(d->text + *pos, sizeof(d->text) - *pos, fmt, ap);
	va_end(ap);
	if (n > 0)
		*pos += (size_t)n;
	if (*pos > sizeof(d->text) - 1)
		*pos = sizeof(d->text) - 1;
}

/* ---- helpers ------------------------------------------------------------- */

static int fam_of(const struct tw_ap_ip *ip)
{
	return ip->ver == 6 ? AF_INET6 : AF_INET;
}

/* A number from a /proc or /sys file. */
static int read_num(const char *path, uint64_t *v)
{
	char buf[64];
	FILE *f = fopen(path, "r");
	size_t n;

	if (!f)
		return -errno;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	return tw_doc_parse_u64(buf, v);
}

/* GRO or LRO on IFNAME: 1, 0, or -1 when the driver does not say. */
static int gro_state(const char *ifname)
{
	struct ethtool_value ev;
	struct ifreq ifr;
	int fd, on = -1;

	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	ifr.ifr_data = (char *)&ev;
	ev.cmd = ETHTOOL_GGRO;
	ev.data = 0;
	if (ioctl(fd, SIOCETHTOOL, &ifr) == 0)
		on = ev.data ? 1 : 0;
	ev.cmd = ETHTOOL_GFLAGS;
	ev.data = 0;
	if (ioctl(fd, SIOCETHTOOL, &ifr) == 0 && (ev.data & ETH_FLAG_LRO))
		on = 1;
	close(fd);
	return on;
}

static bool is_tunnel_spec(const char *s)
{
	return !strncmp(s, "vxlan:", 6) || !strncmp(s, "geneve:", 7);
}

/* ---- the checks ------------------------------------------------------------ */

static void collect_targets(struct tw_doc_ctx *d)
{
	const struct tw_ap_cfg *ap = &d->cfg->ap;

	for (int i = 0; i < ap->nrules && d->nt < TW_DOC_MAX_TARGETS; i++) {
		const struct tw_ap_rule *r = &ap->rule[i];
		struct doc_target *t;
		char a[48];
		unsigned j;

		for (j = 0; j < d->nt; j++)
			if (d->t[j].port == r->dst_port && !memcmp(&d->t[j].ip, &r->dst_ip, sizeof(r->dst_ip)))
				break;
		if (j < d->nt)
			continue;
		t = &d->t[d->nt++];
		memset(t, 0, sizeof(*t));
		t->ip = r->dst_ip;
		t->port = r->dst_port;
		tw_ap_ip_str(&t->ip, a, sizeof(a));
		snprintf(t->addr, sizeof(t->addr), "%s", a);
		snprintf(t->name, sizeof(t->name), "%s%s%s:%u", t->ip.ver == 6 ? "[" : "", a,
			 t->ip.ver == 6 ? "]" : "", t->port);
	}
}

static const char *rtn_name(uint8_t type)
{
	switch (type) {
	case RTN_BLACKHOLE: return "a blackhole route";
	case RTN_UNREACHABLE: return "an unreachable route";
	case RTN_PROHIBIT: return "a prohibit route";
	case RTN_THROW: return "a throw route";
	case RTN_BROADCAST: return "a broadcast address";
	case RTN_MULTICAST: return "a multicast address";
	default: return "not a unicast route";
	}
}

static void check_route(struct tw_doc_ctx *d, struct doc_target *t)
{
	const struct tw_doc_cfg *cfg = d->cfg;
	char name[96], gw[48] = "", src[48] = "";
	struct tw_route rt;
	struct tw_link lk;
	int rc, oif = 0;

	snprintf(name, sizeof(name), "route %s", t->addr);
	if (!d->nl) {
		tw_doc_emit(d, TW_DOC_FAIL, name, "cannot ask the kernel over rtnetlink; fix: run doctor "
			    "on Linux, in the network namespace copy will run in");
		return;
	}
	if (cfg->outdev) {
		rc = tw_route_link(d->nl, 0, cfg->outdev, &lk);
		if (rc < 0) {
			tw_doc_emit(d, TW_DOC_FAIL, name, "-o %s: %s; fix: name an existing interface "
				    "(ip link) for -o", cfg->outdev,
				    rc == -ENODEV ? "no such interface" : tw_strerror(rc));
			return;
		}
		oif = lk.ifindex;
	}
	rc = tw_route_get(d->nl, fam_of(&t->ip), t->ip.a, oif, &rt);
	if (rc < 0) {
		tw_doc_emit(d, TW_DOC_FAIL, name, "no route to %s%s%s (%s); fix: add one, e.g. "
			    "`ip route add %s via GATEWAY` (or `dev DEV` when on-link)",
			    t->addr, oif ? " through " : "", oif ? cfg->outdev : "", tw_strerror(rc),
			    t->addr);
		return;
	}
	if (rt.type == RTN_LOCAL) {
		tw_doc_emit(d, TW_DOC_FAIL, name, "%s is an address of this host: forged packets to "
			    "it loop back here and the replies never reach an assistant; fix: run copy "
			    "on another host than the target", t->addr);
		return;
	}
	if (rt.type != RTN_UNICAST) {
		tw_doc_emit(d, TW_DOC_FAIL, name, "the route to %s is %s; fix: replace it with a route "
			    "through the network the target is on", t->addr, rtn_name(rt.type));
		return;
	}
	rc = tw_route_link(d->nl, rt.oif, NULL, &lk);
	if (rc < 0) {
		tw_doc_emit(d, TW_DOC_FAIL, name, "route via interface %d, which the kernel does not "
			    "describe (%s); fix: check `ip route get %s`", rt.oif, tw_strerror(rc),
			    t->addr);
		return;
	}
	if (!(lk.flags & IFF_UP)) {
		tw_doc_emit(d, TW_DOC_FAIL, name, "the route leaves through %s, which is down; fix: "
			    "`ip link set %s up`", lk.name, lk.name);
		return;
	}
	if (!(lk.flags & IFF_RUNNING)) {
		tw_doc_emit(d, TW_DOC_FAIL, name, "the route leaves through %s, which is up but has no "
			    "carrier; fix: connect %s (cable, switch port, veth peer up)", lk.name,
			    lk.name);
		return;
	}
	t->oif = rt.oif;
	snprintf(t->dev, sizeof(t->dev), "%s", lk.name);
	t->route_mtu = rt.mtu;
	if (rt.has_prefsrc) {
		t->has_src = true;
		t->src.ver = t->ip.ver;
		memcpy(t->src.a, rt.prefsrc, t->ip.ver == 6 ? 16 : 4);
		tw_ap_ip_str(&t->src, src, sizeof(src));
	}
	if (rt.has_gateway) {
		struct tw_ap_ip g = {.ver = t->ip.ver};

		memcpy(g.a, rt.gateway, t->ip.ver == 6 ? 16 : 4);
		tw_ap_ip_str(&g, gw, sizeof(gw));
	}
	if (cfg->outdev && !cfg->ap.rule[0].has_dst_mac) {
		struct tw_neigh ne;
		struct tw_ap_ip nh = {.ver = t->ip.ver};
		char nhs[48];

		memcpy(nh.a, rt.nexthop, t->ip.ver == 6 ? 16 : 4);
		tw_ap_ip_str(&nh, nhs, sizeof(nhs));
		rc = tw_route_resolve(d->nl, fam_of(&t->ip), rt.oif, rt.nexthop, cfg->timeout_ms, &ne);
		if (rc < 0) {
			tw_doc_emit(d, TW_DOC_FAIL, name, "no link-layer address for the next hop %s on "
				    "%s (%s): -o sends nothing without it; fix: check that %s is up "
				    "on that link, or give its MAC in -x (PORT-TIP:TPORT@MAC)", nhs,
				    lk.name, tw_strerror(rc), nhs);
			return;
		}
	}
	t->route_ok = true;
	tw_doc_emit(d, TW_DOC_PASS, name, "via %s%s%s%s%s, %s up, MTU %u%s", lk.name,
		    *gw ? " gateway " : " (on-link)", gw, *src ? ", source " : "", src, lk.name,
		    rt.mtu ? rt.mtu : lk.mtu,
		    cfg->outdev ? (cfg->ap.rule[0].has_dst_mac ? ", next-hop MAC from -x"
							 : ", next-hop MAC resolved")
				: "");
}

static void check_send(struct tw_doc_ctx *d)
{
	const struct tw_doc_cfg *cfg = d->cfg;
	struct tw_sink_cfg sc;
	char err[300] = "";
	int rc;

	memset(&sc, 0, sizeof(sc));
	sc.kind = cfg->outdev ? TW_SINK_AFPACKET : TW_SINK_RAWIP;
	sc.dev = cfg->outdev;
	sc.batch = 16;
	sc.sndbuf = 1u << 20;
	sc.resolve_ms = cfg->timeout_ms;
	if (cfg->outdev && cfg->ap.rule[0].has_dst_mac) {
		sc.has_dst_mac = true;
		memcpy(sc.dst_mac, cfg->ap.rule[0].dst_mac, 6);
	}
	rc = tw_sink_open(&sc, &d->sink, err, sizeof(err));
	if (rc == -EPERM || rc == -EACCES) {
		tw_doc_emit(d, TW_DOC_FAIL, "raw-send", "%s; fix: run as root, or give the binary "
			    "CAP_NET_RAW (setcap cap_net_raw+ep tcptwin)", *err ? err : tw_strerror(rc));
		d->sink = NULL;
	} else if (rc < 0) {
		tw_doc_emit(d, TW_DOC_FAIL, "raw-send", "%s; fix: %s", *err ? err : tw_strerror(rc),
			    cfg->outdev ? "name an interface that is up for -o" : "check the kernel "
			    "allows raw sockets here");
		d->sink = NULL;
	} else if (cfg->outdev) {
		tw_doc_emit(d, TW_DOC_PASS, "raw-send", "AF_PACKET socket on %s opened: forged frames "
			    "may be sent (no netfilter or conntrack on this host)", cfg->outdev);
	} else {
		tw_doc_emit(d, TW_DOC_PASS, "raw-send", "raw IP socket (IPPROTO_RAW, IP_HDRINCL) "
			    "opened: forged packets may be sent");
	}
}

/* Fills *CAP_MTU and *GRO for the MTU rule when -i is an interface. */
static void check_capture(struct tw_doc_ctx *d, const char **cap_if, uint32_t *cap_mtu, int *gro)
{
	const char *in = d->cfg->input;
	struct tw_src_cfg sc;
	struct tw_src *src = NULL;
	struct tw_link lk;
	struct stat st;
	char name[300], err[400] = "";
	int rc;

	*cap_if = NULL;
	if (!in) {
		tw_doc_emit(d, TW_DOC_SKIP, "capture", "no -i given (copy needs one: a pcap file, an "
			    "interface or vxlan:PORT)");
		return;
	}
	snprintf(name, sizeof(name), "capture %s", in);
	memset(&sc, 0, sizeof(sc));
	sc.spec = in;
	sc.snaplen = 65535 + 512;
	sc.promisc = true;
	sc.buffer_kb = 1024;
	sc.filter = "tcp";
	if (!strcmp(in, "-")) {
		tw_doc_emit(d, TW_DOC_SKIP, name, "standard input is not checked");
		return;
	}
	if (is_tunnel_spec(in)) {
		sc.kind = TW_SRC_UDP;
		sc.filter = NULL;
		rc = tw_src_open(&sc, &src, err, sizeof(err));
		if (rc < 0) {
			tw_doc_emit(d, TW_DOC_FAIL, name, "%s; fix: %s", *err ? err : tw_strerror(rc),
				    rc == -EADDRINUSE ? "stop what holds that UDP port (ss -ulpn), or use "
				    "another one" : "give a local address and a free port (vxlan:[ADDR:]PORT)");
			return;
		}
		tw_src_close(src);
		tw_doc_emit(d, TW_DOC_PASS, name, "UDP port bound: the mirror can be received (its "
			    "packets cross this host's rp_filter and firewall before the socket)");
		return;
	}
	if (strcmp(in, "any") && !(strlen(in) < IF_NAMESIZE && if_nametoindex(in)) &&
	    stat(in, &st) == 0 && !S_ISDIR(st.st_mode)) {
		sc.kind = TW_SRC_FILE;
		sc.filter = NULL;
		rc = tw_src_open(&sc, &src, err, sizeof(err));
		if (rc < 0) {
			tw_doc_emit(d, TW_DOC_FAIL, name, "%s; fix: give a readable pcap or pcapng file",
				    *err ? err : tw_strerror(rc));
			return;
		}
		tw_doc_emit(d, TW_DOC_PASS, name, "capture file opens (link type %s)",
			    tw_print_linktype_name(tw_src_linktype(src)));
		tw_src_close(src);
		return;
	}
	if (strcmp(in, "any")) {
		rc = d->nl ? tw_route_link(d->nl, 0, in, &lk) : -ENODEV;
		if (rc < 0) {
			tw_doc_emit(d, TW_DOC_FAIL, name, "no interface or file named %s; fix: give the "
				    "interface the client traffic arrives on (ip link), or a pcap file", in);
			return;
		}
		if (!(lk.flags & IFF_UP)) {
			tw_doc_emit(d, TW_DOC_FAIL, name, "interface %s is down: nothing can be captured; "
				    "fix: `ip link set %s up`", in, in);
			return;
		}
	}
	sc.kind = TW_SRC_AFPACKET;
	rc = tw_src_open(&sc, &src, err, sizeof(err));
	if (rc < 0) {
		tw_doc_emit(d, TW_DOC_FAIL, name, "%s; fix: %s", *err ? err : tw_strerror(rc),
			    rc == -EPERM || rc == -EACCES ? "run as root, or give the binary CAP_NET_RAW "
			    "(setcap cap_net_raw+ep tcptwin)" : "check the interface");
		return;
	}
	tw_src_close(src);
	if (!strcmp(in, "any")) {
		tw_doc_emit(d, TW_DOC_PASS, name, "AF_PACKET capture opened on all interfaces");
		return;
	}
	*cap_if = in;
	*cap_mtu = lk.mtu;
	*gro = gro_state(in);
	tw_doc_emit(d, TW_DOC_PASS, name, "AF_PACKET capture opened; %s is up, MTU %u%s", in, lk.mtu,
		    *gro > 0 ? ", GRO/LRO on" : *gro == 0 ? ", GRO/LRO off" : "");
}

static void check_mtu(struct tw_doc_ctx *d, struct doc_target *t, const char *cap_if,
		      uint32_t cap_mtu, int gro)
{
	struct tw_doc_mtu m = {
		.ipver = t->ip.ver,
		.opt_mtu = d->cfg->mtu,
		.route_mtu = t->route_mtu,
		.dev = t->dev,
		.cap_if = cap_if,
		.cap_mtu = cap_mtu,
		.cap_gro = gro,
	};
	char name[96], text[1024];
	enum tw_doc_status st;

	snprintf(name, sizeof(name), "mtu %s", t->addr);
	if (!t->route_ok) {
		tw_doc_emit(d, TW_DOC_SKIP, name, "no usable route to %s", t->addr);
		return;
	}
	st = tw_doc_mtu_rule(&m, &t->send_mtu, text, sizeof(text));
	t->mtu_ok = st == TW_DOC_PASS;
	t->probe_mtu = t->send_mtu;
	if (t->route_mtu && t->probe_mtu > t->route_mtu)
		t->probe_mtu = t->route_mtu; /* larger ones cannot leave: the mtu line says so */
	tw_doc_emit(d, st, name, "%s", text);
}

static void check_rp_filter(struct tw_doc_ctx *d)
{
	for (unsigned i = 0; i < d->nt; i++) {
		struct doc_target *t = &d->t[i];
		char name[96], path[128];
		uint64_t all = 0, dev = 0;
		unsigned j;
		int eff;

		if (!t->route_ok)
			continue;
		for (j = 0; j < i; j++)
			if (d->t[j].route_ok && d->t[j].ip.ver == t->ip.ver && !strcmp(d->t[j].dev, t->dev))
				break;
		if (j < i)
			continue;
		snprintf(name, sizeof(name), "rp_filter %s", t->dev);
		if (t->ip.ver == 6) {
			tw_doc_emit(d, TW_DOC_SKIP, name, "IPv6 has no rp_filter sysctl: reverse-path "
				    "checks come from firewall rules (ip6tables -m rpfilter, nft fib) on "
				    "the target, which the probe tests");
			continue;
		}
		snprintf(path, sizeof(path), "/proc/sys/net/ipv4/conf/%s/rp_filter", t->dev);
		if (read_num("/proc/sys/net/ipv4/conf/all/rp_filter", &all) < 0 ||
		    read_num(path, &dev) < 0) {
			tw_doc_emit(d, TW_DOC_SKIP, name, "cannot read net.ipv4.conf.{all,%s}.rp_filter",
				    t->dev);
			continue;
		}
		eff = tw_doc_rp_effective((int)(all > 2 ? 2 : all), (int)(dev > 2 ? 2 : dev));
		tw_doc_emit(d, TW_DOC_PASS, name,
			    "%d here (%s; all %" PRIu64 ", %s %" PRIu64 "): reverse-path filtering "
			    "checks the source of packets a host receives, never of the forged ones "
			    "this host sends; the target's is what matters: it must accept the client "
			    "range (0, 2 with any route back, or 1 with a route back through the "
			    "interface the packets arrive on), which the probe tests",
			    eff, eff == 1 ? "strict" : eff == 2 ? "loose" : "off", all, t->dev, dev);
	}
}

static void check_conntrack(struct tw_doc_ctx *d)
{
	uint64_t count, max;
	size_t pos = 0;

	for (unsigned i = 0; i < d->nt; i++)
		tw_doc_add(d, &pos, "%s`%s -t raw -A OUTPUT -p tcp -d %s --dport %u -j NOTRACK`",
			   i ? " and " : "", d->t[i].ip.ver == 6 ? "ip6tables" : "iptables",
			   d->t[i].addr, d->t[i].port);
	if (d->cfg->outdev) {
		tw_doc_emit(d, TW_DOC_PASS, "conntrack", "-o sends at the link layer: no conntrack "
			    "entries on this host");
		return;
	}
	if (read_num("/proc/sys/net/netfilter/nf_conntrack_count", &count) < 0 ||
	    read_num("/proc/sys/net/netfilter/nf_conntrack_max", &max) < 0) {
		tw_doc_emit(d, TW_DOC_PASS, "conntrack", "not loaded here: raw sends create no entries "
			    "(should it be loaded later, exempt the replay with %s)", d->text);
		return;
	}
	if (tw_doc_conntrack_full(count, max)) {
		tw_doc_emit(d, TW_DOC_FAIL, "conntrack", "%" PRIu64 " of %" PRIu64 " entries in use "
			    "(%" PRIu64 " %%): raw-IP sends add one UNREPLIED entry per replayed "
			    "connection for 120 s, and a full table makes them fail with EPERM; fix: %s "
			    "(or raise net.netfilter.nf_conntrack_max, or send with -o DEV)",
			    count, max, max ? count * 100 / max : 100, d->text);
		return;
	}
	tw_doc_emit(d, TW_DOC_PASS, "conntrack", "%" PRIu64 " of %" PRIu64 " entries in use "
		    "(%" PRIu64 " %%); every replayed connection adds one for 120 s unless exempted: "
		    "add %s", count, max, max ? count * 100 / max : 0, d->text);
}

static void check_intercepts(struct tw_doc_ctx *d)
{
	const struct tw_doc_cfg *cfg = d->cfg;
	const char *s = cfg->servers;

	while (s && *s && d->nic < TW_RELAY_MAX_PEERS) {
		const char *comma = strchr(s, ',');
		size_t len = comma ? (size_t)(comma - s) : strlen(s);
		struct doc_icept *ic = &d->ic[d->nic];
		struct tw_relay_client_cfg rc;
		char item[300], name[340], err[600] = "";
		int r;

		memset(ic, 0, sizeof(*ic));
		ic->d = d;
		ic->idx = d->nic++;
		snprintf(item, sizeof(item), "%.*s", (int)len, s);
		s = comma ? comma + 1 : s + len;
		if (tw_relay_split_hostport(item, strlen(item), ic->host, sizeof(ic->host), cfg->port,
					    &ic->port) < 0) {
			snprintf(name, sizeof(name), "intercept %s", item);
			tw_doc_emit(d, TW_DOC_FAIL, name, "bad -s item '%s'; fix: HOST[:PORT] or "
				    "[IPv6]:PORT", item);
			continue;
		}
		{
			char h[256];

			snprintf(h, sizeof(h), "%s", ic->host);
			snprintf(ic->name, sizeof(ic->name), "%s%s%s:%u", strchr(h, ':') ? "[" : "", h,
				 strchr(h, ':') ? "]" : "", ic->port);
		}
		snprintf(name, sizeof(name), "intercept %s", ic->name);
		tw_relay_client_cfg_init(&rc);
		rc.servers = item;
		rc.port = cfg->port;
		rc.secret = cfg->secret;
		if (cfg->ver_min)
			rc.ver_min = cfg->ver_min;
		if (cfg->ver_max)
			rc.ver_max = cfg->ver_max;
		rc.timeout_ms = cfg->timeout_ms;
		rc.tx_cap = 1u << 20;
		rc.on_reply = tw_doc_on_reply;
		rc.on_fail = tw_doc_on_fail;
		rc.arg = ic;
		r = tw_relay_client_open(d->loop, &rc, &ic->cl, err, sizeof(err));
		if (r < 0) {
			ic->cl = NULL;
			tw_doc_emit(d, TW_DOC_FAIL, name, "%s; fix: %s", *err ? err : tw_strerror(r),
				    tw_doc_relay_fix(r, err));
			continue;
		}
		tw_doc_emit(d, TW_DOC_PASS, name, "handshake done: same protocol version%s",
			    cfg->secret ? ", shared secret verified both ways" : ", no secret on either side");
	}
}

static void skip_raw_only(struct tw_doc_ctx *d)
{
	static const char *const names[] = {"raw-send", "rp_filter", "conntrack", "intercept",
					    "probe"};

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		tw_doc_emit(d, TW_DOC_SKIP, names[i], "socket mode: kernel TCP connections from this "
			    "host, no forged packets, no intercept");
}

int tw_doctor_run(const struct tw_doc_cfg *cfg, tw_doc_out_fn out, void *arg,
		  struct tw_doc_sum *sum)
{
	struct tw_doc_ctx *d = calloc(1, sizeof(*d));
	const char *cap_if = NULL;
	uint32_t cap_mtu = 0;
	int gro = -1, rc = 0;

	if (!d)
		return -ENOMEM;
	memset(sum, 0, sizeof(*sum));
	d->cfg = cfg;
	d->out = out;
	d->arg = arg;
	d->sum = sum;
	d->loop = tw_loop_new(0);
	if (!d->loop) {
		rc = -errno;
		free(d);
		return rc ? rc : -ENOMEM;
	}
	if (tw_rtnl_open(&d->nl, cfg->timeout_ms) < 0)
		d->nl = NULL;
	collect_targets(d);
	for (unsigned i = 0; i < d->nt; i++)
		check_route(d, &d->t[i]);
	if (cfg->mode == TW_DOC_SOCKET) {
		check_capture(d, &cap_if, &cap_mtu, &gro);
		tw_doc_emit(d, TW_DOC_SKIP, "mtu", "socket mode: the kernel's TCP finds the path MTU");
		skip_raw_only(d);
		tw_doc_socket_targets(d);
		goto out;
	}
	check_send(d);
	check_capture(d, &cap_if, &cap_mtu, &gro);
	for (unsigned i = 0; i < d->nt; i++)
		check_mtu(d, &d->t[i], cap_if, cap_mtu, gro);
	check_rp_filter(d);
	check_conntrack(d);
	check_intercepts(d);
	rc = tw_doc_probe(d);
out:
	for (unsigned i = 0; i < d->nic; i++)
		tw_relay_client_close(d->ic[i].cl);
	tw_sink_close(d->sink);
	tw_rtnl_close(d->nl);
	tw_loop_free(d->loop);
	free(d);
	return rc;
}
