#include "core/config.h"
#include "core/error.h"
#include "core/log.h"

#include <ctype.h>
#include <errno.h>
#include <ini.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#ifndef SINKD_WEB_DIR
#define SINKD_WEB_DIR "/usr/share/sinkd/web"
#endif
#ifndef SINKD_THIRD_PARTY_DIR
#define SINKD_THIRD_PARTY_DIR "/usr/share/sinkd/third_party"
#endif
#ifndef SINKD_DATA_DIR
#define SINKD_DATA_DIR "/usr/share/sinkd"
#endif
#ifndef SINKD_RULES_DIR
#define SINKD_RULES_DIR SINKD_DATA_DIR "/rules"
#endif

enum section {
	SEC_SERVER, SEC_DNS, SEC_RRL, SEC_DOMAINS, SEC_STORE, SEC_PIPELINE, SEC_CAPTURE, SEC_HTTP,
	SEC_TLS, SEC_CATCHALL, SEC_MONITOR, SEC_PROXY, SEC_CLUSTER, SEC_DECODE, SEC_RULES,
	SEC_ENRICH, SEC_STATS, SEC_ADMIN,
	SEC_EVIDENCE, SEC_RETENTION, SEC_PRIVACY, /* evidence branch */
	SEC_COUNT
};

/* Parser states besides a known section. */
#define SEC_NONE (-1) /* before the first header */
#define SEC_SKIP (-2) /* inside an unknown or broken header: already reported */

static const char *const section_names[SEC_COUNT] = {"server",	"dns",	 "rrl",
						     "domains", "store", "pipeline",
						     "capture", "http", "tls", "catchall", "monitor",
						     "proxy", "cluster", "decode", "rules", "enrich", "stats",
						     "admin",
						     "evidence", "retention", "privacy"};

enum key_type {
	T_STR,	  /* free text */
	T_NAME,	  /* domain name, relative or absolute */
	T_UINT,	  /* decimal in [min, max], stored in a 2- or 4-byte field */
	T_BOOL,	  /* yes/no/true/false/on/off/1/0 */
	T_LEVEL,  /* log level */
	T_HEX,	  /* "" or 32 hex characters */
	T_LISTEN, /* repeatable address:port */
	T_RANGE,  /* repeatable address:port or address:first-last */
	T_CIDR,	  /* repeatable network or address */
	T_IP,	  /* repeatable bare address */
	T_NAMES,  /* repeatable domain name */
	T_SERVER, /* repeatable address, port optional */
	T_KEY128, /* repeatable 32 hex digits; a comma list adds several */
};

#define K_NONEMPTY 1
#define K_APPEND 2 /* text comma list: a repeated key appends to it */
#define K_SECRET 4 /* never shown by config dump */

struct key {
	int sec;
	enum key_type type;
	const char *name;
	size_t off;	  /* field, or first element of a repeatable key */
	size_t size;	  /* field size, or element size of a repeatable key */
	size_t count_off; /* repeatable: offset of the element count */
	unsigned max_n;	  /* repeatable: array bound (0 = not repeatable) */
	uint32_t min, max;
	unsigned flags;
};

/* clang-format off */
#define CFG struct sinkd_config
#define FIELD(f) offsetof(CFG, f), sizeof(((CFG *)0)->f)
#define NUM(s, n, f, lo, hi) {s, T_UINT, n, FIELD(f), 0, 0, lo, hi, 0}
#define TXT(s, t, n, f, fl) {s, t, n, FIELD(f), 0, 0, 0, 0, fl}
#define LIST(s, t, n, f, cnt) {s, t, n, offsetof(CFG, f), sizeof(((CFG *)0)->f[0]), \
	offsetof(CFG, cnt), sizeof(((CFG *)0)->f) / sizeof(((CFG *)0)->f[0]), 0, 0, 0}

#define TTL_MAX 2147483647u /* RFC 2181 */

