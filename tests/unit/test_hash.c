/*
 * test_hash.c - unit tests of src/core/hash.c: SipHash-2-4 against the
 * paper's reference vectors, seeded determinism, flow-key layout, refusal
 * and counting when full, iteration (each entry exactly once, also while
 * removing), and 100 000 random insert/remove/lookup operations at the
 * table's maximum load checked against a plain reference array.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>

#include <cmocka.h>

#include "core/hash.h"

static uint64_t rng_state;
static uint64_t rng(void)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 0x2545f4914f6cdd1dULL;
}

/* SipHash-2-4, key 00 01 .. 0f, message 00 01 .. (n-1): the reference
 * vectors of the SipHash paper / reference implementation (vectors.h). */
static void test_siphash24_vectors(void **state)
{
	static const struct {
		size_t len;
		uint64_t want;
	} v[] = {
		{0, 0x726fdb47dd0e0e31ULL},  {1, 0x74f839c593dc67fdULL},
		{2, 0x0d6c8009d9a94f5aULL},  {7, 0xab0200f58b01d137ULL},
		{8, 0x93f5f5799a932462ULL},  {9, 0x9e0082df0ba9e4b0ULL},
		{15, 0xa129ca6149be45e5ULL}, {16, 0x3f2acc7f57c29bdbULL},
	};
	uint8_t key[16], msg[64];

	for (int i = 0; i < 16; i++)
		key[i] = (uint8_t)i;
	for (int i = 0; i < 64; i++)
		msg[i] = (uint8_t)i;
	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++)
		assert_int_equal(tw_siphash(2, 4, key, msg, v[i].len), v[i].want);
	/* 1-3 differs from 2-4 and depends on every byte and the length */
	assert_int_not_equal(tw_siphash(1, 3, key, msg, 15), tw_siphash(2, 4, key, msg, 15));
	assert_int_not_equal(tw_siphash(1, 3, key, msg, 15), tw_siphash(1, 3, key, msg, 16));
	msg[14] ^= 1;
	assert_int_not_equal(tw_siphash(2, 4, key, msg, 15), 0xa129ca6149be45e5ULL);
}

static void test_flow_key_layout(void **state)
{
	static const uint8_t a4[4] = {10, 0, 0, 1}, b4[4] = {10, 0, 0, 2};
	uint8_t a6[16] = {0}, b6[16] = {0};
	struct tw_flow_key k4, k6;

	tw_flow_key_v4(&k4, a4, 1234, b4, 80);
	static const uint8_t mapped[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 10, 0, 0, 1};
	assert_memory_equal(k4.saddr, mapped, 16);
	assert_int_equal(k4.daddr[15], 2);
	assert_int_equal(k4.sport, 1234);
	assert_int_equal(k4.dport, 80);
	assert_int_equal(k4.family, 4);
	/* the same bytes as IPv6 are another key (family differs) */
	memcpy(a6, mapped, 16);
	memcpy(b6, k4.daddr, 16);
	tw_flow_key_v6(&k6, a6, 1234, b6, 80);
	assert_int_equal(k6.family, 6);
	assert_memory_not_equal(&k4, &k6, sizeof(k4));
	k6.family = 4;
	assert_memory_equal(&k4, &k6, sizeof(k4));
}

static void test_seed_determinism(void **state)
{
	struct tw_hash *a = tw_hash_new(sizeof(uint32_t), 10, 42);
	struct tw_hash *b = tw_hash_new(sizeof(uint32_t), 10, 42);
	struct tw_hash *c = tw_hash_new(sizeof(uint32_t), 10, 43);
	int same_c = 0;

	assert_non_null(a);
	assert_non_null(b);
	assert_non_null(c);
	for (uint32_t k = 0; k < 100; k++) {
		assert_int_equal(tw_hash_key(a, &k), tw_hash_key(b, &k));
		same_c += tw_hash_key(a, &k) == tw_hash_key(c, &k);
		assert_int_not_equal(tw_hash_key(a, &k), 0);
	}
	assert_int_equal(same_c, 0);
	tw_hash_free(a);
	tw_hash_free(b);
	tw_hash_free(c);
}

static void test_bad_args(void **state)
{
	errno = 0;
	assert_null(tw_hash_new(0, 10, 1));
	assert_int_equal(errno, EINVAL);
	errno = 0;
	assert_null(tw_hash_new(8, 0, 1));
	assert_int_equal(errno, EINVAL);
	assert_null(tw_hash_new(257, 10, 1));
	tw_hash_free(NULL);
}

