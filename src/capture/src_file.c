/*
 * src_file.c - the "file" capture engine: pcap and pcapng files (or stdin,
 * "-") read through libpcap, always at nanosecond precision, with an
 * optional BPF filter applied in user space (pcap_offline_filter).
 *
 * Batching: libpcap reuses its record buffer on every pcap_next_ex, so all
 * frames of a batch but the last are copied into a buffer allocated once at
 * open (1 MiB); the batch ends early when that buffer is full. The last
 * frame of a batch points into libpcap's buffer, which stays valid until the
 * next tw_src_next call - exactly the lifetime the contract promises.
 *
 * It does not parse packet records itself: the only bytes it reads on its
 * own are the file header (and, for pcapng, the first interface description
 * block), to learn whether the file holds sub-microsecond timestamps.
 */
#define TW_LOG_MODULE "capture"

#include "capture/source_int.h"
#include "core/err.h"
#include "core/log.h"
#include "pkt/cursor.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define BATCH_BUF (1u << 20)
#define PEEK_MAX (64u * 1024u)

#define PCAP_MAGIC_NSEC 0xa1b23c4du
#define PCAPNG_SHB 0x0a0d0d0au
#define PCAPNG_BOM 0x1a2b3c4du
#define PCAPNG_IDB 1u
#define PCAPNG_OPT_TSRESOL 9u

struct file_src {
	pcap_t *p;
	struct bpf_program prog;
	bool have_prog;
	volatile sig_atomic_t brk;
	int state;               /* 0 while reading, then -TW_EEOF or -TW_EBADFILE */
	uint8_t *buf;            /* BATCH_BUF bytes for batch copies */
	uint64_t received;
	char *name;
};

/* Where the header bytes come from: a stdio stream or a raw descriptor. */
struct input {
	FILE *fp;
	int fd;
	bool own_fd;             /* close FD when done (a FIFO we opened) */
};

static size_t input_read(const struct input *in, uint8_t *buf, size_t n)
{
	size_t got = 0;

	if (in->fp)
		return fread(buf, 1, n, in->fp);
	while (got < n) {
		ssize_t k = read(in->fd, buf + got, n - got);
		if (k == -1 && errno == EINTR)
			continue;
		if (k <= 0)
			break;
		got += (size_t)k;
	}
	return got;
}

/* Read exactly N more bytes into PEEK at *LEN; false when short or too big. */
static bool peek_more(const struct input *in, uint8_t *peek, size_t *len, size_t n)
{
	size_t got;

	if (n > PEEK_MAX - *len)
		return false;
	got = input_read(in, peek + *len, n);
	*len += got;
	return got == n;
}

static uint32_t ld32(const uint8_t *p, bool le)
{
	struct tw_rd rd;

	tw_rd_init(&rd, p, 4);
	return le ? tw_rd_le32(&rd) : tw_rd_be32(&rd);
}

/* Sub-microsecond resolution in an IDB's if_tsresol option value. */
static bool tsresol_is_fine(uint8_t v)
{
	if (v & 0x80)
		return (v & 0x7f) >= 20;  /* 2^-20 s is just under 1 us */
	return v > 6;                     /* 10^-v s */
}

/* Walk the options of the IDB body in RD (after the fixed 8 bytes). */
static bool idb_is_fine(struct tw_rd *rd, bool le)
{
	while (tw_rd_left(rd) >= 4) {
		uint16_t code = le ? tw_rd_le16(rd) : tw_rd_be16(rd);
		uint16_t olen = le ? tw_rd_le16(rd) : tw_rd_be16(rd);
		const uint8_t *v;

		if (code == 0)
			break;
		v = tw_rd_ptr(rd, olen);
		if (!v)
			break;
		if (code == PCAPNG_OPT_TSRESOL && olen >= 1)
			return tsresol_is_fine(v[0]);
		tw_rd_skip(rd, (4u - (olen & 3u)) & 3u);
	}
	return false;  /* no if_tsresol: the default is 10^-6 */
}

