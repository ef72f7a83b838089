/* store_write and store_write_aggs: one transaction per batch. DNS events
 * are first merged in memory by (minute, resolver, zone, qname, qtype,
 * rcode), so a batch of identical queries costs one upsert; aggregates are
 * upserted in primary-key order; individual rows go to `events`. */
#include "store/store_internal.h"

#include "core/error.h"
#include "core/log.h"

#include <errno.h>
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
	h = mix64(h, a);
	h = mix64(h, b);
	h = mix64(h, ((uint64_t)k->qtype << 16) | k->rcode);
	for (size_t i = 0; i < k->qname_len; i++)
		h = (h ^ (uint8_t)k->qname[i]) * 0x100000001b3ull;
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdull;
	return h ^ (h >> 33);
}

static bool agg_key_eq(const struct store_agg_key *x, const struct store_agg_key *y)
{
	return x->minute == y->minute && x->zone_id == y->zone_id && x->qtype == y->qtype &&
	       x->rcode == y->rcode && x->qname_len == y->qname_len &&
	       memcmp(x->resolver, y->resolver, sizeof(x->resolver)) == 0 &&
	       memcmp(x->qname, y->qname, x->qname_len) == 0;
}

static int store_oom(const struct store *st, size_t n)
{
	log_err("store %s: out of memory for a batch of %zu records", st->path, n);
	return SINKD_ENOMEM;
}

static int cmp_i64(int64_t a, int64_t b) { return (a > b) - (a < b); }

static int cmp_text(const char *a, size_t a_len, const char *b, size_t b_len)
{
	int c = memcmp(a, b, a_len < b_len ? a_len : b_len);
	return c != 0 ? c : cmp_i64((int64_t)a_len, (int64_t)b_len);
}

/* The order of the dns_minute primary key as SQLite compares it (BLOB and
 * TEXT: memcmp, then length). */
static int agg_key_cmp(const void *pa, const void *pb)
{
	const struct store_agg_key *a = &((const struct store_agg_entry *)pa)->key;
	const struct store_agg_key *b = &((const struct store_agg_entry *)pb)->key;
	int c = cmp_i64(a->minute, b->minute);
	if (c == 0)
		c = memcmp(a->resolver, b->resolver, sizeof(a->resolver));
	if (c == 0)
		c = cmp_text(a->qname, a->qname_len, b->qname, b->qname_len);
	if (c == 0)
		c = cmp_i64(a->zone_id, b->zone_id);
	if (c == 0)
		c = cmp_i64(a->qtype, b->qtype);
	if (c == 0)
		c = cmp_i64(a->rcode, b->rcode);
	return c;
}

/* The same order on caller aggregates (the zone follows from the name). */
static int dns_agg_cmp(const void *pa, const void *pb)
{
	const struct store_dns_agg *a = pa, *b = pb;
	int c = cmp_i64(a->minute, b->minute);
	if (c == 0)
		c = memcmp(a->resolver, b->resolver, sizeof(a->resolver));
	if (c == 0)
		c = strcmp(a->qname, b->qname); /* = memcmp, then length */
	if (c == 0)
		c = strcmp(a->zone, b->zone);
	if (c == 0)
		c = cmp_i64(a->qtype, b->qtype);
	if (c == 0)
		c = cmp_i64(a->rcode, b->rcode);
	return c;
}

void store_dns_aggs_sort(struct store_dns_agg *aggs, size_t n)
{
	if (n > 1)
		qsort(aggs, n, sizeof(*aggs), dns_agg_cmp);
}

