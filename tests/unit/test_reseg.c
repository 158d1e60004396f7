/*
 * test_reseg.c - unit tests of src/pkt/reseg.c: IPv4 (with IP options) and
 * IPv6 (with a destination-options header) super-packets of 27 000 payload
 * bytes carrying timestamps, cut at MSS 1448 and 1388; each piece decoded
 * again with tw_pkt_decode and checked: count, lengths, seq continuity across
 * the 2^32 wrap, IPv4 ids across the 2^16 wrap, flag rules (PSH/FIN/RST last,
 * CWR first, SYN first with its sequence number), headers and options copied,
 * byte-exact reassembly, both checksums verified by an independent sum.
 * Edge cases: payload = mss, mss + 1, empty, FIN only, BIG TCP (tot_len 0),
 * -ENOSPC without losing state, and rejected inputs.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>

#include <cmocka.h>

#include "pkt/decode.h"
#include "pkt/forge.h"
#include "pkt/reseg.h"

#define SUPER_LEN 27000
#define BIG_LEN 70000

static const uint8_t a4_src[4] = {10, 9, 8, 7}, a4_dst[4] = {10, 20, 30, 40};
static const uint8_t a6_src[16] = {0xfd, 0x12, [15] = 0x31};
static const uint8_t a6_dst[16] = {0xfd, 0x12, [7] = 0x99, [15] = 0x42};
/* NOP NOP TS val ecr, as on every Linux data segment with timestamps. */
static const uint8_t ts_opt[12] = {1, 1, 8, 10, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88};

static uint8_t data[BIG_LEN];
static uint8_t pkt_buf[BIG_LEN + 200];
static uint8_t seg[2048];
static uint8_t joined[BIG_LEN];

static int setup(void **state)
{
	uint32_t x = 0x9e3779b9;

	(void)state;
	for (size_t i = 0; i < sizeof(data); i++) {
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		data[i] = (uint8_t)x;
	}
	return 0;
}

static uint16_t be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* Independent one's-complement sum (not csum.c): plain sum modulo 65535.
 * Returns the folded sum; a packet with a valid checksum sums to 0xffff. */
static uint32_t sum_words(uint64_t s, const uint8_t *p, size_t len)
{
	for (size_t i = 0; i < len; i++)
		s += (i & 1) ? p[i] : (uint64_t)p[i] << 8;
	return (uint32_t)(s % 0xffff);
}

static void assert_csums_valid(const uint8_t *p, size_t len, int ipver, size_t ip_hlen)
{
	uint8_t ph[40];
	size_t l4len = len - ip_hlen;
	uint64_t s;

	if (ipver == 4) {
		assert_int_equal(sum_words(0, p, ip_hlen), 0); /* 0xffff mod 0xffff */
		memcpy(ph, p + 12, 8);
		ph[8] = 0;
		ph[9] = 6;
		ph[10] = (uint8_t)(l4len >> 8);
		ph[11] = (uint8_t)l4len;
		s = sum_words(0, ph, 12);
	} else {
		memcpy(ph, p + 8, 32);
		ph[32] = (uint8_t)(l4len >> 24);
		ph[33] = (uint8_t)(l4len >> 16);
		ph[34] = (uint8_t)(l4len >> 8);
		ph[35] = (uint8_t)l4len;
		ph[36] = ph[37] = ph[38] = 0;
		ph[39] = 6;
		s = sum_words(0, ph, 40);
	}
	assert_int_equal(sum_words(s, p + ip_hlen, l4len), 0);
}

/* Forge a TCP packet and, for IPv4, add 4 bytes of IP options (router alert)
 * or, for IPv6, an 8-byte destination-options header; decode it. */
