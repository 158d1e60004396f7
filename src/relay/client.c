/*
 * client.c - the copy side of the intercept channel (see client.h):
 * connecting and handshaking with each intercept (blocking, bounded by a
 * timeout, before any packet is sent), then non-blocking on the event
 * loop: registrations out, reply records in.
 */
#define TW_LOG_MODULE "relay"
#include "relay/client.h"
#include "relay/conn.h"
#include "core/err.h"
#include "core/log.h"
#include "core/version.h"
#include "core/loop.h"

#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>


struct peer {
	struct tw_relay_client *cl;
	struct tw_rconn c;
	struct tw_io io;
	bool io_on, want_out, dead;
	uint16_t batch;
	char name[300];
};

struct tw_relay_client {
	struct tw_loop *loop;
	struct tw_relay_client_cfg cfg;
	struct peer peer[TW_RELAY_MAX_PEERS];
	unsigned npeers;
	struct tw_relay_client_stats st;
	struct tw_wire_msg msg;
};

void tw_relay_client_cfg_init(struct tw_relay_client_cfg *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->port = TW_WIRE_PORT;
	cfg->ver_min = cfg->ver_max = TW_WIRE_VERSION;
	cfg->timeout_ms = 5000;
	cfg->tx_cap = 16u << 20;
}

int tw_relay_split_hostport(const char *s, size_t len, char *host, size_t hostlen, uint16_t def_port,
			    uint16_t *port)
{
	const char *h = s, *p = NULL, *end = s + len;
	size_t hl;

	if (!len)
		return -EINVAL;
	if (*s == '[') {
		const char *rb = memchr(s, ']', len);
		if (!rb)
			return -EINVAL;
		h = s + 1;
		hl = (size_t)(rb - h);
		if (rb + 1 < end) {
			if (rb[1] != ':')
				return -EINVAL;
			p = rb + 2;
		}
	} else {
		const char *c1 = memchr(s, ':', len);
		const char *c2 = c1 ? memchr(c1 + 1, ':', (size_t)(end - c1 - 1)) : NULL;
		if (c1 && !c2) { /* host:port; several colons = a bare IPv6 address */
			hl = (size_t)(c1 - s);
			p = c1 + 1;
		} else {
			hl = len;
		}
	}
	if (!hl || hl >= hostlen)
		return -EINVAL;
	memcpy(host, h, hl);
	host[hl] = '\0';
	*port = def_port;
	if (p) {
		unsigned long v = 0;
		if (p >= end)
			return -EINVAL;
		for (const char *q = p; q < end; q++) {
			if (*q < '0' || *q > '9')
				return -EINVAL;
			v = v * 10 + (unsigned long)(*q - '0');
			if (v > 65535)
				return -EINVAL;
		}
		if (!v)
			return -EINVAL;
		*port = (uint16_t)v;
	}
	return 0;
}

static uint64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static int wait_fd(int fd, short ev, uint64_t deadline)
{
	for (;;) {
		uint64_t now = mono_ms();
		struct pollfd pfd = {.fd = fd, .events = ev};
		int n;

		if (now >= deadline)
			return -ETIMEDOUT;
		n = poll(&pfd, 1, (int)(deadline - now));
		if (n > 0)
			return 0;
		if (n < 0 && errno != EINTR)
			return -errno;
	}
}

static int connect_to(const char *host, uint16_t port, uint64_t deadline, char *err, size_t errlen)
{
	struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *res, *ai;
	char ps[8];
	int rc, fd = -1, last = -ECONNREFUSED;

	snprintf(ps, sizeof(ps), "%u", port);
	rc = getaddrinfo(host, ps, &hints, &res);
	if (rc) {
		snprintf(err, errlen, "intercept %s: %s", host, gai_strerror(rc));
		return -EHOSTUNREACH;
	}
	for (ai = res; ai; ai = ai->ai_next) {
		int one = 1, so = 0;
		socklen_t sl = sizeof(so);

		fd = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		if (fd < 0) {
			last = -errno;
			continue;
		}
		(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		if (connect(fd, ai->ai_addr, ai->ai_addrlen) < 0 && errno != EINPROGRESS) {
			last = -errno;
		} else if ((rc = wait_fd(fd, POLLOUT, deadline)) < 0) {
			last = rc;
		} else if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &so, &sl) < 0 || so) {
			last = -(so ? so : errno);
		} else {
			break;
		}
		close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	if (fd < 0)
		snprintf(err, errlen, "intercept %s port %u: cannot connect: %s", host, port,
			 tw_strerror(last));
	return fd < 0 ? last : fd;
}

/* Send what is buffered, waiting up to DEADLINE. */
static int send_all(struct peer *p, uint64_t deadline)
{
	int rc;

	while ((rc = tw_rconn_flush(&p->c)) == 1) {
		if ((rc = wait_fd(p->c.fd, POLLOUT, deadline)) < 0)
			return rc;
	}
	return rc;
}

