/*
 * forge.h - building IPv4/IPv6 + TCP packets from a description.
 * Writes into a caller buffer; computes both checksums. Allocation-free.
 * Does not choose sequence numbers, ports or options: the caller does.
 */
#ifndef TW_PKT_FORGE_H
#define TW_PKT_FORGE_H

#include <stddef.h>
#include <stdint.h>

struct tw_forge_tcp {
	int ipver;                 /* 4 or 6 */
	const uint8_t *src, *dst;  /* 4 or 16 bytes */
	uint16_t sport, dport;
	uint32_t seq, ack;
	uint16_t flags;            /* TW_TH_*, AE included */
	uint16_t win, urp;
	uint8_t ttl;               /* 0 = 64 */
	uint8_t tos;               /* TOS / traffic class */
	uint16_t ip_id;            /* IPv4 only */
	int df;                    /* IPv4: set DF */
	uint32_t flowlabel;        /* IPv6 only, 20 bits */
	const uint8_t *opt;        /* TCP options; forge pads them to a 4-byte multiple with
	                            * zero bytes (EOL then zeros, RFC 9293 3.1 "padding") */
	size_t opt_len;            /* <= 40 */
	const uint8_t *payload;
	size_t payload_len;
};

/* Write the packet (from the IP header) into BUF of CAP bytes. Returns the
 * packet length (> 0), or -ENOSPC, -EINVAL (bad version, NULL address, options
 * > 40 bytes, a NULL opt/payload with a non-zero length, flow label above 20
 * bits, length above 65535 for IPv4 / payload length above 65535 for IPv6).
 * IPv4: IHL 5, no options, fragment offset 0. IPv6: no extension headers.
 * PAYLOAD and OPT must not overlap BUF. */
int tw_forge_tcp(uint8_t *buf, size_t cap, const struct tw_forge_tcp *f);

/* Build TCP option bytes: MSS, SACK-permitted, timestamps, window scale, in the
 * order Linux uses for a SYN (mss, sackOK, TS, nop, wscale); a field is left
 * out when its has_ flag (sack_ok for SACK-permitted) is clear. Each present
 * field is laid out as Linux's tcp_options_write does:
 *   MSS        02 04 mss
 *   sackOK+TS  04 02 08 0a val ecr      TS alone      01 01 08 0a val ecr
 *   sackOK     01 01 04 02              wscale        01 03 03 shift
 * SACK blocks (nsack) are not written. Returns the length written (multiple
 * of 4, at most 20; 0 when nothing is present), or -ENOSPC. OPTS is a struct
 * tw_tcp_opts from decode.h. */
struct tw_tcp_opts;
int tw_forge_tcp_opts(uint8_t *buf, size_t cap, const struct tw_tcp_opts *opts);

#endif
