/* The simulated population: who the bots are, where they call from on
 * each day, when they disappear, and when they check in. */
#include "sim/sim_internal.h"

#include "classify/decode.h"
#include "core/error.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define DAY_S 86400.0

static const char *const family_names[SIM_FAMILIES] = {"waledac", "kelihos", "generic", "unknown"};

const char *sim_family_name(enum sim_family f) { return f < SIM_FAMILIES ? family_names[f] : "?"; }

void sim_params_defaults(struct sim_params *p)
{
	*p = (struct sim_params){
	    .bots = 100,
	    .days = 1,
	    .seed = 1,
	    .mix = {0.6, 0.2, 0.2, 0.0},
	    .interval_s = 3600,
	    .jitter = 0.2,
	    .diurnal = 0.5,
	    .churn = 0.1,
	    .nat_fraction = 0.1,
	    .nat_group = 4,
	    .ipv6_fraction = 0.05,
	    .half_life_days = 0,
	    .tls_fraction = 0.3,
	    .start_ns = 1767225600ull * 1000000000ull, /* 2026-01-01T00:00:00Z */
	};
}

int sim_mix_parse(const char *text, struct sim_params *p, char *err, size_t errlen)
{
	double mix[SIM_FAMILIES] = {0}, total = 0;
	const char *s = text;
	while (*s != '\0') {
		const char *eq = strchr(s, '='), *comma = strchr(s, ',');
		if (comma == NULL)
			comma = s + strlen(s);
		if (eq == NULL || eq > comma) {
			snprintf(err, errlen, "'%.*s': expected FAMILY=WEIGHT", (int)(comma - s),
				 s);
			return SINKD_EINVAL;
		}
		int f = 0;
		while (f < SIM_FAMILIES && (strlen(family_names[f]) != (size_t)(eq - s) ||
					    strncmp(family_names[f], s, (size_t)(eq - s)) != 0))
			f++;
		if (f == SIM_FAMILIES) {
			snprintf(err, errlen,
				 "'%.*s': unknown family (waledac, kelihos, generic, unknown)",
				 (int)(eq - s), s);
			return SINKD_EINVAL;
		}
		char *end;
		double w = strtod(eq + 1, &end);
		if (end != comma || !(w >= 0) || !isfinite(w)) {
			snprintf(err, errlen, "'%.*s': the weight must be a number >= 0",
				 (int)(comma - s), s);
			return SINKD_EINVAL;
		}
		mix[f] = w;
		total += w;
		s = *comma == ',' ? comma + 1 : comma;
	}
	if (!(total > 0)) {
		snprintf(err, errlen, "the weights must not all be 0");
		return SINKD_EINVAL;
	}
	for (int f = 0; f < SIM_FAMILIES; f++)
		p->mix[f] = mix[f] / total;
	return 0;
}

static enum sim_family pick_family(const struct sim_params *p, double u)
{
	double total = 0, acc = 0;
	for (int f = 0; f < SIM_FAMILIES; f++)
		total += p->mix[f];
	for (int f = 0; f < SIM_FAMILIES; f++) {
		acc += p->mix[f] / total;
		if (u < acc && p->mix[f] > 0)
			return (enum sim_family)f;
	}
	for (int f = SIM_FAMILIES - 1; f > 0; f--) {
		if (p->mix[f] > 0)
			return (enum sim_family)f;
	}
	return SIM_WALEDAC;
}

/* Versions each family's bots report (Waledac: the <v> element). */
static const char *const versions[SIM_FAMILIES][3] = {
    {"45", "47", "48"},
    {"", "", ""},
    {"2.1", "2.3", "3.0"},
    {"7", "7", "8"},
};

