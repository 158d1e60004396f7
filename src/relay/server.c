/*
 * server.c - the intercept side of the channel (see server.h): listener,
 * per-copy handshake, registration table, reply routing with batching, and
 * the hold for early replies. Capture is icept.c's.
 */
#define TW_LOG_MODULE "relay"
#include "relay/server.h"
#include "relay/conn.h"
#include "core/err.h"
#include "core/hash.h"
#include "core/log.h"
#include "core/version.h"
#include "core/loop.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>


#define MS 1000000ull

enum cstate { CS_HELLO, CS_AUTH, CS_READY };

struct sconn {
	struct tw_relay_server *srv;
	struct tw_rconn c;
	struct tw_io io;
	bool used, io_on, want_out;
	enum cstate state;
	uint16_t batch;
	struct tw_wire_hello hello, ack;
	struct tw_relay_net addr;
	char name[160];
};

/* A reply waiting for its registration: a ring in arrival order, chained
 * per tuple (newest first) through the hash table. */
struct held {
	struct tw_flow_key k;
	uint64_t at;
	uint32_t gen;
	uint32_t prev, prev_gen;     /* the older held reply of the same tuple */
	bool valid;
	struct tw_wire_reply r;      /* payload not kept */
};

struct tw_relay_server {
	struct tw_loop *loop;
	struct tw_relay_server_cfg cfg;
	int lfd;
	struct tw_io lio;
	bool lio_on;
	struct sconn *conns;
	struct tw_hash *reg;         /* reply flow key -> struct sconn * */
	struct tw_hash *hold_idx;    /* reply flow key -> newest held index + 1 */
	struct held *hold;
	uint32_t hold_head, hold_count;
	struct tw_timer t_hold;
	struct tw_relay_server_stats st;
	struct tw_wire_msg msg;
};

void tw_relay_server_cfg_init(struct tw_relay_server_cfg *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->port = TW_WIRE_PORT;
	cfg->ver_min = cfg->ver_max = TW_WIRE_VERSION;
	cfg->max_conns = 64;
	cfg->max_tuples = 1u << 18;
	cfg->hold_max = 65536;
	cfg->hold_ns = 3000 * MS;
	cfg->tx_cap = 16u << 20;
	cfg->payload = 128;
}

static int parse_addr(const char *s, struct tw_relay_net *n)
{
	char buf[64];
	size_t len = strlen(s);

	if (len >= sizeof(buf))
		return -EINVAL;
	if (*s == '[' && len > 2 && s[len - 1] == ']') {
		memcpy(buf, s + 1, len - 2);
		buf[len - 2] = '\0';
	} else {
		memcpy(buf, s, len + 1);
	}
	memset(n->a, 0, sizeof(n->a));
	if (inet_pton(AF_INET, buf, n->a) == 1) {
		n->ver = 4;
		return 0;
	}
	if (inet_pton(AF_INET6, buf, n->a) == 1) {
		n->ver = 6;
		return 0;
	}
	return -EINVAL;
}

int tw_relay_parse_allow(struct tw_relay_server_cfg *cfg, const char *s, char *err, size_t errlen)
{
	if (!*s) { /* not "everyone": that is no --allow at all */
		snprintf(err, errlen, "--allow: empty list (ADDR or ADDR/LEN, comma-separated)");
		return -EINVAL;
	}
	while (*s) {
		const char *comma = strchr(s, ',');
		size_t len = comma ? (size_t)(comma - s) : strlen(s);
		char item[80], *slash;
		struct tw_relay_net n;
		unsigned long plen;

		if (!len || len >= sizeof(item))
			goto bad;
		memcpy(item, s, len);
		item[len] = '\0';
		slash = strchr(item, '/');
		if (slash)
			*slash = '\0';
		if (parse_addr(item, &n) < 0)
			goto bad;
		plen = n.ver == 4 ? 32 : 128;
		if (slash) {
			char *end;
			unsigned long v = strtoul(slash + 1, &end, 10);
			if (slash[1] < '0' || slash[1] > '9' || *end || v > plen)
				goto bad;
			plen = v;
		}
		n.plen = (uint8_t)plen;
		if (cfg->nallow == TW_RELAY_MAX_ALLOW) {
			snprintf(err, errlen, "--allow: at most %d networks", TW_RELAY_MAX_ALLOW);
			return -EINVAL;
		}
		cfg->allow[cfg->nallow++] = n;
		s += len;
		if (*s == ',')
			s++;
		continue;
bad:
		snprintf(err, errlen, "--allow: bad network '%.*s' (ADDR or ADDR/LEN, IPv4 or IPv6)",
			 (int)len, s);
		return -EINVAL;
	}
	return 0;
}

