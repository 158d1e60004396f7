/*
 * test_sess.c - the session engine against a simulated target.
 *
 * A captured HTTP-like conversation is synthesised (requests of given sizes,
 * each answered by a response of given size; the captured client ACKs record
 * how much response it had received). The session replays it; a small TCP
 * model of the target receives the forged packets (decoded back with
 * tw_pkt_decode), keeps the byte stream it received, acknowledges it, and
 * answers each complete request. The fake clock advances only through timer
 * deadlines. Checked: the target's stream equals the captured client stream
 * byte for byte, each request is sent only after the previous response (the
 * pacing rule), and the outcome, under loss, reordering, holes, resets,
 * silence and early replies.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "copy/sess.h"
#include "core/pool.h"
#include "core/timer.h"
#include "pkt/decode.h"
#include "pkt/forge.h"
#include "relay/wire.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MS 1000000ull
#define MAXREQ 16
#define QCAP 8192
#define STREAM_MAX (4u << 20)
#define T_ISN 0x70000000u
#define C_ISN 0xfffff000u /* wraps during the stream */

static const uint8_t CADDR[16] = {10, 200, 0, 7};
static const uint8_t TADDR[16] = {10, 10, 0, 2};

struct scenario {
	int nreq;
	uint32_t req[MAXREQ];      /* request sizes */
	uint32_t resp[MAXREQ];     /* response sizes of the target */
	uint32_t cap_resp[MAXREQ]; /* response sizes production sent (recorded ACKs) */
	bool early;                /* the target answers a request after its first byte */
	int drop_every;            /* drop every Nth client data packet at the target */
	bool silent;               /* the target never answers */
	int rst_after_req;         /* the target resets once this many requests arrived (0: never) */
	uint32_t mss;              /* the target's MSS */
	uint16_t win;              /* the target's window (unscaled, wscale 0) */
};

/* the target model */
struct target {
	const struct scenario *sc;
	bool synced;
	uint32_t irs;              /* client ISN seen */
	uint32_t rcv_nxt;
	uint8_t *stream;
	size_t slen;
	uint32_t snd_nxt;          /* target seq */
	int answered;              /* responses sent */
	size_t resp_sent_total;
	bool fin_rcvd, fin_sent;
	int data_pkts;
	/* pacing check: response bytes the target had sent when request k's first byte arrived */
	size_t resp_at_req[MAXREQ];
	bool req_seen[MAXREQ];
	bool reset;
};

struct world {
	struct tw_sess_cfg cfg;
	struct tw_timers timers;
	struct tw_pool *segs;
	struct tw_sess_stats st;
	struct tw_sess_env env;
	struct tw_sess s;
	struct target t;
	uint64_t now;
	bool done;
	/* packets the session emitted, waiting for delivery (a ring) */
	uint8_t (*q)[2048];
	size_t *qlen;
	size_t qhead, nq;
	uint8_t *scratch;
	uint8_t *capstream;        /* the captured client stream */
	size_t caplen;
};

static int emit(void *ctx, struct tw_sess *s, const uint8_t *pkt, size_t len)
{
	struct world *w = ctx;

	(void)s;
	size_t i = (w->qhead + w->nq) % QCAP;

	assert_true(w->nq < QCAP);
	assert_true(len <= sizeof(w->q[0]));
	memcpy(w->q[i], pkt, len);
	w->qlen[i] = len;
	w->nq++;
	return 0;
}

static void done(void *ctx, struct tw_sess *s)
{
	struct world *w = ctx;

	(void)s;
	w->done = true;
}

static void reply(struct world *w, uint16_t flags, uint32_t seq, uint32_t len)
{
	struct tw_wire_reply r;

	memset(&r, 0, sizeof(r));
	r.ipver = 4;
	r.flags = flags;
	memcpy(r.src, TADDR, 16);
	memcpy(r.dst, CADDR, 16);
	r.sport = 8080;
	r.dport = w->s.cport;
	r.seq = seq;
	r.ack = w->t.rcv_nxt;
	r.win = w->t.sc->win;
	r.payload_len = len;
	if (flags & TW_TH_SYN) {
		r.opts.has_mss = true;
		r.opts.mss = (uint16_t)w->t.sc->mss;
		r.opts.has_ts = true;
		r.opts.ts_val = 1000;
	} else {
		r.opts.has_ts = true;
		r.opts.ts_val = 2000;
	}
	tw_sess_reply(&w->s, &r, w->now);
}

