/*
 * test_blast.c - unit tests of blast's pure parts: src/blast/rewrite.c
 * (option parsers, IPv4 and IPv6 maps, port maps and ranges, MAC rewrite, checksums
 * recomputed and verified independently, --unique-ip, --mtu-trunc, later
 * fragments left alone) and src/blast/sched.c (absolute deadlines for -x,
 * -p, -M, -t over several passes, checked against a fake clock's ticks).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>

#include <cmocka.h>

#include "blast/rewrite.h"
#include "blast/sched.h"
#include "core/clock.h"
#include "pkt/csum.h"
#include "pkt/decode.h"
#include "pkt/forge.h"

static const uint8_t src4[4] = {10, 99, 1, 5}, dst4[4] = {10, 99, 2, 7};

/* An Ethernet frame with an IPv4/TCP packet carrying PLEN payload bytes and
 * a deliberately wrong TCP checksum (as a captured partial one). */
static size_t make_frame(uint8_t *buf, size_t cap, size_t plen, uint16_t sport, uint16_t dport)
{
	static uint8_t payload[9000];
	struct tw_forge_tcp f = {
		.ipver = 4, .src = src4, .dst = dst4, .sport = sport, .dport = dport,
		.seq = 1000, .ack = 1, .flags = 0x18, .win = 512, .df = 1, .ip_id = 7,
		.payload = payload, .payload_len = plen,
	};
	int n;

	for (size_t i = 0; i < sizeof(payload); i++)
		payload[i] = (uint8_t)(i * 7);
	memset(buf, 0, 14);
	memcpy(buf, "\x02\x00\x00\x00\x00\x01", 6);
	memcpy(buf + 6, "\x02\x00\x00\x00\x00\x02", 6);
	buf[12] = 0x08;
	n = tw_forge_tcp(buf + 14, cap - 14, &f);
	assert_true(n > 0);
	buf[14 + 20 + 16] ^= 0x55;   /* spoil the TCP checksum */
	return 14 + (size_t)n;
}

static void assert_csums_ok(const uint8_t *frame, size_t len)
{
	struct tw_pkt p;
	const uint8_t *ip = frame + 14;

	assert_int_equal(tw_pkt_decode(NULL, TW_LT_EN10MB, frame, len, len, &p), 0);
	assert_int_equal(tw_csum_ipv4_hdr(ip, 20), (uint16_t)(ip[10] << 8 | ip[11]));
	assert_int_equal(tw_csum_l4(4, p.src, p.dst, 6, p.l4, p.l4_len),
			 (uint16_t)(p.l4[16] << 8 | p.l4[17]));
}

static void test_parse_mac(void **state)
{
	uint8_t m[6];

	(void)state;
	assert_int_equal(tw_rw_parse_mac("0a:1B:2c:3d:4e:5f", m), 0);
	assert_memory_equal(m, "\x0a\x1b\x2c\x3d\x4e\x5f", 6);
	assert_int_equal(tw_rw_parse_mac("0a:1b:2c:3d:4e", m), -EINVAL);
	assert_int_equal(tw_rw_parse_mac("0a:1b:2c:3d:4e:5f:", m), -EINVAL);
	assert_int_equal(tw_rw_parse_mac("0a-1b-2c-3d-4e-5f", m), -EINVAL);
	assert_int_equal(tw_rw_parse_mac("", m), -EINVAL);
}

