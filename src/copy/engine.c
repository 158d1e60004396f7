/*
 * engine.c - the replay engine of `tcptwin copy` (see engine.h): input,
 * conversation tables, session lifetimes, batched sending. The TCP logic is
 * in sess.c, the tuple choice in addrplan.c; reporting is in report.c.
 */
#include "copy/engine.h"
#include "copy/engine_int.h"
#include "capture/source.h"
#include "core/err.h"
#include "core/hash.h"
#include "core/log.h"
#include "core/loop.h"
#include "core/pool.h"
#include "relay/wire.h"
#include "send/route.h"
#include "send/sink.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define BATCH 64
#define FRAMES 64
#define FRAMES_PER_TURN 512
#define NS 1000000000ull
#define MS 1000000ull

void tw_copy_cfg_init(struct tw_copy_cfg *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	tw_ap_cfg_init(&cfg->ap);
	tw_sess_cfg_init(&cfg->sess);
	tw_decode_cfg_init(&cfg->dcfg);
	cfg->dcfg.decap = true;
	cfg->max_sessions = 65536;
	cfg->max_held_bytes = 512ull << 20;
	cfg->max_connecting = 256;
	cfg->speed = 1.0;
	cfg->loops = 1;
	cfg->drain_ns = 30 * NS;
}

static uint64_t now_ns(const struct tw_copy *c)
{
	return tw_loop_now(c->loop);
}

/* ---- sending: batches of forged packets ---- */

static void flush_batch(struct tw_copy *c)
{
	if (c->reg.flush)
		c->reg.flush(c->reg.arg); /* registrations go out before the SYNs they cover */
	if (!c->nbatch)
		return;
	(void)tw_sink_send(c->sink, c->batch, c->nbatch);
	for (unsigned i = 0; i < c->nbatch; i++) {
		if (c->batch[i].err)
			c->st.sink_errors++; /* the session's retransmission resends it */
	}
	c->nbatch = 0;
}

static void on_flush(struct tw_timer *t, uint64_t now, void *arg)
{
	(void)t;
	(void)now;
	flush_batch(arg);
}

static int emit(void *ctx, struct tw_sess *s, const uint8_t *pkt, size_t len)
{
	struct tw_copy *c = ctx;

	(void)s;
	if (len > c->slot)
		return -EMSGSIZE;
	if (c->nbatch == BATCH)
		flush_batch(c);
	uint8_t *dst = c->batch_buf + (size_t)c->nbatch * c->slot;
	memcpy(dst, pkt, len);
	c->batch[c->nbatch] = (struct tw_sink_pkt){.data = dst, .len = (uint32_t)len};
	c->nbatch++;
	if (!tw_timer_armed(&c->t_flush))
		tw_loop_timer_at(c->loop, &c->t_flush, now_ns(c));
	return 0;
}

/* ---- session lifetimes ---- */

static void key_of(struct tw_flow_key *k, int ver, const uint8_t *src, uint16_t sport,
		   const uint8_t *dst, uint16_t dport)
{
	if (ver == 4)
		tw_flow_key_v4(k, src, sport, dst, dport);
	else
		tw_flow_key_v6(k, src, sport, dst, dport);
}

/* Whether replay tuples come from the address plan: raw mode forges every
 * tuple; socket mode keeps client addresses only with --transparent, else
 * the kernel chooses. */
static bool uses_plan(const struct tw_copy *c)
{
	return !c->cfg.socket_mode || c->cfg.transparent;
}

/* Bytes of the conversation CK are lost for good: drop the rest of it. */
static void bury(struct tw_copy *c, const struct conv_key *ck)
{
	if (tw_hash_count(c->dead_tab) == tw_hash_capacity(c->dead_tab))
		tw_hash_clear(c->dead_tab);
	(void)tw_hash_insert(c->dead_tab, ck, c);
}