/* Every key, grouped by section in dump order. */
static const struct key keys[] = {
	TXT(SEC_SERVER, T_STR, "user", user, 0),
	NUM(SEC_SERVER, "workers", workers, 1, 256),
	TXT(SEC_SERVER, T_LEVEL, "log_level", log_level, 0),
	TXT(SEC_SERVER, T_STR, "group", group, 0),
	TXT(SEC_SERVER, T_STR, "chroot", chroot_dir, 0),
	TXT(SEC_SERVER, T_BOOL, "seccomp", seccomp, 0),
	TXT(SEC_SERVER, T_STR, "log_file", log_file, 0),

	LIST(SEC_DNS, T_LISTEN, "listen", dns_listen, n_dns_listen),
	TXT(SEC_DNS, T_BOOL, "tcp", dns_tcp, 0),
	TXT(SEC_DNS, T_BOOL, "log_every_query", dns_log_every_query, 0),
	LIST(SEC_DNS, T_IP, "sinkhole", sinkhole, n_sinkhole),
	LIST(SEC_DNS, T_NAMES, "nameserver", nameserver, n_nameserver),
	LIST(SEC_DNS, T_IP, "ns_address", ns_addr, n_ns_addr),
	TXT(SEC_DNS, T_NAME, "mx", mx_name, 0),
	NUM(SEC_DNS, "ttl", ttl, 0, TTL_MAX),
	TXT(SEC_DNS, T_NAME, "soa_rname", soa_rname, K_NONEMPTY),
	NUM(SEC_DNS, "soa_serial", soa_serial, 0, UINT32_MAX),
	NUM(SEC_DNS, "soa_refresh", soa_refresh, 0, TTL_MAX),
	NUM(SEC_DNS, "soa_retry", soa_retry, 0, TTL_MAX),
	NUM(SEC_DNS, "soa_expire", soa_expire, 0, TTL_MAX),
	NUM(SEC_DNS, "soa_minimum", soa_minimum, 0, TTL_MAX),
	NUM(SEC_DNS, "edns_udp_size", edns_udp_size, 512, 4096),
	TXT(SEC_DNS, T_STR, "nsid", nsid, 0),
	TXT(SEC_DNS, T_HEX, "cookie_secret", cookie_secret, 0),
	NUM(SEC_DNS, "tcp_idle_timeout_ms", tcp_idle_timeout_ms, 1, 3600000),
	NUM(SEC_DNS, "tcp_max_clients", tcp_max_clients, 1, 1000000),
	TXT(SEC_DNS, T_BOOL, "proxy_protocol", dns_proxy_protocol, 0),

	TXT(SEC_RRL, T_BOOL, "enabled", rrl_enabled, 0),
	NUM(SEC_RRL, "rate", rrl_rate, 1, 1000000),
	NUM(SEC_RRL, "slip", rrl_slip, 0, 100),
	NUM(SEC_RRL, "ipv4_prefix", rrl_ipv4_prefix, 8, 32),
	NUM(SEC_RRL, "ipv6_prefix", rrl_ipv6_prefix, 32, 128),
	NUM(SEC_RRL, "table_size", rrl_table_size, 64, 16777216),

	TXT(SEC_DOMAINS, T_STR, "file", domains_file, K_NONEMPTY),

	TXT(SEC_STORE, T_STR, "path", store_path, K_NONEMPTY),
	NUM(SEC_STORE, "commit_interval_ms", store_commit_interval_ms, 1, 3600000),
	NUM(SEC_STORE, "batch_max", store_batch_max, 1, 1000000),
	TXT(SEC_STORE, T_STR, "jsonl", store_jsonl, 0),

	NUM(SEC_PIPELINE, "queue_size", queue_size, 16, 1048576),
	NUM(SEC_PIPELINE, "dns_aggregate_max", dns_aggregate_max, 1024, 16777216),
	NUM(SEC_PIPELINE, "dns_flush_max", dns_flush_max, 1, 16777216),
	NUM(SEC_PIPELINE, "shapes_max", shapes_max, 16, 1048576),

	NUM(SEC_CAPTURE, "workers", capture_workers, 1, 256),
	NUM(SEC_CAPTURE, "max_connections", capture_max_connections, 16, 10000000),
	NUM(SEC_CAPTURE, "max_per_source", capture_max_per_source, 0, 10000000),
	NUM(SEC_CAPTURE, "request_buffers", capture_request_buffers, 1, 1000000),
	NUM(SEC_CAPTURE, "request_timeout_ms", capture_request_timeout_ms, 1, 3600000),
	NUM(SEC_CAPTURE, "idle_timeout_ms", capture_idle_timeout_ms, 1, 3600000),

	TXT(SEC_HTTP, T_BOOL, "enabled", http_enabled, 0),
	LIST(SEC_HTTP, T_LISTEN, "listen", http_listen, n_http_listen),
	NUM(SEC_HTTP, "status", http_status, 100, 599),
	TXT(SEC_HTTP, T_STR, "body", http_body, 0),
	TXT(SEC_HTTP, T_STR, "content_type", http_content_type, K_NONEMPTY),
	NUM(SEC_HTTP, "max_header_bytes", http_max_header_bytes, 256, 1048576),
	NUM(SEC_HTTP, "max_body_bytes", http_max_body_bytes, 0, 16777216),
	TXT(SEC_HTTP, T_BOOL, "proxy_protocol", http_proxy_protocol, 0),

	TXT(SEC_TLS, T_BOOL, "enabled", tls_enabled, 0),
	LIST(SEC_TLS, T_LISTEN, "listen", tls_listen, n_tls_listen),
	TXT(SEC_TLS, T_STR, "cert_file", tls_cert_file, 0),
	TXT(SEC_TLS, T_STR, "key_file", tls_key_file, 0),
	NUM(SEC_TLS, "cert_cache", tls_cert_cache, 1, 1000000),
	TXT(SEC_TLS, T_BOOL, "proxy_protocol", tls_proxy_protocol, 0),

	TXT(SEC_CATCHALL, T_BOOL, "enabled", catchall_enabled, 0),
	LIST(SEC_CATCHALL, T_RANGE, "tcp", catchall_tcp, n_catchall_tcp),
	LIST(SEC_CATCHALL, T_RANGE, "udp", catchall_udp, n_catchall_udp),
	NUM(SEC_CATCHALL, "first_bytes", catchall_first_bytes, 1, 65536),
	NUM(SEC_CATCHALL, "timeout_ms", catchall_timeout_ms, 1, 3600000),
	TXT(SEC_CATCHALL, T_BOOL, "proxy_protocol", catchall_proxy_protocol, 0),

	TXT(SEC_MONITOR, T_BOOL, "enabled", monitor_enabled, 0),
	NUM(SEC_MONITOR, "interval_s", monitor_interval_s, 1, 604800),
	LIST(SEC_MONITOR, T_SERVER, "root_hint", monitor_root_hint, n_monitor_root_hint),
	LIST(SEC_MONITOR, T_SERVER, "parent", monitor_parent, n_monitor_parent),
	NUM(SEC_MONITOR, "dns_port", monitor_dns_port, 1, 65535),
	TXT(SEC_MONITOR, T_BOOL, "ipv6", monitor_ipv6, 0),
	NUM(SEC_MONITOR, "timeout_ms", monitor_timeout_ms, 10, 60000),
	NUM(SEC_MONITOR, "retries", monitor_retries, 0, 10),
	NUM(SEC_MONITOR, "concurrency", monitor_concurrency, 1, 4096),
	NUM(SEC_MONITOR, "expiry_warn_days", monitor_expiry_warn_days, 0, 3650),
	TXT(SEC_MONITOR, T_STR, "on_change", monitor_on_change, 0),
	TXT(SEC_MONITOR, T_STR, "metrics_file", monitor_metrics_file, 0),

	LIST(SEC_PROXY, T_CIDR, "trusted", proxy_trusted, n_proxy_trusted),

	TXT(SEC_CLUSTER, T_BOOL, "enabled", cluster_enabled, 0),
	TXT(SEC_CLUSTER, T_STR, "node", cluster_node, 0),
	LIST(SEC_CLUSTER, T_SERVER, "shard", cluster_shard, n_cluster_shard),
	TXT(SEC_CLUSTER, T_STR, "cluster", cluster_name, K_NONEMPTY),
	TXT(SEC_CLUSTER, T_STR, "database", cluster_database, K_NONEMPTY),
	TXT(SEC_CLUSTER, T_STR, "user", cluster_user, K_NONEMPTY),
	TXT(SEC_CLUSTER, T_STR, "password", cluster_password, 0),
	TXT(SEC_CLUSTER, T_STR, "spool_dir", cluster_spool_dir, K_NONEMPTY),
	NUM(SEC_CLUSTER, "spool_max_mb", cluster_spool_max_mb, 1, 1048576),
	NUM(SEC_CLUSTER, "ship_interval_ms", cluster_ship_interval_ms, 10, 3600000),
	NUM(SEC_CLUSTER, "timeout_ms", cluster_timeout_ms, 100, 600000),
	LIST(SEC_DECODE, T_KEY128, "waledac_key", decode_waledac_key, n_decode_waledac_key),
	TXT(SEC_DECODE, T_HEX, "waledac_iv", decode_waledac_iv, 0),

	TXT(SEC_RULES, T_STR, "files", rules_files, K_APPEND),

	TXT(SEC_EVIDENCE, T_STR, "key", evidence_key, 0),
	NUM(SEC_EVIDENCE, "manifest_interval", evidence_manifest_interval_s, 0, 31536000),

	NUM(SEC_RETENTION, "raw_days", retention_raw_days, 0, 36500),
	NUM(SEC_RETENTION, "rollup_days", retention_rollup_days, 0, 36500),

	TXT(SEC_PRIVACY, T_STR, "key", privacy_key, 0),
	TXT(SEC_ENRICH, T_STR, "country_db", enrich_country_db, 0),
	TXT(SEC_ENRICH, T_STR, "country_path", enrich_country_path, K_NONEMPTY),
	TXT(SEC_ENRICH, T_STR, "asn_db", enrich_asn_db, 0),
	TXT(SEC_ENRICH, T_STR, "asn_path", enrich_asn_path, K_NONEMPTY),
	TXT(SEC_ENRICH, T_STR, "asn_org_path", enrich_asn_org_path, 0),
	TXT(SEC_ENRICH, T_STR, "asn_csv", enrich_asn_csv, 0),
	NUM(SEC_ENRICH, "cache_size", enrich_cache_size, 0, 16777216),

	NUM(SEC_STATS, "rollup_cells", stats_rollup_cells, 64, 4194304),
	NUM(SEC_STATS, "seen_filter_mb", stats_seen_filter_mb, 1, 4096),

	TXT(SEC_ADMIN, T_STR, "listen", admin_listen, K_NONEMPTY),
	TXT(SEC_ADMIN, T_STR, "token", admin_token, K_SECRET),
	TXT(SEC_ADMIN, T_STR, "token_file", admin_token_file, 0),
	TXT(SEC_ADMIN, T_STR, "cert_file", admin_cert_file, 0),
	TXT(SEC_ADMIN, T_STR, "key_file", admin_key_file, 0),
	TXT(SEC_ADMIN, T_STR, "client_ca_file", admin_client_ca_file, 0),
	TXT(SEC_ADMIN, T_STR, "dashboard_dir", admin_dashboard_dir, K_NONEMPTY),
	TXT(SEC_ADMIN, T_STR, "third_party_dir", admin_third_party_dir, K_NONEMPTY),
	NUM(SEC_ADMIN, "max_connections", admin_max_connections, 1, 1024),
	NUM(SEC_ADMIN, "health_queue_percent", admin_health_queue_percent, 1, 100),
};
/* clang-format on */

