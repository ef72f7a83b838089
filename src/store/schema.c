/* Schema versions and forward migrations.
 *
 * PRAGMA user_version is the number of migrations applied. Migration N+1 is
 * one more entry at the end of `migrations`; entries are never edited once
 * released. Each runs in its own transaction with the version bump.
 */
#include "store/store_internal.h"

#include "core/error.h"
#include "core/log.h"

#define STORE_APPLICATION_ID 0x736b6e64 /* "sknd" */

/* Text of a 16-byte address column in plain SQL (no extension functions),
 * so the views below are readable from the sqlite3 shell. */
/* clang-format off */
#define HEXDIGIT(c, pos) "(instr('0123456789ABCDEF', substr(hex(" c "), " #pos ", 1)) - 1)"
#define BYTE(c, hi, lo) "(" HEXDIGIT(c, hi) " * 16 + " HEXDIGIT(c, lo) ")"
#define GROUP(c, pos) "substr(hex(" c "), " #pos ", 4)"
#define IP_TEXT(c)                                                                          \
	"CASE WHEN substr(" c ", 1, 12) = x'00000000000000000000FFFF'"                      \
	" THEN printf('%d.%d.%d.%d', " BYTE(c, 25, 26) ", " BYTE(c, 27, 28) ", "            \
	BYTE(c, 29, 30) ", " BYTE(c, 31, 32) ")"                                            \
	" ELSE lower(" GROUP(c, 1) "||':'||" GROUP(c, 5) "||':'||" GROUP(c, 9) "||':'||"    \
	GROUP(c, 13) "||':'||" GROUP(c, 17) "||':'||" GROUP(c, 21) "||':'||" GROUP(c, 25)   \
	"||':'||" GROUP(c, 29) ") END"
/* clang-format on */

static const char sql_v1[] =
    "CREATE TABLE names (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE);"
    "CREATE TABLE labels (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE);"
    "CREATE TABLE dns_minute ("
    " minute INTEGER NOT NULL,"
    " resolver BLOB NOT NULL,"
    " zone_id INTEGER NOT NULL,"
    " qname_id INTEGER NOT NULL,"
    " qtype INTEGER NOT NULL,"
    " rcode INTEGER NOT NULL,"
    " count INTEGER NOT NULL,"
    " logged INTEGER NOT NULL DEFAULT 0,"
    " PRIMARY KEY (minute, resolver, zone_id, qname_id, qtype, rcode)"
    ") WITHOUT ROWID;"
    "CREATE INDEX dns_minute_zone ON dns_minute(zone_id, minute);"
    "CREATE INDEX dns_minute_qname ON dns_minute(qname_id, minute);"
    "CREATE INDEX dns_minute_resolver ON dns_minute(resolver, minute);"
    "CREATE TABLE events ("
    " id INTEGER PRIMARY KEY,"
    " ts_ns INTEGER NOT NULL,"
    " kind INTEGER NOT NULL,"
    " transport INTEGER NOT NULL,"
    " flags INTEGER NOT NULL,"
    " worker INTEGER NOT NULL,"
    " src_ip BLOB NOT NULL,"
    " src_port INTEGER NOT NULL,"
    " dst_ip BLOB NOT NULL,"
    " dst_port INTEGER NOT NULL,"
    " zone_id INTEGER,"
    " qname_id INTEGER,"
    " qtype INTEGER,"
    " qclass INTEGER,"
    " rcode INTEGER,"
    " msg_size INTEGER,"
    " ecs_family INTEGER,"
    " ecs_prefix INTEGER,"
    " ecs_addr BLOB,"
    " family_id INTEGER,"
    " msg_type_id INTEGER,"
    " bot_id INTEGER,"
    " country TEXT,"
    " asn INTEGER"
    ");"
    "CREATE INDEX events_ts ON events(ts_ns);"
    "CREATE INDEX events_src ON events(src_ip, ts_ns);"
    "CREATE INDEX events_zone ON events(zone_id, ts_ns);"
    "CREATE INDEX events_qname ON events(qname_id, ts_ns);"
    "CREATE INDEX events_kind ON events(kind, ts_ns) WHERE kind <> 1;"
    "CREATE VIEW dns_minute_v AS SELECT"
    " strftime('%Y-%m-%dT%H:%MZ', d.minute, 'unixepoch') AS time,"
    " " IP_TEXT(
	"d.resolver") " AS resolver,"
		      " z.name AS zone, q.name AS qname, d.qtype, d.rcode, d.count, d.logged"
		      " FROM dns_minute d LEFT JOIN names z ON z.id = d.zone_id"
		      " LEFT JOIN names q ON q.id = d.qname_id;"
		      "CREATE VIEW events_v AS SELECT e.id,"
		      " strftime('%Y-%m-%dT%H:%M:%fZ', e.ts_ns / 1e9, 'unixepoch') AS time,"
		      " e.kind, e.transport, e.flags,"
		      " " IP_TEXT(
			  "e.src_ip") " AS src_ip, e.src_port,"
				      " " IP_TEXT(
					  "e.dst_ip") " AS dst_ip, e.dst_port,"
						      " z.name AS zone, q.name AS qname, e.qtype, "
						      "e.qclass, e.rcode, e.msg_size,"
						      " f.name AS family, m.name AS msg_type, "
						      "b.name AS bot_id, e.country, e.asn"
						      " FROM events e LEFT JOIN names z ON z.id = "
						      "e.zone_id"
						      " LEFT JOIN names q ON q.id = e.qname_id"
						      " LEFT JOIN labels f ON f.id = e.family_id"
						      " LEFT JOIN labels m ON m.id = e.msg_type_id"
						      " LEFT JOIN labels b ON b.id = e.bot_id;";

