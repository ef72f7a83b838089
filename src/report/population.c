/* `report population`: per day distinct counts and the live population
 * (ids, or addresses corrected per family), footprint, churn and NAT,
 * cleanup fit overall and per country and ASN, capture-recapture. */
#include "report/report_internal.h"

#include "core/error.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define SK_POP                                                                                     \
	((1u << STATS_SOURCES) | (1u << STATS_NETS) | (1u << STATS_BOTS) |                         \
	 (1u << STATS_ID_SOURCES) | (1u << STATS_PAIRS))

static json_t *jcount(double x) { return json_integer((json_int_t)llround(x)); }

static json_t *jreal(double x)
{
	if (!isfinite(x))
		return json_null();
	return json_real(round(x * 1000) / 1000);
}

static json_t *jday(uint32_t t)
{
	char buf[32];
	report_time_text(t, true, buf, sizeof(buf));
	return json_string(buf);
}

static void fill_day(struct report_group *g, struct stats_day *d)
{
	d->day = g->t;
	d->sources = report_count(g, STATS_SOURCES);
	d->bots = report_count(g, STATS_BOTS);
	d->id_sources = report_count(g, STATS_ID_SOURCES);
	d->pairs = report_count(g, STATS_PAIRS);
}

/* Live estimates of each day of one key's groups (sorted by day); pool
 * (the all-families day groups, or NULL) gives the factor of a key
 * without ids. */
static int live_series(struct report_group **g, size_t n, struct report_agg *pool,
		       struct stats_live_pop *out)
{
	struct stats_day *days = calloc(n > 0 ? n : 1, sizeof(*days));
	struct stats_day *pooled = calloc(n > 0 ? n : 1, sizeof(*pooled));
	if (days == NULL || pooled == NULL) {
		free(days);
		free(pooled);
		return SINKD_ENOMEM;
	}
	for (size_t i = 0; i < n; i++) {
		fill_day(g[i], &days[i]);
		for (size_t d = 0; pool != NULL && d < pool->n; d++) {
			if (pool->groups[d].t == g[i]->t)
				fill_day(&pool->groups[d], &pooled[i]);
		}
	}
	for (size_t i = 0; i < n; i++)
		stats_estimate_live_pooled(days, n, i, pool != NULL ? pooled : NULL, &out[i]);
	free(days);
	free(pooled);
	return 0;
}

void report_span(const struct report_agg *a, struct report_span *out)
{
	out->first = UINT32_MAX;
	out->last = 0;
	for (size_t i = 0; i < a->n; i++) {
		if (a->groups[i].first_hour < out->first)
			out->first = a->groups[i].first_hour;
		if (a->groups[i].last_hour > out->last)
			out->last = a->groups[i].last_hour;
	}
}

bool report_day_full(const struct report_group *g, const struct report_span *span)
{
	return g->t >= span->first && g->t + 23 * 3600 <= span->last;
}

json_t *report_decay_json(struct report_group **days, size_t n, const struct report_span *span,
			  double threshold)
{
	double *t = calloc(n > 0 ? n : 1, sizeof(*t)), *y = calloc(n > 0 ? n : 1, sizeof(*y));
	struct stats_live_pop *lp = calloc(n > 0 ? n : 1, sizeof(*lp));
	json_t *o = NULL;
	if (t == NULL || y == NULL || lp == NULL || live_series(days, n, NULL, lp) != 0)
		goto done;
	size_t m = 0;
	uint32_t t0 = 0;
	for (size_t i = 0; i < n; i++) {
		if (!report_day_full(days[i], span))
			continue;
		if (m == 0)
			t0 = days[i]->t;
		t[m] = (double)(days[i]->t - t0) / 86400.0;
		y[m++] = lp[i].estimate;
	}
	if (m < 3)
		goto done;
	struct stats_decay fit;
	stats_fit_decay(t, y, m, 0, &fit);
	if (!fit.ok)
		goto done;
	double thr = threshold > 0 ? threshold : fit.n0 / 100;
	stats_fit_decay(t, y, m, thr, &fit);
	o = json_pack("{s:o,s:I,s:o,s:o,s:o,s:o,s:o,s:o,s:o,s:o}", "first_day", jday(t0), "points",
		      (json_int_t)m, "n0", jcount(fit.n0), "lambda_per_day", jreal(fit.lambda),
		      "half_life_days", jreal(fit.half_life), "half_life_lo", jreal(fit.hl_lo),
		      "half_life_hi", jreal(fit.hl_hi), "r2", jreal(fit.r2), "threshold",
		      jreal(thr), "below_threshold_on",
		      isfinite(fit.below_days)
			  ? jday(t0 + (uint32_t)(fit.below_days * 86400) / 86400 * 86400)
			  : json_null());
done:
	free(t);
	free(y);
	free(lp);
	return o;
}