#define N_KEYS (sizeof(keys) / sizeof(keys[0]))

struct parse_ctx {
	struct sinkd_config *cfg;
	const char *path;
	FILE *in;
	FILE *err;
	char *buf; /* getline buffer */
	size_t cap;
	unsigned line; /* line being parsed (1-based) */
	int section;   /* enum section, SEC_NONE or SEC_SKIP */
	int read_errno;
	unsigned n_errors;
	unsigned set_line[N_KEYS]; /* where each key was first set (0 = not set) */
};

/* ---- defaults ---------------------------------------------------------- */

static void set_str(char *dst, size_t size, const char *src)
{
	size_t n = strlen(src);
	memset(dst, 0, size);
	memcpy(dst, src, n < size ? n : size - 1);
}

#define SET_STR(dst, src) set_str(dst, sizeof(dst), src)

/* ns_address defaults to the sinkhole addresses (after the file is read). */
static void ns_follow_sinkhole(struct sinkd_config *cfg)
{
	memset(cfg->ns_addr, 0, sizeof(cfg->ns_addr));
	memcpy(cfg->ns_addr, cfg->sinkhole, sizeof(cfg->sinkhole[0]) * cfg->n_sinkhole);
	cfg->n_ns_addr = cfg->n_sinkhole;
}

/* [monitor] root_hint default: a. to m.root-servers.net (IANA root hints). */
static const char *const root_servers[] = {
		"198.41.0.4",
		"170.247.170.2",
		"192.33.4.12",
		"199.7.91.13",
		"192.203.230.10",
		"192.5.5.241",
		"192.112.36.4",
		"198.97.190.53",
		"192.36.148.17",
		"192.58.128.30",
		"193.0.14.129",
		"199.7.83.42",
		"202.12.27.33",
};

