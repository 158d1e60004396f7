/*
 * sess.c - the client side of one replayed TCP conversation (see sess.h):
 * handshake, pacing on recorded acknowledgements, sending within the
 * target's window, retransmission, close, and the session's outcome.
 * Pure: no syscalls, no logging, no allocation (chunks come from a pool).
 */
#include "copy/sess.h"
#include "copy/pace.h"
#include "core/pool.h"
#include "pkt/decode.h"
#include "pkt/forge.h"
#include "relay/wire.h"

#include <string.h>

#define NS_PER_MS 1000000ull
#define OUR_WIN 65535u
#define OUR_WSCALE 7
#define PAYLOAD_OFF 128 /* headers are built in front of the payload in scratch */

static const char *const outcome_names[TW_OUT_MAX] = {
	[TW_OUT_NONE] = "none",           [TW_OUT_DONE] = "done",
	[TW_OUT_RESET] = "reset_by_target", [TW_OUT_GAP] = "gap",
	[TW_OUT_TIMEOUT] = "timeout",     [TW_OUT_NO_SYNACK] = "no_synack",
	[TW_OUT_SEND_ERROR] = "send_error", [TW_OUT_TRUNCATED] = "truncated",
};

const char *tw_outcome_name(enum tw_outcome o)
{
	return o < TW_OUT_MAX ? outcome_names[o] : "unknown";
}

void tw_sess_cfg_init(struct tw_sess_cfg *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->mss = 1460;
	cfg->settle_ns = 50 * NS_PER_MS;
	cfg->req_timeout_ns = 2000 * NS_PER_MS;
	cfg->rto_min_ns = 200 * NS_PER_MS;
	cfg->rto_max_ns = 3200 * NS_PER_MS;
	cfg->max_retries = 6;
	cfg->gap_ns = 3000 * NS_PER_MS;
	cfg->close_ns = 2000 * NS_PER_MS;
	cfg->max_ooo = 64;
}

static void try_release(struct tw_sess *s, uint64_t now);
static bool try_send(struct tw_sess *s, uint64_t now);

/* Build and emit one segment. PAYLOAD (LEN bytes) must already sit at
 * scratch + PAYLOAD_OFF when LEN > 0. Returns 0 or the emit error. */
static int send_seg(struct tw_sess *s, uint32_t seq, uint16_t flags, size_t len, uint64_t now)
{
	const struct tw_sess_env *env = s->env;
	struct tw_tcp_opts o;
	uint8_t opt[40];
	int olen, plen, rc;

	memset(&o, 0, sizeof(o));
	if (flags & TW_TH_SYN) {
		o.has_mss = true;
		o.mss = env->cfg->mss;
		o.has_wscale = true;
		o.wscale = OUR_WSCALE;
	}
	if (s->ts_on) {
		o.has_ts = true;
		o.ts_val = (uint32_t)(now / NS_PER_MS);
		o.ts_ecr = (flags & TW_TH_SYN) ? 0 : s->ts_recent;
	}
	olen = tw_forge_tcp_opts(opt, sizeof(opt), &o);
	if (olen < 0)
		olen = 0;
	struct tw_forge_tcp f = {
		.ipver = s->ipver,
		.src = s->caddr,
		.dst = s->taddr,
		.sport = s->cport,
		.dport = s->tport,
		.seq = seq,
		.ack = (flags & TW_TH_ACK) ? s->rcv_nxt : 0,
		.flags = flags,
		.win = OUR_WIN,
		.ttl = 64,
		.ip_id = s->ip_id++,
		.df = 1,
		.opt = opt,
		.opt_len = (size_t)olen,
		.payload = len ? env->scratch + PAYLOAD_OFF : NULL,
		.payload_len = len,
	};
	/* the packet is built in a second area after the payload area */
	uint8_t *out = env->scratch + PAYLOAD_OFF + 65536;
	plen = tw_forge_tcp(out, TW_SESS_SCRATCH - PAYLOAD_OFF - 65536, &f);
	rc = plen < 0 ? plen : env->emit(env->ctx, s, out, (size_t)plen);
	s->send_failed = rc < 0;
	if (rc < 0) {
		env->st->send_errors++;
		return rc;
	}
	env->st->pkts_sent++;
	return 0;
}

static void finish(struct tw_sess *s, enum tw_outcome out, bool rst, uint64_t now)
{
	const struct tw_sess_env *env = s->env;

	if (s->state == TW_SS_CLOSED)
		return;
	if (s->state == TW_SS_SYN_SENT)
		env->st->connecting--;
	if (rst && s->state == TW_SS_ESTABLISHED)
		(void)send_seg(s, s->snd_nxt, TW_TH_RST | TW_TH_ACK, 0, now);
	s->state = TW_SS_CLOSED;
	s->outcome = out;
	tw_timer_cancel(env->timers, &s->t_rto);
	tw_timer_cancel(env->timers, &s->t_pace);
	tw_timer_cancel(env->timers, &s->t_gap);
	tw_segq_clear(&s->q, env->segs);
	env->st->outcomes[out]++;
	env->done(env->ctx, s);
}

