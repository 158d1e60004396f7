/*
 * test_doctor.c - unit tests of the pure rules of src/copy/doctor.c: /proc
 * number parsing, rp_filter's effective value, the conntrack 80 % rule, the
 * MTU rule (PASS with re-segmentation noted, -M above the route's MTU, below
 * the family's minimum, unknown route MTU), the path-MTU probe sizes and
 * verdict, the covering prefix of a -c range, and the fix for each intercept
 * refusal. No sockets.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>

#include <cmocka.h>

#include "copy/doctor.h"
#include "core/err.h"

static struct tw_ap_ip ip(const char *s)
{
	struct tw_ap_ip a;

	assert_int_equal(tw_ap_parse_ip(s, strlen(s), &a), 0);
	return a;
}

static void test_parse_u64(void **state)
{
	uint64_t v = 7;

	(void)state;
	assert_int_equal(tw_doc_parse_u64("262144\n", &v), 0);
	assert_int_equal(v, 262144);
	assert_int_equal(tw_doc_parse_u64("0", &v), 0);
	assert_int_equal(v, 0);
	assert_int_equal(tw_doc_parse_u64("12 \t\r\n", &v), 0);
	assert_int_equal(v, 12);
	assert_int_equal(tw_doc_parse_u64("18446744073709551615\n", &v), 0);
	assert_true(v == UINT64_MAX);
	v = 5;
	assert_int_equal(tw_doc_parse_u64("18446744073709551616", &v), -EINVAL);
	assert_int_equal(tw_doc_parse_u64("", &v), -EINVAL);
	assert_int_equal(tw_doc_parse_u64("\n", &v), -EINVAL);
	assert_int_equal(tw_doc_parse_u64("-1", &v), -EINVAL);
	assert_int_equal(tw_doc_parse_u64(" 1", &v), -EINVAL);
	assert_int_equal(tw_doc_parse_u64("1 2", &v), -EINVAL);
	assert_int_equal(tw_doc_parse_u64("12k", &v), -EINVAL);
	assert_int_equal(tw_doc_parse_u64(NULL, &v), -EINVAL);
	assert_int_equal(v, 5);
}

static void test_rp_and_conntrack(void **state)
{
	(void)state;
	/* linux-net.md 3: the value in effect is max(all, IF) */
	assert_int_equal(tw_doc_rp_effective(0, 0), 0);
	assert_int_equal(tw_doc_rp_effective(1, 0), 1);
	assert_int_equal(tw_doc_rp_effective(0, 2), 2);
	assert_int_equal(tw_doc_rp_effective(2, 1), 2);

	assert_false(tw_doc_conntrack_full(0, 262144));
	assert_false(tw_doc_conntrack_full(8, 10));      /* 80 % is not above */
	assert_true(tw_doc_conntrack_full(9, 10));
	assert_false(tw_doc_conntrack_full(209715, 262144));
	assert_true(tw_doc_conntrack_full(209716, 262144));
	assert_false(tw_doc_conntrack_full(5, 7));       /* 71 % */
	assert_true(tw_doc_conntrack_full(6, 7));        /* 86 % */
	assert_true(tw_doc_conntrack_full(UINT64_MAX, UINT64_MAX));
	assert_false(tw_doc_conntrack_full(0, 0));
	assert_true(tw_doc_conntrack_full(1, 0));
}

