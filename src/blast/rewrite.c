/*
 * rewrite.c - the frame rewriter of `tcptwin blast` (see rewrite.h): MACs,
 * IPv4 and IPv6 address maps, --unique-ip, port maps, full checksum
 * recomputation and truncation to the MTU, on one frame in place; and the
 * parsers of the option strings. Pure and allocation-free. Does not
 * re-segment.
 */
#include "blast/rewrite.h"

#include "core/err.h"
#include "pkt/csum.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int tw_rw_parse_mac(const char *s, uint8_t mac[6])
{
	for (int i = 0; i < 6; i++) {
		int h = hexval(s[0]), l = h < 0 ? -1 : hexval(s[1]);

		if (h < 0 || l < 0)
			return -EINVAL;
		mac[i] = (uint8_t)(h << 4 | l);
		s += 2;
		if (i < 5 && *s++ != ':')
			return -EINVAL;
	}
	return *s ? -EINVAL : 0;
}

/* "A.B.C.D/N" of exactly LEN characters. */
static int parse_cidr(const char *s, size_t len, uint32_t *addr, unsigned *bits)
{
	char buf[32], *slash, *end;
	struct in_addr in;
	unsigned long b = 32;

	if (len == 0 || len >= sizeof(buf))
		return -EINVAL;
	memcpy(buf, s, len);
	buf[len] = '\0';
	slash = strchr(buf, '/');
	if (slash) {
		*slash++ = '\0';
		if (*slash < '0' || *slash > '9')
			return -EINVAL;
		b = strtoul(slash, &end, 10);
		if (*end || b > 32)
			return -EINVAL;
	}
	if (inet_pton(AF_INET, buf, &in) != 1)
		return -EINVAL;
	*addr = ntohl(in.s_addr);
	*bits = (unsigned)b;
	return 0;
}

/* "[ADDR6/N]" of exactly LEN characters; host bits cleared. */
static int parse_cidr6(const char *s, size_t len, uint8_t addr[16], unsigned *bits)
{
	char buf[64], *slash, *end;
	unsigned long b = 128;

	if (len < 3 || len >= sizeof(buf) || s[0] != '[' || s[len - 1] != ']')
		return -EINVAL;
	memcpy(buf, s + 1, len - 2);
	buf[len - 2] = '\0';
	slash = strchr(buf, '/');
	if (slash) {
		*slash++ = '\0';
		if (*slash < '0' || *slash > '9')
			return -EINVAL;
		b = strtoul(slash, &end, 10);
		if (*end || b > 128)
			return -EINVAL;
	}
	if (inet_pton(AF_INET6, buf, addr) != 1)
		return -EINVAL;
	for (unsigned i = 0; i < 16; i++) {
		unsigned keep = b >= 8 * (i + 1) ? 8 : b > 8 * i ? (unsigned)b - 8 * i : 0;

		addr[i] &= (uint8_t)(0xff00u >> keep);
	}
	*bits = (unsigned)b;
	return 0;
}

static uint32_t prefix_mask(unsigned bits)
{
	return bits ? 0xffffffffu << (32 - bits) : 0;
}

int tw_rw_parse_ipmap46(const char *s, struct tw_rw_ipmap *maps, unsigned *n,
			struct tw_rw_ipmap6 *maps6, unsigned *n6)
{
	const char *p = s;

	if (!*s)
		return -EINVAL;
	while (*p) {
		const char *comma, *end, *colon;
		uint32_t a, b;
		unsigned ba, bb;

		if (*p == '[') {
			/* [v6/N]:[v6/N]: the separator is the ":" after "]" */
			const char *close = strchr(p, ']');
			struct tw_rw_ipmap6 m;

			if (!maps6 || !close || close[1] != ':' || close[2] != '[')
				return -EINVAL;
			colon = close + 1;
			close = strchr(colon, ']');
			if (!close || (close[1] && close[1] != ','))
				return -EINVAL;
			comma = close[1] ? close + 1 : NULL;
			if (parse_cidr6(p, (size_t)(colon - p), m.from, &ba) ||
			    parse_cidr6(colon + 1, (size_t)(close + 1 - colon - 1), m.to, &bb))
				return -EINVAL;
			if (*n6 >= TW_RW_MAX_MAPS)
				return -E2BIG;
			m.bits = (uint8_t)ba;
			/* the second network supplies the first BA bits */
			for (unsigned i = 0; i < 16; i++) {
				unsigned keep = ba >= 8 * (i + 1) ? 8 : ba > 8 * i ? ba - 8 * i : 0;

				m.to[i] &= (uint8_t)(0xff00u >> keep);
			}
			maps6[(*n6)++] = m;
		} else {
			comma = strchr(p, ',');
			end = comma ? comma : p + strlen(p);
			colon = memchr(p, ':', (size_t)(end - p));
			if (!colon || parse_cidr(p, (size_t)(colon - p), &a, &ba) ||
			    parse_cidr(colon + 1, (size_t)(end - colon - 1), &b, &bb))
				return -EINVAL;
			if (*n >= TW_RW_MAX_MAPS)
				return -E2BIG;
			/* tcpreplay: the host bits of the first network are kept; the
			 * second network supplies the rest */
			maps[*n].mask = prefix_mask(ba);
			maps[*n].from = a & maps[*n].mask;
			maps[*n].to = b & maps[*n].mask;
			(*n)++;
		}
		if (!comma)
			break;
		p = comma + 1;
		if (!*p)
			return -EINVAL;
	}
	return 0;
}

