/*
 * decode.c - tw_pkt_decode: link layer (Ethernet + VLAN stacks, SLL, SLL2,
 * raw IP, BSD NULL/LOOP), IPv4/IPv6 (options and extension headers skipped,
 * fragments flagged), TCP and UDP headers, then tunnels (VXLAN, Geneve, GRE,
 * ERSPAN via tunnel.c), decoded recursively up to TW_TUN_MAX_DEPTH layers.
 *
 * Pure and allocation-free; every read goes through struct tw_rd or follows an
 * explicit bounds check. Does not validate checksums (captures hold partial
 * ones), reassemble fragments, or decode anything above TCP/UDP.
 */
#include "pkt/decode.h"
#include "core/err.h"
#include "pkt/cursor.h"

#include <string.h>

enum {
	ETH_P_IPV4 = 0x0800,
	ETH_P_IPV6 = 0x86DD,
	ETH_P_8021Q = 0x8100,
	ETH_P_8021AD = 0x88A8,
	ETH_P_QINQ_OLD = 0x9100,
	DLT_RAW_BSD = 12,          /* libpcap's DLT_RAW on most systems */
	DLT_RAW_OPENBSD = 14,
	PROTO_TCP = 6,
	PROTO_UDP = 17,
	PROTO_GRE = 47,
	IPV6_MAX_EXT = 16,         /* extension headers walked before giving up */
};

void tw_decode_cfg_init(struct tw_decode_cfg *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->vxlan_port = 4789;
	cfg->geneve_port = 6081;
	cfg->gre = true;
}

/* IP version an EtherType announces, or -TW_ENOTIP. */
static int ethertype_ipver(uint16_t type)
{
	if (type == ETH_P_IPV4)
		return 4;
	if (type == ETH_P_IPV6)
		return 6;
	return -TW_ENOTIP;
}

/* 802.1Q / 802.1ad / old QinQ tags after an EtherType: record and skip them. */
static int skip_vlans(struct tw_rd *rd, uint16_t type, struct tw_pkt *out)
{
	while (type == ETH_P_8021Q || type == ETH_P_8021AD || type == ETH_P_QINQ_OLD) {
		uint16_t tci = tw_rd_be16(rd);

		type = tw_rd_be16(rd);
		if (rd->err)
			return -TW_ETRUNC;
		if (out->nvlan < 2)
			out->vlan[out->nvlan] = tci;
		if (out->nvlan < UINT8_MAX)
			out->nvlan++;
	}
	out->ethertype = type;
	return ethertype_ipver(type);
}

/* BSD NULL / LOOP address family: AF_INET 2, AF_INET6 24, 28 or 30 (BSDs differ). */
static int af_ipver(uint32_t af)
{
	if (af == 2)
		return 4;
	if (af == 24 || af == 28 || af == 30)
		return 6;
	return 0;
}

/*
 * Decode the link header of LT; leaves RD at the IP header. Returns the IP
 * version the link layer announces (4, 6, or 0 = read it from the packet),
 * or a negative error.
 */
