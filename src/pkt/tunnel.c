/*
 * tunnel.c - parsing of one tunnel header: VXLAN (RFC 7348), Geneve
 * (RFC 8926), GRE (RFC 2784/2890, key and sequence) and the ERSPAN types
 * I, II and III carried in GRE (shared notes: capture-and-mirroring.md, 1).
 *
 * Says where the payload starts and what link type it has; it does not
 * decode the payload (decode.c does, recursively) and does not interpret
 * Geneve option TLVs (skipped as a block by Opt Len) or ERSPAN platform
 * bytes. Reads only through struct tw_rd.
 */
#include "pkt/decode.h"
#include "core/err.h"
#include "pkt/cursor.h"

#include <string.h>

enum {
	ETH_P_IPV4 = 0x0800,
	ETH_P_IPV6 = 0x86DD,
	ETH_P_TEB = 0x6558,     /* transparent Ethernet bridging */
	ETH_P_ERSPAN12 = 0x88BE,
	ETH_P_ERSPAN3 = 0x22EB,
};

enum {
	GRE_C = 0x8000,
	GRE_R = 0x4000,         /* RFC 1701 routing: not supported */
	GRE_K = 0x2000,
	GRE_S = 0x1000,
	GRE_VER = 0x0007,
};

/* Link type of a payload named by an EtherType-like protocol field. */
static int proto_linktype(uint16_t proto)
{
	switch (proto) {
	case ETH_P_TEB:
		return TW_LT_EN10MB;
	case ETH_P_IPV4:
	case ETH_P_IPV6:
		return TW_LT_RAW;
	default:
		return -1;
	}
}

static int parse_vxlan(struct tw_rd *rd, struct tw_tun_hdr *h)
{
	h->vxlan_flags = tw_rd_u8(rd);
	tw_rd_skip(rd, 3);             /* reserved (GPO and others use them: accepted) */
	h->vni = tw_rd_be24(rd);
	tw_rd_skip(rd, 1);
	if (rd->err)
		return -TW_ETRUNC;
	h->has_vni = (h->vxlan_flags & 0x08) != 0;
	h->proto = ETH_P_TEB;
	h->inner_linktype = TW_LT_EN10MB;
	return 0;
}

static int parse_geneve(struct tw_rd *rd, struct tw_tun_hdr *h)
{
	uint8_t b0 = tw_rd_u8(rd), b1 = tw_rd_u8(rd);

	h->proto = tw_rd_be16(rd);
	h->vni = tw_rd_be24(rd);
	tw_rd_skip(rd, 1);
	if (rd->err)
		return -TW_ETRUNC;
	if (b0 >> 6 != 0)               /* Ver */
		return -TW_EENCAP;
	h->geneve_optlen = (uint8_t)((b0 & 0x3f) * 4);
	h->geneve_critical = (b1 & 0x40) != 0;
	h->has_vni = true;
	/* Options (AWS 0x0108, GCP 0x0132, Tencent 0x0167 classes...) are
	 * skipped as a block: their sizes always add up to Opt Len. */
	tw_rd_skip(rd, h->geneve_optlen);
	if (rd->err)
		return -TW_ETRUNC;
	h->inner_linktype = proto_linktype(h->proto);
	return h->inner_linktype < 0 ? -TW_EENCAP : 0;
}

/* ERSPAN type II (version 1): 8 bytes after a GRE header with S=1. */
static int parse_erspan2(struct tw_rd *rd, struct tw_tun_hdr *h)
{
	uint16_t w0 = tw_rd_be16(rd), w1 = tw_rd_be16(rd);
	uint32_t w2 = tw_rd_be32(rd);

	if (rd->err)
		return -TW_ETRUNC;
	h->erspan_ver = (uint8_t)(w0 >> 12);
	if (h->erspan_ver != 1)
		return -TW_EENCAP;
	h->encap = TW_ENCAP_ERSPAN2;
	h->erspan_vlan = w0 & 0x0fff;
	/* w1: COS (3) · En (2) · T (1) · Session ID (10) */
	h->trunc = (w1 & 0x0400) != 0;
	h->vni = w1 & 0x03ff;
	h->has_vni = true;
	h->erspan_index = w2 & 0x000fffff;
	h->inner_linktype = TW_LT_EN10MB;
	return 0;
}