void store_agg_free(struct store_agg *agg)
{
	free(agg->slots);
	free(agg->used);
	free(agg->upserts);
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
		free(agg->slots);
		free(agg->used);
		agg->slots = slots;
		agg->used = used;
		agg->cap = cap;
		agg->gen = 0;
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

/* Room for n entries in the upsert list (grown only, like the table). */
static int upserts_reserve(struct store_agg *agg, size_t n)
{
	if (n <= agg->upserts_cap)
		return 0;
	size_t cap = agg->upserts_cap < AGG_MIN_CAP ? AGG_MIN_CAP : agg->upserts_cap;
	while (cap < n)
		cap *= 2;
	struct store_agg_entry *u = realloc(agg->upserts, cap * sizeof(*u));
	if (u == NULL)
		return SINKD_ENOMEM;
	agg->upserts = u;
	agg->upserts_cap = cap;
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
	sqlite3_bind_text(s, 4, e->key.qname, e->key.qname_len, SQLITE_STATIC);
	sqlite3_bind_int(s, 5, e->key.qtype);
	sqlite3_bind_int(s, 6, e->key.rcode);
	sqlite3_bind_int64(s, 7, (int64_t)e->count);
	sqlite3_bind_int64(s, 8, (int64_t)e->logged);
	int rc = sqlite3_step(s);
	sqlite3_reset(s);
	return rc == SQLITE_DONE ? 0 : store_sql_error(st, "upsert dns_minute");
}

/* Upsert the first n entries of the upsert list in primary-key order:
 * consecutive keys land on the same B-tree leaf, so a batch dirties each
 * page once instead of once per key. */
static int upsert_sorted(struct store *st, size_t n)
{
	struct store_agg_entry *u = st->agg.upserts;
	if (n > 1)
		qsort(u, n, sizeof(*u), agg_key_cmp);
	for (size_t i = 0; i < n; i++) {
		if (upsert_entry(st, &u[i]) != 0)
			return SINKD_ESTORE;
	}
	return 0;
}

static int agg_flush(struct store *st)
{
	if (upserts_reserve(&st->agg, st->agg.n_used) != 0)
		return store_oom(st, st->agg.n_used);
	for (size_t i = 0; i < st->agg.n_used; i++)
		st->agg.upserts[i] = st->agg.slots[st->agg.used[i]];
	return upsert_sorted(st, st->agg.n_used);
}

/* The dns_minute key of a query; qname is borrowed. */
static int make_key(struct store *st, struct store_agg_key *key, int64_t minute,
		    const uint8_t resolver[16], const char *zone, const char *qname, uint16_t qtype,
		    uint16_t rcode)
{
	key->minute = minute;
	key->qtype = qtype;
	key->rcode = rcode;
	memcpy(key->resolver, resolver, sizeof(key->resolver));
	key->qname = qname;
	key->qname_len = (uint16_t)strnlen(qname, EVENT_QNAME_MAX - 1);
	return store_lookup_id(st, &st->zones, zone, &key->zone_id);
}

static int write_one(struct store *st, const struct sinkd_event *ev, bool every_query,
		     uint64_t *rows)
{
	bool row = ev->kind != EVENT_DNS || every_query;
	if (ev->kind == EVENT_DNS) {
		struct store_agg_key key;
		int64_t minute = (int64_t)(ev->ts_ns / 1000000000ull / 60 * 60);
		if (make_key(st, &key, minute, ev->src.ip, ev->zone, ev->qname, ev->qtype,
			     ev->rcode) != 0)
			return SINKD_ESTORE;
		agg_add(&st->agg, &key, row);
	}
	if (!row)
		return 0;
	(*rows)++;
	return store_rows_add(st, ev);
}

static int step_control(struct store *st, sqlite3_stmt *stmt, const char *what)
{
	int rc = sqlite3_step(stmt);
	sqlite3_reset(stmt);
	return rc == SQLITE_DONE ? 0 : store_sql_error(st, what);
}

static enum store_fault classify(int rc)
{
	switch (rc & 0xff) {
	case SQLITE_FULL:
		return STORE_FAULT_FULL;
	case SQLITE_IOERR:
		/* SQLite reports ENOSPC on a write as SQLITE_FULL, but a WAL or
		 * shm that cannot grow can surface as an I/O error. */
		return errno == ENOSPC || errno == EDQUOT ? STORE_FAULT_FULL
							  : STORE_FAULT_UNWRITABLE;
	case SQLITE_READONLY:
	case SQLITE_CANTOPEN:
	case SQLITE_PERM:
	case SQLITE_NOTADB:
	case SQLITE_CORRUPT:
		return STORE_FAULT_UNWRITABLE;
	default:
		return STORE_FAULT_OTHER;
	}
}

enum store_fault store_last_fault(const struct store *st)
{
	return (enum store_fault)st->last_fault;
}

static void rollback(struct store *st, size_t n)
{
	st->last_fault = classify(sqlite3_extended_errcode(st->db));
	if (!sqlite3_get_autocommit(st->db))
		step_control(st, st->rollback, "rollback");
	store_rows_rollback(st);
	store_chain_rolled_back(st);
	/* Ids handed out inside the transaction are gone (and may be reused
	 * for other strings): forget every cached id. */
	store_lookup_invalidate(&st->zones);
	store_lookup_invalidate(&st->labels);
	store_lookup_invalidate(&st->bots);
	atomic_fetch_add_explicit(&st->stat.batch_failures, 1, memory_order_relaxed);
	log_err("store %s: batch rolled back (%zu records lost)", st->path, n);
}

static int write_begin(struct store *st)
{
	if (st->read_only) {
		log_err("store %s: write to a read-only handle", st->path);
		return SINKD_ESTORE;
	}
	store_rows_begin(st);
	if (step_control(st, st->begin, "begin") != 0) {
		st->last_fault = classify(sqlite3_extended_errcode(st->db));
		atomic_fetch_add_explicit(&st->stat.batch_failures, 1, memory_order_relaxed);
		return SINKD_ESTORE;
	}
	if (store_chain_begin(st) != 0) {
		rollback(st, 0);
		return SINKD_ESTORE;
	}
	return 0;
}

static int write_commit(struct store *st, uint64_t events, uint64_t rows, uint64_t upserts)
{
	/* The chain record (and a manifest when due) in the same transaction. */
	if (store_chain_seal(st, st->agg.upserts, upserts) != 0 ||
	    step_control(st, st->commit, "commit") != 0)
		return SINKD_ESTORE;
	store_chain_committed(st);
	st->last_fault = STORE_FAULT_NONE;
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
		store_oom(st, n);
		return SINKD_ESTORE;
	}
	if (write_begin(st) != 0)
		return SINKD_ESTORE;
	for (size_t i = 0; i < n; i++) {
		if (write_one(st, &ev[i], every_query, &rows) != 0)
			goto fail;
	}
	if (store_rows_flush(st) != 0 || agg_flush(st) != 0 ||
	    write_commit(st, n, rows, st->agg.n_used) != 0)
		goto fail;
	return 0;
fail:
	rollback(st, n);
	return SINKD_ESTORE;
}