static void draw_bot(const struct sim_params *p, const struct sim_prefixes *px, size_t i,
		     struct sim_bot *b)
{
	struct sim_rng r;
	sim_rng_seed(&r, p->seed, SIM_STREAM_BOT, i, 0);
	uint64_t hi = sim_rng_next(&r), lo = sim_rng_next(&r);
	snprintf(b->id, sizeof(b->id), "%016llx%016llx", (unsigned long long)hi,
		 (unsigned long long)lo);
	b->family = (uint8_t)pick_family(p, sim_rng_unit(&r));
	snprintf(b->version, sizeof(b->version), "%s", versions[b->family][sim_rng_below(&r, 3)]);
	b->compress = (uint8_t)sim_rng_below(&r, 3); /* none, zlib, bzip2 */
	b->tls = (b->family == SIM_GENERIC || b->family == SIM_UNKNOWN) &&
		 sim_rng_unit(&r) < p->tls_fraction;
	double u = sim_rng_unit(&r);
	b->addr_kind = u < p->nat_fraction			? SIM_ADDR_NAT
		       : u < p->nat_fraction + p->ipv6_fraction ? SIM_ADDR_IPV6
								: SIM_ADDR_DHCP;
	b->nat_group = -1;
	b->range = (uint32_t)sim_rng_below(&r, b->addr_kind == SIM_ADDR_IPV6 ? px->n_v6 : px->n_v4);
	double v = sim_rng_unit(&r);
	b->death_s =
	    p->half_life_days > 0 ? -log1p(-v) * p->half_life_days * DAY_S / M_LN2 : INFINITY;
	b->tz_hours = (int)sim_rng_below(&r, 18) - 8;
	b->phase_s = (uint32_t)sim_rng_below(&r, p->interval_s);
}

/* Every day's address of bot i (addrs[day]); prefix: its /64 (IPv6) or
 * NAT address, drawn before. */
static void daily_addresses(const struct sim_population *pop, const struct sim_prefixes *px,
			    size_t i, const struct event_addr *fixed, struct event_addr *addrs)
{
	const struct sim_bot *b = &pop->bots[i];
	struct event_addr cur = *fixed;
	for (unsigned d = 0; d < pop->p.days; d++) {
		struct sim_rng r;
		sim_rng_seed(&r, pop->p.seed, SIM_STREAM_DAY, i, (uint64_t)d << 8);
		if (b->addr_kind == SIM_ADDR_DHCP && d > 0 && sim_rng_unit(&r) < pop->p.churn)
			sim_range_pick(&px->v4[b->range], &r, &cur);
		if (b->addr_kind == SIM_ADDR_IPV6) {
			/* Privacy extensions: a new temporary interface id each day. */
			uint64_t iid = sim_rng_next(&r) | 1;
			for (int k = 0; k < 8; k++)
				cur.ip[8 + k] = (uint8_t)(iid >> (56 - 8 * k));
		}
		addrs[d] = cur;
	}
}

int sim_population_new(struct sim_population **out, const struct sim_params *p,
		       const struct sim_prefixes *px)
{
	if (px->n_v4 == 0 || (p->ipv6_fraction > 0 && px->n_v6 == 0) || p->days == 0 ||
	    p->interval_s == 0 || p->nat_group == 0)
		return SINKD_EINVAL;
	struct sim_population *pop = calloc(1, sizeof(*pop));
	if (pop == NULL)
		return SINKD_ENOMEM;
	pop->p = *p;
	pop->bots = calloc(p->bots ? p->bots : 1, sizeof(*pop->bots));
	pop->addrs = calloc((size_t)(p->bots ? p->bots : 1) * p->days, sizeof(*pop->addrs));
	if (pop->bots == NULL || pop->addrs == NULL) {
		sim_population_free(pop);
		return SINKD_ENOMEM;
	}
	unsigned nat_members = 0;
	struct event_addr nat_addr = {0};
	for (size_t i = 0; i < p->bots; i++) {
		struct sim_bot *b = &pop->bots[i];
		struct sim_rng r;
		struct event_addr first;
		draw_bot(p, px, i, b);
		sim_rng_seed(&r, p->seed, SIM_STREAM_BOT, i, 1);
		if (b->addr_kind == SIM_ADDR_NAT) {
			/* NAT bots fill groups of nat_group in population order. */
			if (nat_members % p->nat_group == 0) {
				struct sim_rng g;
				sim_rng_seed(&g, p->seed, SIM_STREAM_NAT, pop->n_nat_groups, 0);
				sim_range_pick(&px->v4[sim_rng_below(&g, px->n_v4)], &g, &nat_addr);
				pop->n_nat_groups++;
			}
			b->nat_group = (int)pop->n_nat_groups - 1;
			nat_members++;
			first = nat_addr;
		} else if (b->addr_kind == SIM_ADDR_IPV6) {
			sim_range_pick(&px->v6[b->range], &r, &first);
		} else {
			sim_range_pick(&px->v4[b->range], &r, &first);
		}
		daily_addresses(pop, px, i, &first, pop->addrs + i * p->days);
	}
	*out = pop;
	return 0;
}

