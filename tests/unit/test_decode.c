/*
 * test_decode.c - unit tests of src/pkt decode (tw_pkt_decode, tw_tun_parse,
 * tw_tcp_opts_parse): annotated byte tables for every link type, VLAN stacks,
 * IPv4 options, IPv6 extension headers, fragments, TCP options, every tunnel
 * and their nesting, and truncation at every offset (run under ASan).
 *
 * Packets are either written out by hand (field per line) or built with the
 * small b_* helpers below, which fill in IP/UDP lengths at the end. The hand
 * written VXLAN frame was cross-checked against scapy 2.5 (bytes identical).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "pkt/decode.h"

/* ---- packet builder --------------------------------------------------- */

enum { FIX_IP4, FIX_IP6, FIX_UDP };

struct bld {
	uint8_t b[2048];
	size_t n;
	size_t fix_off[16];
	int fix_kind[16];
	int nfix;
};

static void b_bytes(struct bld *b, const void *p, size_t n)
{
	assert_true(b->n + n <= sizeof(b->b));
	memcpy(b->b + b->n, p, n);
	b->n += n;
}

static void b_u8(struct bld *b, unsigned v)
{
	uint8_t x = (uint8_t)v;
	b_bytes(b, &x, 1);
}

static void b_be16(struct bld *b, unsigned v)
{
	b_u8(b, v >> 8);
	b_u8(b, v);
}

static void b_be32(struct bld *b, uint32_t v)
{
	b_be16(b, v >> 16);
	b_be16(b, v & 0xffff);
}

static void b_fix(struct bld *b, int kind)
{
	assert_true(b->nfix < 16);
	b->fix_off[b->nfix] = b->n;
	b->fix_kind[b->nfix++] = kind;
}

/* Ethernet 02:00:00:00:00:02 <- 02:00:00:00:00:01 */
static void b_eth(struct bld *b, uint16_t type)
{
	static const uint8_t mac[12] = {2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1};
	b_bytes(b, mac, 12);
	b_be16(b, type);
}

static void b_vlan(struct bld *b, uint16_t tci, uint16_t type)
{
	b_be16(b, tci);
	b_be16(b, type);
}

/* IPv4, 20 bytes: id 0x1234, DF, TTL 64; total length filled by b_fin. */
static void b_ip4(struct bld *b, uint8_t proto, uint32_t src, uint32_t dst)
{
	b_fix(b, FIX_IP4);
	b_u8(b, 0x45);
	b_u8(b, 0);
	b_be16(b, 0);
	b_be16(b, 0x1234);
	b_be16(b, 0x4000);
	b_u8(b, 64);
	b_u8(b, proto);
	b_be16(b, 0);
	b_be32(b, src);
	b_be32(b, dst);
}

/* IPv6 2001:db8::S -> 2001:db8::D, traffic class 0x28, hop limit 64. */
static void b_ip6(struct bld *b, uint8_t nh, uint8_t s, uint8_t d)
{
	uint8_t a[16] = {0x20, 0x01, 0x0d, 0xb8};

	b_fix(b, FIX_IP6);
	b_be32(b, 0x62800000);          /* version 6, TC 0x28, flow 0 */
	b_be16(b, 0);
	b_u8(b, nh);
	b_u8(b, 64);
	a[15] = s;
	b_bytes(b, a, 16);
	a[15] = d;
	b_bytes(b, a, 16);
}

static void b_tcp(struct bld *b, uint16_t sp, uint16_t dp, uint32_t seq, uint32_t ack,
		  uint16_t flags, const uint8_t *opt, size_t olen)
{
	assert_true(olen % 4 == 0 && olen <= 40);
	b_be16(b, sp);
	b_be16(b, dp);
	b_be32(b, seq);
	b_be32(b, ack);
	b_u8(b, (unsigned)((20 + olen) / 4) << 4 | (flags >> 8 & 1));
	b_u8(b, flags & 0xff);
	b_be16(b, 1000);                /* window */
	b_be16(b, 0);                   /* checksum */
	b_be16(b, 0);                   /* urgent */
	if (olen)
		b_bytes(b, opt, olen);
}

static void b_udp(struct bld *b, uint16_t sp, uint16_t dp)
{
	b_fix(b, FIX_UDP);
	b_be16(b, sp);
	b_be16(b, dp);
	b_be16(b, 0);
	b_be16(b, 0);
}

static void b_vxlan(struct bld *b, uint32_t vni)
{
	b_u8(b, 0x08);                  /* I flag */
	b_u8(b, 0);
	b_be16(b, 0);
	b_be32(b, vni << 8);
}

static void b_str(struct bld *b, const char *s)
{
	b_bytes(b, s, strlen(s));
}

/* Fill IP and UDP lengths: every layer ends where the buffer ends. */
static void b_fin(struct bld *b)
{
	for (int i = 0; i < b->nfix; i++) {
		size_t o = b->fix_off[i], len = b->n - o;
		switch (b->fix_kind[i]) {
		case FIX_IP4:
			b->b[o + 2] = (uint8_t)(len >> 8);
			b->b[o + 3] = (uint8_t)len;
			break;
		case FIX_IP6:
			b->b[o + 4] = (uint8_t)((len - 40) >> 8);
			b->b[o + 5] = (uint8_t)(len - 40);
			break;
		case FIX_UDP:
			b->b[o + 4] = (uint8_t)(len >> 8);
			b->b[o + 5] = (uint8_t)len;
			break;
		}
	}
}

#define IP4(a, b_, c, d) ((uint32_t)(a) << 24 | (uint32_t)(b_) << 16 | (uint32_t)(c) << 8 | (d))

static int dec(const uint8_t *p, size_t n, int lt, bool decap, struct tw_pkt *out)
{
	struct tw_decode_cfg cfg;

	tw_decode_cfg_init(&cfg);
	cfg.decap = decap;
	return tw_pkt_decode(&cfg, lt, p, n, n, out);
}

static int decb(const struct bld *b, int lt, bool decap, struct tw_pkt *out)
{
	return dec(b->b, b->n, lt, decap, out);
}

static const uint8_t v4a[4] = {10, 0, 0, 1}, v4b[4] = {10, 0, 0, 2};

/* Inner TCP packet used in many tests: 10.0.0.1:40000 -> 10.0.0.2:80, "hello". */
static void b_inner_tcp4(struct bld *b)
{
	b_ip4(b, 6, IP4(10, 0, 0, 1), IP4(10, 0, 0, 2));
	b_tcp(b, 40000, 80, 1000, 2000, TW_TH_PSH | TW_TH_ACK, NULL, 0);
	b_str(b, "hello");
}

static void check_inner_tcp4(const struct tw_pkt *p)
{
	assert_int_equal(p->ipver, 4);
	assert_memory_equal(p->src, v4a, 4);
	assert_memory_equal(p->dst, v4b, 4);
	assert_int_equal(p->proto, 6);
	assert_int_equal(p->sport, 40000);
	assert_int_equal(p->dport, 80);
	assert_int_equal(p->seq, 1000);
	assert_int_equal(p->ack, 2000);
	assert_int_equal(p->flags, TW_TH_PSH | TW_TH_ACK);
	assert_int_equal(p->payload_len, 5);
	assert_int_equal(p->payload_caplen, 5);
	assert_memory_equal(p->payload, "hello", 5);
	assert_false(p->truncated);
}

/* ---- plain Ethernet / IPv4 / TCP, written out by hand ------------------ */

static const uint8_t vxlan_frame[] = {
	/* outer Ethernet */
	0x02, 0x00, 0x00, 0x00, 0x00, 0x02,     /* dst */
	0x02, 0x00, 0x00, 0x00, 0x00, 0x01,     /* src */
	0x08, 0x00,                             /* IPv4 */
	/* outer IPv4 @14 */
	0x45, 0x00, 0x00, 0x5f,                 /* v4 IHL 5, tos 0, tot 95 */
	0x12, 0x34, 0x40, 0x00,                 /* id 0x1234, DF */
	0x40, 0x11, 0xa5, 0x06,                 /* ttl 64, UDP, csum */
	0xc0, 0xa8, 0x01, 0x01,                 /* 192.168.1.1 */
	0xc0, 0xa8, 0x01, 0x02,                 /* 192.168.1.2 */
	/* UDP @34 */
	0xc0, 0x00, 0x12, 0xb5,                 /* 49152 -> 4789 */
	0x00, 0x4b, 0x41, 0x35,                 /* len 75, csum */
	/* VXLAN @42 */
	0x08, 0x00, 0x00, 0x00,                 /* flags I, reserved */
	0x12, 0x34, 0x56, 0x00,                 /* VNI 0x123456, reserved */
	/* inner Ethernet @50 */
	0x02, 0x00, 0x00, 0x00, 0x00, 0x04,
	0x02, 0x00, 0x00, 0x00, 0x00, 0x03,
	0x08, 0x00,
	/* inner IPv4 @64 */
	0x45, 0x10, 0x00, 0x2d,                 /* tos 0x10, tot 45 */
	0x43, 0x21, 0x00, 0x00,                 /* id 0x4321, no flags */
	0x3f, 0x06, 0x24, 0x98,                 /* ttl 63, TCP */
	0x0a, 0x00, 0x00, 0x01,                 /* 10.0.0.1 */
	0x0a, 0x00, 0x00, 0x02,                 /* 10.0.0.2 */
	/* TCP @84 */
	0x9c, 0x40, 0x00, 0x50,                 /* 40000 -> 80 */
	0x01, 0x02, 0x03, 0x04,                 /* seq */
	0x05, 0x06, 0x07, 0x08,                 /* ack */
	0x50, 0x18, 0x01, 0xf6,                 /* doff 5, PSH|ACK, win 502 */
	0xa9, 0x58, 0x00, 0x00,                 /* csum, urg */
	/* payload @104 */
	'h', 'e', 'l', 'l', 'o',
};

