/*
 * csum.h - Internet checksums (RFC 1071) and incremental updates (RFC 1624)
 * for IPv4 headers and TCP/UDP over IPv4 and IPv6. Pure and allocation-free.
 * Does not validate captured checksums: we never trust them.
 */
#ifndef TW_PKT_CSUM_H
#define TW_PKT_CSUM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Add LEN bytes at DATA to the 32-bit running sum SUM (network byte order
 * words). An odd LEN is padded with a zero byte, so only the last chunk of a
 * sum may have an odd length. The result stays below 2^17 (carries folded),
 * so sums can be chained without overflow. */
uint32_t tw_csum_add(uint32_t sum, const void *data, size_t len);
/* Fold a running sum to 16 bits and complement it: the value to store. */
uint16_t tw_csum_fold(uint32_t sum);
/* Checksum of an IPv4 header of HLEN bytes (its checksum field is treated as 0). */
uint16_t tw_csum_ipv4_hdr(const uint8_t *hdr, size_t hlen);
/* TCP or UDP checksum over L4 (LEN bytes, checksum field treated as 0) with the
 * pseudo-header for IP version IPVER (4 or 6), SRC/DST (4 or 16 bytes), PROTO.
 * The pseudo-header length is LEN. For UDP (17) a computed 0 is returned as
 * 0xffff (RFC 768; 0 means "no checksum"). The checksum field sits at offset
 * 16 for TCP, 6 for UDP; for any other PROTO no field is zeroed. LEN must
 * cover the checksum field (TCP >= 18, UDP >= 8), else the field is summed. */
uint16_t tw_csum_l4(int ipver, const uint8_t *src, const uint8_t *dst, uint8_t proto,
		    const uint8_t *l4, size_t len);
/* RFC 1624 eqn. 3: new checksum after a 16-bit field changed from OLD to NEW
 * (all values as stored, host order of the 16-bit big-endian words).
 * update32 does the same for a 32-bit field aligned on a 16-bit boundary.
 * A UDP checksum of 0 (absent) must not be updated: the caller checks. */
uint16_t tw_csum_update16(uint16_t csum, uint16_t old_val, uint16_t new_val);
uint16_t tw_csum_update32(uint16_t csum, uint32_t old_val, uint32_t new_val);

/* Where the transport header of an IP packet is, as tw_csum_locate finds it. */
struct tw_csum_loc {
	uint8_t ipver;      /* 4 or 6 */
	uint8_t proto;      /* final next header / protocol */
	size_t l4_off;      /* offset of the transport header from L3 */
	size_t l4_len;      /* transport header + payload bytes */
	size_t ip_len;      /* bytes of the IP packet (from its length field) */
	bool frag;          /* a fragment (not an atomic one): L4 sum not computable */
};

/*
 * Find the transport header of the IP packet at L3 (LEN bytes available).
 * The packet length comes from the IPv4 total length / IPv6 payload length;
 * 0 there (TSO, BIG TCP) means "up to LEN". Bytes after the packet (link
 * padding) are ignored. IPv6 extension headers walked: hop-by-hop (0),
 * routing (43) only with segments left 0 (otherwise the pseudo-header would
 * need the final address: -TW_EMALFORMED), fragment (44), destination
 * options (60), AH (51). ESP (50), mobility (135), HIP (139), shim6 (140)
 * and 253/254 give -TW_EMALFORMED. Returns 0, -TW_ETRUNC, -TW_EMALFORMED.
 */
int tw_csum_locate(const uint8_t *l3, size_t len, struct tw_csum_loc *loc);

/* Recompute the IPv4 header checksum (if IPv4) and the TCP/UDP checksum of a
 * whole IP packet at L3 of LEN bytes, in place. Returns 0, -TW_ETRUNC,
 * -TW_EMALFORMED (see tw_csum_locate). Used after any rewrite and for
 * captured partial checksums. Fragments (other than atomic ones) and
 * protocols other than TCP and UDP only get the IPv4 header checksum; their
 * transport bytes are left alone (the L4 sum spans the whole datagram).
 * A TCP header shorter than 20 bytes or a UDP header shorter than 8 (or a UDP
 * length outside [8, L4 bytes]) gives -TW_ETRUNC / -TW_EMALFORMED. */
int tw_csum_fix_packet(uint8_t *l3, size_t len);

#endif
