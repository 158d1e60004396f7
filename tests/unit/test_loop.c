/*
 * test_loop.c - unit tests of src/core/loop.c with real descriptors: a pipe,
 * timers and the eventfd wakeup raised from a signal handler and from a
 * thread. Asserts the order and number of callbacks, never durations: the
 * timers used are 0-3 ms and only their relative order is checked.
 * Also: a descriptor stopped by an earlier callback of the same batch is not
 * called, stop requested before run, HUP on a closed pipe, and a loop whose
 * clock is replaced by a fake source fires timers on that clock.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <stdbool.h>
#include <pthread.h>
#include <signal.h>
#include <unistd.h>
#include <fcntl.h>

#include <cmocka.h>

#include "core/loop.h"

/* Trace of callbacks as short strings, compared at the end. */
struct trace {
	char ev[32][16];
	int n;
};

static void trace_add(struct trace *t, const char *s)
{
	assert_true(t->n < 32);
	snprintf(t->ev[t->n], sizeof(t->ev[0]), "%s", s);
	t->n++;
}

static struct tw_loop *g_loop; /* for the signal handler */

static void on_sigusr1(int sig)
{
	tw_loop_wakeup(g_loop);
}

/* ---- the main scenario: timer -> pipe -> timer -> signal wakeup ---- */

struct scen {
	struct tw_loop *loop;
	struct trace tr;
	int pfd[2];
	struct tw_io pipe_io;
	struct tw_timer t_write, t_after, t_first;
};

static void scen_t_first(struct tw_timer *t, uint64_t now, void *arg)
{
	struct scen *s = arg;

	trace_add(&s->tr, "first");
}

static void scen_t_write(struct tw_timer *t, uint64_t now, void *arg)
{
	struct scen *s = arg;

	trace_add(&s->tr, "write");
	assert_int_equal(write(s->pfd[1], "x", 1), 1);
}

static void scen_pipe(struct tw_io *io, unsigned revents, void *arg)
{
	struct scen *s = arg;
	char c[8], name[16];
	ssize_t n;

	assert_true(revents & TW_IO_IN);
	n = read(io->fd, c, sizeof(c));
	assert_int_equal(n, 1);
	snprintf(name, sizeof(name), "pipe:%c", c[0]);
	trace_add(&s->tr, name);
	/* due at once: fires in the next iteration */
	tw_loop_timer_after(s->loop, &s->t_after, 0);
}

static void scen_t_after(struct tw_timer *t, uint64_t now, void *arg)
{
	struct scen *s = arg;

	trace_add(&s->tr, "after");
	/* the handler writes the eventfd; the loop calls scen_wake */
	assert_int_equal(raise(SIGUSR1), 0);
}

static void scen_wake(struct tw_loop *loop, void *arg)
{
	struct scen *s = arg;

	trace_add(&s->tr, "wake");
	tw_loop_stop(loop);
}

static void pipe_timer_wakeup(bool ms_wait)
{
	static struct scen s;
	struct sigaction sa = {.sa_handler = on_sigusr1}, old;
	struct tw_loop_stats st;
	static const char *const want[] = {"first", "write", "pipe:x", "after", "wake"};

	memset(&s, 0, sizeof(s));
	s.loop = tw_loop_new(0);
	assert_non_null(s.loop);
	if (ms_wait)
		tw_loop_use_epoll_wait(s.loop);
	g_loop = s.loop;
	assert_int_equal(sigaction(SIGUSR1, &sa, &old), 0);
	assert_int_equal(pipe2(s.pfd, O_NONBLOCK | O_CLOEXEC), 0);

	tw_io_init(&s.pipe_io, s.pfd[0], scen_pipe, &s);
	assert_int_equal(tw_loop_io_start(s.loop, &s.pipe_io, TW_IO_IN), 0);
	tw_loop_set_wake_cb(s.loop, scen_wake, &s);
	tw_timer_init(&s.t_write, scen_t_write, &s);
	tw_timer_init(&s.t_after, scen_t_after, &s);
	tw_timer_init(&s.t_first, scen_t_first, &s);
	/* armed in reverse order of their deadlines */
	tw_loop_timer_after(s.loop, &s.t_write, 2 * TW_NSEC_PER_MSEC);
	tw_loop_timer_after(s.loop, &s.t_first, 1 * TW_NSEC_PER_MSEC);

	assert_int_equal(tw_loop_run(s.loop), 0);

	assert_int_equal(s.tr.n, 5);
	for (int i = 0; i < 5; i++)
		assert_string_equal(s.tr.ev[i], want[i]);
	tw_loop_get_stats(s.loop, &st);
	assert_int_equal(st.io_events, 1);
	assert_int_equal(st.timers_fired, 3);
	assert_int_equal(st.wakeups, 1);
	assert_int_equal(tw_timers_count(tw_loop_timers(s.loop)), 0);

	/* stopped, not broken: one more non-blocking turn does nothing */
	assert_int_equal(tw_loop_run_once(s.loop, false), 0);
	assert_int_equal(tw_loop_io_stop(s.loop, &s.pipe_io), 0);
	assert_int_equal(tw_loop_io_stop(s.loop, &s.pipe_io), 0); /* twice */
	assert_int_equal(sigaction(SIGUSR1, &old, NULL), 0);
	close(s.pfd[0]);
	close(s.pfd[1]);
	tw_loop_free(s.loop);
}

