/* Protocol shapes: path templates, keys, the bounded table, distinct
 * sources, and batches merged into a real store. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "../store/store_test_util.h"
#include "classify/shapes.h"
#include "decode_test_util.h"
#include "store/store.h"

static struct test_event t;

static void tmpl(const char *in, const char *want)
{
	char out[192];
	shapes_template(in, strlen(in), out, sizeof(out));
	if (strcmp(out, want) != 0)
		fail_msg("template of '%s' is '%s', expected '%s'", in, out, want);
}

static void test_templates(void **state)
{
	tmpl("/index.php", "/index.php");
	tmpl("/api/v2/bots/12345/tasks", "/api/v2/bots/{d}/tasks");
	tmpl("/c/0a1b2c3d4e5f/x", "/c/{hex}/x");
	tmpl("/qwxmtz.png", "/{rand}.png"); /* consonant run */
	tmpl("/search.htm", "/search.htm"); /* a word */
	tmpl("/images/logo.gif", "/images/logo.gif");
	tmpl("/u/aZkQpLmN/", "/u/{rand}/");		      /* mixed case */
	tmpl("/d/x7Gk2pQ9", "/d/{rand}");		      /* letters and digits */
	tmpl("/s/abcdefghijklmnopqrstuvwxyzab", "/s/{rand}"); /* long */
	tmpl("/2026-11-25/report_7.txt", "/{d}-{d}-{d}/report_{d}.txt");
	tmpl("/mp3/v2/x64", "/mp3/v2/x64"); /* short mixed runs stay */
	tmpl("", "");
	char out[16];
	shapes_template("/aaaa/bbbb/cccc/dddd", 20, out, sizeof(out));
	assert_string_equal(out, "/aaaa/bbbb/c...");
	shapes_template("/a\x01\xff", 4, out, sizeof(out));
	assert_string_equal(out, "/a??");
}

static void key_of(const char *method, const char *target, const char *hdrs, const char *body,
		   struct shape_key *k)
{
	test_event_http(&t, method, target, hdrs, body, body != NULL ? strlen(body) : 0);
	shapes_key(&t.ev, k);
}

static void test_keys(void **state)
{
	struct shape_key a, b;
	key_of("GET", "/gate.php?v=2&id=77&x", "Host: a\r\nUser-Agent: X\r\nX-Id: 1\r\n", NULL, &a);
	assert_string_equal(a.method, "GET");
	assert_string_equal(a.path, "/gate.php");
	assert_string_equal(a.params, "id,v,x");
	assert_string_equal(a.headers, "host,user-agent,x-id");
	assert_string_equal(a.body, "empty");
	assert_string_equal(a.length, "0");
	assert_string_equal(a.entropy, "-");
	assert_int_equal(strlen(a.id), 16);
	/* parameter and header order, values and case do not change the shape */
	key_of("GET", "/gate.php?x=1&id=9&v=3", "x-id: 2\r\nuser-agent: Y\r\nHOST: b\r\n", NULL,
	       &b);
	assert_string_equal(a.id, b.id);
	/* a different header set does */
	key_of("GET", "/gate.php?x=1&id=9&v=3", "x-id: 2\r\nHOST: b\r\n", NULL, &b);
	assert_string_not_equal(a.id, b.id);
	key_of("GET", "http://evil.example/gate.php?v=1", NULL, NULL, &b);
	assert_string_equal(b.path, "/gate.php");

	struct {
		const char *body, *class;
	} bodies[] = {
	    {"a=QUJD&b=eHl6", "form:a,b"},
	    {"{\"cmd\": 1}", "json"},
	    {"  <lm><t>x</t></lm>", "xml"},
	    {"0123456789abcdef0123", "hex"},
	    {"QUJDREVGR0hJSktMTU5PUA==", "base64"},
	    {"hello world, how are you", "printable"},
	    {"BZh91AY&SY", "bzip2"},
	};
	for (size_t i = 0; i < sizeof(bodies) / sizeof(bodies[0]); i++) {
		key_of("POST", "/p", NULL, bodies[i].body, &b);
		assert_string_equal(b.body, bodies[i].class);
	}
	uint8_t bin[300];
	for (size_t i = 0; i < sizeof(bin); i++)
		bin[i] = (uint8_t)(i * 97 + 13);
	test_event_http(&t, "POST", "/p", NULL, bin, sizeof(bin));
	shapes_key(&t.ev, &b);
	assert_string_equal(b.body, "binary");
	assert_string_equal(b.length, "256-1k");
	assert_string_equal(b.entropy, "max");
	memset(bin, 'a', sizeof(bin));
	test_event_http(&t, "POST", "/p", NULL, bin, 100);
	shapes_key(&t.ev, &b);
	assert_string_equal(b.entropy, "low");
	assert_string_equal(b.length, "64-255");
}

