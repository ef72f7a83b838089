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
 * Returns 0, SINKD_ESTORE (message on log) or SINKD_ENOMEM; read-only opens
 * of a file that does not exist return SINKD_ENOENT without logging (the
 * caller names the path) and never create it. A store whose schema version
 * is newer than this binary knows is refused with SINKD_ESTORE. */
int store_open(struct store **out, const char *path, bool read_only);
void store_close(struct store *st);

/* Write a batch in one transaction. DNS events are added to the per-minute
 * aggregate (minute, resolver, zone, qname, qtype, rcode) -> count; when
 * every_query is true each DNS event is also stored as its own row. Other
 * kinds are stored as rows, each with its capture row (fields and payload
 * sections; the body once per content in `bodies`): ev[i].payload must be
 * valid for the call. Returns 0 or SINKD_ESTORE (batch rolled back). */
int store_write(struct store *st, const struct sinkd_event *ev, size_t n, bool every_query);

/* A DNS per-minute aggregate computed by the caller (e.g. the pipeline
 * keeping open minutes in memory across batches). Strings are borrowed for
 * the duration of the call. */
struct store_dns_agg {
	uint32_t minute;		/* Unix seconds, a multiple of 60 */
	uint16_t qtype, rcode;
	uint8_t resolver[16];		/* source address (IPv4-mapped for v4) */
	const char *qname;		/* "" for the root or unparseable */
	const char *zone;		/* "" when under no seized zone */
	uint64_t count;			/* queries */
	uint64_t logged;		/* of those, also stored as individual rows */
};

/* Write caller-computed DNS aggregates (added to dns_minute: count +=) and
 * individual events in one transaction. Unlike store_write, the events are
 * only stored as rows, DNS ones included, and never counted into
 * dns_minute: the caller counts them in aggs (and in `logged` when it also
 * passes them here). HTTP, TLS and raw events get their capture row as in
 * store_write (payloads valid for the call). The aggregates are upserted in key order (sorted
 * here; aggs itself is not modified). A call costs about 1.3 us per event
 * row and, for keys spread over a big minute, the pages they touch: pass a
 * big flush as sorted slices of ~10,000 keys (store_dns_aggs_sort,
 * docs/store.md "batch sizes"). Returns 0 or SINKD_ESTORE (everything
 * rolled back). */
int store_write_aggs(struct store *st, const struct store_dns_agg *aggs, size_t n_aggs,
		     const struct sinkd_event *ev, size_t n_ev);

/* The ids (time keys) the last store_write / store_write_aggs gave its
 * event rows, in the order the events were passed; valid until the next
 * write on this handle (owned by the handle). *n = 0 after a failed write.
 * The cluster spool ships events under these ids. */
const int64_t *store_batch_ids(const struct store *st, size_t *n);

/* More writes in a batch's transaction (protocol shapes, ...): fn(st, ctx)
 * runs after the rows and aggregates are written, before COMMIT; a
 * non-zero return rolls the whole batch back. */
struct store_batch_hook {
	int (*fn)(struct store *st, void *ctx);
	void *ctx;
};

/* store_write_aggs with hooks (n_hooks of them, hooks may be NULL when 0)
 * run inside the same transaction. Same returns. A batch with only hooks
 * (no aggregates, no events) is written too. */
int store_write_batch(struct store *st, const struct store_dns_agg *aggs, size_t n_aggs,
		      const struct sinkd_event *ev, size_t n_ev,
		      const struct store_batch_hook *hooks, size_t n_hooks);

/* Sort aggregates in the order store_write_aggs writes them (dns_minute's
 * primary key). store_write_aggs sorts each call itself; a caller that
 * writes many keys of a minute over several calls should sort them all
 * once and pass consecutive slices, so that each call touches only its own
 * part of the table instead of every page of the minute. */
void store_dns_aggs_sort(struct store_dns_agg *aggs, size_t n);

/* Filter for store_query. Zero/NULL fields match everything. */
struct store_filter {
	uint64_t since_ns, until_ns;	/* [since, until) */
	const char *domain;		/* seized zone, or a name under it */
	const char *ip;			/* source address */
	const char *type;		/* "dns", "http", "tls", "raw" or a qtype name like "A" */
	const char *family;		/* classification family ("unknown" included) */
	size_t limit;			/* 0 = 100, at most 100000 */
	uint64_t scan_max;		/* rows one side may examine; 0 = 2,000,000 */
};

