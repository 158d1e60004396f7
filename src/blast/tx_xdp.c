/*
 * tx_xdp.c - blast's "xdp" engine: AF_XDP through libxdp's xsk API, send
 * only. One UMEM of 4096 chunks (2 KiB, or 4 KiB for MTUs above 2000), a TX
 * ring of 2048 descriptors and its completion ring; no RX ring, no fill
 * ring use and no XDP program (XSK_LIBXDP_FLAGS__INHIBIT_PROG_LOAD: sending
 * needs none). Zero-copy is asked first; drivers without it (veth, most
 * virtual devices) get copy mode, which the caller reports.
 *
 * Frames are copied into free chunks (a stack of chunk addresses refilled
 * from the completion ring), described on the TX ring and pushed with
 * sendto() - in copy mode the kernel sends a bounded number per call, so a
 * batch may take a few. No allocation or log line per frame.
 * Does not: receive, use more than queue 0, or send frames above the MTU.
 */
#include "blast/tx_int.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>
#include <xdp/xsk.h>

#define NCHUNKS 4096u
#define TX_SIZE 2048u

struct tw_xdp {
	struct xsk_umem *umem;
	struct xsk_socket *xsk;
	struct xsk_ring_prod fq, tx;
	struct xsk_ring_cons cq;
	uint8_t *area;
	size_t area_len;
	uint32_t chunk, maxlen;
	uint64_t *free_addr;       /* stack of free chunk addresses */
	unsigned nfree;
	unsigned outstanding;      /* submitted, not yet completed */
	int fd;
};

void tw_xdp_close(struct tw_xdp *x)
{
	if (!x)
		return;
	if (x->xsk)
		xsk_socket__delete(x->xsk);
	if (x->umem)
		(void)xsk_umem__delete(x->umem);
	if (x->area)
		munmap(x->area, x->area_len);
	free(x->free_addr);
	free(x);
}

static int make_socket(struct tw_xdp *x, const char *dev, uint16_t bind_flags)
{
	struct xsk_socket_config sc = {
		.rx_size = 0,
		.tx_size = TX_SIZE,
		.libxdp_flags = XSK_LIBXDP_FLAGS__INHIBIT_PROG_LOAD,
		.bind_flags = bind_flags,
	};

	return xsk_socket__create(&x->xsk, dev, 0, x->umem, NULL, &x->tx, &sc);
}

