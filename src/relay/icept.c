/*
 * icept.c - intercept's capture side (see icept.h): capture sources on the
 * event loop, decode, reply records to the channel server, one flush per
 * burst. No per-packet allocation or log line.
 */
#define TW_LOG_MODULE "intercept"
#include "relay/icept.h"
#include "capture/source.h"
#include "core/err.h"
#include "core/log.h"
#include "core/loop.h"
#include "pkt/decode.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#define FRAMES 64

struct isrc {
	struct tw_icept *ic;
	struct tw_src *src;
	struct tw_io io;
	bool io_on;
	int linktype;
	char name[64];
};

struct tw_icept {
	struct tw_loop *loop;
	struct tw_relay_server *srv;
	struct isrc src[TW_ICEPT_MAX_IFACES];
	unsigned nsrc;
	struct tw_decode_cfg dcfg;
	uint16_t payload;               /* reply payload bytes kept (what the server offers) */
	struct tw_frame frames[FRAMES];
	struct tw_icept_stats st;
};

void tw_icept_cfg_init(struct tw_icept_cfg *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->snaplen = 256;
	cfg->buffer_kb = 65536;
	tw_relay_server_cfg_init(&cfg->srv);
}

static void on_capture(struct tw_io *io, unsigned ev, void *arg)
{
	struct isrc *s = arg;
	struct tw_icept *ic = s->ic;

	(void)io;
	(void)ev;
	for (int turns = 0; turns < 16; turns++) {
		int n = tw_src_next(s->src, ic->frames, FRAMES, 0);

		if (n <= 0) {
			if (n < 0 && n != -EINTR && n != -EAGAIN) {
				tw_log(TW_LOG_ERR, 0, "capture on %s stopped: %s", s->name, tw_src_error(s->src));
				(void)tw_loop_io_stop(ic->loop, &s->io);
				s->io_on = false;
			}
			break;
		}
		for (int i = 0; i < n; i++) {
			const struct tw_frame *f = &ic->frames[i];
			struct tw_wire_reply r;
			struct tw_pkt p;

			ic->st.frames++;
			if (tw_pkt_decode(&ic->dcfg, s->linktype, f->data, f->caplen, f->wirelen, &p) < 0) {
				ic->st.undecodable++;
				continue;
			}
			if (p.proto != 6 || !p.l4 || p.frag || tw_wire_reply_from_pkt(&p, ic->payload, &r) < 0) {
				ic->st.not_tcp++;
				continue;
			}
			tw_relay_server_reply(ic->srv, &r);
		}
		if (n < FRAMES)
			break;
	}
	tw_relay_server_flush(ic->srv);
}

int tw_icept_new(struct tw_loop *loop, const struct tw_icept_cfg *cfg, struct tw_icept **out,
		 char *err, size_t errlen)
{
	struct tw_icept *ic = calloc(1, sizeof(*ic));
	const char *s = cfg->ifaces;
	int rc;

	if (!ic)
		return -ENOMEM;
	ic->loop = loop;
	ic->payload = cfg->srv.payload;
	tw_decode_cfg_init(&ic->dcfg);
	while (s && *s) {
		const char *comma = strchr(s, ',');
		size_t len = comma ? (size_t)(comma - s) : strlen(s);
		struct tw_src_cfg sc;
		struct isrc *is;

		if (ic->nsrc == TW_ICEPT_MAX_IFACES || !len || len >= sizeof(is->name)) {
			snprintf(err, errlen, "-i: bad interface list '%s' (at most %d names)", cfg->ifaces,
				 TW_ICEPT_MAX_IFACES);
			rc = -EINVAL;
			goto fail;
		}
		is = &ic->src[ic->nsrc];
		memcpy(is->name, s, len);
		is->name[len] = '\0';
		s = comma ? comma + 1 : s + len;
		memset(&sc, 0, sizeof(sc));
		sc.kind = TW_SRC_AFPACKET;
		sc.spec = is->name;
		sc.filter = cfg->filter;
		sc.snaplen = cfg->snaplen;
		sc.promisc = true;
		sc.buffer_kb = cfg->buffer_kb;
		sc.block_tov_ms = 2; /* with 64 KiB blocks (snaplen 256): 1024 in 64 MiB */
		sc.ignore_outgoing = false;
		rc = tw_src_open(&sc, &is->src, err, errlen);
		if (rc < 0)
			goto fail;
		is->ic = ic;
		is->linktype = tw_src_linktype(is->src);
		ic->nsrc++;
		tw_io_init(&is->io, tw_src_fd(is->src), on_capture, is);
		if ((rc = tw_loop_io_start(loop, &is->io, TW_IO_IN)) < 0) {
			snprintf(err, errlen, "-i %s: epoll: %s", is->name, tw_strerror(rc));
			goto fail;
		}
		is->io_on = true;
	}
	if (!ic->nsrc) {
		snprintf(err, errlen, "-i: no interface given");
		rc = -EINVAL;
		goto fail;
	}
	rc = tw_relay_server_open(loop, &cfg->srv, &ic->srv, err, errlen);
	if (rc < 0)
		goto fail;
	*out = ic;
	return 0;
fail:
	tw_icept_free(ic);
	return rc;
}

void tw_icept_get_stats(struct tw_icept *ic, struct tw_icept_stats *st)
{
	ic->st.capture_drops = 0;
	for (unsigned i = 0; i < ic->nsrc; i++) {
		struct tw_src_stats ss;
		if (tw_src_stats(ic->src[i].src, &ss) == 0)
			ic->st.capture_drops += ss.dropped;
	}
	*st = ic->st;
	tw_relay_server_get_stats(ic->srv, &st->srv);
}

void tw_icept_print_stats(struct tw_icept *ic, FILE *out)
{
	struct tw_icept_stats st;

	tw_icept_get_stats(ic, &st);
	fprintf(out,
		"intercept: %u copies connected, %" PRIu64 " registered; replies captured %" PRIu64
		", forwarded %" PRIu64 ", held %" PRIu64 " (released %" PRIu64 ", expired %" PRIu64
		", overflow %" PRIu64 "), unmatched %" PRIu64 ", send drops %" PRIu64
		", capture drops %" PRIu64 ", copies refused %" PRIu64 "\n",
		st.srv.live_conns, st.srv.registered, st.srv.captured, st.srv.forwarded, st.srv.held,
		st.srv.held_forwarded, st.srv.held_expired, st.srv.held_overflow, st.srv.unmatched,
		st.srv.send_drops, st.capture_drops, st.srv.refused);
}

void tw_icept_free(struct tw_icept *ic)
{
	if (!ic)
		return;
	tw_relay_server_close(ic->srv);
	for (unsigned i = 0; i < ic->nsrc; i++) {
		if (ic->src[i].io_on)
			(void)tw_loop_io_stop(ic->loop, &ic->src[i].io);
		tw_src_close(ic->src[i].src);
	}
	free(ic);
}
