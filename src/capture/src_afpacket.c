/*
 * src_afpacket.c - the "afpacket" capture engine: live capture on one
 * interface (or "any") through an AF_PACKET TPACKET_V3 receive ring.
 *
 * Set-up order matters: the socket is created with protocol 0 so it sees
 * nothing until bind(); the ring, the kernel BPF program and the options are
 * in place before bind() attaches it to the interface, so no frame from
 * another interface or one the filter rejects ever reaches the ring. Fanout
 * can only be joined after bind().
 *
 * What the frames look like:
 *  - Ethernet and loopback devices: SOCK_RAW, LINKTYPE_ETHERNET. VLAN tags
 *    the kernel (or the NIC) stripped are put back from tp_vlan_tci (the
 *    kernel filter sees the frame without them, so "vlan" in a filter does
 *    not match such frames; "udp port 53" does).
 *  - "any": SOCK_DGRAM, and a 20-byte LINUX_SLL2 header is built in front of
 *    each packet from its sockaddr_ll (what tcpdump 4.99 does for -i any).
 *    The BPF filter runs in user space on that frame, since the kernel runs
 *    socket filters on the bare network-layer packet there. VLAN tags are
 *    not shown there (tcpdump 4.99 does not show them either).
 *  - other devices (tun, wireguard, GRE...): SOCK_DGRAM, raw IP
 *    (LINKTYPE_RAW); non-IP packets are skipped.
 * Both headers and tags are written in place, in front of the packet inside
 * the ring: PACKET_RESERVE keeps RESERVE bytes free there (the ring is ours
 * until the block goes back to the kernel). No copy, no scratch buffer.
 *
 * Outgoing packets on the loopback device are skipped (the kernel shows each
 * one twice, as outgoing and as incoming), like libpcap does.
 *
 * Not done here: hardware timestamps, PACKET_TX_RING, ifdropped counters.
 */
#define TW_LOG_MODULE "capture"

#include "capture/source_int.h"
#include "core/err.h"
#include "core/log.h"
#include "pkt/cursor.h"
#include "pkt/decode.h"

#include <arpa/inet.h>
#include <errno.h>
#include <linux/filter.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <net/if_arp.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

/* Kernel 6.3+: the frame is a TCP GSO/GRO super-packet. Debian 12's uapi
 * headers predate it. */
#ifndef TP_STATUS_GSO_TCP
#define TP_STATUS_GSO_TCP (1 << 8)
#endif

#define SLL2_LEN 20
#define VLAN_LEN 4
#define RESERVE SLL2_LEN  /* >= VLAN_LEN too */
#define HDRLEN (TPACKET_ALIGN(sizeof(struct tpacket3_hdr)) + sizeof(struct sockaddr_ll))
#define BLOCK_MAX (1u << 20)
#define FRAME_SIZE 2048u  /* V3 ignores frames, but the geometry must add up */

enum afp_mode {
	MODE_ETHER = 0,  /* SOCK_RAW, Ethernet header from the wire */
	MODE_SLL2,       /* SOCK_DGRAM on "any", SLL2 header built here */
	MODE_RAWIP,      /* SOCK_DGRAM on an L3 device */
};

struct afp_src {
	int fd;
	struct tw_src_wake wake;    /* raised by tw_src_break */
	uint8_t *ring;
	size_t ring_len;
	uint32_t block_size, block_nr;
	uint32_t cur;               /* block being read */
	uint32_t held;              /* fully read blocks before cur, lent to the caller */
	bool in_block;              /* cur is ours and partly read */
	uint32_t pkt_left, pkt_off; /* frames left in cur, offset of the next one */
	enum afp_mode mode;
	int lo_ifindex;
	uint32_t snaplen;
	struct bpf_program uprog;   /* user-space filter ("any") */
	bool have_uprog;
	uint64_t received, filtered, dropped;
	uint64_t bad;               /* frames whose ring header made no sense */
	char name[IF_NAMESIZE];
};

