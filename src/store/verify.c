/* store_verify: recompute the evidence chain from the tables and compare
 * it with what was sealed at commit time (docs/evidence.md, "Verifying"). */
#include "store/store_internal.h"

#include "core/error.h"

#include <openssl/evp.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

/* DNS sums per minute over every record, and the first record adding to it. */
struct minute_sum {
	int64_t minute; /* INT64_MIN: empty slot */
	int64_t first_seq;
	uint64_t queries, logged, keysum;
	bool seen;
};

struct minute_map {
	struct minute_sum *slots;
	size_t cap, n;
};

struct verify {
	struct store *st;
	const struct store_verify_opts *o;
	struct store_verify_result *res;
	int64_t *late; /* every record's late ids, sorted */
	size_t n_late;
	struct minute_map minutes;
	int64_t last_ev_hi, last_zones_hi, last_labels_hi, last_bots_hi, first_ev_lo;
	bool any;
};

static void fail(struct verify *v, int64_t seq, const char *fmt, ...)
{
	va_list ap;
	struct store_verify_result *r = v->res;
	r->ok = false;
	r->failures++;
	if (seq > 0 && (r->first_bad_seq == 0 || seq < r->first_bad_seq))
		r->first_bad_seq = seq;
	if (v->o->out == NULL || r->failures > 50)
		return;
	va_start(ap, fmt);
	if (seq > 0)
		fprintf(v->o->out, "batch %lld: ", (long long)seq);
	vfprintf(v->o->out, fmt, ap);
	fputc('\n', v->o->out);
	va_end(ap);
}

static struct minute_sum *minute_get(struct minute_map *m, int64_t minute, bool add)
{
	if (add && 2 * (m->n + 1) > m->cap) {
		size_t cap = m->cap ? 2 * m->cap : 1024;
		struct minute_sum *s = malloc(cap * sizeof(*s));
		if (s == NULL)
			return NULL;
		for (size_t i = 0; i < cap; i++)
			s[i].minute = INT64_MIN;
		for (size_t i = 0; i < m->cap; i++) {
			if (m->slots[i].minute == INT64_MIN)
				continue;
			size_t j =
			    ((uint64_t)m->slots[i].minute / 60 * 0x9e3779b97f4a7c15ull) & (cap - 1);
			while (s[j].minute != INT64_MIN)
				j = (j + 1) & (cap - 1);
			s[j] = m->slots[i];
		}
		free(m->slots);
		m->slots = s;
		m->cap = cap;
	}
	if (m->cap == 0)
		return NULL;
	size_t j = ((uint64_t)minute / 60 * 0x9e3779b97f4a7c15ull) & (m->cap - 1);
	while (m->slots[j].minute != INT64_MIN) {
		if (m->slots[j].minute == minute)
			return &m->slots[j];
		j = (j + 1) & (m->cap - 1);
	}
	if (!add)
		return NULL;
	m->n++;
	m->slots[j] = (struct minute_sum){.minute = minute};
	return &m->slots[j];
}

static int cmp_id(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
	return (x > y) - (x < y);
}

/* Every late id of every record: rows in a range that belong to a later
 * record. */
static int load_late(struct verify *v)
{
	sqlite3_stmt *s = NULL;
	size_t cap = 0;
	int rc;
	if (sqlite3_prepare_v2(v->st->db, "SELECT late FROM chain WHERE late_min IS NOT NULL", -1,
			       &s, NULL) != SQLITE_OK)
		return store_sql_error(v->st, "read late ids");
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		int64_t *ids;
		size_t n;
		if (chain_late_decode(sqlite3_column_blob(s, 0), (size_t)sqlite3_column_bytes(s, 0),
				      &ids, &n) != 0)
			continue; /* a damaged blob fails its record's hash */
		if (v->n_late + n > cap) {
			cap = 2 * (v->n_late + n);
			int64_t *grown = realloc(v->late, cap * sizeof(*grown));
			if (grown == NULL) {
				free(ids);
				sqlite3_finalize(s);
				return SINKD_ENOMEM;
			}
			v->late = grown;
		}
		memcpy(v->late + v->n_late, ids, n * sizeof(*ids));
		v->n_late += n;
		free(ids);
	}
	sqlite3_finalize(s);
	if (rc != SQLITE_DONE)
		return store_sql_error(v->st, "read late ids");
	if (v->n_late > 1)
		qsort(v->late, v->n_late, sizeof(*v->late), cmp_id);
	return 0;
}

