/*
 * engine_int.h - the engine's internals, shared by engine.c (input, tables,
 * sending) and report.c (summary and JSON). Not for other modules.
 */
#ifndef TW_COPY_ENGINE_INT_H
#define TW_COPY_ENGINE_INT_H

#include "capture/source.h"
#include "copy/cmp.h"
#include "copy/engine.h"
#include "copy/ssess.h"
#include "core/hash.h"
#include "core/loop.h"
#include "send/sink.h"

/* A captured conversation, for one copy (-n) and one pass (--loop). */
struct conv_key {
	struct tw_flow_key k;
	uint16_t copy;
	uint16_t loop;
	uint8_t pad[4];
};
_Static_assert(sizeof(struct conv_key) == 48, "conv_key has no hidden padding");

struct csess {
	union {
		struct tw_sess s;             /* raw mode */
		struct tw_ssess ss;           /* socket mode */
	} u;
	enum tw_outcome outcome;      /* once ended */
	struct tw_cmp cmp;            /* production's replies against the target's */
	uint32_t t_next;              /* raw mode: the target's next reply byte, for cmp */
	bool t_known;
	uint32_t isn;                 /* the captured client's */
	struct conv_key ck;           /* in cap_tab while in_cap */
	struct tw_flow_key rk;        /* replay tuple -> target, in rep_tab */
	struct tw_ap_tuple tuple;
	uint8_t orig[16];             /* the captured client */
	uint16_t orig_port;
	uint8_t orig_ver;
	bool in_cap;
	bool used;
};

#define TW_COPY_LOSS_NAMES 100

struct tw_copy {
	struct tw_loop *loop;
	struct tw_copy_cfg cfg;
	struct tw_copy_registrar reg;
	struct tw_pool *segs, *sessions;
	struct tw_hash *cap_tab, *rep_tab;
	struct tw_hash *dead_tab;     /* conversations that ended as gap while still captured */
	struct tw_ap *ap;
	struct tw_sink *sink;
	struct tw_sess_env env;
	struct tw_ssess_env senv;     /* socket mode */
	unsigned next_source;         /* --source-ip round robin */
	struct tw_sess_stats sst;
	uint8_t *scratch;
	uint32_t mtu;

	/* sending */
	struct tw_sink_pkt batch[64];
	uint8_t *batch_buf;
	size_t slot;
	unsigned nbatch;
	struct tw_timer t_flush;

	/* input */
	struct tw_src *src;
	struct tw_src *(*reopen)(void *arg);
	void *reopen_arg;
	int linktype;
	bool live_input, io_on, input_done, input_error;
	struct tw_io io;
	struct tw_timer t_input, t_drain;
	struct tw_frame frames[64];
	int nframes, fidx;
	bool have_first;
	int64_t first_ts, last_ts, ts_shift;
	uint64_t start;
	unsigned loop_no;

	/* accounting */
	size_t live;
	struct tw_copy_stats st;
	struct {
		char name[96];
		enum tw_outcome outcome;
	} loss[TW_COPY_LOSS_NAMES];
	unsigned nloss;
};

/* Response comparison (engine_cmp.c): the target's reply bytes (socket
 * mode), intercept's reply records (raw mode), and a release of a request
 * in either mode (judges the exchange before it). */
void tw_copy_ssess_reply(void *ctx, struct tw_ssess *s, const uint8_t *data, size_t len);
void tw_copy_ssess_cut(void *ctx, struct tw_ssess *s);
void tw_copy_sess_cut(void *ctx, struct tw_sess *s);
void tw_copy_cmp_reply(struct csess *cs, const struct tw_wire_reply *r);
/* "client:port copy N" of a session's captured client (report.c). */
void tw_copy_session_name(const struct csess *cs, char *buf, size_t len);
/* Remember a session that did not end as done (report.c). */
void tw_copy_note_loss(struct tw_copy *c, const struct csess *cs);

#endif
