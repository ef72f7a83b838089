/* Private to src/store/: the evidence chain (chain.c, chain_content.c),
 * signed manifests (manifest.c), verification (verify.c) and retention
 * (prune.c). The byte layouts are defined in docs/evidence.md; the code
 * here is their only implementation, used both when a batch is written and
 * when `sinkd verify` recomputes it. */
#ifndef SINKD_STORE_CHAIN_INTERNAL_H
#define SINKD_STORE_CHAIN_INTERNAL_H

#include <sqlite3.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CHAIN_HASH_LEN 32
#define CHAIN_SIG_LEN 64
#define CHAIN_STMTS 7 /* statements whose rows are hashed */
#define CHAIN_MAX_COLUMNS 64

struct store;
struct store_agg_entry;
struct evp_md_ctx_st;
struct evp_md_st;
struct evp_pkey_st;

enum chain_kind {
	CHAIN_BATCH = 1, /* a committed batch of events and aggregates */
	CHAIN_PRUNE = 2, /* a retention step: rows of old batches deleted */
};

/* What one batch added to one minute of dns_minute. keysum is the sum over
 * the batch's upserts of that minute of a*count + b*logged (mod 2^64),
 * a and b the first two big-endian 64-bit words of the SHA-256 of the key:
 * additive, so the sums over every batch equal the same sum over the
 * table's final rows (docs/evidence.md, "DNS aggregates"). */
struct chain_dns_minute {
	int64_t minute;
	uint64_t queries, logged, keysum;
};

/* One chain record as stored in table `chain`. late and dns are borrowed. */
struct chain_rec {
	int64_t seq, kind, ts_ns;
	int64_t ev_lo, ev_hi;	      /* events ids (lo, hi] of the batch */
	int64_t zones_lo, zones_hi;   /* zones rows (lo, hi] added */
	int64_t labels_lo, labels_hi; /* labels rows (lo, hi] added */
	int64_t bots_lo, bots_hi;     /* bots rows (lo, hi] added */
	const int64_t *late;	      /* ids <= ev_lo that belong to the batch, ascending */
	size_t n_late;
	int64_t rows, captures;		    /* events and capture rows hashed */
	int64_t time_lo, time_hi;	    /* ns: first and last event (0: none) */
	const struct chain_dns_minute *dns; /* ascending minutes */
	size_t n_dns;
	int64_t pruned_seq;		 /* batches <= this have had their rows deleted */
	int64_t pruned_minute;		 /* dns_minute rows before this minute are not covered */
	uint8_t content[CHAIN_HASH_LEN]; /* SHA-256 of the content bytes */
	uint8_t hash[CHAIN_HASH_LEN];	 /* h_n = SHA-256(h_{n-1} || header bytes) */
};

/* Buffered SHA-256 over the canonical encodings. */
struct chain_hasher {
	struct evp_md_ctx_st *ctx;
	struct evp_md_st *md;
	size_t n;
	uint8_t buf[16384];
};

/* Rows counted while hashing a batch's content. check_bodies is input:
 * also check that each capture row's body is in `bodies` and hashes to
 * its key (verify; bad_bodies counts failures, bad_body_id the first). */
struct chain_tally {
	bool check_bodies;
	int64_t bad_bodies, bad_body_id;
	int64_t rows, captures;
	int64_t time_lo, time_hi;
	int64_t missing_late; /* listed late ids without an events row */
	int64_t skipped;      /* rows in the range that belong to later batches */
};

/* The evidence state of a writable handle (and the statements a reader
 * needs to recompute content). */
struct store_chain {
	struct chain_hasher hx;
	struct evp_md_ctx_st *key_ctx; /* dns_minute key digests */
	sqlite3_stmt *ev_range, *cap_range, *ev_one, *cap_one, *zones_range, *labels_range;
	sqlite3_stmt *bots_range;
	sqlite3_stmt *insert, *insert_manifest;
	sqlite3_stmt *body_one; /* verify: a body by its hash */
	void *cols;		/* column names of the hashed statements (chain_content.c) */
	struct {
		uint8_t sha256[CHAIN_HASH_LEN];
		bool used;
	} * bodies_ok; /* verify: bodies already checked (direct mapped) */

	/* After the last committed record (have_last false: chain empty). */
	bool have_last;
	int64_t seq, ev_hi, zones_hi, labels_hi, bots_hi, pruned_seq, pruned_minute;
	uint8_t head[CHAIN_HASH_LEN];
	/* Where an empty chain starts, read inside the first transaction. */
	int64_t start_ev, start_zones, start_labels, start_bots, start_minute;

	/* The record sealed in the open transaction, applied at commit. */
	bool sealed;
	struct chain_rec next;