static void arm_rto(struct tw_sess *s, uint64_t now)
{
	tw_timer_arm(s->env->timers, &s->t_rto, now + s->rto);
}

static void on_rto(struct tw_timer *t, uint64_t now, void *arg)
{
	struct tw_sess *s = arg;
	const struct tw_sess_cfg *cfg = s->env->cfg;

	(void)t;
	if (++s->retries > cfg->max_retries) {
		finish(s, s->send_failed ? TW_OUT_SEND_ERROR
			  : s->state == TW_SS_SYN_SENT ? TW_OUT_NO_SYNACK : TW_OUT_TIMEOUT,
		       true, now);
		return;
	}
	s->rto = s->rto * 2 > cfg->rto_max_ns ? cfg->rto_max_ns : s->rto * 2;
	if (s->state == TW_SS_SYN_SENT) {
		(void)send_seg(s, s->isn, TW_TH_SYN, 0, now);
		s->env->st->retrans++;
		arm_rto(s, now);
		return;
	}
	s->snd_nxt = s->snd_una; /* go back: resend from the oldest unacknowledged byte */
	if (!try_send(s, now))
		arm_rto(s, now);
}

/* Everything captured, including the close, is acknowledged. */
static bool all_acked(const struct tw_sess *s)
{
	return s->q.fin && s->snd_una == s->q.next && s->rel == s->q.next;
}

static void check_close(struct tw_sess *s, uint64_t now)
{
	if (s->state != TW_SS_ESTABLISHED || !all_acked(s))
		return;
	if (s->t_fin) {
		finish(s, TW_OUT_DONE, false, now);
		return;
	}
	if (!s->fin_acked_at) {
		s->fin_acked_at = now;
		tw_timer_arm(s->env->timers, &s->t_pace, now + s->env->cfg->close_ns);
	}
}

static void on_pace(struct tw_timer *t, uint64_t now, void *arg)
{
	struct tw_sess *s = arg;

	(void)t;
	if (s->fin_acked_at && now >= s->fin_acked_at + s->env->cfg->close_ns) {
		/* our close is acknowledged; the target keeps its side open */
		finish(s, TW_OUT_DONE, true, now);
		return;
	}
	try_release(s, now);
	(void)try_send(s, now);
}

static void on_gap(struct tw_timer *t, uint64_t now, void *arg)
{
	struct tw_sess *s = arg;

	(void)t;
	if (s->q.ooo)
		finish(s, TW_OUT_GAP, true, now);
}

/* What the target has sent so far in the terms of a recorded ACK: its
 * payload bytes, plus one for its FIN (a client's ACK counts the FIN too). */
static uint64_t resp_seen(const struct tw_sess *s)
{
	return s->resp + (s->t_fin ? 1u : 0u);
}

/* Release captured chunks whose turn has come (see pace.h). */
static void try_release(struct tw_sess *s, uint64_t now)
{
	uint64_t deadline = tw_pace_release(&s->pace, s->env->cfg, s->env->st, &s->q, &s->rel,
					    resp_seen(s), now);

	if (deadline && !s->fin_acked_at)
		tw_timer_arm(s->env->timers, &s->t_pace, deadline);
	while (s->cuts_seen != s->pace.cuts) {
		s->cuts_seen++;
		if (s->env->cut)
			s->env->cut(s->env->ctx, s);
	}
}

