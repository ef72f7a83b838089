/* Unit tests: domain normalisation, matching, loading, export. */
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

#include "core/error.h"
#include "domains/domains.h"

static char tmpdir[512];

static int setup_tmp(void **state)
{
	const char *base = getenv("SINKD_TEST_TMP");
	if (base) {
		mkdir(base, 0755);
		snprintf(tmpdir, sizeof(tmpdir), "%s/domains.XXXXXX", base);
	} else {
		snprintf(tmpdir, sizeof(tmpdir), "/tmp/sinkd-domains.XXXXXX");
	}
	return mkdtemp(tmpdir) ? 0 : -1;
}

static int teardown_tmp(void **state)
{
	char cmd[600];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	return system(cmd) == 0 ? 0 : -1;
}

static const char *write_tmp(const char *name, const char *content)
{
	static char path[600];
	snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs(content, f);
	fclose(f);
	return path;
}

/* Error stream captured in memory. */
struct capture {
	char *buf;
	size_t len;
	FILE *f;
};

static void capture_open(struct capture *c)
{
	c->buf = NULL;
	c->f = open_memstream(&c->buf, &c->len);
	assert_non_null(c->f);
}

static const char *capture_text(struct capture *c)
{
	fflush(c->f);
	return c->buf;
}

static void capture_close(struct capture *c)
{
	fclose(c->f);
	free(c->buf);
}

static void norm_ok(const char *in, const char *want)
{
	char out[DOMAINS_NAME_MAX];
	const char *why = NULL;
	int rc = domains_normalize(in, out, sizeof(out), &why);
	if (rc != 0)
		fail_msg("'%s' rejected: %s", in, why);
	assert_string_equal(out, want);
}

static void norm_bad(const char *in, const char *want_why)
{
	char out[DOMAINS_NAME_MAX];
	const char *why = NULL;
	assert_int_equal(domains_normalize(in, out, sizeof(out), &why), SINKD_EINVAL);
	assert_string_equal(why, want_why);
}

static void test_normalize_ok(void **state)
{
	norm_ok("example.com", "example.com");
	norm_ok("  ExAmple.COM.\t", "example.com");
	norm_ok("bücher.example", "xn--bcher-kva.example");
	norm_ok("BÜCHER.example.", "xn--bcher-kva.example");
	norm_ok("xn--bcher-kva.example", "xn--bcher-kva.example");
	norm_ok("faß.de", "xn--fa-hia.de");
	norm_ok("ab--cd.com", "ab--cd.com");
	norm_ok("a-b.c0m", "a-b.c0m");
	norm_ok("4thfirework.com", "4thfirework.com");
	char long_label[64];
	memset(long_label, 'a', 63);
	long_label[63] = '\0';
	char name[80];
	snprintf(name, sizeof(name), "%s.com", long_label);
	norm_ok(name, name);
}

static void test_normalize_bad(void **state)
{
	char name[400];
	norm_bad("", "empty name");
	norm_bad("   ", "empty name");
	norm_bad(".", "empty name");
	norm_bad("a..com", "empty label");
	norm_bad(".a.com", "empty label");
	norm_bad("a.com..", "empty label");
	norm_bad("bad!.com", "invalid character '!'");
	norm_bad("under_score.com", "invalid character '_'");
	norm_bad("sp ace.com", "invalid character ' '");
	norm_bad("tab\x01.com", "invalid character 0x01");
	norm_bad("-lead.com", "label starts with a hyphen");
	norm_bad("trail-.com", "label ends with a hyphen");
	norm_bad("com", "single-label name (a bare TLD cannot be a seized zone)");
	norm_bad("1.2.3.4", "all-numeric top-level label (an IP address is not a domain name)");
	norm_bad("xn--zzzzzz.com", "IDNA conversion failed: string contains invalid punycode data");
	norm_bad("a\xff.com", "IDNA conversion failed: string encoding error");
	memset(name, 'a', 64);
	strcpy(name + 64, ".com");
	norm_bad(name, "label longer than 63 characters");
	/* 4 x 63 + 3 dots + ".com" = 259 */
	name[0] = '\0';
	for (int i = 0; i < 4; i++)
		snprintf(name + strlen(name), sizeof(name) - strlen(name), "%.63s.",
			 "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb");
	strcat(name, "com");
	norm_bad(name, "name longer than 253 characters");
	/* Exactly 253 is fine: 3 x 63 + 60 + 3 dots + "c"... build 249 + ".com" */
	memset(name, 'c', 249);
	for (int i = 63; i < 249; i += 64)
		name[i] = '.';
	strcpy(name + 249, ".com");
	assert_int_equal(strlen(name), 253);
	norm_ok(name, name);
	char small[8];
	const char *why;
	assert_int_equal(domains_normalize("example.com", small, sizeof(small), &why),
			 SINKD_ERANGE);
}

