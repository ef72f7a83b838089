/* Readers of the population data: rollup cells (store_rollup_scan) and
 * raw events in time order (store_raw_scan), both filtered by time range,
 * family, domain, country, ASN and transport. */
#include "store/store_internal.h"

#include "core/error.h"
#include "stats/stats.h"

#include <stdio.h>
#include <string.h>

/* Appends "AND col = ?" for each set filter; binds in the same order. */
struct where {
	char sql[512];
	size_t len;
	const char *text[8];
	int64_t num[8];
	bool is_num[8];
	int n;
};

static void where_add(struct where *w, const char *cond, const char *text, int64_t num, bool is_num)
{
	w->len += (size_t)snprintf(w->sql + w->len, sizeof(w->sql) - w->len, " AND %s", cond);
	w->text[w->n] = text;
	w->num[w->n] = num;
	w->is_num[w->n] = is_num;
	w->n++;
}

static void where_bind(const struct where *w, sqlite3_stmt *s, int first)
{
	for (int i = 0; i < w->n; i++) {
		if (w->is_num[i])
			sqlite3_bind_int64(s, first + i, w->num[i]);
		else
			sqlite3_bind_text(s, first + i, w->text[i], -1, SQLITE_STATIC);
	}
}

static uint32_t hour_of(uint64_t ns) { return (uint32_t)(ns / 1000000000ull / 3600 * 3600); }

int store_rollup_scan(struct store *st, const struct store_rollup_filter *f, store_rollup_cb cb,
		      void *ctx)
{
	struct where w = {.len = 0};
	char sql[2048];
	if (f->family != NULL)
		where_add(&w, "r.family = ?", f->family, 0, false);
	if (f->domain != NULL)
		where_add(&w, "r.domain = ?", f->domain, 0, false);
	if (f->country != NULL)
		where_add(&w, "r.country = ?", f->country, 0, false);
	if (f->transport != NULL)
		where_add(&w, "r.transport = ?", f->transport, 0, false);
	if (f->asn != 0)
		where_add(&w, "r.asn = ?", NULL, f->asn, true);
	if (f->no_dns)
		w.len += (size_t)snprintf(w.sql + w.len, sizeof(w.sql) - w.len,
					  " AND r.transport <> 'dns'");
	/* Sketch columns not asked for are read as NULL. */
	char cols[256];
	size_t cl = 0;
	for (int k = 0; k < STATS_N_SKETCHES; k++)
		cl += (size_t)snprintf(cols + cl, sizeof(cols) - cl, ", %s%s",
				       (f->sketches & (1u << k)) ? "r." : "NULL AS ",
				       stats_sketch_names[k]);
	snprintf(sql, sizeof(sql),
		 "SELECT r.hour, r.family, r.domain, r.country, r.asn, COALESCE(a.org, ''),"
		 " r.transport, r.events, r.id_events, r.new_sources%s"
		 " FROM rollup_hour r LEFT JOIN asn_names a ON a.asn = r.asn"
		 " WHERE r.hour >= ?1 AND r.hour < ?2%s ORDER BY r.hour",
		 cols, w.sql);
	sqlite3_stmt *s = NULL;
	if (sqlite3_prepare_v2(st->db, sql, -1, &s, NULL) != SQLITE_OK)
		return store_sql_error(st, "scan rollups");
	sqlite3_bind_int64(s, 1, hour_of(f->since_ns));
	sqlite3_bind_int64(
	    s, 2, f->until_ns == 0 ? INT64_MAX : (int64_t)((f->until_ns - 1) / 1000000000ull) + 1);
	where_bind(&w, s, 3);
	int rc, ret = 0;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		struct stats_cell c = {.hour = (uint32_t)sqlite3_column_int64(s, 0),
				       .family = (const char *)sqlite3_column_text(s, 1),
				       .domain = (const char *)sqlite3_column_text(s, 2),
				       .country = (const char *)sqlite3_column_text(s, 3),
				       .asn = (uint32_t)sqlite3_column_int64(s, 4),
				       .asn_org = (const char *)sqlite3_column_text(s, 5),
				       .transport = (const char *)sqlite3_column_text(s, 6),
				       .events = (uint64_t)sqlite3_column_int64(s, 7),
				       .id_events = (uint64_t)sqlite3_column_int64(s, 8),
				       .new_sources = (uint64_t)sqlite3_column_int64(s, 9)};
		for (int k = 0; k < STATS_N_SKETCHES; k++) {
			c.sketch[k] = sqlite3_column_blob(s, 10 + k);
			c.sketch_len[k] = (size_t)sqlite3_column_bytes(s, 10 + k);
		}
		if ((ret = cb(&c, ctx)) != 0)
			break;
	}
	if (ret == 0 && rc != SQLITE_DONE)
		ret = store_sql_error(st, "scan rollups");
	sqlite3_finalize(s);
	return ret;
}

static const char sql_raw_events[] =
    "SELECT e.id, e.ts_ns, e.kind, e.flags, e.src_ip, COALESCE(z.name, ''),"
    " COALESCE(f.name, ''), COALESCE(b.name, ''), COALESCE(e.country, ''),"
    " COALESCE(e.asn, 0), COALESCE(m.name, ''), e.transport"
    " FROM events e LEFT JOIN zones z ON z.id = e.zone_id"
    " LEFT JOIN labels f ON f.id = e.family_id LEFT JOIN bots b ON b.id = e.bot_id"
    " LEFT JOIN labels m ON m.id = e.msg_type_id"
    " WHERE e.id >= ?1 AND e.id < ?2 ORDER BY e.id";

