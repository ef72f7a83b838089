/* dns_answer against queries built with libknot, responses parsed back. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <libknot/libknot.h>
#include <string.h>

#include "core/config.h"
#include "dns/dns.h"
#include "domains/domains.h"

struct fixture {
	struct sinkd_config cfg;
	struct dns_data *data;
	struct dns_rrl *rrl;
	struct dns_stats stats;
	struct dns_ctx ctx;
	struct sockaddr_storage src;
	uint8_t out[65535];
	struct sinkd_event ev;
};

static int setup_with(void **state, void (*tweak)(struct sinkd_config *))
{
	struct fixture *f = calloc(1, sizeof(*f));
	config_defaults(&f->cfg);
	f->cfg.rrl_enabled = false;
	if (tweak != NULL)
		tweak(&f->cfg);
	struct domain_registry *reg = domains_new();
	assert_int_equal(domains_add(reg, "seized.com", NULL), 0);
	assert_int_equal(domains_add(reg, "sub.other.net", NULL), 0);
	assert_int_equal(dns_data_new(&f->data, &f->cfg, reg), 0);
	assert_int_equal(dns_rrl_new(&f->rrl, &f->cfg), 0);
	uint8_t secret[16] = {1, 2, 3};
	assert_int_equal(dns_ctx_init(&f->ctx, f->rrl, &f->stats, secret), 0);
	struct sockaddr_in *sin = (struct sockaddr_in *)&f->src;
	sin->sin_family = AF_INET;
	sin->sin_port = htons(40000);
	inet_pton(AF_INET, "192.0.2.7", &sin->sin_addr);
	*state = f;
	return 0;
}

static int setup(void **state)
{
	return setup_with(state, NULL);
}

static void rrl_on(struct sinkd_config *cfg)
{
	cfg->rrl_enabled = true;
	cfg->rrl_rate = 3;
	cfg->rrl_slip = 2;
}

static int setup_rrl(void **state)
{
	return setup_with(state, rrl_on);
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	dns_ctx_deinit(&f->ctx);
	dns_rrl_free(f->rrl);
	dns_data_free(f->data);
	free(f);
	return 0;
}

/* Build a query; returns its length in buf. */
static size_t make_query(uint8_t *buf, const char *name, uint16_t qtype, bool edns, bool do_bit)
{
	memset(buf, 0, 512);
	knot_pkt_t *q = knot_pkt_new(buf, 512, NULL);
	knot_dname_t *qname = knot_dname_from_str_alloc(name);
	knot_wire_set_id(q->wire, 0x1234);
	knot_wire_set_rd(q->wire);
	assert_int_equal(knot_pkt_put_question(q, qname, KNOT_CLASS_IN, qtype), KNOT_EOK);
	if (edns) {
		knot_rrset_t opt;
		assert_int_equal(knot_edns_init(&opt, 4096, 0, 0, NULL), KNOT_EOK);
		if (do_bit)
			knot_edns_set_do(&opt);
		knot_pkt_begin(q, KNOT_ADDITIONAL);
		assert_int_equal(knot_pkt_put(q, KNOT_COMPR_HINT_NONE, &opt, KNOT_PF_FREE), KNOT_EOK);
	}
	size_t len = q->size;
	knot_dname_free(qname, NULL);
	knot_pkt_free(q);
	return len;
}

static size_t ask(struct fixture *f, const uint8_t *q, size_t qlen, bool tcp)
{
	struct dns_query_info qi = {.src = &f->src, .tcp = tcp, .now_ns = 1700000000000000000ull};
	return dns_answer(&f->ctx, f->data, &qi, q, qlen, f->out, sizeof(f->out), &f->ev);
}

static knot_pkt_t *parse(struct fixture *f, size_t len)
{
	assert_true(len >= KNOT_WIRE_HEADER_SIZE);
	knot_pkt_t *r = knot_pkt_new(f->out, (uint16_t)len, NULL);
	assert_int_equal(knot_pkt_parse(r, 0), KNOT_EOK);
	return r;
}

