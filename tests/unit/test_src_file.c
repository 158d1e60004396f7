/*
 * test_src_file.c - the "file" capture engine: pcap (micro/nanosecond magic,
 * both byte orders) and pcapng files written byte by byte here, read back
 * through tw_src_*: counts, lengths, exact nanosecond stamps, link types,
 * BPF filtering, batching across the copy buffer, stdin, and the errors for
 * empty, short, foreign and truncated files. Also the udp engine's spec
 * parsing (failures only: no socket is bound here).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "capture/source.h"
#include "capture/source_int.h"
#include "core/err.h"
#include "pkt/decode.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static char tmpdir[64];

/* ---- byte writer with a chosen byte order ---- */

struct wbuf {
	uint8_t *p;
	size_t len, cap;
	bool be;
};

static void put(struct wbuf *w, const void *d, size_t n)
{
	if (w->len + n > w->cap) {
		w->cap = (w->len + n) * 2 + 64;
		w->p = realloc(w->p, w->cap);
		assert_non_null(w->p);
	}
	memcpy(w->p + w->len, d, n);
	w->len += n;
}

static void put16(struct wbuf *w, uint16_t v)
{
	uint8_t b[2] = {w->be ? (uint8_t)(v >> 8) : (uint8_t)v, w->be ? (uint8_t)v : (uint8_t)(v >> 8)};
	put(w, b, 2);
}

static void put32(struct wbuf *w, uint32_t v)
{
	uint8_t b[4];

	for (int i = 0; i < 4; i++)
		b[i] = (uint8_t)(v >> (w->be ? 24 - 8 * i : 8 * i));
	put(w, b, 4);
}

static void pcap_hdr(struct wbuf *w, uint32_t magic, uint32_t snaplen, uint32_t linktype)
{
	put32(w, magic);
	put16(w, 2);
	put16(w, 4);
	put32(w, 0);
	put32(w, 0);
	put32(w, snaplen);
	put32(w, linktype);
}

static void pcap_rec(struct wbuf *w, uint32_t sec, uint32_t frac, const uint8_t *d, uint32_t caplen,
		     uint32_t len)
{
	put32(w, sec);
	put32(w, frac);
	put32(w, caplen);
	put32(w, len);
	put(w, d, caplen);
}

static char *write_file(const char *name, const void *d, size_t n)
{
	char *path = malloc(256);
	FILE *f;

	assert_non_null(path);
	snprintf(path, 256, "%s/%s", tmpdir, name);
	f = fopen(path, "wb");
	assert_non_null(f);
	if (n)
		assert_int_equal(fwrite(d, 1, n, f), n);
	assert_int_equal(fclose(f), 0);
	return path;
}

/* A small Ethernet/IPv4/TCP frame: ports SPORT -> DPORT, LEN bytes total. */
static size_t eth_tcp(uint8_t *b, uint8_t proto, uint16_t sport, uint16_t dport, size_t len)
{
	memset(b, 0, len);
	memcpy(b, "\x02\x00\x00\x00\x00\x02\x02\x00\x00\x00\x00\x01\x08\x00", 14);
	b[14] = 0x45;
	b[16] = (uint8_t)((len - 14) >> 8);
	b[17] = (uint8_t)(len - 14);
	b[22] = 64;
	b[23] = proto;
	memcpy(b + 26, "\x0a\x00\x00\x01\x0a\x00\x00\x02", 8);
	b[34] = (uint8_t)(sport >> 8);
	b[35] = (uint8_t)sport;
	b[36] = (uint8_t)(dport >> 8);
	b[37] = (uint8_t)dport;
	if (proto == 6)
		b[46] = 0x50;
	for (size_t i = 54; i < len; i++)
		b[i] = (uint8_t)i;
	return len;
}

static struct tw_src *open_ok(const char *path, const char *filter)
{
	struct tw_src_cfg cfg = {.kind = TW_SRC_FILE, .spec = path, .filter = filter};
	struct tw_src *src = NULL;
	char err[512] = "x";