static int afp_errno(struct tw_src *src, const char *what)
{
	int rc = -errno;
	struct afp_src *a = src->priv;

	if (rc == -EPERM || rc == -EACCES)
		tw_src_seterr(src, "%s: You don't have permission to perform this capture on that device (%s: %s)",
			      a->name, what, tw_strerror(rc));
	else
		tw_src_seterr(src, "%s: %s: %s", a->name, what, tw_strerror(rc));
	return rc;
}

/* ARPHRD type, flags and MTU of the named device. */
static int dev_info(struct tw_src *src, int fd, int *hatype, int *flags)
{
	struct afp_src *a = src->priv;
	struct ifreq ifr;

	memset(&ifr, 0, sizeof(ifr));
	memcpy(ifr.ifr_name, a->name, sizeof(ifr.ifr_name));
	if (ioctl(fd, SIOCGIFHWADDR, &ifr) == -1)
		return afp_errno(src, "SIOCGIFHWADDR");
	*hatype = ifr.ifr_hwaddr.sa_family;
	if (ioctl(fd, SIOCGIFFLAGS, &ifr) == -1)
		return afp_errno(src, "SIOCGIFFLAGS");
	*flags = ifr.ifr_flags;
	return 0;
}

static uint32_t pow2_at_least(uint32_t v)
{
	uint32_t p = 4096;

	while (p < v && p < (1u << 30))
		p <<= 1;
	return p;
}

/*
 * Ring geometry: blocks of at most 1 MiB (at least the largest frame, rounded
 * to a power of two: the kernel cuts a frame that does not fit its block),
 * and at least 256 of them when the buffer allows blocks down to 64 KiB. The
 * kernel hands a block over when it is full or its timeout passes, however
 * empty: with few blocks and a short timeout (copy and intercept want low
 * latency) the ring held only 32 x the timeout of traffic, and a stall of the
 * reader of 64 ms overflowed a 32 MiB ring.
 */
static int setup_ring(struct tw_src *src, const struct tw_src_cfg *cfg)
{
	struct afp_src *a = src->priv;
	uint64_t ring = (uint64_t)(cfg->buffer_kb ? cfg->buffer_kb : TW_SRC_DEF_BUFFER_KB) * 1024u;
	uint32_t frame_need = pow2_at_least(a->snaplen + (uint32_t)HDRLEN + RESERVE + 128u);
	uint32_t bs = BLOCK_MAX, tov = cfg->block_tov_ms ? cfg->block_tov_ms : TW_SRC_DEF_BLOCK_TOV_MS;
	struct tpacket_req3 req;
	int v;

	if (bs < frame_need)
		bs = frame_need;
	while (bs > frame_need && bs > 65536 && ring / bs < 256)
		bs >>= 1;
	a->block_size = bs;
	a->block_nr = (uint32_t)(ring / bs < 2 ? 2 : ring / bs);

	v = TPACKET_V3;
	if (setsockopt(a->fd, SOL_PACKET, PACKET_VERSION, &v, sizeof(v)) == -1)
		return afp_errno(src, "PACKET_VERSION TPACKET_V3");
	/* room in front of each packet for an SLL2 header or a VLAN tag */
	v = RESERVE;
	if (setsockopt(a->fd, SOL_PACKET, PACKET_RESERVE, &v, sizeof(v)) == -1)
		return afp_errno(src, "PACKET_RESERVE");
	memset(&req, 0, sizeof(req));
	req.tp_block_size = a->block_size;
	req.tp_block_nr = a->block_nr;
	req.tp_frame_size = FRAME_SIZE;
	req.tp_frame_nr = (a->block_size / FRAME_SIZE) * a->block_nr;
	req.tp_retire_blk_tov = tov;
	if (setsockopt(a->fd, SOL_PACKET, PACKET_RX_RING, &req, sizeof(req)) == -1)
		return afp_errno(src, "PACKET_RX_RING");
	a->ring_len = (size_t)a->block_size * a->block_nr;
	/* MAP_LOCKED is not needed: ring pages are kernel memory, never swapped */
	a->ring = mmap(NULL, a->ring_len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, a->fd, 0);
	if (a->ring == MAP_FAILED) {
		a->ring = NULL;
		return afp_errno(src, "mmap");
	}
	tw_log(TW_LOG_DEBUG, 0, "%s: TPACKET_V3 ring %u blocks of %u bytes, block timeout %u ms",
	       a->name, a->block_nr, a->block_size, tov);
	return 0;
}