static void test_parse_ipmap(void **state)
{
	struct tw_rw_ipmap m[TW_RW_MAX_MAPS];
	unsigned n = 0;
	uint32_t a;

	(void)state;
	assert_int_equal(tw_rw_parse_ipmap("10.99.0.0/16:10.77.0.0/16,1.2.3.4/32:5.6.7.8", m, &n), 0);
	assert_int_equal(n, 2);
	a = 0x0a630207;   /* 10.99.2.7 */
	assert_true(tw_rw_map_ip(m, n, &a));
	assert_int_equal(a, 0x0a4d0207);
	a = 0x01020304;
	assert_true(tw_rw_map_ip(m, n, &a));
	assert_int_equal(a, 0x05060708);
	a = 0x01020305;
	assert_false(tw_rw_map_ip(m, n, &a));
	assert_int_equal(a, 0x01020305);
	n = 0;
	assert_int_equal(tw_rw_parse_ipmap("10.0.0.0/8", m, &n), -EINVAL);
	assert_int_equal(tw_rw_parse_ipmap("10.0.0.0/33:1.0.0.0/8", m, &n), -EINVAL);
	assert_int_equal(tw_rw_parse_ipmap("10.0.0.0/8:1.0.0.0/8,", m, &n), -EINVAL);
	assert_int_equal(tw_rw_parse_ipmap("x/8:1.0.0.0/8", m, &n), -EINVAL);
}

static void test_parse_portmap(void **state)
{
	struct tw_rw_portmap m[TW_RW_MAX_PORTS];
	unsigned n = 0;
	uint16_t p;

	(void)state;
	assert_int_equal(tw_rw_parse_portmap("80:8080,1000-1010:2000,22-23:2222@", m, &n), 0);
	assert_int_equal(n, 3);
	p = 80;
	assert_true(tw_rw_map_port(m, n, &p));
	assert_int_equal(p, 8080);
	p = 1005;
	assert_true(tw_rw_map_port(m, n, &p));
	assert_int_equal(p, 2005);
	p = 23;
	assert_true(tw_rw_map_port(m, n, &p));
	assert_int_equal(p, 2222);
	p = 81;
	assert_false(tw_rw_map_port(m, n, &p));
	n = 0;
	assert_int_equal(tw_rw_parse_portmap("80", m, &n), -EINVAL);
	assert_int_equal(tw_rw_parse_portmap("80:70000", m, &n), -EINVAL);
	assert_int_equal(tw_rw_parse_portmap("90-80:1", m, &n), -EINVAL);
	assert_int_equal(tw_rw_parse_portmap("65000-65535:1000", m, &n), 0);
	assert_int_equal(tw_rw_parse_portmap("1000-1010:65530", m, &n), -EINVAL);
	assert_int_equal(tw_rw_parse_portmap("80:81,", m, &n), -EINVAL);
}

static void test_rewrite_all(void **state)
{
	struct tw_rw_cfg c = {0};
	uint8_t f[2000];
	size_t len = make_frame(f, sizeof(f), 500, 40000, 8080), len0 = len;
	unsigned n = 0;
	int rc;

	(void)state;
	assert_int_equal(tw_rw_parse_mac("02:aa:bb:cc:dd:ee", c.dstmac), 0);
	c.has_dstmac = true;
	assert_int_equal(tw_rw_parse_ipmap("10.99.0.0/16:10.77.0.0/16", c.dstmap, &n), 0);
	c.ndstmap = n;
	n = 0;
	assert_int_equal(tw_rw_parse_portmap("8080:9090", c.port, &n), 0);
	c.nport = n;
	assert_true(tw_rw_active(&c));
	rc = tw_rw_frame(&c, f, &len, 14, 0);
	assert_int_equal(rc, TW_RW_CHANGED | TW_RW_CSUM);
	assert_int_equal(len, len0);
	assert_memory_equal(f, "\x02\xaa\xbb\xcc\xdd\xee", 6);
	assert_memory_equal(f + 14 + 12, src4, 4);
	assert_memory_equal(f + 14 + 16, "\x0a\x4d\x02\x07", 4);
	assert_int_equal(f[14 + 20] << 8 | f[14 + 21], 40000);
	assert_int_equal(f[14 + 22] << 8 | f[14 + 23], 9090);
	assert_csums_ok(f, len);
}

