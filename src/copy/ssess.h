/*
 * ssess.h - one replayed session in socket mode: a kernel TCP connection
 * from the replay host to the target, fed the captured client byte stream
 * with the same release rule as raw sessions (pace.h). The kernel does the
 * TCP (handshake, retransmission, window); this file does the connect,
 * the pacing, the writes, reading (and counting) the target's replies, the
 * close, and the session's one outcome.
 *
 * Unlike sess.c it makes syscalls (socket, connect, send, recv, close) but
 * never logs and never allocates: chunks come from the shared pool.
 */
#ifndef TW_COPY_SSESS_H
#define TW_COPY_SSESS_H

#include "copy/pace.h"
#include "copy/segq.h"
#include "copy/sess.h"
#include "core/loop.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

struct tw_pkt;
struct tw_ssess;

struct tw_ssess_env {
	const struct tw_sess_cfg *cfg;
	struct tw_loop *loop;
	struct tw_pool *segs;
	struct tw_sess_stats *st;
	void (*done)(void *ctx, struct tw_ssess *s); /* the outcome is set; free after this */
	/* optional: reply bytes read, and each release of a new request */
	void (*reply)(void *ctx, struct tw_ssess *s, const uint8_t *data, size_t len);
	void (*cut)(void *ctx, struct tw_ssess *s);
	void *ctx;
	uint8_t *scratch;                /* TW_SESS_SCRATCH bytes */
	bool transparent;                /* bind the source with IP_TRANSPARENT */
	uint64_t connect_ns;             /* the longest a connect may take */
};

enum tw_ssess_state { TW_SSS_CONNECTING = 0, TW_SSS_OPEN, TW_SSS_CLOSED };

struct tw_ssess {
	const struct tw_ssess_env *env;
	void *user;                      /* the engine's */
	int fd;
	struct tw_io io;
	unsigned io_events;
	enum tw_ssess_state state;
	enum tw_outcome outcome;
	uint32_t sent;                   /* next captured seq to write */
	uint32_t rel;                    /* bytes (and FIN) before this may be written */
	struct tw_segq q;
	struct tw_pace pace;
	uint64_t resp;                   /* reply bytes read */
	bool peer_fin, wr_shut;
	uint32_t cuts_seen;
	struct tw_timer t_pace, t_gap, t_conn, t_close;
};

/*
 * Start: a non-blocking connect to DST (bound to SRC first when SRC is not
 * NULL; port 0 lets the kernel choose at connect time). ISN is the captured
 * client's initial sequence number (the stream starts at ISN + 1). The
 * session ends through env->done in every case, also when the socket cannot
 * be made (outcome send_error, or no_synack / reset_by_target for a refused
 * connect).
 */
void tw_ssess_start(struct tw_ssess *s, const struct tw_ssess_env *env, const struct sockaddr *dst,
		    socklen_t dstlen, const struct sockaddr *src, socklen_t srclen, uint32_t isn,
		    uint64_t now);
void tw_ssess_client(struct tw_ssess *s, const struct tw_pkt *p, uint64_t now);
void tw_ssess_capture_end(struct tw_ssess *s, uint64_t now);
void tw_ssess_abort(struct tw_ssess *s, enum tw_outcome outcome, uint64_t now);

#endif
