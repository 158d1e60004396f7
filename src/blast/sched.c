/*
 * sched.c - blast's absolute send schedule (see sched.h). Deadlines are
 * computed from counts since the start (packets, bytes, capture time), never
 * by adding intervals, so rounding does not accumulate. Pure.
 */
#include "blast/sched.h"

#include <errno.h>

#define NS 1e9

int tw_sched_init(struct tw_sched *s, enum tw_sched_mode mode, double rate)
{
	*s = (struct tw_sched){.mode = mode, .rate = rate, .pass_start = true};
	if (mode != TW_SCHED_TOP && !(rate > 0 && rate < 1e15))
		return -EINVAL;
	return 0;
}

void tw_sched_pass(struct tw_sched *s)
{
	s->pass_start = true;
}

static uint64_t ns_of(double v)
{
	return v >= 1.8e19 ? UINT64_MAX : (uint64_t)(v + 0.5);
}

uint64_t tw_sched_next(struct tw_sched *s, int64_t ts_ns, uint32_t len)
{
	uint64_t d = 0;

	switch (s->mode) {
	case TW_SCHED_MULT:
		if (s->pass_start) {
			s->ts0 = ts_ns;
			s->base = s->last;
		}
		d = s->base + (ts_ns > s->ts0 ? ns_of((double)(ts_ns - s->ts0) / s->rate) : 0);
		break;
	case TW_SCHED_PPS:
		d = ns_of((double)s->npkts * NS / s->rate);
		break;
	case TW_SCHED_MBPS:
		d = ns_of((double)s->nbytes * 8.0 * NS / (s->rate * 1e6));
		break;
	case TW_SCHED_TOP:
		d = 0;
		break;
	}
	s->pass_start = false;
	s->npkts++;
	s->nbytes += len;
	if (d < s->last)
		d = s->last;
	s->last = d;
	return d;
}
