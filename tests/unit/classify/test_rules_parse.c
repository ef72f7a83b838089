/* Rule files: every error gives the exact "file:line: message", a good
 * file loads into the documented order, every error is reported by the
 * checking loader, and the shipped rules load. */
#include "rules_test_util.h"

static char path[512];

/* Load text and expect failure with exactly "PATH:line: msg". */
static void expect_error(const char *text, unsigned line, const char *msg)
{
	struct classifier *c = NULL;
	char err[1024], want[1200];
	int ret = rules_load_text(text, &c, err, sizeof(err), path, sizeof(path));
	if (ret != SINKD_EPARSE)
		fail_msg("load returned %d for:\n%s", ret, text);
	assert_null(c);
	snprintf(want, sizeof(want), "%s:%u: %s", path, line, msg);
	assert_string_equal(err, want);
}

/* The same, when only the start of the message is fixed (PCRE2 texts). */
static void expect_error_prefix(const char *text, unsigned line, const char *msg)
{
	struct classifier *c = NULL;
	char err[1024], want[1200];
	assert_int_equal(rules_load_text(text, &c, err, sizeof(err), path, sizeof(path)),
			 SINKD_EPARSE);
	snprintf(want, sizeof(want), "%s:%u: %s", path, line, msg);
	if (strncmp(err, want, strlen(want)) != 0)
		fail_msg("got '%s', want a prefix '%s'", err, want);
}

#define OK_RULE "rule r\n family f\n kind http\nend\n"

static void test_structure_errors(void **state)
{
	(void)state;
	expect_error("# c\nbogus x\n", 2,
		     "unknown keyword 'bogus' (outside a rule: 'rule ID' or 'set NAME')");
	expect_error("end\n", 1, "'end' without a 'rule'");
	expect_error("rule a\n family f\n kind http\n", 1, "rule is not closed: add 'end'");
	expect_error("rule a\n family f\nrule b\nend\n", 3,
		     "'rule' inside rule started at line 1: close it with 'end' first");
	expect_error("rule a\n kind http\nend\n", 1, "rule 'a' has no family (add 'family NAME')");
	expect_error("rule a\n family f\nend\n", 1,
		     "rule 'a' has no condition: it would claim every event");
}

/* The duplicate message names the first definition's place. */
static void test_duplicate_rule(void **state)
{
	(void)state;
	struct classifier *c = NULL;
	char err[1024], want[1200];
	assert_int_equal(rules_load_text(OK_RULE "\nrule r\n family g\n kind dns\nend\n", &c, err,
					 sizeof(err), path, sizeof(path)),
			 SINKD_EPARSE);
	snprintf(want, sizeof(want), "%s:6: rule 'r' is already defined at %s:1", path, path);
	assert_string_equal(err, want);
}

static void test_word_errors(void **state)
{
	(void)state;
	expect_error("rule a\n family f\n path = \"/x\n", 3,
		     "unterminated string: add the closing '\"'");
	expect_error("rule a\n family f\n body prefix \"\\xZ1\"\nend\n", 3,
		     "bad escape: \\x needs two hex digits");
	expect_error("rule a\n family f\n path = \"/x\"y\nend\n", 3,
		     "text right after a closing quote: separate words with a blank");
	expect_error("rule a\n family bad/name\n kind http\nend\n", 2,
		     "family 'bad/name': expected 1-31 characters of letters, digits, '-', '_', "
		     "'.', ':'");
	expect_error("rule a\n family f\n tag\n kind http\nend\n", 3,
		     "tag takes one value: 'tag NAME'");
	expect_error("rule a\n family f\n severity 7\n kind http\nend\n", 3,
		     "severity: expected 0-4 or none, low, medium, high, critical");
	expect_error("rule a\n family f\n priority x\n kind http\nend\n", 3,
		     "priority: expected a whole number from -1000000 to 1000000");
	expect_error("rule a\n family f\n family g\n kind http\nend\n", 3,
		     "rule 'a' already sets a family");
}

