/* Rollups in the store: cells upserted twice merge (counters add,
 * sketches union), IPv6 privacy addresses of one /64 are one source,
 * the seen filter is persisted, and `sinkd rollup rebuild` gives back
 * what the pipeline counted live. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "core/error.h"
#include "pipeline/pipeline.h"
#include "report/report.h"
#include "stats/stats.h"
#include "store/store.h"

#include "../store/store_test_util.h"

struct sum {
	uint64_t events, new_sources, cells;
	struct hll src, nets, bots;
};

static int on_cell(const struct stats_cell *c, void *ctx)
{
	struct sum *s = ctx;
	s->events += c->events;
	s->new_sources += c->new_sources;
	s->cells++;
	if (c->sketch[STATS_SOURCES] != NULL)
		assert_int_equal(hll_merge_serialized(&s->src, c->sketch[STATS_SOURCES],
						      c->sketch_len[STATS_SOURCES]),
				 0);
	if (c->sketch[STATS_NETS] != NULL)
		assert_int_equal(hll_merge_serialized(&s->nets, c->sketch[STATS_NETS],
						      c->sketch_len[STATS_NETS]),
				 0);
	if (c->sketch[STATS_BOTS] != NULL)
		assert_int_equal(hll_merge_serialized(&s->bots, c->sketch[STATS_BOTS],
						      c->sketch_len[STATS_BOTS]),
				 0);
	return 0;
}

static void scan(struct store *st, struct sum *s)
{
	memset(s, 0, sizeof(*s));
	hll_init(&s->src, 1u << 20);
	hll_init(&s->nets, 1u << 20);
	hll_init(&s->bots, 1u << 20);
	struct store_rollup_filter f = {.sketches = 7};
	assert_int_equal(store_rollup_scan(st, &f, on_cell, s), 0);
}

static void sum_free(struct sum *s)
{
	hll_free(&s->src);
	hll_free(&s->nets);
	hll_free(&s->bots);
}

static struct sinkd_event http_event(uint64_t ts, const char *src, const char *bot)
{
	struct sinkd_event ev;
	memset(&ev, 0, sizeof(ev));
	ev.ts_ns = ts;
	ev.kind = EVENT_HTTP;
	ev.transport = TRANSPORT_TCP;
	assert_int_equal(event_addr_parse(&ev.src, src), 0);
	strcpy(ev.zone, "bestchristmascard.com");
	strcpy(ev.family, "waledac");
	strcpy(ev.country, "DE");
	ev.asn = 3320;
	snprintf(ev.bot_id, sizeof(ev.bot_id), "%s", bot);
	return ev;
}

struct cells {
	const struct stats_cell *c;
	size_t n;
};

static int put_cells(struct store *st, void *ctx)
{
	struct cells *c = ctx;
	return store_rollups_put(st, c->c, c->n);
}

static int write_cells(struct store *st, const struct stats_cell *c, size_t n)
{
	struct cells cc = {c, n};
	struct store_batch_hook hook = {put_cells, &cc};
	return store_write_batch(st, NULL, 0, NULL, 0, &hook, 1);
}

static void write_live(struct store *st, struct stats_live *l)
{
	const struct stats_cell *cells;
	size_t n;
	assert_int_equal(stats_live_cells(l, &cells, &n), 0);
	assert_int_equal(write_cells(st, cells, n), 0);
	stats_live_reset(l);
}

static void test_upsert_merges(void **state)
{
	struct tmpdir d;
	tmpdir_make(&d);
	struct store *st;
	assert_int_equal(store_open(&st, d.db, false), 0);
	struct stats_live *l;
	assert_int_equal(stats_live_new(&l, 64), 0);
	struct sinkd_event ev;
	/* Batch 1: 10 bots on 10 addresses of one /24. */
	for (int i = 0; i < 10; i++) {
		char a[32], b[8];
		snprintf(a, sizeof(a), "192.0.2.%d", i + 1);
		snprintf(b, sizeof(b), "bot%d", i);
		ev = http_event(T0_NS + (uint64_t)i * SEC_NS, a, b);
		assert_int_equal(stats_live_add(l, NULL, &ev, "Deutsche Telekom AG"), 0);
	}
	write_live(st, l);
	/* Batch 2, same hour: 5 of them again and 5 new ones on another /24,
	 * plus an IPv6 host with three privacy addresses in one /64. */
	for (int i = 5; i < 15; i++) {
		char a[32], b[8];
		snprintf(a, sizeof(a), i < 10 ? "192.0.2.%d" : "198.51.100.%d", i + 1);
		snprintf(b, sizeof(b), "bot%d", i);
		ev = http_event(T0_NS + 100 * SEC_NS, a, b);
		assert_int_equal(stats_live_add(l, NULL, &ev, "Deutsche Telekom AG"), 0);
	}
	static const char *const v6[] = {"2001:db8:1:2::a", "2001:db8:1:2:1111:2222:3333:4444",
					 "2001:db8:1:2:ffff::1"};
	for (int i = 0; i < 3; i++) {
		ev = http_event(T0_NS + 200 * SEC_NS, v6[i], "bot-v6");
		assert_int_equal(stats_live_add(l, NULL, &ev, "Deutsche Telekom AG"), 0);
	}
	assert_int_equal(stats_live_count(l), 1); /* one (hour, family, ...) cell */
	write_live(st, l);
	struct sum s;
	scan(st, &s);
	assert_int_equal(s.cells, 1);
	assert_int_equal(s.events, 23);
	assert_true(hll_count(&s.src) == 16.0);	 /* 15 IPv4 + one /64 */
	assert_true(hll_count(&s.nets) == 3.0);	 /* two /24s, one /64 */
	assert_true(hll_count(&s.bots) == 16.0); /* bot0..bot14 + bot-v6 */
	sum_free(&s);
	stats_live_free(l);
	store_close(st);
	tmpdir_remove(&d);
}