/* Version 3: the write path's budget (see docs/store.md). Query names are
 * stored inline: flood names are nearly all new, and a lookup table made
 * each one a probe plus two B-tree inserts. Seized zones repeat and keep a
 * lookup table (`zones`, ids kept from `names`). An event's id is its time
 * key (ts_ns, or the next free nanosecond), so the table is its own time
 * index; the only index left is the partial one on non-DNS kinds.
 * dns_minute keeps only its primary key, minute first, so new minutes
 * append. Other filters walk time order under a row budget. The ids of old
 * events are recomputed the way the writer assigns them: in (ts_ns, id)
 * order, id = max(ts_ns, previous id + 1), written as a running maximum. */
static const char sql_v3[] =
    "DROP VIEW events_v;"
    "DROP VIEW dns_minute_v;"
    "ALTER TABLE events RENAME TO events_v1;"
    "ALTER TABLE dns_minute RENAME TO dns_minute_v1;"
    "CREATE TABLE zones (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE);"
    "INSERT INTO zones(id, name) SELECT id, name FROM names WHERE id IN"
    " (SELECT zone_id FROM dns_minute_v1 UNION SELECT zone_id FROM events_v1)"
    " ORDER BY id;"
    "CREATE TABLE dns_minute ("
    " minute INTEGER NOT NULL,"
    " resolver BLOB NOT NULL,"
    " zone_id INTEGER NOT NULL,"
    " qname TEXT NOT NULL,"
    " qtype INTEGER NOT NULL,"
    " rcode INTEGER NOT NULL,"
    " count INTEGER NOT NULL,"
    " logged INTEGER NOT NULL DEFAULT 0,"
    " PRIMARY KEY (minute, resolver, qname, zone_id, qtype, rcode)"
    ") WITHOUT ROWID;"
    "INSERT INTO dns_minute SELECT d.minute, d.resolver, d.zone_id, q.name, d.qtype,"
    " d.rcode, d.count, d.logged FROM dns_minute_v1 d JOIN names q ON q.id = d.qname_id"
    " ORDER BY d.minute, d.resolver, q.name, d.zone_id, d.qtype, d.rcode;"
    "CREATE TABLE events ("
    " id INTEGER PRIMARY KEY,"
    " ts_ns INTEGER NOT NULL,"
    " kind INTEGER NOT NULL,"
    " transport INTEGER NOT NULL,"
    " flags INTEGER NOT NULL,"
    " worker INTEGER NOT NULL,"
    " src_ip BLOB NOT NULL,"
    " src_port INTEGER NOT NULL,"
    " dst_ip BLOB NOT NULL,"
    " dst_port INTEGER NOT NULL,"
    " zone_id INTEGER,"
    " qname TEXT,"
    " qtype INTEGER,"
    " qclass INTEGER,"
    " rcode INTEGER,"
    " msg_size INTEGER,"
    " ecs_family INTEGER,"
    " ecs_prefix INTEGER,"
    " ecs_addr BLOB,"
    " family_id INTEGER,"
    " msg_type_id INTEGER,"
    " bot_id INTEGER,"
    " country TEXT,"
    " asn INTEGER"
    ");"
    "INSERT INTO events SELECT"
    " e.r + MAX(e.ts_ns - e.r) OVER (ORDER BY e.ts_ns, e.id ROWS UNBOUNDED PRECEDING),"
    " e.ts_ns, e.kind, e.transport, e.flags, e.worker, e.src_ip, e.src_port, e.dst_ip,"
    " e.dst_port, e.zone_id, q.name, e.qtype, e.qclass, e.rcode, e.msg_size, e.ecs_family,"
    " e.ecs_prefix, e.ecs_addr, e.family_id, e.msg_type_id, e.bot_id, e.country, e.asn"
    " FROM (SELECT *, ROW_NUMBER() OVER (ORDER BY ts_ns, id) AS r FROM events_v1) e"
    " LEFT JOIN names q ON q.id = e.qname_id ORDER BY e.ts_ns, e.id;"
    "DROP TABLE events_v1;"
    "DROP TABLE dns_minute_v1;"
    "DROP TABLE names;"
    "CREATE INDEX events_kind ON events(kind) WHERE kind <> 1;"
    /* clang-format off */
    "CREATE VIEW dns_minute_v AS SELECT"
    " strftime('%Y-%m-%dT%H:%MZ', d.minute, 'unixepoch') AS time,"
    " " IP_TEXT("d.resolver") " AS resolver,"
    " z.name AS zone, d.qname, d.qtype, d.rcode, d.count, d.logged"
    " FROM dns_minute d LEFT JOIN zones z ON z.id = d.zone_id;"
    "CREATE VIEW events_v AS SELECT e.id,"
    " strftime('%Y-%m-%dT%H:%M:%fZ', e.ts_ns / 1e9, 'unixepoch') AS time,"
    " e.kind, e.transport, e.flags,"
    " " IP_TEXT("e.src_ip") " AS src_ip, e.src_port,"
    " " IP_TEXT("e.dst_ip") " AS dst_ip, e.dst_port,"
    " z.name AS zone, e.qname, e.qtype, e.qclass, e.rcode, e.msg_size,"
    " f.name AS family, m.name AS msg_type, b.name AS bot_id, e.country, e.asn"
    " FROM events e LEFT JOIN zones z ON z.id = e.zone_id"
    " LEFT JOIN labels f ON f.id = e.family_id"
    " LEFT JOIN labels m ON m.id = e.msg_type_id"
    " LEFT JOIN labels b ON b.id = e.bot_id;";
