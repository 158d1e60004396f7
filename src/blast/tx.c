/*
 * tx.c - blast's frame senders (see tx.h): "afpacket" (sendmmsg of borrowed
 * frames) and "txring" (PACKET_TX_RING, TPACKET_V2, PACKET_QDISC_BYPASS).
 *
 * Both sockets use protocol 0 (they receive nothing) and are bound to the
 * device. Backpressure is waited out with poll(POLLOUT) (a full socket
 * buffer or ring), counted in retried_*. The ring uses PACKET_LOSS so that a
 * malformed frame is marked TP_STATUS_WRONG_FORMAT and skipped instead of
 * stopping the ring; such slots are counted as failed when reclaimed.
 * The "xdp" engine lives in tx_xdp.c; this file gives it the device's MTU and
 * the common bookkeeping. Does not copy frames for afpacket.
 */
#include "blast/tx.h"
#include "blast/tx_int.h"

#include <errno.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#define DEF_BATCH 64u
#define DEF_RING 4096u
#define SNDBUF (8 << 20)
#define POLL_MS 100
/* TPACKET_V2 TX: the frame's data starts here in a slot (the kernel's
 * tp_hdrlen - sizeof(struct sockaddr_ll), without PACKET_TX_HAS_OFF) */
#define RING_DATA_OFF (TPACKET2_HDRLEN - sizeof(struct sockaddr_ll))

struct tw_btx {
	enum tw_btx_engine engine;
	int fd;
	int ifindex;
	uint32_t mtu;
	uint8_t mac[6];
	unsigned batch;
	volatile sig_atomic_t stop;
	struct tw_btx_stats st;
	/* afpacket */
	struct mmsghdr *msgs;
	struct iovec *iov;
	struct sockaddr_ll *sll;
	/* txring */
	uint8_t *ring;
	size_t ring_len;
	unsigned frame_size, nframes, head;
	unsigned pending;           /* slots filled since the last kick */
	/* xdp */
	struct tw_xdp *xdp;
	bool zerocopy;
};

int tw_btx_engine_parse(const char *name, enum tw_btx_engine *out)
{
	if (!strcmp(name, "afpacket"))
		*out = TW_BTX_AFPACKET;
	else if (!strcmp(name, "txring"))
		*out = TW_BTX_TXRING;
	else if (!strcmp(name, "xdp"))
		*out = TW_BTX_XDP;
	else
		return -EINVAL;
	return 0;
}

const char *tw_btx_engine(const struct tw_btx *tx)
{
	return tx->engine == TW_BTX_TXRING ? "txring" : tx->engine == TW_BTX_XDP ? "xdp" : "afpacket";
}

bool tw_btx_zerocopy(const struct tw_btx *tx)
{
	return tx->zerocopy;
}

static int dev_info(struct tw_btx *tx, const char *dev)
{
	struct ifreq ifr;

	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", dev);
	if (ioctl(tx->fd, SIOCGIFINDEX, &ifr) == -1)
		return -errno;
	tx->ifindex = ifr.ifr_ifindex;
	if (ioctl(tx->fd, SIOCGIFMTU, &ifr) == -1)
		return -errno;
	tx->mtu = (uint32_t)ifr.ifr_mtu;
	if (ioctl(tx->fd, SIOCGIFHWADDR, &ifr) == -1)
		return -errno;
	if (ifr.ifr_hwaddr.sa_family != 1 /* ARPHRD_ETHER */)
		return -EOPNOTSUPP;
	memcpy(tx->mac, ifr.ifr_hwaddr.sa_data, 6);
	return 0;
}

