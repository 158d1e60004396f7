/*
 * print.c - one text line per frame, byte for byte what `tcpdump -n` 4.99.3
 * prints (without -v/-e), for the protocols tcptwin deals with. This file is
 * the printer's core: the time stamp, IPv4, IPv6 (HBH, DSTOPT, routing and
 * fragment headers), IP-in-IP, TCP with options and relative sequence numbers
 * (the conversation table), the HTTP first-line hint on ports 80/8080, UDP,
 * and tw_print_frame. Link layers, ARP and ICMP are in print_l2.c; VXLAN,
 * Geneve, GRE and ERSPAN in print_tun.c; print_int.h joins them. Truncated
 * headers end the line with tcpdump's "[|proto]".
 *
 * The printer walks the bytes itself, layer by layer, like tcpdump: the
 * output of a cut or malformed packet depends on exactly where the bytes end,
 * which a decoded summary (struct tw_pkt) cannot tell. Every read is bounds
 * checked (struct tw_rd or an explicit length test). Deliberately not done:
 * the many other application protocols tcpdump recognises by port (DNS, NTP,
 * SSH, BGP...): they print as plain TCP/UDP here.
 *
 * A VXLAN frame prints on two lines, as tcpdump does ("vni N\n" then the inner
 * frame). With cfg->decap only the innermost frame is printed after the time.
 * No allocation after tw_print_new; no I/O.
 */
#include "capture/print.h"

#include "capture/print_int.h"
#include "capture/source.h"
#include "pkt/cursor.h"
#include "pkt/decode.h"

#include <arpa/inet.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MAX_DEPTH 6                      /* IP layers in one frame, at most */

struct ipctx {
	int ver;
	const uint8_t *src, *dst;        /* 4 or 16 bytes */
	bool direct;                     /* transport header follows the IP header at once */
	bool fragmented;                 /* first fragment: the transport length runs past it */
};