static void test_full_refuses_and_counts(void **state)
{
	struct tw_hash *h = tw_hash_new(sizeof(uint64_t), 100, 7);
	struct tw_hash_stats st;
	uint64_t k;
	void *v;

	assert_non_null(h);
	assert_int_equal(tw_hash_capacity(h), 100);
	assert_true(tw_hash_slots(h) * 3 >= 100 * 4); /* load <= 3/4 */
	for (k = 0; k < 100; k++)
		assert_int_equal(tw_hash_insert(h, &k, (void *)(uintptr_t)(k + 1)), 0);
	k = 100;
	assert_int_equal(tw_hash_insert(h, &k, NULL), -ENOSPC);
	k = 101;
	assert_int_equal(tw_hash_insert(h, &k, NULL), -ENOSPC);
	k = 5; /* present: -EEXIST even when full, value unchanged */
	assert_int_equal(tw_hash_insert(h, &k, NULL), -EEXIST);
	assert_ptr_equal(tw_hash_lookup(h, &k), (void *)6);
	tw_hash_get_stats(h, &st);
	assert_int_equal(st.refused_full, 2);
	assert_int_equal(st.exists, 1);
	assert_int_equal(st.inserts, 100);
	assert_int_equal(st.max_count, 100);
	assert_int_equal(tw_hash_count(h), 100);
	/* a removal makes room for exactly one */
	assert_int_equal(tw_hash_remove(h, &k, &v), 0);
	assert_ptr_equal(v, (void *)6);
	assert_int_equal(tw_hash_remove(h, &k, &v), -ENOENT);
	k = 100;
	assert_int_equal(tw_hash_insert(h, &k, NULL), 0);
	k = 101;
	assert_int_equal(tw_hash_insert(h, &k, NULL), -ENOSPC);
	/* NULL values are told apart from absence by tw_hash_find */
	k = 100;
	v = (void *)1;
	assert_true(tw_hash_find(h, &k, &v));
	assert_null(v);
	k = 5;
	assert_false(tw_hash_find(h, &k, NULL));
	tw_hash_get_stats(h, &st);
	assert_int_equal(st.refused_full, 3);
	tw_hash_clear(h);
	assert_int_equal(tw_hash_count(h), 0);
	k = 100;
	assert_null(tw_hash_lookup(h, &k));
	tw_hash_free(h);
}

/* Random ops on flow keys at the highest load the table allows. The
 * reference is an array indexed by key number: present flag and value. */
#define UNIVERSE 1500
#define CAP 768 /* 768 + 768/3 = 1024 slots: load 3/4 when full */

static struct tw_flow_key ukey[UNIVERSE];

static void make_keys(void)
{
	for (int i = 0; i < UNIVERSE; i++) {
		uint8_t a[16], b[16];
		for (int j = 0; j < 16; j++) {
			a[j] = (uint8_t)rng();
			b[j] = (uint8_t)rng();
		}
		if (i % 2) {
			tw_flow_key_v4(&ukey[i], a, (uint16_t)rng(), b, 80);
		} else {
			tw_flow_key_v6(&ukey[i], a, (uint16_t)rng(), b, 443);
		}
		/* keep them distinct: the index goes in the source port bits */
		ukey[i].sport = (uint16_t)i;
	}
}

static void check_all(struct tw_hash *h, const bool *present, void *const *val)
{
	size_t n = 0;
	struct tw_hash_iter it;
	const void *k;
	void *v;
	int seen[UNIVERSE] = {0};

	for (int i = 0; i < UNIVERSE; i++) {
		void *got = NULL;
		assert_int_equal(tw_hash_find(h, &ukey[i], &got), present[i]);
		if (present[i]) {
			assert_ptr_equal(got, val[i]);
			n++;
		}
	}
	assert_int_equal(tw_hash_count(h), n);
	/* iteration: every entry exactly once, with its value */
	tw_hash_iter_init(h, &it);
	while (tw_hash_iter_next(h, &it, &k, &v)) {
		const struct tw_flow_key *fk = k;
		int i = fk->sport;
		assert_true(i < UNIVERSE);
		assert_memory_equal(fk, &ukey[i], sizeof(*fk));
		assert_true(present[i]);
		assert_ptr_equal(v, val[i]);
		seen[i]++;
	}
	for (int i = 0; i < UNIVERSE; i++)
		assert_int_equal(seen[i], present[i] ? 1 : 0);
}

static void test_random_vs_reference(void **state)
{
	static bool present[UNIVERSE];
	static void *val[UNIVERSE];
	struct tw_hash *h;
	struct tw_hash_stats st;
	size_t count = 0, full = 0, hits = 0;

	rng_state = 0x9e3779b97f4a7c15ULL;
	make_keys();
	memset(present, 0, sizeof(present));
	h = tw_hash_new(sizeof(struct tw_flow_key), CAP, 12345);
	assert_non_null(h);
	assert_int_equal(tw_hash_slots(h), 1024);

	for (int op = 0; op < 100000; op++) {
		uint64_t r = rng();
		int i = (int)((r >> 16) % UNIVERSE);
		void *nv = (void *)(uintptr_t)(rng() | 1);
		void *got;
		int rc;

		switch (r % 3) {
		case 0:
			rc = tw_hash_insert(h, &ukey[i], nv);
			if (present[i]) {
				assert_int_equal(rc, -EEXIST);
			} else if (count == CAP) {
				assert_int_equal(rc, -ENOSPC);
				full++;
			} else {
				assert_int_equal(rc, 0);
				present[i] = true;
				val[i] = nv;
				count++;
			}
			break;
		case 1:
			got = NULL;
			rc = tw_hash_remove(h, &ukey[i], &got);
			if (present[i]) {
				assert_int_equal(rc, 0);
				assert_ptr_equal(got, val[i]);
				present[i] = false;
				count--;
			} else {
				assert_int_equal(rc, -ENOENT);
			}
			break;
		default:
			got = tw_hash_lookup(h, &ukey[i]);
			assert_ptr_equal(got, present[i] ? val[i] : NULL);
			hits += present[i];
			break;
		}
		assert_int_equal(tw_hash_count(h), count);
		if (op % 5000 == 0)
			check_all(h, present, val);
	}
	check_all(h, present, val);
	tw_hash_get_stats(h, &st);
	assert_int_equal(st.refused_full, full);
	assert_int_equal(st.max_count, CAP);
	/* the run must have exercised fullness and hits */
	assert_true(full > 100);
	assert_true(hits > 10000);
	tw_hash_free(h);
}

