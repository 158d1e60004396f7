/*
 * src_udp.c - the "udp" capture engine: a UDP listener for tunnelled mirror
 * traffic (spec "vxlan:[ADDR:]PORT" or "geneve:[ADDR:]PORT"; ADDR is IPv4 or
 * [IPv6]; defaults 0.0.0.0 and 4789 / 6081).
 *
 * Binding the port also keeps the kernel from answering every mirrored
 * packet with ICMP port-unreachable. Datagrams are read with recvmmsg into
 * buffers allocated once; each is handed on as a raw IP frame (LINKTYPE_RAW)
 * with a synthesised outer IPv4 or IPv6 + UDP header (sender -> local
 * address from IP_PKTINFO, correct lengths, IPv4 header checksum, UDP
 * checksum 0), written in place in front of the datagram, so the decoder and
 * the printer see what a wire capture would show. Time stamps come from
 * SO_TIMESTAMPNS, drops from SO_RXQ_OVFL. A BPF filter, if any, runs in user
 * space on the synthesised frame.
 *
 * It does not decapsulate: that is the decoder's job.
 */
#define TW_LOG_MODULE "capture"

#include "capture/source_int.h"
#include "core/err.h"
#include "core/log.h"
#include "pkt/cursor.h"
#include "pkt/decode.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define UDP_BATCH 64
#define HEADROOM 48              /* IPv6 (40) + UDP (8) */
#define DGRAM_MAX 65536u
#define SLOT (HEADROOM + DGRAM_MAX)

union ctl {
	struct cmsghdr align;
	uint8_t buf[CMSG_SPACE(sizeof(struct in6_pktinfo)) + CMSG_SPACE(sizeof(struct timespec)) +
		    CMSG_SPACE(sizeof(uint32_t)) + 64];
};

struct udp_src {
	int fd;
	struct tw_src_wake wake;    /* raised by tw_src_break */
	int family;
	uint16_t port;
	uint8_t local[16];       /* bound address, network order */
	uint32_t snaplen;
	uint16_t ip_id;
	uint8_t *bufs;           /* UDP_BATCH slots of SLOT bytes */
	struct mmsghdr msgs[UDP_BATCH];
	struct iovec iov[UDP_BATCH];
	struct sockaddr_storage from[UDP_BATCH];
	union ctl ctl[UDP_BATCH];
	struct bpf_program prog;
	bool have_prog;
	uint64_t received, dropped;
	char name[96];
};

/* "1".."65535", digits only */
static bool parse_port(const char *s, size_t len, uint16_t *port)
{
	uint32_t v = 0;

	if (len == 0 || len > 5)
		return false;
	for (size_t i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		v = v * 10 + (uint32_t)(s[i] - '0');
	}
	if (v == 0 || v > 65535)
		return false;
	*port = (uint16_t)v;
	return true;
}

static bool all_digits(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (*s < '0' || *s > '9')
			return false;
	return true;
}

/*
 * Parse the part after "vxlan:" / "geneve:". Accepted: "", "PORT", "ADDR",
 * "ADDR:PORT", "ADDR:", "[V6]", "[V6]:PORT".
 */
static int parse_addr_port(struct tw_src *src, const char *spec, const char *s)
{
	struct udp_src *u = src->priv;
	char host[INET6_ADDRSTRLEN + 1];
	const char *port = NULL;
	size_t hlen;

	if (*s == '[') {
		const char *end = strchr(s, ']');
		if (!end || (end[1] && end[1] != ':'))
			goto bad;
		hlen = (size_t)(end - s - 1);
		if (hlen >= sizeof(host))
			goto bad;
		memcpy(host, s + 1, hlen);
		host[hlen] = '\0';
		if (inet_pton(AF_INET6, host, u->local) != 1)
			goto bad;
		u->family = AF_INET6;
		port = end[1] ? end + 2 : NULL;
	} else if (all_digits(s)) {
		port = s;
	} else if (*s) {
		const char *colon = strchr(s, ':');
		hlen = colon ? (size_t)(colon - s) : strlen(s);
		if (colon && strchr(colon + 1, ':')) {
			tw_src_seterr(src, "%s: IPv6 addresses go in brackets: [ADDR]:PORT", spec);
			return -EINVAL;
		}
		if (hlen >= sizeof(host))
			goto bad;
		memcpy(host, s, hlen);
		host[hlen] = '\0';
		if (inet_pton(AF_INET, host, u->local) != 1)
			goto bad;
		port = colon ? colon + 1 : NULL;
	}
	if (port && *port && !parse_port(port, strlen(port), &u->port))
		goto bad;
	return 0;
bad:
	tw_src_seterr(src, "%s: bad address or port (expected vxlan:[ADDR:]PORT or geneve:[ADDR:]PORT)", spec);
	return -EINVAL;
}