/* The next frame, waiting up to DEADLINE. */
static int recv_frame(struct peer *p, struct tw_wire_msg *m, uint64_t deadline, char *err,
		      size_t errlen)
{
	for (;;) {
		const char *why = NULL;
		int n = tw_rconn_next(&p->c, m, &why);

		if (n > 0)
			return 0;
		if (n < 0) {
			snprintf(err, errlen, "intercept %s: not a tcptwin intercept or a broken stream (%s)",
				 p->name, why ? why : tw_strerror(n));
			return -EPROTO;
		}
		n = tw_rconn_fill(&p->c);
		if (n == 0) {
			snprintf(err, errlen, "intercept %s closed the connection during the handshake", p->name);
			return -ECONNRESET;
		}
		if (n == -EAGAIN) {
			if ((n = wait_fd(p->c.fd, POLLIN, deadline)) < 0) {
				snprintf(err, errlen, "intercept %s: no answer to the handshake within the timeout",
					 p->name);
				return n;
			}
		} else if (n < 0) {
			snprintf(err, errlen, "intercept %s: %s", p->name, tw_strerror(n));
			return n;
		}
	}
}

static int refuse_peer(struct peer *p, uint16_t code, const char *reason)
{
	struct tw_wire_msg *m = &p->cl->msg;

	memset(m, 0, sizeof(*m));
	m->type = TW_WIRE_REFUSE;
	m->u.refuse.code = code;
	snprintf(m->u.refuse.reason, sizeof(m->u.refuse.reason), "%s", reason);
	(void)tw_rconn_put(&p->c, m);
	(void)tw_rconn_flush(&p->c);
	return 0;
}

/* Send M (a WHAT frame), then read the answer into M; a REFUSE is an error
 * with its reason in ERR. */
static int exchange(struct peer *p, struct tw_wire_msg *m, const char *what, uint64_t deadline,
		    char *err, size_t errlen)
{
	int rc;

	if ((rc = tw_rconn_put(&p->c, m)) < 0 || (rc = send_all(p, deadline)) < 0) {
		snprintf(err, errlen, "intercept %s: sending %s: %s", p->name, what, tw_strerror(rc));
		return rc;
	}
	if ((rc = recv_frame(p, m, deadline, err, errlen)) < 0)
		return rc;
	if (m->type == TW_WIRE_REFUSE) {
		snprintf(err, errlen, "intercept %s refused this copy (%s): %s", p->name,
			 tw_wire_refuse_name(m->u.refuse.code), m->u.refuse.reason);
		return tw_wire_refuse_err(m->u.refuse.code);
	}
	return 0;
}

static int handshake(struct tw_relay_client *cl, struct peer *p, uint64_t deadline, char *err,
		     size_t errlen)
{
	struct tw_wire_msg *m = &cl->msg;
	struct tw_wire_hello hello, ack;
	const struct tw_secret *sec = cl->cfg.secret;
	bool auth = sec && sec->len;
	char reason[TW_WIRE_MAX_REASON + 1];
	int rc, code;

	memset(&hello, 0, sizeof(hello));
	hello.ver_min = cl->cfg.ver_min;
	hello.ver_max = cl->cfg.ver_max;
	hello.role = TW_WIRE_ROLE_COPY;
	hello.caps = TW_WIRE_CAP_BATCH | (auth ? TW_WIRE_CAP_AUTH : 0) |
		     (cl->cfg.payload ? TW_WIRE_CAP_PAYLOAD : 0);
	hello.payload = cl->cfg.payload;
	hello.batch = TW_WIRE_MAX_REPLIES;
	snprintf(hello.name, sizeof(hello.name), "tcptwin %s", tw_version());
	if ((rc = tw_nonce(hello.nonce)) < 0) {
		snprintf(err, errlen, "cannot get random bytes: %s", tw_strerror(rc));
		return rc;
	}
	memset(m, 0, sizeof(*m));
	m->type = TW_WIRE_HELLO;
	m->u.hello = hello;
	if ((rc = exchange(p, m, "hello", deadline, err, errlen)) < 0)
		return rc;
	if (m->type != TW_WIRE_HELLO_ACK) {
		snprintf(err, errlen, "intercept %s: expected HELLO_ACK, got %s", p->name,
			 tw_wire_type_name(m->type));
		return -EPROTO;
	}
	ack = m->u.hello;
	code = tw_wire_hello_check_ack(&hello, &ack, reason, sizeof(reason));
	if (code) {
		refuse_peer(p, (uint16_t)code, reason);
		snprintf(err, errlen, "intercept %s (%s): %s", p->name, ack.name, reason);
		return tw_wire_refuse_err((uint16_t)code);
	}
	p->batch = ack.batch;
	if (auth) {
		uint8_t want[TW_WIRE_MAC_LEN];

		memset(m, 0, sizeof(*m));
		m->type = TW_WIRE_AUTH;
		tw_secret_mac(sec, TW_WIRE_ROLE_COPY, &hello, &ack, m->u.mac);
		if ((rc = exchange(p, m, "auth", deadline, err, errlen)) < 0)
			return rc;
		tw_secret_mac(sec, TW_WIRE_ROLE_INTERCEPT, &hello, &ack, want);
		if (m->type != TW_WIRE_AUTH || !tw_wire_mac_equal(want, m->u.mac)) {
			refuse_peer(p, TW_WIRE_REFUSE_AUTH, "the intercept's proof of the secret is wrong");
			snprintf(err, errlen,
				 "intercept %s does not hold the same secret (its AUTH does not verify)",
				 p->name);
			return -EACCES;
		}
	}
	return 0;
}

