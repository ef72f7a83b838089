/* Unit tests: the monitor's pure parts. Expected vs observed delegation ->
 * state and differences; expiry dates; sets; the hook's JSON; metrics. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <arpa/inet.h>
#include <cmocka.h>

#include "core/error.h"
#include "monitor/monitor_internal.h"

#define DAY 86400
/* 2026-01-10T12:00:00Z */
#define NOW ((time_t)1768046400)

static struct mon_ip ip(const char *text)
{
	struct mon_ip out = {0};
	out.af = strchr(text, ':') ? AF_INET6 : AF_INET;
	assert_int_equal(inet_pton(out.af, text, out.b), 1);
	return out;
}

static void add_ip(struct mon_ipset *set, const char *text)
{
	struct mon_ip x = ip(text);
	mon_ipset_add(set, &x);
}

/* Settings like [dns] nameserver = ns1, ns2; sinkhole = 192.0.2.1, 2001:db8::1. */
static void settings(struct mon_settings *s)
{
	memset(s, 0, sizeof(*s));
	strcpy(s->nameserver[0], "ns1");
	strcpy(s->nameserver[1], "ns2");
	s->n_nameserver = 2;
	add_ip(&s->glue, "192.0.2.53");
	add_ip(&s->sinkhole, "192.0.2.1");
	add_ip(&s->sinkhole, "2001:db8::1");
}

/* A healthy observation of zone under the expectation ex: the parent
 * delegates to ns1/ns2 with the expected glue; one server answers right. */
static void healthy(struct mon_obs *ob, const struct mon_expect *ex)
{
	memset(ob, 0, sizeof(*ob));
	strcpy(ob->zone, ex->zone);
	strcpy(ob->parent, "example.");
	snprintf(ob->rand_label, sizeof(ob->rand_label), "sinkd-check-1.%s", ex->zone);
	ob->deleg = MON_DELEG_FOUND;
	ob->ns = ex->ns;
	for (unsigned i = 0; i < ex->ns.n; i++) {
		strcpy(ob->glue[i].name, ex->ns.name[i]);
		ob->glue[i].addrs = ex->glue;
	}
	ob->n_glue = ex->ns.n;
	ob->n_probes = 1;
	struct mon_probe *p = &ob->probe[0];
	strcpy(p->ns, ex->ns.name[0]);
	p->addr = ex->glue.ip[0];
	p->status = MON_PROBE_OK;
	p->answered = MON_N_QUESTIONS;
	p->soa = true;
	p->ns_set = ex->ns;
	p->a = ex->a;
	p->aaaa = ex->aaaa;
	p->rand_a = ex->a;
	p->rand_aaaa = ex->aaaa;
}

static enum monitor_state eval(const struct mon_expect *ex, const struct mon_obs *ob,
			       struct mon_result *r)
{
	assert_int_equal(mon_evaluate(ex, ob, NOW, 60, "registry metadata file x.csv", r), 0);
	assert_non_null(r->details);
	return r->state;
}

static void test_expect_build(void **state)
{
	struct mon_settings s;
	struct mon_expect ex;
	settings(&s);
	strcpy(s.nameserver[2], "NS.Sinkhole.Example.");
	s.n_nameserver = 3;
	mon_expect_build(&ex, &s, "Seized.example");
	assert_string_equal(ex.zone, "Seized.example.");
	assert_int_equal(ex.ns.n, 3);
	assert_true(mon_nameset_has(&ex.ns, "ns1.seized.example."));
	assert_true(mon_nameset_has(&ex.ns, "NS2.SEIZED.EXAMPLE"));
	assert_true(mon_nameset_has(&ex.ns, "ns.sinkhole.example."));
	/* Only the relative names need glue (src/dns adds glue for those only). */
	assert_int_equal(ex.glued.n, 2);
	assert_false(mon_nameset_has(&ex.glued, "ns.sinkhole.example."));
	assert_int_equal(ex.a.n, 1);
	assert_int_equal(ex.a.ip[0].af, AF_INET);
	assert_int_equal(ex.aaaa.n, 1);
	assert_int_equal(ex.aaaa.ip[0].af, AF_INET6);
}

