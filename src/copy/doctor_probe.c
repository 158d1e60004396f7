/*
 * doctor_probe.c - the probe sessions of `tcptwin doctor` (see doctor.h),
 * and its plain TCP connects (socket mode; diagnosis of a failed probe).
 *
 * Round 1, per target: one small forged SYN from the probe client (the first
 * -c address, or --probe-client) and SYNs padded to the sizes of
 * tw_doc_mtu_sizes() (data in a SYN is legal; a listener without TCP Fast
 * Open ignores it and acknowledges the SYN alone), each on its own client
 * port, all registered with every intercept first. The round ends when every
 * probe has an answer relayed by an intercept (SYN-ACK or RST) or the
 * timeout passes. Round 2, only for a target whose small probe went
 * unanswered: a SYN forged from each intercept's own address (which the
 * target routes back directly) and a plain connect() from this host, to
 * tell the target's reply routing for the client range from a closed port,
 * a dead path or an intercept that does not capture.
 * Every probe is reset afterwards (RST, seq = ISN + 1) and unregistered.
 * Sends only to the -x targets; one packet buffer for the whole run.
 */
#include "copy/doctor_int.h"
#include "core/err.h"
#include "core/loop.h"
#include "pkt/decode.h"
#include "pkt/forge.h"
#include "relay/wire.h"
#include "send/sink.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define PKT_CAP 65536u
#define MS 1000000ull

enum probe_kind { PR_MAIN, PR_MTU, PR_ASSIST };
enum probe_state { PS_WAIT, PS_SYNACK, PS_RST, PS_NOTSENT };

struct probe {
	enum probe_kind kind;
	unsigned tgt;                /* index into d->t */
	unsigned icept;              /* PR_ASSIST: whose address is the source */
	uint32_t size;               /* PR_MTU: IP packet length */
	struct tw_ap_ip src;
	uint16_t sport;
	uint32_t isn;
	enum probe_state state;
	int err;                     /* PS_NOTSENT: the sink's error */
	uint16_t mss;                /* the target's MSS option, 0 if none */
	unsigned via;                /* intercept that relayed the answer */
	uint64_t sent, got;          /* loop clock, ns */
};

struct doc_probes {
	struct tw_doc_ctx *d;
	struct probe *p;
	unsigned n, cap;
	unsigned waiting;
	bool expired;
	struct tw_timer timer;
	uint8_t *buf;
	uint16_t next_port;
};

static uint32_t rand32(void)
{
	uint32_t v = 0;

	if (getrandom(&v, sizeof(v), 0) != (ssize_t)sizeof(v))
		v = (uint32_t)time(NULL) * 2654435761u;
	return v;
}

static int add_probe(struct doc_probes *pr, enum probe_kind kind, unsigned tgt,
		     const struct tw_ap_ip *src, uint32_t size)
{
	struct probe *p;
	struct tw_doc_ctx *d = pr->d;
	bool clash;

	if (pr->n == pr->cap) {
		unsigned cap = pr->cap ? pr->cap * 2 : 32;
		struct probe *np = realloc(pr->p, cap * sizeof(*np));

		if (!np)
			return -ENOMEM;
		pr->p = np;
		pr->cap = cap;
	}
	do { /* a client port no target uses */
		pr->next_port = (uint16_t)(pr->next_port >= 60999 ? 20000 : pr->next_port + 1);
		clash = false;
		for (unsigned i = 0; i < d->nt; i++)
			clash |= d->t[i].port == pr->next_port;
	} while (clash);
	p = &pr->p[pr->n++];
	memset(p, 0, sizeof(*p));
	p->kind = kind;
	p->tgt = tgt;
	p->size = size;
	p->src = *src;
	p->sport = pr->next_port;
	p->isn = rand32();
	return 0;
}

static void reg_all(struct tw_doc_ctx *d, const struct probe *p, bool add)
{
	const struct doc_target *t = &d->t[p->tgt];

	for (unsigned i = 0; i < d->nic; i++)
		if (d->ic[i].cl && !d->ic[i].lost)
			tw_relay_client_reg(d->ic[i].cl, add, t->ip.ver, p->src.a, p->sport, t->ip.a,
					    t->port);
}