static int udp_errno(struct tw_src *src, const char *what)
{
	struct udp_src *u = src->priv;
	int rc = -errno;

	tw_src_seterr(src, "%s: %s: %s", u->name, what, tw_strerror(rc));
	return rc;
}

static int setopt_int(int fd, int level, int opt, int v)
{
	return setsockopt(fd, level, opt, &v, sizeof(v));
}

static int udp_setup(struct tw_src *src, const struct tw_src_cfg *cfg)
{
	struct udp_src *u = src->priv;
	struct sockaddr_storage ss;
	socklen_t sl;
	uint64_t kb = cfg->buffer_kb ? cfg->buffer_kb : TW_SRC_DEF_BUFFER_KB;
	int rcvbuf = kb >= 1048576 ? 1 << 30 : (int)(kb * 1024u);
	char abuf[INET6_ADDRSTRLEN];

	u->fd = socket(u->family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (u->fd == -1)
		return udp_errno(src, "socket");
	/* a mirror sends bursts: a large buffer (FORCE needs CAP_NET_ADMIN,
	 * the plain option is capped by net.core.rmem_max) */
	if (setopt_int(u->fd, SOL_SOCKET, SO_RCVBUFFORCE, rcvbuf) == -1)
		(void)setopt_int(u->fd, SOL_SOCKET, SO_RCVBUF, rcvbuf);
	if (setopt_int(u->fd, SOL_SOCKET, SO_TIMESTAMPNS, 1) == -1)
		return udp_errno(src, "SO_TIMESTAMPNS");
	/* cumulative socket drop counter attached to each datagram */
	if (setopt_int(u->fd, SOL_SOCKET, SO_RXQ_OVFL, 1) == -1)
		return udp_errno(src, "SO_RXQ_OVFL");
	memset(&ss, 0, sizeof(ss));
	if (u->family == AF_INET6) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;

		if (setopt_int(u->fd, IPPROTO_IPV6, IPV6_V6ONLY, 1) == -1)
			return udp_errno(src, "IPV6_V6ONLY");
		if (setopt_int(u->fd, IPPROTO_IPV6, IPV6_RECVPKTINFO, 1) == -1)
			return udp_errno(src, "IPV6_RECVPKTINFO");
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons(u->port);
		memcpy(&s6->sin6_addr, u->local, 16);
		sl = sizeof(*s6);
	} else {
		struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;

		if (setopt_int(u->fd, IPPROTO_IP, IP_PKTINFO, 1) == -1)
			return udp_errno(src, "IP_PKTINFO");
		s4->sin_family = AF_INET;
		s4->sin_port = htons(u->port);
		memcpy(&s4->sin_addr, u->local, 4);
		sl = sizeof(*s4);
	}
	if (bind(u->fd, (struct sockaddr *)&ss, sl) == -1) {
		int rc = -errno;
		inet_ntop(u->family, u->local, abuf, sizeof(abuf));
		tw_src_seterr(src, "%s: bind %s%s%s:%u: %s", u->name, u->family == AF_INET6 ? "[" : "",
			      abuf, u->family == AF_INET6 ? "]" : "", u->port, tw_strerror(rc));
		return rc;
	}
	if (cfg->filter && *cfg->filter) {
		int rc = tw_src_compile(src, DLT_RAW, u->snaplen, cfg->filter, &u->prog);
		if (rc < 0)
			return rc;
		u->have_prog = true;
	}
	for (int i = 0; i < UDP_BATCH; i++) {
		u->iov[i].iov_base = u->bufs + (size_t)i * SLOT + HEADROOM;
		u->iov[i].iov_len = DGRAM_MAX;
		u->msgs[i].msg_hdr.msg_iov = &u->iov[i];
		u->msgs[i].msg_hdr.msg_iovlen = 1;
		u->msgs[i].msg_hdr.msg_name = &u->from[i];
		u->msgs[i].msg_hdr.msg_control = u->ctl[i].buf;
	}
	return 0;
}

static void udp_free(struct udp_src *u)
{
	if (u->fd >= 0)
		close(u->fd);
	tw_src_wake_close(&u->wake);
	if (u->have_prog)
		pcap_freecode(&u->prog);
	free(u->bufs);
	free(u);
}

