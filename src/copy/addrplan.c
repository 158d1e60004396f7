/*
 * addrplan.c - the address plan of `tcptwin copy` (see addrplan.h): option
 * parsers for -x/-c/-n/-r/--port-range, -x matching, -r sampling, and the
 * replay tuple allocator with its TIME_WAIT quarantine.
 *
 * Does not read clocks, log, or touch the network; everything the allocator
 * needs is allocated once in tw_ap_create().
 */
#include "copy/addrplan.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef unsigned __int128 u128;

/* ---- small helpers -------------------------------------------------------- */

/* splitmix64's finaliser: a cheap, well-mixed 64-bit hash step. */
static uint64_t mix64(uint64_t x)
{
	x ^= x >> 30;
	x *= 0xbf58476d1ce4e5b9ull;
	x ^= x >> 27;
	x *= 0x94d049bb133111ebull;
	x ^= x >> 31;
	return x;
}

static size_t ip_len(uint8_t ver)
{
	return ver == 4 ? 4 : 16;
}

static uint64_t hash_addr(uint64_t seed, uint8_t ver, const uint8_t a[16])
{
	uint64_t w0 = 0, w1 = 0;

	memcpy(&w0, a, ver == 4 ? 4 : 8);
	if (ver != 4)
		memcpy(&w1, a + 8, 8);
	return mix64(mix64(mix64(seed ^ ver) ^ w0) ^ w1);
}

static bool ip_eq(const struct tw_ap_ip *x, const struct tw_ap_ip *y)
{
	return x->ver == y->ver && memcmp(x->a, y->a, ip_len(x->ver)) == 0;
}

static u128 ip_to_u128(const struct tw_ap_ip *ip)
{
	u128 v = 0;

	for (size_t i = 0; i < ip_len(ip->ver); i++)
		v = v << 8 | ip->a[i];
	return v;
}

static void ip_from_u128(uint8_t ver, u128 v, struct tw_ap_ip *ip)
{
	memset(ip, 0, sizeof(*ip));
	ip->ver = ver;
	for (size_t i = ip_len(ver); i-- > 0; v >>= 8)
		ip->a[i] = (uint8_t)v;
}

/* Copies N bytes of S into DST for a message: non-printable bytes become
 * '?', and a long text is cut with "...". */
static void clean(char *dst, size_t dlen, const char *s, size_t n)
{
	size_t o = 0, max = dlen - 1;

	if (n > max)
		max = dlen > 4 ? dlen - 4 : 0;
	for (size_t i = 0; i < n && o < max; i++)
		dst[o++] = (s[i] >= 0x20 && s[i] <= 0x7e) ? s[i] : '?';
	if (n > o && dlen > 4)
		for (int k = 0; k < 3; k++)
			dst[o++] = '.';
	dst[o] = '\0';
}

/* "OPT: WHAT 'PART' in 'ITEM'" (or without the ITEM when it is the part). */
static int fail(char *err, size_t errlen, const char *opt, const char *what, const char *part,
		size_t plen, const char *item, size_t ilen)
{
	char p[80], it[120];

	if (!err || !errlen)
		return -EINVAL;
	clean(p, sizeof(p), part, plen);
	if (item && (item != part || ilen != plen)) {
		clean(it, sizeof(it), item, ilen);
		snprintf(err, errlen, "%s: %s '%s' in '%s'", opt, what, p, it);
	} else {
		snprintf(err, errlen, "%s: %s '%s'", opt, what, p);
	}
	return -EINVAL;
}

/* Decimal digits only, 1..10 of them, value <= max. */
static int parse_uint(const char *s, size_t n, uint32_t max, uint32_t *out)
{
	uint64_t v = 0;

	if (n == 0 || n > 10)
		return -EINVAL;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -EINVAL;
		v = v * 10 + (uint64_t)(s[i] - '0');
	}
	if (v > max)
		return -EINVAL;
	*out = (uint32_t)v;
	return 0;
}

static int parse_port(const char *s, size_t n, uint16_t *port)
{
	uint32_t v;

	if (parse_uint(s, n, 65535, &v) || v == 0)
		return -EINVAL;
	*port = (uint16_t)v;
	return 0;
}

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

/* xx:xx:xx:xx:xx:xx, one or two hex digits per byte. */
static int parse_mac(const char *s, size_t n, uint8_t mac[6])
{
	size_t i = 0;

	for (int b = 0; b < 6; b++) {
		int v = 0, nd = 0;

		while (i < n && nd < 3 && hexval(s[i]) >= 0) {
			v = v * 16 + hexval(s[i++]);
			nd++;
		}
		if (nd == 0 || nd > 2)
			return -EINVAL;
		mac[b] = (uint8_t)v;
		if (b < 5) {
			if (i >= n || s[i] != ':')
				return -EINVAL;
			i++;
		}
	}
	return i == n ? 0 : -EINVAL;
}

