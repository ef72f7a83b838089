/* The pipeline against a real SQLite store: producers on their own
 * threads, stop drains everything, full rings refuse without blocking. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/error.h"
#include "pipeline/pipeline.h"
#include "store/store.h"

#define PER_PRODUCER 50000

struct producer {
	struct vring *ring;
	unsigned id;
	uint64_t pushed, refused;
};

static void make_event(struct sinkd_event *ev, unsigned id, unsigned i)
{
	memset(ev, 0, sizeof(*ev));
	ev->ts_ns = 1700000000000000000ull + (uint64_t)i * 1000000ull;
	ev->kind = EVENT_DNS;
	ev->transport = TRANSPORT_UDP;
	event_addr_parse(&ev->src, id == 0 ? "192.0.2.1" : "2001:db8::1");
	ev->qtype = 1;
	snprintf(ev->qname, sizeof(ev->qname), "n%u.seized.com", i % 100);
	strcpy(ev->zone, "seized.com");
}

static void *produce(void *arg)
{
	struct producer *p = arg;
	struct sinkd_event ev;
	for (unsigned i = 0; i < PER_PRODUCER; i++) {
		make_event(&ev, p->id, i);
		/* A real worker counts the drop and moves on; the test retries so
		 * the expected total is exact. */
		while (pipeline_push(p->ring, &ev, NULL) != 0) {
			p->refused++;
			usleep(100);
		}
		p->pushed++;
	}
	return NULL;
}

static char *temp_db(void)
{
	const char *base = getenv("SINKD_TEST_TMP");
	char tmpl[512];
	snprintf(tmpl, sizeof(tmpl), "%s/pipeXXXXXX", base != NULL ? base : "/tmp");
	if (base != NULL)
		mkdir(base, 0700);
	char *dir = mkdtemp(tmpl);
	assert_non_null(dir);
	char *path = malloc(600);
	snprintf(path, 600, "%s/t.db", dir);
	return path;
}

static void test_two_producers_everything_stored(void **state)
{
	char *path = temp_db();
	struct store *st;
	assert_int_equal(store_open(&st, path, false), 0);
	struct pipeline_options opt = {.n_rings = 2, .ring_size = 1024, .batch_max = 5000,
				       .commit_interval_ms = 50, .every_query = false};
	struct pipeline *p;
	assert_int_equal(pipeline_new(&p, st, &opt), 0);
	assert_int_equal(pipeline_start(p), 0);
	struct producer prod[2] = {{pipeline_ring(p, 0), 0, 0, 0}, {pipeline_ring(p, 1), 1, 0, 0}};
	pthread_t th[2];
	for (int i = 0; i < 2; i++)
		pthread_create(&th[i], NULL, produce, &prod[i]);
	for (int i = 0; i < 2; i++)
		pthread_join(th[i], NULL);
	pipeline_stop(p);
	struct pipeline_stats ps;
	pipeline_stats(p, &ps);
	assert_int_equal(ps.events_in, 2 * PER_PRODUCER);
	assert_int_equal(ps.events_stored, 2 * PER_PRODUCER);
	assert_int_equal(ps.events_store_failed, 0);
	assert_true(ps.batches >= 1);
	assert_true(ps.agg_rows_written >= 200); /* 100 names x 2 resolvers, at least once */
	uint64_t q, rows;
	assert_int_equal(store_totals(st, &q, &rows), 0);
	assert_int_equal(q, 2 * PER_PRODUCER);
	assert_int_equal(rows, 0);
	pipeline_free(p);
	store_close(st);
	free(path);
}

