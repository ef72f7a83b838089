/* Private to src/store/: the SQLite handle layout shared by sqlite.c,
 * schema.c, lookup.c, write.c and query.c, and the text helpers shared by
 * the events CLI. Not part of the module interface (that is store.h). */
#ifndef SINKD_STORE_INTERNAL_H
#define SINKD_STORE_INTERNAL_H

#include <sqlite3.h>
#include <stdatomic.h>

#include "store/store.h"
#include "store/chain_internal.h"

#define STORE_BUSY_TIMEOUT_MS 5000
#define STORE_ZONES_CACHE_SLOTS 8192  /* power of two */
#define STORE_LABELS_CACHE_SLOTS 1024 /* power of two */
#define STORE_BOTS_CACHE_SLOTS 8192   /* power of two */
#define STORE_LIMIT_DEFAULT 100
#define STORE_LIMIT_MAX 100000
#define STORE_SCAN_MAX_DEFAULT 2000000 /* rows per statement of a query */

/* The statements of one query, each with its own scan budget. */
enum store_scan_side { STORE_SCAN_EVENTS, STORE_SCAN_AGGS, STORE_SCAN_BOUND, STORE_SCAN_SIDES };

/* Scan budget of the query in progress on a handle (one at a time): the
 * SQL function sinkd_scan(side, time) counts every row a statement
 * walks and fails the statement once it is over budget. */
struct store_scan_state {
	uint64_t max;
	uint64_t n[STORE_SCAN_SIDES];
	int64_t stop_time[STORE_SCAN_SIDES]; /* key (id, minute) of the row over budget */
	bool stopped[STORE_SCAN_SIDES];
};

/* One slot of a lookup-table cache (direct mapped: a collision evicts). */
struct store_lookup_slot {
	uint64_t hash;
	int64_t id; /* 0 = empty */
	uint16_t len;
	char text[EVENT_QNAME_MAX];
};

/* A lookup table for repeated strings (id INTEGER PRIMARY KEY, text UNIQUE)
 * with a bounded in-memory cache in front of it. */
struct store_lookup {
	const char *table;
	sqlite3_stmt *select, *insert;
	struct store_lookup_slot *slots;
	size_t n_slots;
};

/* A dns_minute key. The query name is borrowed from the batch being
 * written (events or caller aggregates) for the duration of the call. */
struct store_agg_key {
	int64_t minute;
	int64_t zone_id;
	uint8_t resolver[16];
	uint16_t qtype, rcode;
	uint16_t qname_len;
	const char *qname;
};

struct store_agg_entry {
	struct store_agg_key key;
	uint64_t count, logged;
	uint32_t gen; /* == table gen: slot in use this batch */
};

/* Batch-local aggregate of DNS events (store_write), and the sorted
 * upsert list both write paths hand to SQLite. */
struct store_agg {
	struct store_agg_entry *slots;
	uint32_t *used; /* indexes of the slots in use, in order */
	size_t cap, n_used;
	uint32_t gen;
	struct store_agg_entry *upserts; /* in primary-key order */
	size_t upserts_cap;
};

#define STORE_ROWS_PER_INSERT 32 /* rows per multi-row INSERT */

/* The event-row writer (rows.c): last_id is the largest id in `events`,
 * in-order rows wait in pending until a multi-row INSERT is full. */
struct store_rows {
	sqlite3_stmt *insert_one, *insert_many;
	int64_t last_id, last_id_at_begin;
	struct {
		const struct sinkd_event *ev;
		int64_t id;
	} pending[STORE_ROWS_PER_INSERT];
	size_t n_pending;
	/* Ids given to the rows of the current write, in the caller's order
	 * (store_batch_ids); grown on demand, kept across writes. */
	int64_t *ids;
	size_t n_ids, cap_ids;
};

/* The capture writer (capture.c): the side row of an HTTP, TLS or raw
 * event (`capture`, same id as its `events` row) and its body, stored
 * once per SHA-256 (`bodies`). The digest context is made once per
 * handle and reused for every body; bodies written recently are
 * remembered by hash, so a repeated check-in costs no statement. */
