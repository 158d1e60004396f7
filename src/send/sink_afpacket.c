/*
 * sink_afpacket.c - the "afpacket" sink (`-o DEV`): IP packets framed in
 * Ethernet and sent on socket(AF_PACKET, SOCK_RAW) with sendmmsg.
 *
 * Each frame is two iovecs, our 14-byte Ethernet header and the caller's
 * packet (no copy). The header: destination = the next hop's MAC, source =
 * the device's, EtherType from the IP version. The next hop comes from
 * rtnetlink (route.h): the route to the destination through DEV gives the
 * gateway (or on-link: the destination itself), the neighbour table its MAC;
 * a missing entry is resolved by the kernel (NTF_USE) while we wait up to
 * cfg.resolve_ms. A destination whose route leaves through another device
 * (or has none) is -ENETUNREACH. Both answers are cached (routes per destination,
 * MACs per next hop; the device is fixed) for cfg.neigh_ttl_ms; a failure is
 * cached for one second so an unreachable next hop does not stall every
 * batch. cfg.has_dst_mac skips all of it.
 *
 * Why AF_PACKET (linux-net.md section 2): the frame skips the sender's IP
 * layer, netfilter hooks and conntrack (no 120 s UNREPLIED entries filling
 * the table). No fragmentation or segmentation either: a frame above
 * MTU + 14 fails with EMSGSIZE. PACKET_QDISC_BYPASS (optional) skips the
 * qdisc. Frames we send are seen by every packet socket on the host.
 * Does not: use a TX ring, tag VLANs, or speak to non-Ethernet devices.
 */
#include "send/sink.h"

#include "core/err.h"
#include "send/route.h"

#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_arp.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define NROUTES 64
#define NNEIGH 16
#define FAIL_TTL_MS 1000

struct rt_ent {
	struct tw_sink_addr dst;
	struct tw_sink_addr nexthop;
	int err;                    /* cached failure, 0 = nexthop valid */
	int64_t expires;            /* ms; 0 = empty slot */
};

struct nb_ent {
	struct tw_sink_addr addr;
	uint8_t mac[6];
	int err;
	int64_t expires;
};

struct afpacket {
	int fd;
	int ifindex;
	char ifname[IF_NAMESIZE];
	uint8_t src_mac[6];
	bool fixed_mac;
	uint8_t dst_mac[6];         /* cfg.dst_mac */
	unsigned resolve_ms, ttl_ms;
	struct tw_rtnl *nl;
	struct rt_ent rt[NROUTES];
	unsigned rt_next;
	struct nb_ent nb[NNEIGH];
	unsigned nb_next;
	struct sockaddr_ll sll4, sll6;
	struct mmsghdr *msgs;
	struct iovec *iov;          /* 2 per packet */
	uint8_t (*hdr)[ETH_HLEN];   /* one Ethernet header per packet */
	struct tw_sink_pkt **pk;
};

_Static_assert(ETH_HLEN == 14, "Ethernet header");

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static bool addr_eq(const struct tw_sink_addr *a, const struct tw_sink_addr *b)
{
	return a->family == b->family &&
	       memcmp(a->addr, b->addr, a->family == AF_INET ? 4 : 16) == 0;
}

static void afp_close(struct tw_sink *s)
{
	struct afpacket *a = s->priv;

	if (!a)
		return;
	if (a->fd != -1)
		close(a->fd);
	tw_rtnl_close(a->nl);
	free(a->msgs);
	free(a->iov);
	free(a->hdr);
	free(a->pk);
	free(a);
	s->priv = NULL;
}

static int afp_socket(struct tw_sink *s, struct afpacket *a, const struct tw_sink_cfg *cfg)
{
	struct sockaddr_ll sll = { .sll_family = AF_PACKET };
	uint32_t sndbuf = cfg->sndbuf ? cfg->sndbuf : TW_SINK_DEF_SNDBUF;
	int v, one = 1;

	/* protocol 0: the socket receives nothing; it only sends */
	a->fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0);
	if (a->fd == -1)
		goto err;
	sll.sll_ifindex = a->ifindex;
	if (bind(a->fd, (struct sockaddr *)&sll, sizeof(sll)) == -1)
		goto err;
	v = (int)(sndbuf > (uint32_t)INT32_MAX / 2 ? (uint32_t)INT32_MAX / 2 : sndbuf);
	if (setsockopt(a->fd, SOL_SOCKET, SO_SNDBUFFORCE, &v, sizeof(v)) == -1)
		(void)setsockopt(a->fd, SOL_SOCKET, SO_SNDBUF, &v, sizeof(v));
	if (cfg->qdisc_bypass &&
	    setsockopt(a->fd, SOL_PACKET, PACKET_QDISC_BYPASS, &one, sizeof(one)) == -1)
		goto err;
	return 0;
