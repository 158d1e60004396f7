/*
 * fuzz_decode.c - libFuzzer target for tw_pkt_decode, tw_tun_parse and
 * tw_tcp_opts_parse.
 *
 * Input: byte 0 picks the link type from the supported list, byte 1 the
 * options (bit 0 decap, bit 1 wire length longer than captured, bit 2 VXLAN
 * and Geneve on other ports), the rest is the frame. Besides ASan/UBSan
 * findings it checks the decoder's promises: every pointer and length stays
 * inside the input, captured never exceeds declared, truncated is set when it
 * must be. Does not check field values (the unit tests do).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "core/err.h"
#include "pkt/decode.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const int linktypes[] = {
	TW_LT_EN10MB, TW_LT_RAW, 12, 14, TW_LT_IPV4, TW_LT_IPV6,
	TW_LT_NULL, TW_LT_LOOP, TW_LT_SLL, TW_LT_SLL2, 9999,
};

#define CHECK(c) do { if (!(c)) abort(); } while (0)

/* [p, p + n) lies inside [base, base + size). */
static int inside(const uint8_t *p, size_t n, const uint8_t *base, size_t size)
{
	if (!p)
		return n == 0;
	return p >= base && p <= base + size && n <= (size_t)(base + size - p);
}

static void check(const struct tw_pkt *p, const uint8_t *f, size_t n)
{
	CHECK(p->ipver == 4 || p->ipver == 6);
	CHECK(inside(p->l3, p->l3_caplen, f, n));
	CHECK(p->l3_caplen <= p->ip_len);
	CHECK(p->ip_hlen <= p->l3_caplen);
	CHECK(p->truncated || p->l3_caplen == p->ip_len);
	if (p->l4) {
		CHECK(p->l4 == p->l3 + p->ip_hlen);
		CHECK(inside(p->l4, p->l4_caplen, f, n));
		CHECK(p->l4_caplen <= p->l4_len);
	}
	if (p->payload) {
		CHECK(inside(p->payload, p->payload_caplen, f, n));
		CHECK(p->payload_caplen <= p->payload_len);
		CHECK(p->truncated || p->payload_caplen == p->payload_len);
	}
	CHECK(inside(p->tcp_opt, p->tcp_opt_len, f, n));
	CHECK(p->opts.nsack <= TW_TCP_MAX_SACK);
	if (p->tun.encap != TW_ENCAP_NONE) {
		CHECK(p->tun.depth >= 1 && p->tun.depth <= TW_TUN_MAX_DEPTH);
		CHECK(inside(p->tun.inner, p->tun.inner_len, f, n));
		CHECK(inside(p->tun.hdr, p->tun.hdr_len, f, n));
		CHECK(p->tun.inner == p->tun.hdr + p->tun.hdr_len);
		if (p->tun.erspan_trunc)
			CHECK(p->tun.inner_trunc);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct tw_decode_cfg cfg;
	struct tw_tcp_opts o;
	struct tw_tun_hdr h;
	struct tw_pkt p;
	const uint8_t *f;
	size_t n, wire;
	int lt, rc;

	if (size < 2)
		return 0;
	lt = linktypes[data[0] % (sizeof(linktypes) / sizeof(linktypes[0]))];
	tw_decode_cfg_init(&cfg);
	cfg.decap = data[1] & 1;
	if (data[1] & 4) {
		cfg.vxlan_port = 8472;
		cfg.geneve_port = 0;
	}
	f = data + 2;
	n = size - 2;
	wire = data[1] & 2 ? n + 100 : n;

	rc = tw_pkt_decode(&cfg, lt, f, n, wire, &p);
	CHECK(rc <= 0);
	if (rc == 0) {
		check(&p, f, n);
		/* With decap and a tunnel the ERSPAN T bit must show up. */
		if (cfg.decap && p.tun.inner_trunc)
			CHECK(p.truncated);
	}
	/* The same bytes as an options block and as each tunnel header. */
	rc = tw_tcp_opts_parse(f, n < 40 ? n : 40, &o);
	CHECK(rc == 0 || rc == -TW_EMALFORMED);
	CHECK(o.nsack <= TW_TCP_MAX_SACK);
	for (int k = TW_ENCAP_VXLAN; k <= TW_ENCAP_GRE; k++) {
		rc = tw_tun_parse((enum tw_encap)k, f, n, &h);
		if (rc == 0)
			CHECK(h.hlen <= n);
		else
			CHECK(rc == -TW_ETRUNC || rc == -TW_EENCAP);
	}
	return 0;
}
