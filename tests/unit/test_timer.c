/*
 * test_timer.c - unit tests of src/core/timer.c and src/core/clock.c with a
 * fake clock: firing order by deadline (ties in arming order), only due
 * timers fire, cancel (root, inner, twice, unarmed), re-arm and cancel from
 * inside callbacks, a timer re-armed "now" from its callback does not fire
 * twice in one run, and 100 000 random arm/re-arm/cancel/run operations
 * checked against a brute-force reference. Does not touch epoll (test_loop).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/clock.h"
#include "core/timer.h"

/* Deterministic PRNG (xorshift64*), so failures reproduce. */
static uint64_t rng_state;
static uint64_t rng(void)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 0x2545f4914f6cdd1dULL;
}

/* A record of fired timers. */
#define LOG_MAX 4096
struct fired_log {
	int id[LOG_MAX];
	uint64_t at[LOG_MAX];
	int n;
};

struct owner {
	struct tw_timer t;
	int id;
	struct fired_log *log;
	struct tw_timers *ts;
	/* behaviour in the callback */
	uint64_t rearm_delta; /* re-arm itself at now + delta (if rearm_left) */
	int rearm_left;
	struct tw_timer *cancel_other;
	struct tw_timer *arm_other;
	uint64_t arm_other_at;
};

static void on_fire(struct tw_timer *t, uint64_t now, void *arg)
{
	struct owner *o = TW_CONTAINER_OF(t, struct owner, t);

	assert_ptr_equal(arg, o);
	assert_false(tw_timer_armed(t));
	assert_true(o->log->n < LOG_MAX);
	o->log->id[o->log->n] = o->id;
	o->log->at[o->log->n] = now;
	o->log->n++;
	if (o->rearm_left > 0) {
		o->rearm_left--;
		tw_timer_arm(o->ts, t, now + o->rearm_delta);
	}
	if (o->cancel_other)
		tw_timer_cancel(o->ts, o->cancel_other);
	if (o->arm_other)
		tw_timer_arm(o->ts, o->arm_other, o->arm_other_at);
}

static void owner_init(struct owner *o, int id, struct tw_timers *ts, struct fired_log *log)
{
	memset(o, 0, sizeof(*o));
	o->id = id;
	o->ts = ts;
	o->log = log;
	tw_timer_init(&o->t, on_fire, o);
}

static void test_clock_fake(void **state)
{
	struct tw_clock c;

	tw_clock_init_fake(&c, 1000);
	assert_int_equal(tw_clock_now(&c), 1000);
	tw_clock_fake_advance(&c, 500);
	assert_int_equal(tw_clock_now(&c), 1000); /* cached until update */
	assert_int_equal(tw_clock_update(&c), 1500);
	tw_clock_fake_set(&c, 10); /* source goes back: cache does not */
	assert_int_equal(tw_clock_update(&c), 1500);
	tw_clock_fake_set(&c, 2000);
	assert_int_equal(tw_clock_update(&c), 2000);
	assert_int_equal(tw_clock_now(&c), 2000);
}

static void test_clock_mono(void **state)
{
	struct tw_clock c;
	uint64_t a, b;

	tw_clock_init(&c);
	a = tw_clock_now(&c);
	assert_true(a > 0);
	b = tw_clock_update(&c);
	assert_true(b >= a);
	assert_true(tw_clock_mono_ns() >= b);
}

static void test_order_and_due_only(void **state)
{
	static const uint64_t dl[8] = {50, 10, 40, 10, 30, 20, 60, 10};
	/* by deadline, ties by arming order (ids 1, 3, 7 at 10) */
	static const int want[8] = {1, 3, 7, 5, 4, 2, 0, 6};
	struct tw_timers ts;
	struct fired_log log = {0};
	struct owner o[8];
	struct tw_clock clk;

	tw_timers_init(&ts);
	tw_clock_init_fake(&clk, 0);
	for (int i = 0; i < 8; i++) {
		owner_init(&o[i], i, &ts, &log);
		tw_timer_arm(&ts, &o[i].t, dl[i]);
	}
	assert_int_equal(tw_timers_count(&ts), 8);
	assert_int_equal(tw_timers_next(&ts), 10);

	tw_clock_fake_set(&clk, 9);
	assert_int_equal(tw_timers_run(&ts, tw_clock_update(&clk)), 0);
	assert_int_equal(log.n, 0);

	tw_clock_fake_set(&clk, 25);
	assert_int_equal(tw_timers_run(&ts, tw_clock_update(&clk)), 4);
	assert_int_equal(log.n, 4);
	assert_int_equal(tw_timers_next(&ts), 30);

	tw_clock_fake_set(&clk, 1000);
	assert_int_equal(tw_timers_run(&ts, tw_clock_update(&clk)), 4);
	assert_int_equal(log.n, 8);
	for (int i = 0; i < 8; i++)
		assert_int_equal(log.id[i], want[i]);
	assert_int_equal(log.at[0], 25);
	assert_int_equal(log.at[7], 1000);
	assert_int_equal(tw_timers_count(&ts), 0);
	assert_int_equal(tw_timers_next(&ts), TW_TIME_NEVER);
	assert_int_equal(ts.fired_total, 8);
	assert_int_equal(ts.armed_total, 8);
}