void config_defaults(struct sinkd_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->workers = 1;
	SET_STR(cfg->log_level, "info");

	config_parse_sockaddr("127.0.0.1:5353", &cfg->dns_listen[cfg->n_dns_listen++]);
	cfg->dns_tcp = true;
	config_parse_ipaddr("127.0.0.1", &cfg->sinkhole[cfg->n_sinkhole++]);
	config_parse_ipaddr("::1", &cfg->sinkhole[cfg->n_sinkhole++]);
	SET_STR(cfg->nameserver[cfg->n_nameserver++], "ns1");
	SET_STR(cfg->nameserver[cfg->n_nameserver++], "ns2");
	ns_follow_sinkhole(cfg);
	SET_STR(cfg->mx_name, "mail");
	cfg->ttl = 300;
	SET_STR(cfg->soa_rname, "hostmaster");
	cfg->soa_refresh = 3600;
	cfg->soa_retry = 600;
	cfg->soa_expire = 1209600;
	cfg->soa_minimum = 300;
	cfg->edns_udp_size = 1232;
	cfg->tcp_idle_timeout_ms = 10000;
	cfg->tcp_max_clients = 1024;

	cfg->rrl_enabled = true;
	cfg->rrl_rate = 20;
	cfg->rrl_slip = 2;
	cfg->rrl_ipv4_prefix = 24;
	cfg->rrl_ipv6_prefix = 56;
	cfg->rrl_table_size = 65536;

	SET_STR(cfg->domains_file, SINKD_DATA_DIR "/waledac-domains.txt");
	SET_STR(cfg->store_path, "sinkd.db");
	SET_STR(cfg->rules_files, SINKD_RULES_DIR "/waledac.rules, " SINKD_RULES_DIR
						  "/kelihos.rules, " SINKD_RULES_DIR "/generic.rules");
	cfg->store_commit_interval_ms = 1000;
	cfg->store_batch_max = 10000;
	cfg->queue_size = 65536;
	cfg->dns_aggregate_max = 1000000;
	cfg->dns_flush_max = 50000;
	cfg->shapes_max = 4096;
	cfg->monitor_interval_s = 3600;
	for (size_t i = 0; i < sizeof(root_servers) / sizeof(root_servers[0]); i++)
		config_parse_server(root_servers[i], &cfg->monitor_root_hint[i]);
	cfg->n_monitor_root_hint = sizeof(root_servers) / sizeof(root_servers[0]);
	cfg->monitor_dns_port = 53;
	cfg->monitor_ipv6 = true;
	cfg->monitor_timeout_ms = 2000;
	cfg->monitor_retries = 1;
	cfg->monitor_concurrency = 64;
	cfg->monitor_expiry_warn_days = 60;
	cfg->capture_workers = 1;
	cfg->capture_max_connections = 16384;
	cfg->capture_max_per_source = 1024;
	cfg->capture_request_buffers = 256;
	cfg->capture_request_timeout_ms = 10000;
	cfg->capture_idle_timeout_ms = 60000;
	cfg->http_enabled = true;
	config_parse_sockaddr("127.0.0.1:8080", &cfg->http_listen[0]);
	cfg->n_http_listen = 1;
	cfg->http_status = 200;
	strcpy(cfg->http_content_type, "text/html");
	cfg->http_max_header_bytes = 8192;
	cfg->http_max_body_bytes = 65536;
	cfg->tls_enabled = true;
	config_parse_sockaddr("127.0.0.1:8443", &cfg->tls_listen[0]);
	cfg->n_tls_listen = 1;
	cfg->tls_cert_cache = 1024;
	cfg->catchall_enabled = true;
	config_parse_port_range("127.0.0.1:9000-9003", &cfg->catchall_tcp[0]);
	cfg->n_catchall_tcp = 1;
	config_parse_port_range("127.0.0.1:9000-9003", &cfg->catchall_udp[0]);
	cfg->n_catchall_udp = 1;
	cfg->catchall_first_bytes = 4096;
	cfg->catchall_timeout_ms = 5000;
	SET_STR(cfg->admin_listen, "127.0.0.1:8090");
	SET_STR(cfg->admin_dashboard_dir, SINKD_WEB_DIR "/dashboard");
	SET_STR(cfg->admin_third_party_dir, SINKD_THIRD_PARTY_DIR);
	cfg->admin_max_connections = 32;
	cfg->admin_health_queue_percent = 90;
	SET_STR(cfg->enrich_country_db, SINKD_THIRD_PARTY_DIR
		"/@ip-location-db/geo-whois-asn-country-mmdb/geo-whois-asn-country.mmdb");
	SET_STR(cfg->enrich_country_path, "country_code");
	SET_STR(cfg->enrich_asn_path, "autonomous_system_number");
	SET_STR(cfg->enrich_asn_org_path, "autonomous_system_organization");
	SET_STR(cfg->enrich_asn_csv, SINKD_THIRD_PARTY_DIR "/@ip-location-db/asn/asn-ipv4-num.csv,"
		SINKD_THIRD_PARTY_DIR "/@ip-location-db/asn/asn-ipv6-num.csv");
	cfg->enrich_cache_size = 65536;
	cfg->stats_rollup_cells = 16384;
	cfg->stats_seen_filter_mb = 8;
	SET_STR(cfg->cluster_name, "sinkd");
	SET_STR(cfg->cluster_database, "sinkd");
	SET_STR(cfg->cluster_user, "default");
	SET_STR(cfg->cluster_spool_dir, "sinkd-spool");
	cfg->cluster_spool_max_mb = 1024;
	cfg->cluster_ship_interval_ms = 1000;
	cfg->cluster_timeout_ms = 10000;

	cfg->evidence_manifest_interval_s = 3600;
}

/* ---- error reporting ----------------------------------------------------- */

__attribute__((format(printf, 3, 4))) static void perr(struct parse_ctx *c, unsigned line,
						       const char *fmt, ...)
{
	char msg[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	c->n_errors++;
	if (c->err == NULL)
		return;
	if (line > 0)
		fprintf(c->err, "%s:%u: %s\n", c->path, line, msg);
	else
		fprintf(c->err, "%s: %s\n", c->path, msg);
}

/* An error about the value of key k on the current line. */
__attribute__((format(printf, 3, 4))) static void kerr(struct parse_ctx *c, const struct key *k,
						       const char *fmt, ...)
{
	char msg[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	perr(c, c->line, "[%s] %s: %s", section_names[k->sec], k->name, msg);
}

static unsigned edit_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	unsigned row[64];
	if (la >= 64 || lb >= 64)
		return UINT32_MAX;
	for (size_t j = 0; j <= lb; j++)
		row[j] = (unsigned)j;
	for (size_t i = 1; i <= la; i++) {
		unsigned diag = row[0];
		row[0] = (unsigned)i;
		for (size_t j = 1; j <= lb; j++) {
			unsigned up = row[j];
			unsigned best = diag + (tolower((unsigned char)a[i - 1]) !=
						tolower((unsigned char)b[j - 1]));
			if (up + 1 < best)
				best = up + 1;
			if (row[j - 1] + 1 < best)
				best = row[j - 1] + 1;
			row[j] = best;
			diag = up;
		}
	}
	return row[lb];
}

/* The closest of names[] to s when it looks like a typo of it, else NULL. */
static const char *closest(const char *s, const char *const *names, size_t n)
{
	const char *best = NULL;
	unsigned best_d = 3;
	for (size_t i = 0; i < n; i++) {
		unsigned d = edit_distance(s, names[i]);
		if (d < best_d && d < strlen(s)) {
			best = names[i];
			best_d = d;
		}
	}
	return best;
}

static const struct key *key_find(int sec, const char *name)
{
	for (size_t i = 0; i < N_KEYS; i++) {
		if (keys[i].sec == sec && strcasecmp(keys[i].name, name) == 0)
			return &keys[i];
	}
	return NULL;
}

static void report_unknown_key(struct parse_ctx *c, const char *name)
{
	const char *sec = section_names[c->section];
	for (int s = 0; s < SEC_COUNT; s++) {
		if (key_find(s, name) != NULL) {
			perr(c, c->line, "unknown key '%s' in [%s] (it belongs in [%s])", name, sec,
			     section_names[s]);
			return;
		}
	}
	const char *names[N_KEYS];
	size_t n = 0;
	for (size_t i = 0; i < N_KEYS; i++) {
		if (keys[i].sec == c->section)
			names[n++] = keys[i].name;
	}
	const char *hint = closest(name, names, n);
	if (hint != NULL)
		perr(c, c->line, "unknown key '%s' in [%s] (did you mean '%s'?)", name, sec, hint);
	else
		perr(c, c->line, "unknown key '%s' in [%s] (see docs/config.md for its keys)", name,
		     sec);
}

/* ---- values -------------------------------------------------------------- */

/* Strict decimal: digits only (no sign, space or junk). 0, EINVAL, ERANGE. */
static int parse_uint(const char *s, uint32_t min, uint32_t max, uint32_t *out)
{
	if (*s < '0' || *s > '9')
		return SINKD_EINVAL;
	char *end;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 10);
	if (*end != '\0')
		return SINKD_EINVAL;
	if (errno == ERANGE || v < min || v > max)
		return SINKD_ERANGE;
	*out = (uint32_t)v;
	return 0;
}

