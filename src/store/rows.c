/* Event rows. An event's id is its time key: ts_ns, or the next free
 * nanosecond when another event already has it. Events arrive nearly in
 * time order, so rows are appended to the table B-tree, which is itself the
 * time index (no secondary index to maintain). Runs of in-order rows are
 * written STORE_ROWS_PER_INSERT at a time by one multi-row INSERT, which
 * saves the per-statement cost; a late event is inserted on its own at its
 * place in time. HTTP, TLS and raw events also get their `capture` row
 * (capture.c) under the same id. */
#include "store/store_internal.h"

#include "core/error.h"

#include <stdlib.h>
#include <string.h>

#define ROW_COLUMNS 29
/* A late event tries this many taken nanoseconds before going after the
 * newest row; time keys stop short of INT64_MAX to leave room above. */
#define LATE_PROBES 64
#define KEY_MAX (INT64_MAX - (1ll << 40))

static const char sql_insert_head[] =
    "INSERT INTO events(id, ts_ns, kind, transport, flags, worker, src_ip, src_port, dst_ip,"
    " dst_port, zone_id, qname, qtype, qclass, rcode, msg_size, ecs_family, ecs_prefix,"
    " ecs_addr, family_id, msg_type_id, bot_id, country, asn, rule_id, tag_id, severity,"
    " version_id, decode_id) VALUES ";

int store_rows_open(struct store *st)
{
	static const char sql_last[] = "SELECT COALESCE(MAX(id), 0) FROM events";
	struct store_rows *rw = &st->rows;
	sqlite3_stmt *max = NULL;
	if (store_prepare_rows(st, sql_insert_head, ROW_COLUMNS, 1, &rw->insert_one) != 0 ||
	    store_prepare_rows(st, sql_insert_head, ROW_COLUMNS, STORE_ROWS_PER_INSERT,
			       &rw->insert_many) != 0)
		return SINKD_ESTORE;
	if (sqlite3_prepare_v2(st->db, sql_last, -1, &max, NULL) != SQLITE_OK ||
	    sqlite3_step(max) != SQLITE_ROW) {
		sqlite3_finalize(max);
		return store_sql_error(st, "read last event id");
	}
	rw->last_id = sqlite3_column_int64(max, 0);
	sqlite3_finalize(max);
	return 0;
}

void store_rows_close(struct store *st)
{
	sqlite3_finalize(st->rows.insert_one);
	sqlite3_finalize(st->rows.insert_many);
	st->rows.insert_one = st->rows.insert_many = NULL;
	free(st->rows.ids);
	st->rows.ids = NULL;
	st->rows.n_ids = st->rows.cap_ids = 0;
}

/* Remember the id of the next row of this write (store_batch_ids). */
static int note_id(struct store_rows *rw, int64_t id)
{
	if (rw->n_ids == rw->cap_ids) {
		size_t cap = rw->cap_ids ? rw->cap_ids * 2 : 1024;
		int64_t *ids = realloc(rw->ids, cap * sizeof(*ids));
		if (ids == NULL)
			return SINKD_ENOMEM;
		rw->ids = ids;
		rw->cap_ids = cap;
	}
	rw->ids[rw->n_ids++] = id;
	return 0;
}

const int64_t *store_batch_ids(const struct store *st, size_t *n)
{
	*n = st->rows.n_ids;
	return st->rows.ids;
}

void store_rows_begin(struct store *st)
{
	st->rows.last_id_at_begin = st->rows.last_id;
	st->rows.n_pending = 0;
	st->rows.n_ids = 0;
	st->capture.n_pending = 0;
}

void store_rows_rollback(struct store *st)
{
	st->rows.last_id = st->rows.last_id_at_begin;
	st->rows.n_pending = 0;
	st->rows.n_ids = 0;
	st->capture.n_pending = 0;
	/* Bodies inserted by the rolled-back transaction are gone. */
	store_capture_forget(st);
}

