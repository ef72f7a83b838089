/* ClientHello parser: real captured hellos (tests/unit/tls/vectors, made by
 * vectors/capture.py with openssl s_client, curl and python3 ssl; expected
 * fields cross-checked with vectors/reference.py), built hellos, and
 * malformed input. */
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

/* The cipher list of OpenSSL 3.0 s_client with default settings. */
static const uint16_t openssl_ciphers[] = {
    0x1302, 0x1303, 0x1301, 0xc02c, 0xc030, 0x009f, 0xcca9, 0xcca8, 0xccaa, 0xc02b, 0xc02f,
    0x009e, 0xc024, 0xc028, 0x006b, 0xc023, 0xc027, 0x0067, 0xc00a, 0xc014, 0x0039, 0xc009,
    0xc013, 0x0033, 0x009d, 0x009c, 0x003d, 0x003c, 0x0035, 0x002f, 0x00ff};
static const uint16_t openssl_groups[] = {0x001d, 0x0017, 0x001e, 0x0019, 0x0018,
					  0x0100, 0x0101, 0x0102, 0x0103, 0x0104};
static const uint16_t openssl_sigalgs[] = {0x0403, 0x0503, 0x0603, 0x0807, 0x0808, 0x0809, 0x080a,
					   0x080b, 0x0804, 0x0805, 0x0806, 0x0401, 0x0501, 0x0601,
					   0x0303, 0x0301, 0x0302, 0x0402, 0x0502, 0x0602};

static void assert_u16s(const uint16_t *got, unsigned n, const uint16_t *want, size_t wn)
{
	assert_int_equal(n, wn);
	for (size_t i = 0; i < wn; i++)
		assert_int_equal(got[i], want[i]);
}

/* Every strict prefix of a valid hello asks for more; the whole parses. */
static void assert_prefixes_again(const uint8_t *buf, size_t len, bool handshake)
{
	for (size_t i = 0; i < len; i++) {
		int rc = handshake ? tls_clienthello_parse_handshake(buf, i, &ch)
				   : tls_clienthello_parse(buf, i, &ch);
		if (rc != SINKD_EAGAIN)
			fail_msg("prefix of %zu/%zu bytes: %d (%s)", i, len, rc,
				 ch.reason ? ch.reason : "-");
	}
}

static void test_openssl_s_client(void **state)
{
	static const uint16_t ext[] = {0, 11, 10, 35, 22, 23, 13, 43, 45, 51};
	static const uint16_t ext_len[] = {14, 4, 22, 0, 0, 0, 42, 9, 2, 38};
	static const uint16_t versions[] = {0x0304, 0x0303, 0x0302, 0x0301};
	size_t len;
	uint8_t *buf = load_vector("openssl_s_client", &len);

	assert_int_equal(tls_clienthello_parse(buf, len, &ch), 0);
	assert_null(ch.reason);
	assert_false(ch.sslv2);
	assert_int_equal(ch.record_version, 0x0301);
	assert_int_equal(ch.legacy_version, 0x0303);
	assert_memory_equal(ch.random, buf + 11, 32);
	assert_int_equal(ch.session_id_len, 32);
	assert_int_equal(ch.n_records, 1);
	assert_int_equal(ch.hello_len, len - 9);
	assert_int_equal(ch.consumed, len);
	assert_u16s(ch.ciphers, ch.n_ciphers, openssl_ciphers, ARRAY_LEN(openssl_ciphers));
	assert_int_equal(ch.n_compression, 1);
	assert_int_equal(ch.compression[0], 0);
	assert_u16s(ch.ext_type, ch.n_ext, ext, ARRAY_LEN(ext));
	assert_u16s(ch.ext_len, ch.n_ext, ext_len, ARRAY_LEN(ext_len));
	assert_true(ch.has_sni);
	assert_int_equal(ch.sni_len, 9);
	assert_string_equal(ch.sni, "x.example");
	assert_u16s(ch.groups, ch.n_groups, openssl_groups, ARRAY_LEN(openssl_groups));
	assert_int_equal(ch.n_point_formats, 3);
	assert_int_equal(ch.point_formats[2], 2);
	assert_u16s(ch.sigalgs, ch.n_sigalgs, openssl_sigalgs, ARRAY_LEN(openssl_sigalgs));
	assert_u16s(ch.versions, ch.n_versions, versions, ARRAY_LEN(versions));
	assert_int_equal(ch.n_key_shares, 1);
	assert_int_equal(ch.key_shares[0], 0x001d);
	assert_int_equal(ch.n_psk_modes, 1);
	assert_int_equal(ch.psk_modes[0], 1);
	assert_int_equal(ch.n_alpn, 0);
	assert_false(ch.has_grease);
	assert_int_equal(ch.truncated, 0);
	assert_prefixes_again(buf, len, false);
	free(buf);
}

