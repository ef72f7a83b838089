/* Store unit tests on a real SQLite file in a temp directory. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "core/error.h"
#include "store/store.h"
#include "store/store_internal.h"

#include "store_test_util.h"

struct fixture {
	struct tmpdir tmp;
	struct store *st;
};

static int setup(void **state)
{
	struct fixture *fx = calloc(1, sizeof(*fx));
	tmpdir_make(&fx->tmp);
	assert_int_equal(store_open(&fx->st, fx->tmp.db, false), 0);
	*state = fx;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *fx = *state;
	store_close(fx->st);
	tmpdir_remove(&fx->tmp);
	free(fx);
	return 0;
}

struct collect {
	struct store_row rows[512];
	size_t n;
	uint64_t sum;
};

static int collect_cb(const struct store_row *row, void *ctx)
{
	struct collect *c = ctx;
	if (c->n < sizeof(c->rows) / sizeof(c->rows[0]))
		c->rows[c->n] = *row;
	c->n++;
	c->sum += row->count;
	return 0;
}

static struct collect *query(struct store *st, const struct store_filter *f)
{
	static struct collect c;
	memset(&c, 0, sizeof(c));
	assert_int_equal(store_query(st, f, collect_cb, &c), 0);
	return &c;
}

static void totals(struct store *st, uint64_t want_dns, uint64_t want_rows)
{
	uint64_t dns = 99, rows = 99;
	assert_int_equal(store_totals(st, &dns, &rows), 0);
	assert_int_equal(dns, want_dns);
	assert_int_equal(rows, want_rows);
}

static void test_open_creates_schema(void **state)
{
	struct fixture *fx = *state;
	const char *db = fx->tmp.db;
	assert_int_equal(sql_int(db, "PRAGMA user_version"), store_schema_version());
	assert_int_equal(sql_int(db, "PRAGMA application_id"), 0x736b6e64);
	assert_int_equal(sql_int(db, "SELECT COUNT(*) FROM sqlite_schema WHERE type = 'table' AND"
				     " name IN ('names', 'labels', 'dns_minute', 'events')"),
			 4);
	assert_int_equal(sql_int(db, "SELECT COUNT(*) FROM sqlite_schema WHERE type = 'index' AND"
				     " name IN ('events_ts', 'events_src', 'events_zone')"),
			 3);
	assert_int_equal(sql_int(db, "SELECT journal_mode = 'wal' FROM pragma_journal_mode"), 1);
	totals(fx->st, 0, 0);
}

static void test_reopen_migrates_nothing(void **state)
{
	struct fixture *fx = *state;
	struct sinkd_event ev =
	    dns_event(T0_NS, "192.0.2.1", 1000, "example.com", "example.com", 1, 0);
	const char *schema_sql = "SELECT length(group_concat(sql)) FROM sqlite_schema";
	assert_int_equal(store_write(fx->st, &ev, 1, false), 0);
	store_close(fx->st);
	long long schema_len = sql_int(fx->tmp.db, schema_sql);
	assert_int_equal(store_open(&fx->st, fx->tmp.db, false), 0);
	assert_int_equal(sql_int(fx->tmp.db, schema_sql), schema_len);
	assert_int_equal(sql_int(fx->tmp.db, "PRAGMA user_version"), store_schema_version());
	totals(fx->st, 1, 0);
}

static void test_newer_schema_refused(void **state)
{
	struct fixture *fx = *state;
	struct store *st = NULL;
	store_close(fx->st);
	fx->st = NULL;
	assert_int_equal(sql_exec(fx->tmp.db, "PRAGMA user_version = 999"), SQLITE_OK);
	assert_int_equal(store_open(&st, fx->tmp.db, false), SINKD_ESTORE);
	assert_null(st);
	assert_int_equal(store_open(&st, fx->tmp.db, true), SINKD_ESTORE);
	assert_null(st);
	assert_int_equal(sql_int(fx->tmp.db, "PRAGMA user_version"), 999);
}

static void test_foreign_file_refused(void **state)
{
	struct fixture *fx = *state;
	struct store *st = NULL;
	char other[700];
	snprintf(other, sizeof(other), "%s/other.db", fx->tmp.dir);
	assert_int_equal(sql_exec(other, "CREATE TABLE t(x)"), SQLITE_OK);
	assert_int_equal(store_open(&st, other, false), SINKD_ESTORE);
	snprintf(other, sizeof(other), "%s/text.db", fx->tmp.dir);
	FILE *f = fopen(other, "w");
	fputs("this is not a database, it is a text file long enough to have a header\n", f);
	fclose(f);
	assert_int_equal(store_open(&st, other, false), SINKD_ESTORE);
	assert_int_equal(store_open(&st, other, true), SINKD_ESTORE);
	assert_null(st);
}

static void test_aggregate_counts(void **state)
{
	struct fixture *fx = *state;
	enum { N = 10000 };
	struct sinkd_event *ev = calloc(N + 3, sizeof(*ev));
	struct store_stats s;
	for (size_t i = 0; i < N; i++)
		ev[i] = dns_event(T0_NS + i * 1000, "192.0.2.1", (uint16_t)(1024 + i),
				  "example.com", "www.example.com", 1, 0);
	ev[N] = dns_event(T0_NS + 60 * SEC_NS, "192.0.2.1", 1, "example.com", "www.example.com", 1,
			  0); /* next minute */
	ev[N + 1] = dns_event(T0_NS + 59 * SEC_NS, "192.0.2.1", 1, "example.com", "www.example.com",
			      28, 0); /* other qtype */
	ev[N + 2] = dns_event(T0_NS + 59 * SEC_NS, "192.0.2.2", 1, "example.com", "www.example.com",
			      1, 0); /* other resolver */
	assert_int_equal(store_write(fx->st, ev, N + 3, false), 0);
	store_stats(fx->st, &s);
	assert_int_equal(s.agg_upserts, 4);
	assert_int_equal(s.batches, 1);
	assert_int_equal(s.events, N + 3);
	totals(fx->st, N + 3, 0);
	assert_int_equal(sql_int(fx->tmp.db, "SELECT COUNT(*) FROM dns_minute"), 4);
	assert_int_equal(sql_int(fx->tmp.db, "SELECT MAX(count) FROM dns_minute"), N);
	assert_int_equal(sql_int(fx->tmp.db, "SELECT COUNT(DISTINCT minute) FROM dns_minute"), 2);
	/* A second batch adds to the same keys. */
	assert_int_equal(store_write(fx->st, ev, N, false), 0);
	assert_int_equal(sql_int(fx->tmp.db, "SELECT MAX(count) FROM dns_minute"), 2 * N);
	totals(fx->st, 2 * N + 3, 0);
	free(ev);
}

