/* Live statistics: distinct-count sketches, hourly rollups and population
 * estimators (docs/population.md).
 *
 * - struct hll: a HyperLogLog sketch of 64-bit hashes with an exact
 *   (sparse) set below a threshold. Mergeable (union) and serialisable.
 * - struct stats_live: the pipeline thread's hourly rollup cells since the
 *   last hand-over, plus the bounded "seen before" filter that tells new
 *   from returning sources. Handed to the store writer with each batch.
 * - stats_rebuild: recompute the rollups from the raw events of a store.
 * - estimators (estimate.c): footprint, live population with NAT/churn
 *   correction, exponential cleanup fit, Chapman capture-recapture.
 */
#ifndef SINKD_STATS_STATS_H
#define SINKD_STATS_STATS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/event.h"

/* ---- HyperLogLog -------------------------------------------------------- */

#define HLL_P 14 /* 2^14 registers: standard error 1.04/128 = 0.81% */
#define HLL_REGISTERS (1u << HLL_P)
#define HLL_SPARSE_MAX 2048		   /* exact set up to this many hashes (16 KiB) */
#define HLL_SERIAL_MAX (8 + HLL_REGISTERS) /* largest serialised sketch */

/* A sketch: exact while it holds at most `limit` distinct hashes (a sorted
 * array, which doubles as the exact set), then 2^HLL_P one-byte registers.
 * Owns its memory; hll_free releases it. */
struct hll {
	uint64_t *set;	 /* sorted distinct hashes (exact mode) */
	uint32_t n, cap; /* hashes held, allocated */
	uint32_t limit;	 /* exact up to this many; 0 = HLL_SPARSE_MAX */
	uint8_t *regs;	 /* non-NULL: dense mode */
};

/* An empty sketch, exact up to `limit` hashes (0 = HLL_SPARSE_MAX). */
void hll_init(struct hll *h, uint32_t limit);
void hll_free(struct hll *h);
void hll_clear(struct hll *h);

/* 64-bit hash of bytes (SipHash-like mixing of FNV; stable across runs and
 * builds: sketches are persisted). */
uint64_t hll_hash(const void *data, size_t len);

/* Add a hash. 0 or SINKD_ENOMEM (the sketch is unchanged). */
int hll_add(struct hll *h, uint64_t hash);

/* dst = dst ∪ src. 0 or SINKD_ENOMEM. */
int hll_merge(struct hll *dst, const struct hll *src);

/* Estimated distinct count: exact in exact mode, else Ertl's improved
 * HyperLogLog estimator (relative standard error 0.81%). */
double hll_count(struct hll *h);

/* True while the count is exact. */
bool hll_is_exact(const struct hll *h);

/* Serialise into buf (HLL_SERIAL_MAX bytes suffice): exact mode is
 * "S", n (u32 LE), n hashes (u64 LE); dense "D" and the registers.
 * Returns the length. */
size_t hll_serialize(struct hll *h, uint8_t *buf, size_t cap);

/* Merge a serialised sketch into h (h ∪= data). 0, SINKD_EINVAL (not a
 * sketch: nothing merged) or SINKD_ENOMEM. */
int hll_merge_serialized(struct hll *h, const void *data, size_t len);

/* ---- hourly rollups ----------------------------------------------------- */

/* The distinct counts of a rollup cell. */
enum stats_sketch {
	STATS_SOURCES,	  /* source addresses: IPv4 address, IPv6 /64 */
	STATS_NETS,	  /* IPv4 /24, IPv6 /64 (DESIGN: "distinct /24s or /64s") */
	STATS_BOTS,	  /* bot ids */
	STATS_ID_SOURCES, /* sources of events that carried a bot id */
	STATS_PAIRS,	  /* (bot id, source) pairs: churn and NAT factors */
	STATS_N_SKETCHES
};

extern const char *const stats_sketch_names[STATS_N_SKETCHES];

/* One rollup cell as handed to the store: key, counters and serialised
 * sketches. Strings and blobs belong to the stats_live they came from and
 * stay valid until its next stats_live_reset. */
