/*
 * pace.h - the release rule of a replayed session (DESIGN.md section 4.1),
 * shared by raw sessions (sess.c) and socket sessions (ssess.c).
 *
 * A captured client segment carries the captured client's ACK: how many
 * response bytes the real client had received when it sent it. The segment
 * is released once the target has sent at least as many response bytes
 * since the previous release, or the target's reply went quiet after
 * sending something (settle time), or a per-request timeout passed.
 * Pure: no clock, no syscalls; counts releases in the session statistics.
 */
#ifndef TW_COPY_PACE_H
#define TW_COPY_PACE_H

#include <stdbool.h>
#include <stdint.h>

struct tw_pkt;
struct tw_pool;
struct tw_segq;
struct tw_sess_cfg;
struct tw_sess_stats;

struct tw_pace {
	bool have_base;
	uint32_t base_ack;               /* captured ACK at the last release */
	uint64_t resp_at_release;        /* response seen at the last release */
	uint64_t wait_since;             /* the current gate started waiting */
	uint64_t last_reply;             /* time of the last response payload */
	uint32_t cuts;                   /* releases of a new request (exchange boundaries) */
};

void tw_pace_init(struct tw_pace *p, uint64_t now);
/* The first captured ACK of the session, if none was seen yet. */
void tw_pace_base(struct tw_pace *p, uint32_t ack);
/* Response payload arrived at NOW. */
static inline void tw_pace_reply(struct tw_pace *p, uint64_t now)
{
	p->last_reply = now;
}
/*
 * Release the chunks of Q from *REL on while the rule allows; RESP is what
 * the target has sent so far as a recorded ACK counts it (payload bytes,
 * plus one for its FIN). Advances *REL. Returns the time at which the
 * waiting chunk may go without more response (0: nothing is waiting).
 */
uint64_t tw_pace_release(struct tw_pace *p, const struct tw_sess_cfg *cfg, struct tw_sess_stats *st,
			 const struct tw_segq *q, uint32_t *rel, uint64_t resp, uint64_t now);

/* Queue one captured client packet P (payload, FIN/RST/PSH, recorded ACK)
 * in Q; returns tw_segq_add's result (> 0: new in-order bytes). */
int tw_pace_take(struct tw_pace *p, struct tw_segq *q, struct tw_pool *segs, const struct tw_pkt *pkt,
		 uint32_t max_ooo);

#endif
