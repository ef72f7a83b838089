/* Waledac decoder: every step with good and malformed input, real
 * encrypted bodies from decode_waledac_build. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <zlib.h>

#include "decode_test_util.h"

static const uint8_t key1[16] = {0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77,
				 0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff};
static const uint8_t key2[16] = {0xde, 0xad, 0xbe, 0xef, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12};
static const char bot[] = "0123456789ABCDEF0123456789abcdef";

static struct test_event t;
static char body[EVENT_PAYLOAD_MAX];

static size_t build(uint8_t type, enum decode_compress c, const uint8_t *key, const uint8_t *iv)
{
	static const uint8_t b[] = {1, 2, 3, 4, 5, 6};
	struct decode_waledac_msg m = {.type = type,
				       .command = "notify",
				       .version = "43",
				       .bot_id = bot,
				       .key = key,
				       .iv = iv,
				       .compress = c,
				       .b = b,
				       .b_len = sizeof(b)};
	size_t len = 0;
	assert_int_equal(decode_waledac_build(&m, body, sizeof(body), &len), 0);
	assert_int_equal(len, strlen(body));
	return len;
}

static int run(struct decode_env *env, const char *text)
{
	test_event_http(&t, "POST", "/abcdef.png", "Referer: Mozilla\r\nUser-Agent: Mozilla\r\n",
			text, strlen(text));
	return decode_event(env, "waledac", NULL, &t.ev);
}

static void test_roundtrip_all_compressions(void **state)
{
	struct decode_env *env = test_env(&key1, 1, NULL);
	enum decode_compress cs[] = {DECODE_COMPRESS_NONE, DECODE_COMPRESS_ZLIB,
				     DECODE_COMPRESS_BZIP2};
	for (size_t i = 0; i < 3; i++) {
		build(DECODE_WALEDAC_NOTIFY, cs[i], key1, NULL);
		assert_int_equal(strncmp(body, "a=", 2), 0);
		assert_non_null(strstr(body, "&b=AQIDBAUG"));
		assert_int_equal(run(env, body), 0);
		assert_string_equal(t.ev.decode_status, "ok");
		assert_string_equal(t.ev.msg_type, "notify");
		assert_string_equal(t.ev.proto_version, "43");
		assert_string_equal(t.ev.bot_id, "0123456789abcdef0123456789abcdef");
	}
	decode_env_free(env);
}

static void test_no_key_envelope_only(void **state)
{
	struct decode_env *env = test_env(NULL, 0, NULL);
	build(DECODE_WALEDAC_GETKEY, DECODE_COMPRESS_ZLIB, key1, NULL);
	assert_int_equal(run(env, body), SINKD_EAGAIN);
	assert_string_equal(t.ev.decode_status, "no-key");
	assert_string_equal(t.ev.msg_type, "getkey");
	assert_string_equal(t.ev.bot_id, "");
	build(DECODE_WALEDAC_TASKREQ, DECODE_COMPRESS_NONE, key1, NULL);
	run(env, body);
	assert_string_equal(t.ev.msg_type, "taskreq");
	build(0x07, DECODE_COMPRESS_NONE, key1, NULL);
	run(env, body);
	assert_string_equal(t.ev.msg_type, "type 0x07");
	assert_string_equal(t.ev.decode_status, "no-key");
	decode_env_free(env);
}

static void test_keys_tried_in_order(void **state)
{
	const uint8_t keys[2][16] = {
	    {0xde, 0xad, 0xbe, 0xef, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12},
	    {0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd,
	     0xee, 0xff}};
	struct decode_env *env = test_env(keys, 2, NULL);
	build(DECODE_WALEDAC_NOTIFY, DECODE_COMPRESS_BZIP2, key1, NULL);
	assert_int_equal(run(env, body), 0);
	assert_string_equal(t.ev.bot_id, "0123456789abcdef0123456789abcdef");
	build(DECODE_WALEDAC_NOTIFY, DECODE_COMPRESS_NONE, key2, NULL);
	assert_int_equal(run(env, body), 0);
	decode_env_free(env);
}

static void test_wrong_key(void **state)
{
	struct decode_env *env = test_env(&key2, 1, NULL);
	enum decode_compress cs[] = {DECODE_COMPRESS_NONE, DECODE_COMPRESS_ZLIB,
				     DECODE_COMPRESS_BZIP2};
	for (size_t i = 0; i < 3; i++) {
		build(DECODE_WALEDAC_NOTIFY, cs[i], key1, NULL);
		assert_int_equal(run(env, body), SINKD_EMALF);
		assert_string_equal(t.ev.decode_status, "wrong-key");
		assert_string_equal(t.ev.msg_type, "notify"); /* the envelope's */
		assert_string_equal(t.ev.bot_id, "");
	}
	decode_env_free(env);
}

