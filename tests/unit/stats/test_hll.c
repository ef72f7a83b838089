/* HyperLogLog: exact below the threshold, error within the documented
 * bound above it (0.81% standard error; asserted at 3 sigma), merge is
 * union, serialisation round-trips. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <math.h>

#include "core/error.h"
#include "stats/stats.h"

#define SIGMA (1.04 / 128.0)

static uint64_t item(uint64_t i)
{
	char buf[32];
	int n = snprintf(buf, sizeof(buf), "10.%llu", (unsigned long long)i);
	return hll_hash(buf, (size_t)n);
}

static void fill(struct hll *h, uint64_t from, uint64_t to)
{
	for (uint64_t i = from; i < to; i++)
		assert_int_equal(hll_add(h, item(i)), 0);
}

static void test_exact_below_threshold(void **state)
{
	struct hll h;
	hll_init(&h, 0);
	fill(&h, 0, 1000);
	fill(&h, 500, 1500); /* duplicates */
	assert_true(hll_is_exact(&h));
	assert_true(hll_count(&h) == 1500.0);
	fill(&h, 1500, HLL_SPARSE_MAX);
	assert_true(hll_is_exact(&h));
	assert_true(hll_count(&h) == (double)HLL_SPARSE_MAX);
	fill(&h, HLL_SPARSE_MAX, HLL_SPARSE_MAX + 1);
	assert_false(hll_is_exact(&h));
	hll_free(&h);
}

static void test_error_bound(void **state)
{
	static const uint64_t sizes[] = {3000, 10000, 50000, 200000, 1000000};
	for (size_t s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++) {
		struct hll h;
		hll_init(&h, 0);
		fill(&h, 1000000 * s, 1000000 * s + sizes[s]);
		double est = hll_count(&h), rel = fabs(est - (double)sizes[s]) / (double)sizes[s];
		printf("  hll: %7llu distinct -> estimate %9.1f (error %.3f%%, bound %.2f%%)\n",
		       (unsigned long long)sizes[s], est, rel * 100, 3 * SIGMA * 100);
		assert_true(rel < 3 * SIGMA);
		hll_free(&h);
	}
}

static void test_merge_is_union(void **state)
{
	/* exact + exact, exact + dense, dense + dense; overlapping sets */
	static const uint64_t a_to[] = {800, 900, 60000}, b_from[] = {400, 600, 30000},
			      b_to[] = {1200, 30000, 90000};
	for (int c = 0; c < 3; c++) {
		struct hll a, b, u;
		hll_init(&a, 0);
		hll_init(&b, 0);
		hll_init(&u, 0);
		fill(&a, 0, a_to[c]);
		fill(&b, b_from[c], b_to[c]);
		fill(&u, 0, b_to[c] > a_to[c] ? b_to[c] : a_to[c]);
		assert_int_equal(hll_merge(&a, &b), 0);
		double truth = (double)(b_to[c] > a_to[c] ? b_to[c] : a_to[c]);
		if (hll_is_exact(&a))
			assert_true(hll_count(&a) == truth);
		else
			assert_true(fabs(hll_count(&a) - truth) / truth < 3 * SIGMA);
		/* A merged sketch equals the sketch of the union once dense. */
		if (!hll_is_exact(&a) && !hll_is_exact(&u))
			assert_memory_equal(a.regs, u.regs, HLL_REGISTERS);
		hll_free(&a);
		hll_free(&b);
		hll_free(&u);
	}
}

static void test_serialize_roundtrip(void **state)
{
	static uint8_t buf[HLL_SERIAL_MAX];
	for (uint64_t n = 0; n < 20000; n = n * 4 + 7) {
		struct hll h, r;
		hll_init(&h, 0);
		hll_init(&r, 0);
		fill(&h, 0, n);
		size_t len = hll_serialize(&h, buf, sizeof(buf));
		assert_true(len > 0);
		assert_int_equal(hll_merge_serialized(&r, buf, len), 0);
		assert_true(hll_count(&r) == hll_count(&h));
		/* Merging the same data again changes nothing. */
		assert_int_equal(hll_merge_serialized(&r, buf, len), 0);
		assert_true(hll_count(&r) == hll_count(&h));
		hll_free(&h);
		hll_free(&r);
	}
}

static void test_serialize_rejects_garbage(void **state)
{
	struct hll h;
	hll_init(&h, 0);
	uint8_t junk[40] = "S\x01\x0e\x00\x04\x00\x00\x00";
	assert_int_equal(hll_merge_serialized(&h, junk, 3), SINKD_EINVAL);
	assert_int_equal(hll_merge_serialized(&h, junk, sizeof(junk)), SINKD_EINVAL); /* len */
	/* Four hashes, not increasing. */
	memset(junk + 8, 0, 32);
	assert_int_equal(hll_merge_serialized(&h, junk, sizeof(junk)), SINKD_EINVAL);
	junk[0] = 'D';
	assert_int_equal(hll_merge_serialized(&h, junk, sizeof(junk)), SINKD_EINVAL);
	assert_true(hll_count(&h) == 0.0);
	hll_free(&h);
}

static void test_seen_filter(void **state)
{
	struct stats_seen *s;
	assert_int_equal(stats_seen_new(&s, 1 << 20), 0);
	uint8_t key[16] = {0};
	unsigned fp = 0;
	for (uint32_t i = 0; i < 100000; i++) {
		memcpy(key, &i, 4);
		fp += stats_seen_check_add(s, key);
	}
	for (uint32_t i = 0; i < 100000; i++) {
		memcpy(key, &i, 4);
		assert_true(stats_seen_check_add(s, key));
	}
	/* 100k keys in 8 Mbit: ~84 bits each, false positives rare. */
	printf("  seen filter: %u false positives in 100000 new keys\n", fp);
	assert_true(fp < 100);
	stats_seen_free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_exact_below_threshold),
	    cmocka_unit_test(test_error_bound),
	    cmocka_unit_test(test_merge_is_union),
	    cmocka_unit_test(test_serialize_roundtrip),
	    cmocka_unit_test(test_serialize_rejects_garbage),
	    cmocka_unit_test(test_seen_filter),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
