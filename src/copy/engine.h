/*
 * engine.h - the replay engine of `tcptwin copy` (raw mode).
 *
 * Reads captured frames from a capture source (a file, paced by its
 * timestamps or at top speed; or live), keeps the client->server packets of
 * the conversations that an -x rule matches (and -r samples), starts one
 * session per captured conversation and copy (-n) on a fresh replay tuple
 * (addrplan), feeds each session its captured segments, hands the target's
 * replies (from intercept, through tw_copy_reply) to the session they belong
 * to, and sends what the sessions emit through a sink in batches.
 * It counts everything and knows when the replay is over. It does not talk
 * to intercept itself (the caller wires a relay client to tw_copy_reply and
 * to the registration hooks) and does not print.
 */
#ifndef TW_COPY_ENGINE_H
#define TW_COPY_ENGINE_H

#include "copy/addrplan.h"
#include "copy/sess.h"
#include "pkt/decode.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

struct tw_loop;
struct tw_src;
struct tw_wire_reply;

#define TW_COPY_MAX_SOURCES 64

struct tw_copy_cfg {
	struct tw_ap_cfg ap;           /* -x -c -n -r */
	struct tw_sess_cfg sess;
	struct tw_decode_cfg dcfg;
	uint32_t max_sessions;         /* sessions alive at once (default 65536) */
	uint64_t max_held_bytes;       /* captured bytes held for sessions (default 512 MiB) */
	uint32_t max_connecting;       /* files: new sessions wait while this many SYNs are
	                                * unanswered (the target's accept queue is full; 256) */
	uint32_t mtu;                  /* -M; 0 = the route's MTU toward the first target */
	const char *outdev;            /* -o DEV: send at the link layer; NULL = raw IP */
	bool has_dst_mac;
	uint8_t dst_mac[6];
	double speed;                  /* -a: time factor for files (default 1) */
	bool topspeed;                 /* --topspeed: files as fast as sessions take them */
	unsigned loops;                /* --loop: times through a file (default 1) */
	uint64_t drain_ns;             /* after the input ends, the most sessions may take */
	bool socket_mode;              /* --mode socket: kernel TCP connections to the target */
	bool transparent;              /* socket mode: keep the client addresses (IP_TRANSPARENT) */
	struct tw_ap_ip source_ip[TW_COPY_MAX_SOURCES]; /* socket mode: --source-ip, round robin */
	unsigned nsource;
	FILE *diff;                    /* socket mode: each differing reply as a JSON line */
};

void tw_copy_cfg_init(struct tw_copy_cfg *cfg);

/* Called for each replay tuple that starts (ADD) or ends: the caller tells
 * intercept. FLUSH is called after a batch of calls. */
struct tw_copy_registrar {
	int (*reg)(void *arg, bool add, int ipver, const uint8_t client[16], uint16_t cport,
		   const uint8_t target[16], uint16_t tport);
	void (*flush)(void *arg);
	void *arg;
};

struct tw_copy_stats {
	uint64_t frames, tcp_client, not_matched, not_sampled, undecodable, truncated;
	uint64_t sessions, sessions_refused, tuples_refused;
	uint64_t family_refused;       /* conversations with no client address of the target's family */
	uint64_t replies, replies_unknown;
	uint64_t after_gap;            /* captured packets of a conversation already lost to a gap */
	uint64_t resp_match, resp_differ; /* socket mode: exchanges whose replies matched / differed */
	uint64_t resp_unjudged;        /* ... not judged: production's reply not wholly captured */
	uint64_t sink_errors;
	uint64_t input_loops;
	uint64_t capture_drops;        /* live: frames the kernel could not queue for us */
	struct tw_sess_stats sess;
};

struct tw_copy;

/* Build the engine on LOOP. ERR gets a one-line message. */
int tw_copy_new(struct tw_loop *loop, const struct tw_copy_cfg *cfg,
		const struct tw_copy_registrar *reg, struct tw_copy **out, char *err, size_t errlen);
/* Start reading SRC (the engine does not own it). LIVE: read as it comes;
 * otherwise a file, paced by -a / --topspeed, and read again for --loop
 * (REOPEN is then called to get the source back at its start; NULL = no
 * loops). */
int tw_copy_start(struct tw_copy *c, struct tw_src *src, bool live,
		  struct tw_src *(*reopen)(void *arg), void *reopen_arg);
/* A reply header from intercept. */
void tw_copy_reply(struct tw_copy *c, const struct tw_wire_reply *r);
/* Stop reading input (SIGINT): every session finishes what it has. */
void tw_copy_stop_input(struct tw_copy *c);
/* True once the input has ended and every session has its outcome. */
bool tw_copy_finished(const struct tw_copy *c);
/* Progress line data. */
void tw_copy_get_stats(const struct tw_copy *c, struct tw_copy_stats *st);
size_t tw_copy_live_sessions(const struct tw_copy *c);
/* Final summary (text) and JSON report. Gap sessions are named (first 100). */
void tw_copy_print_summary(const struct tw_copy *c, FILE *out);
int tw_copy_write_json(const struct tw_copy *c, FILE *out);
void tw_copy_free(struct tw_copy *c);

#endif