/*
 * Learn whether the file holds sub-microsecond timestamps. libpcap cannot
 * tell us: pcap_get_tstamp_precision() returns the precision we *asked* for
 * (it converts every stamp to it), and it hides the file magic and the
 * pcapng if_tsresol option. So we read the first bytes ourselves - only the
 * 4-byte pcap magic (0xa1b23c4d in either byte order = nanoseconds), or for
 * pcapng the section header block and the first interface description
 * block - and then hand the whole stream, from byte 0, to libpcap. Bytes
 * read land in PEEK; returns their number. Any surprise just stops the probe:
 * libpcap, not this function, judges whether the file is valid.
 */
static size_t peek_header(const struct input *in, uint8_t *peek, bool *nano)
{
	size_t len = 0;
	uint32_t shb_len, blk_type, blk_len;
	bool le;
	struct tw_rd rd;

	*nano = false;
	if (!peek_more(in, peek, &len, 4))
		return len;
	if (ld32(peek, true) == PCAP_MAGIC_NSEC || ld32(peek, false) == PCAP_MAGIC_NSEC) {
		*nano = true;
		return len;
	}
	if (ld32(peek, true) != PCAPNG_SHB || !peek_more(in, peek, &len, 8))
		return len;
	if (ld32(peek + 8, true) == PCAPNG_BOM)
		le = true;
	else if (ld32(peek + 8, false) == PCAPNG_BOM)
		le = false;
	else
		return len;
	shb_len = ld32(peek + 4, le);
	if (shb_len < 28 || shb_len % 4 || !peek_more(in, peek, &len, shb_len - 12))
		return len;
	if (!peek_more(in, peek, &len, 8))
		return len;
	blk_type = ld32(peek + shb_len, le);
	blk_len = ld32(peek + shb_len + 4, le);
	if (blk_type != PCAPNG_IDB || blk_len < 20 || blk_len % 4 ||
	    !peek_more(in, peek, &len, blk_len - 8))
		return len;
	/* IDB body: link type (2), reserved (2), snaplen (4), options; then the
	 * repeated block length (4). */
	tw_rd_init(&rd, peek + shb_len + 16, blk_len - 20);
	*nano = idb_is_fine(&rd, le);
	return len;
}

/* A stream that replays the peeked bytes, then reads on from the input:
 * for stdin and other streams we cannot seek back on. */
struct replay {
	struct input in;
	uint8_t *pre;
	size_t len, pos;
	bool owns_fp;
};

static ssize_t replay_read(void *cookie, char *buf, size_t size)
{
	struct replay *r = cookie;

	if (r->pos < r->len) {
		size_t n = r->len - r->pos < size ? r->len - r->pos : size;
		memcpy(buf, r->pre + r->pos, n);
		r->pos += n;
		return (ssize_t)n;
	}
	if (r->in.fp) {
		size_t n = fread(buf, 1, size, r->in.fp);
		return n == 0 && ferror(r->in.fp) ? -1 : (ssize_t)n;
	}
	for (;;) {
		ssize_t k = read(r->in.fd, buf, size);
		if (k == -1 && errno == EINTR)
			continue;
		return k;
	}
}

static int replay_close(void *cookie)
{
	struct replay *r = cookie;

	if (r->owns_fp && r->in.fp)
		fclose(r->in.fp);
	if (r->in.own_fd)
		close(r->in.fd);
	free(r->pre);
	free(r);
	return 0;
}

static FILE *replay_open(const struct input *in, bool owns_fp, uint8_t *pre, size_t len)
{
	static const cookie_io_functions_t io = {.read = replay_read, .close = replay_close};
	struct replay *r = calloc(1, sizeof(*r));
	FILE *fp;

	if (!r)
		return NULL;
	r->in = *in;
	r->pre = pre;
	r->len = len;
	r->owns_fp = owns_fp;
	fp = fopencookie(r, "r", io);
	if (!fp)
		free(r);
	return fp;
}

static void file_free(struct file_src *fs)
{
	if (fs->have_prog)
		pcap_freecode(&fs->prog);
	if (fs->p)
		pcap_close(fs->p);
	free(fs->buf);
	free(fs->name);
	free(fs);
}

/*
 * Open on IN (a stream we own, or descriptor 0 for stdin). On failure the
 * stream is closed.
 */