/* clang-format on */

/* The domain monitor's state changes (src/store/monitor.c). */
static const char sql_domain_status[] =
    "CREATE TABLE IF NOT EXISTS domain_status ("
    " id INTEGER PRIMARY KEY,"
    " ts INTEGER NOT NULL,"
    " domain TEXT NOT NULL,"
    " old_state TEXT,"
    " new_state TEXT NOT NULL,"
    " details TEXT NOT NULL,"
    " source TEXT NOT NULL"
    ");"
    "CREATE INDEX IF NOT EXISTS domain_status_domain ON domain_status(domain, id);"
    "CREATE VIEW IF NOT EXISTS domain_status_v AS SELECT id,"
    " strftime('%Y-%m-%dT%H:%M:%SZ', ts, 'unixepoch') AS time, domain, old_state,"
    " new_state, json_extract(details, '$.summary') AS summary, source"
    " FROM domain_status;";

/* Version 4: what the capture listeners record (docs/capture.md). The
 * events table and its write path stay as they were: DNS rows, the flood,
 * gain nothing. An HTTP, TLS or raw event keeps its row in `events`
 * (time, addresses, Host or SNI as qname, zone) and one row of `capture`
 * under the same id, appended in the same time order, with the fields of
 * the connection listeners and the variable parts of the payload. Bodies
 * are stored once per content (`bodies`, by SHA-256 of the bytes kept). */