static void flush_all(struct tw_doc_ctx *d)
{
	for (unsigned i = 0; i < d->nic; i++)
		if (d->ic[i].cl && !d->ic[i].lost)
			tw_relay_client_flush(d->ic[i].cl);
}

/* Forge and send P's SYN (RST when RST). Returns 0 or the sink's -errno. */
static int send_probe(struct doc_probes *pr, struct probe *p, bool rst)
{
	static const uint8_t zeros[PKT_CAP];
	struct tw_doc_ctx *d = pr->d;
	const struct doc_target *t = &d->t[p->tgt];
	struct tw_tcp_opts o;
	struct tw_forge_tcp f;
	struct tw_sink_pkt sp;
	uint8_t opt[40];
	size_t hdr;
	int ol = 0, len;

	memset(&f, 0, sizeof(f));
	f.ipver = t->ip.ver;
	f.src = p->src.a;
	f.dst = t->ip.a;
	f.sport = p->sport;
	f.dport = t->port;
	f.df = 1;
	if (rst) {
		f.seq = p->isn + 1;
		f.flags = TW_TH_RST;
	} else {
		uint32_t mtu = t->probe_mtu ? t->probe_mtu : 1500;
		uint32_t mss = mtu > 576 ? mtu - (t->ip.ver == 6 ? 60 : 40) : 536;

		memset(&o, 0, sizeof(o));
		o.has_mss = true;
		o.mss = (uint16_t)(mss > 65495 ? 65495 : mss);
		o.sack_ok = true;
		o.has_wscale = true;
		o.wscale = 7;
		ol = tw_forge_tcp_opts(opt, sizeof(opt), &o);
		if (ol < 0)
			return ol;
		f.seq = p->isn;
		f.flags = TW_TH_SYN;
		f.win = 64240;
		f.opt = opt;
		f.opt_len = (size_t)ol;
		hdr = (t->ip.ver == 6 ? 40u : 20u) + 20u + (size_t)ol;
		if (p->kind == PR_MTU && p->size > hdr) {
			f.payload = zeros;
			f.payload_len = p->size - hdr;
		}
	}
	len = tw_forge_tcp(pr->buf, PKT_CAP, &f);
	if (len < 0)
		return len;
	memset(&sp, 0, sizeof(sp));
	sp.data = pr->buf;
	sp.len = (uint32_t)len;
	if (tw_sink_send(d->sink, &sp, 1) < 0 && !sp.err)
		sp.err = -EIO;
	return sp.err;
}

void tw_doc_on_reply(void *arg, const struct tw_wire_reply *r)
{
	struct doc_icept *ic = arg;
	struct doc_probes *pr = ic->d->pr;

	if (!pr)
		return;
	for (unsigned i = 0; i < pr->n; i++) {
		struct probe *p = &pr->p[i];
		const struct doc_target *t = &ic->d->t[p->tgt];
		size_t al = t->ip.ver == 6 ? 16 : 4;

		if (p->state != PS_WAIT || r->ipver != t->ip.ver || r->dport != p->sport ||
		    r->sport != t->port || memcmp(r->dst, p->src.a, al) || memcmp(r->src, t->ip.a, al))
			continue;
		if (r->flags & TW_TH_RST) {
			p->state = PS_RST;
		} else if ((r->flags & (TW_TH_SYN | TW_TH_ACK)) == (TW_TH_SYN | TW_TH_ACK) &&
			   r->ack == p->isn + 1) {
			p->state = PS_SYNACK;
			p->mss = r->opts.has_mss ? r->opts.mss : 0;
		} else {
			continue;
		}
		p->via = ic->idx;
		p->got = tw_loop_now(ic->d->loop);
		pr->waiting--;
		return;
	}
}

void tw_doc_on_fail(void *arg, const char *msg)
{
	struct doc_icept *ic = arg;

	ic->lost = true;
	snprintf(ic->lost_msg, sizeof(ic->lost_msg), "%s", msg);
}