int tw_rw_parse_ipmap(const char *s, struct tw_rw_ipmap *maps, unsigned *n)
{
	return tw_rw_parse_ipmap46(s, maps, n, NULL, NULL);
}

static int parse_port(const char *s, const char **end, uint16_t *port)
{
	char *e;
	unsigned long v;

	if (*s < '0' || *s > '9')
		return -EINVAL;
	v = strtoul(s, &e, 10);
	if (v > 65535)
		return -EINVAL;
	*port = (uint16_t)v;
	*end = e;
	return 0;
}

int tw_rw_parse_portmap(const char *s, struct tw_rw_portmap *maps, unsigned *n)
{
	const char *p = s;

	if (!*s)
		return -EINVAL;
	for (;;) {
		struct tw_rw_portmap m = {0};

		if (parse_port(p, &p, &m.lo))
			return -EINVAL;
		m.hi = m.lo;
		if (*p == '-' && (parse_port(p + 1, &p, &m.hi) || m.hi < m.lo))
			return -EINVAL;
		if (*p != ':' || parse_port(p + 1, &p, &m.to))
			return -EINVAL;
		if (*p == '@') {
			m.to_fixed = true;
			p++;
		}
		if (!m.to_fixed && (uint32_t)m.to + (m.hi - m.lo) > 65535)
			return -EINVAL;
		if (*n >= TW_RW_MAX_PORTS)
			return -E2BIG;
		maps[(*n)++] = m;
		if (!*p)
			return 0;
		if (*p != ',' || !p[1])
			return -EINVAL;
		p++;
	}
}

bool tw_rw_map_ip(const struct tw_rw_ipmap *maps, unsigned n, uint32_t *addr)
{
	for (unsigned i = 0; i < n; i++) {
		if ((*addr & maps[i].mask) == maps[i].from) {
			*addr = maps[i].to | (*addr & ~maps[i].mask);
			return true;
		}
	}
	return false;
}

bool tw_rw_map_ip6(const struct tw_rw_ipmap6 *maps, unsigned n, uint8_t *addr)
{
	for (unsigned i = 0; i < n; i++) {
		unsigned bits = maps[i].bits, full = bits / 8, rest = bits % 8;
		uint8_t m = (uint8_t)(0xff00u >> rest);

		if (memcmp(addr, maps[i].from, full) ||
		    (rest && (addr[full] & m) != maps[i].from[full]))
			continue;
		memcpy(addr, maps[i].to, full);
		if (rest)
			addr[full] = (uint8_t)((addr[full] & ~m) | maps[i].to[full]);
		return true;
	}
	return false;
}

bool tw_rw_map_port(const struct tw_rw_portmap *maps, unsigned n, uint16_t *port)
{
	for (unsigned i = 0; i < n; i++) {
		if (*port >= maps[i].lo && *port <= maps[i].hi) {
			*port = maps[i].to_fixed ? maps[i].to
						 : (uint16_t)(maps[i].to + (*port - maps[i].lo));
			return true;
		}
	}
	return false;
}

bool tw_rw_active(const struct tw_rw_cfg *c)
{
	return c->has_srcmac || c->has_dstmac || c->nsrcmap || c->ndstmap || c->nport ||
	       c->nsrcmap6 || c->ndstmap6 || c->fixcsum || c->mtu_trunc;
}

static uint32_t rd32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void wr32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static void wr16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

/* Addresses of an IPv4 header: maps, then the --unique-ip offset. */
static bool rewrite_v4_addrs(const struct tw_rw_cfg *c, uint8_t *ip, uint32_t uniq)
{
	uint32_t s = rd32(ip + 12), d = rd32(ip + 16), s0 = s, d0 = d;

	tw_rw_map_ip(c->srcmap, c->nsrcmap, &s);
	tw_rw_map_ip(c->dstmap, c->ndstmap, &d);
	s += uniq;
	d += uniq;
	wr32(ip + 12, s);
	wr32(ip + 16, d);
	return s != s0 || d != d0;
}

