/*
 * wire.c - encoder, incremental decoder and hello negotiation of the
 * copy <-> intercept channel, version 1 (docs/wire-format.md).
 *
 * Every input byte is read through struct tw_rd; every output byte written
 * through struct tw_wr. The decoder accepts exactly the canonical encoding
 * the encoder produces (reserved bits and absent fields zero), except that
 * HELLO, HELLO_ACK and REFUSE may carry trailing bytes from later versions.
 * No allocation, no logging, no I/O, no MAC computation.
 */
#include "relay/wire.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "core/err.h"
#include "pkt/cursor.h"

#define HELLO_FIXED 32               /* HELLO body without the name */
#define REFUSE_FIXED 3
#define BATCH_HDR 4                  /* count(2) reserved(2) */
#define REPLY_FIXED 28               /* reply record before the addresses */
#define REPLY_OPTS 12                /* mss(2) wscale(1) rsvd(1) tsval(4) tsecr(4) */
#define TUPLE_FIXED 6
#define STAT_LEN 12
#define KEEPALIVE_LEN 12

/* ---- helpers ---------------------------------------------------------- */

static int fail(const char **reason, int err, const char *why)
{
	if (reason)
		*reason = why;
	return err;
}

static bool printable(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i] < 0x20 || p[i] > 0x7e)
			return false;
	return true;
}

static size_t addr_len(uint8_t ipver)
{
	return ipver == 4 ? 4 : ipver == 6 ? 16 : 0;
}

static void wr_be64(struct tw_wr *wr, uint64_t v)
{
	tw_wr_be32(wr, (uint32_t)(v >> 32));
	tw_wr_be32(wr, (uint32_t)v);
}

static uint64_t rd_be64(struct tw_rd *rd)
{
	uint64_t hi = tw_rd_be32(rd);

	return hi << 32 | tw_rd_be32(rd);
}

static void wr_zero(struct tw_wr *wr, size_t n)
{
	uint8_t *p = tw_wr_ptr(wr, n);

	if (p)
		memset(p, 0, n);
}

/* Printable text of at most MAX bytes in a NUL-terminated array; length or -1. */
static int text_len(const char *s, size_t max)
{
	size_t n = strnlen(s, max + 1);

	if (n > max || !printable((const uint8_t *)s, n))
		return -1;
	return (int)n;
}

/* ---- records ---------------------------------------------------------- */

size_t tw_wire_tuple_size(const struct tw_wire_tuple *t)
{
	size_t a = addr_len(t->ipver);

	return a ? TUPLE_FIXED + 2 * a : 0;
}

size_t tw_wire_reply_size(const struct tw_wire_reply *r)
{
	size_t a = addr_len(r->ipver);

	if (!a)
		return 0;
	return REPLY_FIXED + 2 * a + REPLY_OPTS + 8u * r->opts.nsack + r->payload_cap;
}

static bool tuple_ok(const struct tw_wire_tuple *t)
{
	return addr_len(t->ipver) != 0;
}

static bool reply_ok(const struct tw_wire_reply *r)
{
	return addr_len(r->ipver) != 0 && r->ecn <= 3 && !(r->flags & ~0x1ffu) &&
	       r->opts.nsack <= TW_TCP_MAX_SACK && r->payload_cap <= r->payload_len &&
	       r->payload_cap <= TW_WIRE_MAX_PAYLOAD && (r->payload || !r->payload_cap);
}

static void write_tuple(struct tw_wr *wr, const struct tw_wire_tuple *t)
{
	size_t a = addr_len(t->ipver);

	tw_wr_u8(wr, t->ipver);
	tw_wr_u8(wr, 0);
	tw_wr_be16(wr, t->cport);
	tw_wr_be16(wr, t->sport);
	tw_wr_bytes(wr, t->caddr, a);
	tw_wr_bytes(wr, t->saddr, a);
}

static int read_tuple(struct tw_rd *rd, struct tw_wire_tuple *t, const char **reason)
{
	size_t a;

	memset(t, 0, sizeof(*t));
	t->ipver = tw_rd_u8(rd);
	if (tw_rd_u8(rd) != 0 && !rd->err)
		return fail(reason, -TW_EMALFORMED, "tuple: reserved byte is not zero");
	t->cport = tw_rd_be16(rd);
	t->sport = tw_rd_be16(rd);
	if (rd->err)
		return fail(reason, -TW_ETRUNC, "tuple: cut short by the end of the frame");
	a = addr_len(t->ipver);
	if (!a)
		return fail(reason, -TW_EMALFORMED, "tuple: IP version is not 4 or 6");
	tw_rd_bytes(rd, t->caddr, a);
	tw_rd_bytes(rd, t->saddr, a);
	if (rd->err)
		return fail(reason, -TW_ETRUNC, "tuple: addresses cut short by the end of the frame");
	return 0;
}