	assert_int_equal(tw_src_open(&cfg, &src, err, sizeof(err)), 0);
	assert_string_equal(err, "");
	assert_non_null(src);
	assert_string_equal(tw_src_engine(src), "file");
	return src;
}

static void open_fails(const char *path, int want, const char *text)
{
	struct tw_src_cfg cfg = {.kind = TW_SRC_FILE, .spec = path};
	struct tw_src *src = NULL;
	char err[512] = "";

	assert_int_equal(tw_src_open(&cfg, &src, err, sizeof(err)), want);
	assert_null(src);
	/* one line, naming the file */
	assert_non_null(strstr(err, path));
	assert_null(strchr(err, '\n'));
	if (text && !strstr(err, text))
		fail_msg("message '%s' lacks '%s'", err, text);
}

/* ---- pcap, four magics ---- */

static void check_pcap_variant(uint32_t magic, bool be, bool nano)
{
	struct wbuf w = {.be = be};
	uint8_t pkt[200];
	struct tw_frame fr[8];
	struct tw_src *src;
	char name[64], *path;

	pcap_hdr(&w, magic, 65535, 1);
	eth_tcp(pkt, 6, 1234, 80, 120);
	pcap_rec(&w, 1700000000, nano ? 123456789 : 123456, pkt, 120, 120);
	eth_tcp(pkt, 17, 53, 53, 90);
	pcap_rec(&w, 1700000001, nano ? 999999999 : 999999, pkt, 60, 90);
	snprintf(name, sizeof(name), "v%08x%d.pcap", magic, be);
	path = write_file(name, w.p, w.len);

	src = open_ok(path, NULL);
	assert_int_equal(tw_src_linktype(src), TW_LT_EN10MB);
	assert_int_equal(tw_src_snaplen(src), 65535);
	assert_int_equal(tw_src_is_nano(src), nano);
	assert_int_equal(tw_src_fd(src), -1);
	assert_int_equal(tw_src_next(src, fr, 8, -1), 2);
	assert_int_equal(fr[0].caplen, 120);
	assert_int_equal(fr[0].wirelen, 120);
	assert_int_equal(fr[0].ts_sec, 1700000000);
	assert_int_equal(fr[0].ts_nsec, nano ? 123456789 : 123456000);
	eth_tcp(pkt, 6, 1234, 80, 120);
	assert_memory_equal(fr[0].data, pkt, 120);
	assert_int_equal(fr[1].caplen, 60);
	assert_int_equal(fr[1].wirelen, 90);
	assert_int_equal(fr[1].ts_sec, 1700000001);
	assert_int_equal(fr[1].ts_nsec, nano ? 999999999 : 999999000);
	eth_tcp(pkt, 17, 53, 53, 90);
	assert_memory_equal(fr[1].data, pkt, 60);
	assert_int_equal(tw_src_next(src, fr, 8, -1), -TW_EEOF);
	assert_int_equal(tw_src_next(src, fr, 8, -1), -TW_EEOF);
	struct tw_src_stats st;
	assert_int_equal(tw_src_stats(src, &st), 0);
	assert_int_equal(st.received, 2);
	tw_src_close(src);
	free(path);
	free(w.p);
}

static void test_pcap_usec_le(void **state)
{
	check_pcap_variant(0xa1b2c3d4, false, false);
}

static void test_pcap_usec_be(void **state)
{
	check_pcap_variant(0xa1b2c3d4, true, false);
}

static void test_pcap_nsec_le(void **state)
{
	check_pcap_variant(0xa1b23c4d, false, true);
}

static void test_pcap_nsec_be(void **state)
{
	check_pcap_variant(0xa1b23c4d, true, true);
}

/* ---- link types ---- */