/* A session has its outcome: forget it. */
static void session_over(struct tw_copy *c, struct csess *cs, enum tw_outcome outcome)
{
	uint64_t now = now_ns(c);

	cs->outcome = outcome;
	if (cs->in_cap) {
		(void)tw_hash_remove(c->cap_tab, &cs->ck, NULL);
		/* the rest of a conversation with a hole is not replayed on a new
		 * connection (it would start in the middle of a request) */
		if (outcome == TW_OUT_GAP || outcome == TW_OUT_TRUNCATED)
			bury(c, &cs->ck);
	}
	if (!c->cfg.socket_mode) {
		struct tw_sess *s = &cs->u.s;

		(void)tw_hash_remove(c->rep_tab, &cs->rk, NULL);
		if (c->reg.reg)
			(void)c->reg.reg(c->reg.arg, false, s->ipver, s->caddr, s->cport, s->taddr,
					 s->tport);
	}
	if (uses_plan(c))
		(void)tw_ap_release(c->ap, &cs->tuple, now);
	if (outcome != TW_OUT_DONE)
		tw_copy_note_loss(c, cs);
	cs->used = false;
	c->live--;
	tw_pool_put(c->sessions, cs);
}

static void sess_done(void *ctx, struct tw_sess *s)
{
	session_over(ctx, s->user, s->outcome);
}

static void ssess_done(void *ctx, struct tw_ssess *s)
{
	session_over(ctx, s->user, s->outcome);
}

/* socket mode: the target and the source to bind as socket addresses */
static socklen_t sockaddr_of(struct sockaddr_storage *ss, const struct tw_ap_ip *ip, uint16_t port)
{
	memset(ss, 0, sizeof(*ss));
	if (ip->ver == 4) {
		struct sockaddr_in *s4 = (void *)ss;
		s4->sin_family = AF_INET;
		s4->sin_port = htons(port);
		memcpy(&s4->sin_addr, ip->a, 4);
		return sizeof(*s4);
	}
	struct sockaddr_in6 *s6 = (void *)ss;
	s6->sin6_family = AF_INET6;
	s6->sin6_port = htons(port);
	memcpy(&s6->sin6_addr, ip->a, 16);
	return sizeof(*s6);
}

static void start_socket_session(struct tw_copy *c, struct csess *cs, const struct tw_ap_rule *rule,
				 uint32_t isn, uint64_t now)
{
	struct sockaddr_storage dst, src;
	socklen_t dlen, slen = 0;
	const struct sockaddr *srcp = NULL;

	dlen = sockaddr_of(&dst, &rule->dst_ip, rule->dst_port);
	if (uses_plan(c)) {
		slen = sockaddr_of(&src, &cs->tuple.ip, cs->tuple.port);
		srcp = (const struct sockaddr *)&src;
	} else if (c->cfg.nsource) {
		/* the next --source-ip of the target's family; the kernel picks the port */
		for (unsigned i = 0; i < c->cfg.nsource; i++) {
			const struct tw_ap_ip *ip = &c->cfg.source_ip[c->next_source++ % c->cfg.nsource];
			if (ip->ver == rule->dst_ip.ver) {
				slen = sockaddr_of(&src, ip, 0);
				srcp = (const struct sockaddr *)&src;
				break;
			}
		}
	}
	cs->u.ss.user = cs;
	tw_ssess_start(&cs->u.ss, &c->senv, (const struct sockaddr *)&dst, dlen, srcp, slen, isn, now);
}