void sim_population_free(struct sim_population *pop)
{
	if (pop == NULL)
		return;
	free(pop->bots);
	free(pop->addrs);
	free(pop);
}

bool sim_bot_alive(const struct sim_population *pop, size_t i, unsigned day)
{
	return pop->bots[i].death_s > (double)day * DAY_S;
}

const struct event_addr *sim_bot_addr(const struct sim_population *pop, size_t i, unsigned day)
{
	return &pop->addrs[i * pop->p.days + day];
}

static int by_time(const void *a, const void *b)
{
	const struct sim_checkin *x = a, *y = b;
	if (x->ts_ns != y->ts_ns)
		return x->ts_ns < y->ts_ns ? -1 : 1;
	return x->bot < y->bot ? -1 : x->bot > y->bot;
}

/* Probability a check-in happens at local hour h: 1 at 20:00, 1 - diurnal
 * at 08:00 (machines off in the morning, on in the evening). */
static double diurnal_keep(double diurnal, double h)
{
	return 1.0 - diurnal * (1.0 + cos(2.0 * M_PI * (h - 8.0) / 24.0)) / 2.0;
}

int sim_day_checkins(const struct sim_population *pop, unsigned day, struct sim_checkin **out,
		     size_t *n)
{
	const struct sim_params *p = &pop->p;
	size_t per_bot = (size_t)(DAY_S / p->interval_s) + 2, cap = per_bot * (p->bots + 1);
	struct sim_checkin *list = malloc(cap * sizeof(*list));
	size_t used = 0;
	if (list == NULL)
		return SINKD_ENOMEM;
	for (size_t i = 0; i < p->bots; i++) {
		const struct sim_bot *b = &pop->bots[i];
		struct sim_rng r;
		uint32_t seq = 0;
		if (!sim_bot_alive(pop, i, day))
			continue;
		sim_rng_seed(&r, p->seed, SIM_STREAM_DAY, i, ((uint64_t)day << 8) | 1);
		for (size_t k = 0; k < per_bot; k++) {
			double t = (double)k * p->interval_s + b->phase_s +
				   p->jitter * p->interval_s * (sim_rng_unit(&r) - 0.5);
			double keep = sim_rng_unit(&r);
			if (t < 0 || t >= DAY_S)
				continue;
			double abs_s = (double)day * DAY_S + t;
			if (abs_s >= b->death_s)
				break;
			double h = fmod(t / 3600.0 + b->tz_hours + 48.0, 24.0);
			if (keep >= diurnal_keep(p->diurnal, h))
				continue;
			list[used++] = (struct sim_checkin){
			    .ts_ns = p->start_ns + (uint64_t)llround(abs_s * 1e6) * 1000ull,
			    .bot = (uint32_t)i,
			    .seq = seq++,
			};
		}
	}
	qsort(list, used, sizeof(*list), by_time);
	*out = list;
	*n = used;
	return 0;
}
