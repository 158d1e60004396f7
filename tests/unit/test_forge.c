/*
 * test_forge.c - unit tests of src/pkt/forge.c: forged IPv4 and IPv6 TCP
 * packets compared byte for byte with scapy-built references (pasted below
 * with the scapy expression that made them), TCP option blocks in Linux SYN
 * order for every subset of fields, AE flag placement, option padding, size
 * limits and error returns; forged packets decoded back with tw_pkt_decode.
 * Does not need python at run time.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>

#include <cmocka.h>

#include "pkt/csum.h"
#include "pkt/decode.h"
#include "pkt/forge.h"

/* IP(src="10.1.2.3", dst="10.4.5.6", tos=0x10, id=0x1234, flags="DF", ttl=64)/
 * TCP(sport=40000, dport=8080, seq=0x01020304, ack=0xa0b0c0d0, flags="SA",
 *     window=65535, options=[("MSS",1460), ("SAckOK",b""),
 *     ("Timestamp",(12345678,0)), ("NOP",None), ("WScale",7)]) */
static const uint8_t ref_syn4[60] = {
	0x45, 0x10, 0x00, 0x3c, 0x12, 0x34, 0x40, 0x00, 0x40, 0x06, 0x0d, 0x6b,
	0x0a, 0x01, 0x02, 0x03, 0x0a, 0x04, 0x05, 0x06, 0x9c, 0x40, 0x1f, 0x90,
	0x01, 0x02, 0x03, 0x04, 0xa0, 0xb0, 0xc0, 0xd0, 0xa0, 0x12, 0xff, 0xff,
	0xa9, 0x80, 0x00, 0x00, 0x02, 0x04, 0x05, 0xb4, 0x04, 0x02, 0x08, 0x0a,
	0x00, 0xbc, 0x61, 0x4e, 0x00, 0x00, 0x00, 0x00, 0x01, 0x03, 0x03, 0x07,
};

/* IP(src="10.1.2.3", dst="10.4.5.6", id=7, flags=0, ttl=200)/TCP(sport=1,
 * dport=2, seq=0xfffffff0, ack=5, flags="PA", window=502,
 * options=[("NOP",None), ("NOP",None), ("Timestamp",(1,2)), ("WScale",3)])/
 * Raw(bytes(range(37)))  -- 15 option bytes, scapy pads with one 0x00 */
static const uint8_t ref_data4[93] = {
	0x45, 0x00, 0x00, 0x5d, 0x00, 0x07, 0x00, 0x00, 0xc8, 0x06, 0xd7, 0x86,
	0x0a, 0x01, 0x02, 0x03, 0x0a, 0x04, 0x05, 0x06, 0x00, 0x01, 0x00, 0x02,
	0xff, 0xff, 0xff, 0xf0, 0x00, 0x00, 0x00, 0x05, 0x90, 0x18, 0x01, 0xf6,
	0xec, 0x44, 0x00, 0x00, 0x01, 0x01, 0x08, 0x0a, 0x00, 0x00, 0x00, 0x01,
	0x00, 0x00, 0x00, 0x02, 0x03, 0x03, 0x03, 0x00, 0x00, 0x01, 0x02, 0x03,
	0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f,
	0x10, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17, 0x18, 0x19, 0x1a, 0x1b,
	0x1c, 0x1d, 0x1e, 0x1f, 0x20, 0x21, 0x22, 0x23, 0x24,
};

/* IPv6(src="fd00::1", dst="fd00::1:0:0:2", tc=0xb8, fl=0xabcde, hlim=64)/
 * TCP(sport=443, dport=55555, seq=1000, ack=2000, flags=0x1d0 (AE CWR ECE
 * ACK: data-offset byte 0x61), window=1000, options=[("MSS",1440)])/
 * Raw(bytes(range(37))) */