/* One row of `sinkd events`: an individual event (count 1, every field
 * set) or a DNS per-minute aggregate (ts = minute start, count >= 1).
 * An HTTP, TLS or raw event also has its capture fields (capture true):
 * ev's connection fields (conn_id, proxy, http_*, body_len, proto) and
 * ev.payload, the stored sections (EVP_TARGET, EVP_HEADERS,
 * EVP_USER_AGENT, EVP_REFERER, EVP_RAW, EVP_TLS_*; never EVP_BODY: a body
 * is in table `bodies` under body_sha256). The payload belongs to the
 * query and is valid only during the callback. */
struct store_row {
	struct sinkd_event ev;
	uint64_t count;
	bool aggregate;
	bool capture;
	bool has_body;			/* body_sha256 and body_stored are set */
	uint8_t body_sha256[32];	/* SHA-256 of the body bytes kept */
	uint32_t body_stored;		/* body bytes kept (<= ev.body_len) */
	bool hello_json;		/* EVP_TLS_HELLO is a JSON object (else a reason) */
};

typedef int (*store_row_cb)(const struct store_row *row, void *ctx);

/* Newest first, at most limit rows. The callback may return non-zero to
 * stop. An individual DNS event also stored as a row (every_query) is not
 * repeated in the aggregates returned, so counts are never doubled.
 * 0, SINKD_EINVAL (bad type or ip in the filter, nothing logged) or
 * SINKD_ESTORE. */
int store_query(struct store *st, const struct store_filter *f, store_row_cb cb, void *ctx);

/* What a query examined. Filters without an index (--domain, --ip, a DNS
 * type) walk time order newest first and test each row; each side (events,
 * aggregates) gives up after scan_max rows. */
struct store_scan {
	uint64_t scanned;	/* rows examined, every statement of the query */
	bool stopped;		/* the budget ended the walk before the limit was filled */
	uint64_t stopped_ns;	/* then: rows older than this were not searched */
};

/* store_query that also reports the scan (scan may be NULL: then an early
 * stop is logged as a warning). Same returns; an early stop is not an
 * error, the rows delivered are correct and complete from stopped_ns on. */
int store_query_scan(struct store *st, const struct store_filter *f, store_row_cb cb, void *ctx,
		     struct store_scan *scan);

/* Totals for tests and reports: number of DNS queries recorded (sum of
 * aggregate counts) and individual event rows. */
int store_totals(struct store *st, uint64_t *dns_queries, uint64_t *event_rows);

/* Writer counters (atomics: readable from any thread while writing). */
struct store_stats {
	uint64_t batches;		/* committed write transactions */
	uint64_t batch_failures;	/* rolled-back transactions */
	uint64_t events;		/* events in committed batches */
	uint64_t event_rows;		/* individual event rows inserted */
	uint64_t agg_upserts;		/* dns_minute upserts after in-batch merging */
	uint64_t cache_hits, cache_misses;	/* lookup-table (zones, labels) cache */
	uint64_t bodies_new;		/* HTTP bodies stored (new content) */
	uint64_t bodies_seen;		/* HTTP bodies already stored (deduplicated) */
	uint64_t retention_steps;	/* retention transactions committed */
	uint64_t retention_rows;	/* event, capture and dns_minute rows they deleted */
};

void store_stats(struct store *st, struct store_stats *out);

/* Why the last write failed, for drop-by-reason counters. */
enum store_fault {
	STORE_FAULT_NONE = 0,
	STORE_FAULT_FULL,	/* disk or quota full (SQLITE_FULL, ENOSPC) */
	STORE_FAULT_UNWRITABLE,	/* read-only, permission, I/O error, file gone */
	STORE_FAULT_OTHER,	/* anything else (constraint, out of memory, ...) */
};

/* The class of the error that rolled back the handle's last failed write
 * (STORE_FAULT_NONE when the last write succeeded). Writer thread only. */
enum store_fault store_last_fault(const struct store *st);

/* Name of event flag bit `bit` ("edns", "body_truncated", ...; "bit20"
 * for a bit this binary does not know). Returns buf or a constant. */
const char *store_flag_name(unsigned bit, char *buf, size_t len);

/* The flag a name from store_flag_name stands for ("bit20" too):
 * 0 and *flag, or SINKD_EINVAL. */
int store_flag_parse(const char *name, uint32_t *flag);

/* The stored bytes of a body by its SHA-256 (store_row.body_sha256): up
 * to cap bytes copied into buf, their count in *len. 0, SINKD_ENOENT or
 * SINKD_ESTORE. */
int store_body_get(struct store *st, const uint8_t sha256[32], uint8_t *buf, size_t cap,
		   size_t *len);

/* Parse a --type value: a kind name ("dns", "http", "tls", "raw") sets
 * *kind; a DNS qtype mnemonic ("A", "TYPE65") sets *kind = EVENT_DNS and
 * *qtype (else -1). 0 or SINKD_EINVAL. */
