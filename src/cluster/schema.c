/* `sinkd cluster init`: the ClickHouse schema, created on every shard.
 *
 * ClickHouse 18.16 (Debian 12) runs ON CLUSTER DDL only through ZooKeeper,
 * so sinkd runs the same idempotent statements on each configured shard
 * server itself:
 *   events_local   ReplacingMergeTree, ORDER BY (node, id): a batch shipped
 *                  twice collapses to one row per event on merge; reports
 *                  count uniqExact(id) per node, exact before merges too.
 *   events         Distributed over events_local, sharded by
 *                  cityHash64(node, id): a retried batch lands on the same
 *                  shard as the first attempt.
 *   rollup_hour_local  AggregatingMergeTree of uniq states per (hour,
 *                  family, zone, country, asn, transport), filled by the
 *                  materialized view rollup_hour_mv from events_local;
 *                  uniq states merge across shards and nodes (a source
 *                  seen by two nodes counts once), and duplicates from
 *                  retries do not change them.
 *   rollup_hour    Distributed over rollup_hour_local.
 *   nodes_local / nodes  per-node heartbeats (spool, lag, totals).
 */
#include "cluster/cluster_internal.h"

#include "core/error.h"

#include <stdlib.h>
#include <string.h>

static int run(const struct ch_server *s, const char *sql, FILE *out, struct ch_response *keep)
{
	struct ch_response r;
	int ret = ch_request(s, sql, NULL, 0, false, NULL, &r);
	if (ret != 0)
		fprintf(out, "  failed: %s\n    statement: %.120s...\n", r.error, sql);
	if (keep != NULL && ret == 0)
		*keep = r;
	else
		ch_response_free(&r);
	return ret;
}

static int init_shard(const struct sinkd_config *cfg, const struct ch_server *s, FILE *out)
{
	struct ch_response r;
	char sql[4096];
	const char *db = cfg->cluster_database;
	struct ch_server nodb = *s;
	nodb.database[0] = '\0';
	snprintf(nodb.database, sizeof(nodb.database), "default");
	if (run(&nodb, "SELECT version()", out, &r) != 0)
		return SINKD_EIO;
	unsigned major = r.body ? (unsigned)strtoul(r.body, NULL, 10) : 0;
	fprintf(out, "%s: ClickHouse %.*s", s->url, (int)strcspn(r.body ? r.body : "", "\n"),
		r.body ? r.body : "");
	ch_response_free(&r);
	if (major < 18) {
		fprintf(out, "\n  failed: ClickHouse 18.16 or newer is needed (custom partitioning,"
			     " materialized views TO a table)\n");
		return SINKD_EIO;
	}
	snprintf(sql, sizeof(sql), "SELECT count() FROM system.clusters WHERE cluster = '%s'",
		 cfg->cluster_name);
	if (run(&nodb, sql, out, &r) != 0)
		return SINKD_EIO;
	unsigned shards = r.body ? (unsigned)strtoul(r.body, NULL, 10) : 0;
	ch_response_free(&r);
	if (shards == 0) {
		fprintf(out,
			"\n  failed: cluster '%s' is not in this server's <remote_servers>; "
			"define it there (docs/scale-out.md) or set [cluster] cluster\n",
			cfg->cluster_name);
		return SINKD_EIO;
	}
	fprintf(out, ", cluster '%s' with %u shard(s)\n", cfg->cluster_name, shards);
	if (shards != cfg->n_cluster_shard)
		fprintf(out,
			"  warning: the server's cluster has %u shard(s), [cluster] lists %u\n",
			shards, cfg->n_cluster_shard);

	const char *ddl[] = {
	    "CREATE DATABASE IF NOT EXISTS %1$s",
	    "CREATE TABLE IF NOT EXISTS %1$s.events_local (%3$s) ENGINE = ReplacingMergeTree()"
	    " PARTITION BY toYYYYMM(ts) ORDER BY (node, id)",
	    "CREATE TABLE IF NOT EXISTS %1$s.events AS %1$s.events_local"
	    " ENGINE = Distributed(%2$s, %1$s, events_local, cityHash64(node, id))",
	    "CREATE TABLE IF NOT EXISTS %1$s.rollup_hour_local (hour DateTime, family String,"
	    " zone String, country String, asn UInt32, transport UInt8,"
	    " sources AggregateFunction(uniq, String), nets AggregateFunction(uniq, String),"
	    " bots AggregateFunction(uniq, String)) ENGINE = AggregatingMergeTree()"
	    " PARTITION BY toYYYYMM(hour) ORDER BY (hour, family, zone, country, asn, transport)",
	    "CREATE MATERIALIZED VIEW IF NOT EXISTS %1$s.rollup_hour_mv TO %1$s.rollup_hour_local"
	    " AS SELECT toStartOfHour(ts) AS hour, family, zone, country, asn, transport,"
	    " uniqState(src_ip) AS sources, uniqState(src_net) AS nets,"
	    " uniqStateIf(bot_id, bot_id != '') AS bots FROM %1$s.events_local"
	    " GROUP BY hour, family, zone, country, asn, transport",
	    "CREATE TABLE IF NOT EXISTS %1$s.rollup_hour AS %1$s.rollup_hour_local"
	    " ENGINE = Distributed(%2$s, %1$s, rollup_hour_local, rand())",
	    "CREATE TABLE IF NOT EXISTS %1$s.nodes_local (node String, ts DateTime,"
	    " spool_bytes UInt64, spool_batches UInt64, events_spooled UInt64,"
	    " events_shipped UInt64, events_dropped UInt64, batches_retried UInt64,"
	    " lag_ns UInt64) ENGINE = ReplacingMergeTree(ts) ORDER BY node",
	    "CREATE TABLE IF NOT EXISTS %1$s.nodes AS %1$s.nodes_local"
	    " ENGINE = Distributed(%2$s, %1$s, nodes_local, cityHash64(node))",
	};
	for (size_t i = 0; i < sizeof(ddl) / sizeof(ddl[0]); i++) {
		snprintf(sql, sizeof(sql), ddl[i], db, cfg->cluster_name, cluster_columns);
		if (run(&nodb, sql, out, NULL) != 0)
			return SINKD_EIO;
	}
	fprintf(out, "  schema ready in database %s\n", db);
	return 0;
}

int cluster_schema_init(const struct sinkd_config *cfg, FILE *out)
{
	if (cfg->n_cluster_shard == 0) {
		fprintf(out, "cluster init: no [cluster] shard configured\n");
		return SINKD_EINVAL;
	}
	if (strspn(cfg->cluster_database, "abcdefghijklmnopqrstuvwxyz0123456789_") !=
		strlen(cfg->cluster_database) ||
	    strspn(cfg->cluster_name,
		   "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_") !=
		strlen(cfg->cluster_name)) {
		fprintf(out, "cluster init: [cluster] database and cluster must be plain "
			     "identifiers ([a-z0-9_])\n");
		return SINKD_EINVAL;
	}
	int ret = 0;
	for (unsigned i = 0; i < cfg->n_cluster_shard; i++) {
		struct ch_server s;
		ch_server_from_config(&s, cfg, i);
		if (init_shard(cfg, &s, out) != 0)
			ret = SINKD_EIO;
	}
	return ret;
}