#define STORE_BODY_CACHE_SLOTS 4096 /* power of two */

/* A body known to be in `bodies` (direct-mapped cache of hashes). */
struct store_body_slot {
	uint8_t sha256[32];
	bool used;
};

struct store_capture {
	sqlite3_stmt *insert_one, *insert_many, *insert_body;
	struct store_body_slot *known; /* STORE_BODY_CACHE_SLOTS */
	struct evp_md_ctx_st *md_ctx;
	struct evp_md_st *sha256;
	/* Rows bound into insert_many, written when it is full or at flush. */
	struct {
		const struct sinkd_event *ev;
		int64_t id;
		bool body;
		uint8_t body_sha256[32];
	} pending[STORE_ROWS_PER_INSERT];
	size_t n_pending;
	/* Ids given to the rows of the current write, in the caller's order
	 * (store_batch_ids); grown on demand, kept across writes. */
	int64_t *ids;
	size_t n_ids, cap_ids;
};

/* Statements of the rollup writer (rollup.c), prepared on first use. */
struct store_rollup {
	sqlite3_stmt *upsert, *upsert_day, *asn_name, *seen;
};

struct store {
	sqlite3 *db;
	char *path;
	bool read_only;
	sqlite3_stmt *begin, *commit, *rollback;
	sqlite3_stmt *agg_upsert;
	struct store_rows rows;
	struct store_capture capture;
	struct store_lookup zones;  /* seized zones */
	struct store_lookup labels; /* family, rule, tag, message type, version, decode status */
	struct store_lookup bots;   /* bot ids (schema 5) */
	struct store_agg agg;
	struct store_scan_state scan;
	struct store_chain chain; /* evidence chain (chain.c) */
	int last_fault;		  /* enum store_fault of the last write */
	struct store_rollup rollup;
	struct {
		atomic_uint_least64_t batches, batch_failures, events;
		atomic_uint_least64_t event_rows, agg_upserts;
		atomic_uint_least64_t bodies_new, bodies_seen;
		atomic_uint_least64_t cache_hits, cache_misses;
		atomic_uint_least64_t retention_steps, retention_rows;
	} stat;
};

/* Log "store PATH: what: sqlite message" and return SINKD_ESTORE. */
int store_sql_error(const struct store *st, const char *what);

/* Prepare a statement kept for the life of the handle. 0 or SINKD_ESTORE. */
int store_prepare(struct store *st, const char *sql, sqlite3_stmt **out);
/* The same for head ("INSERT INTO t(a, b) VALUES ") followed by rows
 * groups of cols parameters: "(?,?),(?,?)". 0, SINKD_ENOMEM or
 * SINKD_ESTORE. */
int store_prepare_rows(struct store *st, const char *head, int cols, size_t rows,
		       sqlite3_stmt **out);

/* Check the schema version; create or migrate it when the handle is
 * writable. 0 or SINKD_ESTORE. */
int store_schema_open(struct store *st);
/* The schema version this binary writes (number of migrations). */
int store_schema_version(void);
/* The SQL of migration `version` (1-based), NULL when there is none; for
 * tests that build an old store. */
const char *store_schema_sql(int version);

int store_lookup_init(struct store *st, struct store_lookup *lk, const char *table, size_t n_slots);
void store_lookup_free(struct store_lookup *lk);
/* Drop every cached id (after a rollback the ids may no longer exist). */
void store_lookup_invalidate(struct store_lookup *lk);
/* Id of text, inserting it when new (inside the caller's transaction). */
int store_lookup_id(struct store *st, struct store_lookup *lk, const char *text, int64_t *id);
/* Id of text without inserting: 0, SINKD_ENOENT or SINKD_ESTORE. */
int store_lookup_find(struct store *st, const char *table, const char *text, int64_t *id);

void store_agg_free(struct store_agg *agg);

