/*
 * test_wire.c - unit tests of src/relay/wire.c, the copy <-> intercept
 * channel format (docs/wire-format.md). Each message type has a reference
 * frame written out byte by byte below, so any format change shows up here;
 * the tests encode to those bytes, decode them back, feed them at every split
 * point and concatenated, cut their bodies at every length, and check the
 * header errors (magic, flags, type, size), record validation, the batch
 * builder, hello negotiation (version, role, auth, payload, batch) and the
 * AUTH input layout. Does not compute MACs (no crypto in the build).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>

#include <cmocka.h>

#include "core/err.h"
#include "pkt/decode.h"
#include "relay/wire.h"

/* ---- reference frames (hand-written from docs/wire-format.md) --------- */

/* HELLO copy -> intercept: versions 1-1, caps PAYLOAD|BATCH|STATS, 128
 * payload bytes, batch 16, keepalive 5 s, nonce 00..0f, name "tcptwin 0.1". */
static const uint8_t ref_hello[] = {
	0x54, 0x57, 0x01, 0x00, 0x00, 0x00, 0x00, 0x2b, /* "TW", HELLO, flags 0, body 43 */
	0x00, 0x01, 0x00, 0x01,                         /* ver_min 1, ver_max 1 */
	0x00, 0x00, 0x00, 0x0b,                         /* caps PAYLOAD|BATCH|STATS */
	0x00, 0x80, 0x00, 0x10, 0x00, 0x05,             /* payload 128, batch 16, keepalive 5 */
	0x01, 0x0b,                                     /* role copy, name length 11 */
	0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, /* nonce */
	0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f,
	't', 'c', 'p', 't', 'w', 'i', 'n', ' ', '0', '.', '1',
};

/* HELLO_ACK intercept -> copy: version 1, caps PAYLOAD|BATCH|AUTH|STATS,
 * payload 128, batch 8, keepalive 10 s, role intercept, no name, nonce f0..ff. */
static const uint8_t ref_ack[] = {
	0x54, 0x57, 0x02, 0x00, 0x00, 0x00, 0x00, 0x20, /* HELLO_ACK, body 32 */
	0x00, 0x01, 0x00, 0x01,                         /* version 1 (min == max) */
	0x00, 0x00, 0x00, 0x0f,                         /* caps */
	0x00, 0x80, 0x00, 0x08, 0x00, 0x0a,             /* payload 128, batch 8, keepalive 10 */
	0x02, 0x00,                                     /* role intercept, name length 0 */
	0xf0, 0xf1, 0xf2, 0xf3, 0xf4, 0xf5, 0xf6, 0xf7,
	0xf8, 0xf9, 0xfa, 0xfb, 0xfc, 0xfd, 0xfe, 0xff,
};

/* REFUSE code 1 (version), reason "version". */
static const uint8_t ref_refuse[] = {
	0x54, 0x57, 0x03, 0x00, 0x00, 0x00, 0x00, 0x0a, /* REFUSE, body 10 */
	0x00, 0x01, 0x07,                               /* code 1, text length 7 */
	'v', 'e', 'r', 's', 'i', 'o', 'n',
};

/* AUTH with MAC bytes a0..bf. */
static const uint8_t ref_auth[] = {
	0x54, 0x57, 0x04, 0x00, 0x00, 0x00, 0x00, 0x20, /* AUTH, body 32 */
	0xa0, 0xa1, 0xa2, 0xa3, 0xa4, 0xa5, 0xa6, 0xa7, 0xa8, 0xa9, 0xaa, 0xab,
	0xac, 0xad, 0xae, 0xaf, 0xb0, 0xb1, 0xb2, 0xb3, 0xb4, 0xb5, 0xb6, 0xb7,
	0xb8, 0xb9, 0xba, 0xbb, 0xbc, 0xbd, 0xbe, 0xbf,
};

/* REGISTER: 10.0.0.1:40000 <- 10.0.0.2:80 and [fd00::1]:50000 <- [fd00::2]:8080. */
static const uint8_t ref_register[] = {
	0x54, 0x57, 0x05, 0x00, 0x00, 0x00, 0x00, 0x38, /* REGISTER, body 56 */
	0x00, 0x02, 0x00, 0x00,                         /* 2 tuples, reserved */
	0x04, 0x00, 0x9c, 0x40, 0x00, 0x50,             /* v4, rsvd, cport 40000, sport 80 */
	0x0a, 0x00, 0x00, 0x01, 0x0a, 0x00, 0x00, 0x02, /* client, server */
	0x06, 0x00, 0xc3, 0x50, 0x1f, 0x90,             /* v6, rsvd, cport 50000, sport 8080 */
	0xfd, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, /* client fd00::1 */
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01,
	0xfd, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, /* server fd00::2 */
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02,
};

/* UNREGISTER: 192.168.1.10:1234 <- 192.168.1.20:443. */
static const uint8_t ref_unregister[] = {
	0x54, 0x57, 0x06, 0x00, 0x00, 0x00, 0x00, 0x12, /* UNREGISTER, body 18 */
	0x00, 0x01, 0x00, 0x00,
	0x04, 0x00, 0x04, 0xd2, 0x01, 0xbb,
	0xc0, 0xa8, 0x01, 0x0a, 0xc0, 0xa8, 0x01, 0x14,
};

/* REPLY with two records:
 * 1. IPv4 SYN|ACK|ECE 10.0.0.2:80 -> 10.0.0.1:40000, seq 0x11223344,
 *    ack 0x01020305, win 65160, MSS 1460, wscale 7, SACK-permitted,
 *    TS 0x0a0b0c0d/0x01010101, no payload.
 * 2. IPv6 PSH|ACK|AE ECT(0) [fd00::2]:8080 -> [fd00::1]:50000,
 *    seq 0xfffffff0, ack 7, win 501, TS 1/2, SACK 0x100-0x200, 1000 payload
 *    bytes of which 4 ("HTTP") are carried. */
static const uint8_t ref_reply[] = {
	0x54, 0x57, 0x07, 0x00, 0x00, 0x00, 0x00, 0x88, /* REPLY, body 136 */
	0x00, 0x02, 0x00, 0x00,                         /* 2 records */
	/* record 1 (48 bytes) */
	0x04, 0x00, 0x00, 0x52,                         /* v4, ecn 0, flags SYN|ACK|ECE */
	0x00, 0x50, 0x9c, 0x40,                         /* sport 80, dport 40000 */
	0x11, 0x22, 0x33, 0x44, 0x01, 0x02, 0x03, 0x05, /* seq, ack */
	0xfe, 0x88, 0x0f, 0x00,                         /* win, opt bits MSS|WS|SACKOK|TS, nsack 0 */
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, /* payload len 0, carried 0, rsvd */
	0x0a, 0x00, 0x00, 0x02, 0x0a, 0x00, 0x00, 0x01, /* src, dst */
	0x05, 0xb4, 0x07, 0x00,                         /* mss 1460, wscale 7, rsvd */
	0x0a, 0x0b, 0x0c, 0x0d, 0x01, 0x01, 0x01, 0x01, /* ts val, ecr */
	/* record 2 (84 bytes) */
	0x06, 0x02, 0x01, 0x18,                         /* v6, ECT(0), flags AE|ACK|PSH */
	0x1f, 0x90, 0xc3, 0x50,                         /* sport 8080, dport 50000 */
	0xff, 0xff, 0xff, 0xf0, 0x00, 0x00, 0x00, 0x07, /* seq, ack */
	0x01, 0xf5, 0x08, 0x01,                         /* win 501, opt bits TS, nsack 1 */
	0x00, 0x00, 0x03, 0xe8, 0x00, 0x04, 0x00, 0x00, /* payload len 1000, carried 4, rsvd */
	0xfd, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, /* src fd00::2 */
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02,
	0xfd, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, /* dst fd00::1 */
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01,
	0x00, 0x00, 0x00, 0x00,                         /* no mss, no wscale, rsvd */
	0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x02, /* ts val 1, ecr 2 */
	0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x02, 0x00, /* SACK 0x100-0x200 */
	'H', 'T', 'T', 'P',
};

/* STATS: captured = 1000000, capture drops = 0x100000002. */
static const uint8_t ref_stats[] = {
	0x54, 0x57, 0x08, 0x00, 0x00, 0x00, 0x00, 0x1c, /* STATS, body 28 */
	0x00, 0x02, 0x00, 0x00,
	0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x0f, 0x42, 0x40,
	0x00, 0x07, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x02,
};