/* Groups of one key, in day order (a sorted by key then day). */
static size_t key_run(struct report_agg *a, size_t from, struct report_group **out)
{
	size_t n = 0;
	for (size_t i = from; i < a->n && strcmp(a->groups[i].key, a->groups[from].key) == 0; i++)
		out[n++] = &a->groups[i];
	return n;
}

/* Per-key cleanup fits, the top keys by population first. */
static json_t *cleanup_by(struct report_agg *a, const struct report_span *span, const char *name,
			  unsigned top, double thr)
{
	json_t *arr = json_array();
	struct report_group **run = calloc(a->n > 0 ? a->n : 1, sizeof(*run));
	if (run == NULL)
		return arr;
	report_agg_sort_time(a);
	for (size_t i = 0; i < a->n;) {
		size_t n = key_run(a, i, run);
		json_t *fit = report_decay_json(run, n, span, thr);
		if (fit != NULL) {
			json_object_set_new(fit, name, json_string(run[0]->key));
			if (run[0]->asn != 0 && strcmp(name, "asn") == 0) {
				json_object_set_new(fit, "asn", json_integer(run[0]->asn));
				json_object_set_new(fit, "org", json_string(run[0]->org));
			}
			json_array_append_new(arr, fit);
		}
		i += n;
	}
	free(run);
	/* Largest populations first, then cut to top. */
	size_t n = json_array_size(arr);
	for (size_t i = 1; i < n; i++) {
		for (size_t j = i; j > 0; j--) {
			json_t *x = json_array_get(arr, j - 1), *y = json_array_get(arr, j);
			if (json_integer_value(json_object_get(x, "n0")) >=
			    json_integer_value(json_object_get(y, "n0")))
				break;
			json_incref(x);
			json_array_set(arr, j - 1, y);
			json_array_set_new(arr, j, x);
		}
	}
	while (json_array_size(arr) > top)
		json_array_remove(arr, json_array_size(arr) - 1);
	return arr;
}

/* Chapman over the first and second half of the full days. */
static json_t *chapman_json(struct report_agg *days, const struct report_span *span)
{
	size_t full = 0;
	for (size_t i = 0; i < days->n; i++)
		full += report_day_full(&days->groups[i], span);
	if (full < 2)
		return json_null();
	bool ids = false;
	for (size_t i = 0; i < days->n; i++)
		ids |= days->groups[i].id_events > 0;
	enum stats_sketch k = ids ? STATS_BOTS : STATS_SOURCES;
	struct hll w[2], u;
	hll_init(&w[0], 1u << 20);
	hll_init(&w[1], 1u << 20);
	hll_init(&u, 1u << 20);
	uint32_t bounds[2][2] = {{0, 0}, {0, 0}};
	size_t seen = 0;
	for (size_t i = 0; i < days->n; i++) {
		struct report_group *g = &days->groups[i];
		if (!report_day_full(g, span))
			continue;
		int half = seen++ < full / 2 ? 0 : 1;
		if (bounds[half][0] == 0)
			bounds[half][0] = g->t;
		bounds[half][1] = g->t;
		hll_merge(&w[half], &g->sk[k]);
		hll_merge(&u, &g->sk[k]);
	}
	double n1 = hll_count(&w[0]), n2 = hll_count(&w[1]), nu = hll_count(&u);
	bool exact = hll_is_exact(&w[0]) && hll_is_exact(&w[1]) && hll_is_exact(&u);
	hll_free(&w[0]);
	hll_free(&w[1]);
	hll_free(&u);
	double m = n1 + n2 - nu;
	if (m < 0)
		m = 0;
	struct stats_chapman c;
	stats_chapman(n1, n2, m, &c);
	return json_pack("{s:s,s:[o,o],s:[o,o],s:o,s:o,s:o,s:o,s:o,s:o,s:o,s:o,s:b}", "by",
			 ids ? "bot id" : "address", "window1", jday(bounds[0][0]),
			 jday(bounds[0][1]), "window2", jday(bounds[1][0]), jday(bounds[1][1]),
			 "n1", jcount(n1), "n2", jcount(n2), "both", jcount(m), "estimate",
			 jcount(c.estimate), "se", jreal(c.se), "lo", jcount(c.lo), "hi",
			 jcount(c.hi), "never_seen", jcount(c.unseen), "exact", exact);
}