static void test_wanted(void **state)
{
	test_event_http(&t, "GET", "/", NULL, NULL, 0);
	assert_true(shapes_wanted(&t.ev));
	strcpy(t.ev.family, "unknown");
	assert_true(shapes_wanted(&t.ev));
	strcpy(t.ev.family, "waledac");
	assert_false(shapes_wanted(&t.ev));
	t.ev.family[0] = '\0';
	t.ev.kind = EVENT_DNS;
	assert_false(shapes_wanted(&t.ev));
}

/* An HTTP event from 10.0.x.y with target i. */
static void observe(struct shapes *s, const char *target, unsigned src, uint64_t ts)
{
	char ip[32];
	snprintf(ip, sizeof(ip), "10.0.%u.%u", src / 256, src % 256);
	test_event_http(&t, "GET", target, "Host: x\r\n", NULL, 0);
	event_addr_parse(&t.ev.src, ip);
	t.ev.ts_ns = ts;
	strcpy(t.ev.zone, "bestchristmascard.com");
	shapes_observe(s, &t.ev);
}

static void test_table_bound_and_eviction(void **state)
{
	struct shapes *s;
	assert_int_equal(shapes_new(&s, 16), 0);
	char target[64];
	for (unsigned i = 0; i < 20; i++) {
		snprintf(target, sizeof(target), "/word%c", 'a' + i);
		observe(s, target, i, 1000 + i);
	}
	struct shapes_stats st;
	shapes_stats(s, &st);
	/* every shape pending: the 4 beyond the bound are dropped, counted */
	assert_int_equal(st.shapes, 16);
	assert_int_equal(st.created, 16);
	assert_int_equal(st.dropped, 4);
	assert_int_equal(st.observed, 16);
	struct shapes_batch *b = shapes_take(s);
	assert_non_null(b);
	shapes_batch_free(b);
	assert_null(shapes_take(s)); /* nothing pending */
	/* handed over: new shapes now evict old ones */
	for (unsigned i = 0; i < 20; i++) {
		snprintf(target, sizeof(target), "/other%c", 'a' + i);
		observe(s, target, i, 2000 + i);
	}
	shapes_stats(s, &st);
	assert_int_equal(st.evicted, 16);
	assert_int_equal(st.dropped, 8);
	/* a shape seen again is found, not created */
	uint64_t created = st.created;
	observe(s, "/otherp", 99, 3000);
	shapes_stats(s, &st);
	assert_int_equal(st.created, created);
	shapes_free(s);
}

struct got {
	uint64_t count, sources;
	int64_t first, last;
	char domains[256], examples[2048], id[17];
	unsigned n;
};

static int got_cb(const struct store_shape *sh, void *ctx)
{
	struct got *g = ctx;
	g->n++;
	g->count = sh->count;
	g->sources = sh->sources;
	g->first = sh->first_ns;
	g->last = sh->last_ns;
	snprintf(g->domains, sizeof(g->domains), "%s", sh->domains);
	snprintf(g->examples, sizeof(g->examples), "%s", sh->examples);
	snprintf(g->id, sizeof(g->id), "%s", sh->id);
	return 0;
}

static void write_batch(struct store *st, struct shapes *s)
{
	struct shapes_batch *b = shapes_take(s);
	assert_non_null(b);
	struct store_batch_hook hook = {shapes_batch_write, b};
	assert_int_equal(store_write_batch(st, NULL, 0, NULL, 0, &hook, 1), 0);
	shapes_batch_free(b);
}