static void test_openssl_tls12_alpn(void **state)
{
	static const uint16_t ext[] = {0, 11, 10, 35, 16, 22, 23, 13};
	size_t len;
	uint8_t *buf = load_vector("openssl_tls12_alpn", &len);

	assert_int_equal(tls_clienthello_parse(buf, len, &ch), 0);
	assert_int_equal(ch.session_id_len, 0);
	assert_int_equal(ch.n_ciphers, 28);
	assert_int_equal(ch.ciphers[0], 0xc02c);
	assert_u16s(ch.ext_type, ch.n_ext, ext, ARRAY_LEN(ext));
	assert_string_equal(ch.sni, "tls12.example");
	assert_int_equal(ch.n_versions, 0);
	assert_int_equal(ch.n_key_shares, 0);
	assert_int_equal(ch.n_groups, 5);
	assert_int_equal(ch.n_alpn, 2);
	assert_int_equal(ch.alpn_len[0], 2);
	assert_string_equal(ch.alpn[0], "h2");
	assert_int_equal(ch.alpn_len[1], 8);
	assert_string_equal(ch.alpn[1], "http/1.1");
	assert_prefixes_again(buf, len, false);
	free(buf);
}

static void test_openssl_no_sni(void **state)
{
	size_t len;
	uint8_t *buf = load_vector("openssl_no_sni", &len);

	assert_int_equal(tls_clienthello_parse(buf, len, &ch), 0);
	assert_false(ch.has_sni);
	assert_int_equal(ch.sni_len, 0);
	assert_string_equal(ch.sni, "");
	assert_int_equal(ch.n_ext, 9);
	assert_int_equal(ch.ext_type[0], 11);
	free(buf);
}

/* s_client -max_send_frag 512 with a long name: the hello spans 2 records. */
static void test_openssl_split(void **state)
{
	size_t len;
	uint8_t *buf = load_vector("openssl_split", &len);
	static struct hb msg;

	assert_int_equal(len, 643);
	assert_int_equal(tls_clienthello_parse(buf, len, &ch), 0);
	assert_int_equal(ch.n_records, 2);
	assert_int_equal(ch.consumed, len);
	assert_int_equal(ch.hello_len, 629);
	assert_int_equal(ch.n_ciphers, 87);
	assert_int_equal(ch.ciphers[86], 0x00ff);
	assert_int_equal(ch.sni_len, 196);
	assert_memory_equal(ch.sni + 180, "cc.split.example", 17);
	assert_int_equal(ch.n_sigalgs, 23);
	assert_int_equal(ch.n_alpn, 2);
	assert_int_equal(ch.n_ext, 11);
	assert_int_equal(ch.ext_type[10], 0x0033);
	assert_prefixes_again(buf, len, false);

	/* The same message without record headers, as OpenSSL's msg callback
	 * gives it. */
	msg.n = 0;
	hb_bytes(&msg, buf + 5, 512);
	hb_bytes(&msg, buf + 5 + 512 + 5, len - 522);
	assert_int_equal(tls_clienthello_parse_handshake(msg.b, msg.n, &ch), 0);
	assert_int_equal(ch.record_version, 0);
	assert_int_equal(ch.n_records, 0);
	assert_int_equal(ch.consumed, msg.n);
	assert_int_equal(ch.n_ciphers, 87);
	assert_int_equal(ch.sni_len, 196);
	assert_prefixes_again(msg.b, msg.n, true);
	free(buf);
}

