/*
 * engine_cmp.c - the engine's side of the response comparison (cmp.c):
 * feeding the target's replies (socket reads, or intercept's reply records
 * in raw mode), judging an exchange at each release, counting, and writing
 * each difference to --diff. Production's side is fed by engine.c as the
 * capture is read.
 */
#include "copy/engine_int.h"
#include "relay/wire.h"

#include <stdio.h>

void tw_copy_ssess_reply(void *ctx, struct tw_ssess *s, const uint8_t *data, size_t len)
{
	struct csess *cs = s->user;

	(void)ctx;
	tw_cmp_target(&cs->cmp, data, len);
}

static void json_str(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			fputc('\\', f);
		fputc(*s, f);
	}
	fputc('"', f);
}

/* A request was released: the target's reply to the one before is judged. */
static void judge(struct tw_copy *c, struct csess *cs)
{
	struct tw_cmp_result r;
	char name[96];

	if (!tw_cmp_target_cut(&cs->cmp, &r))
		return;
	if (!r.judged) {
		c->st.resp_unjudged++;
		return;
	}
	if (r.match) {
		c->st.resp_match++;
		return;
	}
	c->st.resp_differ++;
	if (!c->cfg.diff)
		return;
	tw_copy_session_name(cs, name, sizeof(name));
	fprintf(c->cfg.diff, "{\"session\": \"%s\", \"exchange\": %u, \"production\": {\"bytes\": %llu, "
		"\"hash\": \"%016llx\", \"status\": ", name, r.index, (unsigned long long)r.prod.len,
		(unsigned long long)r.prod.hash);
	json_str(c->cfg.diff, r.prod.status);
	if (r.tgt.nohash) /* raw mode: intercept relayed only the first bytes */
		fprintf(c->cfg.diff, "}, \"target\": {\"bytes\": %llu, \"hash\": null, \"status\": ",
			(unsigned long long)r.tgt.len);
	else
		fprintf(c->cfg.diff, "}, \"target\": {\"bytes\": %llu, \"hash\": \"%016llx\", "
			"\"status\": ", (unsigned long long)r.tgt.len, (unsigned long long)r.tgt.hash);
	json_str(c->cfg.diff, r.tgt.status);
	fprintf(c->cfg.diff, "}}\n");
}

void tw_copy_ssess_cut(void *ctx, struct tw_ssess *s)
{
	judge(ctx, s->user);
}

void tw_copy_sess_cut(void *ctx, struct tw_sess *s)
{
	judge(ctx, s->user);
}

void tw_copy_cmp_reply(struct csess *cs, const struct tw_wire_reply *r)
{
	if (r->flags & TW_TH_SYN) {
		cs->t_next = r->seq + 1;
		cs->t_known = true;
		return;
	}
	if (!r->payload_len || !cs->t_known)
		return;
	int32_t off = (int32_t)(cs->t_next - r->seq);

	if (off < 0) {
		tw_cmp_target_broken(&cs->cmp); /* a hole: this exchange is not judged */
		cs->t_next = r->seq + r->payload_len;
	} else if ((uint32_t)off < r->payload_len) {
		size_t cap = r->payload_cap > (uint32_t)off ? r->payload_cap - (size_t)off : 0;
		tw_cmp_target_part(&cs->cmp, cap ? r->payload + off : NULL, cap,
				   r->payload_len - (uint32_t)off);
		cs->t_next = r->seq + r->payload_len;
	}
}