int tw_xdp_open(struct tw_xdp **out, const char *dev, uint32_t mtu, bool *zerocopy, char *err,
		size_t errlen)
{
	struct xsk_umem_config uc = {
		.fill_size = XSK_RING_PROD__DEFAULT_NUM_DESCS,
		.comp_size = NCHUNKS,
		.frame_headroom = 0,
	};
	struct tw_xdp *x;
	int rc;

	*out = NULL;
	x = calloc(1, sizeof(*x));
	if (!x) {
		snprintf(err, errlen, "blast: xdp: out of memory");
		return -ENOMEM;
	}
	x->chunk = mtu + 14 + 8 <= 2048 ? 2048 : 4096;
	x->maxlen = mtu + 14 + 8;
	if (x->maxlen > x->chunk) {
		snprintf(err, errlen, "blast: xdp on %s: MTU %u is above what one UMEM chunk holds",
			 dev, mtu);
		tw_xdp_close(x);
		return -EMSGSIZE;
	}
	x->area_len = (size_t)NCHUNKS * x->chunk;
	x->area = mmap(NULL, x->area_len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	x->free_addr = calloc(NCHUNKS, sizeof(*x->free_addr));
	if (x->area == MAP_FAILED || !x->free_addr) {
		if (x->area == MAP_FAILED)
			x->area = NULL;
		snprintf(err, errlen, "blast: xdp: out of memory");
		tw_xdp_close(x);
		return -ENOMEM;
	}
	uc.frame_size = x->chunk;
	rc = xsk_umem__create(&x->umem, x->area, x->area_len, &x->fq, &x->cq, &uc);
	if (rc) {
		x->umem = NULL;
		snprintf(err, errlen, "blast: xdp on %s: UMEM: %s", dev, strerror(-rc));
		tw_xdp_close(x);
		return rc;
	}
	rc = make_socket(x, dev, XDP_ZEROCOPY | XDP_USE_NEED_WAKEUP);
	*zerocopy = rc == 0;
	if (rc) {
		x->xsk = NULL;
		rc = make_socket(x, dev, XDP_COPY);
	}
	if (rc) {
		x->xsk = NULL;
		snprintf(err, errlen, "blast: xdp on %s: AF_XDP socket: %s", dev, strerror(-rc));
		tw_xdp_close(x);
		return rc;
	}
	x->fd = xsk_socket__fd(x->xsk);
	for (unsigned i = 0; i < NCHUNKS; i++)
		x->free_addr[i] = (uint64_t)i * x->chunk;
	x->nfree = NCHUNKS;
	*out = x;
	return 0;
}

static void reclaim(struct tw_xdp *x)
{
	uint32_t idx, n = xsk_ring_cons__peek(&x->cq, NCHUNKS, &idx);

	for (uint32_t i = 0; i < n; i++)
		x->free_addr[x->nfree++] = *xsk_ring_cons__comp_addr(&x->cq, idx + i);
	if (n)
		xsk_ring_cons__release(&x->cq, n);
	x->outstanding -= n;
}

/* Ask the kernel to send what the TX ring holds. */
static int kick(struct tw_xdp *x, struct tw_btx_stats *st)
{
	st->calls++;
	if (sendto(x->fd, NULL, 0, MSG_DONTWAIT, NULL, 0) == -1) {
		if (errno == EAGAIN || errno == EBUSY || errno == ENOBUFS || errno == EINTR) {
			if (errno == ENOBUFS)
				st->retried_nobufs++;
			else
				st->retried_eagain++;
			return 0;
		}
		return -errno;
	}
	return 0;
}

/* Wait a little for completions (the kernel owns every chunk or slot). */
static int wait_room(struct tw_xdp *x, struct tw_btx_stats *st, volatile const sig_atomic_t *stop)
{
	struct pollfd pfd = {.fd = x->fd, .events = POLLOUT};
	int rc;

	if (stop && *stop)
		return -EINTR;
	rc = kick(x, st);
	if (rc < 0)
		return rc;
	reclaim(x);
	if (!x->nfree)
		(void)poll(&pfd, 1, 1);
	return 0;
}

int tw_xdp_send(struct tw_xdp *x, const struct tw_btx_frame *f, unsigned n,
		struct tw_btx_stats *st, volatile const sig_atomic_t *stop)
{
	unsigned k = 0, done = 0;
	int rc;

	reclaim(x);
	while (k < n) {
		uint32_t idx, want = 0, got;

		/* a frame the kernel would refuse never gets a descriptor (an
		 * invalid one is skipped without a completion: its chunk leaks) */
		if (f[k].len > x->maxlen || f[k].len < 14) {
			st->failed++;
			k++;
			continue;
		}
		while (k + want < n && want < x->nfree && f[k + want].len <= x->maxlen &&
		       f[k + want].len >= 14)
			want++;
		got = want ? xsk_ring_prod__reserve(&x->tx, want, &idx) : 0;
		if (!got) {
			rc = wait_room(x, st, stop);
			if (rc < 0)
				return rc;
			continue;
		}
		for (uint32_t i = 0; i < got; i++, k++) {
			struct xdp_desc *d = xsk_ring_prod__tx_desc(&x->tx, idx + i);
			uint64_t addr = x->free_addr[--x->nfree];

			memcpy(x->area + addr, f[k].data, f[k].len);
			d->addr = addr;
			d->len = f[k].len;
			st->bytes += f[k].len;
		}
		st->packets += got;
		done += got;
		xsk_ring_prod__submit(&x->tx, got);
		x->outstanding += got;
		rc = kick(x, st);
		if (rc < 0)
			return rc;
	}
	return (int)done;
}

int tw_xdp_flush(struct tw_xdp *x, struct tw_btx_stats *st, int timeout_ms)
{
	for (int waited = 0; x->outstanding; waited++) {
		int rc;

		if (waited >= timeout_ms)
			return -ETIMEDOUT;
		rc = kick(x, st);
		if (rc < 0)
			return rc;
		reclaim(x);
		if (x->outstanding)
			usleep(1000);
	}
	return 0;
}