int store_type_parse(const char *text, uint8_t *kind, int *qtype);

/* Write row as one JSON object and a newline: the format of `sinkd events
 * --format json` (docs/store.md). 0 or SINKD_EIO. */
int store_row_json(FILE *out, const struct store_row *row);

/* Check-ins per minute: DNS queries (aggregates, every query counted once)
 * and HTTP, TLS and raw events, for minutes in [since_ns, until_ns). */
struct store_minute {
	int64_t minute;			/* Unix seconds, a multiple of 60 */
	uint64_t dns, http, tls, raw;
};

typedef int (*store_minute_cb)(const struct store_minute *m, void *ctx);

/* Which minutes and events store_timeline counts. */
struct store_timeline_filter {
	uint64_t since_ns, until_ns;	/* [since, until); until 0 = open */
	const char *domain;		/* seized zone: everything under it (NULL = any) */
	const char *family;		/* classified family; DNS is left out (NULL = any) */
};

/* Oldest minute first, minutes without traffic left out; an unknown zone
 * or family gives no minutes. The callback may return non-zero to stop.
 * 0 or SINKD_ESTORE. */
int store_timeline(struct store *st, const struct store_timeline_filter *f, store_minute_cb cb,
		   void *ctx);

/* The last recorded state of one seized domain (table domain_status). */
struct store_status_row {
	int64_t ts;			/* Unix seconds of the change */
	const char *domain, *state, *previous;	/* previous: "" = first record */
	const char *details;		/* JSON object as recorded */
	const char *source;
};

typedef int (*store_status_cb)(const struct store_status_row *row, void *ctx);

/* The latest state of every domain the monitor recorded, by domain name.
 * Strings are valid during the callback. 0 or SINKD_ESTORE. */
int store_status_latest(struct store *st, store_status_cb cb, void *ctx);

/* JSON-lines output of stored event rows ([store] jsonl, docs/store.md):
 * one `sinkd events --format json` line per individual event row. DNS
 * queries counted only in per-minute aggregates have no line. */
struct store_jsonl;

/* Open path for appending (created 0640). 0, SINKD_EIO (logged),
 * SINKD_EINVAL or SINKD_ENOMEM. */
int store_jsonl_open(struct store_jsonl **out, const char *path);
/* Append the rows of a committed batch (payloads valid for the call);
 * one thread only (the store writer). 0 or SINKD_EIO (logged, counted). */
int store_jsonl_write(struct store_jsonl *j, const struct sinkd_event *ev, size_t n);
/* Ask for the file to be reopened before the next write (any thread, e.g.
 * on SIGUSR1 after logrotate moved it). NULL is ignored. */
void store_jsonl_reopen(struct store_jsonl *j);
/* Lines written and failed writes so far (any thread). */
void store_jsonl_counts(const struct store_jsonl *j, uint64_t *lines, uint64_t *errors);
void store_jsonl_close(struct store_jsonl *j);

/* `sinkd events [--since T] [--until T] [--domain D] [--ip A] [--type T]
 *  [--family F] [--limit N] [--format table|csv|json|jsonl] [--scan-max N]
 *  [-c FILE | --db PATH]`. jsonl is the format `sinkd ingest` reads
 * (docs/ingest.md). */
int events_cli(int argc, char **argv);

/* One domain's state for store_status_record (the domain monitor). */
struct store_status {
	const char *domain;		/* seized zone, no final dot */
	const char *state;		/* "ok", "drifted", ... */
	const char *details;		/* JSON object */
	char previous[16];		/* out: last recorded state ("" = none) */
	bool changed;			/* out: a row was added */
};

/* Compare each row with its domain's last recorded state (table
 * domain_status) and add a row (ts, domain, old state, new state, details,
 * source) for every one that differs, all in one transaction. ts is Unix
 * seconds; source says who checked ("sinkd serve", "sinkd domains check").
 * 0, SINKD_EINVAL (read-only handle) or SINKD_ESTORE (rolled back: nothing
 * recorded, every changed false). */
int store_status_record(struct store *st, int64_t ts, const char *source,
			struct store_status *rows, size_t n);

/* Parse a --since/--until time: RFC 3339, a date (midnight UTC) or a
 * duration ago ("90s", "15m", "2h", "7d", "1w"). 0 or SINKD_EINVAL. */
int store_time_parse(const char *text, uint64_t now_ns, uint64_t *out_ns);

/* ---- population data (schema v8; src/store/rollup.c, docs/population.md) */

struct stats_cell;