static const char sql_v4[] =
    "CREATE TABLE capture ("
    " id INTEGER PRIMARY KEY," /* = events.id */
    " conn_id INTEGER NOT NULL,"
    " proxy_ip BLOB,"
    " proxy_port INTEGER,"
    " method TEXT,"
    " http_version INTEGER,"
    " status INTEGER,"
    " body_len INTEGER,"
    " proto TEXT,"
    " target TEXT,"
    " headers TEXT,"
    " user_agent TEXT,"
    " referer TEXT,"
    " body_sha256 BLOB,"
    " body_stored INTEGER,"
    " raw BLOB,"
    " ja3 TEXT,"
    " ja3_md5 TEXT,"
    " ja4 TEXT,"
    " hello TEXT"
    ");"
    "CREATE TABLE bodies ("
    " sha256 BLOB PRIMARY KEY,"
    " len INTEGER NOT NULL,"
    " data BLOB NOT NULL"
    ");"
    "DROP VIEW events_v;"
    /* clang-format off */
    "CREATE VIEW events_v AS SELECT e.id,"
    " strftime('%Y-%m-%dT%H:%M:%fZ', e.ts_ns / 1e9, 'unixepoch') AS time,"
    " e.kind, e.transport, e.flags,"
    " " IP_TEXT("e.src_ip") " AS src_ip, e.src_port,"
    " " IP_TEXT("e.dst_ip") " AS dst_ip, e.dst_port,"
    " z.name AS zone, e.qname, e.qtype, e.qclass, e.rcode, e.msg_size,"
    " f.name AS family, m.name AS msg_type, b.name AS bot_id, e.country, e.asn,"
    " c.conn_id, " IP_TEXT("c.proxy_ip") " AS proxy_ip, c.proxy_port, c.method,"
    " c.http_version, c.status, c.body_len, c.proto, c.target, c.user_agent, c.referer,"
    " lower(hex(c.body_sha256)) AS body_sha256, c.body_stored, c.ja3, c.ja3_md5, c.ja4"
    " FROM events e LEFT JOIN zones z ON z.id = e.zone_id"
    " LEFT JOIN labels f ON f.id = e.family_id"
    " LEFT JOIN labels m ON m.id = e.msg_type_id"
    " LEFT JOIN labels b ON b.id = e.bot_id"
    " LEFT JOIN capture c ON c.id = e.id;"
    "CREATE VIEW capture_v AS SELECT c.id,"
    " strftime('%Y-%m-%dT%H:%M:%fZ', e.ts_ns / 1e9, 'unixepoch') AS time,"
    " CASE e.kind WHEN 2 THEN 'http' WHEN 3 THEN 'tls' WHEN 4 THEN 'raw' END AS kind,"
    " " IP_TEXT("e.src_ip") " AS src_ip, e.src_port,"
    " " IP_TEXT("e.dst_ip") " AS dst_ip, e.dst_port,"
    " c.conn_id, " IP_TEXT("c.proxy_ip") " AS proxy_ip, c.proxy_port,"
    " z.name AS zone, e.qname, c.method, c.target, c.http_version, c.status, c.proto,"
    " c.user_agent, c.referer, c.headers, c.body_len, c.body_stored,"
    " lower(hex(c.body_sha256)) AS body_sha256, c.ja3, c.ja3_md5, c.ja4, c.hello,"
    " lower(hex(c.raw)) AS raw_hex"
    " FROM capture c JOIN events e ON e.id = c.id"
    " LEFT JOIN zones z ON z.id = e.zone_id;";