static void record_from_row(sqlite3_stmt *s, struct chain_rec *r)
{
	r->seq = sqlite3_column_int64(s, 0);
	r->kind = sqlite3_column_int64(s, 1);
	r->ts_ns = sqlite3_column_int64(s, 2);
	r->ev_lo = sqlite3_column_int64(s, 3);
	r->ev_hi = sqlite3_column_int64(s, 4);
	r->zones_lo = sqlite3_column_int64(s, 5);
	r->zones_hi = sqlite3_column_int64(s, 6);
	r->labels_lo = sqlite3_column_int64(s, 7);
	r->labels_hi = sqlite3_column_int64(s, 8);
	r->bots_lo = sqlite3_column_int64(s, 19);
	r->bots_hi = sqlite3_column_int64(s, 20);
	r->rows = sqlite3_column_int64(s, 10);
	r->captures = sqlite3_column_int64(s, 11);
	r->time_lo = sqlite3_column_int64(s, 12);
	r->time_hi = sqlite3_column_int64(s, 13);
	r->pruned_seq = sqlite3_column_int64(s, 15);
	r->pruned_minute = sqlite3_column_int64(s, 16);
	memset(r->content, 0, sizeof(r->content));
	memset(r->hash, 0, sizeof(r->hash));
	if (sqlite3_column_bytes(s, 17) == CHAIN_HASH_LEN)
		memcpy(r->content, sqlite3_column_blob(s, 17), CHAIN_HASH_LEN);
	if (sqlite3_column_bytes(s, 18) == CHAIN_HASH_LEN)
		memcpy(r->hash, sqlite3_column_blob(s, 18), CHAIN_HASH_LEN);
}

/* Content of one unpruned batch against its record. */
static int check_content(struct verify *v, const struct chain_rec *r)
{
	struct chain_tally t = {.check_bodies = true};
	uint8_t content[CHAIN_HASH_LEN];
	if (chain_content(v->st, r, v->late, v->n_late, &t, content) != 0)
		return SINKD_ESTORE;
	v->res->content_checked++;
	v->res->rows += (uint64_t)t.rows;
	v->res->captures += (uint64_t)t.captures;
	if (t.missing_late > 0)
		fail(v, r->seq, "%lld of its rows stored below its range are missing (deleted)",
		     (long long)t.missing_late);
	else if (t.rows != r->rows || t.captures != r->captures)
		fail(v, r->seq,
		     "rows do not match: %lld event rows and %lld capture rows in ids (%lld, %lld] "
		     "and its late list, the record says %lld and %lld (rows deleted or inserted)",
		     (long long)t.rows, (long long)t.captures, (long long)r->ev_lo,
		     (long long)r->ev_hi, (long long)r->rows, (long long)r->captures);
	else if (memcmp(content, r->content, CHAIN_HASH_LEN) != 0)
		fail(v, r->seq,
		     "content does not match its hash: a row in ids (%lld, %lld] (or a "
		     "zones/labels/bots row it added) was changed",
		     (long long)r->ev_lo, (long long)r->ev_hi);
	if (t.bad_bodies > 0)
		fail(v, r->seq,
		     "%lld body(ies) missing or not matching their SHA-256 (first: event %lld)",
		     (long long)t.bad_bodies, (long long)t.bad_body_id);
	return 0;
}

static int add_minutes(struct verify *v, sqlite3_stmt *s, const struct chain_rec *r)
{
	struct chain_dns_minute *dns;
	size_t n;
	if (chain_dns_decode(sqlite3_column_blob(s, 14), (size_t)sqlite3_column_bytes(s, 14), &dns,
			     &n) != 0)
		return 0; /* the record's hash fails */
	for (size_t i = 0; i < n; i++) {
		struct minute_sum *m = minute_get(&v->minutes, dns[i].minute, true);
		if (m == NULL) {
			free(dns);
			return SINKD_ENOMEM;
		}
		if (m->first_seq == 0)
			m->first_seq = r->seq;
		m->queries += dns[i].queries;
		m->logged += dns[i].logged;
		m->keysum += dns[i].keysum;
	}
	free(dns);
	return 0;
}

