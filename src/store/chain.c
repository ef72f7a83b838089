/* The evidence chain: every committed batch gets a record in `chain` whose
 * hash covers the previous record's hash, the batch's header (id ranges,
 * counts, times, DNS per-minute sums) and the SHA-256 of its content (every
 * stored field of its rows, read back from the tables inside the batch's
 * own transaction). docs/evidence.md defines every byte. */
#include "store/store_internal.h"

#include "core/error.h"
#include "core/log.h"

#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const char header_magic[16] = "sinkd-chain-v1";

void chain_be64(uint8_t out[8], uint64_t v)
{
	for (int i = 7; i >= 0; i--) {
		out[i] = (uint8_t)v;
		v >>= 8;
	}
}

uint64_t chain_get_be64(const uint8_t in[8])
{
	uint64_t v = 0;
	for (int i = 0; i < 8; i++)
		v = v << 8 | in[i];
	return v;
}

int chain_hasher_init(struct chain_hasher *h)
{
	h->ctx = EVP_MD_CTX_new();
	h->md = EVP_MD_fetch(NULL, "SHA256", NULL);
	h->n = 0;
	return h->ctx != NULL && h->md != NULL ? 0 : SINKD_ESTORE;
}

void chain_hasher_free(struct chain_hasher *h)
{
	EVP_MD_CTX_free(h->ctx);
	EVP_MD_free(h->md);
	h->ctx = NULL;
	h->md = NULL;
}

void chain_hx_begin(struct chain_hasher *h)
{
	EVP_DigestInit_ex(h->ctx, h->md, NULL);
	h->n = 0;
}

void chain_hx_put(struct chain_hasher *h, const void *p, size_t len)
{
	if (len == 0) { /* a flush */
		if (h->n > 0)
			EVP_DigestUpdate(h->ctx, h->buf, h->n);
		h->n = 0;
		return;
	}
	if (h->n + len > sizeof(h->buf)) {
		EVP_DigestUpdate(h->ctx, h->buf, h->n);
		h->n = 0;
		if (len > sizeof(h->buf)) {
			EVP_DigestUpdate(h->ctx, p, len);
			return;
		}
	}
	memcpy(h->buf + h->n, p, len);
	h->n += len;
}

void chain_hx_u8(struct chain_hasher *h, uint8_t v) { chain_hx_put(h, &v, 1); }

void chain_hx_u32(struct chain_hasher *h, uint32_t v)
{
	uint8_t b[4] = {(uint8_t)(v >> 24), (uint8_t)(v >> 16), (uint8_t)(v >> 8), (uint8_t)v};
	chain_hx_put(h, b, 4);
}

void chain_hx_i64(struct chain_hasher *h, int64_t v)
{
	uint8_t b[8];
	chain_be64(b, (uint64_t)v);
	chain_hx_put(h, b, 8);
}

void chain_hx_end(struct chain_hasher *h, uint8_t out[CHAIN_HASH_LEN])
{
	unsigned len = CHAIN_HASH_LEN;
	if (h->n > 0)
		EVP_DigestUpdate(h->ctx, h->buf, h->n);
	h->n = 0;
	EVP_DigestFinal_ex(h->ctx, out, &len);
}

void chain_record_hash(struct chain_hasher *h, const uint8_t prev[CHAIN_HASH_LEN],
		       const struct chain_rec *r, uint8_t out[CHAIN_HASH_LEN])
{
	chain_hx_begin(h);
	chain_hx_put(h, prev, CHAIN_HASH_LEN);
	chain_hx_put(h, header_magic, sizeof(header_magic));
	const int64_t head[] = {r->seq,	      r->kind,	   r->ts_ns,	r->ev_lo,
				r->ev_hi,     r->zones_lo, r->zones_hi, r->labels_lo,
				r->labels_hi, r->bots_lo,  r->bots_hi};
	for (size_t i = 0; i < sizeof(head) / sizeof(head[0]); i++)
		chain_hx_i64(h, head[i]);
	chain_hx_u32(h, (uint32_t)r->n_late);
	for (size_t i = 0; i < r->n_late; i++)
		chain_hx_i64(h, r->late[i]);
	chain_hx_i64(h, r->rows);
	chain_hx_i64(h, r->captures);
	chain_hx_i64(h, r->time_lo);
	chain_hx_i64(h, r->time_hi);
	chain_hx_u32(h, (uint32_t)r->n_dns);
	for (size_t i = 0; i < r->n_dns; i++) {
		chain_hx_i64(h, r->dns[i].minute);
		chain_hx_i64(h, (int64_t)r->dns[i].queries);
		chain_hx_i64(h, (int64_t)r->dns[i].logged);
		chain_hx_i64(h, (int64_t)r->dns[i].keysum);
	}
	chain_hx_i64(h, r->pruned_seq);
	chain_hx_i64(h, r->pruned_minute);
	chain_hx_put(h, r->content, CHAIN_HASH_LEN);
	chain_hx_end(h, out);
}

