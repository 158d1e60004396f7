/*
 * test_relay.c - unit tests of the copy <-> intercept channel code:
 * src/relay/conn.c, auth.c, client.c (copy side) and server.c (intercept
 * side), talking real TCP over 127.0.0.1 only.
 *
 * The server runs on its own event loop, the client on another, both driven
 * from the test thread by tw_loop_run_once until a condition holds or a
 * bounded number of turns has passed (a 1 ms tick timer on the server loop
 * bounds each blocking turn). Only tw_relay_client_open blocks (connect and
 * handshake): while it runs, a second thread runs the server loop, and is
 * joined before the test goes on, so everything else is single-threaded.
 * No sleeps, no timing assertions.
 *
 * Covered: handshake without and with a shared secret; refusals (wrong
 * secret, secret on one side only, --allow networks, versions, connection
 * limit, a non-tcptwin peer on either side, an intercept whose AUTH does not
 * verify, nothing listening); registration and the routing of reply records
 * with every field kept; unmatched replies; early SYN-ACK / RST replies held
 * until their registration, expired or overflowing the hold; two copies with
 * their own tuples and a tuple moving to the newer registration;
 * unregistration; 5000 registrations over many frames; batching of many
 * replies; a copy that leaves (SHUTDOWN) losing its registrations; a ready
 * copy refused for a protocol error losing its registrations; replies to a
 * copy accepted while earlier handshakes fill the first slots; the client's
 * on_fail when the intercept closes; tw_relay_split_hostport,
 * tw_relay_parse_allow and tw_secret_load.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <stdbool.h>
#include <pthread.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>

#include <cmocka.h>

#include "core/err.h"
#include "core/log.h"
#include "core/loop.h"
#include "pkt/decode.h"
#include "relay/auth.h"
#include "relay/client.h"
#include "relay/server.h"
#include "relay/wire.h"

#define TICK_NS 1000000ull    /* server-loop tick: bounds one blocking turn */
#define MAX_TURNS 10000       /* bound of every wait (about 10 s at worst) */
#define MAX_GOT 512

/* ---- what a client's callbacks saw ---- */

struct got {
	struct tw_wire_reply r[MAX_GOT]; /* payload pointers cleared */
	unsigned n;
	unsigned fails;
	char fail_msg[600];
};

static void on_reply(void *arg, const struct tw_wire_reply *r)
{
	struct got *g = arg;

	if (g->n < MAX_GOT) {
		g->r[g->n] = *r;
		g->r[g->n].payload = NULL;
	}
	g->n++;
}

static void on_fail(void *arg, const char *msg)
{
	struct got *g = arg;

	g->fails++;
	snprintf(g->fail_msg, sizeof(g->fail_msg), "%s", msg);
}

/* ---- the environment: two loops, one server ---- */

struct env {
	struct tw_loop *sl;           /* the server's loop */
	struct tw_loop *cl;           /* the clients' loop */
	struct tw_timer tick;
	struct tw_relay_server *srv;
	uint16_t port;
	char servers[64];             /* "127.0.0.1:PORT" for the client's -s */
};

static void on_tick(struct tw_timer *t, uint64_t now, void *arg)
{
	struct env *e = arg;

	(void)t;
	(void)now;
	tw_loop_timer_after(e->sl, &e->tick, TICK_NS);
}

static int env_setup(void **state)
{
	struct env *e = calloc(1, sizeof(*e));

	assert_non_null(e);
	tw_log_set_level(TW_LOG_ERR);
	e->sl = tw_loop_new(0);
	e->cl = tw_loop_new(0);
	assert_non_null(e->sl);
	assert_non_null(e->cl);
	tw_timer_init(&e->tick, on_tick, e);
	tw_loop_timer_after(e->sl, &e->tick, TICK_NS);
	*state = e;
	return 0;
}

static int env_teardown(void **state)
{
	struct env *e = *state;

	tw_relay_server_close(e->srv);
	tw_loop_timer_cancel(e->sl, &e->tick);
	tw_loop_free(e->sl);
	tw_loop_free(e->cl);
	free(e);
	return 0;
}

/* One turn of both loops; the server loop waits at most one tick. */
static void pump(struct env *e)
{
	assert_true(tw_loop_run_once(e->cl, false) >= 0);
	assert_true(tw_loop_run_once(e->sl, true) >= 0);
}

#define WAIT_FOR(e, cond)                                                                          \
	do {                                                                                       \
		for (int turn_ = 0; turn_ < MAX_TURNS && !(cond); turn_++)                         \
			pump(e);                                                                   \
		if (!(cond))                                                                       \
			fail_msg("%s:%d: not true after %d loop turns: %s", __FILE__, __LINE__,    \
				 MAX_TURNS, #cond);                                                \
	} while (0)

static struct tw_relay_server_stats sst(const struct env *e)
{
	struct tw_relay_server_stats st;

	tw_relay_server_get_stats(e->srv, &st);
	return st;
}

static struct tw_relay_client_stats cst(const struct tw_relay_client *cl)
{
	struct tw_relay_client_stats st;

	tw_relay_client_get_stats(cl, &st);
	return st;
}

static void assert_contains(const char *hay, const char *needle)
{
	if (!strstr(hay, needle))
		fail_msg("\"%s\" does not contain \"%s\"", hay, needle);
}

/* A port nothing listens on now (the kernel's choice for port 0). */
static uint16_t free_port(void)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t sl = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	assert_true(fd >= 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &sl), 0);
	close(fd);
	return ntohs(a.sin_port);
}

static void srv_cfg(struct tw_relay_server_cfg *cfg)
{
	tw_relay_server_cfg_init(cfg);
	cfg->max_tuples = 65536;
	cfg->hold_max = 1024;
	cfg->hold_ns = 60000 * TICK_NS; /* a minute: never reached unless a test wants it */
	cfg->tx_cap = 1u << 20;
}

/* Open the server on 127.0.0.1 and a free port (retried if taken meanwhile). */
static void env_server(struct env *e, struct tw_relay_server_cfg *cfg)
{
	char err[256] = "";
	int rc = -EADDRINUSE;

	cfg->bind = "127.0.0.1";
	for (int i = 0; i < 20 && rc == -EADDRINUSE; i++) {
		cfg->port = free_port();
		rc = tw_relay_server_open(e->sl, cfg, &e->srv, err, sizeof(err));
	}
	if (rc < 0)
		fail_msg("server open: %d %s", rc, err);
	e->port = cfg->port;
	snprintf(e->servers, sizeof(e->servers), "127.0.0.1:%u", e->port);
}

static void cli_cfg(struct env *e, struct tw_relay_client_cfg *cfg, struct got *g)
{
	tw_relay_client_cfg_init(cfg);
	cfg->servers = e->servers;
	cfg->timeout_ms = 20000; /* a bound, not expected to be reached */
	cfg->tx_cap = 1u << 20;
	cfg->on_reply = on_reply;
	cfg->on_fail = on_fail;
	cfg->arg = g;
}

static void *server_thread(void *arg)
{
	struct env *e = arg;

	(void)tw_loop_run(e->sl);
	return NULL;
}

/* tw_relay_client_open while a second thread runs the server loop. After
 * the join the server has finished the iteration that answered, so its
 * counters are final for this handshake. */
static int open_client(struct env *e, const struct tw_relay_client_cfg *cfg,
		       struct tw_relay_client **out, char *err, size_t errlen)
{
	pthread_t th;
	int rc;

	err[0] = '\0';
	*out = NULL;
	assert_int_equal(pthread_create(&th, NULL, server_thread, e), 0);
	rc = tw_relay_client_open(e->cl, cfg, out, err, errlen);
	tw_loop_stop(e->sl);
	assert_int_equal(pthread_join(th, NULL), 0);
	return rc;
}

static struct tw_relay_client *open_ok(struct env *e, const struct tw_relay_client_cfg *cfg)
{
	struct tw_relay_client *cl;
	char err[512];
	int rc = open_client(e, cfg, &cl, err, sizeof(err));

	if (rc < 0)
		fail_msg("client open failed: %d %s", rc, err);
	return cl;
}

/* ---- tuples and replies ---- */

struct tup {
	int ipver;
	uint8_t c[16], t[16];         /* client (replies' destination), target */
	uint16_t cport, tport;
};