static void test_condition_errors(void **state)
{
	(void)state;
	expect_error("rule a\n family f\n kind smtp\nend\n", 3,
		     "kind: expected a list of dns, http, tls, raw");
	expect_error("rule a\n family f\n transport sctp\nend\n", 3,
		     "transport: expected a list of tcp, udp");
	expect_error("rule a\n family f\n port 90-80\nend\n", 3,
		     "port: expected a list of ports or ranges like 80,8000-8099");
	expect_error("rule a\n family f\n port 70000\nend\n", 3,
		     "port: expected a list of ports or ranges like 80,8000-8099");
	expect_error("rule a\n family f\n body hex \"01 0\"\nend\n", 3,
		     "body hex \"01 0\": expected pairs of hex digits like \"01 02 ff\"");
	expect_error("rule a\n family f\n body hex \"01\" at -1\nend\n", 3,
		     "body hex ... at '-1': expected an offset 0-1000000 or 'any'");
	expect_error("rule a\n family f\n body startswith \"x\"\nend\n", 3,
		     "body: expected '= VALUE', '~ REGEX', 'prefix VALUE', 'contains VALUE' or "
		     "'hex \"01 02\" [at N|any]'");
	expect_error("rule a\n family f\n body prefix \"\"\nend\n", 3, "body prefix: empty value");
	expect_error("rule a\n family f\n header\nend\n", 3,
		     "header: expected a name: 'header NAME [OP VALUE]'");
	expect_error("rule a\n family f\n not\nend\n", 3, "not: expected a condition after 'not'");
	expect_error("rule a\n family f\n zone in nosuch\nend\n", 3,
		     "zone in 'nosuch': no such set (define it above with 'set nosuch = ...' or "
		     "'set nosuch file PATH')");
	expect_error_prefix("rule a\n family f\n path ~ \"(x\"\nend\n", 3,
			    "bad regex \"(x\" at offset 2: ");
	expect_error_prefix("rule a\n family f\n pth = \"/\"\nend\n", 3,
			    "unknown keyword 'pth' (conditions: kind transport port method path");
}

static void test_set_and_decoder_errors(void **state)
{
	(void)state;
	expect_error("set s\n", 1, "set: expected 'set NAME = domain...' or 'set NAME file PATH'");
	expect_error("set s = bad..name\n", 1, "set 's': invalid domain 'bad..name'");
	expect_error("set s = a.com\nset s = b.com\n", 2, "set 's' is already defined");
	expect_error("rule a\n family f\n kind http\n decoder nosuch\nend\n", 1,
		     "rule 'a': unknown decoder 'nosuch'");
	expect_error("rule a\n family f\n kind http\n decoder generic\n decoder generic x\nend\n",
		     5, "rule 'a' already names a decoder");
	expect_error_prefix("rule a\n family f\n kind http\n decoder generic regex=(x\nend\n", 1,
			    "rule 'a': decoder generic: ");
	struct classifier *c = NULL;
	char err[1024], want[1200];
	assert_int_equal(rules_load_text("set s file \"no-such-list.txt\"\n", &c, err, sizeof(err),
					 path, sizeof(path)),
			 SINKD_EPARSE);
	char dir[512];
	snprintf(dir, sizeof(dir), "%s", path);
	*strrchr(dir, '/') = '\0';
	snprintf(want, sizeof(want), "%s:1: set 's': cannot read %s/no-such-list.txt", path, dir);
	assert_string_equal(err, want);
}

static void test_unreadable_file(void **state)
{
	(void)state;
	struct classifier *c = NULL;
	char err[256];
	const char *files[] = {"/nonexistent/x.rules"};
	assert_int_equal(classifier_load(&c, files, 1, err, sizeof(err)), SINKD_EIO);
	assert_null(c);
	assert_string_equal(
	    err, "/nonexistent/x.rules: cannot open rule file: No such file or directory");
}

/* The checking loader reports every error, each with its line. */
static void test_all_errors_reported(void **state)
{
	(void)state;
	char p[512], buf[4096] = "";
	rules_tmp_path(p, sizeof(p), "all");
	rules_write(p, "rule a\n family f\n kind nope\nend\nrule b\n family g\n severity 9\n"
		       " kind http\nend\nrule c\n family h\n port x\nend\n");
	FILE *out = fmemopen(buf, sizeof(buf), "w");
	unsigned n = 0;
	struct classifier *c = NULL;
	const char *files[] = {p};
	assert_int_equal(classifier_load_report(&c, files, 1, out, &n), SINKD_EPARSE);
	fclose(out);
	assert_int_equal(n, 3);
	char want[2048];
	snprintf(want, sizeof(want),
		 "%s:3: kind: expected a list of dns, http, tls, raw\n"
		 "%s:7: severity: expected 0-4 or none, low, medium, high, critical\n"
		 "%s:12: port: expected a list of ports or ranges like 80,8000-8099\n",
		 p, p, p);
	assert_string_equal(buf, want);
	unlink(p);
}

