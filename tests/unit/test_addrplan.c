/*
 * test_addrplan.c - unit tests of src/copy/addrplan.c: tables of good and
 * bad -x/-c/-n/-r/--port-range arguments (exact messages for several),
 * -x matching, -r sampling (fraction over 100 000 synthetic sessions and
 * determinism), and the tuple allocator against a shadow model under
 * simulated time: 12 000 short sessions with client port reuse and -n 3 over
 * one -c address, exhaustion refused and counted then recovered after the
 * quarantine, -c stickiness and copies on distinct addresses, spill, the
 * no -c mode (original IP kept, original port kept when free), IPv6, bad
 * releases, time going backwards and creation errors.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <arpa/inet.h>

#include <cmocka.h>

#include "copy/addrplan.h"

#define SEC 1000000000ull
#define MS  1000000ull

static struct tw_ap_cfg cfg;
static char err[256];

static struct tw_ap_ip ip(const char *s)
{
	struct tw_ap_ip a;

	assert_int_equal(tw_ap_parse_ip(s, strlen(s), &a), 0);
	return a;
}

static const char *ipstr(const struct tw_ap_ip *a)
{
	static char buf[4][64];
	static int k;

	return tw_ap_ip_str(a, buf[k++ & 3], sizeof(buf[0]));
}

static uint32_t rnd_state = 12345;
static uint32_t rnd(void)
{
	rnd_state ^= rnd_state << 13;
	rnd_state ^= rnd_state >> 17;
	rnd_state ^= rnd_state << 5;
	return rnd_state;
}

/* ---- -x ------------------------------------------------------------------- */

static void test_parse_x_good(void **state)
{
	static const struct {
		const char *arg;
		const char *src_ip;      /* NULL: any */
		uint16_t sport;
		const char *dst_ip;
		uint16_t dport;
		const char *smac, *dmac; /* NULL: none */
	} t[] = {
		{"80-10.0.0.2:8080", NULL, 80, "10.0.0.2", 8080, NULL, NULL},
		{"10.0.0.1:80-10.0.0.2:8080", "10.0.0.1", 80, "10.0.0.2", 8080, NULL, NULL},
		{"80@00:11:22:33:44:55-10.0.0.2:8080@66:77:88:99:aa:BB", NULL, 80, "10.0.0.2", 8080,
		 "\x00\x11\x22\x33\x44\x55", "\x66\x77\x88\x99\xaa\xbb"},
		{"10.0.0.1:80@0:1:2:3:4:5-10.0.0.2:1", "10.0.0.1", 80, "10.0.0.2", 1,
		 "\x00\x01\x02\x03\x04\x05", NULL},
		{"65535-10.0.0.2:8080@a:b:c:d:e:f", NULL, 65535, "10.0.0.2", 8080, NULL,
		 "\x0a\x0b\x0c\x0d\x0e\x0f"},
		{"[2001:db8::1]:80-[2001:db8::2]:8080", "2001:db8::1", 80, "2001:db8::2", 8080, NULL,
		 NULL},
		{"443-[2001:db8::2]:8443", NULL, 443, "2001:db8::2", 8443, NULL, NULL},
		{"10.0.0.1:443-[::ffff:10.0.0.9]:8443", "10.0.0.1", 443, "::ffff:10.0.0.9", 8443,
		 NULL, NULL},
	};

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		const struct tw_ap_rule *r;
		struct tw_ap_ip d = ip(t[i].dst_ip);

		tw_ap_cfg_init(&cfg);
		err[0] = '\0';
		assert_int_equal(tw_ap_parse_x(&cfg, t[i].arg, err, sizeof(err)), 0);
		assert_string_equal(err, "");
		assert_int_equal(cfg.nrules, 1);
		r = &cfg.rule[0];
		assert_int_equal(r->has_src_ip, t[i].src_ip != NULL);
		if (t[i].src_ip) {
			struct tw_ap_ip s = ip(t[i].src_ip);

			assert_memory_equal(&r->src_ip, &s, sizeof(s));
		}
		assert_int_equal(r->src_port, t[i].sport);
		assert_memory_equal(&r->dst_ip, &d, sizeof(d));
		assert_int_equal(r->dst_port, t[i].dport);
		assert_int_equal(r->has_src_mac, t[i].smac != NULL);
		assert_int_equal(r->has_dst_mac, t[i].dmac != NULL);
		if (t[i].smac)
			assert_memory_equal(r->src_mac, t[i].smac, 6);
		if (t[i].dmac)
			assert_memory_equal(r->dst_mac, t[i].dmac, 6);
	}

	/* Lists, and repeated options append. */
	tw_ap_cfg_init(&cfg);
	assert_int_equal(tw_ap_parse_x(&cfg, "80-10.0.0.2:8080,443-10.0.0.3:8443", NULL, 0), 0);
	assert_int_equal(tw_ap_parse_x(&cfg, "[::1]:22-[::2]:2222", NULL, 0), 0);
	assert_int_equal(cfg.nrules, 3);
	assert_int_equal(cfg.rule[1].src_port, 443);
	assert_int_equal(cfg.rule[1].dst_port, 8443);
	assert_string_equal(ipstr(&cfg.rule[1].dst_ip), "10.0.0.3");
	assert_string_equal(ipstr(&cfg.rule[2].dst_ip), "::2");
}

