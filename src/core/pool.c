/*
 * pool.c - fixed-size object pool with an intrusive LIFO free list and an
 * in-use bitmap (see pool.h). The free list is threaded through the free
 * objects themselves (their first pointer-sized bytes), so it costs no
 * memory; LIFO order hands out the most recently used, cache-warm object.
 * Objects never handed out are not on the list: they are taken in address
 * order once the list is empty, so a large pool costs memory (and page
 * faults) only as far as it is used, never all at creation.
 * Allocates only in tw_pool_new.
 */
#include "core/pool.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define POOL_ALIGN 16

struct free_obj {
	struct free_obj *next;
};

struct tw_pool {
	unsigned char *mem;
	uint64_t *used; /* one bit per object */
	struct free_obj *free;
	size_t size;   /* caller's object size */
	size_t stride; /* size rounded up to POOL_ALIGN */
	size_t count;
	size_t fresh;  /* objects fresh .. count-1 were never handed out */
	size_t in_use;
	struct tw_pool_stats st;
};

static bool bit_get(const struct tw_pool *p, size_t i)
{
	return (p->used[i / 64] >> (i % 64)) & 1;
}

static void bit_flip(struct tw_pool *p, size_t i)
{
	p->used[i / 64] ^= (uint64_t)1 << (i % 64);
}

struct tw_pool *tw_pool_new(size_t size, size_t count)
{
	struct tw_pool *p;
	size_t stride;

	if (size == 0 || count == 0 || size > SIZE_MAX / 2) {
		errno = EINVAL;
		return NULL;
	}
	/* At least POOL_ALIGN (16) bytes: room for the free-list link. */
	stride = (size + POOL_ALIGN - 1) & ~(size_t)(POOL_ALIGN - 1);
	if (count > SIZE_MAX / stride) {
		errno = ENOMEM;
		return NULL;
	}
	p = calloc(1, sizeof(*p));
	if (!p)
		return NULL;
	p->mem = aligned_alloc(POOL_ALIGN, count * stride);
	if (!p->mem)
		goto err_free_pool;
	p->used = calloc((count + 63) / 64, sizeof(uint64_t));
	if (!p->used)
		goto err_free_mem;
	p->size = size;
	p->stride = stride;
	p->count = count;
	return p; /* object 0 is handed out first */

err_free_mem:
	free(p->mem);
err_free_pool:
	free(p);
	errno = ENOMEM;
	return NULL;
}

void tw_pool_free(struct tw_pool *p)
{
	if (!p)
		return;
	free(p->used);
	free(p->mem);
	free(p);
}

void *tw_pool_get(struct tw_pool *p)
{
	struct free_obj *f = p->free;

	if (f) {
		p->free = f->next;
	} else if (p->fresh < p->count) {
		f = (void *)(p->mem + p->fresh * p->stride);
		p->fresh++;
	} else {
		p->st.refused++;
		return NULL;
	}
	bit_flip(p, tw_pool_index(p, f));
	p->in_use++;
	if (p->in_use > p->st.max_in_use)
		p->st.max_in_use = p->in_use;
	p->st.gets++;
	memset(f, 0, p->size);
	return f;
}

bool tw_pool_owns(const struct tw_pool *p, const void *obj)
{
	uintptr_t a = (uintptr_t)obj, base = (uintptr_t)p->mem;

	/* Integer arithmetic: comparing pointers into different objects is
	 * undefined in C, and OBJ may come from anywhere. */
	if (a < base || a - base >= p->count * p->stride)
		return false;
	return (a - base) % p->stride == 0;
}

size_t tw_pool_index(const struct tw_pool *p, const void *obj)
{
	return (size_t)((uintptr_t)obj - (uintptr_t)p->mem) / p->stride;
}

int tw_pool_put(struct tw_pool *p, void *obj)
{
	struct free_obj *f = obj;
	size_t i;

	if (!obj || !tw_pool_owns(p, obj)) {
		p->st.bad_puts++;
		return -EINVAL;
	}
	i = tw_pool_index(p, obj);
	if (!bit_get(p, i)) {
		p->st.bad_puts++;
		return -EINVAL;
	}
	bit_flip(p, i);
	f->next = p->free;
	p->free = f;
	p->in_use--;
	p->st.puts++;
	return 0;
}

size_t tw_pool_capacity(const struct tw_pool *p)
{
	return p->count;
}

size_t tw_pool_in_use(const struct tw_pool *p)
{
	return p->in_use;
}

size_t tw_pool_obj_size(const struct tw_pool *p)
{
	return p->size;
}

void *tw_pool_at(const struct tw_pool *p, size_t idx)
{
	if (idx >= p->count || !bit_get(p, idx))
		return NULL;
	return p->mem + idx * p->stride;
}

void tw_pool_get_stats(const struct tw_pool *p, struct tw_pool_stats *out)
{
	*out = p->st;
}
