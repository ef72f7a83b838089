/* Tables shapes and shape_domains (docs/shapes.md): plain reads and writes;
 * merging deltas is the caller's (src/classify/shapes_write.c). Statements
 * are prepared per call: the writer calls these for the few shapes a batch
 * touched, once per commit interval. */
#include "store/store_internal.h"

#include "core/error.h"

#include <string.h>

static const char shape_columns[] =
    "s.id, s.kind, s.method, s.path, s.params, s.headers, s.body, s.length, s.entropy,"
    " s.count, s.sources, s.first_ns, s.last_ns, s.srcset, s.examples,"
    " (SELECT COALESCE(group_concat(zone, ','), '') FROM (SELECT zone FROM shape_domains d"
    "  WHERE d.shape_id = s.id ORDER BY d.count DESC, d.zone))";

static const char *col_text(sqlite3_stmt *q, int i)
{
	const unsigned char *t = sqlite3_column_text(q, i);
	return t != NULL ? (const char *)t : "";
}

static void read_row(sqlite3_stmt *q, struct store_shape *s)
{
	memset(s, 0, sizeof(*s));
	s->id = col_text(q, 0);
	s->kind = (uint8_t)sqlite3_column_int(q, 1);
	s->method = col_text(q, 2);
	s->path = col_text(q, 3);
	s->params = col_text(q, 4);
	s->headers = col_text(q, 5);
	s->body = col_text(q, 6);
	s->length = col_text(q, 7);
	s->entropy = col_text(q, 8);
	s->count = (uint64_t)sqlite3_column_int64(q, 9);
	s->sources = (uint64_t)sqlite3_column_int64(q, 10);
	s->first_ns = sqlite3_column_int64(q, 11);
	s->last_ns = sqlite3_column_int64(q, 12);
	s->srcset = sqlite3_column_blob(q, 13);
	s->srcset_len = (size_t)sqlite3_column_bytes(q, 13);
	s->examples = col_text(q, 14);
	s->domains = col_text(q, 15);
}

static int prepare(struct store *st, const char *sql, sqlite3_stmt **q)
{
	if (sqlite3_prepare_v2(st->db, sql, -1, q, NULL) != SQLITE_OK)
		return store_sql_error(st, "prepare (shapes)");
	return 0;
}

int store_shape_get(struct store *st, const char *id, store_shape_cb cb, void *ctx)
{
	char sql[1024];
	sqlite3_stmt *q;
	snprintf(sql, sizeof(sql), "SELECT %s FROM shapes s WHERE s.id = ?1", shape_columns);
	if (prepare(st, sql, &q) != 0)
		return SINKD_ESTORE;
	sqlite3_bind_text(q, 1, id, -1, SQLITE_STATIC);
	int rc = sqlite3_step(q), ret;
	if (rc == SQLITE_ROW) {
		struct store_shape s;
		read_row(q, &s);
		cb(&s, ctx);
		ret = 0;
	} else {
		ret = rc == SQLITE_DONE ? SINKD_ENOENT : store_sql_error(st, "read shape");
	}
	sqlite3_finalize(q);
	return ret;
}

int store_shape_put(struct store *st, const struct store_shape *s)
{
	static const char sql[] =
	    "INSERT OR REPLACE INTO shapes(id, kind, method, path, params, headers, body, length,"
	    " entropy, count, sources, first_ns, last_ns, srcset, examples)"
	    " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)";
	sqlite3_stmt *q;
	if (prepare(st, sql, &q) != 0)
		return SINKD_ESTORE;
	const char *text[] = {s->id,	  NULL,	   s->method, s->path,	 s->params,
			      s->headers, s->body, s->length, s->entropy};
	for (int i = 0; i < 9; i++) {
		if (i != 1)
			sqlite3_bind_text(q, i + 1, text[i] != NULL ? text[i] : "", -1,
					  SQLITE_STATIC);
	}
	sqlite3_bind_int(q, 2, s->kind);
	sqlite3_bind_int64(q, 10, (int64_t)s->count);
	sqlite3_bind_int64(q, 11, (int64_t)s->sources);
	sqlite3_bind_int64(q, 12, s->first_ns);
	sqlite3_bind_int64(q, 13, s->last_ns);
	sqlite3_bind_blob(q, 14, s->srcset, (int)s->srcset_len, SQLITE_STATIC);
	sqlite3_bind_text(q, 15, s->examples != NULL ? s->examples : "[]", -1, SQLITE_STATIC);
	int rc = sqlite3_step(q);
	sqlite3_finalize(q);
	return rc == SQLITE_DONE ? 0 : store_sql_error(st, "write shape");
}

