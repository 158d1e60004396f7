/*
 * loop.c - epoll + timer heap + eventfd event loop (see loop.h).
 * Allocates once in tw_loop_new (the struct and the epoll_event array);
 * nothing per event or per timer. Does not log: errors are returned.
 */
#include "core/loop.h"

#include <errno.h>
#include <limits.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <unistd.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <time.h>

struct tw_loop {
	int epfd;
	struct tw_io wake_io; /* the eventfd */
	tw_loop_wake_fn wake_cb;
	void *wake_arg;
	atomic_int stop; /* lock-free int: safe to store from a signal handler */
	struct tw_clock clock;
	struct tw_timers timers;
	struct epoll_event *ev;
	int ev_max;
	int ev_n;   /* events of the batch being dispatched */
	int ev_cur; /* index being dispatched */
	bool no_pwait2; /* epoll_pwait2 unavailable: epoll_wait in ms */
	struct tw_loop_stats st;
};

static void wake_readable(struct tw_io *io, unsigned revents, void *arg)
{
	struct tw_loop *l = arg;
	uint64_t v;

	/* A non-blocking eventfd read returns the whole counter and zeroes it
	 * (eventfd(2)), so several wakeups merge into one callback. EAGAIN
	 * means another read already took it. */
	if (read(io->fd, &v, sizeof(v)) != (ssize_t)sizeof(v))
		return;
	l->st.wakeups++;
	if (l->wake_cb)
		l->wake_cb(l, l->wake_arg);
}

struct tw_loop *tw_loop_new(unsigned max_events)
{
	struct tw_loop *l;
	int fd, err = -ENOMEM;

	if (max_events == 0)
		max_events = 256;
	if (max_events > 65536) {
		errno = EINVAL;
		return NULL;
	}
	l = calloc(1, sizeof(*l));
	if (!l)
		goto err;
	l->ev = calloc(max_events, sizeof(*l->ev));
	if (!l->ev)
		goto err_free;
	l->ev_max = (int)max_events;
	l->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (l->epfd == -1) {
		err = -errno;
		goto err_free_ev;
	}
	fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (fd == -1) {
		err = -errno;
		goto err_close_ep;
	}
	atomic_init(&l->stop, 0);
	tw_clock_init(&l->clock);
	tw_timers_init(&l->timers);
	tw_io_init(&l->wake_io, fd, wake_readable, l);
	err = tw_loop_io_start(l, &l->wake_io, TW_IO_IN);
	if (err)
		goto err_close_efd;
	return l;

err_close_efd:
	close(fd);
err_close_ep:
	close(l->epfd);
err_free_ev:
	free(l->ev);
err_free:
	free(l);
err:
	errno = -err;
	return NULL;
}

void tw_loop_free(struct tw_loop *l)
{
	if (!l)
		return;
	close(l->wake_io.fd);
	close(l->epfd);
	free(l->ev);
	free(l);
}

struct tw_clock *tw_loop_clock(struct tw_loop *l)
{
	return &l->clock;
}

uint64_t tw_loop_now(const struct tw_loop *l)
{
	return tw_clock_now(&l->clock);
}

struct tw_timers *tw_loop_timers(struct tw_loop *l)
{
	return &l->timers;
}

void tw_io_init(struct tw_io *io, int fd, tw_io_fn cb, void *arg)
{
	*io = (struct tw_io){.fd = fd, .cb = cb, .arg = arg};
}

static uint32_t to_epoll(unsigned ev)
{
	uint32_t e = 0;

	if (ev & TW_IO_IN)
		e |= EPOLLIN | EPOLLPRI;
	if (ev & TW_IO_OUT)
		e |= EPOLLOUT;
	if (ev & TW_IO_ET)
		e |= EPOLLET;
	return e;
}

static unsigned from_epoll(uint32_t e)
{
	unsigned ev = 0;

	if (e & (EPOLLIN | EPOLLPRI))
		ev |= TW_IO_IN;
	if (e & EPOLLOUT)
		ev |= TW_IO_OUT;
	if (e & EPOLLERR)
		ev |= TW_IO_ERR;
	if (e & (EPOLLHUP | EPOLLRDHUP))
		ev |= TW_IO_HUP;
	return ev;
}

int tw_loop_io_start(struct tw_loop *l, struct tw_io *io, unsigned events)
{
	struct epoll_event ee = {.events = to_epoll(events), .data.ptr = io};

	if (io->fd < 0 || !io->cb || (events & (TW_IO_IN | TW_IO_OUT)) == 0)
		return -EINVAL;
	if (epoll_ctl(l->epfd, io->active ? EPOLL_CTL_MOD : EPOLL_CTL_ADD, io->fd, &ee) == -1)
		return -errno;
	io->events = events;
	io->active = true;
	return 0;
}

int tw_loop_io_stop(struct tw_loop *l, struct tw_io *io)
{
	int rc = 0;

	if (!io->active)
		return 0;
	io->active = false;
	/* Drop events of this batch not yet delivered: the caller may free IO
	 * as soon as we return. */
	for (int i = l->ev_cur + 1; i < l->ev_n; i++) {
		if (l->ev[i].data.ptr == io) {
			l->ev[i].data.ptr = NULL;
			l->st.dropped++;
		}
	}
	/* A kernel before 2.6.9 wants a non-NULL event for EPOLL_CTL_DEL
	 * (epoll_ctl(2) BUGS); pass one. A descriptor closed already has left
	 * the epoll set by itself (EBADF/ENOENT): that is a stop too. */
	struct epoll_event ee = {0};
	if (epoll_ctl(l->epfd, EPOLL_CTL_DEL, io->fd, &ee) == -1 && errno != EBADF &&
	    errno != ENOENT)
		rc = -errno;
	return rc;
}