static void test_commit_interval_flushes_without_stop(void **state)
{
	char *path = temp_db();
	struct store *st;
	assert_int_equal(store_open(&st, path, false), 0);
	struct pipeline_options opt = {.n_rings = 1, .ring_size = 64, .batch_max = 100000,
				       .commit_interval_ms = 100, .every_query = true};
	struct pipeline *p;
	assert_int_equal(pipeline_new(&p, st, &opt), 0);
	assert_int_equal(pipeline_start(p), 0);
	struct sinkd_event ev;
	make_event(&ev, 0, 1);
	assert_int_equal(pipeline_push(pipeline_ring(p, 0), &ev, NULL), 0);
	struct pipeline_stats ps = {0};
	for (int i = 0; i < 200 && ps.events_stored == 0; i++) {
		usleep(10000);
		pipeline_stats(p, &ps);
	}
	assert_int_equal(ps.events_stored, 1); /* committed by age, not by stop */
	pipeline_free(p);
	uint64_t q, rows;
	assert_int_equal(store_totals(st, &q, &rows), 0);
	assert_int_equal(rows, 1);
	store_close(st);
	free(path);
}

static void test_flood_defers_aggregates_to_minute(void **state)
{
	char *path = temp_db();
	struct store *st;
	assert_int_equal(store_open(&st, path, false), 0);
	struct pipeline_options opt = {.n_rings = 1, .ring_size = 4096, .batch_max = 1000,
				       .commit_interval_ms = 20, .dns_flush_max = 10};
	struct pipeline *p;
	assert_int_equal(pipeline_new(&p, st, &opt), 0);
	assert_int_equal(pipeline_start(p), 0);
	/* An hour ahead: the minute cannot close during the test. */
	uint64_t ts = ((uint64_t)time(NULL) + 3600) * 1000000000ull;
	struct sinkd_event ev;
	for (unsigned i = 0; i < 100; i++) {
		make_event(&ev, 0, i);
		ev.ts_ns = ts;
		assert_int_equal(pipeline_push(pipeline_ring(p, 0), &ev, NULL), 0);
	}
	usleep(300000);
	struct pipeline_stats ps;
	pipeline_stats(p, &ps);
	assert_int_equal(ps.events_in, 100);
	assert_int_equal(ps.agg_rows_written, 0); /* 100 keys > 10: held */
	pipeline_stop(p);
	pipeline_stats(p, &ps);
	assert_int_equal(ps.agg_rows_written, 100);
	assert_int_equal(ps.events_stored, 100);
	pipeline_free(p);
	store_close(st);
	free(path);
}

static void test_payload_travels_with_the_event(void **state)
{
	char *path = temp_db();
	struct store *st;
	assert_int_equal(store_open(&st, path, false), 0);
	struct pipeline_options opt = {.n_rings = 1, .ring_size = 64, .batch_max = 100,
				       .commit_interval_ms = 10};
	struct pipeline *p;
	assert_int_equal(pipeline_new(&p, st, &opt), 0);
	struct vring *r = pipeline_ring(p, 0);
	/* Records with payloads of many sizes, wrapping the ring many times. */
	uint8_t payload[3000];
	size_t got = 0;
	for (unsigned i = 0; i < 500; i++) {
		struct sinkd_event ev;
		make_event(&ev, 0, i);
		uint32_t used = 0;
		memset(payload + 5, (int)(i & 0xff), sizeof(payload) - 5);
		assert_int_equal(event_payload_add(payload, sizeof(payload), &used, EVP_BODY,
						   payload + 5, (i * 37) % 2000), 0);
		ev.payload_len = used;
		assert_int_equal(pipeline_push(r, &ev, payload), 0);
		size_t len;
		struct sinkd_event *out = vring_peek(r, &len);
		assert_non_null(out);
		assert_int_equal(len, sizeof(ev) + used);
		assert_int_equal(out->payload_len, used);
		out->payload = (const uint8_t *)out + sizeof(*out);
		const uint8_t *body;
		size_t blen;
		assert_int_equal(event_payload_get(out, EVP_BODY, &body, &blen), 0);
		assert_int_equal(blen, (i * 37) % 2000);
		for (size_t k = 0; k < blen; k++)
			assert_int_equal(body[k], i & 0xff);
		assert_int_equal(event_payload_get(out, EVP_RAW, &body, &blen), SINKD_ENOENT);
		vring_release(r);
		got++;
	}
	assert_int_equal(got, 500);
	assert_null(vring_peek(r, &(size_t){0}));
	pipeline_free(p);
	store_close(st);
	free(path);
}

