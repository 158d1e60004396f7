/*
 * recorder.c - HTTP/1.1 server that records every byte its clients send.
 * Used by tests/e2e/copylab.sh both as the "production" server and as the
 * replay target; comparing the two recordings (tests/e2e/streams.py) shows
 * whether a replay delivered every client byte stream exactly.
 *
 *   recorder -l ADDR:PORT|[V6ADDR]:PORT -d DIR [-p PIDFILE]
 *
 * What it does: one epoll loop (level-triggered, non-blocking sockets,
 * SO_REUSEADDR, backlog 4096, RLIMIT_NOFILE raised to the hard limit). Every
 * byte received on a connection is kept in memory; when the connection ends
 * (peer FIN once the replies are written, RST, error) the whole stream is
 * written to DIR/<peer-ip>_<peer-port>_<n>.bin (n counts accepted
 * connections from 1; written as .<name>.tmp, then linked: an existing file is
 * never replaced, <n>.K.bin is used instead), then the socket is closed.
 * SIGTERM/SIGINT (signalfd) writes every open connection the same way and
 * exits 0 (1 if a file could not be written).
 * HTTP: requests are parsed as they arrive (pipelining works): request line,
 * headers up to CRLFCRLF, optional Content-Length body. Reply
 * "HTTP/1.1 200 OK\r\nContent-Length: N\r\n\r\n" + N bytes, byte i of a body
 * being PAT[i % 64]; N = query "size=N" (default 100, capped at 16 MB).
 * When the server is going to close, "Connection: close\r\n" comes before
 * the blank line (wrk would otherwise send its next request into the close).
 * "early=1" in the query: the reply goes out right after the headers, before
 * the body. "Connection: close" (or HTTP/1.0 without keep-alive): after that
 * request's body and reply, shutdown(SHUT_WR) and keep recording until the
 * peer closes. Replies leave through a queue and non-blocking writev.
 * Anything unparseable (or Transfer-Encoding) is still recorded; replies
 * simply stop on that connection.
 *
 * What it does not do: chunked bodies, TLS, HTTP/2, timeouts (an idle peer
 * stays until SIGTERM), limits on memory per connection. Test tool only, not
 * part of tcptwin.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* memmem, accept4 */
#endif
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#define MAX_REPLY  (16u << 20) /* cap of size=N */
#define MAX_HEAD   (64u << 10) /* request line + headers */
#define PAT_LEN    65536       /* multiple of 64 so that byte i = PAT[i % 64] */
#define MIN_READ   16384
#define MAX_IOV    64

static const char PAT[] = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ-_";
static unsigned char body_pat[PAT_LEN];

struct reply {
	char hdr[96];
	size_t hdr_len, hdr_off;
	size_t body_len, body_off;
};

struct conn {
	int fd;
	uint32_t ev;                /* registered epoll mask */
	unsigned long long n;       /* accept counter, part of the file name */
	bool mutate;                /* the current request's reply says 203 (-m) */
	char peer[INET6_ADDRSTRLEN + 8];
	unsigned char *in;          /* everything received */
	size_t in_len, in_cap;
	size_t parse_off;           /* start of the unparsed request data */
	size_t scan_off;            /* where the CRLFCRLF search resumes */
	unsigned long long body_left;
	bool in_body, replied;      /* current request: in its body; reply queued */
	size_t size;                /* current request: reply size */
	bool want_close;            /* current request: close after it */
	bool done;                  /* no more requests are parsed */
	bool broken;                /* unparseable: record only */
	bool wr_shut, rd_eof;
	struct reply *q;            /* reply queue: q[q_head..q_len) pending */
	size_t q_head, q_len, q_cap;
};

static struct conn **tab; /* open connections by fd */
static size_t tab_cap;
static const char *out_dir;
static unsigned long long n_conns, n_reqs, n_bytes, n_files, n_errors;
static int epfd;

static void die(const char *what)
{
	fprintf(stderr, "recorder: %s: %s\n", what, strerror(errno));
	exit(1);
}

