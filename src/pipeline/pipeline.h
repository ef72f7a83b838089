/* The pipeline: one thread that drains every worker's event ring, counts
 * DNS queries into in-memory per-minute aggregates and batches individual
 * events; one store-writer thread that commits what the pipeline hands it.
 *
 * Listener workers are the producers (one ring each, SPSC); a full ring
 * means the worker counts a drop and keeps answering. The pipeline hands
 * over (double-buffered) when the row batch holds batch_max events, when
 * commit_interval_ms has passed, or when the aggregate table nears its
 * bound. While more than dns_flush_max aggregate keys are pending (a
 * random-name flood), aggregates are handed over once per minute instead of
 * every interval. If the writer is still busy, the pipeline waits: the
 * rings absorb the delay, and a ring that fills counts drops at the worker.
 * pipeline_stop drains every ring completely and waits for the writer, so
 * events pushed before the call are all written (or counted as failed).
 *
 * When a commit fails (disk full, store unwritable) its events are counted
 * as dropped by reason, store_ok turns false and the writer retries with
 * the next batch after a back-off (0.25 s doubling to 2 s); meanwhile the
 * pipeline drops (and counts) batches instead of waiting for the writer,
 * so the rings keep draining and answering is never affected. The first
 * commit that succeeds turns store_ok true again: recording resumes by
 * itself.
 */
#ifndef SINKD_PIPELINE_PIPELINE_H
#define SINKD_PIPELINE_PIPELINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/event.h"
#include "core/vring.h"

struct store;
struct store_jsonl;
struct pipeline;
struct classify;
struct sinkd_config;

struct pipeline_options {
	unsigned n_rings;		/* one per producer thread */
	size_t ring_size;		/* records per ring (sized for DNS-sized
					 * events; records with payload take more) */
	size_t batch_max;		/* events per store transaction */
	unsigned commit_interval_ms;	/* max age of a pending batch */
	bool every_query;		/* DNS: one store row per query */
	size_t dns_aggregate_max;	/* distinct keys in memory (0 = 1000000) */
	size_t dns_flush_max;		/* see above (0 = 50000) */
	unsigned retention_raw_days;	/* [retention]: 0 = keep events forever */
	unsigned retention_rollup_days;	/* 0 = keep DNS minutes forever */
	const struct sinkd_config *cfg;	/* [enrich], [stats]; NULL: no enrichment,
					 * default rollup sizes */
	struct cluster *cluster;	/* ship committed rows (NULL: no cluster) */
	struct classify *classify;	/* label rows with the family rules
					 * (borrowed; NULL = no classification) */
	unsigned shapes_max;		/* protocol shapes kept (0 = 4096; docs/shapes.md) */
	struct store_jsonl *jsonl;	/* committed rows also go here (NULL = no);
					 * borrowed, written by the store writer */
};

struct pipeline_stats {
	uint64_t events_in;		/* taken from the rings */
	uint64_t events_stored;		/* committed to the store */
	uint64_t events_store_failed;	/* lost because a batch failed to commit */
	uint64_t batches;		/* committed transactions */
	uint64_t last_batch_us;		/* duration of the last commit */
	uint64_t batch_us_total;	/* sum of every commit's duration */
	uint64_t stored_http, stored_tls, stored_raw;	/* committed rows per kind */
	uint64_t agg_rows_written;	/* DNS aggregate keys written */
	uint64_t writer_waits;		/* hand-overs that waited for the writer */
	/* Protocol discovery (docs/shapes.md): shapes in memory, evicted after
	 * being written, events not counted into a shape (table full of pending
	 * shapes, out of memory), (shape, zone) counts beyond the batch bound. */
	uint64_t shapes, shapes_evicted, shapes_dropped, shapes_zones_dropped;
	/* Events taken from the rings but not stored, by reason (their sum
	 * is events_store_failed). Ring-full drops are the workers' own
	 * counters (dns and capture totals). */
	uint64_t dropped_store_full;		/* disk or quota full */
	uint64_t dropped_store_unwritable;	/* read-only, permission, I/O error */
	uint64_t dropped_store_error;		/* any other failed commit */
	uint64_t store_retries;			/* write attempts while not store_ok */
	bool store_ok;			/* the last commit succeeded (true before the first) */
};

/* Create the rings; the store handle is borrowed (caller closes it after
 * pipeline_free). 0 or SINKD_ENOMEM. */
int pipeline_new(struct pipeline **out, struct store *st, const struct pipeline_options *opt);

/* The ring producer i (0 .. n_rings-1) pushes into. A record is a struct
 * sinkd_event followed by its payload_len payload bytes (ev->payload is
 * ignored in the ring). */
struct vring *pipeline_ring(struct pipeline *p, unsigned i);

/* Producer helper: copy ev and payload (payload_len bytes, may be NULL when
 * 0) into ring r. 0 or SINKD_EFULL (the caller counts the drop). */
int pipeline_push(struct vring *r, const struct sinkd_event *ev, const uint8_t *payload);

/* Producer helper for DNS events (no payload): the same, as a compact
 * record of the DNS fields only (about 150 bytes instead of the full
 * record's 1.2 KB), which the pipeline expands again. Keeps the DNS hot
 * path's memory traffic small. 0 or SINKD_EFULL. */
int pipeline_push_dns(struct vring *r, const struct sinkd_event *ev);

/* Start / stop the pipeline thread. stop drains and commits everything. */
int pipeline_start(struct pipeline *p);
void pipeline_stop(struct pipeline *p);
void pipeline_free(struct pipeline *p);

/* Consistent-enough snapshot of the counters (atomics). */
void pipeline_stats(const struct pipeline *p, struct pipeline_stats *out);

/* Fill of the worker rings now (approximate: read while producers write). */
struct pipeline_queue {
	unsigned rings;
	uint64_t used_bytes, capacity_bytes;	/* all rings */
	double max_fill;			/* fullest ring, 0..1 */
};

void pipeline_queue(const struct pipeline *p, struct pipeline_queue *out);

#endif