static void test_every_query_rows(void **state)
{
	struct fixture *fx = *state;
	struct sinkd_event ev[5];
	for (int i = 0; i < 5; i++)
		ev[i] = dns_event(T0_NS + (uint64_t)i * SEC_NS, "192.0.2.1", (uint16_t)(2000 + i),
				  "example.com", "a.example.com", 1, 0);
	assert_int_equal(store_write(fx->st, ev, 3, true), 0);
	assert_int_equal(store_write(fx->st, ev + 3, 2, false), 0);
	totals(fx->st, 5, 3);
	assert_int_equal(sql_int(fx->tmp.db, "SELECT SUM(logged) FROM dns_minute"), 3);
	/* Logged queries come back as rows, the rest as one aggregate: the
	 * counts add up to what was written, never doubled. */
	struct store_filter f = {0};
	struct collect *c = query(fx->st, &f);
	assert_int_equal(c->n, 4);
	assert_int_equal(c->sum, 5);
	assert_false(c->rows[0].aggregate);
	assert_int_equal(c->rows[0].ev.ts_ns, T0_NS + 2 * SEC_NS);
	assert_int_equal(c->rows[0].ev.src.port, 2002);
	assert_string_equal(c->rows[0].ev.qname, "a.example.com");
	assert_int_equal(c->rows[0].ev.msg_size, 40);
	assert_true(c->rows[3].aggregate);
	assert_int_equal(c->rows[3].count, 2);
	assert_int_equal(c->rows[3].ev.ts_ns, T0_NS);
}

