/* JA3 / JA4 fingerprints and the JSON summary.
 *
 * Reference values: the published JA3 examples (Salesforce JA3 README and
 * pyja3 README: the string and its MD5), the worked example of FoxIO's JA4
 * specification (technical_details/JA4.md: JA4, JA4_r, the no-sigalgs
 * hash and the ALPN rules), and the captured hellos with values computed by
 * the independent tests/unit/tls/vectors/reference.py. */
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
static struct tls_ja3 ja3;
static struct tls_ja4 ja4;
static struct hb h;

static void parse_spec(const struct hello_spec *s)
{
	h.n = 0;
	hb_record_hello(&h, s);
	assert_int_equal(tls_clienthello_parse(h.b, h.n, &ch), 0);
}

/* Salesforce JA3 README example. */
static void test_ja3_published_readme(void **state)
{
	static const uint16_t ciphers[] = {47,	  53,	 5,  10, 49161, 49162,
					   49171, 49172, 50, 56, 19,	4};
	static const uint16_t ext[] = {0, 10, 11};
	static const uint16_t groups[] = {23, 24, 25};
	static const uint8_t pf[] = {0};
	struct hello_spec s = {.version = 0x0301,
			       .ciphers = ciphers,
			       .n_ciphers = 12,
			       .ext = ext,
			       .n_ext = 3,
			       .sni = "ja3.example",
			       .groups = groups,
			       .n_groups = 3,
			       .pf = pf,
			       .n_pf = 1};

	parse_spec(&s);
	assert_int_equal(tls_ja3(&ch, &ja3), 0);
	assert_string_equal(ja3.str,
			    "769,47-53-5-10-49161-49162-49171-49172-50-56-19-4,0-10-11,23-24-25,0");
	assert_string_equal(ja3.md5, "ada70206e40642a3e4461f35503241d5");
}

/* pyja3 README example, with GREASE added everywhere: JA3 ignores it. */
static void test_ja3_published_pyja3_with_grease(void **state)
{
	static const uint16_t ciphers[] = {
	    0x0a0a, 255,   49162, 49172, 136,	135, 57, 56,	49167, 49157, 132,   53,    49159,
	    49161,  49169, 49171, 69,	 68,	51,  50, 49164, 49166, 49154, 49156, 150,   65,
	    4,	    5,	   47,	  49160, 49170, 22,  19, 49165, 49155, 65279, 10,    0xfafa};
	static const uint16_t ext[] = {0x1a1a, 0, 10, 11, 35, 0xeaea};
	static const uint16_t groups[] = {0x2a2a, 23, 24, 25};
	static const uint8_t pf[] = {0};
	struct hello_spec s = {.version = 0x0301,
			       .ciphers = ciphers,
			       .n_ciphers = ARRAY_LEN(ciphers),
			       .ext = ext,
			       .n_ext = 6,
			       .sni = "pyja3.example",
			       .groups = groups,
			       .n_groups = 4,
			       .pf = pf,
			       .n_pf = 1};

	parse_spec(&s);
	assert_true(ch.has_grease);
	assert_int_equal(tls_ja3(&ch, &ja3), 0);
	assert_string_equal(ja3.str, "769,255-49162-49172-136-135-57-56-49167-49157-132-53-49159-"
				     "49161-49169-49171-69-68-51-50-49164-49166-49154-49156-150-"
				     "65-4-5-47-49160-49170-22-19-49165-49155-65279-10,0-10-11-35,"
				     "23-24-25,0");
	assert_string_equal(ja3.md5, "2aef69b4ba1938c3a400de4188743185");
}

/* The worked example of the JA4 spec, sent the way Chrome sends it: GREASE
 * first in every list, the extensions in the JA4_ro order. */
static const uint16_t spec_ciphers[] = {0x8a8a, 0x1301, 0x1302, 0x1303, 0xc02b, 0xc02f,
					0xc02c, 0xc030, 0xcca9, 0xcca8, 0xc013, 0xc014,
					0x009c, 0x009d, 0x002f, 0x0035};
static const uint16_t spec_ext[] = {0x2a2a, 0x001b, 0x0000, 0x0033, 0x0010, 0x4469,
				    0x0017, 0x002d, 0x000d, 0x0005, 0x0023, 0x0012,
				    0x002b, 0xff01, 0x000b, 0x000a, 0x0015, 0x3a3a};