static void *xrealloc(void *p, size_t n)
{
	p = realloc(p, n);
	if (!p)
		die("realloc");
	return p;
}

/*
 * write the recorded stream of c to out_dir: a temp file, then link() to the
 * final name, so a file never appears half-written and an existing one (a
 * restarted recorder reusing n) is never replaced: ".K" is added instead
 */
static void save(struct conn *c)
{
	char tmp[4096], name[4096];
	size_t off = 0;
	int fd, k = 0;

	snprintf(tmp, sizeof(tmp), "%s/.%s_%llu.tmp", out_dir, c->peer, c->n);
	snprintf(name, sizeof(name), "%s/%s_%llu.bin", out_dir, c->peer, c->n);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		goto err;
	while (off < c->in_len) {
		ssize_t w = write(fd, c->in + off, c->in_len - off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			close(fd);
			goto err;
		}
		off += (size_t)w;
	}
	if (close(fd) < 0)
		goto err;
	while (link(tmp, name) < 0) {
		if (errno != EEXIST || ++k > 1000)
			goto err;
		snprintf(name, sizeof(name), "%s/%s_%llu.%d.bin", out_dir, c->peer, c->n, k);
	}
	unlink(tmp);
	n_files++;
	return;
err:
	fprintf(stderr, "recorder: cannot write %s: %s\n", name, strerror(errno));
	n_errors++;
}

static void finish(struct conn *c)
{
	save(c);
	close(c->fd); /* also leaves the epoll set */
	tab[c->fd] = NULL;
	free(c->in);
	free(c->q);
	free(c);
}

/* -m N: the reply to a request whose request line hashes (FNV-1a 64) to 0
 * modulo N says "203" instead of "200" (same length, other bytes), so a test
 * knows exactly which exchanges differ from production. 0 = never. */
static unsigned long long mutate_mod;

static uint64_t line_hash(const char *p, size_t n)
{
	uint64_t h = 0xcbf29ce484222325ull;

	for (size_t i = 0; i < n; i++)
		h = (h ^ (unsigned char)p[i]) * 0x100000001b3ull;
	return h;
}

static void queue_reply(struct conn *c, size_t size, bool close)
{
	struct reply *r;

	if (c->q_len == c->q_cap) {
		c->q_cap = c->q_cap ? 2 * c->q_cap : 4;
		c->q = xrealloc(c->q, c->q_cap * sizeof(*c->q));
	}
	r = &c->q[c->q_len++];
	r->hdr_len = (size_t)snprintf(r->hdr, sizeof(r->hdr),
				      "HTTP/1.1 %s OK\r\nContent-Length: %zu\r\n%s\r\n",
				      c->mutate ? "203" : "200", size,
				      close ? "Connection: close\r\n" : "");
	r->hdr_off = 0;
	r->body_len = size;
	r->body_off = 0;
}

/* case-insensitive: does the comma-separated header value v contain token t */
static bool has_token(const char *v, size_t vlen, const char *t)
{
	size_t tl = strlen(t), i = 0;

	while (i < vlen) {
		size_t s, e;
		while (i < vlen && (v[i] == ' ' || v[i] == '\t' || v[i] == ','))
			i++;
		s = i;
		while (i < vlen && v[i] != ',')
			i++;
		e = i;
		while (e > s && (v[e - 1] == ' ' || v[e - 1] == '\t'))
			e--;
		if (e - s == tl && strncasecmp(v + s, t, tl) == 0)
			return true;
	}
	return false;
}

static bool parse_ull(const char *s, size_t len, unsigned long long *out)
{
	unsigned long long v = 0;
	size_t i;

	if (len == 0 || len > 15)
		return false;
	for (i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		v = v * 10 + (unsigned long long)(s[i] - '0');
	}
	*out = v;
	return true;
}