static void test_other_kinds_always_rows(void **state)
{
	struct fixture *fx = *state;
	struct sinkd_event ev =
	    dns_event(T0_NS, "2001:db8::7", 443, "example.com", "example.com", 0, 0);
	ev.kind = EVENT_HTTP;
	ev.transport = TRANSPORT_TCP;
	snprintf(ev.family, sizeof(ev.family), "waledac");
	snprintf(ev.bot_id, sizeof(ev.bot_id), "0123456789abcdef0123456789abcdef");
	snprintf(ev.country, sizeof(ev.country), "NL");
	ev.asn = 64500;
	assert_int_equal(store_write(fx->st, &ev, 1, false), 0);
	totals(fx->st, 0, 1);
	struct store_filter f = {.type = "http"};
	struct collect *c = query(fx->st, &f);
	assert_int_equal(c->n, 1);
	assert_int_equal(c->rows[0].ev.kind, EVENT_HTTP);
	assert_string_equal(c->rows[0].ev.family, "waledac");
	assert_string_equal(c->rows[0].ev.bot_id, "0123456789abcdef0123456789abcdef");
	assert_string_equal(c->rows[0].ev.country, "NL");
	assert_int_equal(c->rows[0].ev.asn, 64500);
	assert_memory_equal(c->rows[0].ev.src.ip, ev.src.ip, 16);
}

static void test_write_caller_aggregates(void **state)
{
	struct fixture *fx = *state;
	struct sinkd_event ev =
	    dns_event(T0_NS + 5 * SEC_NS, "192.0.2.1", 7, "alpha.com", "www.alpha.com", 1, 0);
	struct store_dns_agg aggs[2] = {
	    {.minute = (uint32_t)(T0_NS / SEC_NS),
	     .qtype = 1,
	     .qname = "www.alpha.com",
	     .zone = "alpha.com",
	     .count = 5,
	     .logged = 1},
	    {.minute = (uint32_t)(T0_NS / SEC_NS) + 60,
	     .qtype = 28,
	     .qname = "",
	     .zone = "",
	     .count = 2},
	};
	memcpy(aggs[0].resolver, ev.src.ip, 16);
	memcpy(aggs[1].resolver, ev.src.ip, 16);
	struct store_stats s;
	assert_int_equal(store_write_aggs(fx->st, aggs, 2, &ev, 1), 0);
	assert_int_equal(store_write_aggs(fx->st, aggs, 1, NULL, 0), 0);
	assert_int_equal(store_write_aggs(fx->st, NULL, 0, NULL, 0), 0);
	totals(fx->st, 12, 1);
	store_stats(fx->st, &s);
	assert_int_equal(s.events, 1 + 4 + 2 + 4);
	assert_int_equal(s.agg_upserts, 3);
	/* Same key as store_write would use: one dns_minute row. */
	assert_int_equal(store_write(fx->st, &ev, 1, false), 0);
	assert_int_equal(sql_int(fx->tmp.db, "SELECT count FROM dns_minute WHERE qtype = 1"), 11);
	struct collect *c = query(fx->st, &(struct store_filter){.domain = "www.alpha.com"});
	assert_int_equal(c->n, 2);
	assert_false(c->rows[0].aggregate);
	assert_int_equal(c->rows[1].count, 9);
	assert_string_equal(c->rows[1].ev.zone, "alpha.com");
}

/* Events at t0+0..t0+5 min over two zones, two resolvers, A and AAAA. */
static void write_query_fixture(struct store *st)
{
	struct sinkd_event ev[] = {
	    dns_event(T0_NS + 0 * 60 * SEC_NS, "192.0.2.1", 1, "alpha.com", "x.alpha.com", 1, 0),
	    dns_event(T0_NS + 1 * 60 * SEC_NS, "192.0.2.2", 2, "alpha.com", "alpha.com", 28, 0),
	    dns_event(T0_NS + 2 * 60 * SEC_NS, "192.0.2.1", 3, "beta.net", "y.beta.net", 1, 3),
	    dns_event(T0_NS + 3 * 60 * SEC_NS, "2001:db8::1", 4, "beta.net", "beta.net", 15, 0),
	    dns_event(T0_NS + 4 * 60 * SEC_NS, "192.0.2.1", 5, "", "other.org", 1, 5),
	};
	struct sinkd_event http = ev[0];
	http.kind = EVENT_HTTP;
	http.ts_ns = T0_NS + 5 * 60 * SEC_NS;
	assert_int_equal(store_write(st, ev, 3, false), 0);
	assert_int_equal(store_write(st, ev + 3, 2, true), 0);
	assert_int_equal(store_write(st, &http, 1, false), 0);
}