static struct tup tup4(unsigned i)
{
	struct tup t = {.ipver = 4, .c = {10, 1, (uint8_t)(i >> 8), (uint8_t)i},
			.t = {10, 200, 0, 1}, .cport = (uint16_t)(30000 + i % 1000), .tport = 80};
	return t;
}

static struct tup tup6(unsigned i)
{
	struct tup t = {.ipver = 6, .cport = (uint16_t)(40000 + i), .tport = 443};

	inet_pton(AF_INET6, "fd00::1:2", t.c);
	inet_pton(AF_INET6, "fd00::99", t.t);
	t.c[15] = (uint8_t)i;
	return t;
}

static void reg(struct tw_relay_client *cl, const struct tup *t, bool add)
{
	assert_int_equal(tw_relay_client_reg(cl, add, t->ipver, t->c, t->cport, t->t, t->tport), 0);
}

static struct tw_wire_reply mkreply(const struct tup *t, uint16_t flags, uint32_t seq)
{
	struct tw_wire_reply r;

	memset(&r, 0, sizeof(r));
	r.ipver = (uint8_t)t->ipver;
	r.flags = flags;
	memcpy(r.src, t->t, 16);
	memcpy(r.dst, t->c, 16);
	r.sport = t->tport;
	r.dport = t->cport;
	r.seq = seq;
	r.ack = 1000;
	r.win = 65535;
	return r;
}

static void assert_reply_eq(const struct tw_wire_reply *a, const struct tw_wire_reply *b)
{
	size_t alen = a->ipver == 4 ? 4 : 16;

	assert_int_equal(a->ipver, b->ipver);
	assert_int_equal(a->ecn, b->ecn);
	assert_int_equal(a->flags, b->flags);
	assert_memory_equal(a->src, b->src, alen);
	assert_memory_equal(a->dst, b->dst, alen);
	assert_int_equal(a->sport, b->sport);
	assert_int_equal(a->dport, b->dport);
	assert_int_equal(a->seq, b->seq);
	assert_int_equal(a->ack, b->ack);
	assert_int_equal(a->win, b->win);
	assert_int_equal(a->payload_len, b->payload_len);
	assert_int_equal(a->payload_cap, b->payload_cap);
	assert_int_equal(a->opts.has_mss, b->opts.has_mss);
	assert_int_equal(a->opts.mss, b->opts.mss);
	assert_int_equal(a->opts.has_wscale, b->opts.has_wscale);
	assert_int_equal(a->opts.wscale, b->opts.wscale);
	assert_int_equal(a->opts.sack_ok, b->opts.sack_ok);
	assert_int_equal(a->opts.has_ts, b->opts.has_ts);
	assert_int_equal(a->opts.ts_val, b->opts.ts_val);
	assert_int_equal(a->opts.ts_ecr, b->opts.ts_ecr);
	assert_int_equal(a->opts.nsack, b->opts.nsack);
	for (unsigned i = 0; i < a->opts.nsack; i++) {
		assert_int_equal(a->opts.sack[i][0], b->opts.sack[i][0]);
		assert_int_equal(a->opts.sack[i][1], b->opts.sack[i][1]);
	}
}

/* Hand R to the server and send it. */
static void srv_send(struct env *e, const struct tw_wire_reply *r)
{
	tw_relay_server_reply(e->srv, r);
	tw_relay_server_flush(e->srv);
}

/* ---- a raw peer: frames encoded by hand over a plain socket ---- */

struct raw {
	int fd;
	size_t len;
	uint8_t in[2 * TW_WIRE_MAX_FRAME];
	uint8_t out[TW_WIRE_MAX_FRAME];
	struct tw_wire_msg m;
};

static struct raw *raw_open(uint16_t port)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port),
				.sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	struct raw *r = calloc(1, sizeof(*r));

	assert_non_null(r);
	r->fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(r->fd >= 0);
	/* loopback: the kernel completes the connection before any accept */
	assert_int_equal(connect(r->fd, (struct sockaddr *)&a, sizeof(a)), 0);
	return r;
}

static void raw_close(struct raw *r)
{
	close(r->fd);
	free(r);
}

static void send_all_fd(int fd, const void *buf, size_t len)
{
	const uint8_t *p = buf;

	while (len) {
		ssize_t n = send(fd, p, len, MSG_NOSIGNAL);
		assert_true(n > 0);
		p += n;
		len -= (size_t)n;
	}
}

static void raw_put(struct raw *r, const struct tw_wire_msg *m)
{
	int n = tw_wire_encode(m, r->out, sizeof(r->out));

	assert_true(n > 0);
	send_all_fd(r->fd, r->out, (size_t)n);
}

/* The next frame from the server into R->m: true, or false at end of stream. */
static bool raw_next(struct env *e, struct raw *r)
{
	for (int turn = 0; turn < MAX_TURNS; turn++) {
		const char *why = NULL;
		int n = tw_wire_decode(r->in, r->len, &r->m, &why);
		ssize_t got;

		if (n < 0)
			fail_msg("raw peer: bad frame from the server: %s", why ? why : "?");
		if (n > 0) {
			memmove(r->in, r->in + n, r->len - (size_t)n);
			r->len -= (size_t)n;
			return true;
		}
		got = recv(r->fd, r->in + r->len, sizeof(r->in) - r->len, MSG_DONTWAIT);
		if (got == 0)
			return false;
		if (got > 0) {
			r->len += (size_t)got;
			continue;
		}
		assert_true(errno == EAGAIN || errno == EWOULDBLOCK);
		pump(e);
	}
	fail_msg("raw peer: no frame after %d loop turns", MAX_TURNS);
	return false;
}

static void raw_hello(struct env *e, struct raw *r)
{
	memset(&r->m, 0, sizeof(r->m));
	r->m.type = TW_WIRE_HELLO;
	r->m.u.hello.ver_min = r->m.u.hello.ver_max = TW_WIRE_VERSION;
	r->m.u.hello.role = TW_WIRE_ROLE_COPY;
	r->m.u.hello.batch = 1;
	snprintf(r->m.u.hello.name, sizeof(r->m.u.hello.name), "raw test peer");
	raw_put(r, &r->m);
}

static void raw_reg(struct raw *r, const struct tup *t, unsigned n)
{
	memset(&r->m, 0, sizeof(r->m));
	r->m.type = TW_WIRE_REGISTER;
	r->m.u.reg.n = (uint16_t)n;
	for (unsigned i = 0; i < n; i++) {
		struct tw_wire_tuple *w = &r->m.u.reg.t[i];
		w->ipver = (uint8_t)t[i].ipver;
		w->cport = t[i].cport;
		w->sport = t[i].tport;
		memcpy(w->caddr, t[i].c, 16);
		memcpy(w->saddr, t[i].t, 16);
	}
	raw_put(r, &r->m);
}

/* ---- a fake intercept in a thread (blocking, bounded by SO_RCVTIMEO) ---- */

enum fake_mode { FAKE_HTTP, FAKE_BAD_MAC };

struct fake {
	enum fake_mode mode;
	int lfd;
	uint16_t port;
	bool got_auth;                /* the copy's AUTH arrived */
	size_t len;
	uint8_t in[2 * TW_WIRE_MAX_FRAME];
	uint8_t out[TW_WIRE_MAX_FRAME];
	struct tw_wire_msg m;
};

static void set_rcvtimeo(int fd)
{
	struct timeval tv = {.tv_sec = 20};

	(void)setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
}

