/* ClientHello parser on malformed, hostile and unusual input: every length
 * checked, the right verdict (EAGAIN vs EMALF) and reason, never a crash. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "core/error.h"
#include "tls/tls.h"

#include "hello_builder.h"

static struct tls_clienthello ch;
static struct hb h;

static const uint16_t two_ciphers[] = {0x1301, 0xc02f};
static const uint16_t groups[] = {0x001d, 0x0017};
static const uint16_t sigalgs[] = {0x0403, 0x0804};
static const uint16_t tls13[] = {0x0304, 0x0303};

/* Offsets in a built, single-record hello (32-byte session id). */
#define OFF_SID_LEN 43
#define OFF_CIPHERS_LEN 76
#define OFF_COMPRESSION(n_ciphers) (78 + 2 * (n_ciphers))
#define OFF_EXT_BLOCK(n_ciphers) (80 + 2 * (n_ciphers))

static void build(const uint16_t *ext, size_t n_ext)
{
	struct hello_spec s = {.ciphers = two_ciphers,
			       .n_ciphers = 2,
			       .ext = ext,
			       .n_ext = n_ext,
			       .sni = "a.example",
			       .groups = groups,
			       .n_groups = 2,
			       .sigalgs = sigalgs,
			       .n_sigalgs = 2,
			       .versions = tls13,
			       .n_versions = 2};
	h.n = 0;
	hb_record_hello(&h, &s);
}

static void put16(size_t at, unsigned v)
{
	h.b[at] = (uint8_t)(v >> 8);
	h.b[at + 1] = (uint8_t)v;
}

static void expect_malformed(const uint8_t *buf, size_t len, const char *reason_part)
{
	int rc = tls_clienthello_parse(buf, len, &ch);
	if (rc != SINKD_EMALF)
		fail_msg("want EMALF (%s), got %d", reason_part, rc);
	assert_non_null(ch.reason);
	if (strstr(ch.reason, reason_part) == NULL)
		fail_msg("reason \"%s\" lacks \"%s\"", ch.reason, reason_part);
}

static void test_not_handshake_records(void **state)
{
	static const uint8_t appdata[] = {23, 3, 3, 0, 2, 1, 2};
	static const uint8_t alert[] = {21, 3, 3, 0, 2, 2, 40};
	static const char http[] = "GET / HTTP/1.1\r\nHost: x\r\n\r\n";
	static const uint8_t zero[] = {0, 0, 0, 0, 0, 0};

	expect_malformed(appdata, sizeof(appdata),
			 "record type 23 (application_data) is not handshake");
	expect_malformed(appdata, 1, "record type 23");
	expect_malformed(alert, sizeof(alert), "alert");
	expect_malformed((const uint8_t *)http, strlen(http), "ASCII letter");
	expect_malformed(zero, sizeof(zero), "not TLS");
}

static void test_record_header(void **state)
{
	static const uint8_t bad_version[] = {22, 2, 0, 0, 1, 1};
	static const uint8_t empty_record[] = {22, 3, 1, 0, 0};
	static const uint8_t huge_record[] = {22, 3, 1, 0x40, 0x01, 1};
	static const uint8_t start[] = {22, 3, 1, 0x01, 0x00};

	expect_malformed(bad_version, sizeof(bad_version), "record version");
	expect_malformed(bad_version, 2, "record version");
	expect_malformed(empty_record, sizeof(empty_record), "zero-length handshake record");
	expect_malformed(huge_record, sizeof(huge_record), "longer than 16384");
	for (size_t i = 0; i <= sizeof(start); i++)
		assert_int_equal(tls_clienthello_parse(start, i, &ch), SINKD_EAGAIN);
	assert_null(ch.reason);
}

static void test_handshake_header(void **state)
{
	static const uint8_t server_hello[] = {22, 3, 3, 0, 4, 2, 0, 0, 0};
	static const uint8_t too_long[] = {22, 3, 1, 0x40, 0x00, 1, 0x00, 0x40, 0x01};
	static const uint8_t short_body[] = {22, 3, 1, 0, 6, 1, 0, 0, 2, 3, 3};

	expect_malformed(server_hello, sizeof(server_hello), "not a ClientHello");
	expect_malformed(too_long, sizeof(too_long), "16 KiB capture bound");
	/* A 2-byte body cannot hold a random: known before more bytes come. */
	expect_malformed(short_body, sizeof(short_body), "run past the handshake length");
}