/* Removing while iterating: every entry is still seen exactly once, the
 * removed ones are gone, the others stay. Run at full load so probe runs
 * are long and some wrap around the end of the slot array. */
static void test_iter_remove(void **state)
{
	static bool present[UNIVERSE];
	static void *val[UNIVERSE];
	struct tw_hash *h;

	rng_state = 77;
	make_keys();
	for (int round = 0; round < 20; round++) {
		int seen[UNIVERSE] = {0};
		struct tw_hash_iter it;
		const void *k;
		void *v;
		size_t before, removed = 0;

		memset(present, 0, sizeof(present));
		h = tw_hash_new(sizeof(struct tw_flow_key), CAP, (uint64_t)round);
		assert_non_null(h);
		for (int i = 0; i < UNIVERSE && tw_hash_count(h) < CAP; i++) {
			val[i] = (void *)(uintptr_t)(i + 1);
			assert_int_equal(tw_hash_insert(h, &ukey[i], val[i]), 0);
			present[i] = true;
		}
		before = tw_hash_count(h);
		tw_hash_iter_init(h, &it);
		while (tw_hash_iter_next(h, &it, &k, &v)) {
			int i = ((const struct tw_flow_key *)k)->sport;
			seen[i]++;
			assert_ptr_equal(v, val[i]);
			if ((rng() % 3) != 0 || round == 0) { /* round 0: remove all */
				tw_hash_iter_remove(h, &it);
				tw_hash_iter_remove(h, &it); /* twice: no-op */
				present[i] = false;
				removed++;
			}
		}
		for (int i = 0; i < UNIVERSE; i++)
			assert_int_equal(seen[i], (i < (int)before) ? 1 : 0);
		assert_int_equal(tw_hash_count(h), before - removed);
		check_all(h, present, val);
		if (round == 0)
			assert_int_equal(tw_hash_count(h), 0);
		tw_hash_free(h);
	}
}

static void test_empty_iter(void **state)
{
	struct tw_hash *h = tw_hash_new(4, 1, 0);
	struct tw_hash_iter it;
	uint32_t k = 9;
	const void *kp;
	void *v;

	assert_non_null(h);
	tw_hash_iter_init(h, &it);
	assert_false(tw_hash_iter_next(h, &it, &kp, &v));
	assert_int_equal(tw_hash_insert(h, &k, &k), 0);
	assert_int_equal(tw_hash_insert(h, &k, &k), -EEXIST);
	k = 10;
	assert_int_equal(tw_hash_insert(h, &k, &k), -ENOSPC);
	tw_hash_iter_init(h, &it);
	assert_true(tw_hash_iter_next(h, &it, &kp, &v));
	assert_int_equal(*(const uint32_t *)kp, 9);
	assert_false(tw_hash_iter_next(h, &it, &kp, &v));
	tw_hash_free(h);
}

/* A table big enough for the huge-page path (14 MB of slots) fills to its
 * capacity exactly, then refuses. */
static void test_large_table(void **state)
{
	enum { BIG = 100000 };
	struct tw_hash *h = tw_hash_new(sizeof(uint64_t), BIG, 99);
	struct tw_hash_stats st;
	uint64_t k;

	assert_non_null(h);
	assert_int_equal(tw_hash_slots(h), 262144);
	for (k = 0; k < BIG; k++)
		assert_int_equal(tw_hash_insert(h, &k, (void *)(uintptr_t)(k * 2 + 1)), 0);
	assert_int_equal(tw_hash_insert(h, &k, NULL), -ENOSPC);
	for (k = 0; k < BIG; k += 97)
		assert_ptr_equal(tw_hash_lookup(h, &k), (void *)(uintptr_t)(k * 2 + 1));
	tw_hash_get_stats(h, &st);
	/* linear probing at load 0.38: a few probes per operation on average */
	assert_true(st.probes < 3 * (st.inserts + st.lookups + 1));
	tw_hash_free(h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_siphash24_vectors),
		cmocka_unit_test(test_flow_key_layout),
		cmocka_unit_test(test_seed_determinism),
		cmocka_unit_test(test_bad_args),
		cmocka_unit_test(test_full_refuses_and_counts),
		cmocka_unit_test(test_random_vs_reference),
		cmocka_unit_test(test_iter_remove),
		cmocka_unit_test(test_empty_iter),
		cmocka_unit_test(test_large_table),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
