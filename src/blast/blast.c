/*
 * blast.c - the send loop of `tcptwin blast` (see blast.h).
 *
 * Each captured frame is "prepared" into zero or more frames ready to send:
 * sent borrowed as it is when nothing changes it, else copied into a slot of
 * a staging ring (rewritten there), or - above the MTU - rewritten in a
 * scratch buffer and cut into segments, one per slot. With -K the prepared
 * frames go into one arena at load time instead, so the timed part only
 * paces and sends. The staging ring has one slot per batch entry: a slot is
 * reused only after the frame in it was sent (at most batch-1 frames wait,
 * and a slot counts as used only once a frame in it was queued).
 *
 * Pacing: every frame gets a deadline from blast/sched.h relative to the
 * start; a frame not yet due first sends what is queued, then sleeps until
 * its deadline (clock_nanosleep TIMER_ABSTIME, timer slack 1 ns), so late
 * wake-ups never accumulate. At top speed nothing sleeps and the clock is
 * read once per batch. No allocation or log line per frame.
 */
#define TW_LOG_MODULE "blast"

#include "blast/blast.h"

#include "capture/source.h"
#include "core/clock.h"
#include "core/err.h"
#include "core/log.h"
#include "pkt/decode.h"
#include "pkt/reseg.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <time.h>

#define SRC_BATCH 64
#define SCRATCH (262144u + 64u)
#define STOP 1                 /* emit: the run is over (limit, duration, request) */

struct rec {                   /* one prepared frame of a preloaded file */
	size_t off;
	uint32_t len;
	uint16_t l3off;
	int64_t ts;
};

struct run {
	const struct tw_blast_cfg *cfg;
	struct tw_blast_stats *st;
	struct tw_btx *tx;
	struct tw_sched sched;
	struct tw_rw_cfg rw;
	struct tw_rw_cfg uniq_rw;  /* nothing but --unique-ip (after -K preparation) */
	bool rw_on;
	uint32_t mtu, uniq;
	/* batch */
	struct tw_btx_frame *batch;
	unsigned nb, bmax;
	/* staging ring */
	uint8_t *stage;
	size_t slot;
	unsigned next_slot;
	uint8_t *scratch;
	/* -K */
	bool loading;
	uint8_t *arena;
	size_t arena_len, arena_cap;
	struct rec *recs;
	size_t nrec, rec_cap;
	size_t *file_first;        /* first record of each file (nfiles + 1 entries) */
	/* time */
	uint64_t start, now;
	uint64_t queued;
};

static volatile sig_atomic_t stop_req;
static struct tw_btx *volatile cur_tx;

void tw_blast_stop(void)
{
	struct tw_btx *tx = cur_tx;

	stop_req = 1;
	if (tx)
		tw_btx_break(tx);
}

static int flush(struct run *r)
{
	int rc = 0;

	if (r->nb) {
		rc = tw_btx_send(r->tx, r->batch, r->nb);
		r->nb = 0;
	}
	r->now = tw_clock_mono_ns();
	return rc < 0 ? rc : 0;
}

static void sleep_until(uint64_t t)
{
	struct timespec ts = {.tv_sec = (time_t)(t / TW_NSEC_PER_SEC),
			      .tv_nsec = (long)(t % TW_NSEC_PER_SEC)};

	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR && !stop_req)
		;
}

/* Queue one frame for sending at its deadline. 0, STOP or -errno. */
static int emit(struct run *r, const uint8_t *data, uint32_t len, int64_t ts)
{
	const struct tw_blast_cfg *c = r->cfg;
	uint64_t d;
	int rc;

	if (stop_req || (c->limit && r->queued >= c->limit))
		return STOP;
	d = tw_sched_next(&r->sched, ts, len);
	if (c->duration_ns && d >= c->duration_ns)
		return STOP;
	if (r->start + d > r->now) {
		rc = flush(r);
		if (rc < 0)
			return rc;
		if (r->start + d > r->now) {
			sleep_until(r->start + d);
			r->now = tw_clock_mono_ns();
		}
		if (stop_req || (c->duration_ns && r->now - r->start >= c->duration_ns))
			return STOP;
	}
	r->batch[r->nb].data = data;
	r->batch[r->nb].len = len;
	r->queued++;
	if (++r->nb == r->bmax) {
		rc = flush(r);
		if (rc < 0)
			return rc;
		if (c->duration_ns && r->now - r->start >= c->duration_ns)
			return STOP;
	}
	return 0;
}

