/* Internals of the cluster module: the ClickHouse HTTP client, the spool
 * format and the schema. */
#ifndef SINKD_CLUSTER_INTERNAL_H
#define SINKD_CLUSTER_INTERNAL_H

#include "cluster/cluster.h"

#include <pthread.h>
#include <stdatomic.h>

/* One ClickHouse server's HTTP interface. */
struct ch_server {
	char url[128]; /* "http://127.0.0.1:8123/" */
	char user[64];
	char password[128];
	char database[64];
	unsigned timeout_ms;
};

/* A response: HTTP status (0 when no connection was made), body text
 * (NUL-terminated, at most CH_RESPONSE_MAX bytes kept), and curl's error
 * text when the request failed below HTTP. */
#define CH_RESPONSE_MAX 65536
struct ch_response {
	long status;
	char *body;
	size_t len;
	char error[256];
};

/* Server i of cfg's [cluster] shard list (port 0 means 8123). */
void ch_server_from_config(struct ch_server *s, const struct sinkd_config *cfg, unsigned i);

/* Run `query` (sent in the URL) with an optional POST body (sent gzip-
 * encoded when gzip is true: the body is already compressed). settings:
 * extra URL parameters ("insert_distributed_sync=1") or NULL. Returns 0
 * when ClickHouse answered 200; SINKD_EIO otherwise (r says why). The
 * caller frees r->body with ch_response_free. */
int ch_request(const struct ch_server *s, const char *query, const void *body, size_t len,
	       bool gzip, const char *settings, struct ch_response *r);
void ch_response_free(struct ch_response *r);

/* The same for a big answer: the body goes to fn (curl's write callback
 * contract: return the bytes taken; fewer aborts the transfer) instead of
 * r->body. A transfer aborted by fn returns SINKD_EIO too. */
typedef size_t (*ch_write_fn)(char *ptr, size_t size, size_t nmemb, void *arg);
int ch_stream(const struct ch_server *s, const char *query, const char *settings, ch_write_fn fn,
	      void *arg, struct ch_response *r);

/* Parse clickhouse://HOST[:PORT][/DB] into s (credentials and timeout from
 * cfg). 0 or SINKD_EINVAL (message in err). */
int ch_server_from_url(struct ch_server *s, const char *url, const struct sinkd_config *cfg,
		       char *err, size_t errlen);

/* Spool file name: <seq:016>-<events>-<oldest ts_ns>.tsv.gz */
#define CLUSTER_SPOOL_SUFFIX ".tsv.gz"

/* Serialise events as TabSeparated rows in the column order of
 * cluster_columns into a growing buffer. 0 or SINKD_ENOMEM. */
struct tsv_buf {
	char *p;
	size_t len, cap;
};
int cluster_tsv_events(struct tsv_buf *b, const char *node, const struct sinkd_event *ev,
		       const int64_t *ids, size_t n);
void tsv_buf_free(struct tsv_buf *b);

/* The events columns, in TSV order, as "name Type" pairs (schema.c). */
extern const char cluster_columns[];

/* Create the schema on every configured shard (idempotent); progress and
 * errors to out. 0 or SINKD_EIO. */
int cluster_schema_init(const struct sinkd_config *cfg, FILE *out);

/* Gzip (deflate with a gzip header) src into a malloc'd buffer. */
int cluster_gzip(const void *src, size_t len, uint8_t **out, size_t *out_len);

#endif