int tw_ap_parse_ip(const char *s, size_t len, struct tw_ap_ip *out)
{
	char buf[INET6_ADDRSTRLEN + 1];
	bool br = false;

	if (len >= 2 && s[0] == '[' && s[len - 1] == ']') {
		s++;
		len -= 2;
		br = true;
	}
	if (len == 0 || len >= sizeof(buf) || memchr(s, '\0', len))
		return -EINVAL;
	memcpy(buf, s, len);
	buf[len] = '\0';
	memset(out, 0, sizeof(*out));
	if (!br && inet_pton(AF_INET, buf, out->a) == 1) {
		out->ver = 4;
		return 0;
	}
	if (inet_pton(AF_INET6, buf, out->a) == 1) {
		out->ver = 6;
		return 0;
	}
	memset(out, 0, sizeof(*out));
	return -EINVAL;
}

const char *tw_ap_ip_str(const struct tw_ap_ip *ip, char *buf, size_t len)
{
	if (!len)
		return buf;
	if (!inet_ntop(ip->ver == 4 ? AF_INET : AF_INET6, ip->a, buf, (socklen_t)len))
		snprintf(buf, len, "?");
	return buf;
}

void tw_ap_cfg_init(struct tw_ap_cfg *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->copies = 1;
	cfg->percent = 100;
	cfg->port_lo = 1024;
	cfg->port_hi = 65535;
	cfg->quarantine_ns = TW_AP_QUARANTINE_NS;
	cfg->max_tuples = TW_AP_DEF_MAX_TUPLES;
	cfg->seed = 0x7463707477696eull; /* "tcptwin" */
}

/* ---- -x --------------------------------------------------------------------- */

/* One end of a -x item: [IP:]PORT[@MAC]; IPv6 in brackets. On error sets
 * *what and the bad part (*bad, *blen). */
struct xend {
	bool has_ip, has_mac;
	struct tw_ap_ip ip;
	uint16_t port;
	uint8_t mac[6];
};

static int parse_xend(const char *s, size_t n, bool need_ip, struct xend *e, const char **what,
		      const char **bad, size_t *blen)
{
	const char *at = memchr(s, '@', n);
	size_t hn = at ? (size_t)(at - s) : n;
	const char *colon = NULL, *port;
	size_t iplen = 0;

	memset(e, 0, sizeof(*e));
	*bad = s;
	*blen = n;
	if (at) {
		e->has_mac = true;
		if (parse_mac(at + 1, n - hn - 1, e->mac)) {
			*what = "bad MAC address";
			*bad = at + 1;
			*blen = n - hn - 1;
			return -EINVAL;
		}
	}
	if (hn && s[0] == '[') {
		const char *close = memchr(s, ']', hn);

		if (!close || close + 1 >= s + hn || close[1] != ':') {
			*what = "bad address";
			*blen = hn;
			return -EINVAL;
		}
		colon = close + 1;
	} else {
		colon = memrchr(s, ':', hn);
	}
	if (colon) {
		iplen = (size_t)(colon - s);
		if (memchr(s, ':', iplen) && s[0] != '[') {
			*what = "IPv6 address needs brackets";
			*blen = hn;
			return -EINVAL;
		}
		if (tw_ap_parse_ip(s, iplen, &e->ip)) {
			*what = "bad address";
			*blen = iplen;
			return -EINVAL;
		}
		e->has_ip = true;
		port = colon + 1;
	} else {
		if (need_ip) {
			*what = "want IP:port, not";
			*blen = hn;
			return -EINVAL;
		}
		port = s;
	}
	if (parse_port(port, (size_t)(s + hn - port), &e->port)) {
		*what = "bad port";
		*bad = port;
		*blen = (size_t)(s + hn - port);
		return -EINVAL;
	}
	return 0;
}

/* "bad port" -> "bad source port" / "bad target port", same for addresses. */
static const char *xwhat(const char *what, const char *side)
{
	static const char *const tab[][3] = {
		{"bad port", "bad source port", "bad target port"},
		{"bad address", "bad source address", "bad target address"},
		{"bad MAC address", "bad source MAC address", "bad next-hop MAC address"},
	};

	for (size_t i = 0; i < sizeof(tab) / sizeof(tab[0]); i++)
		if (!strcmp(what, tab[i][0]))
			return tab[i][side[0] == 's' ? 1 : 2];
	return what;
}