/* Links, continuity and content of every record, oldest first. */
static int check_records(struct verify *v, int64_t pruned_seq)
{
	static const char sql[] =
	    "SELECT seq, kind, ts_ns, ev_lo, ev_hi, zones_lo, zones_hi, labels_lo, labels_hi,"
	    " late, rows, captures, time_lo, time_hi, dns, pruned_seq, pruned_minute, content,"
	    " hash, bots_lo, bots_hi FROM chain ORDER BY seq";
	sqlite3_stmt *s = NULL;
	struct chain_rec prev = {0}, r;
	uint8_t h[CHAIN_HASH_LEN];
	int rc, ret = 0;
	if (sqlite3_prepare_v2(v->st->db, sql, -1, &s, NULL) != SQLITE_OK)
		return store_sql_error(v->st, "read chain");
	while (ret == 0 && (rc = sqlite3_step(s)) == SQLITE_ROW) {
		int64_t *late = NULL;
		struct chain_dns_minute *dns = NULL;
		record_from_row(s, &r);
		if (chain_late_decode(sqlite3_column_blob(s, 9), (size_t)sqlite3_column_bytes(s, 9),
				      &late, &r.n_late) != 0 ||
		    chain_dns_decode(sqlite3_column_blob(s, 14),
				     (size_t)sqlite3_column_bytes(s, 14), &dns, &r.n_dns) != 0)
			fail(v, r.seq, "late or dns field damaged");
		r.late = late;
		r.dns = dns;
		v->res->records++;
		if (!v->any) {
			v->first_ev_lo = r.ev_lo;
			if (r.seq != 1)
				fail(v, r.seq,
				     "the chain starts at record %lld, not 1 (records deleted)",
				     (long long)r.seq);
		} else if (r.seq != prev.seq + 1) {
			fail(v, prev.seq + 1, "records %lld..%lld are missing (deleted)",
			     (long long)prev.seq + 1, (long long)r.seq - 1);
		} else if (r.ev_lo != prev.ev_hi || r.zones_lo != prev.zones_hi ||
			   r.labels_lo != prev.labels_hi || r.bots_lo != prev.bots_hi) {
			fail(v, r.seq, "its ranges do not continue record %lld's",
			     (long long)prev.seq);
		}
		static const uint8_t zero[CHAIN_HASH_LEN];
		chain_record_hash(&v->st->chain.hx, v->any ? prev.hash : zero, &r, h);
		if (memcmp(h, r.hash, CHAIN_HASH_LEN) != 0)
			fail(v, r.seq, "record hash does not match (the chain record was edited)");
		if (r.kind == CHAIN_BATCH) {
			v->res->batches++;
			if (r.seq > pruned_seq && (uint64_t)r.ts_ns >= v->o->since_ns)
				ret = check_content(v, &r);
		} else if (r.kind == CHAIN_PRUNE) {
			v->res->prunes++;
		} else {
			fail(v, r.seq, "unknown record kind %lld", (long long)r.kind);
		}
		if (ret == 0)
			ret = add_minutes(v, s, &r);
		free(late);
		free(dns);
		prev = r;
		v->any = true;
	}
	sqlite3_finalize(s);
	if (ret == 0 && rc != SQLITE_DONE)
		ret = store_sql_error(v->st, "read chain");
	if (v->any) {
		v->last_ev_hi = prev.ev_hi;
		v->last_zones_hi = prev.zones_hi;
		v->last_labels_hi = prev.labels_hi;
		v->last_bots_hi = prev.bots_hi;
		v->res->head_seq = prev.seq;
		memcpy(v->res->head, prev.hash, CHAIN_HASH_LEN);
	}
	return ret;
}

static int count_sql(struct verify *v, const char *sql, int64_t a, int64_t *out)
{
	sqlite3_stmt *s = NULL;
	if (sqlite3_prepare_v2(v->st->db, sql, -1, &s, NULL) != SQLITE_OK)
		return store_sql_error(v->st, sql);
	sqlite3_bind_int64(s, 1, a);
	int rc = sqlite3_step(s);
	*out = rc == SQLITE_ROW ? sqlite3_column_int64(s, 0) : 0;
	sqlite3_finalize(s);
	return rc == SQLITE_ROW ? 0 : store_sql_error(v->st, sql);
}