/* KEEPALIVE ping, token 0x0123456789abcdef. */
static const uint8_t ref_keepalive[] = {
	0x54, 0x57, 0x09, 0x00, 0x00, 0x00, 0x00, 0x0c, /* KEEPALIVE, body 12 */
	0x00, 0x00, 0x00, 0x00,                         /* ping, reserved */
	0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef,
};

/* ---- the same frames as messages -------------------------------------- */

static const uint8_t v6_1[16] = {0xfd, 0, [15] = 1};
static const uint8_t v6_2[16] = {0xfd, 0, [15] = 2};

static struct tw_wire_msg msg;            /* big: keep them off the stack */
static struct tw_wire_msg msg2;

static void fill_hello(struct tw_wire_msg *m)
{
	memset(m, 0, sizeof(*m));
	m->type = TW_WIRE_HELLO;
	m->u.hello = (struct tw_wire_hello){
		.ver_min = 1, .ver_max = 1, .caps = 0x0b, .payload = 128, .batch = 16,
		.keepalive = 5, .role = TW_WIRE_ROLE_COPY, .name = "tcptwin 0.1"};
	for (int i = 0; i < 16; i++)
		m->u.hello.nonce[i] = (uint8_t)i;
}

static void fill_ack(struct tw_wire_msg *m)
{
	memset(m, 0, sizeof(*m));
	m->type = TW_WIRE_HELLO_ACK;
	m->u.hello = (struct tw_wire_hello){
		.ver_min = 1, .ver_max = 1, .caps = 0x0f, .payload = 128, .batch = 8,
		.keepalive = 10, .role = TW_WIRE_ROLE_INTERCEPT};
	for (int i = 0; i < 16; i++)
		m->u.hello.nonce[i] = (uint8_t)(0xf0 + i);
}

static void fill_refuse(struct tw_wire_msg *m)
{
	memset(m, 0, sizeof(*m));
	m->type = TW_WIRE_REFUSE;
	m->u.refuse.code = TW_WIRE_REFUSE_VERSION;
	strcpy(m->u.refuse.reason, "version");
}

static void fill_auth(struct tw_wire_msg *m)
{
	memset(m, 0, sizeof(*m));
	m->type = TW_WIRE_AUTH;
	for (int i = 0; i < 32; i++)
		m->u.mac[i] = (uint8_t)(0xa0 + i);
}

static void fill_register(struct tw_wire_msg *m)
{
	memset(m, 0, sizeof(*m));
	m->type = TW_WIRE_REGISTER;
	m->u.reg.n = 2;
	m->u.reg.t[0] = (struct tw_wire_tuple){.ipver = 4, .cport = 40000, .sport = 80,
					       .caddr = {10, 0, 0, 1}, .saddr = {10, 0, 0, 2}};
	m->u.reg.t[1] = (struct tw_wire_tuple){.ipver = 6, .cport = 50000, .sport = 8080};
	memcpy(m->u.reg.t[1].caddr, v6_1, 16);
	memcpy(m->u.reg.t[1].saddr, v6_2, 16);
}

static void fill_unregister(struct tw_wire_msg *m)
{
	memset(m, 0, sizeof(*m));
	m->type = TW_WIRE_UNREGISTER;
	m->u.reg.n = 1;
	m->u.reg.t[0] = (struct tw_wire_tuple){.ipver = 4, .cport = 1234, .sport = 443,
					       .caddr = {192, 168, 1, 10},
					       .saddr = {192, 168, 1, 20}};
}

static const uint8_t http[4] = {'H', 'T', 'T', 'P'};

static void fill_reply(struct tw_wire_msg *m)
{
	struct tw_wire_reply *r;

	memset(m, 0, sizeof(*m));
	m->type = TW_WIRE_REPLY;
	m->u.reply.n = 2;
	r = &m->u.reply.r[0];
	*r = (struct tw_wire_reply){
		.ipver = 4, .flags = TW_TH_SYN | TW_TH_ACK | TW_TH_ECE, .src = {10, 0, 0, 2},
		.dst = {10, 0, 0, 1}, .sport = 80, .dport = 40000, .seq = 0x11223344,
		.ack = 0x01020305, .win = 65160,
		.opts = {.has_mss = true, .mss = 1460, .has_wscale = true, .wscale = 7,
			 .sack_ok = true, .has_ts = true, .ts_val = 0x0a0b0c0d, .ts_ecr = 0x01010101}};
	r = &m->u.reply.r[1];
	*r = (struct tw_wire_reply){
		.ipver = 6, .ecn = 2, .flags = TW_TH_AE | TW_TH_ACK | TW_TH_PSH, .sport = 8080,
		.dport = 50000, .seq = 0xfffffff0, .ack = 7, .win = 501, .payload_len = 1000,
		.payload = http, .payload_cap = 4,
		.opts = {.has_ts = true, .ts_val = 1, .ts_ecr = 2, .nsack = 1,
			 .sack = {{0x100, 0x200}}}};
	memcpy(r->src, v6_2, 16);
	memcpy(r->dst, v6_1, 16);
}

static void fill_stats(struct tw_wire_msg *m)
{
	memset(m, 0, sizeof(*m));
	m->type = TW_WIRE_STATS;
	m->u.stats.n = 2;
	m->u.stats.s[0] = (struct tw_wire_stat){TW_WIRE_STAT_CAPTURED, 1000000};
	m->u.stats.s[1] = (struct tw_wire_stat){TW_WIRE_STAT_CAPTURE_DROPS, 0x100000002ull};
}

static void fill_keepalive(struct tw_wire_msg *m)
{
	memset(m, 0, sizeof(*m));
	m->type = TW_WIRE_KEEPALIVE;
	m->u.ka.token = 0x0123456789abcdefull;
}

struct ref {
	const char *name;
	const uint8_t *bytes;
	size_t len;
	void (*fill)(struct tw_wire_msg *m);
};

#define REF(n, f) {#n, n, sizeof(n), f}
static const struct ref refs[] = {
	REF(ref_hello, fill_hello),       REF(ref_ack, fill_ack),
	REF(ref_refuse, fill_refuse),     REF(ref_auth, fill_auth),
	REF(ref_register, fill_register), REF(ref_unregister, fill_unregister),
	REF(ref_reply, fill_reply),       REF(ref_stats, fill_stats),
	REF(ref_keepalive, fill_keepalive),
};
#define NREFS (sizeof(refs) / sizeof(refs[0]))

/* ---- comparison of decoded messages ------------------------------------ */

static void assert_reply_equal(const struct tw_wire_reply *a, const struct tw_wire_reply *b)
{
	size_t al = a->ipver == 4 ? 4 : 16;

	assert_int_equal(a->ipver, b->ipver);
	assert_int_equal(a->ecn, b->ecn);
	assert_int_equal(a->flags, b->flags);
	assert_memory_equal(a->src, b->src, al);
	assert_memory_equal(a->dst, b->dst, al);
	assert_int_equal(a->sport, b->sport);
	assert_int_equal(a->dport, b->dport);
	assert_int_equal(a->seq, b->seq);
	assert_int_equal(a->ack, b->ack);
	assert_int_equal(a->win, b->win);
	assert_int_equal(a->payload_len, b->payload_len);
	assert_int_equal(a->payload_cap, b->payload_cap);
	if (a->payload_cap)
		assert_memory_equal(a->payload, b->payload, a->payload_cap);
	assert_int_equal(a->opts.has_mss, b->opts.has_mss);
	assert_int_equal(a->opts.has_wscale, b->opts.has_wscale);
	assert_int_equal(a->opts.sack_ok, b->opts.sack_ok);
	assert_int_equal(a->opts.has_ts, b->opts.has_ts);
	if (a->opts.has_mss)
		assert_int_equal(a->opts.mss, b->opts.mss);
	if (a->opts.has_wscale)
		assert_int_equal(a->opts.wscale, b->opts.wscale);
	if (a->opts.has_ts) {
		assert_int_equal(a->opts.ts_val, b->opts.ts_val);
		assert_int_equal(a->opts.ts_ecr, b->opts.ts_ecr);
	}
	assert_int_equal(a->opts.nsack, b->opts.nsack);
	for (int i = 0; i < a->opts.nsack; i++) {
		assert_int_equal(a->opts.sack[i][0], b->opts.sack[i][0]);
		assert_int_equal(a->opts.sack[i][1], b->opts.sack[i][1]);
	}
}

static void assert_tuple_equal(const struct tw_wire_tuple *a, const struct tw_wire_tuple *b)
{
	assert_int_equal(a->ipver, b->ipver);
	assert_int_equal(a->cport, b->cport);
	assert_int_equal(a->sport, b->sport);
	assert_memory_equal(a->caddr, b->caddr, 16);  /* IPv4: the rest must be zero */
	assert_memory_equal(a->saddr, b->saddr, 16);
}