static void check_linktype(uint32_t lt_in_file, int want)
{
	struct wbuf w = {.be = false};
	uint8_t pkt[40] = {0x45};
	struct tw_frame fr[2];
	struct tw_src *src;
	char name[32], *path;

	pcap_hdr(&w, 0xa1b2c3d4, 262144, lt_in_file);
	pcap_rec(&w, 1, 2, pkt, 40, 40);
	snprintf(name, sizeof(name), "lt%u.pcap", lt_in_file);
	path = write_file(name, w.p, w.len);
	src = open_ok(path, NULL);
	assert_int_equal(tw_src_linktype(src), want);
	assert_int_equal(tw_src_next(src, fr, 2, -1), 1);
	assert_int_equal(fr[0].caplen, 40);
	tw_src_close(src);
	free(path);
	free(w.p);
}

static void test_linktypes(void **state)
{
	check_linktype(101, TW_LT_RAW);   /* libpcap says DLT_RAW (12) in memory */
	check_linktype(276, TW_LT_SLL2);
	check_linktype(113, TW_LT_SLL);
	check_linktype(0, TW_LT_NULL);
	check_linktype(228, TW_LT_IPV4);
}

/* ---- pcapng ---- */

static void ng_block(struct wbuf *w, uint32_t type, const struct wbuf *body)
{
	uint32_t pad = (uint32_t)((4 - body->len % 4) % 4);
	uint32_t total = 12 + (uint32_t)body->len + pad;
	static const uint8_t zero[4];

	put32(w, type);
	put32(w, total);
	put(w, body->p, body->len);
	put(w, zero, pad);
	put32(w, total);
}

/* SHB + one IDB (link type 1, optional if_tsresol) */
static void ng_head(struct wbuf *w, int tsresol)
{
	struct wbuf b = {.be = w->be};

	put32(&b, 0x1a2b3c4d);
	put16(&b, 1);
	put16(&b, 0);
	put32(&b, 0xffffffff);
	put32(&b, 0xffffffff);
	ng_block(w, 0x0a0d0d0a, &b);
	free(b.p);
	b = (struct wbuf){.be = w->be};
	put16(&b, 1);
	put16(&b, 0);
	put32(&b, 0);
	put16(&b, 2);  /* if_name "eth0" */
	put16(&b, 4);
	put(&b, "eth0", 4);
	if (tsresol >= 0) {
		uint8_t v[4] = {(uint8_t)tsresol, 0, 0, 0};
		put16(&b, 9);
		put16(&b, 1);
		put(&b, v, 4);
	}
	put16(&b, 0);
	put16(&b, 0);
	ng_block(w, 1, &b);
	free(b.p);
}

static void ng_epb(struct wbuf *w, uint64_t ts, const uint8_t *d, uint32_t caplen, uint32_t len)
{
	struct wbuf b = {.be = w->be};

	put32(&b, 0);
	put32(&b, (uint32_t)(ts >> 32));
	put32(&b, (uint32_t)ts);
	put32(&b, caplen);
	put32(&b, len);
	put(&b, d, caplen);
	ng_block(w, 6, &b);
	free(b.p);
}

static void check_pcapng(bool be, int tsresol, bool want_nano)
{
	struct wbuf w = {.be = be};
	uint8_t pkt[100];
	struct tw_frame fr[4];
	struct tw_src *src;
	char name[32], *path;
	uint64_t unit = tsresol == 9 ? 1 : 1000;  /* ns per tick */

	ng_head(&w, tsresol);
	eth_tcp(pkt, 6, 5555, 443, 99);
	ng_epb(&w, (1700000000ull * 1000000000ull + 123456789ull) / unit, pkt, 99, 99);
	ng_epb(&w, (1700000002ull * 1000000000ull + 1000ull) / unit, pkt, 50, 99);
	snprintf(name, sizeof(name), "ng%d%d.pcapng", be, tsresol);
	path = write_file(name, w.p, w.len);
	src = open_ok(path, NULL);
	assert_int_equal(tw_src_linktype(src), TW_LT_EN10MB);
	assert_int_equal(tw_src_is_nano(src), want_nano);
	assert_int_equal(tw_src_next(src, fr, 4, -1), 2);
	assert_int_equal(fr[0].ts_sec, 1700000000);
	assert_int_equal(fr[0].ts_nsec, want_nano ? 123456789 : 123456000);
	assert_int_equal(fr[0].caplen, 99);
	assert_memory_equal(fr[0].data, pkt, 99);
	assert_int_equal(fr[1].ts_sec, 1700000002);
	assert_int_equal(fr[1].ts_nsec, 1000);
	assert_int_equal(fr[1].caplen, 50);
	assert_int_equal(fr[1].wirelen, 99);
	assert_int_equal(tw_src_next(src, fr, 4, -1), -TW_EEOF);
	tw_src_close(src);
	free(path);
	free(w.p);
}