/* Room for a frame of up to NEED bytes: the next staging slot, or the end of
 * the -K arena. NULL when it cannot be had. Taken only by commit (a slot
 * given out but not committed is handed out again: were it skipped, a slot
 * could come round again while the frame in it still waits in the batch). */
static uint8_t *get_buf(struct run *r, size_t need)
{
	uint8_t *p;

	if (!r->loading) {
		if (need > r->slot)
			return NULL;
		return r->stage + (size_t)r->next_slot * r->slot;
	}
	if (r->arena_len + need > r->arena_cap) {
		size_t cap = r->arena_cap ? r->arena_cap * 2 : (size_t)16 << 20;

		while (cap < r->arena_len + need)
			cap *= 2;
		p = realloc(r->arena, cap);
		if (!p)
			return NULL;
		r->arena = p;
		r->arena_cap = cap;
	}
	return r->arena + r->arena_len;
}

/* A prepared frame in BUF (from get_buf, or borrowed when not loading). */
static int commit(struct run *r, const uint8_t *buf, uint32_t len, uint16_t l3off, int64_t ts)
{
	if (!r->loading) {
		if (buf == r->stage + (size_t)r->next_slot * r->slot)
			r->next_slot = (r->next_slot + 1) % r->bmax;
		return emit(r, buf, len, ts);
	}
	if (r->nrec == r->rec_cap) {
		size_t cap = r->rec_cap ? r->rec_cap * 2 : 65536;
		struct rec *n = realloc(r->recs, cap * sizeof(*n));

		if (!n)
			return -ENOMEM;
		r->recs = n;
		r->rec_cap = cap;
	}
	if (buf != r->arena + r->arena_len) {
		uint8_t *p = get_buf(r, len);

		if (!p)
			return -ENOMEM;
		memcpy(p, buf, len);
	}
	r->recs[r->nrec++] = (struct rec){.off = r->arena_len, .len = len, .l3off = l3off,
					  .ts = ts};
	r->arena_len += len;
	return 0;
}

/* Cut the rewritten frame in r->scratch (LEN bytes, IP at L3OFF) into
 * segments of at most the MTU. */
static int reseg_frame(struct run *r, size_t len, size_t l3off, int64_t ts)
{
	struct tw_reseg rs;
	struct tw_pkt p;
	uint8_t *buf;
	int n, rc;

	if (tw_pkt_decode(NULL, TW_LT_EN10MB, r->scratch, len, len, &p) < 0 ||
	    tw_reseg_init(&rs, &p, tw_reseg_mss(&p, r->mtu, 0)) < 0) {
		r->st->failed++;
		return 0;
	}
	r->st->resegmented++;
	for (;;) {
		buf = get_buf(r, l3off + r->mtu);
		if (!buf)
			return r->loading ? -ENOMEM : -EMSGSIZE;
		n = tw_reseg_next(&rs, buf + l3off, r->loading ? r->mtu : r->slot - l3off);
		if (n <= 0) {
			if (n < 0)
				r->st->failed++;
			return 0;
		}
		memcpy(buf, r->scratch, l3off);
		r->st->segments++;
		rc = commit(r, buf, (uint32_t)(l3off + (size_t)n), (uint16_t)l3off, ts);
		if (rc)
			return rc;
	}
}