static struct csess *new_session(struct tw_copy *c, const struct conv_key *ck,
				 const struct tw_ap_rule *rule, const struct tw_pkt *p, uint32_t isn)
{
	struct tw_ap_ip orig = {.ver = p->ipver};
	struct csess *cs;
	uint64_t now = now_ns(c);

	if (c->live >= c->cfg.max_sessions || !(cs = tw_pool_get(c->sessions))) {
		c->st.sessions_refused++;
		return NULL;
	}
	memcpy(orig.a, p->src, 16);
	if (uses_plan(c)) {
		int rc = tw_ap_alloc(c->ap, &orig, p->sport, rule->dst_ip.ver, ck->copy, now, &cs->tuple);

		if (rc == -EAFNOSUPPORT) {
			/* never possible for this conversation: say so once, drop the rest */
			if (!c->st.family_refused++)
				tw_log(TW_LOG_WARN, 0, "IPv%u sessions have no client address for an IPv%u "
				       "target: give -c addresses of that family, or a -x rule per family",
				       p->ipver, rule->dst_ip.ver);
			bury(c, ck);
		} else if (rc < 0) {
			c->st.tuples_refused++;
		}
		if (rc < 0) {
			tw_pool_put(c->sessions, cs);
			return NULL;
		}
	}
	cs->ck = *ck;
	if (tw_hash_insert(c->cap_tab, &cs->ck, cs) < 0) {
		c->st.sessions_refused++;
		goto refused;
	}
	if (!c->cfg.socket_mode) {
		key_of(&cs->rk, rule->dst_ip.ver, cs->tuple.ip.a, cs->tuple.port, rule->dst_ip.a,
		       rule->dst_port);
		if (tw_hash_insert(c->rep_tab, &cs->rk, cs) < 0) {
			(void)tw_hash_remove(c->cap_tab, &cs->ck, NULL);
			c->st.sessions_refused++;
			goto refused;
		}
	}
	cs->in_cap = true;
	cs->used = true;
	memcpy(cs->orig, p->src, 16);
	cs->orig_port = p->sport;
	cs->orig_ver = p->ipver;
	cs->isn = isn;
	tw_cmp_init(&cs->cmp);
	c->live++;
	c->st.sessions++;
	if (c->cfg.socket_mode) {
		start_socket_session(c, cs, rule, isn, now);
		/* it may have ended already (socket or connect failed): CS is free */
		return cs->used ? cs : NULL;
	}
	if (c->reg.reg)
		(void)c->reg.reg(c->reg.arg, true, rule->dst_ip.ver, cs->tuple.ip.a, cs->tuple.port,
				 rule->dst_ip.a, rule->dst_port);
	cs->u.s.user = cs;
	tw_sess_start(&cs->u.s, &c->env, rule->dst_ip.ver, cs->tuple.ip.a, cs->tuple.port,
		      rule->dst_ip.a, rule->dst_port, isn, p->opts.has_ts, now);
	return cs;
refused:
	if (uses_plan(c))
		(void)tw_ap_release(c->ap, &cs->tuple, now);
	tw_pool_put(c->sessions, cs);
	return NULL;
}

static void sess_client(struct tw_copy *c, struct csess *cs, const struct tw_pkt *p)
{
	if (c->cfg.socket_mode)
		tw_ssess_client(&cs->u.ss, p, now_ns(c));
	else
		tw_sess_client(&cs->u.s, p, now_ns(c));
}

static void sess_abort(struct tw_copy *c, struct csess *cs, enum tw_outcome o)
{
	if (c->cfg.socket_mode)
		tw_ssess_abort(&cs->u.ss, o, now_ns(c));
	else
		tw_sess_abort(&cs->u.s, o, now_ns(c));
}

/* The captured conversation of CK ended in the capture (its port is reused):
 * the session goes on with what it has. */
static void capture_over(struct tw_copy *c, struct csess *cs)
{
	if (!cs->in_cap)
		return;
	(void)tw_hash_remove(c->cap_tab, &cs->ck, NULL);
	cs->in_cap = false;
	if (c->cfg.socket_mode)
		tw_ssess_capture_end(&cs->u.ss, now_ns(c));
	else
		tw_sess_capture_end(&cs->u.s, now_ns(c));
}