static void assert_msg_equal(const struct tw_wire_msg *a, const struct tw_wire_msg *b)
{
	assert_int_equal(a->type, b->type);
	assert_int_equal(a->flags, b->flags);
	switch (a->type) {
	case TW_WIRE_HELLO:
	case TW_WIRE_HELLO_ACK: {
		const struct tw_wire_hello *x = &a->u.hello, *y = &b->u.hello;

		assert_int_equal(x->ver_min, y->ver_min);
		assert_int_equal(x->ver_max, y->ver_max);
		assert_int_equal(x->role, y->role);
		assert_int_equal(x->payload, y->payload);
		assert_int_equal(x->caps, y->caps);
		assert_int_equal(x->batch, y->batch);
		assert_int_equal(x->keepalive, y->keepalive);
		assert_memory_equal(x->nonce, y->nonce, 16);
		assert_string_equal(x->name, y->name);
		break;
	}
	case TW_WIRE_REFUSE:
		assert_int_equal(a->u.refuse.code, b->u.refuse.code);
		assert_string_equal(a->u.refuse.reason, b->u.refuse.reason);
		break;
	case TW_WIRE_AUTH:
		assert_memory_equal(a->u.mac, b->u.mac, 32);
		break;
	case TW_WIRE_REGISTER:
	case TW_WIRE_UNREGISTER:
		assert_int_equal(a->u.reg.n, b->u.reg.n);
		for (int i = 0; i < a->u.reg.n; i++)
			assert_tuple_equal(&a->u.reg.t[i], &b->u.reg.t[i]);
		break;
	case TW_WIRE_REPLY:
		assert_int_equal(a->u.reply.n, b->u.reply.n);
		for (int i = 0; i < a->u.reply.n; i++)
			assert_reply_equal(&a->u.reply.r[i], &b->u.reply.r[i]);
		break;
	case TW_WIRE_STATS:
		assert_int_equal(a->u.stats.n, b->u.stats.n);
		for (int i = 0; i < a->u.stats.n; i++) {
			assert_int_equal(a->u.stats.s[i].id, b->u.stats.s[i].id);
			assert_true(a->u.stats.s[i].value == b->u.stats.s[i].value);
		}
		break;
	case TW_WIRE_KEEPALIVE:
		assert_int_equal(a->u.ka.pong, b->u.ka.pong);
		assert_true(a->u.ka.token == b->u.ka.token);
		break;
	default:
		fail_msg("unexpected type %u", a->type);
	}
}

/* Decode exactly one frame of LEN bytes; fails the test otherwise. */
static void decode_ok(const uint8_t *buf, size_t len, struct tw_wire_msg *m)
{
	const char *why = NULL;
	int n = tw_wire_decode(buf, len, m, &why);

	if (n != (int)len)
		fail_msg("decode: %d (%s), expected %zu", n, why ? why : "-", len);
}

/* Decode BUF expecting error ERR; returns the reason. */
static const char *decode_err(const uint8_t *buf, size_t len, int err)
{
	const char *why = NULL;
	int n = tw_wire_decode(buf, len, &msg2, &why);

	if (n != err)
		fail_msg("decode: %d, expected %d (%s)", n, err, why ? why : "-");
	assert_non_null(why);
	return why;
}

/* ---- tests ------------------------------------------------------------ */

static void test_encode_reference(void **state)
{
	uint8_t buf[512];

	(void)state;
	for (size_t i = 0; i < NREFS; i++) {
		refs[i].fill(&msg);
		memset(buf, 0xcc, sizeof(buf));
		int n = tw_wire_encode(&msg, buf, sizeof(buf));
		if (n != (int)refs[i].len)
			fail_msg("%s: encoded %d bytes, reference %zu", refs[i].name, n, refs[i].len);
		assert_memory_equal(buf, refs[i].bytes, refs[i].len);
		assert_int_equal(buf[n], 0xcc);
	}
}

static void test_decode_reference(void **state)
{
	(void)state;
	for (size_t i = 0; i < NREFS; i++) {
		refs[i].fill(&msg);
		memset(&msg2, 0x5a, sizeof(msg2));
		decode_ok(refs[i].bytes, refs[i].len, &msg2);
		assert_int_equal(msg2.body_len, refs[i].len - TW_WIRE_HDR_LEN);
		assert_msg_equal(&msg, &msg2);
	}
	/* Spot checks against the bytes, independent of fill_*(). */
	decode_ok(ref_reply, sizeof(ref_reply), &msg2);
	assert_int_equal(msg2.u.reply.r[1].flags, 0x118);
	assert_ptr_equal(msg2.u.reply.r[1].payload, ref_reply + sizeof(ref_reply) - 4);
	assert_null(msg2.u.reply.r[0].payload);
	assert_int_equal(msg2.u.reply.r[0].opts.mss, 1460);
	decode_ok(ref_hello, sizeof(ref_hello), &msg2);
	assert_string_equal(msg2.u.hello.name, "tcptwin 0.1");
	assert_int_equal(msg2.u.hello.ext_len, 0);
}

/* Messages beyond the references: IPv4-only and IPv6-only batches, limits. */
static void test_round_trip(void **state)
{
	static uint8_t buf[TW_WIRE_MAX_FRAME], pl[TW_WIRE_MAX_PAYLOAD];
	int n;

	(void)state;
	for (size_t i = 0; i < sizeof(pl); i++)
		pl[i] = (uint8_t)(i * 7);
	for (int v = 4; v <= 6; v += 2) {
		memset(&msg, 0, sizeof(msg));
		msg.type = TW_WIRE_REGISTER;
		msg.u.reg.n = TW_WIRE_MAX_TUPLES;
		for (int i = 0; i < TW_WIRE_MAX_TUPLES; i++) {
			struct tw_wire_tuple *t = &msg.u.reg.t[i];

			t->ipver = (uint8_t)v;
			t->cport = (uint16_t)(1024 + i);
			t->sport = 443;
			t->caddr[0] = 10;
			t->caddr[3] = (uint8_t)i;
			t->saddr[0] = 10;
			t->saddr[3] = 200;
			if (v == 6)
				t->caddr[15] = t->saddr[15] = 0x99;
		}
		n = tw_wire_encode(&msg, buf, sizeof(buf));
		assert_int_equal(n, 8 + 4 + TW_WIRE_MAX_TUPLES * (v == 4 ? 14 : 38));
		decode_ok(buf, (size_t)n, &msg2);
		assert_msg_equal(&msg, &msg2);

		memset(&msg, 0, sizeof(msg));
		msg.type = TW_WIRE_REPLY;
		msg.flags = TW_WIRE_F_OPTIONAL;
		msg.u.reply.n = TW_WIRE_MAX_REPLIES;
		for (int i = 0; i < TW_WIRE_MAX_REPLIES; i++) {
			struct tw_wire_reply *r = &msg.u.reply.r[i];

			r->ipver = (uint8_t)v;
			r->ecn = (uint8_t)(i & 3);
			r->flags = (uint16_t)(i * 37 & 0x1ff);
			r->src[0] = 10;
			r->dst[3] = (uint8_t)i;
			if (v == 6)
				r->dst[15] = 1;
			r->sport = 80;
			r->dport = (uint16_t)(30000 + i);
			r->seq = 0xfffffff0u + (uint32_t)i;
			r->ack = (uint32_t)i * 1000;
			r->win = (uint16_t)(i * 999);
			r->opts.has_mss = i & 1;
			r->opts.mss = i & 1 ? 1400 : 0;
			r->opts.has_wscale = i & 2;
			r->opts.wscale = i & 2 ? 14 : 0;
			r->opts.sack_ok = i & 4;
			r->opts.has_ts = i & 8;
			r->opts.ts_val = i & 8 ? 0xffffffffu : 0;
			r->opts.ts_ecr = i & 8 ? 5 : 0;
			r->opts.nsack = (uint8_t)(i % 5);
			for (int k = 0; k < r->opts.nsack; k++) {
				r->opts.sack[k][0] = (uint32_t)(k * 100);
				r->opts.sack[k][1] = (uint32_t)(k * 100 + 50);
			}
			r->payload_len = 100000;
			r->payload_cap = (uint16_t)(i < 40 ? (i * 23) % 900 : 0);
			r->payload = r->payload_cap ? pl : NULL;
		}
		n = tw_wire_encode(&msg, buf, sizeof(buf));
		assert_true(n > 0);
		decode_ok(buf, (size_t)n, &msg2);
		assert_msg_equal(&msg, &msg2);
	}

	/* Every text length, hello with the longest name, keepalive pong. */
	fill_refuse(&msg);
	for (int len = 0; len <= TW_WIRE_MAX_REASON; len++) {
		memset(msg.u.refuse.reason, 'a' + len % 26, (size_t)len);
		msg.u.refuse.reason[len] = '\0';
		n = tw_wire_encode(&msg, buf, sizeof(buf));
		assert_int_equal(n, 8 + 3 + len);
		decode_ok(buf, (size_t)n, &msg2);
		assert_msg_equal(&msg, &msg2);
	}
	fill_hello(&msg);
	memset(msg.u.hello.name, '~', TW_WIRE_MAX_NAME);
	msg.u.hello.name[TW_WIRE_MAX_NAME] = '\0';
	n = tw_wire_encode(&msg, buf, sizeof(buf));
	assert_int_equal(n, 8 + 32 + TW_WIRE_MAX_NAME);
	decode_ok(buf, (size_t)n, &msg2);
	assert_msg_equal(&msg, &msg2);
	fill_keepalive(&msg);
	msg.u.ka.pong = true;
	msg.u.ka.token = UINT64_MAX;
	n = tw_wire_encode(&msg, buf, sizeof(buf));
	assert_int_equal(n, 20);
	assert_int_equal(buf[8], 1);
	decode_ok(buf, (size_t)n, &msg2);
	assert_msg_equal(&msg, &msg2);
}