static void test_meta_set(void **state)
{
	struct domain_meta m;
	const char *why;
	memset(&m, 0, sizeof(m));
	assert_int_equal(domains_meta_set(&m, "seized", " 2010-02-24 ", &why), 0);
	assert_string_equal(m.seized, "2010-02-24");
	assert_int_equal(domains_meta_set(&m, "expiry", "2012-02-29", &why), 0);
	assert_int_equal(domains_meta_set(&m, "expiry", "2011-02-29", &why), SINKD_EINVAL);
	assert_string_equal(why, "no such calendar date");
	assert_int_equal(domains_meta_set(&m, "seized", "24/02/2010", &why), SINKD_EINVAL);
	assert_string_equal(why, "not a date in YYYY-MM-DD form");
	assert_int_equal(domains_meta_set(&m, "family", "Waledac", &why), 0);
	assert_int_equal(domains_meta_set(&m, "family", "0123456789012345678901234567890123", &why),
			 SINKD_EINVAL);
	assert_string_equal(why, "too long (at most 31 bytes)");
	assert_string_equal(m.family, "Waledac");
	assert_int_equal(domains_meta_set(&m, "registrar", "bad\xc3", &why), SINKD_EINVAL);
	assert_string_equal(why, "invalid UTF-8");
	assert_int_equal(domains_meta_set(&m, "registrar", "a\tb", &why), SINKD_EINVAL);
	assert_string_equal(why, "control character not allowed");
	assert_int_equal(domains_meta_set(&m, "registrar", "Verisign, Inc. — Ä", &why), 0);
	assert_int_equal(domains_meta_set(&m, "colour", "red", &why), SINKD_ENOENT);
}

static long match(const struct domain_registry *reg, const char *wire, size_t len, size_t *off)
{
	uint8_t buf[256];
	memcpy(buf, wire, len);
	return domains_match_wire(reg, buf, off);
}

#define WIRE(s) match(reg, s, sizeof(s), &off)

static void test_match(void **state)
{
	struct domain_registry *reg = domains_new();
	size_t off = 99;
	assert_non_null(reg);
	assert_int_equal(WIRE("\7example\3com"), -1);
	assert_int_equal(domains_add(reg, "example.com", NULL), 0);
	assert_int_equal(domains_add(reg, "a.com", NULL), 0);
	assert_int_equal(domains_add(reg, "b.a.com", NULL), 0);
	assert_int_equal(domains_add(reg, "EXAMPLE.com.", NULL), SINKD_EEXIST);
	assert_int_equal(domains_add(reg, "bad!.com", NULL), SINKD_EINVAL);
	assert_int_equal(domains_count(reg), 3);

	assert_int_equal(WIRE("\7example\3com"), 0);
	assert_int_equal(off, 0);
	assert_int_equal(WIRE("\3www\7example\3com"), 0);
	assert_int_equal(off, 4);
	assert_int_equal(WIRE("\1x\1y\3www\7example\3com"), 0);
	assert_int_equal(off, 8);
	off = 99;
	assert_int_equal(WIRE("\10xexample\3com"), -1);
	assert_int_equal(off, 99);
	assert_int_equal(WIRE("\7example\3net"), -1);
	assert_int_equal(WIRE("\3com"), -1);
	assert_int_equal(WIRE(""), -1);
	/* Longest match wins whichever was added first. */
	assert_int_equal(WIRE("\1a\3com"), 1);
	assert_int_equal(WIRE("\1b\1a\3com"), 2);
	assert_int_equal(off, 0);
	assert_int_equal(WIRE("\1c\1b\1a\3com"), 2);
	assert_int_equal(off, 2);
	assert_int_equal(WIRE("\1c\1a\3com"), 1);
	assert_int_equal(off, 2);
	/* Malformed: compression pointer, runaway length. */
	assert_int_equal(WIRE("\300\14"), -1);

	assert_int_equal(domains_match_name(reg, "WWW.Example.COM."), 0);
	assert_int_equal(domains_match_name(reg, "_dmarc.example.com"), 0);
	assert_int_equal(domains_match_name(reg, "com"), -1);
	assert_int_equal(domains_match_name(reg, "."), -1);
	assert_int_equal(domains_match_name(reg, "a..com"), -1);
	assert_string_equal(domains_name(reg, 2), "b.a.com");
	assert_memory_equal(domains_wire(reg, 2), "\1b\1a\3com", 9);
	assert_null(domains_name(reg, 3));
	domains_free(reg);
}

