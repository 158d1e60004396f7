/*
 * test_pool.c - unit tests of src/core/pool.c: exhaustion refuses and
 * counts, objects are distinct, aligned, zeroed and do not overlap, LIFO
 * reuse, double and foreign puts are refused without damage, walking live
 * objects by index, random get/put against a reference set, and the
 * counter-table helpers of stats.h on the pool's counters.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>

#include <cmocka.h>

#include "core/pool.h"
#include "core/stats.h"

static uint64_t rng_state;
static uint64_t rng(void)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 0x2545f4914f6cdd1dULL;
}

#define N 37
#define SZ 52 /* not a multiple of 16 */

static void test_exhaustion(void **state)
{
	struct tw_pool *p = tw_pool_new(SZ, N);
	struct tw_pool_stats st;
	unsigned char *o[N];

	assert_non_null(p);
	assert_int_equal(tw_pool_capacity(p), N);
	assert_int_equal(tw_pool_obj_size(p), SZ);
	for (int i = 0; i < N; i++) {
		o[i] = tw_pool_get(p);
		assert_non_null(o[i]);
		assert_int_equal((uintptr_t)o[i] % 16, 0);
		for (int j = 0; j < SZ; j++)
			assert_int_equal(o[i][j], 0);
		memset(o[i], 0xa0 + i % 16, SZ); /* fill all of it */
		assert_int_equal(tw_pool_index(p, o[i]), i); /* address order */
	}
	assert_int_equal(tw_pool_in_use(p), N);
	assert_null(tw_pool_get(p));
	assert_null(tw_pool_get(p));
	tw_pool_get_stats(p, &st);
	assert_int_equal(st.refused, 2);
	assert_int_equal(st.gets, N);
	assert_int_equal(st.max_in_use, N);
	/* no object was overwritten by a neighbour */
	for (int i = 0; i < N; i++)
		for (int j = 0; j < SZ; j++)
			assert_int_equal(o[i][j], 0xa0 + i % 16);
	/* LIFO: the last one given back is the next one handed out, zeroed */
	assert_int_equal(tw_pool_put(p, o[5]), 0);
	assert_int_equal(tw_pool_put(p, o[9]), 0);
	assert_int_equal(tw_pool_in_use(p), N - 2);
	assert_ptr_equal(tw_pool_get(p), o[9]);
	assert_int_equal(o[9][0], 0);
	assert_int_equal(o[9][SZ - 1], 0);
	assert_ptr_equal(tw_pool_get(p), o[5]);
	assert_null(tw_pool_get(p));
	tw_pool_get_stats(p, &st);
	assert_int_equal(st.refused, 3);
	assert_int_equal(st.puts, 2);
	tw_pool_free(p);
}

static void test_bad_puts(void **state)
{
	struct tw_pool *p = tw_pool_new(SZ, 4);
	struct tw_pool_stats st;
	unsigned char *a, *b;
	unsigned char local[64];

	assert_non_null(p);
	a = tw_pool_get(p);
	b = tw_pool_get(p);
	assert_int_equal(tw_pool_put(p, a), 0);
	assert_int_equal(tw_pool_put(p, a), -EINVAL);     /* double put */
	assert_int_equal(tw_pool_put(p, b + 1), -EINVAL); /* inside an object */
	assert_int_equal(tw_pool_put(p, local), -EINVAL); /* foreign */
	assert_int_equal(tw_pool_put(p, NULL), -EINVAL);
	assert_int_equal(tw_pool_put(p, b + 16 * 4 * 4), -EINVAL); /* past the end */
	tw_pool_get_stats(p, &st);
	assert_int_equal(st.bad_puts, 5);
	assert_int_equal(st.puts, 1);
	assert_int_equal(tw_pool_in_use(p), 1);
	assert_true(tw_pool_owns(p, b));
	assert_false(tw_pool_owns(p, b + 1));
	/* the free list is intact: 3 gets succeed, the 4th is refused */
	assert_non_null(tw_pool_get(p));
	assert_non_null(tw_pool_get(p));
	assert_non_null(tw_pool_get(p));
	assert_null(tw_pool_get(p));
	assert_int_equal(tw_pool_in_use(p), 4);
	tw_pool_free(p);
	tw_pool_free(NULL);
}

static void test_bad_args(void **state)
{
	errno = 0;
	assert_null(tw_pool_new(0, 4));
	assert_int_equal(errno, EINVAL);
	errno = 0;
	assert_null(tw_pool_new(8, 0));
	assert_int_equal(errno, EINVAL);
	errno = 0;
	assert_null(tw_pool_new(1 << 20, SIZE_MAX / 1024));
	assert_int_equal(errno, ENOMEM);
}