/* Send what pacing released and the window allows. True if anything went. */
static bool try_send(struct tw_sess *s, uint64_t now)
{
	const struct tw_sess_env *env = s->env;
	uint32_t mss = env->cfg->mss;
	bool sent = false;

	if (s->state != TW_SS_ESTABLISHED)
		return false;
	if (s->t_mss && s->t_mss < mss)
		mss = s->t_mss;
	while (tw_seq_lt(s->snd_nxt, s->rel)) {
		struct tw_seg *c = tw_segq_find(&s->q, s->snd_nxt);
		uint32_t inflight = s->snd_nxt - s->snd_una, n = 0, avail;
		uint16_t flags = TW_TH_ACK;
		bool first;

		if (!c)
			break;
		if (s->snd_nxt == c->seq + c->len) {
			/* at the captured FIN or RST */
			flags |= (c->flags & TW_SEG_RST) ? TW_TH_RST : TW_TH_FIN;
		} else {
			if (inflight >= s->t_win && inflight)
				break;
			/* a zero window is probed with one byte at a time */
			avail = inflight < s->t_win ? s->t_win - inflight : 1;
			n = s->rel - s->snd_nxt;
			if (n > mss)
				n = mss;
			if (n > avail)
				n = avail;
			n = (uint32_t)tw_segq_copy(&s->q, s->snd_nxt, env->scratch + PAYLOAD_OFF, n);
			if (!n)
				break;
			c = tw_segq_find(&s->q, s->snd_nxt + n - 1);
			if (c && s->snd_nxt + n == c->seq + c->len) {
				if (c->flags & TW_SEG_PSH)
					flags |= TW_TH_PSH;
				/* carry the close on the last data segment */
				if ((c->flags & TW_SEG_FIN) && tw_seq_lt(s->snd_nxt + n, s->rel))
					flags |= TW_TH_FIN | TW_TH_PSH;
			}
		}
		if (send_seg(s, s->snd_nxt, flags, n, now) < 0) {
			/* counted; try again after a retransmission timeout */
			if (!tw_timer_armed(&s->t_rto))
				arm_rto(s, now);
			return sent;
		}
		sent = true;
		first = tw_seq_le(s->snd_max, s->snd_nxt);
		s->snd_nxt += n + ((flags & (TW_TH_FIN | TW_TH_RST)) ? 1u : 0u);
		if (first)
			env->st->bytes_sent += n;
		else
			env->st->retrans++;
		if (tw_seq_lt(s->snd_max, s->snd_nxt))
			s->snd_max = s->snd_nxt;
		if (flags & TW_TH_RST) {
			/* the client reset: nothing more will be acknowledged */
			s->snd_una = s->snd_nxt;
			finish(s, TW_OUT_DONE, false, now);
			return sent;
		}
		if (!tw_timer_armed(&s->t_rto))
			arm_rto(s, now);
	}
	return sent;
}

void tw_sess_start(struct tw_sess *s, const struct tw_sess_env *env, uint8_t ipver,
		   const uint8_t caddr[16], uint16_t cport, const uint8_t taddr[16], uint16_t tport,
		   uint32_t isn, bool ts_on, uint64_t now)
{
	void *user = s->user;

	memset(s, 0, sizeof(*s));
	s->user = user;
	s->env = env;
	s->ipver = ipver;
	memcpy(s->caddr, caddr, 16);
	memcpy(s->taddr, taddr, 16);
	s->cport = cport;
	s->tport = tport;
	s->state = TW_SS_SYN_SENT;
	s->isn = isn;
	s->snd_una = isn;
	s->snd_nxt = s->snd_max = isn + 1;
	s->rel = isn + 1;
	s->ts_on = ts_on;
	s->ip_id = (uint16_t)(isn ^ (isn >> 16));
	s->rto = env->cfg->rto_min_ns;
	tw_pace_init(&s->pace, now);
	tw_segq_init(&s->q, isn + 1);
	tw_timer_init(&s->t_rto, on_rto, s);
	tw_timer_init(&s->t_pace, on_pace, s);
	tw_timer_init(&s->t_gap, on_gap, s);
	env->st->connecting++;
	(void)send_seg(s, isn, TW_TH_SYN, 0, now);
	arm_rto(s, now);
}

void tw_sess_client(struct tw_sess *s, const struct tw_pkt *p, uint64_t now)
{
	const struct tw_sess_env *env = s->env;
	int rc;

	if (s->state == TW_SS_CLOSED || (p->flags & TW_TH_SYN))
		return;
	rc = tw_pace_take(&s->pace, &s->q, env->segs, p, env->cfg->max_ooo);
	if (rc < 0) {
		env->st->held_refused++;
		finish(s, TW_OUT_GAP, true, now);
		return;
	}
	if (s->q.ooo && !tw_timer_armed(&s->t_gap))
		tw_timer_arm(env->timers, &s->t_gap, now + env->cfg->gap_ns);
	else if (!s->q.ooo)
		tw_timer_cancel(env->timers, &s->t_gap);
	if (rc > 0) {
		try_release(s, now);
		(void)try_send(s, now);
	}
}

static void established(struct tw_sess *s, const struct tw_wire_reply *r, uint64_t now)
{
	s->t_isn = r->seq;
	s->rcv_nxt = r->seq + 1;
	s->t_wscale = r->opts.has_wscale ? (r->opts.wscale > 14 ? 14 : r->opts.wscale) : 0;
	s->t_win = r->win; /* a SYN-ACK's window is never scaled */
	s->t_mss = r->opts.has_mss ? r->opts.mss : 536;
	if (s->ts_on && r->opts.has_ts)
		s->ts_recent = r->opts.ts_val;
	else
		s->ts_on = false;
	s->snd_una = s->isn + 1;
	s->state = TW_SS_ESTABLISHED;
	s->env->st->connecting--;
	s->retries = 0;
	s->rto = s->env->cfg->rto_min_ns;
	tw_timer_cancel(s->env->timers, &s->t_rto);
	try_release(s, now);
	if (!try_send(s, now))
		(void)send_seg(s, s->snd_nxt, TW_TH_ACK, 0, now);
}