static void test_iv_configurable(void **state)
{
	const uint8_t iv[16] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};
	struct decode_env *zero = test_env(&key1, 1, NULL);
	struct decode_env *set = test_env(&key1, 1, "0102030405060708090a0b0c0d0e0f10");
	build(DECODE_WALEDAC_NOTIFY, DECODE_COMPRESS_NONE, key1, iv);
	assert_int_equal(run(set, body), 0);
	/* Under CBC a wrong IV garbles only the first block: "<lm><t>notify</t" */
	assert_int_not_equal(run(zero, body), 0);
	decode_env_free(zero);
	decode_env_free(set);
}

static void test_form_and_base64(void **state)
{
	struct decode_env *env = test_env(&key1, 1, NULL);
	struct {
		const char *body, *status;
	} cases[] = {
	    {"b=AAAA", "no-a-param"},
	    {"aa=AAAA&b=x", "no-a-param"},
	    {"a=%zzAAAA", "bad-form"},
	    {"a=AAAA%4", "bad-form"},
	    {"a=AA AA", "bad-form"},
	    {"a=A", "bad-base64"},
	    {"a=AAAAA", "bad-base64"},
	    {"a=AA*A", "bad-base64"},
	    {"a=", "bad-base64"},
	    {"a=AA=A", "bad-base64"},
	    {"a=AAA", "short-envelope"},		 /* 2 bytes */
	    {"a=AgAAAAA", "short-envelope"},		 /* 5 bytes: no ciphertext */
	    {"a=AgAAABAAAAAA", "bad-ciphertext-length"}, /* 9 bytes */
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		assert_int_not_equal(run(env, cases[i].body), 0);
		if (strcmp(t.ev.decode_status, cases[i].status) != 0)
			fail_msg("body '%s': status %s, expected %s", cases[i].body,
				 t.ev.decode_status, cases[i].status);
	}
	test_event_http(&t, "POST", "/x.png", NULL, NULL, 0);
	assert_int_equal(decode_event(env, "waledac", NULL, &t.ev), SINKD_EMALF);
	assert_string_equal(t.ev.decode_status, "no-body");
	const uint8_t bin[] = {'a', '=', 0x01, 0xff, 'A', 'A'};
	test_event_http(&t, "POST", "/x.png", NULL, bin, sizeof(bin));
	decode_event(env, "waledac", NULL, &t.ev);
	assert_string_equal(t.ev.decode_status, "bad-form");
	decode_env_free(env);
}

static void test_percent_encoded_and_padded(void **state)
{
	struct decode_env *env = test_env(&key1, 1, NULL);
	build(DECODE_WALEDAC_NOTIFY, DECODE_COMPRESS_NONE, key1, NULL);
	/* The same envelope percent-encoded, with standard alphabet and padding. */
	char alt[8192];
	size_t n = 0;
	const char *a = body + 2, *amp = strchr(a, '&');
	size_t a_len = amp != NULL ? (size_t)(amp - a) : strlen(a);
	n += (size_t)snprintf(alt, sizeof(alt), "x=1&a=");
	for (size_t i = 0; i < a_len; i++)
		n += (size_t)snprintf(alt + n, sizeof(alt) - n, "%%%02X", (unsigned char)a[i]);
	for (size_t pad = a_len; pad % 4 != 0; pad++)
		n += (size_t)snprintf(alt + n, sizeof(alt) - n, "%%3D");
	assert_int_equal(run(env, alt), 0);
	assert_string_equal(t.ev.bot_id, "0123456789abcdef0123456789abcdef");
	decode_env_free(env);
}

