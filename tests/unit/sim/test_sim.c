/* The simulator's population model (churn, NAT groups, half-life, IPv6
 * /64 rotation, schedule, determinism), its check-ins as the decoders see
 * them, and loading the real address tables. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "classify/decode.h"
#include "core/config.h"
#include "core/error.h"
#include "sim/sim_internal.h"

static struct sim_range ranges_v4[3], ranges_v6[1];
static struct sim_prefixes px = {ranges_v4, ranges_v6, 3, 1, NULL};

static void range(struct sim_range *r, const char *first, const char *last, uint32_t asn)
{
	struct event_addr a, b;
	assert_int_equal(event_addr_parse(&a, first), 0);
	assert_int_equal(event_addr_parse(&b, last), 0);
	memcpy(r->first, a.ip, 16);
	memcpy(r->last, b.ip, 16);
	r->asn = asn;
}

static int setup(void **state)
{
	range(&ranges_v4[0], "10.0.0.0", "10.255.255.255", 64500);
	range(&ranges_v4[1], "192.0.2.0", "192.0.2.255", 64501);
	range(&ranges_v4[2], "198.51.100.0", "198.51.100.255", 64502);
	range(&ranges_v6[0], "2001:db8::", "2001:db8:ffff:ffff:ffff:ffff:ffff:ffff", 64503);
	return 0;
}

static struct sim_params params(unsigned bots, unsigned days)
{
	struct sim_params p;
	sim_params_defaults(&p);
	p.bots = bots;
	p.days = days;
	p.seed = 42;
	p.nat_fraction = 0;
	p.ipv6_fraction = 0;
	p.churn = 0;
	return p;
}

static struct sim_population *make(const struct sim_params *p)
{
	struct sim_population *pop = NULL;
	assert_int_equal(sim_population_new(&pop, p, &px), 0);
	return pop;
}

static void test_deterministic(void **state)
{
	struct sim_params p = params(300, 4);
	p.churn = 0.2;
	p.nat_fraction = 0.2;
	p.ipv6_fraction = 0.1;
	p.half_life_days = 3;
	struct sim_population *a = make(&p), *b = make(&p);
	assert_memory_equal(a->bots, b->bots, sizeof(*a->bots) * p.bots);
	assert_memory_equal(a->addrs, b->addrs, sizeof(*a->addrs) * p.bots * p.days);
	p.seed = 43;
	struct sim_population *c = make(&p);
	assert_memory_not_equal(a->bots, c->bots, sizeof(*a->bots) * p.bots);
	sim_population_free(a);
	sim_population_free(b);
	sim_population_free(c);
}

/* The share of (bot, day) pairs with a new address is the churn rate:
 * 18,000 trials, 6 standard deviations = 0.02. */
static void test_churn(void **state)
{
	struct sim_params p = params(2000, 10);
	p.churn = 0.3;
	struct sim_population *pop = make(&p);
	size_t changed = 0;
	for (size_t i = 0; i < p.bots; i++) {
		for (unsigned d = 1; d < p.days; d++)
			changed += memcmp(sim_bot_addr(pop, i, d), sim_bot_addr(pop, i, d - 1),
					  sizeof(struct event_addr)) != 0;
		/* a new address stays in the bot's provider range */
		const struct sim_range *r = &ranges_v4[pop->bots[i].range];
		const struct event_addr *last = sim_bot_addr(pop, i, p.days - 1);
		assert_true(memcmp(last->ip, r->first, 16) >= 0 &&
			    memcmp(last->ip, r->last, 16) <= 0);
	}
	double rate = (double)changed / (p.bots * (p.days - 1));
	if (fabs(rate - 0.3) > 0.02)
		fail_msg("churn rate %.4f, want 0.30 +- 0.02", rate);
	sim_population_free(pop);

	p.churn = 0; /* static addresses never change */
	pop = make(&p);
	for (size_t i = 0; i < p.bots; i++)
		assert_memory_equal(sim_bot_addr(pop, i, 0), sim_bot_addr(pop, i, p.days - 1),
				    sizeof(struct event_addr));
	sim_population_free(pop);
}

