/* Matching: each field and operator on events that match and events that
 * do not, negation, priority and first-match order, labels, the decoder
 * call, pathological regexes, and the live holder (counters, reload). */
#include "rules_test_util.h"

#include "classify/decode.h"
#include "core/config.h"

static char path[512];

/* One rule "t" (family "hit") made of the given condition lines. */
static struct classifier *one_rule(const char *conds)
{
	char text[4096], err[512];
	struct classifier *c = NULL;
	snprintf(text, sizeof(text),
		 "set seized = alpha.com, beta.net\nrule t\n family hit\n%s\nend\n", conds);
	if (rules_load_text(text, &c, err, sizeof(err), path, sizeof(path)) != 0)
		fail_msg("%s\n%s", err, text);
	return c;
}

static bool hits(struct classifier *c, struct test_event *t)
{
	classifier_classify(c, NULL, &t->ev);
	return strcmp(t->ev.family, "hit") == 0;
}

/* The condition matches `yes` and not `no`; `not COND` the reverse. */
static void check(const char *cond, struct test_event *yes, struct test_event *no)
{
	char neg[512];
	struct classifier *c = one_rule(cond);
	if (!hits(c, yes))
		fail_msg("'%s' did not match", cond);
	if (hits(c, no))
		fail_msg("'%s' matched what it should not", cond);
	classifier_free(c);
	snprintf(neg, sizeof(neg), "not %s", cond);
	c = one_rule(neg);
	if (hits(c, yes) || !hits(c, no))
		fail_msg("'%s' is not the negation", neg);
	classifier_free(c);
}

static const char waledac_headers[] = "Host: www.alpha.com\r\nReferer: Mozilla\r\n"
				      "User-Agent:  Mozilla \r\nX-Dup: one\r\nx-dup: two\r\n";

static void test_fixed_fields(void **state)
{
	(void)state;
	struct test_event a, b;
	tev_http(&a, "POST", "/x.png", NULL, NULL, 0);
	tev_init(&b, EVENT_DNS);
	check("kind http,tls", &a, &b);
	check("kind in http,raw", &a, &b);
	check("transport tcp", &a, &b);
	a.ev.dst.port = 8080;
	b.ev.dst.port = 8100;
	check("port 80,8000-8099", &a, &b);
	tev_http(&b, "GET", "/x.png", NULL, NULL, 0);
	check("method post,PUT", &a, &b);
	check("method = POST", &a, &b);
	/* "=" is the optional operator, not a method. */
	struct classifier *c = one_rule(" method = POST");
	struct test_event eq;
	tev_http(&eq, "=", "/", NULL, NULL, 0);
	assert_false(hits(c, &eq));
	classifier_free(c);
}

static void test_target_fields(void **state)
{
	(void)state;
	struct test_event a, b;
	tev_http(&a, "GET", "/gate.php?id=abc123&v=2", NULL, NULL, 0);
	tev_http(&b, "GET", "/gate.php", NULL, NULL, 0);
	check("path = \"/gate.php\"", &a, &(struct test_event){0}); /* no target: no match */
	check("query ~ \"(^|&)id=[a-z0-9]+\"", &a, &b);
	check("target prefix \"/gate.php?\"", &a, &b);
	check("target contains \"v=2\"", &a, &b);
	check("param id", &a, &b);
	check("param id = abc123", &a, &b);
	check("param v ~ \"^[0-9]$\"", &a, &b);
	tev_http(&b, "GET", "/gate.php?xid=abc123&ids=1", NULL, NULL, 0);
	check("param id", &a, &b); /* names are exact, not substrings */
	tev_http(&b, "GET", "/other.php?id=abc123", NULL, NULL, 0);
	check("path ~ \"^/gate\\.php$\"", &a, &b);
}

static void test_headers(void **state)
{
	(void)state;
	struct test_event a, b;
	tev_http(&a, "POST", "/", waledac_headers, NULL, 0);
	tev_http(&b, "POST", "/", "Host: x\r\nUser-Agent: Mozilla/5.0\r\n", NULL, 0);
	check("header Referer", &a, &b);
	check("header referer = Mozilla", &a, &b);    /* names case-insensitive */
	check("header User-Agent = Mozilla", &a, &b); /* value trimmed */
	check("header x-dup = two", &a, &b);	      /* any occurrence */
	check("header Host ~ \"\\.alpha\\.com$\"", &a, &b);
	check("header User-Agent prefix Moz", &a, &(struct test_event){0});
}

