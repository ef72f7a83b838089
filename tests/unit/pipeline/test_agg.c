/* The in-memory DNS aggregate table. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "core/error.h"
#include "pipeline/agg.h"

static void ev_init(struct sinkd_event *ev, uint64_t ts_s, const char *ip, const char *qname,
		    const char *zone, uint16_t qtype)
{
	memset(ev, 0, sizeof(*ev));
	ev->kind = EVENT_DNS;
	ev->ts_ns = ts_s * 1000000000ull;
	event_addr_parse(&ev->src, ip);
	snprintf(ev->qname, sizeof(ev->qname), "%s", qname);
	snprintf(ev->zone, sizeof(ev->zone), "%s", zone);
	ev->qtype = qtype;
}

static const struct store_dns_agg *find(struct agg *a, uint32_t minute, const char *qname,
					uint16_t qtype)
{
	const struct store_dns_agg *rows;
	size_t n;
	agg_rows(a, &rows, &n);
	for (size_t i = 0; i < n; i++) {
		if (rows[i].minute == minute && rows[i].qtype == qtype &&
		    strcmp(rows[i].qname, qname) == 0)
			return &rows[i];
	}
	return NULL;
}

static void test_counts_and_keys(void **state)
{
	struct agg *a = agg_new(1024);
	struct sinkd_event ev;
	for (int i = 0; i < 10; i++) {
		ev_init(&ev, 1700000000 + i, "192.0.2.1", "a.seized.com", "seized.com", 1);
		assert_int_equal(agg_add(a, &ev, i % 2 == 0), 0);
	}
	/* Same name, other minute / type / resolver / rcode: separate keys. */
	ev_init(&ev, 1700000000 + 120, "192.0.2.1", "a.seized.com", "seized.com", 1);
	agg_add(a, &ev, false);
	ev_init(&ev, 1700000000, "192.0.2.1", "a.seized.com", "seized.com", 28);
	agg_add(a, &ev, false);
	ev_init(&ev, 1700000000, "192.0.2.2", "a.seized.com", "seized.com", 1);
	agg_add(a, &ev, false);
	ev_init(&ev, 1700000000, "192.0.2.1", "a.seized.com", "seized.com", 1);
	ev.rcode = 5;
	agg_add(a, &ev, false);
	assert_int_equal(agg_count(a), 5);
	uint32_t m0 = 1700000000 / 60 * 60;
	const struct store_dns_agg *r = find(a, m0, "a.seized.com", 1);
	assert_non_null(r);
	assert_int_equal(r->count, 10);
	assert_int_equal(r->logged, 5);
	assert_string_equal(r->zone, "seized.com");
	assert_ptr_equal(r->zone, r->qname + 2); /* shares the name's bytes */
	assert_int_equal(agg_oldest_minute(a), m0);
	agg_reset(a);
	assert_int_equal(agg_count(a), 0);
	assert_int_equal(agg_oldest_minute(a), 0);
	/* Reusable after reset, keys found again. */
	ev_init(&ev, 1700000000, "192.0.2.1", "a.seized.com", "seized.com", 1);
	agg_add(a, &ev, false);
	agg_add(a, &ev, false);
	assert_int_equal(agg_count(a), 1);
	assert_int_equal(find(a, m0, "a.seized.com", 1)->count, 2);
	agg_free(a);
}

static void test_zone_not_a_suffix_and_empty(void **state)
{
	struct agg *a = agg_new(1024);
	struct sinkd_event ev;
	ev_init(&ev, 1700000000, "2001:db8::1", "example.org", "", 1);
	agg_add(a, &ev, false);
	ev_init(&ev, 1700000000, "2001:db8::1", "x.y", "other.zone", 1);
	agg_add(a, &ev, false);
	assert_string_equal(find(a, 1700000000 / 60 * 60, "example.org", 1)->zone, "");
	assert_string_equal(find(a, 1700000000 / 60 * 60, "x.y", 1)->zone, "other.zone");
	agg_free(a);
}

static void test_bounded(void **state)
{
	struct agg *a = agg_new(1024);
	struct sinkd_event ev;
	int added = 0;
	for (int i = 0; i < 5000; i++) {
		char name[64];
		snprintf(name, sizeof(name), "n%d.seized.com", i);
		ev_init(&ev, 1700000000, "192.0.2.1", name, "seized.com", 1);
		if (agg_add(a, &ev, false) == SINKD_EFULL)
			break;
		added++;
	}
	assert_int_equal(added, 1024);
	assert_true(agg_nearly_full(a));
	/* Existing keys still count when full. */
	ev_init(&ev, 1700000000, "192.0.2.1", "n5.seized.com", "seized.com", 1);
	assert_int_equal(agg_add(a, &ev, false), 0);
	agg_reset(a);
	assert_false(agg_nearly_full(a));
	agg_free(a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_counts_and_keys),
		cmocka_unit_test(test_zone_not_a_suffix_and_empty),
		cmocka_unit_test(test_bounded),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
