/*
 * route.c - route, link and neighbour lookups over a plain NETLINK_ROUTE
 * socket (see route.h). Requests are built by hand; replies are read through
 * struct tw_rd with every length checked (netlink is host byte order, so the
 * readers below memcpy instead of using the big-endian cursor helpers).
 *
 * Kernel behaviour relied on (checked on the lab kernel, linux-net.md 2.1):
 *  - RTM_GETROUTE with RTA_DST answers one RTM_NEWROUTE, like `ip route get`;
 *    RTA_GATEWAY absent means on-link; RTA_METRICS/RTAX_MTU carries a route
 *    MTU (`ip route ... mtu N`) or a learned path MTU.
 *  - RTM_GETNEIGH with ndm_ifindex and NDA_DST (no NLM_F_DUMP) answers the one
 *    entry or -ENOENT (kernel 5.0+, `ip neigh get`); the request must leave
 *    ndm_state/ndm_type zero or the kernel answers -EINVAL.
 *  - RTM_NEWNEIGH with NTF_USE and NLM_F_CREATE creates a missing entry and
 *    starts resolution (neigh_event_send) without setting any address.
 * Does not: dump tables, follow netlink events, or treat multipath specially
 * (the first next hop of RTA_MULTIPATH is taken).
 */
#include "send/route.h"

#include "core/err.h"
#include "pkt/cursor.h"

#include <errno.h>
#include <linux/if_arp.h>
#include <linux/neighbour.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#define NL_BUFSZ 32768u
#define NL_HDRLEN 16u       /* struct nlmsghdr */
#define RTMSG_LEN 12u       /* struct rtmsg */
#define IFINFO_LEN 16u      /* struct ifinfomsg */
#define NDMSG_LEN 12u       /* struct ndmsg */
#define RTNH_LEN 8u         /* struct rtnexthop */

_Static_assert(sizeof(struct nlmsghdr) == NL_HDRLEN, "nlmsghdr layout");
_Static_assert(sizeof(struct rtmsg) == RTMSG_LEN, "rtmsg layout");
_Static_assert(sizeof(struct ifinfomsg) == IFINFO_LEN, "ifinfomsg layout");
_Static_assert(sizeof(struct ndmsg) == NDMSG_LEN, "ndmsg layout");
_Static_assert(sizeof(struct rtnexthop) == RTNH_LEN, "rtnexthop layout");

struct tw_rtnl {
	int fd;
	uint32_t seq;
	_Alignas(8) uint8_t buf[NL_BUFSZ];
};

static size_t align4(size_t n)
{
	return (n + 3u) & ~(size_t)3u;
}

static size_t addr_len(int family)
{
	return family == AF_INET ? 4 : family == AF_INET6 ? 16 : 0;
}

/* ---- host-order readers and writers ---- */

static uint16_t rd_h16(struct tw_rd *rd)
{
	const uint8_t *p = tw_rd_ptr(rd, 2);
	uint16_t v = 0;

	if (p)
		memcpy(&v, p, 2);
	return v;
}

static uint32_t rd_h32(struct tw_rd *rd)
{
	const uint8_t *p = tw_rd_ptr(rd, 4);
	uint32_t v = 0;

	if (p)
		memcpy(&v, p, 4);
	return v;
}

static uint32_t load_h32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, 4);
	return v;
}

static void wr_h16(struct tw_wr *wr, uint16_t v)
{
	tw_wr_bytes(wr, &v, 2);
}

static void wr_h32(struct tw_wr *wr, uint32_t v)
{
	tw_wr_bytes(wr, &v, 4);
}

/* Header with a length placeholder; nl_finish() writes the length. */
static void nl_begin(struct tw_wr *wr, uint16_t type, uint16_t flags, uint32_t seq)
{
	wr_h32(wr, 0);
	wr_h16(wr, type);
	wr_h16(wr, flags);
	wr_h32(wr, seq);
	wr_h32(wr, 0);
}

static void nl_attr(struct tw_wr *wr, uint16_t type, const void *data, size_t len)
{
	static const uint8_t zero[4];
	size_t pad = align4(4 + len) - (4 + len);

	wr_h16(wr, (uint16_t)(4 + len));
	wr_h16(wr, type);
	tw_wr_bytes(wr, data, len);
	tw_wr_bytes(wr, zero, pad);
}

