/* The ground truth of a run: what was emitted, gathered as it happens. */
#include "sim/sim_internal.h"

#include "classify/decode.h"
#include "core/error.h"
#include "ingest/ingest.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define DAY_NS (86400ull * 1000000000ull)
#define TALLY_MAX 64

struct tally_row {
	uint8_t family;
	char msg_type[32];
	uint64_t n;
};

struct sim_truth {
	const struct sim_population *pop;
	uint32_t *per_bot_day; /* bots * days: check-ins */
	struct {
		uint64_t checkins, dns, tls;
	} * day;
	struct tally_row tally[TALLY_MAX];
	size_t n_tally;
	uint64_t dns, tls, checkins;
};

int sim_truth_new(struct sim_truth **out, const struct sim_population *pop)
{
	struct sim_truth *t = calloc(1, sizeof(*t));
	if (t == NULL)
		return SINKD_ENOMEM;
	t->pop = pop;
	t->per_bot_day =
	    calloc((size_t)(pop->p.bots ? pop->p.bots : 1) * pop->p.days, sizeof(*t->per_bot_day));
	t->day = calloc(pop->p.days, sizeof(*t->day));
	if (t->per_bot_day == NULL || t->day == NULL) {
		sim_truth_free(t);
		return SINKD_ENOMEM;
	}
	*out = t;
	return 0;
}

void sim_truth_free(struct sim_truth *t)
{
	if (t == NULL)
		return;
	free(t->per_bot_day);
	free(t->day);
	free(t);
}

void sim_truth_add(struct sim_truth *t, const struct sim_checkin *c, const struct sim_request *r)
{
	const struct sim_population *pop = t->pop;
	unsigned day = (unsigned)((c->ts_ns - pop->p.start_ns) / DAY_NS);
	uint8_t family = pop->bots[c->bot].family;
	t->per_bot_day[(size_t)c->bot * pop->p.days + day]++;
	t->day[day].checkins++;
	t->day[day].dns += r->resolve;
	t->day[day].tls += r->tls;
	t->checkins++;
	t->dns += r->resolve;
	t->tls += r->tls;
	size_t i = 0;
	while (i < t->n_tally &&
	       (t->tally[i].family != family || strcmp(t->tally[i].msg_type, r->msg_type) != 0))
		i++;
	if (i == t->n_tally && t->n_tally < TALLY_MAX) {
		t->tally[i].family = family;
		snprintf(t->tally[i].msg_type, sizeof(t->tally[i].msg_type), "%s", r->msg_type);
		t->n_tally++;
	}
	if (i < t->n_tally)
		t->tally[i].n++;
}

static json_t *addr_json(const struct event_addr *a, const struct sim_prefixes *px)
{
	char ip[48], cc[4];
	uint32_t asn;
	sim_prefixes_lookup(px, a, cc, &asn);
	return json_pack("{s:s,s:s?,s:i}", "addr", event_addr_str(a, ip, sizeof(ip)), "country",
			 cc[0] != '\0' ? cc : NULL, "asn", (json_int_t)asn);
}

static const char *const addr_kinds[] = {"dhcp", "nat", "ipv6"};
static const char *const compress_names[] = {"none", "zlib", "bzip2"};

static json_t *bot_json(const struct sim_truth *t, size_t i, const struct sim_prefixes *px)
{
	const struct sim_population *pop = t->pop;
	const struct sim_bot *b = &pop->bots[i];
	char when[40];
	json_t *days = json_array();
	uint64_t total = 0;
	for (unsigned d = 0; d < pop->p.days; d++) {
		uint32_t n = t->per_bot_day[i * pop->p.days + d];
		total += n;
		if (n == 0)
			continue;
		json_t *a = addr_json(sim_bot_addr(pop, i, d), px);
		json_object_set_new(a, "day", json_integer(d));
		json_object_set_new(a, "checkins", json_integer(n));
		json_array_append_new(days, a);
	}
	json_t *o = json_pack("{s:s,s:s,s:s,s:s,s:s,s:b,s:I,s:o}", "id", b->id, "family",
			      sim_family_name((enum sim_family)b->family), "version", b->version,
			      "address_kind", addr_kinds[b->addr_kind], "compress",
			      b->family == SIM_WALEDAC ? compress_names[b->compress] : "none",
			      "tls", b->tls, "checkins", (json_int_t)total, "days", days);
	json_object_set_new(o, "nat_group",
			    b->nat_group >= 0 ? json_integer(b->nat_group) : json_null());
	if (isfinite(b->death_s))
		json_object_set_new(
		    o, "gone",
		    json_string(ingest_time_str(pop->p.start_ns + (uint64_t)(b->death_s * 1e9),
						when, sizeof(when))));
	else
		json_object_set_new(o, "gone", json_null());
	return o;
}

