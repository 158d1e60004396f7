/*
 * hash.h - fixed-capacity hash table from fixed-size keys to pointers.
 *
 * Built for the session table: keys are flat byte strings of one size given
 * at creation (struct tw_flow_key below, a TCP 4-tuple for IPv4 or IPv6),
 * values are pointers to the caller's objects. All memory is allocated in
 * tw_hash_new; insert beyond the capacity is refused (-ENOSPC) and counted,
 * never grown. Open addressing with linear probing; the slot array is the
 * next power of two holding the capacity at a load factor of at most 3/4.
 * Deletion shifts the following entries of the probe run back (Knuth's
 * algorithm R for linear probing) instead of leaving tombstones, so lookups
 * never slow down after many deletions and nothing needs rebuilding.
 *
 * Keys are hashed with SipHash-1-3 under a 128-bit key derived from a seed:
 * hostile traffic cannot aim many 4-tuples at one probe run without knowing
 * the seed. Pass a fixed seed for reproducible tests, tw_hash_random_seed()
 * in production.
 * Not thread-safe (one table per worker thread). Does not own the values.
 */
#ifndef TW_CORE_HASH_H
#define TW_CORE_HASH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct tw_hash;

/* A TCP/UDP 4-tuple. IPv4 addresses are stored IPv4-mapped (::ffff:a.b.c.d),
 * ports in host order. Always fill it with tw_flow_key_v4/_v6 (or zero it
 * first): the padding is hashed and compared. */
struct tw_flow_key {
	uint8_t saddr[16];
	uint8_t daddr[16];
	uint16_t sport;
	uint16_t dport;
	uint8_t family; /* 4 or 6 */
	uint8_t pad[3];
};
_Static_assert(sizeof(struct tw_flow_key) == 40, "tw_flow_key has no hidden padding");

/* SADDR/DADDR: 4 bytes in network order. */
void tw_flow_key_v4(struct tw_flow_key *k, const uint8_t saddr[4], uint16_t sport,
		    const uint8_t daddr[4], uint16_t dport);
/* SADDR/DADDR: 16 bytes. */
void tw_flow_key_v6(struct tw_flow_key *k, const uint8_t saddr[16], uint16_t sport,
		    const uint8_t daddr[16], uint16_t dport);

struct tw_hash_stats {
	uint64_t inserts;      /* accepted */
	uint64_t refused_full; /* -ENOSPC: capacity reached */
	uint64_t exists;       /* -EEXIST */
	uint64_t removes;
	uint64_t lookups;
	uint64_t probes;       /* slots examined by lookups, inserts and removes */
	size_t max_count;      /* high-water mark of entries */
};

/* SipHash-c-d with a 16-byte key (little-endian words, as the paper). */
uint64_t tw_siphash(unsigned c_rounds, unsigned d_rounds, const uint8_t key[16],
		    const void *data, size_t len);

/* A seed from getrandom(2); falls back to time and pid if that fails. */
uint64_t tw_hash_random_seed(void);

/* A table for up to CAPACITY entries with KEY_SIZE-byte keys (1..256).
 * Returns NULL and sets errno (EINVAL, ENOMEM). */
struct tw_hash *tw_hash_new(size_t key_size, size_t capacity, uint64_t seed);
void tw_hash_free(struct tw_hash *h);

/* The table's hash of KEY (lets a caller hash once for lookup + insert). */
uint64_t tw_hash_key(const struct tw_hash *h, const void *key);

/* Add KEY -> VAL (VAL may be NULL). Returns 0, -EEXIST if KEY is present (its
 * value is left alone), -ENOSPC if the table holds CAPACITY entries. */
int tw_hash_insert(struct tw_hash *h, const void *key, void *val);
int tw_hash_insert_h(struct tw_hash *h, const void *key, uint64_t hash, void *val);

/* Value of KEY, or NULL when absent (use tw_hash_find for NULL values). */
void *tw_hash_lookup(struct tw_hash *h, const void *key);
void *tw_hash_lookup_h(struct tw_hash *h, const void *key, uint64_t hash);
/* True when KEY is present; its value goes to *VAL if VAL is not NULL. */
bool tw_hash_find(struct tw_hash *h, const void *key, void **val);

/* Remove KEY. Returns 0 (its value in *VAL if VAL is not NULL) or -ENOENT. */
int tw_hash_remove(struct tw_hash *h, const void *key, void **val);

/* Remove every entry (O(slots)). Counters are kept. */
void tw_hash_clear(struct tw_hash *h);

/* Commit every page of the slot array now (startup), so that first inserts
 * on the packet path do not stop to fault in and zero memory (a 2 MB huge
 * page each: measured 300 ms for the first hundred registrations of a 1 M
 * table). Returns 0 or -errno; the table works either way. */
int tw_hash_prefault(struct tw_hash *h);

size_t tw_hash_count(const struct tw_hash *h);
size_t tw_hash_capacity(const struct tw_hash *h);
size_t tw_hash_slots(const struct tw_hash *h);
void tw_hash_get_stats(const struct tw_hash *h, struct tw_hash_stats *out);

/* Iteration over all entries, in slot order:
 *     struct tw_hash_iter it;
 *     const void *k; void *v;
 *     tw_hash_iter_init(h, &it);
 *     while (tw_hash_iter_next(h, &it, &k, &v))
 *         if (expired(v)) tw_hash_iter_remove(h, &it);
 * During an iteration the only change allowed is tw_hash_iter_remove of the
 * current entry; each entry is then still seen exactly once. */
struct tw_hash_iter {
	size_t start; /* an empty slot: no probe run crosses it */
	size_t step;  /* slots visited so far */
	size_t pos;   /* current slot */
	bool stay;    /* the current slot was refilled by a removal */
};
void tw_hash_iter_init(const struct tw_hash *h, struct tw_hash_iter *it);
bool tw_hash_iter_next(const struct tw_hash *h, struct tw_hash_iter *it, const void **key,
		       void **val);
/* Remove the entry last returned by tw_hash_iter_next. */
void tw_hash_iter_remove(struct tw_hash *h, struct tw_hash_iter *it);

#endif
