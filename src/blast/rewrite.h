/*
 * rewrite.h - tcpreplay-style rewriting of one Ethernet frame in place, for
 * `tcptwin blast`: source/destination MAC, IPv4 source/destination address
 * maps (CIDR:CIDR, host bits kept), TCP/UDP port maps, a per-loop address
 * offset (--unique-ip), checksum recomputation and truncation to the MTU.
 *
 * IPv6 addresses too: tcpreplay's "[2001:db8::/32]:[fd00::/32]" map entries,
 * and --unique-ip adds to the low 32 bits.
 * Pure and allocation-free; the option parsers (MAC, map lists) live here too
 * so they are unit-tested with the rest. Checksums are recomputed in full,
 * never updated incrementally: captured checksums may be partial (GRO/TSO).
 * Does not: re-segment (pkt/reseg.h), rewrite VLAN tags or tunnelled inner
 * packets.
 */
#ifndef TW_BLAST_REWRITE_H
#define TW_BLAST_REWRITE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TW_RW_MAX_MAPS 16
#define TW_RW_MAX_PORTS 32

struct tw_rw_ipmap {
	uint32_t from, to;          /* network addresses, host order */
	uint32_t mask;              /* host order, from the first CIDR's prefix length */
};

struct tw_rw_ipmap6 {
	uint8_t from[16], to[16];   /* networks (host bits zero) */
	uint8_t bits;               /* prefix length of FROM */
};

struct tw_rw_portmap {
	uint16_t lo, hi;            /* ports lo..hi (host order) */
	uint16_t to;                /* lo maps to TO, lo + 1 to TO + 1, ... (a single port
	                             * for a range when TO_FIXED) */
	bool to_fixed;
};

struct tw_rw_cfg {
	bool has_srcmac, has_dstmac;
	uint8_t srcmac[6], dstmac[6];
	unsigned nsrcmap, ndstmap, nport, nsrcmap6, ndstmap6;
	struct tw_rw_ipmap srcmap[TW_RW_MAX_MAPS], dstmap[TW_RW_MAX_MAPS];
	struct tw_rw_ipmap6 srcmap6[TW_RW_MAX_MAPS], dstmap6[TW_RW_MAX_MAPS];
	struct tw_rw_portmap port[TW_RW_MAX_PORTS];
	bool fixcsum;               /* recompute IP/TCP/UDP checksums of every packet */
	bool mtu_trunc;             /* cut packets above MTU to MTU bytes of IP */
	uint32_t mtu;               /* largest IP packet (for mtu_trunc) */
};

enum {
	TW_RW_CHANGED = 1 << 0,     /* an address, port or MAC changed */
	TW_RW_CSUM = 1 << 1,        /* checksums were recomputed */
	TW_RW_TRUNC = 1 << 2,       /* the packet was cut to the MTU */
};

/* "aa:bb:cc:dd:ee:ff" -> MAC. 0 or -EINVAL. */
int tw_rw_parse_mac(const char *s, uint8_t mac[6]);
/* tcpreplay's map list "10.0.0.0/8:192.168.0.0/16,1.2.3.4/32:5.6.7.8/32",
 * appended to MAPS (*N entries, at most TW_RW_MAX_MAPS). 0 or -EINVAL/-E2BIG.
 * IPv6 entries "[2001:db8::/32]:[fd00::/32]" go to MAPS6 (*N6 entries; both may be
 * NULL: IPv6 entries are then -EINVAL). */
int tw_rw_parse_ipmap(const char *s, struct tw_rw_ipmap *maps, unsigned *n);
int tw_rw_parse_ipmap46(const char *s, struct tw_rw_ipmap *maps, unsigned *n,
			struct tw_rw_ipmap6 *maps6, unsigned *n6);
/* tcpreplay's --portmap "80:8080,1000-1010:2000,22-23:2222@" (a range maps
 * onto consecutive ports; "@" at the end maps the whole range onto one port).
 * Appended to MAPS. 0 or -EINVAL/-E2BIG. */
int tw_rw_parse_portmap(const char *s, struct tw_rw_portmap *maps, unsigned *n);

/* Map one IPv4 address (host order) through MAPS; first match wins.
 * Returns whether it matched. */
bool tw_rw_map_ip(const struct tw_rw_ipmap *maps, unsigned n, uint32_t *addr);
/* Map one IPv6 address (16 bytes, in place) through MAPS; first match wins. */
bool tw_rw_map_ip6(const struct tw_rw_ipmap6 *maps, unsigned n, uint8_t *addr);
/* Map one port (host order) through MAPS; returns whether it matched. */
bool tw_rw_map_port(const struct tw_rw_portmap *maps, unsigned n, uint16_t *port);

/* Whether CFG changes anything at all (a frame can then be sent as it is). */
bool tw_rw_active(const struct tw_rw_cfg *cfg);

/*
 * Rewrite the Ethernet frame FRAME (*LEN bytes) in place. L3OFF is where the
 * IP header starts (after VLAN tags), or 0 when the frame carries no IP (only
 * the MACs change then). UNIQ (--unique-ip, the loop number; 0 = off) is
 * added to both addresses after the maps (IPv6: to the low 32 bits). *LEN may shrink (mtu_trunc).
 * Returns TW_RW_* flags, or -TW_ETRUNC/-TW_EMALFORMED when the IP packet
 * cannot be parsed (the MACs are rewritten anyway; addresses are not).
 */
int tw_rw_frame(const struct tw_rw_cfg *cfg, uint8_t *frame, size_t *len, size_t l3off,
		uint32_t uniq);

#endif