static void test_nat_groups(void **state)
{
	struct sim_params p = params(1000, 3);
	p.nat_fraction = 0.5;
	p.nat_group = 4;
	p.churn = 0.5;
	struct sim_population *pop = make(&p);
	unsigned *members = calloc(pop->n_nat_groups, sizeof(unsigned));
	const struct event_addr **addr = calloc(pop->n_nat_groups, sizeof(*addr));
	size_t nat = 0;
	for (size_t i = 0; i < p.bots; i++) {
		int g = pop->bots[i].nat_group;
		assert_int_equal(g >= 0, pop->bots[i].addr_kind == SIM_ADDR_NAT);
		if (g < 0)
			continue;
		nat++;
		members[g]++;
		if (addr[g] == NULL)
			addr[g] = sim_bot_addr(pop, i, 0);
		for (unsigned d = 0; d < p.days; d++) /* one static address per group */
			assert_memory_equal(sim_bot_addr(pop, i, d), addr[g], sizeof(**addr));
	}
	assert_true(fabs((double)nat / p.bots - 0.5) < 0.07);
	assert_int_equal(pop->n_nat_groups, (nat + 3) / 4);
	for (unsigned g = 0; g + 1 < pop->n_nat_groups; g++)
		assert_int_equal(members[g], 4);
	assert_true(members[pop->n_nat_groups - 1] >= 1 && members[pop->n_nat_groups - 1] <= 4);
	free(members);
	free(addr);
	sim_population_free(pop);
}

/* Alive at the start of day d: 2^(-d / half-life), 4000 bots, within 0.03
 * (about 4 standard deviations at 1/2). */
static void test_half_life(void **state)
{
	struct sim_params p = params(4000, 7);
	p.half_life_days = 2;
	struct sim_population *pop = make(&p);
	for (unsigned d = 0; d < p.days; d++) {
		size_t alive = 0;
		for (size_t i = 0; i < p.bots; i++)
			alive += sim_bot_alive(pop, i, d);
		double want = pow(2.0, -(double)d / 2.0), got = (double)alive / p.bots;
		if (fabs(got - want) > 0.03)
			fail_msg("day %u: %.4f alive, want %.4f +- 0.03", d, got, want);
	}
	/* No check-in after a bot's end. */
	for (unsigned d = 0; d < p.days; d++) {
		struct sim_checkin *list;
		size_t n;
		assert_int_equal(sim_day_checkins(pop, d, &list, &n), 0);
		for (size_t k = 0; k < n; k++) {
			double t = (double)(list[k].ts_ns - p.start_ns) / 1e9;
			assert_true(t < pop->bots[list[k].bot].death_s);
		}
		free(list);
	}
	sim_population_free(pop);
}

static void test_ipv6_rotation(void **state)
{
	struct sim_params p = params(200, 5);
	p.ipv6_fraction = 1;
	p.churn = 1; /* has no effect on IPv6 bots: the /64 is theirs */
	struct sim_population *pop = make(&p);
	for (size_t i = 0; i < p.bots; i++) {
		const struct event_addr *a0 = sim_bot_addr(pop, i, 0);
		assert_int_equal(pop->bots[i].addr_kind, SIM_ADDR_IPV6);
		assert_false(event_addr_is_v4(a0));
		assert_memory_equal(a0->ip, "\x20\x01\x0d\xb8", 4);
		for (unsigned d = 1; d < p.days; d++) {
			const struct event_addr *a = sim_bot_addr(pop, i, d);
			assert_memory_equal(a->ip, a0->ip, 8); /* same /64 */
			assert_memory_not_equal(a->ip + 8, sim_bot_addr(pop, i, d - 1)->ip + 8,
						8); /* new interface id */
		}
	}
	sim_population_free(pop);
}

static void test_schedule(void **state)
{
	struct sim_params p = params(50, 2);
	p.jitter = 0;
	p.diurnal = 0;
	struct sim_population *pop = make(&p);
	struct sim_checkin *list;
	size_t n;
	assert_int_equal(sim_day_checkins(pop, 1, &list, &n), 0);
	assert_int_equal(n, 50 * 24); /* hourly, flat, no jitter: 24 a day each */
	unsigned first[50] = {0};
	for (size_t k = 0; k < n; k++) {
		assert_true(list[k].ts_ns >= p.start_ns + 86400ull * 1000000000ull);
		assert_true(list[k].ts_ns < p.start_ns + 2 * 86400ull * 1000000000ull);
		if (k > 0)
			assert_true(list[k - 1].ts_ns <= list[k].ts_ns);
		first[list[k].bot] += list[k].seq == 0;
	}
	for (int b = 0; b < 50; b++)
		assert_int_equal(first[b], 1);
	free(list);
	sim_population_free(pop);

	/* Diurnal: a full swing leaves about half the check-ins. */
	p = params(400, 1);
	p.diurnal = 1;
	pop = make(&p);
	assert_int_equal(sim_day_checkins(pop, 0, &list, &n), 0);
	double share = (double)n / (400 * 24);
	if (fabs(share - 0.5) > 0.04)
		fail_msg("diurnal share %.3f, want 0.5 +- 0.04", share);
	free(list);
	sim_population_free(pop);
}

