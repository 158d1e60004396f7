/*
 * test_print.c - the tcpdump-format printer against tcpdump 4.99.3 itself:
 * each pcap under tests/unit/data/print/ is read with libpcap, printed with
 * tw_print_frame, and compared line by line with the text tcpdump printed
 * for it (gen.sh makes both). Plus the link-type names, the conversation
 * table when it overflows, and output clipping.
 */
#include "capture/print.h"
#include "capture/source.h"
#include "pkt/decode.h"

#include <pcap/pcap.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

static char datadir[512];

static void set_datadir(void)
{
	const char *f = __FILE__;
	const char *slash = strrchr(f, '/');
	int n = slash ? (int)(slash - f) : 1;

	snprintf(datadir, sizeof(datadir), "%.*s/data/print", n, slash ? f : ".");
}

static char *slurp(const char *path, size_t *len)
{
	FILE *fp = fopen(path, "rb");
	char *buf;
	long n;

	if (!fp)
		return NULL;
	fseek(fp, 0, SEEK_END);
	n = ftell(fp);
	fseek(fp, 0, SEEK_SET);
	buf = malloc((size_t)n + 1);
	if (buf && fread(buf, 1, (size_t)n, fp) != (size_t)n) {
		free(buf);
		buf = NULL;
	}
	fclose(fp);
	if (buf) {
		buf[n] = '\0';
		*len = (size_t)n;
	}
	return buf;
}

/* Print every frame of PCAP into a malloc'd string. */
static char *print_file(const char *pcap, const struct tw_print_cfg *cfg, int *nframes)
{
	char path[700], eb[PCAP_ERRBUF_SIZE], line[8192];
	struct pcap_pkthdr *h;
	const u_char *d;
	size_t cap = 1 << 16, len = 0;
	char *all = malloc(cap);
	pcap_t *p;
	struct tw_printer *pr;

	snprintf(path, sizeof(path), "%s/%s", datadir, pcap);
	p = pcap_open_offline_with_tstamp_precision(path, PCAP_TSTAMP_PRECISION_NANO, eb);
	if (!p)
		fail_msg("%s: %s", path, eb);
	pr = tw_print_new(cfg);
	assert_non_null(pr);
	*nframes = 0;
	all[0] = '\0';
	while (pcap_next_ex(p, &h, &d) == 1) {
		struct tw_frame f = {
			.data = d,
			.caplen = h->caplen,
			.wirelen = h->len,
			.ts_sec = h->ts.tv_sec,
			.ts_nsec = (uint32_t)h->ts.tv_usec, /* nanoseconds: nano handle */
		};
		size_t n = tw_print_frame(pr, pcap_datalink(p), &f, line, sizeof(line));
		assert_int_equal(n, strlen(line));
		assert_true(n > 0 && line[n - 1] == '\n');
		while (len + n + 1 > cap) {
			cap *= 2;
			all = realloc(all, cap);
			assert_non_null(all);
		}
		memcpy(all + len, line, n + 1);
		len += n;
		(*nframes)++;
	}
	tw_print_free(pr);
	pcap_close(p);
	return all;
}

/* Compare line by line, naming the first line that differs. */
static void compare(const char *pcap, const char *expected_file, const struct tw_print_cfg *cfg)
{
	char path[700];
	size_t elen;
	int nframes, lineno = 1;
	char *got = print_file(pcap, cfg, &nframes);
	char *exp;

	snprintf(path, sizeof(path), "%s/%s", datadir, expected_file);
	exp = slurp(path, &elen);
	if (!exp)
		fail_msg("cannot read %s", path);
	assert_true(nframes > 0);
	const char *g = got, *e = exp;
	while (*g || *e) {
		const char *gn = strchr(g, '\n'), *en = strchr(e, '\n');
		size_t gl = gn ? (size_t)(gn - g) : strlen(g), el = en ? (size_t)(en - e) : strlen(e);
		if (gl != el || memcmp(g, e, gl) != 0)
			fail_msg("%s line %d:\n  tcpdump: %.*s\n  tcptwin: %.*s", expected_file, lineno,
				 (int)el, e, (int)gl, g);
		g += gl + (gn ? 1 : 0);
		e += el + (en ? 1 : 0);
		lineno++;
	}
	free(got);
	free(exp);
}