int chain_late_decode(const void *blob, size_t len, int64_t **out, size_t *n)
{
	*out = NULL;
	*n = 0;
	if (len % 8 != 0)
		return SINKD_EINVAL;
	if (len == 0)
		return 0;
	int64_t *v = malloc(len);
	if (v == NULL)
		return SINKD_ENOMEM;
	for (size_t i = 0; i < len / 8; i++)
		v[i] = (int64_t)chain_get_be64((const uint8_t *)blob + 8 * i);
	*out = v;
	*n = len / 8;
	return 0;
}

int chain_dns_decode(const void *blob, size_t len, struct chain_dns_minute **out, size_t *n)
{
	*out = NULL;
	*n = 0;
	if (len % 32 != 0)
		return SINKD_EINVAL;
	if (len == 0)
		return 0;
	struct chain_dns_minute *v = malloc(len / 32 * sizeof(*v));
	if (v == NULL)
		return SINKD_ENOMEM;
	for (size_t i = 0; i < len / 32; i++) {
		const uint8_t *p = (const uint8_t *)blob + 32 * i;
		v[i].minute = (int64_t)chain_get_be64(p);
		v[i].queries = chain_get_be64(p + 8);
		v[i].logged = chain_get_be64(p + 16);
		v[i].keysum = chain_get_be64(p + 24);
	}
	*out = v;
	*n = len / 32;
	return 0;
}

int chain_dns_key_words(struct store *st, int64_t minute, const uint8_t resolver[16],
			const char *qname, size_t qname_len, int64_t zone_id, int qtype, int rcode,
			uint64_t *a, uint64_t *b)
{
	uint8_t buf[8 + 16 + 2 + 65535 + 8 + 4], md[CHAIN_HASH_LEN];
	unsigned md_len = sizeof(md);
	size_t n = 0;
	if (qname_len > 65535)
		return SINKD_EINVAL;
	chain_be64(buf, (uint64_t)minute);
	memcpy(buf + 8, resolver, 16);
	buf[24] = (uint8_t)(qname_len >> 8);
	buf[25] = (uint8_t)qname_len;
	if (qname_len > 0)
		memcpy(buf + 26, qname, qname_len);
	n = 26 + qname_len;
	chain_be64(buf + n, (uint64_t)zone_id);
	n += 8;
	buf[n++] = (uint8_t)(qtype >> 8);
	buf[n++] = (uint8_t)qtype;
	buf[n++] = (uint8_t)(rcode >> 8);
	buf[n++] = (uint8_t)rcode;
	EVP_MD_CTX *c = (EVP_MD_CTX *)st->chain.key_ctx;
	if (EVP_DigestInit_ex(c, st->chain.hx.md, NULL) != 1 || EVP_DigestUpdate(c, buf, n) != 1 ||
	    EVP_DigestFinal_ex(c, md, &md_len) != 1)
		return SINKD_ESTORE;
	*a = chain_get_be64(md);
	*b = chain_get_be64(md + 8);
	return 0;
}

static int prepare_any(struct store *st, const char *sql, sqlite3_stmt **out)
{
	return store_prepare(st, sql, out);
}

