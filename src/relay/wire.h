/*
 * wire.h - the copy <-> intercept channel's wire format (version 1): frame
 * encoding and incremental decoding, hello negotiation, and the bytes the
 * shared-secret MAC is computed over. docs/wire-format.md is the reference;
 * this header and that page change together.
 *
 * Pure codec: no sockets, no timers, no logging, no allocation. Decoding
 * reads only through struct tw_rd and copies every field into the caller's
 * struct tw_wire_msg (fixed arrays); only reply payload bytes are borrowed
 * (pointers into the input buffer). Encoding writes into caller buffers.
 *
 * Deliberately not here: the HMAC-SHA256 itself (the build links no crypto
 * library yet; the codec carries nonces and MACs as opaque bytes and
 * tw_wire_auth_input() builds the exact message to authenticate), message
 * ordering per connection, registration tables and the holding of early
 * replies (all for the relay's connection code).
 */
#ifndef TW_RELAY_WIRE_H
#define TW_RELAY_WIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "pkt/decode.h"

#define TW_WIRE_PORT 36524           /* default TCP port of intercept */
#define TW_WIRE_VERSION 1            /* the version this codec speaks */
#define TW_WIRE_MAGIC0 0x54          /* 'T': every frame starts "TW" */
#define TW_WIRE_MAGIC1 0x57          /* 'W' */
#define TW_WIRE_HDR_LEN 8            /* magic(2) type(1) flags(1) length(4) */
#define TW_WIRE_MAX_FRAME 65536      /* header + body, protocol limit */
#define TW_WIRE_MAX_BODY (TW_WIRE_MAX_FRAME - TW_WIRE_HDR_LEN)
#define TW_WIRE_NONCE_LEN 16
#define TW_WIRE_MAC_LEN 32           /* HMAC-SHA256 */
#define TW_WIRE_MAX_NAME 64          /* software name in HELLO (printable ASCII) */
#define TW_WIRE_MAX_REASON 200       /* REFUSE text (printable ASCII) */
#define TW_WIRE_MAX_TUPLES 256       /* per REGISTER / UNREGISTER frame */
#define TW_WIRE_MAX_REPLIES 64       /* per REPLY frame */
#define TW_WIRE_MAX_PAYLOAD 1500     /* payload bytes carried per reply record */
#define TW_WIRE_MAX_STATS 32         /* counters per STATS frame */
#define TW_WIRE_AUTH_INPUT_LEN 60    /* see tw_wire_auth_input */

enum tw_wire_type {
	TW_WIRE_HELLO = 1,           /* copy -> intercept, first frame */
	TW_WIRE_HELLO_ACK = 2,       /* intercept -> copy, answer to HELLO */
	TW_WIRE_REFUSE = 3,          /* either way, then the sender closes */
	TW_WIRE_AUTH = 4,            /* either way, when a secret is configured */
	TW_WIRE_REGISTER = 5,        /* copy -> intercept: sessions' reply tuples */
	TW_WIRE_UNREGISTER = 6,      /* copy -> intercept: sessions ended */
	TW_WIRE_REPLY = 7,           /* intercept -> copy: captured reply headers */
	TW_WIRE_STATS = 8,           /* either way: counters */
	TW_WIRE_KEEPALIVE = 9,       /* either way: liveness, ping/pong */
	TW_WIRE_TYPE_MAX = TW_WIRE_KEEPALIVE,
};

/* Frame header flags. */
enum {
	TW_WIRE_F_OPTIONAL = 0x01,   /* a receiver that does not know the type skips the frame */
	TW_WIRE_F_MASK = 0x01,       /* other bits are reserved: must be zero */
};

enum tw_wire_role {
	TW_WIRE_ROLE_COPY = 1,
	TW_WIRE_ROLE_INTERCEPT = 2,
};

/* Capability bits of HELLO / HELLO_ACK. */
enum {
	TW_WIRE_CAP_PAYLOAD = 0x01,  /* replies carry up to hello.payload payload bytes */
	TW_WIRE_CAP_BATCH = 0x02,    /* more than one record per REPLY frame */
	TW_WIRE_CAP_AUTH = 0x04,     /* a shared secret is configured: AUTH both ways */
	TW_WIRE_CAP_STATS = 0x08,    /* STATS frames wanted / sent */
	TW_WIRE_CAP_KNOWN = 0x0f,
};