static int attach_kernel_filter(struct tw_src *src, int dlt, const char *filter)
{
	struct afp_src *a = src->priv;
	struct bpf_program prog;
	struct sock_fprog fp;
	int rc;

	/* With no expression this is "ret #snaplen": the kernel then cuts
	 * frames at the snap length and the ring holds more of them. */
	rc = tw_src_compile(src, dlt, a->snaplen, filter, &prog);
	if (rc < 0)
		return rc;
	/* struct bpf_insn and struct sock_filter have the same layout
	 * (u16 code, u8 jt, u8 jf, u32 k); libpcap hands its programs to
	 * the kernel the same way */
	fp.len = (unsigned short)prog.bf_len;
	fp.filter = (struct sock_filter *)(void *)prog.bf_insns;
	rc = setsockopt(a->fd, SOL_SOCKET, SO_ATTACH_FILTER, &fp, sizeof(fp));
	if (rc == -1)
		rc = afp_errno(src, "SO_ATTACH_FILTER");
	pcap_freecode(&prog);
	return rc;
}

static int afp_setup(struct tw_src *src, const struct tw_src_cfg *cfg)
{
	struct afp_src *a = src->priv;
	struct sockaddr_ll sll;
	int hatype = ARPHRD_ETHER, flags = IFF_UP, ifindex = 0, v, rc;
	bool any = strcmp(a->name, "any") == 0;

	a->lo_ifindex = (int)if_nametoindex("lo");
	if (!any) {
		ifindex = (int)if_nametoindex(a->name);
		if (ifindex == 0) {
			tw_src_seterr(src, "%s: No such device exists", a->name);
			return -ENODEV;
		}
	}
	a->fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0);
	if (a->fd == -1)
		return afp_errno(src, "socket");
	if (!any) {
		rc = dev_info(src, a->fd, &hatype, &flags);
		if (rc < 0)
			return rc;
		if (!(flags & IFF_UP)) {
			tw_src_seterr(src, "%s: That device is not up", a->name);
			return -ENETDOWN;
		}
	}
	if (any) {
		a->mode = MODE_SLL2;
		src->linktype = TW_LT_SLL2;
	} else if (hatype == ARPHRD_ETHER || hatype == ARPHRD_LOOPBACK) {
		a->mode = MODE_ETHER;
		src->linktype = TW_LT_EN10MB;
	} else {
		a->mode = MODE_RAWIP;
		src->linktype = TW_LT_RAW;
	}
	if (a->mode != MODE_ETHER) {
		/* the link header is not useful (or absent): let the kernel
		 * strip it, we rebuild what tcpdump would show */
		close(a->fd);
		a->fd = socket(AF_PACKET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
		if (a->fd == -1)
			return afp_errno(src, "socket");
	}
	rc = setup_ring(src, cfg);
	if (rc < 0)
		return rc;
	if (a->mode == MODE_SLL2) {
		if (cfg->filter && *cfg->filter) {
			rc = tw_src_compile(src, DLT_LINUX_SLL2, a->snaplen, cfg->filter, &a->uprog);
			if (rc < 0)
				return rc;
			a->have_uprog = true;
		}
	} else {
		rc = attach_kernel_filter(src, a->mode == MODE_ETHER ? DLT_EN10MB : DLT_RAW, cfg->filter);
		if (rc < 0)
			return rc;
	}
	if (cfg->ignore_outgoing) {
		v = 1;
		if (setsockopt(a->fd, SOL_PACKET, PACKET_IGNORE_OUTGOING, &v, sizeof(v)) == -1)
			return afp_errno(src, "PACKET_IGNORE_OUTGOING");
	}
	if (cfg->promisc && ifindex > 0) {
		struct packet_mreq mr;

		/* a membership, not IFF_PROMISC: the kernel drops it when the
		 * socket closes, even if we crash */
		memset(&mr, 0, sizeof(mr));
		mr.mr_ifindex = ifindex;
		mr.mr_type = PACKET_MR_PROMISC;
		if (setsockopt(a->fd, SOL_PACKET, PACKET_ADD_MEMBERSHIP, &mr, sizeof(mr)) == -1)
			return afp_errno(src, "PACKET_MR_PROMISC");
	}
	memset(&sll, 0, sizeof(sll));
	sll.sll_family = AF_PACKET;
	sll.sll_protocol = htons(ETH_P_ALL);
	sll.sll_ifindex = ifindex;
	if (bind(a->fd, (struct sockaddr *)&sll, sizeof(sll)) == -1)
		return afp_errno(src, "bind");
	if (cfg->fanout_group > 0) {
		if (cfg->fanout_group > 0xffff) {
			tw_src_seterr(src, "%s: fanout group %d out of range 1-65535", a->name,
				      cfg->fanout_group);
			return -EINVAL;
		}
		/* every member must use the same group, mode and flags; DEFRAG
		 * makes fragments of one datagram meet in one member */
		v = cfg->fanout_group | (PACKET_FANOUT_HASH | PACKET_FANOUT_FLAG_DEFRAG) << 16;
		if (setsockopt(a->fd, SOL_PACKET, PACKET_FANOUT, &v, sizeof(v)) == -1)
			return afp_errno(src, "PACKET_FANOUT");
	}
	return 0;
}

