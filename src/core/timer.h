/*
 * timer.h - one-shot timers ordered by deadline, embedded in their owners.
 *
 * A struct tw_timer lives inside the caller's struct (a session, a channel),
 * so arming, re-arming and cancelling never allocate. The set of armed timers
 * is an intrusive pairing heap: arm is O(1), cancel and expiry are
 * O(log n) amortised, and timers fire strictly in order of (deadline, order
 * of arming), so equal deadlines fire first-armed first.
 *
 * Time is whatever the caller passes (nanoseconds of tw_clock in practice);
 * the module never reads a clock itself, which makes it testable with a fake
 * one. Callbacks may arm, re-arm or cancel any timer, their own included; a
 * timer armed while tw_timers_run() is running never fires in that same run
 * (so a callback that re-arms itself "now" cannot loop forever).
 * Not thread-safe: one struct tw_timers per thread. Does not do periodic
 * timers (re-arm from the callback) or time-outs in epoll (see loop.h).
 */
#ifndef TW_CORE_TIMER_H
#define TW_CORE_TIMER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifndef TW_CONTAINER_OF
/* The struct of TYPE whose MEMBER is at PTR. */
#define TW_CONTAINER_OF(ptr, type, member) ((type *)(void *)((char *)(ptr) - offsetof(type, member)))
#endif

#define TW_TIME_NEVER UINT64_MAX

struct tw_timer;
/* Called with the timer already disarmed; NOW is the time given to
 * tw_timers_run. */
typedef void (*tw_timer_fn)(struct tw_timer *t, uint64_t now, void *arg);

struct tw_timer {
	uint64_t deadline;
	uint64_t order; /* arming sequence: breaks ties, marks timers armed during a run */
	struct tw_timer *child, *next, *prev; /* heap links; prev is the parent for a first child */
	tw_timer_fn cb;
	void *arg;
	bool armed;
};

struct tw_timers {
	struct tw_timer *root;
	uint64_t next_order;
	size_t count; /* armed timers */
	/* counters */
	uint64_t armed_total;
	uint64_t cancelled_total;
	uint64_t fired_total;
};

/* Empty timer set. */
void tw_timers_init(struct tw_timers *ts);

/* Prepare T (disarmed) with its callback; call once before first use. */
void tw_timer_init(struct tw_timer *t, tw_timer_fn cb, void *arg);

/* Arm T to fire at DEADLINE; an armed T is moved (re-armed). A deadline in
 * the past fires at the next tw_timers_run. */
void tw_timer_arm(struct tw_timers *ts, struct tw_timer *t, uint64_t deadline);

/* Disarm T; nothing happens if it is not armed. */
void tw_timer_cancel(struct tw_timers *ts, struct tw_timer *t);

static inline bool tw_timer_armed(const struct tw_timer *t)
{
	return t->armed;
}

/* Earliest deadline, or TW_TIME_NEVER when nothing is armed. */
static inline uint64_t tw_timers_next(const struct tw_timers *ts)
{
	return ts->root ? ts->root->deadline : TW_TIME_NEVER;
}

static inline size_t tw_timers_count(const struct tw_timers *ts)
{
	return ts->count;
}

/* Fire, in order, every timer with deadline <= NOW that was armed before this
 * call started. Returns how many fired. */
size_t tw_timers_run(struct tw_timers *ts, uint64_t now);

#endif