static void test_walk_live(void **state)
{
	struct tw_pool *p = tw_pool_new(sizeof(int), 100);
	int *o[100], live = 0;

	assert_non_null(p);
	for (int i = 0; i < 100; i++) {
		o[i] = tw_pool_get(p);
		*o[i] = i;
	}
	for (int i = 0; i < 100; i += 3)
		assert_int_equal(tw_pool_put(p, o[i]), 0);
	for (size_t i = 0; i < tw_pool_capacity(p); i++) {
		int *x = tw_pool_at(p, i);
		if (i % 3 == 0) {
			assert_null(x);
			continue;
		}
		assert_ptr_equal(x, o[i]);
		assert_int_equal(*x, (int)i);
		live++;
	}
	assert_int_equal(live, 66);
	assert_int_equal(tw_pool_in_use(p), 66);
	assert_null(tw_pool_at(p, 100));
	tw_pool_free(p);
}

static void test_random_vs_reference(void **state)
{
	enum { M = 500 };
	struct tw_pool *p = tw_pool_new(24, M);
	struct tw_pool_stats st;
	uint64_t *held[M];
	size_t n = 0, refused = 0;

	assert_non_null(p);
	rng_state = 31337;
	for (int op = 0; op < 100000; op++) {
		if (rng() % 2) {
			uint64_t *x = tw_pool_get(p);
			if (n == M) {
				assert_null(x);
				refused++;
				continue;
			}
			assert_non_null(x);
			assert_int_equal(x[0] | x[1] | x[2], 0);
			x[0] = x[2] = (uint64_t)(uintptr_t)x; /* a tag to check later */
			held[n++] = x;
		} else if (n > 0) {
			size_t i = rng() % n;
			assert_int_equal(held[i][0], (uint64_t)(uintptr_t)held[i]);
			assert_int_equal(held[i][2], (uint64_t)(uintptr_t)held[i]);
			assert_int_equal(tw_pool_put(p, held[i]), 0);
			held[i] = held[--n];
		}
		assert_int_equal(tw_pool_in_use(p), n);
	}
	tw_pool_get_stats(p, &st);
	assert_int_equal(st.refused, refused);
	assert_int_equal(st.bad_puts, 0);
	assert_int_equal(st.gets - st.puts, n);
	tw_pool_free(p);
}

/* stats.h: a counter table sums per-thread copies and finds rows by name. */
static const struct tw_stat_desc pool_stat_desc[] = {
	TW_STAT(struct tw_pool_stats, gets),
	TW_STAT(struct tw_pool_stats, puts),
	TW_STAT(struct tw_pool_stats, refused),
	TW_STAT(struct tw_pool_stats, bad_puts),
	TW_STAT(struct tw_pool_stats, max_in_use),
};

static void test_stats_table(void **state)
{
	struct tw_pool *a = tw_pool_new(8, 2), *b = tw_pool_new(8, 3);
	struct tw_pool_stats sa, sb, sum = {0};
	const struct tw_stat_desc *d;

	assert_non_null(a);
	assert_non_null(b);
	for (int i = 0; i < 4; i++) {
		(void)tw_pool_get(a);
		(void)tw_pool_get(b);
	}
	tw_pool_get_stats(a, &sa);
	tw_pool_get_stats(b, &sb);
	tw_stats_add(&sum, &sa, pool_stat_desc, TW_STAT_COUNT(pool_stat_desc));
	tw_stats_add(&sum, &sb, pool_stat_desc, TW_STAT_COUNT(pool_stat_desc));
	assert_int_equal(sum.gets, 5);
	assert_int_equal(sum.refused, 3);
	assert_int_equal(sum.max_in_use, 5);
	assert_int_equal(sum.puts, 0);
	d = tw_stat_find(pool_stat_desc, TW_STAT_COUNT(pool_stat_desc), "refused");
	assert_non_null(d);
	assert_int_equal(tw_stat_get(&sum, d), 3);
	assert_null(tw_stat_find(pool_stat_desc, TW_STAT_COUNT(pool_stat_desc), "nope"));
	tw_pool_free(a);
	tw_pool_free(b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_exhaustion),
		cmocka_unit_test(test_bad_puts),
		cmocka_unit_test(test_bad_args),
		cmocka_unit_test(test_walk_live),
		cmocka_unit_test(test_random_vs_reference),
		cmocka_unit_test(test_stats_table),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