static void test_body_and_bytes(void **state)
{
	(void)state;
	struct test_event a, b;
	static const uint8_t kelihos[] = {1, 2, 1, 1, 1, 1, 2, 1, 0, 0xff, 'z'};
	static const uint8_t other[] = {1, 2, 1, 1, 1, 1, 2, 2, 0, 0xfe};
	tev_http(&a, "GET", "/", "Content-Length: 11\r\n", kelihos, sizeof(kelihos));
	tev_http(&b, "GET", "/", "Content-Length: 10\r\n", other, sizeof(other));
	check("body hex \"01 02 01 01 01 01 02 01\"", &a, &b);
	check("body hex \"00ff\" at 8", &a, &b);
	check("body hex \"ff:7a\" at any", &a, &b);
	check("body hex \"7a\" at 10", &a, &b);
	check("body prefix \"\\x01\\x02\\x01\\x01\\x01\\x01\\x02\\x01\"", &a, &b);
	check("body contains \"\\0\\xffz\"", &a, &b);
	check("body ~ \"\\x02\\x01\\x00\"", &a, &b); /* regexes see NUL bytes */
	check("body = \"\\x01\\x02\\x01\\x01\\x01\\x01\\x02\\x01\\0\\xffz\"", &a, &b);
	/* An offset past the end never matches (and never reads past it). */
	struct classifier *c = one_rule("body hex \"7a\" at 11");
	assert_false(hits(c, &a));
	classifier_free(c);
	tev_init(&a, EVENT_RAW);
	tev_add(&a, EVP_RAW, "\x16\x03\x01\x02", 4);
	tev_init(&b, EVENT_RAW);
	tev_add(&b, EVP_RAW, "SSH-2.0", 7);
	check("bytes hex \"16 03\"", &a, &b);
	check("bytes prefix SSH-", &b, &a);
}

static void test_names_and_tls(void **state)
{
	(void)state;
	struct test_event a, b;
	tev_init(&a, EVENT_TLS);
	snprintf(a.ev.qname, sizeof(a.ev.qname), "www.alpha.com");
	snprintf(a.ev.zone, sizeof(a.ev.zone), "alpha.com");
	tev_add_str(&a, EVP_TLS_JA3, "771,4865-4866,0-23,29,0");
	tev_add_str(&a, EVP_TLS_JA3_MD5, "0123456789abcdef0123456789abcdef");
	tev_add_str(&a, EVP_TLS_JA4, "t13d1516h2_8daaf6152771_e5627efa2ab1");
	tev_init(&b, EVENT_TLS);
	snprintf(b.ev.qname, sizeof(b.ev.qname), "gamma.org");
	tev_add_str(&b, EVP_TLS_JA4, "t12d0101_x_y");
	check("sni ~ \"^www\\.\"", &a, &b);
	check("zone in seized", &a, &b);
	check("zone = alpha.com", &a, &b);
	check("zone", &a, &b);
	check("ja3 prefix \"771,\"", &a, &b);
	check("ja3_md5 = 0123456789abcdef0123456789abcdef", &a, &b);
	check("ja4 = t13d1516h2_8daaf6152771_e5627efa2ab1", &a, &b);
	/* A DNS name under a set's domain but under no seized zone of ours. */
	tev_init(&a, EVENT_DNS);
	snprintf(a.ev.qname, sizeof(a.ev.qname), "x.beta.net");
	tev_init(&b, EVENT_DNS);
	snprintf(b.ev.qname, sizeof(b.ev.qname), "beta.network");
	check("zone in seized", &a, &b);
	check("qname ~ \"^x\\.\"", &a, &b);
	/* Kelihos' dotted-IP Host. */
	tev_http(&a, "GET", "/news.htm", NULL, NULL, 0);
	snprintf(a.ev.qname, sizeof(a.ev.qname), "192.0.2.7");
	tev_http(&b, "GET", "/news.htm", NULL, NULL, 0);
	snprintf(b.ev.qname, sizeof(b.ev.qname), "192.0.2.example");
	check("host ~ \"^[0-9]{1,3}(\\.[0-9]{1,3}){3}$\"", &a, &b);
}

/* Higher priority wins; equal priority: the first rule in load order;
 * labels come from the winner; no match: "unknown" and empty labels. */
static void test_order_and_labels(void **state)
{
	(void)state;
	char err[512];
	struct classifier *c = NULL;
	assert_int_equal(
	    rules_load_text("rule first\n family a\n tag t1\n kind http\nend\n"
			    "rule second\n family b\n kind http\nend\n"
			    "rule urgent\n family c\n tag hot\n severity critical\n priority 5\n"
			    " path = /hot\nend\n",
			    &c, err, sizeof(err), path, sizeof(path)),
	    0);
	struct test_event t;
	tev_http(&t, "GET", "/hot", NULL, NULL, 0);
	snprintf(t.ev.msg_type, sizeof(t.ev.msg_type), "stale");
	assert_int_equal(classifier_match(c, NULL, &t.ev, NULL), 0);
	assert_string_equal(t.ev.family, "c");
	assert_string_equal(t.ev.rule_id, "urgent");
	assert_string_equal(t.ev.tag, "hot");
	assert_int_equal(t.ev.severity, 4);
	assert_string_equal(t.ev.msg_type, ""); /* decoder fields are reset */
	tev_http(&t, "GET", "/cold", NULL, NULL, 0);
	assert_int_equal(classifier_match(c, NULL, &t.ev, NULL), 1);
	assert_string_equal(t.ev.family, "a");
	assert_string_equal(t.ev.tag, "t1");
	tev_init(&t, EVENT_DNS);
	snprintf(t.ev.rule_id, sizeof(t.ev.rule_id), "stale");
	assert_int_equal(classifier_match(c, NULL, &t.ev, NULL), -1);
	assert_string_equal(t.ev.family, CLASSIFY_UNKNOWN);
	assert_string_equal(t.ev.rule_id, "");
	assert_int_equal(t.ev.severity, 0);
	classifier_free(c);
}