/* Rows above the last record's ranges belong to no batch: inserted. */
static int check_tail(struct verify *v)
{
	int64_t n;
	const int64_t seq = v->res->head_seq;
	if (count_sql(v, "SELECT COUNT(*) FROM events WHERE id > ?1", v->last_ev_hi, &n) != 0)
		return SINKD_ESTORE;
	if (n > 0)
		fail(v, seq + 1,
		     "%lld event rows after the last record %lld belong to no batch "
		     "(inserted)",
		     (long long)n, (long long)seq);
	if (count_sql(v, "SELECT COUNT(*) FROM capture WHERE id > ?1", v->last_ev_hi, &n) != 0)
		return SINKD_ESTORE;
	if (n > 0)
		fail(v, seq + 1, "%lld capture rows after the last record (inserted)",
		     (long long)n);
	if (count_sql(v, "SELECT COUNT(*) FROM zones WHERE id > ?1", v->last_zones_hi, &n) != 0 ||
	    (n > 0 &&
	     (fail(v, seq + 1, "%lld zones rows after the last record", (long long)n), 0)) ||
	    count_sql(v, "SELECT COUNT(*) FROM labels WHERE id > ?1", v->last_labels_hi, &n) != 0)
		return SINKD_ESTORE;
	if (n > 0)
		fail(v, seq + 1, "%lld labels rows after the last record", (long long)n);
	if (count_sql(v, "SELECT COUNT(*) FROM bots WHERE id > ?1", v->last_bots_hi, &n) != 0)
		return SINKD_ESTORE;
	if (n > 0)
		fail(v, seq + 1, "%lld bots rows after the last record", (long long)n);
	int64_t before;
	if (count_sql(v, "SELECT COUNT(*) FROM events WHERE id <= ?1", v->first_ev_lo, &before) !=
	    0)
		return SINKD_ESTORE;
	/* Late rows of records sit below the first range too. */
	for (size_t i = 0; i < v->n_late && v->late[i] <= v->first_ev_lo; i++)
		before--;
	v->res->rows_before_chain = before > 0 ? (uint64_t)before : 0;
	return 0;
}

/* dns_minute, minute by minute, against the sums the records carry. */
static int check_minutes(struct verify *v, int64_t floor_minute)
{
	static const char sql[] = "SELECT minute, resolver, qname, zone_id, qtype, rcode, count,"
				  " logged FROM dns_minute WHERE minute >= ?1 ORDER BY minute";
	int64_t since_minute = (int64_t)(v->o->since_ns / 1000000000ull / 60 * 60);
	int64_t from = floor_minute > since_minute ? floor_minute : since_minute;
	sqlite3_stmt *s = NULL;
	struct minute_sum cur = {.minute = INT64_MIN};
	int rc;
	if (sqlite3_prepare_v2(v->st->db, sql, -1, &s, NULL) != SQLITE_OK)
		return store_sql_error(v->st, "read dns_minute");
	sqlite3_bind_int64(s, 1, from);
	for (;;) {
		rc = sqlite3_step(s);
		int64_t minute = rc == SQLITE_ROW ? sqlite3_column_int64(s, 0) : INT64_MAX;
		if (minute != cur.minute && cur.minute != INT64_MIN) {
			struct minute_sum *m = minute_get(&v->minutes, cur.minute, false);
			v->res->dns_minutes++;
			if (m == NULL)
				fail(v, 0,
				     "dns_minute minute %lld: %llu queries that no batch wrote "
				     "(rows inserted)",
				     (long long)cur.minute, (unsigned long long)cur.queries);
			else if (m->queries != cur.queries || m->logged != cur.logged ||
				 m->keysum != cur.keysum)
				fail(v, m->first_seq,
				     "dns_minute minute %lld: stored %llu queries (%llu logged), "
				     "the "
				     "chain says %llu (%llu)%s",
				     (long long)cur.minute, (unsigned long long)cur.queries,
				     (unsigned long long)cur.logged, (unsigned long long)m->queries,
				     (unsigned long long)m->logged,
				     m->queries == cur.queries && m->logged == cur.logged
					 ? ": a key was changed"
					 : "");
			if (m != NULL)
				m->seen = true;
		}
		if (rc != SQLITE_ROW)
			break;
		if (minute != cur.minute)
			cur = (struct minute_sum){.minute = minute};
		uint64_t a, b, count = (uint64_t)sqlite3_column_int64(s, 6),
			       logged = (uint64_t)sqlite3_column_int64(s, 7);
		const uint8_t *res = sqlite3_column_blob(s, 1);
		uint8_t resolver[16] = {0};
		if (res != NULL && sqlite3_column_bytes(s, 1) == 16)
			memcpy(resolver, res, 16);
		if (chain_dns_key_words(
			v->st, minute, resolver, (const char *)sqlite3_column_text(s, 2),
			(size_t)sqlite3_column_bytes(s, 2), sqlite3_column_int64(s, 3),
			sqlite3_column_int(s, 4), sqlite3_column_int(s, 5), &a, &b) != 0)
			a = b = 0;
		cur.queries += count;
		cur.logged += logged;
		cur.keysum += a * count + b * logged;
	}
	sqlite3_finalize(s);
	if (rc != SQLITE_DONE)
		return store_sql_error(v->st, "read dns_minute");
	for (size_t i = 0; i < v->minutes.cap; i++) {
		struct minute_sum *m = &v->minutes.slots[i];
		if (m->minute != INT64_MIN && m->minute >= from && !m->seen && m->queries > 0)
			fail(v, m->first_seq,
			     "dns_minute minute %lld: no rows, the chain says %llu "
			     "queries (rows deleted)",
			     (long long)m->minute, (unsigned long long)m->queries);
	}
	return 0;
}

