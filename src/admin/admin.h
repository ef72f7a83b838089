/* The admin endpoint: /health, /metrics (Prometheus text format), the JSON
 * API under /api/v1/ and the dashboard, on its own listener ([admin] listen,
 * loopback by default) served by libmicrohttpd's threads, away from the
 * listener workers. Reads counters through the modules' stats accessors and
 * the store through its own read-only handle, never the writer's.
 *
 * Access: a bearer token ([admin] token / token_file, compared in constant
 * time) for everything but the dashboard's static files; optionally TLS with
 * client certificates signed by [admin] client_ca_file. admin_new refuses a
 * non-loopback address with neither. docs/api.md, docs/operations.md.
 */
#ifndef SINKD_ADMIN_ADMIN_H
#define SINKD_ADMIN_ADMIN_H

#include <stdbool.h>

struct sinkd_config;
struct pipeline;
struct dns_server;
struct capture;
struct monitor;
struct classify;
struct cluster;

/* What the endpoint reports on; every pointer is borrowed and must outlive
 * admin_free. capture, monitor, classify and cluster may be NULL. */
struct admin_sources {
	struct pipeline *pipe;
	struct dns_server *dns;
	struct capture *capture;
	struct monitor *monitor;
	struct classify *classify; /* rule hits, decode results */
	struct cluster *cluster;   /* ClickHouse shipping */
};

struct admin;

/* Check the access rules, read the token and TLS files, open the read-only
 * store handle and bind the listening socket (call before dropping
 * privileges). [admin] listen = off: *out is NULL and 0 is returned; every
 * function below accepts NULL. 0, SINKD_EINVAL (unsafe or unreadable
 * access configuration, logged), SINKD_ENET (bind, logged), SINKD_ESTORE
 * or SINKD_ENOMEM. */
int admin_new(struct admin **out, const struct sinkd_config *cfg, const struct admin_sources *src);

/* Start serving. 0 or SINKD_ENET (logged). */
int admin_start(struct admin *a);

/* Readiness as reported by /health: serve sets it once every listener is
 * up, and clears it when shutting down. */
void admin_set_ready(struct admin *a, bool ready);

/* The address served ("127.0.0.1:8090"), "" when off. */
const char *admin_address(const struct admin *a);

/* Stop serving (open streams end), close the store handle, free. */
void admin_free(struct admin *a);

#endif
