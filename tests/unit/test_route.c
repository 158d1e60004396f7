/*
 * test_route.c - the pure parts of src/send: rtnetlink request builders
 * (byte-exact against hand-annotated messages), reply parsers on canned
 * kernel-shaped replies (route with gateway/prefsrc/MTU metric, multipath,
 * link, neighbour, NLMSG_ERROR, truncation at every length), and the sink
 * helpers: destination from the IP header, error bookkeeping, and the
 * sendmmsg loop (tw_sink_mmsg) on an AF_UNIX datagram pair (per-packet
 * EMSGSIZE, EAGAIN stopping the run). No root, no network.
 * Netlink is host byte order: the canned bytes are little-endian, so the
 * byte-level tests skip on big-endian hosts.
 */
#include "core/err.h"
#include "send/route.h"
#include "send/sink.h"

#include <errno.h>
#include <linux/neighbour.h>
#include <linux/rtnetlink.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#define LE (__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__)
#define NEED_LE()                      \
	do {                           \
		if (!LE)               \
			skip();        \
	} while (0)

static const uint8_t ip_tg[4] = { 10, 10, 0, 2 };

static void build_getroute_v4(void **state)
{
	/* ip route get 10.10.0.2 oif 3 */
	static const uint8_t want[] = {
		0x2c, 0, 0, 0,  0x1a, 0,  0x01, 0,  7, 0, 0, 0,  0, 0, 0, 0, /* len 44, RTM_GETROUTE, REQUEST, seq 7 */
		2, 32, 0, 0, 0, 0, 0, 0,  0, 0, 0, 0,                       /* rtmsg: AF_INET, dst_len 32 */
		8, 0, 1, 0,  10, 10, 0, 2,                                  /* RTA_DST */
		8, 0, 4, 0,  3, 0, 0, 0,                                    /* RTA_OIF 3 */
	};
	uint8_t buf[128];
	int n;

	(void)state;
	NEED_LE();
	n = tw_rtnl_build_getroute(buf, sizeof(buf), 7, AF_INET, ip_tg, 3);
	assert_int_equal(n, sizeof(want));
	assert_memory_equal(buf, want, sizeof(want));
	/* without OIF: no RTA_OIF, length 36 */
	n = tw_rtnl_build_getroute(buf, sizeof(buf), 7, AF_INET, ip_tg, 0);
	assert_int_equal(n, 36);
	assert_int_equal(buf[0], 36);
	/* too small a buffer, bad family */
	assert_int_equal(tw_rtnl_build_getroute(buf, 40, 7, AF_INET, ip_tg, 3), -ENOSPC);
	assert_int_equal(tw_rtnl_build_getroute(buf, sizeof(buf), 7, AF_UNIX, ip_tg, 3), -EINVAL);
}

static void build_neigh_v6(void **state)
{
	static const uint8_t a6[16] = { 0xfd, 0, 0, 0x10, [15] = 2 };
	/* ip neigh get fd00:10::2 dev #5 */
	static const uint8_t want_get[] = {
		0x30, 0, 0, 0,  0x1e, 0,  0x01, 0,  9, 0, 0, 0,  0, 0, 0, 0, /* len 48, RTM_GETNEIGH */
		10, 0, 0, 0,  5, 0, 0, 0,  0, 0,  0,  0,                    /* ndmsg: AF_INET6, ifindex 5 */
		20, 0, 1, 0,  0xfd, 0, 0, 0x10, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2, /* NDA_DST */
	};
	/* ip neigh replace fd00:10::2 dev #5 use (state NONE) */
	static const uint8_t want_use[] = {
		0x30, 0, 0, 0,  0x1c, 0,  0x05, 0x05,  10, 0, 0, 0,  0, 0, 0, 0, /* RTM_NEWNEIGH,
		                                  REQUEST|ACK|REPLACE|CREATE */
		10, 0, 0, 0,  5, 0, 0, 0,  0, 0,  NTF_USE, 0,              /* state 0, flags NTF_USE */
		20, 0, 1, 0,  0xfd, 0, 0, 0x10, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2,
	};
	uint8_t buf[128];

	(void)state;
	NEED_LE();
	assert_int_equal(tw_rtnl_build_getneigh(buf, sizeof(buf), 9, AF_INET6, 5, a6), sizeof(want_get));
	assert_memory_equal(buf, want_get, sizeof(want_get));
	assert_int_equal(tw_rtnl_build_neigh_use(buf, sizeof(buf), 10, AF_INET6, 5, a6), sizeof(want_use));
	assert_memory_equal(buf, want_use, sizeof(want_use));
	assert_int_equal(tw_rtnl_build_getneigh(buf, sizeof(buf), 9, AF_INET6, 0, a6), -EINVAL);
}