static void peer_fail(struct peer *p, const char *fmt, const char *detail)
	__attribute__((format(printf, 2, 0)));

/* FMT has two %s: the intercept's name, then DETAIL. */
static void peer_fail(struct peer *p, const char *fmt, const char *detail)
{
	struct tw_relay_client *cl = p->cl;
	char msg[600];

	if (p->dead)
		return;
	p->dead = true;
	if (p->io_on) {
		(void)tw_loop_io_stop(cl->loop, &p->io);
		p->io_on = false;
	}
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
	snprintf(msg, sizeof(msg), fmt, p->name, detail);
#pragma GCC diagnostic pop
	if (cl->cfg.on_fail)
		cl->cfg.on_fail(cl->cfg.arg, msg);
}

static void peer_arm(struct peer *p, bool out)
{
	if (p->dead || p->want_out == out)
		return;
	p->want_out = out;
	(void)tw_loop_io_start(p->cl->loop, &p->io, TW_IO_IN | (out ? TW_IO_OUT : 0));
}

static void on_frame(struct peer *p, struct tw_wire_msg *m)
{
	struct tw_relay_client *cl = p->cl;

	cl->st.frames_in++;
	switch (m->type) {
	case TW_WIRE_REPLY:
		cl->st.replies += m->u.reply.n;
		for (unsigned i = 0; i < m->u.reply.n; i++)
			cl->cfg.on_reply(cl->cfg.arg, &m->u.reply.r[i]);
		break;
	case TW_WIRE_KEEPALIVE:
		if (!m->u.ka.pong) {
			m->u.ka.pong = true;
			(void)tw_rconn_put(&p->c, m);
		}
		break;
	case TW_WIRE_STATS:
		break;
	case TW_WIRE_REFUSE:
		peer_fail(p, "intercept %s ended the channel: %s", m->u.refuse.reason);
		break;
	default:
		if (!(m->flags & TW_WIRE_F_OPTIONAL) || m->type <= TW_WIRE_TYPE_MAX)
			peer_fail(p, "intercept %s sent an unexpected %s frame", tw_wire_type_name(m->type));
		break;
	}
}

static void on_io(struct tw_io *io, unsigned ev, void *arg)
{
	struct peer *p = arg;
	int rc;

	(void)io;
	if (ev & TW_IO_OUT) {
		rc = tw_rconn_flush(&p->c);
		if (rc < 0) {
			peer_fail(p, "intercept %s: sending: %s", tw_strerror(rc));
			return;
		}
		peer_arm(p, rc == 1);
	}
	if (!(ev & (TW_IO_IN | TW_IO_HUP | TW_IO_ERR)))
		return;
	for (int turns = 0; turns < 16 && !p->dead; turns++) {
		const char *why = NULL;
		int n = 0;

		rc = tw_rconn_fill(&p->c);
		if (rc == -EAGAIN)
			break;
		if (rc == 0) {
			peer_fail(p, "intercept %s closed the channel%s", "");
			return;
		}
		if (rc < 0) {
			peer_fail(p, "intercept %s: %s", tw_strerror(rc));
			return;
		}
		while (!p->dead && (n = tw_rconn_next(&p->c, &p->cl->msg, &why)) > 0)
			on_frame(p, &p->cl->msg);
		if (n < 0) {
			peer_fail(p, "intercept %s broke the protocol: %s", why ? why : "bad frame");
			return;
		}
	}
	if (!p->dead && tw_rconn_pending(&p->c))
		peer_arm(p, tw_rconn_flush(&p->c) == 1);
}

int tw_relay_client_open(struct tw_loop *loop, const struct tw_relay_client_cfg *cfg,
			 struct tw_relay_client **out, char *err, size_t errlen)
{
	struct tw_relay_client *cl = calloc(1, sizeof(*cl));
	const char *s;
	int rc = 0;

