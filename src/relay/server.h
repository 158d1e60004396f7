/*
 * server.h - the intercept side of the channel: the listening socket, the
 * handshake with each copy (allowed networks, version, shared secret), the
 * registration table (reply 4-tuple -> the copy that owns it), the routing
 * of captured reply records to their copy in batches, and a bounded hold
 * for replies that arrive before their registration.
 *
 * It does not capture: the caller (icept.c) decodes captured replies and
 * hands them in with tw_relay_server_reply, then calls
 * tw_relay_server_flush after each burst. No allocation per reply.
 */
#ifndef TW_RELAY_SERVER_H
#define TW_RELAY_SERVER_H

#include "relay/auth.h"
#include "relay/wire.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct tw_loop;

#define TW_RELAY_MAX_ALLOW 32

struct tw_relay_net {
	uint8_t ver;                     /* 4 or 6 */
	uint8_t plen;
	uint8_t a[16];
};

struct tw_relay_server_cfg {
	const char *bind;                /* -b ADDR; NULL = every address (IPv4 and IPv6) */
	uint16_t port;                   /* -p (36524) */
	const struct tw_secret *secret;  /* NULL or len 0: none */
	struct tw_relay_net allow[TW_RELAY_MAX_ALLOW]; /* --allow; none = everyone */
	unsigned nallow;
	uint16_t ver_min, ver_max;
	unsigned max_conns;              /* copies connected at once (64) */
	uint32_t max_tuples;             /* registrations in all (262144) */
	uint32_t hold_max;               /* replies held for a registration (65536) */
	uint64_t hold_ns;                /* how long (3 s) */
	size_t tx_cap;                   /* send buffer per copy (16 MiB) */
	uint16_t payload;                /* reply payload bytes offered per record (128; the
	                                  * capture must keep them: icept's snap length) */
};

struct tw_relay_server_stats {
	uint64_t captured;               /* replies handed in */
	uint64_t forwarded;              /* records queued to a copy */
	uint64_t held, held_forwarded, held_expired, held_overflow;
	uint64_t unmatched;              /* no registration (and not held) */
	uint64_t send_drops;             /* a copy's send buffer was full */
	uint64_t reg_refused;            /* registration table full */
	uint64_t conns, refused;         /* copies accepted (handshake done) / refused */
	uint64_t registered;             /* tuples registered now */
	unsigned live_conns;
};

struct tw_relay_server;

void tw_relay_server_cfg_init(struct tw_relay_server_cfg *cfg);
/* --allow "CIDR[,CIDR]" (an address alone is a /32 or /128). Returns 0 or
 * -EINVAL with a message naming the bad item. */
int tw_relay_parse_allow(struct tw_relay_server_cfg *cfg, const char *s, char *err, size_t errlen);
/* Listen and serve on LOOP. ERR gets one line. */
int tw_relay_server_open(struct tw_loop *loop, const struct tw_relay_server_cfg *cfg,
			 struct tw_relay_server **out, char *err, size_t errlen);
/* One captured reply: forwarded to the copy that registered its tuple,
 * held a moment when none has yet, else counted as unmatched. */
void tw_relay_server_reply(struct tw_relay_server *srv, const struct tw_wire_reply *r);
/* Send what the replies since the last call queued. */
void tw_relay_server_flush(struct tw_relay_server *srv);
void tw_relay_server_get_stats(const struct tw_relay_server *srv, struct tw_relay_server_stats *st);
void tw_relay_server_close(struct tw_relay_server *srv);

#endif