static void test_tcp(void **state)
{
	struct tw_print_cfg c = {0};
	compare("tcp.pcap", "tcp.txt", &c);
}

static void test_tcp_absolute(void **state)
{
	struct tw_print_cfg c = {.absolute_seq = true};
	compare("tcp.pcap", "tcp-S.txt", &c);
}

static void test_tunnels(void **state)
{
	struct tw_print_cfg c = {0};
	compare("tunnels.pcap", "tunnels.txt", &c);
}

static void test_truncated(void **state)
{
	struct tw_print_cfg c = {0};
	compare("trunc.pcap", "trunc.txt", &c);
	c.absolute_seq = true;
	compare("trunc.pcap", "trunc-S.txt", &c);
}

static void test_linktypes(void **state)
{
	static const char *const names[] = {"raw", "sll", "sll2", "null", "loop", "ipv4", "ipv6"};
	struct tw_print_cfg c = {0};
	char a[64], b[64];

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		snprintf(a, sizeof(a), "%s.pcap", names[i]);
		snprintf(b, sizeof(b), "%s.txt", names[i]);
		compare(a, b, &c);
	}
}

static void test_nano(void **state)
{
	struct tw_print_cfg c = {.nano = true};
	compare("nano.pcap", "nano.txt", &c);
}

/* --decap prints what tcpdump prints for the inner frames alone */
static void test_decap(void **state)
{
	struct tw_print_cfg c = {.decap = true};
	compare("decap.pcap", "decap.txt", &c);
}

/* A custom VXLAN port from the decoder config is honoured; port 4789 then
 * prints as plain UDP. */
static void test_dcfg_ports(void **state)
{
	static const uint8_t pkt[] = {
		0x45, 0, 0, 36, 0, 1, 0, 0, 64, 17, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2, /* IPv4 */
		0x30, 0x39, 0x12, 0xb5, 0, 16, 0, 0,                                /* UDP -> 4789 */
		0x08, 0, 0, 0, 0, 0, 42, 0,                                         /* VXLAN vni 42 */
	};
	struct tw_decode_cfg dc;
	struct tw_print_cfg c = {.dcfg = &dc};
	struct tw_frame f = {.data = pkt, .caplen = sizeof(pkt), .wirelen = sizeof(pkt), .ts_sec = 0};
	char line[256];
	struct tw_printer *pr;

	tw_decode_cfg_init(&dc);
	dc.vxlan_port = 8472;
	pr = tw_print_new(&c);
	assert_non_null(pr);
	tw_print_frame(pr, TW_LT_RAW, &f, line, sizeof(line));
	assert_string_equal(line, "00:00:00.000000 IP 10.0.0.1.12345 > 10.0.0.2.4789: UDP, length 8\n");
	tw_print_free(pr);
	dc.vxlan_port = 4789;
	pr = tw_print_new(&c);
	tw_print_frame(pr, TW_LT_RAW, &f, line, sizeof(line));
	assert_string_equal(line, "00:00:00.000000 IP 10.0.0.1.12345 > 10.0.0.2.4789: VXLAN, flags [I] "
				  "(0x08), vni 42\n [|ether]\n");
	tw_print_free(pr);
}

/* Build an ACK segment a:ap -> b:bp into BUF (raw IPv4). */
static size_t mk_ack(uint8_t *buf, uint32_t a, uint16_t ap, uint32_t b, uint16_t bp, uint32_t seq,
		     uint32_t ack)
{
	memset(buf, 0, 40);
	buf[0] = 0x45;
	buf[3] = 40;
	buf[8] = 64;
	buf[9] = 6;
	for (int i = 0; i < 4; i++) {
		buf[12 + i] = (uint8_t)(a >> (24 - 8 * i));
		buf[16 + i] = (uint8_t)(b >> (24 - 8 * i));
		buf[24 + i] = (uint8_t)(seq >> (24 - 8 * i));
		buf[28 + i] = (uint8_t)(ack >> (24 - 8 * i));
	}
	buf[20] = (uint8_t)(ap >> 8);
	buf[21] = (uint8_t)ap;
	buf[22] = (uint8_t)(bp >> 8);
	buf[23] = (uint8_t)bp;
	buf[32] = 0x50;
	buf[33] = 0x10;
	buf[35] = 100;
	return 40;
}