static void test_pipe_timer_wakeup(void **state)
{
	pipe_timer_wakeup(false);
}

/* The same through epoll_wait (kernels before 5.11). */
static void test_pipe_timer_wakeup_ms(void **state)
{
	pipe_timer_wakeup(true);
}

/* ---- timers of the loop fire in deadline order, re-armed from callbacks ---- */

struct tick {
	struct tw_loop *loop;
	struct tw_timer t;
	int id, *order, *n, rearm;
};

static void tick_cb(struct tw_timer *t, uint64_t now, void *arg)
{
	struct tick *k = arg;

	assert_true(now >= t->deadline);
	k->order[(*k->n)++] = k->id;
	if (k->rearm > 0) {
		k->rearm--;
		tw_loop_timer_after(k->loop, t, 0);
	} else if (k->id == 9) {
		tw_loop_stop(k->loop);
	}
}

static void timer_order_and_rearm(bool ms_wait)
{
	struct tw_loop *l = tw_loop_new(4);
	struct tick k[4];
	int order[32], n = 0;
	static const uint64_t delay_ms[3] = {3, 1, 2};

	assert_non_null(l);
	if (ms_wait)
		tw_loop_use_epoll_wait(l);
	for (int i = 0; i < 3; i++) {
		k[i] = (struct tick){.loop = l, .id = i, .order = order, .n = &n};
		tw_timer_init(&k[i].t, tick_cb, &k[i]);
		tw_loop_timer_after(l, &k[i].t, delay_ms[i] * TW_NSEC_PER_MSEC);
	}
	/* id 9: re-arms itself 4 times at "now", then stops the loop */
	k[3] = (struct tick){.loop = l, .id = 9, .order = order, .n = &n, .rearm = 4};
	tw_timer_init(&k[3].t, tick_cb, &k[3]);
	tw_loop_timer_after(l, &k[3].t, 5 * TW_NSEC_PER_MSEC);
	/* a cancelled timer never fires */
	struct tick dead = {.loop = l, .id = 7, .order = order, .n = &n};
	tw_timer_init(&dead.t, tick_cb, &dead);
	tw_loop_timer_after(l, &dead.t, 0);
	tw_loop_timer_cancel(l, &dead.t);

	assert_int_equal(tw_loop_run(l), 0);
	assert_int_equal(n, 8);
	assert_int_equal(order[0], 1);
	assert_int_equal(order[1], 2);
	assert_int_equal(order[2], 0);
	for (int i = 3; i < 8; i++)
		assert_int_equal(order[i], 9);
	tw_loop_free(l);
}

static void test_timer_order_and_rearm(void **state)
{
	timer_order_and_rearm(false);
}

static void test_timer_order_and_rearm_ms(void **state)
{
	timer_order_and_rearm(true);
}

/* ---- a callback stops another descriptor ready in the same batch ---- */

struct pair {
	struct tw_loop *loop;
	struct tw_io io[2];
	int calls[2];
};

static void pair_cb(struct tw_io *io, unsigned revents, void *arg)
{
	struct pair *p = arg;
	int me = io == &p->io[0] ? 0 : 1;

	p->calls[me]++;
	assert_int_equal(tw_loop_io_stop(p->loop, &p->io[1 - me]), 0);
	assert_int_equal(tw_loop_io_stop(p->loop, io), 0);
	/* poison the other one: being called now would trip the asserts */
	p->io[1 - me].cb = NULL;
}

static void test_stop_other_in_batch(void **state)
{
	struct pair p = {0};
	int a[2], b[2];
	struct tw_loop_stats st;

	p.loop = tw_loop_new(0);
	assert_non_null(p.loop);
	assert_int_equal(pipe(a), 0);
	assert_int_equal(pipe(b), 0);
	assert_int_equal(write(a[1], "1", 1), 1);
	assert_int_equal(write(b[1], "2", 1), 1);
	tw_io_init(&p.io[0], a[0], pair_cb, &p);
	tw_io_init(&p.io[1], b[0], pair_cb, &p);
	assert_int_equal(tw_loop_io_start(p.loop, &p.io[0], TW_IO_IN), 0);
	assert_int_equal(tw_loop_io_start(p.loop, &p.io[1], TW_IO_IN), 0);
	/* both are ready: one epoll_wait returns both */
	assert_int_equal(tw_loop_run_once(p.loop, false), 1);
	assert_int_equal(p.calls[0] + p.calls[1], 1);
	tw_loop_get_stats(p.loop, &st);
	assert_int_equal(st.dropped, 1);
	assert_int_equal(st.io_events, 1);
	assert_int_equal(tw_loop_run_once(p.loop, false), 0);
	for (int i = 0; i < 2; i++) {
		close(a[i]);
		close(b[i]);
	}
	tw_loop_free(p.loop);
}