/* One captured client->server TCP packet of a matched conversation, for copy COPY. */
static void client_pkt(struct tw_copy *c, const struct tw_ap_rule *rule, const struct tw_pkt *p,
		       unsigned copy)
{
	struct conv_key ck;
	struct csess *cs;
	bool syn = (p->flags & (TW_TH_SYN | TW_TH_ACK)) == TW_TH_SYN;

	memset(&ck, 0, sizeof(ck));
	key_of(&ck.k, p->ipver, p->src, p->sport, p->dst, p->dport);
	ck.copy = (uint16_t)copy;
	ck.loop = (uint16_t)c->loop_no;
	cs = tw_hash_lookup(c->cap_tab, &ck);
	if (!cs && tw_hash_count(c->dead_tab) && tw_hash_lookup(c->dead_tab, &ck)) {
		if (syn || (p->flags & (TW_TH_FIN | TW_TH_RST)))
			(void)tw_hash_remove(c->dead_tab, &ck, NULL); /* a new conversation, or the end */
		if (!syn) {
			c->st.after_gap++;
			return;
		}
	}
	if (p->truncated) {
		/* bytes of this conversation are missing: never replay it damaged */
		if (cs)
			sess_abort(c, cs, TW_OUT_TRUNCATED);
		else if (p->payload_len)
			bury(c, &ck);
		return;
	}
	if (syn) {
		if (cs && cs->isn == p->seq)
			return; /* the SYN again */
		if (cs)
			capture_over(c, cs);
		(void)new_session(c, &ck, rule, p, p->seq);
		return;
	}
	if (!cs) {
		if (!p->payload_len)
			return; /* an ACK or FIN of a conversation we did not see start */
		cs = new_session(c, &ck, rule, p, p->seq - 1); /* joined mid-stream */
		if (!cs)
			return;
	}
	if ((p->payload_len || (p->flags & TW_TH_FIN)) && (p->flags & TW_TH_ACK))
		tw_cmp_client(&cs->cmp, p->ack);
	sess_client(c, cs, p);
}

/* A captured server->client packet of a replayed conversation: production's
 * reply, for the comparison. */
static void server_pkt(struct tw_copy *c, const struct tw_pkt *p)
{
	struct conv_key ck;

	memset(&ck, 0, sizeof(ck));
	key_of(&ck.k, p->ipver, p->dst, p->dport, p->src, p->sport);
	ck.loop = (uint16_t)c->loop_no;
	for (unsigned i = 0; i < c->cfg.ap.copies; i++) {
		struct csess *cs;

		ck.copy = (uint16_t)i;
		cs = tw_hash_lookup(c->cap_tab, &ck);
		if (!cs)
			continue;
		if (p->truncated) {
			cs->cmp.prod.broken = true;
			continue;
		}
		tw_cmp_server(&cs->cmp, p->seq, (p->flags & TW_TH_SYN) != 0, p->payload, p->payload_len);
	}
}

static void frame_in(struct tw_copy *c, const struct tw_frame *f)
{
	const struct tw_ap_rule *rule;
	struct tw_pkt p;
	int rc;

	c->st.frames++;
	rc = tw_pkt_decode(&c->cfg.dcfg, c->linktype, f->data, f->caplen, f->wirelen, &p);
	if (rc < 0) {
		if (rc != -TW_ENOTIP)
			c->st.undecodable++;
		return;
	}
	if (!p.l4 || p.proto != 6 || p.frag)
		return;
	rule = tw_ap_match(&c->cfg.ap, p.ipver, p.dst, p.dport);
	if (!rule) {
		if (tw_ap_match(&c->cfg.ap, p.ipver, p.src, p.sport))
			server_pkt(c, &p);
		else
			c->st.not_matched++;
		return;
	}
	if (rule->has_src_ip && memcmp(rule->src_ip.a, p.dst, p.ipver == 4 ? 4 : 16) != 0) {
		c->st.not_matched++;
		return;
	}
	c->st.tcp_client++;
	if (p.truncated)
		c->st.truncated++;
	if (!tw_ap_sample(&c->cfg.ap, p.ipver, p.src, p.sport)) {
		c->st.not_sampled++;
		return;
	}
	for (unsigned i = 0; i < c->cfg.ap.copies; i++)
		client_pkt(c, rule, &p, i);
}

/* ---- input ---- */

