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

/* Start splitting PKT. Returns 0, -EINVAL (not TCP, no L4, truncated, mss 0). */
int tw_reseg_init(struct tw_reseg *rs, const struct tw_pkt *pkt, size_t mss);

/* Write the next segment (from the IP header) into BUF. Returns its length,
 * 0 when all segments are out (a packet without payload gives exactly one
 * segment), or -ENOSPC if BUF is too small. */
int tw_reseg_next(struct tw_reseg *rs, uint8_t *buf, size_t cap);

#endif
