/* store_query: individual events and DNS per-minute aggregates, merged
 * newest first. Each side is one statement that walks its table in time
 * order (ORDER BY key DESC LIMIT), stepped lazily: without a filter a query
 * touches about `limit` rows per side; a filter without an index tests
 * rows in time order until the limit is filled or the side's scan budget
 * (sinkd_scan) runs out. */
#include "store/store_internal.h"

#include "core/error.h"
#include "core/log.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NS_PER_S 1000000000ull
#define ID_SLACK_NS 1000000 /* ids are at most this much later than ts_ns */

/* A store_filter resolved against the store. */
struct plan {
	int64_t since_ns, until_ns;
	int64_t agg_since_ns; /* since_ns, or later when events fill the limit */
	int64_t zone_id;
	bool by_zone, by_qname;
	char qname[EVENT_QNAME_MAX];
	bool by_ip;
	uint8_t ip[16];
	bool by_family;
	int64_t family_id;
	uint8_t kind; /* 0 = any */
	int qtype;    /* -1 = any */
	size_t limit;
	bool want_events, want_aggs;
};

struct cursor {
	sqlite3_stmt *stmt;
	bool live;
	struct store_row row;
	uint8_t *payload; /* events side: the row's capture sections */
};

/* sinkd_scan(side, time): true while the statement's scan budget lasts.
 * It is the first WHERE term and reads only the key it walks (event id,
 * aggregate minute), so SQLite tests it on every entry walked, before the
 * other filters. Over budget it fails the statement. */
static void sql_scan_fn(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
	struct store_scan_state *sc = sqlite3_user_data(ctx);
	int side = sqlite3_value_int(argv[0]);
	if (side < 0 || side >= STORE_SCAN_SIDES) {
		sqlite3_result_error(ctx, "sinkd_scan: bad side", -1);
		return;
	}
	if (++sc->n[side] <= sc->max) {
		sqlite3_result_int(ctx, 1);
		return;
	}
	sc->n[side]--; /* the row over budget was not examined */
	sc->stopped[side] = true;
	sc->stop_time[side] = sqlite3_value_int64(argv[1]);
	sqlite3_result_error(ctx, "scan budget exhausted", -1);
}

int store_query_register(struct store *st)
{
	if (sqlite3_create_function_v2(st->db, "sinkd_scan", 2, SQLITE_UTF8 | SQLITE_DIRECTONLY,
				       &st->scan, sql_scan_fn, NULL, NULL, NULL) != SQLITE_OK)
		return store_sql_error(st, "register sinkd_scan");
	return 0;
}

static void append(char *buf, size_t len, const char *fmt, const char *arg)
{
	size_t used = strlen(buf);
	snprintf(buf + used, len - used, fmt, arg);
}

/* WHERE terms shared by both sides; `p` is the table alias prefix. */
static void where_common(const struct plan *pl, char *sql, size_t len, const char *p)
{
	if (pl->by_zone)
		append(sql, len, " AND %szone_id = :zone", p);
	if (pl->by_qname)
		append(sql, len, " AND %sqname = :qname", p);
	if (pl->qtype >= 0)
		append(sql, len, " AND %sqtype = :qtype", p);
}