/* the query string of a request target: size=N, early=1 */
static void parse_query(struct conn *c, const char *t, size_t tlen, bool *early)
{
	const char *q = memchr(t, '?', tlen), *end = t + tlen;
	unsigned long long v;

	if (!q)
		return;
	for (q++; q < end;) {
		const char *amp = memchr(q, '&', (size_t)(end - q));
		const char *pe = amp ? amp : end;
		size_t l = (size_t)(pe - q);
		if (l > 5 && memcmp(q, "size=", 5) == 0 && parse_ull(q + 5, l - 5, &v))
			c->size = v > MAX_REPLY ? MAX_REPLY : (size_t)v;
		else if (l == 7 && memcmp(q, "early=1", 7) == 0)
			*early = true;
		q = pe + 1;
	}
}

/*
 * One request head (h, len; ends with CRLFCRLF). Sets the per-request state
 * and returns false if it is not HTTP/1.x.
 */
static bool parse_head(struct conn *c, const char *h, size_t len, unsigned long long *clen,
		       bool *early)
{
	const char *end = h + len, *p = h, *sp1, *sp2, *eol;
	bool http10, keepalive = false, close_hdr = false;

	eol = memmem(p, len, "\r\n", 2);
	sp1 = memchr(p, ' ', (size_t)(eol - p));
	if (!sp1 || sp1 == p)
		return false;
	for (const char *m = p; m < sp1; m++)
		if (*m < 'A' || *m > 'Z')
			return false;
	sp2 = memchr(sp1 + 1, ' ', (size_t)(eol - sp1 - 1));
	if (!sp2 || sp2 == sp1 + 1 || eol - sp2 != 9 || memcmp(sp2 + 1, "HTTP/1.", 7) != 0 ||
	    (sp2[8] != '0' && sp2[8] != '1'))
		return false;
	http10 = sp2[8] == '0';
	c->mutate = mutate_mod && line_hash(p, (size_t)(eol - p)) % mutate_mod == 0;
	c->size = 100;
	*clen = 0;
	*early = false;
	parse_query(c, sp1 + 1, (size_t)(sp2 - sp1 - 1), early);
	for (p = eol + 2; p < end - 2; p = eol + 2) {
		const char *colon, *v, *ve;
		eol = memmem(p, (size_t)(end - p), "\r\n", 2);
		colon = memchr(p, ':', (size_t)(eol - p));
		if (!colon || colon == p)
			return false;
		for (v = colon + 1; v < eol && (*v == ' ' || *v == '\t'); v++)
			;
		for (ve = eol; ve > v && (ve[-1] == ' ' || ve[-1] == '\t'); ve--)
			;
		size_t nl = (size_t)(colon - p), vl = (size_t)(ve - v);
		if (nl == 14 && strncasecmp(p, "Content-Length", 14) == 0) {
			if (!parse_ull(v, vl, clen))
				return false;
		} else if (nl == 17 && strncasecmp(p, "Transfer-Encoding", 17) == 0) {
			return false;
		} else if (nl == 10 && strncasecmp(p, "Connection", 10) == 0) {
			close_hdr |= has_token(v, vl, "close");
			keepalive |= has_token(v, vl, "keep-alive");
		}
	}
	c->want_close = close_hdr || (http10 && !keepalive);
	return true;
}

/* parse what has arrived; queue replies */
static void parse(struct conn *c)
{
	while (!c->broken && !c->done) {
		if (!c->in_body) {
			const unsigned char *s, *e;
			unsigned long long clen;
			bool early;
			/* empty lines before a request line are allowed (RFC 9112 2.2) */
			while (c->in_len - c->parse_off >= 2 && c->in[c->parse_off] == '\r' &&
			       c->in[c->parse_off + 1] == '\n')
				c->parse_off += 2;
			if (c->scan_off < c->parse_off)
				c->scan_off = c->parse_off;
			s = c->in + c->scan_off;
			e = memmem(s, c->in_len - c->scan_off, "\r\n\r\n", 4);
			if (!e) {
				if (c->in_len - c->parse_off > MAX_HEAD)
					c->broken = true;
				else if (c->in_len >= c->parse_off + 3)
					c->scan_off = c->in_len - 3;
				return;
			}
			e += 4;
			if (!parse_head(c, (const char *)c->in + c->parse_off,
					(size_t)(e - (c->in + c->parse_off)), &clen, &early)) {
				c->broken = true;
				return;
			}
			n_reqs++;
			c->parse_off = (size_t)(e - c->in);
			c->replied = early;
			if (early)
				queue_reply(c, c->size, c->want_close);
			c->body_left = clen;
			c->in_body = true;
		}
		size_t avail = c->in_len - c->parse_off;
		size_t take = avail < c->body_left ? avail : (size_t)c->body_left;
		c->parse_off += take;
		c->body_left -= take;
		if (c->body_left)
			return;
		c->in_body = false;
		if (!c->replied)
			queue_reply(c, c->size, c->want_close);
		if (c->want_close)
			c->done = true;
	}
}