static const uint8_t ref_data6[101] = {
	0x6b, 0x8a, 0xbc, 0xde, 0x00, 0x3d, 0x06, 0x40, 0xfd, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01,
	0xfd, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x02, 0x01, 0xbb, 0xd9, 0x03, 0x00, 0x00, 0x03, 0xe8,
	0x00, 0x00, 0x07, 0xd0, 0x61, 0xd0, 0x03, 0xe8, 0x5a, 0x9e, 0x00, 0x00,
	0x02, 0x04, 0x05, 0xa0, 0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07,
	0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f, 0x10, 0x11, 0x12, 0x13,
	0x14, 0x15, 0x16, 0x17, 0x18, 0x19, 0x1a, 0x1b, 0x1c, 0x1d, 0x1e, 0x1f,
	0x20, 0x21, 0x22, 0x23, 0x24,
};

/* IPv6(src="2001:db8:aa::10", dst="2001:db8:bb::20", hlim=255, fl=1)/
 * TCP(sport=33000, dport=80, seq=0xdeadbeef, ack=0, flags="S", window=64800,
 *     options=[("MSS",1400), ("NOP",None), ("NOP",None),
 *     ("Timestamp",(5,6)), ("NOP",None), ("WScale",14)])
 * = Linux's SYN layout without SACK-permitted. */
static const uint8_t ref_syn6[80] = {
	0x60, 0x00, 0x00, 0x01, 0x00, 0x28, 0x06, 0xff, 0x20, 0x01, 0x0d, 0xb8,
	0x00, 0xaa, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x10,
	0x20, 0x01, 0x0d, 0xb8, 0x00, 0xbb, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x20, 0x80, 0xe8, 0x00, 0x50, 0xde, 0xad, 0xbe, 0xef,
	0x00, 0x00, 0x00, 0x00, 0xa0, 0x02, 0xfd, 0x20, 0xd2, 0x2d, 0x00, 0x00,
	0x02, 0x04, 0x05, 0x78, 0x01, 0x01, 0x08, 0x0a, 0x00, 0x00, 0x00, 0x05,
	0x00, 0x00, 0x00, 0x06, 0x01, 0x03, 0x03, 0x0e,
};

static const uint8_t a4_src[4] = {10, 1, 2, 3}, a4_dst[4] = {10, 4, 5, 6};
static const uint8_t a6_src[16] = {0xfd, 0, [15] = 1};
static const uint8_t a6_dst[16] = {0xfd, 0, [9] = 1, [15] = 2};
static const uint8_t s6_src[16] = {0x20, 0x01, 0x0d, 0xb8, 0x00, 0xaa, [15] = 0x10};
static const uint8_t s6_dst[16] = {0x20, 0x01, 0x0d, 0xb8, 0x00, 0xbb, [15] = 0x20};

static uint8_t payload37[37];

static int setup(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(payload37); i++)
		payload37[i] = (uint8_t)i;
	return 0;
}

/* Decode a forged packet as raw IP and check the common fields. */
static void decode_raw(const uint8_t *p, size_t len, struct tw_pkt *pk)
{
	struct tw_decode_cfg cfg;

	tw_decode_cfg_init(&cfg);
	assert_int_equal(tw_pkt_decode(&cfg, TW_LT_RAW, p, len, len, pk), 0);
	assert_false(pk->truncated);
	assert_non_null(pk->l4);
	assert_int_equal(pk->proto, 6);
}

static void test_syn4_linux_opts(void **state)
{
	struct tw_tcp_opts o = {.has_mss = true, .mss = 1460, .sack_ok = true, .has_ts = true,
				.ts_val = 12345678, .ts_ecr = 0, .has_wscale = true, .wscale = 7};
	uint8_t opt[40], buf[128];
	struct tw_forge_tcp f = {0};
	struct tw_pkt pk;
	int olen, n;

	(void)state;
	olen = tw_forge_tcp_opts(opt, sizeof(opt), &o);
	assert_int_equal(olen, 20);
	assert_memory_equal(opt, ref_syn4 + 40, 20);
	f.ipver = 4;
	f.src = a4_src;
	f.dst = a4_dst;
	f.sport = 40000;
	f.dport = 8080;
	f.seq = 0x01020304;
	f.ack = 0xa0b0c0d0;
	f.flags = TW_TH_SYN | TW_TH_ACK;
	f.win = 65535;
	f.tos = 0x10;
	f.ip_id = 0x1234;
	f.df = 1;
	f.opt = opt;
	f.opt_len = (size_t)olen;
	memset(buf, 0xcc, sizeof(buf));
	n = tw_forge_tcp(buf, sizeof(buf), &f);
	assert_int_equal(n, sizeof(ref_syn4));
	assert_memory_equal(buf, ref_syn4, sizeof(ref_syn4));
	assert_int_equal(buf[n], 0xcc); /* nothing written past the packet */

	decode_raw(buf, (size_t)n, &pk);
	assert_int_equal(pk.ipver, 4);
	assert_int_equal(pk.ttl, 64);
	assert_true(pk.df);
	assert_int_equal(pk.ip_id, 0x1234);
	assert_int_equal(pk.flags, TW_TH_SYN | TW_TH_ACK);
	assert_int_equal(pk.th_len, 40);
	assert_true(pk.opts.has_mss);
	assert_int_equal(pk.opts.mss, 1460);
	assert_true(pk.opts.sack_ok);
	assert_true(pk.opts.has_ts);
	assert_int_equal(pk.opts.ts_val, 12345678);
	assert_true(pk.opts.has_wscale);
	assert_int_equal(pk.opts.wscale, 7);
	assert_int_equal(pk.payload_len, 0);
}