static void test_eth_ipv4_tcp(void **state)
{
	struct tw_pkt p;
	const uint8_t *f = vxlan_frame + 50;    /* the inner frame alone */
	size_t n = sizeof(vxlan_frame) - 50;

	(void)state;
	assert_int_equal(dec(f, n, TW_LT_EN10MB, false, &p), 0);
	assert_int_equal(p.linktype, TW_LT_EN10MB);
	assert_int_equal(p.ethertype, 0x0800);
	assert_int_equal(p.nvlan, 0);
	assert_ptr_equal(p.l3, f + 14);
	assert_int_equal(p.l3_caplen, 45);
	assert_int_equal(p.ip_len, 45);
	assert_int_equal(p.ip_hlen, 20);
	assert_int_equal(p.tos, 0x10);
	assert_int_equal(p.ttl, 63);
	assert_int_equal(p.ip_id, 0x4321);
	assert_false(p.df);
	assert_false(p.frag);
	assert_ptr_equal(p.l4, f + 34);
	assert_int_equal(p.l4_len, 25);
	assert_int_equal(p.l4_caplen, 25);
	assert_int_equal(p.seq, 0x01020304);
	assert_int_equal(p.ack, 0x05060708);
	assert_int_equal(p.flags, TW_TH_PSH | TW_TH_ACK);
	assert_int_equal(p.win, 502);
	assert_int_equal(p.urp, 0);
	assert_int_equal(p.th_len, 20);
	assert_null(p.tcp_opt);
	assert_int_equal(p.tcp_opt_len, 0);
	assert_ptr_equal(p.payload, f + 54);
	assert_int_equal(p.payload_len, 5);
	assert_false(p.truncated);
	assert_int_equal(p.tun.encap, TW_ENCAP_NONE);
	assert_int_equal(p.tun.depth, 0);
}

static void test_vxlan(void **state)
{
	static const uint8_t outer_src[4] = {192, 168, 1, 1}, outer_dst[4] = {192, 168, 1, 2};
	struct tw_pkt p;

	(void)state;
	/* Without decap: the outer UDP packet, tunnel described. */
	assert_int_equal(dec(vxlan_frame, sizeof(vxlan_frame), TW_LT_EN10MB, false, &p), 0);
	assert_int_equal(p.proto, 17);
	assert_int_equal(p.sport, 49152);
	assert_int_equal(p.dport, 4789);
	assert_int_equal(p.udp_len, 75);
	assert_int_equal(p.payload_len, 67);
	assert_memory_equal(p.src, outer_src, 4);
	assert_true(p.df);
	assert_int_equal(p.tun.encap, TW_ENCAP_VXLAN);
	assert_int_equal(p.tun.depth, 1);
	assert_int_equal(p.tun.ipver, 4);
	assert_memory_equal(p.tun.src, outer_src, 4);
	assert_memory_equal(p.tun.dst, outer_dst, 4);
	assert_int_equal(p.tun.sport, 49152);
	assert_int_equal(p.tun.dport, 4789);
	assert_true(p.tun.has_vni);
	assert_int_equal(p.tun.vni, 0x123456);
	assert_int_equal(p.tun.vxlan_flags, 0x08);
	assert_ptr_equal(p.tun.inner, vxlan_frame + 50);
	assert_int_equal(p.tun.inner_len, 59);
	assert_int_equal(p.tun.inner_linktype, TW_LT_EN10MB);
	assert_ptr_equal(p.tun.hdr, vxlan_frame + 42);
	assert_int_equal(p.tun.hdr_len, 8);
	assert_false(p.tun.inner_trunc);

	/* With decap: the inner TCP packet, same tunnel description. */
	assert_int_equal(dec(vxlan_frame, sizeof(vxlan_frame), TW_LT_EN10MB, true, &p), 0);
	assert_int_equal(p.proto, 6);
	assert_int_equal(p.sport, 40000);
	assert_int_equal(p.dport, 80);
	assert_int_equal(p.seq, 0x01020304);
	assert_int_equal(p.ttl, 63);
	assert_ptr_equal(p.l3, vxlan_frame + 64);
	assert_ptr_equal(p.payload, vxlan_frame + 104);
	assert_false(p.truncated);
	assert_int_equal(p.linktype, TW_LT_EN10MB);
	assert_int_equal(p.tun.encap, TW_ENCAP_VXLAN);
	assert_int_equal(p.tun.vni, 0x123456);
	assert_memory_equal(p.tun.src, outer_src, 4);
	assert_ptr_equal(p.tun.inner, vxlan_frame + 50);

	/* VXLAN off, or on another port: plain UDP. */
	{
		struct tw_decode_cfg cfg;
		tw_decode_cfg_init(&cfg);
		cfg.decap = true;
		cfg.vxlan_port = 0;
		assert_int_equal(tw_pkt_decode(&cfg, TW_LT_EN10MB, vxlan_frame, sizeof(vxlan_frame),
					       sizeof(vxlan_frame), &p), 0);
		assert_int_equal(p.tun.encap, TW_ENCAP_NONE);
		assert_int_equal(p.dport, 4789);
		cfg.vxlan_port = 8472;
		assert_int_equal(tw_pkt_decode(&cfg, TW_LT_EN10MB, vxlan_frame, sizeof(vxlan_frame),
					       sizeof(vxlan_frame), &p), 0);
		assert_int_equal(p.tun.encap, TW_ENCAP_NONE);
	}
}

/* VXLAN without the I flag: tunnel decoded, VNI not claimed valid. */
static void test_vxlan_noflag(void **state)
{
	uint8_t f[sizeof(vxlan_frame)];
	struct tw_pkt p;

	(void)state;
	memcpy(f, vxlan_frame, sizeof(f));
	f[42] = 0x00;
	assert_int_equal(dec(f, sizeof(f), TW_LT_EN10MB, true, &p), 0);
	assert_int_equal(p.tun.encap, TW_ENCAP_VXLAN);
	assert_false(p.tun.has_vni);
	assert_int_equal(p.tun.vxlan_flags, 0);
	assert_int_equal(p.dport, 80);
}

/* ---- TCP options -------------------------------------------------------- */

static void test_tcp_syn_options(void **state)
{
	static const uint8_t opt[20] = {
		0x02, 0x04, 0x05, 0xb4,                         /* MSS 1460 */
		0x04, 0x02,                                     /* SACK permitted */
		0x08, 0x0a, 0x00, 0x00, 0x30, 0x39,             /* TS val 12345 */
		0x00, 0x00, 0x00, 0x00,                         /*    ecr 0 */
		0x01,                                           /* NOP */
		0x03, 0x03, 0x07,                               /* window scale 7 */
	};
	struct bld b = {0};
	struct tw_pkt p;

	(void)state;
	b_eth(&b, 0x0800);
	b_ip4(&b, 6, IP4(10, 0, 0, 1), IP4(10, 0, 0, 2));
	b_tcp(&b, 1234, 80, 7, 0, TW_TH_SYN | TW_TH_ECE | TW_TH_CWR | TW_TH_AE, opt, sizeof(opt));
	b_fin(&b);
	assert_int_equal(decb(&b, TW_LT_EN10MB, false, &p), 0);
	assert_int_equal(p.flags, TW_TH_SYN | TW_TH_ECE | TW_TH_CWR | TW_TH_AE);
	assert_int_equal(p.th_len, 40);
	assert_int_equal(p.tcp_opt_len, 20);
	assert_ptr_equal(p.tcp_opt, b.b + 14 + 20 + 20);
	assert_memory_equal(p.tcp_opt, opt, 20);
	assert_true(p.opts.has_mss);
	assert_int_equal(p.opts.mss, 1460);
	assert_true(p.opts.sack_ok);
	assert_true(p.opts.has_ts);
	assert_int_equal(p.opts.ts_val, 12345);
	assert_int_equal(p.opts.ts_ecr, 0);
	assert_true(p.opts.has_wscale);
	assert_int_equal(p.opts.wscale, 7);
	assert_int_equal(p.opts.nsack, 0);
	assert_int_equal(p.payload_len, 0);
	assert_int_equal(p.payload_caplen, 0);
}

