/*
 * clock.h - monotonic time in nanoseconds, read once per loop iteration.
 *
 * A struct tw_clock caches "now": tw_clock_update() reads the source (the
 * kernel's CLOCK_MONOTONIC, or a fake clock for tests) and tw_clock_now()
 * returns the cached value, so one event-loop iteration sees one time and
 * costs one clock read. Time is a plain uint64_t count of nanoseconds from an
 * arbitrary origin; it never goes backwards (the cache enforces it even if a
 * fake source does).
 * Does not know wall-clock time, time zones or timers (see timer.h).
 */
#ifndef TW_CORE_CLOCK_H
#define TW_CORE_CLOCK_H

#include <stdint.h>

#define TW_NSEC_PER_USEC 1000ULL
#define TW_NSEC_PER_MSEC 1000000ULL
#define TW_NSEC_PER_SEC 1000000000ULL

/* A time source: returns nanoseconds. */
typedef uint64_t (*tw_clock_source_fn)(void *arg);

struct tw_clock {
	tw_clock_source_fn read; /* NULL: CLOCK_MONOTONIC */
	void *arg;
	uint64_t now;  /* cached by tw_clock_update */
	uint64_t fake; /* the fake source's time (tw_clock_init_fake) */
};

/* CLOCK_MONOTONIC in ns, read now (one vDSO call, no syscall on x86-64). */
uint64_t tw_clock_mono_ns(void);

/* Clock backed by CLOCK_MONOTONIC; the cache is filled at once. */
void tw_clock_init(struct tw_clock *c);
/* Clock backed by SRC(ARG); the cache is filled at once. */
void tw_clock_init_source(struct tw_clock *c, tw_clock_source_fn src, void *arg);
/* Fake clock starting at START ns, moved only by tw_clock_fake_set/_advance. */
void tw_clock_init_fake(struct tw_clock *c, uint64_t start);
/* Fake clock only: move its source time (the cache changes on update). */
void tw_clock_fake_set(struct tw_clock *c, uint64_t ns);
void tw_clock_fake_advance(struct tw_clock *c, uint64_t ns);

/* Read the source into the cache and return it; never smaller than before. */
uint64_t tw_clock_update(struct tw_clock *c);

/* The cached time of the last tw_clock_update. */
static inline uint64_t tw_clock_now(const struct tw_clock *c)
{
	return c->now;
}

#endif
