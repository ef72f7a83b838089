/* Unit tests: editing domain list files (add, remove, import). */
#include <limits.h>
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
#include "domains/domains_internal.h"

static char tmpdir[256];
static char path[320];

static int setup_tmp(void **state)
{
	const char *base = getenv("SINKD_TEST_TMP");
	if (base) {
		mkdir(base, 0755);
		snprintf(tmpdir, sizeof(tmpdir), "%s/domains-edit.XXXXXX", base);
	} else {
		snprintf(tmpdir, sizeof(tmpdir), "/tmp/sinkd-domains-edit.XXXXXX");
	}
	char real[PATH_MAX];
	if (!mkdtemp(tmpdir) || !realpath(tmpdir, real) || strlen(real) >= sizeof(tmpdir))
		return -1;
	memcpy(tmpdir, real, strlen(real) + 1);
	return 0;
}

static int teardown_tmp(void **state)
{
	char cmd[300];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	return system(cmd) == 0 ? 0 : -1;
}

static const char *write_tmp(const char *name, const char *content)
{
	snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs(content, f);
	fclose(f);
	return path;
}

static char *slurp(const char *p)
{
	FILE *f = fopen(p, "r");
	assert_non_null(f);
	char *buf = calloc(1, 1 << 16);
	size_t n = fread(buf, 1, (1 << 16) - 1, f);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

static void assert_file(const char *p, const char *want)
{
	char *got = slurp(p);
	assert_string_equal(got, want);
	free(got);
}

/* Both output streams of one edit, in memory. */
struct run {
	char *out, *err;
	size_t olen, elen;
	FILE *fo, *fe;
};

static void run_open(struct run *r)
{
	r->out = r->err = NULL;
	r->fo = open_memstream(&r->out, &r->olen);
	r->fe = open_memstream(&r->err, &r->elen);
}

static void run_close(struct run *r)
{
	fclose(r->fo);
	fclose(r->fe);
	free(r->out);
	free(r->err);
}

static void run_expect(struct run *r, const char *out, const char *err)
{
	fflush(r->fo);
	fflush(r->fe);
	assert_string_equal(r->out, out);
	assert_string_equal(r->err, err);
}

static void test_add_list(void **state)
{
	const char *p = write_tmp("list.txt", "# seized\nold.com # first\nlast.net");
	char *names[] = {"New.COM", "old.com", "new.com.", "bücher.example"};
	char want[4096];
	struct run r;
	run_open(&r);
	assert_int_equal(domains_file_add(p, names, 4, NULL, r.fo, r.fe), 0);
	snprintf(want, sizeof(want),
		 "old.com: already in %s (metadata unchanged)\n"
		 "added 2 domains to %s (4 in total); send SIGHUP to sinkd to reload\n",
		 p, p);
	run_expect(&r, want, "");
	run_close(&r);
	assert_file(p, "# seized\nold.com # first\nlast.net\nnew.com\nxn--bcher-kva.example\n");

	/* Nothing new: the file is left alone. */
	run_open(&r);
	assert_int_equal(domains_file_add(p, names + 1, 1, NULL, r.fo, r.fe), 0);
	snprintf(want, sizeof(want),
		 "old.com: already in %s (metadata unchanged)\nnothing changed\n", p);
	run_expect(&r, want, "");
	run_close(&r);

	/* One bad name: nothing is written. */
	char *bad[] = {"fine.com", "bad!.com"};
	run_open(&r);
	assert_int_equal(domains_file_add(p, bad, 2, NULL, r.fo, r.fe), 1);
	run_expect(&r, "", "'bad!.com': invalid character '!'\n");
	run_close(&r);
	assert_file(p, "# seized\nold.com # first\nlast.net\nnew.com\nxn--bcher-kva.example\n");
}

static void test_add_converts_to_csv(void **state)
{
	const char *p =
	    write_tmp("conv.txt", "# seized\r\none.com # court list\r\n\r\ntwo.com\r\n");
	chmod(p, 0640);
	struct domain_meta meta = {.family = "waledac", .case_ref = "1:10cv156, E.D. Va."};
	char *names[] = {"three.com"};
	char want[4096];
	struct run r;
	run_open(&r);
	assert_int_equal(domains_file_add(p, names, 1, &meta, r.fo, r.fe), 0);
	snprintf(want, sizeof(want),
		 "%s: converted from a plain list to CSV to hold the metadata\n"
		 "added 1 domain to %s (3 in total); send SIGHUP to sinkd to reload\n",
		 p, p);
	run_expect(&r, want, "");
	run_close(&r);
	assert_file(p, "# seized\r\n"
		       "domain,family,case_ref,seized,registrar,expiry\r\n"
		       "# court list\r\n"
		       "one.com,,,,,\r\n"
		       "\r\n"
		       "two.com,,,,,\r\n"
		       "three.com,waledac,\"1:10cv156, E.D. Va.\",,,\r\n");
	struct stat st;
	assert_int_equal(stat(p, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0640);
	struct domain_registry *reg = domains_new();
	assert_int_equal(domains_load_file(reg, p, stderr, NULL), 0);
	assert_int_equal(domains_count(reg), 3);
	assert_string_equal(domains_meta(reg, 2)->case_ref, "1:10cv156, E.D. Va.");
	domains_free(reg);
}

static void test_add_new_file(void **state)
{
	snprintf(path, sizeof(path), "%s/fresh.csv", tmpdir);
	struct domain_meta meta = {.seized = "2010-02-24"};
	char *names[] = {"a.com"};
	struct run r;
	run_open(&r);
	assert_int_equal(domains_file_add(path, names, 1, &meta, r.fo, r.fe), 0);
	run_close(&r);
	assert_file(path, "domain,family,case_ref,seized,registrar,expiry\na.com,,,2010-02-24,,\n");
}

static void test_remove(void **state)
{
	const char *p = write_tmp("rm.csv", "# keep me\n"
					    "domain,family\n"
					    "a.com,waledac\n"
					    "b.com,waledac # not a comment in CSV\n"
					    "c.com,kelihos\n"
					    "A.COM,waledac\n");
	char *names[] = {"a.com", "C.com."};
	char want[4096];
	struct run r;
	run_open(&r);
	assert_int_equal(domains_file_remove(p, names, 2, r.fo, r.fe), 0);
	snprintf(want, sizeof(want),
		 "removed 2 domains from %s (1 left); send SIGHUP to sinkd to reload\n", p);
	run_expect(&r, want, "");
	run_close(&r);
	assert_file(p, "# keep me\ndomain,family\nb.com,waledac # not a comment in CSV\n");

	char *missing[] = {"b.com", "zzz.com"};
	run_open(&r);
	assert_int_equal(domains_file_remove(p, missing, 2, r.fo, r.fe), 1);
	snprintf(want, sizeof(want), "'zzz.com': not in %s\nnothing changed\n", p);
	run_expect(&r, "", want);
	run_close(&r);
	assert_file(p, "# keep me\ndomain,family\nb.com,waledac # not a comment in CSV\n");
}

static void test_refuses_invalid_file(void **state)
{
	const char *p = write_tmp("broken.txt", "ok.com\nbad!.com\n");
	char *names[] = {"ok.com"};
	char want[4096];
	struct run r;
	run_open(&r);
	assert_int_equal(domains_file_remove(p, names, 1, r.fo, r.fe), 1);
	snprintf(want, sizeof(want),
		 "%s:2: 'bad!.com': invalid character '!'\n"
		 "%s: 1 invalid line: fix it first; nothing changed\n",
		 p, p);
	run_expect(&r, "", want);
	run_close(&r);
	assert_file(p, "ok.com\nbad!.com\n");
}

static void test_import(void **state)
{
	char src[320], want[4096];
	write_tmp("import.csv", "domain,seized\n"
				"one.com,2010-02-24\n"
				"two.com,2010-02-24\n"
				"two.com,2010-02-24\n");
	snprintf(src, sizeof(src), "%s", path);
	char p[320];
	snprintf(p, sizeof(p), "%s", write_tmp("main.txt", "one.com\n"));
	struct run r;
	run_open(&r);
	assert_int_equal(domains_file_import(p, src, r.fo, r.fe), 0);
	snprintf(want, sizeof(want),
		 "%s: 2 loaded, 1 duplicates, 0 invalid, 1 already in %s\n"
		 "%s: converted from a plain list to CSV to hold the metadata\n"
		 "imported 1 domain into %s (2 in total); send SIGHUP to sinkd to reload\n",
		 src, p, p, p);
	run_expect(&r, want, "");
	run_close(&r);
	assert_file(p, "domain,family,case_ref,seized,registrar,expiry\n"
		       "one.com,,,,,\n"
		       "two.com,,,2010-02-24,,\n");

	write_tmp("bad-import.txt", "three.com\nnope\n");
	snprintf(src, sizeof(src), "%s", path);
	run_open(&r);
	assert_int_equal(domains_file_import(p, src, r.fo, r.fe), 1);
	snprintf(want, sizeof(want), "%s: 1 loaded, 0 duplicates, 1 invalid, 0 already in %s\n",
		 src, p);
	char werr[4096];
	snprintf(werr, sizeof(werr),
		 "%s:2: 'nope': single-label name (a bare TLD cannot be a seized zone)\n"
		 "%s: fix the invalid lines above; nothing imported\n",
		 src, src);
	run_expect(&r, want, werr);
	run_close(&r);
	assert_file(p, "domain,family,case_ref,seized,registrar,expiry\n"
		       "one.com,,,,,\n"
		       "two.com,,,2010-02-24,,\n");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_add_list),
	    cmocka_unit_test(test_add_converts_to_csv),
	    cmocka_unit_test(test_add_new_file),
	    cmocka_unit_test(test_remove),
	    cmocka_unit_test(test_refuses_invalid_file),
	    cmocka_unit_test(test_import),
	};
	return cmocka_run_group_tests(tests, setup_tmp, teardown_tmp);
}
