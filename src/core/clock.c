/*
 * clock.c - CLOCK_MONOTONIC and fake time sources behind struct tw_clock.
 * Does not sleep or arm anything.
 */
#include "core/clock.h"

#include <stddef.h>
#include <time.h>

uint64_t tw_clock_mono_ns(void)
{
	struct timespec ts;

	/* CLOCK_MONOTONIC cannot fail with a valid pointer (clock_gettime(2)):
	 * no error path. Not CLOCK_MONOTONIC_RAW, which is not served by the
	 * vDSO on every kernel and would cost a syscall per read. */
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * TW_NSEC_PER_SEC + (uint64_t)ts.tv_nsec;
}

static uint64_t fake_source(void *arg)
{
	const struct tw_clock *c = arg;

	return c->fake;
}

void tw_clock_init_source(struct tw_clock *c, tw_clock_source_fn src, void *arg)
{
	c->read = src;
	c->arg = arg;
	c->now = 0;
	c->fake = 0;
	tw_clock_update(c);
}

void tw_clock_init(struct tw_clock *c)
{
	tw_clock_init_source(c, NULL, NULL);
}

void tw_clock_init_fake(struct tw_clock *c, uint64_t start)
{
	c->read = fake_source;
	c->arg = c;
	c->fake = start;
	c->now = start;
}

void tw_clock_fake_set(struct tw_clock *c, uint64_t ns)
{
	c->fake = ns;
}

void tw_clock_fake_advance(struct tw_clock *c, uint64_t ns)
{
	c->fake += ns;
}

uint64_t tw_clock_update(struct tw_clock *c)
{
	uint64_t t = c->read ? c->read(c->arg) : tw_clock_mono_ns();

	if (t > c->now)
		c->now = t;
	return c->now;
}
