/*
 * pace.c - the release rule of a replayed session (see pace.h).
 */
#include "copy/pace.h"
#include "copy/segq.h"
#include "copy/sess.h"
#include "pkt/decode.h"

void tw_pace_init(struct tw_pace *p, uint64_t now)
{
	*p = (struct tw_pace){.wait_since = now};
}

void tw_pace_base(struct tw_pace *p, uint32_t ack)
{
	if (p->have_base)
		return;
	p->have_base = true;
	p->base_ack = ack;
}

static uint32_t seg_end(const struct tw_seg *c)
{
	return c->seq + c->len + ((c->flags & (TW_SEG_FIN | TW_SEG_RST)) ? 1u : 0u);
}

uint64_t tw_pace_release(struct tw_pace *p, const struct tw_sess_cfg *cfg, struct tw_sess_stats *st,
			 const struct tw_segq *q, uint32_t *rel, uint64_t resp, uint64_t now)
{
	for (;;) {
		struct tw_seg *c = tw_segq_find(q, *rel);
		uint64_t got, need, deadline;

		if (!c)
			return 0;
		if (c->has_ack)
			tw_pace_base(p, c->rec_ack);
		if (c->has_ack && (int32_t)(c->rec_ack - p->base_ack) > 0) {
			need = c->rec_ack - p->base_ack;
			got = resp - p->resp_at_release;
			if (got >= need) {
				st->releases_acked++;
			} else if (got > 0 && now >= p->last_reply + cfg->settle_ns) {
				st->releases_settled++;
			} else if (now >= p->wait_since + cfg->req_timeout_ns) {
				st->releases_timeout++;
			} else {
				deadline = p->wait_since + cfg->req_timeout_ns;
				if (got > 0 && p->last_reply + cfg->settle_ns < deadline)
					deadline = p->last_reply + cfg->settle_ns;
				return deadline;
			}
			p->base_ack = c->rec_ack;
			p->resp_at_release = resp;
			p->cuts++;
		}
		*rel = seg_end(c);
		p->wait_since = now;
	}
}

int tw_pace_take(struct tw_pace *p, struct tw_segq *q, struct tw_pool *segs, const struct tw_pkt *pkt,
		 uint32_t max_ooo)
{
	uint8_t flags = 0;

	if (pkt->flags & TW_TH_FIN)
		flags |= TW_SEG_FIN;
	if (pkt->flags & TW_TH_RST)
		flags |= TW_SEG_RST;
	if (pkt->flags & TW_TH_PSH)
		flags |= TW_SEG_PSH;
	if (pkt->flags & TW_TH_ACK)
		tw_pace_base(p, pkt->ack);
	return tw_segq_add(q, segs, pkt->seq, pkt->payload, (uint32_t)pkt->payload_len, flags, pkt->ack,
			   (pkt->flags & TW_TH_ACK) != 0, max_ooo);
}