/* request k ends at this stream offset */
static size_t req_end(const struct scenario *sc, int k)
{
	size_t e = 0;

	for (int i = 0; i <= k; i++)
		e += sc->req[i];
	return e;
}

static void target_answer(struct world *w)
{
	struct target *t = &w->t;
	const struct scenario *sc = t->sc;

	while (t->answered < sc->nreq) {
		int k = t->answered;
		size_t need = sc->early ? req_end(sc, k) - sc->req[k] + 1 : req_end(sc, k);

		if (t->slen < need)
			break;
		/* the response in MSS-sized headers */
		for (uint32_t off = 0; off < sc->resp[k];) {
			uint32_t n = sc->resp[k] - off > 1448 ? 1448 : sc->resp[k] - off;
			uint32_t seq = t->snd_nxt;
			t->snd_nxt += n;
			t->resp_sent_total += n;
			off += n;
			reply(w, TW_TH_ACK | TW_TH_PSH, seq, n);
			if (w->done)
				return;
		}
		t->answered++;
	}
}

static void target_rx(struct world *w, const uint8_t *pkt, size_t len)
{
	struct target *t = &w->t;
	const struct scenario *sc = t->sc;
	struct tw_pkt p;

	assert_int_equal(tw_pkt_decode(NULL, TW_LT_RAW, pkt, len, len, &p), 0);
	assert_non_null(p.l4);
	assert_int_equal(p.proto, 6);
	assert_false(p.truncated);
	assert_memory_equal(p.src, CADDR, 4);
	assert_memory_equal(p.dst, TADDR, 4);
	if (t->reset)
		return;
	if (p.flags & TW_TH_SYN) {
		if (sc->silent)
			return;
		t->synced = true;
		t->irs = p.seq;
		t->rcv_nxt = p.seq + 1;
		/* the session's options: MSS and window scale on the SYN */
		assert_true(p.opts.has_mss);
		assert_true(p.opts.has_wscale);
		reply(w, TW_TH_SYN | TW_TH_ACK, T_ISN, 0);
		return;
	}
	if (!t->synced)
		return;
	if (p.payload_len) {
		assert_true(p.payload_len <= sc->mss);
		if (sc->drop_every && ++t->data_pkts % sc->drop_every == 0)
			return; /* lost on the way */
		if (p.seq == t->rcv_nxt) {
			assert_true(t->slen + p.payload_len <= STREAM_MAX);
			/* the first byte of each request: how much response was out */
			for (int k = 0; k < sc->nreq; k++) {
				size_t start = req_end(sc, k) - sc->req[k];
				if (!t->req_seen[k] && start >= t->slen && start < t->slen + p.payload_len) {
					t->req_seen[k] = true;
					t->resp_at_req[k] = t->resp_sent_total;
				}
			}
			memcpy(t->stream + t->slen, p.payload, p.payload_len);
			t->slen += p.payload_len;
			t->rcv_nxt += (uint32_t)p.payload_len;
		}
	}
	if ((p.flags & TW_TH_FIN) && p.seq + p.payload_len == t->rcv_nxt && !t->fin_rcvd) {
		t->fin_rcvd = true;
		t->rcv_nxt++;
	}
	if (sc->rst_after_req && t->slen >= req_end(sc, sc->rst_after_req - 1)) {
		t->reset = true;
		reply(w, TW_TH_RST | TW_TH_ACK, t->snd_nxt, 0);
		return;
	}
	if (p.payload_len || (p.flags & TW_TH_FIN))
		reply(w, TW_TH_ACK, t->snd_nxt, 0);
	if (w->done)
		return;
	target_answer(w);
	if (!w->done && t->fin_rcvd && !t->fin_sent) {
		t->fin_sent = true;
		reply(w, TW_TH_ACK | TW_TH_FIN, t->snd_nxt, 0);
		t->snd_nxt++;
	}
}