struct stats_cell {
	uint32_t hour;	       /* Unix seconds, multiple of 3600 */
	const char *family;    /* "" when unclassified */
	const char *domain;    /* seized zone, "" when none */
	const char *country;   /* ISO alpha-2 or "" */
	uint32_t asn;	       /* 0 unknown */
	const char *asn_org;   /* "" unknown */
	const char *transport; /* "dns", "http", "https", "tls", "raw" */
	uint64_t events, id_events, new_sources;
	const uint8_t *sketch[STATS_N_SKETCHES];
	size_t sketch_len[STATS_N_SKETCHES];
};

/* The transport name of an event ("https" is HTTP inside TLS). */
const char *stats_transport(const struct sinkd_event *ev);

/* The hashes an event adds to each sketch (the same live, in rebuilds
 * and in raw-scan reports). Returns false when it carried no bot id (then
 * only sources and nets are set). */
bool stats_event_hashes(const struct sinkd_event *ev, uint64_t out[STATS_N_SKETCHES]);

/* Source key of an event: IPv4 address, IPv6 /64 (16 bytes, the rest
 * zeroed); net key: IPv4 /24, IPv6 /64. */
void stats_source_key(const uint8_t ip[16], uint8_t out[16]);
void stats_net_key(const uint8_t ip[16], uint8_t out[16]);

/* The "seen before" filter: a Bloom filter of source keys with k = 7
 * hashes, `bytes` of bits (1% false positives up to bytes * 8 / 9.6
 * sources). Bounded memory; a false positive makes a new source count as
 * returning. */
struct stats_seen;
int stats_seen_new(struct stats_seen **out, size_t bytes);
void stats_seen_free(struct stats_seen *s);
/* Test and set: true when key was (probably) seen before. */
bool stats_seen_check_add(struct stats_seen *s, const uint8_t key[16]);
/* The bit array (for persistence) and its size. */
const uint8_t *stats_seen_bits(const struct stats_seen *s, size_t *len);
/* Load persisted bits (OR-ed in). SINKD_EINVAL when the size differs. */
int stats_seen_load(struct stats_seen *s, const uint8_t *bits, size_t len);

/* The rollup cells of events added since the last reset. Pipeline thread:
 * stats_live_add per event; at a hand-over the writer calls
 * stats_live_cells, writes them, then stats_live_reset. */
struct stats_live;

/* max_cells bounds the table (0 = 65536). 0 or SINKD_ENOMEM. */
int stats_live_new(struct stats_live **out, size_t max_cells);
void stats_live_free(struct stats_live *l);

/* Count ev into its hour's cell. seen decides new vs returning (NULL:
 * no source counts as new). asn_org is borrowed and must outlive the
 * table's contents. 0, SINKD_EFULL (table full: hand over, reset and
 * retry) or SINKD_ENOMEM (the event is counted but missing from a
 * sketch). */
int stats_live_add(struct stats_live *l, struct stats_seen *seen, const struct sinkd_event *ev,
		   const char *asn_org);

/* The same for count identical events (a DNS minute aggregate). */
int stats_live_add_n(struct stats_live *l, struct stats_seen *seen, const struct sinkd_event *ev,
		     const char *asn_org, uint64_t count);

/* Cells in use, and whether the table is close to its bound. */
size_t stats_live_count(const struct stats_live *l);
bool stats_live_nearly_full(const struct stats_live *l);

/* Serialise every cell (writer thread). *cells valid until reset. 0 or
 * SINKD_ENOMEM. */
int stats_live_cells(struct stats_live *l, const struct stats_cell **cells, size_t *n);
void stats_live_reset(struct stats_live *l);

/* Memory held by the table now (bytes), for the benchmark. */
size_t stats_live_memory(const struct stats_live *l);

/* ---- estimators (estimate.c; methods in docs/population.md) --------------- */

/* One day of distinct counts of one population (a family, a country ...),
 * read from merged rollups. */
struct stats_day {
	uint32_t day;	   /* Unix seconds of 00:00 UTC */
	double sources;	   /* distinct sources (IPv4 address, IPv6 /64) */
	double bots;	   /* distinct bot ids */
	double id_sources; /* distinct sources of events that carried an id */
	double pairs;	   /* distinct (bot id, source) pairs */
};

/* Live population of one day with its 95% interval. */
struct stats_live_pop {
	double estimate, lo, hi;
	double ids;		/* distinct bot ids (counted, not estimated) */
	double noid_sources;	/* sources that never showed an id that day */
	double bots_per_source; /* correction factor r from the id-bearing subset */
	double r_sd;		/* its spread over the window */
	bool by_id;		/* every source showed an id: exact */
	bool pooled_factor;	/* r from the pooled other populations */
	bool no_factor;		/* no id-bearing data: bare address count */
};