/* Bind the id of a zone or label at column col, or NULL for an empty one. */
static int bind_lookup(struct store *st, sqlite3_stmt *s, struct store_lookup *lk, int col,
		       const char *text)
{
	int64_t id;
	if (text[0] == '\0')
		return sqlite3_bind_null(s, col) == SQLITE_OK ? 0 : SINKD_ESTORE;
	if (store_lookup_id(st, lk, text, &id) != 0)
		return SINKD_ESTORE;
	sqlite3_bind_int64(s, col, id);
	return 0;
}

/* Schema 5 label columns: rule, tag, severity, version, decode status.
 * Severity is NULL for an unclassified event (family "" ). */
static int bind_labels(struct store *st, sqlite3_stmt *s, int base, const struct sinkd_event *ev)
{
	if (ev->family[0] == '\0')
		sqlite3_bind_null(s, base + 27);
	else
		sqlite3_bind_int(s, base + 27, ev->severity);
	if (bind_lookup(st, s, &st->labels, base + 25, ev->rule_id) != 0 ||
	    bind_lookup(st, s, &st->labels, base + 26, ev->tag) != 0 ||
	    bind_lookup(st, s, &st->labels, base + 28, ev->proto_version) != 0 ||
	    bind_lookup(st, s, &st->labels, base + 29, ev->decode_status) != 0)
		return SINKD_ESTORE;
	return 0;
}

static void bind_text_or_null(sqlite3_stmt *s, int col, const char *text, size_t max)
{
	size_t len = strnlen(text, max - 1);
	if (len == 0)
		sqlite3_bind_null(s, col);
	else
		sqlite3_bind_text(s, col, text, (int)len, SQLITE_STATIC);
}

static void bind_int_or_null(sqlite3_stmt *s, int col, bool set, int64_t v)
{
	if (set)
		sqlite3_bind_int64(s, col, v);
	else
		sqlite3_bind_null(s, col);
}

/* Bind one row at parameter offset base (0 for the first row). Strings
 * and addresses are bound SQLITE_STATIC: ev outlives the statement step. */
static int bind_row(struct store *st, sqlite3_stmt *s, int base, const struct sinkd_event *ev,
		    int64_t id)
{
	bool dns = ev->kind == EVENT_DNS;
	bool ecs = dns && (ev->flags & EVF_ECS);
	sqlite3_bind_int64(s, base + 1, id);
	sqlite3_bind_int64(s, base + 2, (int64_t)ev->ts_ns);
	sqlite3_bind_int(s, base + 3, ev->kind);
	sqlite3_bind_int(s, base + 4, ev->transport);
	sqlite3_bind_int64(s, base + 5, ev->flags);
	sqlite3_bind_int(s, base + 6, ev->worker);
	sqlite3_bind_blob(s, base + 7, ev->src.ip, 16, SQLITE_STATIC);
	sqlite3_bind_int(s, base + 8, ev->src.port);
	sqlite3_bind_blob(s, base + 9, ev->dst.ip, 16, SQLITE_STATIC);
	sqlite3_bind_int(s, base + 10, ev->dst.port);
	bind_text_or_null(s, base + 12, ev->qname, sizeof(ev->qname));
	bind_int_or_null(s, base + 13, dns, ev->qtype);
	bind_int_or_null(s, base + 14, dns, ev->qclass);
	bind_int_or_null(s, base + 15, dns, ev->rcode);
	bind_int_or_null(s, base + 16, dns, ev->msg_size);
	bind_int_or_null(s, base + 17, ecs, ev->ecs_family);
	bind_int_or_null(s, base + 18, ecs, ev->ecs_source_prefix);
	if (ecs)
		sqlite3_bind_blob(s, base + 19, ev->ecs_addr, 16, SQLITE_STATIC);
	else
		sqlite3_bind_null(s, base + 19);
	bind_text_or_null(s, base + 23, ev->country, sizeof(ev->country));
	bind_int_or_null(s, base + 24, ev->asn != 0, ev->asn);
	if (bind_lookup(st, s, &st->zones, base + 11, ev->zone) != 0 ||
	    bind_lookup(st, s, &st->labels, base + 20, ev->family) != 0 ||
	    bind_lookup(st, s, &st->labels, base + 21, ev->msg_type) != 0 ||
	    bind_lookup(st, s, &st->bots, base + 22, ev->bot_id) != 0 ||
	    bind_labels(st, s, base, ev) != 0)
		return SINKD_ESTORE;
	return 0;
}

