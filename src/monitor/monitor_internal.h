/* Private to src/monitor/: the pieces of one check round, shared by the
 * resolver engine (engine.c, iter.c), the per-domain check (check.c), the
 * pure evaluation (evaluate.c, expect.c), the round driver (round.c), the
 * hook (hook.c), the metrics (metrics.c), the serve thread (thread.c) and
 * the CLI (cli.c). Not part of the module interface (that is monitor.h);
 * unit tests include it to test the pure functions.
 */
#ifndef SINKD_MONITOR_INTERNAL_H
#define SINKD_MONITOR_INTERNAL_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <time.h>

#include <libknot/libknot.h>

#include "core/config.h"
#include "monitor/monitor.h"

struct domain_registry;
struct store;

#define MON_NAME_MAX 256	/* presentation name with final dot, NUL */
#define MON_MAX_NAMES 8		/* NS names kept per RRset */
#define MON_MAX_IPS 16		/* addresses kept per RRset or glue set */
#define MON_MAX_PROBES 16	/* delegated server addresses queried per domain */
#define MON_MAX_SERVERS 32	/* addresses in one server set */
#define MON_MAX_DIFFS 24	/* differences reported per domain */
#define MON_DIFF_MAX 256	/* one difference, as text */
#define MON_HOOK_TIMEOUT_S 30	/* the on_change program is killed after this */
#define MON_ITER_HOPS 12	/* referrals followed by one lookup */
#define MON_ITER_DEPTH 3	/* nested lookups for glueless nameservers */

/* ---- small value types --------------------------------------------------- */

struct mon_ip {
	int af;			/* AF_INET or AF_INET6 */
	uint8_t b[16];
};

/* A set of addresses, kept sorted (mon_ipset_add) so sets compare with memcmp. */
struct mon_ipset {
	unsigned n;
	bool truncated;		/* more addresses than MON_MAX_IPS were seen */
	struct mon_ip ip[MON_MAX_IPS];
};

/* A set of absolute names (lowercase, final dot), sorted. */
struct mon_nameset {
	unsigned n;
	bool truncated;
	char name[MON_MAX_NAMES][MON_NAME_MAX];
};

/* One server: address and port. */
struct mon_server {
	struct sockaddr_storage ss;
	socklen_t len;
};

struct mon_srvset {
	unsigned n;
	struct mon_server s[MON_MAX_SERVERS];
};

void mon_ipset_add(struct mon_ipset *set, const struct mon_ip *ip);
bool mon_ipset_equal(const struct mon_ipset *a, const struct mon_ipset *b);
bool mon_ipset_has(const struct mon_ipset *set, const struct mon_ip *ip);
/* Addresses of one family only (af) from set into out. */
void mon_ipset_family(const struct mon_ipset *set, int af, struct mon_ipset *out);
/* "127.0.0.1, ::1" ("none" when empty) into buf. */
const char *mon_ipset_text(const struct mon_ipset *set, char *buf, size_t len);
const char *mon_ip_text(const struct mon_ip *ip, char *buf, size_t len);
void mon_ip_from_config(const struct config_ipaddr *in, struct mon_ip *out);

/* Add a name (any case, with or without the final dot) to the set. */
void mon_nameset_add(struct mon_nameset *set, const char *name);
bool mon_nameset_has(const struct mon_nameset *set, const char *name);
bool mon_nameset_equal(const struct mon_nameset *a, const struct mon_nameset *b);
const char *mon_nameset_text(const struct mon_nameset *set, char *buf, size_t len);

/* Server address with port; port 0 in a config address becomes dflt. */
void mon_server_from_config(const struct config_sockaddr *in, uint16_t dflt,
			    struct mon_server *out);
void mon_server_from_ip(const struct mon_ip *ip, uint16_t port, struct mon_server *out);
/* Add unless present or full. */
void mon_srvset_add(struct mon_srvset *set, const struct mon_server *s);

/* ---- settings (from the configuration) ------------------------------------- */