/* One captured frame into prepared frames. 0, STOP or -errno. */
static int prepare(struct run *r, const struct tw_frame *fr, int lt)
{
	const struct tw_blast_cfg *c = r->cfg;
	int64_t ts = fr->ts_sec * (int64_t)TW_NSEC_PER_SEC + fr->ts_nsec;
	bool eth = lt == TW_LT_EN10MB, reseg = false;
	size_t l3off = 0, len, iplen = 0;
	uint8_t *buf;
	struct tw_pkt p;
	int rc;

	rc = tw_pkt_decode(NULL, lt, fr->data, fr->caplen, fr->wirelen, &p);
	if (rc == 0) {
		l3off = eth ? (size_t)(p.l3 - fr->data) : 14;
		iplen = fr->caplen - (size_t)(p.l3 - fr->data);
		if (p.ip_len && p.ip_len < iplen)
			iplen = p.ip_len;   /* link padding is not copied into a new frame */
		reseg = !c->no_reseg && !c->rw.mtu_trunc && p.proto == 6 && p.l4 &&
			!p.truncated && !p.frag && p.ip_len > r->mtu;
	} else if (!eth || fr->caplen < 14) {
		r->st->skipped++;
		return 0;
	}
	if (eth && !r->rw_on && !reseg && !r->uniq)
		return commit(r, fr->data, fr->caplen, (uint16_t)l3off, ts);
	len = eth ? fr->caplen : 14 + iplen;
	buf = reseg ? (len <= SCRATCH ? r->scratch : NULL) : get_buf(r, len);
	if (!buf) {
		r->st->failed++;   /* larger than any frame we can send */
		return 0;
	}
	if (eth) {
		memcpy(buf, fr->data, len);
	} else {
		memcpy(buf, c->rw.has_dstmac ? c->rw.dstmac : (const uint8_t *)"\xff\xff\xff\xff\xff\xff",
		       6);
		memcpy(buf + 6, tw_btx_mac(r->tx), 6);
		buf[12] = p.ipver == 4 ? 0x08 : 0x86;
		buf[13] = p.ipver == 4 ? 0x00 : 0xdd;
		memcpy(buf + 14, p.l3, iplen);
	}
	rc = tw_rw_frame(&r->rw, buf, &len, l3off, r->uniq);
	if (rc < 0)
		r->st->rewrite_errors++;
	else if (rc & TW_RW_TRUNC)
		r->st->truncated++;
	if (reseg)
		return reseg_frame(r, len, l3off, ts);
	return commit(r, buf, (uint32_t)len, (uint16_t)l3off, ts);
}

static int open_file(struct run *r, const char *path, struct tw_src **src, char *err,
		     size_t errlen)
{
	struct tw_src_cfg sc = {.kind = TW_SRC_FILE, .spec = path, .nano = true};

	(void)r;
	return tw_src_open(&sc, src, err, errlen);
}

/* One pass over file PATH, prepared as it is read. 0, STOP or -errno. */
static int stream_file(struct run *r, const char *path, char *err, size_t errlen)
{
	struct tw_frame fr[SRC_BATCH];
	struct tw_src *src;
	int n, rc = 0, lt;

	rc = open_file(r, path, &src, err, errlen);
	if (rc < 0)
		return rc;
	lt = tw_src_linktype(src);
	while (!rc && (n = tw_src_next(src, fr, SRC_BATCH, 0)) != -TW_EEOF) {
		if (n < 0) {
			snprintf(err, errlen, "%s: %s", path, tw_src_error(src));
			rc = n;
			break;
		}
		for (int i = 0; i < n && !rc; i++)
			rc = prepare(r, &fr[i], lt);
		/* the frames are borrowed until the next read: send them now */
		if (rc >= 0 && r->nb) {
			int f = flush(r);

			rc = f < 0 ? f : rc;
		}
	}
	tw_src_close(src);
	return rc;
}