/* One row with insert_one: SQLITE_DONE, or SQLite's error code (a taken id
 * is SQLITE_CONSTRAINT_PRIMARYKEY and aborts only this statement). */
static int insert_row(struct store *st, const struct sinkd_event *ev, int64_t id, int *rc)
{
	sqlite3_stmt *s = st->rows.insert_one;
	if (bind_row(st, s, 0, ev, id) != 0)
		return SINKD_ESTORE;
	*rc = sqlite3_step(s);
	sqlite3_reset(s);
	return 0;
}

/* Rows bound into insert_many but not written (fewer than a full group). */
int store_rows_flush(struct store *st)
{
	struct store_rows *rw = &st->rows;
	int rc;
	for (size_t i = 0; i < rw->n_pending; i++) {
		if (insert_row(st, rw->pending[i].ev, rw->pending[i].id, &rc) != 0)
			return SINKD_ESTORE;
		if (rc != SQLITE_DONE)
			return store_sql_error(st, "insert event");
	}
	rw->n_pending = 0;
	return store_capture_flush(st);
}

/* An event older than the newest row: at its own time if free, else the
 * next free nanosecond; after LATE_PROBES taken ones, after the newest. */
static int insert_late(struct store *st, const struct sinkd_event *ev, int64_t key)
{
	struct store_rows *rw = &st->rows;
	int rc = SQLITE_DONE;
	for (int probe = 0; probe <= LATE_PROBES; probe++) {
		int64_t id = probe < LATE_PROBES && key + probe <= rw->last_id ? key + probe
									       : rw->last_id + 1;
		if (insert_row(st, ev, id, &rc) != 0)
			return SINKD_ESTORE;
		if (rc == SQLITE_DONE) {
			if (id > rw->last_id)
				rw->last_id = id;
			else if (store_chain_late(st, id) != 0)
				return SINKD_ENOMEM;
			if (note_id(rw, id) != 0)
				return store_sql_error(st, "remember event id: out of memory");
			return ev->kind == EVENT_DNS ? 0 : store_capture_add(st, ev, id);
		}
		if (rc != SQLITE_CONSTRAINT_PRIMARYKEY)
			break;
	}
	return store_sql_error(st, "insert late event");
}

static int64_t time_key(uint64_t ts_ns)
{
	if (ts_ns == 0)
		return 1;
	return ts_ns > (uint64_t)KEY_MAX ? KEY_MAX : (int64_t)ts_ns;
}

int store_rows_add(struct store *st, const struct sinkd_event *ev)
{
	struct store_rows *rw = &st->rows;
	int64_t key = time_key(ev->ts_ns);
	if (key <= rw->last_id) {
		/* Pending rows hold ids up to last_id: write them first so
		 * the probe sees every taken id. */
		if (store_rows_flush(st) != 0)
			return SINKD_ESTORE;
		return insert_late(st, ev, key);
	}
	rw->last_id = key;
	if (note_id(rw, key) != 0)
		return store_sql_error(st, "remember event id: out of memory");
	if (bind_row(st, rw->insert_many, (int)rw->n_pending * ROW_COLUMNS, ev, key) != 0)
		return SINKD_ESTORE;
	if (ev->kind != EVENT_DNS && store_capture_add(st, ev, key) != 0)
		return SINKD_ESTORE;
	rw->pending[rw->n_pending].ev = ev;
	rw->pending[rw->n_pending].id = key;
	if (++rw->n_pending < STORE_ROWS_PER_INSERT)
		return 0;
	int rc = sqlite3_step(rw->insert_many);
	sqlite3_reset(rw->insert_many);
	rw->n_pending = 0;
	return rc == SQLITE_DONE ? 0 : store_sql_error(st, "insert events");
}