struct mon_settings {
	struct mon_srvset hints;	/* root hints (ports filled in) */
	struct mon_srvset parents;	/* asked for every delegation (n = 0: iterate) */
	uint16_t port;			/* port of servers found by resolution */
	bool ipv6;
	unsigned timeout_ms, tries, concurrency, warn_days;
	char nameserver[CONFIG_MAX_NS][CONFIG_NAME_MAX];	/* [dns] nameserver */
	unsigned n_nameserver;
	struct mon_ipset glue;		/* [dns] ns_address */
	struct mon_ipset sinkhole;	/* [dns] sinkhole */
	char on_change[CONFIG_PATH_MAX];
	char metrics_file[CONFIG_PATH_MAX];
	char domains_file[CONFIG_PATH_MAX];
	char store_path[CONFIG_PATH_MAX];
};

void mon_settings_from_config(struct mon_settings *s, const struct sinkd_config *cfg);

/* ---- expectation, observation, evaluation (pure) --------------------------- */

/* What a healthy delegation of one seized zone looks like. */
struct mon_expect {
	char zone[MON_NAME_MAX];		/* "example.com." */
	struct mon_nameset ns;			/* NS names, resolved against the zone */
	struct mon_nameset glued;		/* those of them that need glue (relative) */
	struct mon_ipset glue;			/* the glue of each of those */
	struct mon_ipset a, aaaa;		/* A/AAAA answers at the apex and below */
};

/* Build the expectation for zone (presentation form, no final dot needed). */
void mon_expect_build(struct mon_expect *ex, const struct mon_settings *set, const char *zone);

enum mon_deleg {
	MON_DELEG_FOUND,	/* the parent refers to the zone's nameservers */
	MON_DELEG_NXDOMAIN,	/* the parent says the name does not exist */
	MON_DELEG_NODATA,	/* the name exists at the parent but is not delegated */
	MON_DELEG_FAILED,	/* the parent could not be reached or answered badly */
};

enum mon_probe_status {
	MON_PROBE_OK,		/* every answer authoritative (AA, NOERROR/NXDOMAIN) */
	MON_PROBE_TIMEOUT,	/* no answer */
	MON_PROBE_UNREACHABLE,	/* connection refused, network unreachable */
	MON_PROBE_RCODE,	/* REFUSED, SERVFAIL, ... */
	MON_PROBE_NOT_AUTH,	/* answered without AA */
	MON_PROBE_ERROR,	/* malformed answer, local error */
	MON_PROBE_NO_ADDRESS,	/* the nameserver name has no address */
};

/* The six questions asked of every delegated server address. */
enum mon_question { MON_Q_SOA, MON_Q_NS, MON_Q_A, MON_Q_AAAA, MON_Q_RAND_A, MON_Q_RAND_AAAA,
		    MON_N_QUESTIONS };

/* What one delegated server address answered. */
struct mon_probe {
	char ns[MON_NAME_MAX];		/* the nameserver name it belongs to */
	struct mon_ip addr;		/* unset (af 0) for MON_PROBE_NO_ADDRESS */
	enum mon_probe_status status;
	char why[96];			/* for status != OK: "REFUSED to SOA", ... */
	unsigned answered;		/* questions answered (any way) */
	bool soa;			/* an SOA for the apex came back */
	uint32_t serial;
	struct mon_nameset ns_set;	/* NS at the apex */
	struct mon_ipset a, aaaa, rand_a, rand_aaaa;
	bool rand_nxdomain;		/* the random label does not exist there */
};

struct mon_glue {
	char name[MON_NAME_MAX];
	struct mon_ipset addrs;
};

/* Everything a check learnt about one domain. */
struct mon_obs {
	char zone[MON_NAME_MAX];		/* "example.com." */
	enum mon_deleg deleg;
	char deleg_why[640];			/* for anything but FOUND */
	char parent[MON_NAME_MAX];		/* zone cut that answered ("com.") */
	bool parent_is_child;			/* the parent's server answered for the
						 * zone itself (AA NS answer) */
	struct mon_nameset ns;			/* NS names at the parent */
	unsigned n_glue;
	struct mon_glue glue[MON_MAX_NAMES];	/* glue per NS name (additional) */
	unsigned n_probes;
	struct mon_probe probe[MON_MAX_PROBES];
	bool probes_truncated;
	char expiry[16];			/* YYYY-MM-DD from the metadata, or "" */
	char rand_label[MON_NAME_MAX + 32];	/* the random name asked ("x.<zone>.") */
};