/* Each family's check-in is what its decoder reads back. */
static void test_requests_decode(void **state)
{
	static const char *const domains[] = {"seized.example"};
	struct sim_params p = params(40, 1);
	p.mix[SIM_WALEDAC] = p.mix[SIM_KELIHOS] = p.mix[SIM_GENERIC] = p.mix[SIM_UNKNOWN] = 0.25;
	struct sim_population *pop = make(&p);
	struct sim_keys keys = {.have_key = true};
	for (int i = 0; i < 16; i++)
		keys.waledac_key[i] = (uint8_t)i;
	struct sinkd_config *cfg = calloc(1, sizeof(*cfg));
	config_defaults(cfg);
	memcpy(cfg->decode_waledac_key[0].key, keys.waledac_key, 16);
	cfg->n_decode_waledac_key = 1;
	struct decode_env *env;
	assert_int_equal(decode_env_new(&env, cfg), 0);
	struct sim_request *r = calloc(1, sizeof(*r));
	uint8_t *payload = malloc(EVENT_PAYLOAD_MAX);
	struct sim_checkin *list;
	size_t n, checked[SIM_FAMILIES] = {0};
	assert_int_equal(sim_day_checkins(pop, 0, &list, &n), 0);
	for (size_t k = 0; k < n; k++) {
		const struct sim_bot *b = &pop->bots[list[k].bot];
		assert_int_equal(
		    sim_request_build(pop, &keys, domains, 1, "192.0.2.53", &list[k], r), 0);
		struct sinkd_event ev = {.kind = EVENT_HTTP, .payload = payload};
		char headers[4096];
		size_t used = 0;
		for (unsigned h = 0; h < r->n_hdr; h++)
			used += (size_t)snprintf(headers + used, sizeof(headers) - used,
						 "%s: %s\r\n", r->hdr[h].name, r->hdr[h].value);
		event_payload_add(payload, EVENT_PAYLOAD_MAX, &ev.payload_len, EVP_TARGET,
				  r->target, strlen(r->target));
		event_payload_add(payload, EVENT_PAYLOAD_MAX, &ev.payload_len, EVP_HEADERS, headers,
				  used);
		if (r->body_len > 0)
			event_payload_add(payload, EVENT_PAYLOAD_MAX, &ev.payload_len, EVP_BODY,
					  r->body, r->body_len);
		ev.body_len = (uint32_t)r->body_len;
		assert_int_equal(r->resolve, b->family != SIM_KELIHOS && list[k].seq == 0);
		if (b->family == SIM_WALEDAC) {
			assert_int_equal(decode_event(env, "waledac", NULL, &ev), 0);
			assert_string_equal(ev.msg_type, r->msg_type);
			assert_string_equal(ev.bot_id, b->id);
			assert_string_equal(ev.proto_version, b->version);
			if (list[k].seq == 0)
				assert_string_equal(r->msg_type, "getkey");
		} else if (b->family == SIM_KELIHOS) {
			assert_int_equal(decode_event(env, "kelihos", NULL, &ev), 0);
			assert_string_equal(ev.msg_type, r->msg_type);
		} else if (b->family == SIM_GENERIC) {
			assert_int_equal(decode_event(env, "generic", "param=id", &ev), 0);
			assert_string_equal(ev.bot_id, b->id);
		} else {
			assert_int_not_equal(decode_event(env, "generic", "param=id", &ev), 0);
		}
		checked[b->family]++;
	}
	for (int f = 0; f < SIM_FAMILIES; f++)
		assert_true(checked[f] > 0);
	free(list);
	free(payload);
	free(r);
	decode_env_free(env);
	free(cfg);
	sim_population_free(pop);
}

