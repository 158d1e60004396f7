/*
 * addrplan_alloc.c - the replay tuple allocator of the address plan (see
 * addrplan.h): fresh (client IP, port) tuples per session and copy, with a
 * TIME_WAIT quarantine; dense per -c address port lists, or a bounded tuple
 * table without -c. No clock reads, no allocation after tw_ap_create.
 */
#include "copy/addrplan.h"
#include "copy/addrplan_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- the tuple allocator ------------------------------------------------------ */

/*
 * With -c ("dense"): per address, every port of the range has a slot in
 * prev/next/tick arrays (8 bytes). Free and quarantined ports form a list in
 * release order, so only the head needs checking; a live port has
 * prev == next == itself, a skipped (target) port prev == itself and
 * next == NIL. Release times are kept as 32-bit ticks of 2^20 ns (~1 ms)
 * since creation and compared modulo 2^32: a port resting unused for more
 * than ~52 days may look quarantined again for one quarantine (never the
 * other way round), which only delays reuse.
 *
 * Without -c ("sparse"): live and quarantined tuples are entries of a hash
 * table (chained through entry indexes; 0 = none) with a FIFO of the
 * quarantined ones in release order, expired lazily at each allocation.
 */
#define NIL 0xffffu
#define TICK_SHIFT 20
#define PORT_BITS 65536

enum { ENT_FREE = 0, ENT_LIVE, ENT_QUAR };

struct dn_list {
	uint16_t head, tail;
};

struct sp_ent {
	uint8_t a[16];
	uint16_t port;
	uint8_t ver;
	uint8_t state;
	uint32_t hnext;                  /* hash chain */
	uint32_t qnext;                  /* quarantine FIFO, or free list */
	uint64_t t;                      /* release time */
};

struct tw_ap {
	uint16_t lo;
	uint32_t range;                  /* hi - lo + 1 */
	uint16_t copies;
	uint64_t q_ns;
	uint32_t q_ticks;
	uint64_t epoch, last;
	uint64_t seed, ctr;
	uint8_t skip[PORT_BITS / 8];     /* target ports, never handed out */
	/* dense */
	uint32_t naddr, n4;              /* IPv4 addresses first, sorted */
	struct tw_ap_ip *addr;
	struct dn_list *dl;
	uint16_t *prev, *next;
	uint32_t *tick;
	/* sparse */
	uint32_t cap, mask, bump, freel, qhead, qtail;
	struct sp_ent *ent;
	uint32_t *bucket;
	struct tw_ap_stats st;
};

static bool skipped(const struct tw_ap *ap, uint16_t port)
{
	return ap->skip[port >> 3] & (1u << (port & 7));
}

static bool in_range(const struct tw_ap *ap, uint16_t port)
{
	return port >= ap->lo && (uint32_t)(port - ap->lo) < ap->range;
}

static int ip_cmp(const void *x, const void *y)
{
	const struct tw_ap_ip *a = x, *b = y;

	if (a->ver != b->ver)
		return a->ver < b->ver ? -1 : 1;
	return memcmp(a->a, b->a, 16);
}

/* Expands the -c ranges into ap->addr, sorted, without duplicates. */
static int dense_addrs(struct tw_ap *ap, const struct tw_ap_cfg *cfg)
{
	uint32_t n = 0;

	ap->addr = calloc(cfg->ncaddr, sizeof(*ap->addr));
	if (!ap->addr)
		return -ENOMEM;
	for (int i = 0; i < cfg->ncrange; i++) {
		const struct tw_ap_crange *r = &cfg->crange[i];

		for (u128 v = tw_ap_ip_to_u128(&r->lo); v <= tw_ap_ip_to_u128(&r->hi) && n < cfg->ncaddr; v++)
			tw_ap_ip_from_u128(r->lo.ver, v, &ap->addr[n++]);
	}
	qsort(ap->addr, n, sizeof(*ap->addr), ip_cmp);
	ap->naddr = 0;
	for (uint32_t i = 0; i < n; i++)
		if (ap->naddr == 0 || !tw_ap_ip_eq(&ap->addr[ap->naddr - 1], &ap->addr[i]))
			ap->addr[ap->naddr++] = ap->addr[i];
	for (ap->n4 = 0; ap->n4 < ap->naddr && ap->addr[ap->n4].ver == 4; ap->n4++)
		;
	return 0;
}