/* Upsert rollup cells (counters added, sketches merged by
 * sinkd_hll_merge) and save the "seen before" filter: inside a
 * store_write_batch hook, so they commit with the batch. 0 or
 * SINKD_ESTORE (the batch rolls back). */
int store_rollups_put(struct store *st, const struct stats_cell *cells, size_t n);
int store_seen_put(struct store *st, const uint8_t *bits, size_t len);

/* The persisted "seen before" filter into bits (len bytes): 0, SINKD_ENOENT
 * (none saved), SINKD_EINVAL (saved with another size) or SINKD_ESTORE. */
int store_seen_load(struct store *st, uint8_t *bits, size_t len);

/* Delete the rollups of hours in [since, until) (0 = open); both 0 also
 * forgets the seen filter. Outside a write call. 0 or SINKD_ESTORE. */
int store_rollup_clear(struct store *st, uint64_t since_ns, uint64_t until_ns);

/* Which rollups a reader wants. NULL / 0 fields match everything; hours
 * overlapping [since, until) are included (rollups are hourly). */
struct store_rollup_filter {
	uint64_t since_ns, until_ns;
	const char *family, *domain, *country, *transport;
	uint32_t asn;
	bool no_dns;		/* leave out transport "dns" (resolvers, not bots) */
	bool hourly;		/* hour rows only (else whole days come from rollup_day) */
	unsigned sketches;	/* 1 << enum stats_sketch for each sketch to read */
};

/* Called per cell: hour rows, and (unless hourly) day rows for the whole
 * days inside the range (hour = the day's start, first_hour/last_hour
 * the hours with events), in no particular order; asn_org is "" (see
 * store_asn_org). The cell is valid during the call only. Non-zero stops
 * the scan and is returned. */
typedef int (*store_rollup_cb)(const struct stats_cell *cell, void *ctx);
int store_rollup_scan(struct store *st, const struct store_rollup_filter *f, store_rollup_cb cb,
		      void *ctx);

/* The organisation name recorded for an ASN into buf ("" when none): 0,
 * SINKD_ENOENT or SINKD_ESTORE. */
int store_asn_org(struct store *st, uint32_t asn, char *buf, size_t len);

/* Every recorded event in [since, until) in time order: individual rows
 * (count 1) and DNS minute aggregates not also stored as rows (aggregate
 * true, count queries; only ts_ns, kind, src, zone set, country and ASN
 * unknown). Sets ts_ns, kind, transport, flags, src.ip, zone, family,
 * bot_id, msg_type, country, asn. Non-zero from cb stops and is returned;
 * else 0 or SINKD_ESTORE. */
typedef int (*store_raw_cb)(const struct sinkd_event *ev, uint64_t count, bool aggregate,
			    void *ctx);
int store_raw_scan(struct store *st, uint64_t since_ns, uint64_t until_ns, store_raw_cb cb,
		   void *ctx);

/* ---- protocol shapes (tables shapes, shape_domains; docs/shapes.md) ---- */

/* One row of `shapes`. Strings and blobs are borrowed (valid during the
 * call or callback). domains is filled by reads only: the zones the shape
 * was seen under, most frequent first, comma-joined ("" = none). */
struct store_shape {
	const char *id;			/* 16 hex digits */
	uint8_t kind;			/* enum event_kind */
	const char *method, *path, *params, *headers, *body, *length, *entropy;
	uint64_t count;			/* events */
	uint64_t sources;		/* distinct sources (estimate from srcset) */
	int64_t first_ns, last_ns;
	const uint8_t *srcset;		/* serialized distinct-source set (classify/shapes) */
	size_t srcset_len;
	const char *examples;		/* JSON array of up to 3 example objects */
	const char *domains;
};

typedef int (*store_shape_cb)(const struct store_shape *s, void *ctx);

/* The shape with this id: cb called once. 0, SINKD_ENOENT or SINKD_ESTORE. */
int store_shape_get(struct store *st, const char *id, store_shape_cb cb, void *ctx);

/* Insert or replace a shape row (inside a store_write_batch hook). 0 or
 * SINKD_ESTORE. */
int store_shape_put(struct store *st, const struct store_shape *s);

/* shape_domains: count += count, last_ns = max (inside a hook). */
int store_shape_domain_add(struct store *st, const char *id, const char *zone, uint64_t count,
			   int64_t last_ns);

/* Id of the stored event at ts_ns from ip/port (events are keyed by time:
 * the id is ts_ns or a little above). 0, SINKD_ENOENT or SINKD_ESTORE. */
int store_event_find(struct store *st, int64_t ts_ns, const uint8_t ip[16], uint16_t port,
		     int64_t *id);

