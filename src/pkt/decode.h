/*
 * decode.h - decoding of captured frames into a borrowed view (struct tw_pkt).
 *
 * Link types: Ethernet (+802.1Q/802.1ad/QinQ), Linux SLL and SLL2, raw IP,
 * BSD NULL/LOOP, IPv4/IPv6 link types. Network: IPv4 (options skipped,
 * fragments flagged), IPv6 (extension headers walked, fragment header
 * flagged). Transport: TCP (options parsed), UDP. Tunnels: VXLAN, Geneve,
 * GRE (key, sequence, TEB), ERSPAN I/II/III, nested up to TW_TUN_MAX_DEPTH.
 *
 * Pure and allocation-free: every pointer in struct tw_pkt points into the
 * caller's buffer. Checksums are never validated (captures carry partial
 * checksums). The decoder never trusts a length field beyond the captured
 * bytes: a packet whose captured bytes are fewer than its IP length says is
 * flagged truncated, never passed on as whole.
 */
#ifndef TW_PKT_DECODE_H
#define TW_PKT_DECODE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Link types as stored in pcap files (LINKTYPE_*). tw_pkt_decode also accepts
 * libpcap's DLT_RAW values 12 and 14, which pcap_datalink() may return. */
enum tw_linktype {
	TW_LT_NULL = 0,
	TW_LT_EN10MB = 1,
	TW_LT_RAW = 101,
	TW_LT_LOOP = 108,
	TW_LT_SLL = 113,
	TW_LT_IPV4 = 228,
	TW_LT_IPV6 = 229,
	TW_LT_SLL2 = 276,
};

/* TCP flags as in the header, plus AE (the former NS bit) above them. */
enum {
	TW_TH_FIN = 0x01,
	TW_TH_SYN = 0x02,
	TW_TH_RST = 0x04,
	TW_TH_PSH = 0x08,
	TW_TH_ACK = 0x10,
	TW_TH_URG = 0x20,
	TW_TH_ECE = 0x40,
	TW_TH_CWR = 0x80,
	TW_TH_AE = 0x100,
};

enum tw_encap {
	TW_ENCAP_NONE = 0,
	TW_ENCAP_VXLAN,
	TW_ENCAP_GENEVE,
	TW_ENCAP_GRE,     /* plain GRE (IP or TEB inside) */
	TW_ENCAP_ERSPAN1,
	TW_ENCAP_ERSPAN2,
	TW_ENCAP_ERSPAN3,
};

#define TW_TUN_MAX_DEPTH 3
#define TW_TCP_MAX_SACK 4

struct tw_tcp_opts {
	bool has_mss, has_wscale, sack_ok, has_ts;
	uint16_t mss;
	uint8_t wscale;
	uint8_t nsack;               /* SACK blocks present */
	uint32_t ts_val, ts_ecr;
	uint32_t sack[TW_TCP_MAX_SACK][2];
};

/* The outermost tunnel a packet arrived in (the outer headers). */
struct tw_tun {
	enum tw_encap encap;         /* TW_ENCAP_NONE: not tunnelled */
	uint8_t depth;               /* number of tunnel layers found */
	uint8_t ipver;               /* outer IP version */
	uint8_t src[16], dst[16];    /* outer addresses (IPv4 in the first 4 bytes) */
	uint16_t sport, dport;       /* outer UDP ports (0 for GRE) */
	uint32_t vni;                /* VXLAN/Geneve VNI, GRE key, ERSPAN session id */
	bool has_vni;
	bool erspan_trunc;           /* ERSPAN T bit: the mirror cut the frame */
	uint8_t vxlan_flags;
	/* The first tunnel's payload: what follows the tunnel header. */
	const uint8_t *inner;
	size_t inner_len;            /* captured bytes of it */
	int inner_linktype;          /* TW_LT_EN10MB or TW_LT_RAW */
	/* Added fields (decode.c owner): */
	bool inner_trunc;            /* the innermost packet is truncated or cut
	                                (set with or without cfg->decap) */
	const uint8_t *hdr;          /* raw outermost tunnel header (GRE, VXLAN,
	                                Geneve + options), for printers */
	uint16_t hdr_len;            /* its length incl. ERSPAN header / options */
};

struct tw_pkt {
	/* link layer */
	int linktype;
	uint16_t ethertype;          /* after VLAN tags */
	uint8_t nvlan;
	uint16_t vlan[2];            /* TCI of the first two tags */
	uint8_t sll_pkttype;         /* SLL/SLL2 packet type (4 = outgoing), else 0 */
	uint32_t sll_ifindex;        /* SLL2 interface index, else 0 */

	/* network layer */
	uint8_t ipver;               /* 4 or 6 */
	const uint8_t *l3;           /* start of the IP header */
	size_t l3_caplen;            /* captured bytes from l3, clipped to ip_len */
	size_t ip_len;               /* IP total length as declared (or captured, if 0) */
	uint16_t ip_hlen;            /* IPv4 header incl. options; IPv6 40 + ext. headers */
	uint8_t src[16], dst[16];    /* IPv4 in the first 4 bytes, rest zero */
	uint8_t proto;               /* final next-header */
	uint8_t ttl;                 /* TTL / hop limit */
	uint8_t tos;                 /* TOS / traffic class */
	uint16_t ip_id;              /* IPv4 id; IPv6 fragment id low bits */
	bool df;
	bool frag;                   /* a fragment (first or later) */
	bool frag_first;             /* offset 0: transport header present */
	uint32_t frag_off;           /* fragment offset in bytes */
	bool truncated;              /* captured < declared: payload is incomplete */

