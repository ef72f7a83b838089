/* The SQLite store: events and DNS per-minute aggregates.
 *
 * One writer (the pipeline thread) per store handle; readers open their own
 * handle (read-only). WAL mode, prepared statements, one transaction per
 * batch, schema version with forward migrations.
 */
#ifndef SINKD_STORE_STORE_H
#define SINKD_STORE_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "core/event.h"

struct store;

/* Open (creating and migrating when writable) the store at path.
 * Returns 0, SINKD_ESTORE (message on log) or SINKD_ENOMEM. */
int store_open(struct store **out, const char *path, bool read_only);
void store_close(struct store *st);

/* Write a batch in one transaction. DNS events are added to the per-minute
 * aggregate (minute, resolver, zone, qname, qtype, rcode) -> count; when
 * every_query is true each DNS event is also stored as its own row. Other
 * kinds are stored as rows. Returns 0 or SINKD_ESTORE (batch rolled back). */
int store_write(struct store *st, const struct sinkd_event *ev, size_t n, bool every_query);

/* Filter for store_query. Zero/NULL fields match everything. */
struct store_filter {
	uint64_t since_ns, until_ns;	/* [since, until) */
	const char *domain;		/* seized zone, or a name under it */
	const char *ip;			/* source address */
	const char *type;		/* "dns" (later "http", "tls", "raw") or a qtype name like "A" */
	size_t limit;			/* 0 = 100 */
};

/* One row of `sinkd events`: an individual event (count 1, every field
 * set) or a DNS per-minute aggregate (ts = minute start, count >= 1). */
struct store_row {
	struct sinkd_event ev;
	uint64_t count;
	bool aggregate;
};

typedef int (*store_row_cb)(const struct store_row *row, void *ctx);

/* Newest first. The callback may return non-zero to stop. 0 or SINKD_ESTORE. */
int store_query(struct store *st, const struct store_filter *f, store_row_cb cb, void *ctx);

/* Totals for tests and reports: number of DNS queries recorded (sum of
 * aggregate counts) and individual event rows. */
int store_totals(struct store *st, uint64_t *dns_queries, uint64_t *event_rows);

/* `sinkd events [--since T] [--until T] [--domain D] [--ip A] [--type T]
 *  [--limit N] [--format table|csv|json] [-c FILE | --db PATH]`. */
int events_cli(int argc, char **argv);

#endif