static void test_partial_every_split(void **state)
{
	const char *why;

	(void)state;
	for (size_t i = 0; i < NREFS; i++) {
		for (size_t k = 0; k < refs[i].len; k++) {
			why = NULL;
			if (tw_wire_decode(refs[i].bytes, k, &msg2, &why) != 0)
				fail_msg("%s: %zu of %zu bytes: not 'need more' (%s)", refs[i].name,
					 k, refs[i].len, why ? why : "-");
			assert_int_equal(tw_wire_frame_len(refs[i].bytes, k, NULL),
					 k < TW_WIRE_HDR_LEN ? 0 : (int)refs[i].len);
		}
		decode_ok(refs[i].bytes, refs[i].len, &msg2);
	}
}

static void test_several_frames(void **state)
{
	static uint8_t stream[4096];
	size_t len = 0, off = 0;
	int count = 0;

	(void)state;
	for (int rep = 0; rep < 3; rep++)
		for (size_t i = 0; i < NREFS; i++) {
			memcpy(stream + len, refs[i].bytes, refs[i].len);
			len += refs[i].len;
		}
	/* Half of a next frame at the end: decoded frames stop before it. */
	memcpy(stream + len, ref_reply, 20);
	while (off < len + 20) {
		const char *why = NULL;
		int n = tw_wire_decode(stream + off, len + 20 - off, &msg2, &why);

		if (n == 0)
			break;
		assert_true(n > 0);
		const struct ref *r = &refs[count % NREFS];
		assert_int_equal(n, r->len);
		r->fill(&msg);
		assert_msg_equal(&msg, &msg2);
		off += (size_t)n;
		count++;
	}
	assert_int_equal(count, 3 * NREFS);
	assert_int_equal(off, len);
}

static void test_header_errors(void **state)
{
	uint8_t b[64];
	const char *why;

	(void)state;
	/* Wrong magic: reported from the first wrong byte on. */
	why = decode_err((const uint8_t *)"X", 1, -TW_EMALFORMED);
	assert_non_null(strstr(why, "magic"));
	decode_err((const uint8_t *)"TX", 2, -TW_EMALFORMED);
	decode_err((const uint8_t *)"HTTP/1.1 400 Bad Request\r\n", 26, -TW_EMALFORMED);
	/* A TCPCopy client-add record (client IP first). */
	decode_err((const uint8_t *)"\x0a\x00\x00\x01\x9c\x40\x00\x01\x0a\x00\x00\x02\x00\x50",
		   14, -TW_EMALFORMED);

	/* Oversize length: refused on the header alone. */
	memcpy(b, ref_keepalive, 8);
	b[4] = 0x00, b[5] = 0x00, b[6] = 0xff, b[7] = 0xf9;   /* 65529 */
	why = decode_err(b, 8, -EMSGSIZE);
	assert_non_null(strstr(why, "maximum"));
	b[4] = 0xff, b[5] = 0xff, b[6] = 0xff, b[7] = 0xff;
	decode_err(b, 8, -EMSGSIZE);
	b[4] = 0x00, b[5] = 0x00, b[6] = 0xff, b[7] = 0xf8;   /* 65528: allowed, need more */
	assert_int_equal(tw_wire_decode(b, 8, &msg2, NULL), 0);
	assert_int_equal(tw_wire_frame_len(b, 8, NULL), TW_WIRE_MAX_FRAME);

	/* Unknown types: 0, 10, 0xff; with F_OPTIONAL the frame is skipped. */
	const uint8_t types[] = {0, 10, 0x7f, 0xff};
	for (size_t i = 0; i < sizeof(types); i++) {
		memcpy(b, "TW\0\0\0\0\0\3xyz", 11);
		b[2] = types[i];
		why = decode_err(b, 4, -TW_EMALFORMED);
		assert_non_null(strstr(why, "unknown message type"));
		b[3] = TW_WIRE_F_OPTIONAL;
		assert_int_equal(tw_wire_decode(b, 10, &msg2, NULL), 0);
		assert_int_equal(tw_wire_decode(b, 11, &msg2, NULL), 11);
		assert_int_equal(msg2.type, types[i]);
		assert_int_equal(msg2.flags, TW_WIRE_F_OPTIONAL);
		assert_int_equal(msg2.body_len, 3);
	}
	/* A known type with F_OPTIONAL decodes normally. */
	memcpy(b, ref_keepalive, sizeof(ref_keepalive));
	b[3] = TW_WIRE_F_OPTIONAL;
	decode_ok(b, sizeof(ref_keepalive), &msg2);
	assert_int_equal(msg2.type, TW_WIRE_KEEPALIVE);
	/* Reserved flag bits. */
	for (int bit = 1; bit < 8; bit++) {
		b[3] = (uint8_t)(1u << bit);
		why = decode_err(b, 4, -TW_EMALFORMED);
		assert_non_null(strstr(why, "flag"));
	}
}

/* Bodies cut at every length (header length adjusted): always an error,
 * never an over-read (ASan watches the exact-size copy). */
static void test_truncated_bodies(void **state)
{
	(void)state;
	for (size_t i = 0; i < NREFS; i++) {
		size_t body = refs[i].len - TW_WIRE_HDR_LEN;

		for (size_t cut = 0; cut < body; cut++) {
			uint8_t *b = malloc(TW_WIRE_HDR_LEN + cut);
			const char *why = NULL;
			int n;

			assert_non_null(b);
			memcpy(b, refs[i].bytes, TW_WIRE_HDR_LEN + cut);
			b[4] = 0, b[5] = 0, b[6] = (uint8_t)(cut >> 8), b[7] = (uint8_t)cut;
			n = tw_wire_decode(b, TW_WIRE_HDR_LEN + cut, &msg2, &why);
			/* Text bodies may end inside their text: still a cut. */
			if (n != -TW_ETRUNC && n != -TW_EMALFORMED)
				fail_msg("%s cut to %zu body bytes: %d", refs[i].name, cut, n);
			assert_non_null(why);
			free(b);
		}
	}
	/* REPLY announcing 2 records but carrying one. */
	uint8_t b[sizeof(ref_reply)];
	memcpy(b, ref_reply, 8 + 4 + 48);
	b[7] = 4 + 48;
	assert_non_null(strstr(decode_err(b, 8 + 4 + 48, -TW_ETRUNC), "cut short"));
}

