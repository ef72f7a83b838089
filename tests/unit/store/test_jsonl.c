/* [store] jsonl: the line of each event row equals what `sinkd events
 * --format json` prints for the stored row (body hash and TLS hello JSON
 * check included), and a reopen after a move writes the new file. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "core/error.h"
#include "store/store.h"
#include "store_test_util.h"

struct lines {
	char *text[8];
	size_t n;
};

static int collect(const struct store_row *row, void *ctx)
{
	struct lines *l = ctx;
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	assert_int_equal(store_row_json(f, row), 0);
	fclose(f);
	l->text[l->n++] = buf;
	return 0;
}

static char *slurp(const char *path)
{
	FILE *f = fopen(path, "r");
	assert_non_null(f);
	static char buf[65536];
	size_t n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	return buf;
}

static void test_lines_equal_stored_rows(void **state)
{
	struct tmpdir t;
	tmpdir_make(&t);
	char path[700], moved[720];
	snprintf(path, sizeof(path), "%s/events.jsonl", t.dir);
	snprintf(moved, sizeof(moved), "%s.1", path);
	struct store *st;
	assert_int_equal(store_open(&st, t.db, false), 0);
	struct store_jsonl *j;
	assert_int_equal(store_jsonl_open(&j, path), 0);

	uint8_t b1[4096], b2[4096];
	struct sinkd_event ev[2];
	ev[0] = cap_event(EVENT_HTTP, T0_NS, "192.0.2.7", 40000, 80, 1, b1);
	strcpy(ev[0].http_method, "POST");
	ev[0].http_version = 11;
	ev[0].http_status = 200;
	strcpy(ev[0].qname, "www.seized.example");
	cap_text(&ev[0], sizeof(b1), EVP_TARGET, "/abc.png");
	cap_text(&ev[0], sizeof(b1), EVP_HEADERS, "Host: www.seized.example\r\n");
	cap_text(&ev[0], sizeof(b1), EVP_USER_AGENT, "Mozilla");
	cap_text(&ev[0], sizeof(b1), EVP_BODY, "a=QUJD&b=eHl6");
	ev[0].body_len = 13;
	ev[1] = cap_event(EVENT_TLS, T0_NS + SEC_NS, "2001:db8::5", 40001, 443, 2, b2);
	strcpy(ev[1].qname, "www.seized.example");
	cap_text(&ev[1], sizeof(b2), EVP_TLS_JA3_MD5, "0123456789abcdef0123456789abcdef");
	cap_text(&ev[1], sizeof(b2), EVP_TLS_HELLO, "{\"version\":771}");

	assert_int_equal(store_write(st, ev, 2, false), 0);
	assert_int_equal(store_jsonl_write(j, ev, 2), 0);

	/* What the store gives back, oldest first, is what the file holds. */
	struct lines l = {0};
	struct store_filter f = {0};
	assert_int_equal(store_query(st, &f, collect, &l), 0);
	assert_int_equal(l.n, 2);
	char want[65536];
	snprintf(want, sizeof(want), "%s%s", l.text[1], l.text[0]);
	assert_string_equal(slurp(path), want);
	assert_non_null(strstr(want, "\"body_sha256\":\""));
	assert_non_null(strstr(want, "\"hello\":{"));

	/* logrotate: move, ask for a reopen, the next batch goes to the path. */
	assert_int_equal(rename(path, moved), 0);
	store_jsonl_reopen(j);
	struct sinkd_event one = ev[0];
	one.ts_ns += 5 * SEC_NS;
	assert_int_equal(store_jsonl_write(j, &one, 1), 0);
	assert_string_equal(slurp(moved), want);
	char *fresh = slurp(path);
	assert_non_null(strstr(fresh, "\"kind\":\"http\""));
	assert_int_equal(strchr(fresh, '\n') - fresh + 1, (long)strlen(fresh)); /* one line */
	uint64_t lines, errors;
	store_jsonl_counts(j, &lines, &errors);
	assert_int_equal(lines, 3);
	assert_int_equal(errors, 0);

	for (size_t i = 0; i < l.n; i++)
		free(l.text[i]);
	store_jsonl_close(j);
	store_close(st);
	tmpdir_remove(&t);
}

static void test_unwritable_path_is_an_error(void **state)
{
	struct store_jsonl *j = (struct store_jsonl *)1;
	assert_int_equal(store_jsonl_open(&j, "/nonexistent-dir/events.jsonl"), SINKD_EIO);
	assert_null(j);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_lines_equal_stored_rows),
	    cmocka_unit_test(test_unwritable_path_is_an_error),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