static bool net_has(const struct tw_relay_net *net, const struct tw_relay_net *a)
{
	unsigned full = net->plen / 8, rest = net->plen % 8;

	if (net->ver != a->ver)
		return false;
	if (memcmp(net->a, a->a, full))
		return false;
	if (rest) {
		uint8_t mask = (uint8_t)(0xff << (8 - rest));
		if ((net->a[full] & mask) != (a->a[full] & mask))
			return false;
	}
	return true;
}

static bool allowed(const struct tw_relay_server *srv, const struct tw_relay_net *a)
{
	if (!srv->cfg.nallow)
		return true;
	for (unsigned i = 0; i < srv->cfg.nallow; i++) {
		if (net_has(&srv->cfg.allow[i], a))
			return true;
	}
	return false;
}

/* ---- registrations and the hold ---- */

static void reply_key(struct tw_flow_key *k, const struct tw_wire_reply *r)
{
	if (r->ipver == 4)
		tw_flow_key_v4(k, r->src, r->sport, r->dst, r->dport);
	else
		tw_flow_key_v6(k, r->src, r->sport, r->dst, r->dport);
}

static void tuple_key(struct tw_flow_key *k, const struct tw_wire_tuple *t)
{
	if (t->ipver == 4)
		tw_flow_key_v4(k, t->saddr, t->sport, t->caddr, t->cport);
	else
		tw_flow_key_v6(k, t->saddr, t->sport, t->caddr, t->cport);
}

static void conn_arm(struct sconn *sc, bool out)
{
	if (!sc->io_on || sc->want_out == out)
		return;
	sc->want_out = out;
	(void)tw_loop_io_start(sc->srv->loop, &sc->io, TW_IO_IN | (out ? TW_IO_OUT : 0));
}

static void forward(struct tw_relay_server *srv, struct sconn *sc, const struct tw_wire_reply *r)
{
	struct tw_wire_reply cut;

	if (r->payload_cap > sc->ack.payload) {
		/* this copy asked for fewer payload bytes (or none) */
		cut = *r;
		cut.payload_cap = sc->ack.payload;
		if (!cut.payload_cap)
			cut.payload = NULL;
		r = &cut;
	}
	if (tw_rconn_add_reply(&sc->c, r, sc->batch) < 0)
		srv->st.send_drops++;
	else
		srv->st.forwarded++;
}

static void hold_pop(struct tw_relay_server *srv, bool expired)
{
	uint32_t tail = (srv->hold_head + srv->cfg.hold_max - srv->hold_count) % srv->cfg.hold_max;
	struct held *h = &srv->hold[tail];

	if (h->valid) {
		void *v;
		if (tw_hash_find(srv->hold_idx, &h->k, &v) && (uintptr_t)v == (uintptr_t)tail + 1)
			(void)tw_hash_remove(srv->hold_idx, &h->k, NULL);
		h->valid = false;
		if (expired)
			srv->st.held_expired++;
		else
			srv->st.held_overflow++;
	}
	srv->hold_count--;
}

