/*
 * addrplan.c - the address plan of `tcptwin copy` (see addrplan.h): option
 * parsers for -x/-c/-n/-r/--port-range, -x matching and -r sampling. The
 * replay tuple allocator is in addrplan_alloc.c.
 *
 * Does not read clocks, log, allocate, or touch the network.
 */
#include "copy/addrplan.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "copy/addrplan_int.h"

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
	return tw_ap_ip_to_u128(&r->lo) != 0 && r->hi.a[0] != 0xff;
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
		lo = tw_ap_ip_to_u128(&r.lo) & ~host;
		hi = lo | host;
		if (r.lo.ver == 4 && plen <= 30) {
			lo++;
			hi--;
		} else if (r.lo.ver == 6 && plen <= 126) {
			lo++;
		}
		tw_ap_ip_from_u128(r.lo.ver, lo, &r.lo);
		tw_ap_ip_from_u128(r.lo.ver, hi, &r.hi);
	} else if (dash) {
		size_t alen = (size_t)(dash - s);

		if (tw_ap_parse_ip(s, alen, &r.lo))
			return fail(err, errlen, "-c", "bad address", s, alen, s, n);
		if (tw_ap_parse_ip(dash + 1, n - alen - 1, &r.hi))
			return fail(err, errlen, "-c", "bad address", dash + 1, n - alen - 1, s, n);
		if (r.lo.ver != r.hi.ver)
			return fail(err, errlen, "-c", "range mixes IPv4 and IPv6", s, n, NULL, 0);
		if (tw_ap_ip_to_u128(&r.lo) > tw_ap_ip_to_u128(&r.hi))
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
	lo = tw_ap_ip_to_u128(&r.lo);
	hi = tw_ap_ip_to_u128(&r.hi);
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

/* Whether a session captured over IP version VER can get a replay address
 * toward R's target: -c has addresses of the target's version, or (no -c)
 * the captured client address is kept, so the versions must agree. */
static bool rule_fits(const struct tw_ap_cfg *cfg, const struct tw_ap_rule *r, uint8_t ver)
{
	if (!cfg->ncrange)
		return r->dst_ip.ver == ver;
	for (int i = 0; i < cfg->ncrange; i++) {
		if (cfg->crange[i].lo.ver == r->dst_ip.ver)
			return true;
	}
	return false;
}

const struct tw_ap_rule *tw_ap_match(const struct tw_ap_cfg *cfg, uint8_t ver,
				     const uint8_t dst[16], uint16_t dport)
{
	const struct tw_ap_rule *any = NULL, *any_fit = NULL, *ip = NULL;

	if (ver != 4 && ver != 6)
		return NULL;
	for (int i = 0; i < cfg->nrules; i++) {
		const struct tw_ap_rule *r = &cfg->rule[i];

		if (r->src_port != dport)
			continue;
		if (!r->has_src_ip) {
			if (!any)
				any = r;
			if (!any_fit && rule_fits(cfg, r, ver))
				any_fit = r;
		} else if (r->src_ip.ver == ver && memcmp(r->src_ip.a, dst, tw_ap_ip_len(ver)) == 0) {
			if (rule_fits(cfg, r, ver))
				return r;
			if (!ip)
				ip = r;
		}
	}
	if (ip)
		return ip;
	return any_fit ? any_fit : any;
}

bool tw_ap_sample(const struct tw_ap_cfg *cfg, uint8_t ver, const uint8_t src[16], uint16_t sport)
{
	if (cfg->percent >= 100)
		return true;
	if (ver != 4 && ver != 6)
		return false;
	return tw_ap_mix64(tw_ap_hash_addr(cfg->seed, ver, src) ^ sport) % 100 < cfg->percent;
}