static void build_getlink_name(void **state)
{
	static const uint8_t want[] = {
		0x2c, 0, 0, 0,  0x12, 0,  0x01, 0,  1, 0, 0, 0,  0, 0, 0, 0, /* len 44, RTM_GETLINK */
		0, 0, 0, 0,  0, 0, 0, 0,  0, 0, 0, 0,  0, 0, 0, 0,          /* ifinfomsg, index 0 */
		9, 0, 3, 0,  'e', 't', 'h', '0', 0, 0, 0, 0,               /* IFLA_IFNAME "eth0\0" + pad */
	};
	uint8_t buf[128];

	(void)state;
	NEED_LE();
	assert_int_equal(tw_rtnl_build_getlink(buf, sizeof(buf), 1, 0, "eth0"), sizeof(want));
	assert_memory_equal(buf, want, sizeof(want));
	assert_int_equal(tw_rtnl_build_getlink(buf, sizeof(buf), 1, 0, "a-name-longer-than-15"), -ENODEV);
	assert_int_equal(tw_rtnl_build_getlink(buf, sizeof(buf), 1, 0, NULL), -EINVAL);
}

/* An RTM_NEWROUTE as the kernel answers `ip route get 10.98.0.7` with
 * `10.98.0.0/24 via 10.10.0.3 dev eth0 mtu 1300` (oif 2). */
static const uint8_t route_reply[] = {
	0x60, 0, 0, 0,  0x18, 0,  0, 0,  7, 0, 0, 0,  0, 0, 0, 0,    /* len 96, RTM_NEWROUTE */
	2, 32, 0, 0,  254, 2, 0, 1,  0, 2, 0, 0,                     /* AF_INET, main, UNICAST,
	                                                              * flags RTM_F_CLONED */
	8, 0, 15, 0,  254, 0, 0, 0,                                  /* RTA_TABLE 254 */
	8, 0, 1, 0,   10, 98, 0, 7,                                  /* RTA_DST */
	8, 0, 4, 0,   2, 0, 0, 0,                                    /* RTA_OIF 2 */
	8, 0, 5, 0,   10, 10, 0, 3,                                  /* RTA_GATEWAY */
	8, 0, 7, 0,   10, 10, 0, 1,                                  /* RTA_PREFSRC */
	12, 0, 8, 0,  8, 0, 2, 0,  0x14, 0x05, 0, 0,                 /* RTA_METRICS { RTAX_MTU 1300 } */
	8, 0, 25, 0,  0, 0, 0, 0,                                    /* RTA_UID 0 */
	5, 0, 0x7f, 0,  1, 0, 0, 0,                                  /* unknown type, odd length */
};

static void parse_route_gateway_mtu(void **state)
{
	static const uint8_t gw[4] = { 10, 10, 0, 3 }, src[4] = { 10, 10, 0, 1 },
			     dst[4] = { 10, 98, 0, 7 };
	struct tw_route r;

	(void)state;
	NEED_LE();
	assert_int_equal(tw_rtnl_parse_route(route_reply, sizeof(route_reply), &r), 0);
	assert_int_equal(r.family, AF_INET);
	assert_int_equal(r.type, RTN_UNICAST);
	assert_int_equal(r.oif, 2);
	assert_true(r.has_gateway);
	assert_memory_equal(r.gateway, gw, 4);
	assert_memory_equal(r.nexthop, gw, 4);
	assert_memory_equal(r.dst, dst, 4);
	assert_true(r.has_prefsrc);
	assert_memory_equal(r.prefsrc, src, 4);
	assert_int_equal(r.route_mtu, 1300);
	assert_int_equal(r.mtu, 1300);
	assert_int_equal(r.dev_mtu, 0);
}