	/* transport layer (l4 == NULL when absent: non-first fragment, other proto) */
	const uint8_t *l4;
	size_t l4_caplen;            /* captured bytes of L4 header + payload */
	size_t l4_len;               /* declared L4 length (ip_len - ip_hlen) */
	uint16_t sport, dport;

	/* TCP */
	uint32_t seq, ack;
	uint16_t flags;              /* TW_TH_* */
	uint16_t win, urp;
	uint16_t th_len;             /* TCP header incl. options */
	const uint8_t *tcp_opt;      /* raw option bytes */
	uint16_t tcp_opt_len;
	struct tw_tcp_opts opts;

	/* UDP */
	uint16_t udp_len;

	/* payload of TCP/UDP */
	const uint8_t *payload;
	size_t payload_caplen;       /* bytes present in the buffer */
	size_t payload_len;          /* bytes the packet says it carries */

	/* tunnel (outermost), see struct tw_tun */
	struct tw_tun tun;
};

struct tw_decode_cfg {
	bool decap;                  /* describe the innermost packet, not the outer one */
	uint16_t vxlan_port;         /* UDP destination port of VXLAN, 0 = off (default 4789) */
	uint16_t geneve_port;        /* UDP destination port of Geneve, 0 = off (default 6081) */
	bool gre;                    /* recognise GRE/ERSPAN (default true) */
};

/* Defaults: decap off, VXLAN 4789, Geneve 6081, GRE on. */
void tw_decode_cfg_init(struct tw_decode_cfg *cfg);

/*
 * Decode one captured frame of link type LINKTYPE (TW_LT_* or DLT_RAW).
 * DATA holds CAPLEN captured bytes of a frame that was WIRELEN long on the
 * wire (WIRELEN >= CAPLEN; pass CAPLEN when unknown).
 *
 * Tunnels are always recognised (ports in CFG) and described in out->tun,
 * with tun.inner pointing at the tunnel's payload. With cfg->decap the rest
 * of OUT describes the innermost packet; without it, the outer packet.
 * With decap, linktype/ethertype/vlan are the innermost frame's (TW_LT_EN10MB
 * or TW_LT_RAW) while sll_pkttype/sll_ifindex stay the capture's. A tunnel
 * payload that is cut (outer packet truncated inside it, ERSPAN T bit, inner
 * IP length > bytes present) gives truncated=true on the inner packet, and
 * tun.inner_trunc in both modes. CFG may be NULL (defaults).
 *
 * Without decap, a tunnel header that is cut or undecodable leaves the packet
 * described as plain UDP/GRE (tun.encap NONE, return 0); with decap it
 * returns -TW_ETRUNC / -TW_EENCAP, and an inner error (-TW_ENOTIP for ARP
 * inside VXLAN...) is returned with OUT describing the outer packet.
 *
 * Returns 0 when an IP header was decoded (out->l4 may still be NULL),
 * -TW_ENOTIP for frames that carry no IP (ARP...), -TW_ETRUNC when a header
 * (link, IP, TCP or UDP) is cut short, -TW_EMALFORMED for impossible fields,
 * -TW_ELINKTYPE for an unknown link type, -TW_EENCAP for a tunnel header that
 * cannot be decoded when cfg->decap is set. OUT is always initialised.
 */
int tw_pkt_decode(const struct tw_decode_cfg *cfg, int linktype, const uint8_t *data,
		  size_t caplen, size_t wirelen, struct tw_pkt *out);

/* One tunnel header as parsed by tw_tun_parse (the decoder's building block,
 * also usable by printers on struct tw_tun's hdr/hdr_len). */
struct tw_tun_hdr {
	enum tw_encap encap;         /* GRE may come back as ERSPAN1/2/3 */
	uint16_t hlen;               /* bytes from the header start to the payload */
	int inner_linktype;          /* TW_LT_EN10MB or TW_LT_RAW */
	uint16_t proto;              /* GRE / Geneve protocol type, 0x6558 for VXLAN */
	uint32_t vni;                /* VNI, GRE key or ERSPAN session id */
	bool has_vni;
	bool trunc;                  /* ERSPAN T bit */
	uint8_t vxlan_flags;
	uint16_t gre_flags;          /* first 16 bits of GRE: C K S bits, version */
	bool has_seq;
	uint32_t gre_seq;
	uint8_t geneve_optlen;       /* Geneve options, bytes (4 * Opt Len) */
	bool geneve_critical;        /* Geneve C bit */
	uint8_t erspan_ver;          /* ERSPAN version field: 1 (II), 2 (III) */
	uint16_t erspan_vlan;
	uint32_t erspan_index;       /* II: index; III: timestamp */
	bool erspan_egress;          /* III: D bit */
};

/* Parse the tunnel header at P (CAPLEN bytes captured). KIND says where it was
 * found: TW_ENCAP_VXLAN, TW_ENCAP_GENEVE (UDP payload) or TW_ENCAP_GRE (IP
 * protocol 47 payload; ERSPAN is recognised from the GRE protocol type).
 * Returns 0, -TW_ETRUNC (header cut short) or -TW_EENCAP (version, flags or
 * protocol type we do not decode: GRE Ver != 0 or routing, unknown payload). */
int tw_tun_parse(enum tw_encap kind, const uint8_t *p, size_t caplen, struct tw_tun_hdr *h);

/* Parse TCP option bytes into OPTS (zeroed first). Returns 0 or -TW_EMALFORMED
 * when an option's length runs past the end (what was parsed stays). */
int tw_tcp_opts_parse(const uint8_t *opt, size_t len, struct tw_tcp_opts *opts);

#endif
