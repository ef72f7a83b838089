/* Capture rows: what an HTTP, TLS or raw event carries beyond the common
 * `events` columns. One `capture` row per such event, under the event's id
 * (its time key), so rows are appended in time order like `events`; DNS
 * events never get one, and the events write path is unchanged for them.
 * A body is stored once per content in `bodies`, keyed by the SHA-256 of
 * the bytes kept: a bot checking in every minute with the same body adds
 * one 32-byte reference per request. Like event rows, capture rows are
 * written STORE_ROWS_PER_INSERT at a time by one multi-row INSERT. */
#include "store/store_internal.h"

#include "core/error.h"
#include "core/log.h"

#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>

#define SHA256_LEN 32

#define CAPTURE_COLUMNS 20

static const char sql_insert_head[] =
    "INSERT INTO capture(id, conn_id, proxy_ip, proxy_port, method, http_version, status,"
    " body_len, proto, target, headers, user_agent, referer, body_sha256, body_stored, raw,"
    " ja3, ja3_md5, ja4, hello) VALUES ";

static const char sql_insert_body[] =
    "INSERT OR IGNORE INTO bodies(sha256, len, data) VALUES (?1, ?2, ?3)";

/* Payload sections by type (first of each), found in one pass. */
struct sections {
	const uint8_t *data[EVP_TLS_HELLO + 1];
	size_t len[EVP_TLS_HELLO + 1];
	bool set[EVP_TLS_HELLO + 1];
};

/* Section layout as event_payload_add writes it: type (1 byte), length
 * (4 bytes, host order), data. A length past the end stops the walk. */
static void sections_find(const struct sinkd_event *ev, struct sections *s)
{
	size_t off = 0, hdr = 1 + sizeof(uint32_t);
	memset(s, 0, sizeof(*s));
	while (ev->payload != NULL && ev->payload_len - off >= hdr) {
		uint8_t type = ev->payload[off];
		uint32_t l;
		memcpy(&l, ev->payload + off + 1, sizeof(l));
		if (l > ev->payload_len - off - hdr)
			break;
		if (type <= EVP_TLS_HELLO && !s->set[type]) {
			s->set[type] = true;
			s->data[type] = ev->payload + off + hdr;
			s->len[type] = l;
		}
		off += hdr + l;
	}
}

int store_capture_open(struct store *st)
{
	struct store_capture *c = &st->capture;
	if (store_prepare_rows(st, sql_insert_head, CAPTURE_COLUMNS, 1, &c->insert_one) != 0 ||
	    store_prepare_rows(st, sql_insert_head, CAPTURE_COLUMNS, STORE_ROWS_PER_INSERT,
			       &c->insert_many) != 0 ||
	    store_prepare(st, sql_insert_body, &c->insert_body) != 0)
		return SINKD_ESTORE;
	c->known = calloc(STORE_BODY_CACHE_SLOTS, sizeof(*c->known));
	if (c->known == NULL)
		return SINKD_ENOMEM;
	c->md_ctx = EVP_MD_CTX_new();
	c->sha256 = EVP_MD_fetch(NULL, "SHA256", NULL);
	if (c->md_ctx == NULL || c->sha256 == NULL) {
		log_err("store %s: OpenSSL: no SHA-256 digest for bodies", st->path);
		return SINKD_ESTORE;
	}
	return 0;
}

void store_capture_close(struct store *st)
{
	struct store_capture *c = &st->capture;
	sqlite3_finalize(c->insert_one);
	sqlite3_finalize(c->insert_many);
	sqlite3_finalize(c->insert_body);
	free(c->known);
	EVP_MD_CTX_free(c->md_ctx);
	EVP_MD_free(c->sha256);
	memset(c, 0, sizeof(*c));
}

static int body_hash(struct store *st, const uint8_t *data, size_t len, uint8_t out[SHA256_LEN])
{
	struct store_capture *c = &st->capture;
	unsigned int n = 0;
	if (EVP_DigestInit_ex2(c->md_ctx, c->sha256, NULL) != 1 ||
	    EVP_DigestUpdate(c->md_ctx, data, len) != 1 ||
	    EVP_DigestFinal_ex(c->md_ctx, out, &n) != 1 || n != SHA256_LEN) {
		log_err("store %s: OpenSSL: SHA-256 of a body failed", st->path);
		return SINKD_ESTORE;
	}
	return 0;
}