static size_t build(int ipver, bool ext, uint32_t seq, uint16_t id, uint16_t flags,
		    size_t plen, struct tw_pkt *pk)
{
	struct tw_forge_tcp f = {.ipver = ipver, .src = ipver == 4 ? a4_src : a6_src,
				 .dst = ipver == 4 ? a4_dst : a6_dst, .sport = 51000, .dport = 8080,
				 .seq = seq, .ack = 0x01000000, .flags = flags, .win = 501,
				 .ip_id = id, .df = 1, .opt = ts_opt, .opt_len = sizeof(ts_opt),
				 .payload = data, .payload_len = plen, .flowlabel = 0x12345, .tos = 2};
	struct tw_decode_cfg cfg;
	size_t ih = ipver == 4 ? 20 : 40;
	int n = tw_forge_tcp(pkt_buf, sizeof(pkt_buf), &f);

	assert_true(n > 0);
	if (ext) {
		memmove(pkt_buf + ih + 8 - (ipver == 4 ? 4 : 0), pkt_buf + ih, (size_t)n - ih);
		if (ipver == 4) {
			static const uint8_t ra[4] = {0x94, 0x04, 0x00, 0x00};

			memcpy(pkt_buf + 20, ra, 4);
			pkt_buf[0] = 0x46;
			n += 4;
			pkt_buf[2] = (uint8_t)(n >> 8);
			pkt_buf[3] = (uint8_t)n;
		} else {
			static const uint8_t dopt[8] = {6, 0, 1, 4, 0, 0, 0, 0};

			memcpy(pkt_buf + 40, dopt, 8);
			pkt_buf[6] = 60;
			n += 8;
			pkt_buf[4] = (uint8_t)((n - 40) >> 8);
			pkt_buf[5] = (uint8_t)(n - 40);
		}
		/* Checksums of the input are irrelevant: reseg recomputes them. */
	}
	tw_decode_cfg_init(&cfg);
	assert_int_equal(tw_pkt_decode(&cfg, TW_LT_RAW, pkt_buf, (size_t)n, (size_t)n, pk), 0);
	assert_int_equal(pk->proto, 6);
	assert_int_equal(pk->payload_len, plen);
	assert_int_equal(pk->ip_hlen, ih + (ext ? (ipver == 4 ? 4 : 8) : 0));
	return (size_t)n;
}

/* Cut PK at MSS and check every piece; returns the number of pieces. */
static unsigned check_split(const struct tw_pkt *pk, size_t mss)
{
	size_t hdr = (size_t)pk->ip_hlen + pk->th_len, off = 0;
	struct tw_decode_cfg cfg;
	struct tw_reseg rs;
	unsigned i = 0;
	int n;

	tw_decode_cfg_init(&cfg);
	assert_int_equal(tw_reseg_init(&rs, pk, mss), 0);
	while ((n = tw_reseg_next(&rs, seg, sizeof(seg))) > 0) {
		size_t chunk = (size_t)n - hdr;
		bool first = i == 0, last = off + chunk == pk->payload_len;
		uint16_t want = pk->flags & (uint16_t)~(TW_TH_PSH | TW_TH_FIN | TW_TH_RST |
							 TW_TH_CWR | TW_TH_SYN);
		struct tw_pkt s;

		assert_true(chunk <= mss);
		if (!last)
			assert_int_equal(chunk, mss);
		if (last)
			want |= pk->flags & (TW_TH_PSH | TW_TH_FIN | TW_TH_RST);
		if (first)
			want |= pk->flags & (TW_TH_CWR | TW_TH_SYN);

		assert_int_equal(tw_pkt_decode(&cfg, TW_LT_RAW, seg, (size_t)n, (size_t)n, &s), 0);
		assert_false(s.truncated);
		assert_int_equal(s.ipver, pk->ipver);
		assert_int_equal(s.ip_len, (size_t)n);
		assert_int_equal(s.ip_hlen, pk->ip_hlen);
		assert_int_equal(s.th_len, pk->th_len);
		assert_int_equal(s.payload_len, chunk);
		assert_int_equal(s.seq, (uint32_t)(pk->seq + off +
						   (!first && (pk->flags & TW_TH_SYN) ? 1 : 0)));
		assert_int_equal(s.ack, pk->ack);
		assert_int_equal(s.flags, want);
		assert_int_equal(s.win, pk->win);
		assert_int_equal(s.sport, pk->sport);
		assert_int_equal(s.dport, pk->dport);
		assert_memory_equal(s.src, pk->src, 16);
		assert_memory_equal(s.dst, pk->dst, 16);
		if (pk->ipver == 4) {
			assert_int_equal(s.ip_id, (uint16_t)(pk->ip_id + i));
			assert_int_equal(be16(seg + 2), n);
			assert_int_equal(s.df, pk->df);
			/* IP options copied */
			assert_memory_equal(seg + 20, pk->l3 + 20, pk->ip_hlen - 20u);
		} else {
			assert_int_equal(be16(seg + 4), n - 40);
			assert_memory_equal(seg, pk->l3, 4); /* version, class, flow label */
			assert_memory_equal(seg + 40, pk->l3 + 40, pk->ip_hlen - 40u);
		}
		assert_int_equal(s.ttl, pk->ttl);
		/* TCP options copied (timestamps included) */
		assert_int_equal(s.tcp_opt_len, pk->tcp_opt_len);
		assert_memory_equal(s.tcp_opt, pk->tcp_opt, pk->tcp_opt_len);
		assert_true(s.opts.has_ts);
		assert_int_equal(s.opts.ts_val, 0x11223344);
		assert_csums_valid(seg, (size_t)n, pk->ipver, pk->ip_hlen);
		memcpy(joined + off, s.payload, chunk);
		off += chunk;
		i++;
	}
	assert_int_equal(n, 0);
	assert_int_equal(off, pk->payload_len);
	assert_memory_equal(joined, pk->payload, pk->payload_len);
	/* Done stays done. */
	assert_int_equal(tw_reseg_next(&rs, seg, sizeof(seg)), 0);
	assert_int_equal(tw_reseg_next(&rs, seg, sizeof(seg)), 0);
	return i;
}