static void on_timeout(struct tw_timer *t, uint64_t now, void *arg)
{
	struct doc_probes *pr = arg;

	(void)t;
	(void)now;
	pr->expired = true;
}

/* Register and send probes FROM..n-1, then wait for their answers. */
static void run_round(struct doc_probes *pr, unsigned from)
{
	struct tw_doc_ctx *d = pr->d;
	uint64_t now;

	for (unsigned i = from; i < pr->n; i++)
		reg_all(d, &pr->p[i], true);
	flush_all(d);
	(void)tw_loop_run_once(d->loop, false);
	now = tw_loop_now(d->loop);
	pr->waiting = 0;
	for (unsigned i = from; i < pr->n; i++) {
		struct probe *p = &pr->p[i];

		p->sent = now;
		p->err = send_probe(pr, p, false);
		if (p->err) {
			p->state = PS_NOTSENT;
			continue;
		}
		pr->waiting++;
	}
	pr->expired = false;
	tw_timer_init(&pr->timer, on_timeout, pr);
	tw_loop_timer_after(d->loop, &pr->timer, (uint64_t)d->cfg->timeout_ms * MS);
	while (pr->waiting && !pr->expired) {
		int rc = tw_loop_run_once(d->loop, true);

		if (rc < 0 && rc != -EINTR)
			break;
	}
	tw_loop_timer_cancel(d->loop, &pr->timer);
}

static void cleanup(struct doc_probes *pr)
{
	struct tw_doc_ctx *d = pr->d;

	for (unsigned i = 0; i < pr->n; i++) {
		struct probe *p = &pr->p[i];

		if (p->state != PS_NOTSENT && p->state != PS_RST)
			(void)send_probe(pr, p, true);
		reg_all(d, p, false);
	}
	flush_all(d);
	(void)tw_loop_run_once(d->loop, false);
}

/* The probe client: the first -c address, or --probe-client. */
static bool probe_client(const struct tw_doc_cfg *cfg, struct tw_ap_ip *c, bool *from_c)
{
	*from_c = false;
	if (cfg->has_probe_client) {
		*c = cfg->probe_client;
		return true;
	}
	if (cfg->ap.ncrange) {
		*c = cfg->ap.crange[0].lo;
		*from_c = true;
		return true;
	}
	return false;
}

/* The client range to route on the target, for the fix text: the -c range's
 * covering prefix, or (--probe-client) its /24 or /64, marked as a guess. */
static void client_net(const struct tw_doc_cfg *cfg, bool from_c, const struct tw_ap_ip *c,
		       char *buf, size_t len, bool *guess)
{
	struct tw_ap_ip net;
	char s[48];
	int plen;

	*guess = !from_c;
	if (from_c) {
		plen = tw_doc_cover(&cfg->ap.crange[0].lo, &cfg->ap.crange[0].hi, &net);
	} else {
		net = *c;
		plen = c->ver == 6 ? 64 : 24;
		memset(net.a + plen / 8, 0, (size_t)(16 - plen / 8));
	}
	snprintf(buf, len, "%s/%d", tw_ap_ip_str(&net, s, sizeof(s)), plen);
}

static struct probe *find(struct doc_probes *pr, enum probe_kind kind, unsigned tgt, uint32_t size)
{
	for (unsigned i = 0; i < pr->n; i++)
		if (pr->p[i].kind == kind && pr->p[i].tgt == tgt && (kind != PR_MTU || pr->p[i].size == size))
			return &pr->p[i];
	return NULL;
}

/* An intercept's address of family VER (its -s host, resolved). */
static bool icept_addr(const struct doc_icept *ic, uint8_t ver, struct tw_ap_ip *out)
{
	struct addrinfo hints = {.ai_family = ver == 6 ? AF_INET6 : AF_INET}, *res;

	if (getaddrinfo(ic->host, NULL, &hints, &res) || !res)
		return false;
	memset(out, 0, sizeof(*out));
	out->ver = ver;
	if (ver == 6)
		memcpy(out->a, &((struct sockaddr_in6 *)(void *)res->ai_addr)->sin6_addr, 16);
	else
		memcpy(out->a, &((struct sockaddr_in *)(void *)res->ai_addr)->sin_addr, 4);
	freeaddrinfo(res);
	return true;
}

