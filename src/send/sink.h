/*
 * sink.h - packet sinks of `tcptwin copy`: where forged IP packets leave.
 *
 * Engines, chosen at run time behind one table of functions (struct
 * tw_sink_ops):
 *   "rawip"     socket(AF_INET/AF_INET6, SOCK_RAW, IPPROTO_RAW): the kernel
 *               routes by the destination and writes the IPv4 header checksum
 *               and length; our source address is kept (spoofing works).
 *               Crosses the sender's netfilter and conntrack.
 *   "afpacket"  socket(AF_PACKET, SOCK_RAW) bound to `-o DEV`: we prepend an
 *               Ethernet header (the device's MAC, the next hop's MAC found
 *               through rtnetlink, see route.h, or a MAC given by the caller).
 *               Skips the sender's IP layer, netfilter and conntrack.
 *
 * Packets are borrowed for the duration of tw_sink_send and go out in
 * batches (one sendmmsg per run of packets, plus one more call per failed
 * packet). A failed packet is reported back in its own slot (pkt->err) and
 * counted; nothing here exits, sleeps on backpressure or logs per packet.
 * The caller (the session engine) retries what failed with -EAGAIN/-ENOBUFS
 * later, re-segments after -EMSGSIZE (route MTU: tw_route_get), and gives up
 * on the rest.
 *
 * Does not: build or checksum packets (pkt/forge.h), re-segment (pkt/reseg.h),
 * pace, or write pcap files (sink_pcap.h). One sink belongs to one thread.
 */
#ifndef TW_SEND_SINK_H
#define TW_SEND_SINK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum tw_sink_kind {
	TW_SINK_AUTO = 0,   /* afpacket when cfg.dev is set, else rawip */
	TW_SINK_RAWIP,
	TW_SINK_AFPACKET,
};

#define TW_SINK_DEF_BATCH 64u
#define TW_SINK_MAX_BATCH 1024u
#define TW_SINK_DEF_SNDBUF (4u << 20)
#define TW_SINK_DEF_RESOLVE_MS 1000u
#define TW_SINK_DEF_NEIGH_TTL_MS 30000u

struct tw_sink_cfg {
	enum tw_sink_kind kind;
	const char *dev;           /* afpacket: the device (required); rawip: SO_BINDTODEVICE
	                            * when set (egress pinned to DEV), NULL = routed */
	bool has_dst_mac;          /* afpacket: send every frame to DST_MAC, no lookup */
	uint8_t dst_mac[6];
	uint32_t batch;            /* most packets per tw_sink_send, 0 = TW_SINK_DEF_BATCH,
	                            * at most TW_SINK_MAX_BATCH */
	uint32_t sndbuf;           /* SO_SNDBUF(FORCE) bytes, 0 = TW_SINK_DEF_SNDBUF */
	bool qdisc_bypass;         /* afpacket: PACKET_QDISC_BYPASS (drops instead of queueing) */
	uint32_t resolve_ms;       /* afpacket: how long one next-hop resolution may wait for
	                            * the kernel's ARP/ND, 0 = TW_SINK_DEF_RESOLVE_MS */
	uint32_t neigh_ttl_ms;     /* afpacket: re-check a cached next-hop MAC after this,
	                            * 0 = TW_SINK_DEF_NEIGH_TTL_MS */
};

/* An address of either family; family 0 = none. */
struct tw_sink_addr {
	int family;                /* AF_INET, AF_INET6 or 0 */
	uint8_t addr[16];          /* 4 or 16 bytes, network order */
};

enum {
	TW_SINK_PKT_RETRY = 1 << 0,   /* caller: a resend of a packet that failed before */
};

/* One packet of a batch. DATA/LEN/DST/FLAGS are the caller's input; ERR is
 * written by tw_sink_send for every packet: 0 = handed to the kernel, else
 * -errno: -EMSGSIZE (above the device/route MTU: re-segment), -EAGAIN or
 * -ENOBUFS (backpressure: this packet and every later one of the batch were
 * not sent; retry later), -EPERM (netfilter or a full conntrack table),
 * -EHOSTUNREACH/-ENETUNREACH (afpacket: no route or next-hop MAC),
 * -EINVAL (not an IP packet of the family its header says, or too short),
 * -EAFNOSUPPORT (no socket for that family), or another errno. */
struct tw_sink_pkt {
	const uint8_t *data;       /* the IP packet, from its first header byte; borrowed */
	uint32_t len;
	uint32_t flags;            /* TW_SINK_PKT_* */
	struct tw_sink_addr dst;   /* destination; family 0 = the header's daddr (the usual
	                            * case). rawip: the sendto() address, which the kernel
	                            * routes by (keep it equal to the header's). afpacket:
	                            * what the next hop is looked up for. */
	int err;                   /* out */
};