static int decode_link(int lt, struct tw_rd *rd, struct tw_pkt *out)
{
	uint16_t type;
	uint32_t af;
	int v;

	switch (lt) {
	case TW_LT_EN10MB:
		tw_rd_skip(rd, 12);             /* destination, source MAC */
		type = tw_rd_be16(rd);
		if (rd->err)
			return -TW_ETRUNC;
		return skip_vlans(rd, type, out);
	case TW_LT_SLL:
		/* packet type, ARPHRD, address length, address (8), protocol */
		out->sll_pkttype = (uint8_t)tw_rd_be16(rd);
		tw_rd_skip(rd, 12);
		type = tw_rd_be16(rd);
		if (rd->err)
			return -TW_ETRUNC;
		return skip_vlans(rd, type, out);
	case TW_LT_SLL2:
		/* protocol, reserved, ifindex, ARPHRD, packet type, addr len, addr (8) */
		type = tw_rd_be16(rd);
		tw_rd_skip(rd, 2);
		out->sll_ifindex = tw_rd_be32(rd);
		tw_rd_skip(rd, 2);
		out->sll_pkttype = tw_rd_u8(rd);
		tw_rd_skip(rd, 9);
		if (rd->err)
			return -TW_ETRUNC;
		return skip_vlans(rd, type, out);
	case TW_LT_RAW:
	case DLT_RAW_BSD:
	case DLT_RAW_OPENBSD:
		return 0;
	case TW_LT_IPV4:
		return 4;
	case TW_LT_IPV6:
		return 6;
	case TW_LT_NULL:
		/* Host byte order of the capturing machine: accept either. */
		af = tw_rd_le32(rd);
		if (rd->err)
			return -TW_ETRUNC;
		v = af_ipver(af);
		if (!v)
			v = af_ipver(__builtin_bswap32(af));
		return v ? v : -TW_ENOTIP;
	case TW_LT_LOOP:
		af = tw_rd_be32(rd);
		if (rd->err)
			return -TW_ETRUNC;
		v = af_ipver(af);
		return v ? v : -TW_ENOTIP;
	default:
		return -TW_ELINKTYPE;
	}
}

/* IPv4 header at L3 (CAP bytes captured, WIRE on the wire). */
static int decode_ipv4(const uint8_t *l3, size_t cap, size_t wire, struct tw_pkt *out)
{
	struct tw_rd rd;
	uint8_t vihl;
	uint16_t tot, fo;
	size_t ihl;

	tw_rd_init(&rd, l3, cap);
	vihl = tw_rd_u8(&rd);
	out->tos = tw_rd_u8(&rd);
	tot = tw_rd_be16(&rd);
	out->ip_id = tw_rd_be16(&rd);
	fo = tw_rd_be16(&rd);
	out->ttl = tw_rd_u8(&rd);
	out->proto = tw_rd_u8(&rd);
	tw_rd_skip(&rd, 2);                     /* checksum: not validated */
	tw_rd_bytes(&rd, out->src, 4);
	tw_rd_bytes(&rd, out->dst, 4);
	if (rd.err)
		return -TW_ETRUNC;
	ihl = (size_t)(vihl & 0x0f) * 4;
	if (ihl < 20)
		return -TW_EMALFORMED;
	if (tot != 0 && tot < ihl)
		return -TW_EMALFORMED;
	if (ihl > cap)
		return -TW_ETRUNC;              /* options cut short */
	/* tot_len 0: GRO/TSO super-packet or BIG TCP; its length is the frame's. */
	out->ip_len = tot ? tot : wire;
	out->ip_hlen = (uint16_t)ihl;
	out->df = (fo & 0x4000) != 0;
	out->frag_off = (uint32_t)(fo & 0x1fff) * 8;
	out->frag = (fo & 0x2000) != 0 || out->frag_off != 0;
	out->frag_first = out->frag && out->frag_off == 0;
	return 0;
}