static int nl_finish(struct tw_wr *wr)
{
	uint32_t len = (uint32_t)wr->pos;

	if (wr->err || wr->pos > UINT16_MAX)
		return -ENOSPC;
	memcpy(wr->base, &len, 4);
	return (int)len;
}

/* ---- builders ---- */

int tw_rtnl_build_getroute(uint8_t *buf, size_t cap, uint32_t seq, int family,
			   const uint8_t *dst, int oif)
{
	struct tw_wr wr;
	size_t alen = addr_len(family);
	uint32_t o = (uint32_t)oif;

	if (!alen || !dst || oif < 0)
		return -EINVAL;
	tw_wr_init(&wr, buf, cap);
	nl_begin(&wr, RTM_GETROUTE, NLM_F_REQUEST, seq);
	tw_wr_u8(&wr, (uint8_t)family);         /* rtm_family */
	tw_wr_u8(&wr, (uint8_t)(alen * 8));     /* rtm_dst_len */
	tw_wr_u8(&wr, 0);                       /* rtm_src_len */
	tw_wr_u8(&wr, 0);                       /* rtm_tos */
	tw_wr_u8(&wr, 0);                       /* rtm_table */
	tw_wr_u8(&wr, 0);                       /* rtm_protocol */
	tw_wr_u8(&wr, 0);                       /* rtm_scope */
	tw_wr_u8(&wr, 0);                       /* rtm_type */
	wr_h32(&wr, 0);                         /* rtm_flags */
	nl_attr(&wr, RTA_DST, dst, alen);
	if (oif > 0)
		nl_attr(&wr, RTA_OIF, &o, 4);
	return nl_finish(&wr);
}

int tw_rtnl_build_getlink(uint8_t *buf, size_t cap, uint32_t seq, int ifindex, const char *name)
{
	struct tw_wr wr;
	size_t nlen;

	if (ifindex < 0 || (ifindex == 0 && !name))
		return -EINVAL;
	tw_wr_init(&wr, buf, cap);
	nl_begin(&wr, RTM_GETLINK, NLM_F_REQUEST, seq);
	tw_wr_u8(&wr, AF_UNSPEC);               /* ifi_family */
	tw_wr_u8(&wr, 0);                       /* pad */
	wr_h16(&wr, 0);                         /* ifi_type */
	wr_h32(&wr, (uint32_t)ifindex);         /* ifi_index */
	wr_h32(&wr, 0);                         /* ifi_flags */
	wr_h32(&wr, 0);                         /* ifi_change */
	if (ifindex == 0) {
		nlen = strnlen(name, IF_NAMESIZE);
		if (nlen == 0 || nlen >= IF_NAMESIZE)
			return -ENODEV;
		nl_attr(&wr, IFLA_IFNAME, name, nlen + 1);
	}
	return nl_finish(&wr);
}

static int build_ndmsg(struct tw_wr *wr, uint16_t type, uint16_t flags, uint32_t seq, int family,
		       int ifindex, uint16_t state, uint8_t ntf, const uint8_t *addr)
{
	size_t alen = addr_len(family);

	if (!alen || !addr || ifindex <= 0)
		return -EINVAL;
	nl_begin(wr, type, flags, seq);
	tw_wr_u8(wr, (uint8_t)family);          /* ndm_family */
	tw_wr_u8(wr, 0);                        /* ndm_pad1 */
	wr_h16(wr, 0);                          /* ndm_pad2 */
	wr_h32(wr, (uint32_t)ifindex);          /* ndm_ifindex */
	wr_h16(wr, state);                      /* ndm_state */
	tw_wr_u8(wr, ntf);                      /* ndm_flags */
	tw_wr_u8(wr, 0);                        /* ndm_type */
	nl_attr(wr, NDA_DST, addr, alen);
	return nl_finish(wr);
}

int tw_rtnl_build_getneigh(uint8_t *buf, size_t cap, uint32_t seq, int family, int ifindex,
			   const uint8_t *addr)
{
	struct tw_wr wr;

	tw_wr_init(&wr, buf, cap);
	return build_ndmsg(&wr, RTM_GETNEIGH, NLM_F_REQUEST, seq, family, ifindex, 0, 0, addr);
}