static void test_pcapng(void **state)
{
	check_pcapng(false, 9, true);
	check_pcapng(true, 9, true);
	check_pcapng(false, -1, false);  /* no if_tsresol = microseconds */
	check_pcapng(true, 6, false);
}

/* ---- filter ---- */

static void test_filter(void **state)
{
	struct wbuf w = {.be = false};
	uint8_t pkt[200];
	struct tw_frame fr[8];
	struct tw_src *src;
	char *path;

	pcap_hdr(&w, 0xa1b2c3d4, 65535, 1);
	eth_tcp(pkt, 17, 5353, 53, 80);
	pcap_rec(&w, 1, 0, pkt, 80, 80);
	eth_tcp(pkt, 6, 40000, 80, 100);
	pcap_rec(&w, 2, 0, pkt, 100, 100);
	eth_tcp(pkt, 6, 40000, 443, 110);
	pcap_rec(&w, 3, 0, pkt, 110, 110);
	path = write_file("filter.pcap", w.p, w.len);

	src = open_ok(path, "tcp port 80");
	assert_int_equal(tw_src_next(src, fr, 8, -1), 1);
	assert_int_equal(fr[0].ts_sec, 2);
	eth_tcp(pkt, 6, 40000, 80, 100);
	assert_int_equal(fr[0].caplen, 100);
	assert_memory_equal(fr[0].data, pkt, 100);
	assert_int_equal(tw_src_next(src, fr, 8, -1), -TW_EEOF);
	tw_src_close(src);

	src = open_ok(path, "tcp");
	assert_int_equal(tw_src_next(src, fr, 8, -1), 2);
	tw_src_close(src);

	struct tw_src_cfg cfg = {.kind = TW_SRC_FILE, .spec = path, .filter = "tcp port"};
	char err[512] = "";
	assert_int_equal(tw_src_open(&cfg, &src, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "bad filter expression 'tcp port'"));
	free(path);
	free(w.p);
}

/* ---- batching: frames of a batch stay valid, even past the 1 MiB copy buffer ---- */

static void test_batches(void **state)
{
	enum { N = 150, LEN = 20000 };
	struct wbuf w = {.be = false};
	static uint8_t pkt[LEN];
	struct tw_frame fr[64];
	struct tw_src *src;
	char *path;
	int total = 0, calls = 0, rc;

	pcap_hdr(&w, 0xa1b23c4d, 65535, 1);
	for (int i = 0; i < N; i++) {
		memset(pkt, i, LEN);
		pcap_rec(&w, (uint32_t)i, (uint32_t)i * 7, pkt, LEN - (uint32_t)i, LEN);
	}
	path = write_file("batch.pcap", w.p, w.len);
	src = open_ok(path, NULL);
	uint64_t pos, size, last = 0;
	while ((rc = tw_src_next(src, fr, 64, -1)) > 0) {
		calls++;
		/* a regular file reports how far reading has come */
		assert_int_equal(tw_src_progress(src, &pos, &size), 0);
		assert_int_equal(size, w.len);
		assert_true(pos >= last && pos <= size);
		last = pos;
		/* 1 MiB holds 52 frames of ~20000 bytes, plus the last one uncopied */
		assert_true(rc <= 53);
		for (int j = 0; j < rc; j++) {
			int i = total + j;
			assert_int_equal(fr[j].ts_sec, i);
			assert_int_equal(fr[j].ts_nsec, i * 7);
			assert_int_equal(fr[j].caplen, LEN - i);
			assert_int_equal(fr[j].wirelen, LEN);
			for (uint32_t k = 0; k < fr[j].caplen; k += 997)
				assert_int_equal(fr[j].data[k], (uint8_t)i);
			assert_int_equal(fr[j].data[fr[j].caplen - 1], (uint8_t)i);
		}
		total += rc;
	}
	assert_int_equal(rc, -TW_EEOF);
	assert_int_equal(total, N);
	assert_true(calls >= 3);
	assert_int_equal(tw_src_progress(src, &pos, &size), 0);
	assert_int_equal(pos, w.len);
	tw_src_close(src);

	/* max = 1 also works */
	src = open_ok(path, NULL);
	total = 0;
	while ((rc = tw_src_next(src, fr, 1, -1)) == 1)
		total++;
	assert_int_equal(total, N);
	tw_src_close(src);
	free(path);
	free(w.p);
}