/* ---- HUP, modify, bad arguments ---- */

static void hup_cb(struct tw_io *io, unsigned revents, void *arg)
{
	*(unsigned *)arg = revents;
}

static void test_hup_and_modify(void **state)
{
	struct tw_loop *l = tw_loop_new(0);
	struct tw_io io, wio;
	unsigned got = 0, wgot = 0;
	int p[2];

	assert_non_null(l);
	assert_int_equal(pipe(p), 0);
	tw_io_init(&io, p[0], hup_cb, &got);
	assert_int_equal(tw_loop_io_start(l, &io, 0), -EINVAL);
	assert_int_equal(tw_loop_io_start(l, &io, TW_IO_IN), 0);
	assert_int_equal(tw_loop_run_once(l, false), 0);
	assert_int_equal(got, 0);
	/* the write end is writable; watch it, then change its events to IN only */
	tw_io_init(&wio, p[1], hup_cb, &wgot);
	assert_int_equal(tw_loop_io_start(l, &wio, TW_IO_OUT), 0);
	assert_int_equal(tw_loop_run_once(l, false), 1);
	assert_int_equal(wgot, TW_IO_OUT);
	wgot = 0;
	assert_int_equal(tw_loop_io_start(l, &wio, TW_IO_IN), 0); /* MOD */
	assert_int_equal(wio.events, TW_IO_IN);
	assert_int_equal(tw_loop_run_once(l, false), 0);
	assert_int_equal(wgot, 0);
	assert_int_equal(tw_loop_io_stop(l, &wio), 0);
	close(p[1]);
	assert_int_equal(tw_loop_run_once(l, false), 1);
	assert_true(got & TW_IO_HUP);
	assert_int_equal(tw_loop_io_stop(l, &io), 0);
	close(p[0]);
	/* a bad descriptor is refused by epoll_ctl */
	tw_io_init(&io, p[0], hup_cb, &got);
	assert_int_equal(tw_loop_io_start(l, &io, TW_IO_IN), -EBADF);
	assert_false(io.active);
	tw_loop_free(l);
}

/* ---- stop before run; stop from another thread while blocked ---- */

static void *stopper(void *arg)
{
	tw_loop_stop(arg);
	return NULL;
}

static void test_stop_paths(void **state)
{
	struct tw_loop *l = tw_loop_new(0);
	struct tw_loop_stats st;
	pthread_t th;

	assert_non_null(l);
	tw_loop_stop(l);
	assert_int_equal(tw_loop_run(l), 0); /* returns at once */
	tw_loop_get_stats(l, &st);
	assert_int_equal(st.iterations, 0);
	/* no timers and no descriptors: blocks until the thread's stop */
	assert_int_equal(pthread_create(&th, NULL, stopper, l), 0);
	assert_int_equal(tw_loop_run(l), 0);
	assert_int_equal(pthread_join(th, NULL), 0);
	tw_loop_get_stats(l, &st);
	assert_true(st.iterations >= 1);
	/* the first stop's eventfd write is read now, with or apart from the
	 * thread's: how many reads depends on timing, not checked exactly */
	assert_true(st.wakeups >= 1 && st.wakeups <= 2);
	tw_loop_free(l);
	tw_loop_free(NULL);
}

/* ---- a fake clock drives the loop's timers ---- */

static uint64_t fake_now;
static uint64_t fake_src(void *arg)
{
	return fake_now;
}

static void count_cb(struct tw_timer *t, uint64_t now, void *arg)
{
	(*(int *)arg)++;
	assert_int_equal(now, fake_now);
}

static void test_fake_clock(void **state)
{
	struct tw_loop *l = tw_loop_new(0);
	struct tw_timer t;
	int fired = 0;

	assert_non_null(l);
	fake_now = 5000;
	tw_clock_init_source(tw_loop_clock(l), fake_src, NULL);
	assert_int_equal(tw_loop_now(l), 5000);
	tw_timer_init(&t, count_cb, &fired);
	tw_loop_timer_after(l, &t, 24 * TW_NSEC_PER_SEC); /* a day of real time */
	assert_int_equal(t.deadline, 5000 + 24 * TW_NSEC_PER_SEC);
	fake_now += 24 * TW_NSEC_PER_SEC - 1;
	assert_int_equal(tw_loop_run_once(l, false), 0);
	assert_int_equal(fired, 0);
	fake_now += 1;
	/* due now: even a blocking turn does not wait */
	assert_int_equal(tw_loop_run_once(l, true), 1);
	assert_int_equal(fired, 1);
	assert_int_equal(tw_loop_now(l), fake_now);
	tw_loop_free(l);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pipe_timer_wakeup),
		cmocka_unit_test(test_pipe_timer_wakeup_ms),
		cmocka_unit_test(test_timer_order_and_rearm),
		cmocka_unit_test(test_timer_order_and_rearm_ms),
		cmocka_unit_test(test_stop_other_in_batch),
		cmocka_unit_test(test_hup_and_modify),
		cmocka_unit_test(test_stop_paths),
		cmocka_unit_test(test_fake_clock),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
