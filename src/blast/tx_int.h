/*
 * tx_int.h - between tx.c and its AF_XDP engine (tx_xdp.c): an opaque
 * sender of Ethernet frames through an XSK socket (libxdp's xsk API) with a
 * UMEM the frames are copied into. Not for use outside src/blast/tx*.c.
 */
#ifndef TW_BLAST_TX_INT_H
#define TW_BLAST_TX_INT_H

#include "blast/tx.h"

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct tw_xdp;

/* Open an XSK socket on DEV queue 0 for sending only (no XDP program is
 * loaded). Zero-copy is tried first; *ZEROCOPY says whether it was had
 * (copy mode otherwise, e.g. on veth). MTU bounds the frames. 0 or -errno
 * with a one-line message in ERR. */
int tw_xdp_open(struct tw_xdp **out, const char *dev, uint32_t mtu, bool *zerocopy, char *err,
		size_t errlen);
/* Copy F[0..N-1] into the UMEM and hand them to the kernel, waiting out a
 * full ring; updates ST. Returns the number handed over or -errno
 * (-EINTR when *STOP became set). */
int tw_xdp_send(struct tw_xdp *x, const struct tw_btx_frame *f, unsigned n,
		struct tw_btx_stats *st, volatile const sig_atomic_t *stop);
/* Until every submitted frame is completed, at most TIMEOUT_MS. */
int tw_xdp_flush(struct tw_xdp *x, struct tw_btx_stats *st, int timeout_ms);
void tw_xdp_close(struct tw_xdp *x);

#endif
