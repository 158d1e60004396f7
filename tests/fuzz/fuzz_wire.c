/*
 * fuzz_wire.c - libFuzzer target for the channel codec (src/relay/wire.c).
 *
 * The input is a byte stream as a peer would send it: frames are decoded one
 * after another with tw_wire_decode until it needs more bytes or fails.
 * Besides ASan/UBSan findings it checks the codec's promises for every frame
 * that decodes: counts within limits, texts NUL-terminated and printable,
 * payload pointers inside the input; every strict prefix of the frame is
 * "need more"; re-encoding (tw_wire_encode, and the batch builder for batch
 * types) gives back the same bytes (HELLO, HELLO_ACK and REFUSE: minus the
 * ignored trailing bytes); hello negotiation on a decoded HELLO gives an ACK
 * the copy side accepts, or a printable refusal. Field values are the unit
 * tests' business.
 */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "relay/wire.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(c) do { if (!(c)) abort(); } while (0)

static struct tw_wire_msg m, m2;
static uint8_t out[TW_WIRE_MAX_FRAME], out2[TW_WIRE_MAX_FRAME];

static int inside(const uint8_t *p, size_t n, const uint8_t *base, size_t size)
{
	if (!p)
		return n == 0;
	return p >= base && p <= base + size && n <= (size_t)(base + size - p);
}

static void check_text(const char *s, size_t max)
{
	size_t n = strnlen(s, max + 1);

	CHECK(n <= max);
	for (size_t i = 0; i < n; i++)
		CHECK(s[i] >= 0x20 && s[i] <= 0x7e);
}

static void check_msg(const uint8_t *f, size_t n)
{
	switch (m.type) {
	case TW_WIRE_HELLO:
	case TW_WIRE_HELLO_ACK:
		check_text(m.u.hello.name, TW_WIRE_MAX_NAME);
		break;
	case TW_WIRE_REFUSE:
		check_text(m.u.refuse.reason, TW_WIRE_MAX_REASON);
		break;
	case TW_WIRE_REGISTER:
	case TW_WIRE_UNREGISTER:
		CHECK(m.u.reg.n <= TW_WIRE_MAX_TUPLES);
		for (int i = 0; i < m.u.reg.n; i++)
			CHECK(m.u.reg.t[i].ipver == 4 || m.u.reg.t[i].ipver == 6);
		break;
	case TW_WIRE_REPLY:
		CHECK(m.u.reply.n <= TW_WIRE_MAX_REPLIES);
		for (int i = 0; i < m.u.reply.n; i++) {
			const struct tw_wire_reply *r = &m.u.reply.r[i];

			CHECK(r->ipver == 4 || r->ipver == 6);
			CHECK(r->opts.nsack <= TW_TCP_MAX_SACK);
			CHECK(r->payload_cap <= r->payload_len);
			CHECK(r->payload_cap <= TW_WIRE_MAX_PAYLOAD);
			CHECK(inside(r->payload, r->payload_cap, f, n));
		}
		break;
	case TW_WIRE_STATS:
		CHECK(m.u.stats.n <= TW_WIRE_MAX_STATS);
		break;
	default:
		break;
	}
}

/* Re-encode M and compare with the frame F of N bytes. */
static void check_reencode(const uint8_t *f, size_t n)
{
	uint32_t ext = 0;
	struct tw_wire_batch b;
	int len;

	if (m.type < 1 || m.type > TW_WIRE_TYPE_MAX)
		return;                          /* skipped optional frame */
	if (m.type == TW_WIRE_HELLO || m.type == TW_WIRE_HELLO_ACK)
		ext = m.u.hello.ext_len;
	else if (m.type == TW_WIRE_REFUSE)
		ext = m.u.refuse.ext_len;
	len = tw_wire_encode(&m, out, sizeof(out));
	CHECK(len > 0 && (size_t)len + ext == n);
	CHECK(memcmp(out, f, 4) == 0);
	CHECK(memcmp(out + TW_WIRE_HDR_LEN, f + TW_WIRE_HDR_LEN, (size_t)len - TW_WIRE_HDR_LEN) == 0);
	/* The re-encoded frame decodes to the same bytes again. */
	CHECK(tw_wire_decode(out, (size_t)len, &m2, NULL) == len);
	CHECK(tw_wire_encode(&m2, out2, sizeof(out2)) == len);
	CHECK(memcmp(out, out2, (size_t)len) == 0);

	/* Batch types: the builder gives the same bytes (flags apart). */
	if (m.type == TW_WIRE_REPLY || m.type == TW_WIRE_REGISTER || m.type == TW_WIRE_UNREGISTER) {
		CHECK(tw_wire_batch_begin(&b, out2, sizeof(out2), m.type) == 0);
		if (m.type == TW_WIRE_REPLY) {
			for (int i = 0; i < m.u.reply.n; i++) {
				CHECK(tw_wire_reply_size(&m.u.reply.r[i]) > 0);
				CHECK(tw_wire_batch_add_reply(&b, &m.u.reply.r[i]) == 0);
			}
		} else {
			for (int i = 0; i < m.u.reg.n; i++)
				CHECK(tw_wire_batch_add_tuple(&b, &m.u.reg.t[i]) == 0);
		}
		CHECK(tw_wire_batch_end(&b) == len);
		CHECK(memcmp(out2 + 4, out + 4, (size_t)len - 4) == 0);
	}
}