/* IPv6 header and extension headers at L3. */
static int decode_ipv6(const uint8_t *l3, size_t cap, size_t wire, struct tw_pkt *out)
{
	struct tw_rd rd;
	uint32_t w0;
	uint16_t plen;
	uint8_t nh;
	size_t off = 40;

	tw_rd_init(&rd, l3, cap);
	w0 = tw_rd_be32(&rd);
	plen = tw_rd_be16(&rd);
	nh = tw_rd_u8(&rd);
	out->ttl = tw_rd_u8(&rd);
	tw_rd_bytes(&rd, out->src, 16);
	tw_rd_bytes(&rd, out->dst, 16);
	if (rd.err)
		return -TW_ETRUNC;
	out->tos = (uint8_t)(w0 >> 20);
	/* Payload length 0: jumbogram / BIG TCP / GRO; take the frame's length. */
	out->ip_len = plen ? (size_t)plen + 40 : wire;

	for (int n = 0; n < IPV6_MAX_EXT; n++) {
		size_t hlen;
		uint8_t next;

		if (nh != 0 && nh != 43 && nh != 44 && nh != 51 && nh != 60)
			break;
		if (off + 8 > out->ip_len)
			return -TW_EMALFORMED;
		rd.pos = off;
		next = tw_rd_u8(&rd);
		if (nh == 44) {                 /* fragment header: fixed 8 bytes */
			uint16_t fo;
			uint32_t id;

			tw_rd_skip(&rd, 1);
			fo = tw_rd_be16(&rd);
			id = tw_rd_be32(&rd);
			if (rd.err)
				return -TW_ETRUNC;
			out->ip_id = (uint16_t)id;
			out->frag_off = fo & 0xfff8;
			/* offset 0 and M=0 is an atomic fragment (RFC 6946): whole */
			out->frag = (fo & 1) != 0 || out->frag_off != 0;
			out->frag_first = out->frag && out->frag_off == 0;
			hlen = 8;
		} else {
			uint8_t l = tw_rd_u8(&rd);

			if (rd.err)
				return -TW_ETRUNC;
			hlen = nh == 51 ? ((size_t)l + 2) * 4 : ((size_t)l + 1) * 8;
		}
		if (off + hlen > out->ip_len)
			return -TW_EMALFORMED;
		if (off + hlen > cap)
			return -TW_ETRUNC;
		off += hlen;
		nh = next;
		if (out->frag && out->frag_off != 0)
			break;                  /* later fragment: the rest is payload */
	}
	out->proto = nh;
	out->ip_hlen = (uint16_t)off;
	return 0;
}

/* TCP header at out->l4 (l4_caplen captured, l4_len declared). */
static int decode_tcp(struct tw_pkt *out)
{
	struct tw_rd rd;
	uint8_t off_res, fl;
	size_t thl;

	if (out->l4_len < 20)
		return -TW_EMALFORMED;
	tw_rd_init(&rd, out->l4, out->l4_caplen);
	out->sport = tw_rd_be16(&rd);
	out->dport = tw_rd_be16(&rd);
	out->seq = tw_rd_be32(&rd);
	out->ack = tw_rd_be32(&rd);
	off_res = tw_rd_u8(&rd);
	fl = tw_rd_u8(&rd);
	out->win = tw_rd_be16(&rd);
	tw_rd_skip(&rd, 2);                     /* checksum */
	out->urp = tw_rd_be16(&rd);
	if (rd.err)
		return -TW_ETRUNC;
	thl = (size_t)(off_res >> 4) * 4;
	if (thl < 20 || thl > out->l4_len)
		return -TW_EMALFORMED;
	if (thl > out->l4_caplen)
		return -TW_ETRUNC;
	/* AE (formerly NS) is the low bit of the reserved nibble (RFC 9768). */
	out->flags = (uint16_t)(fl | (off_res & 0x01) << 8);
	out->th_len = (uint16_t)thl;
	out->tcp_opt_len = (uint16_t)(thl - 20);
	out->tcp_opt = out->tcp_opt_len ? out->l4 + 20 : NULL;
	/* Bad option lengths keep what was parsed; the header itself is fine. */
	(void)tw_tcp_opts_parse(out->tcp_opt, out->tcp_opt_len, &out->opts);
	out->payload = out->l4 + thl;
	out->payload_len = out->l4_len - thl;
	out->payload_caplen = out->l4_caplen - thl;
	return 0;
}

