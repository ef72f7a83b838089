/* The content bytes of a chain record, read from the tables as stored:
 * the same function runs inside the batch's transaction (to seal it) and
 * in `sinkd verify` (to check it), so what is hashed is by construction
 * what is in the file. Encoding (docs/evidence.md, "Content bytes"): per
 * row a tag byte, then each non-NULL column in table order as name length
 * (1 byte), name, type (1 integer, 2 real, 3 text, 4 blob) and value
 * (integers and reals 8 bytes big-endian, text and blobs a 4-byte length
 * and the bytes), then a zero byte. NULL columns are left out, so a column
 * added later by a migration (NULL in old rows) leaves old hashes valid. */
#include "store/store_internal.h"

#include "core/error.h"

#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>

#define BODY_SLOTS 4096 /* power of two */

/* Column names of a statement, copied (SQLite frees its own when it
 * re-prepares a statement after a schema change) and taken again at each
 * chain_content call, or when the column count changes. */
#define NAME_MAX_LEN 63
struct cols {
	sqlite3_stmt *stmt;
	int n;
	uint8_t len[CHAIN_MAX_COLUMNS];
	char name[CHAIN_MAX_COLUMNS][NAME_MAX_LEN + 1];
};

static struct cols *cols_of(struct store_chain *c, sqlite3_stmt *s)
{
	struct cols *k = NULL;
	for (size_t i = 0; i < CHAIN_STMTS; i++) {
		k = &((struct cols *)c->cols)[i];
		if (k->stmt == s || k->stmt == NULL)
			break;
	}
	int n = sqlite3_column_count(s);
	if (k->stmt != s || k->n != (n > CHAIN_MAX_COLUMNS ? CHAIN_MAX_COLUMNS : n)) {
		k->stmt = s;
		k->n = n > CHAIN_MAX_COLUMNS ? CHAIN_MAX_COLUMNS : n;
		for (int i = 0; i < k->n; i++) {
			const char *name = sqlite3_column_name(s, i);
			size_t len = name != NULL ? strnlen(name, NAME_MAX_LEN) : 0;
			memcpy(k->name[i], name != NULL ? name : "", len);
			k->name[i][len] = '\0';
			k->len[i] = (uint8_t)len;
		}
	}
	return k;
}

/* Room for one field: at most the header bytes below plus a name. */
#define FIELD_HEAD (1 + NAME_MAX_LEN + 1 + 8)

static void hash_row(struct store_chain *ch, uint8_t tag, sqlite3_stmt *s, int first)
{
	struct chain_hasher *h = &ch->hx;
	const struct cols *k = cols_of(ch, s);
	chain_hx_u8(h, tag);
	for (int c = first; c < k->n; c++) {
		/* One value handle per column: sqlite3_value_* take no lock,
		 * unlike sqlite3_column_* (a measured third of the cost). */
		sqlite3_value *v = sqlite3_column_value(s, c);
		int type = sqlite3_value_type(v);
		if (type == SQLITE_NULL)
			continue;
		if (sizeof(h->buf) - h->n < FIELD_HEAD)
			chain_hx_put(h, NULL, 0); /* flush */
		uint8_t *p = h->buf + h->n;
		*p++ = k->len[c];
		memcpy(p, k->name[c], k->len[c]);
		p += k->len[c];
		const void *data = NULL;
		int len = 0;
		int64_t bits;
		switch (type) {
		case SQLITE_INTEGER:
			*p++ = 1;
			chain_be64(p, (uint64_t)sqlite3_value_int64(v));
			p += 8;
			break;
		case SQLITE_FLOAT: {
			double d = sqlite3_value_double(v);
			memcpy(&bits, &d, sizeof(bits));
			*p++ = 2;
			chain_be64(p, (uint64_t)bits);
			p += 8;
			break;
		}
		default:
			*p++ = type == SQLITE_TEXT ? 3 : 4;
			data = type == SQLITE_TEXT ? (const void *)sqlite3_value_text(v)
						   : sqlite3_value_blob(v);
			len = sqlite3_value_bytes(v);
			*p++ = (uint8_t)((uint32_t)len >> 24);
			*p++ = (uint8_t)((uint32_t)len >> 16);
			*p++ = (uint8_t)((uint32_t)len >> 8);
			*p++ = (uint8_t)len;
			break;
		}
		h->n = (size_t)(p - h->buf);
		if (len > 0)
			chain_hx_put(h, data, (size_t)len);
	}
	chain_hx_u8(h, 0);
}

