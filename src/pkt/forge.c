/*
 * forge.c - writes IPv4/IPv6 + TCP packets from a struct tw_forge_tcp, with
 * both checksums, and builds SYN-style TCP option blocks.
 *
 * Does not pick sequence numbers, ports, ids or options, and writes no IPv4
 * options or IPv6 extension headers. Allocation-free; writes only inside the
 * caller's buffer (through struct tw_wr).
 */
#include "pkt/forge.h"

#include "pkt/csum.h"
#include "pkt/cursor.h"
#include "pkt/decode.h"

#include <errno.h>

enum {
	IPV4_HLEN = 20,
	IPV6_HLEN = 40,
	TCP_HLEN = 20,
	TCP_MAX_OPT = 40,
	PROTO_TCP = 6,
	DEFAULT_TTL = 64,
};

static size_t opt_padded(size_t len)
{
	return (len + 3) & ~(size_t)3;
}

static void put_ipv4(struct tw_wr *wr, const struct tw_forge_tcp *f, size_t tot)
{
	tw_wr_u8(wr, 0x45);
	tw_wr_u8(wr, f->tos);
	tw_wr_be16(wr, (uint16_t)tot);
	tw_wr_be16(wr, f->ip_id);
	tw_wr_be16(wr, f->df ? 0x4000 : 0);
	tw_wr_u8(wr, f->ttl ? f->ttl : DEFAULT_TTL);
	tw_wr_u8(wr, PROTO_TCP);
	tw_wr_be16(wr, 0); /* checksum, filled at the end */
	tw_wr_bytes(wr, f->src, 4);
	tw_wr_bytes(wr, f->dst, 4);
}

static void put_ipv6(struct tw_wr *wr, const struct tw_forge_tcp *f, size_t plen)
{
	/* version 4 bits, traffic class 8 bits, flow label 20 bits */
	tw_wr_be32(wr, 6u << 28 | (uint32_t)f->tos << 20 | f->flowlabel);
	tw_wr_be16(wr, (uint16_t)plen);
	tw_wr_u8(wr, PROTO_TCP);
	tw_wr_u8(wr, f->ttl ? f->ttl : DEFAULT_TTL);
	tw_wr_bytes(wr, f->src, 16);
	tw_wr_bytes(wr, f->dst, 16);
}

int tw_forge_tcp(uint8_t *buf, size_t cap, const struct tw_forge_tcp *f)
{
	size_t ihl, thl, tot, optp;
	struct tw_wr wr;
	uint8_t *l4;

	if (!f || (f->ipver != 4 && f->ipver != 6) || !f->src || !f->dst)
		return -EINVAL;
	if (f->opt_len > TCP_MAX_OPT || (f->opt_len && !f->opt) ||
	    (f->payload_len && !f->payload) || f->flowlabel > 0xfffff)
		return -EINVAL;
	ihl = f->ipver == 4 ? IPV4_HLEN : IPV6_HLEN;
	optp = opt_padded(f->opt_len);
	thl = TCP_HLEN + optp;
	if (f->payload_len > 65535)
		return -EINVAL;
	tot = ihl + thl + f->payload_len;
	if (f->ipver == 4 ? tot > 65535 : tot - IPV6_HLEN > 65535)
		return -EINVAL;
	if (!buf || tot > cap)
		return -ENOSPC;

	tw_wr_init(&wr, buf, cap);
	if (f->ipver == 4)
		put_ipv4(&wr, f, tot);
	else
		put_ipv6(&wr, f, tot - IPV6_HLEN);
	tw_wr_be16(&wr, f->sport);
	tw_wr_be16(&wr, f->dport);
	tw_wr_be32(&wr, f->seq);
	tw_wr_be32(&wr, f->ack);
	/* Data offset in the high nibble; AE (the former NS) in the low bit. */
	tw_wr_u8(&wr, (uint8_t)((thl / 4) << 4 | ((f->flags & TW_TH_AE) ? 1 : 0)));
	tw_wr_u8(&wr, (uint8_t)f->flags);
	tw_wr_be16(&wr, f->win);
	tw_wr_be16(&wr, 0); /* checksum */
	tw_wr_be16(&wr, f->urp);
	tw_wr_bytes(&wr, f->opt, f->opt_len);
	while (wr.pos < ihl + thl)
		tw_wr_u8(&wr, 0); /* EOL, then zero padding */
	tw_wr_bytes(&wr, f->payload, f->payload_len);
	if (wr.err || wr.pos != tot)
		return -ENOSPC; /* cannot happen: tot <= cap was checked */

	l4 = buf + ihl;
	if (f->ipver == 4) {
		tw_store_be16(buf + 10, tw_csum_ipv4_hdr(buf, IPV4_HLEN));
		tw_store_be16(l4 + 16, tw_csum_l4(4, buf + 12, buf + 16, PROTO_TCP, l4, tot - ihl));
	} else {
		tw_store_be16(l4 + 16, tw_csum_l4(6, buf + 8, buf + 24, PROTO_TCP, l4, tot - ihl));
	}
	return (int)tot;
}

int tw_forge_tcp_opts(uint8_t *buf, size_t cap, const struct tw_tcp_opts *o)
{
	struct tw_wr wr;

	tw_wr_init(&wr, buf, cap);
	if (o->has_mss) {
		tw_wr_u8(&wr, 2);
		tw_wr_u8(&wr, 4);
		tw_wr_be16(&wr, o->mss);
	}
	if (o->has_ts) {
		if (o->sack_ok) {
			tw_wr_u8(&wr, 4);
			tw_wr_u8(&wr, 2);
		} else {
			tw_wr_u8(&wr, 1);
			tw_wr_u8(&wr, 1);
		}
		tw_wr_u8(&wr, 8);
		tw_wr_u8(&wr, 10);
		tw_wr_be32(&wr, o->ts_val);
		tw_wr_be32(&wr, o->ts_ecr);
	} else if (o->sack_ok) {
		tw_wr_u8(&wr, 1);
		tw_wr_u8(&wr, 1);
		tw_wr_u8(&wr, 4);
		tw_wr_u8(&wr, 2);
	}
	if (o->has_wscale) {
		tw_wr_u8(&wr, 1);
		tw_wr_u8(&wr, 3);
		tw_wr_u8(&wr, 3);
		tw_wr_u8(&wr, o->wscale);
	}
	if (wr.err)
		return -ENOSPC;
	return (int)wr.pos;
}