static int load_last(struct store *st)
{
	struct store_chain *c = &st->chain;
	sqlite3_stmt *s = NULL;
	static const char sql[] =
	    "SELECT seq, ev_hi, zones_hi, labels_hi, pruned_seq, pruned_minute, hash, bots_hi"
	    " FROM chain ORDER BY seq DESC LIMIT 1";
	static const char sql_manifest[] =
	    "SELECT seq_hi, ts_ns FROM manifests ORDER BY id DESC LIMIT 1";
	if (sqlite3_prepare_v2(st->db, sql, -1, &s, NULL) != SQLITE_OK)
		return store_sql_error(st, "read chain head");
	int rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		c->have_last = true;
		c->seq = sqlite3_column_int64(s, 0);
		c->ev_hi = sqlite3_column_int64(s, 1);
		c->zones_hi = sqlite3_column_int64(s, 2);
		c->labels_hi = sqlite3_column_int64(s, 3);
		c->bots_hi = sqlite3_column_int64(s, 7);
		c->pruned_seq = sqlite3_column_int64(s, 4);
		c->pruned_minute = sqlite3_column_int64(s, 5);
		if (sqlite3_column_bytes(s, 6) == CHAIN_HASH_LEN)
			memcpy(c->head, sqlite3_column_blob(s, 6), CHAIN_HASH_LEN);
	}
	sqlite3_finalize(s);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return store_sql_error(st, "read chain head");
	if (sqlite3_prepare_v2(st->db, sql_manifest, -1, &s, NULL) != SQLITE_OK)
		return store_sql_error(st, "read last manifest");
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		c->manifest_seq = sqlite3_column_int64(s, 0);
		c->manifest_ts_ns = sqlite3_column_int64(s, 1);
	}
	sqlite3_finalize(s);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : store_sql_error(st, "read manifest");
}

int store_chain_open(struct store *st)
{
	struct store_chain *c = &st->chain;
	static const char sql_insert[] =
	    "INSERT INTO chain(seq, kind, ts_ns, ev_lo, ev_hi, zones_lo, zones_hi, labels_lo,"
	    " labels_hi, late, late_min, rows, captures, time_lo, time_hi, dns, pruned_seq,"
	    " pruned_minute, content, hash, bots_lo, bots_hi) VALUES (?1, ?2, ?3, ?4, ?5, ?6,"
	    " ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20, ?21, ?22)";
	if (chain_hasher_init(&c->hx) != 0 || (c->key_ctx = EVP_MD_CTX_new()) == NULL) {
		log_err("store %s: OpenSSL: no SHA-256 digest for the evidence chain", st->path);
		return SINKD_ESTORE;
	}
	/* Rows are read as stored: every column, in table order. */
	if (prepare_any(st, "SELECT ts_ns, * FROM events WHERE id > ?1 AND id <= ?2 ORDER BY id",
			&c->ev_range) != 0 ||
	    prepare_any(st, "SELECT * FROM capture WHERE id > ?1 AND id <= ?2 ORDER BY id",
			&c->cap_range) != 0 ||
	    prepare_any(st, "SELECT ts_ns, * FROM events WHERE id = ?1", &c->ev_one) != 0 ||
	    prepare_any(st, "SELECT * FROM capture WHERE id = ?1", &c->cap_one) != 0 ||
	    prepare_any(st, "SELECT * FROM zones WHERE id > ?1 AND id <= ?2 ORDER BY id",
			&c->zones_range) != 0 ||
	    prepare_any(st, "SELECT * FROM labels WHERE id > ?1 AND id <= ?2 ORDER BY id",
			&c->labels_range) != 0 ||
	    prepare_any(st, "SELECT * FROM bots WHERE id > ?1 AND id <= ?2 ORDER BY id",
			&c->bots_range) != 0)
		return SINKD_ESTORE;
	if (st->read_only)
		return 0;
	if (prepare_any(st, sql_insert, &c->insert) != 0)
		return SINKD_ESTORE;
	return load_last(st);
}

void store_chain_close(struct store *st)
{
	struct store_chain *c = &st->chain;
	sqlite3_stmt **stmts[] = {
	    &c->ev_range,     &c->cap_range,  &c->ev_one, &c->cap_one,	       &c->zones_range,
	    &c->labels_range, &c->bots_range, &c->insert, &c->insert_manifest, &c->body_one};
	for (size_t i = 0; i < sizeof(stmts) / sizeof(stmts[0]); i++) {
		sqlite3_finalize(*stmts[i]);
		*stmts[i] = NULL;
	}
	chain_hasher_free(&c->hx);
	EVP_MD_CTX_free(c->key_ctx);
	c->key_ctx = NULL;
	EVP_PKEY_free(c->key);
	c->key = NULL;
	free(c->late);
	free(c->dns);
	free(c->bodies_ok);
	free(c->cols);
	c->cols = NULL;
	c->bodies_ok = NULL;
	c->late = NULL;
	c->dns = NULL;
}