static int open_input(struct tw_src *src, struct input *in, const char *name, const char *filter)
{
	char ebuf[PCAP_ERRBUF_SIZE] = "";
	struct file_src *fs;
	uint8_t *peek;
	size_t plen;
	FILE *fp;
	int rc;

	fs = calloc(1, sizeof(*fs));
	peek = malloc(PEEK_MAX);
	if (fs)
		fs->buf = malloc(BATCH_BUF);
	if (fs)
		fs->name = strdup(name);
	if (!fs || !peek || !fs->buf || !fs->name) {
		rc = -ENOMEM;
		tw_src_seterr(src, "%s: %s", name, tw_strerror(rc));
		goto err_free;
	}
	plen = peek_header(in, peek, &src->nano);
	if (in->fp && fseek(in->fp, 0, SEEK_SET) == 0) {
		fp = in->fp;
		free(peek);
	} else {
		fp = replay_open(in, in->fp != NULL, peek, plen);
		if (!fp) {
			rc = -errno;
			tw_src_seterr(src, "%s: %s", name, tw_strerror(rc));
			goto err_free;
		}
	}
	in->fp = NULL;  /* owned by FP (or FP itself) from here on */
	in->own_fd = false;
	peek = NULL;
	/* NANO always: libpcap scales microsecond files up, so tw_frame carries
	 * nanoseconds whatever the file holds. */
	fs->p = pcap_fopen_offline_with_tstamp_precision(fp, PCAP_TSTAMP_PRECISION_NANO, ebuf);
	if (!fs->p) {
		/* libpcap leaves the stream to the caller when it fails */
		fclose(fp);
		tw_src_seterr(src, "%s: %s", name, *ebuf ? ebuf : "unknown file format");
		rc = -TW_EBADFILE;
		goto err_free;
	}
	src->linktype = tw_src_dlt_to_lt(pcap_datalink(fs->p));
	src->snaplen = (uint32_t)pcap_snapshot(fs->p);
	if (filter && *filter) {
		rc = tw_src_compile(src, pcap_datalink(fs->p), src->snaplen, filter, &fs->prog);
		if (rc < 0)
			goto err_free;
		fs->have_prog = true;
	}
	src->priv = fs;
	return 0;

err_free:
	if (in->fp)
		fclose(in->fp);
	if (in->own_fd)
		close(in->fd);
	free(peek);
	if (fs)
		file_free(fs);
	return rc;
}

static int file_open(struct tw_src *src, const struct tw_src_cfg *cfg)
{
	struct input in = {.fp = NULL, .fd = -1};
	struct stat st;
	int fd, rc;

	if (strcmp(cfg->spec, "-") == 0) {
		/* read stdin's descriptor directly: a stdio read on stdin could
		 * buffer bytes past the header that the replay stream would miss */
		in.fd = STDIN_FILENO;
		return open_input(src, &in, "stdin", cfg->filter);
	}
	fd = open(cfg->spec, O_RDONLY | O_CLOEXEC);
	if (fd == -1 || fstat(fd, &st) == -1) {
		rc = -errno;
		tw_src_seterr(src, "%s: %s", cfg->spec, tw_strerror(rc));
		if (fd != -1)
			close(fd);
		return rc;
	}
	if (S_ISDIR(st.st_mode)) {
		close(fd);
		tw_src_seterr(src, "%s: %s", cfg->spec, tw_strerror(-EISDIR));
		return -EISDIR;
	}
	if (!S_ISREG(st.st_mode)) {
		/* a FIFO (e.g. -r <(tcpdump -w -)): read its descriptor like stdin */
		in.fd = fd;
		in.own_fd = true;
		return open_input(src, &in, cfg->spec, cfg->filter);
	}
	in.fp = fdopen(fd, "rb");
	if (!in.fp) {
		rc = -errno;
		close(fd);
		tw_src_seterr(src, "%s: %s", cfg->spec, tw_strerror(rc));
		return rc;
	}
	return open_input(src, &in, cfg->spec, cfg->filter);
}

