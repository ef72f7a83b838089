/* store_write: one transaction per batch. DNS events are first merged in
 * memory by (minute, resolver, zone, qname, qtype, rcode), so a batch of
 * identical queries costs one upsert; individual rows go to `events`. */
#include "store/store_internal.h"

#include "core/error.h"
#include "core/log.h"

#include <stdlib.h>
#include <string.h>

#define AGG_MIN_CAP 1024

static uint64_t mix64(uint64_t h, uint64_t v)
{
	h ^= v + 0x9e3779b97f4a7c15ull + (h << 6) + (h >> 2);
	return h;
}

static uint64_t agg_hash(const struct store_agg_key *k)
{
	uint64_t a, b;
	memcpy(&a, k->resolver, 8);
	memcpy(&b, k->resolver + 8, 8);
	uint64_t h = mix64(0, (uint64_t)k->minute);
	h = mix64(h, (uint64_t)k->zone_id);
	h = mix64(h, (uint64_t)k->qname_id);
	h = mix64(h, a);
	h = mix64(h, b);
	h = mix64(h, ((uint64_t)k->qtype << 16) | k->rcode);
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdull;
	return h ^ (h >> 33);
}

static bool agg_key_eq(const struct store_agg_key *x, const struct store_agg_key *y)
{
	return x->minute == y->minute && x->zone_id == y->zone_id && x->qname_id == y->qname_id &&
	       x->qtype == y->qtype && x->rcode == y->rcode &&
	       memcmp(x->resolver, y->resolver, sizeof(x->resolver)) == 0;
}

void store_agg_free(struct store_agg *agg)
{
	free(agg->slots);
	free(agg->used);
	memset(agg, 0, sizeof(*agg));
}

/* Make room for n distinct keys at load <= 1/2 and start an empty batch.
 * Allocation happens only when a batch is bigger than any before. */
static int agg_reset(struct store_agg *agg, size_t n)
{
	size_t cap = AGG_MIN_CAP;
	while (cap < 2 * n)
		cap *= 2;
	if (cap > agg->cap) {
		struct store_agg_entry *slots = calloc(cap, sizeof(*slots));
		uint32_t *used = calloc(cap, sizeof(*used));
		if (slots == NULL || used == NULL) {
			free(slots);
			free(used);
			return SINKD_ENOMEM;
		}
		store_agg_free(agg);
		agg->slots = slots;
		agg->used = used;
		agg->cap = cap;
	}
	agg->n_used = 0;
	if (++agg->gen == 0) {
		/* Wrapped: old stamps could look current. */
		for (size_t i = 0; i < agg->cap; i++)
			agg->slots[i].gen = 0;
		agg->gen = 1;
	}
	return 0;
}

static void agg_add(struct store_agg *agg, const struct store_agg_key *key, bool logged)
{
	size_t mask = agg->cap - 1;
	size_t i = agg_hash(key) & mask;
	while (agg->slots[i].gen == agg->gen) {
		if (agg_key_eq(&agg->slots[i].key, key))
			break;
		i = (i + 1) & mask;
	}
	struct store_agg_entry *e = &agg->slots[i];
	if (e->gen != agg->gen) {
		e->gen = agg->gen;
		e->key = *key;
		e->count = 0;
		e->logged = 0;
		agg->used[agg->n_used++] = (uint32_t)i;
	}
	e->count++;
	e->logged += logged;
}

static int upsert_entry(struct store *st, const struct store_agg_entry *e)
{
	sqlite3_stmt *s = st->agg_upsert;
	sqlite3_bind_int64(s, 1, e->key.minute);
	sqlite3_bind_blob(s, 2, e->key.resolver, 16, SQLITE_STATIC);
	sqlite3_bind_int64(s, 3, e->key.zone_id);
	sqlite3_bind_int64(s, 4, e->key.qname_id);
	sqlite3_bind_int(s, 5, e->key.qtype);
	sqlite3_bind_int(s, 6, e->key.rcode);
	sqlite3_bind_int64(s, 7, (int64_t)e->count);
	sqlite3_bind_int64(s, 8, (int64_t)e->logged);
	int rc = sqlite3_step(s);
	sqlite3_reset(s);
	return rc == SQLITE_DONE ? 0 : store_sql_error(st, "upsert dns_minute");
}