static void test_data4_padding(void **state)
{
	/* 15 option bytes: forge adds one zero (EOL) byte, as scapy does. */
	static const uint8_t opt[15] = {1, 1, 8, 10, 0, 0, 0, 1, 0, 0, 0, 2, 3, 3, 3};
	struct tw_forge_tcp f = {.ipver = 4, .src = a4_src, .dst = a4_dst, .sport = 1, .dport = 2,
				 .seq = 0xfffffff0, .ack = 5, .flags = TW_TH_PSH | TW_TH_ACK,
				 .win = 502, .ttl = 200, .ip_id = 7, .opt = opt, .opt_len = 15,
				 .payload = payload37, .payload_len = 37};
	uint8_t buf[sizeof(ref_data4)];
	struct tw_pkt pk;
	int n;

	(void)state;
	memset(buf, 0xcc, sizeof(buf));
	n = tw_forge_tcp(buf, sizeof(buf), &f); /* exactly the needed capacity */
	assert_int_equal(n, sizeof(ref_data4));
	assert_memory_equal(buf, ref_data4, sizeof(ref_data4));
	/* One byte less: -ENOSPC, for every smaller capacity. */
	for (size_t cap = 0; cap < sizeof(ref_data4); cap++)
		assert_int_equal(tw_forge_tcp(buf, cap, &f), -ENOSPC);

	decode_raw(ref_data4, sizeof(ref_data4), &pk);
	assert_int_equal(pk.seq, 0xfffffff0);
	assert_int_equal(pk.payload_len, 37);
}

static void test_data6_ae(void **state)
{
	static const uint8_t opt[4] = {2, 4, 0x05, 0xa0};
	struct tw_forge_tcp f = {.ipver = 6, .src = a6_src, .dst = a6_dst, .sport = 443,
				 .dport = 55555, .seq = 1000, .ack = 2000,
				 .flags = TW_TH_AE | TW_TH_CWR | TW_TH_ECE | TW_TH_ACK,
				 .win = 1000, .tos = 0xb8, .flowlabel = 0xabcde, .opt = opt,
				 .opt_len = 4, .payload = payload37, .payload_len = 37};
	uint8_t buf[256];
	struct tw_pkt pk;
	int n;

	(void)state;
	n = tw_forge_tcp(buf, sizeof(buf), &f);
	assert_int_equal(n, sizeof(ref_data6));
	assert_memory_equal(buf, ref_data6, sizeof(ref_data6));
	assert_int_equal(buf[52], 0x61); /* AE is the low bit of the data-offset byte */

	decode_raw(buf, (size_t)n, &pk);
	assert_int_equal(pk.ipver, 6);
	assert_int_equal(pk.tos, 0xb8);
	assert_int_equal(pk.ttl, 64);
	assert_int_equal(pk.flags, TW_TH_AE | TW_TH_CWR | TW_TH_ECE | TW_TH_ACK);
	assert_int_equal(pk.sport, 443);
	assert_int_equal(pk.dport, 55555);
	assert_int_equal(pk.payload_len, 37);
	assert_memory_equal(pk.payload, payload37, 37);
}