static int max_of(struct store *st, const char *sql, int64_t *out)
{
	sqlite3_stmt *s = NULL;
	if (sqlite3_prepare_v2(st->db, sql, -1, &s, NULL) != SQLITE_OK ||
	    sqlite3_step(s) != SQLITE_ROW) {
		sqlite3_finalize(s);
		return store_sql_error(st, sql);
	}
	*out = sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	return 0;
}

int store_chain_begin(struct store *st)
{
	struct store_chain *c = &st->chain;
	c->n_late = 0;
	c->n_dns = 0;
	c->sealed = false;
	c->manifest_pending = false;
	if (c->have_last)
		return 0;
	/* An empty chain starts after whatever the store already holds
	 * (rows written before schema 7 are reported as not covered). */
	int64_t minute;
	if (max_of(st, "SELECT COALESCE(MAX(id), 0) FROM events", &c->start_ev) != 0 ||
	    max_of(st, "SELECT COALESCE(MAX(id), 0) FROM zones", &c->start_zones) != 0 ||
	    max_of(st, "SELECT COALESCE(MAX(id), 0) FROM labels", &c->start_labels) != 0 ||
	    max_of(st, "SELECT COALESCE(MAX(id), 0) FROM bots", &c->start_bots) != 0 ||
	    max_of(st, "SELECT COALESCE(MAX(minute) + 60, 0) FROM dns_minute", &minute) != 0)
		return SINKD_ESTORE;
	c->start_minute = minute;
	return 0;
}

int store_chain_late(struct store *st, int64_t id)
{
	struct store_chain *c = &st->chain;
	if (c->n_late == c->cap_late) {
		size_t cap = c->cap_late ? 2 * c->cap_late : 256;
		int64_t *v = realloc(c->late, cap * sizeof(*v));
		if (v == NULL)
			return SINKD_ENOMEM;
		c->late = v;
		c->cap_late = cap;
	}
	c->late[c->n_late++] = id;
	return 0;
}

static int cmp_id(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
	return (x > y) - (x < y);
}

/* Keep the late ids at or below lo (above it the range finds them),
 * sorted and distinct. */
static void late_filter(struct store_chain *c, int64_t lo)
{
	size_t k = 0;
	for (size_t i = 0; i < c->n_late; i++) {
		if (c->late[i] <= lo)
			c->late[k++] = c->late[i];
	}
	if (k > 1)
		qsort(c->late, k, sizeof(*c->late), cmp_id);
	size_t m = 0;
	for (size_t i = 0; i < k; i++) {
		if (m == 0 || c->late[m - 1] != c->late[i])
			c->late[m++] = c->late[i];
	}
	c->n_late = m;
}

static struct chain_dns_minute *dns_slot(struct store_chain *c, int64_t minute)
{
	for (size_t i = 0; i < c->n_dns; i++) {
		if (c->dns[i].minute == minute)
			return &c->dns[i];
	}
	if (c->n_dns == c->cap_dns) {
		size_t cap = c->cap_dns ? 2 * c->cap_dns : 8;
		struct chain_dns_minute *v = realloc(c->dns, cap * sizeof(*v));
		if (v == NULL)
			return NULL;
		c->dns = v;
		c->cap_dns = cap;
	}
	struct chain_dns_minute *d = &c->dns[c->n_dns++];
	*d = (struct chain_dns_minute){.minute = minute};
	return d;
}

static int cmp_minute(const void *a, const void *b)
{
	const struct chain_dns_minute *x = a, *y = b;
	return (x->minute > y->minute) - (x->minute < y->minute);
}