err:
	v = -errno;
	tw_sink_seterr(s, "sink afpacket: packet socket on %s: %s", a->ifname, strerror(-v));
	return v;
}

static int afp_open(struct tw_sink *s, const struct tw_sink_cfg *cfg)
{
	struct tw_link link;
	struct afpacket *a;
	int rc;

	if (!cfg->dev || !cfg->dev[0]) {
		tw_sink_seterr(s, "sink afpacket: no device given (-o DEV)");
		return -EINVAL;
	}
	a = calloc(1, sizeof(*a));
	if (!a) {
		tw_sink_seterr(s, "sink afpacket: out of memory");
		return -ENOMEM;
	}
	s->priv = a;
	a->fd = -1;
	snprintf(a->ifname, sizeof(a->ifname), "%s", cfg->dev);
	a->resolve_ms = cfg->resolve_ms ? cfg->resolve_ms : TW_SINK_DEF_RESOLVE_MS;
	a->ttl_ms = cfg->neigh_ttl_ms ? cfg->neigh_ttl_ms : TW_SINK_DEF_NEIGH_TTL_MS;
	a->msgs = calloc(s->batch, sizeof(*a->msgs));
	a->iov = calloc(2 * (size_t)s->batch, sizeof(*a->iov));
	a->hdr = calloc(s->batch, sizeof(*a->hdr));
	a->pk = calloc(s->batch, sizeof(*a->pk));
	if (!a->msgs || !a->iov || !a->hdr || !a->pk) {
		tw_sink_seterr(s, "sink afpacket: out of memory");
		rc = -ENOMEM;
		goto err;
	}
	rc = tw_rtnl_open(&a->nl, a->resolve_ms + 1000);
	if (rc < 0) {
		tw_sink_seterr(s, "sink afpacket: rtnetlink: %s", strerror(-rc));
		goto err;
	}
	rc = tw_route_link(a->nl, 0, cfg->dev, &link);
	if (rc < 0) {
		tw_sink_seterr(s, "sink afpacket: device %s: %s", cfg->dev,
			       rc == -ENODEV ? "no such device" : strerror(rc > -4096 ? -rc : EPROTO));
		goto err;
	}
	if (link.type != ARPHRD_ETHER || link.addr_len != 6) {
		tw_sink_seterr(s, "sink afpacket: device %s is not an Ethernet device (type %u)",
			       cfg->dev, link.type);
		rc = -EOPNOTSUPP;
		goto err;
	}
	a->ifindex = link.ifindex;
	memcpy(a->src_mac, link.addr, 6);
	a->fixed_mac = cfg->has_dst_mac;
	memcpy(a->dst_mac, cfg->dst_mac, 6);
	rc = afp_socket(s, a, cfg);
	if (rc < 0)
		goto err;
	/* sll_protocol sets skb->protocol; sll_addr is not used for SOCK_RAW */
	a->sll4.sll_family = a->sll6.sll_family = AF_PACKET;
	a->sll4.sll_ifindex = a->sll6.sll_ifindex = a->ifindex;
	a->sll4.sll_protocol = htons(ETH_P_IP);
	a->sll6.sll_protocol = htons(ETH_P_IPV6);
	a->sll4.sll_halen = a->sll6.sll_halen = 6;
	return 0;
err:
	afp_close(s);
	return rc;
}

/* The next hop for DST through our device (cached). */
static int lookup_nexthop(struct tw_sink *s, struct afpacket *a, const struct tw_sink_addr *dst,
			  int64_t now, struct tw_sink_addr *nh)
{
	struct tw_route route;
	struct rt_ent *e = NULL;
	unsigned i;
	int rc;

	for (i = 0; i < NROUTES; i++) {
		if (a->rt[i].expires && addr_eq(&a->rt[i].dst, dst)) {
			e = &a->rt[i];
			break;
		}
	}
	if (e && e->expires > now) {
		*nh = e->nexthop;
		return e->err;
	}
	if (!e) {
		e = &a->rt[a->rt_next];
		a->rt_next = (a->rt_next + 1) % NROUTES;
	}
	s->st.resolves++;
	/* Asked without RTA_OIF on purpose: with an output interface the kernel
	 * treats any destination it has no route for as on-link through it
	 * (`ip route get X oif DEV` always answers), and we would ARP for
	 * addresses that are not there. DEV must be where the route leads. */
	rc = tw_route_get(a->nl, dst->family, dst->addr, 0, &route);
	e->dst = *dst;
	e->nexthop = *dst;
	if (rc == 0 && route.oif != a->ifindex)
		rc = -ENETUNREACH;    /* the kernel would not leave through DEV */
	else if (rc == 0 && route.type != RTN_UNICAST)
		rc = -EHOSTUNREACH;   /* local, blackhole, prohibit... */
	else if (rc <= -TW_EBASE)
		rc = -EHOSTUNREACH;   /* a reply we could not parse */
	if (rc == 0)
		memcpy(e->nexthop.addr, route.nexthop, sizeof(e->nexthop.addr));
	e->err = rc;
	e->expires = now + (rc ? FAIL_TTL_MS : a->ttl_ms);
	*nh = e->nexthop;
	return rc;
}