static void test_tcp_sack_options(void **state)
{
	static const uint8_t opt[32] = {
		0x01, 0x01,                                     /* NOP NOP */
		0x08, 0x0a, 0xde, 0xad, 0xbe, 0xef,             /* TS val */
		0x01, 0x02, 0x03, 0x04,                         /*    ecr */
		0x01, 0x01,                                     /* NOP NOP */
		0x05, 0x12,                                     /* SACK, 2 blocks */
		0x00, 0x00, 0x10, 0x00, 0x00, 0x00, 0x20, 0x00, /* 4096-8192 */
		0xff, 0xff, 0xff, 0x00, 0x00, 0x00, 0x00, 0x10, /* wraps */
	};
	struct tw_tcp_opts o;

	(void)state;
	assert_int_equal(tw_tcp_opts_parse(opt, sizeof(opt), &o), 0);
	assert_true(o.has_ts);
	assert_int_equal(o.ts_val, 0xdeadbeef);
	assert_int_equal(o.ts_ecr, 0x01020304);
	assert_int_equal(o.nsack, 2);
	assert_int_equal(o.sack[0][0], 4096);
	assert_int_equal(o.sack[0][1], 8192);
	assert_int_equal(o.sack[1][0], 0xffffff00);
	assert_int_equal(o.sack[1][1], 0x10);
	assert_false(o.has_mss);
	assert_false(o.sack_ok);

	/* Four blocks, the most that fits in 40 bytes. */
	{
		uint8_t s4[36] = {0x01, 0x01, 0x05, 0x22};
		for (int i = 0; i < 32; i++)
			s4[4 + i] = (uint8_t)i;
		assert_int_equal(tw_tcp_opts_parse(s4, sizeof(s4), &o), 0);
		assert_int_equal(o.nsack, 4);
		assert_int_equal(o.sack[3][1], 0x1c1d1e1f);
	}
	/* Five blocks (only possible outside a real header): four kept. */
	{
		uint8_t s5[42] = {0x05, 42};
		for (int i = 0; i < 40; i++)
			s5[2 + i] = (uint8_t)i;
		assert_int_equal(tw_tcp_opts_parse(s5, sizeof(s5), &o), 0);
		assert_int_equal(o.nsack, 4);
		assert_int_equal(o.sack[0][0], 0x00010203);
		assert_int_equal(o.sack[3][1], 0x1c1d1e1f);
	}
}

static void test_tcp_options_bad(void **state)
{
	struct tw_tcp_opts o;
	/* MSS, then EOL: what follows EOL is ignored. */
	static const uint8_t eol[8] = {0x02, 0x04, 0x00, 0x10, 0x00, 0xff, 0xff, 0xff};
	/* MSS, then a timestamp whose length runs past the end. */
	static const uint8_t past[8] = {0x02, 0x04, 0x01, 0x00, 0x08, 0x0a, 0x00, 0x00};
	/* length byte missing */
	static const uint8_t nolen[5] = {0x03, 0x03, 0x05, 0x01, 0x02};
	/* length 0 and 1 (would loop forever if trusted) */
	static const uint8_t zero[4] = {0x03, 0x03, 0x02, 0x22, }, z0[4] = {0x1e, 0x00, 0, 0},
			     z1[4] = {0x1e, 0x01, 0, 0};
	/* MSS with length 3 */
	static const uint8_t mss3[4] = {0x02, 0x03, 0x05, 0x01};
	/* timestamp with length 12 */
	static const uint8_t ts12[12] = {0x08, 0x0c, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0};
	/* unknown kind 30 (MPTCP), length 4, then window scale */
	static const uint8_t unk[8] = {0x1e, 0x04, 0xaa, 0xbb, 0x03, 0x03, 0x09, 0x00};

	(void)state;
	assert_int_equal(tw_tcp_opts_parse(eol, sizeof(eol), &o), 0);
	assert_true(o.has_mss);
	assert_int_equal(o.mss, 16);

	assert_int_equal(tw_tcp_opts_parse(past, sizeof(past), &o), -TW_EMALFORMED);
	assert_true(o.has_mss);
	assert_int_equal(o.mss, 256);
	assert_false(o.has_ts);

	assert_int_equal(tw_tcp_opts_parse(nolen, sizeof(nolen), &o), -TW_EMALFORMED);
	assert_true(o.has_wscale);
	assert_int_equal(o.wscale, 5);

	assert_int_equal(tw_tcp_opts_parse(zero, sizeof(zero), &o), -TW_EMALFORMED);
	assert_int_equal(tw_tcp_opts_parse(z0, sizeof(z0), &o), -TW_EMALFORMED);
	assert_int_equal(tw_tcp_opts_parse(z1, sizeof(z1), &o), -TW_EMALFORMED);
	assert_int_equal(tw_tcp_opts_parse(mss3, sizeof(mss3), &o), -TW_EMALFORMED);
	assert_int_equal(tw_tcp_opts_parse(ts12, sizeof(ts12), &o), -TW_EMALFORMED);
	assert_false(o.has_ts);
	assert_false(o.has_mss);

	assert_int_equal(tw_tcp_opts_parse(unk, sizeof(unk), &o), 0);
	assert_true(o.has_wscale);
	assert_int_equal(o.wscale, 9);

	assert_int_equal(tw_tcp_opts_parse(NULL, 0, &o), 0);
	assert_false(o.has_wscale);

	/* A packet whose options are bad is still decoded. */
	{
		/* NOP, then a timestamp of length 10 in 3 bytes */
		static const uint8_t bad2[4] = {0x01, 0x08, 0x0a, 0x00};
		struct bld b = {0};
		struct tw_pkt p;

		b_ip4(&b, 6, IP4(10, 0, 0, 1), IP4(10, 0, 0, 2));
		b_tcp(&b, 1, 2, 3, 4, TW_TH_ACK, bad2, sizeof(bad2));
		b_fin(&b);
		assert_int_equal(decb(&b, TW_LT_RAW, false, &p), 0);
		assert_int_equal(p.th_len, 24);
		assert_false(p.opts.has_ts);
	}
}

/* ---- link types -------------------------------------------------------- */

/* Prefix LINK (n bytes) to a raw IPv4 or IPv6 TCP packet and decode it. */
static int dec_link(int lt, const uint8_t *link, size_t n, bool v6, struct tw_pkt *p,
		    uint8_t *buf)
{
	struct bld b = {0};

	if (v6)
		b_ip6(&b, 6, 1, 2);
	else
		b_ip4(&b, 6, IP4(10, 0, 0, 1), IP4(10, 0, 0, 2));
	b_tcp(&b, 40000, 80, 1000, 2000, TW_TH_PSH | TW_TH_ACK, NULL, 0);
	b_str(&b, "hello");
	b_fin(&b);
	if (n)
		memcpy(buf, link, n);
	memcpy(buf + n, b.b, b.n);
	return dec(buf, n + b.n, lt, false, p);
}

static void test_link_types(void **state)
{
	static const uint8_t sll[16] = {
		0x00, 0x04,                                     /* outgoing */
		0x00, 0x01,                                     /* ARPHRD_ETHER */
		0x00, 0x06,                                     /* address length */
		0x02, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, /* address */
		0x08, 0x00,                                     /* IPv4 */
	};
	static const uint8_t sll2[20] = {
		0x86, 0xdd, 0x00, 0x00,                         /* IPv6, reserved */
		0x00, 0x00, 0x00, 0x07,                         /* ifindex 7 */
		0x00, 0x01, 0x00, 0x06,                         /* ARPHRD, host, alen */
		0x02, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00,
	};
	static const uint8_t null_le4[4] = {2, 0, 0, 0}, null_be4[4] = {0, 0, 0, 2};
	static const uint8_t null_le24[4] = {24, 0, 0, 0}, null_be28[4] = {0, 0, 0, 28},
			     null_le30[4] = {30, 0, 0, 0}, null_bad[4] = {7, 0, 0, 0};
	static const uint8_t loop4[4] = {0, 0, 0, 2}, loop6[4] = {0, 0, 0, 30},
			     loop_le[4] = {2, 0, 0, 0};
	uint8_t buf[256];
	struct tw_pkt p;

	(void)state;
	assert_int_equal(dec_link(TW_LT_SLL, sll, sizeof(sll), false, &p, buf), 0);
	assert_int_equal(p.sll_pkttype, 4);
	assert_int_equal(p.ethertype, 0x0800);
	assert_ptr_equal(p.l3, buf + 16);
	check_inner_tcp4(&p);

	assert_int_equal(dec_link(TW_LT_SLL2, sll2, sizeof(sll2), true, &p, buf), 0);
	assert_int_equal(p.sll_ifindex, 7);
	assert_int_equal(p.sll_pkttype, 0);
	assert_int_equal(p.ipver, 6);
	assert_int_equal(p.tos, 0x28);
	assert_int_equal(p.ip_hlen, 40);
	assert_int_equal(p.ip_len, 40 + 25);
	assert_int_equal(p.dst[15], 2);
	assert_int_equal(p.dport, 80);
	assert_ptr_equal(p.l3, buf + 20);

	for (int i = 0; i < 4; i++) {
		static const int raw[4] = {TW_LT_RAW, 12, 14, TW_LT_IPV4};
		assert_int_equal(dec_link(raw[i], NULL, 0, false, &p, buf), 0);
		assert_ptr_equal(p.l3, buf);
		assert_int_equal(p.ethertype, 0x0800);
		check_inner_tcp4(&p);
	}
	assert_int_equal(dec_link(TW_LT_RAW, NULL, 0, true, &p, buf), 0);
	assert_int_equal(p.ipver, 6);
	assert_int_equal(p.ethertype, 0x86dd);
	assert_int_equal(dec_link(TW_LT_IPV6, NULL, 0, true, &p, buf), 0);
	assert_int_equal(p.ipver, 6);
	/* The IPv4/IPv6 link types insist on their version. */
	assert_int_equal(dec_link(TW_LT_IPV6, NULL, 0, false, &p, buf), -TW_EMALFORMED);
	assert_int_equal(dec_link(TW_LT_IPV4, NULL, 0, true, &p, buf), -TW_EMALFORMED);

	assert_int_equal(dec_link(TW_LT_NULL, null_le4, 4, false, &p, buf), 0);
	assert_ptr_equal(p.l3, buf + 4);
	check_inner_tcp4(&p);
	assert_int_equal(dec_link(TW_LT_NULL, null_be4, 4, false, &p, buf), 0);
	check_inner_tcp4(&p);
	assert_int_equal(dec_link(TW_LT_NULL, null_le24, 4, true, &p, buf), 0);
	assert_int_equal(p.ipver, 6);
	assert_int_equal(dec_link(TW_LT_NULL, null_be28, 4, true, &p, buf), 0);
	assert_int_equal(p.ipver, 6);
	assert_int_equal(dec_link(TW_LT_NULL, null_le30, 4, true, &p, buf), 0);
	assert_int_equal(p.ipver, 6);
	assert_int_equal(dec_link(TW_LT_NULL, null_bad, 4, false, &p, buf), -TW_ENOTIP);
	/* NULL says IPv4, the packet is IPv6 */
	assert_int_equal(dec_link(TW_LT_NULL, null_le4, 4, true, &p, buf), -TW_EMALFORMED);

	assert_int_equal(dec_link(TW_LT_LOOP, loop4, 4, false, &p, buf), 0);
	check_inner_tcp4(&p);
	assert_int_equal(dec_link(TW_LT_LOOP, loop6, 4, true, &p, buf), 0);
	assert_int_equal(p.ipver, 6);
	/* LOOP is network order only */
	assert_int_equal(dec_link(TW_LT_LOOP, loop_le, 4, false, &p, buf), -TW_ENOTIP);

	/* unknown link types */
	assert_int_equal(dec_link(9999, NULL, 0, false, &p, buf), -TW_ELINKTYPE);
	assert_int_equal(p.linktype, 9999);
	assert_null(p.l3);
	assert_int_equal(dec_link(105, NULL, 0, false, &p, buf), -TW_ELINKTYPE);
	/* empty and short link headers */
	assert_int_equal(dec(buf, 0, TW_LT_EN10MB, false, &p), -TW_ETRUNC);
	assert_int_equal(dec(buf, 13, TW_LT_EN10MB, false, &p), -TW_ETRUNC);
	assert_int_equal(dec(buf, 15, TW_LT_SLL, false, &p), -TW_ETRUNC);
	assert_int_equal(dec(buf, 19, TW_LT_SLL2, false, &p), -TW_ETRUNC);
	assert_int_equal(dec(buf, 3, TW_LT_NULL, false, &p), -TW_ETRUNC);
	assert_int_equal(dec(buf, 0, TW_LT_RAW, false, &p), -TW_ETRUNC);
	assert_int_equal(dec(NULL, 0, TW_LT_RAW, false, &p), -TW_ETRUNC);
}

