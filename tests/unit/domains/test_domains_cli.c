/* Unit tests: `sinkd domains ...` argument handling, output and exit codes. */
#include <fcntl.h>
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

#include "domains/domains.h"

static char tmpdir[256];
static char out_text[65536], err_text[65536];

static int setup_tmp(void **state)
{
	const char *base = getenv("SINKD_TEST_TMP");
	if (base) {
		mkdir(base, 0755);
		snprintf(tmpdir, sizeof(tmpdir), "%s/domains-cli.XXXXXX", base);
	} else {
		snprintf(tmpdir, sizeof(tmpdir), "/tmp/sinkd-domains-cli.XXXXXX");
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

static void write_file(const char *p, const char *content)
{
	FILE *f = fopen(p, "w");
	assert_non_null(f);
	fputs(content, f);
	fclose(f);
}

static void read_into(const char *p, char *buf, size_t size)
{
	FILE *f = fopen(p, "r");
	assert_non_null(f);
	size_t n = fread(buf, 1, size - 1, f);
	buf[n] = '\0';
	fclose(f);
}

/* Run domains_cli with stdout and stderr sent to files; NULL-terminated
 * argument list after "domains". */
static int run(const char *arg, ...)
{
	char *argv[32], out[300], err[300];
	int argc = 0;
	va_list ap;
	argv[argc++] = "domains";
	va_start(ap, arg);
	for (const char *a = arg; a && argc < 31; a = va_arg(ap, const char *))
		argv[argc++] = (char *)a;
	va_end(ap);
	argv[argc] = NULL;
	snprintf(out, sizeof(out), "%s/stdout", tmpdir);
	snprintf(err, sizeof(err), "%s/stderr", tmpdir);
	fflush(stdout);
	fflush(stderr);
	int saved_out = dup(1), saved_err = dup(2);
	int fo = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	int fe = open(err, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	dup2(fo, 1);
	dup2(fe, 2);
	int rc = domains_cli(argc, argv);
	fflush(stdout);
	fflush(stderr);
	dup2(saved_out, 1);
	dup2(saved_err, 2);
	close(fo);
	close(fe);
	close(saved_out);
	close(saved_err);
	read_into(out, out_text, sizeof(out_text));
	read_into(err, err_text, sizeof(err_text));
	return rc;
}

static void test_usage(void **state)
{
	assert_int_equal(run(NULL), 2);
	assert_string_equal(err_text, "sinkd domains: missing command (list, add, remove, import, "
				      "export)\n(try 'sinkd domains --help')\n");
	assert_int_equal(run("frobnicate", NULL), 2);
	assert_int_equal(run("--bogus", "list", NULL), 2);
	assert_string_equal(err_text, "sinkd domains: unknown option or missing value: "
				      "'--bogus'\n(try 'sinkd domains --help')\n");
	assert_int_equal(run("add", "--format", "csv", "x.com", NULL), 2);
	assert_int_equal(run("list", "--family", "waledac", NULL), 2);
	assert_int_equal(run("add", NULL), 2);
	assert_int_equal(run("import", "a", "b", NULL), 2);
	assert_int_equal(run("list", "--format", "xml", "--file", "/dev/null", NULL), 2);
	assert_int_equal(run("--help", NULL), 0);
	assert_non_null(strstr(out_text, "usage: sinkd domains"));
}

static void test_list_and_export(void **state)
{
	char file[300], want[1024];
	snprintf(file, sizeof(file), "%s/seized.csv", tmpdir);
	write_file(file, "domain,family,seized\n"
			 "bestchristmascard.com,waledac,2010-02-24\n"
			 "b.example,,\n");
	assert_int_equal(run("list", "--file", file, NULL), 0);
	assert_string_equal(out_text,
			    "DOMAIN                 FAMILY   CASE  SEIZED      REGISTRAR  EXPIRY\n"
			    "bestchristmascard.com  waledac  -     2010-02-24  -          -\n"
			    "b.example              -        -     -           -          -\n");
	snprintf(want, sizeof(want), "2 domains in %s\n", file);
	assert_string_equal(err_text, want);
	assert_int_equal(run("--file", file, "export", NULL), 0);
	assert_string_equal(out_text, "bestchristmascard.com\nb.example\n");
	assert_int_equal(run("export", "--format", "csv", "--file", file, NULL), 0);
	assert_string_equal(out_text, "domain,family,case_ref,seized,registrar,expiry\n"
				      "bestchristmascard.com,waledac,,2010-02-24,,\n"
				      "b.example,,,,,\n");
	assert_int_equal(run("list", "--format", "json", "--file", file, NULL), 0);
	assert_true(strncmp(out_text, "[\n  {\"domain\": \"bestchristmascard.com\"", 38) == 0);

	/* Invalid lines: reported, the rest still listed, exit 1. */
	write_file(file, "good.com\nbad!.com\n");
	assert_int_equal(run("export", "--file", file, NULL), 1);
	assert_string_equal(out_text, "good.com\n");
	snprintf(want, sizeof(want),
		 "%s:2: 'bad!.com': invalid character '!'\n"
		 "1 domain in %s, 1 invalid line (see above)\n",
		 file, file);
	assert_string_equal(err_text, want);
	assert_int_equal(run("list", "--file", "/nonexistent/list.txt", NULL), 1);
}

static void test_edit_via_config(void **state)
{
	char file[300], conf[300], want[1024];
	snprintf(file, sizeof(file), "%s/list.txt", tmpdir);
	snprintf(conf, sizeof(conf), "%s/sinkd.conf", tmpdir);
	write_file(file, "# seized\none.com\n");
	snprintf(want, sizeof(want), "[domains]\nfile = %s\n", file);
	write_file(conf, want);

	assert_int_equal(run("-c", conf, "add", "two.com", "Three.COM.", NULL), 0);
	snprintf(want, sizeof(want),
		 "added 2 domains to %s (3 in total); send SIGHUP to sinkd to reload\n", file);
	assert_string_equal(out_text, want);
	assert_int_equal(run("-c", conf, "add", "four.com", "--seized", "2010-02-31", NULL), 1);
	assert_string_equal(err_text,
			    "sinkd domains: --seized '2010-02-31': no such calendar date\n");
	assert_int_equal(run("-c", conf, "remove", "one.com", NULL), 0);
	snprintf(want, sizeof(want),
		 "removed 1 domain from %s (2 left); send SIGHUP to sinkd to reload\n", file);
	assert_string_equal(out_text, want);
	assert_int_equal(run("-c", conf, "remove", "one.com", NULL), 1);
	assert_int_equal(run("-c", conf, "export", NULL), 0);
	assert_string_equal(out_text, "two.com\nthree.com\n");
	assert_int_equal(
	    run("-c", conf, "add", "five.com", "--family", "kelihos", "--case", "C-1", NULL), 0);
	assert_int_equal(run("-c", conf, "export", "--format", "csv", NULL), 0);
	assert_string_equal(out_text, "domain,family,case_ref,seized,registrar,expiry\n"
				      "two.com,,,,,\n"
				      "three.com,,,,,\n"
				      "five.com,kelihos,C-1,,,\n");
	char other[300];
	snprintf(other, sizeof(other), "%s/more.txt", tmpdir);
	write_file(other, "six.com\ntwo.com\n");
	assert_int_equal(run("-c", conf, "import", other, NULL), 0);
	assert_non_null(strstr(out_text, "imported 1 domain into"));
	assert_non_null(strstr(out_text, "send SIGHUP to sinkd to reload"));
	write_file(conf, "[domains]\nnope = 1\n");
	assert_int_equal(run("-c", conf, "list", NULL), 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_usage),
	    cmocka_unit_test(test_list_and_export),
	    cmocka_unit_test(test_edit_via_config),
	};
	return cmocka_run_group_tests(tests, setup_tmp, teardown_tmp);
}
