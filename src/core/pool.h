/*
 * pool.h - fixed-size object pool: COUNT objects of SIZE bytes allocated once.
 *
 * tw_pool_get pops a free object (zeroed) in O(1); when none is left it
 * returns NULL and counts the refusal, never allocates. tw_pool_put pushes
 * it back. An in-use bitmap catches double puts and foreign pointers (they
 * are refused and counted, not corrupting the free list) and lets a caller
 * walk the live objects, e.g. to close every session at exit. Objects are
 * aligned to 16 bytes and have stable indexes (tw_pool_index), usable as
 * compact ids. Not thread-safe: one pool per worker thread.
 */
#ifndef TW_CORE_POOL_H
#define TW_CORE_POOL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct tw_pool;

struct tw_pool_stats {
	uint64_t gets;      /* objects handed out */
	uint64_t puts;      /* objects given back */
	uint64_t refused;   /* tw_pool_get with the pool empty */
	uint64_t bad_puts;  /* double put or pointer not from this pool */
	size_t max_in_use;  /* high-water mark */
};

/* A pool of COUNT objects of SIZE bytes (both > 0). Returns NULL and sets
 * errno (EINVAL, ENOMEM). */
struct tw_pool *tw_pool_new(size_t size, size_t count);
/* Frees the pool and every object in it, in use or not; NULL is accepted. */
void tw_pool_free(struct tw_pool *p);

/* A zeroed object, or NULL (counted in refused) when all are in use. */
void *tw_pool_get(struct tw_pool *p);
/* Give OBJ back. Returns 0, or -EINVAL (counted in bad_puts, pool unchanged)
 * if OBJ is not an in-use object of this pool. NULL is refused likewise. */
int tw_pool_put(struct tw_pool *p, void *obj);

size_t tw_pool_capacity(const struct tw_pool *p);
size_t tw_pool_in_use(const struct tw_pool *p);
size_t tw_pool_obj_size(const struct tw_pool *p);

/* True when OBJ points at the start of one of this pool's objects. */
bool tw_pool_owns(const struct tw_pool *p, const void *obj);
/* Index (0..capacity-1) of an object of this pool. */
size_t tw_pool_index(const struct tw_pool *p, const void *obj);
/* Object at IDX if it is in use, else NULL (for walking live objects). */
void *tw_pool_at(const struct tw_pool *p, size_t idx);

void tw_pool_get_stats(const struct tw_pool *p, struct tw_pool_stats *out);

#endif
