/*
 * sched.h - the send schedule of `tcptwin blast`: for every packet, the time
 * (ns after the start) at which it is due, on an absolute schedule so that
 * waiting late for one packet never shifts the later ones (no drift).
 *
 * Modes, as tcpreplay's: the capture's own timing divided by a multiplier
 * (-x), a fixed packet rate (-p), a fixed bit rate (-M, counting frame
 * bytes), or top speed (-t: everything is due at once). Passes over the
 * input (files, loops) follow each other on the schedule: with -x the next
 * pass starts where the last packet of the previous one was due.
 * Pure: no clock is read here; the caller compares deadlines with its clock
 * (tests use a fake one). Does not sleep or send.
 */
#ifndef TW_BLAST_SCHED_H
#define TW_BLAST_SCHED_H

#include <stdbool.h>
#include <stdint.h>

enum tw_sched_mode {
	TW_SCHED_MULT = 0,   /* capture timing / multiplier (1.0 = as recorded) */
	TW_SCHED_PPS,
	TW_SCHED_MBPS,
	TW_SCHED_TOP,
};

struct tw_sched {
	enum tw_sched_mode mode;
	double rate;            /* multiplier, packets/s or Mbit/s */
	uint64_t npkts;         /* packets scheduled so far */
	uint64_t nbytes;        /* bytes scheduled so far */
	bool pass_start;        /* the next packet is the first of a pass */
	int64_t ts0;            /* capture time (ns) of the pass's first packet */
	uint64_t base;          /* where the pass starts on the schedule */
	uint64_t last;          /* the last deadline given */
};

/* RATE must be > 0 for MULT, PPS and MBPS (ignored for TOP). 0 or -EINVAL. */
int tw_sched_init(struct tw_sched *s, enum tw_sched_mode mode, double rate);
/* The next packet starts a new pass over the input (a file or a loop). */
void tw_sched_pass(struct tw_sched *s);
/* Deadline (ns after the start) of the next packet, captured at TS_NS
 * (capture time in ns, used by MULT only), LEN bytes on the wire. Deadlines
 * never decrease (a capture whose time steps back is sent at once). */
uint64_t tw_sched_next(struct tw_sched *s, int64_t ts_ns, uint32_t len);

#endif
