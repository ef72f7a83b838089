/* Signed manifests: every [evidence] manifest_interval (and when the
 * writer closes) a row of `manifests` states the chain head, the range of
 * records it covers, their counts and time range, signed with Ed25519
 * (OpenSSL EVP) by the key `sinkd keygen` made. Bytes: docs/evidence.md,
 * "Manifests". */
#include "store/store_internal.h"

#include "core/error.h"
#include "core/log.h"

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

static const char manifest_magic[16] = "sinkd-manifest-1";

static int64_t wall_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000000ll + ts.tv_nsec;
}

/* The signed bytes of m (MANIFEST_BYTES long). */
#define MANIFEST_BYTES (16 + 4 * 8 + 32 + 6 * 8 + 32)

void store_manifest_bytes(const struct store_manifest *m, uint8_t *out)
{
	uint8_t *p = out;
	memcpy(p, manifest_magic, 16);
	p += 16;
	const int64_t a[] = {m->id, m->ts_ns, m->seq_lo, m->seq_hi};
	for (size_t i = 0; i < 4; i++, p += 8)
		chain_be64(p, (uint64_t)a[i]);
	memcpy(p, m->head, 32);
	p += 32;
	const int64_t b[] = {(int64_t)m->events, (int64_t)m->dns_queries, m->time_lo,
			     m->time_hi,	 m->pruned_seq,		  m->pruned_minute};
	for (size_t i = 0; i < 6; i++, p += 8)
		chain_be64(p, (uint64_t)b[i]);
	if (m->has_key_id)
		memcpy(p, m->key_id, 32);
	else
		memset(p, 0, 32);
}

size_t store_manifest_bytes_len(void) { return MANIFEST_BYTES; }

/* Counts and times of records lo..hi and the head at hi, from `chain`. */
int store_manifest_summarise(struct store *st, int64_t lo, int64_t hi, struct store_manifest *m)
{
	static const char sql[] = "SELECT seq, rows, dns, time_lo, time_hi, pruned_seq,"
				  " pruned_minute, hash, kind FROM chain WHERE seq >= ?1 AND seq <= ?2"
				  " ORDER BY seq";
	sqlite3_stmt *s = NULL;
	int rc, ret = 0;
	m->seq_lo = lo;
	m->seq_hi = hi;
	m->events = m->dns_queries = 0;
	m->time_lo = m->time_hi = 0;
	if (sqlite3_prepare_v2(st->db, sql, -1, &s, NULL) != SQLITE_OK)
		return store_sql_error(st, "summarise chain");
	sqlite3_bind_int64(s, 1, lo);
	sqlite3_bind_int64(s, 2, hi);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		struct chain_dns_minute *dns;
		size_t n_dns;
		if (sqlite3_column_int64(s, 8) == CHAIN_BATCH) /* retention: rows deleted */
			m->events += (uint64_t)sqlite3_column_int64(s, 1);
		if (chain_dns_decode(sqlite3_column_blob(s, 2), (size_t)sqlite3_column_bytes(s, 2),
				     &dns, &n_dns) == 0) {
			for (size_t i = 0; i < n_dns; i++)
				m->dns_queries += dns[i].queries;
			free(dns);
		}
		int64_t t_lo = sqlite3_column_int64(s, 3), t_hi = sqlite3_column_int64(s, 4);
		if (t_lo != 0 && (m->time_lo == 0 || t_lo < m->time_lo))
			m->time_lo = t_lo;
		if (t_hi > m->time_hi)
			m->time_hi = t_hi;
		m->pruned_seq = sqlite3_column_int64(s, 5);
		m->pruned_minute = sqlite3_column_int64(s, 6);
		if (sqlite3_column_int64(s, 0) == hi && sqlite3_column_bytes(s, 7) == 32)
			memcpy(m->head, sqlite3_column_blob(s, 7), 32);
	}
	if (rc != SQLITE_DONE)
		ret = store_sql_error(st, "summarise chain");
	sqlite3_finalize(s);
	return ret;
}

static int sign(struct store *st, const uint8_t *msg, size_t len, uint8_t sig[CHAIN_SIG_LEN])
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	size_t sig_len = CHAIN_SIG_LEN;
	int ok = ctx != NULL &&
		 EVP_DigestSignInit(ctx, NULL, NULL, NULL, (EVP_PKEY *)st->chain.key) == 1 &&
		 EVP_DigestSign(ctx, sig, &sig_len, msg, len) == 1 && sig_len == CHAIN_SIG_LEN;
	EVP_MD_CTX_free(ctx);
	if (!ok) {
		log_err("store %s: Ed25519 signing of a manifest failed", st->path);
		return SINKD_ESTORE;
	}
	return 0;
}