static void test_curl(void **state)
{
	static const uint16_t ext[] = {0, 11, 10, 16, 22, 23, 49, 13, 43, 45, 51, 21};
	size_t len;
	uint8_t *buf = load_vector("curl", &len);

	assert_int_equal(tls_clienthello_parse(buf, len, &ch), 0);
	assert_u16s(ch.ext_type, ch.n_ext, ext, ARRAY_LEN(ext));
	assert_int_equal(ch.ext_len[11], 177); /* padding to 512 bytes */
	assert_string_equal(ch.sni, "curl.example");
	assert_int_equal(ch.n_alpn, 2);
	assert_string_equal(ch.alpn[0], "h2");
	assert_string_equal(ch.alpn[1], "http/1.1");
	assert_int_equal(ch.hello_len, 508);
	assert_prefixes_again(buf, len, false);
	free(buf);
}

static void test_python_ssl(void **state)
{
	static const uint16_t versions[] = {0x0304, 0x0303};
	size_t len;
	uint8_t *buf = load_vector("python_ssl", &len);

	assert_int_equal(tls_clienthello_parse(buf, len, &ch), 0);
	assert_string_equal(ch.sni, "py.example");
	assert_int_equal(ch.n_ciphers, 18);
	assert_u16s(ch.versions, ch.n_versions, versions, ARRAY_LEN(versions));
	assert_int_equal(ch.n_alpn, 1);
	assert_string_equal(ch.alpn[0], "http/1.1");
	assert_prefixes_again(buf, len, false);
	free(buf);
}

/* Records after the ClientHello (change_cipher_spec, early data) are not
 * read; a second coalesced record stays unparsed. */
static void test_bytes_after_hello_ignored(void **state)
{
	static const uint8_t ccs_and_data[] = {20, 3, 3, 0, 1, 1, 23, 3, 3, 0, 2, 0xde, 0xad};
	static struct hb h;
	size_t len;
	uint8_t *buf = load_vector("openssl_s_client", &len);

	h.n = 0;
	hb_bytes(&h, buf, len);
	hb_bytes(&h, ccs_and_data, sizeof(ccs_and_data));
	assert_int_equal(tls_clienthello_parse(h.b, h.n, &ch), 0);
	assert_int_equal(ch.consumed, len);
	free(buf);
}

static void test_one_byte_records(void **state)
{
	static struct hb msg, rec;
	size_t len;
	uint8_t *buf = load_vector("curl", &len);

	msg.n = rec.n = 0;
	hb_bytes(&msg, buf + 5, len - 5);
	hb_records(&rec, msg.b, msg.n, 1);
	assert_int_equal(tls_clienthello_parse(rec.b, rec.n, &ch), 0);
	assert_int_equal(ch.n_records, msg.n);
	assert_string_equal(ch.sni, "curl.example");
	assert_int_equal(ch.n_ext, 12);
	assert_prefixes_again(rec.b, rec.n, false);
	free(buf);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_openssl_s_client),
	    cmocka_unit_test(test_openssl_tls12_alpn),
	    cmocka_unit_test(test_openssl_no_sni),
	    cmocka_unit_test(test_openssl_split),
	    cmocka_unit_test(test_curl),
	    cmocka_unit_test(test_python_ssl),
	    cmocka_unit_test(test_bytes_after_hello_ignored),
	    cmocka_unit_test(test_one_byte_records),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
