/*
 * segq.c - the per-session queue of captured client bytes (see segq.h).
 * Chunks come from a shared tw_pool; nothing here allocates or logs.
 */
#include "copy/segq.h"
#include "core/pool.h"

#include <errno.h>
#include <string.h>

void tw_segq_init(struct tw_segq *q, uint32_t next)
{
	memset(q, 0, sizeof(*q));
	q->next = next;
}

static uint32_t seg_end(const struct tw_seg *s)
{
	return s->seq + s->len + ((s->flags & (TW_SEG_FIN | TW_SEG_RST)) ? 1u : 0u);
}

static void append(struct tw_segq *q, struct tw_seg *s)
{
	s->next = NULL;
	if (q->tail)
		q->tail->next = s;
	else
		q->head = s;
	q->tail = s;
	q->next = seg_end(s);
	if (s->flags & (TW_SEG_FIN | TW_SEG_RST))
		q->fin = true;
}

/* Cut LEN bytes of DATA into chunks. Returns the chunks as a list in *FIRST
 * (NULL-terminated), or -ENOBUFS (nothing kept). FLAGS go on the last chunk. */
static int make_chunks(struct tw_pool *pool, uint32_t seq, const uint8_t *data, uint32_t len,
		       uint8_t flags, uint32_t ack, bool has_ack, struct tw_seg **first)
{
	struct tw_seg *head = NULL, **link = &head;
	uint32_t off = 0;

	do {
		struct tw_seg *s = tw_pool_get(pool);
		uint32_t n = len - off > TW_SEG_DATA ? TW_SEG_DATA : len - off;

		if (!s) {
			while (head) {
				struct tw_seg *nx = head->next;
				tw_pool_put(pool, head);
				head = nx;
			}
			return -ENOBUFS;
		}
		s->next = NULL;
		s->seq = seq + off;
		s->len = n;
		s->rec_ack = ack;
		s->has_ack = has_ack;
		s->flags = off + n == len ? flags : 0;
		if (n)
			memcpy(s->data, data + off, n);
		*link = s;
		link = &s->next;
		off += n;
	} while (off < len);
	*first = head;
	return 0;
}

/* Move out-of-order chunks that now continue the in-order data. */
static int drain_ooo(struct tw_segq *q, struct tw_pool *pool)
{
	int added = 0;

	while (q->ooo && tw_seq_le(q->ooo->seq, q->next) && !q->fin) {
		struct tw_seg *s = q->ooo;
		uint32_t end = seg_end(s), skip;

		q->ooo = s->next;
		q->nooo--;
		if (tw_seq_le(end, q->next)) { /* nothing new in it */
			q->bytes -= s->len;
			tw_pool_put(pool, s);
			continue;
		}
		skip = q->next - s->seq;
		if (skip > s->len)
			skip = s->len; /* only the FIN is new */
		if (skip) {
			memmove(s->data, s->data + skip, s->len - skip);
			s->len -= skip;
			s->seq += skip;
			q->bytes -= skip;
		}
		append(q, s);
		added += (int)(end - s->seq);
	}
	return added;
}

int tw_segq_add(struct tw_segq *q, struct tw_pool *pool, uint32_t seq, const uint8_t *data,
		uint32_t len, uint8_t flags, uint32_t ack, bool has_ack, uint32_t max_ooo)
{
	uint32_t end = seq + len + ((flags & (TW_SEG_FIN | TW_SEG_RST)) ? 1u : 0u);
	struct tw_seg *chunks, *c;
	int rc;

	if (q->fin || tw_seq_le(end, q->next) || end == seq)
		return 0; /* stream complete, all old, or a pure ACK */
	if (tw_seq_lt(seq, q->next)) {
		uint32_t skip = q->next - seq;
		if (skip > len)
			skip = len; /* only the FIN/RST is new */
		data += skip;
		len -= skip;
		seq += skip;
	}
	if (seq == q->next) {
		rc = make_chunks(pool, seq, data, len, flags, ack, has_ack, &chunks);
		if (rc < 0)
			return rc;
		for (c = chunks; c;) {
			struct tw_seg *nx = c->next;
			append(q, c);
			q->bytes += c->len;
			c = nx;
		}
		return (int)(end - seq) + drain_ooo(q, pool);
	}
	/* beyond a hole: keep it sorted in the out-of-order list */
	if (q->nooo >= max_ooo)
		return -ENOBUFS;
	rc = make_chunks(pool, seq, data, len, flags, ack, has_ack, &chunks);
	if (rc < 0)
		return rc;
	for (c = chunks; c;) {
		struct tw_seg *nx = c->next, **pp = &q->ooo;

		while (*pp && tw_seq_le((*pp)->seq, c->seq))
			pp = &(*pp)->next;
		c->next = *pp;
		*pp = c;
		q->nooo++;
		q->bytes += c->len;
		c = nx;
	}
	return 0;
}

void tw_segq_ack(struct tw_segq *q, struct tw_pool *pool, uint32_t una)
{
	while (q->head && tw_seq_le(seg_end(q->head), una)) {
		struct tw_seg *s = q->head;

		q->head = s->next;
		if (!q->head)
			q->tail = NULL;
		q->bytes -= s->len;
		tw_pool_put(pool, s);
	}
}

struct tw_seg *tw_segq_find(const struct tw_segq *q, uint32_t seq)
{
	for (struct tw_seg *s = q->head; s; s = s->next) {
		if (tw_seq_le(s->seq, seq) && tw_seq_lt(seq, seg_end(s)))
			return s;
	}
	return NULL;
}

size_t tw_segq_copy(const struct tw_segq *q, uint32_t seq, uint8_t *out, size_t max)
{
	const struct tw_seg *s = tw_segq_find(q, seq);
	size_t n = 0;

	for (; s && n < max; s = s->next) {
		uint32_t off, take;

		if (tw_seq_lt(seq, s->seq))
			break; /* not contiguous (cannot happen in order) */
		off = seq - s->seq;
		if (off >= s->len)
			break; /* at the FIN */
		take = s->len - off;
		if (take > max - n)
			take = (uint32_t)(max - n);
		memcpy(out + n, s->data + off, take);
		n += take;
		seq += take;
	}
	return n;
}

void tw_segq_clear(struct tw_segq *q, struct tw_pool *pool)
{
	struct tw_seg *lists[2] = {q->head, q->ooo};

	for (int i = 0; i < 2; i++) {
		for (struct tw_seg *s = lists[i]; s;) {
			struct tw_seg *nx = s->next;
			tw_pool_put(pool, s);
			s = nx;
		}
	}
	q->head = q->tail = q->ooo = NULL;
	q->nooo = 0;
	q->bytes = 0;
}
