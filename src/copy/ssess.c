/*
 * ssess.c - a replayed session over a kernel TCP socket (see ssess.h).
 */
#include "copy/ssess.h"
#include "copy/pace.h"
#include "core/pool.h"
#include "pkt/decode.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <string.h>
#include <unistd.h>

#ifndef IP_BIND_ADDRESS_NO_PORT
#define IP_BIND_ADDRESS_NO_PORT 24
#endif

#define WRITE_MAX 65536

static void io_set(struct tw_ssess *s, unsigned events)
{
	if (s->fd < 0 || s->io_events == events)
		return;
	if (events)
		(void)tw_loop_io_start(s->env->loop, &s->io, events);
	else
		(void)tw_loop_io_stop(s->env->loop, &s->io);
	s->io_events = events;
}

static void finish(struct tw_ssess *s, enum tw_outcome out, bool abortive)
{
	const struct tw_ssess_env *env = s->env;

	if (s->state == TW_SSS_CLOSED)
		return;
	if (s->state == TW_SSS_CONNECTING)
		env->st->connecting--;
	s->state = TW_SSS_CLOSED;
	s->outcome = out;
	if (s->fd >= 0) {
		io_set(s, 0);
		if (abortive) {
			struct linger lg = {.l_onoff = 1, .l_linger = 0};
			(void)setsockopt(s->fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
		}
		close(s->fd);
		s->fd = -1;
	}
	tw_loop_timer_cancel(env->loop, &s->t_pace);
	tw_loop_timer_cancel(env->loop, &s->t_gap);
	tw_loop_timer_cancel(env->loop, &s->t_conn);
	tw_loop_timer_cancel(env->loop, &s->t_close);
	tw_segq_clear(&s->q, env->segs);
	env->st->outcomes[out]++;
	env->done(env->ctx, s);
}

static bool all_written(const struct tw_ssess *s)
{
	return s->q.fin && s->sent == s->q.next;
}

static void check_close(struct tw_ssess *s, uint64_t now)
{
	if (s->state != TW_SSS_OPEN || !all_written(s))
		return;
	if (s->peer_fin) {
		finish(s, TW_OUT_DONE, false);
		return;
	}
	if (!tw_timer_armed(&s->t_close))
		tw_loop_timer_at(s->env->loop, &s->t_close, now + s->env->cfg->close_ns);
}

static void try_release(struct tw_ssess *s, uint64_t now)
{
	uint64_t deadline = tw_pace_release(&s->pace, s->env->cfg, s->env->st, &s->q, &s->rel,
					    s->resp + (s->peer_fin ? 1u : 0u), now);

	if (deadline)
		tw_loop_timer_at(s->env->loop, &s->t_pace, deadline);
	while (s->cuts_seen != s->pace.cuts) {
		s->cuts_seen++;
		if (s->env->cut)
			s->env->cut(s->env->ctx, s);
	}
}

/* Write what pacing released. Returns false when the session ended. */
static bool try_write(struct tw_ssess *s)
{
	const struct tw_ssess_env *env = s->env;

	while (s->state == TW_SSS_OPEN && s->sent != s->rel) {
		struct tw_seg *c = tw_segq_find(&s->q, s->sent);
		uint32_t n;
		ssize_t w;

		if (!c)
			break;
		if (s->sent == c->seq + c->len) {
			/* the captured close: FIN (a captured RST is closed gracefully
			 * too, so what was written is not thrown away by the kernel) */
			if (!s->wr_shut)
				(void)shutdown(s->fd, SHUT_WR);
			s->wr_shut = true;
			s->sent++;
			break;
		}
		n = s->rel - s->sent;
		if (n > WRITE_MAX)
			n = WRITE_MAX;
		n = (uint32_t)tw_segq_copy(&s->q, s->sent, env->scratch, n);
		if (!n)
			break;
		w = send(s->fd, env->scratch, n, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (w < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK) {
				io_set(s, (s->peer_fin ? 0u : TW_IO_IN) | TW_IO_OUT);
				return true;
			}
			if (errno == EINTR)
				continue;
			env->st->send_errors++;
			finish(s, errno == ECONNRESET || errno == EPIPE ? TW_OUT_RESET
				  : errno == ETIMEDOUT ? TW_OUT_TIMEOUT : TW_OUT_SEND_ERROR, true);
			return false;
		}
		s->sent += (uint32_t)w;
		env->st->bytes_sent += (uint64_t)w;
		env->st->pkts_sent++;
		tw_segq_ack(&s->q, env->segs, s->sent);
	}
	io_set(s, s->peer_fin ? 0 : TW_IO_IN);
	return true;
}

static void progress(struct tw_ssess *s, uint64_t now)
{
	try_release(s, now);
	if (try_write(s))
		check_close(s, now);
}

static void on_readable(struct tw_ssess *s, uint64_t now)
{
	const struct tw_ssess_env *env = s->env;

	for (int turns = 0; turns < 16; turns++) {
		ssize_t n = recv(s->fd, env->scratch, TW_SESS_SCRATCH, MSG_DONTWAIT);

		if (n > 0) {
			if (env->reply)
				env->reply(env->ctx, s, env->scratch, (size_t)n);
			s->resp += (uint64_t)n;
			env->st->reply_bytes += (uint64_t)n;
			tw_pace_reply(&s->pace, now);
			continue;
		}
		if (n == 0) {
			s->peer_fin = true;
			break;
		}
		if (errno == EINTR)
			continue;
		if (errno == EAGAIN || errno == EWOULDBLOCK)
			break;
		finish(s, all_written(s) ? TW_OUT_DONE : errno == ETIMEDOUT ? TW_OUT_TIMEOUT : TW_OUT_RESET,
		       false);
		return;
	}
	progress(s, now);
}

static void on_connected(struct tw_ssess *s, uint64_t now)
{
	int err = 0;
	socklen_t len = sizeof(err);

	if (getsockopt(s->fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
		err = errno;
	if (err == EINPROGRESS || err == EALREADY)
		return;
	if (err) {
		finish(s, err == ECONNREFUSED ? TW_OUT_RESET : TW_OUT_NO_SYNACK, false);
		return;
	}
	s->env->st->connecting--;
	s->state = TW_SSS_OPEN;
	tw_loop_timer_cancel(s->env->loop, &s->t_conn);
	tw_pace_init(&s->pace, now);
	io_set(s, TW_IO_IN);
	progress(s, now);
}

static void on_io(struct tw_io *io, unsigned ev, void *arg)
{
	struct tw_ssess *s = arg;
	uint64_t now = tw_loop_now(s->env->loop);

	(void)io;
	if (s->state == TW_SSS_CONNECTING) {
		on_connected(s, now);
		return;
	}
	if (ev & (TW_IO_IN | TW_IO_HUP | TW_IO_ERR))
		on_readable(s, now);
	else if (ev & TW_IO_OUT)
		progress(s, now);
}

static void on_pace(struct tw_timer *t, uint64_t now, void *arg)
{
	struct tw_ssess *s = arg;

	(void)t;
	if (s->state == TW_SSS_OPEN)
		progress(s, now);
}

static void on_gap(struct tw_timer *t, uint64_t now, void *arg)
{
	struct tw_ssess *s = arg;

	(void)t;
	(void)now;
	if (s->q.ooo)
		finish(s, TW_OUT_GAP, true);
}

static void on_conn_timeout(struct tw_timer *t, uint64_t now, void *arg)
{
	struct tw_ssess *s = arg;

	(void)t;
	(void)now;
	if (s->state == TW_SSS_CONNECTING)
		finish(s, TW_OUT_NO_SYNACK, true);
}

static void on_close_timeout(struct tw_timer *t, uint64_t now, void *arg)
{
	struct tw_ssess *s = arg;

	(void)t;
	(void)now;
	/* everything captured went out and our side is closed; the target keeps
	 * its side open: done */
	finish(s, TW_OUT_DONE, false);
}

void tw_ssess_start(struct tw_ssess *s, const struct tw_ssess_env *env, const struct sockaddr *dst,
		    socklen_t dstlen, const struct sockaddr *src, socklen_t srclen, uint32_t isn,
		    uint64_t now)
{
	void *user = s->user;
	int one = 1, rc;
	unsigned user_timeout;

	memset(s, 0, sizeof(*s));
	s->user = user;
	s->env = env;
	s->fd = -1;
	s->state = TW_SSS_CONNECTING;
	s->sent = s->rel = isn + 1;
	tw_segq_init(&s->q, isn + 1);
	tw_pace_init(&s->pace, now);
	tw_timer_init(&s->t_pace, on_pace, s);
	tw_timer_init(&s->t_gap, on_gap, s);
	tw_timer_init(&s->t_conn, on_conn_timeout, s);
	tw_timer_init(&s->t_close, on_close_timeout, s);
	env->st->connecting++;
	env->st->pkts_sent++; /* the SYN, as raw mode counts it */

	s->fd = socket(dst->sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (s->fd < 0) {
		env->st->send_errors++;
		finish(s, TW_OUT_SEND_ERROR, false);
		return;
	}
	(void)setsockopt(s->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	/* the kernel gives up on unacknowledged data after as long as raw
	 * sessions retransmit */
	user_timeout = (unsigned)((env->cfg->rto_max_ns / 1000000u) * (env->cfg->max_retries + 1));
	(void)setsockopt(s->fd, IPPROTO_TCP, TCP_USER_TIMEOUT, &user_timeout, sizeof(user_timeout));
	if (src) {
		if (env->transparent) {
			if (src->sa_family == AF_INET)
				(void)setsockopt(s->fd, IPPROTO_IP, IP_TRANSPARENT, &one, sizeof(one));
			else
				(void)setsockopt(s->fd, IPPROTO_IPV6, IPV6_TRANSPARENT, &one, sizeof(one));
		}
		if (src->sa_family == AF_INET && ((const struct sockaddr_in *)(const void *)src)->sin_port == 0)
			(void)setsockopt(s->fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof(one));
		if (bind(s->fd, src, srclen) < 0) {
			env->st->send_errors++;
			finish(s, TW_OUT_SEND_ERROR, false);
			return;
		}
	}
	tw_io_init(&s->io, s->fd, on_io, s);
	rc = connect(s->fd, dst, dstlen);
	if (rc < 0 && errno != EINPROGRESS) {
		int e = errno;
		if (e != ECONNREFUSED)
			env->st->send_errors++;
		finish(s, e == ECONNREFUSED ? TW_OUT_RESET : TW_OUT_SEND_ERROR, false);
		return;
	}
	io_set(s, TW_IO_OUT);
	tw_loop_timer_at(env->loop, &s->t_conn, now + env->connect_ns);
}

void tw_ssess_client(struct tw_ssess *s, const struct tw_pkt *p, uint64_t now)
{
	const struct tw_ssess_env *env = s->env;
	int rc;

	if (s->state == TW_SSS_CLOSED || (p->flags & TW_TH_SYN))
		return;
	rc = tw_pace_take(&s->pace, &s->q, env->segs, p, env->cfg->max_ooo);
	if (rc < 0) {
		env->st->held_refused++;
		finish(s, TW_OUT_GAP, true);
		return;
	}
	if (s->q.ooo && !tw_timer_armed(&s->t_gap))
		tw_loop_timer_at(env->loop, &s->t_gap, now + env->cfg->gap_ns);
	else if (!s->q.ooo)
		tw_loop_timer_cancel(env->loop, &s->t_gap);
	if (rc > 0 && s->state == TW_SSS_OPEN)
		progress(s, now);
}

void tw_ssess_capture_end(struct tw_ssess *s, uint64_t now)
{
	const struct tw_ssess_env *env = s->env;

	if (s->state == TW_SSS_CLOSED)
		return;
	if (s->q.ooo) {
		finish(s, TW_OUT_GAP, true);
		return;
	}
	if (!s->q.fin && tw_segq_add(&s->q, env->segs, s->q.next, NULL, 0, TW_SEG_FIN, 0, false,
				     env->cfg->max_ooo) < 0) {
		env->st->held_refused++;
		finish(s, TW_OUT_GAP, true);
		return;
	}
	if (s->state == TW_SSS_OPEN)
		progress(s, now);
}

void tw_ssess_abort(struct tw_ssess *s, enum tw_outcome outcome, uint64_t now)
{
	(void)now;
	finish(s, outcome, true);
}