/* The line of a target whose small probe went unanswered (round 2 done). */
static void report_unanswered(struct doc_probes *pr, unsigned ti, const struct probe *m,
			      const char *cnet, bool guess, const char *name)
{
	struct tw_doc_ctx *d = pr->d;
	const struct doc_target *t = &d->t[ti];
	const struct probe *as = NULL;
	char c[48], from[64] = "", asrc[48] = "", via[64] = "";
	unsigned ms = 0;
	size_t pos = 0;
	int crc;

	for (unsigned i = 0; i < pr->n; i++)
		if (pr->p[i].kind == PR_ASSIST && pr->p[i].tgt == ti && (!as || pr->p[i].state == PS_SYNACK))
			as = &pr->p[i];
	crc = tw_doc_connect(&t->ip, t->port, d->cfg->timeout_ms, &ms, from, sizeof(from));
	tw_ap_ip_str(&m->src, c, sizeof(c));
	tw_doc_add(d, &pos, "no SYN-ACK for a SYN from %s:%u to %s relayed by any intercept within "
		   "%u ms", c, m->sport, t->name, d->cfg->timeout_ms);
	if (as) {
		tw_ap_ip_str(&as->src, asrc, sizeof(asrc));
		if (as->state == PS_SYNACK)
			snprintf(via, sizeof(via), " (relayed by %s)", d->ic[as->via].name);
		tw_doc_add(d, &pos, "; a SYN forged from the assistant's address %s %s%s", asrc,
			   as->state == PS_SYNACK ? "was answered" : as->state == PS_RST ? "was reset"
			   : as->state == PS_NOTSENT ? "could not be sent" : "got no answer either", via);
	}
	if (crc == 0)
		tw_doc_add(d, &pos, "; this host's own connection from %s was accepted", from);
	else
		tw_doc_add(d, &pos, "; this host's own connection %s", crc == -ECONNREFUSED
			   ? "was refused" : crc == -ETIMEDOUT ? "got no answer" : tw_strerror(crc));
	if (as && as->state == PS_SYNACK) {
		tw_doc_add(d, &pos, ": so the target takes forged packets and its replies reach the "
			   "intercept, but not those for the client range: either the target has no "
			   "route for %s to the assistant (its SYN-ACK cannot leave or goes elsewhere), "
			   "or %s; fix: on the target `ip%s route add %s via %s`%s, through the "
			   "interface the replayed packets arrive on, and %s", c,
			   t->ip.ver == 6 ? "a reverse-path rule in its firewall (ip6tables -m rpfilter, "
					    "nft fib) drops the SYN because its route back does not "
					    "leave through the interface the SYN arrives on"
					  : "its strict rp_filter (1) drops the SYN because its route "
					    "back to the client does not leave through the interface "
					    "the SYN arrives on",
			   t->ip.ver == 6 ? " -6" : "", cnet, asrc,
			   guess ? " (the client range's real prefix if not that)" : "",
			   t->ip.ver == 6 ? "no reverse-path rule that drops the client range"
					  : "rp_filter 0 or 2 there, or 1 only with that route (`sysctl "
					    "-w net.ipv4.conf.all.rp_filter=2 "
					    "net.ipv4.conf.IFACE.rp_filter=2`)");
	} else if (crc == -ECONNREFUSED || (as && as->state == PS_RST)) {
		tw_doc_add(d, &pos, ": nothing listens on %s; fix: start the service under test, or "
			   "correct -x", t->name);
	} else if (crc) {
		tw_doc_add(d, &pos, ": the target does not answer this host at all; fix: check that it "
			   "is up, that the service listens on %s, and the firewalls between", t->name);
	} else {
		tw_doc_add(d, &pos, ": the target answers this host, but no intercept relayed an "
			   "answer to a forged source%s: intercept's -F or -i does not capture the "
			   "target's replies, or a filter between the hosts (cloud source/destination "
			   "check, ACL) or the target's firewall drops forged sources; fix: intercept "
			   "with -F 'tcp and src port %u' on the interface the replies arrive on, the "
			   "target routing %s to the assistant (`ip%s route add %s via ASSISTANT`), and "
			   "`tcpdump -ni any tcp port %u` on both hosts while doctor runs shows where "
			   "the packets stop", as ? ", not even to the assistant's own address" : "",
			   t->port, cnet, t->ip.ver == 6 ? " -6" : "", cnet, t->port);
	}
	tw_doc_emit(d, TW_DOC_FAIL, name, "%s", d->text);
}