static int insert_manifest(struct store *st, const struct store_manifest *m)
{
	struct store_chain *c = &st->chain;
	static const char sql[] =
	    "INSERT INTO manifests(id, ts_ns, seq_lo, seq_hi, head, events, dns_queries, time_lo,"
	    " time_hi, pruned_seq, pruned_minute, key_id, sig) VALUES (?1, ?2, ?3, ?4, ?5, ?6,"
	    " ?7, ?8, ?9, ?10, ?11, ?12, ?13)";
	if (c->insert_manifest == NULL && store_prepare(st, sql, &c->insert_manifest) != 0)
		return SINKD_ESTORE;
	sqlite3_stmt *s = c->insert_manifest;
	const int64_t ints[] = {m->id, m->ts_ns, m->seq_lo, m->seq_hi};
	for (int i = 0; i < 4; i++)
		sqlite3_bind_int64(s, i + 1, ints[i]);
	sqlite3_bind_blob(s, 5, m->head, 32, SQLITE_STATIC);
	sqlite3_bind_int64(s, 6, (int64_t)m->events);
	sqlite3_bind_int64(s, 7, (int64_t)m->dns_queries);
	sqlite3_bind_int64(s, 8, m->time_lo);
	sqlite3_bind_int64(s, 9, m->time_hi);
	sqlite3_bind_int64(s, 10, m->pruned_seq);
	sqlite3_bind_int64(s, 11, m->pruned_minute);
	if (m->has_key_id)
		sqlite3_bind_blob(s, 12, m->key_id, 32, SQLITE_STATIC);
	else
		sqlite3_bind_null(s, 12);
	if (m->is_signed)
		sqlite3_bind_blob(s, 13, m->sig, CHAIN_SIG_LEN, SQLITE_STATIC);
	else
		sqlite3_bind_null(s, 13);
	int rc = sqlite3_step(s);
	sqlite3_reset(s);
	return rc == SQLITE_DONE ? 0 : store_sql_error(st, "insert manifest");
}

static int next_manifest_id(struct store *st, int64_t *id)
{
	sqlite3_stmt *s = NULL;
	if (sqlite3_prepare_v2(st->db, "SELECT COALESCE(MAX(id), 0) + 1 FROM manifests", -1, &s,
			       NULL) != SQLITE_OK ||
	    sqlite3_step(s) != SQLITE_ROW) {
		sqlite3_finalize(s);
		return store_sql_error(st, "next manifest id");
	}
	*id = sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	return 0;
}

int store_manifest_maybe(struct store *st, int64_t now_ns, bool force)
{
	struct store_chain *c = &st->chain;
	int64_t head_seq = c->sealed ? c->next.seq : c->seq;
	if (head_seq <= c->manifest_seq)
		return 0;
	if (!force && (c->manifest_interval_ns == 0 ||
		       (uint64_t)(now_ns - c->manifest_ts_ns) < c->manifest_interval_ns))
		return 0;
	struct store_manifest m = {.ts_ns = now_ns};
	if (next_manifest_id(st, &m.id) != 0 ||
	    store_manifest_summarise(st, c->manifest_seq + 1, head_seq, &m) != 0)
		return SINKD_ESTORE;
	if (c->key != NULL) {
		uint8_t bytes[MANIFEST_BYTES];
		m.has_key_id = true;
		memcpy(m.key_id, c->key_id, 32);
		store_manifest_bytes(&m, bytes);
		if (sign(st, bytes, sizeof(bytes), m.sig) != 0)
			return SINKD_ESTORE;
		m.is_signed = true;
	}
	if (insert_manifest(st, &m) != 0)
		return SINKD_ESTORE;
	c->manifest_pending = true;
	c->manifest_pending_seq = head_seq;
	return 0;
}

int store_key_id(void *pkey, uint8_t out[32])
{
	uint8_t raw[32];
	size_t len = sizeof(raw);
	unsigned md_len = 32;
	if (EVP_PKEY_get_raw_public_key((EVP_PKEY *)pkey, raw, &len) != 1 || len != 32)
		return SINKD_EINVAL;
	return EVP_Digest(raw, len, out, &md_len, EVP_sha256(), NULL) == 1 ? 0 : SINKD_EINVAL;
}

int store_evidence_setup(struct store *st, const char *key_path, unsigned interval_s)
{
	struct store_chain *c = &st->chain;
	c->manifest_interval_ns = (uint64_t)interval_s * 1000000000ull;
	if (c->manifest_ts_ns == 0)
		c->manifest_ts_ns = wall_ns(); /* first manifest one interval after start */
	if (key_path == NULL || key_path[0] == '\0')
		return 0;
	FILE *f = fopen(key_path, "r");
	if (f == NULL) {
		log_err("[evidence] key %s: cannot open: %m (create one with 'sinkd keygen "
			"--out %s')",
			key_path, key_path);
		return SINKD_EIO;
	}
	struct stat sb;
	if (fstat(fileno(f), &sb) == 0 && (sb.st_mode & 0077) != 0) {
		log_err("[evidence] key %s: mode %03o lets others read the signing key: "
			"chmod 600 %s",
			key_path, (unsigned)(sb.st_mode & 0777), key_path);
		fclose(f);
		return SINKD_EINVAL;
	}
	EVP_PKEY *k = PEM_read_PrivateKey(f, NULL, NULL, NULL);
	fclose(f);
	if (k == NULL || EVP_PKEY_get_base_id(k) != EVP_PKEY_ED25519) {
		log_err("[evidence] key %s: not an Ed25519 private key in PEM (make one with "
			"'sinkd keygen --out FILE')",
			key_path);
		EVP_PKEY_free(k);
		return SINKD_EINVAL;
	}
	EVP_PKEY_free(c->key);
	c->key = k;
	return store_key_id(k, c->key_id);
}

int store_evidence_close_manifest(struct store *st)
{
	struct store_chain *c = &st->chain;
	if (st->read_only || !c->wrote || c->seq <= c->manifest_seq)
		return 0;
	if (sqlite3_exec(st->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK)
		return store_sql_error(st, "begin final manifest");
	c->sealed = false;
	if (store_manifest_maybe(st, wall_ns(), true) != 0 ||
	    sqlite3_exec(st->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
		sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
		c->manifest_pending = false;
		return store_sql_error(st, "final manifest");
	}
	store_chain_committed(st);
	return 0;
}