static int agg_flush(struct store *st)
{
	for (size_t i = 0; i < st->agg.n_used; i++) {
		if (upsert_entry(st, &st->agg.slots[st->agg.used[i]]) != 0)
			return SINKD_ESTORE;
	}
	return 0;
}

/* Bind the id of a label, or NULL for an empty one. */
static int bind_label(struct store *st, struct store_lookup *lk, int col, const char *text)
{
	int64_t id;
	if (text[0] == '\0')
		return sqlite3_bind_null(st->event_insert, col) == SQLITE_OK ? 0 : SINKD_ESTORE;
	if (store_lookup_id(st, lk, text, &id) != 0)
		return SINKD_ESTORE;
	sqlite3_bind_int64(st->event_insert, col, id);
	return 0;
}

static void bind_event_fields(sqlite3_stmt *s, const struct sinkd_event *ev)
{
	sqlite3_bind_int64(s, 1, (int64_t)ev->ts_ns);
	sqlite3_bind_int(s, 2, ev->kind);
	sqlite3_bind_int(s, 3, ev->transport);
	sqlite3_bind_int(s, 4, ev->flags);
	sqlite3_bind_int(s, 5, ev->worker);
	sqlite3_bind_blob(s, 6, ev->src.ip, 16, SQLITE_STATIC);
	sqlite3_bind_int(s, 7, ev->src.port);
	sqlite3_bind_blob(s, 8, ev->dst.ip, 16, SQLITE_STATIC);
	sqlite3_bind_int(s, 9, ev->dst.port);
	bool dns = ev->kind == EVENT_DNS;
	bool ecs = dns && (ev->flags & EVF_ECS);
	for (int col = 12; col <= 18; col++)
		sqlite3_bind_null(s, col);
	if (dns) {
		sqlite3_bind_int(s, 12, ev->qtype);
		sqlite3_bind_int(s, 13, ev->qclass);
		sqlite3_bind_int(s, 14, ev->rcode);
		sqlite3_bind_int(s, 15, ev->msg_size);
	}
	if (ecs) {
		sqlite3_bind_int(s, 16, ev->ecs_family);
		sqlite3_bind_int(s, 17, ev->ecs_source_prefix);
		sqlite3_bind_blob(s, 18, ev->ecs_addr, 16, SQLITE_STATIC);
	}
	if (ev->country[0] != '\0')
		sqlite3_bind_text(s, 22, ev->country, (int)strnlen(ev->country, 3), SQLITE_STATIC);
	else
		sqlite3_bind_null(s, 22);
	if (ev->asn != 0)
		sqlite3_bind_int64(s, 23, ev->asn);
	else
		sqlite3_bind_null(s, 23);
}

static int insert_event(struct store *st, const struct sinkd_event *ev)
{
	sqlite3_stmt *s = st->event_insert;
	bind_event_fields(s, ev);
	if (bind_label(st, &st->names, 10, ev->zone) != 0 ||
	    bind_label(st, &st->names, 11, ev->qname) != 0 ||
	    bind_label(st, &st->labels, 19, ev->family) != 0 ||
	    bind_label(st, &st->labels, 20, ev->msg_type) != 0 ||
	    bind_label(st, &st->labels, 21, ev->bot_id) != 0)
		return SINKD_ESTORE;
	int rc = sqlite3_step(s);
	sqlite3_reset(s);
	if (rc != SQLITE_DONE)
		return store_sql_error(st, "insert event");
	return 0;
}

static int write_one(struct store *st, const struct sinkd_event *ev, bool every_query,
		     uint64_t *rows)
{
	bool row = ev->kind != EVENT_DNS || every_query;
	if (ev->kind == EVENT_DNS) {
		struct store_agg_key key = {
		    .minute = (int64_t)(ev->ts_ns / 1000000000ull / 60 * 60),
		    .qtype = ev->qtype,
		    .rcode = ev->rcode,
		};
		memcpy(key.resolver, ev->src.ip, sizeof(key.resolver));
		if (store_lookup_id(st, &st->names, ev->zone, &key.zone_id) != 0 ||
		    store_lookup_id(st, &st->names, ev->qname, &key.qname_id) != 0)
			return SINKD_ESTORE;
		agg_add(&st->agg, &key, row);
	}
	if (!row)
		return 0;
	(*rows)++;
	return insert_event(st, ev);
}