static void sql_events(const struct plan *pl, enum store_scan_side side, char *sql, size_t len)
{
	snprintf(
	    sql, len,
	    "SELECT e.ts_ns, e.kind, e.transport, e.flags, e.worker, e.src_ip, e.src_port,"
	    " e.dst_ip, e.dst_port, z.name, e.qname, e.qtype, e.qclass, e.rcode, e.msg_size,"
	    " e.ecs_family, e.ecs_prefix, e.ecs_addr, f.name, m.name, b.name, e.country, e.asn,"
	    " c.id IS NOT NULL, c.conn_id, c.proxy_ip, c.proxy_port, c.method, c.http_version,"
	    " c.status, c.body_len, c.proto, c.body_sha256, c.body_stored, json_valid(c.hello),"
	    " c.target, c.headers, c.user_agent, c.referer, c.raw, c.ja3, c.ja3_md5, c.ja4,"
	    " c.hello, r.name, t.name, e.severity, v.name, d.name"
	    " FROM events e LEFT JOIN zones z ON z.id = e.zone_id"
	    " LEFT JOIN labels f ON f.id = e.family_id"
	    " LEFT JOIN labels m ON m.id = e.msg_type_id"
	    " LEFT JOIN bots b ON b.id = e.bot_id"
	    " LEFT JOIN labels r ON r.id = e.rule_id"
	    " LEFT JOIN labels t ON t.id = e.tag_id"
	    " LEFT JOIN labels v ON v.id = e.version_id"
	    " LEFT JOIN labels d ON d.id = e.decode_id"
	    " LEFT JOIN capture c ON c.id = e.id"
	    " WHERE sinkd_scan(%d, e.id) AND e.id >= :since AND e.id < :until_key"
	    " AND e.ts_ns >= :since AND e.ts_ns < :until",
	    (int)side);
	where_common(pl, sql, len, "e.");
	if (pl->by_ip)
		append(sql, len, "%s", " AND e.src_ip = :ip");
	if (pl->by_family)
		append(sql, len, "%s", " AND e.family_id = :family");
	/* Literal kinds so the partial index on non-DNS kinds applies. */
	if (pl->kind == EVENT_DNS)
		append(sql, len, "%s", " AND e.kind = 1");
	else if (pl->kind != 0)
		append(sql, len, " AND e.kind = %s AND e.kind <> 1",
		       pl->kind == EVENT_HTTP  ? "2"
		       : pl->kind == EVENT_TLS ? "3"
					       : "4");
	append(sql, len, "%s", " ORDER BY e.id DESC LIMIT :limit");
}

static void sql_aggs(const struct plan *pl, char *sql, size_t len)
{
	snprintf(sql, len,
		 "SELECT d.minute, d.resolver, z.name, d.qname, d.qtype, d.rcode,"
		 " d.count - d.logged FROM dns_minute d LEFT JOIN zones z ON z.id = d.zone_id"
		 " WHERE sinkd_scan(%d, d.minute) AND d.minute >= :since AND d.minute < :until"
		 " AND d.count > d.logged",
		 (int)STORE_SCAN_AGGS);
	where_common(pl, sql, len, "d.");
	if (pl->by_ip)
		append(sql, len, "%s", " AND d.resolver = :ip");
	append(sql, len, "%s", " ORDER BY d.minute DESC LIMIT :limit");
}

static void sql_side(const struct plan *pl, bool aggs, char *sql, size_t len)
{
	if (aggs)
		sql_aggs(pl, sql, len);
	else
		sql_events(pl, STORE_SCAN_EVENTS, sql, len);
}

static void bind_named_int(sqlite3_stmt *s, const char *name, int64_t v)
{
	int i = sqlite3_bind_parameter_index(s, name);
	if (i > 0)
		sqlite3_bind_int64(s, i, v);
}

/* Minute buckets are selected by their start: [ceil(since), ceil(until)). */
static int64_t ns_to_s_ceil(int64_t ns)
{
	return ns / (int64_t)NS_PER_S + (ns % (int64_t)NS_PER_S != 0);
}

static void bind_plan(sqlite3_stmt *s, const struct plan *pl, bool aggs)
{
	bind_named_int(s, ":since", aggs ? ns_to_s_ceil(pl->agg_since_ns) : pl->since_ns);
	bind_named_int(s, ":until", aggs ? ns_to_s_ceil(pl->until_ns) : pl->until_ns);
	/* An id is its event's time, or a few ns later when that was taken. */
	int64_t until_key =
	    pl->until_ns > INT64_MAX - ID_SLACK_NS ? INT64_MAX : pl->until_ns + ID_SLACK_NS;
	bind_named_int(s, ":until_key", until_key);
	bind_named_int(s, ":zone", pl->zone_id);
	bind_named_int(s, ":qtype", pl->qtype);
	bind_named_int(s, ":family", pl->family_id);
	int q = sqlite3_bind_parameter_index(s, ":qname");
	if (q > 0)
		sqlite3_bind_text(s, q, pl->qname, -1, SQLITE_STATIC);
	bind_named_int(s, ":limit", (int64_t)pl->limit);
	int i = sqlite3_bind_parameter_index(s, ":ip");
	if (i > 0)
		sqlite3_bind_blob(s, i, pl->ip, 16, SQLITE_STATIC);
}

static int prepare_side(struct store *st, const struct plan *pl, bool aggs, sqlite3_stmt **out)
{
	char sql[2048];
	sql_side(pl, aggs, sql, sizeof(sql));
	if (sqlite3_prepare_v2(st->db, sql, -1, out, NULL) != SQLITE_OK)
		return store_sql_error(st, "prepare query");
	bind_plan(*out, pl, aggs);
	return 0;
}