static void write_reply(struct tw_wr *wr, const struct tw_wire_reply *r)
{
	const struct tw_tcp_opts *o = &r->opts;
	size_t a = addr_len(r->ipver);
	uint8_t bits = 0;

	if (o->has_mss)
		bits |= TW_WIRE_OPT_MSS;
	if (o->has_wscale)
		bits |= TW_WIRE_OPT_WSCALE;
	if (o->sack_ok)
		bits |= TW_WIRE_OPT_SACK_OK;
	if (o->has_ts)
		bits |= TW_WIRE_OPT_TS;
	tw_wr_u8(wr, r->ipver);
	tw_wr_u8(wr, r->ecn);
	tw_wr_be16(wr, r->flags);
	tw_wr_be16(wr, r->sport);
	tw_wr_be16(wr, r->dport);
	tw_wr_be32(wr, r->seq);
	tw_wr_be32(wr, r->ack);
	tw_wr_be16(wr, r->win);
	tw_wr_u8(wr, bits);
	tw_wr_u8(wr, o->nsack);
	tw_wr_be32(wr, r->payload_len);
	tw_wr_be16(wr, r->payload_cap);
	tw_wr_be16(wr, 0);
	tw_wr_bytes(wr, r->src, a);
	tw_wr_bytes(wr, r->dst, a);
	tw_wr_be16(wr, o->has_mss ? o->mss : 0);
	tw_wr_u8(wr, o->has_wscale ? o->wscale : 0);
	tw_wr_u8(wr, 0);
	tw_wr_be32(wr, o->has_ts ? o->ts_val : 0);
	tw_wr_be32(wr, o->has_ts ? o->ts_ecr : 0);
	for (unsigned i = 0; i < o->nsack; i++) {
		tw_wr_be32(wr, o->sack[i][0]);
		tw_wr_be32(wr, o->sack[i][1]);
	}
	tw_wr_bytes(wr, r->payload, r->payload_cap);
}

static int read_reply(struct tw_rd *rd, struct tw_wire_reply *r, const char **reason)
{
	struct tw_tcp_opts *o = &r->opts;
	uint8_t bits, wsc, rsvd;
	uint16_t mss, rsvd16;
	uint32_t tsv, tse;
	size_t a;

	memset(r, 0, sizeof(*r));
	r->ipver = tw_rd_u8(rd);
	r->ecn = tw_rd_u8(rd);
	r->flags = tw_rd_be16(rd);
	r->sport = tw_rd_be16(rd);
	r->dport = tw_rd_be16(rd);
	r->seq = tw_rd_be32(rd);
	r->ack = tw_rd_be32(rd);
	r->win = tw_rd_be16(rd);
	bits = tw_rd_u8(rd);
	o->nsack = tw_rd_u8(rd);
	r->payload_len = tw_rd_be32(rd);
	r->payload_cap = tw_rd_be16(rd);
	rsvd16 = tw_rd_be16(rd);
	if (rd->err)
		return fail(reason, -TW_ETRUNC, "reply: record cut short by the end of the frame");
	a = addr_len(r->ipver);
	if (!a)
		return fail(reason, -TW_EMALFORMED, "reply: IP version is not 4 or 6");
	if (r->ecn > 3 || (r->flags & ~0x1ffu) || (bits & ~0x0fu) || rsvd16)
		return fail(reason, -TW_EMALFORMED, "reply: reserved bits are not zero");
	if (o->nsack > TW_TCP_MAX_SACK)
		return fail(reason, -TW_EMALFORMED, "reply: more than 4 SACK blocks");
	if (r->payload_cap > r->payload_len || r->payload_cap > TW_WIRE_MAX_PAYLOAD)
		return fail(reason, -TW_EMALFORMED,
			    "reply: payload bytes carried exceed the payload length or limit");
	tw_rd_bytes(rd, r->src, a);
	tw_rd_bytes(rd, r->dst, a);
	mss = tw_rd_be16(rd);
	wsc = tw_rd_u8(rd);
	rsvd = tw_rd_u8(rd);
	tsv = tw_rd_be32(rd);
	tse = tw_rd_be32(rd);
	for (unsigned i = 0; i < o->nsack; i++) {
		o->sack[i][0] = tw_rd_be32(rd);
		o->sack[i][1] = tw_rd_be32(rd);
	}
	r->payload = tw_rd_ptr(rd, r->payload_cap);
	if (rd->err)
		return fail(reason, -TW_ETRUNC, "reply: record cut short by the end of the frame");
	if (!r->payload_cap)
		r->payload = NULL;
	o->has_mss = bits & TW_WIRE_OPT_MSS;
	o->has_wscale = bits & TW_WIRE_OPT_WSCALE;
	o->sack_ok = bits & TW_WIRE_OPT_SACK_OK;
	o->has_ts = bits & TW_WIRE_OPT_TS;
	if (rsvd || (!o->has_mss && mss) || (!o->has_wscale && wsc) ||
	    (!o->has_ts && (tsv || tse)))
		return fail(reason, -TW_EMALFORMED, "reply: absent option or reserved field not zero");
	o->mss = mss;
	o->wscale = wsc;
	o->ts_val = tsv;
	o->ts_ecr = tse;
	return 0;
}