static void test_parse_x_bad(void **state)
{
	static const struct {
		const char *arg, *msg;  /* msg NULL: only checked to start with "-x: " */
	} t[] = {
		{"", "-x: empty argument ''"},
		{"80", "-x: missing '-' (srcPort-targetIP:targetPort) in '80'"},
		{"80-10.0.0.2:99999", "-x: bad target port '99999' in '80-10.0.0.2:99999'"},
		{"0-10.0.0.2:80", "-x: bad source port '0' in '0-10.0.0.2:80'"},
		{"80-10.0.0.2", "-x: want IP:port, not '10.0.0.2' in '80-10.0.0.2'"},
		{"80-10.0.0.256:80", "-x: bad target address '10.0.0.256' in '80-10.0.0.256:80'"},
		{"80-2001:db8::2:8080",
		 "-x: IPv6 address needs brackets '2001:db8::2:8080' in '80-2001:db8::2:8080'"},
		{"80@00:11:22-10.0.0.2:80",
		 "-x: bad source MAC address '00:11:22' in '80@00:11:22-10.0.0.2:80'"},
		{"80-10.0.0.2:80@00:11:22:33:44:555",
		 "-x: bad next-hop MAC address '00:11:22:33:44:555' in "
		 "'80-10.0.0.2:80@00:11:22:33:44:555'"},
		{"80-10.0.0.2:80,", "-x: empty item in '80-10.0.0.2:80,'"},
		{"80-10.0.0.2:8\n0", "-x: bad target port '8?0' in '80-10.0.0.2:8?0'"},
		{"80-10.0.0.2:80-3", "-x: bad target port '80-3' in '80-10.0.0.2:80-3'"},
		{"80-[10.0.0.2]:80", "-x: bad target address '[10.0.0.2]' in '80-[10.0.0.2]:80'"},
		{"[2001:db8::1:80-[::2]:80", NULL},
		{" 80-10.0.0.2:80", NULL},
		{"80-10.0.0.2:", NULL},
		{"-10.0.0.2:80", NULL},
		{"80-:80", NULL},
		{"80-[::2]80", NULL},
		{"80-[::2]:+80", NULL},
		{"1.2.3:80-10.0.0.2:80", NULL},
		{"80@-10.0.0.2:80", NULL},
		{",80-10.0.0.2:80", NULL},
		{"80-10.0.0.2:80,,443-10.0.0.2:443", NULL},
	};

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		tw_ap_cfg_init(&cfg);
		assert_int_equal(tw_ap_parse_x(&cfg, "81-10.0.0.1:81", NULL, 0), 0);
		memset(err, 'Z', sizeof(err));
		assert_int_equal(tw_ap_parse_x(&cfg, t[i].arg, err, sizeof(err)), -EINVAL);
		if (t[i].msg)
			assert_string_equal(err, t[i].msg);
		else
			assert_memory_equal(err, "-x: ", 4);
		assert_null(strchr(err, '\n'));
		assert_int_equal(cfg.nrules, 1); /* nothing appended */
	}

	/* Too many rules; a tiny buffer is still NUL-terminated. */
	tw_ap_cfg_init(&cfg);
	for (int i = 0; i < TW_AP_MAX_RULES; i++)
		assert_int_equal(tw_ap_parse_x(&cfg, "80-10.0.0.2:8080", NULL, 0), 0);
	assert_int_equal(tw_ap_parse_x(&cfg, "81-10.0.0.2:8080", err, 12), -EINVAL);
	assert_string_equal(err, "-x: too man");
	assert_int_equal(cfg.nrules, TW_AP_MAX_RULES);
}

/* ---- -c ------------------------------------------------------------------- */

static void test_parse_c_good(void **state)
{
	static const struct {
		const char *arg, *lo, *hi;
		uint32_t n;
	} t[] = {
		{"10.1.2.3", "10.1.2.3", "10.1.2.3", 1},
		{"10.1.2.x", "10.1.2.1", "10.1.2.254", 254},
		{"10.0.0.1-10.0.0.10", "10.0.0.1", "10.0.0.10", 10},
		{"10.0.0.0/24", "10.0.0.1", "10.0.0.254", 254},
		{"10.0.0.77/24", "10.0.0.1", "10.0.0.254", 254},
		{"10.0.0.8/30", "10.0.0.9", "10.0.0.10", 2},
		{"10.0.0.5/31", "10.0.0.4", "10.0.0.5", 2},
		{"10.0.0.7/32", "10.0.0.7", "10.0.0.7", 1},
		{"10.0.0.255-10.0.1.2", "10.0.0.255", "10.0.1.2", 4},
		{"2001:db8::1", "2001:db8::1", "2001:db8::1", 1},
		{"[2001:db8::1]", "2001:db8::1", "2001:db8::1", 1},
		{"2001:db8::/120", "2001:db8::1", "2001:db8::ff", 255},
		{"2001:db8::/127", "2001:db8::", "2001:db8::1", 2},
		{"2001:db8::ffff-2001:db8::1:2", "2001:db8::ffff", "2001:db8::1:2", 4},
		{"[2001:db8::1]-[2001:db8::4]", "2001:db8::1", "2001:db8::4", 4},
	};

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		struct tw_ap_ip lo = ip(t[i].lo), hi = ip(t[i].hi);

		tw_ap_cfg_init(&cfg);
		assert_int_equal(tw_ap_parse_c(&cfg, t[i].arg, err, sizeof(err)), 0);
		assert_int_equal(cfg.ncrange, 1);
		assert_string_equal(ipstr(&cfg.crange[0].lo), t[i].lo);
		assert_string_equal(ipstr(&cfg.crange[0].hi), t[i].hi);
		assert_memory_equal(&cfg.crange[0].lo, &lo, sizeof(lo));
		assert_memory_equal(&cfg.crange[0].hi, &hi, sizeof(hi));
		assert_int_equal(cfg.ncaddr, t[i].n);
	}
	tw_ap_cfg_init(&cfg);
	assert_int_equal(tw_ap_parse_c(&cfg, "10.0.0.1,10.0.0.2-10.0.0.3,2001:db8::/126", NULL, 0),
			 0);
	assert_int_equal(cfg.ncrange, 3);
	assert_int_equal(cfg.ncaddr, 1 + 2 + 3);
}

static void test_parse_c_bad(void **state)
{
	static const struct {
		const char *arg, *msg;
	} t[] = {
		{"10.0.0.0/16", "-c: too many addresses (max 4096) in '10.0.0.0/16'"},
		{"10.0.0.10-10.0.0.1", "-c: range ends before it starts '10.0.0.10-10.0.0.1'"},
		{"10.0.0.1-2001:db8::1", "-c: range mixes IPv4 and IPv6 '10.0.0.1-2001:db8::1'"},
		{"10.0.0.0/33", "-c: bad prefix length '33' in '10.0.0.0/33'"},
		{"0.0.0.0", "-c: not a unicast client address '0.0.0.0'"},
		{"224.0.0.1", "-c: not a unicast client address '224.0.0.1'"},
		{"ff02::1", "-c: not a unicast client address 'ff02::1'"},
		{"::", "-c: not a unicast client address '::'"},
		{"10.1.x.x", "-c: bad address '10.1.x.x'"},
		{"10.1.2.x/24", "-c: bad address '10.1.2.x' in '10.1.2.x/24'"},
		{"foo", "-c: bad address 'foo'"},
		{"", "-c: empty argument ''"},
		{"10.0.0.1,", "-c: empty item in '10.0.0.1,'"},
		{"2001:db8::/64", NULL},
		{"10.0.0.1-", NULL},
		{"10.0.0.0/", NULL},
		{"10.0.0.0/-1", NULL},
		{"2001:db8::/129", NULL},
		{"[10.0.0.1]", NULL},
		{"10.0.0.1.x", NULL},
		{"223.255.255.255-224.0.0.1", NULL},
	};

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		tw_ap_cfg_init(&cfg);
		assert_int_equal(tw_ap_parse_c(&cfg, "10.9.9.9", NULL, 0), 0);
		assert_int_equal(tw_ap_parse_c(&cfg, t[i].arg, err, sizeof(err)), -EINVAL);
		if (t[i].msg)
			assert_string_equal(err, t[i].msg);
		else
			assert_memory_equal(err, "-c: ", 4);
		assert_int_equal(cfg.ncrange, 1);
		assert_int_equal(cfg.ncaddr, 1);
	}

	/* The total is capped: two /21 blocks fit (2 x 2046), a third does not,
	 * and the failed call leaves the count as it was. */
	tw_ap_cfg_init(&cfg);
	assert_int_equal(tw_ap_parse_c(&cfg, "10.0.0.0/21,10.1.0.0/21", NULL, 0), 0);
	assert_int_equal(cfg.ncaddr, 4092);
	assert_int_equal(tw_ap_parse_c(&cfg, "10.2.0.1,10.3.0.0/29", err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "-c: too many addresses (max 4096) in '10.3.0.0/29'");
	assert_int_equal(cfg.ncaddr, 4092);
	assert_int_equal(cfg.ncrange, 2);
	assert_int_equal(tw_ap_parse_c(&cfg, "10.2.0.1-10.2.0.4", NULL, 0), 0);
	assert_int_equal(cfg.ncaddr, 4096);
}