static int step_control(struct store *st, sqlite3_stmt *stmt, const char *what)
{
	int rc = sqlite3_step(stmt);
	sqlite3_reset(stmt);
	return rc == SQLITE_DONE ? 0 : store_sql_error(st, what);
}

static void rollback(struct store *st, size_t n)
{
	if (!sqlite3_get_autocommit(st->db))
		step_control(st, st->rollback, "rollback");
	/* Ids handed out inside the transaction are gone (and may be reused
	 * for other strings): forget every cached id. */
	store_lookup_invalidate(&st->names);
	store_lookup_invalidate(&st->labels);
	atomic_fetch_add_explicit(&st->stat.batch_failures, 1, memory_order_relaxed);
	log_err("store %s: batch rolled back (%zu records lost)", st->path, n);
}

static int write_begin(struct store *st)
{
	if (st->read_only) {
		log_err("store %s: write to a read-only handle", st->path);
		return SINKD_ESTORE;
	}
	return step_control(st, st->begin, "begin");
}

static int write_commit(struct store *st, uint64_t events, uint64_t rows, uint64_t upserts)
{
	if (step_control(st, st->commit, "commit") != 0)
		return SINKD_ESTORE;
	atomic_fetch_add_explicit(&st->stat.batches, 1, memory_order_relaxed);
	atomic_fetch_add_explicit(&st->stat.events, events, memory_order_relaxed);
	atomic_fetch_add_explicit(&st->stat.event_rows, rows, memory_order_relaxed);
	atomic_fetch_add_explicit(&st->stat.agg_upserts, upserts, memory_order_relaxed);
	return 0;
}

int store_write(struct store *st, const struct sinkd_event *ev, size_t n, bool every_query)
{
	uint64_t rows = 0;
	if (n == 0)
		return 0;
	if (agg_reset(&st->agg, n) != 0) {
		log_err("store %s: out of memory for a batch of %zu events", st->path, n);
		return SINKD_ESTORE;
	}
	if (write_begin(st) != 0)
		return SINKD_ESTORE;
	for (size_t i = 0; i < n; i++) {
		if (write_one(st, &ev[i], every_query, &rows) != 0)
			goto fail;
	}
	if (agg_flush(st) != 0 || write_commit(st, n, rows, st->agg.n_used) != 0)
		goto fail;
	return 0;
fail:
	rollback(st, n);
	return SINKD_ESTORE;
}

static int upsert_caller_agg(struct store *st, const struct store_dns_agg *a)
{
	struct store_agg_entry e = {
	    .key = {.minute = a->minute, .qtype = a->qtype, .rcode = a->rcode},
	    .count = a->count,
	    .logged = a->logged,
	};
	memcpy(e.key.resolver, a->resolver, sizeof(e.key.resolver));
	if (store_lookup_id(st, &st->names, a->zone, &e.key.zone_id) != 0 ||
	    store_lookup_id(st, &st->names, a->qname, &e.key.qname_id) != 0)
		return SINKD_ESTORE;
	return upsert_entry(st, &e);
}

int store_write_aggs(struct store *st, const struct store_dns_agg *aggs, size_t n_aggs,
		     const struct sinkd_event *ev, size_t n_ev)
{
	uint64_t events = n_ev;
	if (n_aggs == 0 && n_ev == 0)
		return 0;
	if (write_begin(st) != 0)
		return SINKD_ESTORE;
	for (size_t i = 0; i < n_ev; i++) {
		if (insert_event(st, &ev[i]) != 0)
			goto fail;
	}
	for (size_t i = 0; i < n_aggs; i++) {
		if (upsert_caller_agg(st, &aggs[i]) != 0)
			goto fail;
		events += aggs[i].count - aggs[i].logged;
	}
	if (write_commit(st, events, n_ev, n_aggs) != 0)
		goto fail;
	return 0;
fail:
	rollback(st, n_ev + n_aggs);
	return SINKD_ESTORE;
}