static void report_mtu(struct doc_probes *pr, unsigned ti, const struct probe *m)
{
	struct tw_doc_ctx *d = pr->d;
	const struct doc_target *t = &d->t[ti];
	uint32_t sizes[TW_DOC_MAX_SIZES], best;
	bool ok[TW_DOC_MAX_SIZES];
	unsigned n = tw_doc_mtu_sizes(t->ip.ver, t->probe_mtu, sizes, TW_DOC_MAX_SIZES);
	const char *what = t->probe_mtu < t->send_mtu ? "the route's MTU; -M is above it"
						      : "the MTU copy sends at";
	char name[96];
	size_t pos = 0;

	snprintf(name, sizeof(name), "path-mtu %s", t->name);
	if (!m || m->state != PS_SYNACK) {
		tw_doc_emit(d, TW_DOC_SKIP, name, "needs an answered probe");
		return;
	}
	for (unsigned i = 0; i < n; i++) {
		const struct probe *p = find(pr, PR_MTU, ti, sizes[i]);

		ok[i] = p && p->state == PS_SYNACK;
		tw_doc_add(d, &pos, "%s%u %s", i ? ", " : "", sizes[i],
			   ok[i] ? "ok" : !p ? "-" : p->state == PS_NOTSENT ? "not sent"
			   : p->state == PS_RST ? "reset" : "lost");
	}
	best = tw_doc_mtu_best(sizes, ok, n);
	if (ok[0]) {
		tw_doc_emit(d, TW_DOC_PASS, name, "forged packets of %u bytes (%s) reach the target "
			    "and are answered (sizes: %s; target MSS %u)", sizes[0], what, d->text,
			    m->mss);
		return;
	}
	if (best) {
		tw_doc_emit(d, TW_DOC_FAIL, name, "packets of %u bytes (%s) do not reach the target, "
			    "%u-byte ones do (sizes: %s): a hop on the path has a smaller MTU than this "
			    "host's route, and no ICMP 'fragmentation needed' ever comes back for a "
			    "forged source, so copy's full-size segments would be lost; fix: copy -M %u "
			    "(or raise the MTU of that hop)", sizes[0], what, best, d->text, best);
		return;
	}
	tw_doc_emit(d, TW_DOC_FAIL, name, "no padded probe reached the target (sizes: %s) although "
		    "the small one did: something on the path drops packets of %u bytes and more; fix: "
		    "find the hop with the small MTU and raise it, or pass copy a -M that gets through",
		    d->text, sizes[n - 1]);
}