static void test_a_under_zone(void **state)
{
	struct fixture *f = *state;
	uint8_t q[512];
	size_t len = ask(f, q, make_query(q, "Www.Seized.COM.", KNOT_RRTYPE_A, false, false), false);
	knot_pkt_t *r = parse(f, len);
	assert_int_equal(knot_wire_get_rcode(r->wire), KNOT_RCODE_NOERROR);
	assert_true(knot_wire_get_aa(r->wire));
	assert_false(knot_wire_get_ra(r->wire));
	assert_true(knot_wire_get_rd(r->wire));
	assert_int_equal(knot_wire_get_id(r->wire), 0x1234);
	assert_int_equal(knot_wire_get_ancount(r->wire), 1);
	const knot_rrset_t *rr = knot_pkt_rr(knot_pkt_section(r, KNOT_ANSWER), 0);
	assert_int_equal(rr->type, KNOT_RRTYPE_A);
	assert_memory_equal(rr->rrs.rdata->data, "\x7f\x00\x00\x01", 4);
	/* Question case preserved on the wire. */
	assert_memory_equal(knot_pkt_wire_qname(r), "\x03" "Www" "\x06" "Seized" "\x03" "COM", 15);
	assert_string_equal(f->ev.qname, "www.seized.com");
	assert_string_equal(f->ev.zone, "seized.com");
	assert_int_equal(f->ev.kind, EVENT_DNS);
	assert_int_equal(f->ev.qtype, KNOT_RRTYPE_A);
	assert_int_equal(f->ev.src.port, 40000);
	knot_pkt_free(r);
}

static void test_refused_outside(void **state)
{
	struct fixture *f = *state;
	uint8_t q[512];
	const char *names[] = {"other.net.", "x.other.net.", "xseized.com.", "com.", "."};
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		size_t len = ask(f, q, make_query(q, names[i], KNOT_RRTYPE_A, false, false), false);
		knot_pkt_t *r = parse(f, len);
		assert_int_equal(knot_wire_get_rcode(r->wire), KNOT_RCODE_REFUSED);
		assert_false(knot_wire_get_aa(r->wire));
		assert_int_equal(knot_wire_get_ancount(r->wire), 0);
		assert_string_equal(f->ev.zone, "");
		knot_pkt_free(r);
	}
	/* Deeper seized zone matches on its own. */
	size_t len = ask(f, q, make_query(q, "a.sub.other.net.", KNOT_RRTYPE_A, false, false), false);
	assert_string_equal(f->ev.zone, "sub.other.net");
	assert_true(len > 0);
}

static void test_nodata_soa(void **state)
{
	struct fixture *f = *state;
	uint8_t q[512];
	size_t len = ask(f, q, make_query(q, "x.seized.com.", KNOT_RRTYPE_TXT, false, false), false);
	knot_pkt_t *r = parse(f, len);
	assert_int_equal(knot_wire_get_rcode(r->wire), KNOT_RCODE_NOERROR);
	assert_int_equal(knot_wire_get_ancount(r->wire), 0);
	assert_int_equal(knot_wire_get_nscount(r->wire), 1);
	const knot_rrset_t *soa = knot_pkt_rr(knot_pkt_section(r, KNOT_AUTHORITY), 0);
	assert_int_equal(soa->type, KNOT_RRTYPE_SOA);
	assert_true(knot_dname_is_equal(soa->owner, (const uint8_t *)"\x06" "seized" "\x03" "com"));
	assert_int_equal(soa->ttl, 300);
	knot_pkt_free(r);
}

static void test_edns_do_and_badvers(void **state)
{
	struct fixture *f = *state;
	uint8_t q[512];
	size_t len = ask(f, q, make_query(q, "a.seized.com.", KNOT_RRTYPE_A, true, true), false);
	knot_pkt_t *r = parse(f, len);
	assert_non_null(r->opt_rr);
	assert_true(knot_edns_do(r->opt_rr));
	assert_int_equal(knot_edns_get_payload(r->opt_rr), 1232);
	assert_true(f->ev.flags & EVF_EDNS);
	assert_true(f->ev.flags & EVF_DO);
	knot_pkt_free(r);

	size_t qlen = make_query(q, "a.seized.com.", KNOT_RRTYPE_A, true, false);
	/* OPT TTL field: ext-rcode, version, flags -> set version 1 */
	q[qlen - 11 + 6] = 1;
	len = ask(f, q, qlen, false);
	r = parse(f, len);
	assert_int_equal(knot_pkt_ext_rcode(r), KNOT_RCODE_BADVERS);
	assert_int_equal(knot_wire_get_ancount(r->wire), 0);
	assert_int_equal(f->ev.rcode, KNOT_RCODE_BADVERS);
	knot_pkt_free(r);
}

