/*
 * fuzz_addrplan.c - libFuzzer target for the option parsers of the address
 * plan (src/copy/addrplan.c): -x, -c, -n, -r and --port-range on arbitrary
 * text (a NUL-terminated copy of the input; an embedded NUL ends the text as
 * it would in argv).
 *
 * Besides ASan/UBSan findings it checks the parsers' promises: the result is
 * 0 or -EINVAL; an error leaves the config's counts as they were and writes
 * one printable line that starts with the option's name; a success yields
 * rules with non-zero ports and IPv4/IPv6 addresses, and -c ranges with
 * lo <= hi of one version whose sizes add up to ncaddr <= 4096; every parsed
 * -x rule, written back in the documented syntax, parses to the same rule,
 * and every -c range written as "lo-hi" to the same range; a packet to a
 * rule's own server address and port matches a rule of that port.
 * Field values for given inputs are the unit tests' business.
 */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "copy/addrplan.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(c) do { if (!(c)) abort(); } while (0)

static struct tw_ap_cfg cfg, cfg2;

static void check_err(int rc, const char *err, const char *opt)
{
	CHECK(rc == -EINVAL);
	CHECK(strncmp(err, opt, strlen(opt)) == 0);
	CHECK(strlen(err) < 256);
	for (const char *p = err; *p; p++)
		CHECK(*p >= 0x20 && *p <= 0x7e);
}

static void check_ip(const struct tw_ap_ip *ip)
{
	CHECK(ip->ver == 4 || ip->ver == 6);
	if (ip->ver == 4)
		for (int i = 4; i < 16; i++)
			CHECK(ip->a[i] == 0);
}

static void ip_text(const struct tw_ap_ip *ip, char *buf, size_t len)
{
	char a[64];

	tw_ap_ip_str(ip, a, sizeof(a));
	snprintf(buf, len, ip->ver == 6 ? "[%s]" : "%s", a);
}

static void mac_text(const uint8_t m[6], char *buf, size_t len)
{
	snprintf(buf, len, "@%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2], m[3], m[4], m[5]);
}

static void rule_roundtrip(const struct tw_ap_rule *r)
{
	char s[256], sip[80] = "", dip[80], smac[24] = "", dmac[24] = "", e[256];
	const struct tw_ap_rule *q;

	if (r->has_src_ip) {
		ip_text(&r->src_ip, sip, sizeof(sip) - 1);
		strcat(sip, ":");
	}
	ip_text(&r->dst_ip, dip, sizeof(dip));
	if (r->has_src_mac)
		mac_text(r->src_mac, smac, sizeof(smac));
	if (r->has_dst_mac)
		mac_text(r->dst_mac, dmac, sizeof(dmac));
	snprintf(s, sizeof(s), "%s%u%s-%s:%u%s", sip, r->src_port, smac, dip, r->dst_port, dmac);
	tw_ap_cfg_init(&cfg2);
	CHECK(tw_ap_parse_x(&cfg2, s, e, sizeof(e)) == 0);
	CHECK(cfg2.nrules == 1);
	q = &cfg2.rule[0];
	CHECK(q->has_src_ip == r->has_src_ip && q->has_src_mac == r->has_src_mac &&
	      q->has_dst_mac == r->has_dst_mac);
	CHECK(!r->has_src_ip || memcmp(&q->src_ip, &r->src_ip, sizeof(r->src_ip)) == 0);
	CHECK(memcmp(&q->dst_ip, &r->dst_ip, sizeof(r->dst_ip)) == 0);
	CHECK(q->src_port == r->src_port && q->dst_port == r->dst_port);
	CHECK(!r->has_src_mac || memcmp(q->src_mac, r->src_mac, 6) == 0);
	CHECK(!r->has_dst_mac || memcmp(q->dst_mac, r->dst_mac, 6) == 0);
}

static void check_x(const char *s)
{
	char e[256] = "";
	int n0 = cfg.nrules, rc = tw_ap_parse_x(&cfg, s, e, sizeof(e));

	if (rc) {
		check_err(rc, e, "-x: ");
		CHECK(cfg.nrules == n0);
		return;
	}
	CHECK(cfg.nrules > n0 && cfg.nrules <= TW_AP_MAX_RULES);
	for (int i = n0; i < cfg.nrules; i++) {
		const struct tw_ap_rule *r = &cfg.rule[i];
		uint8_t a[16] = {0};

		CHECK(r->src_port && r->dst_port);
		check_ip(&r->dst_ip);
		if (r->has_src_ip) {
			check_ip(&r->src_ip);
			memcpy(a, r->src_ip.a, 16);
		}
		const struct tw_ap_rule *m = tw_ap_match(&cfg, r->has_src_ip ? r->src_ip.ver : 4, a,
							 r->src_port);
		CHECK(m && m->src_port == r->src_port);
		rule_roundtrip(r);
	}
}

static void check_c(const char *s)
{
	char e[256] = "", t[200], lo[64], hi[64];
	int n0 = cfg.ncrange;
	uint32_t a0 = cfg.ncaddr, sum = 0;
	int rc = tw_ap_parse_c(&cfg, s, e, sizeof(e));

	if (rc) {
		check_err(rc, e, "-c: ");
		CHECK(cfg.ncrange == n0 && cfg.ncaddr == a0);
		return;
	}
	CHECK(cfg.ncrange > n0 && cfg.ncaddr <= TW_AP_MAX_CADDRS);
	for (int i = 0; i < cfg.ncrange; i++) {
		const struct tw_ap_crange *r = &cfg.crange[i];
		unsigned __int128 l = 0, h = 0;

		check_ip(&r->lo);
		check_ip(&r->hi);
		CHECK(r->lo.ver == r->hi.ver);
		for (int k = 0; k < (r->lo.ver == 4 ? 4 : 16); k++) {
			l = l << 8 | r->lo.a[k];
			h = h << 8 | r->hi.a[k];
		}
		CHECK(l <= h && h - l < TW_AP_MAX_CADDRS);
		sum += (uint32_t)(h - l) + 1;
		snprintf(t, sizeof(t), "%s-%s", tw_ap_ip_str(&r->lo, lo, sizeof(lo)),
			 tw_ap_ip_str(&r->hi, hi, sizeof(hi)));
		tw_ap_cfg_init(&cfg2);
		CHECK(tw_ap_parse_c(&cfg2, t, e, sizeof(e)) == 0);
		CHECK(cfg2.ncrange == 1);
		CHECK(memcmp(&cfg2.crange[0], r, sizeof(*r)) == 0);
	}
	CHECK(sum == cfg.ncaddr);
}

static void check_num(const char *s)
{
	char e[256] = "";
	int rc;

	rc = tw_ap_parse_n(&cfg, s, e, sizeof(e));
	if (rc)
		check_err(rc, e, "-n: ");
	CHECK(cfg.copies >= 1 && cfg.copies <= TW_AP_MAX_COPIES);
	rc = tw_ap_parse_r(&cfg, s, e, sizeof(e));
	if (rc)
		check_err(rc, e, "-r: ");
	CHECK(cfg.percent >= 1 && cfg.percent <= 100);
	rc = tw_ap_parse_ports(&cfg, s, e, sizeof(e));
	if (rc)
		check_err(rc, e, "--port-range: ");
	CHECK(cfg.port_lo >= 1 && cfg.port_lo <= cfg.port_hi);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);

	if (!s)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	tw_ap_cfg_init(&cfg);
	check_x(s);
	check_c(s);
	check_num(s);
	/* Appending to a config that already holds items. */
	check_x(s);
	check_c(s);
	free(s);
	return 0;
}
