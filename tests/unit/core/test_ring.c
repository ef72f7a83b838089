#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <string.h>

#include "core/error.h"
#include "core/ring.h"

static void test_push_pop_order(void **state)
{
	struct ring *r = ring_new(8, sizeof(uint64_t));
	assert_non_null(r);
	uint64_t v;
	assert_int_equal(ring_pop(r, &v), SINKD_EAGAIN);
	/* Several laps so the indices wrap around the slots. */
	for (uint64_t lap = 0; lap < 5; lap++) {
		for (uint64_t i = 0; i < 6; i++) {
			v = lap * 100 + i;
			assert_int_equal(ring_push(r, &v), 0);
		}
		assert_int_equal(ring_count(r), 6);
		for (uint64_t i = 0; i < 6; i++) {
			assert_int_equal(ring_pop(r, &v), 0);
			assert_int_equal(v, lap * 100 + i);
		}
		assert_int_equal(ring_count(r), 0);
		assert_int_equal(ring_pop(r, &v), SINKD_EAGAIN);
	}
	ring_free(r);
}

static void test_full(void **state)
{
	struct ring *r = ring_new(4, sizeof(uint32_t));
	assert_non_null(r);
	uint32_t v;
	for (v = 0; v < 4; v++)
		assert_int_equal(ring_push(r, &v), 0);
	v = 99;
	assert_int_equal(ring_push(r, &v), SINKD_EFULL);
	assert_null(ring_reserve(r));
	assert_int_equal(ring_count(r), 4);

	/* The failed push changed nothing; one pop makes room for one. */
	assert_int_equal(ring_pop(r, &v), 0);
	assert_int_equal(v, 0);
	v = 4;
	assert_int_equal(ring_push(r, &v), 0);
	assert_int_equal(ring_push(r, &v), SINKD_EFULL);
	for (uint32_t want = 1; want <= 4; want++) {
		assert_int_equal(ring_pop(r, &v), 0);
		assert_int_equal(v, want);
	}
	ring_free(r);
}

static void test_reserve_commit(void **state)
{
	struct ring *r = ring_new(2, 16);
	assert_non_null(r);
	char *slot = ring_reserve(r);
	assert_non_null(slot);
	/* Nothing is visible before the commit. */
	assert_int_equal(ring_count(r), 0);
	memcpy(slot, "0123456789abcdef", 16);
	ring_commit(r);
	assert_int_equal(ring_count(r), 1);
	char out[16];
	assert_int_equal(ring_pop(r, out), 0);
	assert_memory_equal(out, "0123456789abcdef", 16);
	ring_free(r);
}

static void test_capacity_rounding(void **state)
{
	static const size_t asked[] = {1, 2, 3, 5, 8, 1000, 1024, 1025, 65536};
	static const size_t got[] = {1, 2, 4, 8, 8, 1024, 1024, 2048, 65536};
	for (size_t i = 0; i < sizeof(asked) / sizeof(asked[0]); i++) {
		struct ring *r = ring_new(asked[i], 8);
		assert_non_null(r);
		assert_int_equal(ring_capacity(r), got[i]);
		/* Exactly capacity records fit. */
		uint64_t v = 0;
		for (size_t n = 0; n < got[i]; n++)
			assert_int_equal(ring_push(r, &v), 0);
		assert_int_equal(ring_push(r, &v), SINKD_EFULL);
		ring_free(r);
	}
	ring_free(NULL);
}

#define N_RECORDS 1000000u

/* A record whose parts must agree, so a torn copy is detected. */
struct rec {
	uint64_t seq;
	uint64_t check;
	char pad[40];
};

static uint64_t check_of(uint64_t seq) { return seq * 0x9e3779b97f4a7c15ull ^ 0xdeadbeef; }

static void *producer(void *arg)
{
	struct ring *r = arg;
	struct rec rec;
	memset(&rec, 0, sizeof(rec));
	for (uint64_t seq = 0; seq < N_RECORDS; seq++) {
		rec.seq = seq;
		rec.check = check_of(seq);
		memset(rec.pad, (int)(seq & 0x7f), sizeof(rec.pad));
		while (ring_push(r, &rec) == SINKD_EFULL)
			sched_yield();
	}
	return NULL;
}

static void test_two_threads(void **state)
{
	struct ring *r = ring_new(1024, sizeof(struct rec));
	assert_non_null(r);
	pthread_t t;
	assert_int_equal(pthread_create(&t, NULL, producer, r), 0);
	uint64_t want = 0, bad = 0;
	struct rec rec;
	while (want < N_RECORDS) {
		if (ring_pop(r, &rec) != 0) {
			sched_yield();
			continue;
		}
		if (rec.seq != want || rec.check != check_of(want) ||
		    rec.pad[0] != (char)(want & 0x7f) || rec.pad[39] != (char)(want & 0x7f))
			bad++;
		want++;
	}
	assert_int_equal(pthread_join(t, NULL), 0);
	assert_int_equal(bad, 0);
	assert_int_equal(ring_pop(r, &rec), SINKD_EAGAIN);
	ring_free(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_push_pop_order), cmocka_unit_test(test_full),
	    cmocka_unit_test(test_reserve_commit), cmocka_unit_test(test_capacity_rounding),
	    cmocka_unit_test(test_two_threads),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