static const uint16_t spec_sigalgs[] = {0x0403, 0x0804, 0x0401, 0x0503,
					0x0805, 0x0501, 0x0806, 0x0601};
static const uint16_t spec_groups[] = {0x4a4a, 0x001d, 0x0017, 0x0018};
static const uint16_t spec_versions[] = {0x5a5a, 0x0304, 0x0303};
static const uint8_t spec_pf[] = {0};
static const char *const spec_alpn[] = {"h2", "http/1.1"};

static struct hello_spec spec_hello(void)
{
	return (struct hello_spec){.ciphers = spec_ciphers,
				   .n_ciphers = ARRAY_LEN(spec_ciphers),
				   .ext = spec_ext,
				   .n_ext = ARRAY_LEN(spec_ext),
				   .sni = "ja4.example",
				   .groups = spec_groups,
				   .n_groups = 4,
				   .pf = spec_pf,
				   .n_pf = 1,
				   .sigalgs = spec_sigalgs,
				   .n_sigalgs = ARRAY_LEN(spec_sigalgs),
				   .alpn = spec_alpn,
				   .n_alpn = 2,
				   .versions = spec_versions,
				   .n_versions = 3};
}

static void test_ja4_spec_example(void **state)
{
	struct hello_spec s = spec_hello();

	parse_spec(&s);
	assert_int_equal(tls_ja4(&ch, &ja4), 0);
	assert_string_equal(ja4.ja4, "t13d1516h2_8daaf6152771_e5627efa2ab1");
	assert_string_equal(ja4.ja4_r,
			    "t13d1516h2_002f,0035,009c,009d,1301,1302,1303,c013,c014,c02b,c02c,"
			    "c02f,c030,cca8,cca9_0005,000a,000b,000d,0012,0015,0017,001b,0023,"
			    "002b,002d,0033,4469,ff01_0403,0804,0401,0503,0805,0501,0806,0601");
	/* JA3 of the same hello (string by hand, MD5 by md5sum). */
	assert_int_equal(tls_ja3(&ch, &ja3), 0);
	assert_string_equal(ja3.str, "771,4865-4866-4867-49195-49199-49196-49200-52393-52392-"
				     "49171-49172-156-157-47-53,27-0-51-16-17513-23-45-13-5-35-"
				     "18-43-65281-11-10-21,29-23-24,0");
	assert_string_equal(ja3.md5, "c000e2caf3a25423f9de6c8a4b12a975");
}

/* Spec: with no signature algorithms the extension string has no trailing
 * underscore ("... ,4469,ff01 = 6d807ffa2a79"). */
static void test_ja4_spec_no_sigalgs(void **state)
{
	struct hello_spec s = spec_hello();

	s.n_sigalgs = 0; /* extension 000d present with an empty list */
	parse_spec(&s);
	assert_int_equal(tls_ja4(&ch, &ja4), 0);
	assert_string_equal(ja4.ja4, "t13d1516h2_8daaf6152771_6d807ffa2a79");
	assert_non_null(strstr(ja4.ja4_r, "_0005,000a,000b,000d,0012,0015,0017,001b,0023,002b,"
					  "002d,0033,4469,ff01"));
	assert_int_equal(ja4.ja4_r[strlen(ja4.ja4_r) - 1], '1');
}

static const char *ja4_alpn_of(const char *first)
{
	static const uint16_t ciphers[] = {0x1301};
	static const uint16_t ext[] = {0x0010};
	const char *alpn[] = {first, "x"};
	struct hello_spec s = {
	    .ciphers = ciphers, .n_ciphers = 1, .ext = ext, .n_ext = 1, .alpn = alpn, .n_alpn = 2};
	static char out[3];

	parse_spec(&s);
	assert_int_equal(tls_ja4(&ch, &ja4), 0);
	memcpy(out, ja4.ja4 + 8, 2);
	return out;
}

