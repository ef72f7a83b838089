/* domain_status: the domain monitor's state changes. */
#include "store/store_internal.h"

#include "core/error.h"

#include <string.h>

static const char sql_last[] =
    "SELECT new_state FROM domain_status WHERE domain = ?1 ORDER BY id DESC LIMIT 1";
static const char sql_insert[] =
    "INSERT INTO domain_status (ts, domain, old_state, new_state, details, source)"
    " VALUES (?1, ?2, ?3, ?4, ?5, ?6)";

/* Compare one row with the last recorded state; insert when it differs. */
static int record_one(struct store *st, sqlite3_stmt *last, sqlite3_stmt *ins, int64_t ts,
		      const char *source, struct store_status *row)
{
	row->previous[0] = '\0';
	row->changed = false;
	sqlite3_reset(last);
	sqlite3_bind_text(last, 1, row->domain, -1, SQLITE_STATIC);
	int rc = sqlite3_step(last);
	if (rc == SQLITE_ROW) {
		const unsigned char *prev = sqlite3_column_text(last, 0);
		snprintf(row->previous, sizeof(row->previous), "%s",
			 prev ? (const char *)prev : "");
	} else if (rc != SQLITE_DONE) {
		return store_sql_error(st, "read the last domain state");
	}
	sqlite3_reset(last);
	if (strcmp(row->previous, row->state) == 0)
		return 0;
	sqlite3_reset(ins);
	sqlite3_bind_int64(ins, 1, ts);
	sqlite3_bind_text(ins, 2, row->domain, -1, SQLITE_STATIC);
	if (row->previous[0] != '\0')
		sqlite3_bind_text(ins, 3, row->previous, -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(ins, 3);
	sqlite3_bind_text(ins, 4, row->state, -1, SQLITE_STATIC);
	sqlite3_bind_text(ins, 5, row->details, -1, SQLITE_STATIC);
	sqlite3_bind_text(ins, 6, source, -1, SQLITE_STATIC);
	if (sqlite3_step(ins) != SQLITE_DONE)
		return store_sql_error(st, "insert a domain state change");
	row->changed = true;
	return 0;
}

int store_status_record(struct store *st, int64_t ts, const char *source, struct store_status *rows,
			size_t n)
{
	sqlite3_stmt *last = NULL, *ins = NULL;
	if (st->read_only)
		return SINKD_EINVAL;
	if (sqlite3_prepare_v2(st->db, sql_last, -1, &last, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(st->db, sql_insert, -1, &ins, NULL) != SQLITE_OK) {
		store_sql_error(st, "prepare domain_status statements");
		sqlite3_finalize(last);
		return SINKD_ESTORE;
	}
	int ret = 0;
	if (sqlite3_exec(st->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK) {
		ret = store_sql_error(st, "begin domain_status");
		goto out;
	}
	for (size_t i = 0; i < n && ret == 0; i++)
		ret = record_one(st, last, ins, ts, source, &rows[i]);
	if (ret == 0 && sqlite3_exec(st->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
		ret = store_sql_error(st, "commit domain_status");
	if (ret != 0) {
		sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
		for (size_t i = 0; i < n; i++)
			rows[i].changed = false;
	}
out:
	sqlite3_finalize(last);
	sqlite3_finalize(ins);
	return ret;
}
