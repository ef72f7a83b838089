/* Scale-out: ship committed events to a ClickHouse cluster (docs/scale-out.md).
 *
 * Every node keeps its own SQLite store. After each committed batch the
 * store-writer thread appends the batch's events, under the ids the store
 * gave them, to a durable local spool (one gzip'd TabSeparated file per
 * batch, fsync'd, renamed into place). A shipper thread posts spool files
 * oldest first to ClickHouse's HTTP interface and deletes each once the
 * server acknowledged it; a failed post is retried with back-off. Delivery
 * is at-least-once; ClickHouse makes it idempotent: the events tables are
 * ReplacingMergeTree keyed by (node, id) and the Distributed table shards
 * by a hash of the same key, so a batch sent twice lands twice on one shard
 * and collapses to one row (reports count distinct (node, id)).
 *
 * The spool is bounded ([cluster] spool_max_mb): when a new batch would
 * exceed it, the oldest files are deleted first and their events counted
 * as dropped (cluster_stats.events_dropped).
 */
#ifndef SINKD_CLUSTER_CLUSTER_H
#define SINKD_CLUSTER_CLUSTER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "core/config.h"
#include "core/event.h"

struct cluster;

struct cluster_stats {
	uint64_t spool_bytes;	     /* bytes waiting in the spool */
	uint64_t spool_files;	     /* batches waiting */
	uint64_t events_spooled;     /* events written to the spool */
	uint64_t events_shipped;     /* events ClickHouse acknowledged */
	uint64_t events_dropped;     /* oldest spool batches deleted (spool full) */
	uint64_t spool_write_failed; /* events not spooled (disk error) */
	uint64_t batches_shipped;
	uint64_t batches_retried;  /* posts that failed and will be retried */
	uint64_t batches_rejected; /* ClickHouse refused the data: moved aside */
	uint64_t lag_ns;	   /* age of the oldest unshipped event (0: none) */
};

/* Open the spool directory (created 0700 if missing) and prepare the
 * shipper for cfg's [cluster] section. Returns 0, SINKD_EINVAL (no shard
 * configured; message logged) or SINKD_EIO. */
int cluster_new(struct cluster **out, const struct sinkd_config *cfg);

/* Start / stop the shipper thread. stop makes one last attempt to ship
 * what is spooled (bounded by the request timeout) and leaves the rest in
 * the spool for the next start. */
int cluster_start(struct cluster *c);
void cluster_stop(struct cluster *c);
void cluster_free(struct cluster *c);

/* Store-writer thread: spool the n committed events ev[] (payload
 * sections valid) under the store's ids[]. Never blocks on the network.
 * 0 or SINKD_EIO (the events are counted in spool_write_failed). */
int cluster_spool(struct cluster *c, const struct sinkd_event *ev, const int64_t *ids, size_t n);

void cluster_stats(struct cluster *c, struct cluster_stats *out);

/* Prometheus text for the shipper's counters and gauges. */
void cluster_metrics(struct cluster *c, FILE *out);

/* `sinkd cluster init|status` and `sinkd report nodes`. Return an exit
 * status. */
int cluster_cli(int argc, char **argv);
int cluster_report_nodes(int argc, char **argv);

/* Events back from ClickHouse for the reports' raw path, oldest first,
 * grouped per hour and per distinct (kind, transport, flags, source, zone,
 * family, bot id, message type, country, ASN) with their event count;
 * rows shipped twice count once. Sets ts_ns (the group's first event),
 * kind, transport, flags, src.ip, zone, family, bot_id, msg_type, country,
 * asn. source: clickhouse://HOST[:PORT][/DB]. Non-zero from cb stops the
 * scan and is returned; else 0, SINKD_EINVAL (bad source), SINKD_EIO or
 * SINKD_EPARSE, with a message in err. The callback type is the store's
 * raw-scan callback (store_raw_cb). */
typedef int (*cluster_event_cb)(const struct sinkd_event *ev, uint64_t count, bool aggregate,
				void *ctx);
int cluster_raw_scan(const char *source, const struct sinkd_config *cfg, uint64_t since_ns,
		     uint64_t until_ns, cluster_event_cb cb, void *ctx, char *err, size_t errlen);

/* The node identity events are shipped under: [cluster] node, or the host
 * name. */
void cluster_node_name(const struct sinkd_config *cfg, char *buf, size_t len);

#endif