static int dense_init(struct tw_ap *ap, char *err, size_t errlen)
{
	size_t slots = (size_t)ap->naddr * ap->range;
	size_t bytes = slots * 8 + ap->naddr * (sizeof(struct tw_ap_ip) + sizeof(struct dn_list));
	uint32_t init = (uint32_t)0 - ap->q_ticks; /* "released" one quarantine before creation */

	if (bytes > TW_AP_MAX_DENSE_BYTES) {
		if (err && errlen)
			snprintf(err, errlen,
				 "-c: %u addresses x %u ports need %zu MB (limit %llu MB): "
				 "give fewer -c addresses or a narrower --port-range",
				 ap->naddr, ap->range, bytes >> 20, TW_AP_MAX_DENSE_BYTES >> 20);
		return -EINVAL;
	}
	ap->dl = calloc(ap->naddr, sizeof(*ap->dl));
	ap->prev = malloc(slots * sizeof(*ap->prev));
	ap->next = malloc(slots * sizeof(*ap->next));
	ap->tick = malloc(slots * sizeof(*ap->tick));
	if (!ap->dl || !ap->prev || !ap->next || !ap->tick)
		return -ENOMEM;
	ap->st.bytes += bytes;
	for (uint32_t d = 0; d < ap->naddr; d++) {
		size_t base = (size_t)d * ap->range;
		uint16_t last = NIL;

		ap->dl[d].head = NIL;
		for (uint32_t i = 0; i < ap->range; i++) {
			size_t g = base + i;

			ap->tick[g] = init;
			ap->prev[g] = (uint16_t)i;
			ap->next[g] = NIL;
			if (skipped(ap, (uint16_t)(ap->lo + i)))
				continue;
			ap->prev[g] = last;
			if (last == NIL)
				ap->dl[d].head = (uint16_t)i;
			else
				ap->next[base + last] = (uint16_t)i;
			last = (uint16_t)i;
		}
		ap->dl[d].tail = last;
	}
	return 0;
}

static int sparse_init(struct tw_ap *ap, uint32_t cap)
{
	uint32_t nb = 1;

	while (nb < cap && nb < (1u << 31))
		nb <<= 1;
	ap->cap = cap;
	ap->mask = nb - 1;
	ap->bump = 1;
	/* calloc: pages never touched stay unbacked until used. */
	ap->ent = calloc((size_t)cap + 1, sizeof(*ap->ent));
	ap->bucket = calloc(nb, sizeof(*ap->bucket));
	if (!ap->ent || !ap->bucket)
		return -ENOMEM;
	ap->st.bytes += ((size_t)cap + 1) * sizeof(*ap->ent) + (size_t)nb * sizeof(*ap->bucket);
	return 0;
}

