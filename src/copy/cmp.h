/*
 * cmp.h - response comparison for one replayed session: production's reply
 * to each request (the server->client bytes of the capture) against the
 * target's (what the replay read back), exchange by exchange.
 *
 * Exchanges are cut where the captured client's recorded ACK advances: the
 * reply to request k is the server bytes between the ACK that request k
 * carried and the ACK of the next request (or of the client's FIN). On the
 * target side the cut is the release of the next request (pace.c counts
 * those). Each side of an exchange is summed up as its length, a 64-bit
 * FNV-1a hash and, for HTTP, the status line. Production exchanges whose
 * capture is incomplete (server bytes missing or out of order) are marked
 * and not judged. In raw mode the target's side is known only by its length
 * and first bytes (what intercept relays): judged by length and status line.
 * Pure: no I/O, no allocation.
 */
#ifndef TW_COPY_CMP_H
#define TW_COPY_CMP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TW_CMP_STATUS 48
#define TW_CMP_PENDING 16

struct tw_cmp_rec {
	uint64_t len, hash;
	char status[TW_CMP_STATUS];      /* HTTP status line, or "" */
	uint8_t stlen;
	bool broken;                     /* capture incomplete: not judged */
	bool nohash;                     /* raw mode: only the first bytes were seen */
};

struct tw_cmp {
	bool server_seen;                /* the capture holds the server's direction */
	bool have_ack;
	uint32_t last_ack;               /* recorded ACK of the current request */
	uint32_t s_next;                 /* next server seq expected */
	struct tw_cmp_rec prod;          /* open production exchange */
	struct tw_cmp_rec pend[TW_CMP_PENDING]; /* closed, waiting for the target's */
	uint32_t phead, pcount;
	uint32_t p_index, t_index;       /* exchanges closed so far on each side */
	struct tw_cmp_rec tgt;           /* open target exchange */
	uint64_t overflow;               /* production exchanges dropped (pending full) */
};

struct tw_cmp_result {
	uint32_t index;
	struct tw_cmp_rec prod, tgt;
	bool judged;                     /* false: production's side was incomplete */
	bool match;
};

void tw_cmp_init(struct tw_cmp *m);
/* A captured server->client packet: SYN (its seq starts the stream) or data. */
void tw_cmp_server(struct tw_cmp *m, uint32_t seq, bool syn, const uint8_t *data, size_t len);
/* A captured client packet that carries data or a FIN, with its ACK. */
void tw_cmp_client(struct tw_cmp *m, uint32_t ack);
/* Reply bytes the target sent. */
void tw_cmp_target(struct tw_cmp *m, const uint8_t *data, size_t len);
/* Raw mode: a target reply of LEN payload bytes of which only the first CAP
 * (DATA) were relayed: the length counts, the status line can be read, the
 * hash cannot (such an exchange is judged by length and status line). */
void tw_cmp_target_part(struct tw_cmp *m, const uint8_t *data, size_t cap, size_t len);
/* Raw mode: the target's reply had a hole (out of order): not judged. */
static inline void tw_cmp_target_broken(struct tw_cmp *m)
{
	m->tgt.broken = true;
}
/* The next request was released: the target's exchange is closed. Returns
 * true and fills RES when production's exchange of the same index is known. */
bool tw_cmp_target_cut(struct tw_cmp *m, struct tw_cmp_result *res);

#endif