static void test_vlan(void **state)
{
	struct bld b;
	struct tw_pkt p;

	(void)state;
	/* single 802.1Q tag: PCP 5, VID 100 */
	b = (struct bld){0};
	b_eth(&b, 0x8100);
	b_vlan(&b, 0xa064, 0x0800);
	b_inner_tcp4(&b);
	b_fin(&b);
	assert_int_equal(decb(&b, TW_LT_EN10MB, false, &p), 0);
	assert_int_equal(p.nvlan, 1);
	assert_int_equal(p.vlan[0], 0xa064);
	assert_int_equal(p.ethertype, 0x0800);
	assert_ptr_equal(p.l3, b.b + 18);
	check_inner_tcp4(&p);

	/* QinQ: 802.1ad outer (VID 10), 802.1Q inner (VID 20), IPv6 */
	b = (struct bld){0};
	b_eth(&b, 0x88a8);
	b_vlan(&b, 10, 0x8100);
	b_vlan(&b, 20, 0x86dd);
	b_ip6(&b, 17, 1, 2);
	b_udp(&b, 53, 5353);
	b_str(&b, "dns");
	b_fin(&b);
	assert_int_equal(decb(&b, TW_LT_EN10MB, false, &p), 0);
	assert_int_equal(p.nvlan, 2);
	assert_int_equal(p.vlan[0], 10);
	assert_int_equal(p.vlan[1], 20);
	assert_int_equal(p.ethertype, 0x86dd);
	assert_int_equal(p.udp_len, 11);
	assert_int_equal(p.payload_len, 3);

	/* three tags incl. the old 0x9100: counted, first two kept */
	b = (struct bld){0};
	b_eth(&b, 0x9100);
	b_vlan(&b, 1, 0x88a8);
	b_vlan(&b, 2, 0x8100);
	b_vlan(&b, 3, 0x0800);
	b_inner_tcp4(&b);
	b_fin(&b);
	assert_int_equal(decb(&b, TW_LT_EN10MB, false, &p), 0);
	assert_int_equal(p.nvlan, 3);
	assert_int_equal(p.vlan[0], 1);
	assert_int_equal(p.vlan[1], 2);
	assert_ptr_equal(p.l3, b.b + 26);
	check_inner_tcp4(&p);

	/* a tag cut short */
	assert_int_equal(dec(b.b, 16, TW_LT_EN10MB, false, &p), -TW_ETRUNC);

	/* VLAN inside SLL (libpcap re-inserts stripped tags) */
	{
		uint8_t f[128] = {0, 0, 0, 1, 0, 6, 2, 0, 0, 0, 0, 1, 0, 0, 0x81, 0x00, 0x00, 0x05};
		memcpy(f + 18, b.b + 24, b.n - 24);     /* type 0x0800 + IP */
		assert_int_equal(dec(f, 18 + b.n - 24, TW_LT_SLL, false, &p), 0);
		assert_int_equal(p.nvlan, 1);
		assert_int_equal(p.vlan[0], 5);
		check_inner_tcp4(&p);
	}
}

static void test_not_ip(void **state)
{
	static const uint8_t arp[42] = {
		0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02, 0x00, 0x00, 0x00, 0x00, 0x01,
		0x08, 0x06,                             /* ARP */
		0x00, 0x01, 0x08, 0x00, 0x06, 0x04, 0x00, 0x01, /* request */
		0x02, 0x00, 0x00, 0x00, 0x00, 0x01, 10, 0, 0, 1,
		0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 10, 0, 0, 2,
	};
	uint8_t llc[20] = {0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 2, 0x00, 0x26, 0x42, 0x42, 0x03};
	uint8_t v5[60];
	struct tw_pkt p;

	(void)state;
	assert_int_equal(dec(arp, sizeof(arp), TW_LT_EN10MB, false, &p), -TW_ENOTIP);
	assert_int_equal(p.ethertype, 0x0806);
	assert_null(p.l3);
	assert_int_equal(dec(llc, sizeof(llc), TW_LT_EN10MB, false, &p), -TW_ENOTIP);
	/* VLAN-tagged ARP */
	{
		uint8_t t[46];
		memcpy(t, arp, 12);
		t[12] = 0x81, t[13] = 0x00, t[14] = 0x00, t[15] = 0x07;
		memcpy(t + 16, arp + 12, 30);
		assert_int_equal(dec(t, sizeof(t), TW_LT_EN10MB, false, &p), -TW_ENOTIP);
		assert_int_equal(p.nvlan, 1);
	}
	/* Ethernet says IPv4, version nibble says 5 */
	memset(v5, 0, sizeof(v5));
	v5[12] = 0x08;
	v5[14] = 0x55;
	assert_int_equal(dec(v5, sizeof(v5), TW_LT_EN10MB, false, &p), -TW_EMALFORMED);
}

/* ---- IP ---------------------------------------------------------------- */

static void test_ipv4_options(void **state)
{
	static const uint8_t pkt[] = {
		0x47, 0x00, 0x00, 0x30,                 /* IHL 7 (28 bytes), tot 48 */
		0x00, 0x01, 0x00, 0x00, 0x40, 0x06, 0x00, 0x00,
		10, 0, 0, 1, 10, 0, 0, 2,
		0x94, 0x04, 0x00, 0x00,                 /* Router Alert */
		0x01, 0x01, 0x01, 0x00,                 /* NOP NOP NOP EOL */
		0x9c, 0x40, 0x00, 0x50,                 /* TCP 40000 -> 80 @28 */
		0x00, 0x00, 0x03, 0xe8, 0x00, 0x00, 0x07, 0xd0,
		0x50, 0x18, 0x03, 0xe8, 0x00, 0x00, 0x00, 0x00,
	};
	uint8_t f[sizeof(pkt)];
	struct tw_pkt p;

	(void)state;
	assert_int_equal(dec(pkt, sizeof(pkt), TW_LT_RAW, false, &p), 0);
	assert_int_equal(p.ip_hlen, 28);
	assert_ptr_equal(p.l4, pkt + 28);
	assert_int_equal(p.sport, 40000);
	assert_int_equal(p.seq, 1000);
	assert_int_equal(p.ack, 2000);
	assert_int_equal(p.payload_len, 0);
	/* options cut short by the capture */
	assert_int_equal(dec(pkt, 24, TW_LT_RAW, false, &p), -TW_ETRUNC);
	/* IHL < 5 */
	memcpy(f, pkt, sizeof(f));
	f[0] = 0x44;
	assert_int_equal(dec(f, sizeof(f), TW_LT_RAW, false, &p), -TW_EMALFORMED);
	f[0] = 0x41;
	f[9] = 17;                              /* UDP would fit after 4 bytes */
	assert_int_equal(dec(f, sizeof(f), TW_LT_RAW, false, &p), -TW_EMALFORMED);
	f[0] = 0x40;
	assert_int_equal(dec(f, sizeof(f), TW_LT_RAW, false, &p), -TW_EMALFORMED);
	/* total length smaller than the header */
	memcpy(f, pkt, sizeof(f));
	f[3] = 24;
	assert_int_equal(dec(f, sizeof(f), TW_LT_RAW, false, &p), -TW_EMALFORMED);
	/* total length leaves no room for a TCP header */
	f[3] = 40;
	assert_int_equal(dec(f, sizeof(f), TW_LT_RAW, false, &p), -TW_EMALFORMED);
	/* TCP data offset < 5 */
	memcpy(f, pkt, sizeof(f));
	f[40] = 0x40;
	assert_int_equal(dec(f, sizeof(f), TW_LT_RAW, false, &p), -TW_EMALFORMED);
	/* TCP data offset beyond the IP length */
	f[40] = 0x60;
	assert_int_equal(dec(f, sizeof(f), TW_LT_RAW, false, &p), -TW_EMALFORMED);
}