static int decode_udp(struct tw_pkt *out)
{
	struct tw_rd rd;
	size_t plen;

	if (out->l4_len < 8)
		return -TW_EMALFORMED;
	tw_rd_init(&rd, out->l4, out->l4_caplen);
	out->sport = tw_rd_be16(&rd);
	out->dport = tw_rd_be16(&rd);
	out->udp_len = tw_rd_be16(&rd);
	if (rd.err || out->l4_caplen < 8)
		return -TW_ETRUNC;
	/* A UDP length that disagrees with IP (0 for jumbograms and UDP GSO,
	 * or bogus) is ignored: the IP length bounds the datagram. */
	if (out->udp_len >= 8 && out->udp_len <= out->l4_len)
		plen = (size_t)out->udp_len - 8;
	else
		plen = out->l4_len - 8;
	out->payload = out->l4 + 8;
	out->payload_len = plen;
	out->payload_caplen = out->l4_caplen - 8 < plen ? out->l4_caplen - 8 : plen;
	return 0;
}

/* IP header at L3 with CAP captured and WIRE wire bytes, then TCP/UDP.
 * WANT is the version the link layer announced (0: read it). */
static int decode_ip(const uint8_t *l3, size_t cap, size_t wire, int want, struct tw_pkt *out)
{
	int ver, rc;

	if (cap < 1)
		return -TW_ETRUNC;
	ver = l3[0] >> 4;
	if ((ver != 4 && ver != 6) || (want && ver != want))
		return -TW_EMALFORMED;
	out->ipver = (uint8_t)ver;
	if (!out->ethertype)
		out->ethertype = ver == 4 ? ETH_P_IPV4 : ETH_P_IPV6;
	rc = ver == 4 ? decode_ipv4(l3, cap, wire, out) : decode_ipv6(l3, cap, wire, out);
	if (rc)
		return rc;
	out->l3 = l3;
	out->truncated = cap < out->ip_len;
	out->l3_caplen = out->truncated ? cap : out->ip_len;
	if (out->frag && !out->frag_first)
		return 0;                       /* no transport header here */
	if (out->proto != PROTO_TCP && out->proto != PROTO_UDP)
		return 0;
	out->l4 = l3 + out->ip_hlen;
	out->l4_len = out->ip_len - out->ip_hlen;
	out->l4_caplen = out->l3_caplen - out->ip_hlen;
	return out->proto == PROTO_TCP ? decode_tcp(out) : decode_udp(out);
}

static int decode_frame(const struct tw_decode_cfg *cfg, int lt, const uint8_t *data,
			size_t cap, size_t wire, unsigned depth, bool cut, struct tw_pkt *out);

/*
 * Where a tunnel header may start in OUT (already decoded): UDP to the VXLAN
 * or Geneve port, or IP protocol 47. Sets the kind, the start, the captured
 * and declared bytes from there; false when there is no tunnel.
 */
static bool find_tunnel(const struct tw_decode_cfg *cfg, const struct tw_pkt *out,
			enum tw_encap *kind, const uint8_t **p, size_t *cap, size_t *decl)
{
	if (out->proto == PROTO_UDP && out->payload) {
		if (cfg->vxlan_port && out->dport == cfg->vxlan_port)
			*kind = TW_ENCAP_VXLAN;
		else if (cfg->geneve_port && out->dport == cfg->geneve_port)
			*kind = TW_ENCAP_GENEVE;
		else
			return false;
		*p = out->payload;
		*cap = out->payload_caplen;
		*decl = out->payload_len;
		return true;
	}
	if (out->proto == PROTO_GRE && cfg->gre && !(out->frag && !out->frag_first)) {
		*kind = TW_ENCAP_GRE;
		*p = out->l3 + out->ip_hlen;
		*cap = out->l3_caplen - out->ip_hlen;
		*decl = out->ip_len - out->ip_hlen;
		return true;
	}
	return false;
}

/*
 * OUT holds a decoded packet at tunnel depth DEPTH; if it carries a tunnel,
 * describe it in out->tun and decode what is inside. With cfg->decap, OUT is
 * replaced by the innermost packet (keeping this layer's tun and the capture
 * metadata). CUT: this packet is already known to be cut by an outer layer.
 */