int tw_rtnl_build_neigh_use(uint8_t *buf, size_t cap, uint32_t seq, int family, int ifindex,
			    const uint8_t *addr)
{
	struct tw_wr wr;

	/* NUD_NONE: with NTF_USE the kernel only triggers resolution and leaves
	 * the state to ARP/ND; a PERMANENT request would make the new entry
	 * exempt from garbage collection. */
	tw_wr_init(&wr, buf, cap);
	return build_ndmsg(&wr, RTM_NEWNEIGH, NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_REPLACE,
			   seq, family, ifindex, NUD_NONE, NTF_USE, addr);
}

/* ---- parsers ---- */

/* Check the netlink header of MSG (LEN bytes); on success RD covers the
 * payload after it and *TYPE is the message type. An NLMSG_ERROR returns its
 * error (0 for an ACK, which callers expecting data treat as malformed). */
static int nl_open_msg(const uint8_t *msg, size_t len, struct tw_rd *rd, uint16_t *type)
{
	struct tw_rd h;
	uint32_t mlen;
	int32_t e;

	tw_rd_init(&h, msg, len);
	mlen = rd_h32(&h);
	*type = rd_h16(&h);
	tw_rd_skip(&h, 10);
	if (h.err || mlen < NL_HDRLEN || mlen > len)
		return -TW_ETRUNC;
	tw_rd_init(rd, msg + NL_HDRLEN, mlen - NL_HDRLEN);
	if (*type == NLMSG_ERROR) {
		e = (int32_t)rd_h32(rd);
		if (rd->err)
			return -TW_ETRUNC;
		if (e > 0 || e < -4095)
			return -TW_EMALFORMED;
		return e;
	}
	return 0;
}

/* Next attribute of RD: type in *TYPE, payload in *DATA / *DLEN. Returns 1,
 * 0 at the end, -TW_ETRUNC for a cut attribute. */
static int nl_next_attr(struct tw_rd *rd, uint16_t *type, const uint8_t **data, size_t *dlen)
{
	size_t left = tw_rd_left(rd);
	uint16_t alen;

	if (rd->err)
		return -TW_ETRUNC;
	if (left < 4)
		return 0;   /* trailing padding */
	alen = rd_h16(rd);
	*type = rd_h16(rd) & NLA_TYPE_MASK;
	if (alen < 4 || alen > left)
		return -TW_ETRUNC;
	*dlen = alen - 4u;
	*data = tw_rd_ptr(rd, *dlen);
	/* the last attribute may lack its padding */
	tw_rd_skip(rd, align4(alen) - alen <= tw_rd_left(rd) ? align4(alen) - alen : 0);
	return rd->err ? -TW_ETRUNC : 1;
}

static void route_set_mtu(struct tw_route *r, const uint8_t *data, size_t dlen)
{
	struct tw_rd m;
	const uint8_t *d;
	size_t l;
	uint16_t t;

	tw_rd_init(&m, data, dlen);
	while (nl_next_attr(&m, &t, &d, &l) == 1)
		if (t == RTAX_MTU && l == 4)
			r->route_mtu = load_h32(d);
}

/* First next hop of RTA_MULTIPATH: its ifindex and RTA_GATEWAY. */
static int route_multipath(struct tw_route *r, size_t alen, const uint8_t *data, size_t dlen)
{
	struct tw_rd m, a;
	uint16_t nhlen, t;
	int32_t ifindex;
	const uint8_t *d;
	size_t l;

	tw_rd_init(&m, data, dlen);
	nhlen = rd_h16(&m);
	tw_rd_skip(&m, 2);                  /* rtnh_flags, rtnh_hops */
	ifindex = (int32_t)rd_h32(&m);
	if (m.err || nhlen < RTNH_LEN || nhlen > dlen)
		return -TW_ETRUNC;
	if (!r->oif)
		r->oif = ifindex;
	tw_rd_init(&a, data + RTNH_LEN, nhlen - RTNH_LEN);
	while (nl_next_attr(&a, &t, &d, &l) == 1) {
		if (t == RTA_GATEWAY && l == alen && !r->has_gateway) {
			memcpy(r->gateway, d, alen);
			r->has_gateway = true;
		}
	}
	return a.err ? -TW_ETRUNC : 0;
}