static void hold_reply(struct tw_relay_server *srv, const struct tw_flow_key *k,
		       const struct tw_wire_reply *r, uint64_t now)
{
	struct held *h;
	uint32_t idx;
	void *v;

	if (srv->hold_count == srv->cfg.hold_max)
		hold_pop(srv, false);
	idx = srv->hold_head;
	srv->hold_head = (srv->hold_head + 1) % srv->cfg.hold_max;
	srv->hold_count++;
	h = &srv->hold[idx];
	h->k = *k;
	h->at = now;
	h->gen++;
	h->valid = true;
	h->r = *r;
	h->r.payload = NULL;
	h->r.payload_cap = 0;
	h->prev = UINT32_MAX;
	if (tw_hash_find(srv->hold_idx, k, &v)) {
		h->prev = (uint32_t)((uintptr_t)v - 1);
		h->prev_gen = srv->hold[h->prev].gen;
		(void)tw_hash_remove(srv->hold_idx, k, NULL);
	}
	if (tw_hash_insert(srv->hold_idx, k, (void *)((uintptr_t)idx + 1)) < 0) {
		h->valid = false; /* index full: cannot find it again */
		srv->st.held_overflow++;
		return;
	}
	srv->st.held++;
	if (!tw_timer_armed(&srv->t_hold))
		tw_loop_timer_after(srv->loop, &srv->t_hold, srv->cfg.hold_ns / 4 + 1);
}

/* A registration arrived for K: send what was held for it, oldest first. */
static void hold_release(struct tw_relay_server *srv, const struct tw_flow_key *k, struct sconn *sc)
{
	uint32_t chain[64], n = 0, idx, gen;
	void *v;

	if (!srv->hold_count || !tw_hash_find(srv->hold_idx, k, &v))
		return;
	(void)tw_hash_remove(srv->hold_idx, k, NULL);
	idx = (uint32_t)((uintptr_t)v - 1);
	gen = srv->hold[idx].gen;
	while (idx != UINT32_MAX && n < 64) {
		struct held *h = &srv->hold[idx];
		if (h->gen != gen || !h->valid)
			break;
		chain[n++] = idx;
		h->valid = false;
		idx = h->prev;
		gen = h->prev_gen;
	}
	while (n--) {
		forward(srv, sc, &srv->hold[chain[n]].r);
		srv->st.held_forwarded++;
	}
}

static void on_hold_timer(struct tw_timer *t, uint64_t now, void *arg)
{
	struct tw_relay_server *srv = arg;

	(void)t;
	while (srv->hold_count) {
		uint32_t tail = (srv->hold_head + srv->cfg.hold_max - srv->hold_count) % srv->cfg.hold_max;
		if (srv->hold[tail].at + srv->cfg.hold_ns > now)
			break;
		hold_pop(srv, true);
	}
	if (srv->hold_count)
		tw_loop_timer_after(srv->loop, &srv->t_hold, srv->cfg.hold_ns / 4 + 1);
}

void tw_relay_server_reply(struct tw_relay_server *srv, const struct tw_wire_reply *r)
{
	struct tw_flow_key k;
	struct sconn *sc;

	srv->st.captured++;
	reply_key(&k, r);
	sc = tw_hash_lookup(srv->reg, &k);
	if (sc) {
		forward(srv, sc, r);
		return;
	}
	/* Only what opens or ends a connection can come before its registration. */
	if (r->flags & (TW_TH_SYN | TW_TH_RST))
		hold_reply(srv, &k, r, tw_loop_now(srv->loop));
	else
		srv->st.unmatched++;
}

void tw_relay_server_flush(struct tw_relay_server *srv)
{
	for (unsigned i = 0; i < srv->cfg.max_conns * 2; i++) { /* every slot, as on_accept */
		struct sconn *sc = &srv->conns[i];
		int rc;

		if (!sc->used || sc->state != CS_READY || (!sc->c.bopen && !tw_rconn_pending(&sc->c)))
			continue;
		rc = tw_rconn_flush(&sc->c);
		if (rc >= 0)
			conn_arm(sc, rc == 1);
		/* a send error shows up as an error event on the socket */
	}
}

/* ---- connections ---- */

static void conn_close(struct sconn *sc, const char *why)
{
	struct tw_relay_server *srv = sc->srv;
	struct tw_hash_iter it;
	const void *key;
	void *val;

	if (sc->state == CS_READY) {
		size_t n = 0;
		tw_hash_iter_init(srv->reg, &it);
		while (tw_hash_iter_next(srv->reg, &it, &key, &val)) {
			if (val == sc) {
				tw_hash_iter_remove(srv->reg, &it);
				n++;
			}
		}
		srv->st.live_conns--;
		tw_log(TW_LOG_NOTICE, 0, "copy %s disconnected (%s); %zu registrations dropped", sc->name,
		       why, n);
	}
	if (sc->io_on)
		(void)tw_loop_io_stop(srv->loop, &sc->io);
	tw_rconn_close(&sc->c);
	memset(sc, 0, sizeof(*sc));
}

