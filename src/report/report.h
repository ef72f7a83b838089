/* Reports on the infected population (docs/report.md, docs/population.md).
 *
 * Every report is answered from the hourly rollups (src/stats) by merging
 * their sketches; `--raw` recomputes the same numbers from the raw events
 * for comparison. A report is built as one JSON object (report_json, also
 * served by the admin API) and rendered as a terminal table, CSV, JSON or
 * a self-contained HTML page with inline SVG charts.
 */
#ifndef SINKD_REPORT_REPORT_H
#define SINKD_REPORT_REPORT_H

#include <jansson.h>

#include "core/config.h"
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct store;

struct report_filter {
	uint64_t since_ns, until_ns;	       /* [since, until); 0 = open */
	const char *family, *domain, *country; /* NULL = any */
	uint32_t asn;			       /* 0 = any */
	unsigned top;			       /* top-N rows, 0 = 10 */
	const char *bucket;		       /* timeline: "hour" (default) or "day" */
};

/* name: summary population countries asns domains families timeline.
 * st is a read-only handle. 0, SINKD_EINVAL (bad name/filter: message in
 * err) or SINKD_ESTORE. Caller json_decref()s *out. */
int report_json(struct store *st, const char *name, const struct report_filter *f, json_t **out,
		char *err, size_t errlen);

/* Options beyond the filter, for the command line and tests. */
struct report_options {
	bool raw;	  /* recompute from raw events instead of rollups */
	double threshold; /* population report: project the date below this (0 = 1% of n0) */
	bool progress;	  /* progress lines on stderr */
	/* Read the events from a ClickHouse cluster instead of the store
	 * (clickhouse://HOST[:PORT][/DB], docs/scale-out.md): the raw path fed
	 * from the cluster; the store handle may then be NULL. cfg gives the
	 * [cluster] credentials and timeout. */
	const char *source;
	const struct sinkd_config *cfg;
};

/* report_json with options. */
int report_json_opts(struct store *st, const char *name, const struct report_filter *f,
		     const struct report_options *o, json_t **out, char *err, size_t errlen);

enum report_format { REPORT_TABLE, REPORT_CSV, REPORT_JSON, REPORT_HTML };

/* Render a report object. 0 or SINKD_EIO. */
int report_render(FILE *out, const json_t *report, enum report_format fmt);

/* `sinkd report NAME [--since T] [--until T] [--family F] [--domain D]
 *  [--country CC] [--asn N] [--top N] [--bucket hour|day] [--raw]
 *  [--format table|csv|json|html] [--out FILE] [--store P | -c FILE]`,
 * `sinkd report notify --asn N | --cidr LIST [--out DIR]` and
 * `sinkd report evidence --domain D [--format json|html] [--out FILE]`.
 * Returns the exit status. */
int report_cli(int argc, char **argv);

#endif