static const char *const pop_columns[] = {
    "day",	  "events",	 "sources",	 "nets",	 "bots",
    "id_sources", "new_sources", "addrs_per_id", "ids_per_addr", "live",
    "live_lo",	  "live_hi",	 "method",	 "partial",	 NULL};

/* Per day: sum the per-family live estimates (each family corrected by its
 * own id-bearing subset; a family with no ids by all families' pooled). */
static int family_estimates(struct report_agg *fam, struct report_agg *pool,
			    struct report_agg *days, struct stats_live_pop *total)
{
	struct report_group **run = calloc(fam->n > 0 ? fam->n : 1, sizeof(*run));
	struct stats_live_pop *lp = calloc(fam->n > 0 ? fam->n : 1, sizeof(*lp));
	if (run == NULL || lp == NULL) {
		free(run);
		free(lp);
		return SINKD_ENOMEM;
	}
	report_agg_sort_time(fam);
	for (size_t i = 0; i < fam->n;) {
		size_t n = key_run(fam, i, run);
		if (live_series(run, n, pool, lp) != 0)
			break;
		for (size_t j = 0; j < n; j++) {
			for (size_t d = 0; d < days->n; d++) {
				if (days->groups[d].t != run[j]->t)
					continue;
				struct stats_live_pop *t = &total[d];
				t->estimate += lp[j].estimate;
				t->lo += lp[j].lo;
				t->hi += lp[j].hi;
				t->by_id = t->by_id && lp[j].by_id;
				t->no_factor = t->no_factor || lp[j].no_factor;
				t->pooled_factor = t->pooled_factor || lp[j].pooled_factor;
				break;
			}
		}
		i += n;
	}
	free(run);
	free(lp);
	return 0;
}

static void add_day_row(json_t *rows, struct report_group *g, const struct stats_live_pop *lp,
			bool partial)
{
	struct stats_day d;
	fill_day(g, &d);
	double apid, ipad;
	stats_churn_nat(&d, &apid, &ipad);
	const char *method = lp->by_id		 ? "bot ids"
			     : lp->no_factor	 ? "addresses (no ids to correct them)"
			     : lp->pooled_factor ? "bot ids + addresses corrected by other families"
						 : "bot ids + corrected addresses";
	json_array_append_new(
	    rows, json_pack("{s:o,s:I,s:o,s:o,s:o,s:o,s:I,s:o,s:o,s:o,s:o,s:o,s:s,s:b,s:b}", "day",
			    jday(g->t), "events", (json_int_t)g->events, "sources",
			    jcount(d.sources), "nets", jcount(report_count(g, STATS_NETS)), "bots",
			    jcount(d.bots), "id_sources", jcount(d.id_sources), "new_sources",
			    (json_int_t)g->new_sources, "addrs_per_id", jreal(apid), "ids_per_addr",
			    jreal(ipad), "live", jcount(lp->estimate), "live_lo", jcount(lp->lo),
			    "live_hi", jcount(lp->hi), "method", method, "partial", partial,
			    "bots_exact", report_exact(g, STATS_BOTS)));
}

static json_t *footprint_json(struct report_agg *all)
{
	if (all->n == 0)
		return json_pack("{s:s,s:i,s:i,s:i,s:i}", "by", "none", "bots", 0, "sources", 0,
				 "nets", 0, "events", 0);
	struct report_group *g = &all->groups[0];
	bool ids = g->id_events > 0;
	return json_pack("{s:s,s:o,s:o,s:o,s:o,s:I,s:o,s:b}", "by",
			 ids ? "bot id" : "address (no bot ids in this window)", "bots",
			 jcount(report_count(g, ids ? STATS_BOTS : STATS_SOURCES)), "sources",
			 jcount(report_count(g, STATS_SOURCES)), "nets",
			 jcount(report_count(g, STATS_NETS)), "bot_ids",
			 jcount(report_count(g, STATS_BOTS)), "events", (json_int_t)g->events,
			 "new_sources", jcount((double)g->new_sources), "exact",
			 report_exact(g, ids ? STATS_BOTS : STATS_SOURCES));
}