static int parse_bool(const char *s, bool *out)
{
	static const char *const yes[] = {"yes", "true", "on", "1"};
	static const char *const no[] = {"no", "false", "off", "0"};
	for (size_t i = 0; i < 4; i++) {
		if (strcasecmp(s, yes[i]) == 0 || strcasecmp(s, no[i]) == 0) {
			*out = strcasecmp(s, yes[i]) == 0;
			return 0;
		}
	}
	return SINKD_EINVAL;
}

/* Why s is not a usable domain name, or NULL. */
static const char *name_problem(const char *s)
{
	if (strlen(s) > 253)
		return "is longer than 253 characters";
	const char *label = s;
	for (const char *p = s;; p++) {
		if (*p != '.' && *p != '\0') {
			if (!isalnum((unsigned char)*p) && *p != '-' && *p != '_')
				return "may contain only letters, digits, '-', '_' and dots";
			continue;
		}
		size_t n = (size_t)(p - label);
		if (n == 0 && !(*p == '\0' && p != s))
			return "has an empty label (look for '..' or a leading dot)";
		if (n > 63)
			return "has a label longer than 63 characters";
		if (*p == '\0')
			return NULL;
		label = p + 1;
	}
}

static bool is_hex32(const char *s)
{
	size_t n = 0;
	for (; s[n] != '\0'; n++) {
		if (!isxdigit((unsigned char)s[n]))
			return false;
	}
	return n == 32;
}

static void set_uint(struct parse_ctx *c, const struct key *k, void *field, const char *v)
{
	uint32_t u;
	int ret = parse_uint(v, k->min, k->max, &u);
	if (ret == SINKD_EINVAL) {
		kerr(c, k, "'%s' is not a number (expected %" PRIu32 "..%" PRIu32 ")", v, k->min,
		     k->max);
	} else if (ret != 0) {
		kerr(c, k, "%s is out of range (expected %" PRIu32 "..%" PRIu32 ")", v, k->min,
		     k->max);
	} else if (k->size == sizeof(uint16_t)) {
		uint16_t u16 = (uint16_t)u;
		memcpy(field, &u16, sizeof(u16));
	} else {
		memcpy(field, &u, sizeof(u));
	}
}

static void set_text(struct parse_ctx *c, const struct key *k, char *field, const char *v)
{
	enum log_level level;
	const char *why;
	if (*v == '\0' && (k->flags & K_NONEMPTY)) {
		kerr(c, k, "must not be empty");
	} else if (strlen(v) >= k->size) {
		kerr(c, k, "value is too long (%zu characters, at most %zu)", strlen(v),
		     k->size - 1);
	} else if (k->type == T_LEVEL && log_level_parse(v, &level) != 0) {
		kerr(c, k, "'%s' is not a log level (expected error, warning, info or debug)", v);
	} else if (k->type == T_HEX && *v != '\0' && !is_hex32(v)) {
		kerr(c, k, "'%s' is not 32 hex characters (make one with: openssl rand -hex 16)",
		     v);
	} else if (k->type == T_NAME && *v != '\0' && (why = name_problem(v)) != NULL) {
		kerr(c, k, "'%s' %s", v, why);
	} else {
		set_str(field, k->size, v);
	}
}

/* Parsers of the repeatable address-like keys, and what each expects. */
static int parse_sockaddr(const char *v, void *out)
{
	return config_parse_sockaddr(v, out);
}

static int parse_range(const char *v, void *out)
{
	return config_parse_port_range(v, out);
}

static int parse_server(const char *v, void *out)
{
	return config_parse_server(v, out);
}

static int parse_cidr(const char *v, void *out)
{
	return config_parse_cidr(v, out);
}

static int parse_ip(const char *v, void *out)
{
	return config_parse_ipaddr(v, out);
}