static void afp_free(struct afp_src *a)
{
	if (a->ring)
		munmap(a->ring, a->ring_len);
	if (a->fd >= 0)
		close(a->fd);
	tw_src_wake_close(&a->wake);
	if (a->have_uprog)
		pcap_freecode(&a->uprog);
	free(a);
}

static int afp_open(struct tw_src *src, const struct tw_src_cfg *cfg)
{
	struct afp_src *a;
	int rc;

	if (strlen(cfg->spec) >= IF_NAMESIZE) {
		tw_src_seterr(src, "%s: No such device exists (name too long)", cfg->spec);
		return -ENODEV;
	}
	a = calloc(1, sizeof(*a));
	if (!a)
		return -ENOMEM;
	a->fd = -1;
	a->wake.efd = -1;
	snprintf(a->name, sizeof(a->name), "%s", cfg->spec);
	a->snaplen = cfg->snaplen ? cfg->snaplen : TW_SRC_DEF_SNAPLEN;
	src->priv = a;
	src->snaplen = a->snaplen;
	src->nano = true;
	rc = tw_src_wake_init(&a->wake);
	if (rc < 0) {
		errno = -rc;
		rc = afp_errno(src, "eventfd");
		goto err;
	}
	rc = afp_setup(src, cfg);
	if (rc < 0)
		goto err;
	return 0;
err:
	afp_free(a);
	src->priv = NULL;
	return rc;
}

static void release_held(struct afp_src *a)
{
	while (a->held) {
		uint32_t b = (a->cur + a->block_nr - a->held) % a->block_nr;
		struct tpacket_block_desc *bd = (void *)(a->ring + (size_t)b * a->block_size);

		/* release: the kernel must see our reads done before the status */
		__atomic_store_n(&bd->hdr.bh1.block_status, TP_STATUS_KERNEL, __ATOMIC_RELEASE);
		a->held--;
	}
}

/* Put the VLAN tag the kernel moved into the ring header back in front of
 * the EtherType of the Ethernet frame at *DATA; false when it cannot (never
 * with PACKET_RESERVE, checked anyway). */
static bool put_vlan(const struct tpacket3_hdr *h, uint8_t **data, uint32_t *cap, uint32_t *len,
		     uint32_t headroom)
{
	uint16_t tpid = (h->tp_status & TP_STATUS_VLAN_TPID_VALID) && h->hv1.tp_vlan_tpid ?
			h->hv1.tp_vlan_tpid : ETH_P_8021Q;
	uint8_t *d = *data;

	if (headroom < VLAN_LEN || *cap < 2 * ETH_ALEN)
		return false;
	memmove(d - VLAN_LEN, d, 2 * ETH_ALEN);
	d -= VLAN_LEN;
	tw_store_be16(d + 12, tpid);
	tw_store_be16(d + 14, (uint16_t)h->hv1.tp_vlan_tci);
	*data = d;
	*cap += VLAN_LEN;
	*len += VLAN_LEN;
	return true;
}