static void test_syn6_partial_opts(void **state)
{
	struct tw_tcp_opts o = {.has_mss = true, .mss = 1400, .has_ts = true, .ts_val = 5,
				.ts_ecr = 6, .has_wscale = true, .wscale = 14};
	struct tw_forge_tcp f = {.ipver = 6, .src = s6_src, .dst = s6_dst, .sport = 33000,
				 .dport = 80, .seq = 0xdeadbeef, .flags = TW_TH_SYN, .win = 64800,
				 .ttl = 255, .flowlabel = 1};
	uint8_t opt[40], buf[128];
	int olen;

	(void)state;
	olen = tw_forge_tcp_opts(opt, sizeof(opt), &o);
	assert_int_equal(olen, 20);
	f.opt = opt;
	f.opt_len = (size_t)olen;
	assert_int_equal(tw_forge_tcp(buf, sizeof(buf), &f), sizeof(ref_syn6));
	assert_memory_equal(buf, ref_syn6, sizeof(ref_syn6));
}

/* Every subset of the four fields: length, exact layout, parse round trip. */
static void test_opts_subsets(void **state)
{
	(void)state;
	for (unsigned m = 0; m < 16; m++) {
		struct tw_tcp_opts o = {.has_mss = m & 1, .mss = 536, .sack_ok = m & 2,
					.has_ts = m & 4, .ts_val = 0x01020304, .ts_ecr = 0xa0a1a2a3,
					.has_wscale = m & 8, .wscale = 9};
		struct tw_tcp_opts back;
		uint8_t opt[40], want[40];
		size_t wl = 0;
		int n;

		if (o.has_mss) {
			memcpy(want + wl, (const uint8_t[]){2, 4, 0x02, 0x18}, 4);
			wl += 4;
		}
		if (o.has_ts) {
			memcpy(want + wl, o.sack_ok ? (const uint8_t[]){4, 2} : (const uint8_t[]){1, 1}, 2);
			memcpy(want + wl + 2, (const uint8_t[]){8, 10, 1, 2, 3, 4, 0xa0, 0xa1, 0xa2, 0xa3}, 10);
			wl += 12;
		} else if (o.sack_ok) {
			memcpy(want + wl, (const uint8_t[]){1, 1, 4, 2}, 4);
			wl += 4;
		}
		if (o.has_wscale) {
			memcpy(want + wl, (const uint8_t[]){1, 3, 3, 9}, 4);
			wl += 4;
		}
		memset(opt, 0xcc, sizeof(opt));
		n = tw_forge_tcp_opts(opt, sizeof(opt), &o);
		assert_int_equal(n, (int)wl);
		assert_int_equal(n % 4, 0);
		assert_memory_equal(opt, want, wl);
		assert_int_equal(opt[wl], 0xcc);
		/* Too small a buffer, at every size below the need. */
		for (size_t cap = 0; cap < wl; cap++)
			assert_int_equal(tw_forge_tcp_opts(opt, cap, &o), -ENOSPC);

		assert_int_equal(tw_tcp_opts_parse(want, wl, &back), 0);
		assert_int_equal(back.has_mss, o.has_mss);
		assert_int_equal(back.sack_ok, o.sack_ok);
		assert_int_equal(back.has_ts, o.has_ts);
		assert_int_equal(back.has_wscale, o.has_wscale);
		if (o.has_ts) {
			assert_int_equal(back.ts_val, 0x01020304);
			assert_int_equal(back.ts_ecr, 0xa0a1a2a3);
		}
		if (o.has_mss)
			assert_int_equal(back.mss, 536);
		if (o.has_wscale)
			assert_int_equal(back.wscale, 9);
	}
}