static void test_ipv6_ext_headers(void **state)
{
	struct bld b = {0};
	struct tw_pkt p;
	size_t ext;

	(void)state;
	b_ip6(&b, 0, 1, 2);
	/* hop-by-hop: next routing, len 0 (8 bytes), PadN 4 */
	b_u8(&b, 43), b_u8(&b, 0), b_u8(&b, 1), b_u8(&b, 4), b_be32(&b, 0);
	/* routing: next dest opts, len 2 (24 bytes), type 4 (SRH) segs left 0 */
	b_u8(&b, 60), b_u8(&b, 2), b_u8(&b, 4), b_u8(&b, 0), b_be32(&b, 0);
	for (int i = 0; i < 4; i++)
		b_be32(&b, 0x20010db8);
	/* destination options: next AH, len 0 */
	b_u8(&b, 51), b_u8(&b, 0), b_u8(&b, 1), b_u8(&b, 4), b_be32(&b, 0);
	/* AH: next TCP, payload len 4 -> (4 + 2) * 4 = 24 bytes */
	b_u8(&b, 6), b_u8(&b, 4), b_be16(&b, 0), b_be32(&b, 0x100), b_be32(&b, 1);
	for (int i = 0; i < 3; i++)
		b_be32(&b, 0xabcdef00);
	ext = b.n - 40;
	assert_int_equal(ext, 64);
	b_tcp(&b, 40000, 443, 9, 10, TW_TH_ACK, NULL, 0);
	b_str(&b, "xyz");
	b_fin(&b);
	assert_int_equal(decb(&b, TW_LT_RAW, false, &p), 0);
	assert_int_equal(p.ipver, 6);
	assert_int_equal(p.ip_hlen, 40 + 64);
	assert_int_equal(p.proto, 6);
	assert_int_equal(p.ip_len, b.n);
	assert_ptr_equal(p.l4, b.b + 104);
	assert_int_equal(p.dport, 443);
	assert_int_equal(p.payload_len, 3);
	assert_false(p.frag);
	/* an extension header cut by the capture */
	assert_int_equal(dec(b.b, 70, TW_LT_RAW, false, &p), -TW_ETRUNC);
	/* an extension header longer than the payload length */
	b.b[5] = 60;
	assert_int_equal(decb(&b, TW_LT_RAW, false, &p), -TW_EMALFORMED);

	/* No next header (59): IP decoded, no L4 */
	b = (struct bld){0};
	b_ip6(&b, 59, 1, 2);
	b_fin(&b);
	assert_int_equal(decb(&b, TW_LT_RAW, false, &p), 0);
	assert_int_equal(p.proto, 59);
	assert_null(p.l4);
}

static void test_fragments(void **state)
{
	struct bld b = {0};
	struct tw_pkt p;

	(void)state;
	/* IPv4 first fragment: MF, offset 0 -> TCP present */
	b_ip4(&b, 6, IP4(10, 0, 0, 1), IP4(10, 0, 0, 2));
	b_tcp(&b, 40000, 80, 1000, 2000, TW_TH_PSH | TW_TH_ACK, NULL, 0);
	b_str(&b, "hello");
	b_fin(&b);
	b.b[6] = 0x20, b.b[7] = 0x00;
	assert_int_equal(decb(&b, TW_LT_RAW, false, &p), 0);
	assert_true(p.frag);
	assert_true(p.frag_first);
	assert_false(p.df);
	assert_int_equal(p.frag_off, 0);
	assert_non_null(p.l4);
	assert_int_equal(p.dport, 80);
	/* later fragment: offset 185 * 8 = 1480, last (MF clear), DF-less */
	b.b[6] = 0x00, b.b[7] = 185;
	assert_int_equal(decb(&b, TW_LT_RAW, false, &p), 0);
	assert_true(p.frag);
	assert_false(p.frag_first);
	assert_int_equal(p.frag_off, 1480);
	assert_null(p.l4);
	assert_null(p.payload);
	assert_int_equal(p.dport, 0);
	assert_int_equal(p.ip_id, 0x1234);

	/* IPv6 fragment header: id 0xcafe0042, offset 0, M */
	b = (struct bld){0};
	b_ip6(&b, 44, 1, 2);
	b_u8(&b, 6), b_u8(&b, 0), b_be16(&b, 0x0001), b_be32(&b, 0xcafe0042);
	b_tcp(&b, 40000, 80, 1000, 2000, TW_TH_PSH | TW_TH_ACK, NULL, 0);
	b_str(&b, "hello");
	b_fin(&b);
	assert_int_equal(decb(&b, TW_LT_RAW, false, &p), 0);
	assert_true(p.frag);
	assert_true(p.frag_first);
	assert_int_equal(p.ip_id, 0x0042);
	assert_int_equal(p.ip_hlen, 48);
	assert_int_equal(p.proto, 6);
	assert_int_equal(p.dport, 80);
	/* offset 1448 (0x5a8 = 181 * 8), last */
	b.b[42] = 0x05, b.b[43] = 0xa8;
	assert_int_equal(decb(&b, TW_LT_RAW, false, &p), 0);
	assert_true(p.frag);
	assert_false(p.frag_first);
	assert_int_equal(p.frag_off, 1448);
	assert_int_equal(p.proto, 6);
	assert_null(p.l4);
	/* later fragment whose next header is an extension header: not walked */
	b.b[40] = 60;
	assert_int_equal(decb(&b, TW_LT_RAW, false, &p), 0);
	assert_int_equal(p.proto, 60);
	assert_int_equal(p.ip_hlen, 48);
	assert_null(p.l4);
	b.b[40] = 6;
	/* atomic fragment (offset 0, M = 0): a whole packet */
	b.b[42] = 0, b.b[43] = 0;
	assert_int_equal(decb(&b, TW_LT_RAW, false, &p), 0);
	assert_false(p.frag);
	assert_non_null(p.l4);
}

static void test_udp(void **state)
{
	struct bld b = {0};
	struct tw_pkt p;

	(void)state;
	b_eth(&b, 0x0800);
	b_ip4(&b, 17, IP4(10, 0, 0, 1), IP4(10, 0, 0, 2));
	b_udp(&b, 5000, 53);
	b_str(&b, "query");
	b_fin(&b);
	assert_int_equal(decb(&b, TW_LT_EN10MB, false, &p), 0);
	assert_int_equal(p.proto, 17);
	assert_int_equal(p.sport, 5000);
	assert_int_equal(p.dport, 53);
	assert_int_equal(p.udp_len, 13);
	assert_int_equal(p.payload_len, 5);
	assert_ptr_equal(p.payload, b.b + 42);
	assert_memory_equal(p.payload, "query", 5);
	assert_int_equal(p.tun.encap, TW_ENCAP_NONE);
	/* UDP length 0 (GSO): the IP length rules */
	b.b[38] = 0, b.b[39] = 0;
	assert_int_equal(decb(&b, TW_LT_EN10MB, false, &p), 0);
	assert_int_equal(p.payload_len, 5);
	/* UDP length shorter than IP's: the datagram ends there */
	b.b[39] = 10;
	assert_int_equal(decb(&b, TW_LT_EN10MB, false, &p), 0);
	assert_int_equal(p.payload_len, 2);
	assert_int_equal(p.payload_caplen, 2);
	/* UDP header cut */
	assert_int_equal(dec(b.b, 40, TW_LT_EN10MB, false, &p), -TW_ETRUNC);
}

/* Ethernet padding: frame longer than the IP packet. */
static void test_padding_and_gro(void **state)
{
	struct bld b = {0};
	struct tw_pkt p;

	(void)state;
	b_eth(&b, 0x0800);
	b_ip4(&b, 6, IP4(10, 0, 0, 1), IP4(10, 0, 0, 2));
	b_tcp(&b, 40000, 80, 1000, 2000, TW_TH_ACK, NULL, 0);
	b_fin(&b);
	b_be32(&b, 0), b_be16(&b, 0);           /* 6 bytes of padding, not in IP */
	assert_int_equal(decb(&b, TW_LT_EN10MB, false, &p), 0);
	assert_int_equal(p.ip_len, 40);
	assert_int_equal(p.l3_caplen, 40);
	assert_int_equal(p.payload_len, 0);
	assert_int_equal(p.payload_caplen, 0);
	assert_false(p.truncated);

	/* GRO super-packet: tot_len 0 -> captured length */
	b = (struct bld){0};
	b_eth(&b, 0x0800);
	b_inner_tcp4(&b);
	b_fin(&b);
	b.b[16] = 0, b.b[17] = 0;
	assert_int_equal(decb(&b, TW_LT_EN10MB, false, &p), 0);
	assert_int_equal(p.ip_len, 45);
	check_inner_tcp4(&p);
	/* ... and cut by the snap length: truncated */
	{
		struct tw_decode_cfg cfg;
		tw_decode_cfg_init(&cfg);
		assert_int_equal(tw_pkt_decode(&cfg, TW_LT_EN10MB, b.b, b.n - 2, b.n, &p), 0);
		assert_true(p.truncated);
		assert_int_equal(p.ip_len, 45);
		assert_int_equal(p.l3_caplen, 43);
		assert_int_equal(p.payload_len, 5);
		assert_int_equal(p.payload_caplen, 3);
	}
	/* IPv6 payload length 0 */
	b = (struct bld){0};
	b_ip6(&b, 6, 1, 2);
	b_tcp(&b, 1, 2, 3, 4, TW_TH_ACK, NULL, 0);
	b_str(&b, "0123456789");
	b_fin(&b);
	b.b[4] = 0, b.b[5] = 0;
	assert_int_equal(decb(&b, TW_LT_RAW, false, &p), 0);
	assert_int_equal(p.ip_len, 70);
	assert_int_equal(p.payload_len, 10);
	assert_false(p.truncated);
}