	if (!cl)
		return -ENOMEM;
	cl->loop = loop;
	cl->cfg = *cfg;
	for (s = cfg->servers; s && *s;) {
		const char *comma = strchr(s, ',');
		size_t len = comma ? (size_t)(comma - s) : strlen(s);
		char host[256];
		uint16_t port;
		struct peer *p;
		int fd;

		if (cl->npeers == TW_RELAY_MAX_PEERS) {
			snprintf(err, errlen, "-s: at most %d intercepts", TW_RELAY_MAX_PEERS);
			rc = -EINVAL;
			goto fail;
		}
		if (tw_relay_split_hostport(s, len, host, sizeof(host), cfg->port, &port) < 0) {
			snprintf(err, errlen, "-s: bad intercept address '%.*s' (HOST[:PORT] or [IPv6]:PORT)",
				 (int)len, s);
			rc = -EINVAL;
			goto fail;
		}
		s = comma ? comma + 1 : s + len;
		fd = connect_to(host, port, mono_ms() + cfg->timeout_ms, err, errlen);
		if (fd < 0) {
			rc = fd;
			goto fail;
		}
		p = &cl->peer[cl->npeers];
		p->cl = cl;
		snprintf(p->name, sizeof(p->name), "%s%s%s:%u", strchr(host, ':') ? "[" : "", host,
			 strchr(host, ':') ? "]" : "", port);
		if ((rc = tw_rconn_init(&p->c, fd, cfg->tx_cap)) < 0) {
			close(fd);
			snprintf(err, errlen, "out of memory");
			goto fail;
		}
		cl->npeers++;
		rc = handshake(cl, p, mono_ms() + cfg->timeout_ms, err, errlen);
		if (rc < 0)
			goto fail;
		tw_io_init(&p->io, p->c.fd, on_io, p);
		if ((rc = tw_loop_io_start(loop, &p->io, TW_IO_IN)) < 0) {
			snprintf(err, errlen, "intercept %s: %s", p->name, tw_strerror(rc));
			goto fail;
		}
		p->io_on = true;
		tw_log(TW_LOG_INFO, 0, "connected to intercept %s", p->name);
	}
	if (!cl->npeers) {
		snprintf(err, errlen, "-s: no intercept given");
		rc = -EINVAL;
		goto fail;
	}
	cl->st.peers = cl->npeers;
	*out = cl;
	return 0;
fail:
	tw_relay_client_close(cl);
	return rc;
}

int tw_relay_client_reg(struct tw_relay_client *cl, bool add, int ipver, const uint8_t client[16],
			uint16_t cport, const uint8_t target[16], uint16_t tport)
{
	struct tw_wire_tuple t;

	memset(&t, 0, sizeof(t));
	t.ipver = (uint8_t)ipver;
	t.cport = cport;
	t.sport = tport;
	memcpy(t.caddr, client, ipver == 4 ? 4 : 16);
	memcpy(t.saddr, target, ipver == 4 ? 4 : 16);
	for (unsigned i = 0; i < cl->npeers; i++) {
		struct peer *p = &cl->peer[i];

		if (p->dead)
			continue;
		if (tw_rconn_add_tuple(&p->c, add ? TW_WIRE_REGISTER : TW_WIRE_UNREGISTER, &t) < 0)
			cl->st.reg_dropped++;
		else if (add)
			cl->st.regs++;
		else
			cl->st.unregs++;
	}
	return 0;
}

void tw_relay_client_flush(struct tw_relay_client *cl)
{
	for (unsigned i = 0; i < cl->npeers; i++) {
		struct peer *p = &cl->peer[i];
		int rc;

		if (p->dead || (!p->c.bopen && !tw_rconn_pending(&p->c)))
			continue;
		rc = tw_rconn_flush(&p->c);
		if (rc < 0)
			peer_fail(p, "intercept %s: sending: %s", tw_strerror(rc));
		else
			peer_arm(p, rc == 1);
	}
}

void tw_relay_client_get_stats(const struct tw_relay_client *cl, struct tw_relay_client_stats *st)
{
	*st = cl->st;
}

void tw_relay_client_close(struct tw_relay_client *cl)
{
	if (!cl)
		return;
	for (unsigned i = 0; i < cl->npeers; i++) {
		struct peer *p = &cl->peer[i];

		if (p->io_on)
			(void)tw_loop_io_stop(cl->loop, &p->io);
		if (!p->dead && p->c.fd >= 0) {
			tw_rconn_end_batch(&p->c);
			refuse_peer(p, TW_WIRE_REFUSE_SHUTDOWN, "copy is stopping");
		}
		tw_rconn_close(&p->c);
	}
	free(cl);
}