/* Spec ALPN rules, its examples included. */
static void test_ja4_alpn_rules(void **state)
{
	assert_string_equal(ja4_alpn_of("h2"), "h2");
	assert_string_equal(ja4_alpn_of("http/1.1"), "h1");
	assert_string_equal(ja4_alpn_of("h"), "hh");
	assert_string_equal(ja4_alpn_of("\xab"), "ab");
	assert_string_equal(ja4_alpn_of("\xab\xcd"), "ad");
	assert_string_equal(ja4_alpn_of("\x30\xab"), "3b");
	assert_string_equal(ja4_alpn_of("\x30\x31\xab\xcd"), "3d");
	assert_string_equal(ja4_alpn_of("\x30\xab\xcd\x31"), "01");
	assert_string_equal(ja4_alpn_of("-h2"), "22");
	assert_string_equal(ja4_alpn_of(""), "00"); /* empty first value */
}

static void test_ja4_versions_and_empty_lists(void **state)
{
	static const uint16_t grease_ciphers[] = {0x0a0a, 0x1a1a};
	static const uint16_t ciphers[] = {0x0035, 0x002f};
	static const uint16_t only_grease[] = {0x7a7a};
	static const uint16_t sv_ext[] = {0x002b};
	struct hello_spec s = {
	    .version = 0x0301, .ciphers = ciphers, .n_ciphers = 2, .no_ext_block = true};

	parse_spec(&s); /* no extensions: TLS 1.0 from the legacy version, no c hash */
	assert_int_equal(tls_ja4(&ch, &ja4), 0);
	assert_string_equal(ja4.ja4, "t10i020000_f54dd463d39b_000000000000");
	assert_string_equal(ja4.ja4_r, "t10i020000_002f,0035_");
	assert_int_equal(tls_ja3(&ch, &ja3), 0);
	assert_string_equal(ja3.str, "769,53-47,,,");

	s.ciphers = grease_ciphers; /* nothing but GREASE: zero count, zero hash */
	s.version = 0x0300;
	parse_spec(&s);
	assert_int_equal(tls_ja4(&ch, &ja4), 0);
	assert_string_equal(ja4.ja4, "ts3i000000_000000000000_000000000000");

	s = (struct hello_spec){.version = 0x0303,
				.ciphers = ciphers,
				.n_ciphers = 2,
				.ext = sv_ext,
				.n_ext = 1,
				.versions = only_grease,
				.n_versions = 1};
	parse_spec(&s); /* supported_versions with only GREASE: legacy version */
	assert_int_equal(tls_ja4(&ch, &ja4), 0);
	assert_memory_equal(ja4.ja4, "t12i0201", 8);

	static const struct {
		uint16_t v;
		const char *name;
	} table[] = {{0x0302, "11"}, {0x0002, "s2"}, {0xfeff, "d1"},
		     {0xfefd, "d2"}, {0xfefc, "d3"}, {0x0304, "13"}};
	for (size_t i = 0; i < ARRAY_LEN(table); i++) {
		s.versions = &table[i].v; /* the highest of supported_versions */
		parse_spec(&s);
		assert_int_equal(tls_ja4(&ch, &ja4), 0);
		assert_memory_equal(ja4.ja4 + 1, table[i].name, 2);
	}

	s.version = 0x7f00;
	s.no_ext_block = true;
	parse_spec(&s);
	assert_int_equal(tls_ja4(&ch, &ja4), 0);
	assert_memory_equal(ja4.ja4, "t00i0200", 8);
}

static void test_ja4_counts_capped(void **state)
{
	static uint16_t ciphers[150];
	static const uint16_t ext[] = {0x0000};

	for (int i = 0; i < 150; i++)
		ciphers[i] = (uint16_t)(0x0100 + i);
	struct hello_spec s = {
	    .ciphers = ciphers, .n_ciphers = 150, .ext = ext, .n_ext = 1, .sni = "x.example"};
	parse_spec(&s);
	assert_int_equal(tls_ja4(&ch, &ja4), 0);
	assert_memory_equal(ja4.ja4, "t12d990100_", 11);
	/* The raw ciphers list still holds all 150. */
	assert_int_equal(strlen(ja4.ja4_r), 11 + 150 * 5 - 1 + 1);
}

struct capture_ref {
	const char *name, *ja3_md5, *ja4, *ja4_r_tail;
};