/* ---- bodies ----------------------------------------------------------- */

static int read_hello(struct tw_rd *rd, struct tw_wire_hello *h, const char **reason)
{
	const uint8_t *name;
	uint8_t nlen;

	memset(h, 0, sizeof(*h));
	h->ver_min = tw_rd_be16(rd);
	h->ver_max = tw_rd_be16(rd);
	h->caps = tw_rd_be32(rd);
	h->payload = tw_rd_be16(rd);
	h->batch = tw_rd_be16(rd);
	h->keepalive = tw_rd_be16(rd);
	h->role = tw_rd_u8(rd);
	nlen = tw_rd_u8(rd);
	tw_rd_bytes(rd, h->nonce, TW_WIRE_NONCE_LEN);
	name = tw_rd_ptr(rd, nlen);
	if (rd->err)
		return fail(reason, -TW_ETRUNC, "hello: body shorter than its fields");
	if (nlen > TW_WIRE_MAX_NAME || !printable(name, nlen))
		return fail(reason, -TW_EMALFORMED, "hello: name too long or not printable ASCII");
	memcpy(h->name, name, nlen);
	h->name[nlen] = '\0';
	h->ext_len = (uint32_t)tw_rd_left(rd);
	return 0;
}

static int read_refuse(struct tw_rd *rd, struct tw_wire_refuse *f, const char **reason)
{
	const uint8_t *text;
	uint8_t n;

	memset(f, 0, sizeof(*f));
	f->code = tw_rd_be16(rd);
	n = tw_rd_u8(rd);
	text = tw_rd_ptr(rd, n);
	if (rd->err)
		return fail(reason, -TW_ETRUNC, "refuse: body shorter than its reason text");
	if (n > TW_WIRE_MAX_REASON || !printable(text, n))
		return fail(reason, -TW_EMALFORMED, "refuse: reason too long or not printable ASCII");
	memcpy(f->reason, text, n);
	f->reason[n] = '\0';
	f->ext_len = (uint32_t)tw_rd_left(rd);
	return 0;
}

/* count(2) reserved(2) of a batch body; the count or a negative error. */
static int read_count(struct tw_rd *rd, unsigned max, const char **reason)
{
	uint16_t n = tw_rd_be16(rd);
	uint16_t rsvd = tw_rd_be16(rd);

	if (rd->err)
		return fail(reason, -TW_ETRUNC, "batch: body shorter than its count");
	if (rsvd)
		return fail(reason, -TW_EMALFORMED, "batch: reserved field is not zero");
	if (n > max)
		return fail(reason, -TW_EMALFORMED, "batch: more records than the per-frame limit");
	return n;
}