static void put_sll2(uint8_t *d, const struct sockaddr_ll *sll, uint16_t proto)
{
	uint8_t halen = sll->sll_halen > 8 ? 8 : sll->sll_halen;

	tw_store_be16(d, proto);
	tw_store_be16(d + 2, 0);
	tw_store_be32(d + 4, (uint32_t)sll->sll_ifindex);
	tw_store_be16(d + 8, sll->sll_hatype);
	d[10] = sll->sll_pkttype;
	d[11] = halen;
	memset(d + 12, 0, 8);
	memcpy(d + 12, sll->sll_addr, halen);
}

/*
 * Turn the ring frame H (whose frame bytes end at most AVAIL bytes after H)
 * into F. Returns false to skip it.
 */
static bool make_frame(struct afp_src *a, struct tpacket3_hdr *h, uint32_t avail, struct tw_frame *f)
{
	const struct sockaddr_ll *sll = (const void *)((const uint8_t *)h + TPACKET_ALIGN(sizeof(*h)));
	uint32_t status = h->tp_status, cap = h->tp_snaplen, len = h->tp_len;
	uint32_t headroom;
	uint16_t proto = ntohs(sll->sll_protocol);
	uint8_t *data;

	if (h->tp_mac < HDRLEN || h->tp_mac > avail || cap > avail - h->tp_mac) {
		a->bad++;
		return false;
	}
	data = (uint8_t *)h + h->tp_mac;
	headroom = h->tp_mac - (uint32_t)HDRLEN;
	f->flags = 0;
	if (sll->sll_pkttype == PACKET_OUTGOING) {
		/* loopback shows each packet twice: keep the incoming copy */
		if (sll->sll_ifindex == a->lo_ifindex)
			return false;
		f->flags |= TW_FRAME_OUTGOING;
	}
	if (a->mode == MODE_RAWIP && proto != ETH_P_IP && proto != ETH_P_IPV6)
		return false;
	if (len < cap)
		len = cap;
	/* tcpdump shows the tag on Ethernet devices, not in -i any's SLL2 */
	if ((status & TP_STATUS_VLAN_VALID) && a->mode == MODE_ETHER &&
	    !put_vlan(h, &data, &cap, &len, headroom))
		a->bad++;
	if (a->mode == MODE_SLL2) {
		if (headroom < SLL2_LEN) {
			a->bad++;
			return false;
		}
		data -= SLL2_LEN;
		put_sll2(data, sll, proto);
		cap += SLL2_LEN;
		len += SLL2_LEN;
	}
	if (cap > a->snaplen)
		cap = a->snaplen;
	if (a->have_uprog) {
		struct pcap_pkthdr ph = {.caplen = cap, .len = len};
		if (!pcap_offline_filter(&a->uprog, &ph, data))
			return false;
	}
	if (status & TP_STATUS_CSUMNOTREADY)
		f->flags |= TW_FRAME_CSUM_PARTIAL;
	if (status & TP_STATUS_GSO_TCP)
		f->flags |= TW_FRAME_GSO;
	f->data = data;
	f->caplen = cap;
	f->wirelen = len;
	f->ts_sec = h->tp_sec;
	f->ts_nsec = h->tp_nsec;
	return true;
}