static void for_each_session(struct tw_copy *c, void (*fn)(struct tw_copy *, struct csess *))
{
	size_t cap = tw_pool_capacity(c->sessions);

	for (size_t i = 0; i < cap; i++) {
		struct csess *cs = tw_pool_at(c->sessions, i);
		if (cs && cs->used)
			fn(c, cs);
	}
}

static void abort_one(struct tw_copy *c, struct csess *cs)
{
	sess_abort(c, cs, TW_OUT_TIMEOUT);
}

static void on_drain(struct tw_timer *t, uint64_t now, void *arg)
{
	struct tw_copy *c = arg;

	(void)t;
	(void)now;
	for_each_session(c, abort_one);
	flush_batch(c);
}

static void input_end(struct tw_copy *c)
{
	if (c->input_done)
		return;
	c->input_done = true;
	if (c->io_on) {
		(void)tw_loop_io_stop(c->loop, &c->io);
		c->io_on = false;
	}
	tw_loop_timer_cancel(c->loop, &c->t_input);
	for_each_session(c, capture_over);
	flush_batch(c);
	tw_loop_timer_after(c->loop, &c->t_drain, c->cfg.drain_ns);
}

void tw_copy_stop_input(struct tw_copy *c)
{
	input_end(c);
}

static bool file_next_frame(struct tw_copy *c)
{
	int n;

	if (c->fidx < c->nframes)
		return true;
	n = tw_src_next(c->src, c->frames, FRAMES, 0);
	if (n == -TW_EEOF) {
		c->st.input_loops++;
		if (c->st.input_loops < c->cfg.loops && c->reopen) {
			struct tw_src *src = c->reopen(c->reopen_arg);
			if (src) {
				c->src = src;
				c->loop_no++;
				c->ts_shift = c->last_ts - c->first_ts + 1;
				return file_next_frame(c);
			}
		}
		input_end(c);
		return false;
	}
	if (n < 0) {
		tw_log(TW_LOG_ERR, 0, "%s", *tw_src_error(c->src) ? tw_src_error(c->src) : tw_strerror(n));
		c->input_error = true;
		input_end(c);
		return false;
	}
	c->nframes = n;
	c->fidx = 0;
	return n > 0;
}

/* Files: frames whose (scaled) time has come, at most FRAMES_PER_TURN per
 * turn of the loop so replies are handled in between. */
static void on_input(struct tw_timer *t, uint64_t now, void *arg)
{
	struct tw_copy *c = arg;
	size_t held_cap = tw_pool_capacity(c->segs);

	(void)t;
	for (int done = 0; done < FRAMES_PER_TURN; done++) {
		if (!file_next_frame(c))
			return;
		/* back-pressure: sessions hold too much, too many are open, or the
		 * target is not answering SYNs as fast as we send them */
		if (tw_pool_in_use(c->segs) > held_cap - held_cap / 8 ||
		    c->live + c->cfg.ap.copies > c->cfg.max_sessions ||
		    (c->sst.connecting && c->sst.connecting + c->cfg.ap.copies > c->cfg.max_connecting)) {
			tw_loop_timer_at(c->loop, &c->t_input, now + MS);
			return;
		}
		const struct tw_frame *f = &c->frames[c->fidx];
		int64_t ts = f->ts_sec * (int64_t)NS + f->ts_nsec;
		if (!c->have_first) {
			c->have_first = true;
			c->first_ts = ts;
			c->start = now;
		}
		c->last_ts = ts + c->ts_shift;
		if (!c->cfg.topspeed) {
			int64_t rel = ts + c->ts_shift - c->first_ts;
			uint64_t due = c->start + (uint64_t)((double)(rel > 0 ? rel : 0) / c->cfg.speed);
			if (due > now) {
				tw_loop_timer_at(c->loop, &c->t_input, due);
				return;
			}
		}
		c->fidx++;
		frame_in(c, f);
	}
	tw_loop_timer_at(c->loop, &c->t_input, now);
}