/* Deliver queued packets until none are left, then fire timers. */
static void run(struct world *w, uint64_t limit)
{
	while (!w->done) {
		if (w->nq) {
			/* take the first packet (the queue may grow while delivering) */
			static uint8_t pkt[2048];
			size_t len = w->qlen[w->qhead];
			memcpy(pkt, w->q[w->qhead], len);
			w->qhead = (w->qhead + 1) % QCAP;
			w->nq--;
			target_rx(w, pkt, len);
			continue;
		}
		uint64_t next = tw_timers_next(&w->timers);
		if (next == TW_TIME_NEVER || next > limit)
			break;
		if (next > w->now)
			w->now = next;
		tw_timers_run(&w->timers, w->now);
	}
}

static void world_init(struct world *w, const struct scenario *sc)
{
	memset(w, 0, sizeof(*w));
	tw_sess_cfg_init(&w->cfg);
	w->cfg.mss = 1460;
	tw_timers_init(&w->timers);
	w->segs = tw_pool_new(sizeof(struct tw_seg), 4096);
	assert_non_null(w->segs);
	w->scratch = malloc(TW_SESS_SCRATCH);
	w->t.stream = malloc(STREAM_MAX);
	w->capstream = malloc(STREAM_MAX);
	assert_non_null(w->scratch);
	assert_non_null(w->t.stream);
	assert_non_null(w->capstream);
	w->q = malloc(QCAP * sizeof(*w->q));
	w->qlen = malloc(QCAP * sizeof(*w->qlen));
	assert_non_null(w->q);
	assert_non_null(w->qlen);
	w->env = (struct tw_sess_env){
		.cfg = &w->cfg,
		.timers = &w->timers,
		.segs = w->segs,
		.st = &w->st,
		.emit = emit,
		.done = done,
		.ctx = w,
		.scratch = w->scratch,
	};
	w->t.sc = sc;
	w->t.snd_nxt = T_ISN + 1;
	w->now = 1000 * MS;
}

static void world_free(struct world *w)
{
	tw_pool_free(w->segs);
	free(w->scratch);
	free(w->t.stream);
	free(w->capstream);
	free(w->q);
	free(w->qlen);
}

/* One captured client segment. */
static void cap_seg(struct world *w, uint32_t seq, const uint8_t *data, size_t len, uint16_t flags,
		    uint32_t ack)
{
	struct tw_pkt p;

	memset(&p, 0, sizeof(p));
	p.seq = seq;
	p.ack = ack;
	p.flags = flags;
	p.payload = data;
	p.payload_len = p.payload_caplen = len;
	tw_sess_client(&w->s, &p, w->now);
}

/*
 * Build the captured stream and feed it: SYN was captured (the session starts
 * at C_ISN), handshake ACK, then each request in SEGSZ pieces (in ORDER: a
 * permutation of piece indexes, or NULL), with the ACK the real client had:
 * the production response bytes received so far. HOLE >= 0 leaves that piece
 * out. FIN at the end unless NOFIN.
 */
static void feed(struct world *w, const struct scenario *sc, size_t segsz, const int *order,
		 int hole, bool nofin)
{
	uint32_t s_isn = 0x10000000u, ack = s_isn + 1;
	size_t off = 0;
	struct piece {
		size_t off, len;
		uint32_t ack;
		uint16_t flags;
	} pieces[4096];
	int np = 0;

	for (int k = 0; k < sc->nreq; k++) {
		for (uint32_t i = 0; i < sc->req[k]; i++)
			w->capstream[off + i] = (uint8_t)((off + i) * 131 + k * 7 + (off + i) / 251);
		for (size_t o = 0; o < sc->req[k]; o += segsz) {
			size_t n = sc->req[k] - o > segsz ? segsz : sc->req[k] - o;
			assert_true(np < 4096);
			pieces[np++] = (struct piece){off + o, n, ack,
						      TW_TH_ACK | (o + n == sc->req[k] ? TW_TH_PSH : 0)};
		}
		off += sc->req[k];
		ack += sc->cap_resp[k];
	}
	w->caplen = off;
	tw_sess_start(&w->s, &w->env, 4, CADDR, 40000, TADDR, 8080, C_ISN, true, w->now);
	cap_seg(w, C_ISN + 1, NULL, 0, TW_TH_ACK, s_isn + 1); /* handshake ACK */
	for (int i = 0; i < np; i++) {
		int j = order ? order[i] : i;
		if (j == hole)
			continue;
		cap_seg(w, C_ISN + 1 + (uint32_t)pieces[j].off, w->capstream + pieces[j].off,
			pieces[j].len, pieces[j].flags, pieces[j].ack);
	}
	if (!nofin)
		cap_seg(w, C_ISN + 1 + (uint32_t)off, NULL, 0, TW_TH_FIN | TW_TH_ACK, ack);
}