static void test_record_errors(void **state)
{
	uint8_t b[256];

	(void)state;
#define MUT(ref, off, val, err)                                    \
	do {                                                       \
		memcpy(b, ref, sizeof(ref));                       \
		b[off] = (val);                                    \
		decode_err(b, sizeof(ref), err);                   \
	} while (0)
	/* trailing byte after the last record */
	memcpy(b, ref_register, sizeof(ref_register));
	b[sizeof(ref_register)] = 0;
	b[7]++;
	assert_non_null(strstr(decode_err(b, sizeof(ref_register) + 1, -TW_EMALFORMED), "trailing"));
	MUT(ref_register, 12, 5, -TW_EMALFORMED);      /* tuple IP version 5 */
	MUT(ref_register, 13, 1, -TW_EMALFORMED);      /* tuple reserved */
	MUT(ref_register, 10, 1, -TW_EMALFORMED);      /* batch reserved */
	MUT(ref_register, 9, 3, -TW_ETRUNC);           /* count 3, two present */
	MUT(ref_register, 9, 1, -TW_EMALFORMED);       /* count 1: second is trailing */
	MUT(ref_register, 8, 1, -TW_EMALFORMED);       /* count 257 > limit */
	MUT(ref_reply, 12, 0, -TW_EMALFORMED);         /* IP version 0 */
	MUT(ref_reply, 13, 4, -TW_EMALFORMED);         /* ecn reserved bits */
	MUT(ref_reply, 14, 0x02, -TW_EMALFORMED);      /* flag bits above AE */
	MUT(ref_reply, 30, 0x1f, -TW_EMALFORMED);      /* unknown option bit */
	MUT(ref_reply, 31, 5, -TW_EMALFORMED);         /* nsack 5 */
	MUT(ref_reply, 31, 1, -TW_EMALFORMED);         /* nsack 1: record 2 read 8 bytes late */
	MUT(ref_reply, 37, 1, -TW_EMALFORMED);         /* carried 1 > payload len 0 */
	MUT(ref_reply, 38, 1, -TW_EMALFORMED);         /* record reserved */
	MUT(ref_reply, 30, 0x0e, -TW_EMALFORMED);      /* MSS absent but 1460 written */
	MUT(ref_reply, 30, 0x0d, -TW_EMALFORMED);      /* wscale absent but 7 written */
	MUT(ref_reply, 30, 0x07, -TW_EMALFORMED);      /* TS absent but values written */
	MUT(ref_reply, 51, 1, -TW_EMALFORMED);         /* reserved byte after wscale */
	MUT(ref_reply, 8 + 4 + 48 + 24, 0x06, -TW_EMALFORMED); /* record 2 carries 1540 > 1500 */
	MUT(ref_stats, 14, 1, -TW_EMALFORMED);         /* counter reserved */
	/* Record 2 of ref_reply alone, payload length 3 < 4 bytes carried (all
	 * present, so only the length check can catch it). */
	memcpy(b, "TW\x07\x00\x00\x00\x00\x58\x00\x01\x00\x00", 12);
	memcpy(b + 12, ref_reply + 60, 84);
	decode_ok(b, 96, &msg2);
	b[12 + 22] = 0, b[12 + 23] = 3;
	assert_non_null(strstr(decode_err(b, 96, -TW_EMALFORMED), "payload"));
	MUT(ref_stats, 8, 1, -TW_EMALFORMED);          /* 258 counters > limit */
	MUT(ref_keepalive, 8, 2, -TW_EMALFORMED);      /* pong 2 */
	MUT(ref_keepalive, 10, 1, -TW_EMALFORMED);     /* reserved */
	MUT(ref_hello, 8 + 32, 0x07, -TW_EMALFORMED);  /* name with a control byte */
	MUT(ref_hello, 8 + 15, 12, -TW_ETRUNC);        /* name length past the body */
	MUT(ref_refuse, 12, 0x1b, -TW_EMALFORMED);     /* ESC in the reason text */
	MUT(ref_refuse, 10, 8, -TW_ETRUNC);            /* text length past the body */
#undef MUT
}

static void test_encode_errors(void **state)
{
	static uint8_t buf[2 * TW_WIRE_MAX_FRAME], pl[TW_WIRE_MAX_PAYLOAD];

	(void)state;
	/* Every capacity below the frame length. */
	for (size_t i = 0; i < NREFS; i++) {
		refs[i].fill(&msg);
		for (size_t cap = 0; cap < refs[i].len; cap++)
			if (tw_wire_encode(&msg, buf, cap) != -ENOSPC)
				fail_msg("%s: cap %zu did not give -ENOSPC", refs[i].name, cap);
		assert_int_equal(tw_wire_encode(&msg, buf, refs[i].len), refs[i].len);
	}
#define INVAL(fill, change)                                                  \
	do {                                                                 \
		fill(&msg);                                                  \
		change;                                                      \
		assert_int_equal(tw_wire_encode(&msg, buf, sizeof(buf)), -EINVAL); \
	} while (0)
	INVAL(fill_keepalive, msg.type = 0);
	INVAL(fill_keepalive, msg.type = TW_WIRE_TYPE_MAX + 1);
	INVAL(fill_keepalive, msg.flags = 0x02);
	INVAL(fill_register, msg.u.reg.t[1].ipver = 5);
	INVAL(fill_register, msg.u.reg.n = TW_WIRE_MAX_TUPLES + 1);
	INVAL(fill_reply, msg.u.reply.n = TW_WIRE_MAX_REPLIES + 1);
	INVAL(fill_reply, msg.u.reply.r[0].ipver = 0);
	INVAL(fill_reply, msg.u.reply.r[0].ecn = 4);
	INVAL(fill_reply, msg.u.reply.r[0].flags = 0x200);
	INVAL(fill_reply, msg.u.reply.r[0].opts.nsack = 5);
	INVAL(fill_reply, msg.u.reply.r[1].payload_cap = 1001);
	INVAL(fill_reply, msg.u.reply.r[1].payload = NULL);
	INVAL(fill_reply, (msg.u.reply.r[1].payload_len = 5000, msg.u.reply.r[1].payload_cap = 1501,
			   msg.u.reply.r[1].payload = pl));
	INVAL(fill_stats, msg.u.stats.n = TW_WIRE_MAX_STATS + 1);
	INVAL(fill_hello, memset(msg.u.hello.name, 'x', sizeof(msg.u.hello.name)));
	INVAL(fill_hello, msg.u.hello.name[2] = '\n');
	INVAL(fill_refuse, memset(msg.u.refuse.reason, 'x', sizeof(msg.u.refuse.reason)));
	INVAL(fill_refuse, msg.u.refuse.reason[0] = '\x7f');
#undef INVAL
	/* A batch bigger than the frame limit does not fit whatever the buffer. */
	fill_reply(&msg);
	msg.u.reply.n = TW_WIRE_MAX_REPLIES;
	for (int i = 0; i < TW_WIRE_MAX_REPLIES; i++) {
		msg.u.reply.r[i] = msg.u.reply.r[1];
		msg.u.reply.r[i].payload_len = 5000;
		msg.u.reply.r[i].payload_cap = TW_WIRE_MAX_PAYLOAD;
		msg.u.reply.r[i].payload = pl;
	}
	assert_int_equal(tw_wire_encode(&msg, buf, sizeof(buf)), -ENOSPC);
	/* Absent options are written as zeros whatever the struct holds. */
	fill_reply(&msg);
	msg.u.reply.r[1].opts.mss = 999;
	msg.u.reply.r[1].opts.wscale = 3;
	assert_int_equal(tw_wire_encode(&msg, buf, sizeof(buf)), sizeof(ref_reply));
	assert_memory_equal(buf, ref_reply, sizeof(ref_reply));
}