/* REFUSE codes. */
enum tw_wire_refuse_code {
	TW_WIRE_REFUSE_VERSION = 1,  /* no common protocol version */
	TW_WIRE_REFUSE_ROLE = 2,     /* the peer has the wrong role */
	TW_WIRE_REFUSE_CAPS = 3,     /* a required capability is not available */
	TW_WIRE_REFUSE_AUTH = 4,     /* secret configured on one side only, or bad MAC */
	TW_WIRE_REFUSE_NETWORK = 5,  /* peer address not in the allowed networks */
	TW_WIRE_REFUSE_BUSY = 6,     /* connection or session limit reached */
	TW_WIRE_REFUSE_PROTOCOL = 7, /* malformed or unexpected frame */
	TW_WIRE_REFUSE_SHUTDOWN = 8, /* the peer is stopping */
};

/* Presence bits of a reply record's TCP options (the wire's "opt bits"). */
enum {
	TW_WIRE_OPT_MSS = 0x01,
	TW_WIRE_OPT_WSCALE = 0x02,
	TW_WIRE_OPT_SACK_OK = 0x04,
	TW_WIRE_OPT_TS = 0x08,
};

/* Counter ids of STATS (unknown ids are carried, callers ignore them). */
enum tw_wire_stat_id {
	TW_WIRE_STAT_CAPTURED = 1,       /* replies captured */
	TW_WIRE_STAT_FORWARDED = 2,      /* reply records sent to copies */
	TW_WIRE_STAT_HELD = 3,           /* replies held waiting for their registration */
	TW_WIRE_STAT_UNMATCHED = 4,      /* replies dropped: no registration */
	TW_WIRE_STAT_EXPIRED = 5,        /* held replies dropped after the hold time */
	TW_WIRE_STAT_REGISTERED = 6,     /* tuples currently registered */
	TW_WIRE_STAT_CAPTURE_DROPS = 7,  /* kernel capture drops */
	TW_WIRE_STAT_SEND_DROPS = 8,     /* records dropped: copy's connection full */
};

/* HELLO and HELLO_ACK body. In an ACK ver_min == ver_max == the version chosen
 * and caps/payload/batch are what was granted. */
struct tw_wire_hello {
	uint16_t ver_min, ver_max;
	uint8_t role;                    /* enum tw_wire_role */
	uint16_t payload;                /* payload bytes per reply: wanted / granted */
	uint32_t caps;                   /* TW_WIRE_CAP_* (unknown bits kept) */
	uint16_t batch;                  /* max records per REPLY frame (1 = no batching) */
	uint16_t keepalive;              /* seconds between the sender's keepalives, 0 none */
	uint8_t nonce[TW_WIRE_NONCE_LEN];
	char name[TW_WIRE_MAX_NAME + 1]; /* NUL-terminated software name, may be "" */
	uint32_t ext_len;                /* decode only: trailing bytes of a later version */
};

struct tw_wire_refuse {
	uint16_t code;                   /* enum tw_wire_refuse_code (others possible) */
	char reason[TW_WIRE_MAX_REASON + 1]; /* NUL-terminated, printable ASCII */
	uint32_t ext_len;                /* decode only, as in hello */
};

/* A session's reply 4-tuple: replies go from server (the target) to client. */
struct tw_wire_tuple {
	uint8_t ipver;                   /* 4 or 6 */
	uint16_t cport, sport;           /* client port, server (target) port */
	uint8_t caddr[16], saddr[16];    /* IPv4 in the first 4 bytes, rest zero */
};

