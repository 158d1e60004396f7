/*
 * tx.h - where `tcptwin blast` sends frames: whole Ethernet frames, as the
 * capture holds them (after rewriting), onto one device, through an engine
 * chosen at run time:
 *   "afpacket"  socket(AF_PACKET, SOCK_RAW), one sendmmsg per batch, frames
 *               borrowed (no copy);
 *   "txring"    PACKET_TX_RING (TPACKET_V2) with PACKET_QDISC_BYPASS: frames
 *               are copied into the shared ring and one send() per batch
 *               tells the kernel to transmit what is there.
 * Unlike send/sink.h (IP packets framed by us for `copy`), the link header is
 * the caller's. Backpressure (ENOBUFS, a full ring) is waited out with poll
 * and counted, never dropped; a frame the kernel refuses (above the MTU,
 * malformed) is counted as failed. No allocation or log line per frame.
 * Does not: rewrite, re-segment or pace (blast.c).
 */
#ifndef TW_BLAST_TX_H
#define TW_BLAST_TX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum tw_btx_engine {
	TW_BTX_AFPACKET = 0,
	TW_BTX_TXRING,
	TW_BTX_XDP,
};

#define TW_BTX_MAX_BATCH 1024u

struct tw_btx_cfg {
	enum tw_btx_engine engine;
	const char *dev;
	unsigned batch;             /* frames per tw_btx_send at most; 0 = 64 */
	unsigned ring_frames;       /* txring: slots, 0 = 4096 */
};

struct tw_btx_frame {
	const uint8_t *data;        /* from the Ethernet header; borrowed during the call */
	uint32_t len;
};

struct tw_btx_stats {
	uint64_t packets;           /* handed to the kernel */
	uint64_t bytes;             /* their frame bytes */
	uint64_t failed;            /* refused (EMSGSIZE, EINVAL, wrong format...) */
	uint64_t retried_nobufs;    /* waits on ENOBUFS / a full ring */
	uint64_t retried_eagain;    /* waits on EAGAIN */
	uint64_t calls;             /* send system calls */
};

struct tw_btx;

/* "afpacket" / "txring" / "xdp" -> engine; 0 or -EINVAL. */
int tw_btx_engine_parse(const char *name, enum tw_btx_engine *out);
/* Open the device DEV. Allocates here only. On failure -errno and a one-line
 * message in ERRBUF. */
int tw_btx_open(const struct tw_btx_cfg *cfg, struct tw_btx **out, char *errbuf, size_t errlen);
/* Send F[0..N-1] (N <= the batch size, else -E2BIG): every frame is either
 * handed to the kernel or counted as failed before this returns (waiting
 * out backpressure). Returns the number handed over, or -errno when the
 * device is gone or a stop was requested (tw_btx_break). */
int tw_btx_send(struct tw_btx *tx, const struct tw_btx_frame *f, unsigned n);
/* Wait until the kernel has taken everything queued (txring), at most
 * TIMEOUT_MS. 0 or -errno. */
int tw_btx_flush(struct tw_btx *tx, int timeout_ms);
void tw_btx_stats(const struct tw_btx *tx, struct tw_btx_stats *st);
/* The device's MTU (largest IP packet), MAC, and the engine's name. */
uint32_t tw_btx_mtu(const struct tw_btx *tx);
const uint8_t *tw_btx_mac(const struct tw_btx *tx);
const char *tw_btx_engine(const struct tw_btx *tx);
/* xdp: whether the socket got zero-copy (false: copy mode); false for the others. */
bool tw_btx_zerocopy(const struct tw_btx *tx);
unsigned tw_btx_batch(const struct tw_btx *tx);
/* Make waits in tw_btx_send give up (-EINTR). Async-signal-safe. */
void tw_btx_break(struct tw_btx *tx);
void tw_btx_close(struct tw_btx *tx);

#endif