static int ring_setup(struct tw_btx *tx, unsigned want)
{
	struct tpacket_req req;
	unsigned need = (unsigned)RING_DATA_OFF + tx->mtu + 14 + 8, fs = 2048, bs;
	int v = TPACKET_V2, one = 1;

	while (fs < need)
		fs <<= 1;
	bs = fs > 65536 ? fs : 65536;
	if (setsockopt(tx->fd, SOL_PACKET, PACKET_VERSION, &v, sizeof(v)) == -1 ||
	    setsockopt(tx->fd, SOL_PACKET, PACKET_LOSS, &one, sizeof(one)) == -1)
		return -errno;
	memset(&req, 0, sizeof(req));
	req.tp_frame_size = fs;
	req.tp_block_size = bs;
	req.tp_block_nr = (want * fs + bs - 1) / bs;
	req.tp_frame_nr = req.tp_block_nr * (bs / fs);
	if (setsockopt(tx->fd, SOL_PACKET, PACKET_TX_RING, &req, sizeof(req)) == -1)
		return -errno;
	tx->frame_size = fs;
	tx->nframes = req.tp_frame_nr;
	tx->ring_len = (size_t)req.tp_block_nr * bs;
	tx->ring = mmap(NULL, tx->ring_len, PROT_READ | PROT_WRITE, MAP_SHARED, tx->fd, 0);
	if (tx->ring == MAP_FAILED) {
		tx->ring = NULL;
		return -errno;
	}
	return 0;
}

int tw_btx_open(const struct tw_btx_cfg *cfg, struct tw_btx **out, char *errbuf, size_t errlen)
{
	struct sockaddr_ll sll = {.sll_family = AF_PACKET};
	const char *what = "packet socket";
	struct tw_btx *tx;
	int rc, v = SNDBUF, one = 1;

	*out = NULL;
	if (!cfg->dev || !cfg->dev[0] || cfg->batch > TW_BTX_MAX_BATCH) {
		snprintf(errbuf, errlen, "blast: no device, or batch above %u", TW_BTX_MAX_BATCH);
		return -EINVAL;
	}
	tx = calloc(1, sizeof(*tx));
	if (!tx) {
		snprintf(errbuf, errlen, "blast: out of memory");
		return -ENOMEM;
	}
	tx->engine = cfg->engine;
	tx->batch = cfg->batch ? cfg->batch : DEF_BATCH;
	tx->fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0);
	if (tx->fd == -1) {
		rc = -errno;
		goto err;
	}
	what = "device";
	rc = dev_info(tx, cfg->dev);
	if (rc < 0)
		goto err;
	if (tx->engine == TW_BTX_XDP) {
		rc = tw_xdp_open(&tx->xdp, cfg->dev, tx->mtu, &tx->zerocopy, errbuf, errlen);
		if (rc < 0) {
			tw_btx_close(tx);
			return rc;
		}
		*out = tx;
		return 0;
	}
	what = "packet socket";
	sll.sll_ifindex = tx->ifindex;
	if (bind(tx->fd, (struct sockaddr *)&sll, sizeof(sll)) == -1) {
		rc = -errno;
		goto err;
	}
	if (setsockopt(tx->fd, SOL_SOCKET, SO_SNDBUFFORCE, &v, sizeof(v)) == -1)
		(void)setsockopt(tx->fd, SOL_SOCKET, SO_SNDBUF, &v, sizeof(v));
	if (tx->engine == TW_BTX_TXRING) {
		what = "PACKET_TX_RING";
		if (setsockopt(tx->fd, SOL_PACKET, PACKET_QDISC_BYPASS, &one, sizeof(one)) == -1) {
			rc = -errno;
			goto err;
		}
		rc = ring_setup(tx, cfg->ring_frames ? cfg->ring_frames : DEF_RING);
		if (rc < 0)
			goto err;
	} else {
		tx->msgs = calloc(tx->batch, sizeof(*tx->msgs));
		tx->iov = calloc(tx->batch, sizeof(*tx->iov));
		tx->sll = calloc(tx->batch, sizeof(*tx->sll));
		if (!tx->msgs || !tx->iov || !tx->sll) {
			rc = -ENOMEM;
			goto err;
		}
	}
	*out = tx;
	return 0;
err:
	snprintf(errbuf, errlen, "blast: %s %s on %s: %s", tw_btx_engine(tx), what, cfg->dev,
		 rc == -ENODEV ? "no such device" : rc == -EOPNOTSUPP ? "not an Ethernet device"
		 : strerror(-rc));
	tw_btx_close(tx);
	return rc;
}