static void test_lengths_overflowing(void **state)
{
	static const uint16_t ext[] = {0x0017, 0x000a};

	build(ext, 2);
	h.b[OFF_SID_LEN] = 33;
	expect_malformed(h.b, h.n, "session id longer than 32 bytes");

	build(ext, 2);
	put16(OFF_CIPHERS_LEN, 0xfffe);
	expect_malformed(h.b, h.n, "cipher suites run past the end");

	build(ext, 2);
	put16(OFF_CIPHERS_LEN, 3);
	expect_malformed(h.b, h.n, "cipher suites length is odd");

	build(ext, 2);
	put16(OFF_CIPHERS_LEN, 0);
	expect_malformed(h.b, h.n, "cipher suite list is empty");

	build(ext, 2);
	h.b[OFF_COMPRESSION(2)] = 0;
	expect_malformed(h.b, h.n, "compression method list is empty");

	build(ext, 2);
	h.b[OFF_COMPRESSION(2)] = 200;
	expect_malformed(h.b, h.n, "compression methods run past");

	build(ext, 2);
	put16(OFF_EXT_BLOCK(2), h.b[OFF_EXT_BLOCK(2)] << 8 | (h.b[OFF_EXT_BLOCK(2) + 1] + 1));
	expect_malformed(h.b, h.n, "extensions length runs past the end");

	build(ext, 2);
	put16(OFF_EXT_BLOCK(2) + 4, 0xffff); /* first extension's length */
	expect_malformed(h.b, h.n, "extension length runs past the end");

	build(ext, 2);
	put16(OFF_EXT_BLOCK(2) + 8 + 2, 0xfff0); /* the groups vector inside its extension */
	expect_malformed(h.b, h.n, "supported_groups extension is malformed");
}

/* An extensions block shorter than the rest of the message. */
static void test_bytes_after_extensions(void **state)
{
	static const uint16_t ext[] = {0x0017};

	build(ext, 1);
	hb_u8(&h, 0);
	put16(3, (unsigned)h.n - 5);
	h.b[8]++; /* 24-bit handshake length, low byte (no carry for this size) */
	expect_malformed(h.b, h.n, "bytes after the extensions block");
}

static void test_zero_length_extensions(void **state)
{
	static const uint16_t ext[] = {0x0000, 0x0017, 0x0023, 0xff01, 0x0015};
	struct hello_spec s = {.ciphers = two_ciphers, .n_ciphers = 2, .ext = ext, .n_ext = 5};

	h.n = 0;
	hb_record_hello(&h, &s);
	assert_int_equal(tls_clienthello_parse(h.b, h.n, &ch), 0);
	assert_int_equal(ch.n_ext, 5);
	for (int i = 0; i < 5; i++)
		assert_int_equal(ch.ext_len[i], 0);
	assert_true(ch.has_sni); /* present but empty: JA4 says "d" */
	assert_int_equal(ch.sni_len, 0);

	/* A decoded type needs its vector: an empty body is malformed. */
	static const uint16_t ext2[] = {0x0017, 0x000a};
	s.ext = ext2;
	s.n_ext = 2;
	s.force_empty = true;
	s.empty_type = 0x000a;
	h.n = 0;
	hb_record_hello(&h, &s);
	expect_malformed(h.b, h.n, "supported_groups extension is malformed");
	s.empty_type = 0x0017;
	h.n = 0;
	hb_record_hello(&h, &s);
	assert_int_equal(tls_clienthello_parse(h.b, h.n, &ch), 0);
}

static void test_duplicate_extensions(void **state)
{
	static const uint16_t ext[] = {0x0000, 0x0017, 0x000a, 0x0017};

	build(ext, 4);
	expect_malformed(h.b, h.n, "duplicate extension");
}