void store_capture_forget(struct store *st)
{
	if (st->capture.known != NULL)
		memset(st->capture.known, 0, STORE_BODY_CACHE_SLOTS * sizeof(*st->capture.known));
}

/* The body once per content: known from the cache, else INSERT OR IGNORE
 * on its hash. */
static int body_store(struct store *st, const uint8_t *data, size_t len, uint8_t sha[SHA256_LEN])
{
	struct store_capture *c = &st->capture;
	sqlite3_stmt *s = c->insert_body;
	uint32_t h;
	if (body_hash(st, data, len, sha) != 0)
		return SINKD_ESTORE;
	memcpy(&h, sha, sizeof(h));
	struct store_body_slot *slot = &c->known[h & (STORE_BODY_CACHE_SLOTS - 1)];
	if (slot->used && memcmp(slot->sha256, sha, SHA256_LEN) == 0) {
		atomic_fetch_add_explicit(&st->stat.bodies_seen, 1, memory_order_relaxed);
		return 0;
	}
	sqlite3_bind_blob(s, 1, sha, SHA256_LEN, SQLITE_STATIC);
	sqlite3_bind_int64(s, 2, (int64_t)len);
	sqlite3_bind_blob(s, 3, data, (int)len, SQLITE_STATIC);
	int rc = sqlite3_step(s);
	sqlite3_reset(s);
	if (rc != SQLITE_DONE)
		return store_sql_error(st, "insert body");
	if (sqlite3_changes(st->db) > 0)
		atomic_fetch_add_explicit(&st->stat.bodies_new, 1, memory_order_relaxed);
	else
		atomic_fetch_add_explicit(&st->stat.bodies_seen, 1, memory_order_relaxed);
	memcpy(slot->sha256, sha, SHA256_LEN);
	slot->used = true;
	return 0;
}

static void bind_section(sqlite3_stmt *s, int col, const struct sections *sec, uint8_t type,
			 bool blob)
{
	if (!sec->set[type])
		sqlite3_bind_null(s, col);
	else if (blob)
		sqlite3_bind_blob(s, col, sec->data[type], (int)sec->len[type], SQLITE_STATIC);
	else
		sqlite3_bind_text(s, col, (const char *)sec->data[type], (int)sec->len[type],
				  SQLITE_STATIC);
}

static void bind_short_text(sqlite3_stmt *s, int col, const char *text, size_t max)
{
	size_t len = strnlen(text, max - 1);
	if (len == 0)
		sqlite3_bind_null(s, col);
	else
		sqlite3_bind_text(s, col, text, (int)len, SQLITE_STATIC);
}

static void bind_nonzero(sqlite3_stmt *s, int col, int64_t v)
{
	if (v != 0)
		sqlite3_bind_int64(s, col, v);
	else
		sqlite3_bind_null(s, col);
}

