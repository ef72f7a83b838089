/* Protocol discovery: the shapes of traffic no rule claimed (docs/shapes.md).
 *
 * An HTTP, TLS or raw event whose family is "" or "unknown" is reduced to
 * a shape: method, path template (digit runs {d}, hex runs {hex},
 * random-looking runs {rand}, words kept), query parameter names, header
 * names, body class, length bucket and entropy bucket. The pipeline thread
 * keeps a bounded table of shapes (struct shapes) with, per shape, the
 * count, distinct sources (exact up to 8, then a HyperLogLog sketch; IPv6
 * by /64), first/last seen, up to 3 example events and the seized zones
 * seen, as deltas since the last hand-over. shapes_take() hands the deltas
 * to the store writer, which merges them into table `shapes` (and
 * `shape_domains`) inside the batch's transaction.
 *
 * Threads: a struct shapes belongs to the pipeline thread; a batch belongs
 * to whoever holds it (pipeline, then writer). Nothing here is shared.
 */
#ifndef SINKD_CLASSIFY_SHAPES_H
#define SINKD_CLASSIFY_SHAPES_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/event.h"

struct store;
struct shapes;
struct shapes_batch;

#define SHAPES_ID_LEN 16 /* hex digits of a shape id */

/* What a shape is made of: every field NUL-terminated, truncated fields end
 * in "...". */
struct shape_key {
	uint8_t kind;		    /* enum event_kind */
	char method[24];	    /* HTTP method, "TLS", "RAW/tcp", "RAW/udp" (+ "/proto") */
	char path[192];		    /* path template; TLS: "ja4:<JA4>" */
	char params[160];	    /* sorted query parameter names, comma-joined */
	char headers[384];	    /* sorted lowercase header names, comma-joined */
	char body[192];		    /* body class ("form:a,b", "json", "binary", ...) */
	char length[12];	    /* body length bucket ("0", "16-63", ... "64k+") */
	char entropy[8];	    /* "-" (under 16 bytes), "low", "mid", "high", "max" */
	char id[SHAPES_ID_LEN + 1]; /* hex of a 64-bit hash of all the above */
};

/* True when shapes_observe would take ev: not DNS, no rule claimed it. */
bool shapes_wanted(const struct sinkd_event *ev);

/* The shape of ev (its payload must be valid). No allocation. */
void shapes_key(const struct sinkd_event *ev, struct shape_key *out);

/* Abstract one path (or any text) into a template: runs of letters and
 * digits become {d}, {hex} or {rand} or stay as they are; other characters
 * are kept. Writes at most cap bytes (NUL included). */
void shapes_template(const char *s, size_t len, char *out, size_t cap);

/* A table of at most max shapes. 0 or SINKD_ENOMEM. */
int shapes_new(struct shapes **out, unsigned max);
void shapes_free(struct shapes *s);

/* Count ev into its shape when shapes_wanted(ev). A new shape in a full
 * table evicts the least recently seen shape whose deltas were already
 * handed over (counted in evicted); when every shape has pending deltas
 * the event is not counted into any shape (counted in dropped). Allocates
 * only when a shape first needs a sketch (more than 8 sources). */
void shapes_observe(struct shapes *s, const struct sinkd_event *ev);

/* Hand over the pending deltas: NULL when there are none (or out of
 * memory: counted in dropped). The caller owns the batch: write it with
 * shapes_batch_write, then shapes_batch_free. */
struct shapes_batch *shapes_take(struct shapes *s);

/* Merge a batch into the store (tables shapes, shape_domains). Must run
 * inside the store's batch transaction (store_write_batch's hook): ctx is
 * the struct shapes_batch. 0 or SINKD_ESTORE/SINKD_ENOMEM (the caller
 * rolls back). */
int shapes_batch_write(struct store *st, void *ctx);
void shapes_batch_free(struct shapes_batch *b);

struct shapes_stats {
	uint64_t observed;	  /* events counted into a shape */
	uint64_t shapes;	  /* shapes in the table now */
	uint64_t created;	  /* shapes entered into the table */
	uint64_t evicted;	  /* clean shapes evicted to make room */
	uint64_t dropped;	  /* events not counted (table full of pending shapes, OOM) */
	uint64_t domains_dropped; /* (shape, zone) pairs beyond the per-batch bound */
};

void shapes_stats(const struct shapes *s, struct shapes_stats *out);

/* ---- reading ------------------------------------------------------------ */

/* Shapes in the store, most frequent first, as a JSON array of objects
 * (id, kind, method, path, params, headers, body, length, entropy, count,
 * sources, first_seen, last_seen, domains [..], examples [..]); domain
 * (NULL = all) keeps the shapes seen under that seized zone. st may be a
 * read-only handle. 0 or SINKD_ESTORE/SINKD_ENOMEM; caller json_decref()s. */
int shapes_report_json(struct store *st, const char *domain, json_t **out);

/* `sinkd report protocols [--store PATH | -c CONFIG] [--domain D] [--limit N]
 *  [--format table|json|csv]`; argv[0] is "protocols". Exit status. */
int shapes_report_cli(int argc, char **argv);

/* `sinkd rules skeleton SHAPE_ID [--store PATH | -c CONFIG]`: print a rule
 * matching the shape, in the rule-file format (docs/rules.md); argv[0] is
 * "skeleton". Exit status. */
int shapes_skeleton_cli(int argc, char **argv);

#endif