/* clang-format on */

/* Version 5 (the rules branch; docs/store.md "Labels"): the labels of
 * classification. Family, rule id, tag, message type, protocol version
 * and decode status repeat and go to `labels` (small, cached); bot ids
 * are many and get their own lookup table `bots`, so `labels` stays a
 * short list of names. Columns are added (instant); bot ids written
 * before into `labels` (none were: nothing classified before v5) are
 * moved to `bots`. No new index: --family walks time order under the
 * scan budget like --domain. */
static const char sql_v5[] =
    "CREATE TABLE bots (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE);"
    "ALTER TABLE events ADD COLUMN rule_id INTEGER;"
    "ALTER TABLE events ADD COLUMN tag_id INTEGER;"
    "ALTER TABLE events ADD COLUMN severity INTEGER;"
    "ALTER TABLE events ADD COLUMN version_id INTEGER;"
    "ALTER TABLE events ADD COLUMN decode_id INTEGER;"
    "INSERT INTO bots(name) SELECT l.name FROM labels l"
    " WHERE l.id IN (SELECT bot_id FROM events WHERE bot_id IS NOT NULL);"
    "UPDATE events SET bot_id = (SELECT b.id FROM bots b JOIN labels l ON l.name = b.name"
    " WHERE l.id = events.bot_id) WHERE bot_id IS NOT NULL;"
    "DROP VIEW events_v;"
    /* clang-format off */
    "CREATE VIEW events_v AS SELECT e.id,"
    " strftime('%Y-%m-%dT%H:%M:%fZ', e.ts_ns / 1e9, 'unixepoch') AS time,"
    " e.kind, e.transport, e.flags,"
    " " IP_TEXT("e.src_ip") " AS src_ip, e.src_port,"
    " " IP_TEXT("e.dst_ip") " AS dst_ip, e.dst_port,"
    " z.name AS zone, e.qname, e.qtype, e.qclass, e.rcode, e.msg_size,"
    " f.name AS family, m.name AS msg_type, b.name AS bot_id, e.country, e.asn,"
    " c.conn_id, " IP_TEXT("c.proxy_ip") " AS proxy_ip, c.proxy_port, c.method,"
    " c.http_version, c.status, c.body_len, c.proto, c.target, c.user_agent, c.referer,"
    " lower(hex(c.body_sha256)) AS body_sha256, c.body_stored, c.ja3, c.ja3_md5, c.ja4,"
    " r.name AS rule_id, t.name AS tag, e.severity, v.name AS proto_version,"
    " d.name AS decode_status"
    " FROM events e LEFT JOIN zones z ON z.id = e.zone_id"
    " LEFT JOIN labels f ON f.id = e.family_id"
    " LEFT JOIN labels m ON m.id = e.msg_type_id"
    " LEFT JOIN bots b ON b.id = e.bot_id"
    " LEFT JOIN labels r ON r.id = e.rule_id"
    " LEFT JOIN labels t ON t.id = e.tag_id"
    " LEFT JOIN labels v ON v.id = e.version_id"
    " LEFT JOIN labels d ON d.id = e.decode_id"
    " LEFT JOIN capture c ON c.id = e.id;";
/* clang-format on */