static void test_mtu_rule(void **state)
{
	struct tw_doc_mtu m = {.ipver = 4, .route_mtu = 1500, .dev = "eth0", .cap_if = "cl0",
			       .cap_mtu = 1500, .cap_gro = 1};
	char buf[1024];
	uint32_t e = 0;

	(void)state;
	/* the route's MTU, GRO on the capture interface: PASS, re-segmented */
	assert_int_equal(tw_doc_mtu_rule(&m, &e, buf, sizeof(buf)), TW_DOC_PASS);
	assert_int_equal(e, 1500);
	assert_non_null(strstr(buf, "copy sends at MTU 1500 (the route's; route MTU 1500 via eth0)"));
	assert_non_null(strstr(buf, "GRO/LRO on: super-packets up to 64 KB) are re-segmented"));

	/* route MTU below the capture's: still a PASS, the packets are cut */
	m.route_mtu = 1400;
	m.cap_gro = 0;
	assert_int_equal(tw_doc_mtu_rule(&m, &e, buf, sizeof(buf)), TW_DOC_PASS);
	assert_int_equal(e, 1400);
	assert_non_null(strstr(buf, "packets captured on cl0 (MTU 1500, GRO/LRO off) are re-segmented"));

	/* -M above the route's MTU: EMSGSIZE on every full-size packet */
	m.route_mtu = 1500;
	m.opt_mtu = 9000;
	assert_int_equal(tw_doc_mtu_rule(&m, &e, buf, sizeof(buf)), TW_DOC_FAIL);
	assert_int_equal(e, 9000);
	assert_non_null(strstr(buf, "-M 9000 is above the route's MTU 1500 (eth0)"));
	assert_non_null(strstr(buf, "fix: -M 1500 or less"));

	/* -M at or below the route's: PASS */
	m.opt_mtu = 1500;
	assert_int_equal(tw_doc_mtu_rule(&m, &e, buf, sizeof(buf)), TW_DOC_PASS);
	m.opt_mtu = 1400;
	assert_int_equal(tw_doc_mtu_rule(&m, &e, buf, sizeof(buf)), TW_DOC_PASS);
	assert_int_equal(e, 1400);
	assert_non_null(strstr(buf, "copy sends at MTU 1400 (-M;"));

	/* below the IPv4 minimum, from -M or from the route */
	m.opt_mtu = 575;
	assert_int_equal(tw_doc_mtu_rule(&m, &e, buf, sizeof(buf)), TW_DOC_FAIL);
	assert_non_null(strstr(buf, "MTU 575 (-M), below the IPv4 minimum of 576"));
	m.opt_mtu = 576;
	assert_int_equal(tw_doc_mtu_rule(&m, &e, buf, sizeof(buf)), TW_DOC_PASS);
	m.opt_mtu = 0;
	m.route_mtu = 500;
	assert_int_equal(tw_doc_mtu_rule(&m, &e, buf, sizeof(buf)), TW_DOC_FAIL);
	assert_non_null(strstr(buf, "ip link set DEV mtu"));

	/* IPv6: 1280 */
	m.ipver = 6;
	m.route_mtu = 1279;
	assert_int_equal(tw_doc_mtu_rule(&m, &e, buf, sizeof(buf)), TW_DOC_FAIL);
	assert_non_null(strstr(buf, "IPv6 minimum of 1280"));
	m.route_mtu = 1280;
	assert_int_equal(tw_doc_mtu_rule(&m, &e, buf, sizeof(buf)), TW_DOC_PASS);

	/* unknown route MTU: 1500 as copy assumes; no capture interface; short buffer */
	m.ipver = 4;
	m.route_mtu = 0;
	m.cap_if = NULL;
	m.dev = NULL;
	assert_int_equal(tw_doc_mtu_rule(&m, &e, buf, sizeof(buf)), TW_DOC_PASS);
	assert_int_equal(e, 1500);
	assert_non_null(strstr(buf, "via its device"));
	assert_int_equal(tw_doc_mtu_rule(&m, &e, buf, 8), TW_DOC_PASS);
	assert_int_equal(strlen(buf), 7);
}

static void test_mtu_sizes(void **state)
{
	uint32_t s[TW_DOC_MAX_SIZES];
	bool ok[TW_DOC_MAX_SIZES] = {false};
	unsigned n;

	(void)state;
	n = tw_doc_mtu_sizes(4, 1500, s, TW_DOC_MAX_SIZES);
	assert_int_equal(n, 6);
	assert_int_equal(s[0], 1500);
	assert_int_equal(s[1], 1480);
	assert_int_equal(s[5], 576);
	n = tw_doc_mtu_sizes(4, 9000, s, TW_DOC_MAX_SIZES);
	assert_int_equal(n, 7);
	assert_int_equal(s[0], 9000);
	assert_int_equal(s[1], 1500);
	n = tw_doc_mtu_sizes(4, 1420, s, TW_DOC_MAX_SIZES);
	assert_int_equal(n, 4);
	assert_int_equal(s[1], 1400);
	n = tw_doc_mtu_sizes(6, 1500, s, TW_DOC_MAX_SIZES);
	assert_int_equal(n, 5);
	assert_int_equal(s[4], 1280);
	n = tw_doc_mtu_sizes(4, 500, s, TW_DOC_MAX_SIZES);
	assert_int_equal(n, 1);
	assert_int_equal(tw_doc_mtu_sizes(4, 1500, s, 2), 2);
	assert_int_equal(tw_doc_mtu_sizes(4, 1500, s, 0), 0);

	n = tw_doc_mtu_sizes(4, 1500, s, TW_DOC_MAX_SIZES);
	assert_int_equal(tw_doc_mtu_best(s, ok, n), 0);
	ok[3] = ok[4] = ok[5] = true;   /* 1400, 1280, 576 */
	assert_int_equal(tw_doc_mtu_best(s, ok, n), 1400);
	ok[0] = true;
	assert_int_equal(tw_doc_mtu_best(s, ok, n), 1500);
}