static void tally_time(struct chain_tally *t, int64_t ts)
{
	if (t->time_lo == 0 || ts < t->time_lo)
		t->time_lo = ts;
	if (ts > t->time_hi)
		t->time_hi = ts;
}

/* Verify side: the body a capture row names is stored and hashes to its
 * key. Bodies checked once are remembered. */
static void check_body(struct store *st, sqlite3_stmt *cap, struct chain_tally *t)
{
	struct store_chain *c = &st->chain;
	int n = sqlite3_column_count(cap), col = -1;
	for (int i = 0; i < n; i++) {
		if (strcmp(sqlite3_column_name(cap, i), "body_sha256") == 0)
			col = i;
	}
	if (col < 0 || sqlite3_column_type(cap, col) == SQLITE_NULL)
		return;
	const uint8_t *key = sqlite3_column_blob(cap, col);
	bool ok = false;
	if (sqlite3_column_bytes(cap, col) == CHAIN_HASH_LEN) {
		size_t slot = (chain_get_be64(key) & (BODY_SLOTS - 1));
		if (c->bodies_ok[slot].used &&
		    memcmp(c->bodies_ok[slot].sha256, key, CHAIN_HASH_LEN) == 0)
			return;
		sqlite3_bind_blob(c->body_one, 1, key, CHAIN_HASH_LEN, SQLITE_STATIC);
		if (sqlite3_step(c->body_one) == SQLITE_ROW) {
			uint8_t md[CHAIN_HASH_LEN];
			unsigned md_len = sizeof(md);
			const void *data = sqlite3_column_blob(c->body_one, 0);
			int len = sqlite3_column_bytes(c->body_one, 0);
			ok = EVP_Digest(data, (size_t)len, md, &md_len, c->hx.md, NULL) == 1 &&
			     memcmp(md, key, CHAIN_HASH_LEN) == 0;
		}
		sqlite3_reset(c->body_one);
		if (ok) {
			memcpy(c->bodies_ok[slot].sha256, key, CHAIN_HASH_LEN);
			c->bodies_ok[slot].used = true;
		}
	}
	if (!ok) {
		if (t->bad_bodies++ == 0)
			t->bad_body_id = sqlite3_column_int64(cap, 0);
	}
}

static int prepare_body_check(struct store *st)
{
	struct store_chain *c = &st->chain;
	if (c->body_one != NULL)
		return 0;
	c->bodies_ok = calloc(BODY_SLOTS, sizeof(*c->bodies_ok));
	if (c->bodies_ok == NULL)
		return SINKD_ENOMEM;
	return store_prepare(st, "SELECT data FROM bodies WHERE sha256 = ?1", &c->body_one);
}

static void hash_capture(struct store *st, sqlite3_stmt *cap, struct chain_tally *t)
{
	hash_row(&st->chain, 'C', cap, 0);
	t->captures++;
	if (t->check_bodies)
		check_body(st, cap, t);
}

/* The late rows of r: looked up one by one (they sit in older ranges). */
static int hash_late(struct store *st, const struct chain_rec *r, struct chain_tally *t)
{
	struct store_chain *c = &st->chain;
	for (size_t i = 0; i < r->n_late; i++) {
		sqlite3_bind_int64(c->ev_one, 1, r->late[i]);
		int rc = sqlite3_step(c->ev_one);
		if (rc == SQLITE_ROW) {
			tally_time(t, sqlite3_column_int64(c->ev_one, 0));
			hash_row(c, 'E', c->ev_one, 1);
			t->rows++;
		} else {
			t->missing_late++;
		}
		sqlite3_reset(c->ev_one);
		if (rc != SQLITE_ROW && rc != SQLITE_DONE)
			return store_sql_error(st, "read late event");
		sqlite3_bind_int64(c->cap_one, 1, r->late[i]);
		rc = sqlite3_step(c->cap_one);
		if (rc == SQLITE_ROW)
			hash_capture(st, c->cap_one, t);
		sqlite3_reset(c->cap_one);
		if (rc != SQLITE_ROW && rc != SQLITE_DONE)
			return store_sql_error(st, "read late capture");
	}
	return 0;
}

