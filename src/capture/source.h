/*
 * source.h - capture sources behind one interface.
 *
 * Engines: "file" (pcap/pcapng through libpcap, "-" = stdin), "afpacket"
 * (live, AF_PACKET TPACKET_V3 ring, kernel BPF compiled by libpcap,
 * fanout-ready) and "udp" (a UDP listener for tunnelled mirror traffic,
 * spec "vxlan:[ADDR:]PORT" or "geneve:[ADDR:]PORT"; each datagram is handed
 * on as a raw IP frame with a synthesised outer IP/UDP header, so the
 * decoder sees exactly what a wire capture would show).
 *
 * Frames returned by tw_src_next are borrowed: valid until the next call.
 * No allocation or log line per packet.
 */
#ifndef TW_CAPTURE_SOURCE_H
#define TW_CAPTURE_SOURCE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum {
	TW_FRAME_CSUM_PARTIAL = 1 << 0, /* kernel says the L4 checksum is not filled in */
	TW_FRAME_GSO = 1 << 1,          /* a GSO/GRO super-packet */
	TW_FRAME_OUTGOING = 1 << 2,     /* sent by this host */
};

struct tw_frame {
	const uint8_t *data;
	uint32_t caplen;                /* bytes at data */
	uint32_t wirelen;               /* length on the wire */
	int64_t ts_sec;
	uint32_t ts_nsec;               /* always nanoseconds */
	uint32_t flags;                 /* TW_FRAME_* */
};

enum tw_src_kind {
	TW_SRC_AUTO = 0, /* from the spec: "vxlan:" / "geneve:" -> udp, "-" -> file, an existing
			  * interface or "any" -> afpacket, existing file -> file, else afpacket */
	TW_SRC_FILE,
	TW_SRC_AFPACKET,
	TW_SRC_UDP,
};

struct tw_src_cfg {
	enum tw_src_kind kind;
	const char *spec;               /* file path, interface name, or vxlan:[ADDR:]PORT */
	const char *filter;             /* BPF expression or NULL */
	uint32_t snaplen;               /* 0 = 262144 */
	bool nano;                      /* files: keep nanosecond precision (always ns in tw_frame) */
	bool promisc;                   /* live: promiscuous (default on, like tcpdump) */
	uint32_t buffer_kb;             /* live: ring size in KiB, 0 = 32768 */
	uint32_t block_tov_ms;          /* live: TPACKET_V3 block timeout, 0 = 10 */
	int fanout_group;               /* live: >0 joins a PACKET_FANOUT_HASH group */
	bool ignore_outgoing;           /* live: PACKET_IGNORE_OUTGOING */
};

struct tw_src_stats {
	uint64_t received;              /* frames handed to the caller */
	uint64_t filtered;              /* live: passed the kernel filter (tcpdump "received by filter") */
	uint64_t dropped;               /* live: ring full drops (tcpdump "dropped by kernel") */
	uint64_t ifdropped;             /* live: dropped by the interface, when known */
};

struct tw_src;

/* Open a source. On failure returns -errno / -TW_E* and writes a one-line
 * message naming the file, interface or option into ERRBUF. */
int tw_src_open(const struct tw_src_cfg *cfg, struct tw_src **out, char *errbuf, size_t errlen);

/* Up to MAX frames into FRAMES. Waits at most TIMEOUT_MS (-1 = forever, 0 =
 * poll) for live sources. Returns the number of frames (0 on timeout or after
 * tw_src_break), -TW_EEOF at the end of a file, -TW_EBADFILE (ERRBUF-style
 * message via tw_src_error) for a damaged file, or -errno. */
int tw_src_next(struct tw_src *src, struct tw_frame *frames, int max, int timeout_ms);

/* Link type of the frames (TW_LT_*). */
int tw_src_linktype(const struct tw_src *src);
/* Snap length in effect. */
uint32_t tw_src_snaplen(const struct tw_src *src);
/* The last error message (empty if none). */
const char *tw_src_error(const struct tw_src *src);
/* Name of the engine ("file", "afpacket", "udp"). */
const char *tw_src_engine(const struct tw_src *src);
/* Whether timestamps in the source are nanosecond precision (files). */
bool tw_src_is_nano(const struct tw_src *src);
/* Counters so far (running totals). */
int tw_src_stats(struct tw_src *src, struct tw_src_stats *st);
/* Make a blocked or future tw_src_next return 0 promptly. Async-signal-safe. */
void tw_src_break(struct tw_src *src);
/* A file descriptor to poll for readability, or -1 (files). */
int tw_src_fd(const struct tw_src *src);
/* Files: how far reading has come (bytes) and the file's size, for a
 * progress line. -ENOTSUP for live sources, pipes and stdin. */
int tw_src_progress(struct tw_src *src, uint64_t *pos, uint64_t *size);
void tw_src_close(struct tw_src *src);

#endif