static bool sig_ok(void *pubkey, const struct store_manifest *m)
{
	size_t len = store_manifest_bytes_len();
	uint8_t bytes[256];
	if (len > sizeof(bytes))
		return false;
	store_manifest_bytes(m, bytes);
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	bool ok = ctx != NULL && EVP_DigestVerifyInit(ctx, NULL, NULL, NULL, pubkey) == 1 &&
		  EVP_DigestVerify(ctx, m->sig, sizeof(m->sig), bytes, len) == 1;
	EVP_MD_CTX_free(ctx);
	return ok;
}

static void manifest_from_row(sqlite3_stmt *s, struct store_manifest *m)
{
	memset(m, 0, sizeof(*m));
	m->id = sqlite3_column_int64(s, 0);
	m->ts_ns = sqlite3_column_int64(s, 1);
	m->seq_lo = sqlite3_column_int64(s, 2);
	m->seq_hi = sqlite3_column_int64(s, 3);
	if (sqlite3_column_bytes(s, 4) == 32)
		memcpy(m->head, sqlite3_column_blob(s, 4), 32);
	m->events = (uint64_t)sqlite3_column_int64(s, 5);
	m->dns_queries = (uint64_t)sqlite3_column_int64(s, 6);
	m->time_lo = sqlite3_column_int64(s, 7);
	m->time_hi = sqlite3_column_int64(s, 8);
	m->pruned_seq = sqlite3_column_int64(s, 9);
	m->pruned_minute = sqlite3_column_int64(s, 10);
	m->has_key_id = sqlite3_column_bytes(s, 11) == 32;
	if (m->has_key_id)
		memcpy(m->key_id, sqlite3_column_blob(s, 11), 32);
	m->is_signed = sqlite3_column_bytes(s, 12) == 64;
	if (m->is_signed)
		memcpy(m->sig, sqlite3_column_blob(s, 12), 64);
}

#define MANIFEST_COLUMNS                                                                           \
	"id, ts_ns, seq_lo, seq_hi, head, events, dns_queries, time_lo, time_hi, pruned_seq,"      \
	" pruned_minute, key_id, sig"

/* A manifest that does not match names the first record in its range that
 * already failed (the cause), else its first record. */
static int64_t manifest_seq(const struct verify *v, const struct store_manifest *m)
{
	int64_t bad = v->res->first_bad_seq;
	return bad >= m->seq_lo && bad <= m->seq_hi ? bad : m->seq_lo;
}

static void check_one_manifest(struct verify *v, const struct store_manifest *m,
			       const uint8_t *key_id, int64_t prev_hi)
{
	struct store_manifest want = *m;
	const int64_t seq = manifest_seq(v, m);
	if (m->seq_lo != prev_hi + 1)
		fail(v, prev_hi + 1,
		     "manifest %lld covers records %lld..%lld, expected from %lld "
		     "(a manifest is missing)",
		     (long long)m->id, (long long)m->seq_lo, (long long)m->seq_hi,
		     (long long)prev_hi + 1);
	if (store_manifest_summarise(v->st, m->seq_lo, m->seq_hi, &want) != 0 ||
	    memcmp(want.head, m->head, 32) != 0 || want.events != m->events ||
	    want.dns_queries != m->dns_queries || want.time_lo != m->time_lo ||
	    want.time_hi != m->time_hi)
		fail(v, seq,
		     "manifest %lld (records %lld..%lld): head or counts do not match "
		     "the chain",
		     (long long)m->id, (long long)m->seq_lo, (long long)m->seq_hi);
	if (v->o->pubkey == NULL)
		return;
	if (!m->is_signed)
		fail(v, seq, "manifest %lld (records %lld..%lld) is not signed", (long long)m->id,
		     (long long)m->seq_lo, (long long)m->seq_hi);
	else if (!m->has_key_id || memcmp(m->key_id, key_id, 32) != 0)
		fail(v, seq, "manifest %lld (records %lld..%lld) is signed by another key",
		     (long long)m->id, (long long)m->seq_lo, (long long)m->seq_hi);
	else if (!sig_ok(v->o->pubkey, m))
		fail(v, seq, "manifest %lld (records %lld..%lld): bad signature", (long long)m->id,
		     (long long)m->seq_lo, (long long)m->seq_hi);
	else
		v->res->manifests_signed++;
}

