/* sinkd configuration: one INI file (parsed with inih) over embedded
 * defaults. Every key is documented in docs/config.md and etc/sinkd.conf.
 *
 * A struct sinkd_config is a plain value: no heap pointers, so a snapshot can
 * be copied whole. Unknown sections and keys are errors.
 */
#ifndef SINKD_CORE_CONFIG_H
#define SINKD_CORE_CONFIG_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/socket.h>

#define CONFIG_MAX_LISTEN 8
#define CONFIG_MAX_ADDRS 8
#define CONFIG_MAX_NS 4
#define CONFIG_MAX_SERVERS 16
#define CONFIG_NAME_MAX 256
#define CONFIG_PATH_MAX 1024
#define CONFIG_MAX_CATCHALL_PORTS 1024	/* TCP + UDP ports, all ranges */

/* A socket address with its original text ("127.0.0.1:5353", "[::1]:5353"). */
struct config_sockaddr {
	struct sockaddr_storage ss;
	socklen_t len;
	char text[64];
};

/* An address with a port or a port range ("127.0.0.1:9000-9009"). */
struct config_port_range {
	struct config_sockaddr addr;	/* first port */
	uint16_t last;			/* last port (== first for one port) */
	char text[72];
};

/* An IPv4/IPv6 network "10.0.0.0/8" or a bare address, as text (parsed
 * again by src/net/ where it is used). */
struct config_cidr {
	char text[64];
};

/* A 128-bit key given as 32 hex digits ([decode] waledac_key). */
struct config_key128 {
	uint8_t key[16];
	char text[33];
};

#define CONFIG_MAX_KEYS 16

/* A bare IP address (no port) with its text. */
struct config_ipaddr {
	int af;			/* AF_INET or AF_INET6 */
	uint8_t ip[16];		/* 4 or 16 bytes used */
	char text[48];
};

struct sinkd_config {
	char path[CONFIG_PATH_MAX];	/* file loaded ("" = defaults only) */

	/* [server] */
	char user[64];			/* drop privileges to this user ("" = don't) */
	unsigned workers;		/* listener worker threads (default 1) */
	char log_level[16];		/* error|warning|info|debug */
	char group[64];			/* drop to this group ("" = the user's) */
	char chroot_dir[CONFIG_PATH_MAX];	/* chroot here after start-up ("" = don't) */
	bool seccomp;			/* system-call allowlist after start-up */
	char log_file[CONFIG_PATH_MAX];	/* log here instead of stderr; SIGUSR1 reopens */

	/* [dns] */
	struct config_sockaddr dns_listen[CONFIG_MAX_LISTEN];
	unsigned n_dns_listen;		/* default 127.0.0.1:5353 */
	bool dns_tcp;			/* also serve TCP on the same addresses */
	bool dns_log_every_query;	/* one row per query in the store */
	struct config_ipaddr sinkhole[CONFIG_MAX_ADDRS]; /* A/AAAA answers */
	unsigned n_sinkhole;		/* default 127.0.0.1 and ::1 */
	char nameserver[CONFIG_MAX_NS][CONFIG_NAME_MAX]; /* NS names; no final
					 * dot = relative to each seized zone */
	unsigned n_nameserver;		/* default ns1, ns2 */
	struct config_ipaddr ns_addr[CONFIG_MAX_ADDRS]; /* glue for NS names */
	unsigned n_ns_addr;		/* default: the sinkhole addresses */
	char mx_name[CONFIG_NAME_MAX];	/* MX target; relative like NS ("" = no MX) */
	uint32_t ttl;			/* TTL of A/AAAA/MX/NS answers */
	char soa_rname[CONFIG_NAME_MAX];/* relative like NS */
	uint32_t soa_serial;		/* 0 = seconds since epoch at load */
	uint32_t soa_refresh, soa_retry, soa_expire, soa_minimum;
	uint16_t edns_udp_size;		/* our max UDP payload (default 1232) */
	char nsid[128];			/* NSID payload ("" = no NSID option) */
	char cookie_secret[33];		/* 32 hex chars; "" = random per start */
	unsigned tcp_idle_timeout_ms;	/* default 10000 */
	unsigned tcp_max_clients;	/* per worker, default 1024 */

	/* [rrl] */
	bool rrl_enabled;		/* default yes */
	unsigned rrl_rate;		/* responses/s per prefix (default 20) */
	unsigned rrl_slip;		/* every Nth limited answer slips TC=1 (0 = never) */
	unsigned rrl_ipv4_prefix;	/* default 24 */
	unsigned rrl_ipv6_prefix;	/* default 56 */
	unsigned rrl_table_size;	/* buckets (default 65536) */

	/* [domains] */
	char domains_file[CONFIG_PATH_MAX];

	/* [store] */
	char store_path[CONFIG_PATH_MAX];	/* SQLite file (default ./sinkd.db) */
	unsigned store_commit_interval_ms;	/* default 1000 */
	unsigned store_batch_max;		/* events per transaction (default 10000) */
	char store_jsonl[CONFIG_PATH_MAX];	/* JSON lines of every stored event row
						 * ("" = none); SIGUSR1 reopens */