/* Version 6 (decoders; 5 is the rules' labels): protocol shapes of traffic
 * no rule claimed (docs/shapes.md). One row per shape, merged by the store
 * writer batch by batch; srcset is the serialized distinct-source set
 * (exact addresses, then a HyperLogLog sketch) and sources its estimate;
 * shape_domains counts each shape per seized zone. */
static const char sql_shapes[] =
    "CREATE TABLE shapes ("
    " id TEXT PRIMARY KEY,"
    " kind INTEGER NOT NULL,"
    " method TEXT NOT NULL,"
    " path TEXT NOT NULL,"
    " params TEXT NOT NULL,"
    " headers TEXT NOT NULL,"
    " body TEXT NOT NULL,"
    " length TEXT NOT NULL,"
    " entropy TEXT NOT NULL,"
    " count INTEGER NOT NULL,"
    " sources INTEGER NOT NULL,"
    " first_ns INTEGER NOT NULL,"
    " last_ns INTEGER NOT NULL,"
    " srcset BLOB,"
    " examples TEXT NOT NULL DEFAULT '[]'"
    ") WITHOUT ROWID;"
    "CREATE TABLE shape_domains ("
    " shape_id TEXT NOT NULL,"
    " zone TEXT NOT NULL,"
    " count INTEGER NOT NULL,"
    " last_ns INTEGER NOT NULL,"
    " PRIMARY KEY (shape_id, zone)"
    ") WITHOUT ROWID;"
    "CREATE INDEX shape_domains_zone ON shape_domains(zone, shape_id);"
    "CREATE VIEW shapes_v AS SELECT id,"
    " CASE kind WHEN 2 THEN 'http' WHEN 3 THEN 'tls' WHEN 4 THEN 'raw' END AS kind,"
    " method, path, params, headers, body, length, entropy, count, sources,"
    " strftime('%Y-%m-%dT%H:%M:%fZ', first_ns / 1e9, 'unixepoch') AS first_seen,"
    " strftime('%Y-%m-%dT%H:%M:%fZ', last_ns / 1e9, 'unixepoch') AS last_seen,"
    " examples FROM shapes;";

/* Version 7 (evidence chain, docs/evidence.md): one `chain` record per
 * committed batch (and per retention step), chained by SHA-256, and the
 * signed `manifests` over runs of records. Written in the batch's own
 * transaction; nothing existing is rewritten. Intended number 7: the lead
 * renumbers at merge when 5 and 6 (labels, shapes) come before it. */
static const char sql_evidence[] =
    "CREATE TABLE chain ("
    " seq INTEGER PRIMARY KEY,"
    " kind INTEGER NOT NULL," /* 1 batch, 2 retention */
    " ts_ns INTEGER NOT NULL,"
    " ev_lo INTEGER NOT NULL, ev_hi INTEGER NOT NULL,"
    " zones_lo INTEGER NOT NULL, zones_hi INTEGER NOT NULL,"
    " labels_lo INTEGER NOT NULL, labels_hi INTEGER NOT NULL,"
    " bots_lo INTEGER NOT NULL, bots_hi INTEGER NOT NULL,"
    " late BLOB, late_min INTEGER,"
    " rows INTEGER NOT NULL, captures INTEGER NOT NULL,"
    " time_lo INTEGER NOT NULL, time_hi INTEGER NOT NULL,"
    " dns BLOB,"
    " pruned_seq INTEGER NOT NULL, pruned_minute INTEGER NOT NULL,"
    " content BLOB NOT NULL,"
    " hash BLOB NOT NULL"
    ");"
    "CREATE INDEX chain_late ON chain(late_min) WHERE late_min IS NOT NULL;"
    "CREATE TABLE manifests ("
    " id INTEGER PRIMARY KEY,"
    " ts_ns INTEGER NOT NULL,"
    " seq_lo INTEGER NOT NULL, seq_hi INTEGER NOT NULL,"
    " head BLOB NOT NULL,"
    " events INTEGER NOT NULL, dns_queries INTEGER NOT NULL,"
    " time_lo INTEGER NOT NULL, time_hi INTEGER NOT NULL,"
    " pruned_seq INTEGER NOT NULL, pruned_minute INTEGER NOT NULL,"
    " key_id BLOB,"
    " sig BLOB"
    ");"
    "CREATE VIEW manifests_v AS SELECT id,"
    " strftime('%Y-%m-%dT%H:%M:%fZ', ts_ns / 1e9, 'unixepoch') AS time, seq_lo, seq_hi,"
    " lower(hex(head)) AS head, events, dns_queries,"
    " strftime('%Y-%m-%dT%H:%M:%fZ', time_lo / 1e9, 'unixepoch') AS first_event,"
    " strftime('%Y-%m-%dT%H:%M:%fZ', time_hi / 1e9, 'unixepoch') AS last_event,"
    " lower(hex(key_id)) AS key_id, sig IS NOT NULL AS signed FROM manifests;";