static void test_sets(void **state)
{
	struct mon_ipset a = {0}, b = {0};
	char buf[256];
	add_ip(&a, "192.0.2.2");
	add_ip(&a, "2001:db8::1");
	add_ip(&a, "192.0.2.1");
	add_ip(&a, "192.0.2.2");
	add_ip(&b, "2001:db8::1");
	add_ip(&b, "192.0.2.1");
	add_ip(&b, "192.0.2.2");
	assert_int_equal(a.n, 3);
	assert_true(mon_ipset_equal(&a, &b));
	assert_string_equal(mon_ipset_text(&a, buf, sizeof(buf)),
			    "192.0.2.1, 192.0.2.2, 2001:db8::1");
	struct mon_ipset empty = {0};
	assert_string_equal(mon_ipset_text(&empty, buf, sizeof(buf)), "none");
	for (int i = 0; i < MON_MAX_IPS + 3; i++) {
		char t[32];
		snprintf(t, sizeof(t), "10.0.0.%d", i);
		add_ip(&empty, t);
	}
	assert_int_equal(empty.n, MON_MAX_IPS);
	assert_true(empty.truncated);

	struct mon_nameset n = {0}, m = {0};
	mon_nameset_add(&n, "NS2.Example.COM");
	mon_nameset_add(&n, "ns1.example.com.");
	mon_nameset_add(&n, "ns2.example.com.");
	mon_nameset_add(&m, "ns1.example.com");
	mon_nameset_add(&m, "ns2.example.com");
	assert_int_equal(n.n, 2);
	assert_true(mon_nameset_equal(&n, &m));
	assert_string_equal(mon_nameset_text(&n, buf, sizeof(buf)),
			    "ns1.example.com., ns2.example.com.");
}

static void test_days_until(void **state)
{
	long d;
	assert_int_equal(mon_days_until("2026-01-10", NOW, &d), 0);
	assert_int_equal(d, 0);
	assert_int_equal(mon_days_until("2026-03-11", NOW, &d), 0);
	assert_int_equal(d, 60);
	assert_int_equal(mon_days_until("2025-12-31", NOW, &d), 0);
	assert_int_equal(d, -10);
	assert_int_equal(mon_days_until("2028-02-29", NOW, &d), 0);
	assert_int_equal(d, 780);
	/* The UTC day counts, not 24-hour periods: one second before midnight. */
	assert_int_equal(mon_days_until("2026-01-11", NOW + 12 * 3600 - 1, &d), 0);
	assert_int_equal(d, 1);
	assert_int_equal(mon_days_until("2026-1-10x", NOW, &d), SINKD_EINVAL);
	assert_int_equal(mon_days_until("", NOW, &d), SINKD_EINVAL);
	assert_int_equal(mon_days_until("2026-13-01", NOW, &d), SINKD_EINVAL);
}

static void test_ok(void **state)
{
	struct mon_settings s;
	struct mon_expect ex;
	struct mon_obs ob;
	struct mon_result r;
	settings(&s);
	mon_expect_build(&ex, &s, "seized.example");
	healthy(&ob, &ex);
	strcpy(ob.expiry, "2027-01-01");
	assert_int_equal(eval(&ex, &ob, &r), MONITOR_OK);
	assert_string_equal(r.summary, "");
	assert_string_equal(r.domain, "seized.example");
	assert_string_equal(r.expiry, "2027-01-01");
	assert_non_null(strstr(r.details, "\"state\":\"ok\""));
	assert_non_null(strstr(r.details, "\"expiry_source\":\"registry metadata file x.csv\""));
	assert_non_null(strstr(r.details, "\"days_to_expiry\":356"));
	assert_non_null(strstr(r.details, "\"checked_at\":\"2026-01-10T12:00:00Z\""));
	mon_result_clear(&r);
	/* No expiry in the metadata: nothing to warn about. */
	ob.expiry[0] = '\0';
	assert_int_equal(eval(&ex, &ob, &r), MONITOR_OK);
	assert_non_null(strstr(r.details, "\"expiry\":null,\"days_to_expiry\":null"));
	mon_result_clear(&r);
}