/* ERSPAN type III (version 2): 12 bytes, plus 8 platform bytes when O=1. */
static int parse_erspan3(struct tw_rd *rd, struct tw_tun_hdr *h)
{
	uint16_t w0 = tw_rd_be16(rd), w1 = tw_rd_be16(rd);
	uint32_t ts = tw_rd_be32(rd);
	uint16_t sgt = tw_rd_be16(rd), w3 = tw_rd_be16(rd);
	uint8_t ft;

	(void)sgt;
	if (rd->err)
		return -TW_ETRUNC;
	h->erspan_ver = (uint8_t)(w0 >> 12);
	if (h->erspan_ver != 2)
		return -TW_EENCAP;
	h->encap = TW_ENCAP_ERSPAN3;
	h->erspan_vlan = w0 & 0x0fff;
	/* w1: COS (3) · BSO (2) · T (1) · Session ID (10) */
	h->trunc = (w1 & 0x0400) != 0;
	h->vni = w1 & 0x03ff;
	h->has_vni = true;
	h->erspan_index = ts;
	/* w3: P (1) · FT (5) · HwID (6) · D (1) · Gra (2) · O (1) */
	ft = (uint8_t)((w3 >> 10) & 0x1f);
	h->erspan_egress = (w3 & 0x0008) != 0;
	if (w3 & 0x0001)
		tw_rd_skip(rd, 8);
	if (rd->err)
		return -TW_ETRUNC;
	if (ft == 0)
		h->inner_linktype = TW_LT_EN10MB;
	else if (ft == 2)
		h->inner_linktype = TW_LT_RAW;
	else
		return -TW_EENCAP;
	return 0;
}

static int parse_gre(struct tw_rd *rd, struct tw_tun_hdr *h)
{
	uint16_t fl = tw_rd_be16(rd);

	h->proto = tw_rd_be16(rd);
	if (rd->err)
		return -TW_ETRUNC;
	h->gre_flags = fl;
	/* Ver 1 is PPTP's enhanced GRE; routing (RFC 1701) needs SRE walking. */
	if ((fl & GRE_VER) != 0 || (fl & GRE_R) != 0)
		return -TW_EENCAP;
	if (fl & GRE_C)
		tw_rd_skip(rd, 4);      /* checksum + reserved */
	if (fl & GRE_K) {
		h->vni = tw_rd_be32(rd);
		h->has_vni = true;
	}
	if (fl & GRE_S) {
		h->gre_seq = tw_rd_be32(rd);
		h->has_seq = true;
	}
	if (rd->err)
		return -TW_ETRUNC;
	switch (h->proto) {
	case ETH_P_ERSPAN12:
		/* Types I and II share the protocol type: the S bit tells them apart. */
		if (!(fl & GRE_S)) {
			h->encap = TW_ENCAP_ERSPAN1;
			h->has_vni = false;
			h->vni = 0;
			h->inner_linktype = TW_LT_EN10MB;
			return 0;
		}
		return parse_erspan2(rd, h);
	case ETH_P_ERSPAN3:
		return parse_erspan3(rd, h);
	default:
		h->inner_linktype = proto_linktype(h->proto);
		return h->inner_linktype < 0 ? -TW_EENCAP : 0;
	}
}

int tw_tun_parse(enum tw_encap kind, const uint8_t *p, size_t caplen, struct tw_tun_hdr *h)
{
	struct tw_rd rd;
	int rc;

	memset(h, 0, sizeof(*h));
	h->encap = kind;
	h->inner_linktype = -1;
	tw_rd_init(&rd, p, p ? caplen : 0);
	switch (kind) {
	case TW_ENCAP_VXLAN:
		rc = parse_vxlan(&rd, h);
		break;
	case TW_ENCAP_GENEVE:
		rc = parse_geneve(&rd, h);
		break;
	case TW_ENCAP_GRE:
		rc = parse_gre(&rd, h);
		break;
	default:
		return -TW_EENCAP;
	}
	if (rc == 0)
		h->hlen = (uint16_t)rd.pos;
	return rc;
}