static void test_rewrite_mac_only_keeps_ip(void **state)
{
	struct tw_rw_cfg c = {0};
	uint8_t f[2000], g[2000];
	size_t len = make_frame(f, sizeof(f), 100, 1, 2);

	(void)state;
	memcpy(g, f, len);
	c.has_srcmac = true;
	memcpy(c.srcmac, "\x02\x01\x01\x01\x01\x01", 6);
	assert_int_equal(tw_rw_frame(&c, f, &len, 14, 0), TW_RW_CHANGED);
	assert_memory_equal(f + 6, c.srcmac, 6);
	assert_memory_equal(f + 12, g + 12, len - 12);   /* bad checksum left as captured */
}

static void test_fixcsum_uniq(void **state)
{
	struct tw_rw_cfg c = {.fixcsum = true};
	uint8_t f[2000];
	size_t len = make_frame(f, sizeof(f), 300, 1, 2);

	(void)state;
	assert_int_equal(tw_rw_frame(&c, f, &len, 14, 0), TW_RW_CSUM);
	assert_csums_ok(f, len);
	assert_int_equal(tw_rw_frame(&c, f, &len, 14, 3), TW_RW_CHANGED | TW_RW_CSUM);
	assert_memory_equal(f + 14 + 12, "\x0a\x63\x01\x08", 4);
	assert_memory_equal(f + 14 + 16, "\x0a\x63\x02\x0a", 4);
	assert_csums_ok(f, len);
}

static void test_mtu_trunc(void **state)
{
	struct tw_rw_cfg c = {.mtu_trunc = true, .mtu = 1500};
	uint8_t f[9100];
	size_t len = make_frame(f, sizeof(f), 4000, 1, 2);

	(void)state;
	assert_int_equal(tw_rw_frame(&c, f, &len, 14, 0), TW_RW_TRUNC | TW_RW_CSUM);
	assert_int_equal(len, 14 + 1500);
	assert_int_equal(f[16] << 8 | f[17], 1500);
	assert_csums_ok(f, len);
	/* already small enough: untouched */
	len = make_frame(f, sizeof(f), 100, 1, 2);
	assert_int_equal(tw_rw_frame(&c, f, &len, 14, 0), 0);
}

static void test_later_fragment_ports(void **state)
{
	struct tw_rw_cfg c = {0};
	uint8_t f[2000];
	size_t len = make_frame(f, sizeof(f), 100, 80, 81);
	unsigned n = 0;

	(void)state;
	assert_int_equal(tw_rw_parse_portmap("80-81:1000", c.port, &n), 0);
	c.nport = n;
	f[14 + 6] = 0x00;
	f[14 + 7] = 0x10;   /* offset 128 bytes: no TCP header here */
	assert_int_equal(tw_rw_frame(&c, f, &len, 14, 0), 0);
	assert_int_equal(f[14 + 20] << 8 | f[14 + 21], 80);
	/* non-IP frame: MACs only */
	c.has_dstmac = true;
	assert_int_equal(tw_rw_frame(&c, f, &len, 0, 0), TW_RW_CHANGED);
}