/* Version 8 (population; numbered after labels 5, shapes 6 and evidence
 * 7 once those are merged): hourly rollups with serialised distinct-count
 * sketches (src/stats, docs/population.md), the same merged per day (what
 * reports over whole days read), the organisation name of each ASN seen,
 * and the persisted "seen before" filter. Keys are text:
 * a rollup row stands for many events, so lookup tables save little. */
static const char sql_rollups[] =
    "CREATE TABLE rollup_hour ("
    " hour INTEGER NOT NULL,"
    " family TEXT NOT NULL,"
    " domain TEXT NOT NULL,"
    " country TEXT NOT NULL,"
    " asn INTEGER NOT NULL,"
    " transport TEXT NOT NULL,"
    " events INTEGER NOT NULL,"
    " id_events INTEGER NOT NULL,"
    " new_sources INTEGER NOT NULL,"
    " sources BLOB, nets BLOB, bots BLOB, id_sources BLOB, pairs BLOB,"
    " PRIMARY KEY (hour, family, domain, country, asn, transport)"
    ") WITHOUT ROWID;"
    "CREATE TABLE rollup_day ("
    " day INTEGER NOT NULL,"
    " family TEXT NOT NULL,"
    " domain TEXT NOT NULL,"
    " country TEXT NOT NULL,"
    " asn INTEGER NOT NULL,"
    " transport TEXT NOT NULL,"
    " first_hour INTEGER NOT NULL,"
    " last_hour INTEGER NOT NULL,"
    " events INTEGER NOT NULL,"
    " id_events INTEGER NOT NULL,"
    " new_sources INTEGER NOT NULL,"
    " sources BLOB, nets BLOB, bots BLOB, id_sources BLOB, pairs BLOB,"
    " PRIMARY KEY (day, family, domain, country, asn, transport)"
    ") WITHOUT ROWID;"
    "CREATE TABLE asn_names (asn INTEGER PRIMARY KEY, org TEXT NOT NULL);"
    "CREATE TABLE stats_state (name TEXT PRIMARY KEY, value BLOB) WITHOUT ROWID;";

struct migration {
	const char *what;
	const char *sql;
};

static const struct migration migrations[] = {
    {"names, labels, dns_minute, events", sql_v1},
    {"domain_status (domain monitor state changes)", sql_domain_status},
    {"inline query names, zones table, time-keyed events, primary keys only", sql_v3},
    {"capture (HTTP, TLS, raw events), bodies by SHA-256", sql_v4},
    {"labels: rule, tag, severity, protocol version, decode status; bots table", sql_v5},
    {"shapes, shape_domains (protocol discovery)", sql_shapes},
    {"evidence chain and signed manifests", sql_evidence},
    {"hourly rollups with distinct-count sketches, ASN names", sql_rollups},
};

int store_schema_version(void) { return (int)(sizeof(migrations) / sizeof(migrations[0])); }

const char *store_schema_sql(int version)
{
	if (version < 1 || version > store_schema_version())
		return NULL;
	return migrations[version - 1].sql;
}