static int read_body(struct tw_rd *rd, struct tw_wire_msg *m, const char **reason)
{
	int rc, n;

	switch (m->type) {
	case TW_WIRE_HELLO:
	case TW_WIRE_HELLO_ACK:
		return read_hello(rd, &m->u.hello, reason);
	case TW_WIRE_REFUSE:
		return read_refuse(rd, &m->u.refuse, reason);
	case TW_WIRE_AUTH:
		tw_rd_bytes(rd, m->u.mac, TW_WIRE_MAC_LEN);
		if (rd->err)
			return fail(reason, -TW_ETRUNC, "auth: MAC shorter than 32 bytes");
		break;
	case TW_WIRE_REGISTER:
	case TW_WIRE_UNREGISTER:
		n = read_count(rd, TW_WIRE_MAX_TUPLES, reason);
		if (n < 0)
			return n;
		m->u.reg.n = (uint16_t)n;
		for (int i = 0; i < n; i++)
			if ((rc = read_tuple(rd, &m->u.reg.t[i], reason)) < 0)
				return rc;
		break;
	case TW_WIRE_REPLY:
		n = read_count(rd, TW_WIRE_MAX_REPLIES, reason);
		if (n < 0)
			return n;
		m->u.reply.n = (uint16_t)n;
		for (int i = 0; i < n; i++)
			if ((rc = read_reply(rd, &m->u.reply.r[i], reason)) < 0)
				return rc;
		break;
	case TW_WIRE_STATS:
		n = read_count(rd, TW_WIRE_MAX_STATS, reason);
		if (n < 0)
			return n;
		m->u.stats.n = (uint16_t)n;
		for (int i = 0; i < n; i++) {
			struct tw_wire_stat *s = &m->u.stats.s[i];

			s->id = tw_rd_be16(rd);
			if (tw_rd_be16(rd) && !rd->err)
				return fail(reason, -TW_EMALFORMED, "stats: reserved field is not zero");
			s->value = rd_be64(rd);
		}
		if (rd->err)
			return fail(reason, -TW_ETRUNC, "stats: counters cut short by the end of the frame");
		break;
	case TW_WIRE_KEEPALIVE: {
		uint8_t pong = tw_rd_u8(rd);
		uint32_t rsvd = tw_rd_be24(rd);

		m->u.ka.token = rd_be64(rd);
		if (rd->err)
			return fail(reason, -TW_ETRUNC, "keepalive: body shorter than 12 bytes");
		if (pong > 1 || rsvd)
			return fail(reason, -TW_EMALFORMED, "keepalive: reserved bits are not zero");
		m->u.ka.pong = pong;
		break;
	}
	default:                     /* unknown optional frame: body skipped */
		return 0;
	}
	if (tw_rd_left(rd))
		return fail(reason, -TW_EMALFORMED, "trailing bytes after the last field of the frame");
	return 0;
}

/* ---- decoding --------------------------------------------------------- */

int tw_wire_frame_len(const uint8_t *buf, size_t len, const char **reason)
{
	uint32_t body;

	if ((len >= 1 && buf[0] != TW_WIRE_MAGIC0) || (len >= 2 && buf[1] != TW_WIRE_MAGIC1))
		return fail(reason, -TW_EMALFORMED,
			    "bad magic: the peer is not a tcptwin channel peer, or the stream is out of step");
	if (len >= 4) {
		if (buf[3] & ~TW_WIRE_F_MASK)
			return fail(reason, -TW_EMALFORMED, "reserved frame flag bits are set");
		if ((buf[2] == 0 || buf[2] > TW_WIRE_TYPE_MAX) && !(buf[3] & TW_WIRE_F_OPTIONAL))
			return fail(reason, -TW_EMALFORMED, "unknown message type");
	}
	if (len < TW_WIRE_HDR_LEN)
		return 0;
	body = tw_load_be32(buf + 4);
	if (body > TW_WIRE_MAX_BODY)
		return fail(reason, -EMSGSIZE, "frame length above the 65536-byte maximum");
	return (int)(TW_WIRE_HDR_LEN + body);
}

int tw_wire_decode(const uint8_t *buf, size_t len, struct tw_wire_msg *msg, const char **reason)
{
	struct tw_rd rd;
	int n, rc;

	n = tw_wire_frame_len(buf, len, reason);
	if (n <= 0 || len < (size_t)n)
		return n < 0 ? n : 0;
	msg->type = buf[2];
	msg->flags = buf[3];
	msg->body_len = (uint32_t)n - TW_WIRE_HDR_LEN;
	tw_rd_init(&rd, buf + TW_WIRE_HDR_LEN, msg->body_len);
	rc = read_body(&rd, msg, reason);
	return rc < 0 ? rc : n;
}

/* ---- encoding --------------------------------------------------------- */

static void write_hdr(struct tw_wr *wr, uint8_t type, uint8_t flags)
{
	tw_wr_u8(wr, TW_WIRE_MAGIC0);
	tw_wr_u8(wr, TW_WIRE_MAGIC1);
	tw_wr_u8(wr, type);
	tw_wr_u8(wr, flags);
	tw_wr_be32(wr, 0);           /* patched when the body is complete */
}

/* Patch the body length; frame length or -ENOSPC. */
static int finish(struct tw_wr *wr)
{
	if (wr->err)
		return -ENOSPC;
	tw_store_be32(wr->base + 4, (uint32_t)(wr->pos - TW_WIRE_HDR_LEN));
	return (int)wr->pos;
}

static int write_hello(struct tw_wr *wr, const struct tw_wire_hello *h)
{
	int n = text_len(h->name, TW_WIRE_MAX_NAME);

	if (n < 0)
		return -EINVAL;
	tw_wr_be16(wr, h->ver_min);
	tw_wr_be16(wr, h->ver_max);
	tw_wr_be32(wr, h->caps);
	tw_wr_be16(wr, h->payload);
	tw_wr_be16(wr, h->batch);
	tw_wr_be16(wr, h->keepalive);
	tw_wr_u8(wr, h->role);
	tw_wr_u8(wr, (uint8_t)n);
	tw_wr_bytes(wr, h->nonce, TW_WIRE_NONCE_LEN);
	tw_wr_bytes(wr, h->name, (size_t)n);
	return 0;
}