void tw_btx_close(struct tw_btx *tx)
{
	if (!tx)
		return;
	tw_xdp_close(tx->xdp);
	if (tx->ring)
		munmap(tx->ring, tx->ring_len);
	if (tx->fd != -1)
		close(tx->fd);
	free(tx->msgs);
	free(tx->iov);
	free(tx->sll);
	free(tx);
}

void tw_btx_break(struct tw_btx *tx)
{
	tx->stop = 1;
}

void tw_btx_stats(const struct tw_btx *tx, struct tw_btx_stats *st)
{
	*st = tx->st;
}

uint32_t tw_btx_mtu(const struct tw_btx *tx)
{
	return tx->mtu;
}

const uint8_t *tw_btx_mac(const struct tw_btx *tx)
{
	return tx->mac;
}

unsigned tw_btx_batch(const struct tw_btx *tx)
{
	return tx->batch;
}

/* Wait until the socket may send again (or POLL_MS passed). */
static int wait_out(struct tw_btx *tx)
{
	struct pollfd pfd = {.fd = tx->fd, .events = POLLOUT};

	if (tx->stop)
		return -EINTR;
	if (poll(&pfd, 1, POLL_MS) == -1 && errno != EINTR)
		return -errno;
	return tx->stop ? -EINTR : 0;
}

static bool fatal_err(int e)
{
	return e == ENETDOWN || e == ENXIO || e == ENODEV || e == EBADF;
}

static int afp_send(struct tw_btx *tx, const struct tw_btx_frame *f, unsigned n)
{
	unsigned i = 0, done = 0;
	int rc;

	for (unsigned k = 0; k < n; k++) {
		struct sockaddr_ll *sll = &tx->sll[k];
		struct msghdr *mh = &tx->msgs[k].msg_hdr;

		memset(sll, 0, sizeof(*sll));
		sll->sll_family = AF_PACKET;
		sll->sll_ifindex = tx->ifindex;
		/* skb->protocol from the frame's EtherType */
		if (f[k].len >= 14)
			memcpy(&sll->sll_protocol, f[k].data + 12, 2);
		tx->iov[k].iov_base = (void *)(uintptr_t)f[k].data;
		tx->iov[k].iov_len = f[k].len;
		memset(mh, 0, sizeof(*mh));
		mh->msg_name = sll;
		mh->msg_namelen = sizeof(*sll);
		mh->msg_iov = &tx->iov[k];
		mh->msg_iovlen = 1;
	}
	while (i < n) {
		tx->st.calls++;
		rc = sendmmsg(tx->fd, &tx->msgs[i], n - i, MSG_DONTWAIT);
		if (rc > 0) {
			for (unsigned k = i; k < i + (unsigned)rc; k++)
				tx->st.bytes += f[k].len;
			tx->st.packets += (unsigned)rc;
			done += (unsigned)rc;
			i += (unsigned)rc;
			continue;
		}
		if (rc == -1 && errno == EINTR)
			continue;
		if (rc == -1 && (errno == ENOBUFS || errno == EAGAIN)) {
			if (errno == ENOBUFS)
				tx->st.retried_nobufs++;
			else
				tx->st.retried_eagain++;
			rc = wait_out(tx);
			if (rc < 0)
				return rc;
			continue;
		}
		if (rc == -1 && fatal_err(errno))
			return -errno;
		tx->st.failed++;   /* this frame refused (EMSGSIZE, EINVAL...): skip it */
		i++;
	}
	return (int)done;
}

static struct tpacket2_hdr *slot(struct tw_btx *tx, unsigned i)
{
	return (struct tpacket2_hdr *)(void *)(tx->ring + (size_t)i * tx->frame_size);
}

