/*
 * sink_rawip.c - the "rawip" sink: IP packets through
 * socket(AF_INET/AF_INET6, SOCK_RAW, IPPROTO_RAW), batched with sendmmsg.
 *
 * Kernel behaviour this relies on (raw(7), net/ipv4/raw.c raw_send_hdrinc,
 * linux-net.md section 1):
 *  - IPPROTO_RAW implies IP_HDRINCL (IPV6_HDRINCL for AF_INET6): the header is
 *    ours. IPv4: the kernel rewrites tot_len and the header checksum, fills
 *    saddr and the ID only when 0; the TCP checksum is never touched.
 *  - Routing uses the sendto() address, not the header's daddr: we pass the
 *    header's daddr (or the caller's pkt->dst), port 0.
 *  - No fragmentation: a packet above the route MTU fails with EMSGSIZE.
 *  - Without IP_RECVERR a full device queue (ENOBUFS) is reported as success
 *    and the packet silently lost; with it, the error comes back and a copy
 *    is queued on the socket's error queue, which we drain after a batch
 *    that failed and in flush (it would otherwise hold receive memory).
 *  - Sends use MSG_DONTWAIT: a full send buffer gives EAGAIN instead of
 *    blocking the session engine.
 * Both sockets are opened; a family whose socket cannot be opened (IPv6
 * disabled) gives -EAFNOSUPPORT for its packets. Does not fragment,
 * re-segment, or fix checksums.
 */
#include "send/sink.h"

#include <errno.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

union rawip_sa {
	struct sockaddr_in s4;
	struct sockaddr_in6 s6;
};

struct rawip {
	int fd4, fd6;
	int err6;                   /* why fd6 is -1 */
	unsigned ifindex;           /* cfg.dev, for IPv6 link-local scope */
	struct mmsghdr *msgs;
	struct iovec *iov;
	union rawip_sa *sa;
	struct tw_sink_pkt **pk;
	uint8_t errbuf[512];        /* error-queue drain */
	uint8_t cbuf[512];
};

static void set_sndbuf(int fd, uint32_t bytes)
{
	int v = (int)(bytes > (uint32_t)INT32_MAX / 2 ? (uint32_t)INT32_MAX / 2 : bytes);

	/* SO_SNDBUFFORCE passes the rmem/wmem_max limit when we have
	 * CAP_NET_ADMIN; otherwise take what SO_SNDBUF allows */
	if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &v, sizeof(v)) == -1)
		(void)setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &v, sizeof(v));
}

static int open_raw(int family, const struct tw_sink_cfg *cfg, uint32_t sndbuf)
{
	int fd, one = 1, e;

	fd = socket(family, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_RAW);
	if (fd == -1)
		return -errno;
	if (family == AF_INET) {
		if (setsockopt(fd, IPPROTO_IP, IP_HDRINCL, &one, sizeof(one)) == -1 ||
		    setsockopt(fd, IPPROTO_IP, IP_RECVERR, &one, sizeof(one)) == -1)
			goto err_close;
	} else {
		if (setsockopt(fd, IPPROTO_IPV6, IPV6_HDRINCL, &one, sizeof(one)) == -1 ||
		    setsockopt(fd, IPPROTO_IPV6, IPV6_RECVERR, &one, sizeof(one)) == -1)
			goto err_close;
	}
	if (cfg->dev && setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, cfg->dev,
				   (socklen_t)strlen(cfg->dev) + 1) == -1)
		goto err_close;
	set_sndbuf(fd, sndbuf);
	return fd;
err_close:
	e = errno;
	close(fd);
	return -e;
}

static void rawip_close(struct tw_sink *s)
{
	struct rawip *r = s->priv;

	if (!r)
		return;
	if (r->fd4 != -1)
		close(r->fd4);
	if (r->fd6 != -1)
		close(r->fd6);
	free(r->msgs);
	free(r->iov);
	free(r->sa);
	free(r->pk);
	free(r);
	s->priv = NULL;
}

static int rawip_open(struct tw_sink *s, const struct tw_sink_cfg *cfg)
{
	uint32_t sndbuf = cfg->sndbuf ? cfg->sndbuf : TW_SINK_DEF_SNDBUF;
	struct rawip *r;
	int rc;

	r = calloc(1, sizeof(*r));
	if (!r) {
		tw_sink_seterr(s, "sink rawip: out of memory");
		return -ENOMEM;
	}
	s->priv = r;
	r->fd4 = r->fd6 = -1;
	r->msgs = calloc(s->batch, sizeof(*r->msgs));
	r->iov = calloc(s->batch, sizeof(*r->iov));
	r->sa = calloc(s->batch, sizeof(*r->sa));
	r->pk = calloc(s->batch, sizeof(*r->pk));
	if (!r->msgs || !r->iov || !r->sa || !r->pk) {
		tw_sink_seterr(s, "sink rawip: out of memory");
		rc = -ENOMEM;
		goto err;
	}
	if (cfg->dev) {
		r->ifindex = if_nametoindex(cfg->dev);
		if (!r->ifindex) {
			rc = -errno;
			tw_sink_seterr(s, "sink rawip: device %s: %s", cfg->dev, strerror(-rc));
			goto err;
		}
	}
	rc = open_raw(AF_INET, cfg, sndbuf);
	if (rc < 0) {
		tw_sink_seterr(s, "sink rawip: raw IPv4 socket%s%s: %s", cfg->dev ? " on " : "",
			       cfg->dev ? cfg->dev : "", strerror(-rc));
		goto err;
	}
	r->fd4 = rc;
	rc = open_raw(AF_INET6, cfg, sndbuf);
	if (rc < 0)
		r->err6 = rc;   /* IPv6 packets will be refused one by one */
	else
		r->fd6 = rc;
	return 0;
err:
	rawip_close(s);
	return rc;
}