	/* [pipeline] */
	unsigned queue_size;		/* per-worker ring capacity (default 65536) */
	unsigned dns_aggregate_max;	/* distinct DNS aggregate keys held in memory
					 * before a forced flush (default 1000000) */
	unsigned dns_flush_max;		/* above this many pending keys, aggregates
					 * are flushed per minute instead of per
					 * commit interval (default 50000) */

	/* [capture]: the connection listeners (HTTP now; TLS, catch-all) */
	unsigned capture_workers;		/* threads (default 1) */
	unsigned capture_max_connections;	/* per worker (default 16384) */
	unsigned capture_max_per_source;	/* per worker and address, 0 = no limit */
	unsigned capture_request_buffers;	/* per worker (default 256) */
	unsigned capture_request_timeout_ms;	/* a request must complete within */
	unsigned capture_idle_timeout_ms;	/* keep-alive connections close after */

	/* [http] */
	bool http_enabled;
	struct config_sockaddr http_listen[CONFIG_MAX_LISTEN];
	unsigned n_http_listen;			/* default 127.0.0.1:8080 */
	unsigned http_status;			/* default 200 */
	char http_body[160];			/* default "" */
	char http_content_type[64];		/* default text/html */
	unsigned http_max_header_bytes;		/* default 8192; above: 431 */
	unsigned http_max_body_bytes;		/* stored per request, default 65536 */

	/* [proxy]: PROXY protocol v1/v2 from trusted load balancers */
	struct config_cidr proxy_trusted[16];
	unsigned n_proxy_trusted;		/* default none */
	bool dns_proxy_protocol;		/* [dns] proxy_protocol */
	bool http_proxy_protocol;		/* [http] proxy_protocol */
	bool tls_proxy_protocol;		/* [tls] proxy_protocol */
	bool catchall_proxy_protocol;		/* [catchall] proxy_protocol (TCP) */

	/* [tls] */
	bool tls_enabled;
	struct config_sockaddr tls_listen[CONFIG_MAX_LISTEN];
	unsigned n_tls_listen;			/* default 127.0.0.1:8443 */
	char tls_cert_file[CONFIG_PATH_MAX];	/* "" = self-signed per name */
	char tls_key_file[CONFIG_PATH_MAX];
	unsigned tls_cert_cache;		/* generated certificates kept per worker */

	/* [catchall]: every other port; at most CONFIG_MAX_CATCHALL_PORTS */
	bool catchall_enabled;
	struct config_port_range catchall_tcp[CONFIG_MAX_LISTEN];
	unsigned n_catchall_tcp;		/* default 127.0.0.1:9000-9003 */
	struct config_port_range catchall_udp[CONFIG_MAX_LISTEN];
	unsigned n_catchall_udp;		/* default 127.0.0.1:9000-9003 */
	unsigned catchall_first_bytes;		/* stored per connection, default 4096 */
	unsigned catchall_timeout_ms;		/* wait for first bytes, default 5000 */

	/* [monitor] (docs/monitor.md) */
	bool monitor_enabled;		/* periodic checks inside `sinkd serve` (default no) */
	unsigned monitor_interval_s;	/* seconds between check rounds (default 3600) */
	struct config_sockaddr monitor_root_hint[CONFIG_MAX_SERVERS]; /* port 0 = dns_port */
	unsigned n_monitor_root_hint;	/* default: the 13 IPv4 root server addresses */
	struct config_sockaddr monitor_parent[CONFIG_MAX_SERVERS]; /* asked for every
					 * delegation instead of iterating from the hints */
	unsigned n_monitor_parent;	/* default none */
	uint16_t monitor_dns_port;	/* port of every server found by resolution (53) */
	bool monitor_ipv6;		/* also query servers over IPv6 (default yes) */
	unsigned monitor_timeout_ms;	/* one query attempt (default 2000) */
	unsigned monitor_retries;	/* further attempts per server (default 1) */
	unsigned monitor_concurrency;	/* domains checked at once (default 64) */
	unsigned monitor_expiry_warn_days; /* "expiring" this close to expiry (default 60) */
	char monitor_on_change[CONFIG_PATH_MAX];    /* program fed each round's changes as
						     * JSON on stdin ("" = none) */
	char monitor_metrics_file[CONFIG_PATH_MAX]; /* Prometheus text file ("" = none) */

	/* [enrich] country and ASN of every source (docs/enrich.md) */
	char enrich_country_db[CONFIG_PATH_MAX];	/* MaxMind DB ("" = none) */
	char enrich_country_path[128];	/* "country_code" or "country.iso_code" */
	char enrich_asn_db[CONFIG_PATH_MAX];	/* MaxMind DB ("" = use asn_csv) */
	char enrich_asn_path[128];	/* "autonomous_system_number" */
	char enrich_asn_org_path[128];	/* "autonomous_system_organization" */
	char enrich_asn_csv[2 * CONFIG_PATH_MAX];	/* comma list of start,end,asn,org files */
	unsigned enrich_cache_size;	/* lookup cache entries (0 = no cache) */