static void copy_text(char *dst, size_t len, const unsigned char *src)
{
	snprintf(dst, len, "%s", src != NULL ? (const char *)src : "");
}

static void copy_ip(uint8_t ip[16], sqlite3_stmt *s, int col)
{
	const void *b = sqlite3_column_blob(s, col);
	if (b != NULL && sqlite3_column_bytes(s, col) == 16)
		memcpy(ip, b, 16);
}

static void decode_event(sqlite3_stmt *s, struct store_row *row)
{
	struct sinkd_event *ev = &row->ev;
	memset(row, 0, sizeof(*row));
	row->count = 1;
	ev->ts_ns = (uint64_t)sqlite3_column_int64(s, 0);
	ev->kind = (uint8_t)sqlite3_column_int(s, 1);
	ev->transport = (uint8_t)sqlite3_column_int(s, 2);
	ev->flags = (uint16_t)sqlite3_column_int(s, 3);
	ev->worker = (uint16_t)sqlite3_column_int(s, 4);
	copy_ip(ev->src.ip, s, 5);
	ev->src.port = (uint16_t)sqlite3_column_int(s, 6);
	copy_ip(ev->dst.ip, s, 7);
	ev->dst.port = (uint16_t)sqlite3_column_int(s, 8);
	copy_text(ev->zone, sizeof(ev->zone), sqlite3_column_text(s, 9));
	copy_text(ev->qname, sizeof(ev->qname), sqlite3_column_text(s, 10));
	ev->qtype = (uint16_t)sqlite3_column_int(s, 11);
	ev->qclass = (uint16_t)sqlite3_column_int(s, 12);
	ev->rcode = (uint16_t)sqlite3_column_int(s, 13);
	ev->msg_size = (uint16_t)sqlite3_column_int(s, 14);
	ev->ecs_family = (uint8_t)sqlite3_column_int(s, 15);
	ev->ecs_source_prefix = (uint8_t)sqlite3_column_int(s, 16);
	copy_ip(ev->ecs_addr, s, 17);
	copy_text(ev->family, sizeof(ev->family), sqlite3_column_text(s, 18));
	copy_text(ev->msg_type, sizeof(ev->msg_type), sqlite3_column_text(s, 19));
	copy_text(ev->bot_id, sizeof(ev->bot_id), sqlite3_column_text(s, 20));
	copy_text(ev->country, sizeof(ev->country), sqlite3_column_text(s, 21));
	ev->asn = (uint32_t)sqlite3_column_int64(s, 22);
}

/* Columns of the capture row after the events columns (sql_events). */
enum {
	COL_CAPTURE = 23,
	COL_CONN_ID,
	COL_PROXY_IP,
	COL_PROXY_PORT,
	COL_METHOD,
	COL_HTTP_VERSION,
	COL_STATUS,
	COL_BODY_LEN,
	COL_PROTO,
	COL_BODY_SHA256,
	COL_BODY_STORED,
	COL_HELLO_JSON,
	COL_SECTIONS,		       /* one column per section type below, in this order */
	COL_LABELS = COL_SECTIONS + 9, /* rule, tag, severity, version, decode status */
};

static const uint8_t section_types[] = {
    EVP_TARGET,	 EVP_HEADERS,	  EVP_USER_AGENT, EVP_REFERER,	 EVP_RAW,
    EVP_TLS_JA3, EVP_TLS_JA3_MD5, EVP_TLS_JA4,	  EVP_TLS_HELLO,
};

/* The capture columns of an events row into row (payload: a buffer of
 * EVENT_PAYLOAD_MAX bytes that the row's sections are copied into). */