static size_t count_rows(struct store *st, struct store_filter f) { return query(st, &f)->n; }

static void test_query_filters(void **state)
{
	struct fixture *fx = *state;
	struct store *st = fx->st;
	write_query_fixture(st);
	struct collect *c = query(st, &(struct store_filter){0});
	assert_int_equal(c->n, 6);
	for (size_t i = 1; i < c->n; i++)
		assert_true(c->rows[i - 1].ev.ts_ns >= c->rows[i].ev.ts_ns);
	assert_int_equal(c->rows[0].ev.kind, EVENT_HTTP);

	assert_int_equal(count_rows(st, (struct store_filter){.since_ns = T0_NS + 120 * SEC_NS}),
			 4);
	assert_int_equal(count_rows(st, (struct store_filter){.until_ns = T0_NS + 120 * SEC_NS}),
			 2);
	assert_int_equal(count_rows(st, (struct store_filter){.since_ns = T0_NS + 60 * SEC_NS,
							      .until_ns = T0_NS + 61 * SEC_NS}),
			 1);
	assert_int_equal(count_rows(st, (struct store_filter){.domain = "alpha.com"}), 3);
	assert_int_equal(count_rows(st, (struct store_filter){.domain = "BETA.net."}), 2);
	assert_int_equal(count_rows(st, (struct store_filter){.domain = "y.beta.net"}), 1);
	assert_int_equal(count_rows(st, (struct store_filter){.domain = "other.org"}), 1);
	assert_int_equal(count_rows(st, (struct store_filter){.domain = "nowhere.example"}), 0);
	assert_int_equal(count_rows(st, (struct store_filter){.ip = "192.0.2.1"}), 4);
	assert_int_equal(count_rows(st, (struct store_filter){.ip = "2001:db8::1"}), 1);
	assert_int_equal(count_rows(st, (struct store_filter){.ip = "192.0.2.99"}), 0);
	assert_int_equal(count_rows(st, (struct store_filter){.type = "dns"}), 5);
	assert_int_equal(count_rows(st, (struct store_filter){.type = "http"}), 1);
	assert_int_equal(count_rows(st, (struct store_filter){.type = "tls"}), 0);
	assert_int_equal(count_rows(st, (struct store_filter){.type = "A"}), 3);
	assert_int_equal(count_rows(st, (struct store_filter){.type = "aaaa"}), 1);
	assert_int_equal(count_rows(st, (struct store_filter){.type = "MX"}), 1);
	assert_int_equal(count_rows(st, (struct store_filter){.type = "TXT"}), 0);
	assert_int_equal(
	    count_rows(
		st, (struct store_filter){.domain = "alpha.com", .ip = "192.0.2.1", .type = "A"}),
	    1);
	assert_int_equal(count_rows(st, (struct store_filter){.limit = 2}), 2);

	c = query(st, &(struct store_filter){.type = "MX"});
	assert_false(c->rows[0].aggregate);
	assert_string_equal(c->rows[0].ev.zone, "beta.net");
	c = query(st, &(struct store_filter){.domain = "x.alpha.com"});
	assert_int_equal(c->n, 2); /* the DNS aggregate and the HTTP event */

	struct collect dummy = {0};
	assert_int_equal(
	    store_query(st, &(struct store_filter){.type = "NOPE"}, collect_cb, &dummy),
	    SINKD_EINVAL);
	assert_int_equal(store_query(st, &(struct store_filter){.ip = "1.2.3"}, collect_cb, &dummy),
			 SINKD_EINVAL);
	assert_int_equal(dummy.n, 0);
}

static void expect_plan(struct store *st, struct store_filter f, const char *a, const char *b)
{
	char plan[4096];
	assert_int_equal(store_query_explain(st, &f, plan, sizeof(plan)), 0);
	if (strstr(plan, "TEMP B-TREE") != NULL || strstr(plan, a) == NULL ||
	    (b != NULL && strstr(plan, b) == NULL))
		fail_msg("plan lacks %s / %s or sorts:\n%s", a, b ? b : "-", plan);
}

