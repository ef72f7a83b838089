/* Readers for the admin API: check-ins per minute, the monitor's latest
 * state per domain, and one stored row as JSON. */
#include "store/store_internal.h"

#include "core/error.h"

#include <stdio.h>
#include <string.h>

#define NS_PER_S 1000000000ll
#define NS_PER_MIN (60 * NS_PER_S)

int store_row_json(FILE *out, const struct store_row *row)
{
	store_print_row(out, STORE_FMT_JSON, row);
	return ferror(out) ? SINKD_EIO : 0;
}

static int64_t clamp(uint64_t v) { return v > (uint64_t)INT64_MAX ? INT64_MAX : (int64_t)v; }

int store_timeline(struct store *st, const struct store_timeline_filter *f, store_minute_cb cb,
		   void *ctx)
{
	/* dns_minute counts every DNS query, also those stored as rows
	 * (every_query): DNS comes from there only; the events table gives
	 * the connection listeners' check-ins. The events key is the event
	 * time or a few ns after it, so the time range is tested on ts_ns
	 * and the key only bounds the walk. DNS aggregates carry no family:
	 * a family filter leaves DNS out. */
	int64_t zone_id = 0, family_id = 0;
	bool none = false;
	int ret;
	if (f->domain != NULL && f->domain[0] != '\0') {
		ret = store_lookup_find(st, "zones", f->domain, &zone_id);
		if (ret == SINKD_ENOENT)
			none = true;
		else if (ret != 0)
			return ret;
	}
	if (f->family != NULL && f->family[0] != '\0') {
		ret = store_lookup_find(st, "labels", f->family, &family_id);
		if (ret == SINKD_ENOENT)
			none = true;
		else if (ret != 0)
			return ret;
	}
	if (none)
		return 0;
	char sql[1024];
	snprintf(
	    sql, sizeof(sql),
	    "SELECT m, sum(dns), sum(http), sum(tls), sum(raw) FROM ("
	    " SELECT minute AS m, count AS dns, 0 AS http, 0 AS tls, 0 AS raw FROM dns_minute"
	    "  WHERE minute >= ?1 AND minute < ?2 %s %s"
	    " UNION ALL"
	    " SELECT (ts_ns / 60000000000) * 60, 0, kind = 2, kind = 3, kind = 4 FROM events"
	    "  WHERE id >= ?3 AND id < ?4 + 1000000 AND ts_ns >= ?3 AND ts_ns < ?4 AND kind <> 1"
	    "  %s %s"
	    ") GROUP BY m ORDER BY m",
	    zone_id != 0 ? "AND zone_id = ?5" : "", family_id != 0 ? "AND 0" : "",
	    zone_id != 0 ? "AND zone_id = ?5" : "", family_id != 0 ? "AND family_id = ?6" : "");
	int64_t since = clamp(f->since_ns);
	int64_t until = f->until_ns == 0 ? INT64_MAX - NS_PER_S : clamp(f->until_ns);
	if (until > INT64_MAX - NS_PER_S)
		until = INT64_MAX - NS_PER_S;
	sqlite3_stmt *s = NULL;
	if (sqlite3_prepare_v2(st->db, sql, -1, &s, NULL) != SQLITE_OK)
		return store_sql_error(st, "prepare timeline");
	/* A minute is in the range when its start is: [ceil(since), ceil(until)). */
	sqlite3_bind_int64(s, 1, (since + NS_PER_S - 1) / NS_PER_S);
	sqlite3_bind_int64(s, 2, (until + NS_PER_S - 1) / NS_PER_S);
	sqlite3_bind_int64(s, 3, since);
	sqlite3_bind_int64(s, 4, until);
	if (zone_id != 0)
		sqlite3_bind_int64(s, 5, zone_id);
	if (family_id != 0)
		sqlite3_bind_int64(s, 6, family_id);
	int rc;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		struct store_minute m = {
		    .minute = sqlite3_column_int64(s, 0),
		    .dns = (uint64_t)sqlite3_column_int64(s, 1),
		    .http = (uint64_t)sqlite3_column_int64(s, 2),
		    .tls = (uint64_t)sqlite3_column_int64(s, 3),
		    .raw = (uint64_t)sqlite3_column_int64(s, 4),
		};
		if (cb(&m, ctx) != 0) {
			rc = SQLITE_DONE;
			break;
		}
	}
	sqlite3_finalize(s);
	return rc == SQLITE_DONE ? 0 : store_sql_error(st, "timeline");
}

static const char *text_or_empty(sqlite3_stmt *s, int col)
{
	const unsigned char *t = sqlite3_column_text(s, col);
	return t != NULL ? (const char *)t : "";
}

int store_status_latest(struct store *st, store_status_cb cb, void *ctx)
{
	static const char sql[] =
	    "SELECT d.ts, d.domain, d.new_state, d.old_state, d.details, d.source"
	    " FROM domain_status d JOIN (SELECT domain, max(id) AS id FROM domain_status"
	    " GROUP BY domain) l ON l.id = d.id ORDER BY d.domain";
	sqlite3_stmt *s = NULL;
	if (sqlite3_prepare_v2(st->db, sql, -1, &s, NULL) != SQLITE_OK)
		return store_sql_error(st, "prepare domain status");
	int rc;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		struct store_status_row r = {
		    .ts = sqlite3_column_int64(s, 0),
		    .domain = text_or_empty(s, 1),
		    .state = text_or_empty(s, 2),
		    .previous = text_or_empty(s, 3),
		    .details = text_or_empty(s, 4),
		    .source = text_or_empty(s, 5),
		};
		if (cb(&r, ctx) != 0) {
			rc = SQLITE_DONE;
			break;
		}
	}
	sqlite3_finalize(s);
	return rc == SQLITE_DONE ? 0 : store_sql_error(st, "domain status");
}