int store_shape_domain_add(struct store *st, const char *id, const char *zone, uint64_t count,
			   int64_t last_ns)
{
	static const char sql[] =
	    "INSERT INTO shape_domains(shape_id, zone, count, last_ns) VALUES (?1, ?2, ?3, ?4)"
	    " ON CONFLICT(shape_id, zone) DO UPDATE SET count = count + excluded.count,"
	    " last_ns = max(last_ns, excluded.last_ns)";
	sqlite3_stmt *q;
	if (prepare(st, sql, &q) != 0)
		return SINKD_ESTORE;
	sqlite3_bind_text(q, 1, id, -1, SQLITE_STATIC);
	sqlite3_bind_text(q, 2, zone, -1, SQLITE_STATIC);
	sqlite3_bind_int64(q, 3, (int64_t)count);
	sqlite3_bind_int64(q, 4, last_ns);
	int rc = sqlite3_step(q);
	sqlite3_finalize(q);
	return rc == SQLITE_DONE ? 0 : store_sql_error(st, "write shape domain");
}

int store_event_find(struct store *st, int64_t ts_ns, const uint8_t ip[16], uint16_t port,
		     int64_t *id)
{
	/* ids are >= ts_ns; a second of key space above it is searched */
	static const char sql[] = "SELECT id FROM events WHERE id >= ?1 AND id < ?1 + 1000000000"
				  " AND ts_ns = ?1 AND src_ip = ?2 AND src_port = ?3"
				  " ORDER BY id LIMIT 1";
	sqlite3_stmt *q;
	if (prepare(st, sql, &q) != 0)
		return SINKD_ESTORE;
	sqlite3_bind_int64(q, 1, ts_ns);
	sqlite3_bind_blob(q, 2, ip, 16, SQLITE_STATIC);
	sqlite3_bind_int(q, 3, port);
	int rc = sqlite3_step(q), ret = SINKD_ENOENT;
	if (rc == SQLITE_ROW) {
		*id = sqlite3_column_int64(q, 0);
		ret = 0;
	} else if (rc != SQLITE_DONE) {
		ret = store_sql_error(st, "find event");
	}
	sqlite3_finalize(q);
	return ret;
}

int store_shapes_list(struct store *st, const char *domain, size_t limit, store_shape_cb cb,
		      void *ctx)
{
	char sql[1536];
	sqlite3_stmt *q;
	snprintf(sql, sizeof(sql),
		 "SELECT %s FROM shapes s WHERE ?1 IS NULL OR s.id IN"
		 " (SELECT shape_id FROM shape_domains WHERE zone = ?1"
		 "  OR substr(?1, -length(zone) - 1) = '.' || zone)"
		 " ORDER BY s.count DESC, s.id LIMIT ?2",
		 shape_columns);
	if (prepare(st, sql, &q) != 0)
		return SINKD_ESTORE;
	if (domain != NULL)
		sqlite3_bind_text(q, 1, domain, -1, SQLITE_STATIC);
	sqlite3_bind_int64(q, 2, limit == 0 ? -1 : (int64_t)limit);
	int rc;
	while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		struct store_shape s;
		read_row(q, &s);
		if (cb(&s, ctx) != 0) {
			rc = SQLITE_DONE;
			break;
		}
	}
	sqlite3_finalize(q);
	return rc == SQLITE_DONE ? 0 : store_sql_error(st, "list shapes");
}
