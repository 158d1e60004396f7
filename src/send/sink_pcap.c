/*
 * sink_pcap.c - frames to pcap files through libpcap's dump API, with
 * tcpdump's -C/-G/-W rotation (tcpdump 4.99 tcpdump.c, checked by running it):
 *
 *  -C N    before writing a frame, if the current file is already larger than
 *          N bytes, start the next one: FILE, FILE1, FILE2, ...
 *  -C -W   ring of W files FILE0..FILE<W-1>, the number zero-padded to the
 *          width of W (W=12: FILE00..FILE11), the oldest overwritten.
 *  -G S    FILE is a strftime pattern; a new file every S seconds. tcpdump uses
 *          the wall clock; we use the frame timestamps, so reading a pcap
 *          rotates as the live capture did (the first file is named after the
 *          first frame's time; an empty capture leaves a file named after the
 *          time of opening, as tcpdump would).
 *  -G -W   stop after W files: tw_pcapw_write returns 1 instead of opening
 *          file W+1 (the caller prints "Maximum file limit reached").
 *  -G -C   names FILE<count> (count from -C, reset when the time rotates); -W
 *          then only makes the -C count a ring, as in tcpdump.
 *
 * tw_pcapw_write_data: when DATA is the tail of the frame's own buffer (the
 * inner packet of a tunnel), the bytes the capture cut off the frame count
 * as missing from it too, so its original length stays right.
 *
 * "-" writes to stdout (no rotation). Nanosecond files get magic 0xa1b23c4d
 * (the dead handle's precision decides). No allocation per frame; rotation
 * opens files (a syscall per rotation, not per frame).
 */
#include "send/sink_pcap.h"

#include "capture/source.h"
#include "pkt/decode.h"

#include <errno.h>
#include <limits.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

struct tw_pcapw {
	struct tw_pcapw_cfg cfg;
	char pattern[PATH_MAX];          /* cfg.path, owned */
	char name[PATH_MAX];             /* the file being written */
	pcap_t *dead;
	pcap_dumper_t *d;
	unsigned ccount;                 /* -C file count (ring slot with -W) */
	unsigned gcount;                 /* -G files opened so far */
	int64_t gstart;                  /* -G window start (frame seconds) */
	bool gstarted;                   /* gstart set from a frame */
	uint64_t nframes;                /* frames in the current file */
	bool to_stdout;
};

static unsigned digits(uint32_t n)
{
	unsigned d = 1;

	while (n >= 10) {
		n /= 10;
		d++;
	}
	return d;
}

/* tcpdump's MakeFilename: BASE (strftime-expanded when -G), then the count
 * when it is non-zero or -W asks for fixed-width numbers. */
static int make_name(const struct tw_pcapw_cfg *cfg, const char *base, unsigned cnt, char *out,
		     size_t outlen)
{
	unsigned width = cfg->max_files && cfg->rotate_bytes ? digits(cfg->max_files) : 0;
	int n;

	if (cnt == 0 && width == 0)
		n = snprintf(out, outlen, "%s", base);
	else
		n = snprintf(out, outlen, "%s%0*u", base, (int)width, cnt);
	if (n < 0 || (size_t)n >= outlen)
		return -ENAMETOOLONG;
	return 0;
}

int tw_pcapw_name(const struct tw_pcapw_cfg *cfg, unsigned idx, char *out, size_t outlen)
{
	if (cfg->max_files && cfg->rotate_bytes)
		idx %= cfg->max_files;
	return make_name(cfg, cfg->path, idx, out, outlen);
}

static int expand_time(const struct tw_pcapw *w, int64_t sec, char *out, size_t outlen)
{
	time_t t = (time_t)sec;
	struct tm tm;

	if (!w->cfg.rotate_secs) {
		if (snprintf(out, outlen, "%s", w->pattern) >= (int)outlen)
			return -ENAMETOOLONG;
		return 0;
	}
	if (!localtime_r(&t, &tm))
		return -EINVAL;
	/* the -w argument is a strftime pattern under -G, as in tcpdump */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
	size_t n = strftime(out, outlen, w->pattern, &tm);
#pragma GCC diagnostic pop
	if (n == 0)
		return -ENAMETOOLONG;
	return 0;
}

/* Open (truncating) the file for -C count CNT at time SEC. */
static int open_file(struct tw_pcapw *w, int64_t sec, unsigned cnt, char *errbuf, size_t errlen)
{
	char base[PATH_MAX];
	int rc;

	rc = expand_time(w, sec, base, sizeof(base));
	if (rc == 0)
		rc = make_name(&w->cfg, base, cnt, w->name, sizeof(w->name));
	if (rc < 0) {
		if (errbuf)
			snprintf(errbuf, errlen, "%s: file name too long", w->pattern);
		return rc;
	}
	w->d = pcap_dump_open(w->dead, w->name);
	if (!w->d) {
		rc = errno ? -errno : -EIO;
		if (errbuf)
			snprintf(errbuf, errlen, "%s", pcap_geterr(w->dead));
		return rc;
	}
	w->nframes = 0;
	return 0;
}

static void close_file(struct tw_pcapw *w)
{
	if (w->d) {
		pcap_dump_close(w->d);
		w->d = NULL;
	}
}