static int parse_x_item(struct tw_ap_cfg *cfg, const char *s, size_t n, char *err, size_t errlen)
{
	const char *dash = memchr(s, '-', n), *what, *bad;
	struct xend src, dst;
	struct tw_ap_rule *r;
	size_t blen;

	if (!dash)
		return fail(err, errlen, "-x", "missing '-' (srcPort-targetIP:targetPort) in", s, n,
			    NULL, 0);
	if (cfg->nrules >= TW_AP_MAX_RULES)
		return fail(err, errlen, "-x", "too many rules (max 64) at", s, n, NULL, 0);
	if (parse_xend(s, (size_t)(dash - s), false, &src, &what, &bad, &blen))
		return fail(err, errlen, "-x", xwhat(what, "source"), bad, blen, s, n);
	if (parse_xend(dash + 1, n - (size_t)(dash - s) - 1, true, &dst, &what, &bad, &blen))
		return fail(err, errlen, "-x", xwhat(what, "target"), bad, blen, s, n);
	r = &cfg->rule[cfg->nrules++];
	memset(r, 0, sizeof(*r));
	r->has_src_ip = src.has_ip;
	r->src_ip = src.ip;
	r->src_port = src.port;
	r->has_src_mac = src.has_mac;
	memcpy(r->src_mac, src.mac, 6);
	r->dst_ip = dst.ip;
	r->dst_port = dst.port;
	r->has_dst_mac = dst.has_mac;
	memcpy(r->dst_mac, dst.mac, 6);
	return 0;
}

/* Splits S at commas and feeds each item to FN; an empty item is an error. */
static int parse_list(struct tw_ap_cfg *cfg, const char *s, const char *opt, char *err,
		      size_t errlen,
		      int (*fn)(struct tw_ap_cfg *, const char *, size_t, char *, size_t))
{
	const char *p = s, *end;
	size_t n;

	if (!s || !*s)
		return fail(err, errlen, opt, "empty argument", "", 0, NULL, 0);
	n = strlen(s);
	end = s + n;
	for (;;) {
		const char *c = memchr(p, ',', (size_t)(end - p));
		size_t len = c ? (size_t)(c - p) : (size_t)(end - p);
		int rc;

		if (len == 0)
			return fail(err, errlen, opt, "empty item in", s, n, NULL, 0);
		rc = fn(cfg, p, len, err, errlen);
		if (rc)
			return rc;
		if (!c)
			return 0;
		p = c + 1;
	}
}

int tw_ap_parse_x(struct tw_ap_cfg *cfg, const char *s, char *err, size_t errlen)
{
	int n = cfg->nrules;
	int rc = parse_list(cfg, s, "-x", err, errlen, parse_x_item);

	if (rc)
		cfg->nrules = n;
	return rc;
}

/* ---- -c --------------------------------------------------------------------- */

static bool usable(const struct tw_ap_crange *r)
{
	if (r->lo.ver == 4)
		return r->lo.a[0] != 0 && r->hi.a[0] < 224;
	return ip_to_u128(&r->lo) != 0 && r->hi.a[0] != 0xff;
}

static int parse_c_item(struct tw_ap_cfg *cfg, const char *s, size_t n, char *err, size_t errlen)
{
	const char *slash = memchr(s, '/', n), *dash = memchr(s, '-', n);
	struct tw_ap_crange r;
	u128 lo, hi;

	if (cfg->ncrange >= TW_AP_MAX_CRANGES)
		return fail(err, errlen, "-c", "too many items (max 64) at", s, n, NULL, 0);
	if (slash) {
		size_t alen = (size_t)(slash - s);
		uint32_t plen, bits;

		if (tw_ap_parse_ip(s, alen, &r.lo))
			return fail(err, errlen, "-c", "bad address", s, alen, s, n);
		bits = r.lo.ver == 4 ? 32 : 128;
		if (parse_uint(slash + 1, n - alen - 1, bits, &plen))
			return fail(err, errlen, "-c", "bad prefix length", slash + 1, n - alen - 1, s,
				    n);
		u128 host = plen == 0 ? ((bits == 128) ? ~(u128)0 : (((u128)1 << bits) - 1))
				      : (((u128)1 << (bits - plen)) - 1);
		lo = ip_to_u128(&r.lo) & ~host;
		hi = lo | host;
		if (r.lo.ver == 4 && plen <= 30) {
			lo++;
			hi--;
		} else if (r.lo.ver == 6 && plen <= 126) {
			lo++;
		}
		ip_from_u128(r.lo.ver, lo, &r.lo);
		ip_from_u128(r.lo.ver, hi, &r.hi);
	} else if (dash) {
		size_t alen = (size_t)(dash - s);

		if (tw_ap_parse_ip(s, alen, &r.lo))
			return fail(err, errlen, "-c", "bad address", s, alen, s, n);
		if (tw_ap_parse_ip(dash + 1, n - alen - 1, &r.hi))
			return fail(err, errlen, "-c", "bad address", dash + 1, n - alen - 1, s, n);
		if (r.lo.ver != r.hi.ver)
			return fail(err, errlen, "-c", "range mixes IPv4 and IPv6", s, n, NULL, 0);
		if (ip_to_u128(&r.lo) > ip_to_u128(&r.hi))
			return fail(err, errlen, "-c", "range ends before it starts", s, n, NULL, 0);
	} else if (n >= 2 && s[n - 2] == '.' && (s[n - 1] == 'x' || s[n - 1] == 'X')) {
		char buf[INET_ADDRSTRLEN + 1];

		/* TCPCopy: a last octet "x" stands for .1 to .254. */
		if (n >= sizeof(buf))
			return fail(err, errlen, "-c", "bad address", s, n, NULL, 0);
		memcpy(buf, s, n - 1);
		buf[n - 1] = '1';
		if (tw_ap_parse_ip(buf, n, &r.lo) || r.lo.ver != 4)
			return fail(err, errlen, "-c", "bad address", s, n, NULL, 0);
		r.hi = r.lo;
		r.hi.a[3] = 254;
	} else {
		if (tw_ap_parse_ip(s, n, &r.lo))
			return fail(err, errlen, "-c", "bad address", s, n, NULL, 0);
		r.hi = r.lo;
	}
	lo = ip_to_u128(&r.lo);
	hi = ip_to_u128(&r.hi);
	if (hi < lo || hi - lo >= TW_AP_MAX_CADDRS ||
	    cfg->ncaddr + (uint32_t)(hi - lo) + 1 > TW_AP_MAX_CADDRS)
		return fail(err, errlen, "-c", "too many addresses (max 4096) in", s, n, NULL, 0);
	if (!usable(&r))
		return fail(err, errlen, "-c", "not a unicast client address", s, n, NULL, 0);
	cfg->crange[cfg->ncrange++] = r;
	cfg->ncaddr += (uint32_t)(hi - lo) + 1;
	return 0;
}

