/* Private to src/report/: the grouping engine that merges rollup cells (or
 * raw events) into groups, and the report builders and renderers. */
#ifndef SINKD_REPORT_INTERNAL_H
#define SINKD_REPORT_INTERNAL_H

#include <stdio.h>

#include "report/report.h"
#include "stats/stats.h"

/* What a group is keyed by. */
enum report_dim {
	DIM_NONE,
	DIM_HOUR,
	DIM_DAY,
	DIM_FAMILY,
	DIM_DOMAIN,
	DIM_COUNTRY,
	DIM_ASN,
	DIM_TRANSPORT,
};

struct report_group {
	char key[EVENT_QNAME_MAX]; /* the dimension's value as text ("" for DIM_NONE) */
	uint32_t asn;
	char org[96];
	uint32_t t; /* bucket start (DIM_HOUR / DIM_DAY, or the second dim DAY) */
	uint32_t first_hour, last_hour;
	uint32_t hours_mask; /* hours of the day seen (day groups) */
	uint64_t events, id_events, new_sources;
	struct hll sk[STATS_N_SKETCHES];
	double count[STATS_N_SKETCHES]; /* cached estimates, valid when counted */
	bool counted;
};

/* Groups by dim (and by day when by_day). sketches: 1 << enum stats_sketch
 * to keep. */
struct report_agg {
	enum report_dim dim;
	bool by_day;
	bool no_dns;   /* leave out DNS cells */
	bool dns_only; /* only DNS cells */
	unsigned sketches;
	struct report_group *groups;
	size_t n, cap;
	uint32_t *slots;
	size_t n_slots;
	bool oom;
};

void report_agg_init(struct report_agg *a, enum report_dim dim, bool by_day, unsigned sketches);
void report_agg_free(struct report_agg *a);

/* Feed every aggregator from the rollups (or raw events when o->raw) that
 * match f. 0, SINKD_ENOMEM or SINKD_ESTORE. */
int report_feed(struct store *st, const struct report_filter *f, const struct report_options *o,
		struct report_agg **aggs, size_t n);

/* Sort groups: by time (DIM_HOUR/DAY, by_day) or by sources, descending. */
void report_agg_sort_time(struct report_agg *a);
void report_agg_sort_sources(struct report_agg *a);

/* Merge every group with the same key (dropping the day) into out, which
 * must be initialised with by_day false. */
int report_agg_collapse(const struct report_agg *in, struct report_agg *out);

/* Distinct count of one sketch of a group (computed once, then cached:
 * call only after the group is complete). */
double report_count(struct report_group *g, enum stats_sketch k);
/* True when that count is exact (exact set, not HyperLogLog). */
bool report_exact(const struct report_group *g, enum stats_sketch k);

/* "2026-11-25T08:00:00Z" / "2026-11-25" of Unix seconds. */
void report_time_text(uint32_t t, bool date_only, char *buf, size_t len);

/* Builders (build.c, population.c), each one report object. */
int report_build_dims(struct store *st, const char *name, enum report_dim dim,
		      const struct report_filter *f, const struct report_options *o, json_t *out);
int report_build_population(struct store *st, const struct report_filter *f,
			    const struct report_options *o, json_t *out);
int report_build_timeline(struct store *st, const struct report_filter *f,
			  const struct report_options *o, json_t *out);
int report_build_summary(struct store *st, const struct report_filter *f,
			 const struct report_options *o, json_t *out);

/* The hours the data covers: a day is "full" (and enters fits) when the
 * data spans all of it; the first and last day of a recording usually
 * do not (ramp-up, the day in progress). */
struct report_span {
	uint32_t first, last; /* first and last hour with data */
};
void report_span(const struct report_agg *a, struct report_span *out);
bool report_day_full(const struct report_group *g, const struct report_span *span);

/* Cleanup of one population from its groups (all of one key, by day): the
 * decay fit object; NULL when fewer than 3 full days. */
json_t *report_decay_json(struct report_group **days, size_t n, const struct report_span *span,
			  double threshold);

/* A table object: {"columns": [...], "rows": [{...}, ...]}. */
json_t *report_table_new(const char *const *columns);

/* The HTML page of a report (html.c). */
int report_render_html(FILE *out, const json_t *report);

/* `report notify` and `report evidence` (notify.c, evidence.c). */
int report_notify_cli(int argc, char **argv);
int report_evidence_cli(int argc, char **argv);

/* Shared option parsing for the CLIs: store path from --store or -c. */
int report_open_store(const char *store_path, const char *config, struct store **st);

#endif