static int load_files(struct run *r, char *err, size_t errlen)
{
	const struct tw_blast_cfg *c = r->cfg;

	r->file_first = calloc(c->nfiles + 1, sizeof(*r->file_first));
	if (!r->file_first)
		return -ENOMEM;
	r->loading = true;
	for (unsigned i = 0; i < c->nfiles; i++) {
		struct tw_frame fr[SRC_BATCH];
		struct tw_src *src;
		int n, rc, lt;

		r->file_first[i] = r->nrec;
		rc = open_file(r, c->files[i], &src, err, errlen);
		if (rc < 0)
			return rc;
		lt = tw_src_linktype(src);
		rc = 0;
		while (!rc && (n = tw_src_next(src, fr, SRC_BATCH, 0)) != -TW_EEOF) {
			if (n < 0) {
				snprintf(err, errlen, "%s: %s", c->files[i], tw_src_error(src));
				rc = n;
				break;
			}
			for (int k = 0; k < n && !rc; k++)
				rc = prepare(r, &fr[k], lt);
		}
		tw_src_close(src);
		if (rc < 0) {
			if (!err[0])
				snprintf(err, errlen, "%s: %s", c->files[i], tw_strerror(rc));
			return rc;
		}
	}
	r->file_first[c->nfiles] = r->nrec;
	r->loading = false;
	return 0;
}

/* One pass over preloaded file I. */
static int send_loaded(struct run *r, unsigned i)
{
	int rc = 0;

	for (size_t k = r->file_first[i]; k < r->file_first[i + 1] && !rc; k++) {
		const struct rec *e = &r->recs[k];
		const uint8_t *data = r->arena + e->off;
		uint8_t *buf;
		size_t len = e->len;

		if (r->uniq) {
			buf = get_buf(r, len);
			if (!buf) {
				r->st->failed++;
				continue;
			}
			memcpy(buf, data, len);
			(void)tw_rw_frame(&r->uniq_rw, buf, &len, e->l3off, r->uniq);
			rc = commit(r, buf, (uint32_t)len, e->l3off, e->ts);
			continue;
		}
		rc = emit(r, data, (uint32_t)len, e->ts);
	}
	return rc;
}

static int setup(struct run *r, char *err, size_t errlen)
{
	const struct tw_blast_cfg *c = r->cfg;
	struct tw_btx_cfg tc = {.engine = c->engine, .dev = c->dev, .batch = c->batch};
	int rc;

	rc = tw_btx_open(&tc, &r->tx, err, errlen);
	if (rc < 0)
		return rc;
	r->mtu = c->mtu ? c->mtu : tw_btx_mtu(r->tx);
	r->st->mtu = r->mtu;
	r->st->engine = tw_btx_engine(r->tx);
	if (c->engine == TW_BTX_XDP) {
		r->st->engine = tw_btx_zerocopy(r->tx) ? "xdp (zero-copy)" : "xdp (copy mode)";
		if (!tw_btx_zerocopy(r->tx))
			tw_log(TW_LOG_NOTICE, 0, "xdp on %s: zero-copy unavailable (the driver has "
			       "no AF_XDP zero-copy), sending in copy mode", c->dev);
	}
	r->rw = c->rw;
	r->rw.mtu = r->mtu;
	r->rw_on = tw_rw_active(&r->rw);
	r->bmax = tw_btx_batch(r->tx);
	r->slot = ((size_t)r->mtu + 14 + 8 + 63) & ~(size_t)63;
	r->batch = calloc(r->bmax, sizeof(*r->batch));
	r->stage = malloc(r->slot * r->bmax);
	r->scratch = malloc(SCRATCH);
	if (!r->batch || !r->stage || !r->scratch) {
		snprintf(err, errlen, "blast: out of memory");
		return -ENOMEM;
	}
	rc = tw_sched_init(&r->sched, c->mode, c->rate);
	if (rc < 0)
		snprintf(err, errlen, "blast: invalid rate");
	return rc;
}