int tw_ap_parse_c(struct tw_ap_cfg *cfg, const char *s, char *err, size_t errlen)
{
	int n = cfg->ncrange;
	uint32_t na = cfg->ncaddr;
	int rc = parse_list(cfg, s, "-c", err, errlen, parse_c_item);

	if (rc) {
		cfg->ncrange = n;
		cfg->ncaddr = na;
	}
	return rc;
}

/* ---- -n, -r, --port-range ------------------------------------------------------ */

int tw_ap_parse_n(struct tw_ap_cfg *cfg, const char *s, char *err, size_t errlen)
{
	uint32_t v;

	if (!s || parse_uint(s, strlen(s), TW_AP_MAX_COPIES, &v) || v == 0)
		return fail(err, errlen, "-n", "number of copies must be 1..1023, not", s ? s : "",
			    s ? strlen(s) : 0, NULL, 0);
	cfg->copies = (uint16_t)v;
	return 0;
}

int tw_ap_parse_r(struct tw_ap_cfg *cfg, const char *s, char *err, size_t errlen)
{
	uint32_t v;

	if (!s || parse_uint(s, strlen(s), 100, &v) || v == 0)
		return fail(err, errlen, "-r", "percentage must be 1..100, not", s ? s : "",
			    s ? strlen(s) : 0, NULL, 0);
	cfg->percent = (uint8_t)v;
	return 0;
}

int tw_ap_parse_ports(struct tw_ap_cfg *cfg, const char *s, char *err, size_t errlen)
{
	size_t n = s ? strlen(s) : 0;
	const char *dash = s ? memchr(s, '-', n) : NULL;
	uint16_t lo, hi;

	if (!dash || parse_port(s, (size_t)(dash - s), &lo) ||
	    parse_port(dash + 1, n - (size_t)(dash - s) - 1, &hi) || lo > hi)
		return fail(err, errlen, "--port-range", "want LO-HI within 1-65535, not",
			    s ? s : "", n, NULL, 0);
	cfg->port_lo = lo;
	cfg->port_hi = hi;
	return 0;
}

/* ---- matching and sampling --------------------------------------------------- */

const struct tw_ap_rule *tw_ap_match(const struct tw_ap_cfg *cfg, uint8_t ver,
				     const uint8_t dst[16], uint16_t dport)
{
	const struct tw_ap_rule *any = NULL;

	if (ver != 4 && ver != 6)
		return NULL;
	for (int i = 0; i < cfg->nrules; i++) {
		const struct tw_ap_rule *r = &cfg->rule[i];

		if (r->src_port != dport)
			continue;
		if (!r->has_src_ip) {
			if (!any)
				any = r;
		} else if (r->src_ip.ver == ver && memcmp(r->src_ip.a, dst, ip_len(ver)) == 0) {
			return r;
		}
	}
	return any;
}

bool tw_ap_sample(const struct tw_ap_cfg *cfg, uint8_t ver, const uint8_t src[16], uint16_t sport)
{
	if (cfg->percent >= 100)
		return true;
	if (ver != 4 && ver != 6)
		return false;
	return mix64(hash_addr(cfg->seed, ver, src) ^ sport) % 100 < cfg->percent;
}