static void test_merge_into_store(void **state)
{
	struct tmpdir tmp;
	tmpdir_make(&tmp);
	struct store *st;
	struct shapes *s;
	assert_int_equal(store_open(&st, tmp.db, false), 0);
	assert_int_equal(shapes_new(&s, 64), 0);
	/* batch 1: 5 events from 5 sources; batch 2: 6 more, 3 sources new */
	for (unsigned i = 0; i < 5; i++)
		observe(s, "/tasks/1", i, 5000 + i);
	write_batch(st, s);
	for (unsigned i = 2; i < 8; i++)
		observe(s, "/tasks/2", i, 4000 + i);
	write_batch(st, s);
	struct got g = {0};
	assert_int_equal(store_shapes_list(st, NULL, 0, got_cb, &g), 0);
	assert_int_equal(g.n, 1);
	assert_int_equal(g.count, 11);
	assert_int_equal(g.sources, 8);
	assert_int_equal(g.first, 4002);
	assert_int_equal(g.last, 5004);
	assert_string_equal(g.domains, "bestchristmascard.com");
	/* 3 examples at most, all from the first batch */
	assert_non_null(strstr(g.examples, "\"10.0.0.0\""));
	assert_non_null(strstr(g.examples, "\"10.0.0.2\""));
	assert_null(strstr(g.examples, "\"10.0.0.3\""));
	/* past SRC_EXACT: the sketch, still close */
	for (unsigned i = 0; i < 2000; i++)
		observe(s, "/tasks/3", i, 6000 + i);
	write_batch(st, s);
	memset(&g, 0, sizeof(g));
	assert_int_equal(store_shape_get(st, g.id[0] ? g.id : "x", got_cb, &g), SINKD_ENOENT);
	assert_int_equal(store_shapes_list(st, "www.bestchristmascard.com", 0, got_cb, &g), 0);
	assert_int_equal(g.n, 1);
	assert_int_equal(g.count, 2011);
	assert_true(g.sources > 1900 && g.sources < 2100);
	memset(&g, 0, sizeof(g));
	assert_int_equal(store_shapes_list(st, "other.com", 0, got_cb, &g), 0);
	assert_int_equal(g.n, 0);
	/* the JSON report */
	json_t *rep;
	assert_int_equal(shapes_report_json(st, NULL, &rep), 0);
	assert_int_equal(json_array_size(rep), 1);
	json_t *o = json_array_get(rep, 0);
	assert_string_equal(json_string_value(json_object_get(o, "path")), "/tasks/{d}");
	assert_int_equal(json_integer_value(json_object_get(o, "count")), 2011);
	assert_int_equal(json_array_size(json_object_get(o, "examples")), 3);
	json_decref(rep);
	shapes_free(s);
	store_close(st);
	tmpdir_remove(&tmp);
}

static void test_ipv6_by_64(void **state)
{
	struct tmpdir tmp;
	tmpdir_make(&tmp);
	struct store *st;
	struct shapes *s;
	assert_int_equal(store_open(&st, tmp.db, false), 0);
	assert_int_equal(shapes_new(&s, 64), 0);
	const char *addrs[] = {"2001:db8:1:2::1", "2001:db8:1:2::ffff", "2001:db8:1:3::1"};
	for (size_t i = 0; i < 3; i++) {
		test_event_http(&t, "GET", "/v6", NULL, NULL, 0);
		event_addr_parse(&t.ev.src, addrs[i]);
		shapes_observe(s, &t.ev);
	}
	write_batch(st, s);
	struct got g = {0};
	assert_int_equal(store_shapes_list(st, NULL, 0, got_cb, &g), 0);
	assert_int_equal(g.count, 3);
	assert_int_equal(g.sources, 2); /* two /64s */
	shapes_free(s);
	store_close(st);
	tmpdir_remove(&tmp);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_templates),
	    cmocka_unit_test(test_keys),
	    cmocka_unit_test(test_wanted),
	    cmocka_unit_test(test_table_bound_and_eviction),
	    cmocka_unit_test(test_merge_into_store),
	    cmocka_unit_test(test_ipv6_by_64),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