static void test_drift_at_parent(void **state)
{
	struct mon_settings s;
	struct mon_expect ex;
	struct mon_obs ob;
	struct mon_result r;
	settings(&s);
	mon_expect_build(&ex, &s, "seized.example");

	healthy(&ob, &ex);
	memset(&ob.ns, 0, sizeof(ob.ns));
	mon_nameset_add(&ob.ns, "ns1.seized.example.");
	mon_nameset_add(&ob.ns, "ns1.bulletproof.example.");
	assert_int_equal(eval(&ex, &ob, &r), MONITOR_DRIFTED);
	assert_string_equal(r.summary, "NS at example.: ns1.bulletproof.example., "
				       "ns1.seized.example. (expected ns1.seized.example., "
				       "ns2.seized.example.)");
	mon_result_clear(&r);

	healthy(&ob, &ex);
	memset(&ob.glue[1].addrs, 0, sizeof(ob.glue[1].addrs));
	add_ip(&ob.glue[1].addrs, "203.0.113.66");
	assert_int_equal(eval(&ex, &ob, &r), MONITOR_DRIFTED);
	assert_string_equal(r.summary, "glue of ns2.seized.example. at example.: 203.0.113.66 "
				       "(expected 192.0.2.53)");
	mon_result_clear(&r);

	healthy(&ob, &ex);
	ob.n_glue = 1; /* ns2 without glue */
	assert_int_equal(eval(&ex, &ob, &r), MONITOR_DRIFTED);
	assert_string_equal(r.summary,
			    "no glue for ns2.seized.example. at example. (expected 192.0.2.53)");
	mon_result_clear(&r);
}

static void test_drift_in_answers(void **state)
{
	struct mon_settings s;
	struct mon_expect ex;
	struct mon_obs ob;
	struct mon_result r;
	settings(&s);
	mon_expect_build(&ex, &s, "seized.example");
	healthy(&ob, &ex);
	memset(&ob.probe[0].rand_a, 0, sizeof(ob.probe[0].rand_a));
	add_ip(&ob.probe[0].rand_a, "203.0.113.7");
	assert_int_equal(eval(&ex, &ob, &r), MONITOR_DRIFTED);
	assert_string_equal(r.summary, "192.0.2.53 (ns1.seized.example.): A "
				       "sinkd-check-1.seized.example. = 203.0.113.7 (expected "
				       "192.0.2.1)");
	mon_result_clear(&r);

	healthy(&ob, &ex);
	ob.probe[0].rand_nxdomain = true;
	ob.probe[0].soa = false;
	assert_int_equal(eval(&ex, &ob, &r), MONITOR_DRIFTED);
	assert_non_null(strstr(r.summary, "no SOA for seized.example."));
	assert_non_null(strstr(r.summary, "A sinkd-check-1.seized.example. = NXDOMAIN"));
	mon_result_clear(&r);
}

static void test_lame(void **state)
{
	struct mon_settings s;
	struct mon_expect ex;
	struct mon_obs ob;
	struct mon_result r;
	settings(&s);
	mon_expect_build(&ex, &s, "seized.example");
	healthy(&ob, &ex);
	ob.probe[0].status = MON_PROBE_RCODE;
	strcpy(ob.probe[0].why, "REFUSED to SOA");
	assert_int_equal(eval(&ex, &ob, &r), MONITOR_LAME);
	assert_string_equal(r.summary, "192.0.2.53 (ns1.seized.example.): REFUSED to SOA");
	assert_non_null(strstr(r.details, "\"status\":\"rcode\",\"why\":\"REFUSED to SOA\""));
	mon_result_clear(&r);

	/* One server fine, the other without an address: still lame. */
	healthy(&ob, &ex);
	ob.n_probes = 2;
	strcpy(ob.probe[1].ns, "ns2.seized.example.");
	ob.probe[1].status = MON_PROBE_NO_ADDRESS;
	strcpy(ob.probe[1].why, "no address: NXDOMAIN");
	assert_int_equal(eval(&ex, &ob, &r), MONITOR_LAME);
	assert_string_equal(r.summary, "ns2.seized.example.: no address: NXDOMAIN");
	mon_result_clear(&r);

	/* Differences win over lameness: a dead server at the wrong glue is drift. */
	healthy(&ob, &ex);
	memset(&ob.glue[0].addrs, 0, sizeof(ob.glue[0].addrs));
	add_ip(&ob.glue[0].addrs, "198.51.100.9");
	ob.probe[0].addr = ip("198.51.100.9");
	ob.probe[0].status = MON_PROBE_TIMEOUT;
	strcpy(ob.probe[0].why, "no answer (timeout) to SOA");
	assert_int_equal(eval(&ex, &ob, &r), MONITOR_DRIFTED);
	assert_string_equal(r.summary, "glue of ns1.seized.example. at example.: 198.51.100.9 "
				       "(expected 192.0.2.53); 198.51.100.9 (ns1.seized.example.): "
				       "no answer (timeout) to SOA");
	mon_result_clear(&r);
}