static void test_cancel(void **state)
{
	struct tw_timers ts;
	struct fired_log log = {0};
	struct owner o[10];

	tw_timers_init(&ts);
	for (int i = 0; i < 10; i++) {
		owner_init(&o[i], i, &ts, &log);
		tw_timer_arm(&ts, &o[i].t, 100 + (uint64_t)i);
	}
	/* the root (earliest) and inner nodes */
	for (int i = 0; i < 10; i += 2)
		tw_timer_cancel(&ts, &o[i].t);
	tw_timer_cancel(&ts, &o[4].t); /* twice: no-op */
	assert_false(tw_timer_armed(&o[0].t));
	assert_true(tw_timer_armed(&o[1].t));
	assert_int_equal(tw_timers_count(&ts), 5);
	assert_int_equal(ts.cancelled_total, 5);
	assert_int_equal(tw_timers_next(&ts), 101);
	assert_int_equal(tw_timers_run(&ts, 1000), 5);
	assert_int_equal(log.n, 5);
	for (int i = 0; i < 5; i++)
		assert_int_equal(log.id[i], 2 * i + 1);
	/* cancel everything, then nothing fires */
	for (int i = 0; i < 10; i++)
		tw_timer_arm(&ts, &o[i].t, 2000);
	for (int i = 9; i >= 0; i--)
		tw_timer_cancel(&ts, &o[i].t);
	assert_int_equal(tw_timers_count(&ts), 0);
	assert_int_equal(tw_timers_run(&ts, 5000), 0);
}

static void test_rearm_moves(void **state)
{
	struct tw_timers ts;
	struct fired_log log = {0};
	struct owner a, b, c;

	tw_timers_init(&ts);
	owner_init(&a, 1, &ts, &log);
	owner_init(&b, 2, &ts, &log);
	owner_init(&c, 3, &ts, &log);
	tw_timer_arm(&ts, &a.t, 10);
	tw_timer_arm(&ts, &b.t, 20);
	tw_timer_arm(&ts, &c.t, 30);
	tw_timer_arm(&ts, &a.t, 40); /* later */
	tw_timer_arm(&ts, &c.t, 5);  /* earlier */
	assert_int_equal(tw_timers_count(&ts), 3);
	assert_int_equal(tw_timers_next(&ts), 5);
	assert_int_equal(tw_timers_run(&ts, 100), 3);
	assert_int_equal(log.id[0], 3);
	assert_int_equal(log.id[1], 2);
	assert_int_equal(log.id[2], 1);
}

/* A periodic timer made by re-arming from the callback. */
static void test_rearm_from_callback(void **state)
{
	struct tw_timers ts;
	struct fired_log log = {0};
	struct owner p;
	uint64_t now = 0;

	tw_timers_init(&ts);
	owner_init(&p, 7, &ts, &log);
	p.rearm_delta = 10;
	p.rearm_left = 3;
	tw_timer_arm(&ts, &p.t, 10);
	for (now = 0; now <= 100; now += 5)
		tw_timers_run(&ts, now);
	assert_int_equal(log.n, 4);
	for (int i = 0; i < 4; i++)
		assert_int_equal(log.at[i], 10 * (uint64_t)(i + 1));
	assert_false(tw_timer_armed(&p.t));
}

/* Re-armed at "now" from its callback: fires at the next run, not this one,
 * while older due timers still fire in this run. */
static void test_rearm_now_no_loop(void **state)
{
	struct tw_timers ts;
	struct fired_log log = {0};
	struct owner p, q;

	tw_timers_init(&ts);
	owner_init(&p, 1, &ts, &log);
	owner_init(&q, 2, &ts, &log);
	p.rearm_delta = 0;
	p.rearm_left = 1000;
	tw_timer_arm(&ts, &p.t, 10);
	tw_timer_arm(&ts, &q.t, 11);
	assert_int_equal(tw_timers_run(&ts, 50), 2);
	assert_int_equal(log.id[0], 1);
	assert_int_equal(log.id[1], 2);
	assert_true(tw_timer_armed(&p.t));
	assert_int_equal(tw_timers_next(&ts), 50); /* due, for the next run */
	assert_int_equal(tw_timers_run(&ts, 50), 1);
	assert_int_equal(tw_timers_run(&ts, 50), 1);
	assert_int_equal(log.n, 4);
	assert_int_equal(log.id[3], 1);
	tw_timer_cancel(&ts, &p.t);
	assert_int_equal(tw_timers_run(&ts, 50), 0);
}

/* A callback cancels a timer due in the same run and arms another one that
 * is due but earlier than the rest: the run stops there (the new timer may
 * not fire in this run) and the next run keeps global deadline order. */