static void parse_route_onlink_multipath(void **state)
{
	/* on-link v4 without metrics: nexthop = dst */
	static const uint8_t onlink[] = {
		0x2c, 0, 0, 0,  0x18, 0,  0, 0,  1, 0, 0, 0,  0, 0, 0, 0,
		2, 32, 0, 0,  254, 2, 0, 1,  0, 2, 0, 0,
		8, 0, 1, 0,  10, 10, 0, 2,
		8, 0, 4, 0,  2, 0, 0, 0,
	};
	/* multipath: no RTA_OIF; first hop ifindex 4 via 10.0.0.9, second ifindex 5 */
	static const uint8_t mp[] = {
		0x40, 0, 0, 0,  0x18, 0,  0, 0,  1, 0, 0, 0,  0, 0, 0, 0,
		2, 32, 0, 0,  254, 2, 0, 1,  0, 0, 0, 0,
		8, 0, 1, 0,  10, 20, 0, 1,
		28, 0, 9, 0,                                               /* RTA_MULTIPATH */
		16, 0, 0, 0,  4, 0, 0, 0,  8, 0, 5, 0,  10, 0, 0, 9,        /* rtnexthop + RTA_GATEWAY */
		8, 0, 0, 0,  5, 0, 0, 0,
	};
	struct tw_route r;

	(void)state;
	NEED_LE();
	assert_int_equal(tw_rtnl_parse_route(onlink, sizeof(onlink), &r), 0);
	assert_false(r.has_gateway);
	assert_memory_equal(r.nexthop, ip_tg, 4);
	assert_int_equal(r.mtu, 0);
	assert_int_equal(tw_rtnl_parse_route(mp, sizeof(mp), &r), 0);
	assert_int_equal(r.oif, 4);
	assert_true(r.has_gateway);
	assert_int_equal(r.nexthop[3], 9);
}

static void parse_errors_and_truncation(void **state)
{
	/* NLMSG_ERROR -101 (ENETUNREACH) answering our request */
	static const uint8_t nlerr[] = {
		0x24, 0, 0, 0,  2, 0,  0, 1,  7, 0, 0, 0,  0, 0, 0, 0,
		0x9b, 0xff, 0xff, 0xff,
		0x2c, 0, 0, 0,  0x1a, 0,  0x01, 0,  7, 0, 0, 0,  0, 0, 0, 0,
	};
	uint8_t buf[sizeof(route_reply)];
	struct tw_route r;
	struct tw_neigh n;
	size_t len;
	int rc;

	(void)state;
	NEED_LE();
	assert_int_equal(tw_rtnl_parse_route(nlerr, sizeof(nlerr), &r), -ENETUNREACH);
	assert_int_equal(tw_rtnl_parse_neigh(nlerr, sizeof(nlerr), AF_INET, &n), -ENETUNREACH);
	/* a route reply given to the neighbour parser */
	assert_int_equal(tw_rtnl_parse_neigh(route_reply, sizeof(route_reply), AF_INET, &n),
			 -TW_EMALFORMED);
	/* every cut of the buffer: nlmsg_len says more than there is */
	for (len = 0; len < sizeof(route_reply); len++)
		assert_int_equal(tw_rtnl_parse_route(route_reply, len, &r), -TW_ETRUNC);
	/* every nlmsg_len over the whole buffer: never a crash; a cut inside an
	 * attribute is -TW_ETRUNC, a cut on an attribute boundary parses */
	for (len = 0; len < sizeof(route_reply); len++) {
		memcpy(buf, route_reply, sizeof(buf));
		buf[0] = (uint8_t)len;
		rc = tw_rtnl_parse_route(buf, sizeof(buf), &r);
		if (len < 16 + 12)
			assert_int_equal(rc, -TW_ETRUNC);
		else
			assert_true(rc == 0 || rc == -TW_ETRUNC);
		if (len == 16 + 12 + 8 + 8 + 8)     /* table, dst, oif */
			assert_int_equal(rc, 0);
		if (len == 16 + 12 + 6)             /* inside RTA_TABLE */
			assert_int_equal(rc, -TW_ETRUNC);
	}
	/* an attribute claiming more than the message holds */
	memcpy(buf, route_reply, sizeof(buf));
	buf[28] = 200;
	assert_int_equal(tw_rtnl_parse_route(buf, sizeof(buf), &r), -TW_ETRUNC);
}

