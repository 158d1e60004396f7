/*
 * stats.h - helpers for structs of 64-bit counters.
 *
 * Modules keep plain structs of uint64_t counters, one per worker thread, and
 * describe them with a table of {name, offset} rows (TW_STAT). The same table
 * sums per-thread copies into a total and lets a reporter print or export
 * every counter by name (stderr summary, --report JSON) without a hand-written
 * line per field. Header only. Does not format or print anything itself, and
 * does not synchronise: sum a copy taken by its owner thread, or accept a
 * torn-free but slightly stale read of aligned 64-bit words.
 */
#ifndef TW_CORE_STATS_H
#define TW_CORE_STATS_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

struct tw_stat_desc {
	const char *name;
	size_t offset; /* of a uint64_t field */
};

/* A row for FIELD of TYPE; refuses (at compile time) fields that are not
 * 8 bytes wide. */
#define TW_STAT(type, field)                                                                        \
	{                                                                                           \
		#field, offsetof(type, field) +                                                     \
			0 * sizeof(char[sizeof(((type *)0)->field) == sizeof(uint64_t) ? 1 : -1]) \
	}

#define TW_STAT_COUNT(table) (sizeof(table) / sizeof((table)[0]))

/* Counter D of struct S. */
static inline uint64_t tw_stat_get(const void *s, const struct tw_stat_desc *d)
{
	uint64_t v;

	memcpy(&v, (const char *)s + d->offset, sizeof(v));
	return v;
}

static inline void tw_stat_set(void *s, const struct tw_stat_desc *d, uint64_t v)
{
	memcpy((char *)s + d->offset, &v, sizeof(v));
}

/* DST += SRC for every counter of the N-row table DESC. */
static inline void tw_stats_add(void *dst, const void *src, const struct tw_stat_desc *desc,
				size_t n)
{
	for (size_t i = 0; i < n; i++)
		tw_stat_set(dst, &desc[i], tw_stat_get(dst, &desc[i]) + tw_stat_get(src, &desc[i]));
}

/* Row named NAME, or NULL. */
static inline const struct tw_stat_desc *tw_stat_find(const struct tw_stat_desc *desc, size_t n,
						      const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(desc[i].name, name) == 0)
			return &desc[i];
	return NULL;
}

#endif