/* Negotiation on a decoded hello: answer as an intercept; an ACK produced
 * must pass the copy's check, and a refusal must come with printable text. */
static void check_negotiation(void)
{
	struct tw_wire_hello local = {
		.ver_min = 1, .ver_max = 2, .role = TW_WIRE_ROLE_INTERCEPT,
		.caps = TW_WIRE_CAP_PAYLOAD | TW_WIRE_CAP_BATCH | TW_WIRE_CAP_STATS,
		.payload = 512, .batch = 32, .keepalive = 5, .name = "fuzz"};
	struct tw_wire_hello ack;
	char why[TW_WIRE_MAX_REASON + 1];
	uint8_t ai[TW_WIRE_AUTH_INPUT_LEN];
	int rc;

	if (m.type != TW_WIRE_HELLO && m.type != TW_WIRE_HELLO_ACK)
		return;
	if (m.u.hello.caps & TW_WIRE_CAP_AUTH)
		local.caps |= TW_WIRE_CAP_AUTH;
	rc = tw_wire_hello_answer(&local, &m.u.hello, &ack, why, sizeof(why));
	if (rc == 0) {
		CHECK(tw_wire_hello_check_ack(&m.u.hello, &ack, why, sizeof(why)) == 0);
		CHECK(tw_wire_auth_input(ai, TW_WIRE_ROLE_COPY, &m.u.hello, &ack) == sizeof(ai));
	} else {
		CHECK(rc >= TW_WIRE_REFUSE_VERSION && rc <= TW_WIRE_REFUSE_SHUTDOWN);
		check_text(why, TW_WIRE_MAX_REASON);
		CHECK(why[0] != '\0');
	}
	/* As an ACK to a fixed copy HELLO: either accepted or refused with text. */
	struct tw_wire_hello sent = {.ver_min = 1, .ver_max = 1, .role = TW_WIRE_ROLE_COPY,
				     .caps = TW_WIRE_CAP_PAYLOAD | TW_WIRE_CAP_BATCH,
				     .payload = 128, .batch = 16};
	rc = tw_wire_hello_check_ack(&sent, &m.u.hello, why, sizeof(why));
	if (rc)
		check_text(why, TW_WIRE_MAX_REASON);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t off = 0;

	while (off < size) {
		const uint8_t *f = data + off;
		size_t left = size - off;
		const char *why = NULL;
		int n = tw_wire_decode(f, left, &m, &why);

		if (n <= 0) {
			CHECK(n == 0 || why != NULL);
			CHECK(n == 0 || n == -TW_EMALFORMED || n == -TW_ETRUNC || n == -EMSGSIZE);
			CHECK(n != 0 || tw_wire_frame_len(f, left, NULL) >= 0);
			break;
		}
		CHECK((size_t)n <= left && n >= TW_WIRE_HDR_LEN && n <= TW_WIRE_MAX_FRAME);
		CHECK(m.body_len == (uint32_t)n - TW_WIRE_HDR_LEN);
		check_msg(f, (size_t)n);
		/* Strict prefixes of a good frame are never errors nor frames. */
		CHECK(tw_wire_decode(f, (size_t)n - 1, &m2, NULL) == 0);
		CHECK(tw_wire_decode(f, (size_t)n / 2, &m2, NULL) == 0);
		/* m2 was overwritten: decode again for the checks that use m. */
		CHECK(tw_wire_decode(f, (size_t)n, &m, NULL) == n);
		check_reencode(f, (size_t)n);
		check_negotiation();
		off += (size_t)n;
	}
	return 0;
}
