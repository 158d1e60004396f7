/*
 * segq.h - the captured client byte stream of one session, held until the
 * target has acknowledged it.
 *
 * Captured client segments arrive in capture order, possibly duplicated,
 * overlapping or out of order. The queue keeps an in-order list of bytes
 * starting at the oldest byte not yet acknowledged by the target, and a short
 * sorted list of out-of-order segments waiting for a hole to fill. Storage is
 * fixed-size chunks (struct tw_seg) from a tw_pool shared by all sessions: no
 * malloc per packet, and a full pool is refused and counted by the caller.
 * Each chunk keeps the recorded acknowledgement of the captured segment it
 * came from (pacing needs it) and its FIN/RST/PSH flags.
 * Sequence numbers are the captured client's; the queue knows nothing of the
 * target.
 */
#ifndef TW_COPY_SEGQ_H
#define TW_COPY_SEGQ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct tw_pool;

#define TW_SEG_DATA 2048

enum {
	TW_SEG_FIN = 0x01,
	TW_SEG_RST = 0x04,
	TW_SEG_PSH = 0x08,
};

struct tw_seg {
	struct tw_seg *next;
	uint32_t seq;        /* captured seq of data[0] (of the FIN/RST when len is 0) */
	uint32_t len;        /* payload bytes in data[] */
	uint32_t rec_ack;    /* the captured segment's ACK field */
	bool has_ack;
	uint8_t flags;       /* TW_SEG_*; FIN/RST sit after the data */
	uint8_t data[TW_SEG_DATA];
};

struct tw_segq {
	struct tw_seg *head, *tail;   /* in order, contiguous */
	struct tw_seg *ooo;           /* out of order, sorted by seq */
	uint32_t next;                /* next captured seq expected in order */
	uint32_t nooo;                /* segments in ooo */
	size_t bytes;                 /* payload bytes held (both lists) */
	bool fin;                     /* a FIN or RST is queued in order: the stream is complete */
};

/* Start an empty queue whose first in-order byte is NEXT. */
void tw_segq_init(struct tw_segq *q, uint32_t next);

/*
 * Add one captured segment: SEQ, LEN payload bytes at DATA, FLAGS (TW_SEG_*),
 * ACK (valid when HAS_ACK). Bytes before q->next are dropped (duplicates,
 * retransmissions); a segment beyond q->next waits in the out-of-order list
 * (at most MAX_OOO segments). Returns the number of new in-order bytes (plus
 * 1 for a FIN/RST) made available, 0 if nothing new, -ENOBUFS when the pool
 * is empty or the out-of-order list is full (the caller counts it: the
 * session will end as a gap).
 */
int tw_segq_add(struct tw_segq *q, struct tw_pool *pool, uint32_t seq, const uint8_t *data,
		uint32_t len, uint8_t flags, uint32_t ack, bool has_ack, uint32_t max_ooo);

/* Free every in-order chunk whose bytes (and FIN) are all before UNA. */
void tw_segq_ack(struct tw_segq *q, struct tw_pool *pool, uint32_t una);

/* Copy up to MAX bytes starting at sequence SEQ (which must be in the
 * in-order list) into OUT; returns the bytes copied (stops at the end of the
 * in-order data). */
size_t tw_segq_copy(const struct tw_segq *q, uint32_t seq, uint8_t *out, size_t max);

/* The in-order chunk holding SEQ (or the FIN/RST at SEQ), or NULL. */
struct tw_seg *tw_segq_find(const struct tw_segq *q, uint32_t seq);

/* Free everything. */
void tw_segq_clear(struct tw_segq *q, struct tw_pool *pool);

/* Sequence arithmetic (RFC 1982 style on 32 bits). */
static inline bool tw_seq_lt(uint32_t a, uint32_t b)
{
	return (int32_t)(a - b) < 0;
}

static inline bool tw_seq_le(uint32_t a, uint32_t b)
{
	return (int32_t)(a - b) <= 0;
}

#endif