/* write queued replies; false on a write error */
static bool flush(struct conn *c)
{
	while (c->q_head < c->q_len) {
		struct iovec iov[MAX_IOV];
		int n = 0;
		for (size_t i = c->q_head; i < c->q_len && n < MAX_IOV - 1; i++) {
			struct reply *r = &c->q[i];
			if (r->hdr_off < r->hdr_len)
				iov[n++] = (struct iovec){r->hdr + r->hdr_off, r->hdr_len - r->hdr_off};
			if (r->body_off < r->body_len) {
				size_t o = r->body_off % PAT_LEN, l = r->body_len - r->body_off;
				iov[n++] = (struct iovec){body_pat + o, l < PAT_LEN - o ? l : PAT_LEN - o};
				if (l > PAT_LEN - o)
					break; /* the rest of this body: next round */
			}
		}
		ssize_t w = writev(c->fd, iov, n);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return errno == EAGAIN || errno == EWOULDBLOCK;
		}
		size_t left = (size_t)w;
		while (left && c->q_head < c->q_len) {
			struct reply *r = &c->q[c->q_head];
			size_t l = r->hdr_len - r->hdr_off;
			l = l < left ? l : left;
			r->hdr_off += l;
			left -= l;
			l = r->body_len - r->body_off;
			l = l < left ? l : left;
			r->body_off += l;
			left -= l;
			if (r->hdr_off == r->hdr_len && r->body_off == r->body_len)
				c->q_head++;
			else
				break;
		}
		if (c->q_head == c->q_len)
			c->q_head = c->q_len = 0;
	}
	return true;
}

/* read what is there; false on a read error (RST, ...) */
static bool do_read(struct conn *c)
{
	for (;;) {
		if (c->in_cap - c->in_len < MIN_READ) {
			size_t nc = 2 * c->in_cap;
			if (nc < c->in_len + MIN_READ)
				nc = c->in_len + MIN_READ;
			c->in = xrealloc(c->in, nc);
			c->in_cap = nc;
		}
		size_t room = c->in_cap - c->in_len;
		ssize_t r = read(c->fd, c->in + c->in_len, room);
		if (r > 0) {
			c->in_len += (size_t)r;
			n_bytes += (unsigned long long)r;
			if ((size_t)r < room)
				return true;
			continue;
		}
		if (r == 0) {
			c->rd_eof = true;
			return true;
		}
		if (errno == EINTR)
			continue;
		return errno == EAGAIN || errno == EWOULDBLOCK;
	}
}

static void on_event(struct conn *c, uint32_t events)
{
	uint32_t want;

	if (!c->rd_eof && (events & (EPOLLIN | EPOLLHUP | EPOLLERR))) {
		if (!do_read(c)) {
			finish(c);
			return;
		}
		parse(c);
	}
	if (!flush(c)) {
		finish(c);
		return;
	}
	bool pending = c->q_head < c->q_len;
	if (!pending && c->done && !c->in_body && !c->wr_shut) {
		shutdown(c->fd, SHUT_WR);
		c->wr_shut = true;
	}
	if (c->rd_eof && !pending) {
		finish(c);
		return;
	}
	want = (c->rd_eof ? 0 : EPOLLIN) | (pending ? EPOLLOUT : 0);
	if (want != c->ev) {
		struct epoll_event ev = {.events = want, .data.ptr = c};
		if (epoll_ctl(epfd, EPOLL_CTL_MOD, c->fd, &ev) < 0)
			die("epoll_ctl MOD");
		c->ev = want;
	}
}