	/* [stats] live rollups (docs/population.md) */
	unsigned stats_rollup_cells;	/* rollup cells held between hand-overs */
	unsigned stats_seen_filter_mb;	/* "seen before" Bloom filter size */

	/* [admin] (docs/api.md, docs/operations.md) */
	char admin_listen[64];			/* address:port or "off" (127.0.0.1:8090) */
	char admin_token[256];			/* bearer token ("" = none) */
	char admin_token_file[CONFIG_PATH_MAX];	/* file holding the token */
	char admin_cert_file[CONFIG_PATH_MAX];	/* TLS for the admin endpoint */
	char admin_key_file[CONFIG_PATH_MAX];
	char admin_client_ca_file[CONFIG_PATH_MAX]; /* require client certificates
						 * signed by this CA */
	char admin_dashboard_dir[CONFIG_PATH_MAX];  /* index.html, dashboard.js, ... */
	char admin_third_party_dir[CONFIG_PATH_MAX]; /* npm packages (uPlot) */
	unsigned admin_max_connections;		/* concurrent connections (default 32) */
	unsigned admin_health_queue_percent;	/* not ready above this ring fill */
	/* [cluster] (docs/scale-out.md): ship events to ClickHouse */
	bool cluster_enabled;		/* default no */
	char cluster_node[64];		/* node identity ("" = the host name) */
	struct config_sockaddr cluster_shard[CONFIG_MAX_SERVERS]; /* HTTP interface
					 * of each shard's server (port default 8123) */
	unsigned n_cluster_shard;
	char cluster_name[64];		/* <remote_servers> cluster name (default sinkd) */
	char cluster_database[64];	/* default sinkd */
	char cluster_user[64];		/* default "default" */
	char cluster_password[128];	/* default "" */
	char cluster_spool_dir[CONFIG_PATH_MAX]; /* default ./sinkd-spool */
	unsigned cluster_spool_max_mb;	/* spool bound; oldest batches go first (1024) */
	unsigned cluster_ship_interval_ms; /* how often the shipper looks (1000) */
	unsigned cluster_timeout_ms;	/* one HTTP request to ClickHouse (10000) */
	/* [decode] (docs/decoders.md) */
	struct config_key128 decode_waledac_key[CONFIG_MAX_KEYS]; /* tried in order */
	unsigned n_decode_waledac_key;		/* default none */
	char decode_waledac_iv[33];		/* CBC IV, 32 hex ("" = all zero) */

	/* [pipeline] shapes_max: protocol shapes kept in memory (docs/shapes.md) */
	unsigned shapes_max;			/* default 4096 */

	/* [rules] (docs/rules.md) */
	char rules_files[4 * CONFIG_PATH_MAX];	/* comma list of rule files, in
						 * evaluation order ("" = no rules) */

	/* [evidence] (docs/evidence.md) */
	char evidence_key[CONFIG_PATH_MAX];	/* Ed25519 private key (PEM), "" = unsigned */
	unsigned evidence_manifest_interval_s;	/* default 3600; 0 = only at stop */

	/* [retention] (docs/evidence.md): 0 = keep forever */
	unsigned retention_raw_days;		/* events and capture rows */
	unsigned retention_rollup_days;		/* dns_minute aggregates */

	/* [privacy] */
	char privacy_key[CONFIG_PATH_MAX];	/* pseudonymisation key file ("" = none) */
};

/* Fill cfg with the embedded defaults. */
void config_defaults(struct sinkd_config *cfg);

/* Load path over the defaults. Every error is written to err as one line
 * "path:line: message"; returns 0, SINKD_EIO (unreadable file) or
 * SINKD_EPARSE (at least one error). cfg is fully defined in every case but
 * should not be used after an error. */
int config_load(struct sinkd_config *cfg, const char *path, FILE *err);

/* Write the effective configuration as a loadable INI file. */
void config_dump(const struct sinkd_config *cfg, FILE *out);

/* Parse "1.2.3.4:53", "[::1]:53" (port required). 0 or SINKD_EINVAL. */
int config_parse_sockaddr(const char *text, struct config_sockaddr *out);

/* True when the address is 127.0.0.0/8 or ::1 (or IPv4-mapped loopback). */
bool config_sockaddr_is_loopback(const struct config_sockaddr *sa);

/* Parse "addr:port" or "addr:first-last" (first <= last). 0 or SINKD_EINVAL. */
int config_parse_port_range(const char *text, struct config_port_range *out);

/* Parse "192.0.2.1", "192.0.2.1:53", "2001:db8::1" or "[2001:db8::1]:53": the
 * port is optional and 0 when absent. 0 or SINKD_EINVAL. */
int config_parse_server(const char *text, struct config_sockaddr *out);

/* Check and copy "addr/prefix" or "addr" (host bits beyond the prefix must
 * be zero). 0 or SINKD_EINVAL. */
int config_parse_cidr(const char *text, struct config_cidr *out);

/* Parse a bare IPv4/IPv6 address. 0 or SINKD_EINVAL. */
int config_parse_ipaddr(const char *text, struct config_ipaddr *out);

/* `sinkd config check FILE` / `sinkd config dump [-c FILE]`. Returns the
 * process exit status. */
int config_cli(int argc, char **argv);

#endif