static int write_body(struct tw_wr *wr, const struct tw_wire_msg *m)
{
	int n;

	switch (m->type) {
	case TW_WIRE_HELLO:
	case TW_WIRE_HELLO_ACK:
		return write_hello(wr, &m->u.hello);
	case TW_WIRE_REFUSE:
		n = text_len(m->u.refuse.reason, TW_WIRE_MAX_REASON);
		if (n < 0)
			return -EINVAL;
		tw_wr_be16(wr, m->u.refuse.code);
		tw_wr_u8(wr, (uint8_t)n);
		tw_wr_bytes(wr, m->u.refuse.reason, (size_t)n);
		return 0;
	case TW_WIRE_AUTH:
		tw_wr_bytes(wr, m->u.mac, TW_WIRE_MAC_LEN);
		return 0;
	case TW_WIRE_REGISTER:
	case TW_WIRE_UNREGISTER:
		if (m->u.reg.n > TW_WIRE_MAX_TUPLES)
			return -EINVAL;
		for (unsigned i = 0; i < m->u.reg.n; i++)
			if (!tuple_ok(&m->u.reg.t[i]))
				return -EINVAL;
		tw_wr_be16(wr, m->u.reg.n);
		tw_wr_be16(wr, 0);
		for (unsigned i = 0; i < m->u.reg.n; i++)
			write_tuple(wr, &m->u.reg.t[i]);
		return 0;
	case TW_WIRE_REPLY:
		if (m->u.reply.n > TW_WIRE_MAX_REPLIES)
			return -EINVAL;
		for (unsigned i = 0; i < m->u.reply.n; i++)
			if (!reply_ok(&m->u.reply.r[i]))
				return -EINVAL;
		tw_wr_be16(wr, m->u.reply.n);
		tw_wr_be16(wr, 0);
		for (unsigned i = 0; i < m->u.reply.n; i++)
			write_reply(wr, &m->u.reply.r[i]);
		return 0;
	case TW_WIRE_STATS:
		if (m->u.stats.n > TW_WIRE_MAX_STATS)
			return -EINVAL;
		tw_wr_be16(wr, m->u.stats.n);
		tw_wr_be16(wr, 0);
		for (unsigned i = 0; i < m->u.stats.n; i++) {
			tw_wr_be16(wr, m->u.stats.s[i].id);
			tw_wr_be16(wr, 0);
			wr_be64(wr, m->u.stats.s[i].value);
		}
		return 0;
	case TW_WIRE_KEEPALIVE:
		tw_wr_u8(wr, m->u.ka.pong ? 1 : 0);
		wr_zero(wr, 3);
		wr_be64(wr, m->u.ka.token);
		return 0;
	default:
		return -EINVAL;
	}
}

int tw_wire_encode(const struct tw_wire_msg *msg, void *buf, size_t cap)
{
	struct tw_wr wr;
	int rc;

	if (msg->flags & ~TW_WIRE_F_MASK)
		return -EINVAL;
	tw_wr_init(&wr, buf, cap < TW_WIRE_MAX_FRAME ? cap : TW_WIRE_MAX_FRAME);
	write_hdr(&wr, msg->type, msg->flags);
	rc = write_body(&wr, msg);
	return rc < 0 ? rc : finish(&wr);
}

/* ---- batch builder ---------------------------------------------------- */

int tw_wire_batch_begin(struct tw_wire_batch *b, void *buf, size_t cap, uint8_t type)
{
	struct tw_wr wr;

	memset(b, 0, sizeof(*b));
	if (type == TW_WIRE_REPLY)
		b->max = TW_WIRE_MAX_REPLIES;
	else if (type == TW_WIRE_REGISTER || type == TW_WIRE_UNREGISTER)
		b->max = TW_WIRE_MAX_TUPLES;
	else
		return -EINVAL;
	b->base = buf;
	b->cap = cap < TW_WIRE_MAX_FRAME ? cap : TW_WIRE_MAX_FRAME;
	b->type = type;
	tw_wr_init(&wr, buf, b->cap);
	write_hdr(&wr, type, 0);
	wr_zero(&wr, BATCH_HDR);
	if (wr.err) {
		b->type = 0;
		return -ENOSPC;
	}
	b->pos = wr.pos;
	return 0;
}