/* Every filter walks an index in time order: no sort, no full scan. */
static void test_query_plans_use_indexes(void **state)
{
	struct fixture *fx = *state;
	write_query_fixture(fx->st);
	expect_plan(fx->st, (struct store_filter){0}, "events_ts", "PRIMARY KEY (minute>");
	expect_plan(fx->st, (struct store_filter){.domain = "alpha.com"}, "events_zone",
		    "dns_minute_zone");
	expect_plan(fx->st, (struct store_filter){.domain = "x.alpha.com"}, "events_qname",
		    "dns_minute_qname");
	expect_plan(fx->st, (struct store_filter){.ip = "192.0.2.1"}, "events_src",
		    "dns_minute_resolver");
	expect_plan(fx->st, (struct store_filter){.type = "http"}, "events_kind", NULL);
	expect_plan(fx->st, (struct store_filter){.type = "AAAA", .since_ns = T0_NS}, "events_ts",
		    "PRIMARY KEY (minute>");
}

static int stop_after_one(const struct store_row *row, void *ctx)
{
	(*(int *)ctx)++;
	return 1;
}

static void test_query_limit_and_stop(void **state)
{
	struct fixture *fx = *state;
	enum { N = 300 };
	struct sinkd_event ev[N];
	for (int i = 0; i < N; i++)
		ev[i] = dns_event(T0_NS + (uint64_t)i * 60 * SEC_NS, "192.0.2.1", 1, "alpha.com",
				  "alpha.com", 1, 0);
	assert_int_equal(store_write(fx->st, ev, N / 2, true), 0);
	assert_int_equal(store_write(fx->st, ev + N / 2, N / 2, false), 0);
	struct collect *c = query(fx->st, &(struct store_filter){0});
	assert_int_equal(c->n, 100);
	assert_true(c->rows[0].aggregate);
	assert_int_equal(c->rows[0].ev.ts_ns, T0_NS + 299 * 60 * SEC_NS);
	assert_int_equal(c->rows[99].ev.ts_ns, T0_NS + 200 * 60 * SEC_NS);
	assert_int_equal(count_rows(fx->st, (struct store_filter){.limit = 1000}), N);
	c = query(fx->st, &(struct store_filter){.limit = 160});
	assert_int_equal(c->n, 160);
	assert_false(c->rows[159].aggregate);
	assert_int_equal(c->rows[159].ev.ts_ns, T0_NS + 140 * 60 * SEC_NS);
	/* Only individual rows (older half) and aggregates (newer half) in
	 * range: the aggregate side is bounded by the events window. */
	c = query(fx->st,
		  &(struct store_filter){.limit = 100, .until_ns = T0_NS + 160 * 60 * SEC_NS});
	assert_int_equal(c->n, 100);
	assert_true(c->rows[0].aggregate);
	assert_int_equal(c->rows[0].ev.ts_ns, T0_NS + 159 * 60 * SEC_NS);
	assert_false(c->rows[10].aggregate);
	assert_int_equal(c->rows[10].ev.ts_ns, T0_NS + 149 * 60 * SEC_NS);
	int calls = 0;
	assert_int_equal(store_query(fx->st, &(struct store_filter){0}, stop_after_one, &calls), 0);
	assert_int_equal(calls, 1);
}

static void test_names_reuse(void **state)
{
	struct fixture *fx = *state;
	struct sinkd_event ev[100];
	struct store_stats s;
	for (int i = 0; i < 100; i++)
		ev[i] = dns_event(T0_NS + (uint64_t)i * 60 * SEC_NS, "192.0.2.1", 1, "alpha.com",
				  "www.alpha.com", 1, 0);
	assert_int_equal(store_write(fx->st, ev, 50, true), 0);
	assert_int_equal(store_write(fx->st, ev + 50, 50, false), 0);
	assert_int_equal(sql_int(fx->tmp.db, "SELECT COUNT(*) FROM names"), 2);
	store_stats(fx->st, &s);
	assert_int_equal(s.cache_misses, 2);
	assert_true(s.cache_hits >= 2 * 100 - 2);
	/* A new handle starts with an empty cache and finds the stored ids. */
	store_close(fx->st);
	assert_int_equal(store_open(&fx->st, fx->tmp.db, false), 0);
	assert_int_equal(store_write(fx->st, ev, 10, false), 0);
	assert_int_equal(sql_int(fx->tmp.db, "SELECT COUNT(*) FROM names"), 2);
	assert_int_equal(sql_int(fx->tmp.db, "SELECT COUNT(DISTINCT qname_id) FROM events"), 1);
}