/* Read and discard the socket's queued error reports (IP_RECVERR copies of
 * errors already returned by sendmmsg, ICMP errors). Bounded. */
static void drain_errqueue(struct rawip *r, int fd)
{
	struct iovec iov = { .iov_base = r->errbuf, .iov_len = sizeof(r->errbuf) };
	struct msghdr mh;
	int i;

	if (fd == -1)
		return;
	for (i = 0; i < 4096; i++) {
		memset(&mh, 0, sizeof(mh));
		mh.msg_iov = &iov;
		mh.msg_iovlen = 1;
		mh.msg_control = r->cbuf;
		mh.msg_controllen = sizeof(r->cbuf);
		if (recvmsg(fd, &mh, MSG_ERRQUEUE | MSG_DONTWAIT) == -1)
			break;
	}
}

/* Fill slot M for PKT going to DST. */
static void fill_slot(struct rawip *r, unsigned m, struct tw_sink_pkt *pkt,
		      const struct tw_sink_addr *dst)
{
	struct mmsghdr *mm = &r->msgs[m];
	union rawip_sa *sa = &r->sa[m];

	memset(sa, 0, sizeof(*sa));
	if (dst->family == AF_INET) {
		sa->s4.sin_family = AF_INET;            /* sin_port 0: ignored for raw sends */
		memcpy(&sa->s4.sin_addr, dst->addr, 4);
		mm->msg_hdr.msg_namelen = sizeof(sa->s4);
	} else {
		sa->s6.sin6_family = AF_INET6;          /* port 0 = the socket's protocol */
		memcpy(&sa->s6.sin6_addr, dst->addr, 16);
		/* a link-local destination needs a scope: the pinned device */
		if (dst->addr[0] == 0xfe && (dst->addr[1] & 0xc0) == 0x80)
			sa->s6.sin6_scope_id = r->ifindex;
		mm->msg_hdr.msg_namelen = sizeof(sa->s6);
	}
	r->iov[m].iov_base = (void *)(uintptr_t)pkt->data;
	r->iov[m].iov_len = pkt->len;
	mm->msg_hdr.msg_name = sa;
	mm->msg_hdr.msg_iov = &r->iov[m];
	mm->msg_hdr.msg_iovlen = 1;
	mm->msg_hdr.msg_control = NULL;
	mm->msg_hdr.msg_controllen = 0;
	mm->msg_hdr.msg_flags = 0;
	mm->msg_len = 0;
	r->pk[m] = pkt;
}

static uint64_t nfailed(const struct tw_sink *s)
{
	return s->st.err_msgsize + s->st.err_nobufs + s->st.err_perm + s->st.err_unreach +
	       s->st.err_other;
}

static int rawip_send(struct tw_sink *s, struct tw_sink_pkt *pkts, unsigned n)
{
	struct rawip *r = s->priv;
	struct tw_sink_addr dst;
	uint64_t failed0 = nfailed(s);
	unsigned i = 0, m, sent = 0;
	int fam, runfam, fd = -1, stop = 0;

	while (i < n) {
		/* one run: consecutive valid packets of one family */
		m = 0;
		runfam = 0;
		for (; i < n; i++) {
			fam = tw_sink_pkt_dst(&pkts[i], &dst);
			if (fam < 0) {
				tw_sink_count(s, &pkts[i], fam);
				continue;
			}
			if (fam == AF_INET6 && r->fd6 == -1) {
				tw_sink_count(s, &pkts[i], r->err6 ? r->err6 : -EAFNOSUPPORT);
				continue;
			}
			if (runfam && fam != runfam)
				break;
			runfam = fam;
			fd = fam == AF_INET ? r->fd4 : r->fd6;
			fill_slot(r, m++, &pkts[i], &dst);
		}
		if (!m)
			continue;
		sent += tw_sink_mmsg(s, fd, r->msgs, r->pk, m, &stop);
		if (stop) {
			/* backpressure: nothing after this point goes out now */
			for (; i < n; i++)
				tw_sink_count(s, &pkts[i], stop);
			break;
		}
	}
	if (nfailed(s) != failed0) {
		drain_errqueue(r, r->fd4);
		drain_errqueue(r, r->fd6);
	}
	return (int)sent;
}

static int rawip_flush(struct tw_sink *s)
{
	struct rawip *r = s->priv;

	drain_errqueue(r, r->fd4);
	drain_errqueue(r, r->fd6);
	return 0;
}

const struct tw_sink_ops tw_sink_rawip_ops = {
	.name = "rawip",
	.open = rawip_open,
	.send = rawip_send,
	.flush = rawip_flush,
	.close = rawip_close,
};