/* The verdict on one domain. details is a JSON object (malloc'd, owned by
 * the result; mon_result_clear frees it). */
struct mon_result {
	char domain[MON_NAME_MAX];	/* presentation form, no final dot */
	enum monitor_state state;
	char expiry[16];
	char summary[1024];		/* the differences, "; "-separated ("" when ok) */
	char *details;
	/* Filled by recording: */
	char previous[16];		/* state recorded before ("" = never checked) */
	bool changed;
};

void mon_result_clear(struct mon_result *r);

/* Classify obs against ex at time now: state, summary and details JSON.
 * source names where the expiry came from ("registry metadata file PATH").
 * Returns 0 or SINKD_ENOMEM. Rules: docs/monitor.md. */
int mon_evaluate(const struct mon_expect *ex, const struct mon_obs *ob, time_t now,
		 unsigned warn_days, const char *source, struct mon_result *out);

/* Days from the UTC day of now to date (YYYY-MM-DD): negative when past.
 * 0 or SINKD_EINVAL (not a date). */
int mon_days_until(const char *date, time_t now, long *days);

/* ---- growable text buffer and JSON ----------------------------------------- */

struct mon_buf {
	char *p;
	size_t len, cap;
	bool failed;	/* an allocation failed: the text is incomplete */
};