/* ---- the tuple allocator ------------------------------------------------------ */

/*
 * With -c ("dense"): per address, every port of the range has a slot in
 * prev/next/tick arrays (8 bytes). Free and quarantined ports form a list in
 * release order, so only the head needs checking; a live port has
 * prev == next == itself, a skipped (target) port prev == itself and
 * next == NIL. Release times are kept as 32-bit ticks of 2^20 ns (~1 ms)
 * since creation and compared modulo 2^32: a port resting unused for more
 * than ~52 days may look quarantined again for one quarantine (never the
 * other way round), which only delays reuse.
 *
 * Without -c ("sparse"): live and quarantined tuples are entries of a hash
 * table (chained through entry indexes; 0 = none) with a FIFO of the
 * quarantined ones in release order, expired lazily at each allocation.
 */
#define NIL 0xffffu
#define TICK_SHIFT 20
#define PORT_BITS 65536

enum { ENT_FREE = 0, ENT_LIVE, ENT_QUAR };

struct dn_list {
	uint16_t head, tail;
};

struct sp_ent {
	uint8_t a[16];
	uint16_t port;
	uint8_t ver;
	uint8_t state;
	uint32_t hnext;                  /* hash chain */
	uint32_t qnext;                  /* quarantine FIFO, or free list */
	uint64_t t;                      /* release time */
};

struct tw_ap {
	uint16_t lo;
	uint32_t range;                  /* hi - lo + 1 */
	uint16_t copies;
	uint64_t q_ns;
	uint32_t q_ticks;
	uint64_t epoch, last;
	uint64_t seed, ctr;
	uint8_t skip[PORT_BITS / 8];     /* target ports, never handed out */
	/* dense */
	uint32_t naddr, n4;              /* IPv4 addresses first, sorted */
	struct tw_ap_ip *addr;
	struct dn_list *dl;
	uint16_t *prev, *next;
	uint32_t *tick;
	/* sparse */
	uint32_t cap, mask, bump, freel, qhead, qtail;
	struct sp_ent *ent;
	uint32_t *bucket;
	struct tw_ap_stats st;
};

static bool skipped(const struct tw_ap *ap, uint16_t port)
{
	return ap->skip[port >> 3] & (1u << (port & 7));
}

static bool in_range(const struct tw_ap *ap, uint16_t port)
{
	return port >= ap->lo && (uint32_t)(port - ap->lo) < ap->range;
}

static int ip_cmp(const void *x, const void *y)
{
	const struct tw_ap_ip *a = x, *b = y;

	if (a->ver != b->ver)
		return a->ver < b->ver ? -1 : 1;
	return memcmp(a->a, b->a, 16);
}

/* Expands the -c ranges into ap->addr, sorted, without duplicates. */
static int dense_addrs(struct tw_ap *ap, const struct tw_ap_cfg *cfg)
{
	uint32_t n = 0;

	ap->addr = calloc(cfg->ncaddr, sizeof(*ap->addr));
	if (!ap->addr)
		return -ENOMEM;
	for (int i = 0; i < cfg->ncrange; i++) {
		const struct tw_ap_crange *r = &cfg->crange[i];

		for (u128 v = ip_to_u128(&r->lo); v <= ip_to_u128(&r->hi) && n < cfg->ncaddr; v++)
			ip_from_u128(r->lo.ver, v, &ap->addr[n++]);
	}
	qsort(ap->addr, n, sizeof(*ap->addr), ip_cmp);
	ap->naddr = 0;
	for (uint32_t i = 0; i < n; i++)
		if (ap->naddr == 0 || !ip_eq(&ap->addr[ap->naddr - 1], &ap->addr[i]))
			ap->addr[ap->naddr++] = ap->addr[i];
	for (ap->n4 = 0; ap->n4 < ap->naddr && ap->addr[ap->n4].ver == 4; ap->n4++)
		;
	return 0;
}

static int dense_init(struct tw_ap *ap, char *err, size_t errlen)
{
	size_t slots = (size_t)ap->naddr * ap->range;
	size_t bytes = slots * 8 + ap->naddr * (sizeof(struct tw_ap_ip) + sizeof(struct dn_list));
	uint32_t init = (uint32_t)0 - ap->q_ticks; /* "released" one quarantine before creation */

	if (bytes > TW_AP_MAX_DENSE_BYTES) {
		if (err && errlen)
			snprintf(err, errlen,
				 "-c: %u addresses x %u ports need %zu MB (limit %llu MB): "
				 "give fewer -c addresses or a narrower --port-range",
				 ap->naddr, ap->range, bytes >> 20, TW_AP_MAX_DENSE_BYTES >> 20);
		return -EINVAL;
	}
	ap->dl = calloc(ap->naddr, sizeof(*ap->dl));
	ap->prev = malloc(slots * sizeof(*ap->prev));
	ap->next = malloc(slots * sizeof(*ap->next));
	ap->tick = malloc(slots * sizeof(*ap->tick));
	if (!ap->dl || !ap->prev || !ap->next || !ap->tick)
		return -ENOMEM;
	ap->st.bytes += bytes;
	for (uint32_t d = 0; d < ap->naddr; d++) {
		size_t base = (size_t)d * ap->range;
		uint16_t last = NIL;

		ap->dl[d].head = NIL;
		for (uint32_t i = 0; i < ap->range; i++) {
			size_t g = base + i;

			ap->tick[g] = init;
			ap->prev[g] = (uint16_t)i;
			ap->next[g] = NIL;
			if (skipped(ap, (uint16_t)(ap->lo + i)))
				continue;
			ap->prev[g] = last;
			if (last == NIL)
				ap->dl[d].head = (uint16_t)i;
			else
				ap->next[base + last] = (uint16_t)i;
			last = (uint16_t)i;
		}
		ap->dl[d].tail = last;
	}
	return 0;
}

