/* The store handle: open, pragmas, statements kept for the handle's life,
 * close, totals. */
#include "store/store_internal.h"

#include "core/error.h"
#include "core/log.h"

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define STORE_PAGE_SIZE "16384"
#define STORE_CACHE_KIB "16384"		/* writer page cache: 16 MiB */
#define STORE_WAL_KEEP_BYTES "67108864" /* 64 MiB */

static const char sql_agg_upsert[] =
    "INSERT INTO dns_minute(minute, resolver, zone_id, qname, qtype, rcode, count, logged)"
    " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)"
    " ON CONFLICT(minute, resolver, qname, zone_id, qtype, rcode) DO UPDATE"
    " SET count = count + excluded.count, logged = logged + excluded.logged";

int store_sql_error(const struct store *st, const char *what)
{
	log_err("store %s: %s: %s", st->path, what, sqlite3_errmsg(st->db));
	return SINKD_ESTORE;
}

int store_prepare(struct store *st, const char *sql, sqlite3_stmt **out)
{
	if (sqlite3_prepare_v3(st->db, sql, -1, SQLITE_PREPARE_PERSISTENT, out, NULL) != SQLITE_OK)
		return store_sql_error(st, "prepare");
	return 0;
}

int store_prepare_rows(struct store *st, const char *head, int cols, size_t rows,
		       sqlite3_stmt **out)
{
	size_t len = strlen(head) + rows * ((size_t)cols * 2 + 3) + 1;
	char *sql = sqlite3_malloc64(len);
	if (sql == NULL)
		return SINKD_ENOMEM;
	size_t used = (size_t)snprintf(sql, len, "%s", head);
	for (size_t r = 0; r < rows; r++) {
		if (r > 0)
			sql[used++] = ',';
		sql[used++] = '(';
		for (int c = 0; c < cols; c++) {
			if (c > 0)
				sql[used++] = ',';
			sql[used++] = '?';
		}
		sql[used++] = ')';
	}
	sql[used] = '\0';
	int ret = store_prepare(st, sql, out);
	sqlite3_free(sql);
	return ret;
}

