/*
 * loop.h - the per-thread event loop: epoll for file descriptors, a timer
 * heap for deadlines, an eventfd to wake it from other threads or signal
 * handlers, and a cached monotonic clock.
 *
 * One iteration: read the clock, fire due timers, wait in epoll_pwait2 for
 * at most the time to the next deadline (ns resolution; on kernels before
 * 5.11 epoll_wait, rounded up to a millisecond so the loop never wakes early
 * and spins), read the clock again, call the callbacks of ready
 * descriptors. Registrations (struct tw_io) and timers
 * (struct tw_timer) are embedded in the caller's structs: after tw_loop_new
 * nothing allocates, whatever the number of events or timers.
 * Callbacks may start, stop or re-arm any descriptor or timer, and may free
 * the struct holding a stopped tw_io: events still pending for it in the
 * current batch are dropped, never delivered.
 * Not thread-safe except tw_loop_wakeup and tw_loop_stop. Does not own the
 * descriptors (never closes them) and does not handle signals itself.
 */
#ifndef TW_CORE_LOOP_H
#define TW_CORE_LOOP_H

#include <stdbool.h>
#include <stdint.h>

#include "core/clock.h"
#include "core/timer.h"

struct tw_loop;
struct tw_io;

/* Event bits: requested in tw_loop_io_start, reported to callbacks.
 * ERR and HUP are always reported, never requested; ET only requested. */
enum {
	TW_IO_IN = 1u << 0,  /* readable (EPOLLIN, EPOLLPRI) */
	TW_IO_OUT = 1u << 1, /* writable (EPOLLOUT) */
	TW_IO_ERR = 1u << 2, /* EPOLLERR */
	TW_IO_HUP = 1u << 3, /* EPOLLHUP or EPOLLRDHUP */
	TW_IO_ET = 1u << 4,  /* edge-triggered (EPOLLET) */
};

typedef void (*tw_io_fn)(struct tw_io *io, unsigned revents, void *arg);
typedef void (*tw_loop_wake_fn)(struct tw_loop *loop, void *arg);

struct tw_io {
	int fd;
	unsigned events; /* as last given to tw_loop_io_start */
	bool active;     /* registered with epoll */
	tw_io_fn cb;
	void *arg;
};

struct tw_loop_stats {
	uint64_t iterations;
	uint64_t io_events;    /* callbacks of descriptors called */
	uint64_t timers_fired;
	uint64_t wakeups;      /* eventfd reads (several tw_loop_wakeup may merge) */
	uint64_t eintr;        /* epoll_wait interrupted by a signal */
	uint64_t dropped;      /* pending events dropped for stopped tw_io */
};

/* A loop whose epoll_wait returns at most MAX_EVENTS (0: 256) per call.
 * Returns NULL and sets errno on failure. */
struct tw_loop *tw_loop_new(unsigned max_events);
/* Closes the epoll and eventfd descriptors; NULL is accepted. Registered
 * tw_io and armed timers are forgotten, not called. */
void tw_loop_free(struct tw_loop *loop);

/* The loop's clock, e.g. to make it fake in tests (tw_clock_init_source). */
struct tw_clock *tw_loop_clock(struct tw_loop *loop);
/* Cached time of this iteration (ns, CLOCK_MONOTONIC unless replaced). */
uint64_t tw_loop_now(const struct tw_loop *loop);
/* The loop's timer set (for counters, or tw_timers_next). */
struct tw_timers *tw_loop_timers(struct tw_loop *loop);

/* Prepare IO for descriptor FD; call once before tw_loop_io_start. */
void tw_io_init(struct tw_io *io, int fd, tw_io_fn cb, void *arg);
/* Watch IO for EVENTS (TW_IO_IN | TW_IO_OUT, optionally TW_IO_ET); a watched
 * IO has its events replaced. Returns 0 or -errno (epoll_ctl's). */
int tw_loop_io_start(struct tw_loop *loop, struct tw_io *io, unsigned events);
/* Stop watching IO (call before closing its fd). Not watched: no-op.
 * Returns 0 or -errno; the IO is stopped either way. */
int tw_loop_io_stop(struct tw_loop *loop, struct tw_io *io);

/* Timers on the loop's clock (see timer.h for the rules). */
void tw_loop_timer_at(struct tw_loop *loop, struct tw_timer *t, uint64_t deadline);
void tw_loop_timer_after(struct tw_loop *loop, struct tw_timer *t, uint64_t delay_ns);
void tw_loop_timer_cancel(struct tw_loop *loop, struct tw_timer *t);

/* Called (in the loop's thread) after the eventfd was signalled. */
void tw_loop_set_wake_cb(struct tw_loop *loop, tw_loop_wake_fn cb, void *arg);
/* Wake the loop from any thread or a signal handler: async-signal-safe
 * (one write(2) to the eventfd; errno is preserved). */
void tw_loop_wakeup(struct tw_loop *loop);
/* Make tw_loop_run return after the current iteration; async-signal-safe.
 * A stop requested while the loop is not running ends the next run at once. */
void tw_loop_stop(struct tw_loop *loop);

/* Run iterations until tw_loop_stop. Returns 0 when stopped, or -errno if
 * epoll_wait fails (EINTR is counted and retried). */
int tw_loop_run(struct tw_loop *loop);
/* One iteration; BLOCK false polls without waiting. With BLOCK, waits for a
 * descriptor or the next deadline only if no timer fired at the start of the
 * iteration (so it returns after doing some work). Returns the number of
 * callbacks called (descriptors and timers) or -errno. */
int tw_loop_run_once(struct tw_loop *loop, bool block);

/* Use epoll_wait (millisecond timeouts) even where epoll_pwait2 exists, as
 * on kernels before 5.11: lets tests cover that path. */
void tw_loop_use_epoll_wait(struct tw_loop *loop);

void tw_loop_get_stats(const struct tw_loop *loop, struct tw_loop_stats *out);

#endif
