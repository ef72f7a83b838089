/* Unit tests: recording a round (store domain_status, previous state,
 * changed), the on_change hook process, the metrics file. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "core/error.h"
#include "monitor/monitor_internal.h"
#include "store/store.h"

static char tmpdir[512];

static int setup_tmp(void **state)
{
	const char *base = getenv("SINKD_TEST_TMP");
	if (base) {
		mkdir(base, 0755);
		snprintf(tmpdir, sizeof(tmpdir), "%s/monitor.XXXXXX", base);
	} else {
		snprintf(tmpdir, sizeof(tmpdir), "/tmp/sinkd-monitor.XXXXXX");
	}
	return mkdtemp(tmpdir) ? 0 : -1;
}

static int teardown_tmp(void **state)
{
	char cmd[600];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	return system(cmd) == 0 ? 0 : -1;
}

static const char *path_of(const char *name)
{
	static char path[4][700];
	static int next;
	char *p = path[next++ % 4];
	snprintf(p, sizeof(path[0]), "%s/%s", tmpdir, name);
	return p;
}

static const char *script(const char *name, const char *body)
{
	const char *p = path_of(name);
	FILE *f = fopen(p, "w");
	assert_non_null(f);
	fprintf(f, "#!/bin/sh\n%s\n", body);
	fclose(f);
	chmod(p, 0755);
	return p;
}

static char *slurp(const char *path)
{
	static char buf[65536];
	FILE *f = fopen(path, "r");
	if (f == NULL)
		return NULL;
	size_t n = fread(buf, 1, sizeof(buf) - 1, f);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

static long count_rows(const char *db, const char *where)
{
	sqlite3 *h;
	sqlite3_stmt *st;
	char sql[256];
	snprintf(sql, sizeof(sql), "SELECT COUNT(*) FROM domain_status WHERE %s", where);
	assert_int_equal(sqlite3_open_v2(db, &h, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(h, sql, -1, &st, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	long n = (long)sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	sqlite3_close(h);
	return n;
}

static void test_store_records_changes_only(void **state)
{
	const char *db = path_of("status.db");
	struct store *st;
	assert_int_equal(store_open(&st, db, false), 0);
	struct store_status rows[2] = {{.domain = "a.example", .state = "ok", .details = "{}"},
				       {.domain = "b.example", .state = "lame", .details = "{}"}};
	assert_int_equal(store_status_record(st, 1000, "test", rows, 2), 0);
	assert_true(rows[0].changed && rows[1].changed);
	assert_string_equal(rows[0].previous, "");
	rows[1].state = "drifted";
	assert_int_equal(store_status_record(st, 1060, "test", rows, 2), 0);
	assert_false(rows[0].changed);
	assert_string_equal(rows[0].previous, "ok");
	assert_true(rows[1].changed);
	assert_string_equal(rows[1].previous, "lame");
	store_close(st);
	assert_int_equal(count_rows(db, "1"), 3);
	assert_int_equal(count_rows(db, "domain = 'b.example' AND old_state = 'lame' AND "
					"new_state = 'drifted' AND ts = 1060 AND source = 'test'"),
			 1);
	assert_int_equal(count_rows(db, "domain = 'a.example' AND old_state IS NULL"), 1);

	assert_int_equal(store_open(&st, db, true), 0);
	assert_int_equal(store_status_record(st, 1, "test", rows, 2), SINKD_EINVAL);
	store_close(st);
}

static void result(struct mon_result *r, const char *domain, enum monitor_state s)
{
	memset(r, 0, sizeof(*r));
	strcpy(r->domain, domain);
	r->state = s;
	snprintf(r->summary, sizeof(r->summary), "%s is %s", domain, monitor_state_name(s));
	r->details = strdup("{\"k\":true}");
}

static void test_round_record_hook_and_metrics(void **state)
{
	struct mon_settings set;
	memset(&set, 0, sizeof(set));
	const char *out = path_of("hook.out");
	char body[800];
	snprintf(body, sizeof(body), "cat >> '%s'", out);
	strcpy(set.on_change, script("hook.sh", body));
	strcpy(set.metrics_file, path_of("metrics.prom"));
	struct store *st;
	assert_int_equal(store_open(&st, path_of("round.db"), false), 0);

	struct mon_result res[2];
	struct monitor_stats stats = {0};
	result(&res[0], "fine.example", MONITOR_OK);
	result(&res[1], "bad.example", MONITOR_DRIFTED);
	assert_int_equal(mon_round_record(&set, st, "test", res, 2, &stats), 0);
	assert_true(res[0].changed && res[1].changed);
	assert_int_equal(stats.changes, 2);
	assert_int_equal(stats.hook_runs, 1);
	assert_int_equal(stats.hook_failures, 0);
	assert_int_equal(stats.domains[MONITOR_DRIFTED], 1);
	char *text = slurp(out);
	assert_non_null(text);
	assert_non_null(strstr(text, "\"domain\":\"bad.example\",\"old_state\":null,"
				     "\"new_state\":\"drifted\""));
	assert_null(strstr(text, "fine.example")); /* first check, ok: no news */
	text = slurp(set.metrics_file);
	assert_non_null(strstr(text, "domain=\"bad.example\",state=\"drifted\"} 1\n"));
	assert_non_null(strstr(text, "sinkd_monitor_rounds_total 1\n"));
	mon_result_clear(&res[0]);
	mon_result_clear(&res[1]);

	/* Same states again: nothing changed, no hook run. */
	result(&res[0], "fine.example", MONITOR_OK);
	result(&res[1], "bad.example", MONITOR_DRIFTED);
	assert_int_equal(mon_round_record(&set, st, "test", res, 2, &stats), 0);
	assert_false(res[0].changed || res[1].changed);
	assert_string_equal(res[1].previous, "drifted");
	assert_int_equal(stats.hook_runs, 1);
	mon_result_clear(&res[1]);
	/* Back to ok: news. */
	result(&res[1], "bad.example", MONITOR_OK);
	assert_int_equal(mon_round_record(&set, st, "test", res, 2, &stats), 0);
	assert_int_equal(stats.hook_runs, 2);
	assert_non_null(strstr(slurp(out), "\"old_state\":\"drifted\",\"new_state\":\"ok\""));
	mon_result_clear(&res[0]);
	mon_result_clear(&res[1]);
	store_close(st);
}