static void on_live(struct tw_io *io, unsigned revents, void *arg)
{
	struct tw_copy *c = arg;
	int n;

	(void)io;
	(void)revents;
	for (int turns = 0; turns < 8; turns++) {
		n = tw_src_next(c->src, c->frames, FRAMES, 0);
		if (n <= 0) {
			if (n < 0 && n != -EINTR && n != -EAGAIN) {
				tw_log(TW_LOG_ERR, 0, "%s", tw_src_error(c->src));
				c->input_error = true;
				input_end(c);
			}
			return;
		}
		for (int i = 0; i < n; i++)
			frame_in(c, &c->frames[i]);
	}
}

int tw_copy_start(struct tw_copy *c, struct tw_src *src, bool live,
		  struct tw_src *(*reopen)(void *arg), void *reopen_arg)
{
	c->src = src;
	c->live_input = live;
	c->linktype = tw_src_linktype(src);
	c->reopen = reopen;
	c->reopen_arg = reopen_arg;
	if (live) {
		tw_io_init(&c->io, tw_src_fd(src), on_live, c);
		int rc = tw_loop_io_start(c->loop, &c->io, TW_IO_IN);
		if (rc < 0)
			return rc;
		c->io_on = true;
		return 0;
	}
	tw_loop_timer_at(c->loop, &c->t_input, now_ns(c));
	return 0;
}

void tw_copy_reply(struct tw_copy *c, const struct tw_wire_reply *r)
{
	struct tw_flow_key k;
	struct csess *cs;

	c->st.replies++;
	key_of(&k, r->ipver, r->dst, r->dport, r->src, r->sport);
	cs = tw_hash_lookup(c->rep_tab, &k);
	if (!cs) {
		c->st.replies_unknown++;
		return;
	}
	/* the comparison sees the reply before the release it may cause */
	tw_copy_cmp_reply(cs, r);
	tw_sess_reply(&cs->u.s, r, now_ns(c));
}

bool tw_copy_finished(const struct tw_copy *c)
{
	return c->input_done && c->live == 0;
}

size_t tw_copy_live_sessions(const struct tw_copy *c)
{
	return c->live;
}

static uint64_t capture_drops(const struct tw_copy *c)
{
	struct tw_src_stats ss;

	if (!c->src || !c->live_input || tw_src_stats(c->src, &ss) < 0)
		return 0;
	return ss.dropped;
}

void tw_copy_get_stats(const struct tw_copy *c, struct tw_copy_stats *st)
{
	*st = c->st;
	st->sess = c->sst;
	st->capture_drops = capture_drops(c);
}

/* ---- construction ---- */

/* The path MTU toward the first target, unless -M gave one. */
static uint32_t path_mtu(const struct tw_copy_cfg *cfg)
{
	const struct tw_ap_rule *r = &cfg->ap.rule[0];
	struct tw_rtnl *nl;
	struct tw_route rt;
	uint32_t mtu = 1500;

	if (cfg->mtu)
		return cfg->mtu;
	if (tw_rtnl_open(&nl, 1000) < 0)
		return mtu;
	if (tw_route_get(nl, r->dst_ip.ver == 4 ? 2 : 10, r->dst_ip.a, 0, &rt) == 0 && rt.mtu)
		mtu = rt.mtu;
	tw_rtnl_close(nl);
	return mtu;
}