/* Event rows (rows.c), inside the caller's write transaction: begin at
 * BEGIN, add each row, flush before COMMIT, rollback after ROLLBACK.
 * 0 or SINKD_ESTORE (logged). */
int store_rows_open(struct store *st);
void store_rows_close(struct store *st);
void store_rows_begin(struct store *st);
int store_rows_add(struct store *st, const struct sinkd_event *ev);
int store_rows_flush(struct store *st);
void store_rows_rollback(struct store *st);

/* The capture row (and body) of an HTTP, TLS or raw event stored in
 * `events` under id, inside the caller's write transaction (capture.c).
 * Rows are written STORE_ROWS_PER_INSERT at a time; payload sections are
 * bound SQLITE_STATIC, so ev and its payload must stay valid until
 * store_capture_flush (the end of the write call). 0 or SINKD_ESTORE. */
int store_capture_open(struct store *st);
void store_capture_close(struct store *st);
int store_capture_add(struct store *st, const struct sinkd_event *ev, int64_t id);
/* Write the capture rows still pending (store_rows_flush calls it). */
int store_capture_flush(struct store *st);
/* Forget the bodies known to be stored (after a rollback). */
void store_capture_forget(struct store *st);

/* Rollups (rollup.c): register sinkd_hll_merge/sinkd_hll_count on the
 * handle; finalize the writer's statements. */
int store_rollup_register(struct store *st);
void store_rollup_close(struct store *st);

/* Register the SQL functions queries use on the handle. 0 or SINKD_ESTORE. */
int store_query_register(struct store *st);

/* The SQLite query plan store_query would use for f, one line per step
 * ("events: SEARCH e USING INDEX events_ts (...)"), for tests. */
int store_query_explain(struct store *st, const struct store_filter *f, char *out, size_t len);

const char *store_kind_name(uint8_t kind);
const char *store_transport_name(uint8_t transport);
/* Mnemonic of a qtype ("A", "TYPE4444") or rcode ("NXDOMAIN", "RCODE42"). */
const char *store_qtype_name(uint16_t qtype, char *buf, size_t len);
const char *store_rcode_name(uint16_t rcode, char *buf, size_t len);



enum store_format { STORE_FMT_TABLE, STORE_FMT_CSV, STORE_FMT_JSON, STORE_FMT_JSONL };

/* `sinkd events` output: a header line (table and csv), then one line per
 * row. JSON is one object per line. */
void store_print_header(FILE *out, enum store_format fmt);
void store_print_row(FILE *out, enum store_format fmt, const struct store_row *row);

/* The labels of classification as JSON keys (",\"family\":...") and as
 * CSV columns (after the capture columns). */
extern const char store_labels_csv_header[];
void store_print_labels_json(FILE *out, const struct sinkd_event *ev);
void store_print_labels_csv(FILE *out, const struct sinkd_event *ev);

/* HTTP, TLS and raw rows (format_capture.c): the whole JSON line; the
 * table's name column (method and target, SNI and JA4, protocol); the
 * CSV columns after the common ones (empty ones for rows without
 * capture fields), named by store_capture_csv_header. */
void store_print_capture_json(FILE *out, const struct store_row *row, const char *time);
void store_capture_name(const struct store_row *row, char *buf, size_t len);
void store_print_capture_csv(FILE *out, const struct store_row *row);
extern const char store_capture_csv_header[];

/* Pseudonymised output (pseudonym.c): with a key set, every address
 * printed is its keyed pseudonym; store_row_strip_clear copies row into
 * out without the sections that can carry addresses in clear (headers,
 * first bytes), their bytes in buf (cap bytes). */
struct evidence_pseudonym;
void store_format_pseudonymise(const struct evidence_pseudonym *key);
bool store_format_pseudonymised(void);
const char *store_addr_text(const struct event_addr *a, char *buf, size_t len);
void store_row_strip_clear(const struct store_row *row, struct store_row *out, uint8_t *buf,
			   size_t cap);

#endif