/* Bind one capture row at parameter offset base (0 for the first row). */
static void bind_capture(sqlite3_stmt *s, int base, const struct sinkd_event *ev, int64_t id,
			 const uint8_t *body_sha256, const struct sections *sec)
{
	bool proxied = (ev->flags & EVF_PROXIED) != 0;
	sqlite3_bind_int64(s, base + 1, id);
	sqlite3_bind_int64(s, base + 2, (int64_t)ev->conn_id);
	if (proxied) {
		sqlite3_bind_blob(s, base + 3, ev->proxy.ip, 16, SQLITE_STATIC);
		sqlite3_bind_int(s, base + 4, ev->proxy.port);
	} else {
		sqlite3_bind_null(s, base + 3);
		sqlite3_bind_null(s, base + 4);
	}
	bind_short_text(s, base + 5, ev->http_method, sizeof(ev->http_method));
	bind_nonzero(s, base + 6, ev->http_version);
	bind_nonzero(s, base + 7, ev->http_status);
	sqlite3_bind_int64(s, base + 8, ev->body_len);
	bind_short_text(s, base + 9, ev->proto, sizeof(ev->proto));
	bind_section(s, base + 10, sec, EVP_TARGET, false);
	bind_section(s, base + 11, sec, EVP_HEADERS, false);
	bind_section(s, base + 12, sec, EVP_USER_AGENT, false);
	bind_section(s, base + 13, sec, EVP_REFERER, false);
	if (body_sha256 != NULL) {
		sqlite3_bind_blob(s, base + 14, body_sha256, SHA256_LEN, SQLITE_STATIC);
		sqlite3_bind_int64(s, base + 15, (int64_t)sec->len[EVP_BODY]);
	} else {
		sqlite3_bind_null(s, base + 14);
		sqlite3_bind_int(s, base + 15, 0);
	}
	bind_section(s, base + 16, sec, EVP_RAW, true);
	bind_section(s, base + 17, sec, EVP_TLS_JA3, false);
	bind_section(s, base + 18, sec, EVP_TLS_JA3_MD5, false);
	bind_section(s, base + 19, sec, EVP_TLS_JA4, false);
	bind_section(s, base + 20, sec, EVP_TLS_HELLO, false);
}

static int step(struct store *st, sqlite3_stmt *s)
{
	int rc = sqlite3_step(s);
	sqlite3_reset(s);
	return rc == SQLITE_DONE ? 0 : store_sql_error(st, "insert capture");
}

int store_capture_add(struct store *st, const struct sinkd_event *ev, int64_t id)
{
	struct store_capture *c = &st->capture;
	struct sections sec;
	sections_find(ev, &sec);
	size_t i = c->n_pending;
	c->pending[i].ev = ev;
	c->pending[i].id = id;
	c->pending[i].body = sec.set[EVP_BODY] && sec.len[EVP_BODY] > 0;
	if (c->pending[i].body &&
	    body_store(st, sec.data[EVP_BODY], sec.len[EVP_BODY], c->pending[i].body_sha256) != 0)
		return SINKD_ESTORE;
	bind_capture(c->insert_many, (int)i * CAPTURE_COLUMNS, ev, id,
		     c->pending[i].body ? c->pending[i].body_sha256 : NULL, &sec);
	if (++c->n_pending < STORE_ROWS_PER_INSERT)
		return 0;
	c->n_pending = 0;
	return step(st, c->insert_many);
}

/* Rows bound into insert_many but not written (fewer than a full group),
 * one statement each. */
int store_capture_flush(struct store *st)
{
	struct store_capture *c = &st->capture;
	struct sections sec;
	for (size_t i = 0; i < c->n_pending; i++) {
		sections_find(c->pending[i].ev, &sec);
		bind_capture(c->insert_one, 0, c->pending[i].ev, c->pending[i].id,
			     c->pending[i].body ? c->pending[i].body_sha256 : NULL, &sec);
		if (step(st, c->insert_one) != 0)
			return SINKD_ESTORE;
	}
	c->n_pending = 0;
	return 0;
}

int store_body_get(struct store *st, const uint8_t sha256[32], uint8_t *buf, size_t cap,
		   size_t *len)
{
	sqlite3_stmt *s = NULL;
	int ret = SINKD_ENOENT;
	if (sqlite3_prepare_v2(st->db, "SELECT data FROM bodies WHERE sha256 = ?1", -1, &s,
			       NULL) != SQLITE_OK)
		return store_sql_error(st, "prepare body lookup");
	sqlite3_bind_blob(s, 1, sha256, 32, SQLITE_STATIC);
	int rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		size_t n = (size_t)sqlite3_column_bytes(s, 0);
		*len = n < cap ? n : cap;
		if (*len > 0)
			memcpy(buf, sqlite3_column_blob(s, 0), *len);
		ret = 0;
	} else if (rc != SQLITE_DONE) {
		ret = store_sql_error(st, "body lookup");
	}
	sqlite3_finalize(s);
	return ret;
}