int tw_pcapw_open(const struct tw_pcapw_cfg *cfg, struct tw_pcapw **out, char *errbuf,
		  size_t errlen)
{
	struct tw_pcapw *w;
	int dlt, rc;

	*out = NULL;
	if (errbuf && errlen)
		errbuf[0] = '\0';
	if (!cfg->path || !*cfg->path) {
		if (errbuf)
			snprintf(errbuf, errlen, "no output file name");
		return -EINVAL;
	}
	w = calloc(1, sizeof(*w));
	if (!w)
		return -ENOMEM;
	w->cfg = *cfg;
	if (snprintf(w->pattern, sizeof(w->pattern), "%s", cfg->path) >= (int)sizeof(w->pattern)) {
		free(w);
		if (errbuf)
			snprintf(errbuf, errlen, "%s: file name too long", cfg->path);
		return -ENAMETOOLONG;
	}
	w->cfg.path = w->pattern;
	w->to_stdout = strcmp(cfg->path, "-") == 0;
	if (w->to_stdout) {
		w->cfg.rotate_bytes = 0;
		w->cfg.rotate_secs = 0;
		w->cfg.max_files = 0;
	}
	/* libpcap wants the DLT: raw IP is DLT_RAW (12 on Linux), written as
	 * LINKTYPE_RAW (101); the other TW_LT_* values are the same in both. */
	dlt = cfg->linktype == TW_LT_RAW ? DLT_RAW : cfg->linktype;
	w->dead = pcap_open_dead_with_tstamp_precision(dlt, cfg->snaplen ? (int)cfg->snaplen : 262144,
						       cfg->nano ? PCAP_TSTAMP_PRECISION_NANO
								 : PCAP_TSTAMP_PRECISION_MICRO);
	if (!w->dead) {
		free(w);
		if (errbuf)
			snprintf(errbuf, errlen, "cannot create a pcap handle for link type %d",
				 cfg->linktype);
		return -ENOMEM;
	}
	rc = open_file(w, time(NULL), 0, errbuf, errlen);
	if (rc < 0) {
		pcap_close(w->dead);
		free(w);
		return rc;
	}
	w->gcount = 1;
	*out = w;
	return 0;
}

/* Rotate before writing a frame at time SEC when due. 1 = -G/-W limit. */
static int rotate(struct tw_pcapw *w, int64_t sec)
{
	const struct tw_pcapw_cfg *c = &w->cfg;
	char base[PATH_MAX], name[PATH_MAX];

	if (c->rotate_secs) {
		if (!w->gstarted) {
			/* first frame: the window starts now; rename the still empty
			 * file opened at tw_pcapw_open if the frame's time names it
			 * differently */
			w->gstarted = true;
			w->gstart = sec;
			if (w->nframes == 0 && expand_time(w, sec, base, sizeof(base)) == 0 &&
			    make_name(c, base, w->ccount, name, sizeof(name)) == 0 &&
			    strcmp(name, w->name) != 0) {
				close_file(w);
				(void)unlink(w->name);
				return open_file(w, sec, w->ccount, NULL, 0);
			}
		} else if (sec - w->gstart >= (int64_t)c->rotate_secs) {
			w->gstart = sec;
			if (c->max_files && !c->rotate_bytes && w->gcount >= c->max_files)
				return 1;
			w->gcount++;
			close_file(w);
			w->ccount = 0;
			return open_file(w, sec, 0, NULL, 0);
		}
	}
	if (c->rotate_bytes) {
		int64_t size = pcap_dump_ftell64(w->d);
		if (size >= 0 && (uint64_t)size > c->rotate_bytes) {
			close_file(w);
			w->ccount++;
			if (c->max_files && w->ccount >= c->max_files)
				w->ccount = 0;
			return open_file(w, c->rotate_secs ? w->gstart : sec, w->ccount, NULL, 0);
		}
	}
	return 0;
}

int tw_pcapw_write_data(struct tw_pcapw *w, const struct tw_frame *f, const uint8_t *data,
			uint32_t len)
{
	struct pcap_pkthdr h;
	int rc;

	if (!w->to_stdout) {
		rc = rotate(w, f->ts_sec);
		if (rc != 0)
			return rc;
	}
	if (!w->d)
		return -EBADF;
	memset(&h, 0, sizeof(h));
	h.ts.tv_sec = (time_t)f->ts_sec;
	/* the dumper writes tv_usec as is: nanoseconds for a nano handle */
	h.ts.tv_usec = (suseconds_t)(w->cfg.nano ? f->ts_nsec : f->ts_nsec / 1000);
	h.caplen = len;
	if (w->cfg.snaplen && h.caplen > w->cfg.snaplen)
		h.caplen = w->cfg.snaplen;
	/* Original length: bytes inside the frame's buffer that reach its
	 * captured end lost what the capture cut off the frame (an inner packet
	 * of a truncated mirror frame); other bytes are whole. */
	h.len = len;
	if (f->wirelen > f->caplen && data >= f->data && data <= f->data + f->caplen &&
	    (size_t)(data - f->data) + len == f->caplen)
		h.len = len + (f->wirelen - f->caplen);
	else if (data == f->data && f->wirelen > len)
		h.len = f->wirelen;
	pcap_dump((u_char *)w->d, &h, data);
	w->nframes++;
	if (w->cfg.packet_buffered)
		return tw_pcapw_flush(w);
	return 0;
}

int tw_pcapw_write(struct tw_pcapw *w, const struct tw_frame *f)
{
	return tw_pcapw_write_data(w, f, f->data, f->caplen);
}

int tw_pcapw_flush(struct tw_pcapw *w)
{
	if (w->d && pcap_dump_flush(w->d) == -1)
		return -EIO;
	return 0;
}

void tw_pcapw_close(struct tw_pcapw *w)
{
	if (!w)
		return;
	close_file(w);
	if (w->dead)
		pcap_close(w->dead);
	free(w);
}
