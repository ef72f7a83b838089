/* The grouping engine: rollup cells (or raw events) into groups keyed by
 * one dimension, optionally per day, merging their sketches. */
#include "report/report_internal.h"

#include "cluster/cluster.h"
#include "core/error.h"
#include "store/store.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

void report_agg_init(struct report_agg *a, enum report_dim dim, bool by_day, unsigned sketches)
{
	memset(a, 0, sizeof(*a));
	a->dim = dim;
	a->by_day = by_day;
	a->sketches = sketches;
	a->no_dns = true;
}

void report_agg_free(struct report_agg *a)
{
	for (size_t i = 0; i < a->n; i++) {
		for (int k = 0; k < STATS_N_SKETCHES; k++)
			hll_free(&a->groups[i].sk[k]);
	}
	free(a->groups);
	free(a->slots);
	memset(a, 0, sizeof(*a));
}

void report_time_text(uint32_t t, bool date_only, char *buf, size_t len)
{
	time_t tt = t;
	struct tm tm;
	gmtime_r(&tt, &tm);
	strftime(buf, len, date_only ? "%Y-%m-%d" : "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* The key text and bucket of a cell for dimension dim. */
static void cell_key(const struct report_agg *a, const struct stats_cell *c, char *key, size_t len,
		     uint32_t *t)
{
	*t = a->by_day ? c->hour / 86400 * 86400 : 0;
	switch (a->dim) {
	case DIM_NONE:
		key[0] = '\0';
		break;
	case DIM_HOUR:
		*t = c->hour;
		key[0] = '\0';
		break;
	case DIM_DAY:
		*t = c->hour / 86400 * 86400;
		key[0] = '\0';
		break;
	case DIM_FAMILY:
		snprintf(key, len, "%s", c->family);
		break;
	case DIM_DOMAIN:
		snprintf(key, len, "%s", c->domain);
		break;
	case DIM_COUNTRY:
		snprintf(key, len, "%s", c->country);
		break;
	case DIM_ASN:
		snprintf(key, len, "%u", c->asn);
		break;
	case DIM_TRANSPORT:
		snprintf(key, len, "%s", c->transport);
		break;
	}
}

static uint64_t group_hash(const char *key, uint32_t t)
{
	uint8_t buf[EVENT_QNAME_MAX + 4];
	size_t n = strlen(key);
	memcpy(buf, &t, 4);
	memcpy(buf + 4, key, n);
	return hll_hash(buf, n + 4);
}

static int grow(struct report_agg *a)
{
	size_t cap = a->cap == 0 ? 256 : a->cap * 2;
	struct report_group *g = realloc(a->groups, cap * sizeof(*g));
	uint32_t *slots = calloc(cap * 2, sizeof(*slots));
	if (g == NULL || slots == NULL) {
		if (g != NULL)
			a->groups = g;
		free(slots);
		return SINKD_ENOMEM;
	}
	a->groups = g;
	a->cap = cap;
	free(a->slots);
	a->slots = slots;
	a->n_slots = cap * 2;
	for (size_t i = 0; i < a->n; i++) {
		size_t j = group_hash(g[i].key, g[i].t) & (a->n_slots - 1);
		while (slots[j] != 0)
			j = (j + 1) & (a->n_slots - 1);
		slots[j] = (uint32_t)i + 1;
	}
	return 0;
}

static struct report_group *group_for(struct report_agg *a, const char *key, uint32_t t)
{
	if ((a->n + 1) * 2 > a->n_slots && grow(a) != 0)
		return NULL;
	size_t j = group_hash(key, t) & (a->n_slots - 1);
	while (a->slots[j] != 0) {
		struct report_group *g = &a->groups[a->slots[j] - 1];
		if (g->t == t && strcmp(g->key, key) == 0)
			return g;
		j = (j + 1) & (a->n_slots - 1);
	}
	struct report_group *g = &a->groups[a->n];
	memset(g, 0, sizeof(*g));
	snprintf(g->key, sizeof(g->key), "%s", key);
	g->t = t;
	g->first_hour = UINT32_MAX;
	for (int k = 0; k < STATS_N_SKETCHES; k++)
		hll_init(&g->sk[k], 1u << 20); /* merged answers stay exact longer */
	a->slots[j] = (uint32_t)++a->n;
	return g;
}

static bool wants(const struct report_agg *a, const char *transport)
{
	bool dns = strcmp(transport, "dns") == 0;
	return a->dns_only ? dns : !(a->no_dns && dns);
}

static void count_cell(struct report_group *g, const struct stats_cell *c)
{
	g->events += c->events;
	g->id_events += c->id_events;
	g->new_sources += c->new_sources;
	if (c->hour < g->first_hour)
		g->first_hour = c->hour;
	if (c->hour > g->last_hour)
		g->last_hour = c->hour;
	g->hours_mask |= 1u << (c->hour % 86400 / 3600);
	if (g->asn == 0 && c->asn != 0) {
		g->asn = c->asn;
		snprintf(g->org, sizeof(g->org), "%s", c->asn_org != NULL ? c->asn_org : "");
	}
}

static int agg_add_cell(struct report_agg *a, const struct stats_cell *c)
{
	if (!wants(a, c->transport))
		return 0;
	char key[EVENT_QNAME_MAX];
	uint32_t t;
	cell_key(a, c, key, sizeof(key), &t);
	struct report_group *g = group_for(a, key, t);
	if (g == NULL)
		return SINKD_ENOMEM;
	count_cell(g, c);
	for (int k = 0; k < STATS_N_SKETCHES; k++) {
		if (!(a->sketches & (1u << k)) || c->sketch[k] == NULL || c->sketch_len[k] == 0)
			continue;
		int ret = hll_merge_serialized(&g->sk[k], c->sketch[k], c->sketch_len[k]);
		if (ret != 0)
			return ret;
	}
	return 0;
}

struct feed {
	struct report_agg **aggs;
	size_t n;
	const struct report_filter *f;
	struct stats_seen *seen; /* raw: new vs returning, from the first event on */
	bool progress;
	uint64_t rows;
	time_t last;
};

static void progress(struct feed *fd, const char *what)
{
	if (!fd->progress || (++fd->rows & 0x3fff) != 0 || time(NULL) == fd->last)
		return;
	fd->last = time(NULL);
	fprintf(stderr, "\rreport: %llu %s read", (unsigned long long)fd->rows, what);
}

static int on_cell(const struct stats_cell *c, void *ctx)
{
	struct feed *fd = ctx;
	progress(fd, "rollup rows");
	for (size_t i = 0; i < fd->n; i++) {
		int ret = agg_add_cell(fd->aggs[i], c);
		if (ret != 0)
			return ret;
	}
	return 0;
}

static bool raw_matches(const struct report_filter *f, const struct sinkd_event *ev)
{
	return (f->family == NULL || strcmp(ev->family, f->family) == 0) &&
	       (f->domain == NULL || strcmp(ev->zone, f->domain) == 0) &&
	       (f->country == NULL || strcmp(ev->country, f->country) == 0) &&
	       (f->asn == 0 || ev->asn == f->asn);
}

/* A raw event as a one-event cell with exact (unserialised) hashes. */
static int on_raw(const struct sinkd_event *ev, uint64_t count, bool aggregate, void *ctx)
{
	struct feed *fd = ctx;
	progress(fd, "raw events");
	bool is_new = false;
	if (fd->seen != NULL && ev->kind != EVENT_DNS) {
		uint8_t src[16];
		stats_source_key(ev->src.ip, src);
		is_new = !stats_seen_check_add(fd->seen, src);
	}
	if (ev->ts_ns < fd->f->since_ns || !raw_matches(fd->f, ev))
		return 0;
	uint64_t hs[STATS_N_SKETCHES];
	bool has_id = stats_event_hashes(ev, hs);
	struct stats_cell c = {.hour = (uint32_t)(ev->ts_ns / 1000000000ull / 3600 * 3600),
			       .family = ev->family,
			       .domain = ev->zone,
			       .country = ev->country,
			       .asn = ev->asn,
			       .asn_org = "",
			       .transport = stats_transport(ev),
			       .events = count,
			       .id_events = has_id ? count : 0,
			       .new_sources = is_new ? 1 : 0};
	for (size_t i = 0; i < fd->n; i++) {
		struct report_agg *a = fd->aggs[i];
		if (!wants(a, c.transport))
			continue;
		char key[EVENT_QNAME_MAX];
		uint32_t t;
		cell_key(a, &c, key, sizeof(key), &t);
		struct report_group *g = group_for(a, key, t);
		if (g == NULL)
			return SINKD_ENOMEM;
		count_cell(g, &c);
		int n_sk = has_id ? STATS_N_SKETCHES : STATS_BOTS;
		for (int k = 0; k < n_sk; k++) {
			if ((a->sketches & (1u << k)) && hll_add(&g->sk[k], hs[k]) != 0)
				return SINKD_ENOMEM;
		}
	}
	(void)aggregate;
	return 0;
}

int report_feed(struct store *st, const struct report_filter *f, const struct report_options *o,
		struct report_agg **aggs, size_t n)
{
	struct feed fd = {.aggs = aggs, .n = n, .f = f, .progress = o->progress};
	int ret;
	if (o->source != NULL) {
		/* The cluster's events through the raw path: the same sketches,
		 * so the same numbers as --raw on the nodes' stores merged. */
		char err[256] = "";
		if ((ret = stats_seen_new(&fd.seen, 8u << 20)) != 0)
			return ret;
		ret = cluster_raw_scan(o->source, o->cfg, 0, f->until_ns, on_raw, &fd, err,
				       sizeof(err));
		stats_seen_free(fd.seen);
		if (ret != 0)
			fprintf(stderr, "sinkd report: %s\n", err);
		for (size_t i = 0; i < n && ret == 0 && st != NULL; i++) {
			for (size_t j = 0; j < aggs[i]->n; j++) {
				struct report_group *g = &aggs[i]->groups[j];
				if (g->asn != 0 && g->org[0] == '\0')
					store_asn_org(st, g->asn, g->org, sizeof(g->org));
			}
		}
	} else if (o->raw) {
		/* From the first event: "new" means never seen before, as live. */
		if ((ret = stats_seen_new(&fd.seen, 8u << 20)) != 0)
			return ret;
		ret = store_raw_scan(st, 0, f->until_ns, on_raw, &fd);
		stats_seen_free(fd.seen);
		/* Raw rows carry the ASN only: names as the rollups have them. */
		for (size_t i = 0; i < n && ret == 0; i++) {
			for (size_t j = 0; j < aggs[i]->n; j++) {
				struct report_group *g = &aggs[i]->groups[j];
				if (g->asn != 0 && g->org[0] == '\0' &&
				    store_asn_org(st, g->asn, g->org, sizeof(g->org)) ==
					SINKD_ESTORE)
					ret = SINKD_ESTORE;
			}
		}
	} else {
		unsigned sketches = 0;
		bool need_dns = false;
		for (size_t i = 0; i < n; i++) {
			sketches |= aggs[i]->sketches;
			need_dns |= !aggs[i]->no_dns;
		}
		struct store_rollup_filter rf = {.since_ns = f->since_ns,
						 .until_ns = f->until_ns,
						 .family = f->family,
						 .domain = f->domain,
						 .country = f->country,
						 .asn = f->asn,
						 .no_dns = !need_dns,
						 .sketches = sketches};
		ret = store_rollup_scan(st, &rf, on_cell, &fd);
	}
	if (fd.progress && fd.rows >= 0x4000)
		fprintf(stderr, "\r%60s\r", "");
	return ret;
}

double report_count(struct report_group *g, enum stats_sketch k)
{
	if (!g->counted) {
		for (int i = 0; i < STATS_N_SKETCHES; i++)
			g->count[i] = hll_count(&g->sk[i]);
		g->counted = true;
	}
	return g->count[k];
}

bool report_exact(const struct report_group *g, enum stats_sketch k)
{
	return hll_is_exact(&g->sk[k]);
}

static int cmp_time(const void *x, const void *y)
{
	const struct report_group *a = x, *b = y;
	int c = strcmp(a->key, b->key);
	if (c != 0)
		return c;
	return (a->t > b->t) - (a->t < b->t);
}

static int cmp_sources(const void *x, const void *y)
{
	struct report_group *a = (struct report_group *)x, *b = (struct report_group *)y;
	double sa = report_count(a, STATS_SOURCES), sb = report_count(b, STATS_SOURCES);
	if (sa != sb)
		return sa < sb ? 1 : -1;
	if (a->events != b->events)
		return a->events < b->events ? 1 : -1;
	return strcmp(a->key, b->key);
}

static void rebuild_slots(struct report_agg *a)
{
	memset(a->slots, 0, a->n_slots * sizeof(*a->slots));
	for (size_t i = 0; i < a->n; i++) {
		size_t j = group_hash(a->groups[i].key, a->groups[i].t) & (a->n_slots - 1);
		while (a->slots[j] != 0)
			j = (j + 1) & (a->n_slots - 1);
		a->slots[j] = (uint32_t)i + 1;
	}
}

void report_agg_sort_time(struct report_agg *a)
{
	if (a->n > 1) {
		qsort(a->groups, a->n, sizeof(*a->groups), cmp_time);
		rebuild_slots(a);
	}
}

void report_agg_sort_sources(struct report_agg *a)
{
	if (a->n > 1) {
		qsort(a->groups, a->n, sizeof(*a->groups), cmp_sources);
		rebuild_slots(a);
	}
}

int report_agg_collapse(const struct report_agg *in, struct report_agg *out)
{
	for (size_t i = 0; i < in->n; i++) {
		const struct report_group *s = &in->groups[i];
		struct report_group *g = group_for(out, s->key, 0);
		if (g == NULL)
			return SINKD_ENOMEM;
		g->events += s->events;
		g->id_events += s->id_events;
		g->new_sources += s->new_sources;
		if (s->first_hour < g->first_hour)
			g->first_hour = s->first_hour;
		if (s->last_hour > g->last_hour)
			g->last_hour = s->last_hour;
		if (g->asn == 0) {
			g->asn = s->asn;
			memcpy(g->org, s->org, sizeof(g->org));
		}
		for (int k = 0; k < STATS_N_SKETCHES; k++) {
			if (hll_merge(&g->sk[k], &s->sk[k]) != 0)
				return SINKD_ENOMEM;
		}
		g->counted = false;
	}
	return 0;
}