static void check_exact(struct world *w)
{
	assert_int_equal(w->t.slen, w->caplen);
	assert_memory_equal(w->t.stream, w->capstream, w->caplen);
}

static void check_paced(struct world *w, const struct scenario *sc)
{
	/* request k+1 left only after the target had sent response k in full */
	for (int k = 1; k < sc->nreq; k++) {
		size_t before = 0;
		for (int i = 0; i < k; i++)
			before += sc->resp[i];
		assert_true(w->t.req_seen[k]);
		assert_true(w->t.resp_at_req[k] >= before);
	}
}

static const struct scenario keepalive = {
	.nreq = 4,
	.req = {300, 5000, 120, 70000},
	.resp = {2000, 150000, 10, 300},
	.cap_resp = {2000, 150000, 10, 300},
	.mss = 1460,
	.win = 65535,
};

static void test_keepalive_exact_and_paced(void **state)
{
	struct world w;

	(void)state;
	world_init(&w, &keepalive);
	feed(&w, &keepalive, 1448, NULL, -1, false);
	run(&w, UINT64_MAX);
	assert_true(w.done);
	assert_int_equal(w.s.outcome, TW_OUT_DONE);
	check_exact(&w);
	check_paced(&w, &keepalive);
	assert_true(w.t.fin_rcvd);
	assert_int_equal(w.st.retrans, 0);
	assert_int_equal(w.st.releases_timeout, 0);
	assert_int_equal(tw_pool_in_use(w.segs), 0);
	world_free(&w);
}

/* GRO super-packets in the capture: 60 KB pieces, target MSS 536, small window */
static void test_super_packets_small_mss_and_window(void **state)
{
	struct scenario sc = keepalive;
	struct world w;

	(void)state;
	sc.mss = 536;
	sc.win = 4000;
	world_init(&w, &sc);
	feed(&w, &sc, 60000, NULL, -1, false);
	run(&w, UINT64_MAX);
	assert_int_equal(w.s.outcome, TW_OUT_DONE);
	check_exact(&w);
	check_paced(&w, &sc);
	world_free(&w);
}

/* every 7th data packet lost on the way to the target: retransmission */
static void test_loss_retransmitted(void **state)
{
	struct scenario sc = keepalive;
	struct world w;

	(void)state;
	sc.drop_every = 7;
	world_init(&w, &sc);
	feed(&w, &sc, 1448, NULL, -1, false);
	run(&w, UINT64_MAX);
	assert_int_equal(w.s.outcome, TW_OUT_DONE);
	check_exact(&w);
	assert_true(w.st.retrans > 0);
	world_free(&w);
}

/* the capture holds segments out of order and duplicated */
static void test_reordered_capture(void **state)
{
	struct scenario sc = {.nreq = 1, .req = {20000}, .resp = {100}, .cap_resp = {100},
			      .mss = 1460, .win = 65535};
	int order[64], n = (20000 + 999) / 1000;
	struct world w;

	(void)state;
	for (int i = 0; i < n; i++)
		order[i] = i;
	/* swap neighbours and repeat one */
	for (int i = 0; i + 1 < n; i += 2) {
		int t = order[i];
		order[i] = order[i + 1];
		order[i + 1] = t;
	}
	world_init(&w, &sc);
	feed(&w, &sc, 1000, order, -1, false);
	cap_seg(&w, C_ISN + 1 + 3000, w.capstream + 3000, 1000, TW_TH_ACK, 0x10000001u);
	run(&w, UINT64_MAX);
	assert_int_equal(w.s.outcome, TW_OUT_DONE);
	check_exact(&w);
	world_free(&w);
}

