/*
 * reseg.h - re-segmentation of TCP super-packets (GRO/TSO captures, or any
 * packet above the path MTU) into segments of at most MSS payload bytes.
 *
 * Each segment gets a copy of the IP and TCP headers (options included), its
 * sequence number advanced by the payload already emitted, its own IPv4 id
 * (incrementing), the IP length set, and fresh IP and TCP checksums. PSH, FIN
 * and RST go only on the last segment; CWR only on the first. Pure and
 * allocation-free: the caller owns the output buffer.
 */
#ifndef TW_PKT_RESEG_H
#define TW_PKT_RESEG_H

#include <stddef.h>
#include <stdint.h>

struct tw_pkt;

struct tw_reseg {
	const struct tw_pkt *pkt;  /* decoded TCP packet (must not be truncated) */
	size_t mss;                /* payload bytes per segment, > 0 */
	size_t off;                /* payload bytes emitted so far */
	unsigned idx;              /* segments emitted so far */
	int done;
};

/* Start splitting PKT. Returns 0, -EINVAL (not TCP, no L4, truncated, mss 0,
 * payload not all captured, an IP fragment, an IPv6 extension header that
 * tw_csum_locate refuses, headers that do not match the IP bytes).
 * Uses these fields of PKT: ipver, l3, ip_hlen, l4, th_len, payload,
 * payload_len, payload_caplen, seq, flags, truncated, ip_id, proto; the IP
 * and TCP header bytes themselves are copied. PKT and its bytes must stay
 * valid until the last tw_reseg_next. */
int tw_reseg_init(struct tw_reseg *rs, const struct tw_pkt *pkt, size_t mss);

/* Write the next segment (from the IP header) into BUF. Returns its length,
 * 0 when all segments are out (a packet without payload gives exactly one
 * segment), -ENOSPC if BUF is too small (nothing is consumed: retry with a
 * larger one), or -EMSGSIZE if the segment would exceed the 65535-byte IP
 * length (an mss too large for a BIG TCP packet). A SYN stays on the first
 * segment only and the later ones count its sequence number. URG and the
 * urgent pointer are copied unchanged. BUF must not overlap the packet. */
int tw_reseg_next(struct tw_reseg *rs, uint8_t *buf, size_t cap);

/* Segment payload size for PKT on a path whose MTU (largest IP packet) is
 * MTU: min(TARGET_MSS, MTU - ip_hlen - th_len), the rule of linux-net.md 6.3.
 * TARGET_MSS 0 means no MSS limit. Returns 0 when the headers alone do not
 * fit in MTU. A packet needs cutting when its payload_len is above this. */
size_t tw_reseg_mss(const struct tw_pkt *pkt, size_t mtu, size_t target_mss);

#endif