static struct fake *fake_new(enum fake_mode mode)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t sl = sizeof(a);
	struct fake *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	f->mode = mode;
	f->lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(f->lfd >= 0);
	assert_int_equal(bind(f->lfd, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(listen(f->lfd, 4), 0);
	assert_int_equal(getsockname(f->lfd, (struct sockaddr *)&a, &sl), 0);
	set_rcvtimeo(f->lfd);
	f->port = ntohs(a.sin_port);
	return f;
}

/* Next frame (blocking); false at end of stream, timeout or a bad frame. */
static bool fake_next(struct fake *f, int fd)
{
	for (;;) {
		int n = tw_wire_decode(f->in, f->len, &f->m, NULL);
		ssize_t got;

		if (n < 0)
			return false;
		if (n > 0) {
			memmove(f->in, f->in + n, f->len - (size_t)n);
			f->len -= (size_t)n;
			return true;
		}
		got = recv(fd, f->in + f->len, sizeof(f->in) - f->len, 0);
		if (got <= 0)
			return false;
		f->len += (size_t)got;
	}
}

static bool fake_put(struct fake *f, int fd)
{
	int n = tw_wire_encode(&f->m, f->out, sizeof(f->out));

	return n > 0 && send(fd, f->out, (size_t)n, MSG_NOSIGNAL) == n;
}

/* No cmocka asserts in here: they must run in the test's thread. */
static void *fake_thread(void *arg)
{
	struct fake *f = arg;
	static const char http[] = "HTTP/1.0 400 Bad Request\r\n\r\n";
	struct tw_wire_hello hello, local, ack;
	char reason[TW_WIRE_MAX_REASON + 1];
	int fd = accept(f->lfd, NULL, NULL);

	if (fd < 0)
		return NULL;
	set_rcvtimeo(fd);
	if (f->mode == FAKE_HTTP) {
		(void)send(fd, http, sizeof(http) - 1, MSG_NOSIGNAL);
		goto drain;
	}
	if (!fake_next(f, fd) || f->m.type != TW_WIRE_HELLO)
		goto drain;
	hello = f->m.u.hello;
	memset(&local, 0, sizeof(local));
	local.ver_min = local.ver_max = TW_WIRE_VERSION;
	local.role = TW_WIRE_ROLE_INTERCEPT;
	local.caps = TW_WIRE_CAP_BATCH | TW_WIRE_CAP_AUTH;
	local.batch = TW_WIRE_MAX_REPLIES;
	snprintf(local.name, sizeof(local.name), "impostor");
	if (tw_wire_hello_answer(&local, &hello, &ack, reason, sizeof(reason)))
		goto drain;
	memset(&f->m, 0, sizeof(f->m));
	f->m.type = TW_WIRE_HELLO_ACK;
	f->m.u.hello = ack;
	if (!fake_put(f, fd) || !fake_next(f, fd) || f->m.type != TW_WIRE_AUTH)
		goto drain;
	f->got_auth = true;
	memset(&f->m, 0, sizeof(f->m));
	f->m.type = TW_WIRE_AUTH;
	memset(f->m.u.mac, 0x5a, sizeof(f->m.u.mac)); /* not the secret's MAC */
	(void)fake_put(f, fd);
drain:
	while (fake_next(f, fd))
		; /* until the copy closes */
	close(fd);
	return NULL;
}

/* ====================================================================== */
/* (12) tw_relay_split_hostport and tw_relay_parse_allow                   */

static void test_split_hostport(void **state)
{
	static const struct {
		const char *in;
		int rc;
		const char *host;
		uint16_t port;
	} cases[] = {
		{"127.0.0.1", 0, "127.0.0.1", 36524},
		{"127.0.0.1:80", 0, "127.0.0.1", 80},
		{"icept.example:65535", 0, "icept.example", 65535},
		{"h:1", 0, "h", 1},
		{"[::1]:8080", 0, "::1", 8080},
		{"[::1]", 0, "::1", 36524},
		{"::1", 0, "::1", 36524},
		{"fe80::1%eth0", 0, "fe80::1%eth0", 36524},
		{"2001:db8::1", 0, "2001:db8::1", 36524},
		{"", -EINVAL, NULL, 0},
		{":80", -EINVAL, NULL, 0},
		{"host:", -EINVAL, NULL, 0},
		{"host:0", -EINVAL, NULL, 0},
		{"host:65536", -EINVAL, NULL, 0},
		{"host:99999999999999999999", -EINVAL, NULL, 0},
		{"host:8x", -EINVAL, NULL, 0},
		{"host:-1", -EINVAL, NULL, 0},
		{"host: 80", -EINVAL, NULL, 0},
		{"[::1", -EINVAL, NULL, 0},
		{"[::1]:", -EINVAL, NULL, 0},
		{"[::1]80", -EINVAL, NULL, 0},
		{"[::1]:x", -EINVAL, NULL, 0},
		{"[]:80", -EINVAL, NULL, 0},
	};
	char host[256];
	uint16_t port;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int rc;

		port = 7;
		rc = tw_relay_split_hostport(cases[i].in, strlen(cases[i].in), host, sizeof(host),
					     36524, &port);
		if (rc != cases[i].rc)
			fail_msg("split_hostport(\"%s\") = %d, want %d", cases[i].in, rc,
				 cases[i].rc);
		if (rc == 0) {
			assert_string_equal(host, cases[i].host);
			assert_int_equal(port, cases[i].port);
		}
	}
	/* LEN, not the NUL, ends the item: how -s lists are split on commas */
	assert_int_equal(tw_relay_split_hostport("a:1,b:2", 3, host, sizeof(host), 9, &port), 0);
	assert_string_equal(host, "a");
	assert_int_equal(port, 1);
	assert_int_equal(tw_relay_split_hostport("[::1]:5,x", 7, host, sizeof(host), 9, &port), 0);
	assert_string_equal(host, "::1");
	assert_int_equal(port, 5);
	/* host buffer too small: refused, not cut */
	assert_int_equal(tw_relay_split_hostport("abcdefgh:1", 10, host, 8, 9, &port), -EINVAL);
	assert_int_equal(tw_relay_split_hostport("abcdefg:1", 9, host, 8, 9, &port), 0);
	assert_string_equal(host, "abcdefg");
}

static void test_parse_allow(void **state)
{
	static const struct {
		const char *in;
		unsigned n;        /* networks parsed; 0 = must be refused */
		uint8_t ver, plen; /* of the first */
	} cases[] = {
		{"127.0.0.1", 1, 4, 32},
		{"10.0.0.0/8", 1, 4, 8},
		{"0.0.0.0/0", 1, 4, 0},
		{"192.168.1.0/24,10.0.0.0/8", 2, 4, 24},
		{"::1", 1, 6, 128},
		{"fd00::/8", 1, 6, 8},
		{"[::1]/128", 1, 6, 128},
		{"[fd00::]/16", 1, 6, 16},
		{"::/0,127.0.0.0/8", 2, 6, 0},
		{"", 0, 0, 0},
		{"10.0.0.0/33", 0, 0, 0},
		{"::/129", 0, 0, 0},
		{"10.0.0.0/", 0, 0, 0},
		{"10.0.0.0/8x", 0, 0, 0},
		{"10.0.0.0/-1", 0, 0, 0},
		{"10.0.0.0/+8", 0, 0, 0},
		{"10.0.0.0/ 8", 0, 0, 0},
		{"10.0.0.256", 0, 0, 0},
		{"banana", 0, 0, 0},
		{"intercept.example", 0, 0, 0},
		{",10.0.0.1", 0, 0, 0},
		{"10.0.0.0/8,,1.2.3.4", 0, 0, 0},
		{"[10.0.0.1", 0, 0, 0},
	};
	struct tw_relay_server_cfg cfg;
	char err[256];

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int rc;

		tw_relay_server_cfg_init(&cfg);
		err[0] = '\0';
		rc = tw_relay_parse_allow(&cfg, cases[i].in, err, sizeof(err));
		if (!cases[i].n) {
			if (rc != -EINVAL)
				fail_msg("parse_allow(\"%s\") = %d, want -EINVAL", cases[i].in, rc);
			assert_contains(err, "--allow");
			continue;
		}
		if (rc != 0)
			fail_msg("parse_allow(\"%s\") = %d (%s), want 0", cases[i].in, rc, err);
		assert_int_equal(cfg.nallow, cases[i].n);
		assert_int_equal(cfg.allow[0].ver, cases[i].ver);
		assert_int_equal(cfg.allow[0].plen, cases[i].plen);
	}
	/* the message names the bad item, not the whole list */
	tw_relay_server_cfg_init(&cfg);
	assert_int_equal(tw_relay_parse_allow(&cfg, "10.0.0.0/8,10.1.2.3/40", err, sizeof(err)),
			 -EINVAL);
	assert_contains(err, "'10.1.2.3/40'");
	assert_null(strstr(err, "10.0.0.0/8"));
	/* the address bytes */
	tw_relay_server_cfg_init(&cfg);
	assert_int_equal(tw_relay_parse_allow(&cfg, "10.20.30.40/12,[fd00::7]", err, sizeof(err)),
			 0);
	assert_memory_equal(cfg.allow[0].a, ((uint8_t[]){10, 20, 30, 40}), 4);
	assert_int_equal(cfg.allow[1].a[0], 0xfd);
	assert_int_equal(cfg.allow[1].a[15], 7);
	/* repeated --allow options add up, to TW_RELAY_MAX_ALLOW */
	tw_relay_server_cfg_init(&cfg);
	for (unsigned i = 0; i < TW_RELAY_MAX_ALLOW; i++) {
		char item[32];
		snprintf(item, sizeof(item), "10.%u.0.0/16", i);
		assert_int_equal(tw_relay_parse_allow(&cfg, item, err, sizeof(err)), 0);
	}
	assert_int_equal(cfg.nallow, TW_RELAY_MAX_ALLOW);
	assert_int_equal(tw_relay_parse_allow(&cfg, "192.168.0.0/16", err, sizeof(err)), -EINVAL);
	assert_contains(err, "at most");
	assert_int_equal(cfg.nallow, TW_RELAY_MAX_ALLOW);
}

