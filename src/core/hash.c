/*
 * hash.c - open-addressing hash table with linear probing and backward-shift
 * deletion, keyed with SipHash-1-3 (see hash.h).
 *
 * Slot layout, one array allocated at creation, STRIDE bytes per slot:
 *     uint64_t hash   (0: empty; stored hashes are never 0)
 *     void    *val
 *     uint8_t  key[key_size rounded up to 8]
 * The full 64-bit hash is kept so a probe compares keys only on a hash match
 * and a deletion finds each entry's home slot without rehashing.
 * SipHash is written from the paper's description (Aumasson and Bernstein,
 * "SipHash: a fast short-input PRF", 2012); the 2-4 variant is checked
 * against the paper's test vectors in tests/unit/test_hash.c.
 */
#include "core/hash.h"

#include <endian.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/random.h>

#include "core/clock.h"

struct tw_hash {
	unsigned char *slots;
	size_t bytes; /* of the slot array */
	size_t stride;
	size_t key_size;
	size_t mask; /* slot count - 1 */
	size_t capacity;
	size_t count;
	uint8_t sipkey[16];
	struct tw_hash_stats st;
};

struct slot {
	uint64_t hash;
	void *val;
	unsigned char key[];
};

/* ---- SipHash ---- */

static uint64_t rotl(uint64_t x, unsigned b)
{
	return (x << b) | (x >> (64 - b));
}

static uint64_t load_le64(const uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, sizeof(v)); /* one unaligned load */
	return le64toh(v);
}

struct sip {
	uint64_t v0, v1, v2, v3;
};

static inline __attribute__((always_inline)) void sip_round(struct sip *s)
{
	s->v0 += s->v1;
	s->v1 = rotl(s->v1, 13);
	s->v1 ^= s->v0;
	s->v0 = rotl(s->v0, 32);
	s->v2 += s->v3;
	s->v3 = rotl(s->v3, 16);
	s->v3 ^= s->v2;
	s->v0 += s->v3;
	s->v3 = rotl(s->v3, 21);
	s->v3 ^= s->v0;
	s->v2 += s->v1;
	s->v1 = rotl(s->v1, 17);
	s->v1 ^= s->v2;
	s->v2 = rotl(s->v2, 32);
}

/* Inlined into each caller so constant C and D unroll the round loops
 * (twice as fast as the generic loop on a 40-byte flow key). */
static inline __attribute__((always_inline)) uint64_t siphash_cd(unsigned c, unsigned d,
								  const uint8_t key[16],
								  const void *data, size_t len)
{
	const uint8_t *p = data;
	uint64_t k0 = load_le64(key), k1 = load_le64(key + 8), m, last;
	/* Initial state: the key xored with "somepseudorandomlygeneratedbytes". */
	struct sip s = {
		.v0 = k0 ^ 0x736f6d6570736575ULL,
		.v1 = k1 ^ 0x646f72616e646f6dULL,
		.v2 = k0 ^ 0x6c7967656e657261ULL,
		.v3 = k1 ^ 0x7465646279746573ULL,
	};
	size_t i;

	for (i = 0; i + 8 <= len; i += 8) {
		m = load_le64(p + i);
		s.v3 ^= m;
		for (unsigned r = 0; r < c; r++)
			sip_round(&s);
		s.v0 ^= m;
	}
	/* Last block: the 0..7 remaining bytes, little-endian, with the
	 * message length mod 256 in the top byte. */
	last = (uint64_t)(len & 0xff) << 56;
	for (size_t j = 0; i + j < len; j++)
		last |= (uint64_t)p[i + j] << (8 * j);
	s.v3 ^= last;
	for (unsigned r = 0; r < c; r++)
		sip_round(&s);
	s.v0 ^= last;
	s.v2 ^= 0xff;
	for (unsigned r = 0; r < d; r++)
		sip_round(&s);
	return s.v0 ^ s.v1 ^ s.v2 ^ s.v3;
}

uint64_t tw_siphash(unsigned c, unsigned d, const uint8_t key[16], const void *data, size_t len)
{
	if (c == 1 && d == 3)
		return siphash_cd(1, 3, key, data, len);
	if (c == 2 && d == 4)
		return siphash_cd(2, 4, key, data, len);
	return siphash_cd(c, d, key, data, len);
}