static int exec_pragma(struct store *st, const char *sql, const char *expect)
{
	sqlite3_stmt *stmt = NULL;
	int rc = sqlite3_prepare_v2(st->db, sql, -1, &stmt, NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_step(stmt);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		goto fail;
	const char *got = rc == SQLITE_ROW ? (const char *)sqlite3_column_text(stmt, 0) : NULL;
	bool ok = expect == NULL || (got != NULL && strcmp(got, expect) == 0);
	if (!ok)
		log_err("store %s: '%s' gave '%s', expected '%s'", st->path, sql, got ? got : "",
			expect);
	sqlite3_finalize(stmt);
	return ok ? 0 : SINKD_ESTORE;
fail:
	store_sql_error(st, sql);
	sqlite3_finalize(stmt);
	return SINKD_ESTORE;
}

static int setup_writer(struct store *st)
{
	/* page_size only applies to a new file (it must come before WAL):
	 * 16 KiB pages wrote 6 % more rows and 14 % more new aggregate keys
	 * per second than 4 KiB (docs/store.md, "The write budget").
	 * WAL: readers (`sinkd events`, reports) never block the writer.
	 * synchronous=NORMAL: a commit is durable once the WAL is checkpointed;
	 * a power loss can lose the last commits, never corrupt the file.
	 * journal_size_limit: the WAL file shrinks back after a big batch. */
	if (exec_pragma(st, "PRAGMA page_size=" STORE_PAGE_SIZE, NULL) != 0)
		return SINKD_ESTORE;
	if (exec_pragma(st, "PRAGMA journal_mode=WAL", "wal") != 0 ||
	    exec_pragma(st, "PRAGMA synchronous=NORMAL", NULL) != 0 ||
	    exec_pragma(st, "PRAGMA cache_size=-" STORE_CACHE_KIB, NULL) != 0 ||
	    exec_pragma(st, "PRAGMA journal_size_limit=" STORE_WAL_KEEP_BYTES, NULL) != 0 ||
	    exec_pragma(st, "PRAGMA temp_store=MEMORY", NULL) != 0)
		return SINKD_ESTORE;
	if (store_schema_open(st) != 0)
		return SINKD_ESTORE;
	if (store_prepare(st, "BEGIN IMMEDIATE", &st->begin) != 0 ||
	    store_prepare(st, "COMMIT", &st->commit) != 0 ||
	    store_prepare(st, "ROLLBACK", &st->rollback) != 0 ||
	    store_prepare(st, sql_agg_upsert, &st->agg_upsert) != 0 || store_rows_open(st) != 0 ||
	    store_capture_open(st) != 0)
		return SINKD_ESTORE;
	int ret = store_lookup_init(st, &st->zones, "zones", STORE_ZONES_CACHE_SLOTS);
	if (ret == 0)
		ret = store_lookup_init(st, &st->labels, "labels", STORE_LABELS_CACHE_SLOTS);
	if (ret == 0)
		ret = store_lookup_init(st, &st->bots, "bots", STORE_BOTS_CACHE_SLOTS);
	return ret;
}

static int open_db(struct store *st)
{
	int flags = SQLITE_OPEN_NOMUTEX;
	flags |= st->read_only ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE;
	int rc = sqlite3_open_v2(st->path, &st->db, flags, NULL);
	if (rc != SQLITE_OK) {
		if (st->db == NULL) {
			log_err("store %s: %s", st->path, sqlite3_errstr(rc));
			return SINKD_ESTORE;
		}
		return store_sql_error(st, "open");
	}
	sqlite3_extended_result_codes(st->db, 1);
	sqlite3_busy_timeout(st->db, STORE_BUSY_TIMEOUT_MS);
	if (store_query_register(st) != 0 || store_rollup_register(st) != 0)
		return SINKD_ESTORE;
	if (st->read_only) {
		if (store_schema_open(st) != 0)
			return SINKD_ESTORE;
		return store_chain_open(st);
	}
	if (setup_writer(st) != 0)
		return SINKD_ESTORE;
	return store_chain_open(st);
}

int store_open(struct store **out, const char *path, bool read_only)
{
	*out = NULL;
	struct stat sb;
	if (read_only && stat(path, &sb) != 0)
		return SINKD_ENOENT;
	struct store *st = calloc(1, sizeof(*st));
	if (st == NULL)
		return SINKD_ENOMEM;
	st->read_only = read_only;
	st->path = strdup(path);
	if (st->path == NULL) {
		free(st);
		return SINKD_ENOMEM;
	}
	int ret = open_db(st);
	if (ret != 0)
		goto fail;
	*out = st;
	return 0;
fail:
	store_close(st);
	return ret;
}

void store_close(struct store *st)
{
	if (st == NULL)
		return;
	if (st->db != NULL && !st->read_only && st->chain.insert != NULL)
		store_evidence_close_manifest(st);
	sqlite3_finalize(st->begin);
	sqlite3_finalize(st->commit);
	sqlite3_finalize(st->rollback);
	sqlite3_finalize(st->agg_upsert);
	store_rows_close(st);
	store_capture_close(st);
	store_chain_close(st);
	store_rollup_close(st);
	store_lookup_free(&st->zones);
	store_lookup_free(&st->labels);
	store_lookup_free(&st->bots);
	store_agg_free(&st->agg);
	if (st->db != NULL && sqlite3_close(st->db) != SQLITE_OK)
		store_sql_error(st, "close");
	free(st->path);
	free(st);
}

static int query_u64(struct store *st, const char *sql, uint64_t *out)
{
	sqlite3_stmt *stmt = NULL;
	if (sqlite3_prepare_v2(st->db, sql, -1, &stmt, NULL) != SQLITE_OK ||
	    sqlite3_step(stmt) != SQLITE_ROW) {
		int ret = store_sql_error(st, sql);
		sqlite3_finalize(stmt);
		return ret;
	}
	*out = (uint64_t)sqlite3_column_int64(stmt, 0);
	sqlite3_finalize(stmt);
	return 0;
}

int store_totals(struct store *st, uint64_t *dns_queries, uint64_t *event_rows)
{
	int ret = query_u64(st, "SELECT COALESCE(SUM(count), 0) FROM dns_minute", dns_queries);
	if (ret == 0)
		ret = query_u64(st, "SELECT COUNT(*) FROM events", event_rows);
	return ret;
}

void store_stats(struct store *st, struct store_stats *out)
{
	out->batches = atomic_load_explicit(&st->stat.batches, memory_order_relaxed);
	out->batch_failures = atomic_load_explicit(&st->stat.batch_failures, memory_order_relaxed);
	out->events = atomic_load_explicit(&st->stat.events, memory_order_relaxed);
	out->event_rows = atomic_load_explicit(&st->stat.event_rows, memory_order_relaxed);
	out->agg_upserts = atomic_load_explicit(&st->stat.agg_upserts, memory_order_relaxed);
	out->cache_hits = atomic_load_explicit(&st->stat.cache_hits, memory_order_relaxed);
	out->cache_misses = atomic_load_explicit(&st->stat.cache_misses, memory_order_relaxed);
	out->bodies_new = atomic_load_explicit(&st->stat.bodies_new, memory_order_relaxed);
	out->bodies_seen = atomic_load_explicit(&st->stat.bodies_seen, memory_order_relaxed);
	out->retention_steps = atomic_load_explicit(&st->stat.retention_steps, memory_order_relaxed);
	out->retention_rows = atomic_load_explicit(&st->stat.retention_rows, memory_order_relaxed);
}