static void test_unresolvable(void **state)
{
	struct mon_settings s;
	struct mon_expect ex;
	struct mon_obs ob;
	struct mon_result r;
	settings(&s);
	mon_expect_build(&ex, &s, "seized.example");
	memset(&ob, 0, sizeof(ob));
	strcpy(ob.zone, "seized.example.");
	strcpy(ob.parent, "example.");
	ob.deleg = MON_DELEG_NXDOMAIN;
	strcpy(ob.deleg_why, "not delegated: example. servers say seized.example. does not exist "
			     "(NXDOMAIN)");
	assert_int_equal(eval(&ex, &ob, &r), MONITOR_UNRESOLVABLE);
	assert_string_equal(r.summary, ob.deleg_why);
	assert_non_null(strstr(r.details, "\"status\":\"nxdomain\""));
	mon_result_clear(&r);
	ob.deleg = MON_DELEG_FAILED;
	strcpy(ob.deleg_why, "example. servers: no answer (timeout)");
	assert_int_equal(eval(&ex, &ob, &r), MONITOR_UNRESOLVABLE);
	mon_result_clear(&r);
}

static void test_expiry_states(void **state)
{
	struct mon_settings s;
	struct mon_expect ex;
	struct mon_obs ob;
	struct mon_result r;
	settings(&s);
	mon_expect_build(&ex, &s, "seized.example");
	healthy(&ob, &ex);
	strcpy(ob.expiry, "2026-02-09"); /* 30 days */
	assert_int_equal(eval(&ex, &ob, &r), MONITOR_EXPIRING);
	assert_string_equal(r.summary, "expires on 2026-02-09, in 30 days (warning at 60)");
	mon_result_clear(&r);
	strcpy(ob.expiry, "2026-03-12"); /* 61 days: not yet */
	assert_int_equal(eval(&ex, &ob, &r), MONITOR_OK);
	mon_result_clear(&r);
	strcpy(ob.expiry, "2026-01-10");
	assert_int_equal(eval(&ex, &ob, &r), MONITOR_EXPIRED);
	assert_string_equal(r.summary, "expires today (2026-01-10)");
	mon_result_clear(&r);
	strcpy(ob.expiry, "2025-12-31");
	assert_int_equal(eval(&ex, &ob, &r), MONITOR_EXPIRED);
	assert_string_equal(r.summary, "expired on 2025-12-31 (10 days ago)");
	mon_result_clear(&r);

	/* Drift outranks expiring; expired outranks drift. Both are told. */
	ob.ns.n = 1;
	strcpy(ob.expiry, "2026-02-09");
	assert_int_equal(eval(&ex, &ob, &r), MONITOR_DRIFTED);
	assert_non_null(strstr(r.summary, "; expires on 2026-02-09"));
	mon_result_clear(&r);
	strcpy(ob.expiry, "2026-01-01");
	assert_int_equal(eval(&ex, &ob, &r), MONITOR_EXPIRED);
	assert_non_null(strstr(r.summary, "NS at example.:"));
	mon_result_clear(&r);
}