static void conn_refuse(struct sconn *sc, uint16_t code, const char *reason)
{
	struct tw_wire_msg *m = &sc->srv->msg;

	tw_log(TW_LOG_WARN, 0, "refused copy %s: %s", sc->name, reason);
	memset(m, 0, sizeof(*m));
	m->type = TW_WIRE_REFUSE;
	m->u.refuse.code = code;
	snprintf(m->u.refuse.reason, sizeof(m->u.refuse.reason), "%s", reason);
	(void)tw_rconn_put(&sc->c, m);
	(void)tw_rconn_flush(&sc->c);
	(void)shutdown(sc->c.fd, SHUT_WR);
	sc->srv->st.refused++;
	conn_close(sc, "refused"); /* a ready copy loses its registrations and place */
}

static void conn_ready(struct sconn *sc)
{
	sc->state = CS_READY;
	sc->srv->st.conns++;
	sc->srv->st.live_conns++;
	tw_log(TW_LOG_NOTICE, 0, "copy %s (%s) connected", sc->name, sc->hello.name);
}

static void on_hello(struct sconn *sc, const struct tw_wire_msg *m)
{
	struct tw_relay_server *srv = sc->srv;
	struct tw_wire_hello local;
	char reason[TW_WIRE_MAX_REASON + 1];
	int code;

	if (!allowed(srv, &sc->addr)) {
		snprintf(reason, sizeof(reason),
			 "copy at %.120s is not in this intercept's allowed networks (--allow)", sc->name);
		conn_refuse(sc, TW_WIRE_REFUSE_NETWORK, reason);
		return;
	}
	if (srv->st.live_conns >= srv->cfg.max_conns) {
		conn_refuse(sc, TW_WIRE_REFUSE_BUSY, "this intercept has as many copies as it takes");
		return;
	}
	memset(&local, 0, sizeof(local));
	local.ver_min = srv->cfg.ver_min;
	local.ver_max = srv->cfg.ver_max;
	local.role = TW_WIRE_ROLE_INTERCEPT;
	local.caps = TW_WIRE_CAP_BATCH | TW_WIRE_CAP_STATS | TW_WIRE_CAP_PAYLOAD |
		     (srv->cfg.secret && srv->cfg.secret->len ? TW_WIRE_CAP_AUTH : 0);
	local.payload = srv->cfg.payload;
	local.batch = TW_WIRE_MAX_REPLIES;
	snprintf(local.name, sizeof(local.name), "tcptwin %s", tw_version());
	(void)tw_nonce(local.nonce);
	sc->hello = m->u.hello;
	code = tw_wire_hello_answer(&local, &sc->hello, &sc->ack, reason, sizeof(reason));
	if (code) {
		conn_refuse(sc, (uint16_t)code, reason);
		return;
	}
	sc->batch = sc->ack.batch;
	memset(&srv->msg, 0, sizeof(srv->msg));
	srv->msg.type = TW_WIRE_HELLO_ACK;
	srv->msg.u.hello = sc->ack;
	(void)tw_rconn_put(&sc->c, &srv->msg);
	if (sc->ack.caps & TW_WIRE_CAP_AUTH)
		sc->state = CS_AUTH;
	else
		conn_ready(sc);
}

