/*
 * client.h - the copy side of the channel: one connection to each intercept
 * given with -s, the hello/auth handshake (at start, with a timeout),
 * registration of every replay tuple with every intercept (batched), and
 * the reply records intercept sends back, handed to a callback.
 *
 * It does not know sessions; the replay engine calls tw_relay_client_reg
 * through its registrar hooks. A lost or refusing intercept is an error the
 * caller is told about (on_fail), never a silent stop.
 */
#ifndef TW_RELAY_CLIENT_H
#define TW_RELAY_CLIENT_H

#include "relay/auth.h"
#include "relay/wire.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct tw_loop;

#define TW_RELAY_MAX_PEERS 32

struct tw_relay_client_cfg {
	const char *servers;             /* -s HOST[:PORT][,HOST[:PORT]...], IPv6 as [ADDR]:PORT */
	uint16_t port;                   /* -p: port when a server names none (36524) */
	const struct tw_secret *secret;  /* NULL or len 0: none */
	uint16_t ver_min, ver_max;       /* wire versions spoken (tests may change them) */
	unsigned timeout_ms;             /* connect + handshake, per intercept */
	size_t tx_cap;                   /* send buffer per intercept */
	uint16_t payload;                /* reply payload bytes wanted per record (0: headers only) */
	/* A reply record from an intercept. */
	void (*on_reply)(void *arg, const struct tw_wire_reply *r);
	/* An intercept was lost or broke the protocol; MSG names it and says why. */
	void (*on_fail)(void *arg, const char *msg);
	void *arg;
};

struct tw_relay_client_stats {
	uint64_t regs, unregs;           /* tuples sent */
	uint64_t reg_dropped;            /* tuples not sent: an intercept's send buffer was full */
	uint64_t replies;                /* reply records received */
	uint64_t frames_in;
	unsigned peers;
};

struct tw_relay_client;

void tw_relay_client_cfg_init(struct tw_relay_client_cfg *cfg);
/* Connect to every intercept and complete the handshake; ERR gets one line
 * naming the intercept and the reason (including a REFUSE's text).
 * Returns 0 or -errno / -TW_EPROTO_VERSION. */
int tw_relay_client_open(struct tw_loop *loop, const struct tw_relay_client_cfg *cfg,
			 struct tw_relay_client **out, char *err, size_t errlen);
/* Register (ADD) or unregister a replay tuple with every intercept.
 * Queued; sent by tw_relay_client_flush. Returns 0 (a full buffer is
 * counted in reg_dropped). */
int tw_relay_client_reg(struct tw_relay_client *cl, bool add, int ipver, const uint8_t client[16],
			uint16_t cport, const uint8_t target[16], uint16_t tport);
void tw_relay_client_flush(struct tw_relay_client *cl);
void tw_relay_client_get_stats(const struct tw_relay_client *cl, struct tw_relay_client_stats *st);
/* Tell the intercepts we are going (REFUSE SHUTDOWN) and close. */
void tw_relay_client_close(struct tw_relay_client *cl);

/* Split one -s item "HOST[:PORT]" / "[V6]:PORT" / "V6" into HOST and PORT
 * (DEF_PORT when absent). Returns 0 or -EINVAL. Pure. */
int tw_relay_split_hostport(const char *s, size_t len, char *host, size_t hostlen, uint16_t def_port,
			    uint16_t *port);

#endif