static void test_state_names(void **state)
{
	for (unsigned i = 0; i < MONITOR_N_STATES; i++) {
		enum monitor_state st;
		assert_int_equal(monitor_state_parse(monitor_state_name(i), &st), 0);
		assert_int_equal(st, i);
	}
	enum monitor_state st;
	assert_int_equal(monitor_state_parse("fine", &st), SINKD_EINVAL);
	assert_string_equal(monitor_state_name(MONITOR_N_STATES), "unknown");
	assert_true(MONITOR_OK < MONITOR_EXPIRING && MONITOR_LAME < MONITOR_DRIFTED &&
		    MONITOR_DRIFTED < MONITOR_EXPIRED);
}

static void test_hook_json_and_metrics(void **state)
{
	struct mon_result res[3];
	memset(res, 0, sizeof(res));
	strcpy(res[0].domain, "new-ok.example"); /* first check, ok: not news */
	res[0].changed = true;
	strcpy(res[1].domain, "gone.example");
	res[1].state = MONITOR_DRIFTED;
	res[1].changed = true;
	strcpy(res[1].previous, "ok");
	strcpy(res[1].summary, "NS at example.: \"x\"");
	res[1].details = strdup("{\"a\":1}");
	strcpy(res[2].domain, "same.example");
	res[2].state = MONITOR_LAME;
	struct mon_buf b = {0};
	assert_int_equal(mon_hook_json(res, 3, "sinkd serve", NOW, &b), 0);
	assert_non_null(strstr(b.p, "{\"time\":\"2026-01-10T12:00:00Z\",\"host\":"));
	assert_non_null(
	    strstr(b.p, ",\"source\":\"sinkd serve\",\"changes\":[{\"domain\":"
			"\"gone.example\",\"old_state\":\"ok\",\"new_state\":\"drifted\","
			"\"summary\":\"NS at example.: \\\"x\\\"\",\"details\":{\"a\":1}}]}\n"));
	assert_null(strstr(b.p, "new-ok"));
	assert_null(strstr(b.p, "same.example"));
	mon_buf_free(&b);

	struct monitor_stats st = {.rounds = 3, .changes = 2, .last_round_end = 1768046400};
	st.domains[MONITOR_OK] = 1;
	st.domains[MONITOR_DRIFTED] = 1;
	st.domains[MONITOR_LAME] = 1;
	mon_metrics_text(&st, res, 3, &b);
	assert_non_null(strstr(b.p, "sinkd_monitor_domains{state=\"drifted\"} 1\n"));
	assert_non_null(strstr(b.p, "sinkd_monitor_domains{state=\"expired\"} 0\n"));
	assert_non_null(strstr(
	    b.p, "sinkd_monitor_domain_state{domain=\"gone.example\",state=\"drifted\"} 1\n"));
	assert_non_null(
	    strstr(b.p, "sinkd_monitor_domain_state{domain=\"same.example\",state=\"lame\"} 1\n"));
	assert_null(strstr(b.p, "new-ok"));
	assert_non_null(strstr(b.p, "# TYPE sinkd_monitor_rounds_total counter\n"
				    "sinkd_monitor_rounds_total 3\n"));
	assert_non_null(strstr(b.p, "sinkd_monitor_last_round_timestamp_seconds 1768046400\n"));
	mon_buf_free(&b);
	free(res[1].details);
}

static void test_json_strings(void **state)
{
	struct mon_buf b = {0};
	mon_buf_json_str(&b, "a\"b\\c\n\x01\xc3\xa9");
	assert_string_equal(b.p, "\"a\\\"b\\\\c\\u000a\\u0001\\u00c3\\u00a9\"");
	mon_buf_free(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_expect_build),
	    cmocka_unit_test(test_sets),
	    cmocka_unit_test(test_days_until),
	    cmocka_unit_test(test_ok),
	    cmocka_unit_test(test_drift_at_parent),
	    cmocka_unit_test(test_drift_in_answers),
	    cmocka_unit_test(test_lame),
	    cmocka_unit_test(test_unresolvable),
	    cmocka_unit_test(test_expiry_states),
	    cmocka_unit_test(test_state_names),
	    cmocka_unit_test(test_hook_json_and_metrics),
	    cmocka_unit_test(test_json_strings),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