/* ====================================================================== */
/* (13) tw_secret_load                                                     */

static void write_file(char *path, const void *data, size_t len)
{
	int fd;

	strcpy(path, "/tmp/tw-test-relay-XXXXXX");
	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, data, len), (ssize_t)len);
	close(fd);
}

static void test_secret_load(void **state)
{
	struct tw_secret s;
	char path[64], err[512];
	static uint8_t big[TW_SECRET_MAX + 1];

	(void)state;
	write_file(path, "s3cret\n", 7);
	assert_int_equal(tw_secret_load(&s, path, err, sizeof(err)), 0);
	assert_int_equal(s.len, 6);
	assert_memory_equal(s.key, "s3cret", 6);
	unlink(path);

	write_file(path, "s3cret\r\n\n", 9); /* every trailing newline, CRLF too */
	assert_int_equal(tw_secret_load(&s, path, err, sizeof(err)), 0);
	assert_int_equal(s.len, 6);
	unlink(path);

	write_file(path, "a\nb\n", 4); /* only trailing ones */
	assert_int_equal(tw_secret_load(&s, path, err, sizeof(err)), 0);
	assert_int_equal(s.len, 3);
	assert_memory_equal(s.key, "a\nb", 3);
	unlink(path);

	write_file(path, "no newline", 10);
	assert_int_equal(tw_secret_load(&s, path, err, sizeof(err)), 0);
	assert_int_equal(s.len, 10);
	unlink(path);

	write_file(path, "", 0);
	err[0] = '\0';
	assert_int_equal(tw_secret_load(&s, path, err, sizeof(err)), -EINVAL);
	assert_contains(err, path);
	assert_contains(err, "empty");
	assert_int_equal(s.len, 0);
	unlink(path);

	write_file(path, "\n\n", 2); /* only newlines: empty too */
	assert_int_equal(tw_secret_load(&s, path, err, sizeof(err)), -EINVAL);
	assert_contains(err, "empty");
	unlink(path);

	memset(big, 'k', sizeof(big));
	write_file(path, big, TW_SECRET_MAX); /* the largest allowed */
	assert_int_equal(tw_secret_load(&s, path, err, sizeof(err)), 0);
	assert_int_equal(s.len, TW_SECRET_MAX);
	unlink(path);
	write_file(path, big, TW_SECRET_MAX + 1);
	err[0] = '\0';
	assert_int_equal(tw_secret_load(&s, path, err, sizeof(err)), -EINVAL);
	assert_contains(err, path);
	assert_contains(err, "longer");
	unlink(path);

	err[0] = '\0';
	assert_int_equal(tw_secret_load(&s, "/nonexistent/tw-secret", err, sizeof(err)), -ENOENT);
	assert_contains(err, "/nonexistent/tw-secret");
}

/* ====================================================================== */
/* (1), (2) handshakes that succeed                                        */

static void test_handshake_plain(void **state)
{
	struct env *e = *state;
	struct tw_relay_server_cfg scfg;
	struct tw_relay_client_cfg ccfg;
	struct tw_relay_client *cl;
	struct got g = {0};

	srv_cfg(&scfg);
	env_server(e, &scfg);
	cli_cfg(e, &ccfg, &g);
	cl = open_ok(e, &ccfg);
	assert_int_equal(cst(cl).peers, 1);
	assert_int_equal(sst(e).conns, 1);
	assert_int_equal(sst(e).live_conns, 1);
	assert_int_equal(sst(e).refused, 0);
	/* a copy speaking versions 1-2 meets an intercept speaking 1: version 1 */
	ccfg.ver_max = 2;
	tw_relay_client_close(cl);
	WAIT_FOR(e, sst(e).live_conns == 0); /* SHUTDOWN seen */
	cl = open_ok(e, &ccfg);
	assert_int_equal(sst(e).conns, 2);
	assert_int_equal(sst(e).live_conns, 1);
	tw_relay_client_close(cl);
	assert_int_equal(g.fails, 0);
}

static void test_handshake_secret(void **state)
{
	struct env *e = *state;
	struct tw_relay_server_cfg scfg;
	struct tw_relay_client_cfg ccfg;
	struct tw_relay_client *cl;
	struct tw_secret ss = {.len = 6}, cs = {.len = 6};
	struct got g = {0};
	struct tup t = tup4(1);
	struct tw_wire_reply r;

	memcpy(ss.key, "sesame", 6);
	memcpy(cs.key, "sesame", 6);
	srv_cfg(&scfg);
	scfg.secret = &ss;
	env_server(e, &scfg);
	cli_cfg(e, &ccfg, &g);
	ccfg.secret = &cs;
	cl = open_ok(e, &ccfg);
	assert_int_equal(sst(e).conns, 1);
	assert_int_equal(sst(e).refused, 0);
	/* and the channel works after AUTH */
	reg(cl, &t, true);
	tw_relay_client_flush(cl);
	WAIT_FOR(e, sst(e).registered == 1);
	r = mkreply(&t, TW_TH_ACK, 42);
	srv_send(e, &r);
	WAIT_FOR(e, g.n == 1);
	assert_reply_eq(&g.r[0], &r);
	tw_relay_client_close(cl);
}

/* ====================================================================== */
/* (3)-(6) refusals                                                        */

/* Open a client that must be refused; returns its error. */
static int open_refused(struct env *e, const struct tw_relay_client_cfg *ccfg, char *err,
			size_t errlen)
{
	struct tw_relay_client *cl = (void *)1;
	int rc = open_client(e, ccfg, &cl, err, errlen);

	if (rc >= 0)
		fail_msg("client open succeeded, a refusal was expected");
	assert_null(cl);
	assert_true(err[0] != '\0');
	return rc;
}

static void test_wrong_secret(void **state)
{
	struct env *e = *state;
	struct tw_relay_server_cfg scfg;
	struct tw_relay_client_cfg ccfg;
	struct tw_secret ss = {.len = 6}, cs = {.len = 6};
	struct got g = {0};
	char err[512];

	memcpy(ss.key, "sesame", 6);
	memcpy(cs.key, "sesamE", 6);
	srv_cfg(&scfg);
	scfg.secret = &ss;
	env_server(e, &scfg);
	cli_cfg(e, &ccfg, &g);
	ccfg.secret = &cs;
	assert_int_equal(open_refused(e, &ccfg, err, sizeof(err)), -EACCES);
	assert_contains(err, "secret");
	assert_contains(err, e->servers);
	assert_int_equal(sst(e).refused, 1);
	assert_int_equal(sst(e).conns, 0);
	assert_int_equal(sst(e).live_conns, 0);
	assert_int_equal(g.fails, 0); /* open reports through ERR, not on_fail */
}

static void test_secret_one_side(void **state)
{
	struct env *e = *state;
	struct tw_relay_server_cfg scfg;
	struct tw_relay_client_cfg ccfg;
	struct tw_secret sec = {.len = 6};
	struct got g = {0};
	char err[512];

	memcpy(sec.key, "sesame", 6);
	/* copy has one, intercept has none */
	srv_cfg(&scfg);
	env_server(e, &scfg);
	cli_cfg(e, &ccfg, &g);
	ccfg.secret = &sec;
	assert_int_equal(open_refused(e, &ccfg, err, sizeof(err)), -EACCES);
	assert_contains(err, "secret");
	assert_contains(err, "this intercept has none");
	assert_int_equal(sst(e).refused, 1);
	tw_relay_server_close(e->srv);
	e->srv = NULL;

	/* intercept has one, copy has none; an empty secret is none */
	scfg.secret = &sec;
	env_server(e, &scfg);
	cli_cfg(e, &ccfg, &g);
	ccfg.secret = &(struct tw_secret){.len = 0};
	assert_int_equal(open_refused(e, &ccfg, err, sizeof(err)), -EACCES);
	assert_contains(err, "secret");
	assert_contains(err, "copy has none");
	assert_int_equal(sst(e).refused, 1);
	assert_int_equal(sst(e).conns, 0);
}