/* One captured reply (server -> client) as copy needs it. */
struct tw_wire_reply {
	uint8_t ipver;                   /* 4 or 6 */
	uint8_t ecn;                     /* IP ECN field (0..3) */
	uint16_t flags;                  /* TW_TH_*, AE included */
	uint8_t src[16], dst[16];        /* IPv4 in the first 4 bytes, rest zero */
	uint16_t sport, dport;
	uint32_t seq, ack;
	uint16_t win;                    /* as in the header, not scaled */
	uint32_t payload_len;            /* TCP payload bytes the reply carried */
	struct tw_tcp_opts opts;         /* mss, wscale, sack_ok, ts, SACK blocks */
	const uint8_t *payload;          /* first payload_cap bytes (decode: into the buffer) */
	uint16_t payload_cap;            /* bytes carried, <= payload_len */
};

struct tw_wire_stat {
	uint16_t id;                     /* enum tw_wire_stat_id */
	uint64_t value;
};

struct tw_wire_keepalive {
	bool pong;                       /* false: ping (answer wanted), true: answer */
	uint64_t token;                  /* echoed unchanged in the pong */
};

/* One decoded (or to-be-encoded) frame. About 10 KB: keep one per connection,
 * not on a small stack. */
struct tw_wire_msg {
	uint8_t type;                    /* enum tw_wire_type, or unknown + F_OPTIONAL */
	uint8_t flags;                   /* TW_WIRE_F_* */
	uint32_t body_len;               /* decode only */
	union {
		struct tw_wire_hello hello;          /* HELLO, HELLO_ACK */
		struct tw_wire_refuse refuse;
		uint8_t mac[TW_WIRE_MAC_LEN];        /* AUTH */
		struct {
			uint16_t n;
			struct tw_wire_tuple t[TW_WIRE_MAX_TUPLES];
		} reg;                               /* REGISTER, UNREGISTER */
		struct {
			uint16_t n;
			struct tw_wire_reply r[TW_WIRE_MAX_REPLIES];
		} reply;                             /* REPLY */
		struct {
			uint16_t n;
			struct tw_wire_stat s[TW_WIRE_MAX_STATS];
		} stats;                             /* STATS */
		struct tw_wire_keepalive ka;         /* KEEPALIVE */
	} u;
};

/*
 * Decode the first frame of BUF (LEN bytes: possibly a partial frame,
 * possibly several frames). Never reads outside BUF, never allocates.
 * Returns:
 *   > 0  the frame's length: MSG holds it (reply payload pointers point into
 *        BUF); the next frame starts at BUF + return value.
 *   0    need more bytes (MSG unspecified).
 *   < 0  the stream is unusable, close it: -TW_EMALFORMED (bad magic, unknown
 *        type without F_OPTIONAL, reserved bits set, impossible field),
 *        -EMSGSIZE (length above TW_WIRE_MAX_BODY), -TW_ETRUNC (a body or
 *        record shorter than its fields say). *REASON (if REASON) is set to
 *        a static text naming the problem.
 * A header error is reported as soon as the bytes showing it have arrived.
 * A frame of unknown type with F_OPTIONAL decodes with MSG->type as sent and
 * no body: the caller skips it.
 */
int tw_wire_decode(const uint8_t *buf, size_t len, struct tw_wire_msg *msg, const char **reason);

/* Length of the frame starting at BUF if its header is complete and valid
 * (> 0), 0 if fewer than TW_WIRE_HDR_LEN bytes, or tw_wire_decode's error.
 * For readers sizing their next read. */
int tw_wire_frame_len(const uint8_t *buf, size_t len, const char **reason);

/*
 * Encode MSG (type, flags and the matching union member) into BUF. Returns
 * the frame length; -ENOSPC if the frame does not fit in CAP or in
 * TW_WIRE_MAX_FRAME bytes (BUF contents then unspecified); -EINVAL if MSG is
 * not encodable (unknown type, ipver not 4/6, counts, texts or payload beyond
 * the limits above, non-printable text, payload_cap > payload_len, NULL
 * payload with payload_cap > 0, flags with reserved bits). Fields that are
 * absent (options not flagged, address bytes past 4 for IPv4) are written as
 * zeros, so the output is the one canonical encoding tw_wire_decode accepts.
 */
int tw_wire_encode(const struct tw_wire_msg *msg, void *buf, size_t cap);