static void test_no_extension_block(void **state)
{
	struct hello_spec s = {
	    .version = 0x0301, .ciphers = two_ciphers, .n_ciphers = 2, .no_ext_block = true};

	h.n = 0;
	hb_record_hello(&h, &s);
	assert_int_equal(tls_clienthello_parse(h.b, h.n, &ch), 0);
	assert_int_equal(ch.n_ext, 0);
	assert_int_equal(ch.legacy_version, 0x0301);
	for (size_t i = 0; i < h.n; i++)
		assert_int_equal(tls_clienthello_parse(h.b, i, &ch), SINKD_EAGAIN);
}

static void test_huge_cipher_list(void **state)
{
	static uint16_t ciphers[8000];
	static const uint16_t ext[] = {0x0000};
	struct hello_spec s = {
	    .ciphers = ciphers, .n_ciphers = 8000, .ext = ext, .n_ext = 1, .sni = "big.example"};
	static struct hb msg;

	for (int i = 0; i < 8000; i++)
		ciphers[i] = (uint16_t)(i + 1);
	msg.n = h.n = 0;
	hb_hello(&msg, &s);
	hb_records(&h, msg.b, msg.n, 4000); /* 5 records */
	assert_int_equal(tls_clienthello_parse(h.b, h.n, &ch), 0);
	assert_int_equal(ch.n_records, 5);
	assert_int_equal(ch.n_ciphers, TLS_CH_MAX_CIPHERS);
	assert_int_equal(ch.ciphers[TLS_CH_MAX_CIPHERS - 1], TLS_CH_MAX_CIPHERS);
	assert_int_equal(ch.truncated, TLS_CH_TRUNC_CIPHERS);
	assert_string_equal(ch.sni, "big.example"); /* still parsed past the cut */
	for (size_t i = 0; i < h.n; i += 97)
		assert_int_equal(tls_clienthello_parse(h.b, i, &ch), SINKD_EAGAIN);

	/* 8200 ciphers: the message passes the 16 KiB bound. */
	s.n_ciphers = 8200;
	static uint16_t more[8200];
	memcpy(more, ciphers, sizeof(ciphers));
	s.ciphers = more;
	msg.n = h.n = 0;
	hb_hello(&msg, &s);
	hb_records(&h, msg.b, msg.n, 16384);
	expect_malformed(h.b, h.n, "16 KiB capture bound");
}

static void test_many_extensions_and_long_names(void **state)
{
	static uint16_t ext[101];
	static char long_name[301];
	static const char *alpn[10] = {"a", "b", "c", "d", "e", "f", "g", "h", "i", "j"};
	struct hello_spec s = {.ciphers = two_ciphers,
			       .n_ciphers = 2,
			       .ext = ext,
			       .n_ext = 101,
			       .sni = long_name,
			       .alpn = alpn,
			       .n_alpn = 10};

	memset(long_name, 'n', 300);
	ext[0] = 0x0010;
	for (int i = 1; i < 100; i++)
		ext[i] = (uint16_t)(0x1000 + i);
	ext[100] = 0x0000; /* after the cut: still decoded */
	h.n = 0;
	hb_record_hello(&h, &s);
	assert_int_equal(tls_clienthello_parse(h.b, h.n, &ch), 0);
	assert_int_equal(ch.n_ext, TLS_CH_MAX_EXTENSIONS);
	assert_int_equal(ch.n_alpn, TLS_CH_MAX_ALPN);
	assert_string_equal(ch.alpn[7], "h");
	assert_int_equal(ch.sni_len, TLS_CH_SNI_MAX);
	assert_int_equal(strlen(ch.sni), TLS_CH_SNI_MAX);
	assert_int_equal(ch.truncated,
			 TLS_CH_TRUNC_EXTENSIONS | TLS_CH_TRUNC_ALPN | TLS_CH_TRUNC_SNI);
}