static void test_big_flush_in_sorted_slices(void **state)
{
	char *path = temp_db();
	struct store *st;
	assert_int_equal(store_open(&st, path, false), 0);
	struct pipeline_options opt = {.n_rings = 1, .ring_size = 65536, .batch_max = 1000,
				       .commit_interval_ms = 60000, .dns_flush_max = 10};
	struct pipeline *p;
	assert_int_equal(pipeline_new(&p, st, &opt), 0);
	assert_int_equal(pipeline_start(p), 0);
	struct sinkd_event ev;
	for (unsigned i = 0; i < 25000; i++) {
		make_event(&ev, 0, 0);
		snprintf(ev.qname, sizeof(ev.qname), "k%u.seized.com", i * 7919u % 25000u);
		while (pipeline_push(pipeline_ring(p, 0), &ev, NULL) != 0)
			usleep(100);
	}
	pipeline_stop(p);
	struct pipeline_stats ps;
	pipeline_stats(p, &ps);
	assert_int_equal(ps.agg_rows_written, 25000);
	assert_true(ps.batches >= 3); /* 25,000 keys > 2 x 10,000: sliced */
	assert_int_equal(ps.events_stored, 25000);
	uint64_t q, rows;
	assert_int_equal(store_totals(st, &q, &rows), 0);
	assert_int_equal(q, 25000);
	pipeline_free(p);
	store_close(st);
	free(path);
}

static int first_row(const struct store_row *row, void *ctx)
{
	*(struct store_row *)ctx = *row;
	return 1;
}

static void test_compact_dns_records_round_trip(void **state)
{
	char *path = temp_db();
	struct store *st;
	assert_int_equal(store_open(&st, path, false), 0);
	struct pipeline_options opt = {.n_rings = 1, .ring_size = 64, .batch_max = 100,
				       .commit_interval_ms = 10, .every_query = true};
	struct pipeline *p;
	assert_int_equal(pipeline_new(&p, st, &opt), 0);
	assert_int_equal(pipeline_start(p), 0);
	struct sinkd_event ev;
	make_event(&ev, 1, 3);
	ev.qtype = 28;
	ev.rcode = 5;
	ev.msg_size = 77;
	ev.flags = EVF_EDNS | EVF_ECS;
	ev.ecs_family = 1;
	ev.ecs_source_prefix = 24;
	ev.ecs_addr[0] = 198;
	event_addr_parse(&ev.dst, "192.0.2.53");
	ev.dst.port = 53;
	ev.src.port = 4242;
	/* A long name: the compact record carries it whole. */
	memset(ev.qname, 'a', 200);
	strcpy(ev.qname + 200, ".seized.com");
	assert_int_equal(pipeline_push_dns(pipeline_ring(p, 0), &ev), 0);
	pipeline_stop(p);
	struct store_row row;
	memset(&row, 0, sizeof(row));
	struct store_filter f = {.limit = 10};
	assert_int_equal(store_query(st, &f, first_row, &row), 0);
	assert_false(row.aggregate);
	assert_int_equal(row.ev.kind, EVENT_DNS);
	assert_string_equal(row.ev.qname, ev.qname);
	assert_string_equal(row.ev.zone, "seized.com");
	assert_int_equal(row.ev.qtype, 28);
	assert_int_equal(row.ev.rcode, 5);
	assert_int_equal(row.ev.msg_size, 77);
	assert_int_equal(row.ev.flags, EVF_EDNS | EVF_ECS);
	assert_int_equal(row.ev.ecs_source_prefix, 24);
	assert_int_equal(row.ev.ecs_addr[0], 198);
	assert_memory_equal(row.ev.src.ip, ev.src.ip, 16);
	assert_int_equal(row.ev.src.port, 4242);
	assert_int_equal(row.ev.dst.port, 53);
	assert_int_equal(row.ev.ts_ns, ev.ts_ns);
	pipeline_free(p);
	store_close(st);
	free(path);
}