int tw_src_open_fp(FILE *fp, const char *name, const char *filter, struct tw_src **out,
		   char *errbuf, size_t errlen)
{
	struct input in = {.fp = fp, .fd = -1};
	struct tw_src *src;
	int rc;

	*out = NULL;
	src = calloc(1, sizeof(*src));
	if (!src) {
		fclose(fp);
		return -ENOMEM;
	}
	src->ops = &tw_src_file_ops;
	rc = open_input(src, &in, name, filter);
	if (rc < 0) {
		if (errbuf && errlen)
			snprintf(errbuf, errlen, "%s", src->err);
		free(src);
		return rc;
	}
	*out = src;
	return 0;
}

static void fill_frame(struct tw_frame *f, const struct pcap_pkthdr *h)
{
	/* at nanosecond precision libpcap puts nanoseconds in tv_usec; a
	 * hostile file may hold a value of a second or more */
	uint64_t ns = (uint64_t)h->ts.tv_usec;

	f->ts_sec = (int64_t)h->ts.tv_sec + (int64_t)(ns / 1000000000u);
	f->ts_nsec = (uint32_t)(ns % 1000000000u);
	f->caplen = h->caplen;
	/* a record claiming fewer bytes on the wire than captured is damaged;
	 * keep wirelen >= caplen so writers and decoders can rely on it */
	f->wirelen = h->len < h->caplen ? h->caplen : h->len;
	f->flags = 0;
}

static int file_next(struct tw_src *src, struct tw_frame *frames, int max, int timeout_ms)
{
	struct file_src *fs = src->priv;
	struct pcap_pkthdr *h;
	const u_char *data;
	size_t used = 0;
	int n = 0, rc;

	if (fs->state)
		return fs->state;
	if (fs->brk) {
		fs->brk = 0;
		return 0;
	}
	while (n < max) {
		rc = pcap_next_ex(fs->p, &h, &data);
		if (rc == PCAP_ERROR_BREAK) {
			fs->state = -TW_EEOF;
			break;
		}
		if (rc != 1) {
			/* libpcap's text already says "truncated dump file; ..." */
			tw_src_seterr(src, "%s: %s", fs->name, pcap_geterr(fs->p));
			fs->state = -TW_EBADFILE;
			break;
		}
		if (fs->have_prog && !pcap_offline_filter(&fs->prog, h, data))
			continue;
		struct tw_frame *f = &frames[n++];
		fill_frame(f, h);
		if (n == max || f->caplen > BATCH_BUF - used) {
			f->data = data;  /* valid until our next pcap_next_ex */
			break;
		}
		memcpy(fs->buf + used, data, f->caplen);
		f->data = fs->buf + used;
		used += f->caplen;
	}
	fs->received += (uint64_t)n;
	if (n == 0 && fs->state)
		return fs->state;
	return n;
}

static int file_stats(struct tw_src *src, struct tw_src_stats *st)
{
	struct file_src *fs = src->priv;

	st->received = fs->received;
	st->filtered = fs->received;
	return 0;
}

static void file_brk(struct tw_src *src)
{
	struct file_src *fs = src->priv;

	fs->brk = 1;
}

static int file_fd(const struct tw_src *src)
{
	return -1;
}

static void file_close(struct tw_src *src)
{
	file_free(src->priv);
	src->priv = NULL;
}

static int file_progress(struct tw_src *src, uint64_t *pos, uint64_t *size)
{
	struct file_src *fs = src->priv;
	FILE *f = fs->p ? pcap_file(fs->p) : NULL;
	struct stat st;
	long off;
	int fd;

	/* a regular file read by libpcap through stdio (not a pipe, not the
	 * cookie stream that replays a peeked header) */
	if (!f || (fd = fileno(f)) < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode))
		return -ENOTSUP;
	off = ftell(f);
	if (off < 0)
		return -ENOTSUP;
	*pos = (uint64_t)off;
	*size = (uint64_t)st.st_size;
	return 0;
}

const struct tw_src_ops tw_src_file_ops = {
	.name = "file",
	.open = file_open,
	.next = file_next,
	.stats = file_stats,
	.brk = file_brk,
	.fd = file_fd,
	.progress = file_progress,
	.close = file_close,
};