static void test_parse_nr_ports(void **state)
{
	static const char *bad_n[] = {"0", "1024", "-1", "", "3x", "+3", " 3", "99999999999"};
	static const char *bad_r[] = {"0", "101", "50%", "", "5.5", "-50"};
	static const char *bad_p[] = {"3000-2000", "0-10", "1-65536", "1000", "-", "1000-",
				      "a-b", "1000--2000"};

	tw_ap_cfg_init(&cfg);
	assert_int_equal(cfg.copies, 1);
	assert_int_equal(cfg.percent, 100);
	assert_int_equal(tw_ap_parse_n(&cfg, "3", err, sizeof(err)), 0);
	assert_int_equal(cfg.copies, 3);
	assert_int_equal(tw_ap_parse_n(&cfg, "1023", err, sizeof(err)), 0);
	assert_int_equal(cfg.copies, 1023);
	for (size_t i = 0; i < sizeof(bad_n) / sizeof(bad_n[0]); i++) {
		assert_int_equal(tw_ap_parse_n(&cfg, bad_n[i], err, sizeof(err)), -EINVAL);
		assert_memory_equal(err, "-n: ", 4);
		assert_int_equal(cfg.copies, 1023);
	}
	assert_int_equal(tw_ap_parse_n(&cfg, "1024", err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "-n: number of copies must be 1..1023, not '1024'");

	assert_int_equal(tw_ap_parse_r(&cfg, "50", err, sizeof(err)), 0);
	assert_int_equal(cfg.percent, 50);
	for (size_t i = 0; i < sizeof(bad_r) / sizeof(bad_r[0]); i++) {
		assert_int_equal(tw_ap_parse_r(&cfg, bad_r[i], err, sizeof(err)), -EINVAL);
		assert_memory_equal(err, "-r: ", 4);
		assert_int_equal(cfg.percent, 50);
	}
	assert_int_equal(tw_ap_parse_r(&cfg, "101", err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "-r: percentage must be 1..100, not '101'");

	assert_int_equal(tw_ap_parse_ports(&cfg, "2000-3000", err, sizeof(err)), 0);
	assert_int_equal(cfg.port_lo, 2000);
	assert_int_equal(cfg.port_hi, 3000);
	assert_int_equal(tw_ap_parse_ports(&cfg, "7-7", err, sizeof(err)), 0);
	assert_int_equal(cfg.port_lo, 7);
	for (size_t i = 0; i < sizeof(bad_p) / sizeof(bad_p[0]); i++) {
		assert_int_equal(tw_ap_parse_ports(&cfg, bad_p[i], err, sizeof(err)), -EINVAL);
		assert_memory_equal(err, "--port-range: ", 14);
		assert_int_equal(cfg.port_lo, 7);
		assert_int_equal(cfg.port_hi, 7);
	}
	assert_int_equal(tw_ap_parse_ports(&cfg, "3000-2000", err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "--port-range: want LO-HI within 1-65535, not '3000-2000'");
}

/* ---- matching and sampling -------------------------------------------------- */

static const struct tw_ap_rule *match(const char *dst, uint16_t port)
{
	struct tw_ap_ip d = ip(dst);

	return tw_ap_match(&cfg, d.ver, d.a, port);
}

static void test_match(void **state)
{
	tw_ap_cfg_init(&cfg);
	assert_null(match("10.0.0.1", 80));
	assert_int_equal(tw_ap_parse_x(&cfg,
				       "80-10.0.0.8:8081,10.0.0.1:80-10.0.0.9:8080,"
				       "443-[2001:db8::2]:8443,[2001:db8::1]:80-[2001:db8::3]:8080,"
				       "10.0.0.1:80-10.0.0.10:9999",
				       NULL, 0), 0);
	/* The rule naming the server IP wins over the earlier wildcard; the
	 * first of two such rules wins. */
	assert_ptr_equal(match("10.0.0.1", 80), &cfg.rule[1]);
	assert_ptr_equal(match("10.0.0.5", 80), &cfg.rule[0]);
	assert_null(match("10.0.0.1", 81));
	assert_null(match("10.0.0.1", 8080));
	assert_ptr_equal(match("10.0.0.1", 443), &cfg.rule[2]);
	assert_ptr_equal(match("2001:db8::9", 443), &cfg.rule[2]);
	assert_ptr_equal(match("2001:db8::1", 80), &cfg.rule[3]);
	assert_ptr_equal(match("2001:db8::2", 80), &cfg.rule[0]);
	/* An IPv4 address with the same first bytes as an IPv6 rule's does not
	 * match it, and vice versa. */
	{
		uint8_t a[16] = {0x20, 0x01, 0x0d, 0xb8};
		uint8_t b[16] = {10, 0, 0, 1};

		assert_ptr_equal(tw_ap_match(&cfg, 4, a, 80), &cfg.rule[0]);
		assert_ptr_equal(tw_ap_match(&cfg, 6, b, 80), &cfg.rule[0]);
		assert_null(tw_ap_match(&cfg, 5, b, 80));
	}
	assert_int_equal(cfg.rule[1].dst_port, 8080);
}

/* One wildcard rule per family (a dual-stack service): without -c a session
 * keeps its client address, so it goes to the target of its own IP version;
 * with -c, to the first target of a version -c has addresses of. A rule
 * naming the server IP still wins, even one that cannot be replayed. */
static void test_match_family(void **state)
{
	(void)state;
	tw_ap_cfg_init(&cfg);
	assert_int_equal(tw_ap_parse_x(&cfg, "80-10.0.0.2:8080,80-[fd00::2]:8080,"
					     "443-[fd00::3]:8443", NULL, 0), 0);
	assert_ptr_equal(match("10.0.0.1", 80), &cfg.rule[0]);
	assert_ptr_equal(match("fd00::1", 80), &cfg.rule[1]);
	assert_ptr_equal(match("fd00::1", 443), &cfg.rule[2]);
	/* no rule of its family: the first one, refused by tw_ap_alloc */
	assert_ptr_equal(match("10.0.0.1", 443), &cfg.rule[2]);

	assert_int_equal(tw_ap_parse_c(&cfg, "192.168.7.x", NULL, 0), 0);
	assert_ptr_equal(match("10.0.0.1", 80), &cfg.rule[0]);
	assert_ptr_equal(match("fd00::1", 80), &cfg.rule[0]);
	assert_ptr_equal(match("10.0.0.1", 443), &cfg.rule[2]);

	tw_ap_cfg_init(&cfg);
	assert_int_equal(tw_ap_parse_x(&cfg, "80-10.0.0.2:8080,80-[fd00::2]:8080", NULL, 0), 0);
	assert_int_equal(tw_ap_parse_c(&cfg, "fd00:2::/120", NULL, 0), 0);
	assert_ptr_equal(match("10.0.0.1", 80), &cfg.rule[1]);
	assert_ptr_equal(match("fd00::1", 80), &cfg.rule[1]);
	assert_int_equal(tw_ap_parse_c(&cfg, "10.9.9.9", NULL, 0), 0);
	assert_ptr_equal(match("fd00::1", 80), &cfg.rule[0]);

	tw_ap_cfg_init(&cfg);
	assert_int_equal(tw_ap_parse_x(&cfg, "[fd00::1]:80-10.0.0.2:8080,[fd00::1]:80-[fd00::2]:8080,"
					     "80-[fd00::9]:8080", NULL, 0), 0);
	assert_ptr_equal(match("fd00::1", 80), &cfg.rule[1]);
	cfg.nrules = 1;
	assert_ptr_equal(match("fd00::1", 80), &cfg.rule[0]);
}

/* Synthetic captured client I: 10.x.y.z with structure in the bits. */
static void synth(uint32_t i, uint8_t a[16])
{
	a[0] = 10;
	a[1] = (uint8_t)(i / 65536);
	a[2] = (uint8_t)(i / 256 % 4);
	a[3] = (uint8_t)(i % 251);
}

static void test_sample(void **state)
{
	static uint8_t pick[100000];
	uint32_t n = 100000, yes = 0, ip_varies = 0, port_varies = 0;
	uint8_t a[16] = {0};

	tw_ap_cfg_init(&cfg);
	assert_int_equal(tw_ap_parse_r(&cfg, "50", NULL, 0), 0);
	for (uint32_t i = 0; i < n; i++) {
		synth(i, a);
		pick[i] = tw_ap_sample(&cfg, 4, a, (uint16_t)(32768 + i % 7919));
		yes += pick[i];
	}
	/* sd of the fraction is 0.16 %: 49.2-50.8 % is five sd. TCPCopy: 45.5 %. */
	assert_in_range(yes, 49200, 50800);

	/* Deterministic: a fresh config with the same seed repeats every answer;
	 * another seed gives another selection. */
	struct tw_ap_cfg c2;
	uint32_t same = 0;

	tw_ap_cfg_init(&c2);
	assert_int_equal(tw_ap_parse_r(&c2, "50", NULL, 0), 0);
	for (uint32_t i = 0; i < n; i++) {
		synth(i, a);
		assert_int_equal(tw_ap_sample(&c2, 4, a, (uint16_t)(32768 + i % 7919)), pick[i]);
	}
	c2.seed ^= 1;
	for (uint32_t i = 0; i < n; i++) {
		synth(i, a);
		same += tw_ap_sample(&c2, 4, a, (uint16_t)(32768 + i % 7919)) == pick[i];
	}
	assert_in_range(same, 49000, 51000);

	/* Both the address and the port matter. */
	for (uint32_t i = 0; i < 1000; i++) {
		uint8_t b[16] = {192, 168, (uint8_t)(i >> 8), (uint8_t)i};

		port_varies += tw_ap_sample(&cfg, 4, b, 1000) != tw_ap_sample(&cfg, 4, b, 1001);
		b[3] ^= 1;
		ip_varies += tw_ap_sample(&cfg, 4, b, 1000) !=
			     tw_ap_sample(&cfg, 4, (uint8_t[16]){192, 168, (uint8_t)(i >> 8),
								 (uint8_t)i}, 1000);
	}
	assert_in_range(port_varies, 400, 600);
	assert_in_range(ip_varies, 400, 600);

	/* -r 10 over IPv6 clients; -r 100 takes everything. */
	assert_int_equal(tw_ap_parse_r(&cfg, "10", NULL, 0), 0);
	yes = 0;
	for (uint32_t i = 0; i < n; i++) {
		uint8_t b[16] = {0x20, 0x01, 0x0d, 0xb8, [12] = (uint8_t)(i >> 24),
				 (uint8_t)(i >> 16), (uint8_t)(i >> 8), (uint8_t)i};

		yes += tw_ap_sample(&cfg, 6, b, 443);
	}
	assert_in_range(yes, 9500, 10500);
	assert_int_equal(tw_ap_parse_r(&cfg, "100", NULL, 0), 0);
	for (uint32_t i = 0; i < 1000; i++) {
		a[3] = (uint8_t)i;
		assert_true(tw_ap_sample(&cfg, 4, a, (uint16_t)i));
	}
}

/* ---- allocator: shadow model ---------------------------------------------------- */

/* What the test knows about every (address index, port): live, and when it
 * was last released (0: never). */
#define SH_ADDRS 16
static uint8_t sh_live[SH_ADDRS][65536];
static uint64_t sh_rel[SH_ADDRS][65536];
static struct tw_ap_ip sh_addr[SH_ADDRS];
static int sh_n;

static void sh_reset(void)
{
	memset(sh_live, 0, sizeof(sh_live));
	memset(sh_rel, 0, sizeof(sh_rel));
	sh_n = 0;
}

static int sh_index(const struct tw_ap_ip *a)
{
	for (int i = 0; i < sh_n; i++)
		if (!memcmp(&sh_addr[i], a, sizeof(*a)))
			return i;
	assert_true(sh_n < SH_ADDRS);
	sh_addr[sh_n] = *a;
	return sh_n++;
}

/* Checks a fresh tuple against the model: not live, not reused within the
 * quarantine, in the port range, not a skipped port. */
static void sh_take(const struct tw_ap_tuple *t, uint64_t now, uint64_t q, uint16_t lo,
		    uint16_t hi, uint16_t skip)
{
	int a = sh_index(&t->ip);

	assert_false(sh_live[a][t->port]);
	if (sh_rel[a][t->port])
		assert_true(now - sh_rel[a][t->port] >= q);
	assert_in_range(t->port, lo, hi);
	assert_int_not_equal(t->port, skip);
	sh_live[a][t->port] = 1;
}

static void sh_give(const struct tw_ap_tuple *t, uint64_t now)
{
	int a = sh_index(&t->ip);

	assert_true(sh_live[a][t->port]);
	sh_live[a][t->port] = 0;
	sh_rel[a][t->port] = now;
}

/* Free ports of address A by the model, with a margin for the allocator's
 * ~1 ms time granularity. */
static uint32_t sh_free(int a, uint64_t now, uint64_t q, uint16_t lo, uint16_t hi, uint16_t skip)
{
	uint32_t n = 0;

	for (uint32_t p = lo; p <= hi; p++)
		if (p != skip && !sh_live[a][p] &&
		    (!sh_rel[a][p] || now - sh_rel[a][p] >= q + 3 * MS))
			n++;
	return n;
}

struct sess {
	uint64_t end;
	int n;
	struct tw_ap_tuple t[3];
};

/* Releases the tuples of the sessions of LIVE[*NLIVE] that ended by NOW,
 * logging the release times in REL_LOG when given; returns their number. */
static uint32_t end_sessions(struct tw_ap *ap, struct sess *live, int *nlive, uint64_t now,
			     uint64_t *rel_log, uint32_t *n_rel)
{
	uint32_t n = 0;

	for (int i = 0; i < *nlive;) {
		if (live[i].end > now) {
			i++;
			continue;
		}
		for (int c = 0; c < live[i].n; c++, n++) {
			assert_int_equal(tw_ap_release(ap, &live[i].t[c], now), 0);
			sh_give(&live[i].t[c], now);
			if (rel_log)
				rel_log[(*n_rel)++] = now;
		}
		live[i] = live[--*nlive];
	}
	return n;
}

/* 12 000 short sessions, -n 3, one -c address: the captured clients (3
 * addresses x 200 ports) reuse their ports about every 3 s, much less
 * than the 120 s quarantine. 36 000 tuples fit in the range: no refusal. */
static void test_one_c_addr_n3_short_sessions(void **state)
{
	static struct sess live[256];
	const uint64_t t0 = 5000 * SEC;
	struct tw_ap_stats st;
	struct tw_ap *ap;
	int nlive = 0, maxlive = 0;
	uint64_t now = t0;

	sh_reset();
	tw_ap_cfg_init(&cfg);
	assert_int_equal(tw_ap_parse_x(&cfg, "80-10.0.0.2:8080", NULL, 0), 0);
	assert_int_equal(tw_ap_parse_c(&cfg, "10.77.0.1", NULL, 0), 0);
	assert_int_equal(tw_ap_parse_n(&cfg, "3", NULL, 0), 0);
	assert_int_equal(tw_ap_create(&ap, &cfg, t0, err, sizeof(err)), 0);
	tw_ap_get_stats(ap, &st);
	assert_int_equal(st.naddr, 1);
	assert_int_equal(st.nports, 64512 - 1); /* 8080 skipped */

	for (int s = 0; s < 12000; s++) {
		struct tw_ap_ip orig = ip("192.168.1.1");
		uint16_t oport = (uint16_t)(40000 + s % 200);

		orig.a[3] = (uint8_t)(1 + s % 3);
		now += 5 * MS;
		end_sessions(ap, live, &nlive, now, NULL, NULL);
		struct sess *x = &live[nlive++];

		x->end = now + (20 + rnd() % 50) * MS;
		x->n = 3;
		for (unsigned c = 0; c < 3; c++) {
			assert_int_equal(tw_ap_alloc(ap, &orig, oport, 4, c, now, &x->t[c]), 0);
			assert_string_equal(ipstr(&x->t[c].ip), "10.77.0.1");
			sh_take(&x->t[c], now, cfg.quarantine_ns, 1024, 65535, 8080);
		}
		if (nlive > maxlive)
			maxlive = nlive;
	}
	tw_ap_get_stats(ap, &st);
	assert_int_equal(st.allocs, 36000);
	assert_int_equal(st.refused, 0);
	assert_int_equal(st.live, (uint32_t)nlive * 3);
	assert_int_equal(st.releases, 36000 - st.live);
	/* One -c address: a port is the same tuple whichever captured client
	 * had it, so only the first 200 sessions keep their captured port; the
	 * later ones come back within the quarantine and get fresh ports. */
	assert_int_equal(st.kept_port, 200);
	assert_true(maxlive >= 10);
	tw_ap_destroy(ap);
}

/* Exhaustion: 99 usable ports (2000-2099 minus the target port 2050) and a
 * 120 s quarantine. Sessions every 100 ms x 3 copies exhaust the address;
 * each refusal is counted and happens only when the model agrees no port
 * is free; once the quarantine passes, ports come back in release order,
 * and over 20 minutes the rate settles at 99 tuples per quarantine. */
static void test_exhaustion_recovers(void **state)
{
	static struct sess live[64];
	const uint64_t t0 = 1 * SEC, q = 120 * SEC;
	uint64_t now = t0, first_refusal = 0, refused = 0, got = 0, got_late = 0;
	struct tw_ap_stats st;
	struct tw_ap *ap;
	int nlive = 0;

	sh_reset();
	tw_ap_cfg_init(&cfg);
	assert_int_equal(tw_ap_parse_x(&cfg, "80-10.0.0.2:2050", NULL, 0), 0);
	assert_int_equal(tw_ap_parse_c(&cfg, "10.77.0.1", NULL, 0), 0);
	assert_int_equal(tw_ap_parse_n(&cfg, "3", NULL, 0), 0);
	assert_int_equal(tw_ap_parse_ports(&cfg, "2000-2099", NULL, 0), 0);
	assert_int_equal(tw_ap_create(&ap, &cfg, t0, err, sizeof(err)), 0);
	tw_ap_get_stats(ap, &st);
	assert_int_equal(st.nports, 99);
	sh_index(&(struct tw_ap_ip){.ver = 4, .a = {10, 77, 0, 1}});

	for (int s = 0; s < 12000; s++) {
		struct tw_ap_ip orig = ip("192.168.1.1");

		now += 100 * MS;
		end_sessions(ap, live, &nlive, now, NULL, NULL);
		struct sess *x = &live[nlive];

		x->end = now + 200 * MS;
		x->n = 0;
		for (unsigned c = 0; c < 3; c++) {
			int rc = tw_ap_alloc(ap, &orig, (uint16_t)(50000 + s % 7), 4, c, now,
					     &x->t[x->n]);

			if (rc == -EAGAIN) {
				refused++;
				if (!first_refusal)
					first_refusal = now;
				assert_int_equal(sh_free(0, now, q, 2000, 2099, 2050), 0);
				continue;
			}
			assert_int_equal(rc, 0);
			sh_take(&x->t[x->n], now, q, 2000, 2099, 2050);
			x->n++;
			got++;
			if (now - t0 >= 600 * SEC)
				got_late++;
		}
		if (x->n)
			nlive++;
	}
	tw_ap_get_stats(ap, &st);
	assert_int_equal(st.refused, refused);
	assert_int_equal(st.allocs, got);
	assert_true(first_refusal > t0 && first_refusal < t0 + 4 * SEC);
	/* Recovery: 1200 s of run, 99 ports per 120 s (+ the last partial). */
	assert_in_range(got, 99 * 10, 99 * 11);
	/* The second half (600 s) got its share: 5 quarantines' worth. */
	assert_in_range(got_late, 99 * 5 - 3, 99 * 5 + 3);
	tw_ap_destroy(ap);
}

/* -c with several addresses: the same captured client sticks to one
 * address for copy 0, copies land on distinct addresses, and clients
 * spread over all of them. Spill to the next address when one is full. */
static void test_c_sticky_and_spread(void **state)
{
	struct tw_ap_tuple t[3], u;
	uint32_t used[4] = {0};
	struct tw_ap_stats st;
	struct tw_ap *ap;

	tw_ap_cfg_init(&cfg);
	assert_int_equal(tw_ap_parse_c(&cfg, "10.9.0.3,10.9.0.1-10.9.0.2,10.9.0.4,10.9.0.2", NULL,
				       0), 0);
	assert_int_equal(tw_ap_parse_n(&cfg, "3", NULL, 0), 0);
	assert_int_equal(tw_ap_create(&ap, &cfg, 0, err, sizeof(err)), 0);
	tw_ap_get_stats(ap, &st);
	assert_int_equal(st.naddr, 4); /* the duplicate 10.9.0.2 counted once */
	for (int client = 0; client < 200; client++) {
		struct tw_ap_ip orig = ip("172.16.0.0");
		struct tw_ap_ip first = {0};

		orig.a[2] = (uint8_t)(client >> 8);
		orig.a[3] = (uint8_t)client;
		for (int s = 0; s < 5; s++) {
			for (unsigned c = 0; c < 3; c++)
				assert_int_equal(tw_ap_alloc(ap, &orig, (uint16_t)(30000 + s), 4, c,
							     (uint64_t)s * SEC, &t[c]), 0);
			assert_int_equal(t[0].ip.a[2], 0);
			assert_int_equal(t[0].ip.a[0], 10);
			if (s == 0)
				first = t[0].ip;
			assert_memory_equal(&t[0].ip, &first, sizeof(first));
			assert_memory_not_equal(&t[0].ip, &t[1].ip, sizeof(t[0].ip));
			assert_memory_not_equal(&t[0].ip, &t[2].ip, sizeof(t[0].ip));
			assert_memory_not_equal(&t[1].ip, &t[2].ip, sizeof(t[0].ip));
			for (unsigned c = 0; c < 3; c++)
				assert_int_equal(tw_ap_release(ap, &t[c], (uint64_t)s * SEC), 0);
		}
		used[first.a[3] - 1]++;
	}
	for (int i = 0; i < 4; i++)
		assert_in_range(used[i], 25, 75);
	tw_ap_destroy(ap);

	/* Spill: 10 ports per address, 2 addresses, one client. */
	tw_ap_cfg_init(&cfg);
	assert_int_equal(tw_ap_parse_c(&cfg, "10.9.0.1-10.9.0.2", NULL, 0), 0);
	assert_int_equal(tw_ap_parse_ports(&cfg, "2000-2009", NULL, 0), 0);
	assert_int_equal(tw_ap_create(&ap, &cfg, 0, err, sizeof(err)), 0);
	struct tw_ap_ip orig = ip("172.16.0.1"), sticky = {0};

	for (int i = 0; i < 20; i++) {
		assert_int_equal(tw_ap_alloc(ap, &orig, 2000, 4, 0, 0, &u), 0);
		if (i == 0)
			sticky = u.ip;
		if (i < 10)
			assert_memory_equal(&u.ip, &sticky, sizeof(u.ip));
		else
			assert_memory_not_equal(&u.ip, &sticky, sizeof(u.ip));
	}
	assert_int_equal(tw_ap_alloc(ap, &orig, 2000, 4, 0, 0, &u), -EAGAIN);
	tw_ap_get_stats(ap, &st);
	assert_int_equal(st.spilled, 10);
	assert_int_equal(st.refused, 1);
	assert_int_equal(st.kept_port, 2); /* port 2000 on each address */
	assert_int_equal(st.live, 20);
	tw_ap_destroy(ap);
}

/* Without -c: the captured client IP is kept, copy 0 keeps the captured
 * port, other copies and reuse within the quarantine get fresh ports;
 * the tuple table's size bounds the live + quarantined tuples. */
static void test_no_c(void **state)
{
	static struct sess live[256];
	struct tw_ap_tuple t[3];
	struct tw_ap_stats st;
	struct tw_ap *ap;
	struct tw_ap_ip orig = ip("192.168.7.7"), o6 = ip("2001:db8::77");
	uint64_t now = 0;
	int nlive = 0;

	tw_ap_cfg_init(&cfg);
	assert_int_equal(tw_ap_parse_n(&cfg, "3", NULL, 0), 0);
	assert_int_equal(tw_ap_parse_x(&cfg, "80-10.0.0.2:8080", NULL, 0), 0);
	assert_int_equal(tw_ap_create(&ap, &cfg, now, err, sizeof(err)), 0);
	for (unsigned c = 0; c < 3; c++) {
		assert_int_equal(tw_ap_alloc(ap, &orig, 40000, 4, c, now, &t[c]), 0);
		assert_memory_equal(&t[c].ip, &orig, sizeof(orig));
	}
	assert_int_equal(t[0].port, 40000);
	assert_int_not_equal(t[1].port, 40000);
	assert_int_not_equal(t[2].port, 40000);
	assert_int_not_equal(t[1].port, t[2].port);
	/* The captured port reused 1 s later: quarantined, so a fresh one. */
	for (unsigned c = 0; c < 3; c++)
		assert_int_equal(tw_ap_release(ap, &t[c], now), 0);
	assert_int_equal(tw_ap_alloc(ap, &orig, 40000, 4, 0, now + SEC, &t[0]), 0);
	assert_int_not_equal(t[0].port, 40000);
	assert_int_equal(tw_ap_release(ap, &t[0], now + SEC), 0);
	/* After the quarantine the captured port is kept again. */
	assert_int_equal(tw_ap_alloc(ap, &orig, 40000, 4, 0, now + 121 * SEC, &t[0]), 0);
	assert_int_equal(t[0].port, 40000);
	assert_int_equal(tw_ap_release(ap, &t[0], now + 121 * SEC), 0);
	/* Another address keeps its own ports; the target port is never used;
	 * an IPv6 client cannot go to an IPv4 target without -c. */
	assert_int_equal(tw_ap_alloc(ap, &o6, 40000, 6, 0, now + 121 * SEC, &t[0]), 0);
	assert_int_equal(t[0].port, 40000);
	assert_memory_equal(&t[0].ip, &o6, sizeof(o6));
	assert_int_equal(tw_ap_alloc(ap, &orig, 8080, 4, 0, now + 121 * SEC, &t[1]), 0);
	assert_int_not_equal(t[1].port, 8080);
	assert_int_equal(tw_ap_alloc(ap, &o6, 1, 4, 0, now, &t[2]), -EAFNOSUPPORT);
	assert_int_equal(tw_ap_alloc(ap, &o6, 1, 6, 3, now, &t[2]), -EINVAL); /* copy >= -n */
	tw_ap_destroy(ap);

	/* Probes skip the target port too: of 8079-8081 only two are usable. */
	assert_int_equal(tw_ap_parse_ports(&cfg, "8079-8081", NULL, 0), 0);
	assert_int_equal(tw_ap_create(&ap, &cfg, now, err, sizeof(err)), 0);
	assert_int_equal(tw_ap_alloc(ap, &orig, 1, 4, 0, now, &t[0]), 0);
	assert_int_equal(tw_ap_alloc(ap, &orig, 1, 4, 1, now, &t[1]), 0);
	assert_int_equal(t[0].port + t[1].port, 8079 + 8081);
	assert_int_equal(tw_ap_alloc(ap, &orig, 1, 4, 2, now, &t[2]), -EAGAIN);
	tw_ap_get_stats(ap, &st);
	assert_int_equal(st.refused, 1);
	assert_int_equal(st.nports, 2);
	tw_ap_destroy(ap);

	/* 10 000 sessions x 3 copies from 4 clients reusing 50 ports each, with
	 * a table of 2 000 tuples: refusals are counted and happen exactly when
	 * the model's live + quarantined tuples fill the table. */
	sh_reset();
	tw_ap_cfg_init(&cfg);
	cfg.max_tuples = 2000;
	cfg.quarantine_ns = 10 * SEC;
	assert_int_equal(tw_ap_parse_n(&cfg, "3", NULL, 0), 0);
	assert_int_equal(tw_ap_create(&ap, &cfg, now, err, sizeof(err)), 0);
	uint64_t refused = 0, got = 0;
	static uint64_t rel_t[40000];
	uint32_t n_rel = 0, rel_done = 0, n_live = 0;

	for (int s = 0; s < 10000; s++) {
		struct tw_ap_ip o = ip("192.168.5.0");
		uint32_t held = 0;

		o.a[3] = (uint8_t)(s % 4);
		now += 10 * MS;
		n_live -= end_sessions(ap, live, &nlive, now, rel_t, &n_rel);
		struct sess *x = &live[nlive];

		while (rel_done < n_rel && now - rel_t[rel_done] >= cfg.quarantine_ns)
			rel_done++;
		x->end = now + (10 + rnd() % 80) * MS;
		x->n = 0;
		for (unsigned c = 0; c < 3; c++) {
			int rc = tw_ap_alloc(ap, &o, (uint16_t)(33000 + s % 50), 4, c, now,
					     &x->t[x->n]);

			if (rc == -EAGAIN) {
				held = n_live + (n_rel - rel_done);
				assert_int_equal(held, 2000);
				refused++;
				continue;
			}
			assert_int_equal(rc, 0);
			assert_memory_equal(&x->t[x->n].ip, &o, sizeof(o));
			sh_take(&x->t[x->n], now, cfg.quarantine_ns, 1024, 65535, 0);
			x->n++;
			got++;
			n_live++;
			assert_true(n_live + (n_rel - rel_done) <= 2000);
		}
		if (x->n)
			nlive++;
	}
	tw_ap_get_stats(ap, &st);
	assert_int_equal(st.refused, refused);
	assert_true(refused > 0);
	/* 100 s of run, 10 s quarantine, 2 000 tuples: ~2 000 per 10 s. */
	assert_in_range(got, 18000, 22000);
	tw_ap_destroy(ap);
}

/* IPv6 -c addresses, and a mixed -c list serving both target versions. */
static void test_ipv6(void **state)
{
	struct tw_ap_tuple t[2], u;
	struct tw_ap *ap;
	struct tw_ap_ip o4 = ip("192.168.0.9"), o6 = ip("2001:db8:1::9");

	tw_ap_cfg_init(&cfg);
	assert_int_equal(tw_ap_parse_x(&cfg, "[2001:db8::1]:80-[2001:db8::2]:8080", NULL, 0), 0);
	assert_int_equal(tw_ap_parse_c(&cfg, "2001:db8:ff::/124", NULL, 0), 0);
	assert_int_equal(tw_ap_parse_n(&cfg, "2", NULL, 0), 0);
	assert_int_equal(tw_ap_create(&ap, &cfg, 0, err, sizeof(err)), 0);
	assert_int_equal(tw_ap_alloc(ap, &o6, 5555, 6, 0, 0, &t[0]), 0);
	assert_int_equal(tw_ap_alloc(ap, &o6, 5555, 6, 1, 0, &t[1]), 0);
	assert_int_equal(t[0].ip.ver, 6);
	assert_memory_equal(t[0].ip.a, "\x20\x01\x0d\xb8\x00\xff", 6);
	assert_in_range(t[0].ip.a[15], 1, 15);
	assert_memory_not_equal(&t[0].ip, &t[1].ip, sizeof(t[0].ip));
	assert_int_equal(t[0].port, 5555);
	assert_int_equal(t[1].port, 5555);
	/* An IPv4 client to this IPv6 target is fine; an IPv4 target is not. */
	assert_int_equal(tw_ap_alloc(ap, &o4, 5556, 6, 0, 0, &u), 0);
	assert_int_equal(u.ip.ver, 6);
	assert_int_equal(tw_ap_alloc(ap, &o6, 5555, 4, 0, 0, &u), -EAFNOSUPPORT);
	tw_ap_destroy(ap);

	tw_ap_cfg_init(&cfg);
	assert_int_equal(tw_ap_parse_c(&cfg, "2001:db8::5,10.3.3.3", NULL, 0), 0);
	assert_int_equal(tw_ap_create(&ap, &cfg, 0, err, sizeof(err)), 0);
	assert_int_equal(tw_ap_alloc(ap, &o6, 7000, 4, 0, 0, &u), 0);
	assert_string_equal(ipstr(&u.ip), "10.3.3.3");
	assert_int_equal(tw_ap_alloc(ap, &o6, 7000, 6, 0, 0, &u), 0);
	assert_string_equal(ipstr(&u.ip), "2001:db8::5");
	assert_int_equal(tw_ap_alloc(ap, &o4, 7000, 6, 0, 0, &u), 0);
	assert_string_equal(ipstr(&u.ip), "2001:db8::5");
	assert_int_not_equal(u.port, 7000);
	tw_ap_destroy(ap);
}

static void test_release_misuse_and_time(void **state)
{
	struct tw_ap_tuple t, bad;
	struct tw_ap_stats st;
	struct tw_ap *ap;
	struct tw_ap_ip o = ip("192.168.0.1");

	for (int mode = 0; mode < 2; mode++) {
		tw_ap_cfg_init(&cfg);
		if (mode)
			assert_int_equal(tw_ap_parse_c(&cfg, "10.1.1.1", NULL, 0), 0);
		assert_int_equal(tw_ap_parse_ports(&cfg, "3000-3000", NULL, 0), 0);
		assert_int_equal(tw_ap_create(&ap, &cfg, 100 * SEC, err, sizeof(err)), 0);
		assert_int_equal(tw_ap_alloc(ap, &o, 3000, 4, 0, 100 * SEC, &t), 0);
		assert_int_equal(t.port, 3000);
		bad = t;
		bad.port = 3001;
		assert_int_equal(tw_ap_release(ap, &bad, 100 * SEC), -EINVAL);
		bad = t;
		bad.ref += 7;
		assert_int_equal(tw_ap_release(ap, &bad, 100 * SEC), -EINVAL);
		bad = t;
		bad.ip.a[3] ^= 1;
		assert_int_equal(tw_ap_release(ap, &bad, 100 * SEC), -EINVAL);
		assert_int_equal(tw_ap_release(ap, &t, 200 * SEC), 0);
		assert_int_equal(tw_ap_release(ap, &t, 200 * SEC), -EINVAL); /* twice */
		/* Time going backwards counts as the latest time seen. */
		assert_int_equal(tw_ap_alloc(ap, &o, 3000, 4, 0, 50 * SEC, &t), -EAGAIN);
		assert_int_equal(tw_ap_alloc(ap, &o, 3000, 4, 0, 320 * SEC - 1, &t), -EAGAIN);
		/* Without -c the quarantine is exact to the ns; with -c it may
		 * last up to two ~1 ms ticks longer. */
		assert_int_equal(tw_ap_alloc(ap, &o, 3000, 4, 0, 320 * SEC + (mode ? 3 * MS : 0), &t),
				 0);
		tw_ap_get_stats(ap, &st);
		assert_int_equal(st.bad_release, 4);
		assert_int_equal(st.releases, 1);
		assert_int_equal(st.refused, 2);
		assert_int_equal(st.allocs, 2);
		assert_int_equal(st.live, 1);
		tw_ap_destroy(ap);
	}
	tw_ap_destroy(NULL);
}

static void test_create_errors(void **state)
{
	struct tw_ap *ap = (struct tw_ap *)1;

	tw_ap_cfg_init(&cfg);
	assert_int_equal(tw_ap_parse_x(&cfg, "80-10.0.0.2:8080,81-10.0.0.2:8081", NULL, 0), 0);
	assert_int_equal(tw_ap_parse_ports(&cfg, "8080-8081", NULL, 0), 0);
	assert_int_equal(tw_ap_create(&ap, &cfg, 0, err, sizeof(err)), -EINVAL);
	assert_null(ap);
	assert_string_equal(err, "--port-range: no client port left in 8080-8081 once the "
				 "target ports are skipped");

	tw_ap_cfg_init(&cfg);
	assert_int_equal(tw_ap_parse_c(&cfg, "10.0.0.0/21,10.1.0.0/21", NULL, 0), 0);
	assert_int_equal(tw_ap_create(&ap, &cfg, 0, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "-c: 4092 addresses x 64512 ports need 2014 MB (limit 1024 MB): "
				 "give fewer -c addresses or a narrower --port-range");
	assert_int_equal(tw_ap_parse_ports(&cfg, "60000-60999", NULL, 0), 0);
	assert_int_equal(tw_ap_create(&ap, &cfg, 0, err, sizeof(err)), 0);
	tw_ap_destroy(ap);

	tw_ap_cfg_init(&cfg);
	cfg.max_tuples = 0;
	assert_int_equal(tw_ap_create(&ap, &cfg, 0, err, sizeof(err)), -EINVAL);
	assert_memory_equal(err, "address plan: bad sizes", 23);
	tw_ap_cfg_init(&cfg);
	cfg.quarantine_ns = TW_AP_MAX_QUARANTINE_NS + 1;
	assert_int_equal(tw_ap_create(&ap, &cfg, 0, NULL, 0), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_x_good),
		cmocka_unit_test(test_parse_x_bad),
		cmocka_unit_test(test_parse_c_good),
		cmocka_unit_test(test_parse_c_bad),
		cmocka_unit_test(test_parse_nr_ports),
		cmocka_unit_test(test_match),
		cmocka_unit_test(test_match_family),
		cmocka_unit_test(test_sample),
		cmocka_unit_test(test_one_c_addr_n3_short_sessions),
		cmocka_unit_test(test_exhaustion_recovers),
		cmocka_unit_test(test_c_sticky_and_spread),
		cmocka_unit_test(test_no_c),
		cmocka_unit_test(test_ipv6),
		cmocka_unit_test(test_release_misuse_and_time),
		cmocka_unit_test(test_create_errors),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