/* Per day: bots alive at its start, bots that checked in, distinct
 * source addresses, check-ins, DNS queries, TLS connections. */
static json_t *days_json(const struct sim_truth *t)
{
	const struct sim_population *pop = t->pop;
	json_t *days = json_array();
	char date[40];
	for (unsigned d = 0; d < pop->p.days; d++) {
		uint64_t alive = 0, active = 0;
		json_t *addrs = json_object();
		for (size_t i = 0; i < pop->p.bots; i++) {
			char ip[48];
			alive += sim_bot_alive(pop, i, d);
			if (t->per_bot_day[i * pop->p.days + d] == 0)
				continue;
			active++;
			json_object_set_new(addrs,
					    event_addr_str(sim_bot_addr(pop, i, d), ip, sizeof(ip)),
					    json_true());
		}
		ingest_time_str(pop->p.start_ns + d * DAY_NS, date, sizeof(date));
		date[10] = '\0';
		json_array_append_new(
		    days, json_pack("{s:i,s:s,s:I,s:I,s:I,s:I,s:I,s:I}", "day", d, "date", date,
				    "alive", (json_int_t)alive, "active", (json_int_t)active,
				    "addresses", (json_int_t)json_object_size(addrs), "checkins",
				    (json_int_t)t->day[d].checkins, "dns_queries",
				    (json_int_t)t->day[d].dns, "tls_connections",
				    (json_int_t)t->day[d].tls));
		json_decref(addrs);
	}
	return days;
}

static json_t *nat_json(const struct sim_truth *t)
{
	const struct sim_population *pop = t->pop;
	json_t *groups = json_array();
	for (unsigned g = 0; g < pop->n_nat_groups; g++) {
		json_t *ids = json_array();
		const struct event_addr *addr = NULL;
		for (size_t i = 0; i < pop->p.bots; i++) {
			if (pop->bots[i].nat_group != (int)g)
				continue;
			addr = sim_bot_addr(pop, i, 0);
			json_array_append_new(ids, json_string(pop->bots[i].id));
		}
		char ip[48];
		json_array_append_new(groups,
				      json_pack("{s:i,s:s,s:o}", "group", g, "addr",
						event_addr_str(addr, ip, sizeof(ip)), "bots", ids));
	}
	return groups;
}

json_t *sim_truth_json(const struct sim_truth *t, const struct sim_prefixes *px)
{
	const struct sim_params *p = &t->pop->p;
	char start[40];
	json_t *mix = json_object(), *tally = json_array(), *bots = json_array();
	for (int f = 0; f < SIM_FAMILIES; f++)
		json_object_set_new(mix, sim_family_name((enum sim_family)f), json_real(p->mix[f]));
	json_t *params =
	    json_pack("{s:I,s:i,s:i,s:s,s:o,s:i,s:f,s:f,s:f,s:f,s:i,s:f,s:f,s:f}", "seed",
		      (json_int_t)p->seed, "bots", p->bots, "days", p->days, "start",
		      ingest_time_str(p->start_ns, start, sizeof(start)), "mix", mix, "interval_s",
		      p->interval_s, "jitter", p->jitter, "diurnal", p->diurnal, "churn", p->churn,
		      "nat", p->nat_fraction, "nat_group", p->nat_group, "ipv6", p->ipv6_fraction,
		      "half_life_days", p->half_life_days, "tls", p->tls_fraction);
	for (size_t i = 0; i < t->n_tally; i++)
		json_array_append_new(
		    tally,
		    json_pack("{s:s,s:s,s:I}", "family",
			      sim_family_name((enum sim_family)t->tally[i].family), "msg_type",
			      t->tally[i].msg_type, "checkins", (json_int_t)t->tally[i].n));
	for (size_t i = 0; i < t->pop->p.bots; i++)
		json_array_append_new(bots, bot_json(t, i, px));
	return json_pack("{s:o,s:I,s:I,s:I,s:o,s:o,s:o,s:o}", "params", params, "checkins",
			 (json_int_t)t->checkins, "dns_queries", (json_int_t)t->dns,
			 "tls_connections", (json_int_t)t->tls, "tally", tally, "days",
			 days_json(t), "nat_groups", nat_json(t), "bots", bots);
}