static int read_int(struct store *st, const char *sql, int64_t *out)
{
	sqlite3_stmt *stmt = NULL;
	if (sqlite3_prepare_v2(st->db, sql, -1, &stmt, NULL) != SQLITE_OK ||
	    sqlite3_step(stmt) != SQLITE_ROW) {
		store_sql_error(st, sql);
		sqlite3_finalize(stmt);
		return SINKD_ESTORE;
	}
	*out = sqlite3_column_int64(stmt, 0);
	sqlite3_finalize(stmt);
	return 0;
}

/* Refuse files that are not sinkd stores, and stores newer than us. */
static int check_identity(struct store *st, int64_t version)
{
	int64_t app_id, n_objects;
	if (read_int(st, "PRAGMA application_id", &app_id) != 0 ||
	    read_int(st, "SELECT COUNT(*) FROM sqlite_schema", &n_objects) != 0)
		return SINKD_ESTORE;
	if (app_id != STORE_APPLICATION_ID && (version != 0 || n_objects != 0 || app_id != 0)) {
		log_err("store %s: not a sinkd store (application_id %lld, %lld schema objects)",
			st->path, (long long)app_id, (long long)n_objects);
		return SINKD_ESTORE;
	}
	if (version > store_schema_version()) {
		log_err("store %s: schema version %lld is newer than this sinkd knows (%d): "
			"use a newer sinkd",
			st->path, (long long)version, store_schema_version());
		return SINKD_ESTORE;
	}
	return 0;
}

static int exec_sql(struct store *st, const char *sql, const char *what)
{
	if (sqlite3_exec(st->db, sql, NULL, NULL, NULL) != SQLITE_OK)
		return store_sql_error(st, what);
	return 0;
}

/* Apply migration `to` (1-based) unless another writer already did. */
static int migrate_one(struct store *st, int to, bool quiet)
{
	char bump[64], app_id[64];
	int64_t version = to - 1;
	if (exec_sql(st, "BEGIN IMMEDIATE", "begin migration") != 0)
		return SINKD_ESTORE;
	if (read_int(st, "PRAGMA user_version", &version) != 0)
		goto fail;
	if (version >= to)
		return exec_sql(st, "COMMIT", "commit migration");
	snprintf(bump, sizeof(bump), "PRAGMA user_version = %d", to);
	snprintf(app_id, sizeof(app_id), "PRAGMA application_id = %d", STORE_APPLICATION_ID);
	if (exec_sql(st, migrations[to - 1].sql, migrations[to - 1].what) != 0 ||
	    exec_sql(st, bump, "set schema version") != 0 ||
	    exec_sql(st, app_id, "set application id") != 0 ||
	    exec_sql(st, "COMMIT", "commit migration") != 0)
		goto fail;
	if (!quiet)
		log_info("store %s: schema migrated to version %d (%s)", st->path, to,
			 migrations[to - 1].what);
	return 0;
fail:
	log_err("store %s: migration to schema version %d failed, store left at version %lld",
		st->path, to, (long long)version);
	sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
	return SINKD_ESTORE;
}

int store_schema_open(struct store *st)
{
	int64_t version;
	if (read_int(st, "PRAGMA user_version", &version) != 0 || check_identity(st, version) != 0)
		return SINKD_ESTORE;
	if (st->read_only) {
		if (version == store_schema_version())
			return 0;
		log_err("store %s: schema version %lld, this sinkd reads version %d: "
			"run 'sinkd serve' once on it to migrate",
			st->path, (long long)version, store_schema_version());
		return SINKD_ESTORE;
	}
	/* A new file replays every migration: one line says it was created. */
	for (int to = (int)version + 1; to <= store_schema_version(); to++) {
		if (migrate_one(st, to, version == 0) != 0)
			return SINKD_ESTORE;
	}
	if (version == 0)
		log_info("store %s: created (schema version %d)", st->path, store_schema_version());
	return 0;
}