static int check_manifests(struct verify *v)
{
	sqlite3_stmt *s = NULL;
	uint8_t key_id[32] = {0};
	int64_t prev_hi = 0;
	int rc;
	if (v->o->pubkey != NULL && store_key_id(v->o->pubkey, key_id) != 0)
		return SINKD_EINVAL;
	if (sqlite3_prepare_v2(v->st->db, "SELECT " MANIFEST_COLUMNS " FROM manifests ORDER BY id",
			       -1, &s, NULL) != SQLITE_OK)
		return store_sql_error(v->st, "read manifests");
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		struct store_manifest m;
		manifest_from_row(s, &m);
		v->res->manifests++;
		check_one_manifest(v, &m, key_id, prev_hi);
		if (m.seq_hi > prev_hi)
			prev_hi = m.seq_hi;
	}
	sqlite3_finalize(s);
	if (prev_hi > v->res->head_seq)
		fail(v, v->res->head_seq + 1,
		     "manifests cover records up to %lld, the chain ends at "
		     "%lld (records deleted)",
		     (long long)prev_hi, (long long)v->res->head_seq);
	v->res->manifest_seq = prev_hi;
	return rc == SQLITE_DONE ? 0 : store_sql_error(v->st, "read manifests");
}

static int read_watermarks(struct verify *v)
{
	sqlite3_stmt *s = NULL;
	if (sqlite3_prepare_v2(
		v->st->db, "SELECT pruned_seq, pruned_minute FROM chain ORDER BY seq DESC LIMIT 1",
		-1, &s, NULL) != SQLITE_OK)
		return store_sql_error(v->st, "read chain");
	int rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		v->res->pruned_seq = sqlite3_column_int64(s, 0);
		v->res->pruned_minute = sqlite3_column_int64(s, 1);
	}
	sqlite3_finalize(s);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : store_sql_error(v->st, "read chain");
}

int store_verify(struct store *st, const struct store_verify_opts *o,
		 struct store_verify_result *res)
{
	struct verify v = {.st = st, .o = o, .res = res};
	memset(res, 0, sizeof(*res));
	res->ok = true;
	int ret = read_watermarks(&v);
	if (ret == 0)
		ret = load_late(&v);
	if (ret == 0)
		ret = check_records(&v, res->pruned_seq);
	if (ret == 0)
		ret = check_tail(&v);
	if (ret == 0)
		ret = check_minutes(&v, res->pruned_minute);
	if (ret == 0)
		ret = check_manifests(&v);
	free(v.late);
	free(v.minutes.slots);
	return ret;
}

int store_manifests(struct store *st, uint64_t since_ns, uint64_t until_ns, store_manifest_cb cb,
		    void *ctx)
{
	sqlite3_stmt *s = NULL;
	int rc;
	if (sqlite3_prepare_v2(st->db,
			       "SELECT " MANIFEST_COLUMNS " FROM manifests WHERE time_hi >= ?1"
			       " AND (?2 = 0 OR time_lo < ?2) ORDER BY id",
			       -1, &s, NULL) != SQLITE_OK)
		return store_sql_error(st, "read manifests");
	sqlite3_bind_int64(s, 1, (int64_t)since_ns);
	sqlite3_bind_int64(s, 2, (int64_t)until_ns);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		struct store_manifest m;
		manifest_from_row(s, &m);
		if (cb(&m, ctx) != 0) {
			rc = SQLITE_DONE;
			break;
		}
	}
	sqlite3_finalize(s);
	return rc == SQLITE_DONE ? 0 : store_sql_error(st, "read manifests");
}