int report_build_population(struct store *st, const struct report_filter *f,
			    const struct report_options *o, json_t *out)
{
	struct report_agg days, fam, country, asn, all;
	report_agg_init(&days, DIM_DAY, false, SK_POP);
	report_agg_init(&fam, DIM_FAMILY, true, SK_POP);
	report_agg_init(&country, DIM_COUNTRY, true, SK_POP);
	report_agg_init(&asn, DIM_ASN, true, SK_POP);
	report_agg_init(&all, DIM_NONE, false, SK_POP);
	struct report_agg *aggs[] = {&days, &fam, &country, &asn, &all};
	struct stats_live_pop *total = NULL;
	int ret = report_feed(st, f, o, aggs, 5);
	if (ret != 0)
		goto done;
	report_agg_sort_time(&days);
	total = calloc(days.n > 0 ? days.n : 1, sizeof(*total));
	if (total == NULL) {
		ret = SINKD_ENOMEM;
		goto done;
	}
	for (size_t i = 0; i < days.n; i++)
		total[i].by_id = true;
	/* The pool that corrects a family without ids is every family: with
	 * --family, count the days of all families in a second scan. */
	struct report_agg all_days, *pool = &days;
	report_agg_init(&all_days, DIM_DAY, false, SK_POP);
	if (f->family != NULL) {
		struct report_filter af = *f;
		struct report_agg *pa[] = {&all_days};
		af.family = NULL;
		if ((ret = report_feed(st, &af, o, pa, 1)) != 0) {
			report_agg_free(&all_days);
			goto done;
		}
		pool = &all_days;
	}
	ret = family_estimates(&fam, pool, &days, total);
	report_agg_free(&all_days);
	if (ret != 0)
		goto done;
	json_t *table = report_table_new(pop_columns);
	json_t *rows = json_object_get(table, "rows");
	struct report_span span;
	report_span(&days, &span);
	for (size_t i = 0; i < days.n; i++)
		add_day_row(rows, &days.groups[i], &total[i],
			    !report_day_full(&days.groups[i], &span));
	json_object_update(out, table);
	json_decref(table);
	/* The overall cleanup fits the summed daily estimates. */
	struct report_group **run = calloc(days.n > 0 ? days.n : 1, sizeof(*run));
	double *t = calloc(days.n + 1, sizeof(*t)), *y = calloc(days.n + 1, sizeof(*y));
	size_t m = 0;
	uint32_t t0 = 0;
	for (size_t i = 0; run != NULL && t != NULL && y != NULL && i < days.n; i++) {
		if (!report_day_full(&days.groups[i], &span))
			continue;
		if (m == 0)
			t0 = days.groups[i].t;
		t[m] = (double)(days.groups[i].t - t0) / 86400.0;
		y[m++] = total[i].estimate;
	}
	json_t *cleanup = json_null();
	if (m >= 3) {
		struct stats_decay fit;
		stats_fit_decay(t, y, m, 0, &fit);
		double thr = o->threshold > 0 ? o->threshold : fit.n0 / 100;
		stats_fit_decay(t, y, m, thr, &fit);
		if (fit.ok)
			cleanup = json_pack(
			    "{s:o,s:I,s:o,s:o,s:o,s:o,s:o,s:o,s:o,s:o}", "first_day", jday(t0),
			    "points", (json_int_t)m, "n0", jcount(fit.n0), "lambda_per_day",
			    jreal(fit.lambda), "half_life_days", jreal(fit.half_life),
			    "half_life_lo", jreal(fit.hl_lo), "half_life_hi", jreal(fit.hl_hi),
			    "r2", jreal(fit.r2), "threshold", jreal(thr), "below_threshold_on",
			    isfinite(fit.below_days)
				? jday(t0 + (uint32_t)(fit.below_days * 86400) / 86400 * 86400)
				: json_null());
	}
	free(run);
	free(t);
	free(y);
	unsigned top = f->top == 0 ? 10 : f->top;
	json_object_set_new(out, "footprint", footprint_json(&all));
	json_object_set_new(out, "cleanup", cleanup);
	json_object_set_new(out, "capture_recapture", chapman_json(&days, &span));
	json_object_set_new(out, "cleanup_by_country",
			    cleanup_by(&country, &span, "country", top, o->threshold));
	json_object_set_new(out, "cleanup_by_asn",
			    cleanup_by(&asn, &span, "asn", top, o->threshold));
done:
	free(total);
	for (size_t i = 0; i < 5; i++)
		report_agg_free(aggs[i]);
	return ret;
}