static void parse_neigh_link(void **state)
{
	static const uint8_t neigh[] = {
		0x30, 0, 0, 0,  0x1c, 0,  0, 0,  3, 0, 0, 0,  0, 0, 0, 0, /* RTM_NEWNEIGH */
		2, 0, 0, 0,  2, 0, 0, 0,  2, 0,  0, 1,                    /* AF_INET, if 2, REACHABLE */
		8, 0, 1, 0,  10, 10, 0, 2,                                /* NDA_DST */
		10, 0, 2, 0,  0xc2, 0xe6, 0x49, 0x19, 0x47, 0xfb, 0, 0,   /* NDA_LLADDR */
	};
	static const uint8_t link[] = {
		0x40, 0, 0, 0,  0x10, 0,  0, 0,  4, 0, 0, 0,  0, 0, 0, 0, /* RTM_NEWLINK */
		0, 0, 1, 0,  2, 0, 0, 0,  0x43, 0x10, 1, 0,  0, 0, 0, 0,  /* ARPHRD_ETHER, if 2, UP */
		9, 0, 3, 0,  'e', 't', 'h', '0', 0, 0, 0, 0,              /* IFLA_IFNAME */
		8, 0, 4, 0,  0x78, 0x05, 0, 0,                            /* IFLA_MTU 1400 */
		10, 0, 1, 0,  0x02, 0, 0, 0, 0, 0x01, 0, 0,               /* IFLA_ADDRESS */
	};
	static const uint8_t mac[6] = { 0xc2, 0xe6, 0x49, 0x19, 0x47, 0xfb };
	uint8_t buf[sizeof(link)];
	struct tw_neigh n;
	struct tw_link l;

	(void)state;
	NEED_LE();
	assert_int_equal(tw_rtnl_parse_neigh(neigh, sizeof(neigh), AF_INET, &n), 0);
	assert_int_equal(n.ifindex, 2);
	assert_int_equal(n.state, NUD_REACHABLE);
	assert_int_equal(n.lladdr_len, 6);
	assert_memory_equal(n.lladdr, mac, 6);
	assert_true(tw_route_neigh_usable(n.state));
	assert_false(tw_route_neigh_usable(NUD_INCOMPLETE));
	assert_false(tw_route_neigh_usable(NUD_FAILED));
	assert_true(tw_route_neigh_usable(NUD_STALE));
	assert_int_equal(tw_rtnl_parse_neigh(neigh, sizeof(neigh), AF_INET6, &n), -TW_EMALFORMED);

	assert_int_equal(tw_rtnl_parse_link(link, sizeof(link), &l), 0);
	assert_int_equal(l.ifindex, 2);
	assert_string_equal(l.name, "eth0");
	assert_int_equal(l.mtu, 1400);
	assert_int_equal(l.type, 1);
	assert_int_equal(l.addr_len, 6);
	assert_int_equal(l.addr[5], 0x01);
	/* a name without its NUL is ignored, not read past */
	memcpy(buf, link, sizeof(buf));
	buf[32] = 12;
	memcpy(buf + 36, "eth0wxyz", 8);
	assert_int_equal(tw_rtnl_parse_link(buf, sizeof(buf), &l), 0);
	assert_string_equal(l.name, "");
}

static void sink_pkt_dst(void **state)
{
	uint8_t v4[20] = { 0x45, 0, 0, 20, [9] = 6, [12] = 192, 168, 200, 1, 10, 10, 0, 2 };
	uint8_t v6[40] = { 0x60, [6] = 6, [24] = 0xfd, [39] = 2 };
	struct tw_sink_pkt p = { .data = v4, .len = sizeof(v4) };
	struct tw_sink_addr d;

	(void)state;
	assert_int_equal(tw_sink_pkt_dst(&p, &d), AF_INET);
	assert_int_equal(d.family, AF_INET);
	assert_memory_equal(d.addr, ip_tg, 4);
	p.len = 19;
	assert_int_equal(tw_sink_pkt_dst(&p, &d), -EINVAL);
	p.len = 20;
	v4[0] = 0x44;     /* IHL 4 */
	assert_int_equal(tw_sink_pkt_dst(&p, &d), -EINVAL);
	v4[0] = 0x45;
	p.dst.family = AF_INET6;   /* caller's destination of the other family */
	assert_int_equal(tw_sink_pkt_dst(&p, &d), -EINVAL);
	p.dst.family = AF_INET;
	p.dst.addr[0] = 172;
	assert_int_equal(tw_sink_pkt_dst(&p, &d), AF_INET);
	assert_int_equal(d.addr[0], 172);

	p = (struct tw_sink_pkt){ .data = v6, .len = sizeof(v6) };
	assert_int_equal(tw_sink_pkt_dst(&p, &d), AF_INET6);
	assert_int_equal(d.addr[0], 0xfd);
	assert_int_equal(d.addr[15], 2);
	p.len = 39;
	assert_int_equal(tw_sink_pkt_dst(&p, &d), -EINVAL);
	p.len = 0;
	assert_int_equal(tw_sink_pkt_dst(&p, &d), -EINVAL);
}