int tw_rtnl_parse_route(const uint8_t *msg, size_t len, struct tw_route *out)
{
	struct tw_rd rd;
	uint16_t type, t;
	const uint8_t *d;
	size_t l, alen;
	int rc;

	memset(out, 0, sizeof(*out));
	rc = nl_open_msg(msg, len, &rd, &type);
	if (rc < 0)
		return rc;
	if (type != RTM_NEWROUTE)
		return -TW_EMALFORMED;
	out->family = tw_rd_u8(&rd);
	tw_rd_skip(&rd, 6);                     /* dst_len .. scope */
	out->type = tw_rd_u8(&rd);
	tw_rd_skip(&rd, 4);                     /* rtm_flags */
	if (rd.err)
		return -TW_ETRUNC;
	alen = addr_len(out->family);
	if (!alen)
		return -TW_EMALFORMED;
	while ((rc = nl_next_attr(&rd, &t, &d, &l)) == 1) {
		switch (t) {
		case RTA_DST:
			if (l == alen)
				memcpy(out->dst, d, alen);
			break;
		case RTA_OIF:
			if (l == 4)
				out->oif = (int)load_h32(d);
			break;
		case RTA_GATEWAY:
			if (l == alen) {
				memcpy(out->gateway, d, alen);
				out->has_gateway = true;
			}
			break;
		case RTA_PREFSRC:
			if (l == alen) {
				memcpy(out->prefsrc, d, alen);
				out->has_prefsrc = true;
			}
			break;
		case RTA_METRICS:
			route_set_mtu(out, d, l);
			break;
		case RTA_MULTIPATH:
			if (route_multipath(out, alen, d, l) < 0)
				return -TW_ETRUNC;
			break;
		default:
			break;
		}
	}
	if (rc < 0)
		return rc;
	memcpy(out->nexthop, out->has_gateway ? out->gateway : out->dst, alen);
	out->mtu = out->route_mtu;
	return 0;
}

int tw_rtnl_parse_link(const uint8_t *msg, size_t len, struct tw_link *out)
{
	struct tw_rd rd;
	uint16_t type, t;
	const uint8_t *d;
	size_t l;
	int rc;

	memset(out, 0, sizeof(*out));
	rc = nl_open_msg(msg, len, &rd, &type);
	if (rc < 0)
		return rc;
	if (type != RTM_NEWLINK)
		return -TW_EMALFORMED;
	tw_rd_skip(&rd, 2);                     /* family, pad */
	out->type = rd_h16(&rd);
	out->ifindex = (int)rd_h32(&rd);
	out->flags = rd_h32(&rd);
	tw_rd_skip(&rd, 4);                     /* change */
	if (rd.err)
		return -TW_ETRUNC;
	while ((rc = nl_next_attr(&rd, &t, &d, &l)) == 1) {
		switch (t) {
		case IFLA_IFNAME:
			/* NUL-terminated within the attribute */
			if (l > 0 && l <= IF_NAMESIZE && memchr(d, 0, l)) {
				memcpy(out->name, d, l);
			}
			break;
		case IFLA_MTU:
			if (l == 4)
				out->mtu = load_h32(d);
			break;
		case IFLA_ADDRESS:
			if (l <= sizeof(out->addr)) {
				memcpy(out->addr, d, l);
				out->addr_len = (uint8_t)l;
			}
			break;
		default:
			break;
		}
	}
	return rc < 0 ? rc : 0;
}

int tw_rtnl_parse_neigh(const uint8_t *msg, size_t len, int family, struct tw_neigh *out)
{
	struct tw_rd rd;
	uint16_t type, t;
	const uint8_t *d;
	size_t l;
	int rc;

	memset(out, 0, sizeof(*out));
	rc = nl_open_msg(msg, len, &rd, &type);
	if (rc < 0)
		return rc;
	if (type != RTM_NEWNEIGH)
		return -TW_EMALFORMED;
	if (tw_rd_u8(&rd) != family)
		return rd.err ? -TW_ETRUNC : -TW_EMALFORMED;
	tw_rd_skip(&rd, 3);                     /* pad1, pad2 */
	out->ifindex = (int)rd_h32(&rd);
	out->state = rd_h16(&rd);
	out->flags = tw_rd_u8(&rd);
	tw_rd_skip(&rd, 1);                     /* ndm_type */
	if (rd.err)
		return -TW_ETRUNC;
	while ((rc = nl_next_attr(&rd, &t, &d, &l)) == 1) {
		if (t == NDA_LLADDR && l <= sizeof(out->lladdr)) {
			memcpy(out->lladdr, d, l);
			out->lladdr_len = (uint8_t)l;
		}
	}
	return rc < 0 ? rc : 0;
}

