/* Kelihos and generic decoders: good and malformed inputs. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "decode_test_util.h"

static struct test_event t;

static const uint8_t kmagic[] = {0x01, 0x02, 0x01, 0x01, 0x01, 0x01, 0x02, 0x01};

static void test_kelihos_binary(void **state)
{
	struct decode_env *env = test_env(NULL, 0, NULL);
	uint8_t body[64];
	memcpy(body, kmagic, 8);
	memset(body + 8, 0xab, sizeof(body) - 8);
	test_event_http(&t, "GET", "/", "Host: 10.0.0.1\r\nContent-Length: 64\r\n", body, 64);
	assert_int_equal(decode_event(env, "kelihos", NULL, &t.ev), 0);
	assert_string_equal(t.ev.decode_status, "ok");
	assert_string_equal(t.ev.msg_type, "binary");
	assert_string_equal(t.ev.bot_id, "");

	test_event_http(&t, "GET", "/", "Content-Length: 63\r\n", body, 64);
	assert_int_equal(decode_event(env, "kelihos", NULL, &t.ev), SINKD_EMALF);
	assert_string_equal(t.ev.decode_status, "length-mismatch");
	test_event_http(&t, "GET", "/", "Content-Length: 64\r\n", body, 64);
	t.ev.body_len = 100000; /* cut at the capture bound */
	t.ev.flags |= EVF_BODY_TRUNCATED;
	assert_int_equal(decode_event(env, "kelihos", NULL, &t.ev), 0);
	test_event_http(&t, "GET", "/", NULL, body, 64);
	decode_event(env, "kelihos", NULL, &t.ev);
	assert_string_equal(t.ev.decode_status, "no-content-length");
	test_event_http(&t, "GET", "/", "Content-Length: 7\r\n", body, 7);
	decode_event(env, "kelihos", NULL, &t.ev);
	assert_string_equal(t.ev.decode_status, "short-body");
	body[3] = 9;
	test_event_http(&t, "GET", "/", "Content-Length: 64\r\n", body, 64);
	decode_event(env, "kelihos", NULL, &t.ev);
	assert_string_equal(t.ev.decode_status, "bad-magic");
	test_event_http(&t, "GET", "/", NULL, NULL, 0);
	decode_event(env, "kelihos", NULL, &t.ev);
	assert_string_equal(t.ev.decode_status, "no-body");
	test_event_http(&t, "GET", "/index.php", NULL, NULL, 0);
	decode_event(env, "kelihos", NULL, &t.ev);
	assert_string_equal(t.ev.decode_status, "not-kelihos");
	decode_env_free(env);
}

static void test_kelihos_fetch(void **state)
{
	struct decode_env *env = test_env(NULL, 0, NULL);
	const char *good[] = {"/search.htm", "/Home.htm?x=1", "/a.htm"};
	const char *bad[] = {"/.htm", "/se4rch.htm", "/search.html", "/x/y.htm", "search.htm", ""};
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		test_event_http(&t, "GET", good[i], "Host: 192.0.2.7\r\n", NULL, 0);
		assert_int_equal(decode_event(env, "kelihos", NULL, &t.ev), 0);
		assert_string_equal(t.ev.msg_type, "fetch");
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		test_event_http(&t, "GET", bad[i], NULL, NULL, 0);
		assert_int_equal(decode_event(env, "kelihos", NULL, &t.ev), SINKD_EMALF);
		assert_string_equal(t.ev.decode_status, "not-kelihos");
		assert_string_equal(t.ev.msg_type, "");
	}
	decode_env_free(env);
}

static int gen(struct decode_env *env, const char *arg, const char *target, const char *hdrs,
	       const char *body)
{
	test_event_http(&t, "GET", target, hdrs, body, body != NULL ? strlen(body) : 0);
	return decode_event(env, "generic", arg, &t.ev);
}

static void test_generic_param(void **state)
{
	struct decode_env *env = test_env(NULL, 0, NULL);
	assert_int_equal(gen(env, "param=id", "/gate.php?v=2&id=bot%2D42&x", NULL, NULL), 0);
	assert_string_equal(t.ev.bot_id, "bot-42");
	assert_string_equal(t.ev.decode_status, "ok");
	assert_int_equal(gen(env, "param=id", "/gate.php?uid=1", NULL, "a=1&id=fromform"), 0);
	assert_string_equal(t.ev.bot_id, "fromform");
	assert_int_equal(gen(env, "param=id", "/gate.php?uid=1#id=no", NULL, NULL), SINKD_EMALF);
	assert_string_equal(t.ev.decode_status, "no-bot-id");
	gen(env, "param=id", "/gate.php?id=", NULL, NULL);
	assert_string_equal(t.ev.decode_status, "no-bot-id");
	gen(env, "param=id", "/gate.php?id=%g1", NULL, NULL);
	assert_string_equal(t.ev.decode_status, "bad-form");
	gen(env, "param=id", "/gate.php?id=%01%02ab", NULL, NULL);
	assert_string_equal(t.ev.bot_id, "??ab"); /* control bytes never reach the store */
	/* longer than the field: truncated */
	char target[300] = "/?id=";
	memset(target + 5, 'x', 200);
	target[205] = '\0';
	assert_int_equal(gen(env, "param=id", target, NULL, NULL), 0);
	assert_int_equal(strlen(t.ev.bot_id), EVENT_BOTID_MAX - 1);
	decode_env_free(env);
}