static void test_truncated_plain(void **state)
{
	struct bld b = {0};
	struct tw_pkt p;
	struct tw_decode_cfg cfg;

	(void)state;
	tw_decode_cfg_init(&cfg);
	b_eth(&b, 0x0800);
	b_inner_tcp4(&b);
	b_fin(&b);
	/* snap length 56: headers whole, 2 of 5 payload bytes */
	assert_int_equal(tw_pkt_decode(&cfg, TW_LT_EN10MB, b.b, 56, b.n, &p), 0);
	assert_true(p.truncated);
	assert_int_equal(p.ip_len, 45);
	assert_int_equal(p.l3_caplen, 42);
	assert_int_equal(p.l4_len, 25);
	assert_int_equal(p.l4_caplen, 22);
	assert_int_equal(p.payload_len, 5);
	assert_int_equal(p.payload_caplen, 2);
	/* the same, wire length unknown (caplen passed twice) */
	assert_int_equal(tw_pkt_decode(&cfg, TW_LT_EN10MB, b.b, 56, 56, &p), 0);
	assert_true(p.truncated);
	/* TCP header cut, IP header cut */
	assert_int_equal(tw_pkt_decode(&cfg, TW_LT_EN10MB, b.b, 50, b.n, &p), -TW_ETRUNC);
	assert_int_equal(tw_pkt_decode(&cfg, TW_LT_EN10MB, b.b, 30, b.n, &p), -TW_ETRUNC);
	/* wire length > caplen but the cut is past the IP packet (FCS): whole */
	assert_int_equal(tw_pkt_decode(&cfg, TW_LT_EN10MB, b.b, b.n, b.n + 4, &p), 0);
	assert_false(p.truncated);
}

/* ---- tunnels ------------------------------------------------------------ */

/* Outer Ethernet + IPv4 192.168.1.1 -> 192.168.1.2 + UDP to DPORT. */
static void b_outer_udp(struct bld *b, uint16_t dport)
{
	b_eth(b, 0x0800);
	b_ip4(b, 17, IP4(192, 168, 1, 1), IP4(192, 168, 1, 2));
	b_udp(b, 33333, dport);
}

static void b_outer_gre(struct bld *b)
{
	b_eth(b, 0x0800);
	b_ip4(b, 47, IP4(192, 168, 1, 1), IP4(192, 168, 1, 2));
}

/* Decode with and without decap; check the inner TCP packet and return the
 * decap'd view in P. */
static void check_tunnel(const struct bld *b, enum tw_encap encap, int inner_lt,
			 size_t inner_off, struct tw_pkt *p)
{
	struct tw_pkt o;

	assert_int_equal(decb(b, TW_LT_EN10MB, false, &o), 0);
	assert_int_equal(o.tun.encap, encap);
	assert_int_equal(o.tun.inner_linktype, inner_lt);
	assert_ptr_equal(o.tun.inner, b->b + inner_off);
	assert_int_equal(o.tun.inner_len, b->n - inner_off);
	assert_int_equal(o.src[0], 192);
	assert_int_equal(o.tun.src[3], 1);
	assert_int_equal(o.tun.dst[3], 2);
	assert_false(o.tun.inner_trunc);
	assert_int_equal(decb(b, TW_LT_EN10MB, true, p), 0);
	assert_int_equal(p->tun.encap, encap);
	assert_memory_equal(&p->tun, &o.tun, sizeof(o.tun));
	assert_int_equal(p->linktype, inner_lt);
	check_inner_tcp4(p);
}

static void test_geneve(void **state)
{
	struct bld b = {0};
	struct tw_pkt p;
	size_t g;

	(void)state;
	/* AWS GWLB style: inner IPv4, class 0x0108 options */
	b_outer_udp(&b, 6081);
	g = b.n;
	b_u8(&b, 0x08);                 /* Ver 0, Opt Len 8 (32 bytes) */
	b_u8(&b, 0x00);                 /* O = 0, C = 0 */
	b_be16(&b, 0x0800);             /* inner IPv4 */
	b_be32(&b, 0x00abcd00);         /* VNI 0xabcd */
	b_be16(&b, 0x0108), b_u8(&b, 1), b_u8(&b, 2);   /* GWLB endpoint id, 8 bytes */
	b_be32(&b, 0x11111111), b_be32(&b, 0x22222222);
	b_be16(&b, 0x0108), b_u8(&b, 2), b_u8(&b, 2);   /* attachment id, 8 bytes */
	b_be32(&b, 0x33333333), b_be32(&b, 0x44444444);
	b_be16(&b, 0x0108), b_u8(&b, 3), b_u8(&b, 1);   /* flow cookie, 4 bytes */
	b_be32(&b, 0x55555555);
	assert_int_equal(b.n - g, 40);
	b_inner_tcp4(&b);
	b_fin(&b);
	check_tunnel(&b, TW_ENCAP_GENEVE, TW_LT_RAW, g + 40, &p);
	assert_true(p.tun.has_vni);
	assert_int_equal(p.tun.vni, 0xabcd);
	assert_int_equal(p.tun.dport, 6081);
	assert_int_equal(p.tun.sport, 33333);
	assert_int_equal(p.tun.hdr_len, 40);
	{
		struct tw_tun_hdr h;
		assert_int_equal(tw_tun_parse(TW_ENCAP_GENEVE, p.tun.hdr, p.tun.hdr_len, &h), 0);
		assert_int_equal(h.geneve_optlen, 32);
		assert_int_equal(h.proto, 0x0800);
		assert_false(h.geneve_critical);
		/* options cut short */
		assert_int_equal(tw_tun_parse(TW_ENCAP_GENEVE, p.tun.hdr, 39, &h), -TW_ETRUNC);
	}

	/* Geneve with inner Ethernet (0x6558), no options, critical bit */
	b = (struct bld){0};
	b_outer_udp(&b, 6081);
	g = b.n;
	b_u8(&b, 0x00), b_u8(&b, 0x40), b_be16(&b, 0x6558), b_be32(&b, 0x00000700);
	b_eth(&b, 0x0800);
	b_inner_tcp4(&b);
	b_fin(&b);
	check_tunnel(&b, TW_ENCAP_GENEVE, TW_LT_EN10MB, g + 8, &p);
	assert_int_equal(p.tun.vni, 7);
	/* Geneve version 1: with decap undecodable, without it plain UDP */
	b.b[g] = 0x40;
	assert_int_equal(decb(&b, TW_LT_EN10MB, true, &p), -TW_EENCAP);
	assert_int_equal(decb(&b, TW_LT_EN10MB, false, &p), 0);
	assert_int_equal(p.tun.encap, TW_ENCAP_NONE);
	assert_int_equal(p.dport, 6081);
	/* unknown protocol type */
	b.b[g] = 0x00, b.b[g + 2] = 0x88, b.b[g + 3] = 0x47;
	assert_int_equal(decb(&b, TW_LT_EN10MB, true, &p), -TW_EENCAP);
}

static void test_gre(void **state)
{
	struct bld b = {0};
	struct tw_pkt p;
	size_t g;

	(void)state;
	/* GRE with checksum, key and sequence, inner IPv4 */
	b_outer_gre(&b);
	g = b.n;
	b_be16(&b, 0xb000);             /* C K S, Ver 0 */
	b_be16(&b, 0x0800);
	b_be32(&b, 0xabcd0000);         /* checksum, reserved */
	b_be32(&b, 0xdeadbeef);         /* key */
	b_be32(&b, 42);                 /* sequence */
	b_inner_tcp4(&b);
	b_fin(&b);
	check_tunnel(&b, TW_ENCAP_GRE, TW_LT_RAW, g + 16, &p);
	assert_true(p.tun.has_vni);
	assert_int_equal(p.tun.vni, 0xdeadbeef);
	assert_int_equal(p.tun.sport, 0);
	assert_int_equal(p.tun.dport, 0);
	{
		struct tw_tun_hdr h;
		assert_int_equal(tw_tun_parse(TW_ENCAP_GRE, p.tun.hdr, p.tun.hdr_len, &h), 0);
		assert_true(h.has_seq);
		assert_int_equal(h.gre_seq, 42);
		assert_int_equal(h.gre_flags, 0xb000);
		assert_int_equal(h.hlen, 16);
	}
	/* Ver 1 (PPTP) rejected */
	b.b[g + 1] = 0x01;
	assert_int_equal(decb(&b, TW_LT_EN10MB, true, &p), -TW_EENCAP);
	assert_int_equal(decb(&b, TW_LT_EN10MB, false, &p), 0);
	assert_int_equal(p.proto, 47);
	assert_int_equal(p.tun.encap, TW_ENCAP_NONE);
	b.b[g + 1] = 0x00;
	/* GRE recognition off */
	{
		struct tw_decode_cfg cfg;
		tw_decode_cfg_init(&cfg);
		cfg.decap = true;
		cfg.gre = false;
		assert_int_equal(tw_pkt_decode(&cfg, TW_LT_EN10MB, b.b, b.n, b.n, &p), 0);
		assert_int_equal(p.tun.encap, TW_ENCAP_NONE);
		assert_int_equal(p.proto, 47);
		assert_null(p.l4);
	}

	/* GRE TEB (gretap): key only, inner Ethernet, inner IPv6 */
	b = (struct bld){0};
	b_outer_gre(&b);
	g = b.n;
	b_be16(&b, 0x2000), b_be16(&b, 0x6558), b_be32(&b, 7);
	b_eth(&b, 0x86dd);
	b_ip6(&b, 6, 1, 2);
	b_tcp(&b, 40000, 80, 1000, 2000, TW_TH_ACK, NULL, 0);
	b_fin(&b);
	assert_int_equal(decb(&b, TW_LT_EN10MB, true, &p), 0);
	assert_int_equal(p.tun.encap, TW_ENCAP_GRE);
	assert_int_equal(p.tun.inner_linktype, TW_LT_EN10MB);
	assert_ptr_equal(p.tun.inner, b.b + g + 8);
	assert_int_equal(p.tun.vni, 7);
	assert_int_equal(p.ipver, 6);
	assert_int_equal(p.ethertype, 0x86dd);
	assert_int_equal(p.dport, 80);
	/* unknown GRE protocol (PPP) */
	b.b[g + 2] = 0x88, b.b[g + 3] = 0x0b;
	assert_int_equal(decb(&b, TW_LT_EN10MB, true, &p), -TW_EENCAP);
}