/* ---- damaged files ---- */

static void test_empty_short_foreign(void **state)
{
	char *path;

	path = write_file("empty.pcap", "", 0);
	open_fails(path, -TW_EBADFILE, "truncated");
	free(path);
	path = write_file("three.pcap", "\xd4\xc3\xb2", 3);
	open_fails(path, -TW_EBADFILE, "truncated dump file; tried to read 4 file header bytes, only got 3");
	free(path);
	path = write_file("hdr10.pcap", "\xd4\xc3\xb2\xa1\x02\x00\x04\x00\x00\x00", 10);
	open_fails(path, -TW_EBADFILE, "truncated");
	free(path);
	path = write_file("notes.txt", "GET / HTTP/1.1\r\nHost: x\r\n\r\n", 27);
	open_fails(path, -TW_EBADFILE, "unknown file format");
	free(path);
	char missing[256];
	snprintf(missing, sizeof(missing), "%s/does-not-exist.pcap", tmpdir);
	open_fails(missing, -ENOENT, "No such file");
}

static void check_cut(size_t cut_from_end, const char *want)
{
	struct wbuf w = {.be = false};
	uint8_t pkt[100];
	struct tw_frame fr[8];
	struct tw_src *src;
	char name[32], *path;

	pcap_hdr(&w, 0xa1b2c3d4, 65535, 1);
	for (int i = 0; i < 3; i++) {
		eth_tcp(pkt, 6, 1, (uint16_t)i, 100);
		pcap_rec(&w, (uint32_t)i, 0, pkt, 100, 100);
	}
	snprintf(name, sizeof(name), "cut%zu.pcap", cut_from_end);
	path = write_file(name, w.p, w.len - cut_from_end);
	src = open_ok(path, NULL);
	assert_int_equal(tw_src_next(src, fr, 8, -1), 2);
	assert_int_equal(fr[1].ts_sec, 1);
	assert_int_equal(tw_src_next(src, fr, 8, -1), -TW_EBADFILE);
	assert_non_null(strstr(tw_src_error(src), path));
	if (!strstr(tw_src_error(src), want))
		fail_msg("'%s' lacks '%s'", tw_src_error(src), want);
	/* sticky */
	assert_int_equal(tw_src_next(src, fr, 8, -1), -TW_EBADFILE);
	tw_src_close(src);
	free(path);
	free(w.p);
}

static void test_truncated_record(void **state)
{
	check_cut(50, "truncated dump file; tried to read 100 captured bytes, only got 50");
	check_cut(105, "truncated dump file; tried to read 16 header bytes, only got 11");
}

static void test_truncated_pcapng(void **state)
{
	struct wbuf w = {.be = false};
	uint8_t pkt[100];
	struct tw_frame fr[4];
	struct tw_src *src;
	char *path;

	ng_head(&w, 9);
	eth_tcp(pkt, 6, 1, 2, 100);
	ng_epb(&w, 5, pkt, 100, 100);
	ng_epb(&w, 6, pkt, 100, 100);
	path = write_file("cut.pcapng", w.p, w.len - 30);
	src = open_ok(path, NULL);
	assert_int_equal(tw_src_next(src, fr, 4, -1), 1);
	assert_int_equal(tw_src_next(src, fr, 4, -1), -TW_EBADFILE);
	assert_non_null(strstr(tw_src_error(src), path));
	assert_non_null(strstr(tw_src_error(src), "truncated"));
	tw_src_close(src);
	free(path);
	free(w.p);
}