static int sparse_init(struct tw_ap *ap, uint32_t cap)
{
	uint32_t nb = 1;

	while (nb < cap && nb < (1u << 31))
		nb <<= 1;
	ap->cap = cap;
	ap->mask = nb - 1;
	ap->bump = 1;
	/* calloc: pages never touched stay unbacked until used. */
	ap->ent = calloc((size_t)cap + 1, sizeof(*ap->ent));
	ap->bucket = calloc(nb, sizeof(*ap->bucket));
	if (!ap->ent || !ap->bucket)
		return -ENOMEM;
	ap->st.bytes += ((size_t)cap + 1) * sizeof(*ap->ent) + (size_t)nb * sizeof(*ap->bucket);
	return 0;
}

int tw_ap_create(struct tw_ap **out, const struct tw_ap_cfg *cfg, uint64_t now_ns, char *err,
		 size_t errlen)
{
	struct tw_ap *ap;
	int rc;

	*out = NULL;
	if (err && errlen)
		err[0] = '\0';
	if (cfg->port_lo == 0 || cfg->port_lo > cfg->port_hi || cfg->copies == 0 ||
	    cfg->copies > TW_AP_MAX_COPIES || cfg->quarantine_ns > TW_AP_MAX_QUARANTINE_NS ||
	    (cfg->ncaddr == 0 && cfg->max_tuples == 0) || cfg->ncaddr > TW_AP_MAX_CADDRS) {
		if (err && errlen)
			snprintf(err, errlen, "address plan: bad sizes (ports %u-%u, copies %u, "
				 "quarantine %llu ns, max tuples %u)", cfg->port_lo, cfg->port_hi,
				 cfg->copies, (unsigned long long)cfg->quarantine_ns,
				 cfg->max_tuples);
		return -EINVAL;
	}
	ap = calloc(1, sizeof(*ap));
	if (!ap)
		return -ENOMEM;
	ap->lo = cfg->port_lo;
	ap->range = (uint32_t)cfg->port_hi - cfg->port_lo + 1;
	ap->copies = cfg->copies;
	ap->q_ns = cfg->quarantine_ns;
	/* Conservative in ticks: release and now are each floored to a tick. */
	ap->q_ticks = (uint32_t)((cfg->quarantine_ns + (1u << TICK_SHIFT) - 1) >> TICK_SHIFT) + 1;
	ap->epoch = ap->last = now_ns;
	ap->seed = cfg->seed;
	ap->st.bytes = sizeof(*ap);
	ap->st.nports = ap->range;
	for (int i = 0; i < cfg->nrules; i++) {
		uint16_t p = cfg->rule[i].dst_port;

		if (!skipped(ap, p) && in_range(ap, p))
			ap->st.nports--;
		ap->skip[p >> 3] |= (uint8_t)(1u << (p & 7));
	}
	if (ap->st.nports == 0) {
		if (err && errlen)
			snprintf(err, errlen, "--port-range: no client port left in %u-%u once "
				 "the target ports are skipped", cfg->port_lo, cfg->port_hi);
		tw_ap_destroy(ap);
		return -EINVAL;
	}
	if (cfg->ncaddr) {
		rc = dense_addrs(ap, cfg);
		if (!rc)
			rc = dense_init(ap, err, errlen);
	} else {
		rc = sparse_init(ap, cfg->max_tuples);
	}
	if (rc) {
		if (rc == -ENOMEM && err && errlen)
			snprintf(err, errlen, "address plan: out of memory");
		tw_ap_destroy(ap);
		return rc;
	}
	ap->st.naddr = ap->naddr;
	*out = ap;
	return 0;
}

void tw_ap_destroy(struct tw_ap *ap)
{
	if (!ap)
		return;
	free(ap->addr);
	free(ap->dl);
	free(ap->prev);
	free(ap->next);
	free(ap->tick);
	free(ap->ent);
	free(ap->bucket);
	free(ap);
}