static void test_super4(void **state)
{
	const uint16_t fl = TW_TH_ACK | TW_TH_PSH | TW_TH_FIN | TW_TH_CWR | TW_TH_ECE;
	struct tw_pkt pk;

	(void)state;
	/* seq and id close to their wrap, so both wrap inside the run. */
	build(4, false, 0xffffd000, 0xfff8, fl, SUPER_LEN, &pk);
	assert_int_equal(check_split(&pk, 1448), 19); /* 18 x 1448 + 936 */
	assert_int_equal(check_split(&pk, 1388), 20); /* 19 x 1388 + 628 */
	build(4, true, 12345, 0, fl | TW_TH_AE, SUPER_LEN, &pk); /* with IP options */
	assert_int_equal(check_split(&pk, 1448), 19);
	assert_int_equal(check_split(&pk, 1388), 20);
}

static void test_super6(void **state)
{
	const uint16_t fl = TW_TH_ACK | TW_TH_PSH | TW_TH_CWR | TW_TH_AE;
	struct tw_pkt pk;

	(void)state;
	build(6, false, 0xfffff000, 0, fl, SUPER_LEN, &pk);
	assert_int_equal(check_split(&pk, 1448), 19);
	assert_int_equal(check_split(&pk, 1388), 20);
	build(6, true, 7, 0, fl | TW_TH_RST, SUPER_LEN, &pk); /* dest-options header */
	assert_int_equal(check_split(&pk, 1448), 19);
	assert_int_equal(check_split(&pk, 1388), 20);
}

static void test_mtu_edges(void **state)
{
	const uint16_t fl = TW_TH_ACK | TW_TH_PSH | TW_TH_CWR;
	struct tw_pkt pk;

	(void)state;
	for (int v = 4; v <= 6; v += 2) {
		build(v, false, 1000, 5, fl, 1448, &pk);
		assert_int_equal(check_split(&pk, 1448), 1);
		build(v, false, 1000, 5, fl, 1449, &pk);
		assert_int_equal(check_split(&pk, 1448), 2);
		build(v, false, 1000, 5, fl, 1447, &pk);
		assert_int_equal(check_split(&pk, 1448), 1);
		build(v, false, 1000, 5, fl, 2 * 1448, &pk);
		assert_int_equal(check_split(&pk, 1448), 2);
		build(v, false, 1000, 5, fl, 1, &pk);
		assert_int_equal(check_split(&pk, 1), 1);
		build(v, false, 1000, 5, fl, 5, &pk);
		assert_int_equal(check_split(&pk, 1), 5);
	}
}