static void report(struct doc_probes *pr, const struct tw_ap_ip *c, bool from_c)
{
	struct tw_doc_ctx *d = pr->d;
	char cnet[96], cs[48];
	bool guess;

	client_net(d->cfg, from_c, c, cnet, sizeof(cnet), &guess);
	tw_ap_ip_str(c, cs, sizeof(cs));
	for (unsigned ti = 0; ti < d->nt; ti++) {
		const struct doc_target *t = &d->t[ti];
		const struct probe *m = find(pr, PR_MAIN, ti, 0);
		char name[96];

		snprintf(name, sizeof(name), "probe %s", t->name);
		if (!m && !t->route_ok) {
			tw_doc_emit(d, TW_DOC_SKIP, name, "no usable route to %s", t->addr);
			continue;
		}
		if (!m) {
			tw_doc_emit(d, TW_DOC_SKIP, name, "the probe client %s is not of %s's IP version",
				    cs, t->addr);
			continue;
		}
		if (m->state == PS_SYNACK)
			tw_doc_emit(d, TW_DOC_PASS, name, "forged SYN from %s:%u answered by a SYN-ACK "
				    "relayed by intercept %s in %llu ms (target MSS %u)", cs, m->sport,
				    d->ic[m->via].name, (unsigned long long)((m->got - m->sent) / MS),
				    m->mss);
		else if (m->state == PS_RST)
			tw_doc_emit(d, TW_DOC_FAIL, name, "the target answered the SYN from %s with a RST "
				    "(relayed by intercept %s): nothing listens on %s, or a firewall "
				    "rejects the client range; fix: start the service under test there, "
				    "or correct -x", cs, d->ic[m->via].name, t->name);
		else if (m->state == PS_NOTSENT)
			tw_doc_emit(d, TW_DOC_FAIL, name, "the SYN could not be sent: %s; fix: %s",
				    tw_strerror(m->err), m->err == -EPERM
				    ? "a firewall rule in this host's OUTPUT chain, or a full conntrack "
				      "table, rejects it"
				    : "see the route and raw-send lines");
		else
			report_unanswered(pr, ti, m, cnet, guess, name);
		report_mtu(pr, ti, m);
	}
}

int tw_doc_probe(struct tw_doc_ctx *d)
{
	struct doc_probes pr;
	struct tw_ap_ip c;
	unsigned live = 0, first2;
	bool from_c, any = false;
	int rc = 0;

	for (unsigned i = 0; i < d->nic; i++)
		live += d->ic[i].cl != NULL;
	if (!probe_client(d->cfg, &c, &from_c)) {
		tw_doc_emit(d, TW_DOC_SKIP, "probe", "no probe client: give -c or --probe-client ADDR "
			    "(an address of the client range, which the target routes to the assistant)");
		return 0;
	}
	if (!d->sink || !live) {
		tw_doc_emit(d, TW_DOC_SKIP, "probe", "needs %s", !d->sink
			    ? "raw sending (see raw-send)" : "a working intercept (see the intercept lines)");
		return 0;
	}
	memset(&pr, 0, sizeof(pr));
	pr.d = d;
	pr.next_port = (uint16_t)(20000 + rand32() % 40000);
	pr.buf = malloc(PKT_CAP);
	if (!pr.buf)
		return -ENOMEM;
	for (unsigned ti = 0; ti < d->nt && !rc; ti++) {
		const struct doc_target *t = &d->t[ti];
		uint32_t sizes[TW_DOC_MAX_SIZES];
		unsigned n;

		if (!t->route_ok || t->ip.ver != c.ver)
			continue;
		any = true;
		rc = add_probe(&pr, PR_MAIN, ti, &c, 0);
		n = tw_doc_mtu_sizes(t->ip.ver, t->probe_mtu ? t->probe_mtu : 1500, sizes,
				     TW_DOC_MAX_SIZES);
		for (unsigned i = 0; i < n && !rc; i++)
			rc = add_probe(&pr, PR_MTU, ti, &c, sizes[i]);
	}
	if (!rc && any) {
		d->pr = &pr;
		run_round(&pr, 0);
		/* round 2: a SYN from each intercept's own address to the targets that
		 * did not answer the client range */
		first2 = pr.n;
		for (unsigned ti = 0; ti < d->nt && !rc; ti++) {
			const struct probe *m = find(&pr, PR_MAIN, ti, 0);

			if (!m || m->state != PS_WAIT)
				continue;
			for (unsigned i = 0; i < d->nic && !rc; i++) {
				struct tw_ap_ip a;

				if (!d->ic[i].cl || !icept_addr(&d->ic[i], d->t[ti].ip.ver, &a))
					continue;
				rc = add_probe(&pr, PR_ASSIST, ti, &a, 0);
				if (!rc)
					pr.p[pr.n - 1].icept = i;
			}
		}
		if (!rc && pr.n > first2)
			run_round(&pr, first2);
		cleanup(&pr);
		d->pr = NULL;
	}
	if (!rc) {
		for (unsigned i = 0; i < d->nic; i++)
			if (d->ic[i].lost)
				tw_doc_emit(d, TW_DOC_FAIL, "intercept", "%s during the probe; fix: read "
					    "intercept's log", d->ic[i].lost_msg);
		report(&pr, &c, from_c);
	}
	free(pr.p);
	free(pr.buf);
	return rc;
}