/* Per-minute sums of the batch's aggregate upserts. */
static int dns_sums(struct store *st, const struct store_agg_entry *ups, size_t n)
{
	struct store_chain *c = &st->chain;
	for (size_t i = 0; i < n; i++) {
		const struct store_agg_key *k = &ups[i].key;
		uint64_t a, b;
		struct chain_dns_minute *d = dns_slot(c, k->minute);
		if (d == NULL)
			return SINKD_ENOMEM;
		if (chain_dns_key_words(st, k->minute, k->resolver, k->qname, k->qname_len,
					k->zone_id, k->qtype, k->rcode, &a, &b) != 0)
			return SINKD_ESTORE;
		d->queries += ups[i].count;
		d->logged += ups[i].logged;
		d->keysum += a * ups[i].count + b * ups[i].logged;
	}
	if (c->n_dns > 1)
		qsort(c->dns, c->n_dns, sizeof(*c->dns), cmp_minute);
	return 0;
}

static int64_t wall_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000000ll + ts.tv_nsec;
}

static void bind_words(sqlite3_stmt *s, int col, uint8_t *buf, size_t n)
{
	if (n == 0)
		sqlite3_bind_null(s, col);
	else
		sqlite3_bind_blob(s, col, buf, (int)n, SQLITE_TRANSIENT);
}

/* Insert r into `chain`. */
static int insert_record(struct store *st, const struct chain_rec *r)
{
	sqlite3_stmt *s = st->chain.insert;
	size_t late_len = r->n_late * 8, dns_len = r->n_dns * 32;
	uint8_t *buf = malloc(late_len + dns_len + 1);
	if (buf == NULL)
		return SINKD_ENOMEM;
	for (size_t i = 0; i < r->n_late; i++)
		chain_be64(buf + 8 * i, (uint64_t)r->late[i]);
	for (size_t i = 0; i < r->n_dns; i++) {
		uint8_t *p = buf + late_len + 32 * i;
		chain_be64(p, (uint64_t)r->dns[i].minute);
		chain_be64(p + 8, r->dns[i].queries);
		chain_be64(p + 16, r->dns[i].logged);
		chain_be64(p + 24, r->dns[i].keysum);
	}
	const int64_t ints[] = {r->seq,	      r->kind,	   r->ts_ns,	r->ev_lo,
				r->ev_hi,     r->zones_lo, r->zones_hi, r->labels_lo,
				r->labels_hi, r->bots_lo,  r->bots_hi};
	for (int i = 0; i < 9; i++)
		sqlite3_bind_int64(s, i + 1, ints[i]);
	bind_words(s, 10, buf, late_len);
	if (r->n_late > 0)
		sqlite3_bind_int64(s, 11, r->late[0]);
	else
		sqlite3_bind_null(s, 11);
	sqlite3_bind_int64(s, 12, r->rows);
	sqlite3_bind_int64(s, 13, r->captures);
	sqlite3_bind_int64(s, 14, r->time_lo);
	sqlite3_bind_int64(s, 15, r->time_hi);
	bind_words(s, 16, buf + late_len, dns_len);
	sqlite3_bind_int64(s, 17, r->pruned_seq);
	sqlite3_bind_int64(s, 18, r->pruned_minute);
	sqlite3_bind_blob(s, 19, r->content, CHAIN_HASH_LEN, SQLITE_TRANSIENT);
	sqlite3_bind_blob(s, 20, r->hash, CHAIN_HASH_LEN, SQLITE_TRANSIENT);
	sqlite3_bind_int64(s, 21, r->bots_lo);
	sqlite3_bind_int64(s, 22, r->bots_hi);
	int rc = sqlite3_step(s);
	sqlite3_reset(s);
	free(buf);
	return rc == SQLITE_DONE ? 0 : store_sql_error(st, "insert chain record");
}

int store_chain_append(struct store *st, struct chain_rec *r)
{
	struct store_chain *c = &st->chain;
	/* A second record in one transaction chains onto the sealed one. */
	const bool prev_sealed = c->sealed;
	const uint8_t *prev = prev_sealed ? c->next.hash : c->head;
	static const uint8_t zero[CHAIN_HASH_LEN];
	r->seq = (prev_sealed ? c->next.seq : c->seq) + 1;
	if (r->ts_ns == 0)
		r->ts_ns = wall_ns();
	if (!prev_sealed && !c->have_last)
		prev = zero;
	chain_record_hash(&c->hx, prev, r, r->hash);
	int ret = insert_record(st, r);
	if (ret != 0)
		return ret;
	c->next = *r;
	c->next.late = NULL; /* borrowed buffers are not kept */
	c->next.dns = NULL;
	c->sealed = true;
	return 0;
}

