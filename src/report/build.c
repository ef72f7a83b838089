/* report_json: the dimension reports (countries, asns, domains,
 * families), timeline and summary; population is in population.c. */
#include "report/report_internal.h"

#include "core/error.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define SK_DIMS                                                                                    \
	((1u << STATS_SOURCES) | (1u << STATS_NETS) | (1u << STATS_BOTS) |                         \
	 (1u << STATS_ID_SOURCES) | (1u << STATS_PAIRS))

json_t *report_table_new(const char *const *columns)
{
	json_t *cols = json_array();
	for (size_t i = 0; columns[i] != NULL; i++)
		json_array_append_new(cols, json_string(columns[i]));
	return json_pack("{s:o,s:o}", "columns", cols, "rows", json_array());
}

static json_t *jcount(double x) { return json_integer((json_int_t)llround(x)); }

static json_t *jtime(uint32_t t, bool date_only)
{
	char buf[32];
	if (t == UINT32_MAX)
		return json_null();
	report_time_text(t, date_only, buf, sizeof(buf));
	return json_string(buf);
}

static const char *dim_column(enum report_dim dim)
{
	switch (dim) {
	case DIM_FAMILY:
		return "family";
	case DIM_DOMAIN:
		return "domain";
	case DIM_COUNTRY:
		return "country";
	case DIM_ASN:
		return "asn";
	default:
		return "key";
	}
}

/* A dimension value as shown: "" is "unknown" (or "(none)" for domains). */
static const char *shown(enum report_dim dim, const char *key)
{
	if (key[0] != '\0' && !(dim == DIM_ASN && strcmp(key, "0") == 0))
		return key;
	return dim == DIM_DOMAIN ? "(none)" : "unknown";
}

int report_build_dims(struct store *st, const char *name, enum report_dim dim,
		      const struct report_filter *f, const struct report_options *o, json_t *out)
{
	struct report_agg by_day, dns, total;
	report_agg_init(&by_day, dim, true, SK_DIMS);
	report_agg_init(&dns, dim, false, 0);
	dns.no_dns = false;
	dns.dns_only = true;
	report_agg_init(&total, dim, false, SK_DIMS);
	struct report_agg *aggs[] = {&by_day, &dns};
	int ret = report_feed(st, f, o, aggs, dim == DIM_DOMAIN ? 2 : 1);
	if (ret != 0 || (ret = report_agg_collapse(&by_day, &total)) != 0)
		goto done;
	report_agg_sort_sources(&total);
	report_agg_sort_time(&by_day);
	struct report_span span;
	report_span(&by_day, &span);
	bool with_fit = dim == DIM_COUNTRY || dim == DIM_ASN;
	const char *cols[16];
	size_t nc = 0;
	cols[nc++] = dim_column(dim);
	if (dim == DIM_ASN)
		cols[nc++] = "org";
	const char *rest[] = {"events",	     "sources",	   "nets",	"bots",
			      "new_sources", "first_seen", "last_seen", NULL};
	for (size_t i = 0; rest[i] != NULL; i++)
		cols[nc++] = rest[i];
	if (dim == DIM_DOMAIN)
		cols[nc++] = "dns_queries";
	if (with_fit)
		cols[nc++] = "half_life_days";
	cols[nc] = NULL;
	json_t *table = report_table_new(cols);
	json_t *rows = json_object_get(table, "rows");
	unsigned top = f->top == 0 ? 10 : f->top;
	struct report_group **run = calloc(by_day.n > 0 ? by_day.n : 1, sizeof(*run));
	if (run == NULL) {
		json_decref(table);
		ret = SINKD_ENOMEM;
		goto done;
	}
	for (size_t i = 0; i < total.n && i < top; i++) {
		struct report_group *g = &total.groups[i];
		json_t *row = json_object();
		if (dim == DIM_ASN) {
			json_object_set_new(row, "asn", json_integer(strtoul(g->key, NULL, 10)));
			json_object_set_new(row, "org", json_string(g->org));
		} else {
			json_object_set_new(row, dim_column(dim), json_string(shown(dim, g->key)));
		}
		json_object_set_new(row, "events", json_integer((json_int_t)g->events));
		json_object_set_new(row, "sources", jcount(report_count(g, STATS_SOURCES)));
		json_object_set_new(row, "nets", jcount(report_count(g, STATS_NETS)));
		json_object_set_new(row, "bots", jcount(report_count(g, STATS_BOTS)));
		json_object_set_new(row, "new_sources", json_integer((json_int_t)g->new_sources));
		json_object_set_new(row, "first_seen", jtime(g->first_hour, false));
		json_object_set_new(row, "last_seen", jtime(g->last_hour, false));
		if (dim == DIM_DOMAIN) {
			uint64_t q = 0;
			for (size_t j = 0; j < dns.n; j++) {
				if (strcmp(dns.groups[j].key, g->key) == 0)
					q = dns.groups[j].events;
			}
			json_object_set_new(row, "dns_queries", json_integer((json_int_t)q));
		}
		if (with_fit) {
			size_t n = 0;
			for (size_t j = 0; j < by_day.n; j++) {
				if (strcmp(by_day.groups[j].key, g->key) == 0)
					run[n++] = &by_day.groups[j];
			}
			json_t *fit = report_decay_json(run, n, &span, o->threshold);
			json_object_set_new(
			    row, "half_life_days",
			    fit != NULL ? json_incref(json_object_get(fit, "half_life_days"))
					: json_null());
			json_decref(fit);
		}
		json_array_append_new(rows, row);
	}
	free(run);
	json_object_update(out, table);
	json_decref(table);
	json_object_set_new(out, "total_rows", json_integer((json_int_t)total.n));
	(void)name;
done:
	report_agg_free(&by_day);
	report_agg_free(&dns);
	report_agg_free(&total);
	return ret;
}