void tw_prn_op(struct tw_prn_out *o, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (o->len + 1 >= o->cap)
		return;
	va_start(ap, fmt);
	n = vsnprintf(o->b + o->len, o->cap - o->len, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	o->len += (size_t)n;
	if (o->len >= o->cap)
		o->len = o->cap - 1;
}

void tw_prn_trunc(struct tw_prn_out *o, const char *proto)
{
	tw_prn_op(o, " [|%s]", proto);
}

const char *tw_prn_addr(int ver, const uint8_t *a, char *buf, size_t len)
{
	if (!inet_ntop(ver == 6 ? AF_INET6 : AF_INET, a, buf, (socklen_t)len))
		snprintf(buf, len, "?");
	return buf;
}

static bool is_print(uint8_t c)
{
	return c >= 0x20 && c < 0x7f;
}

/* ---- conversations (tcpdump's tcp_seq_hash semantics) ---- */

static uint32_t key_hash(const uint8_t *k)
{
	uint32_t h = 2166136261u;

	for (size_t i = 0; i < TW_PRN_CONV_KEYLEN; i++)
		h = (h ^ k[i]) * 16777619u;
	return h;
}

/* Find the entry for KEY; create (replacing the LRU way) when absent.
 * *FOUND tells which. Never fails. */
static struct tw_prn_conv *conv_get(struct tw_printer *pr, const uint8_t *key, bool *found)
{
	struct tw_prn_conv *set = &pr->conv[(key_hash(key) % TW_PRN_CONV_SETS) * TW_PRN_CONV_WAYS];
	struct tw_prn_conv *victim = &set[0];

	if (++pr->clock == 0) { /* wrapped: age everything equally */
		for (size_t i = 0; i < TW_PRN_CONV_SETS * TW_PRN_CONV_WAYS; i++)
			if (pr->conv[i].stamp)
				pr->conv[i].stamp = 1;
		pr->clock = 2;
	}
	for (int i = 0; i < TW_PRN_CONV_WAYS; i++) {
		if (set[i].stamp && memcmp(set[i].key, key, TW_PRN_CONV_KEYLEN) == 0) {
			set[i].stamp = pr->clock;
			*found = true;
			return &set[i];
		}
		if (set[i].stamp < victim->stamp)
			victim = &set[i];
	}
	memcpy(victim->key, key, TW_PRN_CONV_KEYLEN);
	victim->stamp = pr->clock;
	*found = false;
	return victim;
}

/* ---- HTTP first line (tcpdump's txtproto_print, non-verbose) ---- */

static const char *const http_cmds[] = {
	"OPTIONS", "GET", "HEAD", "POST", "PUT", "DELETE", "TRACE", "CONNECT", "PATCH", "PROPFIND",
	"PROPPATCH", "MKCOL", "COPY", "MOVE", "LOCK", "UNLOCK", "POLL", "BCOPY", "BMOVE", "SEARCH",
	"BDELETE", "BPROPFIND", "BPROPPATCH", "NOTIFY", "SUBSCRIBE", "UNSUBSCRIBE", "ACL", "CHECKIN",
	"CHECKOUT", "LABEL", "MERGE", "MKACTIVITY", "MKWORKSPACE", "REPORT", "UNCHECKOUT", "UPDATE",
	"VERSION-CONTROL", "BASELINE-CONTROL", "MKREDIRECTREF", "UPDATEREDIRECTREF", "ORDERPATCH",
	"MKCALENDAR", "BIND", "UNBIND", "REBIND", NULL,
};

#define MAX_TOKEN 128

/* Next token from IDX (LEN declared bytes, CAP captured); 0 when none. */
static size_t fetch_token(const uint8_t *p, size_t idx, size_t len, size_t cap, char *tok,
			  size_t toklen)
{
	size_t n = 0;

	for (; idx < len; idx++) {
		if (idx >= cap)
			return 0;
		uint8_t c = p[idx];
		if (c == ' ' || c == '\t' || c == '\r' || c == '\n')
			break;
		if (!is_print(c))
			return 0;
		if (n + 2 > toklen)
			return 0;
		tok[n++] = (char)c;
	}
	if (n == 0)
		return 0;
	tok[n] = '\0';
	for (; idx < len && idx < cap; idx++) {
		uint8_t c = p[idx];
		if (c == '\r' || c == '\n' || (c != ' ' && c != '\t'))
			break;
	}
	return idx;
}

static void http_print(struct tw_prn_out *o, const uint8_t *p, size_t len, size_t cap)
{
	char tok[MAX_TOKEN + 1];
	bool show = false;
	size_t idx, i;

	idx = fetch_token(p, 0, len, cap, tok, sizeof(tok));
	if (idx) {
		for (i = 0; http_cmds[i]; i++)
			if (strcasecmp(tok, http_cmds[i]) == 0)
				show = true;
		idx = fetch_token(p, idx, len, cap, tok, sizeof(tok));
		if (idx && tok[0] >= '0' && tok[0] <= '9' && tok[1] >= '0' && tok[1] <= '9' &&
		    tok[2] >= '0' && tok[2] <= '9' && tok[3] == '\0')
			show = true;
	}
	tw_prn_op(o, "HTTP");
	if (!show)
		return;
	for (i = 0; i < len; i++) {
		if (i >= cap) {
			tw_prn_trunc(o, "http");
			return;
		}
		if (p[i] == '\n') {
			tw_prn_op(o, ": %.*s", (int)i, (const char *)p);
			return;
		}
		if (p[i] == '\r') {
			if (i + 1 >= len)
				return;
			if (i + 1 >= cap) {
				tw_prn_trunc(o, "http");
				return;
			}
			if (p[i + 1] == '\n')
				tw_prn_op(o, ": %.*s", (int)i, (const char *)p);
			return;
		}
		if (!is_print(p[i]) && p[i] != '\t')
			return;
	}
	/* printable up to the end without a line ending: tcpdump calls it truncated */
	tw_prn_op(o, ": %.*s", (int)len, (const char *)p);
	tw_prn_trunc(o, "http");
}

/* ---- TCP ---- */

enum { OPT_OK, OPT_BAD, OPT_TRUNC };

/* tcpdump's names of TCP option kinds (its tcp_option_values); NULL prints
 * as "unknown-N". Options tcpdump decodes in detail that tcptwin does not
 * (md5, mptcp, tcp-ao, exp...) get the generic hex form. */
static const char *const tcpopt_names[256] = {
	[0] = "eol", [1] = "nop", [2] = "mss", [3] = "wscale", [4] = "sackOK", [5] = "sack",
	[6] = "echo", [7] = "echoreply", [8] = "TS", [11] = "cc", [12] = "ccnew", [13] = "",
	[19] = "md5", [28] = "uto", [29] = "tcp-ao", [30] = "mptcp", [34] = "tfo", [254] = "exp",
};

/* N (1..4) bytes big-endian. */
static uint32_t load_be(const uint8_t *d, unsigned n)
{
	uint32_t v = 0;

	for (unsigned i = 0; i < n; i++)
		v = v << 8 | d[i];
	return v;
}

static void op_hex(struct tw_prn_out *o, const uint8_t *d, size_t n)
{
	for (size_t i = 0; i < n; i++)
		tw_prn_op(o, "%02x", d[i]);
}

/* TCP options as tcpdump prints them. Returns OPT_* (the caller stops the
 * line after OPT_BAD/OPT_TRUNC; the marker is already printed). */
static int tcp_options(struct tw_prn_out *o, const uint8_t *cp, size_t hlen, size_t cap, bool rev,
		       uint32_t thseq, uint32_t thack)
{
	char ch = '\0';
	size_t pos = 0; /* offset of cp's next byte from the options' start */

	/* An option's data is inside the header (else "bad opt") and was
	 * captured (else truncated). */
#define NEED(l)                                                                                    \
	do {                                                                                       \
		if ((l) > hlen)                                                                    \
			goto bad;                                                                  \
		if (pos + (l) > cap)                                                               \
			goto trunc;                                                                \
	} while (0)

	tw_prn_op(o, ", options [");
	while (hlen > 0) {
		unsigned opt, len, datalen = 0, i;

		if (ch)
			tw_prn_op(o, "%c", ch);
		if (pos >= cap)
			goto trunc_plain;
		opt = cp[pos++];
		if (opt == 0 || opt == 1) {
			len = 1;
		} else {
			if (pos >= cap)
				goto trunc_plain;
			len = cp[pos++];
			if (len < 2 || len > hlen)
				goto bad;
			hlen--;
		}
		hlen--;
		/* here pos <= cap, and the data (len - 2 bytes) fits in hlen */
		const uint8_t *d = cp + pos;
		if (tcpopt_names[opt])
			tw_prn_op(o, "%s", tcpopt_names[opt]);
		else
			tw_prn_op(o, "unknown-%u", opt);
		switch (opt) {
		case 0: case 1: case 4: break;
		case 2: case 3: case 6: case 7: case 11: case 12: case 13:
			/* one number: mss 2 bytes, wscale 1, the others 4 */
			datalen = opt == 2 ? 2 : opt == 3 ? 1 : 4;
			NEED(datalen);
			tw_prn_op(o, " %u", load_be(d, datalen));
			break;
		case 5:
			datalen = len - 2;
			if (datalen % 8 != 0) {
				tw_prn_op(o, " invalid sack");
				break;
			}
			tw_prn_op(o, " %u ", datalen / 8);
			for (i = 0; i < datalen; i += 8) {
				uint32_t s, e;
				NEED(i + 4);
				s = tw_load_be32(d + i);
				NEED(i + 8);
				e = tw_load_be32(d + i + 4);
				s -= rev ? thseq : thack;
				e -= rev ? thseq : thack;
				tw_prn_op(o, "{%u:%u}", s, e);
			}
			break;
		case 8:
			datalen = 8;
			NEED(datalen);
			tw_prn_op(o, " val %u ecr %u", tw_load_be32(d), tw_load_be32(d + 4));
			break;
		case 28: {
			unsigned uto;
			datalen = 2;
			NEED(datalen);
			uto = tw_load_be16(d);
			tw_prn_op(o, " 0x%x", uto);
			tw_prn_op(o, " %u", uto & 1 ? (uto >> 1) * 60 : uto >> 1);
			break;
		}
		case 34:
			datalen = len - 2;
			NEED(datalen);
			tw_prn_op(o, " ");
			if (datalen == 0) {
				tw_prn_op(o, " cookiereq");
			} else if (datalen % 2 || datalen < 4 || datalen > 16) {
				tw_prn_op(o, " (invalid)");
			} else {
				tw_prn_op(o, " cookie ");
				op_hex(o, d, datalen);
			}
			break;
		default:
			/* the captured part, then the truncation marker if cut */
			datalen = len - 2;
			if (datalen)
				tw_prn_op(o, " 0x");
			op_hex(o, d, datalen < cap - pos ? datalen : cap - pos);
			NEED(datalen);
			break;
		}
		pos += datalen;
		hlen -= datalen;
		datalen++;
		if (opt > 1)
			datalen++;
		if (datalen != len)
			tw_prn_op(o, "[len %u]", len);
		ch = ',';
		if (opt == 0)
			break;
	}
	tw_prn_op(o, "]");
	return OPT_OK;
bad:
	tw_prn_op(o, "[bad opt]");
	if (ch)
		tw_prn_op(o, "]");
	return OPT_BAD;
trunc:
	tw_prn_trunc(o, "tcp");
	if (ch)
		tw_prn_op(o, ">");
	return OPT_TRUNC;
trunc_plain:
	tw_prn_trunc(o, "tcp");
	return OPT_TRUNC;
#undef NEED
}

static void ports_prefix(struct tw_prn_out *o, const struct ipctx *ip, uint16_t sp, uint16_t dp)
{
	char a[INET6_ADDRSTRLEN], b[INET6_ADDRSTRLEN];

	if (ip->direct)
		tw_prn_op(o, "%s.%u > %s.%u: ", tw_prn_addr(ip->ver, ip->src, a, sizeof(a)), sp,
			  tw_prn_addr(ip->ver, ip->dst, b, sizeof(b)), dp);
	else
		tw_prn_op(o, "%u > %u: ", sp, dp);
}

static void addrs_prefix(struct tw_prn_out *o, const struct ipctx *ip)
{
	char a[INET6_ADDRSTRLEN], b[INET6_ADDRSTRLEN];

	tw_prn_op(o, "%s > %s:", tw_prn_addr(ip->ver, ip->src, a, sizeof(a)),
		  tw_prn_addr(ip->ver, ip->dst, b, sizeof(b)));
}

/* P: TCP header and payload, CAP captured bytes, LEN declared bytes. */
static void tcp_print(struct tw_printer *pr, struct tw_prn_out *o, const struct ipctx *ip,
		      const uint8_t *p, size_t cap, size_t len)
{
	uint16_t sp, dp, win, urp, flags;
	uint32_t seq, ack, thseq = 0, thack = 0;
	size_t hlen;
	bool rev = false;

	if (cap < 4) {
		addrs_prefix(o, ip);
		tw_prn_trunc(o, "tcp");
		return;
	}
	sp = tw_load_be16(p);
	dp = tw_load_be16(p + 2);
	ports_prefix(o, ip, sp, dp);
	if (cap < 20) {
		tw_prn_trunc(o, "tcp");
		return;
	}
	hlen = (size_t)(p[12] >> 4) * 4;
	if (hlen < 20) {
		tw_prn_op(o, " tcp %u [bad hdr length %zu - too short, < 20]", (unsigned)(len - hlen),
			  hlen);
		return;
	}
	seq = tw_load_be32(p + 4);
	ack = tw_load_be32(p + 8);
	flags = p[13];
	win = tw_load_be16(p + 14);
	urp = tw_load_be16(p + 18);

	static const char letters[] = "FSRP.UEW";
	char fl[10];
	size_t nf = 0;
	for (int i = 0; i < 8; i++)
		if (flags & (1u << i))
			fl[nf++] = letters[i];
	fl[nf] = '\0';
	tw_prn_op(o, "Flags [%s]", nf ? fl : "none");

	if (!pr->cfg.absolute_seq && (flags & TW_TH_ACK)) {
		uint8_t key[TW_PRN_CONV_KEYLEN] = {0};
		size_t al = ip->ver == 6 ? 16 : 4;
		bool found;

		rev = sp > dp || (sp == dp && memcmp(ip->src, ip->dst, al) > 0);
		key[0] = (uint8_t)ip->ver;
		memcpy(key + 1, rev ? ip->dst : ip->src, al);
		memcpy(key + 17, rev ? ip->src : ip->dst, al);
		tw_store_be16(key + 33, rev ? dp : sp);
		tw_store_be16(key + 35, rev ? sp : dp);
		struct tw_prn_conv *c = conv_get(pr, key, &found);
		if (!found || (flags & TW_TH_SYN)) {
			if (rev) {
				c->ack = seq;
				c->seq = ack - 1;
			} else {
				c->seq = seq;
				c->ack = ack - 1;
			}
		} else if (rev) {
			seq -= c->ack;
			ack -= c->seq;
		} else {
			seq -= c->seq;
			ack -= c->ack;
		}
		thseq = c->seq;
		thack = c->ack;
	}
	if (hlen > len) {
		tw_prn_op(o, " [bad hdr length %zu - too long, > %zu]", hlen, len);
		return;
	}
	len -= hlen;
	if (len > 0 || (flags & (TW_TH_SYN | TW_TH_FIN | TW_TH_RST))) {
		tw_prn_op(o, ", seq %u", seq);
		if (len > 0)
			tw_prn_op(o, ":%u", seq + (uint32_t)len);
	}
	if (flags & TW_TH_ACK)
		tw_prn_op(o, ", ack %u", ack);
	tw_prn_op(o, ", win %u", win);
	if (flags & TW_TH_URG)
		tw_prn_op(o, ", urg %u", urp);
	if (hlen > 20 && tcp_options(o, p + 20, hlen - 20, cap - 20, rev, thseq, thack) != OPT_OK)
		return;
	tw_prn_op(o, ", length %zu", len);
	if (len > 0 && (sp == 80 || dp == 80 || sp == 8080 || dp == 8080)) {
		tw_prn_op(o, ": ");
		http_print(o, p + hlen, len, cap > hlen ? cap - hlen : 0);
	}
}

/* ---- UDP ---- */

static void udp_print(struct tw_printer *pr, struct tw_prn_out *o, const struct ipctx *ip,
		      const uint8_t *p, size_t cap, size_t len)
{
	uint16_t sp, dp, ulen;

	if (cap < 8) {
		if (cap >= 4)
			ports_prefix(o, ip, tw_load_be16(p), tw_load_be16(p + 2));
		else {
			addrs_prefix(o, ip);
			tw_prn_op(o, " ");
		}
		tw_prn_trunc(o, "udp");
		return;
	}
	sp = tw_load_be16(p);
	dp = tw_load_be16(p + 2);
	ulen = tw_load_be16(p + 4);
	ports_prefix(o, ip, sp, dp);
	if (ulen < 8) {
		tw_prn_op(o, "truncated-udplength %u", ulen);
		return;
	}
	/* a first fragment carries only part of the datagram: print what is
	 * there, as tcpdump does (its udp_print is told "fragmented") */
	if (ulen > len && !ip->fragmented) {
		tw_prn_op(o, "truncated-udp - %zu bytes missing!", ulen - len);
		return;
	}
	len = (ulen < len ? ulen : len) - 8u;
	cap -= 8;
	if (cap > len)
		cap = len;
	if (!tw_prn_udp_tunnel(pr, o, sp, dp, p + 8, cap, len))
		tw_prn_op(o, "UDP, length %zu", len);
}

/* ---- IP ---- */

static void ip_demux(struct tw_printer *pr, struct tw_prn_out *o, const struct ipctx *ip,
		     uint8_t proto, const uint8_t *p, size_t cap, size_t len)
{
	if (++o->depth > MAX_DEPTH) {
		tw_prn_op(o, "[too many encapsulations]");
		return;
	}
	switch (proto) {
	case 6: tcp_print(pr, o, ip, p, cap, len); return;
	case 17: udp_print(pr, o, ip, p, cap, len); return;
	default: break;
	}
	if (ip->ver == 4) { /* ip6_print has printed them already */
		addrs_prefix(o, ip);
		tw_prn_op(o, " ");
	}
	switch (proto) {
	case 1: tw_prn_icmp(o, p, cap, len); break;
	case 58: tw_prn_icmp6(o, p, cap, len); break;
	case 47: tw_prn_gre(pr, o, p, cap, len); break;
	case 4: tw_prn_ip4(pr, o, p, cap, len); break;
	case 41: tw_prn_ip6(pr, o, p, cap, len); break;
	default: tw_prn_op(o, " ip-proto-%u %zu", proto, len); break;
	}
}

/* CAP captured, LEN bytes on the wire from P. */
void tw_prn_ip4(struct tw_printer *pr, struct tw_prn_out *o, const uint8_t *p, size_t cap,
		size_t len)
{
	size_t hlen, tot;
	struct ipctx ip = {.ver = 4, .direct = true};

	if (cap < 1) {
		tw_prn_trunc(o, "ip");
		return;
	}
	if ((p[0] >> 4) != 4) {
		if ((p[0] >> 4) == 6)
			tw_prn_op(o, "IP6, wrong link-layer encapsulation");
		else
			tw_prn_op(o, "IP%u", p[0] >> 4);
		tw_prn_op(o, " (invalid)");
		return;
	}
	tw_prn_op(o, "IP ");
	if (cap < 20) {
		tw_prn_trunc(o, "ip");
		return;
	}
	hlen = (size_t)(p[0] & 15) * 4;
	if (hlen < 20) {
		tw_prn_op(o, "bad-hlen %zu", hlen);
		return;
	}
	tot = tw_load_be16(p + 2);
	if (len < tot)
		tw_prn_op(o, "truncated-ip - %zu bytes missing! ", tot - len);
	if (tot < hlen) {
		tw_prn_op(o, "bad-len %zu", tot);
		return;
	}
	if (cap > tot)
		cap = tot;
	if (cap < hlen) {
		tw_prn_trunc(o, "ip");
		return;
	}
	ip.src = p + 12;
	ip.dst = p + 16;
	uint16_t frag = tw_load_be16(p + 6);
	if ((frag & 0x1fff) == 0) {
		ip.fragmented = (frag & 0x2000) != 0;
		ip_demux(pr, o, &ip, p[9], p + hlen, cap - hlen, tot - hlen);
	} else {
		addrs_prefix(o, &ip);
		tw_prn_op(o, " ip-proto-%u", p[9]);
	}
}

void tw_prn_ip6(struct tw_printer *pr, struct tw_prn_out *o, const uint8_t *p, size_t cap,
		size_t len)
{
	struct ipctx ip = {.ver = 6, .direct = true};
	size_t plen, off = 40, tot;
	uint8_t nh;

	if (cap < 40) {
		tw_prn_trunc(o, "ip6");
		return;
	}
	tw_prn_op(o, "IP6 ");
	plen = tw_load_be16(p + 4);
	tot = plen + 40;
	if (plen == 0)
		tot = len; /* jumbogram or GSO packet: go by what was captured */
	if (len < tot)
		tw_prn_op(o, "truncated-ip6 - %zu bytes missing!", tot - len);
	if (cap > tot)
		cap = tot;
	ip.src = p + 8;
	ip.dst = p + 24;
	nh = p[6];
	if (nh != 6 && nh != 17) {
		ip.direct = false;
		addrs_prefix(o, &ip);
		tw_prn_op(o, " ");
	}
	for (;;) {
		if (nh == 0 || nh == 60 || nh == 43) {
			if (off + 2 > cap || off + ((size_t)p[off + 1] + 1) * 8 > cap) {
				tw_prn_trunc(o, nh == 0 ? "hbhopt" : nh == 60 ? "dstopt" : "rt6");
				return;
			}
			tw_prn_op(o, "%s ", nh == 0 ? "HBH" : nh == 60 ? "DSTOPT" : "srcrt");
			nh = p[off];
			off += ((size_t)p[off + 1] + 1) * 8;
		} else if (nh == 44) {
			if (off + 4 > cap) {
				tw_prn_trunc(o, "frag6");
				return;
			}
			uint16_t fo = tw_load_be16(p + off + 2);
			tw_prn_op(o, "frag (%u|%zu) ", fo & 0xfff8,
				  tot > off + 8 ? tot - off - 8 : 0);
			nh = p[off];
			off += 8;
			ip.fragmented = true;
			/* tcpdump stops quietly after a later fragment, or when
			 * nothing of the next header was captured */
			if ((fo & 0xfff8) || off >= cap)
				return;
		} else {
			break;
		}
	}
	ip_demux(pr, o, &ip, nh, p + off, cap > off ? cap - off : 0, tot - off);
}

void tw_prn_ip_any(struct tw_printer *pr, struct tw_prn_out *o, const uint8_t *p, size_t cap,
		   size_t len)
{
	if (cap >= 1 && (p[0] >> 4) == 6)
		tw_prn_ip6(pr, o, p, cap, len);
	else
		tw_prn_ip4(pr, o, p, cap, len);
}

/* ---- public ---- */

struct tw_printer *tw_print_new(const struct tw_print_cfg *cfg)
{
	struct tw_printer *pr = calloc(1, sizeof(*pr));

	if (!pr)
		return NULL;
	pr->cfg = *cfg;
	if (cfg->dcfg)
		pr->dcfg = *cfg->dcfg;
	else
		tw_decode_cfg_init(&pr->dcfg);
	pr->cfg.dcfg = NULL;
	pr->tm_sec = INT64_MIN;
	return pr;
}

void tw_print_free(struct tw_printer *pr)
{
	free(pr);
}

size_t tw_print_frame(struct tw_printer *pr, int linktype, const struct tw_frame *f, char *out,
		      size_t outlen)
{
	struct tw_prn_out o = {.b = out, .cap = outlen};

	if (!out || outlen == 0)
		return 0;
	out[0] = '\0';
	if (f->ts_sec != pr->tm_sec) {
		time_t t = (time_t)f->ts_sec;
		struct tm tm;

		if (localtime_r(&t, &tm)) {
			pr->tm_h = tm.tm_hour;
			pr->tm_m = tm.tm_min;
			pr->tm_s = tm.tm_sec;
		} else {
			pr->tm_h = pr->tm_m = pr->tm_s = 0;
		}
		pr->tm_sec = f->ts_sec;
	}
	if (pr->cfg.nano)
		tw_prn_op(&o, "%02d:%02d:%02d.%09u ", pr->tm_h, pr->tm_m, pr->tm_s, f->ts_nsec);
	else
		tw_prn_op(&o, "%02d:%02d:%02d.%06u ", pr->tm_h, pr->tm_m, pr->tm_s,
			  f->ts_nsec / 1000);
	o.line0 = o.len;
	tw_prn_link(pr, &o, linktype, f->data, f->caplen,
		   f->wirelen > f->caplen ? f->wirelen : f->caplen);
	if (o.len + 1 >= o.cap)
		o.len = o.cap >= 2 ? o.cap - 2 : 0;
	if (o.cap >= 2) {
		out[o.len++] = '\n';
	}
	out[o.len] = '\0';
	return o.len;
}