int store_chain_seal(struct store *st, const struct store_agg_entry *ups, size_t n_ups)
{
	struct store_chain *c = &st->chain;
	struct chain_rec r = {.kind = CHAIN_BATCH};
	struct chain_tally t = {0};
	if (c->have_last) {
		r.ev_lo = c->ev_hi;
		r.zones_lo = c->zones_hi;
		r.labels_lo = c->labels_hi;
		r.bots_lo = c->bots_hi;
		r.pruned_seq = c->pruned_seq;
		r.pruned_minute = c->pruned_minute;
	} else {
		r.ev_lo = c->start_ev;
		r.zones_lo = c->start_zones;
		r.labels_lo = c->start_labels;
		r.bots_lo = c->start_bots;
		r.pruned_minute = c->start_minute;
	}
	if (max_of(st, "SELECT COALESCE(MAX(id), 0) FROM events", &r.ev_hi) != 0 ||
	    max_of(st, "SELECT COALESCE(MAX(id), 0) FROM zones", &r.zones_hi) != 0 ||
	    max_of(st, "SELECT COALESCE(MAX(id), 0) FROM labels", &r.labels_hi) != 0 ||
	    max_of(st, "SELECT COALESCE(MAX(id), 0) FROM bots", &r.bots_hi) != 0)
		return SINKD_ESTORE;
	/* Pruning never deletes the newest rows, so the maxima only grow. */
	if (r.ev_hi < r.ev_lo)
		r.ev_hi = r.ev_lo;
	if (r.zones_hi < r.zones_lo)
		r.zones_hi = r.zones_lo;
	if (r.labels_hi < r.labels_lo)
		r.labels_hi = r.labels_lo;
	if (r.bots_hi < r.bots_lo)
		r.bots_hi = r.bots_lo;
	late_filter(c, r.ev_lo);
	r.late = c->late;
	r.n_late = c->n_late;
	if (dns_sums(st, ups, n_ups) != 0)
		return SINKD_ESTORE;
	r.dns = c->dns;
	r.n_dns = c->n_dns;
	if (chain_content(st, &r, NULL, 0, &t, r.content) != 0)
		return SINKD_ESTORE;
	r.rows = t.rows;
	r.captures = t.captures;
	r.time_lo = t.time_lo;
	r.time_hi = t.time_hi;
	for (size_t i = 0; i < r.n_dns; i++) {
		int64_t ns = r.dns[i].minute * 1000000000ll;
		if (r.time_lo == 0 || ns < r.time_lo)
			r.time_lo = ns;
		if (ns > r.time_hi)
			r.time_hi = ns;
	}
	if (store_chain_append(st, &r) != 0)
		return SINKD_ESTORE;
	return store_manifest_maybe(st, r.ts_ns, false);
}

void store_chain_committed(struct store *st)
{
	struct store_chain *c = &st->chain;
	if (c->sealed) {
		c->wrote = true;
		c->have_last = true;
		c->seq = c->next.seq;
		c->ev_hi = c->next.ev_hi;
		c->zones_hi = c->next.zones_hi;
		c->labels_hi = c->next.labels_hi;
		c->bots_hi = c->next.bots_hi;
		c->pruned_seq = c->next.pruned_seq;
		c->pruned_minute = c->next.pruned_minute;
		memcpy(c->head, c->next.hash, CHAIN_HASH_LEN);
	}
	if (c->manifest_pending) {
		c->manifest_seq = c->manifest_pending_seq;
		c->manifest_ts_ns = wall_ns();
	}
	c->sealed = false;
	c->manifest_pending = false;
	c->n_late = 0;
	c->n_dns = 0;
}

void store_chain_rolled_back(struct store *st)
{
	struct store_chain *c = &st->chain;
	c->sealed = false;
	c->manifest_pending = false;
	c->n_late = 0;
	c->n_dns = 0;
}
