/*
 * cmp.c - response comparison of one session (see cmp.h).
 */
#include "copy/cmp.h"

#include <string.h>

#define FNV_OFFSET 0xcbf29ce484222325ull
#define FNV_PRIME 0x100000001b3ull

static void rec_init(struct tw_cmp_rec *r)
{
	memset(r, 0, sizeof(*r));
	r->hash = FNV_OFFSET;
}

static void rec_add(struct tw_cmp_rec *r, const uint8_t *d, size_t n)
{
	uint64_t h = r->hash;

	/* the status line: the first line of a reply that starts "HTTP/" */
	for (size_t i = 0; i < n && r->len + i < TW_CMP_STATUS - 1 && r->stlen == r->len + i; i++) {
		if (d[i] == '\r' || d[i] == '\n')
			break;
		r->status[r->stlen++] = (char)(d[i] >= 0x20 && d[i] < 0x7f ? d[i] : '?');
	}
	for (size_t i = 0; i < n; i++)
		h = (h ^ d[i]) * FNV_PRIME;
	r->hash = h;
	r->len += n;
}

static void rec_close(struct tw_cmp_rec *r)
{
	if (r->stlen < 5 || memcmp(r->status, "HTTP/", 5) != 0)
		r->stlen = 0;
	r->status[r->stlen] = '\0';
}

void tw_cmp_init(struct tw_cmp *m)
{
	memset(m, 0, sizeof(*m));
	rec_init(&m->prod);
	rec_init(&m->tgt);
}

void tw_cmp_server(struct tw_cmp *m, uint32_t seq, bool syn, const uint8_t *data, size_t len)
{
	if (syn) {
		m->server_seen = true;
		m->s_next = seq + 1;
		return;
	}
	if (!m->server_seen) { /* joined without the server's SYN-ACK */
		m->server_seen = true;
		m->s_next = seq;
	}
	if (!len)
		return;
	int32_t off = (int32_t)(m->s_next - seq);
	if (off < 0) {
		m->prod.broken = true; /* a hole in the captured reply */
		m->s_next = seq + (uint32_t)len;
		return;
	}
	if ((size_t)off >= len)
		return; /* all seen before */
	rec_add(&m->prod, data + off, len - (size_t)off);
	m->s_next += (uint32_t)(len - (size_t)off);
}

void tw_cmp_client(struct tw_cmp *m, uint32_t ack)
{
	if (!m->have_ack) {
		m->have_ack = true;
		m->last_ack = ack;
		return;
	}
	if ((int32_t)(ack - m->last_ack) <= 0)
		return;
	/* a new request: production's reply to the previous one is complete,
	 * if the capture holds every server byte up to this ACK */
	if (!m->server_seen || (int32_t)(m->s_next - ack) < 0)
		m->prod.broken = true;
	rec_close(&m->prod);
	if (m->pcount == TW_CMP_PENDING) {
		m->overflow++;
		m->phead = (m->phead + 1) % TW_CMP_PENDING;
		m->pcount--;
	}
	m->pend[(m->phead + m->pcount) % TW_CMP_PENDING] = m->prod;
	m->pcount++;
	m->p_index++;
	m->last_ack = ack;
	rec_init(&m->prod);
}

void tw_cmp_target(struct tw_cmp *m, const uint8_t *data, size_t len)
{
	rec_add(&m->tgt, data, len);
}

void tw_cmp_target_part(struct tw_cmp *m, const uint8_t *data, size_t cap, size_t len)
{
	if (cap > len)
		cap = len;
	rec_add(&m->tgt, data, cap);
	if (len > cap) {
		m->tgt.len += len - cap;
		m->tgt.nohash = true;
	}
}

bool tw_cmp_target_cut(struct tw_cmp *m, struct tw_cmp_result *res)
{
	uint32_t idx = m->t_index++;
	bool found = false;

	rec_close(&m->tgt);
	/* the production exchange IDX is at pend[phead] once older ones are out */
	while (m->pcount) {
		uint32_t first = m->p_index - m->pcount;
		if (first > idx)
			break;
		struct tw_cmp_rec *p = &m->pend[m->phead];
		m->phead = (m->phead + 1) % TW_CMP_PENDING;
		m->pcount--;
		if (first == idx) {
			res->index = idx;
			res->prod = *p;
			res->tgt = m->tgt;
			res->judged = !p->broken && !m->tgt.broken;
			res->match = p->len == m->tgt.len &&
				     (m->tgt.nohash ? strcmp(p->status, m->tgt.status) == 0
						    : p->hash == m->tgt.hash);
			found = true;
			break;
		}
	}
	rec_init(&m->tgt);
	return found;
}