static void test_allow(void **state)
{
	struct env *e = *state;
	static const struct {
		const char *allow;
		bool ok;
	} cases[] = {
		{"10.0.0.0/8", false},
		{"10.0.0.0/8,::1", false},
		{"127.128.0.0/9", false}, /* differs from 127.0.0.1 in the 9th bit */
		{"127.0.0.2", false},
		{"127.0.0.1", true},
		{"126.0.0.0/7", true},
		{"10.0.0.0/8,127.0.0.0/8", true},
		{"0.0.0.0/0", true},
	};
	struct tw_relay_server_cfg scfg;
	struct tw_relay_client_cfg ccfg;
	struct tw_relay_client *cl;
	struct got g = {0};
	char err[512];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		srv_cfg(&scfg);
		assert_int_equal(tw_relay_parse_allow(&scfg, cases[i].allow, err, sizeof(err)), 0);
		env_server(e, &scfg);
		cli_cfg(e, &ccfg, &g);
		if (cases[i].ok) {
			cl = open_ok(e, &ccfg);
			assert_int_equal(sst(e).conns, 1);
			tw_relay_client_close(cl);
		} else {
			int rc = open_refused(e, &ccfg, err, sizeof(err));
			if (rc != -EACCES)
				fail_msg("--allow %s: rc %d, want -EACCES", cases[i].allow, rc);
			assert_contains(err, "allowed networks");
			assert_contains(err, "127.0.0.1");
			assert_int_equal(sst(e).refused, 1);
			assert_int_equal(sst(e).conns, 0);
		}
		tw_relay_server_close(e->srv);
		e->srv = NULL;
	}
}

static void test_version_mismatch(void **state)
{
	struct env *e = *state;
	struct tw_relay_server_cfg scfg;
	struct tw_relay_client_cfg ccfg;
	struct got g = {0};
	char err[512];

	srv_cfg(&scfg);
	env_server(e, &scfg);
	cli_cfg(e, &ccfg, &g);
	ccfg.ver_min = ccfg.ver_max = 2;
	assert_int_equal(open_refused(e, &ccfg, err, sizeof(err)), -TW_EPROTO_VERSION);
	assert_contains(err, "version");
	assert_contains(err, "2-2");
	assert_contains(err, "1-1");
	assert_int_equal(sst(e).refused, 1);
	tw_relay_server_close(e->srv);
	e->srv = NULL;

	/* the other way round: an intercept of a later version only */
	srv_cfg(&scfg);
	scfg.ver_min = scfg.ver_max = 3;
	env_server(e, &scfg);
	cli_cfg(e, &ccfg, &g);
	assert_int_equal(open_refused(e, &ccfg, err, sizeof(err)), -TW_EPROTO_VERSION);
	assert_contains(err, "version");
	assert_int_equal(sst(e).refused, 1);
}

static void test_busy(void **state)
{
	struct env *e = *state;
	struct tw_relay_server_cfg scfg;
	struct tw_relay_client_cfg ccfg;
	struct tw_relay_client *a, *b;
	struct got g = {0};
	char err[512];

	srv_cfg(&scfg);
	scfg.max_conns = 1;
	env_server(e, &scfg);
	cli_cfg(e, &ccfg, &g);
	a = open_ok(e, &ccfg);
	assert_int_equal(open_refused(e, &ccfg, err, sizeof(err)), -EBUSY);
	assert_int_equal(sst(e).refused, 1);
	tw_relay_client_close(a);
	WAIT_FOR(e, sst(e).live_conns == 0);
	b = open_ok(e, &ccfg); /* the place is free again */
	assert_int_equal(sst(e).conns, 2);
	tw_relay_client_close(b);
}

static void test_no_intercept(void **state)
{
	struct env *e = *state;
	struct tw_relay_client_cfg ccfg;
	struct tw_relay_client *cl = NULL;
	struct got g = {0};
	char err[512] = "";

	snprintf(e->servers, sizeof(e->servers), "127.0.0.1:%u", free_port());
	cli_cfg(e, &ccfg, &g);
	assert_int_equal(tw_relay_client_open(e->cl, &ccfg, &cl, err, sizeof(err)), -ECONNREFUSED);
	assert_null(cl);
	assert_contains(err, "cannot connect");
	/* and -s syntax errors */
	ccfg.servers = "127.0.0.1:0";
	assert_int_equal(tw_relay_client_open(e->cl, &ccfg, &cl, err, sizeof(err)), -EINVAL);
	assert_contains(err, "127.0.0.1:0");
	ccfg.servers = "";
	assert_int_equal(tw_relay_client_open(e->cl, &ccfg, &cl, err, sizeof(err)), -EINVAL);
	assert_contains(err, "no intercept");
}

/* A copy connecting to something that is not tcptwin fails at once. */
static void test_not_an_intercept(void **state)
{
	struct env *e = *state;
	struct tw_relay_client_cfg ccfg;
	struct tw_relay_client *cl = NULL;
	struct got g = {0};
	struct fake *f = fake_new(FAKE_HTTP);
	pthread_t th;
	char err[512] = "";
	int rc;

	snprintf(e->servers, sizeof(e->servers), "127.0.0.1:%u", f->port);
	cli_cfg(e, &ccfg, &g);
	assert_int_equal(pthread_create(&th, NULL, fake_thread, f), 0);
	rc = tw_relay_client_open(e->cl, &ccfg, &cl, err, sizeof(err));
	assert_int_equal(pthread_join(th, NULL), 0);
	close(f->lfd);
	free(f);
	assert_int_equal(rc, -EPROTO);
	assert_null(cl);
	assert_contains(err, "not a tcptwin intercept");
}

/* Mutual authentication: an intercept without the secret is not accepted. */
static void test_impostor_intercept(void **state)
{
	struct env *e = *state;
	struct tw_relay_client_cfg ccfg;
	struct tw_relay_client *cl = NULL;
	struct tw_secret sec = {.len = 6};
	struct got g = {0};
	struct fake *f = fake_new(FAKE_BAD_MAC);
	pthread_t th;
	char err[512] = "";
	bool got_auth;
	int rc;

	memcpy(sec.key, "sesame", 6);
	snprintf(e->servers, sizeof(e->servers), "127.0.0.1:%u", f->port);
	cli_cfg(e, &ccfg, &g);
	ccfg.secret = &sec;
	assert_int_equal(pthread_create(&th, NULL, fake_thread, f), 0);
	rc = tw_relay_client_open(e->cl, &ccfg, &cl, err, sizeof(err));
	assert_int_equal(pthread_join(th, NULL), 0);
	got_auth = f->got_auth;
	close(f->lfd);
	free(f);
	assert_true(got_auth);
	assert_int_equal(rc, -EACCES);
	assert_null(cl);
	assert_contains(err, "secret");
}

/* The intercept refuses a peer that does not speak the protocol. */
static void test_server_refuses_garbage(void **state)
{
	struct env *e = *state;
	struct tw_relay_server_cfg scfg;
	struct raw *r;

	srv_cfg(&scfg);
	env_server(e, &scfg);
	r = raw_open(e->port);
	send_all_fd(r->fd, "GET / HTTP/1.0\r\n\r\n", 18);
	assert_true(raw_next(e, r));
	assert_int_equal(r->m.type, TW_WIRE_REFUSE);
	assert_int_equal(r->m.u.refuse.code, TW_WIRE_REFUSE_PROTOCOL);
	assert_false(raw_next(e, r)); /* and closed */
	WAIT_FOR(e, sst(e).refused == 1);
	raw_close(r);

	/* REGISTER before the handshake: out of order */
	r = raw_open(e->port);
	raw_reg(r, &(struct tup){0}, 0);
	assert_true(raw_next(e, r));
	assert_int_equal(r->m.type, TW_WIRE_REFUSE);
	assert_int_equal(r->m.u.refuse.code, TW_WIRE_REFUSE_PROTOCOL);
	assert_contains(r->m.u.refuse.reason, "REGISTER");
	WAIT_FOR(e, sst(e).refused == 2);
	raw_close(r);
	assert_int_equal(sst(e).conns, 0);
}