static void decode_capture(sqlite3_stmt *s, struct store_row *row, uint8_t *payload)
{
	struct sinkd_event *ev = &row->ev;
	if (payload == NULL || sqlite3_column_int(s, COL_CAPTURE) == 0)
		return;
	row->capture = true;
	ev->conn_id = (uint64_t)sqlite3_column_int64(s, COL_CONN_ID);
	copy_ip(ev->proxy.ip, s, COL_PROXY_IP);
	ev->proxy.port = (uint16_t)sqlite3_column_int(s, COL_PROXY_PORT);
	copy_text(ev->http_method, sizeof(ev->http_method), sqlite3_column_text(s, COL_METHOD));
	ev->http_version = (uint8_t)sqlite3_column_int(s, COL_HTTP_VERSION);
	ev->http_status = (uint16_t)sqlite3_column_int(s, COL_STATUS);
	ev->body_len = (uint32_t)sqlite3_column_int64(s, COL_BODY_LEN);
	copy_text(ev->proto, sizeof(ev->proto), sqlite3_column_text(s, COL_PROTO));
	const void *sha = sqlite3_column_blob(s, COL_BODY_SHA256);
	if (sha != NULL && sqlite3_column_bytes(s, COL_BODY_SHA256) == 32) {
		memcpy(row->body_sha256, sha, 32);
		row->has_body = true;
		row->body_stored = (uint32_t)sqlite3_column_int64(s, COL_BODY_STORED);
	}
	row->hello_json = sqlite3_column_int(s, COL_HELLO_JSON) != 0;
	for (size_t i = 0; i < sizeof(section_types); i++) {
		int col = COL_SECTIONS + (int)i;
		if (sqlite3_column_type(s, col) == SQLITE_NULL)
			continue;
		const void *data = sqlite3_column_blob(s, col);
		/* A section that does not fit (more than one event carried)
		 * is left out rather than cut. */
		event_payload_add(payload, EVENT_PAYLOAD_MAX, &ev->payload_len, section_types[i],
				  data, (size_t)sqlite3_column_bytes(s, col));
	}
	ev->payload = payload;
}

/* Schema 5 labels (after the capture columns). */
static void decode_labels(sqlite3_stmt *s, struct sinkd_event *ev)
{
	copy_text(ev->rule_id, sizeof(ev->rule_id), sqlite3_column_text(s, COL_LABELS));
	copy_text(ev->tag, sizeof(ev->tag), sqlite3_column_text(s, COL_LABELS + 1));
	ev->severity = (uint8_t)sqlite3_column_int(s, COL_LABELS + 2);
	copy_text(ev->proto_version, sizeof(ev->proto_version),
		  sqlite3_column_text(s, COL_LABELS + 3));
	copy_text(ev->decode_status, sizeof(ev->decode_status),
		  sqlite3_column_text(s, COL_LABELS + 4));
}

static void decode_agg(sqlite3_stmt *s, struct store_row *row)
{
	struct sinkd_event *ev = &row->ev;
	memset(row, 0, sizeof(*row));
	row->aggregate = true;
	ev->kind = EVENT_DNS;
	ev->ts_ns = (uint64_t)sqlite3_column_int64(s, 0) * NS_PER_S;
	copy_ip(ev->src.ip, s, 1);
	copy_text(ev->zone, sizeof(ev->zone), sqlite3_column_text(s, 2));
	copy_text(ev->qname, sizeof(ev->qname), sqlite3_column_text(s, 3));
	ev->qtype = (uint16_t)sqlite3_column_int(s, 4);
	ev->rcode = (uint16_t)sqlite3_column_int(s, 5);
	row->count = (uint64_t)sqlite3_column_int64(s, 6);
}

/* Step a cursor. A statement stopped by its scan budget is not an error:
 * the cursor just ends (the caller reads st->scan). */
static int cursor_next(struct store *st, struct cursor *c, bool aggs)
{
	if (c->stmt == NULL) {
		c->live = false;
		return 0;
	}
	int rc = sqlite3_step(c->stmt);
	c->live = rc == SQLITE_ROW;
	if (rc == SQLITE_ROW) {
		if (aggs) {
			decode_agg(c->stmt, &c->row);
		} else {
			decode_event(c->stmt, &c->row);
			decode_labels(c->stmt, &c->row.ev);
			decode_capture(c->stmt, &c->row, c->payload);
		}
		return 0;
	}
	if (rc == SQLITE_DONE || st->scan.stopped[aggs ? STORE_SCAN_AGGS : STORE_SCAN_EVENTS])
		return 0;
	return store_sql_error(st, "query");
}

/* When events alone fill the limit, aggregates older than the limit-th
 * newest event cannot be shown: bound the aggregate side to that window
 * (in every_query mode most aggregates are skipped as already logged).
 * Out of budget, the aggregate side simply stays unbounded (and has its
 * own budget). */