int tw_ap_create(struct tw_ap **out, const struct tw_ap_cfg *cfg, uint64_t now_ns, char *err,
		 size_t errlen)
{
	struct tw_ap *ap;
	int rc;

	*out = NULL;
	if (err && errlen)
		err[0] = '\0';
	if (cfg->port_lo == 0 || cfg->port_lo > cfg->port_hi || cfg->copies == 0 ||
	    cfg->copies > TW_AP_MAX_COPIES || cfg->quarantine_ns > TW_AP_MAX_QUARANTINE_NS ||
	    (cfg->ncaddr == 0 && cfg->max_tuples == 0) || cfg->ncaddr > TW_AP_MAX_CADDRS) {
		if (err && errlen)
			snprintf(err, errlen, "address plan: bad sizes (ports %u-%u, copies %u, "
				 "quarantine %llu ns, max tuples %u)", cfg->port_lo, cfg->port_hi,
				 cfg->copies, (unsigned long long)cfg->quarantine_ns,
				 cfg->max_tuples);
		return -EINVAL;
	}
	ap = calloc(1, sizeof(*ap));
	if (!ap)
		return -ENOMEM;
	ap->lo = cfg->port_lo;
	ap->range = (uint32_t)cfg->port_hi - cfg->port_lo + 1;
	ap->copies = cfg->copies;
	ap->q_ns = cfg->quarantine_ns;
	/* Conservative in ticks: release and now are each floored to a tick. */
	ap->q_ticks = (uint32_t)((cfg->quarantine_ns + (1u << TICK_SHIFT) - 1) >> TICK_SHIFT) + 1;
	ap->epoch = ap->last = now_ns;
	ap->seed = cfg->seed;
	ap->st.bytes = sizeof(*ap);
	ap->st.nports = ap->range;
	for (int i = 0; i < cfg->nrules; i++) {
		uint16_t p = cfg->rule[i].dst_port;

		if (!skipped(ap, p) && in_range(ap, p))
			ap->st.nports--;
		ap->skip[p >> 3] |= (uint8_t)(1u << (p & 7));
	}
	if (ap->st.nports == 0) {
		if (err && errlen)
			snprintf(err, errlen, "--port-range: no client port left in %u-%u once "
				 "the target ports are skipped", cfg->port_lo, cfg->port_hi);
		tw_ap_destroy(ap);
		return -EINVAL;
	}
	if (cfg->ncaddr) {
		rc = dense_addrs(ap, cfg);
		if (!rc)
			rc = dense_init(ap, err, errlen);
	} else {
		rc = sparse_init(ap, cfg->max_tuples);
	}
	if (rc) {
		if (rc == -ENOMEM && err && errlen)
			snprintf(err, errlen, "address plan: out of memory");
		tw_ap_destroy(ap);
		return rc;
	}
	ap->st.naddr = ap->naddr;
	*out = ap;
	return 0;
}

void tw_ap_destroy(struct tw_ap *ap)
{
	if (!ap)
		return;
	free(ap->addr);
	free(ap->dl);
	free(ap->prev);
	free(ap->next);
	free(ap->tick);
	free(ap->ent);
	free(ap->bucket);
	free(ap);
}

/* ---- dense ---- */

static uint32_t now_tick(const struct tw_ap *ap)
{
	return (uint32_t)((ap->last - ap->epoch) >> TICK_SHIFT);
}

static void dense_unlink(struct tw_ap *ap, uint32_t d, uint16_t i)
{
	size_t base = (size_t)d * ap->range, g = base + i;
	uint16_t p = ap->prev[g], n = ap->next[g];

	if (p == NIL)
		ap->dl[d].head = n;
	else
		ap->next[base + p] = n;
	if (n == NIL)
		ap->dl[d].tail = p;
	else
		ap->prev[base + n] = p;
	ap->prev[g] = ap->next[g] = i; /* live */
}

/* A port of address D: the original one when free, else the list head. */
static int dense_take(struct tw_ap *ap, uint32_t d, uint16_t orig_port, uint16_t *port)
{
	size_t base = (size_t)d * ap->range;
	uint32_t now = now_tick(ap);
	uint16_t i, h;

	if (in_range(ap, orig_port)) {
		i = (uint16_t)(orig_port - ap->lo);
		if (ap->prev[base + i] != i && now - ap->tick[base + i] >= ap->q_ticks) {
			dense_unlink(ap, d, i);
			*port = orig_port;
			return 0;
		}
	}
	h = ap->dl[d].head;
	if (h == NIL || now - ap->tick[base + h] < ap->q_ticks)
		return -EAGAIN;
	dense_unlink(ap, d, h);
	*port = (uint16_t)(ap->lo + h);
	return 0;
}