static bool in_sorted(const int64_t *v, size_t n, int64_t id)
{
	size_t lo = 0, hi = n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (v[mid] < id)
			lo = mid + 1;
		else if (v[mid] > id)
			hi = mid;
		else
			return true;
	}
	return false;
}

/* The id range: events and capture walked together in id order. */
static int hash_range(struct store *st, const struct chain_rec *r, const int64_t *skip,
		      size_t n_skip, struct chain_tally *t)
{
	struct store_chain *c = &st->chain;
	sqlite3_stmt *e = c->ev_range, *k = c->cap_range;
	sqlite3_bind_int64(e, 1, r->ev_lo);
	sqlite3_bind_int64(e, 2, r->ev_hi);
	sqlite3_bind_int64(k, 1, r->ev_lo);
	sqlite3_bind_int64(k, 2, r->ev_hi);
	int rc_e = sqlite3_step(e), rc_k = sqlite3_step(k);
	while (rc_e == SQLITE_ROW || rc_k == SQLITE_ROW) {
		int64_t id_e = rc_e == SQLITE_ROW ? sqlite3_column_int64(e, 1) : INT64_MAX;
		int64_t id_k = rc_k == SQLITE_ROW ? sqlite3_column_int64(k, 0) : INT64_MAX;
		int64_t id = id_e < id_k ? id_e : id_k;
		bool skipped = n_skip > 0 && in_sorted(skip, n_skip, id);
		if (skipped)
			t->skipped++;
		if (id_e == id) {
			if (!skipped) {
				tally_time(t, sqlite3_column_int64(e, 0));
				hash_row(c, 'E', e, 1);
				t->rows++;
			}
			rc_e = sqlite3_step(e);
		}
		if (id_k == id) {
			if (!skipped)
				hash_capture(st, k, t);
			rc_k = sqlite3_step(k);
		}
	}
	sqlite3_reset(e);
	sqlite3_reset(k);
	if (rc_e != SQLITE_DONE || rc_k != SQLITE_DONE)
		return store_sql_error(st, "read batch rows");
	return 0;
}

static int hash_lookup(struct store *st, sqlite3_stmt *s, uint8_t tag, int64_t lo, int64_t hi)
{
	int rc;
	sqlite3_bind_int64(s, 1, lo);
	sqlite3_bind_int64(s, 2, hi);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW)
		hash_row(&st->chain, tag, s, 0);
	sqlite3_reset(s);
	return rc == SQLITE_DONE ? 0 : store_sql_error(st, "read lookup rows");
}

int chain_content(struct store *st, const struct chain_rec *r, const int64_t *skip, size_t n_skip,
		  struct chain_tally *t, uint8_t out[CHAIN_HASH_LEN])
{
	struct store_chain *c = &st->chain;
	bool check = t->check_bodies;
	memset(t, 0, sizeof(*t));
	t->check_bodies = check;
	if (check && prepare_body_check(st) != 0)
		return SINKD_ESTORE;
	if (c->cols == NULL && (c->cols = calloc(CHAIN_STMTS, sizeof(struct cols))) == NULL)
		return SINKD_ENOMEM;
	memset(c->cols, 0, CHAIN_STMTS * sizeof(struct cols)); /* names taken afresh */
	chain_hx_begin(&c->hx);
	if (hash_late(st, r, t) != 0 || hash_range(st, r, skip, n_skip, t) != 0 ||
	    hash_lookup(st, c->zones_range, 'Z', r->zones_lo, r->zones_hi) != 0 ||
	    hash_lookup(st, c->labels_range, 'L', r->labels_lo, r->labels_hi) != 0 ||
	    hash_lookup(st, c->bots_range, 'B', r->bots_lo, r->bots_hi) != 0) {
		chain_hx_end(&c->hx, out);
		return SINKD_ESTORE;
	}
	chain_hx_end(&c->hx, out);
	return 0;
}