static void on_auth(struct sconn *sc, const struct tw_wire_msg *m)
{
	struct tw_relay_server *srv = sc->srv;
	uint8_t want[TW_WIRE_MAC_LEN];

	tw_secret_mac(srv->cfg.secret, TW_WIRE_ROLE_COPY, &sc->hello, &sc->ack, want);
	if (!tw_wire_mac_equal(want, m->u.mac)) {
		conn_refuse(sc, TW_WIRE_REFUSE_AUTH,
			    "wrong shared secret: copy's --secret-file differs from intercept's");
		return;
	}
	memset(&srv->msg, 0, sizeof(srv->msg));
	srv->msg.type = TW_WIRE_AUTH;
	tw_secret_mac(srv->cfg.secret, TW_WIRE_ROLE_INTERCEPT, &sc->hello, &sc->ack, srv->msg.u.mac);
	(void)tw_rconn_put(&sc->c, &srv->msg);
	conn_ready(sc);
}

static void on_reg(struct sconn *sc, const struct tw_wire_msg *m, bool add)
{
	struct tw_relay_server *srv = sc->srv;

	for (unsigned i = 0; i < m->u.reg.n; i++) {
		struct tw_flow_key k;
		void *old;

		tuple_key(&k, &m->u.reg.t[i]);
		if (!add) {
			if (tw_hash_find(srv->reg, &k, &old) && old == sc)
				(void)tw_hash_remove(srv->reg, &k, NULL);
			continue;
		}
		if (tw_hash_find(srv->reg, &k, &old)) {
			if (old != sc)
				(void)tw_hash_remove(srv->reg, &k, NULL);
			else
				continue;
		}
		if (tw_hash_insert(srv->reg, &k, sc) < 0) {
			srv->st.reg_refused++;
			continue;
		}
		hold_release(srv, &k, sc);
	}
}

/* Returns false when the connection was closed. */
static bool on_frame(struct sconn *sc, struct tw_wire_msg *m)
{
	char reason[120];

	if (m->type == TW_WIRE_REFUSE) {
		snprintf(reason, sizeof(reason), "it said: %.100s", m->u.refuse.reason);
		conn_close(sc, reason);
		return false;
	}
	if (m->type == TW_WIRE_KEEPALIVE) {
		if (!m->u.ka.pong) {
			m->u.ka.pong = true;
			(void)tw_rconn_put(&sc->c, m);
		}
		return true;
	}
	switch (sc->state) {
	case CS_HELLO:
		if (m->type == TW_WIRE_HELLO) {
			on_hello(sc, m);
			return sc->used;
		}
		break;
	case CS_AUTH:
		if (m->type == TW_WIRE_AUTH) {
			on_auth(sc, m);
			return sc->used;
		}
		break;
	case CS_READY:
		if (m->type == TW_WIRE_REGISTER || m->type == TW_WIRE_UNREGISTER) {
			on_reg(sc, m, m->type == TW_WIRE_REGISTER);
			return true;
		}
		if (m->type == TW_WIRE_STATS)
			return true;
		break;
	}
	if ((m->flags & TW_WIRE_F_OPTIONAL) && m->type > TW_WIRE_TYPE_MAX)
		return true;
	snprintf(reason, sizeof(reason), "unexpected %s frame at this point", tw_wire_type_name(m->type));
	conn_refuse(sc, TW_WIRE_REFUSE_PROTOCOL, reason);
	return false;
}

static void on_conn_io(struct tw_io *io, unsigned ev, void *arg)
{
	struct sconn *sc = arg;
	struct tw_relay_server *srv = sc->srv;
	int rc;

	(void)io;
	if (ev & TW_IO_OUT) {
		rc = tw_rconn_flush(&sc->c);
		if (rc < 0) {
			conn_close(sc, tw_strerror(rc));
			return;
		}
		conn_arm(sc, rc == 1);
	}
	if (!(ev & (TW_IO_IN | TW_IO_HUP | TW_IO_ERR)))
		return;
	for (int turns = 0; turns < 16; turns++) {
		const char *why = NULL;
		int n;

		rc = tw_rconn_fill(&sc->c);
		if (rc == -EAGAIN)
			break;
		if (rc <= 0) {
			conn_close(sc, rc == 0 ? "closed" : tw_strerror(rc));
			return;
		}
		while ((n = tw_rconn_next(&sc->c, &srv->msg, &why)) > 0) {
			if (!on_frame(sc, &srv->msg))
				return;
		}
		if (n < 0) {
			char reason[160];
			snprintf(reason, sizeof(reason), "not the tcptwin channel protocol (%s)",
				 why ? why : "bad frame");
			conn_refuse(sc, TW_WIRE_REFUSE_PROTOCOL, reason);
			return;
		}
	}
	if (tw_rconn_pending(&sc->c) || sc->c.bopen) {
		rc = tw_rconn_flush(&sc->c);
		if (rc < 0) {
			conn_close(sc, tw_strerror(rc));
			return;
		}
		conn_arm(sc, rc == 1);
	}
}