static void test_cancel_and_arm_from_callback(void **state)
{
	struct tw_timers ts;
	struct fired_log log = {0};
	struct owner a, b, c, d;

	tw_timers_init(&ts);
	owner_init(&a, 1, &ts, &log);
	owner_init(&b, 2, &ts, &log);
	owner_init(&c, 3, &ts, &log);
	owner_init(&d, 4, &ts, &log);
	a.cancel_other = &b.t;
	a.arm_other = &d.t;
	a.arm_other_at = 15;
	tw_timer_arm(&ts, &a.t, 10);
	tw_timer_arm(&ts, &b.t, 20);
	tw_timer_arm(&ts, &c.t, 30);
	assert_int_equal(tw_timers_run(&ts, 100), 1);
	assert_int_equal(log.id[0], 1);
	assert_false(tw_timer_armed(&b.t));
	assert_true(tw_timer_armed(&d.t));
	assert_int_equal(tw_timers_next(&ts), 15);
	assert_int_equal(tw_timers_run(&ts, 100), 2);
	assert_int_equal(log.id[1], 4); /* d (15) before c (30) */
	assert_int_equal(log.id[2], 3);
	assert_int_equal(log.n, 3);
	/* a callback cancelling itself after re-arming */
	c.rearm_left = 1;
	c.rearm_delta = 1;
	c.cancel_other = &c.t;
	tw_timer_arm(&ts, &c.t, 200);
	assert_int_equal(tw_timers_run(&ts, 300), 1);
	assert_false(tw_timer_armed(&c.t));
	assert_int_equal(tw_timers_count(&ts), 0);
}

/* Random operations against a reference that scans every timer. */
#define NT 600
static struct owner rnd_o[NT];
static struct fired_log rnd_log;

static void test_random_vs_reference(void **state)
{
	struct tw_timers ts;
	uint64_t now = 0;
	/* reference copy of (armed, deadline, order) */
	bool armed[NT] = {false};
	uint64_t dl[NT], ord[NT], seq = 0;
	size_t fired = 0;

	rng_state = 0x1234567887654321ULL;
	tw_timers_init(&ts);
	for (int i = 0; i < NT; i++)
		owner_init(&rnd_o[i], i, &ts, &rnd_log);

	for (int op = 0; op < 100000; op++) {
		uint64_t r = rng();
		int i = (int)((r >> 8) % NT);

		switch (r % 8) {
		case 0: case 1: case 2: case 3: { /* arm or re-arm */
			uint64_t d = now + (rng() % 1000);
			if (rng() % 16 == 0)
				d = now - (now ? rng() % (now + 1) : 0); /* in the past */
			tw_timer_arm(&ts, &rnd_o[i].t, d);
			armed[i] = true;
			dl[i] = d;
			ord[i] = seq++;
			break;
		}
		case 4: case 5:
			tw_timer_cancel(&ts, &rnd_o[i].t);
			armed[i] = false;
			break;
		default: { /* advance and run */
			size_t due = 0;
			now += rng() % 200;
			rnd_log.n = 0;
			size_t n = tw_timers_run(&ts, now);
			/* every due timer fires, in (deadline, order) order */
			for (int k = 0; k < NT; k++)
				if (armed[k] && dl[k] <= now)
					due++;
			assert_int_equal(n, due);
			assert_int_equal(rnd_log.n, (int)due);
			for (int k = 0; k < rnd_log.n; k++) {
				int id = rnd_log.id[k];
				assert_true(armed[id]);
				assert_true(dl[id] <= now);
				if (k > 0) {
					int p = rnd_log.id[k - 1];
					assert_true(dl[p] < dl[id] || (dl[p] == dl[id] && ord[p] < ord[id]));
				}
			}
			for (int k = 0; k < rnd_log.n; k++)
				armed[rnd_log.id[k]] = false;
			fired += n;
			break;
		}
		}
		/* heap agrees with the reference on count and minimum */
		size_t cnt = 0;
		uint64_t min = TW_TIME_NEVER;
		for (int k = 0; k < NT; k++) {
			if (armed[k]) {
				cnt++;
				if (dl[k] < min)
					min = dl[k];
			}
			if (op % 1000 == 0)
				assert_int_equal(tw_timer_armed(&rnd_o[k].t), armed[k]);
		}
		assert_int_equal(tw_timers_count(&ts), cnt);
		assert_int_equal(tw_timers_next(&ts), min);
	}
	assert_true(fired > 10000);
	assert_int_equal(ts.fired_total, fired);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_clock_fake),
		cmocka_unit_test(test_clock_mono),
		cmocka_unit_test(test_order_and_due_only),
		cmocka_unit_test(test_cancel),
		cmocka_unit_test(test_rearm_moves),
		cmocka_unit_test(test_rearm_from_callback),
		cmocka_unit_test(test_rearm_now_no_loop),
		cmocka_unit_test(test_cancel_and_arm_from_callback),
		cmocka_unit_test(test_random_vs_reference),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