void mon_buf_printf(struct mon_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void mon_buf_put(struct mon_buf *b, const char *s, size_t n);
/* A JSON string literal, quotes included (non-ASCII bytes as \u00XX). */
void mon_buf_json_str(struct mon_buf *b, const char *s);
void mon_buf_free(struct mon_buf *b);

/* ---- the resolver engine (c-ares transport, libknot wire format) ------------- */

struct mon_engine;

/* Error codes of a query, besides 0 (an answer came back). */
enum mon_qerr {
	MON_QERR_TIMEOUT = 1,
	MON_QERR_UNREACHABLE,	/* connection refused / no route */
	MON_QERR_RCODE,		/* every server answered SERVFAIL/REFUSED/NOTIMP */
	MON_QERR_BADRESP,	/* malformed answer */
	MON_QERR_CANCELLED,	/* the round was stopped */
	MON_QERR_LOCAL,		/* out of memory, socket limit, ... */
};

const char *mon_qerr_text(int err);

/* resp is the parsed answer (err == 0) and lives only during the call. */
typedef void (*mon_query_cb)(void *arg, int err, const knot_pkt_t *resp);

int mon_engine_new(struct mon_engine **out, const struct mon_settings *set,
		   const atomic_bool *cancel);
void mon_engine_free(struct mon_engine *e);
const struct mon_settings *mon_engine_settings(const struct mon_engine *e);

/* Send qname/qtype (wire, RD=0) to servers. raw: hand back every answer,
 * REFUSED and SERVFAIL included, instead of trying the next server. cb is
 * called exactly once, possibly before this returns. */
void mon_query(struct mon_engine *e, const struct mon_srvset *servers, bool raw,
	       const uint8_t *qname, uint16_t qtype, mon_query_cb cb, void *arg);

/* Run the event loop until no query is outstanding or cancel is set. */
void mon_engine_run(struct mon_engine *e);
bool mon_engine_cancelled(const struct mon_engine *e);

/* Counters of the engine's life. */
struct mon_engine_counts {
	uint64_t queries, failures, channels;
};
void mon_engine_counts(const struct mon_engine *e, struct mon_engine_counts *out);

/* Zone-cut cache of one round: the best known servers for qname (a cached
 * ancestor, else the root hints) and the zone they serve (wire, lowercase). */
void mon_engine_closest(struct mon_engine *e, const uint8_t *qname, struct mon_srvset *servers,
			uint8_t *zone);
void mon_engine_cache(struct mon_engine *e, const uint8_t *zone, const struct mon_srvset *servers);

/* ---- iterative lookups (iter.c) ---------------------------------------------- */

enum mon_iter_kind {
	MON_IT_ANSWER,		/* an authoritative answer or NODATA: pkt */
	MON_IT_REFERRAL,	/* referral for qname itself (stop_at_referral): pkt */
	MON_IT_NXDOMAIN,	/* pkt */
	MON_IT_FAIL,		/* why */
};

struct mon_iter_res {
	enum mon_iter_kind kind;
	const knot_pkt_t *pkt;
	const char *why;
	const uint8_t *zone;		/* the zone cut whose servers gave this */
};

typedef void (*mon_iter_cb)(void *arg, const struct mon_iter_res *res);

enum mon_iter_flags {
	MON_ITER_STOP_AT_REFERRAL = 1,	/* delegation lookup: a referral for qname ends it */
	MON_ITER_USE_PARENTS = 2,	/* start at [monitor] parent servers when set */
};

/* Resolve qname/qtype iteratively; cb runs exactly once. depth counts the
 * nesting of glueless nameserver lookups. */
void mon_iter_start(struct mon_engine *e, const uint8_t *qname, uint16_t qtype, unsigned flags,
		    unsigned depth, mon_iter_cb cb, void *arg);

/* Targets (lowercase wire) of every NS record owned by owner in section
 * (libknot keeps each record of a parsed packet as its own RRset). Returns
 * how many were stored in names (at most max). */
unsigned mon_pkt_ns(const knot_pkt_t *pkt, int section, const uint8_t *owner,
		    uint8_t names[][KNOT_DNAME_MAXLEN], unsigned max);

/* Addresses (A/AAAA) in a section owned by name. */
void mon_pkt_addrs(const knot_pkt_t *pkt, int section, const uint8_t *name, struct mon_ipset *out);

/* ---- one domain (check.c) and one round (round.c) --------------------------- */

typedef void (*mon_check_done)(void *arg, struct mon_obs *obs);

/* Check zone (presentation form); done gets the observation (owned by the
 * check, valid during the call). */
void mon_check_start(struct mon_engine *e, const char *zone, uint64_t rand, mon_check_done done,
		     void *arg);

/* Check every domain of reg (or the n_only indices in only) with the
 * settings: results[i] for each (calloc'd array, caller frees with
 * mon_results_free). Returns 0, SINKD_ENOMEM, or SINKD_EAGAIN when cancel
 * was set during the round. */
int mon_round_check(const struct mon_settings *set, const struct domain_registry *reg,
		    const size_t *only, size_t n_only, const atomic_bool *cancel,
		    struct mon_result **results, size_t *n_results,
		    struct mon_engine_counts *counts);
void mon_results_free(struct mon_result *res, size_t n);

/* Record the results in the store (previous state, changed), log each change,
 * run the hook with the changes. source is "sinkd serve" or "sinkd domains
 * check". stats (may be NULL) gets the counts. 0 or SINKD_ESTORE. */
int mon_round_record(const struct mon_settings *set, struct store *st, const char *source,
		     struct mon_result *res, size_t n, struct monitor_stats *stats);

/* ---- hook and metrics ---------------------------------------------------------- */

/* Run program with json on its stdin; wait at most timeout_s. 0, or
 * SINKD_EIO (could not start, non-zero exit, killed; logged). */
int mon_hook_run(const char *program, const char *json, size_t len, unsigned timeout_s);

/* The hook's JSON for the changed results. */
int mon_hook_json(const struct mon_result *res, size_t n, const char *source, time_t now,
		  struct mon_buf *out);

/* Prometheus text for stats and the non-ok domains of res. */
void mon_metrics_text(const struct monitor_stats *stats, const struct mon_result *res, size_t n,
		      struct mon_buf *out);
/* Write text to path atomically (temporary file, rename). 0 or SINKD_EIO. */
int mon_metrics_file(const char *path, const struct mon_buf *text);

#endif
