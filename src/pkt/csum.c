/*
 * csum.c - Internet checksum (RFC 1071), incremental update (RFC 1624 eqn. 3),
 * pseudo-header sums for TCP/UDP over IPv4/IPv6, and in-place repair of a
 * whole packet's checksums. Pure and allocation-free.
 *
 * Does not validate checksums (captures carry partial ones) and does not
 * compute ICMP, SCTP or UDP-Lite checksums.
 */
#include "pkt/csum.h"

#include "core/err.h"
#include "pkt/cursor.h"

#include <string.h>

enum {
	PROTO_TCP = 6,
	PROTO_UDP = 17,
	TCP_CSUM_OFF = 16,
	UDP_CSUM_OFF = 6,
	IPV4_CSUM_OFF = 10,
};

/* Fold carries so the sum fits in 17 bits; the one's-complement value is kept. */
static uint32_t fold32(uint64_t s)
{
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint32_t)s;
}

/*
 * RFC 1071 2(B): the one's-complement sum is byte-order independent, so sum
 * native-order 32-bit words (unaligned loads through memcpy) into a 64-bit
 * accumulator and swap the folded 16-bit result once on little-endian hosts.
 * Summing 32-bit words and folding equals summing 16-bit words modulo 0xffff.
 */
uint32_t tw_csum_add(uint32_t sum, const void *data, size_t len)
{
	const uint8_t *p = data;
	uint64_t s = 0;
	uint32_t w32, r;
	uint16_t w16;

	/* At most 2^33 per step: no overflow below 2^30 bytes. */
	while (len >= 8) {
		uint64_t w;

		memcpy(&w, p, 8);
		s += (w >> 32) + (uint32_t)w;
		p += 8;
		len -= 8;
	}
	if (len >= 4) {
		memcpy(&w32, p, 4);
		s += w32;
		p += 4;
		len -= 4;
	}
	if (len >= 2) {
		memcpy(&w16, p, 2);
		s += w16;
		p += 2;
		len -= 2;
	}
	if (len) /* last odd byte: the high-order byte of a zero-padded word */
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
		s += p[0];
#else
		s += (uint32_t)p[0] << 8;
#endif
	r = fold32(s);
	r = fold32(r); /* exactly 16 bits now */
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	r = (r >> 8 | r << 8) & 0xffff;
#endif
	return fold32((uint64_t)sum + r);
}

uint16_t tw_csum_fold(uint32_t sum)
{
	return (uint16_t)~fold32(sum);
}

uint16_t tw_csum_ipv4_hdr(const uint8_t *hdr, size_t hlen)
{
	uint32_t s;

	if (hlen <= IPV4_CSUM_OFF)
		return tw_csum_fold(tw_csum_add(0, hdr, hlen));
	s = tw_csum_add(0, hdr, IPV4_CSUM_OFF);
	if (hlen > IPV4_CSUM_OFF + 2)
		s = tw_csum_add(s, hdr + IPV4_CSUM_OFF + 2, hlen - IPV4_CSUM_OFF - 2);
	return tw_csum_fold(s);
}

/* Sum of the pseudo-header (RFC 793 / RFC 8200 8.1). */
static uint32_t pseudo_sum(int ipver, const uint8_t *src, const uint8_t *dst, uint8_t proto,
			   size_t len)
{
	size_t alen = ipver == 6 ? 16 : 4;
	uint32_t s = tw_csum_add(0, src, alen);

	s = tw_csum_add(s, dst, alen);
	/* IPv4: zero, proto, 16-bit length; IPv6: 32-bit length, 3 zeros, next
	 * header. Both add up to proto + length as 16-bit words. */
	return fold32((uint64_t)s + proto + (len >> 16) + (len & 0xffff));
}

uint16_t tw_csum_l4(int ipver, const uint8_t *src, const uint8_t *dst, uint8_t proto,
		    const uint8_t *l4, size_t len)
{
	size_t off = proto == PROTO_TCP ? TCP_CSUM_OFF : proto == PROTO_UDP ? UDP_CSUM_OFF : len;
	uint32_t s = pseudo_sum(ipver, src, dst, proto, len);
	uint16_t c;

	if (off + 2 > len) {
		s = tw_csum_add(s, l4, len);
	} else {
		s = tw_csum_add(s, l4, off);
		s = tw_csum_add(s, l4 + off + 2, len - off - 2);
	}
	c = tw_csum_fold(s);
	if (proto == PROTO_UDP && c == 0)
		c = 0xffff;
	return c;
}

uint16_t tw_csum_update16(uint16_t csum, uint16_t old_val, uint16_t new_val)
{
	/* HC' = ~(~HC + ~m + m'), one's-complement addition. */
	uint64_t s = (uint16_t)~csum;

	s += (uint16_t)~old_val;
	s += new_val;
	return (uint16_t)~fold32(s);
}

uint16_t tw_csum_update32(uint16_t csum, uint32_t old_val, uint32_t new_val)
{
	uint64_t s = (uint16_t)~csum;

	s += (uint16_t)~(old_val >> 16);
	s += (uint16_t)~old_val;
	s += new_val >> 16;
	s += new_val & 0xffff;
	return (uint16_t)~fold32(s);
}