static void test_generic_header_regex(void **state)
{
	struct decode_env *env = test_env(NULL, 0, NULL);
	assert_int_equal(
	    gen(env, "header=X-Bot-Id", "/", "Host: a\r\nx-bot-id:  abc123 \r\n", NULL), 0);
	assert_string_equal(t.ev.bot_id, "abc123");
	assert_int_equal(gen(env, "header=X-Bot-Id", "/", "Host: a\r\nX-Bot: 1\r\n", NULL),
			 SINKD_EMALF);
	assert_string_equal(t.ev.decode_status, "no-bot-id");
	assert_int_equal(gen(env, "regex=/c/([0-9a-f]{8})/", "/c/deadbeef/x", NULL, NULL), 0);
	assert_string_equal(t.ev.bot_id, "deadbeef");
	/* headers, then the body; no group: the whole match */
	assert_int_equal(gen(env, "regex=Cookie: sid=\\w+", "/", "Cookie: sid=q1\r\n", NULL), 0);
	assert_string_equal(t.ev.bot_id, "Cookie: sid=q1");
	assert_int_equal(gen(env, "regex=\"id\":\"([^\"]+)\"", "/", NULL, "{\"id\":\"B-7\"}"), 0);
	assert_string_equal(t.ev.bot_id, "B-7");
	assert_int_equal(gen(env, "regex=/c/([0-9a-f]{8})/", "/c/xyz/", NULL, NULL), SINKD_EMALF);
	assert_string_equal(t.ev.decode_status, "no-bot-id");
	/* an optional group that did not take part: the whole match */
	assert_int_equal(gen(env, "regex=k(x)?=\\d+", "/?k=5", NULL, NULL), 0);
	assert_string_equal(t.ev.bot_id, "k=5");
	/* catastrophic backtracking is cut off, not waited for */
	char evil[64];
	memset(evil, 'a', 40);
	strcpy(evil + 40, "!");
	char target3[80];
	snprintf(target3, sizeof(target3), "/%s", evil);
	assert_int_equal(gen(env, "regex=(a+)+$", target3, NULL, NULL), SINKD_EMALF);
	assert_string_equal(t.ev.decode_status, "regex-limit");
	/* many patterns: the cache replaces old ones and still answers right */
	char arg[64];
	for (int i = 0; i < 100; i++) {
		snprintf(arg, sizeof(arg), "regex=id%d=(\\d+)", i);
		char target2[64];
		snprintf(target2, sizeof(target2), "/?id%d=%d", i, i * 7);
		assert_int_equal(gen(env, arg, target2, NULL, NULL), 0);
		char want[16];
		snprintf(want, sizeof(want), "%d", i * 7);
		assert_string_equal(t.ev.bot_id, want);
	}
	decode_env_free(env);
}

static void test_generic_bad_args(void **state)
{
	struct decode_env *env = test_env(NULL, 0, NULL);
	const char *bad[] = {
	    NULL, "", "id", "param=", "header=", "regex=", "cookie=x", "regex=(ab"};
	char err[256];
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(gen(env, bad[i], "/?id=1", NULL, NULL), SINKD_EINVAL);
		assert_string_equal(t.ev.decode_status, "bad-arg");
		assert_int_equal(decode_check_arg("generic", bad[i], err, sizeof(err)),
				 SINKD_EINVAL);
		assert_int_equal(strncmp(err, "generic: ", 9), 0);
	}
	assert_int_equal(decode_check_arg("generic", "regex=(ab", err, sizeof(err)), SINKD_EINVAL);
	assert_non_null(strstr(err, "at offset 3"));
	assert_int_equal(decode_check_arg("generic", "regex=a(b)c", err, sizeof(err)), 0);
	assert_int_equal(decode_check_arg("generic", "header=X-Id", err, sizeof(err)), 0);
	assert_int_equal(decode_check_arg("kelihos", "x", err, sizeof(err)), SINKD_EINVAL);
	decode_env_free(env);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_kelihos_binary),   cmocka_unit_test(test_kelihos_fetch),
	    cmocka_unit_test(test_generic_param),    cmocka_unit_test(test_generic_header_regex),
	    cmocka_unit_test(test_generic_bad_args),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