/* ====================================================================== */
/* (7) registration and routing                                            */

static void test_route(void **state)
{
	struct env *e = *state;
	struct tw_relay_server_cfg scfg;
	struct tw_relay_client_cfg ccfg;
	struct tw_relay_client *cl;
	struct got g = {0};
	struct tup t4 = tup4(7), t6 = tup6(3), other = tup4(8);
	struct tw_wire_reply r1, r2, r3, stray;

	srv_cfg(&scfg);
	env_server(e, &scfg);
	cli_cfg(e, &ccfg, &g);
	cl = open_ok(e, &ccfg);
	reg(cl, &t4, true);
	reg(cl, &t6, true);
	tw_relay_client_flush(cl);
	WAIT_FOR(e, sst(e).registered == 2);
	assert_int_equal(cst(cl).regs, 2);

	/* a SYN-ACK with every option */
	r1 = mkreply(&t4, TW_TH_SYN | TW_TH_ACK | TW_TH_ECE, 0xfedcba98);
	r1.ecn = 2;
	r1.ack = 0x01020304;
	r1.win = 29200;
	r1.opts.has_mss = true;
	r1.opts.mss = 1460;
	r1.opts.has_wscale = true;
	r1.opts.wscale = 7;
	r1.opts.sack_ok = true;
	r1.opts.has_ts = true;
	r1.opts.ts_val = 0xdeadbeef;
	r1.opts.ts_ecr = 12345;
	/* data with SACK blocks, AE flag and a length beyond 65535 (GRO) */
	r2 = mkreply(&t4, TW_TH_ACK | TW_TH_PSH | TW_TH_AE, 77);
	r2.ecn = 3;
	r2.payload_len = 70000;
	r2.opts.has_ts = true;
	r2.opts.ts_val = 1;
	r2.opts.ts_ecr = 2;
	r2.opts.nsack = 3;
	for (unsigned i = 0; i < 3; i++) {
		r2.opts.sack[i][0] = 1000 * i + 1;
		r2.opts.sack[i][1] = 1000 * i + 500;
	}
	/* IPv6 */
	r3 = mkreply(&t6, TW_TH_FIN | TW_TH_ACK, 5);
	r3.payload_len = 10;
	r3.opts.has_mss = true;
	r3.opts.mss = 1220;
	/* not registered: same addresses, another client port */
	stray = mkreply(&other, TW_TH_ACK, 9);
	tw_relay_server_reply(e->srv, &stray);
	tw_relay_server_reply(e->srv, &r1);
	tw_relay_server_reply(e->srv, &r2);
	tw_relay_server_reply(e->srv, &r3);
	tw_relay_server_flush(e->srv);
	WAIT_FOR(e, g.n == 3);
	assert_reply_eq(&g.r[0], &r1);
	assert_reply_eq(&g.r[1], &r2);
	assert_reply_eq(&g.r[2], &r3);
	assert_int_equal(sst(e).captured, 4);
	assert_int_equal(sst(e).forwarded, 3);
	assert_int_equal(sst(e).unmatched, 1);
	assert_int_equal(sst(e).held, 0);
	assert_int_equal(cst(cl).replies, 3);

	/* the stray one never comes: a later reply arrives right after r3 */
	r1.seq++;
	srv_send(e, &r1);
	WAIT_FOR(e, g.n == 4);
	assert_reply_eq(&g.r[3], &r1);
	/* the key is the whole tuple: swapped direction is not ours either */
	stray = mkreply(&t4, TW_TH_ACK, 1);
	memcpy(stray.src, t4.c, 16);
	memcpy(stray.dst, t4.t, 16);
	tw_relay_server_reply(e->srv, &stray);
	assert_int_equal(sst(e).unmatched, 2);

	/* 200 replies: several REPLY frames (64 at most each), in order */
	for (uint32_t i = 0; i < 200; i++) {
		r2.seq = i;
		tw_relay_server_reply(e->srv, &r2);
	}
	tw_relay_server_flush(e->srv);
	WAIT_FOR(e, g.n == 204);
	for (uint32_t i = 0; i < 200; i++)
		assert_int_equal(g.r[4 + i].seq, i);
	assert_true(cst(cl).frames_in >= 2 + 200 / TW_WIRE_MAX_REPLIES);
	assert_true(cst(cl).frames_in < 200);
	assert_int_equal(g.fails, 0);
	tw_relay_client_close(cl);
}

/* ====================================================================== */
/* (8) early replies held for their registration                          */

static void test_hold_release(void **state)
{
	struct env *e = *state;
	struct tw_relay_server_cfg scfg;
	struct tw_relay_client_cfg ccfg;
	struct tw_relay_client *cl;
	struct got g = {0};
	struct tup a = tup4(1), b = tup4(2), c = tup4(3);
	struct tw_wire_reply r1, r2, rst, ack;

	srv_cfg(&scfg);
	env_server(e, &scfg);
	cli_cfg(e, &ccfg, &g);
	cl = open_ok(e, &ccfg);

	r1 = mkreply(&a, TW_TH_SYN | TW_TH_ACK, 100);
	r1.opts.has_mss = true;
	r1.opts.mss = 1400;
	r1.opts.has_ts = true;
	r1.opts.ts_val = 5;
	r2 = r1; /* a retransmitted SYN-ACK */
	r2.seq = 200;
	rst = mkreply(&b, TW_TH_RST, 7);
	ack = mkreply(&a, TW_TH_ACK, 300); /* not held: only SYN and RST are */
	tw_relay_server_reply(e->srv, &r1);
	tw_relay_server_reply(e->srv, &r2);
	tw_relay_server_reply(e->srv, &rst);
	tw_relay_server_reply(e->srv, &ack);
	tw_relay_server_flush(e->srv);
	assert_int_equal(sst(e).held, 3);
	assert_int_equal(sst(e).unmatched, 1);
	assert_int_equal(sst(e).forwarded, 0);

	reg(cl, &a, true);
	tw_relay_client_flush(cl);
	WAIT_FOR(e, g.n == 2);
	assert_reply_eq(&g.r[0], &r1); /* oldest first */
	assert_reply_eq(&g.r[1], &r2);
	assert_int_equal(sst(e).held_forwarded, 2);
	/* nothing else comes (not the ACK): the next reply is next */
	ack.seq = 301;
	srv_send(e, &ack);
	WAIT_FOR(e, g.n == 3);
	assert_reply_eq(&g.r[2], &ack);
	/* released once only: registering again brings nothing. C, registered
	 * last, shows when the server has read these frames. */
	reg(cl, &a, false);
	reg(cl, &a, true);
	reg(cl, &c, true);
	tw_relay_client_flush(cl);
	WAIT_FOR(e, sst(e).registered == 2);
	ack.seq = 302;
	srv_send(e, &ack);
	WAIT_FOR(e, g.n == 4);
	assert_int_equal(g.r[3].seq, 302);

	/* the RST for B, held meanwhile */
	reg(cl, &b, true);
	tw_relay_client_flush(cl);
	WAIT_FOR(e, g.n == 5);
	assert_reply_eq(&g.r[4], &rst);
	assert_int_equal(sst(e).held_forwarded, 3);
	assert_int_equal(sst(e).held_expired, 0);
	assert_int_equal(g.fails, 0);
	tw_relay_client_close(cl);
}