/* key_share: 20 entries (GREASE first, 1-byte keys) keep 16 groups. */
static void test_key_share_entries(void **state)
{
	static const uint16_t ext[] = {0x0033};
	static uint8_t body[2 + 20 * 5];
	struct hello_spec s = {.ciphers = two_ciphers,
			       .n_ciphers = 2,
			       .ext = ext,
			       .n_ext = 1,
			       .raw_type = 0x0033,
			       .raw_body = body,
			       .raw_len = sizeof(body)};

	body[0] = 0;
	body[1] = 20 * 5;
	for (int i = 0; i < 20; i++) {
		uint16_t group = i == 0 ? 0x0a0a : (uint16_t)(0x0100 + i);
		memcpy(body + 2 + 5 * i, (uint8_t[]){group >> 8, group & 0xff, 0, 1, 0x42}, 5);
	}
	h.n = 0;
	hb_record_hello(&h, &s);
	assert_int_equal(tls_clienthello_parse(h.b, h.n, &ch), 0);
	assert_true(ch.has_grease);
	assert_int_equal(ch.n_key_shares, TLS_CH_MAX_KEY_SHARES);
	assert_int_equal(ch.key_shares[0], 0x0a0a);
	assert_int_equal(ch.key_shares[15], 0x010f);
	assert_int_equal(ch.truncated, TLS_CH_TRUNC_KEY_SHARES);

	body[2 + 5 * 19 + 3] = 2; /* last key claims 2 bytes: past the list */
	h.n = 0;
	hb_record_hello(&h, &s);
	expect_malformed(h.b, h.n, "key_share extension is malformed");
}

static void test_sni_with_nul_byte(void **state)
{
	static const uint16_t ext[] = {0x0000};

	build(ext, 1);
	/* "a.example": the '.' is at record offset OFF_EXT_BLOCK(2) + 2 + 4 + 5 + 1 */
	h.b[OFF_EXT_BLOCK(2) + 12] = 0;
	assert_int_equal(tls_clienthello_parse(h.b, h.n, &ch), 0);
	assert_int_equal(ch.sni_len, 9);
	assert_memory_equal(ch.sni, "a\0example", 10);

	struct hello_spec s = {
	    .ciphers = two_ciphers, .n_ciphers = 2, .ext = ext, .n_ext = 1, .sni = ""};
	h.n = 0;
	hb_record_hello(&h, &s);
	expect_malformed(h.b, h.n, "server_name host name is empty");
}

/* The handshake may not continue in another record type. */
static void test_continuation_not_handshake(void **state)
{
	static const uint16_t ext[] = {0x0000, 0x000a};
	static struct hb msg;
	struct hello_spec s = {.ciphers = two_ciphers,
			       .n_ciphers = 2,
			       .ext = ext,
			       .n_ext = 2,
			       .sni = "a.example",
			       .groups = groups,
			       .n_groups = 2};

	msg.n = h.n = 0;
	hb_hello(&msg, &s);
	hb_records(&h, msg.b, msg.n, 50);
	assert_int_equal(tls_clienthello_parse(h.b, h.n, &ch), 0);
	h.b[55] = 23;
	expect_malformed(h.b, h.n, "handshake continues in a non-handshake record");
	expect_malformed(h.b, 56, "handshake continues");
	assert_int_equal(tls_clienthello_parse(h.b, 55, &ch), SINKD_EAGAIN);
}

static void test_sslv2(void **state)
{
	/* SSLv2-compatible CLIENT-HELLO offering TLS 1.0: 3 cipher specs, no
	 * session id, 16-byte challenge. */
	static const uint8_t v2[] = {0x80, 0x22, 0x01, 0x03, 0x01, 0x00, 0x09, 0x00, 0x00,
				     0x00, 0x10, 0x00, 0x00, 0x2f, 0x00, 0x00, 0x35, 0x00,
				     0x00, 0x0a, 1,    2,    3,	   4,	 5,    6,    7,
				     8,	   9,	 10,   11,   12,   13,	 14,   15,   16};
	static const uint8_t v2_only[] = {0x80, 0x1f, 0x01, 0x00, 0x02};
	static const uint8_t v2_bad[] = {0x80, 0x1f, 0x04, 0x00, 0x02};
	static const uint8_t v2_badver[] = {0x80, 0x1f, 0x01, 0x07, 0x00};
	static const uint8_t v2_badver2[] = {0x80, 0x1f, 0x01, 0x00, 0x05};

	assert_int_equal(tls_clienthello_parse(v2, sizeof(v2), &ch), 0);
	assert_true(ch.sslv2);
	assert_int_equal(ch.legacy_version, 0x0301);
	assert_int_equal(ch.n_ciphers, 0);
	for (size_t i = 0; i < 5; i++)
		assert_int_equal(tls_clienthello_parse(v2, i, &ch), SINKD_EAGAIN);
	assert_int_equal(tls_clienthello_parse(v2_only, sizeof(v2_only), &ch), 0);
	assert_int_equal(ch.legacy_version, 0x0002);
	expect_malformed(v2_bad, sizeof(v2_bad), "not a CLIENT-HELLO");
	expect_malformed(v2_badver, sizeof(v2_badver), "unknown version");
	expect_malformed(v2_badver2, sizeof(v2_badver2), "unknown version");
}