static void test_length_mismatch(void **state)
{
	struct decode_env *env = test_env(&key1, 1, NULL);
	const char xml[] = "<lm><t>notify</t><v>43</v><i>0123456789abcdef0123456789abcdef</i></lm>";
	uint8_t ct[256];
	size_t ct_len = test_encrypt(key1, NULL, (const uint8_t *)xml, strlen(xml), ct);
	uint32_t lens[] = {(uint32_t)ct_len, (uint32_t)ct_len + 1, (uint32_t)ct_len - 17, 0,
			   0xffffffffu};
	for (size_t i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
		test_envelope_body(2, lens[i], ct, ct_len, body, sizeof(body));
		assert_int_equal(run(env, body), SINKD_EMALF);
		assert_string_equal(t.ev.decode_status, "length-mismatch");
	}
	/* The right length decodes; one less fails the padding check. */
	test_envelope_body(2, (uint32_t)strlen(xml), ct, ct_len, body, sizeof(body));
	assert_int_equal(run(env, body), 0);
	test_envelope_body(2, (uint32_t)strlen(xml) - 1, ct, ct_len, body, sizeof(body));
	run(env, body);
	assert_string_equal(t.ev.decode_status, "wrong-key");
	decode_env_free(env);
}

static void test_corrupt_compression(void **state)
{
	struct decode_env *env = test_env(&key1, 1, NULL);
	const char xml[] = "<lm><t>notify</t><v>43</v><i>0123456789abcdef0123456789abcdef</i></lm>";
	uint8_t z[256];
	uLongf zn = sizeof(z);
	compress2(z, &zn, (const Bytef *)xml, strlen(xml), 9);
	/* truncated zlib stream */
	test_plain_body(key1, z, zn - 6, body, sizeof(body));
	assert_int_equal(run(env, body), SINKD_EMALF);
	assert_string_equal(t.ev.decode_status, "bad-compression");
	/* corrupt zlib: a flipped byte in the deflate data (adler32 or data error) */
	z[5] ^= 0x55;
	test_plain_body(key1, z, zn, body, sizeof(body));
	run(env, body);
	assert_string_equal(t.ev.decode_status, "bad-compression");
	/* bzip2 magic, garbage after it */
	const char bz[] = "BZh91AY&SYgarbage-garbage-garbage";
	test_plain_body(key1, bz, sizeof(bz) - 1, body, sizeof(body));
	run(env, body);
	assert_string_equal(t.ev.decode_status, "bad-compression");
	/* a zlib bomb: more than the decompression bound */
	size_t big = 600 * 1024;
	uint8_t *zeros = calloc(1, big), *bomb = malloc(big);
	uLongf bn = big;
	zeros[0] = '<';
	compress2(bomb, &bn, zeros, big, 9);
	test_plain_body(key1, bomb, bn, body, sizeof(body));
	run(env, body);
	assert_string_equal(t.ev.decode_status, "too-large");
	free(zeros);
	free(bomb);
	decode_env_free(env);
}