static int decode_tunnel(const struct tw_decode_cfg *cfg, unsigned depth, bool cut,
			 struct tw_pkt *out)
{
	struct tw_tun_hdr h;
	struct tw_pkt in;
	struct tw_tun tun;
	enum tw_encap kind;
	const uint8_t *p, *inner;
	size_t pcap, pdecl, icap, idecl;
	bool icut;
	int rc;

	if (!find_tunnel(cfg, out, &kind, &p, &pcap, &pdecl))
		return 0;
	rc = tw_tun_parse(kind, p, pcap, &h);
	if (rc)
		return cfg->decap ? rc : 0;     /* without decap it is just UDP/GRE */

	inner = p + h.hlen;
	icap = pcap - h.hlen;
	idecl = pdecl - h.hlen;
	/* The payload is incomplete if the outer packet was cut inside it or the
	 * ERSPAN mirror says it truncated the frame. */
	icut = cut || h.trunc || icap < idecl;

	memset(&tun, 0, sizeof(tun));
	tun.encap = h.encap;
	tun.depth = 1;
	tun.ipver = out->ipver;
	memcpy(tun.src, out->src, sizeof(tun.src));
	memcpy(tun.dst, out->dst, sizeof(tun.dst));
	if (kind != TW_ENCAP_GRE) {
		tun.sport = out->sport;
		tun.dport = out->dport;
	}
	tun.vni = h.vni;
	tun.has_vni = h.has_vni;
	tun.erspan_trunc = h.trunc;
	tun.vxlan_flags = h.vxlan_flags;
	tun.inner = inner;
	tun.inner_len = icap;
	tun.inner_linktype = h.inner_linktype;
	tun.hdr = p;
	tun.hdr_len = h.hlen;

	rc = decode_frame(cfg, h.inner_linktype, inner, icap, idecl, depth + 1, icut, &in);
	if (rc == 0) {
		tun.depth = (uint8_t)(1 + in.tun.depth);
		tun.inner_trunc = in.tun.encap != TW_ENCAP_NONE ? in.tun.inner_trunc : in.truncated;
	} else {
		tun.inner_trunc = icut || rc == -TW_ETRUNC;
	}
	out->tun = tun;
	if (!cfg->decap)
		return 0;
	if (rc)
		return rc;
	/* Innermost packet, but the outermost tunnel and the capture metadata. */
	in.sll_pkttype = out->sll_pkttype;
	in.sll_ifindex = out->sll_ifindex;
	*out = in;
	out->tun = tun;
	return 0;
}

/* Decode one frame of link type LT at tunnel depth DEPTH (0 = the capture). */
static int decode_frame(const struct tw_decode_cfg *cfg, int lt, const uint8_t *data,
			size_t cap, size_t wire, unsigned depth, bool cut, struct tw_pkt *out)
{
	struct tw_rd rd;
	int want, rc;

	memset(out, 0, sizeof(*out));
	out->linktype = lt;
	if (!data)
		return -TW_ETRUNC;
	if (wire < cap)
		wire = cap;
	tw_rd_init(&rd, data, cap);
	want = decode_link(lt, &rd, out);
	if (want < 0)
		return want;
	rc = decode_ip(data + rd.pos, cap - rd.pos, wire - rd.pos, want, out);
	if (rc)
		return rc;
	if (cut)
		out->truncated = true;
	if (depth >= TW_TUN_MAX_DEPTH)
		return 0;
	return decode_tunnel(cfg, depth, cut, out);
}

int tw_pkt_decode(const struct tw_decode_cfg *cfg, int linktype, const uint8_t *data,
		  size_t caplen, size_t wirelen, struct tw_pkt *out)
{
	struct tw_decode_cfg def;

	if (!cfg) {
		tw_decode_cfg_init(&def);
		cfg = &def;
	}
	return decode_frame(cfg, linktype, data, caplen, wirelen, 0, false, out);
}