static void test_batch_builder(void **state)
{
	static uint8_t buf[TW_WIRE_MAX_FRAME];
	struct tw_wire_batch b;
	struct tw_wire_tuple t4, t6;
	int n;

	(void)state;
	/* The builder produces the reference frames. */
	fill_reply(&msg);
	assert_int_equal(tw_wire_batch_begin(&b, buf, sizeof(buf), TW_WIRE_REPLY), 0);
	assert_int_equal(tw_wire_batch_add_reply(&b, &msg.u.reply.r[0]), 0);
	assert_int_equal(tw_wire_batch_add_reply(&b, &msg.u.reply.r[1]), 0);
	assert_int_equal(tw_wire_batch_end(&b), sizeof(ref_reply));
	assert_memory_equal(buf, ref_reply, sizeof(ref_reply));
	assert_int_equal(tw_wire_reply_size(&msg.u.reply.r[0]), 48);
	assert_int_equal(tw_wire_reply_size(&msg.u.reply.r[1]), 84);
	fill_register(&msg);
	t4 = msg.u.reg.t[0];
	t6 = msg.u.reg.t[1];
	assert_int_equal(tw_wire_tuple_size(&t4), 14);
	assert_int_equal(tw_wire_tuple_size(&t6), 38);
	assert_int_equal(tw_wire_batch_begin(&b, buf, sizeof(buf), TW_WIRE_REGISTER), 0);
	assert_int_equal(tw_wire_batch_add_tuple(&b, &t4), 0);
	assert_int_equal(tw_wire_batch_add_tuple(&b, &t6), 0);
	assert_int_equal(tw_wire_batch_end(&b), sizeof(ref_register));
	assert_memory_equal(buf, ref_register, sizeof(ref_register));

	/* Wrong kinds. */
	assert_int_equal(tw_wire_batch_begin(&b, buf, sizeof(buf), TW_WIRE_HELLO), -EINVAL);
	assert_int_equal(tw_wire_batch_end(&b), -EINVAL);
	assert_int_equal(tw_wire_batch_begin(&b, buf, 11, TW_WIRE_UNREGISTER), -ENOSPC);
	assert_int_equal(tw_wire_batch_begin(&b, buf, 12, TW_WIRE_UNREGISTER), 0);
	assert_int_equal(tw_wire_batch_add_reply(&b, &msg2.u.reply.r[0]), -EINVAL);
	t4.ipver = 0;
	assert_int_equal(tw_wire_batch_add_tuple(&b, &t4), -EINVAL);
	t4.ipver = 4;
	assert_int_equal(tw_wire_batch_add_tuple(&b, &t4), -ENOSPC);
	n = tw_wire_batch_end(&b);
	assert_int_equal(n, 12);
	decode_ok(buf, 12, &msg2);
	assert_int_equal(msg2.type, TW_WIRE_UNREGISTER);
	assert_int_equal(msg2.u.reg.n, 0);

	/* Full buffer: the record that does not fit leaves the frame intact. */
	assert_int_equal(tw_wire_batch_begin(&b, buf, 100, TW_WIRE_REGISTER), 0);
	assert_int_equal(tw_wire_batch_add_tuple(&b, &t6), 0);
	assert_int_equal(tw_wire_batch_add_tuple(&b, &t6), 0);          /* 88 bytes */
	assert_int_equal(tw_wire_batch_add_tuple(&b, &t6), -ENOSPC);
	assert_int_equal(tw_wire_batch_add_tuple(&b, &t4), -ENOSPC);    /* 102 > 100 */
	n = tw_wire_batch_end(&b);
	assert_int_equal(n, 88);
	decode_ok(buf, 88, &msg2);
	assert_int_equal(msg2.u.reg.n, 2);
	assert_tuple_equal(&msg2.u.reg.t[1], &t6);

	/* Count limit, and a lowered limit (the negotiated batch size). */
	fill_reply(&msg);
	assert_int_equal(tw_wire_batch_begin(&b, buf, sizeof(buf), TW_WIRE_REPLY), 0);
	for (int i = 0; i < TW_WIRE_MAX_REPLIES; i++) {
		msg.u.reply.r[0].seq = (uint32_t)i;
		assert_int_equal(tw_wire_batch_add_reply(&b, &msg.u.reply.r[0]), 0);
	}
	assert_int_equal(tw_wire_batch_add_reply(&b, &msg.u.reply.r[0]), -ENOSPC);
	n = tw_wire_batch_end(&b);
	assert_int_equal(n, 12 + 64 * 48);
	decode_ok(buf, (size_t)n, &msg2);
	assert_int_equal(msg2.u.reply.n, 64);
	assert_int_equal(msg2.u.reply.r[63].seq, 63);
	assert_int_equal(tw_wire_batch_begin(&b, buf, sizeof(buf), TW_WIRE_REPLY), 0);
	b.max = 1;
	assert_int_equal(tw_wire_batch_add_reply(&b, &msg.u.reply.r[1]), 0);
	assert_int_equal(tw_wire_batch_add_reply(&b, &msg.u.reply.r[1]), -ENOSPC);
	assert_int_equal(tw_wire_batch_end(&b), 12 + 84);
	/* A reply that does not fit the buffer leaves the frame as it was. */
	assert_int_equal(tw_wire_batch_begin(&b, buf, 12 + 84 + 83, TW_WIRE_REPLY), 0);
	assert_int_equal(tw_wire_batch_add_reply(&b, &msg.u.reply.r[1]), 0);
	assert_int_equal(tw_wire_batch_add_reply(&b, &msg.u.reply.r[1]), -ENOSPC);
	msg.u.reply.r[0].ipver = 5;
	assert_int_equal(tw_wire_batch_add_reply(&b, &msg.u.reply.r[0]), -EINVAL);
	assert_int_equal(tw_wire_reply_size(&msg.u.reply.r[0]), 0);
	n = tw_wire_batch_end(&b);
	assert_int_equal(n, 12 + 84);
	decode_ok(buf, (size_t)n, &msg2);
	assert_int_equal(msg2.u.reply.n, 1);
	/* Tuple count limit. */
	assert_int_equal(tw_wire_batch_begin(&b, buf, sizeof(buf), TW_WIRE_REGISTER), 0);
	for (int i = 0; i < TW_WIRE_MAX_TUPLES; i++)
		assert_int_equal(tw_wire_batch_add_tuple(&b, &t4), 0);
	assert_int_equal(tw_wire_batch_add_tuple(&b, &t4), -ENOSPC);
	n = tw_wire_batch_end(&b);
	assert_int_equal(n, 12 + TW_WIRE_MAX_TUPLES * 14);
	decode_ok(buf, (size_t)n, &msg2);
	assert_int_equal(msg2.u.reg.n, TW_WIRE_MAX_TUPLES);
}

/* The copy's HELLO from fill_hello against an intercept's settings. */
static void intercept_local(struct tw_wire_hello *l)
{
	*l = (struct tw_wire_hello){.ver_min = 1, .ver_max = 1, .role = TW_WIRE_ROLE_INTERCEPT,
				    .caps = TW_WIRE_CAP_PAYLOAD | TW_WIRE_CAP_BATCH, .payload = 256,
				    .batch = 8, .keepalive = 10, .name = "tcptwin 0.2"};
	memset(l->nonce, 0xee, sizeof(l->nonce));
}