/* Padding for every option length 0..40: header length and zero fill. */
static void test_opt_padding_all_lengths(void **state)
{
	uint8_t opt[40], buf[128];

	(void)state;
	memset(opt, 1, sizeof(opt)); /* NOPs */
	for (size_t ol = 0; ol <= 40; ol++) {
		struct tw_forge_tcp f = {.ipver = 4, .src = a4_src, .dst = a4_dst, .flags = TW_TH_ACK,
					 .opt = opt, .opt_len = ol};
		size_t pad = (ol + 3) / 4 * 4;
		int n = tw_forge_tcp(buf, sizeof(buf), &f);

		assert_int_equal(n, (int)(40 + pad));
		assert_int_equal(buf[32] >> 4, (20 + pad) / 4);
		for (size_t i = ol; i < pad; i++)
			assert_int_equal(buf[40 + i], 0);
		/* Both checksums verify: a sum over a correct header is 0. */
		assert_int_equal(tw_csum_fold(tw_csum_add(0, buf, 20)), 0);
		assert_int_equal(tw_csum_l4(4, buf + 12, buf + 16, 6, buf + 20, (size_t)n - 20),
				 (buf[36] << 8 | buf[37]));
	}
}

static void test_limits_and_errors(void **state)
{
	static uint8_t big[65600], out[65600 + 100];
	uint8_t opt[41] = {0};
	struct tw_forge_tcp f = {.ipver = 4, .src = a4_src, .dst = a4_dst, .flags = TW_TH_ACK,
				 .payload = big};
	struct tw_pkt pk;
	int n;

	(void)state;
	/* IPv4: total length 65535 is the largest. */
	f.payload_len = 65535 - 40;
	n = tw_forge_tcp(out, sizeof(out), &f);
	assert_int_equal(n, 65535);
	assert_int_equal(out[2] << 8 | out[3], 65535);
	f.payload_len++;
	assert_int_equal(tw_forge_tcp(out, sizeof(out), &f), -EINVAL);
	/* IPv6: payload length 65535 is the largest (packet 65575). */
	f.ipver = 6;
	f.src = a6_src;
	f.dst = a6_dst;
	f.payload_len = 65535 - 20;
	n = tw_forge_tcp(out, sizeof(out), &f);
	assert_int_equal(n, 65575);
	assert_int_equal(out[4] << 8 | out[5], 65535);
	decode_raw(out, (size_t)n, &pk);
	assert_int_equal(pk.payload_len, 65535 - 20);
	f.payload_len++;
	assert_int_equal(tw_forge_tcp(out, sizeof(out), &f), -EINVAL);
	f.payload_len = 0;

	f.flowlabel = 0x100000;
	assert_int_equal(tw_forge_tcp(out, sizeof(out), &f), -EINVAL);
	f.flowlabel = 0xfffff;
	assert_int_equal(tw_forge_tcp(out, sizeof(out), &f), 60);
	assert_int_equal(out[1] & 0x0f, 0x0f);
	assert_int_equal(out[2], 0xff);
	assert_int_equal(out[3], 0xff);

	f.ipver = 5;
	assert_int_equal(tw_forge_tcp(out, sizeof(out), &f), -EINVAL);
	f.ipver = 4;
	f.src = a4_src;
	f.dst = NULL;
	assert_int_equal(tw_forge_tcp(out, sizeof(out), &f), -EINVAL);
	f.dst = a4_dst;
	f.opt = opt;
	f.opt_len = 41;
	assert_int_equal(tw_forge_tcp(out, sizeof(out), &f), -EINVAL);
	f.opt = NULL;
	f.opt_len = 4;
	assert_int_equal(tw_forge_tcp(out, sizeof(out), &f), -EINVAL);
	f.opt_len = 0;
	f.payload = NULL;
	f.payload_len = 1;
	assert_int_equal(tw_forge_tcp(out, sizeof(out), &f), -EINVAL);
	f.payload_len = 0;
	assert_int_equal(tw_forge_tcp(out, sizeof(out), &f), 40);
	assert_int_equal(tw_forge_tcp(out, 39, &f), -ENOSPC);
	assert_int_equal(tw_forge_tcp(NULL, 0, &f), -ENOSPC);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_syn4_linux_opts),
		cmocka_unit_test(test_data4_padding),
		cmocka_unit_test(test_data6_ae),
		cmocka_unit_test(test_syn6_partial_opts),
		cmocka_unit_test(test_opts_subsets),
		cmocka_unit_test(test_opt_padding_all_lengths),
		cmocka_unit_test(test_limits_and_errors),
	};

	return cmocka_run_group_tests(tests, setup, NULL);
}