static void sink_count_kinds(void **state)
{
	struct tw_sink s;
	struct tw_sink_pkt p = { .len = 100, .flags = TW_SINK_PKT_RETRY };

	(void)state;
	memset(&s, 0, sizeof(s));
	tw_sink_count(&s, &p, 0);
	tw_sink_count(&s, &p, -EMSGSIZE);
	tw_sink_count(&s, &p, -ENOBUFS);
	tw_sink_count(&s, &p, -EAGAIN);
	tw_sink_count(&s, &p, -EPERM);
	tw_sink_count(&s, &p, -EHOSTUNREACH);
	tw_sink_count(&s, &p, -EINVAL);
	assert_int_equal(p.err, -EINVAL);
	assert_int_equal(s.st.packets, 1);
	assert_int_equal(s.st.bytes, 100);
	assert_int_equal(s.st.retries, 1);
	assert_int_equal(s.st.err_msgsize, 1);
	assert_int_equal(s.st.err_nobufs, 2);
	assert_int_equal(s.st.err_perm, 1);
	assert_int_equal(s.st.err_unreach, 1);
	assert_int_equal(s.st.err_other, 1);
}

/* tw_sink_mmsg on an AF_UNIX datagram pair: a message above the send buffer
 * fails alone with EMSGSIZE; a full receive queue (EAGAIN) stops the run. */
static void sink_mmsg_loop(void **state)
{
	enum { N = 64 };
	static uint8_t small[16], big[1 << 20];
	struct mmsghdr msgs[N];
	struct iovec iov[N];
	struct tw_sink_pkt pkts[N], *pk[N];
	struct tw_sink s;
	int sv[2], stop, i, sndbuf = 4096;
	unsigned sent;
	uint8_t rbuf[64];

	(void)state;
	assert_int_equal(socketpair(AF_UNIX, SOCK_DGRAM, 0, sv), 0);
	assert_int_equal(setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof(sndbuf)), 0);
	memset(&s, 0, sizeof(s));
	memset(msgs, 0, sizeof(msgs));
	for (i = 0; i < N; i++) {
		pkts[i] = (struct tw_sink_pkt){ .data = i == 1 ? big : small,
						.len = i == 1 ? sizeof(big) : sizeof(small) };
		iov[i].iov_base = (void *)(uintptr_t)pkts[i].data;
		iov[i].iov_len = pkts[i].len;
		msgs[i].msg_hdr.msg_iov = &iov[i];
		msgs[i].msg_hdr.msg_iovlen = 1;
		pk[i] = &pkts[i];
	}
	/* three messages, the middle one too big */
	sent = tw_sink_mmsg(&s, sv[0], msgs, pk, 3, &stop);
	assert_int_equal(sent, 2);
	assert_int_equal(stop, 0);
	assert_int_equal(pkts[0].err, 0);
	assert_int_equal(pkts[1].err, -EMSGSIZE);
	assert_int_equal(pkts[2].err, 0);
	assert_int_equal(s.st.calls, 3);   /* [0], [1] refused, [2] */
	assert_int_equal(s.st.err_msgsize, 1);
	assert_int_equal(recv(sv[1], rbuf, sizeof(rbuf), 0), 16);
	assert_int_equal(recv(sv[1], rbuf, sizeof(rbuf), 0), 16);

	/* 61 small ones into an unread queue: some pass, then EAGAIN for all
	 * the rest, in order */
	memset(&s, 0, sizeof(s));
	sent = tw_sink_mmsg(&s, sv[0], msgs + 3, pk + 3, N - 3, &stop);
	assert_true(sent >= 1 && sent < N - 3);
	assert_int_equal(stop, -EAGAIN);
	for (i = 3; i < N; i++)
		assert_int_equal(pkts[i].err, i < 3 + (int)sent ? 0 : -EAGAIN);
	assert_int_equal(s.st.packets, sent);
	assert_int_equal(s.st.err_nobufs, N - 3 - sent);
	close(sv[0]);
	close(sv[1]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(build_getroute_v4),
		cmocka_unit_test(build_neigh_v6),
		cmocka_unit_test(build_getlink_name),
		cmocka_unit_test(parse_route_gateway_mtu),
		cmocka_unit_test(parse_route_onlink_multipath),
		cmocka_unit_test(parse_errors_and_truncation),
		cmocka_unit_test(parse_neigh_link),
		cmocka_unit_test(sink_pkt_dst),
		cmocka_unit_test(sink_count_kinds),
		cmocka_unit_test(sink_mmsg_loop),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