/* ---- dense ---- */

static uint32_t now_tick(const struct tw_ap *ap)
{
	return (uint32_t)((ap->last - ap->epoch) >> TICK_SHIFT);
}

static void dense_unlink(struct tw_ap *ap, uint32_t d, uint16_t i)
{
	size_t base = (size_t)d * ap->range, g = base + i;
	uint16_t p = ap->prev[g], n = ap->next[g];

	if (p == NIL)
		ap->dl[d].head = n;
	else
		ap->next[base + p] = n;
	if (n == NIL)
		ap->dl[d].tail = p;
	else
		ap->prev[base + n] = p;
	ap->prev[g] = ap->next[g] = i; /* live */
}

/* A port of address D: the original one when free, else the list head. */
static int dense_take(struct tw_ap *ap, uint32_t d, uint16_t orig_port, uint16_t *port)
{
	size_t base = (size_t)d * ap->range;
	uint32_t now = now_tick(ap);
	uint16_t i, h;

	if (in_range(ap, orig_port)) {
		i = (uint16_t)(orig_port - ap->lo);
		if (ap->prev[base + i] != i && now - ap->tick[base + i] >= ap->q_ticks) {
			dense_unlink(ap, d, i);
			*port = orig_port;
			return 0;
		}
	}
	h = ap->dl[d].head;
	if (h == NIL || now - ap->tick[base + h] < ap->q_ticks)
		return -EAGAIN;
	dense_unlink(ap, d, h);
	*port = (uint16_t)(ap->lo + h);
	return 0;
}

static int dense_alloc(struct tw_ap *ap, const struct tw_ap_ip *orig, uint16_t orig_port,
		       uint8_t ver, unsigned copy, struct tw_ap_tuple *out)
{
	uint32_t off = ver == 4 ? 0 : ap->n4;
	uint32_t nfam = ver == 4 ? ap->n4 : ap->naddr - ap->n4;
	uint32_t base, tries;

	if (nfam == 0)
		return -EAFNOSUPPORT;
	/* Sticky: the same captured client always starts at the same address;
	 * copy i starts i addresses further. */
	base = (uint32_t)((hash_addr(ap->seed ^ 0x6d6170ull, orig->ver, orig->a) + copy) % nfam);
	tries = nfam < 1 + TW_AP_SPILL ? nfam : 1 + TW_AP_SPILL;
	for (uint32_t k = 0; k < tries; k++) {
		uint32_t d = off + (base + k) % nfam;

		if (dense_take(ap, d, orig_port, &out->port) == 0) {
			out->ip = ap->addr[d];
			out->ref = d;
			if (k)
				ap->st.spilled++;
			return 0;
		}
	}
	return -EAGAIN;
}

static int dense_release(struct tw_ap *ap, const struct tw_ap_tuple *t)
{
	uint32_t d = t->ref;
	size_t base = (size_t)d * ap->range, g;
	uint16_t i, tail;

	if (d >= ap->naddr || !ip_eq(&ap->addr[d], &t->ip) || !in_range(ap, t->port))
		return -EINVAL;
	i = (uint16_t)(t->port - ap->lo);
	g = base + i;
	if (ap->prev[g] != i || ap->next[g] != i)
		return -EINVAL;
	tail = ap->dl[d].tail;
	ap->tick[g] = now_tick(ap);
	ap->prev[g] = tail;
	ap->next[g] = NIL;
	if (tail == NIL)
		ap->dl[d].head = i;
	else
		ap->next[base + tail] = i;
	ap->dl[d].tail = i;
	return 0;
}

/* ---- sparse ---- */

static uint32_t sp_bucket(const struct tw_ap *ap, uint8_t ver, const uint8_t a[16], uint16_t port)
{
	return (uint32_t)(mix64(hash_addr(ap->seed, ver, a) ^ port) & ap->mask);
}

static uint32_t sp_find(const struct tw_ap *ap, uint8_t ver, const uint8_t a[16], uint16_t port)
{
	for (uint32_t e = ap->bucket[sp_bucket(ap, ver, a, port)]; e; e = ap->ent[e].hnext) {
		const struct sp_ent *x = &ap->ent[e];

		if (x->port == port && x->ver == ver && memcmp(x->a, a, ip_len(ver)) == 0)
			return e;
	}
	return 0;
}

static void sp_unhash(struct tw_ap *ap, uint32_t e)
{
	const struct sp_ent *x = &ap->ent[e];
	uint32_t *pp = &ap->bucket[sp_bucket(ap, x->ver, x->a, x->port)];

	while (*pp && *pp != e)
		pp = &ap->ent[*pp].hnext;
	if (*pp)
		*pp = x->hnext;
}