static int dense_alloc(struct tw_ap *ap, const struct tw_ap_ip *orig, uint16_t orig_port,
		       uint8_t ver, unsigned copy, struct tw_ap_tuple *out)
{
	uint32_t off = ver == 4 ? 0 : ap->n4;
	uint32_t nfam = ver == 4 ? ap->n4 : ap->naddr - ap->n4;
	uint32_t base, tries;

	if (nfam == 0)
		return -EAFNOSUPPORT;
	/* Sticky: the same captured client always starts at the same address;
	 * copy i starts i addresses further. */
	base = (uint32_t)((tw_ap_hash_addr(ap->seed ^ 0x6d6170ull, orig->ver, orig->a) + copy) % nfam);
	tries = nfam < 1 + TW_AP_SPILL ? nfam : 1 + TW_AP_SPILL;
	for (uint32_t k = 0; k < tries; k++) {
		uint32_t d = off + (base + k) % nfam;

		if (dense_take(ap, d, orig_port, &out->port) == 0) {
			out->ip = ap->addr[d];
			out->ref = d;
			if (k)
				ap->st.spilled++;
			return 0;
		}
	}
	return -EAGAIN;
}

static int dense_release(struct tw_ap *ap, const struct tw_ap_tuple *t)
{
	uint32_t d = t->ref;
	size_t base = (size_t)d * ap->range, g;
	uint16_t i, tail;

	if (d >= ap->naddr || !tw_ap_ip_eq(&ap->addr[d], &t->ip) || !in_range(ap, t->port))
		return -EINVAL;
	i = (uint16_t)(t->port - ap->lo);
	g = base + i;
	if (ap->prev[g] != i || ap->next[g] != i)
		return -EINVAL;
	tail = ap->dl[d].tail;
	ap->tick[g] = now_tick(ap);
	ap->prev[g] = tail;
	ap->next[g] = NIL;
	if (tail == NIL)
		ap->dl[d].head = i;
	else
		ap->next[base + tail] = i;
	ap->dl[d].tail = i;
	return 0;
}

/* ---- sparse ---- */

static uint32_t sp_bucket(const struct tw_ap *ap, uint8_t ver, const uint8_t a[16], uint16_t port)
{
	return (uint32_t)(tw_ap_mix64(tw_ap_hash_addr(ap->seed, ver, a) ^ port) & ap->mask);
}

static uint32_t sp_find(const struct tw_ap *ap, uint8_t ver, const uint8_t a[16], uint16_t port)
{
	for (uint32_t e = ap->bucket[sp_bucket(ap, ver, a, port)]; e; e = ap->ent[e].hnext) {
		const struct sp_ent *x = &ap->ent[e];

		if (x->port == port && x->ver == ver && memcmp(x->a, a, tw_ap_ip_len(ver)) == 0)
			return e;
	}
	return 0;
}

static void sp_unhash(struct tw_ap *ap, uint32_t e)
{
	const struct sp_ent *x = &ap->ent[e];
	uint32_t *pp = &ap->bucket[sp_bucket(ap, x->ver, x->a, x->port)];

	while (*pp && *pp != e)
		pp = &ap->ent[*pp].hnext;
	if (*pp)
		*pp = x->hnext;
}

/* Frees the quarantined tuples whose quarantine has passed. */
static void sp_expire(struct tw_ap *ap)
{
	while (ap->qhead && ap->last - ap->ent[ap->qhead].t >= ap->q_ns) {
		uint32_t e = ap->qhead;
		struct sp_ent *x = &ap->ent[e];

		ap->qhead = x->qnext;
		sp_unhash(ap, e);
		x->state = ENT_FREE;
		x->qnext = ap->freel;
		ap->freel = e;
	}
	if (!ap->qhead)
		ap->qtail = 0;
}

