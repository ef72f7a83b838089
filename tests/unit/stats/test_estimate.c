/* Estimators on synthetic series with known answers. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <math.h>

#include "stats/stats.h"

static void test_decay_exact_exponential(void **state)
{
	double t[20], y[20];
	for (int i = 0; i < 20; i++) {
		t[i] = i;
		y[i] = 10000 * exp(-log(2) / 5.0 * i); /* half-life 5 days */
	}
	struct stats_decay d;
	stats_fit_decay(t, y, 20, 100, &d);
	assert_true(d.ok);
	assert_true(fabs(d.half_life - 5.0) < 1e-6);
	assert_true(fabs(d.n0 - 10000) < 1e-3);
	/* 10000 -> 100 takes log2(100) = 6.64 half-lives = 33.2 days. */
	assert_true(fabs(d.below_days - 5.0 * log2(100)) < 1e-6);
	assert_true(d.r2 > 0.999999);
	assert_true(d.hl_lo <= 5.0 + 1e-6 && d.hl_hi >= 5.0 - 1e-6);
}

static void test_decay_noisy_interval_covers(void **state)
{
	/* Multiplicative noise of +-5%: the interval must hold the truth in
	 * most of many trials, and be finite. */
	unsigned covered = 0, trials = 200;
	uint64_t r = 12345;
	for (unsigned k = 0; k < trials; k++) {
		double t[14], y[14];
		for (int i = 0; i < 14; i++) {
			r = r * 6364136223846793005ull + 1442695040888963407ull;
			double u = (double)(r >> 11) / 9007199254740992.0;
			t[i] = i;
			y[i] = 5000 * exp(-log(2) / 10.0 * i) * (0.95 + 0.1 * u);
		}
		struct stats_decay d;
		stats_fit_decay(t, y, 14, 0, &d);
		assert_true(d.ok);
		assert_true(isfinite(d.hl_hi));
		covered += d.hl_lo <= 10.0 && d.hl_hi >= 10.0;
	}
	printf("  95%% interval covered the true half-life in %u of %u trials\n", covered, trials);
	assert_true(covered >= trials * 85 / 100);
}

static void test_decay_not_shrinking(void **state)
{
	double t[5] = {0, 1, 2, 3, 4}, y[5] = {100, 110, 120, 130, 140};
	struct stats_decay d;
	stats_fit_decay(t, y, 5, 10, &d);
	assert_true(d.ok);
	assert_true(d.lambda < 0);
	assert_true(isinf(d.half_life));
	assert_true(isinf(d.below_days));
	double t2[2] = {0, 1}, y2[2] = {5, 4};
	stats_fit_decay(t2, y2, 2, 0, &d);
	assert_false(d.ok); /* two points: no interval, no fit */
}

static void test_chapman_known(void **state)
{
	/* Textbook: n1 = 200, n2 = 150, m = 30 -> (201 * 151 / 31) - 1. */
	struct stats_chapman c;
	stats_chapman(200, 150, 30, &c);
	assert_true(fabs(c.estimate - (201.0 * 151.0 / 31.0 - 1)) < 1e-9);
	double var = 201.0 * 151.0 * 170.0 * 120.0 / (31.0 * 31.0 * 32.0);
	assert_true(fabs(c.se - sqrt(var)) < 1e-9);
	assert_true(c.lo >= 320 && c.hi > c.estimate);
	assert_true(fabs(c.unseen - (c.estimate - 320)) < 1e-9);
	/* Everybody seen twice: the population is what was seen. */
	stats_chapman(100, 100, 100, &c);
	assert_true(fabs(c.estimate - 100) < 1e-9);
	assert_true(c.se == 0);
}

static void test_live_by_id_and_corrected(void **state)
{
	struct stats_day days[3];
	struct stats_live_pop p;
	/* Every source showed an id: the ids are the answer. */
	days[0] = (struct stats_day){
	    .day = 0, .sources = 80, .bots = 100, .id_sources = 80, .pairs = 120};
	stats_estimate_live(days, 1, 0, &p);
	assert_true(p.by_id);
	assert_true(p.estimate == 100 && p.lo == 100 && p.hi == 100);
	double apid, ipad;
	stats_churn_nat(&days[0], &apid, &ipad);
	assert_true(fabs(apid - 1.2) < 1e-12 && fabs(ipad - 1.5) < 1e-12);
	/* 3 days with r = ids / id-sources = 0.8; 500 sources without ids
	 * -> 400 more bots. */
	for (int i = 0; i < 3; i++)
		days[i] = (struct stats_day){.day = (uint32_t)i * 86400,
					     .sources = 1000,
					     .bots = 400,
					     .id_sources = 500,
					     .pairs = 600};
	stats_estimate_live(days, 3, 2, &p);
	assert_false(p.by_id);
	assert_true(fabs(p.bots_per_source - 0.8) < 1e-12);
	assert_true(fabs(p.estimate - 800) < 1e-9);
	assert_true(p.lo <= 800 && p.hi >= 800 && p.hi - p.lo < 80);
	/* No ids in this family, but in the pool (all families): r = 0.8 from
	 * there, flagged. */
	struct stats_day fam[3];
	for (int i = 0; i < 3; i++)
		fam[i] = (struct stats_day){.day = (uint32_t)i * 86400, .sources = 250};
	stats_estimate_live_pooled(fam, 3, 2, days, &p);
	assert_true(p.pooled_factor && !p.no_factor);
	assert_true(fabs(p.estimate - 200) < 1e-9);
	/* No ids anywhere: the bare address count, flagged. */
	struct stats_day none = {.day = 0, .sources = 300};
	stats_estimate_live(&none, 1, 0, &p);
	assert_true(p.no_factor);
	assert_true(p.estimate == 300);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_decay_exact_exponential),
	    cmocka_unit_test(test_decay_noisy_interval_covers),
	    cmocka_unit_test(test_decay_not_shrinking),
	    cmocka_unit_test(test_chapman_known),
	    cmocka_unit_test(test_live_by_id_and_corrected),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
