/* Hourly rollups (schema v8, docs/population.md): cells of (hour, family,
 * domain, country, ASN, transport) with counters and serialised distinct-
 * count sketches. The pipeline hands the cells of each batch to the writer
 * (a store_write_batch hook calling store_rollups_put); they are upserted
 * in the batch's transaction, the sketches merged by the SQL function
 * sinkd_hll_merge. Readers scan them
 * (store_rollup_scan) and merge in memory; `--raw` reports and `sinkd
 * rollup rebuild` read raw events instead (store_raw_scan). */
#include "store/store_internal.h"

#include "core/error.h"
#include "core/log.h"
#include "stats/stats.h"

#include <stdlib.h>
#include <string.h>

static const char sql_upsert[] =
    "INSERT INTO rollup_hour(hour, family, domain, country, asn, transport, events, id_events,"
    " new_sources, sources, nets, bots, id_sources, pairs)"
    " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)"
    " ON CONFLICT(hour, family, domain, country, asn, transport) DO UPDATE SET"
    " events = events + excluded.events, id_events = id_events + excluded.id_events,"
    " new_sources = new_sources + excluded.new_sources,"
    " sources = sinkd_hll_merge(sources, excluded.sources),"
    " nets = sinkd_hll_merge(nets, excluded.nets),"
    " bots = sinkd_hll_merge(bots, excluded.bots),"
    " id_sources = sinkd_hll_merge(id_sources, excluded.id_sources),"
    " pairs = sinkd_hll_merge(pairs, excluded.pairs)";

static const char sql_asn_name[] =
    "INSERT INTO asn_names(asn, org) VALUES (?, ?) ON CONFLICT(asn) DO UPDATE SET"
    " org = excluded.org WHERE org <> excluded.org";

static const char sql_seen[] = "INSERT INTO stats_state(name, value) VALUES ('seen_filter', ?)"
			       " ON CONFLICT(name) DO UPDATE SET value = excluded.value";

/* sinkd_hll_merge(a, b): the union of two serialised sketches (NULL = empty). */
static void fn_hll_merge(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
	struct hll h;
	static __thread uint8_t buf[HLL_SERIAL_MAX];
	hll_init(&h, 0);
	for (int i = 0; i < argc; i++) {
		if (sqlite3_value_type(argv[i]) == SQLITE_NULL)
			continue;
		int ret = hll_merge_serialized(&h, sqlite3_value_blob(argv[i]),
					       (size_t)sqlite3_value_bytes(argv[i]));
		if (ret != 0) {
			hll_free(&h);
			sqlite3_result_error(
			    ctx, ret == SINKD_ENOMEM ? "out of memory" : "not a sinkd sketch", -1);
			return;
		}
	}
	size_t len = hll_serialize(&h, buf, sizeof(buf));
	hll_free(&h);
	sqlite3_result_blob(ctx, buf, (int)len, SQLITE_TRANSIENT);
}

/* sinkd_hll_count(a): the estimated distinct count of a sketch. */
static void fn_hll_count(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
	struct hll h;
	hll_init(&h, 0);
	if (sqlite3_value_type(argv[0]) != SQLITE_NULL &&
	    hll_merge_serialized(&h, sqlite3_value_blob(argv[0]),
				 (size_t)sqlite3_value_bytes(argv[0])) != 0) {
		hll_free(&h);
		sqlite3_result_error(ctx, "not a sinkd sketch", -1);
		return;
	}
	sqlite3_result_double(ctx, hll_count(&h));
	hll_free(&h);
}

int store_rollup_register(struct store *st)
{
	int flags = SQLITE_UTF8 | SQLITE_DETERMINISTIC | SQLITE_INNOCUOUS;
	if (sqlite3_create_function(st->db, "sinkd_hll_merge", 2, flags, NULL, fn_hll_merge, NULL,
				    NULL) != SQLITE_OK ||
	    sqlite3_create_function(st->db, "sinkd_hll_count", 1, flags, NULL, fn_hll_count, NULL,
				    NULL) != SQLITE_OK)
		return store_sql_error(st, "register sketch functions");
	return 0;
}

void store_rollup_close(struct store *st)
{
	sqlite3_finalize(st->rollup.upsert);
	sqlite3_finalize(st->rollup.asn_name);
	sqlite3_finalize(st->rollup.seen);
	memset(&st->rollup, 0, sizeof(st->rollup));
}

static void bind_sketch(sqlite3_stmt *s, int col, const uint8_t *data, size_t len)
{
	/* An empty exact set is 8 header bytes: store NULL instead. */
	if (data == NULL || len <= 8)
		sqlite3_bind_null(s, col);
	else
		sqlite3_bind_blob(s, col, data, (int)len, SQLITE_STATIC);
}