/* Take frames from ready blocks, in ring order, until MAX or no block is ready. */
static int walk(struct afp_src *a, struct tw_frame *frames, int max)
{
	int n = 0;

	while (n < max) {
		uint8_t *blk = a->ring + (size_t)a->cur * a->block_size;
		struct tpacket_block_desc *bd = (void *)blk;

		if (!a->in_block) {
			if (a->held == a->block_nr)
				break;
			if (!(__atomic_load_n(&bd->hdr.bh1.block_status, __ATOMIC_ACQUIRE) & TP_STATUS_USER))
				break;
			a->in_block = true;
			a->pkt_left = bd->hdr.bh1.num_pkts;
			a->pkt_off = bd->hdr.bh1.offset_to_first_pkt;
		}
		while (a->pkt_left && n < max) {
			struct tpacket3_hdr *h;
			uint32_t next;

			if (a->pkt_off < sizeof(*bd) || a->pkt_off > a->block_size - sizeof(*h)) {
				a->bad++;
				a->pkt_left = 0;
				break;
			}
			h = (void *)(blk + a->pkt_off);
			if (make_frame(a, h, a->block_size - a->pkt_off, &frames[n]))
				n++;
			a->pkt_left--;
			next = h->tp_next_offset;
			if (a->pkt_left && next == 0) {
				a->bad++;
				a->pkt_left = 0;
			}
			a->pkt_off += next;
		}
		if (a->pkt_left)
			break;  /* MAX reached inside the block */
		a->in_block = false;
		a->held++;
		a->cur = (a->cur + 1) % a->block_nr;
	}
	a->received += (uint64_t)n;
	return n;
}

static int afp_next(struct tw_src *src, struct tw_frame *frames, int max, int timeout_ms)
{
	struct afp_src *a = src->priv;
	int64_t start = timeout_ms > 0 ? tw_src_now_ms() : 0;
	short rev = 0;
	int n;

	/* the frames of the previous call live in these blocks: done with them */
	release_held(a);
	for (;;) {
		if (tw_src_wake_take(&a->wake))
			return 0;
		n = walk(a, frames, max);
		if (n > 0)
			return n;
		release_held(a);  /* all skipped: nothing lent out */
		n = tw_src_wait(&a->wake, a->fd, timeout_ms, start, &rev);
		if (n < 0 && n != -EINTR) {
			errno = -n;
			return afp_errno(src, "poll");
		}
		if (n <= 0)
			return n;
		if (rev & (POLLERR | POLLNVAL)) {
			int err = 0;
			socklen_t sl = sizeof(err);

			if (getsockopt(a->fd, SOL_SOCKET, SO_ERROR, &err, &sl) == 0 && err) {
				/* the kernel sets ENETDOWN when the interface goes
				 * down or is deleted under us */
				if (err == ENETDOWN) {
					tw_src_seterr(src, "%s: The interface went down or disappeared",
						      a->name);
					return -ENETDOWN;
				}
				errno = err;
				return afp_errno(src, "capture");
			}
		}
	}
}

static int afp_stats(struct tw_src *src, struct tw_src_stats *st)
{
	struct afp_src *a = src->priv;
	struct tpacket_stats_v3 ks;
	socklen_t len = sizeof(ks);

	/* the kernel zeroes its counters on each read: keep running totals;
	 * tp_packets already includes tp_drops */
	memset(&ks, 0, sizeof(ks));
	if (getsockopt(a->fd, SOL_PACKET, PACKET_STATISTICS, &ks, &len) == 0) {
		a->filtered += ks.tp_packets;
		a->dropped += ks.tp_drops;
	}
	st->received = a->received;
	/* with the filter run here ("any"), the kernel counted every packet:
	 * what passed is what we handed on, plus what it could not queue */
	st->filtered = a->have_uprog ? a->received + a->dropped : a->filtered;
	st->dropped = a->dropped;
	st->ifdropped = 0;
	return 0;
}

static void afp_brk(struct tw_src *src)
{
	struct afp_src *a = src->priv;

	tw_src_wake_raise(&a->wake);
}

static int afp_fd(const struct tw_src *src)
{
	const struct afp_src *a = src->priv;

	return a->fd;
}

static void afp_close(struct tw_src *src)
{
	struct afp_src *a = src->priv;

	if (a->bad)
		tw_log(TW_LOG_WARN, 0, "%s: %llu ring frames with inconsistent headers skipped", a->name,
		       (unsigned long long)a->bad);
	afp_free(a);
	src->priv = NULL;
}

const struct tw_src_ops tw_src_afpacket_ops = {
	.name = "afpacket",
	.open = afp_open,
	.next = afp_next,
	.stats = afp_stats,
	.brk = afp_brk,
	.fd = afp_fd,
	.close = afp_close,
};