void tw_loop_timer_at(struct tw_loop *l, struct tw_timer *t, uint64_t deadline)
{
	tw_timer_arm(&l->timers, t, deadline);
}

void tw_loop_timer_after(struct tw_loop *l, struct tw_timer *t, uint64_t delay_ns)
{
	uint64_t now = tw_clock_now(&l->clock);
	uint64_t d = delay_ns > TW_TIME_NEVER - now ? TW_TIME_NEVER : now + delay_ns;

	tw_timer_arm(&l->timers, t, d);
}

void tw_loop_timer_cancel(struct tw_loop *l, struct tw_timer *t)
{
	tw_timer_cancel(&l->timers, t);
}

void tw_loop_set_wake_cb(struct tw_loop *l, tw_loop_wake_fn cb, void *arg)
{
	l->wake_cb = cb;
	l->wake_arg = arg;
}

void tw_loop_wakeup(struct tw_loop *l)
{
	int saved = errno;
	uint64_t one = 1;
	ssize_t rc;

	/* EAGAIN (counter at its maximum) means a wakeup is pending anyway. */
	rc = write(l->wake_io.fd, &one, sizeof(one));
	(void)rc;
	errno = saved;
}

void tw_loop_stop(struct tw_loop *l)
{
	atomic_store(&l->stop, 1);
	tw_loop_wakeup(l);
}

/* Time to the next deadline in ns: TW_TIME_NEVER without timers, 0 if due. */
static uint64_t wait_ns(const struct tw_loop *l, uint64_t now)
{
	uint64_t next = tw_timers_next(&l->timers);

	if (next == TW_TIME_NEVER)
		return TW_TIME_NEVER;
	return next <= now ? 0 : next - now;
}

/* Wait for events at most NS nanoseconds (TW_TIME_NEVER: no limit).
 * epoll_pwait2 (Linux 5.11) takes a timespec, so a deadline 100 us away is
 * waited 100 us, not a whole millisecond; pacing at replay rates needs that.
 * Older kernels and seccomp filters answer ENOSYS (some filters EPERM): fall
 * back for good to epoll_wait, with the timeout rounded up to a millisecond
 * so the loop never wakes before the deadline and spins. */
static int wait_events(struct tw_loop *l, uint64_t ns)
{
	if (!l->no_pwait2) {
		struct timespec ts = {
			.tv_sec = (time_t)(ns / TW_NSEC_PER_SEC),
			.tv_nsec = (long)(ns % TW_NSEC_PER_SEC),
		};
		int n = epoll_pwait2(l->epfd, l->ev, l->ev_max, ns == TW_TIME_NEVER ? NULL : &ts,
				     NULL);
		if (n != -1 || (errno != ENOSYS && errno != EPERM))
			return n;
		l->no_pwait2 = true;
	}
	int ms = -1;
	if (ns != TW_TIME_NEVER) {
		uint64_t m = (ns + TW_NSEC_PER_MSEC - 1) / TW_NSEC_PER_MSEC;
		ms = m > INT_MAX ? INT_MAX : (int)m;
	}
	return epoll_wait(l->epfd, l->ev, l->ev_max, ms);
}

int tw_loop_run_once(struct tw_loop *l, bool block)
{
	uint64_t now;
	uint64_t timeout;
	int n, called = 0;

	l->st.iterations++;
	now = tw_clock_update(&l->clock);
	called += (int)tw_timers_run(&l->timers, now);
	/* Wait only if no timer fired: the caller of run_once gets control
	 * back after doing some work, and run() simply blocks next turn. */
	timeout = (block && called == 0 && !atomic_load(&l->stop)) ? wait_ns(l, now) : 0;

	n = wait_events(l, timeout);
	if (n == -1) {
		if (errno != EINTR)
			return -errno;
		l->st.eintr++;
		n = 0;
	}
	tw_clock_update(&l->clock);
	l->ev_n = n;
	for (l->ev_cur = 0; l->ev_cur < n; l->ev_cur++) {
		struct epoll_event *e = &l->ev[l->ev_cur];
		struct tw_io *io = e->data.ptr;

		if (!io)
			continue; /* stopped by an earlier callback of this batch */
		if (io != &l->wake_io) {
			l->st.io_events++;
			called++;
		}
		io->cb(io, from_epoll(e->events), io->arg);
	}
	l->ev_n = 0;
	l->ev_cur = 0;
	l->st.timers_fired = l->timers.fired_total;
	return called;
}

int tw_loop_run(struct tw_loop *l)
{
	int rc;

	while (!atomic_load(&l->stop)) {
		rc = tw_loop_run_once(l, true);
		if (rc < 0)
			return rc;
	}
	atomic_store(&l->stop, 0);
	return 0;
}

void tw_loop_use_epoll_wait(struct tw_loop *l)
{
	l->no_pwait2 = true;
}

void tw_loop_get_stats(const struct tw_loop *l, struct tw_loop_stats *out)
{
	*out = l->st;
	out->timers_fired = l->timers.fired_total;
}
