/*
 * test_sink_pcap.c - the pcap writer: tcpdump's file names for -C/-W, the
 * same file names, sizes and packet counts as tcpdump -C 1 [-W 3|12] for the
 * same input (expected files made by running tcpdump in
 * tests/unit/data/print/gen.sh), -G by frame time and its -W stop, nano and
 * micro magic, byte-exact read-back through libpcap, tw_pcapw_write_data.
 */
#include "capture/source.h"
#include "pkt/decode.h"
#include "send/sink_pcap.h"

#include <dirent.h>
#include <errno.h>
#include <pcap/pcap.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

static char datadir[512];
static char tmpdir[256];

static void set_datadir(void)
{
	const char *f = __FILE__;
	const char *slash = strrchr(f, '/');
	int n = slash ? (int)(slash - f) : 1;

	snprintf(datadir, sizeof(datadir), "%.*s/data/print", n, slash ? f : ".");
}

static int setup(void **state)
{
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/tw-pcapw.XXXXXX");
	return mkdtemp(tmpdir) ? 0 : -1;
}

static int teardown(void **state)
{
	DIR *d = opendir(tmpdir);
	struct dirent *e;
	char p[600];

	while (d && (e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		snprintf(p, sizeof(p), "%s/%s", tmpdir, e->d_name);
		unlink(p);
	}
	if (d)
		closedir(d);
	rmdir(tmpdir);
	return 0;
}

static void test_names(void **state)
{
	struct tw_pcapw_cfg c = {.path = "cap", .rotate_bytes = 1000000};
	char n[64];

	assert_int_equal(tw_pcapw_name(&c, 0, n, sizeof(n)), 0);
	assert_string_equal(n, "cap");
	tw_pcapw_name(&c, 1, n, sizeof(n));
	assert_string_equal(n, "cap1");
	tw_pcapw_name(&c, 12, n, sizeof(n));
	assert_string_equal(n, "cap12");
	c.max_files = 3;
	tw_pcapw_name(&c, 0, n, sizeof(n));
	assert_string_equal(n, "cap0");
	tw_pcapw_name(&c, 2, n, sizeof(n));
	assert_string_equal(n, "cap2");
	tw_pcapw_name(&c, 3, n, sizeof(n)); /* the ring wraps */
	assert_string_equal(n, "cap0");
	c.max_files = 12;
	tw_pcapw_name(&c, 0, n, sizeof(n));
	assert_string_equal(n, "cap00");
	tw_pcapw_name(&c, 11, n, sizeof(n));
	assert_string_equal(n, "cap11");
	c.max_files = 10;
	tw_pcapw_name(&c, 9, n, sizeof(n));
	assert_string_equal(n, "cap09");
	c.max_files = 100;
	tw_pcapw_name(&c, 7, n, sizeof(n));
	assert_string_equal(n, "cap007");
	assert_int_equal(tw_pcapw_name(&c, 7, n, 4), -ENAMETOOLONG);
}

/* The frames of gen.sh's rotation input: 3500 x 1042 bytes, 10 ms apart. */
static void write_rotation_input(struct tw_pcapw *w)
{
	static uint8_t frame[1042];
	struct tw_frame f = {.data = frame, .caplen = sizeof(frame), .wirelen = sizeof(frame)};

	for (unsigned i = 0; i < 3500; i++) {
		frame[0] = (uint8_t)i;
		f.ts_sec = 1700000000 + i / 100;
		f.ts_nsec = (i % 100) * 10000000u;
		assert_int_equal(tw_pcapw_write(w, &f), 0);
	}
}

static int count_frames(const char *path)
{
	char eb[PCAP_ERRBUF_SIZE];
	struct pcap_pkthdr *h;
	const u_char *d;
	pcap_t *p = pcap_open_offline(path, eb);
	int n = 0;

	if (!p)
		return -1;
	while (pcap_next_ex(p, &h, &d) == 1)
		n++;
	pcap_close(p);
	return n;
}

/* Files in tmpdir must be exactly those tcpdump wrote (names, sizes, counts). */
static int count_dir(void)
{
	DIR *d = opendir(tmpdir);
	struct dirent *e;
	int n = 0;

	while (d && (e = readdir(d)))
		if (e->d_name[0] != '.')
			n++;
	if (d)
		closedir(d);
	return n;
}

static void check_against_tcpdump(const char *expected)
{
	char path[700], name[64], p[700];
	unsigned long size;
	int frames, nexp = 0, nfiles = 0;
	FILE *fp;
	DIR *d;
	struct dirent *e;

	snprintf(path, sizeof(path), "%s/%s", datadir, expected);
	fp = fopen(path, "r");
	assert_non_null(fp);
	while (fscanf(fp, "%63s %lu %d", name, &size, &frames) == 3) {
		struct stat st;
		snprintf(p, sizeof(p), "%s/%s", tmpdir, name);
		if (stat(p, &st) != 0)
			fail_msg("%s: tcpdump wrote %s, we did not", expected, name);
		assert_int_equal((unsigned long)st.st_size, size);
		assert_int_equal(count_frames(p), frames);
		nexp++;
	}
	fclose(fp);
	assert_true(nexp > 0);
	d = opendir(tmpdir);
	while ((e = readdir(d)))
		if (e->d_name[0] != '.')
			nfiles++;
	closedir(d);
	assert_int_equal(nfiles, nexp);
}

static void rotate_case(uint32_t max_files, const char *expected)
{
	char base[300];
	struct tw_pcapw *w;
	struct tw_pcapw_cfg c = {
		.path = base, .linktype = TW_LT_EN10MB, .snaplen = 65535,
		.rotate_bytes = 1000000, .max_files = max_files,
	};
	char eb[256];

	snprintf(base, sizeof(base), "%s/A", tmpdir);
	assert_int_equal(tw_pcapw_open(&c, &w, eb, sizeof(eb)), 0);
	write_rotation_input(w);
	tw_pcapw_close(w);
	check_against_tcpdump(expected);
}

static void test_rotate_size(void **state)
{
	rotate_case(0, "rotate-C1.txt");
}

static void test_rotate_ring3(void **state)
{
	rotate_case(3, "rotate-C1-W3.txt");
}

static void test_rotate_ring12(void **state)
{
	rotate_case(12, "rotate-C1-W12.txt");
}

/* -G 10 by frame time with a strftime name; -W 2 stops before the third. */
static void test_rotate_time(void **state)
{
	char pat[300], p[400];
	uint8_t frame[60] = {0};
	struct tw_frame f = {.data = frame, .caplen = 60, .wirelen = 60};
	struct tw_pcapw_cfg c = {.path = pat, .linktype = TW_LT_EN10MB, .rotate_secs = 10};
	struct tw_pcapw *w;
	int rc = 0;
	unsigned i;

	/* 1700000000 = 2023-11-14 22:13:20 UTC */
	snprintf(pat, sizeof(pat), "%s/G_%%H%%M%%S", tmpdir);
	assert_int_equal(tw_pcapw_open(&c, &w, NULL, 0), 0);
	for (i = 0; i < 25; i++) {
		f.ts_sec = 1700000000 + i;
		assert_int_equal(tw_pcapw_write(w, &f), 0);
	}
	tw_pcapw_close(w);
	static const char *const names[] = {"G_221320", "G_221330", "G_221340"};
	static const int counts[] = {10, 10, 5};
	for (i = 0; i < 3; i++) {
		snprintf(p, sizeof(p), "%s/%s", tmpdir, names[i]);
		assert_int_equal(count_frames(p), counts[i]);
	}
	/* the empty file named after the opening time is gone */
	assert_int_equal(count_dir(), 3);
	teardown(state);
	setup(state);

	snprintf(pat, sizeof(pat), "%s/H_%%H%%M%%S", tmpdir);
	c.max_files = 2;
	assert_int_equal(tw_pcapw_open(&c, &w, NULL, 0), 0);
	for (i = 0; i < 25 && rc == 0; i++) {
		f.ts_sec = 1700000000 + i;
		rc = tw_pcapw_write(w, &f);
	}
	tw_pcapw_close(w);
	assert_int_equal(rc, 1);
	assert_int_equal(i, 21); /* the frame at +20 s would open a third file */
	snprintf(p, sizeof(p), "%s/H_221320", tmpdir);
	assert_int_equal(count_frames(p), 10);
	snprintf(p, sizeof(p), "%s/H_221330", tmpdir);
	assert_int_equal(count_frames(p), 10);
	snprintf(p, sizeof(p), "%s/H_221340", tmpdir);
	assert_int_equal(access(p, F_OK), -1);
}

static uint32_t file_magic(const char *path)
{
	uint8_t b[4] = {0};
	FILE *fp = fopen(path, "rb");

	assert_non_null(fp);
	assert_int_equal(fread(b, 1, 4, fp), 4);
	fclose(fp);
	return (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
}

/* Magic, link type, timestamps and bytes survive a round trip. */
static void roundtrip(bool nano)
{
	char path[300], eb[PCAP_ERRBUF_SIZE];
	uint8_t a[100], inner[33];
	struct tw_frame f = {.data = a, .caplen = 80, .wirelen = 1500, .ts_sec = 1700000123,
			     .ts_nsec = 987654321};
	struct tw_pcapw_cfg c = {.path = path, .linktype = TW_LT_RAW, .snaplen = 262144, .nano = nano};
	struct tw_pcapw *w;
	struct pcap_pkthdr *h;
	const u_char *d;
	pcap_t *p;

	for (size_t i = 0; i < sizeof(a); i++)
		a[i] = (uint8_t)(i * 7 + 1);
	for (size_t i = 0; i < sizeof(inner); i++)
		inner[i] = (uint8_t)(255 - i);
	snprintf(path, sizeof(path), "%s/rt%d.pcap", tmpdir, nano);
	assert_int_equal(tw_pcapw_open(&c, &w, eb, sizeof(eb)), 0);
	assert_int_equal(tw_pcapw_write(w, &f), 0);
	assert_int_equal(tw_pcapw_write_data(w, &f, inner, sizeof(inner)), 0);
	/* the tail of the frame itself (an inner packet): it lost what the
	 * capture cut off the frame */
	assert_int_equal(tw_pcapw_write_data(w, &f, a + 20, 60), 0);
	assert_int_equal(tw_pcapw_flush(w), 0);
	tw_pcapw_close(w);

	assert_int_equal(file_magic(path), nano ? 0xa1b23c4du : 0xa1b2c3d4u);
	p = pcap_open_offline_with_tstamp_precision(path, PCAP_TSTAMP_PRECISION_NANO, eb);
	assert_non_null(p);
	assert_int_equal(pcap_datalink(p), DLT_RAW);
	assert_int_equal(pcap_snapshot(p), 262144);
	assert_int_equal(pcap_next_ex(p, &h, &d), 1);
	assert_int_equal(h->caplen, 80);
	assert_int_equal(h->len, 1500);
	assert_int_equal(h->ts.tv_sec, 1700000123);
	assert_int_equal(h->ts.tv_usec, nano ? 987654321 : 987654000);
	assert_memory_equal(d, a, 80);
	assert_int_equal(pcap_next_ex(p, &h, &d), 1);
	assert_int_equal(h->caplen, sizeof(inner));
	assert_int_equal(h->len, sizeof(inner));
	assert_int_equal(h->ts.tv_sec, 1700000123);
	assert_memory_equal(d, inner, sizeof(inner));
	assert_int_equal(pcap_next_ex(p, &h, &d), 1);
	assert_int_equal(h->caplen, 60);
	assert_int_equal(h->len, 60 + 1500 - 80);
	assert_memory_equal(d, a + 20, 60);
	assert_int_equal(pcap_next_ex(p, &h, &d), PCAP_ERROR_BREAK);
	pcap_close(p);
}

static void test_roundtrip_micro(void **state)
{
	roundtrip(false);
}

static void test_roundtrip_nano(void **state)
{
	roundtrip(true);
}

static void test_open_error(void **state)
{
	struct tw_pcapw_cfg c = {.path = "/nonexistent-dir/x.pcap", .linktype = TW_LT_EN10MB};
	struct tw_pcapw *w = (struct tw_pcapw *)&c;
	char eb[256] = "";

	assert_true(tw_pcapw_open(&c, &w, eb, sizeof(eb)) < 0);
	assert_null(w);
	assert_non_null(strstr(eb, "/nonexistent-dir/x.pcap"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_names),
		cmocka_unit_test_setup_teardown(test_rotate_size, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rotate_ring3, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rotate_ring12, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rotate_time, setup, teardown),
		cmocka_unit_test_setup_teardown(test_roundtrip_micro, setup, teardown),
		cmocka_unit_test_setup_teardown(test_roundtrip_nano, setup, teardown),
		cmocka_unit_test(test_open_error),
	};

	setenv("TZ", "UTC", 1);
	tzset();
	set_datadir();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