/*
 * Batch builder: REGISTER, UNREGISTER or REPLY frames assembled record by
 * record directly in the caller's buffer (no struct tw_wire_msg needed).
 * begin: 0, -EINVAL (other type), -ENOSPC. add: 0; -ENOSPC when the record
 * does not fit in the buffer, the frame limit or the per-frame count (the
 * frame is left as it was: end it, send it, begin another); -EINVAL for an
 * invalid record. end: the frame length (> 0), or -EINVAL if nothing was
 * begun. After begin, MAX may be lowered to the negotiated batch size.
 */
struct tw_wire_batch {
	uint8_t *base;
	size_t cap, pos;
	uint8_t type;
	uint16_t n, max;
};

int tw_wire_batch_begin(struct tw_wire_batch *b, void *buf, size_t cap, uint8_t type);
int tw_wire_batch_add_tuple(struct tw_wire_batch *b, const struct tw_wire_tuple *t);
int tw_wire_batch_add_reply(struct tw_wire_batch *b, const struct tw_wire_reply *r);
int tw_wire_batch_end(struct tw_wire_batch *b);

/* Bytes a reply / tuple record takes on the wire (0 if ipver is not 4/6). */
size_t tw_wire_reply_size(const struct tw_wire_reply *r);
size_t tw_wire_tuple_size(const struct tw_wire_tuple *t);

/* Fill R from a decoded TCP packet P (server -> client), carrying at most
 * PAYLOAD_MAX payload bytes (clipped to what was captured). R->payload points
 * into P's buffer. Returns 0, or -EINVAL if P is not TCP over IPv4/IPv6. */
int tw_wire_reply_from_pkt(const struct tw_pkt *p, uint16_t payload_max, struct tw_wire_reply *r);

/*
 * Intercept side: answer the copy's HELLO PEER with the intercept's own
 * settings LOCAL (version range, offered caps, max payload, max batch,
 * keepalive, nonce, name). Fills ACK and returns 0, or returns a
 * TW_WIRE_REFUSE_* code (> 0) with REASON (cap REASON_CAP, NUL-terminated,
 * printable) saying what differs and what to change. With REASON_CAP =
 * TW_WIRE_MAX_REASON + 1 the text goes into a REFUSE as it is.
 */
int tw_wire_hello_answer(const struct tw_wire_hello *local, const struct tw_wire_hello *peer,
			 struct tw_wire_hello *ack, char *reason, size_t reason_cap);

/* Copy side: check the HELLO_ACK against the HELLO it SENT. Returns 0, or a
 * TW_WIRE_REFUSE_* code with REASON as above. */
int tw_wire_hello_check_ack(const struct tw_wire_hello *sent, const struct tw_wire_hello *ack,
			    char *reason, size_t reason_cap);

/*
 * The message an AUTH MAC authenticates: HMAC-SHA256(secret, OUT) where OUT
 * is built here from the SIGNER's role, the copy's HELLO nonce and the
 * negotiated ACK (version, caps, payload, batch, intercept nonce), so a MAC
 * cannot be replayed on another connection, reflected to the other side or
 * kept across a downgraded negotiation. Layout in docs/wire-format.md.
 * Returns TW_WIRE_AUTH_INPUT_LEN.
 */
size_t tw_wire_auth_input(uint8_t out[TW_WIRE_AUTH_INPUT_LEN], uint8_t signer_role,
			  const struct tw_wire_hello *copy_hello, const struct tw_wire_hello *ack);

/* Constant-time comparison of two MACs. */
bool tw_wire_mac_equal(const uint8_t a[TW_WIRE_MAC_LEN], const uint8_t b[TW_WIRE_MAC_LEN]);

/* Error code for a REFUSE received: -TW_EPROTO_VERSION for VERSION, -EACCES
 * for AUTH and NETWORK, -EBUSY, -ESHUTDOWN, else -EPROTO. */
int tw_wire_refuse_err(uint16_t code);

/* Names for logs: "HELLO", ...; "unknown" for others. */
const char *tw_wire_type_name(uint8_t type);
const char *tw_wire_refuse_name(uint16_t code);

#endif