static void test_null_arguments(void **state)
{
	assert_int_equal(tls_clienthello_parse(NULL, 10, &ch), SINKD_EINVAL);
	assert_int_equal(tls_clienthello_parse(h.b, 10, NULL), SINKD_EINVAL);
	assert_int_equal(tls_clienthello_parse(NULL, 0, &ch), SINKD_EAGAIN);
	assert_int_equal(tls_clienthello_parse_handshake(NULL, 3, &ch), SINKD_EINVAL);
}

static uint64_t rng = 0x9e3779b97f4a7c15u;

static uint32_t next_rand(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (uint32_t)rng;
}

static void check_verdict(const uint8_t *buf, size_t len)
{
	int rc = tls_clienthello_parse(buf, len, &ch);
	assert_true(rc == 0 || rc == SINKD_EAGAIN || rc == SINKD_EMALF);
	assert_true((rc == SINKD_EMALF) == (ch.reason != NULL));
	rc = tls_clienthello_parse_handshake(buf, len, &ch);
	assert_true(rc == 0 || rc == SINKD_EAGAIN || rc == SINKD_EMALF);
}

/* Random bytes behind plausible headers, and random mutations of real
 * hellos: any verdict, never a crash (ASan/UBSan build). */
static void test_random_and_mutated(void **state)
{
	static const char *vectors[] = {"openssl_s_client", "openssl_split", "curl", "python_ssl"};
	static uint8_t buf[1024];

	for (int i = 0; i < 100000; i++) {
		size_t len = next_rand() % sizeof(buf);
		for (size_t j = 0; j < len; j++)
			buf[j] = (uint8_t)next_rand();
		if (len > 9 && i % 2 == 0)
			memcpy(buf, "\x16\x03\x01\x03\xf0\x01\x00\x03\xec", 9);
		check_verdict(buf, len);
	}
	for (size_t v = 0; v < ARRAY_LEN(vectors); v++) {
		size_t len;
		uint8_t *orig = load_vector(vectors[v], &len);
		for (int i = 0; i < 20000; i++) {
			memcpy(h.b, orig, len);
			for (int k = 0; k < 1 + i % 4; k++)
				h.b[next_rand() % len] = (uint8_t)next_rand();
			check_verdict(h.b, len - next_rand() % 8);
		}
		free(orig);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_not_handshake_records),
	    cmocka_unit_test(test_record_header),
	    cmocka_unit_test(test_handshake_header),
	    cmocka_unit_test(test_lengths_overflowing),
	    cmocka_unit_test(test_bytes_after_extensions),
	    cmocka_unit_test(test_zero_length_extensions),
	    cmocka_unit_test(test_duplicate_extensions),
	    cmocka_unit_test(test_no_extension_block),
	    cmocka_unit_test(test_huge_cipher_list),
	    cmocka_unit_test(test_many_extensions_and_long_names),
	    cmocka_unit_test(test_key_share_entries),
	    cmocka_unit_test(test_sni_with_nul_byte),
	    cmocka_unit_test(test_continuation_not_handshake),
	    cmocka_unit_test(test_sslv2),
	    cmocka_unit_test(test_null_arguments),
	    cmocka_unit_test(test_random_and_mutated),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