static void test_failed_write_rolls_back(void **state)
{
	struct fixture *fx = *state;
	struct sinkd_event ev[3] = {
	    dns_event(T0_NS, "192.0.2.1", 1, "alpha.com", "one.alpha.com", 1, 0),
	    dns_event(T0_NS, "192.0.2.1", 1, "alpha.com", "two.alpha.com", 1, 0),
	    dns_event(T0_NS, "192.0.2.1", 1, "beta.net", "three.beta.net", 1, 0),
	};
	struct store_stats s;
	assert_int_equal(store_write(fx->st, ev, 1, true), 0);
	assert_int_equal(sql_exec(fx->tmp.db, "CREATE TRIGGER fail BEFORE INSERT ON dns_minute"
					      " BEGIN SELECT RAISE(ABORT, 'injected'); END"),
			 SQLITE_OK);
	/* Names and event rows are written before the failing upsert. */
	assert_int_equal(store_write(fx->st, ev + 1, 2, true), SINKD_ESTORE);
	store_stats(fx->st, &s);
	assert_int_equal(s.batch_failures, 1);
	totals(fx->st, 1, 1);
	assert_int_equal(sql_int(fx->tmp.db, "SELECT COUNT(*) FROM names"), 2);

	assert_int_equal(sql_exec(fx->tmp.db, "DROP TRIGGER fail"), SQLITE_OK);
	/* Other names now take the rolled-back ids: no stale cached id may
	 * point a row at the wrong name. */
	struct sinkd_event other = dns_event(T0_NS, "192.0.2.1", 1, "gamma.org", "gamma.org", 1, 0);
	assert_int_equal(store_write(fx->st, &other, 1, true), 0);
	assert_int_equal(store_write(fx->st, ev + 1, 2, true), 0);
	totals(fx->st, 4, 4);
	struct collect *c = query(fx->st, &(struct store_filter){.domain = "two.alpha.com"});
	assert_int_equal(c->n, 1);
	assert_string_equal(c->rows[0].ev.zone, "alpha.com");
	c = query(fx->st, &(struct store_filter){.domain = "gamma.org"});
	assert_int_equal(c->n, 1);
	assert_string_equal(c->rows[0].ev.qname, "gamma.org");
}

static void test_read_only(void **state)
{
	struct fixture *fx = *state;
	struct store *ro = NULL;
	char missing[700];
	struct sinkd_event ev = dns_event(T0_NS, "192.0.2.1", 1, "alpha.com", "alpha.com", 1, 0);
	snprintf(missing, sizeof(missing), "%s/missing.db", fx->tmp.dir);
	assert_int_equal(store_open(&ro, missing, true), SINKD_ENOENT);
	assert_null(ro);
	assert_int_not_equal(access(missing, F_OK), 0);

	assert_int_equal(store_write(fx->st, &ev, 1, false), 0);
	assert_int_equal(store_open(&ro, fx->tmp.db, true), 0);
	totals(ro, 1, 0);
	assert_int_equal(count_rows(ro, (struct store_filter){.domain = "alpha.com"}), 1);
	assert_int_equal(store_write(ro, &ev, 1, false), SINKD_ESTORE);
	/* The writer keeps going while a reader is open. */
	assert_int_equal(store_write(fx->st, &ev, 1, false), 0);
	totals(ro, 2, 0);
	store_close(ro);
}

static void test_totals_mixed(void **state)
{
	struct fixture *fx = *state;
	write_query_fixture(fx->st);
	totals(fx->st, 5, 3);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_open_creates_schema, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_reopen_migrates_nothing, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_newer_schema_refused, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_foreign_file_refused, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_aggregate_counts, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_every_query_rows, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_other_kinds_always_rows, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_write_caller_aggregates, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_query_filters, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_query_limit_and_stop, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_query_plans_use_indexes, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_names_reuse, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_failed_write_rolls_back, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_read_only, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_totals_mixed, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
