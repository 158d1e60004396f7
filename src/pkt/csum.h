/*
 * csum.h - Internet checksums (RFC 1071) and incremental updates (RFC 1624)
 * for IPv4 headers and TCP/UDP over IPv4 and IPv6. Pure and allocation-free.
 * Does not validate captured checksums: we never trust them.
 */
#ifndef TW_PKT_CSUM_H
#define TW_PKT_CSUM_H

#include <stddef.h>
#include <stdint.h>

/* Add LEN bytes at DATA to the 32-bit running sum SUM (network byte order words). */
uint32_t tw_csum_add(uint32_t sum, const void *data, size_t len);
/* Fold a running sum to 16 bits and complement it: the value to store. */
uint16_t tw_csum_fold(uint32_t sum);
/* Checksum of an IPv4 header of HLEN bytes (its checksum field is treated as 0). */
uint16_t tw_csum_ipv4_hdr(const uint8_t *hdr, size_t hlen);
/* TCP or UDP checksum over L4 (LEN bytes, checksum field treated as 0) with the
 * pseudo-header for IP version IPVER (4 or 6), SRC/DST (4 or 16 bytes), PROTO. */
uint16_t tw_csum_l4(int ipver, const uint8_t *src, const uint8_t *dst, uint8_t proto,
		    const uint8_t *l4, size_t len);
/* RFC 1624 eqn. 3: new checksum after a 16-bit field changed from OLD to NEW
 * (all values as stored, host order of the 16-bit big-endian words). */
uint16_t tw_csum_update16(uint16_t csum, uint16_t old_val, uint16_t new_val);
uint16_t tw_csum_update32(uint16_t csum, uint32_t old_val, uint32_t new_val);

/* Recompute the IPv4 header checksum (if IPv4) and the TCP/UDP checksum of a
 * whole IP packet at L3 of LEN bytes, in place. Returns 0, -TW_ETRUNC,
 * -TW_EMALFORMED. Used after any rewrite and for captured partial checksums. */
int tw_csum_fix_packet(uint8_t *l3, size_t len);

#endif