/* ---- transport ---- */

int tw_rtnl_open(struct tw_rtnl **out, unsigned timeout_ms)
{
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK };
	struct timeval tv;
	struct tw_rtnl *nl;
	int rc;

	if (!timeout_ms)
		timeout_ms = 1000;
	nl = calloc(1, sizeof(*nl));
	if (!nl)
		return -ENOMEM;
	nl->fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
	if (nl->fd == -1) {
		rc = -errno;
		goto err_free;
	}
	tv.tv_sec = timeout_ms / 1000;
	tv.tv_usec = (timeout_ms % 1000) * 1000;
	if (setsockopt(nl->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) == -1 ||
	    bind(nl->fd, (struct sockaddr *)&sa, sizeof(sa)) == -1) {
		rc = -errno;
		goto err_close;
	}
	nl->seq = (uint32_t)time(NULL);
	*out = nl;
	return 0;
err_close:
	close(nl->fd);
err_free:
	free(nl);
	return rc;
}

void tw_rtnl_close(struct tw_rtnl *nl)
{
	if (!nl)
		return;
	close(nl->fd);
	free(nl);
}

/* Send the request in nl->buf (LEN bytes, sequence SEQ) and wait for the
 * kernel's message with that sequence number. Returns its length (the
 * message sits at the start of nl->buf) or -errno. Messages from anyone but
 * the kernel and stale answers (other sequence numbers) are skipped. */
static int nl_roundtrip(struct tw_rtnl *nl, int len, uint32_t seq)
{
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK }, from;
	socklen_t flen;
	ssize_t n;
	size_t off;
	struct tw_rd rd;
	uint32_t mlen, mseq;

	if (sendto(nl->fd, nl->buf, (size_t)len, 0, (struct sockaddr *)&sa, sizeof(sa)) == -1)
		return -errno;
	for (;;) {
		flen = sizeof(from);
		/* MSG_TRUNC: the real length even when it did not fit */
		n = recvfrom(nl->fd, nl->buf, sizeof(nl->buf), MSG_TRUNC, (struct sockaddr *)&from,
			     &flen);
		if (n == -1) {
			if (errno == EINTR)
				continue;
			return errno == EAGAIN || errno == EWOULDBLOCK ? -ETIMEDOUT : -errno;
		}
		if ((size_t)n > sizeof(nl->buf))
			n = (ssize_t)sizeof(nl->buf);   /* cut: a message past the end is skipped */
		if (flen < sizeof(from) || from.nl_pid != 0)
			continue;
		for (off = 0; off + NL_HDRLEN <= (size_t)n; off += align4(mlen)) {
			tw_rd_init(&rd, nl->buf + off, (size_t)n - off);
			mlen = rd_h32(&rd);
			tw_rd_skip(&rd, 4);
			mseq = rd_h32(&rd);
			if (mlen < NL_HDRLEN || mlen > (size_t)n - off)
				break;
			if (mseq == seq) {
				memmove(nl->buf, nl->buf + off, mlen);
				return (int)mlen;
			}
		}
	}
}

int tw_route_link(struct tw_rtnl *nl, int ifindex, const char *name, struct tw_link *out)
{
	uint32_t seq = ++nl->seq;
	int len = tw_rtnl_build_getlink(nl->buf, sizeof(nl->buf), seq, ifindex, name);

	if (len < 0)
		return len;
	len = nl_roundtrip(nl, len, seq);
	if (len < 0)
		return len;
	return tw_rtnl_parse_link(nl->buf, (size_t)len, out);
}

int tw_route_get(struct tw_rtnl *nl, int family, const uint8_t *dst, int oif, struct tw_route *out)
{
	uint32_t seq = ++nl->seq;
	struct tw_link link;
	int len, rc;

	len = tw_rtnl_build_getroute(nl->buf, sizeof(nl->buf), seq, family, dst, oif);
	if (len < 0)
		return len;
	len = nl_roundtrip(nl, len, seq);
	if (len < 0)
		return len;
	rc = tw_rtnl_parse_route(nl->buf, (size_t)len, out);
	if (rc < 0)
		return rc;
	if (out->family != family)
		return -TW_EMALFORMED;
	memcpy(out->dst, dst, addr_len(family));
	if (!out->has_gateway)
		memcpy(out->nexthop, dst, addr_len(family));
	if (out->oif > 0 && tw_route_link(nl, out->oif, NULL, &link) == 0) {
		memcpy(out->ifname, link.name, sizeof(out->ifname));
		out->dev_mtu = link.mtu;
	}
	out->mtu = out->route_mtu ? out->route_mtu : out->dev_mtu;
	return 0;
}