static int upsert_cell(struct store *st, const struct stats_cell *c)
{
	sqlite3_stmt *s = st->rollup.upsert;
	sqlite3_bind_int64(s, 1, c->hour);
	sqlite3_bind_text(s, 2, c->family, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 3, c->domain, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 4, c->country, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 5, c->asn);
	sqlite3_bind_text(s, 6, c->transport, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 7, (int64_t)c->events);
	sqlite3_bind_int64(s, 8, (int64_t)c->id_events);
	sqlite3_bind_int64(s, 9, (int64_t)c->new_sources);
	for (int k = 0; k < STATS_N_SKETCHES; k++)
		bind_sketch(s, 10 + k, c->sketch[k], c->sketch_len[k]);
	int rc = sqlite3_step(s);
	sqlite3_reset(s);
	if (rc != SQLITE_DONE)
		return store_sql_error(st, "upsert rollup_hour");
	if (c->asn == 0 || c->asn_org[0] == '\0')
		return 0;
	s = st->rollup.asn_name;
	sqlite3_bind_int64(s, 1, c->asn);
	sqlite3_bind_text(s, 2, c->asn_org, -1, SQLITE_STATIC);
	rc = sqlite3_step(s);
	sqlite3_reset(s);
	return rc == SQLITE_DONE ? 0 : store_sql_error(st, "upsert asn_names");
}

static int prepare(struct store *st)
{
	struct store_rollup *r = &st->rollup;
	if (r->upsert != NULL)
		return 0;
	if (store_prepare(st, sql_upsert, &r->upsert) != 0 ||
	    store_prepare(st, sql_asn_name, &r->asn_name) != 0 ||
	    store_prepare(st, sql_seen, &r->seen) != 0)
		return SINKD_ESTORE;
	return 0;
}

int store_rollups_put(struct store *st, const struct stats_cell *cells, size_t n)
{
	if (n == 0)
		return 0;
	if (prepare(st) != 0)
		return SINKD_ESTORE;
	for (size_t i = 0; i < n; i++) {
		if (upsert_cell(st, &cells[i]) != 0)
			return SINKD_ESTORE;
	}
	return 0;
}

int store_seen_put(struct store *st, const uint8_t *bits, size_t len)
{
	if (prepare(st) != 0)
		return SINKD_ESTORE;
	sqlite3_stmt *s = st->rollup.seen;
	sqlite3_bind_blob(s, 1, bits, (int)len, SQLITE_STATIC);
	int rc = sqlite3_step(s);
	sqlite3_reset(s);
	return rc == SQLITE_DONE ? 0 : store_sql_error(st, "save seen filter");
}

int store_seen_load(struct store *st, uint8_t *bits, size_t len)
{
	sqlite3_stmt *s = NULL;
	int ret = SINKD_ENOENT;
	if (sqlite3_prepare_v2(st->db, "SELECT value FROM stats_state WHERE name = 'seen_filter'",
			       -1, &s, NULL) != SQLITE_OK)
		return store_sql_error(st, "read seen filter");
	if (sqlite3_step(s) == SQLITE_ROW) {
		if ((size_t)sqlite3_column_bytes(s, 0) == len) {
			memcpy(bits, sqlite3_column_blob(s, 0), len);
			ret = 0;
		} else {
			ret = SINKD_EINVAL;
		}
	}
	sqlite3_finalize(s);
	return ret;
}

int store_rollup_clear(struct store *st, uint64_t since_ns, uint64_t until_ns)
{
	sqlite3_stmt *s = NULL;
	if (sqlite3_prepare_v2(st->db, "DELETE FROM rollup_hour WHERE hour >= ? AND hour < ?", -1,
			       &s, NULL) != SQLITE_OK)
		return store_sql_error(st, "clear rollups");
	sqlite3_bind_int64(s, 1, (int64_t)(since_ns / 1000000000ull / 3600 * 3600));
	sqlite3_bind_int64(s, 2, until_ns == 0 ? INT64_MAX : (int64_t)(until_ns / 1000000000ull));
	int rc = sqlite3_step(s);
	sqlite3_finalize(s);
	if (rc != SQLITE_DONE)
		return store_sql_error(st, "clear rollups");
	if (since_ns == 0 && until_ns == 0 &&
	    sqlite3_exec(st->db, "DELETE FROM stats_state WHERE name = 'seen_filter'", NULL, NULL,
			 NULL) != SQLITE_OK)
		return store_sql_error(st, "clear seen filter");
	return 0;
}