static void test_erspan(void **state)
{
	struct bld b = {0};
	struct tw_pkt p;
	size_t g;

	(void)state;
	/* Type I: GRE S=0, 0x88BE, Ethernet right after GRE */
	b_outer_gre(&b);
	g = b.n;
	b_be16(&b, 0x0000), b_be16(&b, 0x88be);
	b_eth(&b, 0x0800);
	b_inner_tcp4(&b);
	b_fin(&b);
	check_tunnel(&b, TW_ENCAP_ERSPAN1, TW_LT_EN10MB, g + 4, &p);
	assert_false(p.tun.has_vni);

	/* Type II: GRE S=1, 8-byte header, session 0x155, VLAN 100, index 0x12345 */
	b = (struct bld){0};
	b_outer_gre(&b);
	g = b.n;
	b_be16(&b, 0x1000), b_be16(&b, 0x88be), b_be32(&b, 9);
	b_be16(&b, 0x1000 | 100);       /* Ver 1, VLAN 100 */
	b_be16(&b, 0x0155);             /* COS 0, En 0, T 0, session 0x155 */
	b_be32(&b, 0x00012345);         /* index */
	b_eth(&b, 0x0800);
	b_inner_tcp4(&b);
	b_fin(&b);
	check_tunnel(&b, TW_ENCAP_ERSPAN2, TW_LT_EN10MB, g + 16, &p);
	assert_true(p.tun.has_vni);
	assert_int_equal(p.tun.vni, 0x155);
	assert_false(p.tun.erspan_trunc);
	{
		struct tw_tun_hdr h;
		assert_int_equal(tw_tun_parse(TW_ENCAP_GRE, p.tun.hdr, p.tun.hdr_len, &h), 0);
		assert_int_equal(h.erspan_ver, 1);
		assert_int_equal(h.erspan_vlan, 100);
		assert_int_equal(h.erspan_index, 0x12345);
		assert_int_equal(h.gre_seq, 9);
	}
	/* T bit: the mirror truncated the frame -> inner truncated */
	b.b[g + 10] |= 0x04;
	assert_int_equal(decb(&b, TW_LT_EN10MB, true, &p), 0);
	assert_true(p.tun.erspan_trunc);
	assert_true(p.tun.inner_trunc);
	assert_true(p.truncated);
	assert_int_equal(p.dport, 80);
	assert_int_equal(decb(&b, TW_LT_EN10MB, false, &p), 0);
	assert_true(p.tun.inner_trunc);
	assert_false(p.truncated);      /* the outer packet is whole */
	/* ERSPAN version 2 under 0x88BE: not type II */
	b.b[g + 10] &= (uint8_t)~0x04;
	b.b[g + 8] = 0x20;
	assert_int_equal(decb(&b, TW_LT_EN10MB, true, &p), -TW_EENCAP);

	/* Type III, FT 0 (Ethernet), no platform bytes, egress */
	b = (struct bld){0};
	b_outer_gre(&b);
	g = b.n;
	b_be16(&b, 0x1000), b_be16(&b, 0x22eb), b_be32(&b, 1);
	b_be16(&b, 0x2000 | 5);         /* Ver 2, VLAN 5 */
	b_be16(&b, 0x03ff);             /* session 0x3ff */
	b_be32(&b, 0x01020304);         /* timestamp */
	b_be16(&b, 0);                  /* SGT */
	b_be16(&b, 0x0008);             /* P 0, FT 0, HwID 0, D 1, Gra 0, O 0 */
	b_eth(&b, 0x0800);
	b_inner_tcp4(&b);
	b_fin(&b);
	check_tunnel(&b, TW_ENCAP_ERSPAN3, TW_LT_EN10MB, g + 20, &p);
	assert_int_equal(p.tun.vni, 0x3ff);
	{
		struct tw_tun_hdr h;
		assert_int_equal(tw_tun_parse(TW_ENCAP_GRE, p.tun.hdr, p.tun.hdr_len, &h), 0);
		assert_int_equal(h.erspan_ver, 2);
		assert_true(h.erspan_egress);
		assert_int_equal(h.erspan_index, 0x01020304);
		assert_int_equal(h.erspan_vlan, 5);
	}

	/* Type III, FT 2 (IP), O = 1 (8 platform bytes), T set */
	b = (struct bld){0};
	b_outer_gre(&b);
	g = b.n;
	b_be16(&b, 0x1000), b_be16(&b, 0x22eb), b_be32(&b, 2);
	b_be16(&b, 0x2000), b_be16(&b, 0x0400 | 0x12), b_be32(&b, 0);
	b_be16(&b, 0), b_be16(&b, 2 << 10 | 1);
	b_be32(&b, 0xaaaaaaaa), b_be32(&b, 0xbbbbbbbb);   /* platform specific */
	b_inner_tcp4(&b);
	b_fin(&b);
	assert_int_equal(decb(&b, TW_LT_EN10MB, true, &p), 0);
	assert_int_equal(p.tun.encap, TW_ENCAP_ERSPAN3);
	assert_int_equal(p.tun.inner_linktype, TW_LT_RAW);
	assert_ptr_equal(p.tun.inner, b.b + g + 28);
	assert_int_equal(p.tun.vni, 0x12);
	assert_true(p.tun.erspan_trunc);
	assert_true(p.truncated);
	assert_int_equal(p.dport, 80);
	/* FT 1 is not something we decode */
	b.b[g + 18] = 1 << 2;
	assert_int_equal(decb(&b, TW_LT_EN10MB, true, &p), -TW_EENCAP);
}

/* Geneve (GWLB) wrapping an AWS VXLAN mirror packet: decap twice. */
static void test_nested(void **state)
{
	struct bld b = {0};
	struct tw_pkt p;
	size_t g;

	(void)state;
	b_outer_udp(&b, 6081);
	g = b.n;
	b_u8(&b, 0x01), b_u8(&b, 0), b_be16(&b, 0x6558), b_be32(&b, 0x00000100);
	b_be16(&b, 0x0108), b_u8(&b, 3), b_u8(&b, 0);   /* option: cookie, 0 bytes of data */
	b_eth(&b, 0x0800);
	b_ip4(&b, 17, IP4(172, 16, 0, 1), IP4(172, 16, 0, 2));
	b_udp(&b, 40001, 4789);
	b_vxlan(&b, 0x777);
	b_eth(&b, 0x0800);
	b_inner_tcp4(&b);
	b_fin(&b);

	assert_int_equal(decb(&b, TW_LT_EN10MB, false, &p), 0);
	assert_int_equal(p.dport, 6081);
	assert_int_equal(p.tun.encap, TW_ENCAP_GENEVE);
	assert_int_equal(p.tun.depth, 2);
	assert_int_equal(p.tun.vni, 1);
	assert_ptr_equal(p.tun.inner, b.b + g + 12);
	assert_int_equal(p.tun.inner_linktype, TW_LT_EN10MB);

	assert_int_equal(decb(&b, TW_LT_EN10MB, true, &p), 0);
	assert_int_equal(p.tun.encap, TW_ENCAP_GENEVE);     /* outermost */
	assert_int_equal(p.tun.depth, 2);
	assert_int_equal(p.tun.vni, 1);
	assert_int_equal(p.tun.src[0], 192);
	check_inner_tcp4(&p);                               /* innermost */

	/* the inner frame decoded on its own finds the VXLAN */
	assert_int_equal(dec(b.b + g + 12, b.n - g - 12, TW_LT_EN10MB, false, &p), 0);
	assert_int_equal(p.tun.encap, TW_ENCAP_VXLAN);
	assert_int_equal(p.tun.vni, 0x777);
	assert_int_equal(p.tun.src[0], 172);
}