static void test_match_idn(void **state)
{
	struct domain_registry *reg = domains_new();
	size_t off;
	assert_int_equal(domains_add(reg, "Bücher.Example", NULL), 0);
	assert_string_equal(domains_name(reg, 0), "xn--bcher-kva.example");
	assert_int_equal(WIRE("\3www\15xn--bcher-kva\7example"), 0);
	assert_int_equal(domains_match_name(reg, "shop.bücher.example"), 0);
	domains_free(reg);
}

static void test_remove(void **state)
{
	struct domain_registry *reg = domains_new();
	size_t off;
	struct domain_meta m = {.family = "waledac", .seized = "2010-02-24"};
	assert_int_equal(domains_add(reg, "one.com", NULL), 0);
	assert_int_equal(domains_add(reg, "two.com", &m), 0);
	assert_int_equal(domains_add(reg, "three.com", &m), 0);
	assert_int_equal(domains_remove(reg, "one.com"), 0);
	assert_int_equal(domains_remove(reg, "one.com"), SINKD_ENOENT);
	assert_int_equal(domains_remove(reg, "bad!"), SINKD_EINVAL);
	assert_int_equal(domains_count(reg), 2);
	assert_int_equal(WIRE("\3one\3com"), -1);
	assert_int_equal(WIRE("\3www\3two\3com"), 0);
	assert_int_equal(WIRE("\5three\3com"), 1);
	assert_string_equal(domains_meta(reg, 1)->family, "waledac");
	assert_string_equal(domains_meta(reg, 1)->seized, "2010-02-24");
	/* Churn past the arena compaction threshold. */
	char name[64];
	for (int i = 0; i < 2000; i++) {
		snprintf(name, sizeof(name), "churn%d.net", i);
		assert_int_equal(domains_add(reg, name, NULL), 0);
	}
	for (int i = 0; i < 2000; i++) {
		snprintf(name, sizeof(name), "churn%d.net", i);
		if (i % 4 != 3)
			assert_int_equal(domains_remove(reg, name), 0);
	}
	assert_int_equal(domains_count(reg), 502);
	for (int i = 0; i < 2000; i++) {
		snprintf(name, sizeof(name), "x.churn%d.net", i);
		long idx = domains_match_name(reg, name);
		if (i % 4 != 3) {
			assert_int_equal(idx, -1);
		} else {
			assert_int_equal(idx, 2 + i / 4);
			assert_string_equal(domains_name(reg, (size_t)idx), name + 2);
		}
	}
	assert_int_equal(domains_match_name(reg, "two.com"), 0);
	domains_free(reg);
}

static void test_load_list(void **state)
{
	const char *path = write_tmp("list.txt", "\xef\xbb\xbf# header comment\r\n"
						 "example.com\r\n"
						 "\r\n"
						 "  Other.NET.  # inline comment\r\n"
						 "bad!.com\n"
						 "example.com\n"
						 "com\n"
						 "last.org");
	struct domain_registry *reg = domains_new();
	struct domains_load_stats st;
	struct capture err;
	capture_open(&err);
	assert_int_equal(domains_load_file(reg, path, err.f, &st), SINKD_EPARSE);
	char want[2048];
	snprintf(want, sizeof(want),
		 "%s:5: 'bad!.com': invalid character '!'\n"
		 "%s:7: 'com': single-label name (a bare TLD cannot be a seized zone)\n",
		 path, path);
	assert_string_equal(capture_text(&err), want);
	assert_int_equal(st.lines, 8);
	assert_int_equal(st.loaded, 3);
	assert_int_equal(st.duplicates, 1);
	assert_int_equal(st.invalid, 2);
	assert_string_equal(domains_name(reg, 1), "other.net");
	assert_string_equal(domains_name(reg, 2), "last.org");
	capture_close(&err);
	domains_free(reg);
}

