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
	uint32_t flowlabel;        /* IPv6 only */
	const uint8_t *opt;        /* TCP options, padded by forge to 4 bytes with NOPs..EOL */
	size_t opt_len;            /* <= 40 */
	const uint8_t *payload;
	size_t payload_len;
};

/* Write the packet (from the IP header) into BUF of CAP bytes. Returns the
 * packet length (> 0), or -ENOSPC, -EINVAL (bad version, options > 40 bytes,
 * length above 65535 for IPv4 / payload length above 65535 for IPv6). */
int tw_forge_tcp(uint8_t *buf, size_t cap, const struct tw_forge_tcp *f);

/* Build TCP option bytes: MSS, SACK-permitted, timestamps, window scale, in the
 * order Linux uses for a SYN (mss, sackOK, TS, nop, wscale); a field is left
 * out when its has_ flag is clear. Returns the length written (multiple of 4),
 * or -ENOSPC. OPTS is a struct tw_tcp_opts from decode.h. */
struct tw_tcp_opts;
int tw_forge_tcp_opts(uint8_t *buf, size_t cap, const struct tw_tcp_opts *opts);

#endif