static double elapsed(const struct timespec *t0)
{
	struct timespec t1;
	clock_gettime(CLOCK_MONOTONIC, &t1);
	return (double)(t1.tv_sec - t0->tv_sec) + (double)(t1.tv_nsec - t0->tv_nsec) / 1e9;
}

static void test_hook_process(void **state)
{
	const char *copy = path_of("copy.out");
	char body[800];
	snprintf(body, sizeof(body), "cat > '%s'", copy);
	assert_int_equal(mon_hook_run(script("copy.sh", body), "{\"x\":1}\n", 8, 5), 0);
	assert_string_equal(slurp(copy), "{\"x\":1}\n");

	assert_int_equal(mon_hook_run(script("fail.sh", "cat >/dev/null; exit 3"), "{}", 2, 5),
			 SINKD_EIO);
	assert_int_equal(mon_hook_run(path_of("missing.sh"), "{}", 2, 5), SINKD_EIO);

	/* A program that never reads a large input and exits: not an error. */
	size_t big = 1 << 20;
	char *json = malloc(big);
	memset(json, ' ', big);
	assert_int_equal(mon_hook_run(script("noread.sh", "exit 0"), json, big, 5), 0);
	free(json);

	/* One that hangs is killed at the deadline. */
	struct timespec t0;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	assert_int_equal(mon_hook_run(script("hang.sh", "exec sleep 30"), "{}", 2, 1), SINKD_EIO);
	assert_true(elapsed(&t0) < 5.0);
}

/* The serve thread: a round at start, counters, metrics, prompt stop. The
 * root hint is a closed port: every domain is unresolvable at once. */
static void test_thread_rounds_and_stops(void **state)
{
	static struct sinkd_config cfg;
	config_defaults(&cfg);
	cfg.monitor_enabled = true;
	cfg.monitor_interval_s = 3600;
	cfg.n_monitor_root_hint = 1;
	assert_int_equal(config_parse_server("127.0.0.1:9", &cfg.monitor_root_hint[0]), 0);
	cfg.monitor_ipv6 = false;
	FILE *f = fopen(path_of("list.txt"), "w");
	fputs("one.example\ntwo.example\n", f);
	fclose(f);
	strcpy(cfg.domains_file, path_of("list.txt"));
	strcpy(cfg.store_path, path_of("thread.db"));

	struct monitor *m;
	assert_int_equal(monitor_new(&m, &cfg), 0);
	assert_non_null(m);
	assert_int_equal(monitor_start(m), 0);
	struct monitor_stats st = {0};
	for (int i = 0; i < 500 && st.rounds == 0; i++) {
		struct timespec ts = {.tv_nsec = 10 * 1000000};
		nanosleep(&ts, NULL);
		monitor_stats(m, &st);
	}
	assert_int_equal(st.rounds, 1);
	assert_int_equal(st.domains[MONITOR_UNRESOLVABLE], 2);
	assert_int_equal(st.changes, 2);
	char *text = NULL;
	size_t len = 0;
	FILE *mem = open_memstream(&text, &len);
	assert_int_equal(monitor_metrics(m, mem), 0);
	fclose(mem);
	assert_non_null(strstr(
	    text, "sinkd_monitor_domain_state{domain=\"two.example\",state=\"unresolvable\"} 1"));
	free(text);
	monitor_reload(m, &cfg);
	struct timespec t0;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	monitor_free(m); /* waiting for the next round: returns at once */
	assert_true(elapsed(&t0) < 2.0);

	cfg.monitor_enabled = false;
	assert_int_equal(monitor_new(&m, &cfg), 0);
	assert_null(m);
	monitor_stats(m, &st);
	assert_int_equal(st.rounds, 0);
	monitor_free(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_store_records_changes_only),
	    cmocka_unit_test(test_round_record_hook_and_metrics),
	    cmocka_unit_test(test_hook_process),
	    cmocka_unit_test(test_thread_rounds_and_stops),
	};
	return cmocka_run_group_tests(tests, setup_tmp, teardown_tmp);
}
