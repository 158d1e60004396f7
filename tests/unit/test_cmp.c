/*
 * test_cmp.c - response comparison (src/copy/cmp.c): exchanges cut at the
 * recorded ACKs on production's side and at the releases on the target's,
 * matches, differences (length, bytes, status line), incomplete captures not
 * judged, retransmitted and overlapping server segments, the pending limit.
 */
#include "copy/cmp.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

static const char R0[] = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi";
static const char R1[] = "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n";

/* production: SYN-ACK at 1000, request 0 with ack 1001, reply R0, request 1
 * with ack 1001 + len(R0), reply R1, FIN with the last ack */
static void production(struct tw_cmp *m)
{
	uint32_t s = 1000, a;

	tw_cmp_server(m, s, true, NULL, 0);
	tw_cmp_client(m, s + 1);
	tw_cmp_server(m, s + 1, false, (const uint8_t *)R0, 10);
	tw_cmp_server(m, s + 11, false, (const uint8_t *)R0 + 10, sizeof(R0) - 1 - 10);
	a = s + 1 + (uint32_t)(sizeof(R0) - 1);
	tw_cmp_client(m, a);
	tw_cmp_server(m, a, false, (const uint8_t *)R1, sizeof(R1) - 1);
	tw_cmp_client(m, a + (uint32_t)(sizeof(R1) - 1));
}

static void test_match(void **state)
{
	struct tw_cmp m;
	struct tw_cmp_result r;

	(void)state;
	tw_cmp_init(&m);
	production(&m);
	tw_cmp_target(&m, (const uint8_t *)R0, 5);
	tw_cmp_target(&m, (const uint8_t *)R0 + 5, sizeof(R0) - 1 - 5);
	assert_true(tw_cmp_target_cut(&m, &r));
	assert_int_equal(r.index, 0);
	assert_true(r.judged);
	assert_true(r.match);
	assert_string_equal(r.prod.status, "HTTP/1.1 200 OK");
	assert_string_equal(r.tgt.status, "HTTP/1.1 200 OK");
	assert_int_equal(r.prod.len, sizeof(R0) - 1);
	tw_cmp_target(&m, (const uint8_t *)R1, sizeof(R1) - 1);
	assert_true(tw_cmp_target_cut(&m, &r));
	assert_int_equal(r.index, 1);
	assert_true(r.match);
	assert_string_equal(r.tgt.status, "HTTP/1.1 404 Not Found");
	/* nothing more on production's side */
	assert_false(tw_cmp_target_cut(&m, &r));
}

static void test_differ(void **state)
{
	struct tw_cmp m;
	struct tw_cmp_result r;
	char other[sizeof(R0)];

	(void)state;
	tw_cmp_init(&m);
	production(&m);
	memcpy(other, R0, sizeof(R0));
	other[9] = '5'; /* HTTP/1.1 500 */
	tw_cmp_target(&m, (const uint8_t *)other, sizeof(other) - 1);
	assert_true(tw_cmp_target_cut(&m, &r));
	assert_true(r.judged);
	assert_false(r.match);
	assert_int_equal(r.prod.len, r.tgt.len);
	assert_string_equal(r.tgt.status, "HTTP/1.1 500 OK");
	/* a shorter reply differs too */
	tw_cmp_target(&m, (const uint8_t *)R1, 10);
	assert_true(tw_cmp_target_cut(&m, &r));
	assert_false(r.match);
	assert_int_equal(r.tgt.len, 10);
	assert_string_equal(r.tgt.status, "HTTP/1.1 4"); /* as far as it came */
}