static void peer_name(char *buf, size_t len, const struct sockaddr_storage *ss)
{
	char ip[INET6_ADDRSTRLEN];
	unsigned port = 0;

	if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *s = (const struct sockaddr_in *)ss;
		inet_ntop(AF_INET, &s->sin_addr, ip, sizeof(ip));
		port = ntohs(s->sin_port);
	} else {
		const struct sockaddr_in6 *s = (const struct sockaddr_in6 *)ss;
		if (IN6_IS_ADDR_V4MAPPED(&s->sin6_addr))
			inet_ntop(AF_INET, &s->sin6_addr.s6_addr[12], ip, sizeof(ip));
		else
			inet_ntop(AF_INET6, &s->sin6_addr, ip, sizeof(ip));
		port = ntohs(s->sin6_port);
	}
	snprintf(buf, len, "%s_%u", ip, port);
}

static void on_accept(int lfd)
{
	static bool warned;

	for (;;) {
		struct sockaddr_storage ss;
		socklen_t sl = sizeof(ss);
		int one = 1, fd = accept4(lfd, (struct sockaddr *)&ss, &sl,
					  SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			if (errno != EAGAIN && errno != EWOULDBLOCK && !warned) {
				fprintf(stderr, "recorder: accept: %s\n", strerror(errno));
				warned = true;
			}
			return;
		}
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		struct conn *c = calloc(1, sizeof(*c));
		if (!c)
			die("calloc");
		c->fd = fd;
		c->n = ++n_conns;
		peer_name(c->peer, sizeof(c->peer), &ss);
		if ((size_t)fd >= tab_cap) {
			size_t nc = tab_cap ? tab_cap : 1024;
			while (nc <= (size_t)fd)
				nc *= 2;
			tab = xrealloc(tab, nc * sizeof(*tab));
			memset(tab + tab_cap, 0, (nc - tab_cap) * sizeof(*tab));
			tab_cap = nc;
		}
		tab[fd] = c;
		c->ev = EPOLLIN;
		struct epoll_event ev = {.events = EPOLLIN, .data.ptr = c};
		if (epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev) < 0)
			die("epoll_ctl ADD");
	}
}

static int listen_on(const char *spec)
{
	struct sockaddr_storage ss = {0};
	char host[256];
	const char *port;
	socklen_t sl;
	int fd, one = 1, zero = 0;

	if (spec[0] == '[') {
		const char *rb = strchr(spec, ']');
		if (!rb || rb[1] != ':' || (size_t)(rb - spec - 1) >= sizeof(host))
			return -1;
		memcpy(host, spec + 1, (size_t)(rb - spec - 1));
		host[rb - spec - 1] = 0;
		port = rb + 2;
	} else {
		const char *colon = strrchr(spec, ':');
		if (!colon || (size_t)(colon - spec) >= sizeof(host))
			return -1;
		memcpy(host, spec, (size_t)(colon - spec));
		host[colon - spec] = 0;
		port = colon + 1;
	}
	char *pe;
	unsigned long p = strtoul(port, &pe, 10);
	if (!*port || *pe || p > 65535)
		return -1;
	struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;
	if (spec[0] != '[' && inet_pton(AF_INET, host, &s4->sin_addr) == 1) {
		s4->sin_family = AF_INET;
		s4->sin_port = htons((uint16_t)p);
		sl = sizeof(*s4);
	} else if (spec[0] == '[' && inet_pton(AF_INET6, host, &s6->sin6_addr) == 1) {
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons((uint16_t)p);
		sl = sizeof(*s6);
	} else {
		return -1;
	}
	fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		die("socket");
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (ss.ss_family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof(zero));
	if (bind(fd, (struct sockaddr *)&ss, sl) < 0)
		die(spec);
	if (listen(fd, 4096) < 0)
		die("listen");
	return fd;
}