int tw_blast_run(const struct tw_blast_cfg *c, struct tw_blast_stats *st, char *err,
		 size_t errlen)
{
	struct run r = {.cfg = c, .st = st};
	struct tw_btx_stats ts;
	int rc;

	memset(st, 0, sizeof(*st));
	err[0] = '\0';
	stop_req = 0;
	rc = setup(&r, err, errlen);
	if (rc == 0 && c->preload)
		rc = load_files(&r, err, errlen);
	if (rc < 0)
		goto out;
	cur_tx = r.tx;
	(void)prctl(PR_SET_TIMERSLACK, 1UL, 0, 0, 0);
	r.start = r.now = tw_clock_mono_ns();
	for (uint64_t loop = 0; !rc && (!c->loops || loop < c->loops); loop++) {
		uint64_t before = r.queued;

		r.uniq = c->unique_ip ? (uint32_t)loop : 0;
		for (unsigned i = 0; i < c->nfiles && !rc; i++) {
			tw_sched_pass(&r.sched);
			rc = c->preload ? send_loaded(&r, i) : stream_file(&r, c->files[i], err, errlen);
		}
		if (!rc)
			st->loops++;
		if (!rc && r.queued == before)
			break;   /* nothing to send: do not loop forever */
	}
	if (rc >= 0) {
		int f = flush(&r);

		rc = f < 0 ? f : 0;
		(void)tw_btx_flush(r.tx, 2000);
	}
	if (rc == -EINTR && stop_req)
		rc = 0;
	if (rc < 0 && !err[0])
		snprintf(err, errlen, "blast: sending on %s: %s", c->dev, tw_strerror(rc));
	st->elapsed_ns = tw_clock_mono_ns() - r.start;
out:
	cur_tx = NULL;
	if (r.tx) {
		tw_btx_stats(r.tx, &ts);
		st->packets = ts.packets;
		st->bytes = ts.bytes;
		st->failed += ts.failed;
		st->retried_nobufs = ts.retried_nobufs;
		st->retried_eagain = ts.retried_eagain;
		tw_btx_close(r.tx);
	}
	free(r.batch);
	free(r.stage);
	free(r.scratch);
	free(r.arena);
	free(r.recs);
	free(r.file_first);
	return rc;
}

void tw_blast_report(FILE *out, const struct tw_blast_stats *st, const char *dev)
{
	double secs = (double)st->elapsed_ns / 1e9;
	double bps = secs > 0 ? (double)st->bytes / secs : 0;

	fprintf(out, "Actual: %llu packets (%llu bytes) sent in %.6f seconds\n",
		(unsigned long long)st->packets, (unsigned long long)st->bytes, secs);
	fprintf(out, "Rated: %.1f Bps, %.2f Mbps, %.2f pps\n", bps, bps * 8 / 1e6,
		secs > 0 ? (double)st->packets / secs : 0);
	fprintf(out, "Statistics for network device: %s\n", dev);
	fprintf(out, "\tSuccessful packets:        %llu\n", (unsigned long long)st->packets);
	fprintf(out, "\tFailed packets:            %llu\n", (unsigned long long)st->failed);
	fprintf(out, "\tTruncated packets:         %llu\n", (unsigned long long)st->truncated);
	fprintf(out, "\tRetried packets (ENOBUFS): %llu\n", (unsigned long long)st->retried_nobufs);
	fprintf(out, "\tRetried packets (EAGAIN):  %llu\n", (unsigned long long)st->retried_eagain);
	fprintf(out, "\tResegmented packets:       %llu (into %llu segments, MTU %u)\n",
		(unsigned long long)st->resegmented, (unsigned long long)st->segments, st->mtu);
	fprintf(out, "\tSkipped packets:           %llu\n", (unsigned long long)st->skipped);
	fprintf(out, "\tLoops:                     %llu\n", (unsigned long long)st->loops);
	fprintf(out, "\tEngine:                    %s\n", st->engine ? st->engine : "-");
}