static void peer_name(const struct sockaddr_storage *ss, struct sconn *sc)
{
	char a[INET6_ADDRSTRLEN] = "?";
	unsigned port = 0;

	memset(&sc->addr, 0, sizeof(sc->addr));
	if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *s4 = (const void *)ss;
		memcpy(sc->addr.a, &s4->sin_addr, 4);
		sc->addr.ver = 4;
		port = ntohs(s4->sin_port);
	} else if (ss->ss_family == AF_INET6) {
		const struct sockaddr_in6 *s6 = (const void *)ss;
		port = ntohs(s6->sin6_port);
		if (IN6_IS_ADDR_V4MAPPED(&s6->sin6_addr)) {
			memcpy(sc->addr.a, &s6->sin6_addr.s6_addr[12], 4);
			sc->addr.ver = 4;
		} else {
			memcpy(sc->addr.a, &s6->sin6_addr, 16);
			sc->addr.ver = 6;
		}
	}
	inet_ntop(sc->addr.ver == 4 ? AF_INET : AF_INET6, sc->addr.a, a, sizeof(a));
	snprintf(sc->name, sizeof(sc->name), sc->addr.ver == 6 ? "[%s]:%u" : "%s:%u", a, port);
}

static void on_accept(struct tw_io *io, unsigned ev, void *arg)
{
	struct tw_relay_server *srv = arg;

	(void)io;
	(void)ev;
	for (int i = 0; i < 64; i++) {
		struct sockaddr_storage ss;
		socklen_t sl = sizeof(ss);
		struct sconn *sc = NULL;
		int one = 1;
		int fd = accept4(srv->lfd, (struct sockaddr *)&ss, &sl, SOCK_NONBLOCK | SOCK_CLOEXEC);

		if (fd < 0)
			return;
		for (unsigned j = 0; j < srv->cfg.max_conns * 2; j++) {
			if (!srv->conns[j].used) {
				sc = &srv->conns[j];
				break;
			}
		}
		if (!sc) {
			close(fd); /* handshakes in progress fill every slot */
			srv->st.refused++;
			continue;
		}
		(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		memset(sc, 0, sizeof(*sc));
		sc->srv = srv;
		peer_name(&ss, sc);
		if (tw_rconn_init(&sc->c, fd, srv->cfg.tx_cap) < 0) {
			close(fd);
			continue;
		}
		sc->used = true;
		tw_io_init(&sc->io, fd, on_conn_io, sc);
		if (tw_loop_io_start(srv->loop, &sc->io, TW_IO_IN) < 0) {
			tw_rconn_close(&sc->c);
			sc->used = false;
			continue;
		}
		sc->io_on = true;
	}
}

static int listen_on(struct tw_relay_server *srv, char *err, size_t errlen)
{
	struct sockaddr_storage ss;
	socklen_t sl;
	struct tw_relay_net a;
	int one = 1, zero = 0, fd;

	memset(&ss, 0, sizeof(ss));
	if (srv->cfg.bind) {
		if (parse_addr(srv->cfg.bind, &a) < 0) {
			snprintf(err, errlen, "-b: '%s' is not an IPv4 or IPv6 address", srv->cfg.bind);
			return -EINVAL;
		}
	} else {
		memset(&a, 0, sizeof(a));
		a.ver = 6;
	}
	if (a.ver == 4) {
		struct sockaddr_in *s4 = (void *)&ss;
		s4->sin_family = AF_INET;
		s4->sin_port = htons(srv->cfg.port);
		memcpy(&s4->sin_addr, a.a, 4);
		sl = sizeof(*s4);
	} else {
		struct sockaddr_in6 *s6 = (void *)&ss;
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons(srv->cfg.port);
		memcpy(&s6->sin6_addr, a.a, 16);
		sl = sizeof(*s6);
	}
	fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0 && !srv->cfg.bind && errno == EAFNOSUPPORT) {
		struct sockaddr_in *s4 = (void *)&ss;
		memset(&ss, 0, sizeof(ss));
		s4->sin_family = AF_INET;
		s4->sin_port = htons(srv->cfg.port);
		sl = sizeof(*s4);
		fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	}
	if (fd < 0) {
		snprintf(err, errlen, "intercept: socket: %s", strerror(errno));
		return -errno;
	}
	(void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (ss.ss_family == AF_INET6 && !srv->cfg.bind)
		(void)setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof(zero));
	if (bind(fd, (struct sockaddr *)&ss, sl) < 0 || listen(fd, 128) < 0) {
		int e = errno;
		snprintf(err, errlen, "intercept: cannot listen on %s port %u: %s",
			 srv->cfg.bind ? srv->cfg.bind : "every address", srv->cfg.port, strerror(e));
		close(fd);
		return -e;
	}
	srv->lfd = fd;
	return 0;
}