/* splitmix64 step: expands a 64-bit seed into well-mixed key words. */
static uint64_t splitmix64(uint64_t *x)
{
	uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

uint64_t tw_hash_random_seed(void)
{
	uint64_t s;

	if (getrandom(&s, sizeof(s), GRND_NONBLOCK) == (ssize_t)sizeof(s))
		return s;
	/* No entropy yet (early boot) or no getrandom: weaker but varied. */
	return tw_clock_mono_ns() ^ ((uint64_t)getpid() << 32);
}

/* ---- flow keys ---- */

void tw_flow_key_v4(struct tw_flow_key *k, const uint8_t saddr[4], uint16_t sport,
		    const uint8_t daddr[4], uint16_t dport)
{
	memset(k, 0, sizeof(*k));
	k->saddr[10] = k->saddr[11] = 0xff;
	k->daddr[10] = k->daddr[11] = 0xff;
	memcpy(k->saddr + 12, saddr, 4);
	memcpy(k->daddr + 12, daddr, 4);
	k->sport = sport;
	k->dport = dport;
	k->family = 4;
}

void tw_flow_key_v6(struct tw_flow_key *k, const uint8_t saddr[16], uint16_t sport,
		    const uint8_t daddr[16], uint16_t dport)
{
	memset(k, 0, sizeof(*k));
	memcpy(k->saddr, saddr, 16);
	memcpy(k->daddr, daddr, 16);
	k->sport = sport;
	k->dport = dport;
	k->family = 6;
}

/* ---- table ---- */

static struct slot *slot_at(const struct tw_hash *h, size_t i)
{
	return (void *)(h->slots + i * h->stride);
}

static size_t home(const struct tw_hash *h, uint64_t hash)
{
	return (size_t)hash & h->mask;
}

/* Zeroed slot memory straight from mmap: pages are committed as they are
 * first written, so a large table costs memory only as it fills. Tables of
 * 2 MB or more ask for transparent huge pages (madvise(2) MADV_HUGEPAGE; the
 * common THP mode is "madvise"): probes land on random slots, and with 4 KB
 * pages a 100 MB table misses the TLB on nearly every lookup (measured about
 * 300 ns per lookup at one million flows). Failure of madvise is harmless. */
static unsigned char *slots_alloc(size_t bytes)
{
	void *m = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (m == MAP_FAILED)
		return NULL;
	if (bytes >= (2u << 20))
		(void)madvise(m, bytes, MADV_HUGEPAGE);
	return m;
}

#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23
#endif

int tw_hash_prefault(struct tw_hash *h)
{
	if (madvise(h->slots, h->bytes, MADV_POPULATE_WRITE) == 0)
		return 0;
	if (errno != EINVAL)
		return -errno;
	/* before Linux 5.14: write each page (the slots are zero already) */
	for (size_t off = 0; off < h->bytes; off += 4096)
		((volatile unsigned char *)h->slots)[off] = 0;
	return 0;
}

struct tw_hash *tw_hash_new(size_t key_size, size_t capacity, uint64_t seed)
{
	struct tw_hash *h;
	size_t stride, want, n = 8;
	uint64_t x = seed, k0, k1;

	if (key_size == 0 || key_size > 256 || capacity == 0 || capacity > (SIZE_MAX >> 8)) {
		errno = EINVAL;
		return NULL;
	}
	stride = sizeof(struct slot) + ((key_size + 7) & ~(size_t)7);
	/* Load factor at most 3/4, and always one empty slot (capacity < n),
	 * which ends every probe and anchors iteration. */
	want = capacity + (capacity + 2) / 3;
	while (n < want)
		n <<= 1;
	if (n > SIZE_MAX / stride) {
		errno = ENOMEM;
		return NULL;
	}
	h = calloc(1, sizeof(*h));
	if (!h)
		return NULL;
	h->bytes = n * stride;
	h->slots = slots_alloc(h->bytes);
	if (!h->slots) {
		free(h);
		return NULL;
	}
	h->stride = stride;
	h->key_size = key_size;
	h->mask = n - 1;
	h->capacity = capacity;
	k0 = splitmix64(&x);
	k1 = splitmix64(&x);
	for (int i = 0; i < 8; i++) {
		h->sipkey[i] = (uint8_t)(k0 >> (8 * i));
		h->sipkey[8 + i] = (uint8_t)(k1 >> (8 * i));
	}
	return h;
}

void tw_hash_free(struct tw_hash *h)
{
	if (!h)
		return;
	munmap(h->slots, h->bytes);
	free(h);
}

uint64_t tw_hash_key(const struct tw_hash *h, const void *key)
{
	/* SipHash-1-3: the variant hash tables use (Rust, CPython); 2-4 is for
	 * MACs. 0 marks an empty slot, so it is folded onto 1. */
	uint64_t v = siphash_cd(1, 3, h->sipkey, key, h->key_size);

	return v ? v : 1;
}

/* Slot index of KEY, or the empty slot ending its probe run (*found false). */
static size_t probe(struct tw_hash *h, const void *key, uint64_t hash, bool *found)
{
	size_t i = home(h, hash);

	for (;;) {
		struct slot *s = slot_at(h, i);

		h->st.probes++;
		if (s->hash == 0) {
			*found = false;
			return i;
		}
		if (s->hash == hash && memcmp(s->key, key, h->key_size) == 0) {
			*found = true;
			return i;
		}
		i = (i + 1) & h->mask;
	}
}

int tw_hash_insert_h(struct tw_hash *h, const void *key, uint64_t hash, void *val)
{
	bool found;
	size_t i;
	struct slot *s;

	hash = hash ? hash : 1;
	i = probe(h, key, hash, &found);
	if (found) {
		h->st.exists++;
		return -EEXIST;
	}
	if (h->count >= h->capacity) {
		h->st.refused_full++;
		return -ENOSPC;
	}
	s = slot_at(h, i);
	s->hash = hash;
	s->val = val;
	memcpy(s->key, key, h->key_size);
	h->count++;
	if (h->count > h->st.max_count)
		h->st.max_count = h->count;
	h->st.inserts++;
	return 0;
}

int tw_hash_insert(struct tw_hash *h, const void *key, void *val)
{
	return tw_hash_insert_h(h, key, tw_hash_key(h, key), val);
}

void *tw_hash_lookup_h(struct tw_hash *h, const void *key, uint64_t hash)
{
	bool found;
	size_t i;

	h->st.lookups++;
	i = probe(h, key, hash ? hash : 1, &found);
	return found ? slot_at(h, i)->val : NULL;
}

void *tw_hash_lookup(struct tw_hash *h, const void *key)
{
	return tw_hash_lookup_h(h, key, tw_hash_key(h, key));
}

bool tw_hash_find(struct tw_hash *h, const void *key, void **val)
{
	bool found;
	size_t i;

	h->st.lookups++;
	i = probe(h, key, tw_hash_key(h, key), &found);
	if (found && val)
		*val = slot_at(h, i)->val;
	return found;
}

/* Empty slot I and close the gap: every later entry of the probe run whose
 * home is not cyclically in (I, J] moves back into the hole (Knuth 6.4,
 * algorithm R). Entries only ever move towards I, never past an empty slot. */
static void delete_at(struct tw_hash *h, size_t i)
{
	size_t j = i, k;

	for (;;) {
		struct slot *sj;
		bool stays;

		j = (j + 1) & h->mask;
		sj = slot_at(h, j);
		if (sj->hash == 0)
			break;
		k = home(h, sj->hash);
		stays = i <= j ? (i < k && k <= j) : (i < k || k <= j);
		if (stays)
			continue;
		memcpy(slot_at(h, i), sj, h->stride);
		i = j;
	}
	memset(slot_at(h, i), 0, h->stride);
	h->count--;
	h->st.removes++;
}

int tw_hash_remove(struct tw_hash *h, const void *key, void **val)
{
	bool found;
	size_t i = probe(h, key, tw_hash_key(h, key), &found);

	if (!found)
		return -ENOENT;
	if (val)
		*val = slot_at(h, i)->val;
	delete_at(h, i);
	return 0;
}

void tw_hash_clear(struct tw_hash *h)
{
	memset(h->slots, 0, (h->mask + 1) * h->stride);
	h->count = 0;
}

size_t tw_hash_count(const struct tw_hash *h)
{
	return h->count;
}

size_t tw_hash_capacity(const struct tw_hash *h)
{
	return h->capacity;
}

size_t tw_hash_slots(const struct tw_hash *h)
{
	return h->mask + 1;
}

void tw_hash_get_stats(const struct tw_hash *h, struct tw_hash_stats *out)
{
	*out = h->st;
}

/* ---- iteration ---- */

void tw_hash_iter_init(const struct tw_hash *h, struct tw_hash_iter *it)
{
	size_t i = 0;

	/* Start after an empty slot (one exists: capacity < slots), so no probe
	 * run wraps over the start and backward shifts of iter_remove only move
	 * entries from ahead of the cursor onto the cursor or ahead of it. */
	while (slot_at(h, i)->hash != 0)
		i++;
	*it = (struct tw_hash_iter){.start = i, .step = 0, .pos = i, .stay = false};
}

bool tw_hash_iter_next(const struct tw_hash *h, struct tw_hash_iter *it, const void **key,
		       void **val)
{
	struct slot *s;

	if (it->stay) {
		it->stay = false;
		s = slot_at(h, it->pos);
		if (s->hash != 0)
			goto found;
	}
	while (it->step < h->mask) { /* slots - 1 other slots */
		it->step++;
		it->pos = (it->start + it->step) & h->mask;
		s = slot_at(h, it->pos);
		if (s->hash != 0)
			goto found;
	}
	return false;
found:
	if (key)
		*key = s->key;
	if (val)
		*val = s->val;
	return true;
}

void tw_hash_iter_remove(struct tw_hash *h, struct tw_hash_iter *it)
{
	/* Nothing returned yet, or removed already: the slot may now hold an
	 * entry shifted in and not yet returned, which must not go. */
	if (it->step == 0 || it->stay || slot_at(h, it->pos)->hash == 0)
		return;
	delete_at(h, it->pos);
	it->stay = true;
}