static void write_pidfile(const char *path)
{
	char tmp[4096];
	FILE *f;

	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	f = fopen(tmp, "w");
	if (!f || fprintf(f, "%ld\n", (long)getpid()) < 0 || fclose(f) != 0 ||
	    rename(tmp, path) < 0)
		die(path);
}

int main(int argc, char **argv)
{
	const char *listen_spec = NULL, *pidfile = NULL;
	static char lsn_tag, sig_tag;
	struct epoll_event evs[256];
	struct rlimit rl;
	sigset_t mask;
	int opt, lfd, sfd;
	bool stop = false;

	while ((opt = getopt(argc, argv, "l:d:p:m:h")) != -1) {
		switch (opt) {
		case 'm':
			mutate_mod = strtoull(optarg, NULL, 10);
			break;
		case 'l':
			listen_spec = optarg;
			break;
		case 'd':
			out_dir = optarg;
			break;
		case 'p':
			pidfile = optarg;
			break;
		default:
			fprintf(stderr, "usage: recorder -l ADDR:PORT|[V6]:PORT -d DIR [-p PIDFILE] [-m N]\n");
			return 2;
		}
	}
	if (!listen_spec || !out_dir || optind != argc) {
		fprintf(stderr, "usage: recorder -l ADDR:PORT|[V6]:PORT -d DIR [-p PIDFILE] [-m N]\n");
		return 2;
	}
	for (size_t i = 0; i < PAT_LEN; i++)
		body_pat[i] = (unsigned char)PAT[i % 64];
	if (mkdir(out_dir, 0755) < 0 && errno != EEXIST)
		die(out_dir);
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	if (sigprocmask(SIG_BLOCK, &mask, NULL) < 0)
		die("sigprocmask");
	sfd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
	if (sfd < 0)
		die("signalfd");
	lfd = listen_on(listen_spec);
	if (lfd < 0) {
		fprintf(stderr, "recorder: bad listen address '%s'\n", listen_spec);
		return 2;
	}
	epfd = epoll_create1(EPOLL_CLOEXEC);
	if (epfd < 0)
		die("epoll_create1");
	struct epoll_event ev = {.events = EPOLLIN, .data.ptr = &lsn_tag};
	if (epoll_ctl(epfd, EPOLL_CTL_ADD, lfd, &ev) < 0)
		die("epoll_ctl listen");
	ev.data.ptr = &sig_tag;
	if (epoll_ctl(epfd, EPOLL_CTL_ADD, sfd, &ev) < 0)
		die("epoll_ctl signalfd");
	if (pidfile)
		write_pidfile(pidfile);
	fprintf(stderr, "recorder: listening on %s, writing to %s\n", listen_spec, out_dir);

	while (!stop) {
		int n = epoll_wait(epfd, evs, 256, -1);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			die("epoll_wait");
		}
		for (int i = 0; i < n; i++) {
			if (evs[i].data.ptr == &lsn_tag)
				on_accept(lfd);
			else if (evs[i].data.ptr == &sig_tag)
				stop = true;
			else
				on_event(evs[i].data.ptr, evs[i].events);
		}
	}
	/* signal: what is still open is written as it stands */
	for (size_t fd = 0; fd < tab_cap; fd++) {
		if (!tab[fd])
			continue;
		do_read(tab[fd]); /* bytes already queued in the kernel count too */
		finish(tab[fd]);
	}
	free(tab);
	close(lfd);
	close(sfd);
	close(epfd);
	if (pidfile)
		unlink(pidfile);
	fprintf(stderr, "recorder: %llu connections, %llu requests, %llu bytes, %llu files, %llu errors\n",
		n_conns, n_reqs, n_bytes, n_files, n_errors);
	return n_errors ? 1 : 0;
}