static void test_ipmap6(void **state)
{
	struct tw_rw_ipmap m4[TW_RW_MAX_MAPS];
	struct tw_rw_ipmap6 m6[TW_RW_MAX_MAPS];
	unsigned n4 = 0, n6 = 0;
	uint8_t a[16] = {0xfd, 0x00, 0x00, 0x99, 0x00, 0x02, [14] = 0x12, [15] = 0x34};
	uint8_t b[16] = {0x20, 0x01, 0x0d, 0xb8, [15] = 1};

	(void)state;
	assert_int_equal(tw_rw_parse_ipmap46("[fd00:99:2::/52]:[fd00:77::/48],10.0.0.0/8:11.0.0.0/8",
					     m4, &n4, m6, &n6), 0);
	assert_int_equal(n4, 1);
	assert_int_equal(n6, 1);
	a[6] = 0x0f;   /* inside the /52: the low nibble of byte 6 is a host bit */
	assert_true(tw_rw_map_ip6(m6, n6, a));
	assert_memory_equal(a, "\xfd\x00\x00\x77\x00\x00\x0f\x00", 8);
	assert_int_equal(a[14] << 8 | a[15], 0x1234);
	assert_false(tw_rw_map_ip6(m6, n6, b));
	n4 = n6 = 0;
	assert_int_equal(tw_rw_parse_ipmap("[fd00::/8]:[fe00::/8]", m4, &n4), -EINVAL);
	assert_int_equal(tw_rw_parse_ipmap46("[fd00::/8]:fe00::/8", m4, &n4, m6, &n6), -EINVAL);
	assert_int_equal(tw_rw_parse_ipmap46("[fd00::/129]:[fe00::/8]", m4, &n4, m6, &n6), -EINVAL);
	assert_int_equal(tw_rw_parse_ipmap46("[fd00::/8]:[fe00::/8]x", m4, &n4, m6, &n6), -EINVAL);
	assert_int_equal(tw_rw_parse_ipmap46("[fd00::/8]:[fe00::/8],", m4, &n4, m6, &n6), -EINVAL);
}

static void test_rewrite_v6(void **state)
{
	static const uint8_t s6[16] = {0xfd, 0, 0, 0x99, 0, 1, [15] = 5};
	static const uint8_t d6[16] = {0xfd, 0, 0, 0x99, 0, 2, [15] = 7};
	static uint8_t payload[3000];
	struct tw_forge_tcp f = {
		.ipver = 6, .src = s6, .dst = d6, .sport = 40000, .dport = 8080, .seq = 9,
		.flags = 0x18, .win = 100, .payload = payload, .payload_len = sizeof(payload),
	};
	struct tw_rw_cfg c = {0};
	uint8_t fr[3200];
	struct tw_pkt p;
	size_t len;
	unsigned n = 0;
	int k;

	(void)state;
	memset(fr, 0, 14);
	fr[12] = 0x86;
	fr[13] = 0xdd;
	k = tw_forge_tcp(fr + 14, sizeof(fr) - 14, &f);
	assert_true(k > 0);
	len = 14 + (size_t)k;
	fr[14 + 40 + 16] ^= 0x77;   /* a partial checksum, as captured */
	assert_int_equal(tw_rw_parse_ipmap46("[fd00:99:2::/48]:[fd00:77::/48]", c.dstmap,
					     &c.ndstmap, c.dstmap6, &c.ndstmap6), 0);
	assert_int_equal(tw_rw_parse_portmap("8080:9090", c.port, &n), 0);
	c.nport = n;
	assert_int_equal(tw_rw_frame(&c, fr, &len, 14, 2), TW_RW_CHANGED | TW_RW_CSUM);
	assert_int_equal(tw_pkt_decode(NULL, TW_LT_EN10MB, fr, len, len, &p), 0);
	assert_memory_equal(p.dst, "\xfd\x00\x00\x77\x00\x00\x00\x00", 8);
	assert_int_equal(p.dst[15], 9);    /* 7 + --unique-ip 2 */
	assert_int_equal(p.src[15], 7);    /* 5 + 2, no map */
	assert_int_equal(p.dport, 9090);
	assert_int_equal(tw_csum_l4(6, p.src, p.dst, 6, p.l4, p.l4_len),
			 (uint16_t)(p.l4[16] << 8 | p.l4[17]));
	/* --mtu-trunc on IPv6: payload length set, checksum over what is left */
	c = (struct tw_rw_cfg){.mtu_trunc = true, .mtu = 1280};
	assert_int_equal(tw_rw_frame(&c, fr, &len, 14, 0), TW_RW_TRUNC | TW_RW_CSUM);
	assert_int_equal(len, 14 + 1280);
	assert_int_equal(tw_pkt_decode(NULL, TW_LT_EN10MB, fr, len, len, &p), 0);
	assert_int_equal(p.ip_len, 1280);
	assert_int_equal(tw_csum_l4(6, p.src, p.dst, 6, p.l4, p.l4_len),
			 (uint16_t)(p.l4[16] << 8 | p.l4[17]));
}

