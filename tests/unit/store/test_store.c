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
				     " name IN ('zones', 'labels', 'dns_minute', 'events')"),
			 4);
	/* The write budget affords the partial index on non-DNS kinds and
	 * nothing else: events are keyed by time, dns_minute by minute first. */
	assert_int_equal(sql_int(db, "SELECT group_concat(name) = 'events_kind' FROM"
				     " (SELECT name FROM sqlite_schema WHERE type = 'index' AND"
				     " tbl_name IN ('events', 'dns_minute', 'zones', 'labels')"
				     " AND sql IS NOT NULL ORDER BY name)"),
			 1);
	assert_int_equal(sql_int(db, "SELECT journal_mode = 'wal' FROM pragma_journal_mode"), 1);
	assert_int_equal(sql_int(db, "PRAGMA page_size"), 16384);
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

/* Every filter walks time order newest first: no sort, no full scan. Event
 * ids are time keys, so the events side walks the table itself; filters
 * without an index (domain, ip, DNS type) do the same under the scan
 * budget (test_scan_budget). */
static void test_query_plans_walk_time_order(void **state)
{
	struct fixture *fx = *state;
	static const char ev_ts[] =
	    "events: SEARCH e USING INTEGER PRIMARY KEY (rowid>? AND rowid<?)";
	static const char ag_pk[] = "aggs: SEARCH d USING PRIMARY KEY (minute>? AND minute<?)";
	write_query_fixture(fx->st);
	expect_plan(fx->st, (struct store_filter){0}, ev_ts, ag_pk);
	expect_plan(fx->st, (struct store_filter){.domain = "alpha.com"}, ev_ts, ag_pk);
	expect_plan(fx->st, (struct store_filter){.domain = "x.alpha.com"}, ev_ts, ag_pk);
	expect_plan(fx->st, (struct store_filter){.ip = "192.0.2.1"}, ev_ts, ag_pk);
	expect_plan(fx->st, (struct store_filter){.type = "http"},
		    "USING INDEX events_kind (kind=? AND rowid>? AND rowid<?)", NULL);
	expect_plan(fx->st, (struct store_filter){.type = "AAAA", .since_ns = T0_NS}, ev_ts,
		    ag_pk);
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

static void test_zones_reuse(void **state)
{
	struct fixture *fx = *state;
	struct sinkd_event ev[100];
	struct store_stats s;
	for (int i = 0; i < 100; i++)
		ev[i] = dns_event(T0_NS + (uint64_t)i * 60 * SEC_NS, "192.0.2.1", 1, "alpha.com",
				  i % 2 ? "www.alpha.com" : "alpha.com", 1, 0);
	assert_int_equal(store_write(fx->st, ev, 50, true), 0);
	assert_int_equal(store_write(fx->st, ev + 50, 50, false), 0);
	assert_int_equal(sql_int(fx->tmp.db, "SELECT COUNT(*) FROM zones"), 1);
	/* Zone lookups for every aggregate key and row: only the first misses. */
	store_stats(fx->st, &s);
	assert_int_equal(s.cache_misses, 1);
	assert_true(s.cache_hits >= 100 + 50 - 1);
	/* Query names are stored inline, as sent. */
	assert_int_equal(sql_int(fx->tmp.db, "SELECT COUNT(DISTINCT qname) FROM events"), 2);
	assert_int_equal(sql_int(fx->tmp.db, "SELECT COUNT(*) FROM dns_minute"
					     " WHERE qname = 'www.alpha.com'"),
			 50);
	/* A new handle starts with an empty cache and finds the stored ids. */
	store_close(fx->st);
	assert_int_equal(store_open(&fx->st, fx->tmp.db, false), 0);
	assert_int_equal(store_write(fx->st, ev, 10, true), 0);
	assert_int_equal(sql_int(fx->tmp.db, "SELECT COUNT(*) FROM zones"), 1);
	assert_int_equal(sql_int(fx->tmp.db, "SELECT COUNT(DISTINCT zone_id) FROM events"), 1);
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
	/* Zones and event rows are written before the failing upsert. */
	assert_int_equal(store_write(fx->st, ev + 1, 2, true), SINKD_ESTORE);
	store_stats(fx->st, &s);
	assert_int_equal(s.batch_failures, 1);
	totals(fx->st, 1, 1);
	assert_int_equal(sql_int(fx->tmp.db, "SELECT COUNT(*) FROM zones"), 1);

	assert_int_equal(sql_exec(fx->tmp.db, "DROP TRIGGER fail"), SQLITE_OK);
	/* Another zone now takes beta.net's rolled-back id: no stale cached
	 * id may point a row at the wrong zone. */
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
	c = query(fx->st, &(struct store_filter){.domain = "beta.net"});
	assert_int_equal(c->n, 1);
	assert_string_equal(c->rows[0].ev.qname, "three.beta.net");
	assert_string_equal(c->rows[0].ev.zone, "beta.net");
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

/* Event ids are time keys: ts_ns when free, else the next free nanosecond;
 * in-order rows go through multi-row INSERTs, late ones to their place. */
static void test_event_ids_are_time_keys(void **state)
{
	struct fixture *fx = *state;
	const char *db = fx->tmp.db;
	enum { N = 100 }; /* three full multi-row groups and a remainder */
	struct sinkd_event ev[N], late[4];
	for (int i = 0; i < N; i++)
		ev[i] = dns_event(T0_NS + (uint64_t)i * 1000, "192.0.2.1", (uint16_t)i, "alpha.com",
				  "alpha.com", 1, 0);
	assert_int_equal(store_write_aggs(fx->st, NULL, 0, ev, N), 0);
	assert_int_equal(sql_int(db, "SELECT COUNT(*) FROM events WHERE id = ts_ns"), N);
	/* Late: a taken nanosecond, an older one; then three at once, newest. */
	late[0] = dns_event(T0_NS + 5000, "192.0.2.2", 1, "alpha.com", "a.alpha.com", 1, 0);
	late[1] = dns_event(T0_NS - 7, "192.0.2.2", 2, "alpha.com", "b.alpha.com", 1, 0);
	late[2] = dns_event(T0_NS + SEC_NS, "192.0.2.2", 3, "alpha.com", "c.alpha.com", 1, 0);
	late[3] = late[2];
	assert_int_equal(store_write(fx->st, late, 4, true), 0);
	assert_int_equal(sql_int(db, "SELECT id - ts_ns FROM events WHERE src_port = 1 AND"
				     " src_ip = x'00000000000000000000ffffc0000202'"),
			 1);
	assert_int_equal(sql_int(db, "SELECT id - ts_ns FROM events WHERE src_port = 2 AND"
				     " src_ip = x'00000000000000000000ffffc0000202'"),
			 0);
	assert_int_equal(sql_int(db, "SELECT group_concat(id - ts_ns) = '0,1' FROM (SELECT *"
				     " FROM events WHERE qname = 'c.alpha.com' ORDER BY id)"),
			 1);
	totals(fx->st, 4, N + 4);
	struct collect *c = query(fx->st, &(struct store_filter){.limit = 1000});
	assert_int_equal(c->n, N + 4);
	for (size_t i = 1; i < c->n; i++)
		assert_true(c->rows[i - 1].ev.ts_ns >= c->rows[i].ev.ts_ns);
	assert_string_equal(c->rows[N + 3].ev.qname, "b.alpha.com");
	/* 70 late events in one nanosecond: 64 probes each at most, then the
	 * rest go after the newest row. */
	struct sinkd_event *same = calloc(70, sizeof(*same));
	for (int i = 0; i < 70; i++)
		same[i] = dns_event(T0_NS + 500, "192.0.2.3", (uint16_t)i, "alpha.com",
				    "s.alpha.com", 1, 0);
	assert_int_equal(store_write_aggs(fx->st, NULL, 0, same, 70), 0);
	free(same);
	assert_int_equal(sql_int(db, "SELECT COUNT(*) FROM events WHERE qname = 's.alpha.com'"
				     " AND id < ts_ns + 64"),
			 64);
	assert_int_equal(sql_int(db, "SELECT COUNT(*) FROM events WHERE qname = 's.alpha.com'"
				     " AND id > ts_ns + 1000"),
			 6);
	assert_int_equal(sql_int(db, "SELECT COUNT(DISTINCT id) FROM events"), N + 4 + 70);
}

/* A rolled-back batch gives its ids back: the next batch appends from the
 * last committed row, and a new handle starts from the newest row. */
static void test_event_ids_after_rollback(void **state)
{
	struct fixture *fx = *state;
	const char *db = fx->tmp.db;
	struct sinkd_event a = dns_event(T0_NS, "192.0.2.1", 1, "alpha.com", "alpha.com", 1, 0);
	struct sinkd_event b = a, c = a;
	b.ts_ns = T0_NS + 10 * SEC_NS;
	c.ts_ns = T0_NS + 5 * SEC_NS;
	assert_int_equal(store_write(fx->st, &a, 1, true), 0);
	assert_int_equal(sql_exec(db, "CREATE TRIGGER fail BEFORE INSERT ON dns_minute"
				      " BEGIN SELECT RAISE(ABORT, 'injected'); END"),
			 SQLITE_OK);
	assert_int_equal(store_write(fx->st, &b, 1, true), SINKD_ESTORE);
	assert_int_equal(fx->st->rows.last_id, (int64_t)T0_NS); /* else c would be "late" */
	assert_int_equal(sql_exec(db, "DROP TRIGGER fail"), SQLITE_OK);
	assert_int_equal(store_write(fx->st, &c, 1, true), 0);
	store_close(fx->st);
	assert_int_equal(store_open(&fx->st, db, false), 0);
	assert_int_equal(fx->st->rows.last_id, (int64_t)(T0_NS + 5 * SEC_NS));
	c.ts_ns = T0_NS + 6 * SEC_NS;
	assert_int_equal(store_write(fx->st, &c, 1, true), 0);
	c.ts_ns = T0_NS + 6 * SEC_NS; /* same nanosecond, new handle */
	assert_int_equal(store_write(fx->st, &c, 1, true), 0);
	assert_int_equal(sql_int(db, "SELECT group_concat(id - ts_ns) = '0,0,0,1' FROM"
				     " (SELECT * FROM events ORDER BY id)"),
			 1);
}

/* A v1 store (the real migration 1 SQL) with data in every table: three
 * DNS rows (ids 7, 8 and 10; the first two in the same nanosecond, the
 * third one nanosecond later) and an HTTP row (id 9, last in time). */
static void make_v1_store(const char *db)
{
	char *sql = NULL;
	assert_int_equal(sql_exec(db, "PRAGMA journal_mode=WAL"), SQLITE_OK);
	assert_int_equal(sql_exec(db, store_schema_sql(1)), SQLITE_OK);
	assert_int_equal(
	    sql_exec(db, "INSERT INTO names(id, name) VALUES (1, 'alpha.com'), (2, 'x.alpha.com'),"
			 " (3, ''), (4, 'other.org'), (5, 'unused.example');"
			 "INSERT INTO labels(id, name) VALUES (1, 'waledac');"
			 "PRAGMA user_version = 1; PRAGMA application_id = 1936420452;"),
	    SQLITE_OK);
	/* minute T0 and T0+60 s; resolvers 192.0.2.1 and 2001:db8::1 */
	sql = sqlite3_mprintf(
	    "INSERT INTO dns_minute VALUES"
	    " (%lld, x'00000000000000000000ffffc0000201', 1, 2, 1, 0, 5, 1),"
	    " (%lld, x'20010db8000000000000000000000001', 3, 4, 28, 3, 2, 0);"
	    "INSERT INTO events(id, ts_ns, kind, transport, flags, worker, src_ip, src_port,"
	    " dst_ip, dst_port, zone_id, qname_id, qtype, qclass, rcode, msg_size) VALUES"
	    " (7, %lld, 1, 1, 0, 0, x'00000000000000000000ffffc0000201', 1234,"
	    "  x'00000000000000000000ffff7f000001', 53, 1, 2, 1, 1, 0, 40),"
	    " (8, %lld, 1, 1, 0, 0, x'00000000000000000000ffffc0000201', 1235,"
	    "  x'00000000000000000000ffff7f000001', 53, 1, 2, 1, 1, 0, 40),"
	    " (10, %lld, 1, 1, 0, 0, x'00000000000000000000ffffc0000201', 1236,"
	    "  x'00000000000000000000ffff7f000001', 53, 1, 2, 1, 1, 0, 40);"
	    "INSERT INTO events(id, ts_ns, kind, transport, flags, worker, src_ip, src_port,"
	    " dst_ip, dst_port, family_id, country, asn) VALUES"
	    " (9, %lld, 2, 2, 0, 1, x'20010db8000000000000000000000001', 443,"
	    "  x'00000000000000000000ffff7f000001', 80, 1, 'NL', 64500);",
	    (long long)(T0_NS / SEC_NS), (long long)(T0_NS / SEC_NS + 60),
	    (long long)(T0_NS + 5 * SEC_NS), (long long)(T0_NS + 5 * SEC_NS),
	    (long long)(T0_NS + 5 * SEC_NS + 1), (long long)(T0_NS + 90 * SEC_NS));
	assert_int_equal(sql_exec(db, sql), SQLITE_OK);
	sqlite3_free(sql);
}

static void test_migrate_v1(void **state)
{
	struct fixture *fx = *state;
	const char *db = fx->tmp.db;
	store_close(fx->st); /* start over from an empty file */
	fx->st = NULL;
	unlink(db);
	make_v1_store(db);
	/* A reader never migrates. */
	assert_int_equal(store_open(&fx->st, db, true), SINKD_ESTORE);
	assert_int_equal(store_open(&fx->st, db, false), 0);
	assert_int_equal(sql_int(db, "PRAGMA user_version"), store_schema_version());
	assert_int_equal(sql_int(db, "SELECT COUNT(*) FROM sqlite_schema WHERE name IN"
				     " ('names', 'events_v1', 'dns_minute_v1', 'events_src',"
				     " 'events_zone', 'events_qname', 'dns_minute_zone')"),
			 0);
	/* Zones keep their ids; names that were only query names are gone. */
	assert_int_equal(sql_int(db, "SELECT group_concat(id || '=' || name) = '1=alpha.com,3='"
				     " FROM (SELECT * FROM zones ORDER BY id)"),
			 1);
	totals(fx->st, 7, 4);
	/* Ids become time keys: ts_ns, or the next free nanosecond. */
	assert_int_equal(sql_int(db, "SELECT group_concat((id - ts_ns) || ':' || src_port) ="
				     " '0:1234,1:1235,1:1236,0:443'"
				     " FROM (SELECT * FROM events ORDER BY id)"),
			 1);
	assert_int_equal(sql_int(db, "SELECT COUNT(*) FROM events_v WHERE src_port = 1234 AND"
				     " qname = 'x.alpha.com' AND zone = 'alpha.com' AND"
				     " src_ip = '192.0.2.1' AND time = '2026-11-26T00:00:05.000Z'"),
			 1);
	assert_int_equal(sql_int(db, "SELECT COUNT(*) FROM events_v WHERE kind = 2 AND"
				     " qname IS NULL AND family = 'waledac' AND asn = 64500"),
			 1);
	assert_int_equal(sql_int(db, "SELECT COUNT(*) FROM dns_minute_v WHERE"
				     " qname = 'other.org' AND zone = '' AND count = 2 AND"
				     " resolver = '2001:0db8:0000:0000:0000:0000:0000:0001'"),
			 1);
	struct collect *c = query(fx->st, &(struct store_filter){0});
	assert_int_equal(c->n, 6);
	assert_int_equal(c->sum, 1 + 2 + 3 + 4); /* http, other.org, 3 rows, unlogged */
	assert_int_equal(c->rows[0].ev.kind, EVENT_HTTP);
	assert_string_equal(c->rows[0].ev.family, "waledac");
	assert_string_equal(c->rows[0].ev.country, "NL");
	assert_true(c->rows[1].aggregate);
	assert_string_equal(c->rows[1].ev.qname, "other.org");
	assert_int_equal(c->rows[1].ev.rcode, 3);
	assert_int_equal(count_rows(fx->st, (struct store_filter){.domain = "alpha.com"}), 4);
	assert_int_equal(count_rows(fx->st, (struct store_filter){.domain = "x.alpha.com"}), 4);
	assert_int_equal(count_rows(fx->st, (struct store_filter){.domain = "other.org"}), 1);
	/* Writing goes on where v1 stopped: same keys, same zone ids. */
	struct sinkd_event ev =
	    dns_event(T0_NS + 10 * SEC_NS, "192.0.2.1", 1, "alpha.com", "x.alpha.com", 1, 0);
	assert_int_equal(store_write(fx->st, &ev, 1, false), 0);
	assert_int_equal(sql_int(db, "SELECT count FROM dns_minute WHERE qname = 'x.alpha.com'"),
			 6);
	assert_int_equal(sql_int(db, "SELECT COUNT(*) FROM zones"), 2);
	store_close(fx->st);
	assert_int_equal(store_open(&fx->st, db, true), 0);
	totals(fx->st, 8, 4);
}

/* n DNS events from one resolver, one per second from t0, all stored as
 * rows; names n<i>.alpha.com. */
static void write_rows(struct store *st, uint64_t t0, const char *ip, int n, bool every_query)
{
	struct sinkd_event *ev = calloc((size_t)n, sizeof(*ev));
	for (int i = 0; i < n; i++) {
		char name[64];
		snprintf(name, sizeof(name), "n%d.alpha.com", i);
		ev[i] = dns_event(t0 + (uint64_t)i * SEC_NS, ip, 1, "alpha.com", name, 1, 0);
	}
	assert_int_equal(store_write(st, ev, (size_t)n, every_query), 0);
	free(ev);
}

/* A filter without an index examines rows in time order and gives up after
 * scan_max of them on each side, whether they match or not. */
static void test_scan_budget(void **state)
{
	struct fixture *fx = *state;
	struct store_scan scan;
	struct collect c = {0};
	write_rows(fx->st, T0_NS, "192.0.2.1", 1000, true);
	/* Oldest and newest rows match; the budget ends the walk between. */
	struct store_filter f = {.domain = "n999.alpha.com", .scan_max = 100};
	assert_int_equal(store_query_scan(fx->st, &f, collect_cb, &c, &scan), 0);
	assert_int_equal(c.n, 1);
	assert_true(scan.stopped);
	/* Events stopped at 00:14:59; aggregates in minute 00:14, so not
	 * complete before 00:15. */
	assert_int_equal(scan.stopped_ns, T0_NS + 900 * SEC_NS);
	assert_true(scan.scanned >= 100 && scan.scanned <= 300);
	memset(&c, 0, sizeof(c));
	f = (struct store_filter){.domain = "n0.alpha.com", .scan_max = 100};
	assert_int_equal(store_query_scan(fx->st, &f, collect_cb, &c, &scan), 0);
	assert_int_equal(c.n, 0);
	assert_true(scan.stopped);
	/* Narrowing the time range reaches it. */
	f.until_ns = T0_NS + 50 * SEC_NS;
	assert_int_equal(store_query_scan(fx->st, &f, collect_cb, &c, &scan), 0);
	assert_int_equal(c.n, 1);
	assert_false(scan.stopped);
	/* The default budget covers this store; a matching filter stops at the
	 * limit, not the budget. */
	f = (struct store_filter){.domain = "n0.alpha.com"};
	memset(&c, 0, sizeof(c));
	assert_int_equal(store_query_scan(fx->st, &f, collect_cb, &c, &scan), 0);
	assert_int_equal(c.n, 1);
	assert_false(scan.stopped);
	f = (struct store_filter){.domain = "alpha.com", .limit = 10, .scan_max = 100};
	assert_int_equal(store_query_scan(fx->st, &f, collect_cb, &c, &scan), 0);
	assert_false(scan.stopped);
	assert_true(scan.scanned <= 3 * 10 + 3);
	assert_int_equal(count_rows(fx->st, (struct store_filter){.ip = "192.0.2.1"}), 100);
}

/* When one side runs out of budget, the other side's older rows are not
 * shown either: the output is complete from stopped_ns on, or it says so. */
static void test_scan_budget_cuts_both_sides(void **state)
{
	struct fixture *fx = *state;
	struct store_scan scan;
	struct collect c = {0};
	/* Old aggregates from 192.0.2.2, then 1000 logged rows in one minute. */
	for (int m = 0; m < 10; m++)
		write_rows(fx->st, T0_NS + (uint64_t)m * 60 * SEC_NS, "192.0.2.2", 1, false);
	for (int i = 0; i < 10; i++) {
		struct sinkd_event ev[100];
		for (int k = 0; k < 100; k++)
			ev[k] = dns_event(T0_NS + 3600 * SEC_NS + (uint64_t)(i * 100 + k) * 1000000,
					  "192.0.2.1", 1, "alpha.com", "alpha.com", 1, 0);
		assert_int_equal(store_write(fx->st, ev, 100, true), 0);
	}
	struct store_filter f = {.ip = "192.0.2.2", .scan_max = 50};
	assert_int_equal(store_query_scan(fx->st, &f, collect_cb, &c, &scan), 0);
	assert_int_equal(c.n, 0);
	assert_true(scan.stopped);
	assert_true(scan.stopped_ns >= T0_NS + 3600 * SEC_NS);
	f.scan_max = 0;
	assert_int_equal(store_query_scan(fx->st, &f, collect_cb, &c, &scan), 0);
	assert_int_equal(c.n, 10);
	assert_false(scan.stopped);
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
	    cmocka_unit_test_setup_teardown(test_query_plans_walk_time_order, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_zones_reuse, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_failed_write_rolls_back, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_read_only, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_totals_mixed, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_event_ids_are_time_keys, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_event_ids_after_rollback, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_migrate_v1, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_scan_budget, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_scan_budget_cuts_both_sides, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