int tw_route_neigh(struct tw_rtnl *nl, int family, int ifindex, const uint8_t *addr,
		   struct tw_neigh *out)
{
	uint32_t seq = ++nl->seq;
	int len = tw_rtnl_build_getneigh(nl->buf, sizeof(nl->buf), seq, family, ifindex, addr);

	if (len < 0)
		return len;
	len = nl_roundtrip(nl, len, seq);
	if (len < 0)
		return len;
	return tw_rtnl_parse_neigh(nl->buf, (size_t)len, family, out);
}

int tw_route_neigh_use(struct tw_rtnl *nl, int family, int ifindex, const uint8_t *addr)
{
	uint32_t seq = ++nl->seq;
	struct tw_rd rd;
	uint16_t type;
	int len = tw_rtnl_build_neigh_use(nl->buf, sizeof(nl->buf), seq, family, ifindex, addr);

	if (len < 0)
		return len;
	len = nl_roundtrip(nl, len, seq);
	if (len < 0)
		return len;
	len = nl_open_msg(nl->buf, (size_t)len, &rd, &type);
	if (len < 0)
		return len;
	return type == NLMSG_ERROR ? 0 : -TW_EMALFORMED;
}

bool tw_route_neigh_usable(uint16_t state)
{
	return (state & (NUD_REACHABLE | NUD_STALE | NUD_DELAY | NUD_PROBE | NUD_PERMANENT |
			 NUD_NOARP)) != 0;
}

/* Fallback trigger when RTM_NEWNEIGH is refused: one UDP datagram to the
 * discard port of ADDR, pinned to IFINDEX; sending it makes the kernel
 * resolve the next hop like any other traffic would. */
static int poke_udp(int family, int ifindex, const uint8_t *addr)
{
	struct sockaddr_in6 s6 = { .sin6_family = AF_INET6, .sin6_port = htons(9) };
	struct sockaddr_in s4 = { .sin_family = AF_INET, .sin_port = htons(9) };
	struct sockaddr *sa;
	socklen_t salen;
	int fd, rc = 0;

	fd = socket(family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd == -1)
		return -errno;
	if (family == AF_INET) {
		memcpy(&s4.sin_addr, addr, 4);
		sa = (struct sockaddr *)&s4;
		salen = sizeof(s4);
	} else {
		memcpy(&s6.sin6_addr, addr, 16);
		s6.sin6_scope_id = (uint32_t)ifindex;
		sa = (struct sockaddr *)&s6;
		salen = sizeof(s6);
	}
	if (setsockopt(fd, SOL_SOCKET, SO_BINDTOIFINDEX, &ifindex, sizeof(ifindex)) == -1 ||
	    sendto(fd, "", 0, MSG_DONTWAIT, sa, salen) == -1)
		rc = -errno;
	close(fd);
	return rc;
}

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int tw_route_resolve(struct tw_rtnl *nl, int family, int ifindex, const uint8_t *addr,
		     unsigned wait_ms, struct tw_neigh *out)
{
	const struct timespec tick = { .tv_nsec = 10 * 1000000L };
	int64_t deadline;
	bool asked = false;
	int rc;

	deadline = now_ms() + wait_ms;
	for (;;) {
		rc = tw_route_neigh(nl, family, ifindex, addr, out);
		if (rc == 0 && tw_route_neigh_usable(out->state) && out->lladdr_len > 0)
			return 0;
		if (rc < 0 && rc != -ENOENT)
			return rc;
		/* after our request, FAILED means ARP/ND gave up */
		if (rc == 0 && asked && (out->state & NUD_FAILED))
			return -EHOSTUNREACH;
		if (!asked) {
			if (tw_route_neigh_use(nl, family, ifindex, addr) < 0) {
				rc = poke_udp(family, ifindex, addr);
				if (rc < 0)
					return rc;
			}
			asked = true;
		}
		if (now_ms() >= deadline)
			return -EHOSTUNREACH;
		nanosleep(&tick, NULL);
	}
}
