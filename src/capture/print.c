/*
 * print.c - one text line per frame, byte for byte what `tcpdump -n` 4.99.3
 * prints (without -v/-e), for the protocols tcptwin deals with: Ethernet
 * (VLAN tags skipped silently, as tcpdump does without -e), Linux SLL/SLL2,
 * raw IP, BSD NULL/LOOP; IPv4, IPv6 (HBH, DSTOPT, fragment headers), TCP with
 * options and relative sequence numbers, the HTTP first-line hint on ports
 * 80/8080, UDP, ICMP/ICMPv6 (echo, unreachable, ND), ARP, IP-in-IP; VXLAN,
 * Geneve and GRE as tcpdump prints them. ERSPAN inside GRE is printed as
 * tcpdump 4.99.3 does ("gre-proto-0x88be"); with cfg->decap the mirrored frame
 * is printed instead. Truncated headers end the line with tcpdump's "[|proto]".
 *
 * The printer walks the bytes itself, layer by layer, like tcpdump: the
 * output of a cut or malformed packet depends on exactly where the bytes end,
 * which a decoded summary (struct tw_pkt) cannot tell. Every read is bounds
 * checked (struct tw_rd or an explicit length test). The tunnel ports come
 * from cfg->dcfg, like the decoder's. Deliberately not done: the many other
 * application protocols tcpdump recognises by port (DNS, NTP, SSH, BGP...):
 * they print as plain TCP/UDP here.
 *
 * A VXLAN frame prints on two lines, as tcpdump does ("vni N\n" then the inner
 * frame). With cfg->decap only the innermost frame is printed after the time.
 * No allocation after tw_print_new; no I/O.
 */
#include "capture/print.h"

#include "capture/source.h"
#include "pkt/cursor.h"
#include "pkt/decode.h"

#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Conversation table for relative sequence numbers: set-associative, fixed
 * size, least recently used way replaced when a set is full. */
#define CONV_SETS 1024
#define CONV_WAYS 8
#define CONV_KEYLEN 40
#define IFCACHE 16
#define MAX_DEPTH 6

struct conv {
	uint8_t key[CONV_KEYLEN];
	uint32_t seq, ack;
	uint32_t stamp;                  /* 0 = free */
};

struct ifname {
	uint32_t index;
	char name[IF_NAMESIZE];
};

struct tw_printer {
	struct tw_print_cfg cfg;
	struct tw_decode_cfg dcfg;
	uint32_t clock;
	int64_t tm_sec;                  /* cache of the last localtime_r */
	int tm_h, tm_m, tm_s;
	unsigned nif;
	struct ifname ifs[IFCACHE];
	struct conv conv[CONV_SETS * CONV_WAYS];
};

struct out {
	char *b;
	size_t cap, len;
	size_t line0;                    /* where the packet text starts (after the time) */
	int depth;
};

struct ipctx {
	int ver;
	const uint8_t *src, *dst;        /* 4 or 16 bytes */
	bool direct;                     /* transport header follows the IP header at once */
};