/* Priority first (higher earlier), then file and rule order; defaults. */
static void test_order_and_info(void **state)
{
	(void)state;
	char a[512], b[512], err[256];
	rules_tmp_path(a, sizeof(a), "a");
	rules_tmp_path(b, sizeof(b), "b");
	rules_write(a, "# first file\nrule low\n family x\n kind http\n priority -5\nend\n"
		       "rule mid1\n family x\n kind http\nend\n");
	rules_write(b, "rule mid2 # comment after a word\n family y\n tag t\n kind dns\n"
		       " severity critical\nend\nrule high\n family y\n kind http\n priority 10\n"
		       " decoder generic param=id\nend\n");
	const char *files[] = {a, b};
	struct classifier *c = NULL;
	assert_int_equal(classifier_load(&c, files, 2, err, sizeof(err)), 0);
	assert_int_equal(classifier_rule_count(c), 4);
	const char *want[] = {"high", "mid1", "mid2", "low"};
	struct classifier_rule_info info;
	for (size_t i = 0; i < 4; i++) {
		assert_int_equal(classifier_rule_info(c, i, &info), 0);
		assert_string_equal(info.id, want[i]);
	}
	assert_int_equal(classifier_rule_info(c, 0, &info), 0);
	assert_string_equal(info.decoder, "generic");
	assert_string_equal(info.decoder_arg, "param=id");
	assert_int_equal(info.priority, 10);
	assert_int_equal(info.severity, 2); /* default: medium */
	assert_string_equal(info.file, b);
	assert_int_equal(info.line, 7);
	assert_int_equal(classifier_rule_info(c, 2, &info), 0);
	assert_int_equal(info.severity, 4);
	assert_string_equal(info.tag, "t");
	assert_int_equal(classifier_rule_info(c, 4, &info), SINKD_ENOENT);
	classifier_free(c);
	unlink(a);
	unlink(b);
}

static void test_shipped_rules_load(void **state)
{
	(void)state;
	const char *files[] = {SINKD_RULES_DIR "/waledac.rules", SINKD_RULES_DIR "/kelihos.rules",
			       SINKD_RULES_DIR "/generic.rules"};
	struct classifier *c = NULL;
	char err[512];
	int ret = classifier_load(&c, files, 3, err, sizeof(err));
	if (ret != 0)
		fail_msg("%s", err);
	assert_true(classifier_rule_count(c) >= 5);
	classifier_free(c);
}

static void test_split_files(void **state)
{
	(void)state;
	char buf[64];
	const char *p[4];
	assert_int_equal(
	    classify_split_files(" a.rules, b.rules ,,c d.rules ", buf, sizeof(buf), p, 4), 3);
	assert_string_equal(p[0], "a.rules");
	assert_string_equal(p[1], "b.rules");
	assert_string_equal(p[2], "c d.rules");
	assert_int_equal(classify_split_files("", buf, sizeof(buf), p, 4), 0);
	assert_int_equal(classify_split_files("a,b,c,d,e", buf, sizeof(buf), p, 4), SINKD_ERANGE);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_structure_errors),
	    cmocka_unit_test(test_duplicate_rule),
	    cmocka_unit_test(test_word_errors),
	    cmocka_unit_test(test_condition_errors),
	    cmocka_unit_test(test_set_and_decoder_errors),
	    cmocka_unit_test(test_unreadable_file),
	    cmocka_unit_test(test_all_errors_reported),
	    cmocka_unit_test(test_order_and_info),
	    cmocka_unit_test(test_shipped_rules_load),
	    cmocka_unit_test(test_split_files),
	};
	int ret = cmocka_run_group_tests(tests, NULL, NULL);
	unlink(path);
	return ret;
}