void tw_doc_socket_targets(struct tw_doc_ctx *d)
{
	for (unsigned i = 0; i < d->nt; i++) {
		struct doc_target *t = &d->t[i];
		char name[96], from[64] = "";
		unsigned ms = 0;
		int rc;

		snprintf(name, sizeof(name), "target %s", t->name);
		if (!t->route_ok) {
			tw_doc_emit(d, TW_DOC_SKIP, name, "no usable route to %s", t->addr);
			continue;
		}
		rc = tw_doc_connect(&t->ip, t->port, d->cfg->timeout_ms, &ms, from, sizeof(from));
		if (rc == 0)
			tw_doc_emit(d, TW_DOC_PASS, name, "a TCP connection from %s was accepted in %u ms",
				    from, ms);
		else if (rc == -ECONNREFUSED)
			tw_doc_emit(d, TW_DOC_FAIL, name, "connection refused: nothing listens on %s; fix: "
				    "start the service under test there, or correct -x", t->name);
		else if (rc == -ETIMEDOUT)
			tw_doc_emit(d, TW_DOC_FAIL, name, "no answer within %u ms: the target is down or a "
				    "firewall drops the SYN; fix: check the target and the firewalls between",
				    d->cfg->timeout_ms);
		else
			tw_doc_emit(d, TW_DOC_FAIL, name, "cannot connect: %s; fix: check the route and "
				    "firewalls toward %s", tw_strerror(rc), t->addr);
	}
}

int tw_doc_connect(const struct tw_ap_ip *ip, uint16_t port, unsigned timeout_ms,
		   unsigned *elapsed_ms, char *from, size_t fromlen)
{
	struct sockaddr_storage ss, ls;
	socklen_t sl, ll = sizeof(ls);
	struct timespec t0, t1;
	int fd, rc = 0, so = 0;
	socklen_t sol = sizeof(so);

	memset(&ss, 0, sizeof(ss));
	if (ip->ver == 6) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;

		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons(port);
		memcpy(&s6->sin6_addr, ip->a, 16);
		sl = sizeof(*s6);
	} else {
		struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;

		s4->sin_family = AF_INET;
		s4->sin_port = htons(port);
		memcpy(&s4->sin_addr, ip->a, 4);
		sl = sizeof(*s4);
	}
	fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	if (connect(fd, (struct sockaddr *)&ss, sl) < 0) {
		if (errno != EINPROGRESS) {
			rc = -errno;
		} else {
			struct pollfd pfd = {.fd = fd, .events = POLLOUT};
			int n;

			do
				n = poll(&pfd, 1, (int)timeout_ms);
			while (n < 0 && errno == EINTR);
			if (n == 0)
				rc = -ETIMEDOUT;
			else if (n < 0)
				rc = -errno;
			else if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &so, &sol) < 0)
				rc = -errno;
			else if (so)
				rc = -so;
		}
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	*elapsed_ms = (unsigned)((t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000);
	if (!rc && fromlen) {
		char a[INET6_ADDRSTRLEN] = "?";

		if (getsockname(fd, (struct sockaddr *)&ls, &ll) == 0)
			inet_ntop(ls.ss_family, ls.ss_family == AF_INET6
				  ? (void *)&((struct sockaddr_in6 *)&ls)->sin6_addr
				  : (void *)&((struct sockaddr_in *)&ls)->sin_addr, a, sizeof(a));
		snprintf(from, fromlen, "%s", a);
	}
	close(fd);
	return rc;
}
