/*
 * sink_pcap.h - writing frames to pcap files through libpcap, with tcpdump's
 * rotation rules: -C (size, millions of bytes), -G (seconds, strftime names),
 * -W (ring of N files with -C; stop after N files with -G). "-" = stdout.
 * Does not decode or filter anything.
 */
#ifndef TW_SEND_SINK_PCAP_H
#define TW_SEND_SINK_PCAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct tw_frame;

struct tw_pcapw_cfg {
	const char *path;        /* file name or strftime pattern (-G); "-" = stdout */
	int linktype;            /* TW_LT_* of the frames */
	uint32_t snaplen;
	bool nano;               /* write nanosecond pcap (magic 0xa1b23c4d) */
	uint64_t rotate_bytes;   /* -C in bytes, 0 = off */
	uint32_t rotate_secs;    /* -G, 0 = off */
	uint32_t max_files;      /* -W, 0 = off */
	bool packet_buffered;    /* -U: flush after every frame */
};

struct tw_pcapw;

/* Open the first file. ERRBUF gets a one-line message naming the file. */
int tw_pcapw_open(const struct tw_pcapw_cfg *cfg, struct tw_pcapw **out, char *errbuf, size_t errlen);
/* Write one frame (rotating first when due). Returns 0, -errno, or 1 when -G
 * with -W reached its file limit (the caller stops, as tcpdump does). */
int tw_pcapw_write(struct tw_pcapw *w, const struct tw_frame *f);
/* Write a frame with other bytes than f->data (e.g. the inner packet of a
 * tunnel): DATA/LEN replace the frame's, timestamps are kept. */
int tw_pcapw_write_data(struct tw_pcapw *w, const struct tw_frame *f, const uint8_t *data, uint32_t len);
int tw_pcapw_flush(struct tw_pcapw *w);
void tw_pcapw_close(struct tw_pcapw *w);
/* The file name tcpdump would use for file number IDX (0-based) under -C/-W
 * when not using -G: "base", "base1", ... zero-padded to the width of -W.
 * Exposed for tests. Returns 0 or -ENAMETOOLONG. */
int tw_pcapw_name(const struct tw_pcapw_cfg *cfg, unsigned idx, char *out, size_t outlen);

#endif