/* Live population of days[i]: distinct ids plus the sources without ids
 * times r = ids / id-bearing sources, r measured on days[i-6..i] (the
 * same family), interval from r's day-to-day spread (or its sampling
 * error with fewer than 3 days) and the sketches' error. */
void stats_estimate_live(const struct stats_day *days, size_t n, size_t i,
			 struct stats_live_pop *out);

/* The same; when days has no id-bearing data in the window, r comes from
 * pooled (the same n days of all id-bearing populations together, e.g.
 * every family), flagged pooled_factor. pooled may be NULL. */
void stats_estimate_live_pooled(const struct stats_day *days, size_t n, size_t i,
				const struct stats_day *pooled, struct stats_live_pop *out);

/* Churn and NAT: addresses per bot id per day (pairs / ids) and ids per
 * address (pairs / id sources); 0 when there are no ids. */
void stats_churn_nat(const struct stats_day *d, double *addrs_per_id, double *ids_per_addr);

/* Exponential decay fit y(t) = n0 * exp(-lambda * t) (t in days from the
 * first point), weighted least squares on ln y (weights y). */
struct stats_decay {
	bool ok;  /* at least 3 positive points and a fit */
	size_t n; /* points used */
	double n0, lambda, lambda_se;
	double half_life;    /* days; INFINITY when not shrinking */
	double hl_lo, hl_hi; /* 95% interval (hl_hi INFINITY when open) */
	double r2;	     /* weighted R^2 of the log fit */
	double below_days;   /* days from t0 until y < threshold (INFINITY: never) */
};
void stats_fit_decay(const double *t, const double *y, size_t n, double threshold,
		     struct stats_decay *out);

/* Chapman's capture-recapture estimate from n1 ids in window 1, n2 in
 * window 2, m in both; variance after Seber (1970); 95% interval by a
 * normal approximation, the lower end at least n1 + n2 - m. */
struct stats_chapman {
	double n1, n2, m;
	double estimate, se, lo, hi;
	double unseen; /* estimate - (n1 + n2 - m) */
};
void stats_chapman(double n1, double n2, double m, struct stats_chapman *out);

/* Two-sided 95% quantile of Student's t with df degrees of freedom. */
double stats_t95(size_t df);

/* ---- the pipeline hook (hook.c) ------------------------------------------ */

struct sinkd_config;
struct store;
struct stats_hook;
struct stats_batch;

/* Live tables sized by cfg's [stats] (cfg NULL: defaults) and the seen
 * filter, loaded from st when it holds one (st may be NULL). 0 or
 * SINKD_ENOMEM. */
int stats_hook_new(struct stats_hook **out, const struct sinkd_config *cfg, struct store *st);
void stats_hook_free(struct stats_hook *h);

/* Pipeline thread, after classification: count ev. 0, or SINKD_EFULL:
 * hand over (stats_hook_detach) and call again. Out of memory for a
 * sketch is counted (stats_hook_errors), not returned. */
int stats_hook_add(struct stats_hook *h, const struct sinkd_event *ev, const char *asn_org);
bool stats_hook_pending(const struct stats_hook *h);
bool stats_hook_nearly_full(const struct stats_hook *h);

/* Pipeline thread, at a hand-over, once the writer has finished the
 * previous batch: the filled table (and, every 5 minutes or when final, a
 * snapshot of the seen filter) for the job; NULL when there is nothing. */
struct stats_batch *stats_hook_detach(struct stats_hook *h, bool final);

/* Writer thread: the store_write_batch hook (ctx = the batch) writing the
 * cells and the seen snapshot in the batch's transaction; after the
 * write, stats_batch_done empties the table for reuse. 0, SINKD_ENOMEM or
 * SINKD_ESTORE (the batch rolls back with its events). */
int stats_batch_write(struct store *st, void *ctx);
void stats_batch_done(struct stats_batch *b);

/* Events missing from a sketch or whole cells lost to out-of-memory. */
uint64_t stats_hook_errors(const struct stats_hook *h);

/* `sinkd rollup rebuild [--store P] [-c FILE]`: delete every rollup and
 * recompute them from raw events (rows and DNS minute aggregates). */
int stats_rollup_cli(int argc, char **argv);

#endif