static int sparse_alloc(struct tw_ap *ap, const struct tw_ap_ip *orig, uint16_t orig_port,
			uint8_t ver, unsigned copy, struct tw_ap_tuple *out)
{
	uint64_t h = tw_ap_hash_addr(ap->seed ^ copy, orig->ver, orig->a) ^ orig_port;
	uint16_t port = 0;
	uint32_t e;
	bool found = false;

	if (orig->ver != ver)
		return -EAFNOSUPPORT;
	sp_expire(ap);
	if (!ap->freel && ap->bump > ap->cap)
		return -EAGAIN;
	if (in_range(ap, orig_port) && !skipped(ap, orig_port) &&
	    !sp_find(ap, ver, orig->a, orig_port)) {
		port = orig_port;
		found = true;
	}
	/* Hashed probes, salted with a counter so that a client reusing one
	 * port many times does not walk the same sequence each time. */
	for (int k = 0; !found && k < TW_AP_PROBES; k++) {
		uint16_t p = (uint16_t)(ap->lo + tw_ap_mix64(h ^ ++ap->ctr) % ap->range);

		ap->st.probes++;
		if (!skipped(ap, p) && !sp_find(ap, ver, orig->a, p)) {
			port = p;
			found = true;
		}
	}
	if (!found)
		return -EAGAIN;
	if (ap->freel) {
		e = ap->freel;
		ap->freel = ap->ent[e].qnext;
	} else {
		e = ap->bump++;
	}
	struct sp_ent *x = &ap->ent[e];
	uint32_t b = sp_bucket(ap, ver, orig->a, port);

	memset(x, 0, sizeof(*x));
	memcpy(x->a, orig->a, tw_ap_ip_len(ver));
	x->ver = ver;
	x->port = port;
	x->state = ENT_LIVE;
	x->hnext = ap->bucket[b];
	ap->bucket[b] = e;
	memset(&out->ip, 0, sizeof(out->ip));
	out->ip.ver = ver;
	memcpy(out->ip.a, orig->a, tw_ap_ip_len(ver));
	out->port = port;
	out->ref = e;
	return 0;
}

static int sparse_release(struct tw_ap *ap, const struct tw_ap_tuple *t)
{
	uint32_t e = t->ref;
	struct sp_ent *x;

	if (e == 0 || e >= ap->bump || e > ap->cap)
		return -EINVAL;
	x = &ap->ent[e];
	if (x->state != ENT_LIVE || x->port != t->port || x->ver != t->ip.ver ||
	    memcmp(x->a, t->ip.a, tw_ap_ip_len(x->ver)) != 0)
		return -EINVAL;
	x->state = ENT_QUAR;
	x->t = ap->last;
	x->qnext = 0;
	if (ap->qtail)
		ap->ent[ap->qtail].qnext = e;
	else
		ap->qhead = e;
	ap->qtail = e;
	return 0;
}

/* ---- entry points ---- */

static void advance(struct tw_ap *ap, uint64_t now_ns)
{
	if (now_ns > ap->last)
		ap->last = now_ns;
}

int tw_ap_alloc(struct tw_ap *ap, const struct tw_ap_ip *orig, uint16_t orig_port,
		uint8_t target_ver, unsigned copy, uint64_t now_ns, struct tw_ap_tuple *out)
{
	int rc;

	if (!orig || (orig->ver != 4 && orig->ver != 6) || (target_ver != 4 && target_ver != 6) ||
	    copy >= ap->copies)
		return -EINVAL;
	advance(ap, now_ns);
	if (ap->naddr)
		rc = dense_alloc(ap, orig, orig_port, target_ver, copy, out);
	else
		rc = sparse_alloc(ap, orig, orig_port, target_ver, copy, out);
	if (rc == -EAGAIN)
		ap->st.refused++;
	if (rc)
		return rc;
	ap->st.allocs++;
	ap->st.live++;
	if (out->port == orig_port)
		ap->st.kept_port++;
	return 0;
}

int tw_ap_release(struct tw_ap *ap, const struct tw_ap_tuple *t, uint64_t now_ns)
{
	int rc;

	advance(ap, now_ns);
	rc = ap->naddr ? dense_release(ap, t) : sparse_release(ap, t);
	if (rc) {
		ap->st.bad_release++;
		return rc;
	}
	ap->st.releases++;
	ap->st.live--;
	return 0;
}

void tw_ap_get_stats(const struct tw_ap *ap, struct tw_ap_stats *st)
{
	*st = ap->st;
}
