/*
 * reseg.c - cuts a decoded TCP super-packet (GRO/TSO capture, or anything
 * above the path MTU) into segments of at most MSS payload bytes, as the
 * kernel's GSO would: headers copied (IP options, IPv6 extension headers and
 * TCP options included), seq advanced, IPv4 id incremented, lengths set,
 * PSH/FIN/RST on the last piece only, CWR on the first only, both checksums
 * recomputed.
 *
 * Does not choose the MSS (the caller takes min(target MSS, path MTU minus
 * headers)), does not touch TCP option contents (timestamps are repeated as
 * GSO does) and does not handle IP fragments. Allocation-free.
 */
#include "pkt/reseg.h"

#include "pkt/csum.h"
#include "pkt/cursor.h"
#include "pkt/decode.h"

#include <errno.h>
#include <string.h>

enum {
	TCP_MIN_HLEN = 20,
	TCP_MAX_HLEN = 60,
	IPV6_HLEN = 40,
	IP_MAX_LEN = 65535,
	FLAGS_LAST = TW_TH_PSH | TW_TH_FIN | TW_TH_RST,
	FLAGS_FIRST = TW_TH_CWR | TW_TH_SYN,
};

size_t tw_reseg_mss(const struct tw_pkt *pkt, size_t mtu, size_t target_mss)
{
	size_t hdr = (size_t)pkt->ip_hlen + pkt->th_len, m;

	if (mtu <= hdr)
		return 0;
	m = mtu - hdr;
	return target_mss && target_mss < m ? target_mss : m;
}

int tw_reseg_init(struct tw_reseg *rs, const struct tw_pkt *pkt, size_t mss)
{
	struct tw_csum_loc loc;
	size_t hdr, len;

	if (!rs || !pkt || mss == 0)
		return -EINVAL;
	memset(rs, 0, sizeof(*rs));
	if (pkt->proto != 6 || !pkt->l3 || !pkt->l4 || pkt->truncated)
		return -EINVAL;
	if (pkt->ipver != 4 && pkt->ipver != 6)
		return -EINVAL;
	if (pkt->th_len < TCP_MIN_HLEN || pkt->th_len > TCP_MAX_HLEN)
		return -EINVAL;
	if (pkt->payload_caplen < pkt->payload_len || (pkt->payload_len && !pkt->payload))
		return -EINVAL;
	/* The headers are copied as one block: they must be contiguous. */
	if (pkt->l4 != pkt->l3 + pkt->ip_hlen)
		return -EINVAL;
	hdr = (size_t)pkt->ip_hlen + pkt->th_len;
	len = hdr + pkt->payload_len;
	if (pkt->payload_len && pkt->payload != pkt->l4 + pkt->th_len)
		return -EINVAL;
	/* Re-check the IP bytes with the checksum code's own parser, so that
	 * every segment we write is one tw_csum_fix_packet accepts. */
	if (tw_csum_locate(pkt->l3, len, &loc) || loc.ipver != pkt->ipver || loc.proto != 6 ||
	    loc.frag || loc.l4_off != pkt->ip_hlen || loc.l4_len < pkt->th_len)
		return -EINVAL;
	rs->pkt = pkt;
	rs->mss = mss;
	return 0;
}

int tw_reseg_next(struct tw_reseg *rs, uint8_t *buf, size_t cap)
{
	const struct tw_pkt *p = rs->pkt;
	size_t chunk, hdr, tot, left;
	uint16_t flags;
	uint32_t seq;
	uint8_t *th;
	bool first, last;
	int err;

	if (!p || rs->done)
		return 0;
	left = p->payload_len - rs->off;
	chunk = left < rs->mss ? left : rs->mss;
	hdr = (size_t)p->ip_hlen + p->th_len;
	tot = hdr + chunk;
	if (tot > IP_MAX_LEN + (p->ipver == 6 ? IPV6_HLEN : 0))
		return -EMSGSIZE;
	if (!buf || tot > cap)
		return -ENOSPC;
	first = rs->idx == 0;
	last = chunk == left;

	memcpy(buf, p->l3, hdr);
	if (chunk)
		memcpy(buf + hdr, p->payload + rs->off, chunk);
	if (p->ipver == 4) {
		tw_store_be16(buf + 2, (uint16_t)tot);
		tw_store_be16(buf + 4, (uint16_t)(p->ip_id + rs->idx));
	} else {
		tw_store_be16(buf + 4, (uint16_t)(tot - IPV6_HLEN));
	}

	th = buf + p->ip_hlen;
	/* A SYN occupies one sequence number before the data. */
	seq = p->seq + (uint32_t)rs->off;
	if (!first && (p->flags & TW_TH_SYN))
		seq++;
	tw_store_be32(th + 4, seq);
	flags = p->flags & (uint16_t)~(FLAGS_LAST | FLAGS_FIRST);
	if (last)
		flags |= p->flags & FLAGS_LAST;
	if (first)
		flags |= p->flags & FLAGS_FIRST;
	th[12] = (uint8_t)((th[12] & 0xfe) | ((flags & TW_TH_AE) ? 1 : 0));
	th[13] = (uint8_t)flags;

	err = tw_csum_fix_packet(buf, tot);
	if (err)
		return -EINVAL; /* cannot happen: the headers were checked at init */

	rs->off += chunk;
	rs->idx++;
	if (last)
		rs->done = 1;
	return (int)tot;
}