int report_build_timeline(struct store *st, const struct report_filter *f,
			  const struct report_options *o, json_t *out)
{
	bool day = f->bucket != NULL && strcmp(f->bucket, "day") == 0;
	struct report_agg a, dns;
	report_agg_init(&a, day ? DIM_DAY : DIM_HOUR, false,
			(1u << STATS_SOURCES) | (1u << STATS_BOTS));
	report_agg_init(&dns, day ? DIM_DAY : DIM_HOUR, false, 0);
	dns.no_dns = false;
	dns.dns_only = true;
	struct report_agg *aggs[] = {&a, &dns};
	int ret = report_feed(st, f, o, aggs, 2);
	if (ret != 0)
		goto done;
	report_agg_sort_time(&a);
	report_agg_sort_time(&dns);
	static const char *const cols[] = {"time",	  "events",	 "sources", "bots",
					   "new_sources", "dns_queries", NULL};
	json_t *table = report_table_new(cols);
	json_t *rows = json_object_get(table, "rows");
	/* Buckets of either side, in time order (both are sorted). */
	size_t i = 0, j = 0;
	while (i < a.n || j < dns.n) {
		struct report_group *g = i < a.n ? &a.groups[i] : NULL;
		struct report_group *q = j < dns.n ? &dns.groups[j] : NULL;
		uint32_t t = g != NULL && (q == NULL || g->t <= q->t) ? g->t : q->t;
		if (g != NULL && g->t != t)
			g = NULL;
		if (q != NULL && q->t != t)
			q = NULL;
		json_array_append_new(
		    rows, json_pack("{s:o,s:I,s:o,s:o,s:I,s:I}", "time", jtime(t, day), "events",
				    (json_int_t)(g != NULL ? g->events : 0), "sources",
				    jcount(g != NULL ? report_count(g, STATS_SOURCES) : 0), "bots",
				    jcount(g != NULL ? report_count(g, STATS_BOTS) : 0),
				    "new_sources", (json_int_t)(g != NULL ? g->new_sources : 0),
				    "dns_queries", (json_int_t)(q != NULL ? q->events : 0)));
		i += g != NULL;
		j += q != NULL;
	}
	json_object_update(out, table);
	json_decref(table);
	json_object_set_new(out, "bucket", json_string(day ? "day" : "hour"));
done:
	report_agg_free(&a);
	report_agg_free(&dns);
	return ret;
}

/* The rows of a sub-report, as a table object. */
static int sub_table(struct store *st, const char *name, enum report_dim dim,
		     const struct report_filter *f, const struct report_options *o, json_t *out,
		     const char *key)
{
	struct report_filter sf = *f;
	if (sf.top == 0)
		sf.top = 5;
	json_t *sub = json_object();
	int ret = report_build_dims(st, name, dim, &sf, o, sub);
	if (ret == 0) {
		json_object_del(sub, "total_rows");
		json_object_set(out, key, sub);
	}
	json_decref(sub);
	return ret;
}