static void op(struct out *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void op(struct out *o, const char *fmt, ...)
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

static void trunc_mark(struct out *o, const char *proto)
{
	op(o, " [|%s]", proto);
}

static const char *addr_str(int ver, const uint8_t *a, char *buf, size_t len)
{
	if (!inet_ntop(ver == 6 ? AF_INET6 : AF_INET, a, buf, (socklen_t)len))
		snprintf(buf, len, "?");
	return buf;
}

static void op_mac(struct out *o, const uint8_t *m)
{
	op(o, "%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2], m[3], m[4], m[5]);
}

static bool is_graph(uint8_t c)
{
	return c > 0x20 && c < 0x7f;
}

static bool is_print(uint8_t c)
{
	return c >= 0x20 && c < 0x7f;
}

/* tcpdump's hex_and_ascii_print with the "\n\t" indent. */
static void hexdump(struct out *o, const uint8_t *p, size_t n)
{
	char hex[48], asc[20];
	size_t off = 0;

	while (off < n) {
		size_t i, hl = 0, al = 0;

		for (i = 0; i < 16 && off + i < n; i++) {
			if (i % 2 == 0)
				hex[hl++] = ' ';
			hl += (size_t)snprintf(hex + hl, sizeof(hex) - hl, "%02x", p[off + i]);
			asc[al++] = is_graph(p[off + i]) ? (char)p[off + i] : '.';
		}
		hex[hl] = asc[al] = '\0';
		op(o, "\n\t0x%04zx: %-40s  %s", off, hex, asc);
		off += i;
	}
}

/* ---- conversations (tcpdump's tcp_seq_hash semantics) ---- */

static uint32_t key_hash(const uint8_t *k)
{
	uint32_t h = 2166136261u;

	for (size_t i = 0; i < CONV_KEYLEN; i++)
		h = (h ^ k[i]) * 16777619u;
	return h;
}

/* Find the entry for KEY; create (replacing the LRU way) when absent.
 * *FOUND tells which. Never fails. */
static struct conv *conv_get(struct tw_printer *pr, const uint8_t *key, bool *found)
{
	struct conv *set = &pr->conv[(key_hash(key) % CONV_SETS) * CONV_WAYS];
	struct conv *victim = &set[0];

	if (++pr->clock == 0) { /* wrapped: age everything equally */
		for (size_t i = 0; i < CONV_SETS * CONV_WAYS; i++)
			if (pr->conv[i].stamp)
				pr->conv[i].stamp = 1;
		pr->clock = 2;
	}
	for (int i = 0; i < CONV_WAYS; i++) {
		if (set[i].stamp && memcmp(set[i].key, key, CONV_KEYLEN) == 0) {
			set[i].stamp = pr->clock;
			*found = true;
			return &set[i];
		}
		if (set[i].stamp < victim->stamp)
			victim = &set[i];
	}
	memcpy(victim->key, key, CONV_KEYLEN);
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

static void http_print(struct out *o, const uint8_t *p, size_t len, size_t cap)
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
	op(o, "HTTP");
	if (!show)
		return;
	for (i = 0; i < len; i++) {
		if (i >= cap) {
			trunc_mark(o, "http");
			return;
		}
		if (p[i] == '\n') {
			op(o, ": %.*s", (int)i, (const char *)p);
			return;
		}
		if (p[i] == '\r') {
			if (i + 1 >= len)
				return;
			if (i + 1 >= cap) {
				trunc_mark(o, "http");
				return;
			}
			if (p[i + 1] == '\n')
				op(o, ": %.*s", (int)i, (const char *)p);
			return;
		}
		if (!is_print(p[i]) && p[i] != '\t')
			return;
	}
	/* printable up to the end without a line ending: tcpdump calls it truncated */
	op(o, ": %.*s", (int)len, (const char *)p);
	trunc_mark(o, "http");
}

/* ---- TCP ---- */

enum { OPT_OK, OPT_BAD, OPT_TRUNC };

/* TCP options as tcpdump prints them. Returns OPT_* (the caller stops the
 * line after OPT_BAD/OPT_TRUNC; the marker is already printed). */
static int tcp_options(struct out *o, const uint8_t *cp, size_t hlen, size_t cap, bool rev,
		       uint32_t thseq, uint32_t thack)
{
	char ch = '\0';
	size_t pos = 0; /* offset of cp's next byte from the options' start */

#define NEED(l)                                                                                    \
	do {                                                                                       \
		if ((l) > hlen)                                                                    \
			goto bad;                                                                  \
		if (pos + (l) > cap)                                                               \
			goto trunc;                                                                \
	} while (0)

	op(o, ", options [");
	while (hlen > 0) {
		unsigned opt, len, datalen = 0, i;

		if (ch)
			op(o, "%c", ch);
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
		const uint8_t *d = cp + pos;
		switch (opt) {
		case 0: op(o, "eol"); break;
		case 1: op(o, "nop"); break;
		case 2:
			op(o, "mss");
			datalen = 2;
			NEED(datalen);
			op(o, " %u", tw_load_be16(d));
			break;
		case 3:
			op(o, "wscale");
			datalen = 1;
			NEED(datalen);
			op(o, " %u", d[0]);
			break;
		case 4: op(o, "sackOK"); break;
		case 5:
			op(o, "sack");
			datalen = len - 2;
			if (datalen % 8 != 0) {
				op(o, " invalid sack");
				break;
			}
			op(o, " %u ", datalen / 8);
			for (i = 0; i < datalen; i += 8) {
				uint32_t s, e;
				NEED(i + 4);
				s = tw_load_be32(d + i);
				NEED(i + 8);
				e = tw_load_be32(d + i + 4);
				s -= rev ? thseq : thack;
				e -= rev ? thseq : thack;
				op(o, "{%u:%u}", s, e);
			}
			break;
		case 6: case 7: case 11: case 12: case 13:
			op(o, "%s", opt == 6 ? "echo" : opt == 7 ? "echoreply" :
					  opt == 11 ? "cc" : opt == 12 ? "ccnew" : "");
			datalen = 4;
			NEED(datalen);
			op(o, " %u", tw_load_be32(d));
			break;
		case 8:
			op(o, "TS");
			datalen = 8;
			NEED(datalen);
			op(o, " val %u ecr %u", tw_load_be32(d), tw_load_be32(d + 4));
			break;
		case 28: {
			unsigned uto;
			op(o, "uto");
			datalen = 2;
			NEED(datalen);
			uto = tw_load_be16(d);
			op(o, " 0x%x", uto);
			op(o, " %u", uto & 1 ? (uto >> 1) * 60 : uto >> 1);
			break;
		}
		case 34:
			op(o, "tfo");
			datalen = len - 2;
			NEED(datalen);
			op(o, " ");
			if (datalen == 0) {
				op(o, " cookiereq");
			} else if (datalen % 2 || datalen < 4 || datalen > 16) {
				op(o, " (invalid)");
			} else {
				op(o, " cookie ");
				for (i = 0; i < datalen; i++)
					op(o, "%02x", d[i]);
			}
			break;
		default:
			/* Options tcpdump decodes in detail that tcptwin does not
			 * (md5, mptcp, tcp-ao, exp...) get the generic form. */
			op(o, "%s", opt == 19 ? "md5" : opt == 29 ? "tcp-ao" : opt == 30 ? "mptcp" :
					     opt == 254 ? "exp" : "");
			if (opt != 19 && opt != 29 && opt != 30 && opt != 254)
				op(o, "unknown-%u", opt);
			datalen = len - 2;
			if (datalen)
				op(o, " 0x");
			for (i = 0; i < datalen; i++) {
				NEED(i + 1);
				op(o, "%02x", d[i]);
			}
			break;
		}
		pos += datalen;
		hlen -= datalen;
		datalen++;
		if (opt > 1)
			datalen++;
		if (datalen != len)
			op(o, "[len %u]", len);
		ch = ',';
		if (opt == 0)
			break;
	}
	op(o, "]");
	return OPT_OK;
bad:
	op(o, "[bad opt]");
	if (ch)
		op(o, "]");
	return OPT_BAD;
trunc:
	trunc_mark(o, "tcp");
	if (ch)
		op(o, ">");
	return OPT_TRUNC;
trunc_plain:
	trunc_mark(o, "tcp");
	return OPT_TRUNC;
#undef NEED
}

static void ports_prefix(struct out *o, const struct ipctx *ip, uint16_t sp, uint16_t dp)
{
	char a[INET6_ADDRSTRLEN], b[INET6_ADDRSTRLEN];

	if (ip->direct)
		op(o, "%s.%u > %s.%u: ", addr_str(ip->ver, ip->src, a, sizeof(a)), sp,
		   addr_str(ip->ver, ip->dst, b, sizeof(b)), dp);
	else
		op(o, "%u > %u: ", sp, dp);
}

static void addrs_prefix(struct out *o, const struct ipctx *ip)
{
	char a[INET6_ADDRSTRLEN], b[INET6_ADDRSTRLEN];

	op(o, "%s > %s:", addr_str(ip->ver, ip->src, a, sizeof(a)),
	   addr_str(ip->ver, ip->dst, b, sizeof(b)));
}

/* P: TCP header and payload, CAP captured bytes, LEN declared bytes. */
static void tcp_print(struct tw_printer *pr, struct out *o, const struct ipctx *ip,
		      const uint8_t *p, size_t cap, size_t len)
{
	uint16_t sp, dp, win, urp, flags;
	uint32_t seq, ack, thseq = 0, thack = 0;
	size_t hlen;
	bool rev = false;

	if (cap < 4) {
		addrs_prefix(o, ip);
		trunc_mark(o, "tcp");
		return;
	}
	sp = tw_load_be16(p);
	dp = tw_load_be16(p + 2);
	ports_prefix(o, ip, sp, dp);
	if (cap < 20) {
		trunc_mark(o, "tcp");
		return;
	}
	hlen = (size_t)(p[12] >> 4) * 4;
	if (hlen < 20) {
		op(o, " tcp %u [bad hdr length %zu - too short, < 20]", (unsigned)(len - hlen), hlen);
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
	op(o, "Flags [%s]", nf ? fl : "none");

	if (!pr->cfg.absolute_seq && (flags & TW_TH_ACK)) {
		uint8_t key[CONV_KEYLEN] = {0};
		size_t al = ip->ver == 6 ? 16 : 4;
		bool found;

		rev = sp > dp || (sp == dp && memcmp(ip->src, ip->dst, al) > 0);
		key[0] = (uint8_t)ip->ver;
		memcpy(key + 1, rev ? ip->dst : ip->src, al);
		memcpy(key + 17, rev ? ip->src : ip->dst, al);
		tw_store_be16(key + 33, rev ? dp : sp);
		tw_store_be16(key + 35, rev ? sp : dp);
		struct conv *c = conv_get(pr, key, &found);
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
		op(o, " [bad hdr length %zu - too long, > %zu]", hlen, len);
		return;
	}
	len -= hlen;
	if (len > 0 || (flags & (TW_TH_SYN | TW_TH_FIN | TW_TH_RST))) {
		op(o, ", seq %u", seq);
		if (len > 0)
			op(o, ":%u", seq + (uint32_t)len);
	}
	if (flags & TW_TH_ACK)
		op(o, ", ack %u", ack);
	op(o, ", win %u", win);
	if (flags & TW_TH_URG)
		op(o, ", urg %u", urp);
	if (hlen > 20 && tcp_options(o, p + 20, hlen - 20, cap - 20, rev, thseq, thack) != OPT_OK)
		return;
	op(o, ", length %zu", len);
	if (len > 0 && (sp == 80 || dp == 80 || sp == 8080 || dp == 8080)) {
		op(o, ": ");
		http_print(o, p + hlen, len, cap > hlen ? cap - hlen : 0);
	}
}

/* ---- UDP and the tunnels on it ---- */

static void ether_print(struct tw_printer *pr, struct out *o, const uint8_t *p, size_t cap,
			size_t len);
static void ip_print(struct tw_printer *pr, struct out *o, const uint8_t *p, size_t cap,
		     size_t len);
static void ip6_print(struct tw_printer *pr, struct out *o, const uint8_t *p, size_t cap,
		      size_t len);

static void decap_restart(struct out *o)
{
	o->len = o->line0;
	o->b[o->len] = '\0';
}

static void vxlan_print(struct tw_printer *pr, struct out *o, const uint8_t *p, size_t cap,
			size_t len)
{
	if (!pr->cfg.decap) {
		/* field by field, so a cut header ends where tcpdump's does */
		if (len < 8) {
			op(o, "VXLAN (invalid)");
			return;
		}
		op(o, "VXLAN");
		if (cap >= 1)
			op(o, ", flags [%s] (0x%02x), ", p[0] & 0x08 ? "I" : "none", p[0]);
		if (cap >= 7)
			op(o, "vni %u\n", (unsigned)(tw_load_be32(p + 3) & 0xffffff));
		if (cap < 8) {
			trunc_mark(o, "vxlan");
			return;
		}
	} else {
		if (len < 8 || cap < 8) {
			op(o, "VXLAN");
			op(o, len < 8 ? " (invalid)" : " [|vxlan]");
			return;
		}
		decap_restart(o);
	}
	ether_print(pr, o, p + 8, cap - 8, len - 8);
}

static void geneve_print(struct tw_printer *pr, struct out *o, const uint8_t *p, size_t cap,
			 size_t len)
{
	size_t olen;
	uint16_t proto;

	if (len < 8) {
		op(o, "Geneve [length %zu < 8] (invalid)", len);
		return;
	}
	if (cap < 8) {
		op(o, "Geneve");
		trunc_mark(o, "geneve");
		return;
	}
	if (p[0] >> 6) {
		op(o, "Geneve ERROR: unknown-version %u", p[0] >> 6);
		return;
	}
	olen = (size_t)(p[0] & 0x3f) * 4;
	proto = tw_load_be16(p + 2);
	if (pr->cfg.decap && len >= 8 + olen && cap >= 8 + olen &&
	    (proto == 0x6558 || proto == 0x0800 || proto == 0x86dd)) {
		decap_restart(o);
	} else {
		op(o, "Geneve, Flags [%s%s%s]", p[1] & 0x80 ? "O" : "", p[1] & 0x40 ? "C" : "",
		   p[1] & 0xc0 ? "" : "none");
		op(o, ", vni 0x%x", (unsigned)(tw_load_be32(p + 4) >> 8));
		if (len < 8 + olen) {
			op(o, " truncated-geneve - %zu bytes missing", 8 + olen - len);
			return;
		}
		if (cap < 8 + olen) {
			trunc_mark(o, "geneve");
			return;
		}
		if (olen)
			op(o, ", options [%zu bytes]", olen);
		op(o, ": ");
	}
	p += 8 + olen;
	cap -= 8 + olen;
	len -= 8 + olen;
	if (proto == 0x0800)
		ip_print(pr, o, p, cap, len);
	else if (proto == 0x86dd)
		ip6_print(pr, o, p, cap, len);
	else if (proto == 0x6558)
		ether_print(pr, o, p, cap, len);
	else
		op(o, "geneve-proto-0x%x", proto);
}

static void udp_print(struct tw_printer *pr, struct out *o, const struct ipctx *ip,
		      const uint8_t *p, size_t cap, size_t len)
{
	uint16_t sp, dp, ulen;
	uint16_t vx = pr->dcfg.vxlan_port, gn = pr->dcfg.geneve_port;

	if (cap < 8) {
		if (cap >= 4)
			ports_prefix(o, ip, tw_load_be16(p), tw_load_be16(p + 2));
		else {
			addrs_prefix(o, ip);
			op(o, " ");
		}
		trunc_mark(o, "udp");
		return;
	}
	sp = tw_load_be16(p);
	dp = tw_load_be16(p + 2);
	ulen = tw_load_be16(p + 4);
	if (ulen < 8) {
		ports_prefix(o, ip, sp, dp);
		op(o, "truncated-udplength %u", ulen);
		return;
	}
	if (ulen > len) {
		ports_prefix(o, ip, sp, dp);
		op(o, "truncated-udp - %zu bytes missing!", ulen - len);
		return;
	}
	len = ulen - 8u;
	cap -= 8;
	if (cap > len)
		cap = len;
	p += 8;
	if (vx && (sp == vx || dp == vx)) {
		ports_prefix(o, ip, sp, dp);
		vxlan_print(pr, o, p, cap, len);
	} else if (gn && (sp == gn || dp == gn)) {
		ports_prefix(o, ip, sp, dp);
		geneve_print(pr, o, p, cap, len);
	} else {
		ports_prefix(o, ip, sp, dp);
		op(o, "UDP, length %zu", len);
	}
}

/* ---- GRE / ERSPAN ---- */

static void gre_print(struct tw_printer *pr, struct out *o, const uint8_t *p, size_t cap,
		      size_t len)
{
	struct tw_rd rd;
	uint16_t flags, proto;
	size_t start_len = o->len;

	tw_rd_init(&rd, p, cap < len ? cap : len);
	flags = tw_rd_be16(&rd);
	if (rd.err) {
		trunc_mark(o, "gre");
		return;
	}
	op(o, "GREv%u", flags & 7);
	if (flags & 7) {
		op(o, " ERROR: unknown-version");
		return;
	}
	proto = tw_rd_be16(&rd);
	if (flags & 0xc000) {
		uint16_t sum = tw_rd_be16(&rd), off = tw_rd_be16(&rd);
		if (!rd.err)
			op(o, ", sum 0x%x, off 0x%x", sum, off);
	}
	if (flags & 0x2000) {
		uint32_t key = tw_rd_be32(&rd);
		if (!rd.err)
			op(o, ", key=0x%x", key);
	}
	if (flags & 0x1000) {
		uint32_t seq = tw_rd_be32(&rd);
		if (!rd.err)
			op(o, ", seq %u", seq);
	}
	if (rd.err) {
		trunc_mark(o, "gre");
		return;
	}
	op(o, ", length %zu: ", len);

	size_t hl = rd.pos;
	const uint8_t *in = p + hl;
	size_t icap = cap > hl ? cap - hl : 0, ilen = len > hl ? len - hl : 0;
	bool dc = pr->cfg.decap && pr->dcfg.gre;

	if (proto == 0x88be || proto == 0x22eb) {
		size_t eh = 0;
		bool ip_inner = false;

		if (!dc) {
			op(o, "gre-proto-0x%x", proto);
			return;
		}
		/* ERSPAN I has no header (GRE without S); II has 8 bytes;
		 * III 12, plus 8 platform bytes when O is set; FT=2 means IP. */
		if (proto == 0x88be && (flags & 0x1000))
			eh = 8;
		if (proto == 0x22eb) {
			if (icap < 12) {
				trunc_mark(o, "erspan");
				return;
			}
			eh = 12 + (in[11] & 1 ? 8 : 0);
			ip_inner = ((in[10] >> 2) & 0x1f) == 2;
		}
		if (icap < eh || ilen < eh) {
			trunc_mark(o, "erspan");
			return;
		}
		o->len = start_len;
		decap_restart(o);
		if (ip_inner) {
			if (eh < icap && (in[eh] >> 4) == 6)
				ip6_print(pr, o, in + eh, icap - eh, ilen - eh);
			else
				ip_print(pr, o, in + eh, icap - eh, ilen - eh);
		} else {
			ether_print(pr, o, in + eh, icap - eh, ilen - eh);
		}
		return;
	}
	if (dc && (proto == 0x0800 || proto == 0x86dd || proto == 0x6558))
		decap_restart(o);
	if (proto == 0x0800)
		ip_print(pr, o, in, icap, ilen);
	else if (proto == 0x86dd)
		ip6_print(pr, o, in, icap, ilen);
	else if (proto == 0x6558)
		ether_print(pr, o, in, icap, ilen);
	else
		op(o, "gre-proto-0x%x", proto);
}

/* ---- ICMP ---- */

static void icmp_print(struct out *o, const uint8_t *p, size_t cap, size_t len)
{
	char a[INET6_ADDRSTRLEN];

	if (cap < 8) {
		trunc_mark(o, "icmp");
		return;
	}
	uint8_t type = p[0], code = p[1];
	if ((type == 8 || type == 0) && cap >= 8) {
		op(o, "ICMP echo %s, id %u, seq %u, length %zu", type ? "request" : "reply",
		   tw_load_be16(p + 4), tw_load_be16(p + 6), len);
		return;
	}
	if (type == 3) {
		const uint8_t *iph = p + 8;
		size_t ihl;

		/* tcpdump reads the quoted header before printing anything */
		if (cap < 8 + 20 || cap < 8 + (size_t)(iph[0] & 15) * 4 + 4) {
			trunc_mark(o, "icmp");
			return;
		}
		ihl = (size_t)(iph[0] & 15) * 4;
		addr_str(4, iph + 16, a, sizeof(a));
		if (code == 3 && ihl >= 20 && cap >= 8 + ihl + 4 && (iph[9] == 17 || iph[9] == 6)) {
			op(o, "ICMP %s %s port %u unreachable, length %zu", a,
			   iph[9] == 17 ? "udp" : "tcp", tw_load_be16(p + 8 + ihl + 2), len);
			return;
		}
		if (code == 2) {
			op(o, "ICMP %s protocol %u unreachable, length %zu", a, iph[9], len);
			return;
		}
		if (code == 1 || code == 0) {
			op(o, "ICMP %s %s unreachable, length %zu", code ? "host" : "net", a, len);
			return;
		}
	}
	if (type == 11) {
		op(o, "ICMP time exceeded in-transit, length %zu", len);
		return;
	}
	op(o, "ICMP type-#%u, length %zu", type, len);
}

static void icmp6_print(struct out *o, const uint8_t *p, size_t cap, size_t len)
{
	char a[INET6_ADDRSTRLEN];

	if (cap < 1) {
		trunc_mark(o, "icmp6");
		return;
	}
	uint8_t type = p[0];
	if (type == 128 || type == 129) {
		op(o, "ICMP6, echo %s", type == 128 ? "request" : "reply");
		if (cap < 8)
			trunc_mark(o, "icmp6");
		else
			op(o, ", id %u, seq %u, length %zu", tw_load_be16(p + 4), tw_load_be16(p + 6),
			   len);
	} else if (type == 135 && cap >= 24)
		op(o, "ICMP6, neighbor solicitation, who has %s, length %zu",
		   addr_str(6, p + 8, a, sizeof(a)), len);
	else if (type == 136 && cap >= 24)
		op(o, "ICMP6, neighbor advertisement, tgt is %s, length %zu",
		   addr_str(6, p + 8, a, sizeof(a)), len);
	else if (type == 133)
		op(o, "ICMP6, router solicitation, length %zu", len);
	else if (type == 134)
		op(o, "ICMP6, router advertisement, length %zu", len);
	else
		op(o, "ICMP6, type-#%u, length %zu", type, len);
}

/* ---- IP ---- */

static void ip_demux(struct tw_printer *pr, struct out *o, const struct ipctx *ip, uint8_t proto,
		     const uint8_t *p, size_t cap, size_t len)
{
	if (++o->depth > MAX_DEPTH) {
		op(o, "[too many encapsulations]");
		return;
	}
	switch (proto) {
	case 6: tcp_print(pr, o, ip, p, cap, len); return;
	case 17: udp_print(pr, o, ip, p, cap, len); return;
	default: break;
	}
	if (ip->ver == 4) { /* ip6_print has printed them already */
		addrs_prefix(o, ip);
		op(o, " ");
	}
	switch (proto) {
	case 1: icmp_print(o, p, cap, len); break;
	case 58: icmp6_print(o, p, cap, len); break;
	case 47: gre_print(pr, o, p, cap, len); break;
	case 4: ip_print(pr, o, p, cap, len); break;
	case 41: ip6_print(pr, o, p, cap, len); break;
	default: op(o, " ip-proto-%u %zu", proto, len); break;
	}
}

/* CAP captured, LEN bytes on the wire from P. */
static void ip_print(struct tw_printer *pr, struct out *o, const uint8_t *p, size_t cap,
		     size_t len)
{
	size_t hlen, tot;
	struct ipctx ip = {.ver = 4, .direct = true};

	if (cap < 1) {
		trunc_mark(o, "ip");
		return;
	}
	if ((p[0] >> 4) != 4) {
		if ((p[0] >> 4) == 6)
			op(o, "IP6, wrong link-layer encapsulation");
		else
			op(o, "IP%u", p[0] >> 4);
		op(o, " (invalid)");
		return;
	}
	op(o, "IP ");
	if (cap < 20) {
		trunc_mark(o, "ip");
		return;
	}
	hlen = (size_t)(p[0] & 15) * 4;
	if (hlen < 20) {
		op(o, "bad-hlen %zu", hlen);
		return;
	}
	tot = tw_load_be16(p + 2);
	if (len < tot)
		op(o, "truncated-ip - %zu bytes missing! ", tot - len);
	if (tot < hlen) {
		op(o, "bad-len %zu", tot);
		return;
	}
	if (cap > tot)
		cap = tot;
	if (cap < hlen) {
		trunc_mark(o, "ip");
		return;
	}
	ip.src = p + 12;
	ip.dst = p + 16;
	uint16_t frag = tw_load_be16(p + 6);
	if ((frag & 0x1fff) == 0) {
		ip_demux(pr, o, &ip, p[9], p + hlen, cap - hlen, tot - hlen);
	} else {
		addrs_prefix(o, &ip);
		op(o, " ip-proto-%u", p[9]);
	}
}

static void ip6_print(struct tw_printer *pr, struct out *o, const uint8_t *p, size_t cap,
		      size_t len)
{
	struct ipctx ip = {.ver = 6, .direct = true};
	size_t plen, off = 40, tot;
	uint8_t nh;

	if (cap < 40) {
		trunc_mark(o, "ip6");
		return;
	}
	op(o, "IP6 ");
	plen = tw_load_be16(p + 4);
	tot = plen + 40;
	if (plen == 0)
		tot = len; /* jumbogram or GSO packet: go by what was captured */
	if (len < tot)
		op(o, "truncated-ip6 - %zu bytes missing!", tot - len);
	if (cap > tot)
		cap = tot;
	ip.src = p + 8;
	ip.dst = p + 24;
	nh = p[6];
	if (nh != 6 && nh != 17) {
		ip.direct = false;
		addrs_prefix(o, &ip);
		op(o, " ");
	}
	for (;;) {
		if (nh == 0 || nh == 60 || nh == 43) {
			if (off + 2 > cap || off + ((size_t)p[off + 1] + 1) * 8 > cap) {
				trunc_mark(o, nh == 0 ? "hbhopt" : nh == 60 ? "dstopt" : "rt6");
				return;
			}
			op(o, "%s ", nh == 0 ? "HBH" : nh == 60 ? "DSTOPT" : "srcrt");
			nh = p[off];
			off += ((size_t)p[off + 1] + 1) * 8;
		} else if (nh == 44) {
			if (off + 4 > cap) {
				trunc_mark(o, "frag6");
				return;
			}
			uint16_t fo = tw_load_be16(p + off + 2);
			op(o, "frag (%u|%zu) ", fo & 0xfff8, tot > off + 8 ? tot - off - 8 : 0);
			nh = p[off];
			off += 8;
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

/* ---- link layers ---- */

static void arp_print(struct out *o, const uint8_t *p, size_t cap, size_t len)
{
	char a[INET_ADDRSTRLEN], b[INET_ADDRSTRLEN];

	/* tcpdump reads the whole ARP body before printing anything */
	if (cap < 8 || cap < 8 + 2 * (size_t)p[4] + 2 * (size_t)p[5]) {
		trunc_mark(o, "arp");
		return;
	}
	op(o, "ARP, ");
	uint16_t hrd = tw_load_be16(p), pro = tw_load_be16(p + 2), opc = tw_load_be16(p + 6);
	if (pro != 0x0800 || p[4] != 6 || p[5] != 4 || (hrd != 1 && hrd != 6)) {
		op(o, "hardware 0x%04x, protocol 0x%04x, length %zu", hrd, pro, len);
		return;
	}
	addr_str(4, p + 14, a, sizeof(a));
	addr_str(4, p + 24, b, sizeof(b));
	if (opc == 1) {
		static const uint8_t zero[6];
		op(o, "Request who-has %s", b);
		if (memcmp(p + 18, zero, 6) != 0) {
			op(o, " (");
			op_mac(o, p + 18);
			op(o, ")");
		}
		op(o, " tell %s, length %zu", a, len);
	} else if (opc == 2) {
		op(o, "Reply %s is-at ", a);
		op_mac(o, p + 8);
		op(o, ", length %zu", len);
	} else {
		op(o, "unknown op %u, length %zu", opc, len);
	}
}

/* An EtherType payload. Returns false when the type is not one we print. */
static bool ethertype_print(struct tw_printer *pr, struct out *o, uint16_t type, const uint8_t *p,
			    size_t cap, size_t len)
{
	switch (type) {
	case 0x0800: ip_print(pr, o, p, cap, len); return true;
	case 0x86dd: ip6_print(pr, o, p, cap, len); return true;
	case 0x0806: arp_print(o, p, cap, len); return true;
	default: return false;
	}
}

static void ether_print(struct tw_printer *pr, struct out *o, const uint8_t *p, size_t cap,
			size_t len)
{
	size_t off = 12;
	uint16_t type;

	if (cap < 14) {
		trunc_mark(o, "ether");
		return;
	}
	type = tw_load_be16(p + 12);
	while (type == 0x8100 || type == 0x88a8 || type == 0x9100) {
		if (cap < off + 6) {
			trunc_mark(o, "vlan");
			return;
		}
		off += 4;
		type = tw_load_be16(p + off);
	}
	off += 2;
	if (ethertype_print(pr, o, type, p + off, cap - off, len > off ? len - off : 0))
		return;
	op_mac(o, p + 6);
	op(o, " > ");
	op_mac(o, p);
	op(o, ", ethertype Unknown (0x%04x), length %zu: ", type, len);
	hexdump(o, p + off, cap - off);
}

static const char *sll_type(uint8_t t)
{
	static const char *const names[] = {"In", "B", "M", "P", "Out"};
	return t < 5 ? names[t] : "?";
}

static const char *if_name(struct tw_printer *pr, uint32_t index)
{
	unsigned i;

	for (i = 0; i < pr->nif; i++)
		if (pr->ifs[i].index == index)
			return pr->ifs[i].name;
	/* first sight of this index: one lookup, then cached */
	i = pr->nif < IFCACHE ? pr->nif++ : index % IFCACHE;
	pr->ifs[i].index = index;
	if (!if_indextoname(index, pr->ifs[i].name))
		snprintf(pr->ifs[i].name, sizeof(pr->ifs[i].name), "?");
	return pr->ifs[i].name;
}

static void link_print(struct tw_printer *pr, struct out *o, int lt, const uint8_t *p, size_t cap,
		       size_t len)
{
	uint32_t af;

	switch (lt) {
	case TW_LT_EN10MB:
		ether_print(pr, o, p, cap, len);
		return;
	case TW_LT_SLL:
		if (cap < 16) {
			trunc_mark(o, "sll");
			return;
		}
		if (!ethertype_print(pr, o, tw_load_be16(p + 14), p + 16, cap - 16,
				     len > 16 ? len - 16 : 0)) {
			op(o, "%3s ", sll_type(p[1]));
			op(o, "ethertype Unknown (0x%04x), length %zu: ", tw_load_be16(p + 14), len);
			hexdump(o, p + 16, cap - 16);
		}
		return;
	case TW_LT_SLL2:
		if (cap < 20) {
			trunc_mark(o, "sll2");
			return;
		}
		op(o, "%-5s %-3s ", if_name(pr, tw_load_be32(p + 4)), sll_type(p[10]));
		if (!ethertype_print(pr, o, tw_load_be16(p), p + 20, cap - 20,
				     len > 20 ? len - 20 : 0)) {
			op(o, "ifindex %u ethertype Unknown (0x%04x), length %zu: ",
			   tw_load_be32(p + 4), tw_load_be16(p), len);
			hexdump(o, p + 20, cap - 20);
		}
		return;
	case TW_LT_RAW:
	case 12:
	case 14:
		if (cap >= 1 && (p[0] >> 4) == 6)
			ip6_print(pr, o, p, cap, len);
		else
			ip_print(pr, o, p, cap, len);
		return;
	case TW_LT_IPV4:
		ip_print(pr, o, p, cap, len);
		return;
	case TW_LT_IPV6:
		ip6_print(pr, o, p, cap, len);
		return;
	case TW_LT_NULL:
	case TW_LT_LOOP:
		if (cap < 4) {
			trunc_mark(o, lt == TW_LT_NULL ? "null" : "loop");
			return;
		}
		if (lt == TW_LT_LOOP) {
			af = tw_load_be32(p);
		} else {
			af = (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
			     (uint32_t)p[3] << 24;
			if (af & 0xffff0000u)
				af = tw_load_be32(p);
		}
		if (af == 2)
			ip_print(pr, o, p + 4, cap - 4, len > 4 ? len - 4 : 0);
		else if (af == 24 || af == 28 || af == 30)
			ip6_print(pr, o, p + 4, cap - 4, len > 4 ? len - 4 : 0);
		else {
			op(o, "AF Unknown (%u), length %zu: ", af, len);
			hexdump(o, p + 4, cap - 4);
		}
		return;
	default:
		op(o, "link-type %d, length %zu", lt, len);
		return;
	}
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
	struct out o = {.b = out, .cap = outlen};

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
		op(&o, "%02d:%02d:%02d.%09u ", pr->tm_h, pr->tm_m, pr->tm_s, f->ts_nsec);
	else
		op(&o, "%02d:%02d:%02d.%06u ", pr->tm_h, pr->tm_m, pr->tm_s, f->ts_nsec / 1000);
	o.line0 = o.len;
	link_print(pr, &o, linktype, f->data, f->caplen,
		   f->wirelen > f->caplen ? f->wirelen : f->caplen);
	if (o.len + 1 >= o.cap)
		o.len = o.cap >= 2 ? o.cap - 2 : 0;
	if (o.cap >= 2) {
		out[o.len++] = '\n';
	}
	out[o.len] = '\0';
	return o.len;
}

const char *tw_print_linktype_name(int linktype)
{
	switch (linktype) {
	case TW_LT_NULL: return "NULL (BSD loopback)";
	case TW_LT_EN10MB: return "EN10MB (Ethernet)";
	case TW_LT_RAW:
	case 12:
	case 14: return "RAW (Raw IP)";
	case TW_LT_LOOP: return "LOOP (OpenBSD loopback)";
	case TW_LT_SLL: return "LINUX_SLL (Linux cooked v1)";
	case TW_LT_IPV4: return "IPV4 (Raw IPv4)";
	case TW_LT_IPV6: return "IPV6 (Raw IPv6)";
	case TW_LT_SLL2: return "LINUX_SLL2 (Linux cooked v2)";
	default: return "unknown";
	}
}