/* Shapes most frequent first (count, then id), at most limit (0 = all);
 * domain (NULL = any) keeps those seen under that zone (a name under a
 * zone selects the zone). cb may return
 * non-zero to stop. 0 or SINKD_ESTORE. */
int store_shapes_list(struct store *st, const char *domain, size_t limit, store_shape_cb cb,
		      void *ctx);

/* Evidence (docs/evidence.md). Every committed batch already gets its
 * chain record; this adds manifests: key_path is an Ed25519 private key in
 * PEM (`sinkd keygen`; "" or NULL: manifests are written unsigned), and a
 * manifest is written every interval_s seconds of batches (0: only when
 * the handle closes). store_close writes a last manifest over the records
 * not covered yet. 0, SINKD_EIO (key unreadable) or SINKD_EINVAL (not an
 * Ed25519 key); the error is logged with the path. */
int store_evidence_setup(struct store *st, const char *key_path, unsigned interval_s);

/* One signed manifest (table `manifests`): the chain head after record
 * seq_hi, the records seq_lo..seq_hi it covers, their event rows and DNS
 * queries, the time of their first and last event (ns, 0 = none) and the
 * retention watermarks at seq_hi. key_id is the SHA-256 of the signing
 * Ed25519 public key (raw 32 bytes); sig the Ed25519 signature over the
 * bytes docs/evidence.md defines. */
struct store_manifest {
	int64_t id, ts_ns;
	int64_t seq_lo, seq_hi;
	uint8_t head[32];
	uint64_t events, dns_queries;
	int64_t time_lo, time_hi;
	int64_t pruned_seq, pruned_minute;
	bool has_key_id, is_signed;
	uint8_t key_id[32];
	uint8_t sig[64];
};

typedef int (*store_manifest_cb)(const struct store_manifest *m, void *ctx);

/* The manifests covering events in [since_ns, until_ns) (0 = open), i.e.
 * whose [time_lo, time_hi] overlaps it, oldest first; for `sinkd report
 * evidence`. The callback may return non-zero to stop. Signatures are not
 * checked here (store_verify does). 0 or SINKD_ESTORE. */
int store_manifests(struct store *st, uint64_t since_ns, uint64_t until_ns, store_manifest_cb cb,
		    void *ctx);

/* What store_verify checks and found. pubkey: an Ed25519 public key
 * (EVP_PKEY *) every manifest must be signed by, or NULL (signatures not
 * checked). since_ns: recompute the content of batches committed from then
 * on only (headers, links and manifests are always checked). */
struct store_verify_opts {
	uint64_t since_ns;
	void *pubkey;
	FILE *out;		/* one line per failure (NULL: none) */
};

struct store_verify_result {
	bool ok;
	int64_t first_bad_seq;		/* first batch that does not match (0: none or
					 * not attributable to one batch: see failures) */
	uint64_t failures;
	uint64_t records, batches, prunes, content_checked;
	uint64_t rows, captures, dns_minutes;
	uint64_t manifests, manifests_signed;
	int64_t head_seq, manifest_seq;	/* last record; last record a manifest covers */
	uint8_t head[32];
	uint64_t rows_before_chain;	/* rows older than the first record: not covered */
	int64_t pruned_seq, pruned_minute;
};

/* Recompute the chain from the store: every record's hash from its
 * predecessor and header, every unpruned batch's content from its rows,
 * DNS per-minute sums, bodies against their hashes, and every manifest's
 * counts, head and (with a key) signature. st may be read-only. Returns 0
 * when the check ran (res->ok says whether everything matched) or
 * SINKD_ESTORE / SINKD_ENOMEM. */
int store_verify(struct store *st, const struct store_verify_opts *o,
		 struct store_verify_result *res);

/* Retention, one small step (writer handle, between batches): delete the
 * event and capture rows of the oldest batches whose events are all older
 * than raw_before_ns (0: keep), at most about max_rows, or else up to
 * max_rows dns_minute rows of minutes before rollup_before_minute (Unix
 * seconds, 0: keep), in one transaction with a chain record that says
 * what went (docs/evidence.md, "Retention"). Rows of a kept batch stored
 * among old ones (late rows) are kept. *more: call again soon. 0 or
 * SINKD_ESTORE (rolled back, logged). */
int store_prune_step(struct store *st, uint64_t raw_before_ns, int64_t rollup_before_minute,
		     size_t max_rows, bool *more);

/* `sinkd verify [--store P | -c FILE] [--pubkey F] [--since T]`: exit 0
 * (everything matches), 1 (a mismatch, or a store error), 2 (usage). */
int verify_cli(int argc, char **argv);

#endif