/* a captured segment is missing: the session ends as a gap, within gap_ns */
static void test_hole_is_gap(void **state)
{
	struct scenario sc = keepalive;
	struct world w;
	uint64_t start;

	(void)state;
	world_init(&w, &sc);
	start = w.now;
	feed(&w, &sc, 1448, NULL, 6, false);
	run(&w, UINT64_MAX);
	assert_true(w.done);
	assert_int_equal(w.s.outcome, TW_OUT_GAP);
	assert_true(w.now - start <= w.cfg.gap_ns + w.cfg.req_timeout_ns);
	/* what came before the hole was delivered exactly */
	assert_true(w.t.slen <= 6 * 1448);
	assert_memory_equal(w.t.stream, w.capstream, w.t.slen);
	assert_int_equal(w.st.outcomes[TW_OUT_GAP], 1);
	assert_int_equal(tw_pool_in_use(w.segs), 0);
	world_free(&w);
}

/* the capture ends with the connection open: we close after delivering */
static void test_capture_ends_open(void **state)
{
	struct world w;

	(void)state;
	world_init(&w, &keepalive);
	feed(&w, &keepalive, 1448, NULL, -1, true);
	run(&w, UINT64_MAX);
	assert_false(w.done);
	tw_sess_capture_end(&w.s, w.now);
	run(&w, UINT64_MAX);
	assert_int_equal(w.s.outcome, TW_OUT_DONE);
	check_exact(&w);
	world_free(&w);
}

static void test_no_synack(void **state)
{
	struct scenario sc = keepalive;
	struct world w;

	(void)state;
	sc.silent = true;
	world_init(&w, &sc);
	feed(&w, &sc, 1448, NULL, -1, false);
	run(&w, UINT64_MAX);
	assert_int_equal(w.s.outcome, TW_OUT_NO_SYNACK);
	assert_int_equal(w.st.retrans, w.cfg.max_retries);
	assert_int_equal(tw_pool_in_use(w.segs), 0);
	world_free(&w);
}

static void test_reset_by_target(void **state)
{
	struct scenario sc = keepalive;
	struct world w;

	(void)state;
	sc.rst_after_req = 2;
	world_init(&w, &sc);
	feed(&w, &sc, 1448, NULL, -1, false);
	run(&w, UINT64_MAX);
	assert_int_equal(w.s.outcome, TW_OUT_RESET);
	world_free(&w);
}

/* the target answers an upload before it has read it (a 200 before the body):
 * the body must still go out whole, and the next request after it */
static void test_early_reply_upload(void **state)
{
	struct scenario sc = {.nreq = 2, .req = {1000000, 200}, .resp = {300, 400},
			      .cap_resp = {300, 400}, .early = true, .mss = 1460, .win = 65535};
	struct world w;

	(void)state;
	world_init(&w, &sc);
	feed(&w, &sc, 1448, NULL, -1, false);
	run(&w, UINT64_MAX);
	assert_int_equal(w.s.outcome, TW_OUT_DONE);
	check_exact(&w);
	world_free(&w);
}

/* the target's responses are shorter than production's: the settle rule
 * releases the next request instead of the request timeout */
static void test_shorter_responses_settle(void **state)
{
	struct scenario sc = keepalive;
	struct world w;

	(void)state;
	sc.resp[0] = 100;  /* production sent 2000 */
	sc.resp[1] = 1000; /* production sent 150000 */
	world_init(&w, &sc);
	feed(&w, &sc, 1448, NULL, -1, false);
	run(&w, UINT64_MAX);
	assert_int_equal(w.s.outcome, TW_OUT_DONE);
	check_exact(&w);
	assert_true(w.st.releases_settled >= 2);
	assert_int_equal(w.st.releases_timeout, 0);
	world_free(&w);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_keepalive_exact_and_paced),
		cmocka_unit_test(test_super_packets_small_mss_and_window),
		cmocka_unit_test(test_loss_retransmitted),
		cmocka_unit_test(test_reordered_capture),
		cmocka_unit_test(test_hole_is_gap),
		cmocka_unit_test(test_capture_ends_open),
		cmocka_unit_test(test_no_synack),
		cmocka_unit_test(test_reset_by_target),
		cmocka_unit_test(test_early_reply_upload),
		cmocka_unit_test(test_shorter_responses_settle),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