static int udp_open(struct tw_src *src, const struct tw_src_cfg *cfg)
{
	const char *spec = cfg->spec, *rest;
	struct udp_src *u;
	int rc;

	u = calloc(1, sizeof(*u));
	if (!u)
		return -ENOMEM;
	u->fd = -1;
	u->wake.efd = -1;
	u->family = AF_INET;
	snprintf(u->name, sizeof(u->name), "%s", spec);
	src->priv = u;
	if (strncmp(spec, "vxlan", 5) == 0 && (spec[5] == ':' || spec[5] == '\0')) {
		u->port = 4789;
		rest = spec[5] ? spec + 6 : spec + 5;
	} else if (strncmp(spec, "geneve", 6) == 0 && (spec[6] == ':' || spec[6] == '\0')) {
		u->port = 6081;
		rest = spec[6] ? spec + 7 : spec + 6;
	} else {
		tw_src_seterr(src, "%s: expected vxlan:[ADDR:]PORT or geneve:[ADDR:]PORT", spec);
		rc = -EINVAL;
		goto err;
	}
	rc = parse_addr_port(src, spec, rest);
	if (rc < 0)
		goto err;
	u->snaplen = cfg->snaplen ? cfg->snaplen : TW_SRC_DEF_SNAPLEN;
	src->snaplen = u->snaplen;
	src->linktype = TW_LT_RAW;
	src->nano = true;
	u->bufs = malloc((size_t)UDP_BATCH * SLOT);
	if (!u->bufs) {
		rc = -ENOMEM;
		tw_src_seterr(src, "%s: %s", spec, tw_strerror(rc));
		goto err;
	}
	rc = tw_src_wake_init(&u->wake);
	if (rc < 0) {
		errno = -rc;
		rc = udp_errno(src, "eventfd");
		goto err;
	}
	rc = udp_setup(src, cfg);
	if (rc < 0)
		goto err;
	return 0;
err:
	udp_free(u);
	src->priv = NULL;
	return rc;
}

static uint16_t ipv4_csum(const uint8_t *h)
{
	uint32_t sum = 0;

	for (int i = 0; i < 20; i += 2)
		sum += tw_load_be16(h + i);
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

/* Local address and time stamp from the control messages of M. */
static void read_cmsgs(struct udp_src *u, struct msghdr *m, uint8_t *dst, struct timespec *ts,
		       bool *have_ts)
{
	for (struct cmsghdr *c = CMSG_FIRSTHDR(m); c; c = CMSG_NXTHDR(m, c)) {
		const uint8_t *d = CMSG_DATA(c);
		size_t dlen = c->cmsg_len - CMSG_LEN(0);

		if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_TIMESTAMPNS &&
		    dlen >= sizeof(*ts)) {
			memcpy(ts, d, sizeof(*ts));
			*have_ts = true;
		} else if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SO_RXQ_OVFL &&
			   dlen >= sizeof(uint32_t)) {
			uint32_t drops;
			memcpy(&drops, d, sizeof(drops));
			u->dropped = drops;
		} else if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_PKTINFO &&
			   dlen >= sizeof(struct in_pktinfo)) {
			struct in_pktinfo pi;
			memcpy(&pi, d, sizeof(pi));
			memcpy(dst, &pi.ipi_addr, 4);  /* the header's destination */
		} else if (c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_PKTINFO &&
			   dlen >= sizeof(struct in6_pktinfo)) {
			struct in6_pktinfo pi;
			memcpy(&pi, d, sizeof(pi));
			memcpy(dst, &pi.ipi6_addr, 16);
		}
	}
}

/* Write the outer IP + UDP header in front of the datagram of message I;
 * returns the frame start and sets *TOTAL. */
static uint8_t *synth(struct udp_src *u, int i, uint32_t plen, const uint8_t *dst, uint32_t *total)
{
	uint8_t *payload = u->bufs + (size_t)i * SLOT + HEADROOM;
	uint8_t *h, *udp;
	uint16_t sport;

	if (u->family == AF_INET6) {
		const struct sockaddr_in6 *from = (const void *)&u->from[i];

		h = payload - 48;
		tw_store_be32(h, 0x60000000u);
		tw_store_be16(h + 4, (uint16_t)(8 + plen));
		h[6] = IPPROTO_UDP;
		h[7] = 64;
		memcpy(h + 8, &from->sin6_addr, 16);
		memcpy(h + 24, dst, 16);
		udp = h + 40;
		sport = ntohs(from->sin6_port);
		*total = 48 + plen;
	} else {
		const struct sockaddr_in *from = (const void *)&u->from[i];

		h = payload - 28;
		h[0] = 0x45;
		h[1] = 0;
		tw_store_be16(h + 2, (uint16_t)(28 + plen));
		tw_store_be16(h + 4, u->ip_id++);
		tw_store_be16(h + 6, 0);
		h[8] = 64;
		h[9] = IPPROTO_UDP;
		tw_store_be16(h + 10, 0);
		memcpy(h + 12, &from->sin_addr, 4);
		memcpy(h + 16, dst, 4);
		tw_store_be16(h + 10, ipv4_csum(h));
		udp = h + 20;
		sport = ntohs(from->sin_port);
		*total = 28 + plen;
	}
	tw_store_be16(udp, sport);
	tw_store_be16(udp + 2, u->port);
	tw_store_be16(udp + 4, (uint16_t)(8 + plen));
	tw_store_be16(udp + 6, 0);
	return h;
}