/* A writer over the free part of the batch's buffer. */
static void batch_wr(const struct tw_wire_batch *b, struct tw_wr *wr)
{
	tw_wr_init(wr, b->base, b->cap);
	wr->pos = b->pos;
}

int tw_wire_batch_add_tuple(struct tw_wire_batch *b, const struct tw_wire_tuple *t)
{
	struct tw_wr wr;

	if (b->type != TW_WIRE_REGISTER && b->type != TW_WIRE_UNREGISTER)
		return -EINVAL;
	if (!tuple_ok(t))
		return -EINVAL;
	if (b->n >= b->max)
		return -ENOSPC;
	batch_wr(b, &wr);
	write_tuple(&wr, t);
	if (wr.err)
		return -ENOSPC;
	b->pos = wr.pos;
	b->n++;
	return 0;
}

int tw_wire_batch_add_reply(struct tw_wire_batch *b, const struct tw_wire_reply *r)
{
	struct tw_wr wr;

	if (b->type != TW_WIRE_REPLY || !reply_ok(r))
		return -EINVAL;
	if (b->n >= b->max)
		return -ENOSPC;
	batch_wr(b, &wr);
	write_reply(&wr, r);
	if (wr.err)
		return -ENOSPC;
	b->pos = wr.pos;
	b->n++;
	return 0;
}

int tw_wire_batch_end(struct tw_wire_batch *b)
{
	if (!b->type)
		return -EINVAL;
	tw_store_be32(b->base + 4, (uint32_t)(b->pos - TW_WIRE_HDR_LEN));
	tw_store_be16(b->base + TW_WIRE_HDR_LEN, b->n);
	return (int)b->pos;
}

/* ---- replies from packets --------------------------------------------- */

int tw_wire_reply_from_pkt(const struct tw_pkt *p, uint16_t payload_max, struct tw_wire_reply *r)
{
	size_t cap;

	memset(r, 0, sizeof(*r));
	if ((p->ipver != 4 && p->ipver != 6) || p->proto != 6 || !p->l4)
		return -EINVAL;
	r->ipver = p->ipver;
	r->ecn = p->tos & 3;
	r->flags = p->flags & 0x1ff;
	memcpy(r->src, p->src, sizeof(r->src));
	memcpy(r->dst, p->dst, sizeof(r->dst));
	r->sport = p->sport;
	r->dport = p->dport;
	r->seq = p->seq;
	r->ack = p->ack;
	r->win = p->win;
	r->opts = p->opts;
	if (r->opts.nsack > TW_TCP_MAX_SACK)
		r->opts.nsack = TW_TCP_MAX_SACK;
	r->payload_len = p->payload_len > UINT32_MAX ? UINT32_MAX : (uint32_t)p->payload_len;
	cap = p->payload ? p->payload_caplen : 0;
	if (cap > payload_max)
		cap = payload_max;
	if (cap > TW_WIRE_MAX_PAYLOAD)
		cap = TW_WIRE_MAX_PAYLOAD;
	if (cap > r->payload_len)
		cap = r->payload_len;
	r->payload_cap = (uint16_t)cap;
	r->payload = cap ? p->payload : NULL;
	return 0;
}

/* ---- negotiation ------------------------------------------------------ */