static void test_mix_parse(void **state)
{
	struct sim_params p;
	char err[160];
	sim_params_defaults(&p);
	assert_int_equal(sim_mix_parse("waledac=3,unknown=1", &p, err, sizeof(err)), 0);
	assert_true(p.mix[SIM_WALEDAC] == 0.75 && p.mix[SIM_UNKNOWN] == 0.25);
	assert_true(p.mix[SIM_KELIHOS] == 0 && p.mix[SIM_GENERIC] == 0);
	assert_int_equal(sim_mix_parse("storm=1", &p, err, sizeof(err)), SINKD_EINVAL);
	assert_string_equal(err, "'storm': unknown family (waledac, kelihos, generic, unknown)");
	assert_int_equal(sim_mix_parse("waledac", &p, err, sizeof(err)), SINKD_EINVAL);
	assert_string_equal(err, "'waledac': expected FAMILY=WEIGHT");
	assert_int_equal(sim_mix_parse("waledac=-1", &p, err, sizeof(err)), SINKD_EINVAL);
	assert_string_equal(err, "'waledac=-1': the weight must be a number >= 0");
	assert_int_equal(sim_mix_parse("waledac=0", &p, err, sizeof(err)), SINKD_EINVAL);
	assert_string_equal(err, "the weights must not all be 0");
}

#define ASN_DIR SINKD_THIRD_PARTY_DIR "/@ip-location-db/asn"
#define MMDB                                                                                       \
	SINKD_THIRD_PARTY_DIR                                                                      \
	"/@ip-location-db/geo-whois-asn-country-mmdb/geo-whois-asn-country.mmdb"

static void test_prefixes_files(void **state)
{
	struct sim_prefixes *real = NULL;
	char err[512], bad[256], cc[4];
	uint32_t asn;
	struct event_addr a;
	assert_int_equal(sim_prefixes_load(&real, "/nonexistent/v4.csv",
					   ASN_DIR "/asn-ipv6-num.csv", MMDB, err, sizeof(err)),
			 SINKD_EIO);
	assert_string_equal(err, "/nonexistent/v4.csv: No such file or directory (give the path "
				 "with --asn-v4)");
	const char *dir = getenv("SINKD_TEST_TMP") ? getenv("SINKD_TEST_TMP") : "/tmp";
	mkdir(dir, 0755); /* the first test of a fresh build may be this one */
	snprintf(bad, sizeof(bad), "%s/sim-bad-%d.csv", dir, (int)getpid());
	FILE *f = fopen(bad, "w");
	assert_non_null(f);
	fputs("16777216,16777471,13335,\"Cloudflare, Inc.\"\n1.2.3.4,5,6,x\n", f);
	fclose(f);
	assert_int_equal(
	    sim_prefixes_load(&real, bad, ASN_DIR "/asn-ipv6-num.csv", MMDB, err, sizeof(err)),
	    SINKD_EPARSE);
	char want[512];
	snprintf(want, sizeof(want), "%s:2: expected start,end,asn,org with decimal numbers", bad);
	assert_string_equal(err, want);
	unlink(bad);
	assert_int_equal(sim_prefixes_load(&real, ASN_DIR "/asn-ipv4-num.csv",
					   ASN_DIR "/asn-ipv6-num.csv", "/nonexistent.mmdb", err,
					   sizeof(err)),
			 SINKD_EIO);
	assert_non_null(strstr(err, "/nonexistent.mmdb: "));
	assert_int_equal(sim_prefixes_load(&real, ASN_DIR "/asn-ipv4-num.csv",
					   ASN_DIR "/asn-ipv6-num.csv", MMDB, err, sizeof(err)),
			 0);
	assert_true(real->n_v4 > 100000 && real->n_v6 > 10000);
	event_addr_parse(&a, "8.8.8.8");
	sim_prefixes_lookup(real, &a, cc, &asn);
	assert_int_equal(asn, 15169);
	assert_string_equal(cc, "US");
	/* A population from the real tables: every address is announced. */
	struct sim_params p = params(300, 2);
	p.ipv6_fraction = 0.3;
	p.nat_fraction = 0.2;
	struct sim_population *pop = NULL;
	assert_int_equal(sim_population_new(&pop, &p, real), 0);
	for (size_t i = 0; i < p.bots; i++) {
		sim_prefixes_lookup(real, sim_bot_addr(pop, i, 1), cc, &asn);
		assert_int_not_equal(asn, 0);
	}
	sim_population_free(pop);
	sim_prefixes_free(real);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup(test_deterministic, setup),
	    cmocka_unit_test_setup(test_churn, setup),
	    cmocka_unit_test_setup(test_nat_groups, setup),
	    cmocka_unit_test_setup(test_half_life, setup),
	    cmocka_unit_test_setup(test_ipv6_rotation, setup),
	    cmocka_unit_test_setup(test_schedule, setup),
	    cmocka_unit_test_setup(test_requests_decode, setup),
	    cmocka_unit_test(test_mix_parse),
	    cmocka_unit_test(test_prefixes_files),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