int report_build_summary(struct store *st, const struct report_filter *f,
			 const struct report_options *o, json_t *out)
{
	json_t *pop = json_object();
	int ret = report_build_population(st, f, o, pop);
	if (ret != 0)
		goto done;
	/* Population now: the last full day (else the last day). */
	json_t *rows = json_object_get(pop, "rows"), *now = NULL;
	for (size_t i = json_array_size(rows); i > 0 && now == NULL; i--) {
		json_t *r = json_array_get(rows, i - 1);
		if (!json_is_true(json_object_get(r, "partial")))
			now = r;
	}
	if (now == NULL && json_array_size(rows) > 0)
		now = json_array_get(rows, json_array_size(rows) - 1);
	json_object_set_new(out, "population_now",
			    now == NULL ? json_null()
					: json_pack("{s:O,s:O,s:O,s:O,s:O,s:O}", "day",
						    json_object_get(now, "day"), "live",
						    json_object_get(now, "live"), "live_lo",
						    json_object_get(now, "live_lo"), "live_hi",
						    json_object_get(now, "live_hi"), "method",
						    json_object_get(now, "method"), "partial",
						    json_object_get(now, "partial")));
	json_object_set(out, "footprint", json_object_get(pop, "footprint"));
	json_object_set(out, "trend", json_object_get(pop, "cleanup"));
	json_object_set(out, "capture_recapture", json_object_get(pop, "capture_recapture"));
	json_t *daily =
	    json_pack("{s:O,s:O}", "columns", json_object_get(pop, "columns"), "rows", rows);
	json_object_set_new(out, "daily", daily);
	if ((ret = sub_table(st, "families", DIM_FAMILY, f, o, out, "top_families")) != 0 ||
	    (ret = sub_table(st, "countries", DIM_COUNTRY, f, o, out, "top_countries")) != 0 ||
	    (ret = sub_table(st, "asns", DIM_ASN, f, o, out, "top_asns")) != 0 ||
	    (ret = sub_table(st, "domains", DIM_DOMAIN, f, o, out, "top_domains")) != 0)
		goto done;
	json_object_set_new(out, "note",
			    json_string("drops and pipeline health: see /metrics and the exit "
					"summary of sinkd serve; protocol shapes: sinkd report "
					"protocols"));
done:
	json_decref(pop);
	return ret;
}

static json_t *filter_json(const struct report_filter *f, const struct report_options *o)
{
	json_t *j = json_object();
	if (f->since_ns != 0)
		json_object_set_new(j, "since",
				    jtime((uint32_t)(f->since_ns / 1000000000ull), false));
	if (f->until_ns != 0)
		json_object_set_new(j, "until",
				    jtime((uint32_t)(f->until_ns / 1000000000ull), false));
	if (f->family != NULL)
		json_object_set_new(j, "family", json_string(f->family));
	if (f->domain != NULL)
		json_object_set_new(j, "domain", json_string(f->domain));
	if (f->country != NULL)
		json_object_set_new(j, "country", json_string(f->country));
	if (f->asn != 0)
		json_object_set_new(j, "asn", json_integer(f->asn));
	(void)o;
	return j;
}

int report_json_opts(struct store *st, const char *name, const struct report_filter *f,
		     const struct report_options *o, json_t **out, char *err, size_t errlen)
{
	static const struct {
		const char *name;
		enum report_dim dim;
	} dims[] = {{"countries", DIM_COUNTRY},
		    {"asns", DIM_ASN},
		    {"domains", DIM_DOMAIN},
		    {"families", DIM_FAMILY}};
	*out = NULL;
	if (f->until_ns != 0 && f->since_ns >= f->until_ns) {
		snprintf(err, errlen, "--since must be before --until");
		return SINKD_EINVAL;
	}
	if (f->bucket != NULL && strcmp(f->bucket, "hour") != 0 && strcmp(f->bucket, "day") != 0) {
		snprintf(err, errlen, "bucket '%s': expected hour or day", f->bucket);
		return SINKD_EINVAL;
	}
	if (f->country != NULL && strlen(f->country) != 2) {
		snprintf(err, errlen, "country '%s': expected a two-letter ISO 3166 code",
			 f->country);
		return SINKD_EINVAL;
	}
	json_t *r =
	    json_pack("{s:s,s:o,s:s}", "report", name, "filter", filter_json(f, o), "source",
		      o->source != NULL ? "clickhouse"
		      : o->raw		? "raw events"
					: "rollups");
	int ret = SINKD_EINVAL;
	if (strcmp(name, "population") == 0)
		ret = report_build_population(st, f, o, r);
	else if (strcmp(name, "summary") == 0)
		ret = report_build_summary(st, f, o, r);
	else if (strcmp(name, "timeline") == 0)
		ret = report_build_timeline(st, f, o, r);
	else {
		for (size_t i = 0; i < sizeof(dims) / sizeof(dims[0]); i++) {
			if (strcmp(name, dims[i].name) == 0)
				ret = report_build_dims(st, name, dims[i].dim, f, o, r);
		}
		if (ret == SINKD_EINVAL)
			snprintf(err, errlen,
				 "unknown report '%s' (expected summary, population, countries, "
				 "asns, domains, families or timeline)",
				 name);
	}
	if (ret != 0) {
		if (ret != SINKD_EINVAL)
			snprintf(err, errlen, "%s", sinkd_strerror(ret));
		json_decref(r);
		return ret == SINKD_ENOMEM ? SINKD_ESTORE : ret;
	}
	*out = r;
	return 0;
}

int report_json(struct store *st, const char *name, const struct report_filter *f, json_t **out,
		char *err, size_t errlen)
{
	struct report_options o = {0};
	return report_json_opts(st, name, f, &o, out, err, errlen);
}