	/* Ids this transaction inserted below the newest row (rows.c). */
	int64_t *late;
	size_t n_late, cap_late;
	struct chain_dns_minute *dns;
	size_t n_dns, cap_dns;

	/* Manifests (manifest.c). key NULL: manifests are written unsigned. */
	struct evp_pkey_st *key;
	uint8_t key_id[CHAIN_HASH_LEN];
	uint64_t manifest_interval_ns; /* 0: only at close */
	int64_t manifest_seq;	       /* last seq covered by a manifest */
	int64_t manifest_ts_ns;	       /* when the last manifest was written */
	bool wrote;		       /* this handle committed a record */
	bool manifest_pending;	       /* a manifest was written in this transaction */
	int64_t manifest_pending_seq;
};

/* Hasher (chain.c). 0 or SINKD_ESTORE (no SHA-256 in OpenSSL). */
int chain_hasher_init(struct chain_hasher *h);
void chain_hasher_free(struct chain_hasher *h);
void chain_hx_begin(struct chain_hasher *h);
void chain_hx_put(struct chain_hasher *h, const void *p, size_t len);
void chain_hx_u8(struct chain_hasher *h, uint8_t v);
void chain_hx_u32(struct chain_hasher *h, uint32_t v);
void chain_hx_i64(struct chain_hasher *h, int64_t v);
void chain_hx_end(struct chain_hasher *h, uint8_t out[CHAIN_HASH_LEN]);

/* Big-endian encodings. */
void chain_be64(uint8_t out[8], uint64_t v);
uint64_t chain_get_be64(const uint8_t in[8]);

/* Prepare the statements (every handle) and, on a writable one, load the
 * state after the last record. 0 or SINKD_ESTORE / SINKD_ENOMEM. */
int store_chain_open(struct store *st);
void store_chain_close(struct store *st);

/* Write path (write.c): after BEGIN; for each row inserted below the
 * newest one; before COMMIT (seals the record, and a manifest when due);
 * after COMMIT or ROLLBACK. */
int store_chain_begin(struct store *st);
int store_chain_late(struct store *st, int64_t id);
int store_chain_seal(struct store *st, const struct store_agg_entry *ups, size_t n_ups);
void store_chain_committed(struct store *st);
void store_chain_rolled_back(struct store *st);

/* Append a record of kind to the chain inside the caller's transaction
 * (fills seq, lo/hi continuity, hash; r->content and the counts are the
 * caller's). Becomes the chain state at store_chain_committed. */
int store_chain_append(struct store *st, struct chain_rec *r);

/* h_n from h_{n-1} and the record's header bytes. */
void chain_record_hash(struct chain_hasher *h, const uint8_t prev[CHAIN_HASH_LEN],
		       const struct chain_rec *r, uint8_t out[CHAIN_HASH_LEN]);

/* The content digest of record r recomputed from the tables (chain_content.c):
 * its late rows, its id range minus the ids in skip (sorted, the late rows
 * of later records), and the zones and labels rows it added. 0 or
 * SINKD_ESTORE. */
int chain_content(struct store *st, const struct chain_rec *r, const int64_t *skip, size_t n_skip,
		  struct chain_tally *t, uint8_t out[CHAIN_HASH_LEN]);

/* a and b words of a dns_minute key (see struct chain_dns_minute). */
int chain_dns_key_words(struct store *st, int64_t minute, const uint8_t resolver[16],
			const char *qname, size_t qname_len, int64_t zone_id, int qtype, int rcode,
			uint64_t *a, uint64_t *b);

/* Encodings of the variable fields as stored (BLOBs of big-endian words). */
int chain_late_decode(const void *blob, size_t len, int64_t **out, size_t *n);
int chain_dns_decode(const void *blob, size_t len, struct chain_dns_minute **out, size_t *n);

/* Manifests (manifest.c): write one inside the open transaction when due
 * (force: whenever a record is not covered yet). 0 or SINKD_ESTORE. */
int store_manifest_maybe(struct store *st, int64_t now_ns, bool force);

/* The signed bytes of a manifest (store_manifest_bytes_len() long), its
 * counts recomputed from `chain`, and the SHA-256 key id of an Ed25519
 * key (EVP_PKEY *). */
struct store_manifest;
void store_manifest_bytes(const struct store_manifest *m, uint8_t *out);
size_t store_manifest_bytes_len(void);
int store_manifest_summarise(struct store *st, int64_t lo, int64_t hi, struct store_manifest *m);
int store_key_id(void *pkey, uint8_t out[CHAIN_HASH_LEN]);

/* Write a manifest over the records not covered yet, in its own
 * transaction, when this handle wrote any (store_close calls it). */
int store_evidence_close_manifest(struct store *st);

#endif