/* ---- stdin and in-memory streams ---- */

static void test_stdin_pipe(void **state)
{
	struct wbuf w = {.be = true};
	uint8_t pkt[100];
	struct tw_frame fr[4];
	struct tw_src *src;
	int pfd[2], saved;
	pid_t pid;

	ng_head(&w, 9);
	eth_tcp(pkt, 6, 7, 8, 100);
	ng_epb(&w, 1700000000123456789ull, pkt, 100, 100);
	assert_int_equal(pipe(pfd), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		close(pfd[0]);
		/* dribble it out so reads come back short */
		for (size_t off = 0; off < w.len; off += 7) {
			size_t n = w.len - off < 7 ? w.len - off : 7;
			if (write(pfd[1], w.p + off, n) != (ssize_t)n)
				_exit(1);
			usleep(1000);
		}
		_exit(0);
	}
	close(pfd[1]);
	saved = dup(0);
	assert_int_equal(dup2(pfd[0], 0), 0);
	close(pfd[0]);
	src = open_ok("-", NULL);
	assert_true(tw_src_is_nano(src));
	assert_int_equal(tw_src_next(src, fr, 4, -1), 1);
	assert_int_equal(fr[0].ts_sec, 1700000000);
	assert_int_equal(fr[0].ts_nsec, 123456789);
	assert_memory_equal(fr[0].data, pkt, 100);
	assert_int_equal(tw_src_next(src, fr, 4, -1), -TW_EEOF);
	tw_src_close(src);
	dup2(saved, 0);
	close(saved);
	waitpid(pid, NULL, 0);
	free(w.p);
}

/* a named pipe given by path is read like stdin, not through stdio */
static void test_fifo_path(void **state)
{
	struct wbuf w = {.be = false};
	uint8_t pkt[80];
	struct tw_frame fr[4];
	struct tw_src *src;
	char path[256];
	pid_t pid;

	pcap_hdr(&w, 0xa1b23c4d, 65535, 1);
	eth_tcp(pkt, 6, 9, 10, 80);
	pcap_rec(&w, 42, 424242, pkt, 80, 80);
	snprintf(path, sizeof(path), "%s/fifo", tmpdir);
	assert_int_equal(mkfifo(path, 0600), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		int fd = open(path, O_WRONLY);
		if (fd < 0 || write(fd, w.p, w.len) != (ssize_t)w.len)
			_exit(1);
		_exit(0);
	}
	src = open_ok(path, NULL);
	assert_true(tw_src_is_nano(src));
	assert_int_equal(tw_src_next(src, fr, 4, -1), 1);
	assert_int_equal(fr[0].ts_sec, 42);
	assert_int_equal(fr[0].ts_nsec, 424242);
	assert_memory_equal(fr[0].data, pkt, 80);
	{
		uint64_t pos, size;
		/* a pipe has no size: no progress */
		assert_int_equal(tw_src_progress(src, &pos, &size), -ENOTSUP);
	}
	assert_int_equal(tw_src_next(src, fr, 4, -1), -TW_EEOF);
	tw_src_close(src);
	waitpid(pid, NULL, 0);
	free(w.p);
	open_fails(tmpdir, -EISDIR, "Is a directory");
}