/* Frees the quarantined tuples whose quarantine has passed. */
static void sp_expire(struct tw_ap *ap)
{
	while (ap->qhead && ap->last - ap->ent[ap->qhead].t >= ap->q_ns) {
		uint32_t e = ap->qhead;
		struct sp_ent *x = &ap->ent[e];

		ap->qhead = x->qnext;
		sp_unhash(ap, e);
		x->state = ENT_FREE;
		x->qnext = ap->freel;
		ap->freel = e;
	}
	if (!ap->qhead)
		ap->qtail = 0;
}

static int sparse_alloc(struct tw_ap *ap, const struct tw_ap_ip *orig, uint16_t orig_port,
			uint8_t ver, unsigned copy, struct tw_ap_tuple *out)
{
	uint64_t h = hash_addr(ap->seed ^ copy, orig->ver, orig->a) ^ orig_port;
	uint16_t port = 0;
	uint32_t e;
	bool found = false;

	if (orig->ver != ver)
		return -EAFNOSUPPORT;
	sp_expire(ap);
	if (!ap->freel && ap->bump > ap->cap)
		return -EAGAIN;
	if (in_range(ap, orig_port) && !skipped(ap, orig_port) &&
	    !sp_find(ap, ver, orig->a, orig_port)) {
		port = orig_port;
		found = true;
	}
	/* Hashed probes, salted with a counter so that a client reusing one
	 * port many times does not walk the same sequence each time. */
	for (int k = 0; !found && k < TW_AP_PROBES; k++) {
		uint16_t p = (uint16_t)(ap->lo + mix64(h ^ ++ap->ctr) % ap->range);

		ap->st.probes++;
		if (!skipped(ap, p) && !sp_find(ap, ver, orig->a, p)) {
			port = p;
			found = true;
		}
	}
	if (!found)
		return -EAGAIN;
	if (ap->freel) {
		e = ap->freel;
		ap->freel = ap->ent[e].qnext;
	} else {
		e = ap->bump++;
	}
	struct sp_ent *x = &ap->ent[e];
	uint32_t b = sp_bucket(ap, ver, orig->a, port);

	memset(x, 0, sizeof(*x));
	memcpy(x->a, orig->a, ip_len(ver));
	x->ver = ver;
	x->port = port;
	x->state = ENT_LIVE;
	x->hnext = ap->bucket[b];
	ap->bucket[b] = e;
	memset(&out->ip, 0, sizeof(out->ip));
	out->ip.ver = ver;
	memcpy(out->ip.a, orig->a, ip_len(ver));
	out->port = port;
	out->ref = e;
	return 0;
}

static int sparse_release(struct tw_ap *ap, const struct tw_ap_tuple *t)
{
	uint32_t e = t->ref;
	struct sp_ent *x;

	if (e == 0 || e >= ap->bump || e > ap->cap)
		return -EINVAL;
	x = &ap->ent[e];
	if (x->state != ENT_LIVE || x->port != t->port || x->ver != t->ip.ver ||
	    memcmp(x->a, t->ip.a, ip_len(x->ver)) != 0)
		return -EINVAL;
	x->state = ENT_QUAR;
	x->t = ap->last;
	x->qnext = 0;
	if (ap->qtail)
		ap->ent[ap->qtail].qnext = e;
	else
		ap->qhead = e;
	ap->qtail = e;
	return 0;
}

/* ---- entry points ---- */

static void advance(struct tw_ap *ap, uint64_t now_ns)
{
	if (now_ns > ap->last)
		ap->last = now_ns;
}

int tw_ap_alloc(struct tw_ap *ap, const struct tw_ap_ip *orig, uint16_t orig_port,
		uint8_t target_ver, unsigned copy, uint64_t now_ns, struct tw_ap_tuple *out)
{
	int rc;

	if (!orig || (orig->ver != 4 && orig->ver != 6) || (target_ver != 4 && target_ver != 6) ||
	    copy >= ap->copies)
		return -EINVAL;
	advance(ap, now_ns);
	if (ap->naddr)
		rc = dense_alloc(ap, orig, orig_port, target_ver, copy, out);
	else
		rc = sparse_alloc(ap, orig, orig_port, target_ver, copy, out);
	if (rc == -EAGAIN)
		ap->st.refused++;
	if (rc)
		return rc;
	ap->st.allocs++;
	ap->st.live++;
	if (out->port == orig_port)
		ap->st.kept_port++;
	return 0;
}

int tw_ap_release(struct tw_ap *ap, const struct tw_ap_tuple *t, uint64_t now_ns)
{
	int rc;

	advance(ap, now_ns);
	rc = ap->naddr ? dense_release(ap, t) : sparse_release(ap, t);
	if (rc) {
		ap->st.bad_release++;
		return rc;
	}
	ap->st.releases++;
	ap->st.live--;
	return 0;
}

void tw_ap_get_stats(const struct tw_ap *ap, struct tw_ap_stats *st)
{
	*st = ap->st;
}