static void test_negotiation(void **state)
{
	struct tw_wire_hello local, peer, ack;
	char why[TW_WIRE_MAX_REASON + 1];
	int rc;

	(void)state;
	fill_hello(&msg);
	peer = msg.u.hello;
	intercept_local(&local);
	assert_int_equal(tw_wire_hello_answer(&local, &peer, &ack, why, sizeof(why)), 0);
	assert_int_equal(ack.ver_min, 1);
	assert_int_equal(ack.ver_max, 1);
	assert_int_equal(ack.role, TW_WIRE_ROLE_INTERCEPT);
	assert_int_equal(ack.caps, TW_WIRE_CAP_PAYLOAD | TW_WIRE_CAP_BATCH); /* no STATS offered */
	assert_int_equal(ack.payload, 128);
	assert_int_equal(ack.batch, 8);
	assert_int_equal(ack.keepalive, 10);
	assert_memory_equal(ack.nonce, local.nonce, 16);
	assert_string_equal(ack.name, "tcptwin 0.2");
	assert_int_equal(tw_wire_hello_check_ack(&peer, &ack, why, sizeof(why)), 0);
	assert_string_equal(why, "");

	/* Version mismatch, both directions, with a text naming both ranges. */
	peer.ver_min = 2, peer.ver_max = 3;
	rc = tw_wire_hello_answer(&local, &peer, &ack, why, sizeof(why));
	assert_int_equal(rc, TW_WIRE_REFUSE_VERSION);
	assert_non_null(strstr(why, "copy tcptwin 0.1 speaks 2-3"));
	assert_non_null(strstr(why, "intercept tcptwin 0.2 speaks 1-1"));
	assert_int_equal(tw_wire_refuse_err(rc), -TW_EPROTO_VERSION);
	peer.ver_min = 0, peer.ver_max = 5;
	local.ver_max = 2;
	assert_int_equal(tw_wire_hello_answer(&local, &peer, &ack, why, sizeof(why)), 0);
	assert_int_equal(ack.ver_max, 2);
	assert_int_equal(tw_wire_hello_check_ack(&peer, &ack, why, sizeof(why)), 0);
	peer.ver_min = 3, peer.ver_max = 2;           /* empty range */
	assert_int_equal(tw_wire_hello_answer(&local, &peer, &ack, why, sizeof(why)),
			 TW_WIRE_REFUSE_VERSION);
	/* The copy checks the version the intercept chose. */
	peer = msg.u.hello;
	intercept_local(&local);
	assert_int_equal(tw_wire_hello_answer(&local, &peer, &ack, why, sizeof(why)), 0);
	ack.ver_min = ack.ver_max = 2;
	assert_int_equal(tw_wire_hello_check_ack(&peer, &ack, why, sizeof(why)),
			 TW_WIRE_REFUSE_VERSION);
	assert_non_null(strstr(why, "chose 2-2, copy speaks 1-1"));
	ack.ver_min = 1;
	assert_int_equal(tw_wire_hello_check_ack(&peer, &ack, why, sizeof(why)),
			 TW_WIRE_REFUSE_VERSION);

	/* Roles. */
	peer.role = TW_WIRE_ROLE_INTERCEPT;
	assert_int_equal(tw_wire_hello_answer(&local, &peer, &ack, why, sizeof(why)),
			 TW_WIRE_REFUSE_ROLE);
	assert_non_null(strstr(why, "intercept (role 2)"));
	peer.role = TW_WIRE_ROLE_COPY;
	assert_int_equal(tw_wire_hello_answer(&local, &peer, &ack, why, sizeof(why)), 0);
	ack.role = TW_WIRE_ROLE_COPY;
	assert_int_equal(tw_wire_hello_check_ack(&peer, &ack, why, sizeof(why)),
			 TW_WIRE_REFUSE_ROLE);

	/* Shared secret on one side only, either side; on both. */
	peer.caps |= TW_WIRE_CAP_AUTH;
	assert_int_equal(tw_wire_hello_answer(&local, &peer, &ack, why, sizeof(why)),
			 TW_WIRE_REFUSE_AUTH);
	assert_non_null(strstr(why, "copy has a shared secret"));
	assert_int_equal(tw_wire_refuse_err(TW_WIRE_REFUSE_AUTH), -EACCES);
	peer.caps &= ~(uint32_t)TW_WIRE_CAP_AUTH;
	local.caps |= TW_WIRE_CAP_AUTH;
	assert_int_equal(tw_wire_hello_answer(&local, &peer, &ack, why, sizeof(why)),
			 TW_WIRE_REFUSE_AUTH);
	assert_non_null(strstr(why, "requires a shared secret"));
	peer.caps |= TW_WIRE_CAP_AUTH;
	assert_int_equal(tw_wire_hello_answer(&local, &peer, &ack, why, sizeof(why)), 0);
	assert_true(ack.caps & TW_WIRE_CAP_AUTH);
	assert_int_equal(tw_wire_hello_check_ack(&peer, &ack, why, sizeof(why)), 0);
	ack.caps &= ~(uint32_t)TW_WIRE_CAP_AUTH;
	assert_int_equal(tw_wire_hello_check_ack(&peer, &ack, why, sizeof(why)),
			 TW_WIRE_REFUSE_AUTH);

	/* Payload bytes: a requirement, refused when the intercept has fewer. */
	peer = msg.u.hello;
	intercept_local(&local);
	local.caps &= ~(uint32_t)TW_WIRE_CAP_PAYLOAD;
	assert_int_equal(tw_wire_hello_answer(&local, &peer, &ack, why, sizeof(why)),
			 TW_WIRE_REFUSE_CAPS);
	assert_non_null(strstr(why, "copy wants 128 reply payload bytes, "
				 "this intercept forwards at most 0"));
	local.caps |= TW_WIRE_CAP_PAYLOAD;
	local.payload = 64;
	assert_int_equal(tw_wire_hello_answer(&local, &peer, &ack, why, sizeof(why)),
			 TW_WIRE_REFUSE_CAPS);
	local.payload = 3000;
	peer.payload = 2000;
	assert_int_equal(tw_wire_hello_answer(&local, &peer, &ack, why, sizeof(why)),
			 TW_WIRE_REFUSE_CAPS);
	peer.caps &= ~(uint32_t)TW_WIRE_CAP_PAYLOAD;  /* not wanted: none granted */
	assert_int_equal(tw_wire_hello_answer(&local, &peer, &ack, why, sizeof(why)), 0);
	assert_int_equal(ack.payload, 0);
	assert_false(ack.caps & TW_WIRE_CAP_PAYLOAD);
	assert_int_equal(tw_wire_hello_check_ack(&peer, &ack, why, sizeof(why)), 0);
	ack.payload = 16;
	assert_int_equal(tw_wire_hello_check_ack(&peer, &ack, why, sizeof(why)),
			 TW_WIRE_REFUSE_CAPS);

	/* Batching: the smaller side wins, capped at the protocol limit. */
	peer = msg.u.hello;
	intercept_local(&local);
	peer.caps &= ~(uint32_t)TW_WIRE_CAP_BATCH;
	assert_int_equal(tw_wire_hello_answer(&local, &peer, &ack, why, sizeof(why)), 0);
	assert_int_equal(ack.batch, 1);
	assert_false(ack.caps & TW_WIRE_CAP_BATCH);
	assert_int_equal(tw_wire_hello_check_ack(&peer, &ack, why, sizeof(why)), 0);
	peer.caps |= TW_WIRE_CAP_BATCH | 0x100;       /* plus an unknown bit */
	peer.batch = 200;
	local.batch = 300;
	assert_int_equal(tw_wire_hello_answer(&local, &peer, &ack, why, sizeof(why)), 0);
	assert_int_equal(ack.batch, TW_WIRE_MAX_REPLIES);
	assert_int_equal(ack.caps, TW_WIRE_CAP_PAYLOAD | TW_WIRE_CAP_BATCH);
	assert_int_equal(tw_wire_hello_check_ack(&peer, &ack, why, sizeof(why)), 0);
	peer.batch = 4;
	assert_int_equal(tw_wire_hello_check_ack(&peer, &ack, why, sizeof(why)),
			 TW_WIRE_REFUSE_CAPS);
	assert_non_null(strstr(why, "batch 64 replies per frame, copy accepts 4"));
	/* Granted a capability that was not asked for. */
	peer = msg.u.hello;
	assert_int_equal(tw_wire_hello_answer(&local, &peer, &ack, why, sizeof(why)), 0);
	peer.caps &= ~(uint32_t)TW_WIRE_CAP_STATS;
	ack.caps |= TW_WIRE_CAP_STATS;
	assert_int_equal(tw_wire_hello_check_ack(&peer, &ack, why, sizeof(why)),
			 TW_WIRE_REFUSE_CAPS);

	/* Reasons fit a REFUSE as they are, even with the longest names, and are
	 * cut (NUL-terminated) in a small buffer. */
	peer = msg.u.hello;
	peer.ver_min = peer.ver_max = 9;
	memset(peer.name, 'c', TW_WIRE_MAX_NAME);
	memset(local.name, 'i', TW_WIRE_MAX_NAME);
	local.name[TW_WIRE_MAX_NAME] = '\0';
	rc = tw_wire_hello_answer(&local, &peer, &ack, why, sizeof(why));
	assert_int_equal(rc, TW_WIRE_REFUSE_VERSION);
	assert_int_equal(strlen(why), TW_WIRE_MAX_REASON);
	memset(&msg2, 0, sizeof(msg2));
	msg2.type = TW_WIRE_REFUSE;
	msg2.u.refuse.code = (uint16_t)rc;
	memcpy(msg2.u.refuse.reason, why, sizeof(why));
	uint8_t buf[256];
	assert_int_equal(tw_wire_encode(&msg2, buf, sizeof(buf)), 8 + 3 + TW_WIRE_MAX_REASON);
	char small[16];
	assert_int_equal(tw_wire_hello_answer(&local, &peer, &ack, small, sizeof(small)),
			 TW_WIRE_REFUSE_VERSION);
	assert_int_equal(strlen(small), 15);
}

/* A HELLO from a later version: longer body, other version range. Version 1
 * decodes it (ext_len says how much it skipped) and refuses cleanly. */
static void test_future_hello(void **state)
{
	uint8_t b[sizeof(ref_hello) + 5];
	struct tw_wire_hello local, ack;
	char why[TW_WIRE_MAX_REASON + 1];

	(void)state;
	memcpy(b, ref_hello, sizeof(ref_hello));
	memcpy(b + sizeof(ref_hello), "\1\2\3\4\5", 5);
	b[7] += 5;
	b[8 + 1] = 2, b[8 + 3] = 3;                   /* versions 2-3 */
	b[8 + 7] |= 0x80;                             /* an unknown capability */
	decode_ok(b, sizeof(b), &msg2);
	assert_int_equal(msg2.u.hello.ext_len, 5);
	assert_int_equal(msg2.u.hello.ver_min, 2);
	assert_int_equal(msg2.u.hello.ver_max, 3);
	intercept_local(&local);
	assert_int_equal(tw_wire_hello_answer(&local, &msg2.u.hello, &ack, why, sizeof(why)),
			 TW_WIRE_REFUSE_VERSION);
	/* The same with a REFUSE: extra bytes ignored, text kept. */
	uint8_t r[sizeof(ref_refuse) + 2];
	memcpy(r, ref_refuse, sizeof(ref_refuse));
	r[sizeof(ref_refuse)] = r[sizeof(ref_refuse) + 1] = 0xff;
	r[7] += 2;
	decode_ok(r, sizeof(r), &msg2);
	assert_string_equal(msg2.u.refuse.reason, "version");
	assert_int_equal(msg2.u.refuse.ext_len, 2);
	/* ...but not on other types. */
	uint8_t k[sizeof(ref_keepalive) + 1];
	memcpy(k, ref_keepalive, sizeof(ref_keepalive));
	k[sizeof(ref_keepalive)] = 0;
	k[7]++;
	decode_err(k, sizeof(k), -TW_EMALFORMED);
}

