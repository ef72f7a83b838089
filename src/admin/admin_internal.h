/* Private to src/admin/: the endpoint's state and the helpers its request
 * handlers share. Not part of the module interface (that is admin.h). */
#ifndef SINKD_ADMIN_INTERNAL_H
#define SINKD_ADMIN_INTERNAL_H

#include <jansson.h>
#include <microhttpd.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include "admin/admin.h"
#include "core/config.h"

#define ADMIN_MAX_PARAMS 16
#define ADMIN_EVENTS_LIMIT_MAX 1000	 /* rows per page of /api/v1/events */
#define ADMIN_EVENTS_SKIP_MAX 98000	 /* rows of one instant a cursor may skip */
#define ADMIN_TIMELINE_MAX_S (7 * 86400) /* widest /api/v1/timeline window */
#define ADMIN_STORE_FAIL_WINDOW_S 300	 /* a failed commit this recent: not ready */

/* A dashboard file, read once at start (before any chroot or seccomp). */
struct admin_file {
	char *data; /* NULL: not installed */
	size_t len;
};

#define ADMIN_N_FILES 6

struct admin {
	struct sinkd_config cfg;
	struct admin_sources src;
	int listen_fd;
	struct MHD_Daemon *mhd;
	char address[72];
	bool has_token;
	uint8_t token_sha256[32];
	char *tls_cert, *tls_key, *tls_ca; /* PEM file contents (TLS on when cert) */

	/* The read-only store handle; SQLite handles are used by one thread
	 * at a time. */
	struct store *store;
	pthread_mutex_t store_lock;
	dev_t store_dev; /* the file the writer has open */
	ino_t store_ino;

	struct admin_file files[ADMIN_N_FILES]; /* see static_files in server.c */
	int proc_stat_fd;			/* /proc/self/stat, opened at start */
	int proc_fd_dir;			/* /proc/self/fd */
	double boot_time;			/* btime of /proc/stat */

	atomic_bool ready;
	atomic_bool stopping;
	atomic_uint streams; /* open /api/v1/live streams */
	int64_t started_s;

	/* Failed commits as seen by /health and /metrics. */
	pthread_mutex_t health_lock;
	uint64_t seen_store_failed;
	int64_t last_store_failure_s; /* 0 = none seen */
};

/* Query-string arguments of one request. */
struct admin_params {
	unsigned n;
	const char *key[ADMIN_MAX_PARAMS];
	const char *val[ADMIN_MAX_PARAMS];
	const char *problem; /* first key repeated or in excess */
};

typedef enum MHD_Result (*admin_handler)(struct admin *a, struct MHD_Connection *c,
					 const char *rest, const struct admin_params *p);

/* ---- reply.c -------------------------------------------------------- */

/* Collect the query-string arguments of c. */
void admin_params_collect(struct MHD_Connection *c, struct admin_params *p);
/* The value of key, NULL when absent. */
const char *admin_param(const struct admin_params *p, const char *key);
/* NULL when every key is in allowed (NULL-terminated) and none repeated,
 * else the offending key. */
const char *admin_params_unknown(const struct admin_params *p, const char *const *allowed);

/* Send body (reference stolen) as JSON with the given status. */
enum MHD_Result admin_reply_json(struct MHD_Connection *c, unsigned status, json_t *body);
/* {"error": message, "parameter": param} (param may be NULL). */
enum MHD_Result admin_reply_error(struct MHD_Connection *c, unsigned status, const char *param,
				  const char *fmt, ...) __attribute__((format(printf, 4, 5)));
/* Send len bytes of buf (ownership taken: free()d by MHD). */
enum MHD_Result admin_reply_buffer(struct MHD_Connection *c, unsigned status,
				   const char *content_type, char *buf, size_t len);

/* Parse a time argument ("2026-01-02T03:04:05Z", "-15m", "1700000000") into
 * ns since the epoch. 0 or SINKD_EINVAL. */
int admin_parse_time(const char *text, uint64_t *out_ns);
/* Decimal in [min, max]. 0 or SINKD_EINVAL. */
int admin_parse_uint(const char *text, uint64_t min, uint64_t max, uint64_t *out);
/* A next_cursor "<ts_ns>.<skip>": ts 1..INT64_MAX, skip <=
 * ADMIN_EVENTS_SKIP_MAX. 0 or SINKD_EINVAL. */
int admin_parse_cursor(const char *text, uint64_t *ts, uint64_t *skip);
/* A domain name or label: 1..max of letters, digits, '.', '-', '_'. */
bool admin_name_ok(const char *s, size_t max);
/* ISO 8601 UTC with milliseconds into buf (>= 32 bytes). */
const char *admin_time_iso(uint64_t ts_ns, char *buf, size_t len);

/* ---- health.c ------------------------------------------------------- */

/* The readiness checks as a JSON object; *ready set. */
json_t *admin_health_json(struct admin *a, bool *ready);
enum MHD_Result admin_health(struct admin *a, struct MHD_Connection *c, const char *rest,
			     const struct admin_params *p);
/* Observe the pipeline's failed-commit counter (health_lock). true when a
 * commit failed within ADMIN_STORE_FAIL_WINDOW_S of now. */
bool admin_store_failing(struct admin *a, uint64_t failed_total);

/* ---- metrics.c ------------------------------------------------------ */

/* Open the /proc handles the process metrics read (at start, so they
 * keep working after a chroot). Failures only leave those metrics out. */
void admin_proc_open(struct admin *a);
void admin_proc_close(struct admin *a);
/* Write the whole Prometheus exposition. 0 or SINKD_EIO. */
int admin_metrics_write(struct admin *a, FILE *out);
enum MHD_Result admin_metrics(struct admin *a, struct MHD_Connection *c, const char *rest,
			      const struct admin_params *p);

/* ---- api_events.c, api.c, live.c ------------------------------------ */

enum MHD_Result admin_api_events(struct admin *a, struct MHD_Connection *c, const char *rest,
				 const struct admin_params *p);
enum MHD_Result admin_api_timeline(struct admin *a, struct MHD_Connection *c, const char *rest,
				   const struct admin_params *p);
enum MHD_Result admin_api_domains(struct admin *a, struct MHD_Connection *c, const char *rest,
				  const struct admin_params *p);
enum MHD_Result admin_api_counters(struct admin *a, struct MHD_Connection *c, const char *rest,
				   const struct admin_params *p);
enum MHD_Result admin_api_report(struct admin *a, struct MHD_Connection *c, const char *rest,
				 const struct admin_params *p);
enum MHD_Result admin_api_live(struct admin *a, struct MHD_Connection *c, const char *rest,
			       const struct admin_params *p);

/* The live counters object of /api/v1/counters and /api/v1/live. */
json_t *admin_counters_json(struct admin *a);

#endif