static void test_malformed(void **state)
{
	struct fixture *f = *state;
	uint8_t q[512];
	assert_int_equal(ask(f, (const uint8_t *)"\x00\x01", 2, false), 0);
	assert_int_equal(f->ev.kind, 0);
	assert_int_equal(atomic_load(&f->stats.drop_short), 1);

	size_t qlen = make_query(q, "a.seized.com.", KNOT_RRTYPE_A, false, false);
	knot_wire_set_qr(q);
	assert_int_equal(ask(f, q, qlen, false), 0);
	assert_int_equal(atomic_load(&f->stats.drop_response), 1);

	/* Label length running past the end. */
	qlen = make_query(q, "a.seized.com.", KNOT_RRTYPE_A, false, false);
	q[12] = 60;
	size_t len = ask(f, q, qlen, false);
	assert_int_equal(len, KNOT_WIRE_HEADER_SIZE);
	assert_int_equal(knot_wire_get_rcode(f->out), KNOT_RCODE_FORMERR);
	assert_true(f->ev.flags & EVF_MALFORMED);

	/* Compression pointer to itself in the question. */
	memcpy(q + 12, "\xc0\x0c\x00\x01\x00\x01", 6);
	len = ask(f, q, 18, false);
	assert_int_equal(knot_wire_get_rcode(f->out), KNOT_RCODE_FORMERR);
	assert_int_equal(len, KNOT_WIRE_HEADER_SIZE);
}

static void test_udp_size_limit_truncates(void **state)
{
	struct fixture *f = *state;
	/* 8 A + 8 AAAA sinkhole addresses do not make 512 bytes, but NS with
	 * glue for 4 names x 8 addresses does. */
	struct sinkd_config cfg = f->cfg;
	cfg.n_nameserver = 4;
	strcpy(cfg.nameserver[2], "ns3");
	strcpy(cfg.nameserver[3], "ns4");
	cfg.n_ns_addr = 8;
	for (unsigned i = 0; i < 8; i++) {
		char txt[32];
		snprintf(txt, sizeof(txt), i < 4 ? "192.0.2.%u" : "2001:db8::%u", i + 1);
		assert_int_equal(config_parse_ipaddr(txt, &cfg.ns_addr[i]), 0);
	}
	struct domain_registry *reg = domains_new();
	domains_add(reg, "seized.com", NULL);
	struct dns_data *data;
	assert_int_equal(dns_data_new(&data, &cfg, reg), 0);
	uint8_t q[512];
	size_t qlen = make_query(q, "seized.com.", KNOT_RRTYPE_NS, false, false);
	struct dns_query_info qi = {.src = &f->src, .now_ns = 1};
	size_t len = dns_answer(&f->ctx, data, &qi, q, qlen, f->out, sizeof(f->out), &f->ev);
	assert_true(len <= 512);
	assert_true(knot_wire_get_tc(f->out));
	assert_true(f->ev.flags & EVF_TC);
	qi.tcp = true;
	len = dns_answer(&f->ctx, data, &qi, q, qlen, f->out, sizeof(f->out), &f->ev);
	assert_true(len > 512);
	assert_false(knot_wire_get_tc(f->out));
	assert_int_equal(knot_wire_get_arcount(f->out), 32);
	dns_data_free(data);
}

static void test_rrl_slip_and_drop(void **state)
{
	struct fixture *f = *state;
	uint8_t q[512];
	size_t qlen = make_query(q, "a.seized.com.", KNOT_RRTYPE_A, false, false);
	int full = 0, slipped = 0, dropped = 0;
	for (int i = 0; i < 11; i++) {
		size_t len = ask(f, q, qlen, false);
		if (len == 0)
			dropped++;
		else if (knot_wire_get_tc(f->out))
			slipped++;
		else
			full++;
		assert_int_equal(f->ev.kind, EVENT_DNS); /* recorded either way */
	}
	assert_int_equal(full, 3);
	assert_int_equal(slipped, 4);
	assert_int_equal(dropped, 4);
	/* TCP is never limited. */
	assert_true(ask(f, q, qlen, true) > 0);
	assert_false(knot_wire_get_tc(f->out));
	/* Another /24 has its own budget. */
	inet_pton(AF_INET, "198.51.100.1", &((struct sockaddr_in *)&f->src)->sin_addr);
	assert_true(ask(f, q, qlen, false) > 0);
	assert_false(knot_wire_get_tc(f->out));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_a_under_zone, setup, teardown),
		cmocka_unit_test_setup_teardown(test_refused_outside, setup, teardown),
		cmocka_unit_test_setup_teardown(test_nodata_soa, setup, teardown),
		cmocka_unit_test_setup_teardown(test_edns_do_and_badvers, setup, teardown),
		cmocka_unit_test_setup_teardown(test_malformed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_udp_size_limit_truncates, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rrl_slip_and_drop, setup_rrl, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