/* No payload: exactly one segment, byte-identical to a correct input. */
static void test_empty_and_fin(void **state)
{
	static const uint16_t flags[] = {TW_TH_ACK, TW_TH_FIN | TW_TH_ACK, TW_TH_FIN,
					 TW_TH_RST | TW_TH_ACK, TW_TH_SYN | TW_TH_ECE | TW_TH_CWR};
	struct tw_reseg rs;
	struct tw_pkt pk;

	(void)state;
	for (int v = 4; v <= 6; v += 2) {
		for (size_t k = 0; k < sizeof(flags) / sizeof(flags[0]); k++) {
			size_t n = build(v, false, 77, 9, flags[k], 0, &pk);

			assert_int_equal(check_split(&pk, 1448), 1);
			assert_int_equal(tw_reseg_init(&rs, &pk, 1448), 0);
			assert_int_equal(tw_reseg_next(&rs, seg, sizeof(seg)), (int)n);
			assert_memory_equal(seg, pkt_buf, n);
			assert_int_equal(tw_reseg_next(&rs, seg, sizeof(seg)), 0);
		}
	}
}

/* SYN with data (TFO) longer than mss: SYN on the first piece, and the later
 * pieces start one sequence number further. */
static void test_syn_data(void **state)
{
	struct tw_pkt pk;

	(void)state;
	build(4, false, 0xffffffff, 1, TW_TH_SYN | TW_TH_PSH, 3000, &pk);
	assert_int_equal(check_split(&pk, 1448), 3);
}

/* -ENOSPC leaves the state alone; a bigger buffer then gets the same piece. */
static void test_enospc(void **state)
{
	struct tw_reseg rs;
	struct tw_pkt pk;
	size_t hdr;
	int n;

	(void)state;
	build(4, false, 500, 1, TW_TH_ACK | TW_TH_FIN, 3000, &pk);
	hdr = (size_t)pk.ip_hlen + pk.th_len;
	assert_int_equal(tw_reseg_init(&rs, &pk, 1448), 0);
	assert_int_equal(tw_reseg_next(&rs, seg, hdr + 1447), -ENOSPC);
	assert_int_equal(tw_reseg_next(&rs, seg, 0), -ENOSPC);
	assert_int_equal(tw_reseg_next(&rs, NULL, 0), -ENOSPC);
	n = tw_reseg_next(&rs, seg, hdr + 1448);
	assert_int_equal(n, (int)(hdr + 1448));
	assert_int_equal(be32(seg + pk.ip_hlen + 4), 500);
	assert_int_equal(be16(seg + 4), 1);
	n = tw_reseg_next(&rs, seg, sizeof(seg));
	assert_int_equal(be32(seg + pk.ip_hlen + 4), 500 + 1448);
	assert_int_equal(be16(seg + 4), 2);
	assert_int_equal(seg[pk.ip_hlen + 13] & TW_TH_FIN, 0);
	n = tw_reseg_next(&rs, seg, sizeof(seg));
	assert_int_equal(n, (int)(hdr + 3000 - 2 * 1448));
	assert_int_equal(seg[pk.ip_hlen + 13] & TW_TH_FIN, TW_TH_FIN);
	assert_int_equal(tw_reseg_next(&rs, seg, sizeof(seg)), 0);
}

/* IPv4 BIG TCP: tot_len 0 and 70 000 payload bytes. A piece must fit the
 * 16-bit length: -EMSGSIZE with a huge mss, fine with a real one. */
static void test_big_tcp(void **state)
{
	struct tw_forge_tcp f = {.ipver = 4, .src = a4_src, .dst = a4_dst, .sport = 1, .dport = 2,
				 .seq = 42, .flags = TW_TH_ACK | TW_TH_PSH, .opt = ts_opt,
				 .opt_len = sizeof(ts_opt), .payload = data, .payload_len = 1000};
	struct tw_decode_cfg cfg;
	struct tw_reseg rs;
	struct tw_pkt pk;
	size_t len = 20 + 32 + BIG_LEN;

	(void)state;
	/* Forge a small packet for the headers, then append the big payload. */
	assert_true(tw_forge_tcp(pkt_buf, sizeof(pkt_buf), &f) > 0);
	memcpy(pkt_buf + 52, data, BIG_LEN);
	pkt_buf[2] = pkt_buf[3] = 0;
	tw_decode_cfg_init(&cfg);
	assert_int_equal(tw_pkt_decode(&cfg, TW_LT_RAW, pkt_buf, len, len, &pk), 0);
	assert_int_equal(pk.payload_len, BIG_LEN);
	assert_int_equal(tw_reseg_init(&rs, &pk, 65535), 0);
	assert_int_equal(tw_reseg_next(&rs, seg, sizeof(seg)), -EMSGSIZE);
	assert_int_equal(check_split(&pk, 1448), (BIG_LEN + 1447) / 1448);
}