static int ring_kick(struct tw_btx *tx, bool wait)
{
	tx->st.calls++;
	tx->pending = 0;
	if (send(tx->fd, NULL, 0, wait ? 0 : MSG_DONTWAIT) == -1) {
		if (errno == ENOBUFS || errno == EAGAIN || errno == EINTR)
			return 0;
		return -errno;
	}
	return 0;
}

/* Take back slot H for a new frame: wait while the kernel still owns it. */
static int ring_reclaim(struct tw_btx *tx, struct tpacket2_hdr *h)
{
	int rc;

	for (;;) {
		uint32_t st = __atomic_load_n(&h->tp_status, __ATOMIC_ACQUIRE);

		if (st == TP_STATUS_AVAILABLE)
			return 0;
		if (st & TP_STATUS_WRONG_FORMAT) {
			tx->st.failed++;
			tx->st.packets--;
			tx->st.bytes -= h->tp_len;
			__atomic_store_n(&h->tp_status, TP_STATUS_AVAILABLE, __ATOMIC_RELEASE);
			return 0;
		}
		tx->st.retried_nobufs++;
		rc = ring_kick(tx, false);
		if (rc < 0)
			return rc;
		if (__atomic_load_n(&h->tp_status, __ATOMIC_ACQUIRE) == TP_STATUS_AVAILABLE)
			return 0;
		rc = wait_out(tx);
		if (rc < 0)
			return rc;
	}
}

static int ring_send(struct tw_btx *tx, const struct tw_btx_frame *f, unsigned n)
{
	unsigned done = 0;
	int rc;

	for (unsigned k = 0; k < n; k++) {
		struct tpacket2_hdr *h = slot(tx, tx->head);

		if (f[k].len + RING_DATA_OFF > tx->frame_size || f[k].len < 14) {
			tx->st.failed++;
			continue;
		}
		rc = ring_reclaim(tx, h);
		if (rc < 0)
			return rc;
		memcpy((uint8_t *)h + RING_DATA_OFF, f[k].data, f[k].len);
		h->tp_len = f[k].len;
		__atomic_store_n(&h->tp_status, TP_STATUS_SEND_REQUEST, __ATOMIC_RELEASE);
		tx->head = (tx->head + 1) % tx->nframes;
		tx->pending++;
		tx->st.packets++;
		tx->st.bytes += f[k].len;
		done++;
	}
	if (tx->pending) {
		rc = ring_kick(tx, false);
		if (rc < 0)
			return rc;
	}
	return (int)done;
}

int tw_btx_send(struct tw_btx *tx, const struct tw_btx_frame *f, unsigned n)
{
	if (n > tx->batch)
		return -E2BIG;
	if (!n)
		return 0;
	if (tx->engine == TW_BTX_XDP)
		return tw_xdp_send(tx->xdp, f, n, &tx->st, &tx->stop);
	return tx->engine == TW_BTX_TXRING ? ring_send(tx, f, n) : afp_send(tx, f, n);
}

int tw_btx_flush(struct tw_btx *tx, int timeout_ms)
{
	int rc, waited = 0;

	if (tx->engine == TW_BTX_XDP)
		return tw_xdp_flush(tx->xdp, &tx->st, timeout_ms);
	if (tx->engine != TW_BTX_TXRING)
		return 0;
	for (;;) {
		bool busy = false;

		for (unsigned i = 0; i < tx->nframes; i++) {
			struct tpacket2_hdr *h = slot(tx, i);
			uint32_t st = __atomic_load_n(&h->tp_status, __ATOMIC_ACQUIRE);

			if (st & TP_STATUS_WRONG_FORMAT) {
				tx->st.failed++;
				tx->st.packets--;
				tx->st.bytes -= h->tp_len;
				__atomic_store_n(&h->tp_status, TP_STATUS_AVAILABLE, __ATOMIC_RELEASE);
			} else if (st != TP_STATUS_AVAILABLE) {
				busy = true;
			}
		}
		if (!busy)
			return 0;
		if (waited >= timeout_ms)
			return -ETIMEDOUT;
		rc = ring_kick(tx, false);
		if (rc < 0)
			return rc;
		usleep(1000);
		waited++;
	}
}