static int locate_v4(struct tw_rd *rd, size_t len, struct tw_csum_loc *loc)
{
	uint8_t vihl = tw_rd_u8(rd);
	size_t hlen = (size_t)(vihl & 0x0f) * 4, tot;
	uint16_t fragw;

	tw_rd_skip(rd, 1);
	tot = tw_rd_be16(rd);
	tw_rd_skip(rd, 2);
	fragw = tw_rd_be16(rd);
	tw_rd_skip(rd, 1);
	loc->proto = tw_rd_u8(rd);
	if (rd->err)
		return -TW_ETRUNC;
	if (hlen < 20)
		return -TW_EMALFORMED;
	if (tot == 0) /* TSO / IPv4 BIG TCP: the length is the captured one */
		tot = len;
	if (tot < hlen)
		return -TW_EMALFORMED;
	if (tot > len || hlen > len)
		return -TW_ETRUNC;
	loc->l4_off = hlen;
	loc->l4_len = tot - hlen;
	loc->ip_len = tot;
	loc->frag = (fragw & 0x3fff) != 0; /* MF or a fragment offset */
	return 0;
}

static int locate_v6(const uint8_t *l3, struct tw_rd *rd, size_t len, struct tw_csum_loc *loc)
{
	size_t plen, end, off = 40;
	uint8_t nh;

	tw_rd_skip(rd, 4);
	plen = tw_rd_be16(rd);
	nh = tw_rd_u8(rd);
	tw_rd_skip(rd, 33);
	if (rd->err)
		return -TW_ETRUNC;
	end = plen ? 40 + plen : len; /* 0: jumbogram or BIG TCP */
	if (end > len)
		return -TW_ETRUNC;
	loc->frag = false;
	for (;;) {
		uint8_t next, hl;
		size_t elen;

		switch (nh) {
		case 0:   /* hop-by-hop */
		case 43:  /* routing */
		case 60:  /* destination options */
		case 44:  /* fragment */
		case 51:  /* AH */
			break;
		case 50: case 135: case 139: case 140: case 253: case 254:
			return -TW_EMALFORMED;
		default:
			goto upper;
		}
		/* Every extension header has at least 8 bytes; checked before reading. */
		if (end - off < 8)
			return -TW_ETRUNC;
		next = l3[off];
		hl = l3[off + 1];
		if (nh == 44) {
			uint16_t fo = tw_load_be16(l3 + off + 2);

			if (fo & 0xfff9) /* offset or M set: not an atomic fragment */
				loc->frag = true;
			elen = 8;
		} else if (nh == 51) {
			elen = ((size_t)hl + 2) * 4;
		} else {
			elen = ((size_t)hl + 1) * 8;
		}
		if (elen > end - off)
			return -TW_ETRUNC;
		if (nh == 43 && l3[off + 3] != 0)
			return -TW_EMALFORMED; /* segments left: dst is not final */
		off += elen;
		nh = next;
		if (loc->frag)
			break;
	}
upper:
	loc->proto = nh;
	loc->l4_off = off;
	loc->l4_len = end - off;
	loc->ip_len = end;
	return 0;
}

int tw_csum_locate(const uint8_t *l3, size_t len, struct tw_csum_loc *loc)
{
	struct tw_rd rd;
	uint8_t ver;

	if (len == 0)
		return -TW_ETRUNC;
	tw_rd_init(&rd, l3, len);
	ver = l3[0] >> 4;
	loc->ipver = ver;
	if (ver == 4)
		return locate_v4(&rd, len, loc);
	if (ver == 6)
		return locate_v6(l3, &rd, len, loc);
	return -TW_EMALFORMED;
}

int tw_csum_fix_packet(uint8_t *l3, size_t len)
{
	struct tw_csum_loc loc;
	uint8_t *l4;
	size_t l4len, aoff, alen;
	int err = tw_csum_locate(l3, len, &loc);

	if (err)
		return err;
	if (loc.ipver == 4)
		tw_store_be16(l3 + IPV4_CSUM_OFF, tw_csum_ipv4_hdr(l3, loc.l4_off));
	if (loc.frag || (loc.proto != PROTO_TCP && loc.proto != PROTO_UDP))
		return 0;
	l4 = l3 + loc.l4_off;
	l4len = loc.l4_len;
	if (loc.proto == PROTO_TCP) {
		if (l4len < 20)
			return -TW_ETRUNC;
	} else {
		size_t ulen;

		if (l4len < 8)
			return -TW_ETRUNC;
		ulen = tw_load_be16(l4 + 4);
		if (ulen < 8)
			return -TW_EMALFORMED; /* includes IPv6 jumbograms (length 0) */
		if (ulen > l4len)
			return -TW_ETRUNC;
		l4len = ulen;
	}
	aoff = loc.ipver == 4 ? 12 : 8;
	alen = loc.ipver == 4 ? 4 : 16;
	tw_store_be16(l4 + (loc.proto == PROTO_TCP ? TCP_CSUM_OFF : UDP_CSUM_OFF),
		      tw_csum_l4(loc.ipver, l3 + aoff, l3 + aoff + alen, loc.proto, l4, l4len));
	return 0;
}
