/*
 * sess.h - one replayed TCP session (raw mode): the client side of a real
 * TCP conversation with the target, fed the captured client byte stream.
 *
 * Inputs: captured client->server segments (tw_sess_client), the target's
 * reply headers as intercept relays them (tw_sess_reply), the end of the
 * capture (tw_sess_capture_end) and timers. Output: forged IP packets handed
 * to env->emit, and exactly one outcome per session (env->done).
 *
 * Rules (DESIGN.md section 4): sequence numbers are the captured client's
 * own (a forged handshake when the SYN was not captured); the target's are
 * acknowledged as seen. A captured segment is released when the target has
 * sent at least as many response bytes since the previous release as the
 * real client had received (its recorded ACK), or the target's reply went
 * quiet after sending something (settle time), or a per-request timeout
 * passed. Unacknowledged bytes are retransmitted with exponential backoff;
 * the target's window and window scale are honoured; timestamps are sent
 * when the captured session used them; segments are cut to the target's MSS
 * and the path MTU. A hole in the captured stream waits a bounded time, then
 * the session ends as a gap.
 *
 * Pure: time comes in as nanoseconds, no syscalls, no logging, no malloc.
 */
#ifndef TW_COPY_SESS_H
#define TW_COPY_SESS_H

#include "copy/pace.h"
#include "copy/segq.h"
#include "core/timer.h"

#include <stdbool.h>
#include <stdint.h>

struct tw_pool;
struct tw_pkt;
struct tw_wire_reply;

enum tw_outcome {
	TW_OUT_NONE = 0,
	TW_OUT_DONE,            /* every captured byte (and the close) acknowledged by the target */
	TW_OUT_RESET,           /* the target reset the connection before it had everything */
	TW_OUT_GAP,             /* captured bytes missing: the stream could not be completed */
	TW_OUT_TIMEOUT,         /* the target stopped acknowledging */
	TW_OUT_NO_SYNACK,       /* the target never answered the SYN */
	TW_OUT_SEND_ERROR,      /* sending kept failing */
	TW_OUT_TRUNCATED,       /* the capture (a mirror) cut packets of it: never replayed damaged */
	TW_OUT_MAX
};

const char *tw_outcome_name(enum tw_outcome o);

enum tw_sess_state {
	TW_SS_SYN_SENT = 0,
	TW_SS_ESTABLISHED,
	TW_SS_CLOSED,
};

struct tw_sess_cfg {
	uint16_t mss;               /* our MSS and the cap on segments (path MTU - headers) */
	uint64_t settle_ns;         /* reply quiet for this long after sending something: release */
	uint64_t req_timeout_ns;    /* release anyway after waiting this long for the target */
	uint64_t rto_min_ns, rto_max_ns;
	unsigned max_retries;       /* retransmissions of one segment before TW_OUT_TIMEOUT */
	uint64_t gap_ns;            /* how long a hole in the captured stream may stay open */
	uint64_t close_ns;          /* after our FIN is acknowledged, wait this long for the target's */
	uint32_t max_ooo;           /* out-of-order captured chunks held per session */
};

/* Defaults: mss 1460, settle 50 ms, request timeout 2 s, RTO 200 ms..3.2 s,
 * 6 retries, gap 3 s, close 2 s, 64 out-of-order chunks. */
void tw_sess_cfg_init(struct tw_sess_cfg *cfg);

struct tw_sess;

struct tw_sess_stats {
	uint64_t pkts_sent, bytes_sent;  /* payload bytes (first transmissions) */
	uint64_t retrans;                /* retransmitted segments */
	uint64_t send_errors;
	uint64_t reply_bytes;            /* target payload bytes seen */
	uint64_t releases_acked;         /* releases by the recorded ACK rule */
	uint64_t releases_settled;       /* ... by the settle rule */
	uint64_t releases_timeout;       /* ... by the request timeout */
	uint64_t held_refused;           /* captured segments refused (pool or out-of-order cap) */
	uint64_t connecting;             /* gauge: sessions whose SYN is not answered yet */
	uint64_t outcomes[TW_OUT_MAX];
};

#define TW_SESS_SCRATCH (2 * 65536 + 512)

/* Shared by every session of an engine. */
struct tw_sess_env {
	const struct tw_sess_cfg *cfg;
	struct tw_timers *timers;
	struct tw_pool *segs;            /* struct tw_seg chunks */
	struct tw_sess_stats *st;
	/* Send one forged IP packet. Returns 0, or <0 when it could not be sent
	 * (the session retries later and counts it). */
	int (*emit)(void *ctx, struct tw_sess *s, const uint8_t *pkt, size_t len);
	/* The session has its outcome; the engine may free it after this call. */
	void (*done)(void *ctx, struct tw_sess *s);
	/* Optional: a new request was released (an exchange boundary). */
	void (*cut)(void *ctx, struct tw_sess *s);
	void *ctx;
	uint8_t *scratch;                /* TW_SESS_SCRATCH bytes for building packets */
};

struct tw_sess {
	const struct tw_sess_env *env;
	void *user;                      /* the engine's */

	/* addresses of the replayed conversation */
	uint8_t ipver;
	uint8_t caddr[16], taddr[16];
	uint16_t cport, tport;

	enum tw_sess_state state;
	enum tw_outcome outcome;

	/* our side, in the captured client's sequence space */
	uint32_t isn;
	uint32_t snd_una, snd_nxt, snd_max;
	uint32_t rel;                    /* bytes (and FIN) before this may be sent */
	struct tw_segq q;
	bool ts_on;                      /* send timestamps */
	uint16_t ip_id;

	/* the target */
	uint32_t t_isn, rcv_nxt;
	uint32_t t_win;                  /* scaled */
	uint8_t t_wscale;
	uint16_t t_mss;
	uint32_t ts_recent;
	bool t_fin;

	/* pacing */
	struct tw_pace pace;
	uint32_t cuts_seen;
	uint64_t resp;                   /* target payload bytes so far */

	/* timers */
	struct tw_timer t_rto, t_pace, t_gap;
	uint64_t rto;
	unsigned retries;
	uint64_t fin_acked_at;
	bool send_failed;                /* the last send attempt failed */
	bool capture_ended;
};

/*
 * Start a session for the captured conversation. ISN is the captured client
 * ISN (from its SYN), or the first captured seq - 1 for a session joined
 * mid-stream (then SYN_CAPTURED is false and BASE_ACK the first captured
 * ACK). TS_ON: the captured client used timestamps. Sends the SYN.
 */
void tw_sess_start(struct tw_sess *s, const struct tw_sess_env *env, uint8_t ipver,
		   const uint8_t caddr[16], uint16_t cport, const uint8_t taddr[16], uint16_t tport,
		   uint32_t isn, bool ts_on, uint64_t now);

/* A captured client->server packet of this conversation (decoded; payload
 * complete: the caller never passes a truncated packet). */
void tw_sess_client(struct tw_sess *s, const struct tw_pkt *p, uint64_t now);

/* A reply header from the target (via intercept). */
void tw_sess_reply(struct tw_sess *s, const struct tw_wire_reply *r, uint64_t now);

/* No more captured packets will come for this session. */
void tw_sess_capture_end(struct tw_sess *s, uint64_t now);

/* End now with OUTCOME (e.g. the engine shuts down); sends a RST. */
void tw_sess_abort(struct tw_sess *s, enum tw_outcome outcome, uint64_t now);

#endif