static int bound_aggs_by_events(struct store *st, struct plan *pl)
{
	char sql[2048], outer[2200];
	sqlite3_stmt *s = NULL;
	sql_events(pl, STORE_SCAN_BOUND, sql, sizeof(sql));
	snprintf(outer, sizeof(outer), "SELECT ts_ns FROM (%s) LIMIT 1 OFFSET %zu", sql,
		 pl->limit - 1);
	if (sqlite3_prepare_v2(st->db, outer, -1, &s, NULL) != SQLITE_OK)
		return store_sql_error(st, "prepare query bound");
	bind_plan(s, pl, false);
	int rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		int64_t t = sqlite3_column_int64(s, 0) / (int64_t)NS_PER_S * (int64_t)NS_PER_S;
		if (t > pl->agg_since_ns)
			pl->agg_since_ns = t;
	}
	sqlite3_finalize(s);
	if (rc == SQLITE_ROW || rc == SQLITE_DONE || st->scan.stopped[STORE_SCAN_BOUND])
		return 0;
	return store_sql_error(st, "query bound");
}

/* A seized zone matches everything under it; any other name matches rows
 * with exactly that query name. */
static int plan_domain(struct store *st, struct plan *pl, const char *domain)
{
	size_t len = strlen(domain);
	if (len > 0 && domain[len - 1] == '.')
		len--;
	if (len >= sizeof(pl->qname)) {
		pl->want_events = pl->want_aggs = false;
		return 0;
	}
	for (size_t i = 0; i < len; i++)
		pl->qname[i] = (char)tolower((unsigned char)domain[i]);
	pl->qname[len] = '\0';
	int ret = store_lookup_find(st, "zones", pl->qname, &pl->zone_id);
	if (ret == 0)
		pl->by_zone = true;
	else if (ret == SINKD_ENOENT)
		pl->by_qname = true;
	return ret == SINKD_ENOENT ? 0 : ret;
}

static int64_t clamp_ns(uint64_t ns) { return ns > (uint64_t)INT64_MAX ? INT64_MAX : (int64_t)ns; }

static int plan_filter(struct store *st, const struct store_filter *f, struct plan *pl)
{
	memset(pl, 0, sizeof(*pl));
	pl->since_ns = clamp_ns(f->since_ns);
	pl->agg_since_ns = pl->since_ns;
	pl->until_ns = f->until_ns == 0 ? INT64_MAX : clamp_ns(f->until_ns);
	pl->limit = f->limit == 0 ? STORE_LIMIT_DEFAULT : f->limit;
	if (pl->limit > STORE_LIMIT_MAX)
		pl->limit = STORE_LIMIT_MAX;
	pl->qtype = -1;
	pl->want_events = pl->want_aggs = true;
	if (f->type != NULL && f->type[0] != '\0') {
		if (store_type_parse(f->type, &pl->kind, &pl->qtype) != 0)
			return SINKD_EINVAL;
		pl->want_aggs = pl->kind == EVENT_DNS;
	}
	if (f->ip != NULL && f->ip[0] != '\0') {
		struct event_addr a;
		if (event_addr_parse(&a, f->ip) != 0)
			return SINKD_EINVAL;
		memcpy(pl->ip, a.ip, sizeof(pl->ip));
		pl->by_ip = true;
	}
	if (f->family != NULL && f->family[0] != '\0') {
		/* Aggregates carry no labels; a family never stored matches nothing. */
		pl->want_aggs = false;
		int ret = store_lookup_find(st, "labels", f->family, &pl->family_id);
		if (ret == SINKD_ENOENT)
			pl->want_events = false;
		else if (ret != 0)
			return ret;
		pl->by_family = true;
	}
	if (f->domain != NULL && f->domain[0] != '\0')
		return plan_domain(st, pl, f->domain);
	return 0;
}

static int open_cursors(struct store *st, struct plan *pl, struct cursor *ev, struct cursor *ag)
{
	if (pl->want_events && pl->want_aggs && bound_aggs_by_events(st, pl) != 0)
		return SINKD_ESTORE;
	if (pl->want_events && prepare_side(st, pl, false, &ev->stmt) != 0)
		return SINKD_ESTORE;
	if (pl->want_aggs && prepare_side(st, pl, true, &ag->stmt) != 0)
		return SINKD_ESTORE;
	if (cursor_next(st, ev, false) != 0 || cursor_next(st, ag, true) != 0)
		return SINKD_ESTORE;
	return 0;
}

/* Rows older than this were not searched by a side that ran out of budget
 * (0 = none): the merge must not show the other side's older rows as if
 * the result were complete there. The aggregate side stops inside a minute
 * whose other keys it has not seen: that whole minute is not complete. */