int tw_copy_new(struct tw_loop *loop, const struct tw_copy_cfg *cfg,
		const struct tw_copy_registrar *reg, struct tw_copy **out, char *err, size_t errlen)
{
	struct tw_copy *c = calloc(1, sizeof(*c));
	struct tw_sink_cfg sc;
	uint32_t mtu, mss;
	size_t chunks;
	int rc;

	if (!c)
		return -ENOMEM;
	c->loop = loop;
	c->cfg = *cfg;
	if (reg)
		c->reg = *reg;
	mtu = path_mtu(cfg);
	/* IPv6 header 40 + TCP 20 + timestamps 12 */
	mss = mtu > 72 + 64 ? mtu - 72 : 64;
	if (c->cfg.sess.mss > mss)
		c->cfg.sess.mss = (uint16_t)mss;
	c->mtu = mtu;
	c->slot = mtu + 64;
	chunks = (size_t)(cfg->max_held_bytes / TW_SEG_DATA) + 1024;
	c->segs = tw_pool_new(sizeof(struct tw_seg), chunks);
	c->sessions = tw_pool_new(sizeof(struct csess), cfg->max_sessions);
	c->cap_tab = tw_hash_new(sizeof(struct conv_key), cfg->max_sessions, tw_hash_random_seed());
	c->rep_tab = tw_hash_new(sizeof(struct tw_flow_key), cfg->max_sessions, tw_hash_random_seed());
	c->dead_tab = tw_hash_new(sizeof(struct conv_key), cfg->max_sessions, tw_hash_random_seed());
	c->scratch = malloc(TW_SESS_SCRATCH);
	c->batch_buf = malloc(BATCH * c->slot);
	if (!c->segs || !c->sessions || !c->cap_tab || !c->rep_tab || !c->dead_tab || !c->scratch ||
	    !c->batch_buf) {
		snprintf(err, errlen, "not enough memory for %u sessions and %llu held bytes",
			 cfg->max_sessions, (unsigned long long)cfg->max_held_bytes);
		rc = -ENOMEM;
		goto fail;
	}
	(void)tw_hash_prefault(c->cap_tab);
	(void)tw_hash_prefault(c->rep_tab);
	rc = tw_ap_create(&c->ap, &cfg->ap, tw_loop_now(loop), err, errlen);
	if (rc < 0)
		goto fail;
	if (!cfg->socket_mode) {
		memset(&sc, 0, sizeof(sc));
		sc.kind = cfg->outdev ? TW_SINK_AFPACKET : TW_SINK_RAWIP;
		sc.dev = cfg->outdev;
		sc.has_dst_mac = cfg->has_dst_mac;
		memcpy(sc.dst_mac, cfg->dst_mac, 6);
		sc.batch = BATCH;
		rc = tw_sink_open(&sc, &c->sink, err, errlen);
		if (rc < 0)
			goto fail;
	}
	c->senv = (struct tw_ssess_env){
		.cfg = &c->cfg.sess,
		.loop = loop,
		.segs = c->segs,
		.st = &c->sst,
		.done = ssess_done,
		.reply = tw_copy_ssess_reply,
		.cut = tw_copy_ssess_cut,
		.ctx = c,
		.scratch = c->scratch,
		.transparent = cfg->transparent,
		.connect_ns = 10 * NS,
	};
	c->env = (struct tw_sess_env){
		.cfg = &c->cfg.sess,
		.timers = tw_loop_timers(loop),
		.segs = c->segs,
		.st = &c->sst,
		.emit = emit,
		.done = sess_done,
		.cut = tw_copy_sess_cut,
		.ctx = c,
		.scratch = c->scratch,
	};
	tw_timer_init(&c->t_flush, on_flush, c);
	tw_timer_init(&c->t_input, on_input, c);
	tw_timer_init(&c->t_drain, on_drain, c);
	*out = c;
	return 0;
fail:
	tw_copy_free(c);
	return rc;
}

void tw_copy_free(struct tw_copy *c)
{
	if (!c)
		return;
	if (c->loop) {
		tw_loop_timer_cancel(c->loop, &c->t_flush);
		tw_loop_timer_cancel(c->loop, &c->t_input);
		tw_loop_timer_cancel(c->loop, &c->t_drain);
		if (c->io_on)
			(void)tw_loop_io_stop(c->loop, &c->io);
	}
	if (c->sink) {
		flush_batch(c); /* the last ACKs of sessions that just ended */
		tw_sink_close(c->sink);
	}
	if (c->ap)
		tw_ap_destroy(c->ap);
	tw_hash_free(c->cap_tab);
	tw_hash_free(c->rep_tab);
	tw_hash_free(c->dead_tab);
	tw_pool_free(c->sessions);
	tw_pool_free(c->segs);
	free(c->scratch);
	free(c->batch_buf);
	free(c);
}
