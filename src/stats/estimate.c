/* Population estimators (docs/population.md explains each, its
 * assumptions and its error). Pure functions over daily distinct counts
 * read from rollups. */
#include "stats/stats.h"

#include <math.h>
#include <string.h>

#define WINDOW 7	       /* days of id-bearing data behind a factor */
#define HLL_REL (1.04 / 128.0) /* relative standard error of a dense sketch */

double stats_t95(size_t df)
{
	static const double t[] = {0,	  12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365,
				   2.306, 2.262,  2.228, 2.201, 2.179, 2.160, 2.145, 2.131,
				   2.120, 2.110,  2.101, 2.093, 2.086, 2.080, 2.074, 2.069,
				   2.064, 2.060,  2.056, 2.052, 2.048, 2.045, 2.042};
	if (df == 0)
		return INFINITY;
	if (df < sizeof(t) / sizeof(t[0]))
		return t[df];
	return df < 60 ? 2.00 : 1.96;
}

void stats_churn_nat(const struct stats_day *d, double *addrs_per_id, double *ids_per_addr)
{
	*addrs_per_id = d->bots > 0 ? d->pairs / d->bots : 0;
	*ids_per_addr = d->id_sources > 0 ? d->pairs / d->id_sources : 0;
}

/* r = ids / id-bearing sources over the window ending at day i (pooled),
 * and its spread. false when the window has no id-bearing data. */
static bool window_factor(const struct stats_day *days, size_t n, size_t i, double *r_out,
			  double *sd_out)
{
	double r[WINDOW], sum = 0, ids = 0, srcs = 0;
	size_t k = 0;
	for (size_t j = i + 1 > WINDOW ? i + 1 - WINDOW : 0; j <= i && j < n; j++) {
		if (days[j].id_sources >= 1 && days[j].bots >= 1) {
			r[k] = days[j].bots / days[j].id_sources;
			sum += r[k++];
			ids += days[j].bots;
			srcs += days[j].id_sources;
		}
	}
	if (k == 0)
		return false;
	double rr = ids / srcs, sd;
	if (k >= 3) {
		double ss = 0, mean = sum / (double)k;
		for (size_t j = 0; j < k; j++)
			ss += (r[j] - mean) * (r[j] - mean);
		sd = sqrt(ss / (double)(k - 1));
	} else {
		/* Sampling error of a ratio of counts (delta method). */
		sd = rr * sqrt(1.0 / ids + 1.0 / srcs);
	}
	*r_out = rr;
	*sd_out = sd;
	return true;
}

static void corrected(const struct stats_day *d, double rr, double sd, struct stats_live_pop *out)
{
	out->bots_per_source = rr;
	out->r_sd = sd;
	double noid = out->noid_sources * rr;
	out->estimate = d->bots + noid;
	double half = out->noid_sources * 1.96 * sd + 2 * HLL_REL * noid;
	out->lo = d->bots + (noid - half > 0 ? noid - half : 0);
	out->hi = d->bots + noid + half;
}

void stats_estimate_live(const struct stats_day *days, size_t n, size_t i,
			 struct stats_live_pop *out)
{
	stats_estimate_live_pooled(days, n, i, NULL, out);
}

void stats_estimate_live_pooled(const struct stats_day *days, size_t n, size_t i,
				const struct stats_day *pooled, struct stats_live_pop *out)
{
	memset(out, 0, sizeof(*out));
	const struct stats_day *d = &days[i];
	out->ids = d->bots;
	out->noid_sources = d->sources > d->id_sources ? d->sources - d->id_sources : 0;
	if (out->noid_sources < 0.5) {
		/* Every source showed an id: the id count is the answer. */
		out->by_id = true;
		out->estimate = out->lo = out->hi = d->bots;
		out->bots_per_source = d->id_sources > 0 ? d->bots / d->id_sources : 0;
		return;
	}
	double rr, sd;
	if (window_factor(days, n, i, &rr, &sd)) {
		corrected(d, rr, sd, out);
		return;
	}
	if (pooled != NULL && window_factor(pooled, n, i, &rr, &sd)) {
		/* No ids in this population: the other families' factor. */
		out->pooled_factor = true;
		corrected(d, rr, sd, out);
		return;
	}
	/* No ids at all: the address count, with nothing to correct it. */
	out->no_factor = true;
	out->estimate = d->sources;
	out->lo = d->sources * (1 - 2 * HLL_REL);
	out->hi = d->sources * (1 + 2 * HLL_REL);
}

void stats_fit_decay(const double *t, const double *y, size_t n, double threshold,
		     struct stats_decay *out)
{
	memset(out, 0, sizeof(*out));
	out->half_life = out->hl_hi = out->below_days = INFINITY;
	double sw = 0, st = 0, sy = 0;
	size_t m = 0;
	for (size_t i = 0; i < n; i++) {
		if (y[i] <= 0)
			continue;
		sw += y[i];
		st += y[i] * t[i];
		sy += y[i] * log(y[i]);
		m++;
	}
	out->n = m;
	if (m < 3)
		return;
	double tm = st / sw, ym = sy / sw, stt = 0, sty = 0, syy = 0;
	for (size_t i = 0; i < n; i++) {
		if (y[i] <= 0)
			continue;
		double dt = t[i] - tm, dy = log(y[i]) - ym;
		stt += y[i] * dt * dt;
		sty += y[i] * dt * dy;
		syy += y[i] * dy * dy;
	}
	if (stt <= 0)
		return;
	double b = sty / stt, a = ym - b * tm;
	double sse = syy - b * sty;
	if (sse < 0)
		sse = 0;
	/* Var(e_i) = sigma^2 / w_i, sigma^2 estimated from the residuals. */
	double s2 = sse / (double)(m - 2);
	double se = sqrt(s2 / stt);
	out->ok = true;
	out->n0 = exp(a);
	out->lambda = -b;
	out->lambda_se = se;
	out->r2 = syy > 0 ? 1 - sse / syy : 1;
	double tq = stats_t95(m - 2);
	if (out->lambda > 0) {
		out->half_life = log(2) / out->lambda;
		out->hl_lo = log(2) / (out->lambda + tq * se);
		double slow = out->lambda - tq * se;
		out->hl_hi = slow > 0 ? log(2) / slow : INFINITY;
		if (threshold > 0)
			out->below_days =
			    out->n0 <= threshold ? 0 : log(out->n0 / threshold) / out->lambda;
	} else {
		out->hl_lo =
		    out->lambda + tq * se > 0 ? log(2) / (out->lambda + tq * se) : INFINITY;
	}
}

void stats_chapman(double n1, double n2, double m, struct stats_chapman *out)
{
	memset(out, 0, sizeof(*out));
	out->n1 = n1;
	out->n2 = n2;
	out->m = m;
	out->estimate = (n1 + 1) * (n2 + 1) / (m + 1) - 1;
	double var = (n1 + 1) * (n2 + 1) * (n1 - m) * (n2 - m) / ((m + 1) * (m + 1) * (m + 2));
	out->se = var > 0 ? sqrt(var) : 0;
	double seen = n1 + n2 - m;
	out->lo = out->estimate - 1.96 * out->se;
	if (out->lo < seen)
		out->lo = seen;
	out->hi = out->estimate + 1.96 * out->se;
	out->unseen = out->estimate > seen ? out->estimate - seen : 0;
}