static void test_retransmit_and_hole(void **state)
{
	struct tw_cmp m;
	struct tw_cmp_result r;

	(void)state;
	tw_cmp_init(&m);
	tw_cmp_server(&m, 1000, true, NULL, 0);
	tw_cmp_client(&m, 1001);
	tw_cmp_server(&m, 1001, false, (const uint8_t *)R0, 20);
	/* a retransmission overlapping what was seen adds only the new tail */
	tw_cmp_server(&m, 1011, false, (const uint8_t *)R0 + 10, sizeof(R0) - 1 - 10);
	tw_cmp_client(&m, 1001 + (uint32_t)(sizeof(R0) - 1));
	tw_cmp_target(&m, (const uint8_t *)R0, sizeof(R0) - 1);
	assert_true(tw_cmp_target_cut(&m, &r));
	assert_true(r.judged && r.match);

	/* a hole in the captured reply: not judged */
	tw_cmp_server(&m, 1001 + (uint32_t)(sizeof(R0) - 1) + 5, false, (const uint8_t *)R1, 10);
	tw_cmp_client(&m, 1001 + (uint32_t)(sizeof(R0) - 1) + 15);
	tw_cmp_target(&m, (const uint8_t *)R1, 15);
	assert_true(tw_cmp_target_cut(&m, &r));
	assert_false(r.judged);
}

static void test_no_server_side(void **state)
{
	struct tw_cmp m;
	struct tw_cmp_result r;

	(void)state;
	/* the capture has only the client's direction: nothing is judged */
	tw_cmp_init(&m);
	tw_cmp_client(&m, 5000);
	tw_cmp_client(&m, 5100);
	tw_cmp_target(&m, (const uint8_t *)R0, 10);
	assert_true(tw_cmp_target_cut(&m, &r));
	assert_false(r.judged);
}

static void test_pending_limit(void **state)
{
	struct tw_cmp m;
	struct tw_cmp_result r;
	uint32_t ack = 1;

	(void)state;
	tw_cmp_init(&m);
	tw_cmp_server(&m, 0, true, NULL, 0);
	tw_cmp_client(&m, ack);
	/* more production exchanges than can wait for the target's */
	for (int i = 0; i < TW_CMP_PENDING + 4; i++) {
		tw_cmp_server(&m, ack, false, (const uint8_t *)"x", 1);
		ack++;
		tw_cmp_client(&m, ack);
	}
	assert_int_equal(m.overflow, 4);
	/* exchanges 0..3 are gone: the first cuts find nothing; then 4.. match */
	for (int i = 0; i < 4; i++) {
		tw_cmp_target(&m, (const uint8_t *)"x", 1);
		assert_false(tw_cmp_target_cut(&m, &r));
	}
	tw_cmp_target(&m, (const uint8_t *)"x", 1);
	assert_true(tw_cmp_target_cut(&m, &r));
	assert_int_equal(r.index, 4);
	assert_true(r.match);
}

/* raw mode: the target's side known by its length and first bytes */
static void test_partial(void **state)
{
	struct tw_cmp m;
	struct tw_cmp_result r;
	char other[sizeof(R1)];

	(void)state;
	tw_cmp_init(&m);
	production(&m);
	tw_cmp_target_part(&m, (const uint8_t *)R0, 20, sizeof(R0) - 1);
	assert_true(tw_cmp_target_cut(&m, &r));
	assert_true(r.judged);
	assert_true(r.tgt.nohash);
	assert_true(r.match); /* same length, same status line */
	/* same length, another status: differs */
	memcpy(other, R1, sizeof(R1));
	other[9] = '5';
	tw_cmp_target_part(&m, (const uint8_t *)other, 12, sizeof(R1) - 1);
	assert_true(tw_cmp_target_cut(&m, &r));
	assert_false(r.match);
	assert_string_equal(r.tgt.status, "HTTP/1.1 504");
	/* a hole in the target's reply: not judged */
	tw_cmp_init(&m);
	production(&m);
	tw_cmp_target_part(&m, (const uint8_t *)R0, 20, sizeof(R0) - 1);
	tw_cmp_target_broken(&m);
	assert_true(tw_cmp_target_cut(&m, &r));
	assert_false(r.judged);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_match),
		cmocka_unit_test(test_differ),
		cmocka_unit_test(test_retransmit_and_hole),
		cmocka_unit_test(test_no_server_side),
		cmocka_unit_test(test_pending_limit),
		cmocka_unit_test(test_partial),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