static const char sql_raw_dns[] =
    "SELECT d.minute, d.resolver, COALESCE(z.name, ''), d.count - d.logged"
    " FROM dns_minute d LEFT JOIN zones z ON z.id = d.zone_id"
    " WHERE d.minute >= ?1 AND d.minute < ?2 AND d.count > d.logged ORDER BY d.minute";

static void copy_col(char *dst, size_t cap, sqlite3_stmt *s, int col)
{
	const char *t = (const char *)sqlite3_column_text(s, col);
	snprintf(dst, cap, "%s", t != NULL ? t : "");
}

static void read_event(sqlite3_stmt *s, struct sinkd_event *ev)
{
	memset(ev, 0, offsetof(struct sinkd_event, conn_id));
	ev->ts_ns = (uint64_t)sqlite3_column_int64(s, 1);
	ev->kind = (uint8_t)sqlite3_column_int(s, 2);
	ev->flags = (uint32_t)sqlite3_column_int64(s, 3);
	if (sqlite3_column_bytes(s, 4) == 16)
		memcpy(ev->src.ip, sqlite3_column_blob(s, 4), 16);
	copy_col(ev->zone, sizeof(ev->zone), s, 5);
	copy_col(ev->family, sizeof(ev->family), s, 6);
	copy_col(ev->bot_id, sizeof(ev->bot_id), s, 7);
	copy_col(ev->country, sizeof(ev->country), s, 8);
	ev->asn = (uint32_t)sqlite3_column_int64(s, 9);
	copy_col(ev->msg_type, sizeof(ev->msg_type), s, 10);
	ev->transport = (uint8_t)sqlite3_column_int(s, 11);
}

static void read_dns(sqlite3_stmt *s, struct sinkd_event *ev, uint64_t *count)
{
	memset(ev, 0, offsetof(struct sinkd_event, conn_id));
	ev->ts_ns = (uint64_t)sqlite3_column_int64(s, 0) * 1000000000ull;
	ev->kind = EVENT_DNS;
	if (sqlite3_column_bytes(s, 1) == 16)
		memcpy(ev->src.ip, sqlite3_column_blob(s, 1), 16);
	copy_col(ev->zone, sizeof(ev->zone), s, 2);
	*count = (uint64_t)sqlite3_column_int64(s, 3);
}

int store_raw_scan(struct store *st, uint64_t since_ns, uint64_t until_ns, store_raw_cb cb,
		   void *ctx)
{
	sqlite3_stmt *se = NULL, *sd = NULL;
	int ret = 0, rce, rcd;
	if (sqlite3_prepare_v2(st->db, sql_raw_events, -1, &se, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(st->db, sql_raw_dns, -1, &sd, NULL) != SQLITE_OK) {
		ret = store_sql_error(st, "scan raw events");
		goto done;
	}
	int64_t until = until_ns == 0 ? INT64_MAX : (int64_t)until_ns;
	sqlite3_bind_int64(se, 1, (int64_t)since_ns);
	sqlite3_bind_int64(se, 2, until);
	sqlite3_bind_int64(sd, 1, (int64_t)((since_ns + 59999999999ull) / 1000000000ull / 60 * 60));
	sqlite3_bind_int64(sd, 2, until_ns == 0 ? INT64_MAX : (int64_t)(until_ns / 1000000000ull));
	struct sinkd_event a, b;
	uint64_t count = 0;
	rce = sqlite3_step(se);
	if (rce == SQLITE_ROW)
		read_event(se, &a);
	rcd = sqlite3_step(sd);
	if (rcd == SQLITE_ROW)
		read_dns(sd, &b, &count);
	/* Merge the two time-ordered streams. */
	while (ret == 0 && (rce == SQLITE_ROW || rcd == SQLITE_ROW)) {
		if (rce == SQLITE_ROW && (rcd != SQLITE_ROW || a.ts_ns <= b.ts_ns)) {
			ret = cb(&a, 1, false, ctx);
			if ((rce = sqlite3_step(se)) == SQLITE_ROW)
				read_event(se, &a);
		} else {
			ret = cb(&b, count, true, ctx);
			if ((rcd = sqlite3_step(sd)) == SQLITE_ROW)
				read_dns(sd, &b, &count);
		}
	}
	if (ret == 0 && (rce != SQLITE_DONE || rcd != SQLITE_DONE))
		ret = store_sql_error(st, "scan raw events");
done:
	sqlite3_finalize(se);
	sqlite3_finalize(sd);
	return ret;
}

int store_asn_org(struct store *st, uint32_t asn, char *buf, size_t len)
{
	sqlite3_stmt *s = NULL;
	int ret = SINKD_ENOENT;
	buf[0] = '\0';
	if (sqlite3_prepare_v2(st->db, "SELECT org FROM asn_names WHERE asn = ?", -1, &s, NULL) !=
	    SQLITE_OK)
		return store_sql_error(st, "read asn_names");
	sqlite3_bind_int64(s, 1, asn);
	if (sqlite3_step(s) == SQLITE_ROW) {
		snprintf(buf, len, "%s", (const char *)sqlite3_column_text(s, 0));
		ret = 0;
	}
	sqlite3_finalize(s);
	return ret;
}