/* Running totals. bytes count IP bytes (link headers not included). */
struct tw_sink_stats {
	uint64_t packets;          /* handed to the kernel */
	uint64_t bytes;
	uint64_t err_msgsize;      /* EMSGSIZE */
	uint64_t err_nobufs;       /* ENOBUFS, EAGAIN (packets not sent for backpressure) */
	uint64_t err_perm;         /* EPERM, EACCES */
	uint64_t err_unreach;      /* no route / no next-hop MAC (afpacket) */
	uint64_t err_other;        /* everything else (EINVAL, EAFNOSUPPORT, ...) */
	uint64_t retries;          /* packets sent that carried TW_SINK_PKT_RETRY, plus
	                            * sendmmsg calls repeated after EINTR */
	uint64_t calls;            /* send system calls made (sendmmsg) */
	uint64_t resolves;         /* afpacket: next-hop resolutions through rtnetlink */
};

struct tw_sink;

/* Open a sink. On failure returns -errno and writes a one-line message naming
 * the engine and device into ERRBUF (which may be NULL). Allocates here only. */
int tw_sink_open(const struct tw_sink_cfg *cfg, struct tw_sink **out, char *errbuf, size_t errlen);

/* Send PKTS[0..N-1] (N <= the configured batch size, else -E2BIG and nothing
 * is sent). Every pkts[i].err is set. Returns the number of packets handed to
 * the kernel (0..N), or -errno when the call itself was invalid. No
 * allocation or log line; system calls: one sendmmsg per run of packets of
 * the same socket, one more per failed packet, and for afpacket the rtnetlink
 * round trips of a next hop not yet cached (or whose cache entry expired). */
int tw_sink_send(struct tw_sink *s, struct tw_sink_pkt *pkts, unsigned n);

/* Push out anything the engine holds (nothing for sendmmsg engines) and read
 * back the socket's queued error reports (IP_RECVERR). Returns 0 or -errno. */
int tw_sink_flush(struct tw_sink *s);

/* Counters so far. */
void tw_sink_stats(const struct tw_sink *s, struct tw_sink_stats *st);

/* Name of the engine ("rawip", "afpacket"). */
const char *tw_sink_engine(const struct tw_sink *s);

/* Batch size in effect. */
unsigned tw_sink_batch(const struct tw_sink *s);

void tw_sink_close(struct tw_sink *s);

/*
 * Engine side (sink.c and sink_*.c only).
 *
 * open() fills s->priv and, on failure, s->err, returning -errno; close() is
 * only called after a successful open(). send() gets a batch already checked
 * against s->batch and must set every pkts[i].err and update s->st. The
 * helper tw_sink_count() does the per-error bookkeeping the same way for all.
 */
#define TW_SINK_ERRLEN 256

struct tw_sink_ops {
	const char *name;
	int (*open)(struct tw_sink *s, const struct tw_sink_cfg *cfg);
	int (*send)(struct tw_sink *s, struct tw_sink_pkt *pkts, unsigned n);
	int (*flush)(struct tw_sink *s);
	void (*close)(struct tw_sink *s);
};

struct tw_sink {
	const struct tw_sink_ops *ops;
	void *priv;
	unsigned batch;
	struct tw_sink_stats st;
	char err[TW_SINK_ERRLEN];
};

extern const struct tw_sink_ops tw_sink_rawip_ops;
extern const struct tw_sink_ops tw_sink_afpacket_ops;

/* Record the outcome ERR (0 or -errno) of PKT in its slot and the counters. */
void tw_sink_count(struct tw_sink *s, struct tw_sink_pkt *pkt, int err);

/* Fill DST from the header of PKT when pkt->dst.family is 0, else copy it;
 * check the version nibble and the minimum header length. Returns the family
 * (AF_INET/AF_INET6) or -EINVAL. Reads the header through a bounds check. */
int tw_sink_pkt_dst(const struct tw_sink_pkt *pkt, struct tw_sink_addr *dst);

/* Send MSGS[0..M-1] on FD with sendmmsg(MSG_DONTWAIT), msgs[i] carrying
 * *PK[i], and record every outcome with tw_sink_count. EINTR repeats the
 * call (counted as a retry); a packet the kernel refuses is recorded and the
 * call resumes after it; EAGAIN/ENOBUFS stops the run, records that error
 * for the rest of it and stores it in *STOP (else *STOP = 0). Returns the
 * number of packets sent. */
struct mmsghdr;
unsigned tw_sink_mmsg(struct tw_sink *s, int fd, struct mmsghdr *msgs, struct tw_sink_pkt **pk,
		      unsigned m, int *stop);

/* Write a one-line message into s->err. */
void tw_sink_seterr(struct tw_sink *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