int tw_relay_server_open(struct tw_loop *loop, const struct tw_relay_server_cfg *cfg,
			 struct tw_relay_server **out, char *err, size_t errlen)
{
	struct tw_relay_server *srv = calloc(1, sizeof(*srv));
	int rc;

	if (!srv)
		return -ENOMEM;
	srv->loop = loop;
	srv->cfg = *cfg;
	srv->lfd = -1;
	if (!srv->cfg.max_conns)
		srv->cfg.max_conns = 64;
	if (!srv->cfg.hold_max)
		srv->cfg.hold_max = 1;
	srv->conns = calloc(srv->cfg.max_conns * 2, sizeof(*srv->conns));
	srv->hold = calloc(srv->cfg.hold_max, sizeof(*srv->hold));
	srv->reg = tw_hash_new(sizeof(struct tw_flow_key), cfg->max_tuples, tw_hash_random_seed());
	srv->hold_idx = tw_hash_new(sizeof(struct tw_flow_key), srv->cfg.hold_max, tw_hash_random_seed());
	if (!srv->conns || !srv->hold || !srv->reg || !srv->hold_idx) {
		snprintf(err, errlen, "intercept: not enough memory for %u registrations", cfg->max_tuples);
		rc = -ENOMEM;
		goto fail;
	}
	(void)tw_hash_prefault(srv->reg);
	(void)tw_hash_prefault(srv->hold_idx);
	tw_timer_init(&srv->t_hold, on_hold_timer, srv);
	if ((rc = listen_on(srv, err, errlen)) < 0)
		goto fail;
	tw_io_init(&srv->lio, srv->lfd, on_accept, srv);
	if ((rc = tw_loop_io_start(loop, &srv->lio, TW_IO_IN)) < 0) {
		snprintf(err, errlen, "intercept: epoll: %s", tw_strerror(rc));
		goto fail;
	}
	srv->lio_on = true;
	*out = srv;
	return 0;
fail:
	tw_relay_server_close(srv);
	return rc;
}

void tw_relay_server_get_stats(const struct tw_relay_server *srv, struct tw_relay_server_stats *st)
{
	*st = srv->st;
	st->registered = tw_hash_count(srv->reg);
}

void tw_relay_server_close(struct tw_relay_server *srv)
{
	if (!srv)
		return;
	if (srv->conns) {
		for (unsigned i = 0; i < srv->cfg.max_conns * 2; i++) {
			if (srv->conns[i].used)
				conn_close(&srv->conns[i], "intercept stopping");
		}
	}
	if (srv->lio_on)
		(void)tw_loop_io_stop(srv->loop, &srv->lio);
	if (srv->lfd >= 0)
		close(srv->lfd);
	tw_loop_timer_cancel(srv->loop, &srv->t_hold);
	tw_hash_free(srv->reg);
	tw_hash_free(srv->hold_idx);
	free(srv->hold);
	free(srv->conns);
	free(srv);
}