void tw_sess_reply(struct tw_sess *s, const struct tw_wire_reply *r, uint64_t now)
{
	const struct tw_sess_env *env = s->env;
	bool need_ack = false;

	if (s->state == TW_SS_CLOSED)
		return;
	if (s->state == TW_SS_SYN_SENT) {
		if ((r->flags & TW_TH_RST) && (r->flags & TW_TH_ACK) && r->ack == s->isn + 1)
			finish(s, TW_OUT_RESET, false, now);
		else if ((r->flags & (TW_TH_SYN | TW_TH_ACK)) == (TW_TH_SYN | TW_TH_ACK) &&
			 r->ack == s->isn + 1)
			established(s, r, now);
		else if ((r->flags & TW_TH_ACK) && !(r->flags & TW_TH_RST) && r->ack != s->isn + 1)
			/* the target still holds an old connection on this tuple (e.g. in
			 * LAST_ACK after an earlier replay) and answers our SYN with a
			 * challenge ACK: reset it, as any TCP client would (RFC 793, SYN-SENT),
			 * and the retransmitted SYN opens a fresh connection */
			(void)send_seg(s, r->ack, TW_TH_RST, 0, now);
		return;
	}
	if (r->flags & TW_TH_SYN) {
		/* a retransmitted SYN-ACK: our ACK was lost */
		(void)send_seg(s, s->snd_nxt, TW_TH_ACK, 0, now);
		return;
	}
	if (r->flags & TW_TH_RST) {
		finish(s, all_acked(s) ? TW_OUT_DONE : TW_OUT_RESET, false, now);
		return;
	}
	if ((r->flags & TW_TH_ACK) && tw_seq_lt(s->snd_una, r->ack) && tw_seq_le(r->ack, s->snd_max)) {
		s->snd_una = r->ack;
		if (tw_seq_lt(s->snd_nxt, s->snd_una))
			s->snd_nxt = s->snd_una;
		tw_segq_ack(&s->q, env->segs, s->snd_una);
		s->retries = 0;
		s->rto = env->cfg->rto_min_ns;
		if (s->snd_una == s->snd_max)
			tw_timer_cancel(env->timers, &s->t_rto);
		else
			arm_rto(s, now);
	}
	if (r->flags & TW_TH_ACK)
		s->t_win = (uint32_t)r->win << s->t_wscale;
	if (s->ts_on && r->opts.has_ts)
		s->ts_recent = r->opts.ts_val;
	if (r->payload_len || (r->flags & TW_TH_FIN)) {
		uint32_t end = r->seq + r->payload_len;

		if (tw_seq_lt(s->rcv_nxt, end)) {
			uint32_t from = tw_seq_lt(s->rcv_nxt, r->seq) ? r->seq : s->rcv_nxt;
			env->st->reply_bytes += end - from;
			s->resp += end - from;
			s->rcv_nxt = end;
		}
		if (r->payload_len)
			tw_pace_reply(&s->pace, now);
		if ((r->flags & TW_TH_FIN) && !s->t_fin && tw_seq_le(end, s->rcv_nxt)) {
			s->t_fin = true;
			s->rcv_nxt = end + 1;
		}
		need_ack = true;
	}
	try_release(s, now);
	if (!try_send(s, now) && need_ack)
		(void)send_seg(s, s->snd_nxt, TW_TH_ACK, 0, now);
	check_close(s, now);
}

void tw_sess_capture_end(struct tw_sess *s, uint64_t now)
{
	const struct tw_sess_env *env = s->env;

	if (s->state == TW_SS_CLOSED)
		return;
	s->capture_ended = true;
	if (s->q.ooo) {
		finish(s, TW_OUT_GAP, true, now);
		return;
	}
	if (!s->q.fin) {
		/* the capture ends with the connection open: close it ourselves
		 * once everything captured has been delivered */
		if (tw_segq_add(&s->q, env->segs, s->q.next, NULL, 0, TW_SEG_FIN, 0, false,
				env->cfg->max_ooo) < 0) {
			env->st->held_refused++;
			finish(s, TW_OUT_GAP, true, now);
			return;
		}
	}
	try_release(s, now);
	(void)try_send(s, now);
	check_close(s, now);
}

void tw_sess_abort(struct tw_sess *s, enum tw_outcome outcome, uint64_t now)
{
	finish(s, outcome, true, now);
}