/* Turn the K datagrams just read into frames; returns how many passed. */
static int make_frames(struct udp_src *u, int k, struct tw_frame *frames)
{
	struct timespec now = {0, 0};
	bool have_now = false;
	int n = 0;

	for (int i = 0; i < k; i++) {
		struct msghdr *m = &u->msgs[i].msg_hdr;
		struct timespec ts;
		bool have_ts = false;
		uint8_t dst[16];
		uint32_t plen = u->msgs[i].msg_len, total;
		uint8_t *data;

		/* a name of the wrong family cannot happen on a bound socket;
		 * skip rather than read a half-filled address */
		if (m->msg_namelen < (u->family == AF_INET6 ? sizeof(struct sockaddr_in6) :
							      sizeof(struct sockaddr_in)))
			continue;
		if (plen > DGRAM_MAX - 48)
			continue;  /* cannot happen: UDP payloads are below 65508 bytes */
		memcpy(dst, u->local, sizeof(dst));
		read_cmsgs(u, m, dst, &ts, &have_ts);
		if (!have_ts) {
			if (!have_now) {
				clock_gettime(CLOCK_REALTIME, &now);
				have_now = true;
			}
			ts = now;
		}
		data = synth(u, i, plen, dst, &total);
		struct tw_frame *f = &frames[n];
		f->data = data;
		f->wirelen = total;
		f->caplen = total < u->snaplen ? total : u->snaplen;
		f->ts_sec = ts.tv_sec;
		f->ts_nsec = (uint32_t)ts.tv_nsec;
		f->flags = 0;
		if (u->have_prog) {
			struct pcap_pkthdr ph = {.caplen = f->caplen, .len = f->wirelen};
			if (!pcap_offline_filter(&u->prog, &ph, data))
				continue;
		}
		n++;
	}
	u->received += (uint64_t)n;
	return n;
}

static int udp_next(struct tw_src *src, struct tw_frame *frames, int max, int timeout_ms)
{
	struct udp_src *u = src->priv;
	int64_t start = timeout_ms > 0 ? tw_src_now_ms() : 0;
	int want = max < UDP_BATCH ? max : UDP_BATCH;
	short rev = 0;
	int rc;

	for (;;) {
		if (tw_src_wake_take(&u->wake))
			return 0;
		for (int i = 0; i < want; i++) {
			u->msgs[i].msg_hdr.msg_namelen = sizeof(u->from[i]);
			u->msgs[i].msg_hdr.msg_controllen = sizeof(u->ctl[i].buf);
			u->msgs[i].msg_hdr.msg_flags = 0;
		}
		int k = recvmmsg(u->fd, u->msgs, (unsigned)want, MSG_DONTWAIT, NULL);
		if (k > 0) {
			int n = make_frames(u, k, frames);
			if (n > 0)
				return n;
			/* all filtered out: read on, within the time allowed */
			if (timeout_ms == 0 || (timeout_ms > 0 && tw_src_now_ms() >= start + timeout_ms))
				return 0;
			continue;
		}
		if (k == -1 && errno != EAGAIN && errno != EWOULDBLOCK) {
			if (errno == EINTR)
				return tw_src_wake_take(&u->wake) ? 0 : -EINTR;
			/* ICMP errors queued on the socket: not ours to report */
			if (errno == ECONNREFUSED || errno == EHOSTUNREACH || errno == ENETUNREACH)
				continue;
			return udp_errno(src, "recvmmsg");
		}
		rc = tw_src_wait(&u->wake, u->fd, timeout_ms, start, &rev);
		if (rc < 0 && rc != -EINTR) {
			errno = -rc;
			return udp_errno(src, "poll");
		}
		if (rc <= 0)
			return rc;
	}
}

static int udp_stats(struct tw_src *src, struct tw_src_stats *st)
{
	struct udp_src *u = src->priv;

	st->received = u->received;
	/* passed the filter (when there is one) or could not be queued */
	st->filtered = u->received + u->dropped;
	st->dropped = u->dropped;
	return 0;
}

static void udp_brk(struct tw_src *src)
{
	struct udp_src *u = src->priv;

	tw_src_wake_raise(&u->wake);
}

static int udp_fd(const struct tw_src *src)
{
	const struct udp_src *u = src->priv;

	return u->fd;
}

static void udp_close(struct tw_src *src)
{
	udp_free(src->priv);
	src->priv = NULL;
}

const struct tw_src_ops tw_src_udp_ops = {
	.name = "udp",
	.open = udp_open,
	.next = udp_next,
	.stats = udp_stats,
	.brk = udp_brk,
	.fd = udp_fd,
	.close = udp_close,
};