static void test_load_csv(void **state)
{
	const char *path = write_tmp(
	    "seized.csv", "# Waledac seizure\n"
			  "Domain , seized,family,case_ref,registrar,expiry\n"
			  "one.com,2010-02-24,waledac,\"1:10cv156, E.D. Va.\",\"Reg \"\"X\"\"\",\n"
			  "two.com,2010-02-30,waledac,,,\n"
			  "three.com,,,\"open\n"
			  "four.com,,,,,,extra\n"
			  ",2010-01-01\n"
			  "five.com\n"
			  "one.com,2010-02-24,waledac,\"1:10cv156, E.D. Va.\",\"Reg \"\"X\"\"\",\n"
			  "five.com,,kelihos\n");
	struct domain_registry *reg = domains_new();
	struct domains_load_stats st;
	struct capture err;
	capture_open(&err);
	assert_int_equal(domains_load_file(reg, path, err.f, &st), SINKD_EPARSE);
	char want[8192];
	snprintf(want, sizeof(want),
		 "%s:4: seized '2010-02-30': no such calendar date\n"
		 "%s:5: unterminated quoted field\n"
		 "%s:6: 7 fields but the header has 6 (quote fields that contain commas)\n"
		 "%s:7: empty name\n"
		 "%s:10: 'five.com' listed again with different metadata; keeping the first\n",
		 path, path, path, path, path);
	assert_string_equal(capture_text(&err), want);
	assert_int_equal(st.loaded, 2);
	assert_int_equal(st.duplicates, 2);
	assert_int_equal(st.invalid, 4);
	const struct domain_meta *m = domains_meta(reg, 0);
	assert_string_equal(m->seized, "2010-02-24");
	assert_string_equal(m->family, "waledac");
	assert_string_equal(m->case_ref, "1:10cv156, E.D. Va.");
	assert_string_equal(m->registrar, "Reg \"X\"");
	assert_string_equal(m->expiry, "");
	assert_string_equal(domains_name(reg, 1), "five.com");
	assert_string_equal(domains_meta(reg, 1)->family, "");
	capture_close(&err);
	domains_free(reg);
}

static void test_load_csv_header_errors(void **state)
{
	const char *path = write_tmp("cols.csv", "domain,owner,family,colour\n"
						 "one.com,alice,waledac,red\n");
	struct domain_registry *reg = domains_new();
	struct domains_load_stats st;
	struct capture err;
	capture_open(&err);
	assert_int_equal(domains_load_file(reg, path, err.f, &st), SINKD_EPARSE);
	char want[1024];
	snprintf(want, sizeof(want),
		 "%s:1: unknown columns 'owner', 'colour' (known: domain, family, case_ref, "
		 "seized, registrar, expiry)\n",
		 path);
	assert_string_equal(capture_text(&err), want);
	assert_int_equal(st.invalid, 1);
	assert_int_equal(st.loaded, 1);
	assert_string_equal(domains_meta(reg, 0)->family, "waledac");
	capture_close(&err);
	domains_free(reg);

	reg = domains_new();
	capture_open(&err);
	assert_int_equal(domains_load_file(reg, "/nonexistent/x.txt", err.f, &st), SINKD_EIO);
	assert_string_equal(capture_text(&err),
			    "/nonexistent/x.txt: cannot open: No such file or directory\n");
	capture_close(&err);
	path = write_tmp("nul.txt", "ok.com\nbad\0.com\n");
	FILE *f = fopen(path, "w");
	fwrite("ok.com\nbad\0.com\n", 1, 16, f);
	fclose(f);
	capture_open(&err);
	assert_int_equal(domains_load_file(reg, path, err.f, &st), SINKD_EPARSE);
	snprintf(want, sizeof(want), "%s:2: NUL byte in line (binary file?)\n", path);
	assert_string_equal(capture_text(&err), want);
	capture_close(&err);
	domains_free(reg);
}

static char *export_to_string(const struct domain_registry *reg, const char *format)
{
	struct capture out;
	capture_open(&out);
	assert_int_equal(domains_export(reg, format, out.f), 0);
	fclose(out.f);
	return out.buf;
}