/* Values computed by vectors/reference.py from the same bytes. */
static const struct capture_ref captures[] = {
    {"openssl_s_client", "a3afc2c46ba4a7d7fbe1cfb7a3031c2f", "t13d311000_e8f1e7e78f70_1f22a2ca17c4",
     "0016,0017,0023,002b,002d,0033_0403,0503"},
    {"openssl_no_sni", "c216e752cae6f8755fd27f561d031636", "t13i310900_e8f1e7e78f70_1f22a2ca17c4",
     NULL},
    {"openssl_tls12_alpn", "22558766122974704364c9c75c5cce0a",
     "t12d2808h2_d943125447b4_e7e480e5a997", "_000a,000b,000d,0016,0017,0023_0403,"},
    {"openssl_split", "8b696dacefdfd97ac5dc15ccafa6d5ea", "t13d8711h2_c66346c74e42_5ac7197df9d2",
     "0303,0203,0301,0201,0302,0202,0402,0502,0602"},
    {"curl", "0149f47eabf9a20d0893e2a44e5a6323", "t13d3112h2_e8f1e7e78f70_b26ce05bbdd6",
     "_000a,000b,000d,0015,0016,0017,002b,002d,0031,0033_"},
    {"python_ssl", "304734bb1c086c3453b387400cf83f11", "t13d1812h1_85036bcba153_d41ae481755e",
     "t13d1812h1_0067,006b,009e,009f,00ff,1301,1302,1303,c023,"},
};

static void test_captured_hellos(void **state)
{
	for (size_t i = 0; i < ARRAY_LEN(captures); i++) {
		size_t len;
		uint8_t *buf = load_vector(captures[i].name, &len);
		assert_int_equal(tls_clienthello_parse(buf, len, &ch), 0);
		assert_int_equal(tls_ja3(&ch, &ja3), 0);
		assert_int_equal(tls_ja4(&ch, &ja4), 0);
		assert_string_equal(ja3.md5, captures[i].ja3_md5);
		assert_string_equal(ja4.ja4, captures[i].ja4);
		if (captures[i].ja4_r_tail != NULL)
			assert_non_null(strstr(ja4.ja4_r, captures[i].ja4_r_tail));
		free(buf);
	}
}

static void test_curl_full_strings(void **state)
{
	size_t len;
	uint8_t *buf = load_vector("curl", &len);

	assert_int_equal(tls_clienthello_parse(buf, len, &ch), 0);
	assert_int_equal(tls_ja3(&ch, &ja3), 0);
	assert_string_equal(ja3.str,
			    "771,4866-4867-4865-49196-49200-159-52393-52392-52394-49195-49199-158-"
			    "49188-49192-107-49187-49191-103-49162-49172-57-49161-49171-51-157-156-"
			    "61-60-53-47-255,0-11-10-16-22-23-49-13-43-45-51-21,29-23-30-25-24-256-"
			    "257-258-259-260,0-1-2");
	assert_int_equal(tls_ja4(&ch, &ja4), 0);
	assert_string_equal(ja4.ja4_r,
			    "t13d3112h2_002f,0033,0035,0039,003c,003d,0067,006b,009c,009d,009e,"
			    "009f,00ff,1301,1302,1303,c009,c00a,c013,c014,c023,c024,c027,c028,"
			    "c02b,c02c,c02f,c030,cca8,cca9,ccaa_000a,000b,000d,0015,0016,0017,"
			    "002b,002d,0031,0033_0403,0503,0603,0807,0808,0809,080a,080b,0804,"
			    "0805,0806,0401,0501,0601,0303,0301,0302,0402,0502,0602");
	free(buf);
}

/* RFC 8701: exactly the sixteen values 0x0a0a, 0x1a1a, ..., 0xfafa. */
static void test_grease_values(void **state)
{
	unsigned n = 0;

	for (unsigned v = 0; v <= 0xffff; v++) {
		if (!tls_is_grease((uint16_t)v))
			continue;
		assert_int_equal(v, 0x0a0a + 0x1010 * n);
		n++;
	}
	assert_int_equal(n, 16);
}

static void test_sslv2_and_null(void **state)
{
	static const uint8_t v2[] = {0x80, 0x22, 0x01, 0x03, 0x01};

	assert_int_equal(tls_clienthello_parse(v2, sizeof(v2), &ch), 0);
	assert_int_equal(tls_ja3(&ch, &ja3), SINKD_EINVAL);
	assert_string_equal(ja3.str, "");
	assert_int_equal(tls_ja4(&ch, &ja4), SINKD_EINVAL);
	assert_string_equal(ja4.ja4, "");
	assert_int_equal(tls_ja3(NULL, &ja3), SINKD_EINVAL);
	assert_int_equal(tls_ja4(&ch, NULL), SINKD_EINVAL);
}