/* The MAC of next hop NH on our device (cached, resolved when missing). */
static int lookup_mac(struct tw_sink *s, struct afpacket *a, const struct tw_sink_addr *nh,
		      int64_t now, uint8_t mac[6])
{
	struct tw_neigh neigh;
	struct nb_ent *e = NULL;
	bool had_mac;
	unsigned i;
	int rc;

	for (i = 0; i < NNEIGH; i++) {
		if (a->nb[i].expires && addr_eq(&a->nb[i].addr, nh)) {
			e = &a->nb[i];
			break;
		}
	}
	if (e && e->expires > now) {
		memcpy(mac, e->mac, 6);
		return e->err;
	}
	had_mac = e && e->err == 0;
	if (!e) {
		e = &a->nb[a->nb_next];
		a->nb_next = (a->nb_next + 1) % NNEIGH;
	}
	s->st.resolves++;
	rc = tw_route_resolve(a->nl, nh->family, a->ifindex, nh->addr, a->resolve_ms, &neigh);
	if (rc == 0 && neigh.lladdr_len != 6)
		rc = -EHOSTUNREACH;
	else if (rc < 0 && rc != -ENOMEM)
		rc = -EHOSTUNREACH;
	e->addr = *nh;
	if (rc == 0)
		memcpy(e->mac, neigh.lladdr, 6);
	else if (had_mac)
		rc = 0;               /* keep a MAC that worked until now: stale beats none */
	e->err = rc;
	e->expires = (rc ? now + FAIL_TTL_MS : now + a->ttl_ms);
	memcpy(mac, e->mac, 6);
	return rc;
}

static int afp_send(struct tw_sink *s, struct tw_sink_pkt *pkts, unsigned n)
{
	struct afpacket *a = s->priv;
	struct tw_sink_addr dst, nh;
	struct mmsghdr *mm;
	uint8_t *h;
	unsigned i, m = 0;
	int64_t now = 0;
	int fam, rc, stop;

	for (i = 0; i < n; i++) {
		fam = tw_sink_pkt_dst(&pkts[i], &dst);
		if (fam < 0) {
			tw_sink_count(s, &pkts[i], fam);
			continue;
		}
		h = a->hdr[m];
		if (a->fixed_mac) {
			memcpy(h, a->dst_mac, 6);
		} else {
			if (!now)
				now = now_ms();
			rc = lookup_nexthop(s, a, &dst, now, &nh);
			if (rc == 0)
				rc = lookup_mac(s, a, &nh, now, h);
			if (rc < 0) {
				tw_sink_count(s, &pkts[i], rc);
				continue;
			}
		}
		memcpy(h + 6, a->src_mac, 6);
		h[12] = fam == AF_INET ? 0x08 : 0x86;
		h[13] = fam == AF_INET ? 0x00 : 0xdd;
		a->iov[2 * m].iov_base = h;
		a->iov[2 * m].iov_len = ETH_HLEN;
		a->iov[2 * m + 1].iov_base = (void *)(uintptr_t)pkts[i].data;
		a->iov[2 * m + 1].iov_len = pkts[i].len;
		mm = &a->msgs[m];
		memset(mm, 0, sizeof(*mm));
		mm->msg_hdr.msg_name = fam == AF_INET ? &a->sll4 : &a->sll6;
		mm->msg_hdr.msg_namelen = sizeof(a->sll4);
		mm->msg_hdr.msg_iov = &a->iov[2 * m];
		mm->msg_hdr.msg_iovlen = 2;
		a->pk[m++] = &pkts[i];
	}
	if (!m)
		return 0;
	return (int)tw_sink_mmsg(s, a->fd, a->msgs, a->pk, m, &stop);
}

const struct tw_sink_ops tw_sink_afpacket_ops = {
	.name = "afpacket",
	.open = afp_open,
	.send = afp_send,
	.flush = NULL,
	.close = afp_close,
};