/* More conversations than the table holds: no failure, the most recent
 * conversations keep their bases, evicted ones start again (absolute). */
static void test_conv_table_overflow(void **state)
{
	struct tw_print_cfg c = {0};
	struct tw_printer *pr = tw_print_new(&c);
	uint8_t pkt[40];
	char line[256];
	struct tw_frame f = {.data = pkt, .caplen = 40, .wirelen = 40};
	const unsigned n = 20000;

	assert_non_null(pr);
	for (unsigned i = 0; i < n; i++) {
		mk_ack(pkt, 0x0a000001u + i, 40000, 0x0a100001u, 80, 1000 + i, 5000);
		tw_print_frame(pr, TW_LT_RAW, &f, line, sizeof(line));
		assert_non_null(strstr(line, ", ack 5000,"));
	}
	/* the last conversation is still known: relative numbers */
	mk_ack(pkt, 0x0a000001u + n - 1, 40000, 0x0a100001u, 80, 1000 + n - 1 + 10, 5000 + 7);
	f.caplen = f.wirelen = 40;
	tw_print_frame(pr, TW_LT_RAW, &f, line, sizeof(line));
	assert_non_null(strstr(line, "ack 8,"));
	/* the first one was evicted: absolute again, and re-learned */
	mk_ack(pkt, 0x0a000001u, 40000, 0x0a100001u, 80, 1000, 5000 + 7);
	tw_print_frame(pr, TW_LT_RAW, &f, line, sizeof(line));
	assert_non_null(strstr(line, "ack 5007,"));
	tw_print_frame(pr, TW_LT_RAW, &f, line, sizeof(line));
	assert_non_null(strstr(line, "ack 1,"));
	tw_print_free(pr);
}

/* A small buffer: clipped, newline-terminated, NUL-terminated. */
static void test_clip(void **state)
{
	struct tw_print_cfg c = {0};
	struct tw_printer *pr = tw_print_new(&c);
	uint8_t pkt[40];
	char line[24];
	struct tw_frame f = {.data = pkt, .caplen = 40, .wirelen = 40};
	size_t n;

	mk_ack(pkt, 0x0a000001u, 1, 0x0a000002u, 2, 1, 1);
	memset(line, 'Z', sizeof(line));
	n = tw_print_frame(pr, TW_LT_RAW, &f, line, sizeof(line));
	assert_int_equal(n, sizeof(line) - 1);
	assert_int_equal(line[n], '\0');
	assert_int_equal(line[n - 1], '\n');
	assert_memory_equal(line, "00:00:00.000000 IP 10.", 22);
	tw_print_free(pr);
}

static void test_linktype_names(void **state)
{
	assert_string_equal(tw_print_linktype_name(TW_LT_EN10MB), "EN10MB (Ethernet)");
	assert_string_equal(tw_print_linktype_name(TW_LT_SLL2), "LINUX_SLL2 (Linux cooked v2)");
	assert_string_equal(tw_print_linktype_name(TW_LT_SLL), "LINUX_SLL (Linux cooked v1)");
	assert_string_equal(tw_print_linktype_name(TW_LT_RAW), "RAW (Raw IP)");
	assert_string_equal(tw_print_linktype_name(TW_LT_NULL), "NULL (BSD loopback)");
	assert_string_equal(tw_print_linktype_name(TW_LT_LOOP), "LOOP (OpenBSD loopback)");
	assert_string_equal(tw_print_linktype_name(TW_LT_IPV4), "IPV4 (Raw IPv4)");
	assert_string_equal(tw_print_linktype_name(TW_LT_IPV6), "IPV6 (Raw IPv6)");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tcp),
		cmocka_unit_test(test_tcp_absolute),
		cmocka_unit_test(test_tunnels),
		cmocka_unit_test(test_truncated),
		cmocka_unit_test(test_linktypes),
		cmocka_unit_test(test_nano),
		cmocka_unit_test(test_decap),
		cmocka_unit_test(test_dcfg_ports),
		cmocka_unit_test(test_conv_table_overflow),
		cmocka_unit_test(test_clip),
		cmocka_unit_test(test_linktype_names),
	};

	setenv("TZ", "UTC", 1); /* the expected text was made with TZ=UTC */
	tzset();
	set_datadir();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