static void test_rebuild_matches_live(void **state)
{
	struct tmpdir d;
	tmpdir_make(&d);
	struct store *st;
	assert_int_equal(store_open(&st, d.db, false), 0);
	struct pipeline_options opt = {
	    .n_rings = 1, .ring_size = 1024, .batch_max = 500, .commit_interval_ms = 20};
	struct pipeline *p;
	assert_int_equal(pipeline_new(&p, st, &opt), 0);
	assert_int_equal(pipeline_start(p), 0);
	/* 3 days, 200 bots, some churn; DNS queries too. */
	for (int day = 0; day < 3; day++) {
		for (int i = 0; i < 200; i++) {
			char a[32], b[16];
			snprintf(a, sizeof(a), "10.%d.%d.%d", day % 2, i / 200, i % 200 + 1);
			snprintf(b, sizeof(b), "b%03d", i);
			struct sinkd_event ev = http_event(
			    T0_NS + (uint64_t)(day * 86400 + i * 400) * SEC_NS, a, i % 3 ? b : "");
			while (pipeline_push(pipeline_ring(p, 0), &ev, NULL) != 0)
				usleep(100);
			struct sinkd_event q =
			    dns_event(ev.ts_ns, "192.0.2.53", 53, "bestchristmascard.com",
				      "x.bestchristmascard.com", 1, 0);
			while (pipeline_push(pipeline_ring(p, 0), &q, NULL) != 0)
				usleep(100);
		}
	}
	pipeline_stop(p);
	pipeline_free(p);
	struct sum live, rebuilt;
	scan(st, &live);
	/* The seen filter was saved at stop. */
	static uint8_t bits[8 << 20];
	assert_int_equal(store_seen_load(st, bits, sizeof(bits)), 0);
	store_close(st);
	char *argv[] = {"rollup", "rebuild", "--store", d.db, NULL};
	assert_int_equal(stats_rollup_cli(4, argv), 0);
	assert_int_equal(store_open(&st, d.db, true), 0);
	scan(st, &rebuilt);
	printf("  live: %llu events, %.0f sources, %.0f bots, %llu new; rebuilt: %llu, %.0f, "
	       "%.0f, %llu\n",
	       (unsigned long long)live.events, hll_count(&live.src), hll_count(&live.bots),
	       (unsigned long long)live.new_sources, (unsigned long long)rebuilt.events,
	       hll_count(&rebuilt.src), hll_count(&rebuilt.bots),
	       (unsigned long long)rebuilt.new_sources);
	assert_int_equal(live.events, 1200);
	assert_int_equal(rebuilt.events, live.events);
	assert_true(hll_count(&rebuilt.src) == hll_count(&live.src));
	assert_true(hll_count(&rebuilt.bots) == hll_count(&live.bots));
	assert_int_equal(rebuilt.new_sources, live.new_sources);
	assert_int_equal(live.new_sources, 400); /* 10.0.x and 10.1.x, DNS resolvers not */
	sum_free(&live);
	sum_free(&rebuilt);
	store_close(st);
	tmpdir_remove(&d);
}

static void test_broken_sketch_is_an_error(void **state)
{
	struct tmpdir d;
	tmpdir_make(&d);
	struct store *st;
	assert_int_equal(store_open(&st, d.db, false), 0);
	uint8_t junk[20] = "S\x01\x0e";
	struct stats_cell c = {.hour = 3600,
			       .family = "f",
			       .domain = "d",
			       .country = "",
			       .asn_org = "",
			       .transport = "http",
			       .events = 1};
	c.sketch[0] = junk;
	c.sketch_len[0] = sizeof(junk);
	assert_int_equal(write_cells(st, &c, 1), 0); /* first insert: stored */
	/* The merge on conflict finds garbage: the batch fails, loudly. */
	assert_int_equal(write_cells(st, &c, 1), SINKD_ESTORE);
	store_close(st);
	tmpdir_remove(&d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_upsert_merges),
	    cmocka_unit_test(test_rebuild_matches_live),
	    cmocka_unit_test(test_broken_sketch_is_an_error),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