static void test_auth_input(void **state)
{
	static const uint8_t expect[TW_WIRE_AUTH_INPUT_LEN] = {
		't', 'c', 'p', 't', 'w', 'i', 'n', '-', 'a', 'u', 't', 'h', '-', 'v', '1', 0,
		0x01, 0x00,                             /* signer copy, reserved */
		0x00, 0x01,                             /* version 1 */
		0x00, 0x00, 0x00, 0x0f,                 /* granted caps */
		0x00, 0x80, 0x00, 0x08,                 /* payload 128, batch 8 */
		0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, /* copy nonce */
		0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f,
		0xf0, 0xf1, 0xf2, 0xf3, 0xf4, 0xf5, 0xf6, 0xf7, /* intercept nonce */
		0xf8, 0xf9, 0xfa, 0xfb, 0xfc, 0xfd, 0xfe, 0xff,
	};
	uint8_t out[TW_WIRE_AUTH_INPUT_LEN], out2[TW_WIRE_AUTH_INPUT_LEN];
	struct tw_wire_hello h, a;
	uint8_t m1[32], m2[32];

	(void)state;
	fill_hello(&msg);
	h = msg.u.hello;
	fill_ack(&msg);
	a = msg.u.hello;
	assert_int_equal(tw_wire_auth_input(out, TW_WIRE_ROLE_COPY, &h, &a), sizeof(expect));
	assert_memory_equal(out, expect, sizeof(expect));
	assert_int_equal(tw_wire_auth_input(out2, TW_WIRE_ROLE_INTERCEPT, &h, &a), sizeof(expect));
	assert_int_equal(out2[16], 2);
	assert_memory_equal(out2 + 17, expect + 17, sizeof(expect) - 17);

	memset(m1, 7, sizeof(m1));
	memcpy(m2, m1, sizeof(m2));
	assert_true(tw_wire_mac_equal(m1, m2));
	for (int i = 0; i < 32; i++) {
		m2[i] ^= 0x80;
		assert_false(tw_wire_mac_equal(m1, m2));
		m2[i] ^= 0x80;
	}
}

/* IPv4 PSH|ACK ECT(0) 10.0.0.2:80 -> 10.0.0.1:40000, seq 0x1000, ack 0x2000,
 * win 501, NOP NOP TS 5/6, payload "0123456789" (checksums left zero). */
static const uint8_t pkt4[62] = {
	0x45, 0x02, 0x00, 0x3e, 0x12, 0x34, 0x40, 0x00, 0x40, 0x06, 0x00, 0x00,
	0x0a, 0x00, 0x00, 0x02, 0x0a, 0x00, 0x00, 0x01,
	0x00, 0x50, 0x9c, 0x40, 0x00, 0x00, 0x10, 0x00, 0x00, 0x00, 0x20, 0x00,
	0x80, 0x18, 0x01, 0xf5, 0x00, 0x00, 0x00, 0x00,
	0x01, 0x01, 0x08, 0x0a, 0x00, 0x00, 0x00, 0x05, 0x00, 0x00, 0x00, 0x06,
	'0', '1', '2', '3', '4', '5', '6', '7', '8', '9',
};

static void test_reply_from_pkt(void **state)
{
	struct tw_decode_cfg cfg;
	struct tw_wire_reply r;
	struct tw_wire_batch b;
	struct tw_pkt p;
	uint8_t buf[256];
	int n;

	(void)state;
	tw_decode_cfg_init(&cfg);
	assert_int_equal(tw_pkt_decode(&cfg, TW_LT_RAW, pkt4, sizeof(pkt4), sizeof(pkt4), &p), 0);
	assert_int_equal(tw_wire_reply_from_pkt(&p, 4, &r), 0);
	assert_int_equal(r.ipver, 4);
	assert_int_equal(r.ecn, 2);
	assert_int_equal(r.flags, TW_TH_PSH | TW_TH_ACK);
	assert_memory_equal(r.src, "\x0a\x00\x00\x02", 4);
	assert_memory_equal(r.dst, "\x0a\x00\x00\x01", 4);
	assert_int_equal(r.sport, 80);
	assert_int_equal(r.dport, 40000);
	assert_int_equal(r.seq, 0x1000);
	assert_int_equal(r.ack, 0x2000);
	assert_int_equal(r.win, 501);
	assert_true(r.opts.has_ts);
	assert_int_equal(r.opts.ts_val, 5);
	assert_int_equal(r.opts.ts_ecr, 6);
	assert_false(r.opts.has_mss);
	assert_int_equal(r.payload_len, 10);
	assert_int_equal(r.payload_cap, 4);
	assert_ptr_equal(r.payload, pkt4 + 52);
	assert_int_equal(tw_wire_reply_from_pkt(&p, 0, &r), 0);
	assert_int_equal(r.payload_cap, 0);
	assert_null(r.payload);

	/* Captured short: only the bytes present are carried. */
	assert_int_equal(tw_pkt_decode(&cfg, TW_LT_RAW, pkt4, 57, sizeof(pkt4), &p), 0);
	assert_int_equal(tw_wire_reply_from_pkt(&p, 100, &r), 0);
	assert_int_equal(r.payload_len, 10);
	assert_int_equal(r.payload_cap, 5);

	/* Through a REPLY frame and back. */
	assert_int_equal(tw_wire_batch_begin(&b, buf, sizeof(buf), TW_WIRE_REPLY), 0);
	assert_int_equal(tw_wire_batch_add_reply(&b, &r), 0);
	n = tw_wire_batch_end(&b);
	assert_int_equal(n, 8 + 4 + 48 + 5);
	decode_ok(buf, (size_t)n, &msg2);
	assert_int_equal(msg2.u.reply.n, 1);
	assert_reply_equal(&r, &msg2.u.reply.r[0]);
	assert_memory_equal(msg2.u.reply.r[0].payload, "01234", 5);

	p.proto = 17;
	assert_int_equal(tw_wire_reply_from_pkt(&p, 100, &r), -EINVAL);
	p.proto = 6;
	p.l4 = NULL;
	assert_int_equal(tw_wire_reply_from_pkt(&p, 100, &r), -EINVAL);
}

static void test_names(void **state)
{
	(void)state;
	assert_string_equal(tw_wire_type_name(TW_WIRE_HELLO), "HELLO");
	assert_string_equal(tw_wire_type_name(TW_WIRE_KEEPALIVE), "KEEPALIVE");
	assert_string_equal(tw_wire_type_name(0), "unknown");
	assert_string_equal(tw_wire_type_name(200), "unknown");
	assert_string_equal(tw_wire_refuse_name(TW_WIRE_REFUSE_NETWORK), "network not allowed");
	assert_string_equal(tw_wire_refuse_name(99), "unknown");
	assert_int_equal(tw_wire_refuse_err(TW_WIRE_REFUSE_BUSY), -EBUSY);
	assert_int_equal(tw_wire_refuse_err(TW_WIRE_REFUSE_SHUTDOWN), -ESHUTDOWN);
	assert_int_equal(tw_wire_refuse_err(TW_WIRE_REFUSE_NETWORK), -EACCES);
	assert_int_equal(tw_wire_refuse_err(TW_WIRE_REFUSE_PROTOCOL), -EPROTO);
	assert_int_equal(tw_wire_refuse_err(1234), -EPROTO);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_encode_reference),
		cmocka_unit_test(test_decode_reference),
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_partial_every_split),
		cmocka_unit_test(test_several_frames),
		cmocka_unit_test(test_header_errors),
		cmocka_unit_test(test_truncated_bodies),
		cmocka_unit_test(test_record_errors),
		cmocka_unit_test(test_encode_errors),
		cmocka_unit_test(test_batch_builder),
		cmocka_unit_test(test_negotiation),
		cmocka_unit_test(test_future_hello),
		cmocka_unit_test(test_auth_input),
		cmocka_unit_test(test_reply_from_pkt),
		cmocka_unit_test(test_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