static void test_open_fp(void **state)
{
	struct wbuf w = {.be = false};
	uint8_t pkt[64];
	struct tw_frame fr[4];
	struct tw_src *src;
	char err[512];
	FILE *fp;

	pcap_hdr(&w, 0xa1b23c4d, 100, 101);
	memset(pkt, 0x45, sizeof(pkt));
	pcap_rec(&w, 9, 8, pkt, 64, 64);
	fp = fmemopen(w.p, w.len, "rb");
	assert_non_null(fp);
	assert_int_equal(tw_src_open_fp(fp, "mem", NULL, &src, err, sizeof(err)), 0);
	assert_true(tw_src_is_nano(src));
	assert_int_equal(tw_src_linktype(src), TW_LT_RAW);
	assert_int_equal(tw_src_next(src, fr, 4, -1), 1);
	assert_int_equal(fr[0].ts_nsec, 8);
	tw_src_close(src);

	fp = fmemopen(w.p, 3, "rb");
	assert_int_equal(tw_src_open_fp(fp, "mem", NULL, &src, err, sizeof(err)), -TW_EBADFILE);
	assert_non_null(strstr(err, "mem: truncated"));
	free(w.p);
}

/* ---- dispatch ---- */

static void test_auto_and_break(void **state)
{
	struct wbuf w = {.be = false};
	uint8_t pkt[64] = {0};
	struct tw_frame fr[4];
	struct tw_src_cfg cfg = {.kind = TW_SRC_AUTO};
	struct tw_src *src;
	char err[512], *path;

	pcap_hdr(&w, 0xa1b2c3d4, 100, 1);
	pcap_rec(&w, 1, 1, pkt, 64, 64);
	pcap_rec(&w, 2, 1, pkt, 64, 64);
	path = write_file("auto.pcap", w.p, w.len);
	cfg.spec = path;
	assert_int_equal(tw_src_open(&cfg, &src, err, sizeof(err)), 0);
	assert_string_equal(tw_src_engine(src), "file");
	tw_src_break(src);
	assert_int_equal(tw_src_next(src, fr, 4, -1), 0);
	assert_int_equal(tw_src_next(src, fr, 4, -1), 2);
	tw_src_close(src);
	free(path);
	free(w.p);
}

static void udp_spec_fails(const char *spec, const char *text)
{
	struct tw_src_cfg cfg = {.kind = TW_SRC_AUTO, .spec = spec};
	struct tw_src *src = NULL;
	char err[512] = "";

	assert_int_equal(tw_src_open(&cfg, &src, err, sizeof(err)), -EINVAL);
	assert_null(src);
	if (!strstr(err, text))
		fail_msg("'%s' lacks '%s'", err, text);
	assert_non_null(strstr(err, spec));
}

static void test_udp_spec_errors(void **state)
{
	udp_spec_fails("vxlan:99999", "bad address or port");
	udp_spec_fails("vxlan:0", "bad address or port");
	udp_spec_fails("vxlan:10.0.0.300:4789", "bad address or port");
	udp_spec_fails("geneve:fd00::1:6081", "brackets");
	udp_spec_fails("geneve:[fd00::1", "bad address or port");
	udp_spec_fails("geneve:[fd00::1]x", "bad address or port");
	udp_spec_fails("vxlan:10.0.0.1:12ab", "bad address or port");
}

static int setup(void **state)
{
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/twsrcXXXXXX");
	return mkdtemp(tmpdir) ? 0 : -1;
}

static int teardown(void **state)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	return system(cmd) == 0 ? 0 : -1;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pcap_usec_le),
		cmocka_unit_test(test_pcap_usec_be),
		cmocka_unit_test(test_pcap_nsec_le),
		cmocka_unit_test(test_pcap_nsec_be),
		cmocka_unit_test(test_linktypes),
		cmocka_unit_test(test_pcapng),
		cmocka_unit_test(test_filter),
		cmocka_unit_test(test_batches),
		cmocka_unit_test(test_empty_short_foreign),
		cmocka_unit_test(test_truncated_record),
		cmocka_unit_test(test_truncated_pcapng),
		cmocka_unit_test(test_stdin_pipe),
		cmocka_unit_test(test_fifo_path),
		cmocka_unit_test(test_open_fp),
		cmocka_unit_test(test_auto_and_break),
		cmocka_unit_test(test_udp_spec_errors),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