/* More layers than TW_TUN_MAX_DEPTH: the last one stays UDP. */
static void test_nested_max(void **state)
{
	struct bld b = {0};
	struct tw_pkt p;

	(void)state;
	for (int i = 0; i <= TW_TUN_MAX_DEPTH; i++) {
		b_outer_udp(&b, 4789);
		b_vxlan(&b, (uint32_t)i + 1);
	}
	b_eth(&b, 0x0800);
	b_inner_tcp4(&b);
	b_fin(&b);
	assert_int_equal(decb(&b, TW_LT_EN10MB, true, &p), 0);
	assert_int_equal(p.tun.depth, TW_TUN_MAX_DEPTH);
	assert_int_equal(p.tun.vni, 1);
	assert_int_equal(p.proto, 17);
	assert_int_equal(p.dport, 4789);
}

/* AWS PacketLength: the outer packet is consistent, the inner IP length
 * says more than was mirrored. */
static void test_inner_truncated(void **state)
{
	struct bld b = {0};
	struct tw_pkt p;

	(void)state;
	b_outer_udp(&b, 4789);
	b_vxlan(&b, 5);
	b_eth(&b, 0x0800);
	b_ip4(&b, 6, IP4(10, 0, 0, 1), IP4(10, 0, 0, 2));
	b_tcp(&b, 40000, 80, 1000, 2000, TW_TH_ACK, NULL, 0);
	b_str(&b, "0123456789");
	b_fin(&b);
	/* inner tot_len += 1000 */
	b.b[64 + 2] = (uint8_t)((50 + 1000) >> 8);
	b.b[64 + 3] = (uint8_t)(50 + 1000);
	assert_int_equal(decb(&b, TW_LT_EN10MB, false, &p), 0);
	assert_false(p.truncated);
	assert_true(p.tun.inner_trunc);
	assert_int_equal(decb(&b, TW_LT_EN10MB, true, &p), 0);
	assert_true(p.truncated);
	assert_int_equal(p.ip_len, 1050);
	assert_int_equal(p.payload_len, 1010);
	assert_int_equal(p.payload_caplen, 10);

	/* Outer cut by the snap length inside the inner payload; inner IP length
	 * claimed consistent with the capture (tot_len 0): still truncated. */
	b.b[66] = 0, b.b[67] = 0;
	{
		struct tw_decode_cfg cfg;
		tw_decode_cfg_init(&cfg);
		cfg.decap = true;
		assert_int_equal(tw_pkt_decode(&cfg, TW_LT_EN10MB, b.b, b.n - 4, b.n, &p), 0);
		assert_true(p.truncated);
		assert_int_equal(p.payload_caplen, 6);
	}
}

/* The inner IP packet is whole, but the outer packet was cut inside the
 * tunnel payload (the inner frame's padding): flagged, never whole. */
static void test_inner_padding_cut(void **state)
{
	struct bld b = {0};
	struct tw_pkt p;
	struct tw_decode_cfg cfg;

	(void)state;
	tw_decode_cfg_init(&cfg);
	cfg.decap = true;
	b_outer_udp(&b, 4789);
	b_vxlan(&b, 5);
	b_eth(&b, 0x0800);
	b_inner_tcp4(&b);
	b_fin(&b);                      /* inner IP length: without the padding */
	b_be32(&b, 0), b_be32(&b, 0);   /* 8 bytes of inner Ethernet padding */
	b.nfix = 2;                     /* outer IP and UDP lengths: with it */
	b_fin(&b);
	assert_int_equal(tw_pkt_decode(&cfg, TW_LT_EN10MB, b.b, b.n, b.n, &p), 0);
	assert_false(p.truncated);
	check_inner_tcp4(&p);
	assert_int_equal(tw_pkt_decode(&cfg, TW_LT_EN10MB, b.b, b.n - 3, b.n, &p), 0);
	assert_true(p.truncated);
	assert_true(p.tun.inner_trunc);
	assert_int_equal(p.payload_caplen, 5);

	/* SLL capture metadata survives decap. */
	{
		static const uint8_t sll[16] = {0, 4, 0, 1, 0, 6, 2, 0, 0, 0, 0, 1, 0, 0, 0x08, 0x00};
		uint8_t f[256];

		memcpy(f, sll, 16);
		memcpy(f + 16, b.b + 14, b.n - 14);
		assert_int_equal(tw_pkt_decode(&cfg, TW_LT_SLL, f, b.n + 2, b.n + 2, &p), 0);
		assert_int_equal(p.sll_pkttype, 4);
		assert_int_equal(p.linktype, TW_LT_EN10MB);
		assert_int_equal(p.tun.encap, TW_ENCAP_VXLAN);
		assert_int_equal(p.dport, 80);
	}
}

/*
 * Every prefix of FRAME, copied into a buffer of exactly that size (ASan
 * catches any over-read), with and without decap, wire length known or not:
 * decode returns 0 with truncated set, or -TW_ETRUNC; never a whole packet.
 */
static void check_prefixes(const uint8_t *frame, size_t len)
{
	for (int decap = 0; decap <= 1; decap++) {
		for (int wire = 0; wire <= 1; wire++) {
			for (size_t n = 0; n < len; n++) {
				struct tw_decode_cfg cfg;
				struct tw_pkt p;
				uint8_t *f = malloc(n ? n : 1);
				int rc;

				assert_non_null(f);
				memcpy(f, frame, n);
				tw_decode_cfg_init(&cfg);
				cfg.decap = decap;
				rc = tw_pkt_decode(&cfg, TW_LT_EN10MB, f, n, wire ? len : n, &p);
				if (rc != 0 && rc != -TW_ETRUNC)
					fail_msg("prefix %zu decap %d: rc %d", n, decap, rc);
				if (rc == 0) {
					if (!p.truncated)
						fail_msg("prefix %zu decap %d: whole", n, decap);
					assert_true(p.l3_caplen < p.ip_len);
					if (p.payload) {
						assert_true(p.payload_caplen < p.payload_len);
						assert_true(p.payload + p.payload_caplen <= f + n);
					}
					if (p.tun.encap != TW_ENCAP_NONE)
						assert_true(p.tun.inner_trunc);
				}
				free(f);
			}
		}
	}
}

static void test_truncation_every_offset(void **state)
{
	static const uint8_t opt[20] = {
		0x02, 0x04, 0x05, 0xb4, 0x04, 0x02, 0x08, 0x0a, 0, 0, 0, 1,
		0, 0, 0, 0, 0x01, 0x03, 0x03, 0x07,
	};
	struct bld b = {0};
	struct tw_pkt p;

	(void)state;
	check_prefixes(vxlan_frame, sizeof(vxlan_frame));
	/* whole: decodes as whole (the loop above stops one byte short) */
	assert_int_equal(dec(vxlan_frame, sizeof(vxlan_frame), TW_LT_EN10MB, true, &p), 0);
	assert_false(p.truncated);

	/* Geneve with options, inner IPv6 SYN with TCP options and payload */
	b_outer_udp(&b, 6081);
	b_u8(&b, 0x02), b_u8(&b, 0), b_be16(&b, 0x86dd), b_be32(&b, 0x100);
	b_be16(&b, 0x0132), b_u8(&b, 1), b_u8(&b, 1), b_be32(&b, 0xfeed);
	b_ip6(&b, 6, 1, 2);
	b_tcp(&b, 1, 2, 3, 0, TW_TH_SYN, opt, sizeof(opt));
	b_str(&b, "abc");
	b_fin(&b);
	check_prefixes(b.b, b.n);
	assert_int_equal(decb(&b, TW_LT_EN10MB, true, &p), 0);
	assert_false(p.truncated);
	assert_int_equal(p.opts.mss, 1460);

	/* ERSPAN III with platform bytes, inner Ethernet + VLAN */
	b = (struct bld){0};
	b_outer_gre(&b);
	b_be16(&b, 0x1000), b_be16(&b, 0x22eb), b_be32(&b, 2);
	b_be16(&b, 0x2000), b_be16(&b, 0x12), b_be32(&b, 0);
	b_be16(&b, 0), b_be16(&b, 1);
	b_be32(&b, 0xaaaaaaaa), b_be32(&b, 0xbbbbbbbb);
	b_eth(&b, 0x8100);
	b_vlan(&b, 9, 0x0800);
	b_inner_tcp4(&b);
	b_fin(&b);
	check_prefixes(b.b, b.n);
	assert_int_equal(decb(&b, TW_LT_EN10MB, true, &p), 0);
	check_inner_tcp4(&p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_eth_ipv4_tcp),
		cmocka_unit_test(test_vxlan),
		cmocka_unit_test(test_vxlan_noflag),
		cmocka_unit_test(test_tcp_syn_options),
		cmocka_unit_test(test_tcp_sack_options),
		cmocka_unit_test(test_tcp_options_bad),
		cmocka_unit_test(test_link_types),
		cmocka_unit_test(test_vlan),
		cmocka_unit_test(test_not_ip),
		cmocka_unit_test(test_ipv4_options),
		cmocka_unit_test(test_ipv6_ext_headers),
		cmocka_unit_test(test_fragments),
		cmocka_unit_test(test_udp),
		cmocka_unit_test(test_padding_and_gro),
		cmocka_unit_test(test_truncated_plain),
		cmocka_unit_test(test_geneve),
		cmocka_unit_test(test_gre),
		cmocka_unit_test(test_erspan),
		cmocka_unit_test(test_nested),
		cmocka_unit_test(test_nested_max),
		cmocka_unit_test(test_inner_truncated),
		cmocka_unit_test(test_inner_padding_cut),
		cmocka_unit_test(test_truncation_every_offset),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