static void test_rejects(void **state)
{
	struct tw_reseg rs;
	struct tw_pkt pk, bad;

	(void)state;
	build(4, false, 1, 1, TW_TH_ACK, 100, &pk);
	assert_int_equal(tw_reseg_init(&rs, &pk, 0), -EINVAL);
	assert_int_equal(tw_reseg_init(&rs, NULL, 1448), -EINVAL);
	bad = pk;
	bad.truncated = true;
	assert_int_equal(tw_reseg_init(&rs, &bad, 1448), -EINVAL);
	bad = pk;
	bad.proto = 17;
	assert_int_equal(tw_reseg_init(&rs, &bad, 1448), -EINVAL);
	bad = pk;
	bad.l4 = NULL;
	assert_int_equal(tw_reseg_init(&rs, &bad, 1448), -EINVAL);
	bad = pk;
	bad.payload_caplen = 99;
	assert_int_equal(tw_reseg_init(&rs, &bad, 1448), -EINVAL);
	bad = pk;
	bad.th_len = 16;
	assert_int_equal(tw_reseg_init(&rs, &bad, 1448), -EINVAL);
	bad = pk;
	bad.ip_hlen = 24; /* l4 no longer right after the IP header */
	assert_int_equal(tw_reseg_init(&rs, &bad, 1448), -EINVAL);
	/* An IPv4 fragment (MF set in the bytes). */
	pkt_buf[6] |= 0x20;
	assert_int_equal(tw_reseg_init(&rs, &pk, 1448), -EINVAL);
	pkt_buf[6] &= (uint8_t)~0x20;
	assert_int_equal(tw_reseg_init(&rs, &pk, 1448), 0);
	/* next on a reseg whose init failed writes nothing. */
	assert_int_equal(tw_reseg_init(&rs, &bad, 1448), -EINVAL);
	assert_int_equal(tw_reseg_next(&rs, seg, sizeof(seg)), 0);
}

/* MSS rule: min(target MSS, MTU - IP header - TCP header with options). */
static void test_mss_rule(void **state)
{
	struct tw_pkt pk;

	(void)state;
	build(4, false, 1, 1, TW_TH_ACK, 10, &pk);
	assert_int_equal(tw_reseg_mss(&pk, 1500, 0), 1448);   /* 1500 - 20 - 32 */
	assert_int_equal(tw_reseg_mss(&pk, 1500, 1460), 1448);
	assert_int_equal(tw_reseg_mss(&pk, 1500, 1388), 1388);
	assert_int_equal(tw_reseg_mss(&pk, 53, 0), 1);
	assert_int_equal(tw_reseg_mss(&pk, 52, 0), 0);
	build(4, true, 1, 1, TW_TH_ACK, 10, &pk);              /* 4 bytes of IP options */
	assert_int_equal(tw_reseg_mss(&pk, 1500, 0), 1444);
	build(6, false, 1, 1, TW_TH_ACK, 10, &pk);
	assert_int_equal(tw_reseg_mss(&pk, 1500, 0), 1428);   /* 1500 - 40 - 32 */
	build(6, true, 1, 1, TW_TH_ACK, 10, &pk);              /* + 8-byte dest options */
	assert_int_equal(tw_reseg_mss(&pk, 1420, 0), 1340);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_super4),
		cmocka_unit_test(test_super6),
		cmocka_unit_test(test_mtu_edges),
		cmocka_unit_test(test_empty_and_fin),
		cmocka_unit_test(test_syn_data),
		cmocka_unit_test(test_enospc),
		cmocka_unit_test(test_big_tcp),
		cmocka_unit_test(test_rejects),
		cmocka_unit_test(test_mss_rule),
	};

	return cmocka_run_group_tests(tests, setup, NULL);
}