static void test_export(void **state)
{
	struct domain_registry *reg = domains_new();
	struct domain_meta m = {.family = "waledac",
				.case_ref = "1:10cv156, \"E.D. Va.\"",
				.seized = "2010-02-24",
				.registrar = "back\\slash"};
	assert_int_equal(domains_add(reg, "one.com", &m), 0);
	assert_int_equal(domains_add(reg, "bücher.example", NULL), 0);
	char *list = export_to_string(reg, "list");
	assert_string_equal(list, "one.com\nxn--bcher-kva.example\n");
	char *csv = export_to_string(reg, "csv");
	assert_string_equal(csv, "domain,family,case_ref,seized,registrar,expiry\n"
				 "one.com,waledac,\"1:10cv156, \"\"E.D. Va.\"\"\",2010-02-24,"
				 "back\\slash,\n"
				 "xn--bcher-kva.example,,,,,\n");
	char *json = export_to_string(reg, "json");
	assert_string_equal(json,
			    "[\n"
			    "  {\"domain\": \"one.com\", \"family\": \"waledac\", \"case_ref\": "
			    "\"1:10cv156, \\\"E.D. Va.\\\"\", \"seized\": \"2010-02-24\", "
			    "\"registrar\": \"back\\\\slash\", \"expiry\": \"\"},\n"
			    "  {\"domain\": \"xn--bcher-kva.example\", \"family\": \"\", "
			    "\"case_ref\": \"\", \"seized\": \"\", \"registrar\": \"\", "
			    "\"expiry\": \"\"}\n"
			    "]\n");
	assert_int_equal(domains_export(reg, "xml", stdout), SINKD_EINVAL);

	/* Round trip through both file formats. */
	const char *formats[] = {"csv", "list"};
	for (int i = 0; i < 2; i++) {
		const char *path = write_tmp("round", i == 0 ? csv : list);
		struct domain_registry *back = domains_new();
		assert_int_equal(domains_load_file(back, path, NULL, NULL), 0);
		char *again = export_to_string(back, formats[i]);
		assert_string_equal(again, i == 0 ? csv : list);
		free(again);
		domains_free(back);
	}
	struct domain_registry *empty = domains_new();
	char *ej = export_to_string(empty, "json");
	assert_string_equal(ej, "[]\n");
	free(ej);
	domains_free(empty);
	free(list);
	free(csv);
	free(json);
	domains_free(reg);
}

static void test_waledac(void **state)
{
	const char *dir = getenv("SINKD_DATA_DIR");
	char path[1024];
	snprintf(path, sizeof(path), "%s/waledac-domains.txt", dir ? dir : "data");
	struct domain_registry *reg = domains_new();
	struct domains_load_stats st;
	assert_int_equal(domains_load_file(reg, path, stderr, &st), 0);
	assert_int_equal(domains_count(reg), 273);
	assert_int_equal(st.invalid, 0);
	long idx = domains_match_name(reg, "bestchristmascard.com");
	assert_true(idx >= 0);
	assert_string_equal(domains_name(reg, (size_t)idx), "bestchristmascard.com");
	assert_true(domains_match_name(reg, "www.bestchristmascard.com") == idx);
	assert_int_equal(domains_match_name(reg, "example.com"), -1);
	domains_free(reg);
}

static uint64_t rng_state = 0x9e3779b97f4a7c15ULL;

static uint64_t rng(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

static void gen_name(uint64_t seed, char *buf, size_t size)
{
	static const char *const tld[] = {"com", "net", "org", "ru", "info"};
	snprintf(buf, size, "d%llx.%s", (unsigned long long)seed, tld[seed % 5]);
}

/* One million zones through a generated file; sample hits and misses. */
static void test_million(void **state)
{
	enum { N = 1000000 };
	char path[600], name[64], q[128];
	snprintf(path, sizeof(path), "%s/million.txt", tmpdir);
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	for (uint64_t i = 0; i < N; i++) {
		gen_name(i * 2, name, sizeof(name));
		fprintf(f, "%s\n", name);
	}
	fclose(f);
	struct domain_registry *reg = domains_new();
	struct domains_load_stats st;
	assert_int_equal(domains_load_file(reg, path, stderr, &st), 0);
	assert_int_equal(domains_count(reg), N);
	for (int i = 0; i < 20000; i++) {
		uint64_t k = rng() % N;
		gen_name(k * 2, name, sizeof(name));
		snprintf(q, sizeof(q), "www.x%d.%s", i, name);
		long idx = domains_match_name(reg, q);
		assert_int_equal(idx, (long)k);
		gen_name(k * 2 + 1, name, sizeof(name));
		assert_int_equal(domains_match_name(reg, name), -1);
	}
	domains_free(reg);
	unlink(path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_normalize_ok),
	    cmocka_unit_test(test_normalize_bad),
	    cmocka_unit_test(test_meta_set),
	    cmocka_unit_test(test_match),
	    cmocka_unit_test(test_match_idn),
	    cmocka_unit_test(test_remove),
	    cmocka_unit_test(test_load_list),
	    cmocka_unit_test(test_load_csv),
	    cmocka_unit_test(test_load_csv_header_errors),
	    cmocka_unit_test(test_export),
	    cmocka_unit_test(test_waledac),
	    cmocka_unit_test(test_million),
	};
	return cmocka_run_group_tests(tests, setup_tmp, teardown_tmp);
}