/* The rule's decoder runs with its argument. */
static void test_decoder_runs(void **state)
{
	(void)state;
	struct classifier *c = one_rule(" kind http\n param id\n decoder generic param=id");
	struct decode_env *env = NULL;
	assert_int_equal(decode_env_new(&env, NULL), 0);
	struct test_event t;
	tev_http(&t, "GET", "/g?id=bot42", NULL, NULL, 0);
	int dret = -1;
	assert_int_equal(classifier_match(c, env, &t.ev, &dret), 0);
	assert_int_equal(dret, 0);
	assert_string_equal(t.ev.bot_id, "bot42");
	assert_string_equal(t.ev.decode_status, "ok");
	decode_env_free(env);
	classifier_free(c);
}

/* Catastrophic backtracking is cut by the match limit: no match, no hang. */
static void test_pathological_regex(void **state)
{
	(void)state;
	struct classifier *c = one_rule(" body ~ \"^(a|a)*$\"");
	static uint8_t body[4000];
	memset(body, 'a', sizeof(body));
	body[sizeof(body) - 1] = 'b';
	struct test_event t;
	tev_http(&t, "POST", "/", NULL, body, sizeof(body));
	assert_false(hits(c, &t));
	classifier_free(c);
}

static void write_cfg_rules(struct sinkd_config *cfg, const char *file, const char *family)
{
	char text[256];
	snprintf(text, sizeof(text),
		 "rule p\n family %s\n path = /p\n decoder generic param=id\nend\n", family);
	rules_write(file, text);
	config_defaults(cfg);
	snprintf(cfg->rules_files, sizeof(cfg->rules_files), "%s", file);
}

/* The live holder: counters per family, decode failures, reload swaps at
 * the next event, a bad reload keeps the running set. */
static void test_live_reload_and_stats(void **state)
{
	(void)state;
	static struct sinkd_config cfg;
	char file[512], err[512];
	rules_tmp_path(file, sizeof(file), "live");
	write_cfg_rules(&cfg, file, "one");
	struct classify *cl = NULL;
	assert_int_equal(classify_new(&cl, &cfg, err, sizeof(err)), 0);
	struct test_event t;
	tev_http(&t, "GET", "/p?id=x1", NULL, NULL, 0);
	classify_event(cl, &t.ev);
	assert_string_equal(t.ev.family, "one");
	tev_http(&t, "GET", "/p", NULL, NULL, 0); /* no id: the decoder fails */
	classify_event(cl, &t.ev);
	tev_http(&t, "GET", "/q", NULL, NULL, 0);
	classify_event(cl, &t.ev);
	assert_string_equal(t.ev.family, "unknown");

	write_cfg_rules(&cfg, file, "two");
	assert_int_equal(classify_reload(cl, &cfg, err, sizeof(err)), 0);
	tev_http(&t, "GET", "/p?id=x2", NULL, NULL, 0);
	classify_event(cl, &t.ev);
	assert_string_equal(t.ev.family, "two");

	rules_write(file, "rule p\n family three\n pth = /p\nend\n");
	char want[700];
	assert_int_equal(classify_reload(cl, &cfg, err, sizeof(err)), SINKD_EPARSE);
	snprintf(want, sizeof(want), "%s:3: unknown keyword 'pth'", file);
	assert_memory_equal(err, want, strlen(want));
	tev_http(&t, "GET", "/p?id=x3", NULL, NULL, 0);
	classify_event(cl, &t.ev);
	assert_string_equal(t.ev.family, "two");

	struct classify_stats st;
	classify_stats(cl, &st);
	assert_int_equal(st.events, 5);
	assert_int_equal(st.unknown, 1);
	assert_int_equal(st.decode_ok, 3);
	assert_int_equal(st.decode_failed, 1);
	assert_int_equal(st.reloads, 1);
	assert_int_equal(st.reload_failures, 1);
	assert_int_equal(st.rules, 1);
	assert_int_equal(st.n_families, 2);
	assert_string_equal(st.families[0].family, "one");
	assert_int_equal(st.families[0].hits, 2);
	assert_int_equal(st.families[0].decode_failed, 1);
	assert_string_equal(st.families[1].family, "two");
	assert_int_equal(st.families[1].hits, 2);
	classify_free(cl);
	unlink(file);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_fixed_fields),
	    cmocka_unit_test(test_target_fields),
	    cmocka_unit_test(test_headers),
	    cmocka_unit_test(test_body_and_bytes),
	    cmocka_unit_test(test_names_and_tls),
	    cmocka_unit_test(test_order_and_labels),
	    cmocka_unit_test(test_decoder_runs),
	    cmocka_unit_test(test_pathological_regex),
	    cmocka_unit_test(test_live_reload_and_stats),
	};
	int ret = cmocka_run_group_tests(tests, NULL, NULL);
	unlink(path);
	return ret;
}