/* Caller aggregates into the upsert list, with their zone ids. */
static int collect_caller_aggs(struct store *st, const struct store_dns_agg *aggs, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		const struct store_dns_agg *a = &aggs[i];
		struct store_agg_entry *e = &st->agg.upserts[i];
		if (make_key(st, &e->key, a->minute, a->resolver, a->zone, a->qname, a->qtype,
			     a->rcode) != 0)
			return SINKD_ESTORE;
		e->count = a->count;
		e->logged = a->logged;
	}
	return 0;
}

int store_write_aggs(struct store *st, const struct store_dns_agg *aggs, size_t n_aggs,
		     const struct sinkd_event *ev, size_t n_ev)
{
	return store_write_batch(st, aggs, n_aggs, ev, n_ev, NULL, 0);
}

int store_write_batch(struct store *st, const struct store_dns_agg *aggs, size_t n_aggs,
		      const struct sinkd_event *ev, size_t n_ev,
		      const struct store_batch_hook *hooks, size_t n_hooks)
{
	uint64_t events = n_ev;
	if (n_aggs == 0 && n_ev == 0 && n_hooks == 0)
		return 0;
	if (upserts_reserve(&st->agg, n_aggs) != 0) {
		store_oom(st, n_aggs);
		return SINKD_ESTORE;
	}
	if (write_begin(st) != 0)
		return SINKD_ESTORE;
	for (size_t i = 0; i < n_ev; i++) {
		if (store_rows_add(st, &ev[i]) != 0)
			goto fail;
	}
	if (store_rows_flush(st) != 0 || collect_caller_aggs(st, aggs, n_aggs) != 0 ||
	    upsert_sorted(st, n_aggs) != 0)
		goto fail;
	for (size_t i = 0; i < n_hooks; i++) {
		if (hooks[i].fn(st, hooks[i].ctx) != 0)
			goto fail;
	}
	for (size_t i = 0; i < n_aggs; i++)
		events += aggs[i].count - aggs[i].logged;
	if (write_commit(st, events, n_ev, n_aggs) != 0)
		goto fail;
	return 0;
fail:
	rollback(st, n_ev + n_aggs);
	return SINKD_ESTORE;
}