static void test_xml(void **state)
{
	struct decode_env *env = test_env(&key1, 1, NULL);
	struct {
		const char *xml, *status, *msg_type;
	} cases[] = {
	    {"<lm><t>notify</t><v>43</v><i>0123456789abcdef0123456789abcdef</i>", "bad-xml",
	     "notify"},
	    {"<lm><t>a</t><i>0123456789abcdef0123456789abcdef</i></lm>junk", "bad-xml", "notify"},
	    {"<lm><t>a</x></lm>", "bad-xml", "notify"},
	    {"<xx><i>0123456789abcdef0123456789abcdef</i></xx>", "not-lm-xml", "notify"},
	    {"<lm><t>first</t><v>43</v></lm>", "no-bot-id", "first"},
	    {"<lm><t>first</t><i></i></lm>", "no-bot-id", "first"},
	    {"<lm><t>first</t><i>0123456789abcdef0123456789abcdeg</i></lm>", "bad-bot-id", "first"},
	    {"<lm><i>0123456789abcdef0123456789abcdef00</i></lm>", "bad-bot-id", "notify"},
	    {"<lm><x><i>0123456789abcdef0123456789abcdef</i></x></lm>", "no-bot-id", "notify"},
	    {"<lm><t>words</t><i>0123456789ABCDEF0123456789abcdef</i><r>1</r></lm>", "ok", "words"},
	    {"<?xml "
	     "version=\"1.0\"?>\n<lm><t>x&amp;y</t><i>0123456789abcdef0123456789abcdef</i></lm>",
	     "ok", "x&y"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		test_plain_body(key1, cases[i].xml, strlen(cases[i].xml), body, sizeof(body));
		int ret = run(env, body);
		if (strcmp(t.ev.decode_status, cases[i].status) != 0)
			fail_msg("xml '%s': status %s, expected %s", cases[i].xml,
				 t.ev.decode_status, cases[i].status);
		assert_int_equal(ret == 0, strcmp(cases[i].status, "ok") == 0);
		assert_string_equal(t.ev.msg_type, cases[i].msg_type);
	}
	/* a plaintext that is neither XML nor compressed cannot be told from a wrong key */
	test_plain_body(key1, "hello world", 11, body, sizeof(body));
	run(env, body);
	assert_string_equal(t.ev.decode_status, "wrong-key");
	decode_env_free(env);
}

static void test_truncated_everywhere(void **state)
{
	struct decode_env *env = test_env(&key1, 1, NULL);
	size_t len = build(DECODE_WALEDAC_NOTIFY, DECODE_COMPRESS_BZIP2, key1, NULL);
	char *copy = strdup(body);
	unsigned ok = 0;
	for (size_t cut = 0; cut < len; cut++) {
		copy[cut] = '\0';
		if (run(env, copy) == 0)
			ok++;
		assert_true(t.ev.decode_status[0] != '\0');
		memcpy(copy, body, len + 1);
	}
	/* Only cuts inside "&b=..." leave `a` whole. */
	assert_int_equal(ok, strlen(strstr(body, "&b=")));
	free(copy);
	decode_env_free(env);
}

static void test_unknown_decoder(void **state)
{
	struct decode_env *env = test_env(NULL, 0, NULL);
	test_event_http(&t, "GET", "/", NULL, NULL, 0);
	assert_int_equal(decode_event(env, "nosuch", NULL, &t.ev), SINKD_ENOENT);
	assert_string_equal(t.ev.decode_status, "unknown-decoder");
	assert_true(decode_known("waledac"));
	assert_true(decode_known("kelihos"));
	assert_true(decode_known("generic"));
	assert_false(decode_known("Waledac"));
	assert_false(decode_known(NULL));
	char err[256];
	assert_int_equal(decode_check_arg("waledac", NULL, err, sizeof(err)), 0);
	assert_int_equal(decode_check_arg("waledac", "x", err, sizeof(err)), SINKD_EINVAL);
	assert_int_equal(decode_check_arg("nosuch", NULL, err, sizeof(err)), SINKD_ENOENT);
	assert_int_equal(decode_count(), 3);
	decode_env_free(env);
}

static void test_build_errors(void **state)
{
	struct decode_waledac_msg m = {.type = 2, .bot_id = bot, .key = NULL};
	size_t len;
	char small[16];
	assert_int_equal(decode_waledac_build(&m, body, sizeof(body), &len), SINKD_EINVAL);
	m.key = key1;
	assert_int_equal(decode_waledac_build(&m, small, sizeof(small), &len), SINKD_EFULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_roundtrip_all_compressions),
	    cmocka_unit_test(test_no_key_envelope_only),
	    cmocka_unit_test(test_keys_tried_in_order),
	    cmocka_unit_test(test_wrong_key),
	    cmocka_unit_test(test_iv_configurable),
	    cmocka_unit_test(test_form_and_base64),
	    cmocka_unit_test(test_percent_encoded_and_padded),
	    cmocka_unit_test(test_length_mismatch),
	    cmocka_unit_test(test_corrupt_compression),
	    cmocka_unit_test(test_xml),
	    cmocka_unit_test(test_truncated_everywhere),
	    cmocka_unit_test(test_unknown_decoder),
	    cmocka_unit_test(test_build_errors),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