static void test_cover(void **state)
{
	struct tw_ap_ip lo, hi, net;
	char b[64];

	(void)state;
	lo = ip("10.77.2.1");
	hi = ip("10.77.2.254");
	assert_int_equal(tw_doc_cover(&lo, &hi, &net), 24);
	assert_string_equal(tw_ap_ip_str(&net, b, sizeof(b)), "10.77.2.0");
	lo = ip("192.168.7.9");
	assert_int_equal(tw_doc_cover(&lo, &lo, &net), 32);
	assert_string_equal(tw_ap_ip_str(&net, b, sizeof(b)), "192.168.7.9");
	lo = ip("10.0.0.0");
	hi = ip("10.1.255.255");
	assert_int_equal(tw_doc_cover(&lo, &hi, &net), 15);
	assert_string_equal(tw_ap_ip_str(&net, b, sizeof(b)), "10.0.0.0");
	lo = ip("10.0.0.128");
	hi = ip("10.0.1.1");
	assert_int_equal(tw_doc_cover(&lo, &hi, &net), 23);
	lo = ip("1.0.0.0");
	hi = ip("255.0.0.0");
	assert_int_equal(tw_doc_cover(&lo, &hi, &net), 0);
	assert_string_equal(tw_ap_ip_str(&net, b, sizeof(b)), "0.0.0.0");
	lo = ip("fd00:77:2::1");
	hi = ip("fd00:77:2::ffff");
	assert_int_equal(tw_doc_cover(&lo, &hi, &net), 112);
	assert_string_equal(tw_ap_ip_str(&net, b, sizeof(b)), "fd00:77:2::");
}

static void test_relay_fix(void **state)
{
	(void)state;
	assert_non_null(strstr(tw_doc_relay_fix(-ECONNREFUSED, "cannot connect"),
			       "start `tcptwin intercept"));
	assert_non_null(strstr(tw_doc_relay_fix(-EACCES, "refused this copy (authentication): "
							"wrong shared secret"), "--secret-file"));
	assert_non_null(strstr(tw_doc_relay_fix(-EACCES, "refused this copy (network not allowed): "
							"copy at 10.0.0.1 is not in this intercept's "
							"allowed networks"), "--allow"));
	assert_non_null(strstr(tw_doc_relay_fix(-TW_EPROTO_VERSION, ""), "same tcptwin release"));
	assert_non_null(strstr(tw_doc_relay_fix(-ETIMEDOUT, "cannot connect: timed out"),
			       "firewall"));
	assert_non_null(strstr(tw_doc_relay_fix(-ETIMEDOUT, "no answer to the handshake"),
			       "does not answer like a tcptwin intercept"));
	assert_non_null(strstr(tw_doc_relay_fix(-EHOSTUNREACH, NULL), "route to the assistant"));
	assert_non_null(strstr(tw_doc_relay_fix(-EPROTO, "not a tcptwin intercept"),
			       "running `tcptwin intercept`"));
	assert_non_null(tw_doc_relay_fix(-EBUSY, ""));
	assert_non_null(tw_doc_relay_fix(-ECONNRESET, ""));
}

static void test_cfg_init(void **state)
{
	struct tw_doc_cfg cfg;

	(void)state;
	memset(&cfg, 0x5a, sizeof(cfg));
	tw_doc_cfg_init(&cfg);
	assert_int_equal(cfg.port, 36524);
	assert_int_equal(cfg.timeout_ms, TW_DOC_DEF_TIMEOUT_MS);
	assert_int_equal(cfg.mode, TW_DOC_RAW);
	assert_int_equal(cfg.ap.nrules, 0);
	assert_null(cfg.servers);
	assert_false(cfg.has_probe_client);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_u64),
		cmocka_unit_test(test_rp_and_conntrack),
		cmocka_unit_test(test_mtu_rule),
		cmocka_unit_test(test_mtu_sizes),
		cmocka_unit_test(test_cover),
		cmocka_unit_test(test_relay_fix),
		cmocka_unit_test(test_cfg_init),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