static void test_json_summary(void **state)
{
	static char json[TLS_CH_JSON_MAX];
	size_t len;
	uint8_t *buf = load_vector("python_ssl", &len);

	assert_int_equal(tls_clienthello_parse(buf, len, &ch), 0);
	assert_int_equal(tls_clienthello_json(&ch, json, sizeof(json)), 0);
	assert_memory_equal(json,
			    "{\"sslv2\":false,\"record_version\":\"0301\",\"version\":\"0303\","
			    "\"records\":1,\"length\":508,\"session_id_len\":32,"
			    "\"sni\":\"py.example\",\"ciphers\":[\"1302\",",
			    138);
	assert_non_null(strstr(json, "\"alpn\":[\"http/1.1\"],\"grease\":false,\"truncated\":0}"));
	assert_non_null(strstr(json, "\"versions\":[\"0304\",\"0303\"],"));
	assert_non_null(strstr(json, "\"point_formats\":[0,1,2],"));
	assert_int_equal(tls_clienthello_json(&ch, json, 40), SINKD_EFULL);
	assert_int_equal(strlen(json), 39);
	free(buf);
}

/* Every list full and every byte string escaped: TLS_CH_JSON_MAX holds it. */
static void test_json_worst_case_fits(void **state)
{
	static char json[TLS_CH_JSON_MAX];

	memset(&ch, 0, sizeof(ch));
	ch.n_ciphers = TLS_CH_MAX_CIPHERS;
	ch.n_compression = TLS_CH_MAX_COMPRESSION;
	ch.n_ext = TLS_CH_MAX_EXTENSIONS;
	ch.n_versions = TLS_CH_MAX_VERSIONS;
	ch.n_groups = TLS_CH_MAX_GROUPS;
	ch.n_point_formats = TLS_CH_MAX_POINT_FORMATS;
	ch.n_sigalgs = TLS_CH_MAX_SIGALGS;
	ch.n_key_shares = TLS_CH_MAX_KEY_SHARES;
	ch.n_psk_modes = TLS_CH_MAX_PSK_MODES;
	memset(ch.compression, 255, sizeof(ch.compression));
	memset(ch.point_formats, 255, sizeof(ch.point_formats));
	memset(ch.psk_modes, 255, sizeof(ch.psk_modes));
	ch.has_sni = true;
	ch.sni_len = TLS_CH_SNI_MAX;
	memset(ch.sni, 1, TLS_CH_SNI_MAX);
	ch.n_alpn = TLS_CH_MAX_ALPN;
	for (int i = 0; i < TLS_CH_MAX_ALPN; i++) {
		ch.alpn_len[i] = 255;
		memset(ch.alpn[i], 0xff, 255);
	}
	ch.n_records = 65535;
	ch.hello_len = TLS_CH_MAX_HELLO;
	ch.truncated = 0x7ff;
	assert_int_equal(tls_clienthello_json(&ch, json, sizeof(json)), 0);
	assert_non_null(strstr(json, "\"sni\":\"\\u0001\\u0001"));
	assert_true(strlen(json) > TLS_CH_JSON_MAX - 600);

	ch.n_alpn = 1;
	ch.alpn_len[0] = 3;
	memcpy(ch.alpn[0], "a\"\\", 4);
	assert_int_equal(tls_clienthello_json(&ch, json, sizeof(json)), 0);
	assert_non_null(strstr(json, "\"alpn\":[\"a\\\"\\\\\"]"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_ja3_published_readme),
	    cmocka_unit_test(test_ja3_published_pyja3_with_grease),
	    cmocka_unit_test(test_ja4_spec_example),
	    cmocka_unit_test(test_ja4_spec_no_sigalgs),
	    cmocka_unit_test(test_ja4_alpn_rules),
	    cmocka_unit_test(test_ja4_versions_and_empty_lists),
	    cmocka_unit_test(test_ja4_counts_capped),
	    cmocka_unit_test(test_captured_hellos),
	    cmocka_unit_test(test_curl_full_strings),
	    cmocka_unit_test(test_grease_values),
	    cmocka_unit_test(test_sslv2_and_null),
	    cmocka_unit_test(test_json_summary),
	    cmocka_unit_test(test_json_worst_case_fits),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