static int hex_nibble(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = (char)tolower((unsigned char)c);
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

static int parse_key128(const char *v, void *out)
{
	struct config_key128 *k = out;
	if (!is_hex32(v))
		return SINKD_EINVAL;
	for (size_t i = 0; i < 16; i++)
		k->key[i] = (uint8_t)(hex_nibble(v[2 * i]) << 4 | hex_nibble(v[2 * i + 1]));
	set_str(k->text, sizeof(k->text), v);
	return 0;
}

static const struct {
	enum key_type type;
	int (*parse)(const char *v, void *out);
	const char *what;
} item_parsers[] = {
	{T_LISTEN, parse_sockaddr,
	 "an address with port (expected e.g. 127.0.0.1:5353 or [::1]:5353)"},
	{T_RANGE, parse_range,
	 "an address with a port or port range (expected e.g. 127.0.0.1:9000 or "
	 "127.0.0.1:9000-9009)"},
	{T_SERVER, parse_server,
	 "an address with an optional port (expected e.g. 198.41.0.4, 127.0.0.2:5300 or "
	 "[2001:503:ba3e::2:30]:53)"},
	{T_CIDR, parse_cidr,
	 "a network or address (expected e.g. 10.0.0.0/8, 2001:db8::/32 or 192.0.2.1; no host "
	 "bits beyond the prefix)"},
	{T_IP, parse_ip,
	 "an IPv4 or IPv6 address (expected e.g. 192.0.2.1 or 2001:db8::1, no port)"},
	{T_KEY128, parse_key128,
	 "a 128-bit key as 32 hex digits (several: a comma list or repeated lines)"},
};

/* Parse one element of a repeatable key into item. 0 or -1 (reported). */
static int parse_item(struct parse_ctx *c, const struct key *k, void *item, const char *v)
{
	const char *why;
	for (size_t i = 0; i < sizeof(item_parsers) / sizeof(item_parsers[0]); i++) {
		if (k->type == item_parsers[i].type && item_parsers[i].parse(v, item) != 0) {
			kerr(c, k, "'%s' is not %s", v, item_parsers[i].what);
			return -1;
		}
	}
	if (k->type == T_NAMES) {
		if (*v == '\0')
			why = "is empty (give a name or remove the line)";
		else
			why = name_problem(v);
		if (why != NULL) {
			kerr(c, k, "'%s' %s", v, why);
			return -1;
		}
		set_str(item, k->size, v);
	}
	return 0;
}

static const char *item_text(const struct key *k, const void *item)
{
	if (k->type == T_LISTEN || k->type == T_SERVER)
		return ((const struct config_sockaddr *)item)->text;
	if (k->type == T_IP)
		return ((const struct config_ipaddr *)item)->text;
	if (k->type == T_RANGE)
		return ((const struct config_port_range *)item)->text;
	if (k->type == T_CIDR)
		return ((const struct config_cidr *)item)->text;
	if (k->type == T_KEY128)
		return ((const struct config_key128 *)item)->text;
	return item;
}

static bool same_item(const struct key *k, const void *a, const void *b)
{
	if (k->type == T_NAMES || k->type == T_CIDR)
		return strcasecmp(a, b) == 0;
	if (k->type == T_KEY128)
		return memcmp(a, b, 16) == 0;
	if (k->type == T_IP) {
		const struct config_ipaddr *x = a, *y = b;
		return x->af == y->af && memcmp(x->ip, y->ip, sizeof(x->ip)) == 0;
	}
	if (k->type == T_RANGE) {
		const struct config_port_range *x = a, *y = b;
		return x->last == y->last && x->addr.len == y->addr.len &&
		       memcmp(&x->addr.ss, &y->addr.ss, x->addr.len) == 0;
	}
	const struct config_sockaddr *x = a, *y = b;
	return x->len == y->len && memcmp(&x->ss, &y->ss, x->len) == 0;
}

/* Repeatable keys: the first line replaces the default list, later ones
 * append. */
static void add_item(struct parse_ctx *c, const struct key *k, size_t ki, const char *v)
{
	uint8_t *base = (uint8_t *)c->cfg + k->off;
	unsigned *count = (unsigned *)((uint8_t *)c->cfg + k->count_off);
	if (c->set_line[ki] == 0) {
		c->set_line[ki] = c->line;
		memset(base, 0, k->size * k->max_n);
		*count = 0;
	}
	if (*count >= k->max_n) {
		kerr(c, k, "too many values (at most %u; remove one)", k->max_n);
		return;
	}
	uint8_t *item = base + k->size * *count;
	if (parse_item(c, k, item, v) != 0)
		return;
	for (unsigned i = 0; i < *count; i++) {
		if (same_item(k, base + k->size * i, item)) {
			kerr(c, k, "'%s' is listed twice (remove one)", v);
			memset(item, 0, k->size);
			return;
		}
	}
	(*count)++;
}

static char *trim(char *s, char *end);

/* A comma list ("k1, k2"): each element added as if on its own line. */
static void add_list(struct parse_ctx *c, const struct key *k, size_t ki, const char *v)
{
	char buf[256];
	if (strlen(v) >= sizeof(buf)) {
		kerr(c, k, "value is too long (put the values on separate lines)");
		return;
	}
	memcpy(buf, v, strlen(v) + 1);
	char *save = NULL;
	for (char *t = strtok_r(buf, ",", &save); t != NULL; t = strtok_r(NULL, ",", &save))
		add_item(c, k, ki, trim(t, t + strlen(t)));
}

/* A repeated K_APPEND key: ", v" after what the file set before. */
static void append_text(struct parse_ctx *c, const struct key *k, char *field, const char *v)
{
	size_t used = strlen(field), n = strlen(v);
	if (n == 0)
		return;
	if (used + 2 + n >= k->size) {
		kerr(c, k, "value is too long (all lines together at most %zu characters)",
		     k->size - 1);
		return;
	}
	if (used > 0) {
		memcpy(field + used, ", ", 2);
		used += 2;
	}
	memcpy(field + used, v, n + 1);
}

static void apply(struct parse_ctx *c, const struct key *k, const char *v)
{
	size_t ki = (size_t)(k - keys);
	size_t n = strlen(v);
	if (n >= 2 && (v[0] == '"' || v[0] == '\'') && v[n - 1] == v[0]) {
		kerr(c, k, "remove the quotes around the value (values are never quoted)");
		return;
	}
	if (k->max_n > 0 && k->type == T_KEY128) {
		add_list(c, k, ki, v);
		return;
	}
	if (k->max_n > 0) {
		add_item(c, k, ki, v);
		return;
	}
	if (c->set_line[ki] != 0 && (k->flags & K_APPEND)) {
		append_text(c, k, (char *)c->cfg + k->off, v);
		return;
	}
	if (c->set_line[ki] != 0) {
		kerr(c, k, "set twice (first on line %u); keep one", c->set_line[ki]);
		return;
	}
	c->set_line[ki] = c->line;
	void *field = (uint8_t *)c->cfg + k->off;
	bool b;
	if (k->type == T_UINT) {
		set_uint(c, k, field, v);
	} else if (k->type != T_BOOL) {
		set_text(c, k, field, v);
	} else if (parse_bool(v, &b) != 0) {
		kerr(c, k, "'%s' is not a boolean (expected yes/no/true/false/on/off/1/0)", v);
	} else {
		memcpy(field, &b, sizeof(b));
	}
}

/* ---- line reader and syntax ---------------------------------------------- */

/* inih's scanner: stop at a char of chars, or at ';' after whitespace. */
static char *find_chars_or_comment(char *s, const char *chars)
{
	bool was_space = false;
	while (*s != '\0' && (chars == NULL || strchr(chars, *s) == NULL) &&
	       !(was_space && *s == ';')) {
		was_space = isspace((unsigned char)*s);
		s++;
	}
	return s;
}

static char *trim(char *s, char *end)
{
	while (s < end && isspace((unsigned char)*s))
		s++;
	while (end > s && isspace((unsigned char)end[-1]))
		end--;
	*end = '\0';
	return s;
}

/* "[server], [dns], ... or [last]", built once from section_names. */
static const char *section_list(void)
{
	static char list[256];
	if (list[0] != '\0')
		return list;
	size_t n = 0;
	for (int i = 0; i < SEC_COUNT; i++) {
		const char *sep = i == 0 ? "" : i == SEC_COUNT - 1 ? " or " : ", ";
		n += (size_t)snprintf(list + n, sizeof(list) - n, "%s[%s]", sep, section_names[i]);
		if (n >= sizeof(list))
			break;
	}
	return list;
}

static int check_section(struct parse_ctx *c, char *s)
{
	char *end = find_chars_or_comment(s + 1, "]");
	c->section = SEC_SKIP;
	if (*end != ']') {
		perr(c, c->line, "syntax error: section header without a closing ']'");
		return -1;
	}
	char *rest = end + 1;
	while (isspace((unsigned char)*rest))
		rest++;
	if (*rest != '\0' && *rest != ';' && *rest != '#') {
		perr(c, c->line, "syntax error: unexpected text after ']'");
		return -1;
	}
	char buf[64];
	size_t n = (size_t)(end - s - 1);
	if (n >= sizeof(buf))
		n = sizeof(buf) - 1;
	memcpy(buf, s + 1, n);
	char *name = trim(buf, buf + n);
	for (int i = 0; i < SEC_COUNT; i++) {
		if (strcasecmp(name, section_names[i]) == 0) {
			c->section = i;
			return 0;
		}
	}
	const char *hint = closest(name, section_names, SEC_COUNT);
	if (hint != NULL)
		perr(c, c->line, "unknown section [%s] (did you mean [%s]?)", name, hint);
	else
		perr(c, c->line, "unknown section [%s] (expected %s)", name, section_list());
	return -1;
}

/* Report syntax errors inih would see, so that every one is reported (inih
 * returns only the first). 0 = pass the line on, -1 = reported. */
static int check_line(struct parse_ctx *c, char *s)
{
	if (*s == '\0' || *s == ';' || *s == '#')
		return 0;
	if (*s == '[')
		return check_section(c, s);
	char *end = find_chars_or_comment(s, "=:");
	if (*end != '=' && *end != ':') {
		perr(c, c->line, "syntax error: expected 'key = value' or '[section]'");
		return -1;
	}
	if (end == s) {
		perr(c, c->line, "syntax error: missing key name before '%c'", *end);
		return -1;
	}
	return 0;
}

/* ini_reader: hands inih one line per call, so c->line is the line of the
 * key being handled. Leading whitespace is dropped, which turns off inih's
 * continuation lines: an indented key is an ordinary key. Lines that are
 * in error are reported here and passed on as blank lines. */
static char *read_line(char *str, int num, void *stream)
{
	struct parse_ctx *c = stream;
	errno = 0;
	ssize_t n = getline(&c->buf, &c->cap, c->in);
	if (n < 0) {
		if (ferror(c->in))
			c->read_errno = errno != 0 ? errno : EIO;
		return NULL;
	}
	c->line++;
	char *s = c->buf;
	if (c->line == 1 && strncmp(s, "\xEF\xBB\xBF", 3) == 0)
		s += 3;
	size_t len = (size_t)n - (size_t)(s - c->buf);
	while (len > 0 && (s[len - 1] == '\n' || s[len - 1] == '\r'))
		s[--len] = '\0';
	str[0] = '\0';
	if (strlen(s) != len) {
		perr(c, c->line, "line contains a NUL byte (is this a text file?)");
		return str;
	}
	s = trim(s, s + len);
	if (len > (size_t)num - 1) {
		perr(c, c->line, "line is too long (%zu characters, at most %d)", len, num - 1);
		if (*s == '[')
			c->section = SEC_SKIP;
		return str;
	}
	if (check_line(c, s) == 0)
		memcpy(str, s, strlen(s) + 1);
	return str;
}

static int on_key(void *user, const char *section, const char *name, const char *value)
{
	struct parse_ctx *c = user;
	if (c->section == SEC_SKIP)
		return 1;
	if (c->section == SEC_NONE) {
		perr(c, c->line,
		     "key '%s' is outside any section (add a [section] header above it)", name);
		return 1;
	}
	const struct key *k = key_find(c->section, name);
	if (k == NULL)
		report_unknown_key(c, name);
	else
		apply(c, k, value);
	return 1;
}

/* ---- load ---------------------------------------------------------------- */

/* Line where a key was set, 0 if not (the first key of that name: names
 * repeated across sections, like listen, report the first section's). */
static unsigned key_line(const struct parse_ctx *c, const char *name)
{
	for (size_t i = 0; i < N_KEYS; i++) {
		if (strcmp(keys[i].name, name) == 0)
			return c->set_line[i];
	}
	return 0;
}

/* Line where the key `name` of section sec was set, 0 if not. */
static unsigned sec_key_line(const struct parse_ctx *c, int sec, const char *name)
{
	for (size_t i = 0; i < N_KEYS; i++) {
		if (keys[i].sec == sec && strcmp(keys[i].name, name) == 0)
			return c->set_line[i];
	}
	return 0;
}

/* [admin]: a parseable address, TLS files in pairs, and never an open
 * endpoint on a non-loopback address. */
static void validate_admin(struct parse_ctx *c)
{
	const struct sinkd_config *cfg = c->cfg;
	unsigned line = sec_key_line(c, SEC_ADMIN, "listen");
	if (strcmp(cfg->admin_listen, "off") == 0)
		return;
	struct config_sockaddr sa;
	if (config_parse_sockaddr(cfg->admin_listen, &sa) != 0) {
		perr(c, line, "[admin] listen: '%s' is not address:port or off",
		     cfg->admin_listen);
		return;
	}
	if ((cfg->admin_cert_file[0] == '\0') != (cfg->admin_key_file[0] == '\0'))
		perr(c, sec_key_line(c, SEC_ADMIN, "cert_file"),
		     "[admin] cert_file and key_file go together: set both, or neither");
	if (cfg->admin_client_ca_file[0] != '\0' && cfg->admin_cert_file[0] == '\0')
		perr(c, sec_key_line(c, SEC_ADMIN, "client_ca_file"),
		     "[admin] client_ca_file needs cert_file and key_file (client certificates "
		     "need TLS)");
	if (cfg->admin_token[0] != '\0' && cfg->admin_token_file[0] != '\0')
		perr(c, sec_key_line(c, SEC_ADMIN, "token_file"),
		     "[admin] token and token_file: set one of them");
	bool guarded = cfg->admin_token[0] != '\0' || cfg->admin_token_file[0] != '\0' ||
		       cfg->admin_client_ca_file[0] != '\0';
	if (!config_sockaddr_is_loopback(&sa) && !guarded)
		perr(c, line,
		     "[admin] listen: %s is not a loopback address: set token, token_file or "
		     "client_ca_file, or listen on 127.0.0.1",
		     cfg->admin_listen);
}

/* Checks across keys, once every key parsed cleanly. */
static void validate(struct parse_ctx *c)
{
	const struct sinkd_config *cfg = c->cfg;
	validate_admin(c);
	if (cfg->n_dns_listen == 0)
		perr(c, key_line(c, "listen"), "[dns] listen: at least one address is needed");
	if (cfg->n_sinkhole == 0)
		perr(c, key_line(c, "sinkhole"), "[dns] sinkhole: at least one address is needed");
	if (cfg->n_nameserver == 0)
		perr(c, key_line(c, "nameserver"), "[dns] nameserver: at least one name is needed");
	if (cfg->rrl_slip > 100)
		perr(c, key_line(c, "slip"), "[rrl] slip: %u is out of range (expected 0..100)",
		     cfg->rrl_slip);
	if ((cfg->tls_cert_file[0] == '\0') != (cfg->tls_key_file[0] == '\0'))
		perr(c, key_line(c, cfg->tls_cert_file[0] ? "cert_file" : "key_file"),
		     "[tls] cert_file and key_file go together: set both, or neither for "
		     "self-signed certificates");
}

int config_load(struct sinkd_config *cfg, const char *path, FILE *err)
{
	config_defaults(cfg);
	set_str(cfg->path, sizeof(cfg->path), path);
	struct parse_ctx c = {.cfg = cfg, .path = path, .err = err, .section = SEC_NONE};
	c.in = fopen(path, "r");
	if (c.in == NULL) {
		if (err != NULL)
			fprintf(err, "%s: cannot open: %s\n", path, strerror(errno));
		return SINKD_EIO;
	}
	int ret = ini_parse_stream(read_line, &c, on_key, &c);
	free(c.buf);
	fclose(c.in);
	if (c.read_errno != 0) {
		if (err != NULL)
			fprintf(err, "%s: cannot read: %s\n", path, strerror(c.read_errno));
		return SINKD_EIO;
	}
	if (ret > 0)
		perr(&c, (unsigned)ret, "syntax error");
	else if (ret < 0)
		perr(&c, 0, "cannot parse: out of memory");
	if (c.n_errors == 0)
		validate(&c);
	if (key_line(&c, "ns_address") == 0)
		ns_follow_sinkhole(cfg);
	return c.n_errors != 0 ? SINKD_EPARSE : 0;
}

/* ---- dump ---------------------------------------------------------------- */

static void put_kv(FILE *out, const char *name, const char *value)
{
	if (*value == '\0')
		fprintf(out, "%s =\n", name);
	else
		fprintf(out, "%s = %s\n", name, value);
}

static void dump_key(const struct sinkd_config *cfg, const struct key *k, FILE *out)
{
	const uint8_t *field = (const uint8_t *)cfg + k->off;
	if (k->max_n > 0) {
		unsigned count;
		memcpy(&count, (const uint8_t *)cfg + k->count_off, sizeof(count));
		for (unsigned i = 0; i < count && i < k->max_n; i++)
			put_kv(out, k->name, item_text(k, field + k->size * i));
	} else if (k->type == T_UINT) {
		uint32_t u = 0;
		uint16_t u16;
		if (k->size == sizeof(u16)) {
			memcpy(&u16, field, sizeof(u16));
			u = u16;
		} else {
			memcpy(&u, field, sizeof(u));
		}
		fprintf(out, "%s = %" PRIu32 "\n", k->name, u);
	} else if ((k->flags & K_SECRET) && field[0] != '\0') {
		fprintf(out, "# %s is set (not shown)\n", k->name);
	} else if (k->type == T_BOOL) {
		bool b;
		memcpy(&b, field, sizeof(b));
		put_kv(out, k->name, b ? "yes" : "no");
	} else if (k->flags & K_APPEND) {
		/* One line per item: a long list stays under the line limit. */
		char item[CONFIG_PATH_MAX];
		const char *p = (const char *)field;
		bool any = false;
		while (*p != '\0') {
			while (*p == ',' || *p == ' ')
				p++;
			size_t len = strcspn(p, ",");
			while (len > 0 && p[len - 1] == ' ')
				len--;
			if (len > 0) {
				snprintf(item, sizeof(item), "%.*s", (int)len, p);
				put_kv(out, k->name, item);
				any = true;
			}
			p += strcspn(p, ",");
		}
		if (!any)
			put_kv(out, k->name, "");
	} else {
		put_kv(out, k->name, (const char *)field);
	}
}

void config_dump(const struct sinkd_config *cfg, FILE *out)
{
	fprintf(out, "# sinkd effective configuration (sinkd config dump)\n");
	fprintf(out, "# from: %s\n", cfg->path[0] != '\0' ? cfg->path : "built-in defaults");
	int sec = SEC_NONE;
	for (size_t i = 0; i < N_KEYS; i++) {
		if (keys[i].sec != sec) {
			sec = keys[i].sec;
			fprintf(out, "\n[%s]\n", section_names[sec]);
		}
		dump_key(cfg, &keys[i], out);
	}
}