static void test_full_ring_refuses(void **state)
{
	struct store *st;
	char *path = temp_db();
	assert_int_equal(store_open(&st, path, false), 0);
	struct pipeline_options opt = {.n_rings = 1, .ring_size = 16, .batch_max = 10,
				       .commit_interval_ms = 10};
	struct pipeline *p;
	assert_int_equal(pipeline_new(&p, st, &opt), 0);
	/* Not started: nothing consumes, so a push into the full ring is
	 * refused at once (the ring holds about ring_size DNS events). */
	struct sinkd_event ev;
	make_event(&ev, 0, 0);
	int pushed = 0;
	while (pipeline_push(pipeline_ring(p, 0), &ev, NULL) == 0)
		pushed++;
	assert_true(pushed >= 16 && pushed <= 64);
	assert_int_equal(pipeline_push(pipeline_ring(p, 0), &ev, NULL), SINKD_EFULL);
	assert_null(pipeline_ring(p, 1));
	pipeline_free(p);
	store_close(st);
	free(path);
}

/* [retention] raw_days in the writer thread: a batch of events three days
 * old is pruned in the background while new ones keep being stored, and
 * the evidence chain still verifies. */
static void test_retention_in_writer(void **state)
{
	char *path = temp_db();
	struct store *st, *ro;
	assert_int_equal(store_open(&st, path, false), 0);
	struct pipeline_options opt = {.n_rings = 1, .ring_size = 1024, .batch_max = 100000,
				       .commit_interval_ms = 50, .every_query = true,
				       .retention_raw_days = 1};
	struct pipeline *p;
	assert_int_equal(pipeline_new(&p, st, &opt), 0);
	assert_int_equal(pipeline_start(p), 0);
	uint64_t now = (uint64_t)time(NULL) * 1000000000ull;
	struct sinkd_event ev;
	struct pipeline_stats ps = {0};
	for (unsigned i = 0; i < 100; i++) {
		make_event(&ev, 0, i);
		ev.ts_ns = now - 3 * 86400ull * 1000000000ull + i;
		assert_int_equal(pipeline_push(pipeline_ring(p, 0), &ev, NULL), 0);
	}
	for (int i = 0; i < 300 && ps.events_stored < 100; i++) {
		usleep(10000);
		pipeline_stats(p, &ps);
	}
	for (unsigned i = 0; i < 50; i++) {
		make_event(&ev, 0, i);
		ev.ts_ns = now + i;
		assert_int_equal(pipeline_push(pipeline_ring(p, 0), &ev, NULL), 0);
	}
	struct store_stats ss = {0};
	for (int i = 0; i < 400 && ss.retention_steps == 0; i++) {
		usleep(10000);
		store_stats(st, &ss);
	}
	assert_true(ss.retention_steps >= 1);
	assert_int_equal(ss.retention_rows, 100);
	pipeline_free(p);
	uint64_t q, rows;
	assert_int_equal(store_totals(st, &q, &rows), 0);
	assert_int_equal(rows, 50);
	assert_int_equal(q, 150); /* aggregates are kept: rollup_days = 0 */
	store_close(st);
	struct store_verify_result r;
	struct store_verify_opts vo = {.out = stderr};
	assert_int_equal(store_open(&ro, path, true), 0);
	assert_int_equal(store_verify(ro, &vo, &r), 0);
	assert_true(r.ok);
	assert_true(r.prunes >= 1);
	store_close(ro);
	free(path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_two_producers_everything_stored),
		cmocka_unit_test(test_commit_interval_flushes_without_stop),
		cmocka_unit_test(test_flood_defers_aggregates_to_minute),
		cmocka_unit_test(test_payload_travels_with_the_event),
		cmocka_unit_test(test_big_flush_in_sorted_slices),
		cmocka_unit_test(test_compact_dns_records_round_trip),
		cmocka_unit_test(test_full_ring_refuses),
		cmocka_unit_test(test_retention_in_writer),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