static int64_t scan_floor_ns(const struct store_scan_state *sc)
{
	int64_t floor = 0;
	if (sc->stopped[STORE_SCAN_EVENTS])
		floor = sc->stop_time[STORE_SCAN_EVENTS];
	if (sc->stopped[STORE_SCAN_AGGS]) {
		int64_t t = (sc->stop_time[STORE_SCAN_AGGS] + 60) * (int64_t)NS_PER_S;
		if (t > floor)
			floor = t;
	}
	return floor;
}

static void scan_begin(struct store *st, const struct store_filter *f)
{
	memset(&st->scan, 0, sizeof(st->scan));
	st->scan.max = f->scan_max != 0 ? f->scan_max : STORE_SCAN_MAX_DEFAULT;
}

static void scan_report(struct store *st, int64_t floor, struct store_scan *out)
{
	struct store_scan r = {.stopped = floor != 0, .stopped_ns = (uint64_t)floor};
	for (int i = 0; i < STORE_SCAN_SIDES; i++)
		r.scanned += st->scan.n[i];
	if (out != NULL)
		*out = r;
	else if (r.stopped)
		log_warn("store %s: query scanned %llu rows and stopped; rows older than %llu ns "
			 "were not searched",
			 st->path, (unsigned long long)r.scanned, (unsigned long long)r.stopped_ns);
}

int store_query_scan(struct store *st, const struct store_filter *f, store_row_cb cb, void *ctx,
		     struct store_scan *scan)
{
	struct plan pl;
	struct cursor ev = {0}, ag = {0};
	int64_t floor = 0;
	bool full = false; /* the limit was filled or the caller stopped */
	scan_begin(st, f);
	int ret = plan_filter(st, f, &pl);
	if (ret != 0 || (!pl.want_events && !pl.want_aggs))
		goto done;
	if (pl.want_events && pl.kind != EVENT_DNS) {
		ev.payload = malloc(EVENT_PAYLOAD_MAX);
		if (ev.payload == NULL) {
			ret = SINKD_ENOMEM;
			goto done;
		}
	}
	ret = open_cursors(st, &pl, &ev, &ag);
	for (size_t n = 0; ret == 0 && !full; n++) {
		floor = scan_floor_ns(&st->scan);
		if (n == pl.limit) {
			full = true;
			break;
		}
		if (!ev.live && !ag.live)
			break;
		bool take_event = ev.live && (!ag.live || ev.row.ev.ts_ns >= ag.row.ev.ts_ns);
		struct cursor *c = take_event ? &ev : &ag;
		if ((int64_t)c->row.ev.ts_ns < floor)
			break;
		full = cb(&c->row, ctx) != 0;
		if (!full)
			ret = cursor_next(st, c, !take_event);
	}
	floor = scan_floor_ns(&st->scan);
done:
	free(ev.payload);
	sqlite3_finalize(ev.stmt);
	sqlite3_finalize(ag.stmt);
	/* With the limit filled every row shown is one of the newest matches
	 * (the merge never passes below a side's stop): nothing was missed. */
	if (ret == 0)
		scan_report(st, full ? 0 : floor, scan);
	return ret;
}

int store_query(struct store *st, const struct store_filter *f, store_row_cb cb, void *ctx)
{
	return store_query_scan(st, f, cb, ctx, NULL);
}

static void explain_side(struct store *st, const struct plan *pl, bool aggs, char *out, size_t len)
{
	char sql[2048], eqp[2100];
	sqlite3_stmt *s = NULL;
	sql_side(pl, aggs, sql, sizeof(sql));
	snprintf(eqp, sizeof(eqp), "EXPLAIN QUERY PLAN %s", sql);
	if (sqlite3_prepare_v2(st->db, eqp, -1, &s, NULL) != SQLITE_OK)
		return;
	bind_plan(s, pl, aggs);
	while (sqlite3_step(s) == SQLITE_ROW) {
		size_t used = strlen(out);
		snprintf(out + used, len - used, "%s: %s\n", aggs ? "aggs" : "events",
			 (const char *)sqlite3_column_text(s, 3));
	}
	sqlite3_finalize(s);
}

int store_query_explain(struct store *st, const struct store_filter *f, char *out, size_t len)
{
	struct plan pl;
	out[0] = '\0';
	int ret = plan_filter(st, f, &pl);
	if (ret != 0)
		return ret;
	if (pl.want_events)
		explain_side(st, &pl, false, out, len);
	if (pl.want_aggs)
		explain_side(st, &pl, true, out, len);
	return 0;
}