/* Addresses of an IPv6 header: maps, then UNIQ added to the low 32 bits. */
static bool rewrite_v6_addrs(const struct tw_rw_cfg *c, uint8_t *ip, uint32_t uniq)
{
	uint8_t s0[16], d0[16];

	memcpy(s0, ip + 8, 16);
	memcpy(d0, ip + 24, 16);
	tw_rw_map_ip6(c->srcmap6, c->nsrcmap6, ip + 8);
	tw_rw_map_ip6(c->dstmap6, c->ndstmap6, ip + 24);
	if (uniq) {
		wr32(ip + 8 + 12, rd32(ip + 8 + 12) + uniq);
		wr32(ip + 24 + 12, rd32(ip + 24 + 12) + uniq);
	}
	return memcmp(s0, ip + 8, 16) || memcmp(d0, ip + 24, 16);
}

static bool rewrite_ports(const struct tw_rw_cfg *c, uint8_t *l4)
{
	uint16_t sp = (uint16_t)(l4[0] << 8 | l4[1]), dp = (uint16_t)(l4[2] << 8 | l4[3]);
	bool ch = tw_rw_map_port(c->port, c->nport, &sp);

	ch |= tw_rw_map_port(c->port, c->nport, &dp);
	if (ch) {
		wr16(l4, sp);
		wr16(l4 + 2, dp);
	}
	return ch;
}

/* Cut the IP packet at L3 (of *IPLEN bytes) to MTU bytes. */
static bool truncate_ip(uint8_t *l3, size_t *iplen, uint32_t mtu, const struct tw_csum_loc *loc)
{
	if (mtu < 68 || *iplen <= mtu)
		return false;
	*iplen = mtu;
	if (loc->ipver == 4)
		wr16(l3 + 2, (uint16_t)mtu);
	else
		wr16(l3 + 4, (uint16_t)(mtu - 40));
	return true;
}

int tw_rw_frame(const struct tw_rw_cfg *c, uint8_t *frame, size_t *len, size_t l3off,
		uint32_t uniq)
{
	struct tw_csum_loc loc;
	uint8_t *l3 = frame + l3off;
	size_t iplen;
	bool ip_changed = false, later_frag;
	int flags = 0, rc;

	if (*len >= 12) {
		if (c->has_dstmac && memcmp(frame, c->dstmac, 6)) {
			memcpy(frame, c->dstmac, 6);
			flags |= TW_RW_CHANGED;
		}
		if (c->has_srcmac && memcmp(frame + 6, c->srcmac, 6)) {
			memcpy(frame + 6, c->srcmac, 6);
			flags |= TW_RW_CHANGED;
		}
	}
	if (!l3off || l3off >= *len)
		return flags;
	rc = tw_csum_locate(l3, *len - l3off, &loc);
	if (rc < 0)
		return rc;
	iplen = loc.ip_len;
	if (loc.ipver == 4 && (c->nsrcmap || c->ndstmap || uniq))
		ip_changed |= rewrite_v4_addrs(c, l3, uniq);
	else if (loc.ipver == 6 && (c->nsrcmap6 || c->ndstmap6 || uniq))
		ip_changed |= rewrite_v6_addrs(c, l3, uniq);
	/* ports only where the transport header is: not in later fragments
	 * (an IPv6 fragment's offset is not at hand here: skipped) */
	later_frag = loc.frag && (loc.ipver != 4 || ((l3[6] & 0x1f) | l3[7]));
	if (c->nport && (loc.proto == 6 || loc.proto == 17) && loc.l4_len >= 4 && !later_frag)
		ip_changed |= rewrite_ports(c, l3 + loc.l4_off);
	if (ip_changed)
		flags |= TW_RW_CHANGED;
	if (c->mtu_trunc && truncate_ip(l3, &iplen, c->mtu, &loc)) {
		flags |= TW_RW_TRUNC;
		ip_changed = true;
		*len = l3off + iplen;
		if (loc.proto == 17 && !later_frag && iplen >= loc.l4_off + 8)
			wr16(l3 + loc.l4_off + 4, (uint16_t)(iplen - loc.l4_off));
	}
	if (!ip_changed && !c->fixcsum)
		return flags;
	rc = tw_csum_fix_packet(l3, iplen);
	if (rc < 0)
		return rc;
	return flags | TW_RW_CSUM;
}
