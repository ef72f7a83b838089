/* Enrichment against the shipped databases (third_party/node_modules),
 * user CSV files in both notations, and missing or broken databases that
 * must degrade to "unknown" without failing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "core/config.h"
#include "core/error.h"
#include "core/event.h"
#include "enrich/enrich.h"

static void ip_of(const char *text, uint8_t ip[16])
{
	struct event_addr a;
	assert_int_equal(event_addr_parse(&a, text), 0);
	memcpy(ip, a.ip, 16);
}

static char tmp_dir[512];

static const char *tmp_file(const char *name, const char *content)
{
	static char path[700];
	const char *base = getenv("SINKD_TEST_TMP");
	snprintf(tmp_dir, sizeof(tmp_dir), "%s/enrich", base != NULL ? base : "/tmp");
	mkdir(base != NULL ? base : "/tmp", 0755);
	mkdir(tmp_dir, 0755);
	snprintf(path, sizeof(path), "%s/%s", tmp_dir, name);
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs(content, f);
	fclose(f);
	return path;
}

static void test_shipped_defaults(void **state)
{
	struct sinkd_config cfg;
	config_defaults(&cfg);
	struct enrich *e;
	assert_int_equal(enrich_open(&e, &cfg), 0);
	struct enrich_stats st;
	enrich_stats(e, &st);
	assert_true(st.country_ok);
	assert_true(st.asn_ok);
	assert_true(st.asn_ranges > 400000); /* both CSV files */
	uint8_t ip[16];
	struct enrich_result r;
	ip_of("8.8.8.8", ip);
	enrich_lookup(e, ip, &r);
	assert_int_equal(r.asn, 15169);
	assert_string_equal(r.org, "Google LLC");
	assert_string_equal(r.country, "US");
	ip_of("2001:4860:4860::8888", ip);
	enrich_lookup(e, ip, &r);
	assert_int_equal(r.asn, 15169);
	assert_string_equal(r.country, "US");
	/* Private space: nothing known. */
	ip_of("10.1.2.3", ip);
	enrich_lookup(e, ip, &r);
	assert_int_equal(r.asn, 0);
	assert_string_equal(r.country, "");
	assert_string_equal(r.org, "");
	/* The second lookup of an address is a cache hit. */
	ip_of("8.8.8.8", ip);
	enrich_lookup(e, ip, &r);
	enrich_stats(e, &st);
	assert_int_equal(st.lookups, 4);
	assert_int_equal(st.cache_hits, 1);
	struct sinkd_event ev;
	memset(&ev, 0, sizeof(ev));
	ip_of("8.8.4.4", ev.src.ip);
	assert_string_equal(enrich_event(e, &ev), "Google LLC");
	assert_int_equal(ev.asn, 15169);
	assert_string_equal(ev.country, "US");
	enrich_close(e);
}

static void test_user_csv_both_notations(void **state)
{
	struct sinkd_config cfg;
	config_defaults(&cfg);
	cfg.enrich_country_db[0] = '\0';
	const char *p =
	    tmp_file("asn.csv", "start,end,asn,org\n"
				"192.0.2.0,192.0.2.127,64500,\"Example, \"\"One\"\"\"\n"
				"3325256704,3325256831,64501,Plain Two\n"
				"2001:db8::,2001:db8:ffff:ffff:ffff:ffff:ffff:ffff,64502,Six\n");
	snprintf(cfg.enrich_asn_csv, sizeof(cfg.enrich_asn_csv), "%s", p);
	struct enrich *e;
	assert_int_equal(enrich_open(&e, &cfg), 0);
	uint8_t ip[16];
	struct enrich_result r;
	ip_of("192.0.2.5", ip);
	enrich_lookup(e, ip, &r);
	assert_int_equal(r.asn, 64500);
	assert_string_equal(r.org, "Example, \"One\"");
	assert_string_equal(r.country, ""); /* no country database */
	ip_of("192.0.2.200", ip);	    /* after the range ends */
	enrich_lookup(e, ip, &r);
	assert_int_equal(r.asn, 0);
	ip_of("198.51.100.127", ip); /* 3325256831, numeric notation */
	enrich_lookup(e, ip, &r);
	assert_int_equal(r.asn, 64501);
	assert_string_equal(r.org, "Plain Two");
	ip_of("198.51.100.128", ip);
	enrich_lookup(e, ip, &r);
	assert_int_equal(r.asn, 0);
	ip_of("192.0.2.0", ip);
	ip[15] = 0; /* 3221225984 = 192.0.2.0 */
	enrich_lookup(e, ip, &r);
	assert_int_equal(r.asn, 64500);
	ip_of("2001:db8:1::9", ip);
	enrich_lookup(e, ip, &r);
	assert_int_equal(r.asn, 64502);
	assert_string_equal(r.org, "Six");
	enrich_close(e);
}

static void test_missing_and_broken_degrade(void **state)
{
	struct sinkd_config cfg;
	config_defaults(&cfg);
	snprintf(cfg.enrich_country_db, sizeof(cfg.enrich_country_db), "/nonexistent/x.mmdb");
	const char *bad = tmp_file("broken.mmdb", "this is not a MaxMind database\n");
	snprintf(cfg.enrich_asn_db, sizeof(cfg.enrich_asn_db), "%s", bad);
	cfg.enrich_asn_csv[0] = '\0';
	struct enrich *e;
	assert_int_equal(enrich_open(&e, &cfg), 0);
	struct enrich_stats st;
	enrich_stats(e, &st);
	assert_false(st.country_ok);
	assert_false(st.asn_ok);
	uint8_t ip[16];
	struct enrich_result r;
	ip_of("8.8.8.8", ip);
	enrich_lookup(e, ip, &r);
	assert_int_equal(r.asn, 0);
	assert_string_equal(r.country, "");
	enrich_close(e);

	/* A CSV with a bad line: warned, no ranges, still no failure. */
	config_defaults(&cfg);
	const char *csv = tmp_file("bad.csv", "1,2,3,a\nnot,a,line\n");
	snprintf(cfg.enrich_asn_csv, sizeof(cfg.enrich_asn_csv), "%s", csv);
	assert_int_equal(enrich_open(&e, &cfg), 0);
	enrich_stats(e, &st);
	assert_false(st.asn_ok);
	assert_true(st.country_ok);
	enrich_close(e);

	/* A bad lookup path is a configuration error. */
	config_defaults(&cfg);
	snprintf(cfg.enrich_country_path, sizeof(cfg.enrich_country_path), "country..iso_code");
	assert_int_equal(enrich_open(&e, &cfg), SINKD_EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_shipped_defaults),
	    cmocka_unit_test(test_user_csv_both_notations),
	    cmocka_unit_test(test_missing_and_broken_degrade),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