static int refuse(char *reason, size_t cap, int code, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static int refuse(char *reason, size_t cap, int code, const char *fmt, ...)
{
	va_list ap;

	if (reason && cap) {
		va_start(ap, fmt);
		vsnprintf(reason, cap, fmt, ap);
		va_end(ap);
		/* Peer-provided names may only be printable already; be sure. */
		for (char *c = reason; *c; c++)
			if (*c < 0x20 || *c > 0x7e)
				*c = '?';
	}
	return code;
}

static const char *role_name(uint8_t role)
{
	return role == TW_WIRE_ROLE_COPY ? "copy" : role == TW_WIRE_ROLE_INTERCEPT ? "intercept"
										    : "unknown";
}

int tw_wire_hello_answer(const struct tw_wire_hello *local, const struct tw_wire_hello *peer,
			 struct tw_wire_hello *ack, char *reason, size_t reason_cap)
{
	uint16_t lo, hi;
	uint32_t caps;

	if (reason && reason_cap)
		reason[0] = '\0';
	memset(ack, 0, sizeof(*ack));
	if (peer->role != TW_WIRE_ROLE_COPY)
		return refuse(reason, reason_cap, TW_WIRE_REFUSE_ROLE,
			      "this is an intercept; the peer says it is a %s (role %u), only copy connects here",
			      role_name(peer->role), peer->role);
	lo = local->ver_min > peer->ver_min ? local->ver_min : peer->ver_min;
	hi = local->ver_max < peer->ver_max ? local->ver_max : peer->ver_max;
	if (lo > hi)   /* also when the peer's own range is empty */
		return refuse(reason, reason_cap, TW_WIRE_REFUSE_VERSION,
			      "wire version mismatch: copy %s speaks %u-%u, intercept %s speaks %u-%u; "
			      "run the same tcptwin release on both hosts",
			      peer->name[0] ? peer->name : "(unnamed)", peer->ver_min, peer->ver_max,
			      local->name[0] ? local->name : "(unnamed)", local->ver_min, local->ver_max);
	if ((peer->caps & TW_WIRE_CAP_AUTH) && !(local->caps & TW_WIRE_CAP_AUTH))
		return refuse(reason, reason_cap, TW_WIRE_REFUSE_AUTH,
			      "copy has a shared secret but this intercept has none; give both the same secret");
	if (!(peer->caps & TW_WIRE_CAP_AUTH) && (local->caps & TW_WIRE_CAP_AUTH))
		return refuse(reason, reason_cap, TW_WIRE_REFUSE_AUTH,
			      "this intercept requires a shared secret and copy has none; give copy the same secret");
	if ((peer->caps & TW_WIRE_CAP_PAYLOAD) && peer->payload > 0) {
		uint16_t have = local->caps & TW_WIRE_CAP_PAYLOAD ? local->payload : 0;

		if (have < peer->payload || peer->payload > TW_WIRE_MAX_PAYLOAD)
			return refuse(reason, reason_cap, TW_WIRE_REFUSE_CAPS,
				      "copy wants %u reply payload bytes, this intercept forwards at most %u "
				      "(protocol limit %u); raise intercept's payload setting",
				      peer->payload, have, TW_WIRE_MAX_PAYLOAD);
	}
	caps = peer->caps & local->caps & TW_WIRE_CAP_KNOWN;
	ack->ver_min = ack->ver_max = hi;
	ack->role = TW_WIRE_ROLE_INTERCEPT;
	if ((caps & TW_WIRE_CAP_PAYLOAD) && peer->payload > 0)
		ack->payload = peer->payload;
	else
		caps &= ~(uint32_t)TW_WIRE_CAP_PAYLOAD;
	ack->batch = 1;
	if (caps & TW_WIRE_CAP_BATCH) {
		uint16_t b = peer->batch < local->batch ? peer->batch : local->batch;

		if (b > TW_WIRE_MAX_REPLIES)
			b = TW_WIRE_MAX_REPLIES;
		if (b > 1)
			ack->batch = b;
	}
	if (ack->batch == 1)
		caps &= ~(uint32_t)TW_WIRE_CAP_BATCH;
	ack->caps = caps;
	ack->keepalive = local->keepalive;
	memcpy(ack->nonce, local->nonce, TW_WIRE_NONCE_LEN);
	memcpy(ack->name, local->name, sizeof(ack->name));
	ack->name[TW_WIRE_MAX_NAME] = '\0';
	return 0;
}

int tw_wire_hello_check_ack(const struct tw_wire_hello *sent, const struct tw_wire_hello *ack,
			    char *reason, size_t reason_cap)
{
	bool want_pl = (sent->caps & TW_WIRE_CAP_PAYLOAD) && sent->payload > 0;

	if (reason && reason_cap)
		reason[0] = '\0';
	if (ack->role != TW_WIRE_ROLE_INTERCEPT)
		return refuse(reason, reason_cap, TW_WIRE_REFUSE_ROLE,
			      "the peer says it is a %s (role %u), not an intercept",
			      role_name(ack->role), ack->role);
	if (ack->ver_min != ack->ver_max || ack->ver_max < sent->ver_min ||
	    ack->ver_max > sent->ver_max)
		return refuse(reason, reason_cap, TW_WIRE_REFUSE_VERSION,
			      "wire version mismatch: intercept %s chose %u-%u, copy speaks %u-%u; "
			      "run the same tcptwin release on both hosts",
			      ack->name[0] ? ack->name : "(unnamed)", ack->ver_min, ack->ver_max,
			      sent->ver_min, sent->ver_max);
	if ((ack->caps ^ sent->caps) & TW_WIRE_CAP_AUTH)
		return refuse(reason, reason_cap, TW_WIRE_REFUSE_AUTH,
			      (sent->caps & TW_WIRE_CAP_AUTH)
				      ? "copy has a shared secret but the intercept does not ask for it"
				      : "the intercept asks for a shared secret and copy has none");
	if (ack->caps & ~sent->caps & TW_WIRE_CAP_KNOWN)
		return refuse(reason, reason_cap, TW_WIRE_REFUSE_CAPS,
			      "the intercept granted capabilities 0x%x that copy did not ask for (0x%x)",
			      (unsigned)ack->caps, (unsigned)sent->caps);
	if (want_pl != !!(ack->caps & TW_WIRE_CAP_PAYLOAD) ||
	    ack->payload != (want_pl ? sent->payload : 0))
		return refuse(reason, reason_cap, TW_WIRE_REFUSE_CAPS,
			      "copy asked for %u reply payload bytes, the intercept granted %u",
			      want_pl ? sent->payload : 0, ack->payload);
	if (ack->batch < 1 || ack->batch > TW_WIRE_MAX_REPLIES ||
	    (ack->batch > 1 && (!(ack->caps & TW_WIRE_CAP_BATCH) || ack->batch > sent->batch)))
		return refuse(reason, reason_cap, TW_WIRE_REFUSE_CAPS,
			      "the intercept would batch %u replies per frame, copy accepts %u",
			      ack->batch, sent->caps & TW_WIRE_CAP_BATCH ? sent->batch : 1);
	return 0;
}

/* ---- authentication input, names ------------------------------------- */

size_t tw_wire_auth_input(uint8_t out[TW_WIRE_AUTH_INPUT_LEN], uint8_t signer_role,
			  const struct tw_wire_hello *copy_hello, const struct tw_wire_hello *ack)
{
	static const char label[16] = "tcptwin-auth-v1";   /* 15 chars + NUL */
	struct tw_wr wr;

	tw_wr_init(&wr, out, TW_WIRE_AUTH_INPUT_LEN);
	tw_wr_bytes(&wr, label, sizeof(label));
	tw_wr_u8(&wr, signer_role);
	tw_wr_u8(&wr, 0);
	tw_wr_be16(&wr, ack->ver_max);
	tw_wr_be32(&wr, ack->caps);
	tw_wr_be16(&wr, ack->payload);
	tw_wr_be16(&wr, ack->batch);
	tw_wr_bytes(&wr, copy_hello->nonce, TW_WIRE_NONCE_LEN);
	tw_wr_bytes(&wr, ack->nonce, TW_WIRE_NONCE_LEN);
	return wr.pos;
}

bool tw_wire_mac_equal(const uint8_t a[TW_WIRE_MAC_LEN], const uint8_t b[TW_WIRE_MAC_LEN])
{
	volatile uint8_t d = 0;

	for (size_t i = 0; i < TW_WIRE_MAC_LEN; i++)
		d |= a[i] ^ b[i];
	return d == 0;
}

int tw_wire_refuse_err(uint16_t code)
{
	switch (code) {
	case TW_WIRE_REFUSE_VERSION:
		return -TW_EPROTO_VERSION;
	case TW_WIRE_REFUSE_AUTH:
	case TW_WIRE_REFUSE_NETWORK:
		return -EACCES;
	case TW_WIRE_REFUSE_BUSY:
		return -EBUSY;
	case TW_WIRE_REFUSE_SHUTDOWN:
		return -ESHUTDOWN;
	default:
		return -EPROTO;
	}
}

const char *tw_wire_type_name(uint8_t type)
{
	static const char *const names[] = {
		[TW_WIRE_HELLO] = "HELLO", [TW_WIRE_HELLO_ACK] = "HELLO_ACK",
		[TW_WIRE_REFUSE] = "REFUSE", [TW_WIRE_AUTH] = "AUTH",
		[TW_WIRE_REGISTER] = "REGISTER", [TW_WIRE_UNREGISTER] = "UNREGISTER",
		[TW_WIRE_REPLY] = "REPLY", [TW_WIRE_STATS] = "STATS",
		[TW_WIRE_KEEPALIVE] = "KEEPALIVE",
	};

	return type >= 1 && type <= TW_WIRE_TYPE_MAX ? names[type] : "unknown";
}

const char *tw_wire_refuse_name(uint16_t code)
{
	static const char *const names[] = {
		[TW_WIRE_REFUSE_VERSION] = "version", [TW_WIRE_REFUSE_ROLE] = "role",
		[TW_WIRE_REFUSE_CAPS] = "capabilities", [TW_WIRE_REFUSE_AUTH] = "authentication",
		[TW_WIRE_REFUSE_NETWORK] = "network not allowed", [TW_WIRE_REFUSE_BUSY] = "busy",
		[TW_WIRE_REFUSE_PROTOCOL] = "protocol error", [TW_WIRE_REFUSE_SHUTDOWN] = "shutdown",
	};

	return code >= 1 && code <= TW_WIRE_REFUSE_SHUTDOWN ? names[code] : "unknown";
}