static void test_hold_expire(void **state)
{
	struct env *e = *state;
	struct tw_relay_server_cfg scfg;
	struct tw_relay_client_cfg ccfg;
	struct tw_relay_client *cl;
	struct got g = {0};
	struct tup t[3] = {tup4(1), tup4(2), tup4(3)};
	struct tw_wire_reply r;

	srv_cfg(&scfg);
	scfg.hold_ns = 20 * TICK_NS;
	scfg.hold_max = 2;
	env_server(e, &scfg);
	cli_cfg(e, &ccfg, &g);
	cl = open_ok(e, &ccfg);

	for (unsigned i = 0; i < 3; i++) {
		r = mkreply(&t[i], TW_TH_SYN | TW_TH_ACK, i);
		tw_relay_server_reply(e->srv, &r);
	}
	assert_int_equal(sst(e).held, 3);
	assert_int_equal(sst(e).held_overflow, 1); /* two places: the oldest went */
	WAIT_FOR(e, sst(e).held_expired == 2);
	assert_int_equal(sst(e).held_forwarded, 0);

	/* registering now brings none of them */
	for (unsigned i = 0; i < 3; i++)
		reg(cl, &t[i], true);
	tw_relay_client_flush(cl);
	WAIT_FOR(e, sst(e).registered == 3);
	r = mkreply(&t[2], TW_TH_ACK, 99);
	srv_send(e, &r);
	WAIT_FOR(e, g.n == 1);
	assert_int_equal(g.r[0].seq, 99);
	assert_int_equal(sst(e).held_forwarded, 0);

	/* the hold works again after expiring */
	t[0] = tup4(9);
	r = mkreply(&t[0], TW_TH_SYN | TW_TH_ACK, 7);
	tw_relay_server_reply(e->srv, &r);
	reg(cl, &t[0], true);
	tw_relay_client_flush(cl);
	WAIT_FOR(e, g.n == 2);
	assert_reply_eq(&g.r[1], &r);
	tw_relay_client_close(cl);
}

/* ====================================================================== */
/* (9), (10) two copies; unregistration                                    */

static void test_two_clients(void **state)
{
	struct env *e = *state;
	struct tw_relay_server_cfg scfg;
	struct tw_relay_client_cfg ccfg;
	struct tw_relay_client *ca, *cb;
	struct got ga = {0}, gb = {0};
	struct tup ta = tup4(1), tb = tup4(2), tc = tup6(5), td = tup4(4), te = tup4(5);
	struct tw_wire_reply r;

	srv_cfg(&scfg);
	env_server(e, &scfg);
	cli_cfg(e, &ccfg, &ga);
	ca = open_ok(e, &ccfg);
	cli_cfg(e, &ccfg, &gb);
	cb = open_ok(e, &ccfg);
	assert_int_equal(sst(e).live_conns, 2);
	reg(ca, &ta, true);
	reg(cb, &tb, true);
	reg(cb, &tc, true);
	tw_relay_client_flush(ca);
	tw_relay_client_flush(cb);
	WAIT_FOR(e, sst(e).registered == 3);

	for (uint32_t i = 0; i < 10; i++) {
		r = mkreply(i % 2 ? &ta : &tb, TW_TH_ACK, i);
		tw_relay_server_reply(e->srv, &r);
	}
	r = mkreply(&tc, TW_TH_ACK, 10);
	tw_relay_server_reply(e->srv, &r);
	tw_relay_server_flush(e->srv);
	WAIT_FOR(e, ga.n == 5 && gb.n == 6);
	for (unsigned i = 0; i < 5; i++) {
		assert_int_equal(ga.r[i].seq, 2 * i + 1);
		assert_memory_equal(ga.r[i].dst, ta.c, 4);
		assert_int_equal(ga.r[i].dport, ta.cport);
		assert_int_equal(gb.r[i].seq, 2 * i);
		assert_memory_equal(gb.r[i].dst, tb.c, 4);
	}
	assert_int_equal(gb.r[5].seq, 10);
	assert_int_equal(gb.r[5].ipver, 6);

	/* B cannot unregister A's tuple. Its own TC, in the same frame, shows
	 * when the server has read it: TA and TB stay. */
	reg(cb, &ta, false);
	reg(cb, &tc, false);
	tw_relay_client_flush(cb);
	WAIT_FOR(e, sst(e).registered == 2);
	assert_int_equal(cst(cb).unregs, 2);
	r = mkreply(&ta, TW_TH_ACK, 100);
	tw_relay_server_reply(e->srv, &r);
	r = mkreply(&tc, TW_TH_ACK, 101); /* unregistered: dropped */
	tw_relay_server_reply(e->srv, &r);
	r = mkreply(&tb, TW_TH_ACK, 102);
	tw_relay_server_reply(e->srv, &r);
	tw_relay_server_flush(e->srv);
	WAIT_FOR(e, ga.n == 6 && gb.n == 7);
	assert_int_equal(ga.r[5].seq, 100);
	assert_int_equal(gb.r[6].seq, 102);
	assert_int_equal(sst(e).unmatched, 1);

	/* (10) A unregisters: its replies stop; B's keep coming */
	reg(ca, &ta, false);
	tw_relay_client_flush(ca);
	WAIT_FOR(e, sst(e).registered == 1);
	assert_int_equal(cst(ca).unregs, 1);
	r = mkreply(&ta, TW_TH_ACK, 103);
	tw_relay_server_reply(e->srv, &r);
	r = mkreply(&tb, TW_TH_ACK, 104);
	tw_relay_server_reply(e->srv, &r);
	tw_relay_server_flush(e->srv);
	WAIT_FOR(e, gb.n == 8);
	assert_int_equal(gb.r[7].seq, 104);
	/* A's last reply would have been sent before B's: it never was */
	for (int i = 0; i < 10; i++)
		pump(e);
	assert_int_equal(ga.n, 6);
	assert_int_equal(sst(e).unmatched, 2);

	/* a tuple registered by another copy moves to the newer registration
	 * (TD, new, shows when the frame was read) */
	reg(ca, &tb, true);
	reg(ca, &td, true);
	tw_relay_client_flush(ca);
	WAIT_FOR(e, sst(e).registered == 2);
	r = mkreply(&tb, TW_TH_ACK, 105);
	tw_relay_server_reply(e->srv, &r);
	r = mkreply(&td, TW_TH_ACK, 106);
	tw_relay_server_reply(e->srv, &r);
	tw_relay_server_flush(e->srv);
	WAIT_FOR(e, ga.n == 8);
	assert_int_equal(ga.r[6].seq, 105);
	assert_int_equal(ga.r[7].seq, 106);
	/* and B no longer gets TB: its own TE comes next, alone */
	reg(cb, &te, true);
	tw_relay_client_flush(cb);
	WAIT_FOR(e, sst(e).registered == 3);
	r = mkreply(&te, TW_TH_ACK, 107);
	srv_send(e, &r);
	WAIT_FOR(e, gb.n == 9);
	assert_int_equal(gb.r[8].seq, 107);

	/* a copy that leaves takes its registrations with it */
	tw_relay_client_close(cb);
	WAIT_FOR(e, sst(e).live_conns == 1);
	assert_int_equal(sst(e).registered, 2);
	assert_int_equal(ga.fails, 0);
	assert_int_equal(gb.fails, 0);
	tw_relay_client_close(ca);
	WAIT_FOR(e, sst(e).live_conns == 0);
	assert_int_equal(sst(e).registered, 0);
}

/* ====================================================================== */
/* (11) many registrations                                                 */

static void test_many_registrations(void **state)
{
	struct env *e = *state;
	struct tw_relay_server_cfg scfg;
	struct tw_relay_client_cfg ccfg;
	struct tw_relay_client *cl;
	struct got g = {0};
	struct tw_wire_reply r;
	struct tup t;
	enum { N = 5000 };

	srv_cfg(&scfg);
	env_server(e, &scfg);
	cli_cfg(e, &ccfg, &g);
	cl = open_ok(e, &ccfg);
	for (unsigned i = 0; i < N; i++) {
		t = tup4(i);
		reg(cl, &t, true);
	}
	assert_int_equal(cst(cl).regs, N);
	assert_int_equal(cst(cl).reg_dropped, 0);
	tw_relay_client_flush(cl);
	WAIT_FOR(e, sst(e).registered == N); /* > 256: many REGISTER frames */
	assert_int_equal(sst(e).reg_refused, 0);
	t = tup4(4321);
	r = mkreply(&t, TW_TH_ACK, 4321);
	srv_send(e, &r);
	t = tup4(0);
	r = mkreply(&t, TW_TH_ACK, 0);
	srv_send(e, &r);
	WAIT_FOR(e, g.n == 2);
	assert_int_equal(g.r[0].seq, 4321);
	assert_int_equal(g.r[1].seq, 0);
	for (unsigned i = 0; i < N; i++) {
		t = tup4(i);
		reg(cl, &t, false);
	}
	tw_relay_client_flush(cl);
	WAIT_FOR(e, sst(e).registered == 0);
	assert_int_equal(cst(cl).unregs, N);
	assert_int_equal(g.fails, 0);
	tw_relay_client_close(cl);
}