static void test_sched_pps(void **state)
{
	struct tw_sched s;
	struct tw_clock clk;
	uint64_t d = 0, sent = 0;

	(void)state;
	assert_int_equal(tw_sched_init(&s, TW_SCHED_PPS, 10000), 0);
	/* a fake clock that ticks in uneven steps: every packet due by then is sent */
	tw_clock_init_fake(&clk, 0);
	d = tw_sched_next(&s, 0, 100);
	for (int step = 0; step < 5000; step++) {
		tw_clock_fake_advance(&clk, 977 + (uint64_t)(step % 7) * 331);
		tw_clock_update(&clk);
		while (d <= tw_clock_now(&clk)) {
			sent++;
			d = tw_sched_next(&s, 0, 100);
		}
	}
	/* 5000 steps of 977..2963 ns: about 9.9 ms; 10 000 pps = one per 100 us */
	assert_int_equal(sent, tw_clock_now(&clk) / 100000 + 1);
	/* absolute: the 10 001st packet is due at exactly 1 s */
	assert_int_equal(tw_sched_init(&s, TW_SCHED_PPS, 3), 0);
	for (int i = 0; i < 3; i++)
		d = tw_sched_next(&s, 0, 1);
	assert_int_equal(d, 666666667);
	assert_int_equal(tw_sched_next(&s, 0, 1), 1000000000);
	assert_int_equal(tw_sched_init(&s, TW_SCHED_PPS, 0), -EINVAL);
}

static void test_sched_mult(void **state)
{
	struct tw_sched s;
	const int64_t t0 = 1700000000LL * 1000000000LL;

	(void)state;
	assert_int_equal(tw_sched_init(&s, TW_SCHED_MULT, 2.0), 0);
	assert_int_equal(tw_sched_next(&s, t0, 60), 0);
	assert_int_equal(tw_sched_next(&s, t0 + 1000000, 60), 500000);
	assert_int_equal(tw_sched_next(&s, t0 + 500000, 60), 500000);   /* time stepped back */
	assert_int_equal(tw_sched_next(&s, t0 + 4000000, 60), 2000000);
	/* second pass (a loop): continues where the first ended */
	tw_sched_pass(&s);
	assert_int_equal(tw_sched_next(&s, t0, 60), 2000000);
	assert_int_equal(tw_sched_next(&s, t0 + 2000000, 60), 3000000);
}

static void test_sched_mbps_top(void **state)
{
	struct tw_sched s;

	(void)state;
	assert_int_equal(tw_sched_init(&s, TW_SCHED_MBPS, 8.0), 0);   /* 1 byte per us */
	assert_int_equal(tw_sched_next(&s, 0, 1000), 0);
	assert_int_equal(tw_sched_next(&s, 0, 500), 1000000);
	assert_int_equal(tw_sched_next(&s, 0, 1), 1500000);
	assert_int_equal(tw_sched_init(&s, TW_SCHED_TOP, 0), 0);
	for (int i = 0; i < 10; i++)
		assert_int_equal(tw_sched_next(&s, i * 1000000000LL, 1500), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_mac),
		cmocka_unit_test(test_parse_ipmap),
		cmocka_unit_test(test_parse_portmap),
		cmocka_unit_test(test_rewrite_all),
		cmocka_unit_test(test_rewrite_mac_only_keeps_ip),
		cmocka_unit_test(test_fixcsum_uniq),
		cmocka_unit_test(test_mtu_trunc),
		cmocka_unit_test(test_later_fragment_ports),
		cmocka_unit_test(test_ipmap6),
		cmocka_unit_test(test_rewrite_v6),
		cmocka_unit_test(test_sched_pps),
		cmocka_unit_test(test_sched_mult),
		cmocka_unit_test(test_sched_mbps_top),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