/* A registration table that is full refuses further tuples (counted). */
static void test_table_full(void **state)
{
	struct env *e = *state;
	struct tw_relay_server_cfg scfg;
	struct tw_relay_client_cfg ccfg;
	struct tw_relay_client *cl;
	struct got g = {0};

	srv_cfg(&scfg);
	scfg.max_tuples = 100;
	env_server(e, &scfg);
	cli_cfg(e, &ccfg, &g);
	cl = open_ok(e, &ccfg);
	for (unsigned i = 0; i < 300; i++) {
		struct tup t = tup4(i);
		reg(cl, &t, true);
	}
	tw_relay_client_flush(cl);
	WAIT_FOR(e, sst(e).registered + sst(e).reg_refused == 300);
	assert_int_equal(sst(e).registered, 100);
	assert_int_equal(sst(e).reg_refused, 200);
	assert_int_equal(g.fails, 0);
	tw_relay_client_close(cl);
}

/* ====================================================================== */
/* (14) the intercept goes away                                            */

static void test_server_close(void **state)
{
	struct env *e = *state;
	struct tw_relay_server_cfg scfg;
	struct tw_relay_client_cfg ccfg;
	struct tw_relay_client *cl;
	struct got g = {0};
	struct tup t = tup4(1), t2 = tup4(2);

	srv_cfg(&scfg);
	env_server(e, &scfg);
	cli_cfg(e, &ccfg, &g);
	cl = open_ok(e, &ccfg);
	reg(cl, &t, true);
	tw_relay_client_flush(cl);
	WAIT_FOR(e, sst(e).registered == 1);
	tw_relay_server_close(e->srv);
	e->srv = NULL;
	WAIT_FOR(e, g.fails == 1);
	assert_contains(g.fail_msg, e->servers);
	assert_contains(g.fail_msg, "closed");
	/* a dead intercept is skipped, not written to */
	reg(cl, &t, false);
	reg(cl, &t2, true);
	tw_relay_client_flush(cl);
	for (int i = 0; i < 10; i++)
		pump(e);
	assert_int_equal(g.fails, 1); /* told once */
	assert_int_equal(g.n, 0);
	tw_relay_client_close(cl);
}

/* ====================================================================== */
/* Server bookkeeping on protocol errors and connection slots              */

/* A ready copy refused for a protocol error loses its registrations and
 * its place, like one that leaves: its tuples must not stay routed to a
 * connection slot that the next copy may take. */
static void test_refused_ready_copy(void **state)
{
	struct env *e = *state;
	struct tw_relay_server_cfg scfg;
	struct tw_relay_client_cfg ccfg;
	struct tw_relay_client *cl;
	struct got g = {0};
	struct tup mine[2] = {tup4(1), tup4(2)}, next = tup4(3);
	struct tw_wire_reply r;
	struct raw *rp;

	srv_cfg(&scfg);
	scfg.max_conns = 1;
	env_server(e, &scfg);
	rp = raw_open(e->port);
	raw_hello(e, rp);
	assert_true(raw_next(e, rp));
	assert_int_equal(rp->m.type, TW_WIRE_HELLO_ACK);
	assert_int_equal(rp->m.u.hello.batch, 1);
	raw_reg(rp, mine, 2);
	WAIT_FOR(e, sst(e).registered == 2 && sst(e).live_conns == 1);
	raw_hello(e, rp); /* a second HELLO: out of order */
	assert_true(raw_next(e, rp));
	assert_int_equal(rp->m.type, TW_WIRE_REFUSE);
	assert_int_equal(rp->m.u.refuse.code, TW_WIRE_REFUSE_PROTOCOL);
	assert_false(raw_next(e, rp));
	raw_close(rp);
	WAIT_FOR(e, sst(e).refused == 1);
	assert_int_equal(sst(e).registered, 0);
	assert_int_equal(sst(e).live_conns, 0);

	/* the next copy gets the place and only its own replies */
	cli_cfg(e, &ccfg, &g);
	cl = open_ok(e, &ccfg);
	reg(cl, &next, true);
	tw_relay_client_flush(cl);
	WAIT_FOR(e, sst(e).registered == 1);
	r = mkreply(&mine[0], TW_TH_ACK, 1);
	tw_relay_server_reply(e->srv, &r);
	r = mkreply(&next, TW_TH_ACK, 2);
	tw_relay_server_reply(e->srv, &r);
	tw_relay_server_flush(e->srv);
	WAIT_FOR(e, g.n >= 1);
	assert_int_equal(g.r[0].seq, 2);
	assert_int_equal(g.n, 1);
	assert_int_equal(sst(e).unmatched, 1);
	tw_relay_client_close(cl);
}

/* Connections still in their handshake take the first slots; a copy that
 * gets a later slot is served (flushed) all the same. */
static void test_late_slot_flushed(void **state)
{
	struct env *e = *state;
	struct tw_relay_server_cfg scfg;
	struct tw_relay_client_cfg ccfg;
	struct tw_relay_client *cl;
	struct got g = {0};
	struct tup t = tup4(1);
	struct tw_wire_reply r;
	struct raw *idle;

	srv_cfg(&scfg);
	scfg.max_conns = 1;
	env_server(e, &scfg);
	/* a peer that connected but has not said HELLO: it holds slot 0 */
	idle = raw_open(e->port);
	memset(&idle->m, 0, sizeof(idle->m));
	idle->m.type = TW_WIRE_KEEPALIVE;
	idle->m.u.ka.token = 77;
	raw_put(idle, &idle->m);
	assert_true(raw_next(e, idle)); /* the pong: accepted, still before HELLO */
	assert_int_equal(idle->m.type, TW_WIRE_KEEPALIVE);
	assert_true(idle->m.u.ka.pong);
	assert_int_equal(idle->m.u.ka.token, 77);

	cli_cfg(e, &ccfg, &g);
	cl = open_ok(e, &ccfg);
	assert_int_equal(sst(e).live_conns, 1);
	reg(cl, &t, true);
	tw_relay_client_flush(cl);
	WAIT_FOR(e, sst(e).registered == 1);
	r = mkreply(&t, TW_TH_ACK, 5);
	srv_send(e, &r);
	WAIT_FOR(e, g.n == 1);
	assert_int_equal(g.r[0].seq, 5);
	tw_relay_client_close(cl);
	raw_close(idle);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_split_hostport),
		cmocka_unit_test(test_parse_allow),
		cmocka_unit_test(test_secret_load),
		cmocka_unit_test_setup_teardown(test_handshake_plain, env_setup, env_teardown),
		cmocka_unit_test_setup_teardown(test_handshake_secret, env_setup, env_teardown),
		cmocka_unit_test_setup_teardown(test_wrong_secret, env_setup, env_teardown),
		cmocka_unit_test_setup_teardown(test_secret_one_side, env_setup, env_teardown),
		cmocka_unit_test_setup_teardown(test_allow, env_setup, env_teardown),
		cmocka_unit_test_setup_teardown(test_version_mismatch, env_setup, env_teardown),
		cmocka_unit_test_setup_teardown(test_busy, env_setup, env_teardown),
		cmocka_unit_test_setup_teardown(test_no_intercept, env_setup, env_teardown),
		cmocka_unit_test_setup_teardown(test_not_an_intercept, env_setup, env_teardown),
		cmocka_unit_test_setup_teardown(test_impostor_intercept, env_setup, env_teardown),
		cmocka_unit_test_setup_teardown(test_server_refuses_garbage, env_setup,
						env_teardown),
		cmocka_unit_test_setup_teardown(test_route, env_setup, env_teardown),
		cmocka_unit_test_setup_teardown(test_hold_release, env_setup, env_teardown),
		cmocka_unit_test_setup_teardown(test_hold_expire, env_setup, env_teardown),
		cmocka_unit_test_setup_teardown(test_two_clients, env_setup, env_teardown),
		cmocka_unit_test_setup_teardown(test_many_registrations, env_setup, env_teardown),
		cmocka_unit_test_setup_teardown(test_table_full, env_setup, env_teardown),
		cmocka_unit_test_setup_teardown(test_server_close, env_setup, env_teardown),
		cmocka_unit_test_setup_teardown(test_refused_ready_copy, env_setup, env_teardown),
		cmocka_unit_test_setup_teardown(test_late_slot_flushed, env_setup, env_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
