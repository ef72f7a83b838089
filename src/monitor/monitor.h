/* Domain monitor: keeps the seized domains dead.
 *
 * For every seized domain a check asks the parent zone's servers (found by
 * iterative resolution from [monitor] root_hint, or the configured parent
 * servers) for the delegation, asks every delegated nameserver for the
 * zone's SOA, NS and A/AAAA (apex and a random label), reads the expiry date
 * from the registry metadata, and classifies the domain (enum
 * monitor_state). A change of state is recorded in the store
 * (domain_status), logged, counted, and passed to the [monitor] on_change
 * program as JSON. `sinkd domains check` runs one round from the command
 * line; `sinkd serve` runs one every [monitor] interval_s in its own thread,
 * away from the DNS workers. Transport: c-ares (timeouts, retries over a
 * zone's servers, TCP on truncation); wire format: libknot. docs/monitor.md.
 */
#ifndef SINKD_MONITOR_MONITOR_H
#define SINKD_MONITOR_MONITOR_H

#include <stdint.h>
#include <stdio.h>

struct sinkd_config;

/* States, in increasing severity: a domain gets the most severe that applies. */
enum monitor_state {
	MONITOR_OK,		/* delegated to the sinkhole, which answers as configured */
	MONITOR_EXPIRING,	/* otherwise ok, expires within [monitor] expiry_warn_days */
	MONITOR_UNRESOLVABLE,	/* no delegation at the parent, or the parent is unreachable */
	MONITOR_LAME,		/* delegation as expected, a delegated server not answering
				 * authoritatively */
	MONITOR_DRIFTED,	/* NS names, glue or answers differ from the expected ones */
	MONITOR_EXPIRED,	/* the expiry date in the metadata has been reached */
	MONITOR_N_STATES
};

/* "ok", "expiring", ...; "unknown" for anything else. */
const char *monitor_state_name(enum monitor_state state);
/* 0 or SINKD_EINVAL. */
int monitor_state_parse(const char *name, enum monitor_state *out);

/* Counters and gauges (a snapshot; see monitor_stats). */
struct monitor_stats {
	uint64_t rounds;		/* check rounds completed */
	uint64_t rounds_failed;		/* rounds that could not run or record */
	uint64_t checks;		/* domain checks completed */
	uint64_t changes;		/* state changes recorded */
	uint64_t queries;		/* DNS queries sent */
	uint64_t query_failures;	/* of those, without an answer */
	uint64_t hook_runs, hook_failures;
	uint64_t domains[MONITOR_N_STATES];	/* per state, after the last round */
	int64_t last_round_end;		/* Unix seconds; 0 = no round yet */
	double last_round_seconds;	/* duration of the last round */
};

struct monitor;

/* The monitor of `sinkd serve`. When [monitor] enabled is no, *out is NULL
 * and every function below accepts NULL and does nothing. Otherwise opens
 * its own store writer handle (call it before dropping privileges: the
 * store's files are then accessible) and checks the configuration. 0,
 * SINKD_ENOMEM or SINKD_ESTORE (logged). */
int monitor_new(struct monitor **out, const struct sinkd_config *cfg);

/* Start the monitor thread: one round now, then one every interval_s.
 * 0 or SINKD_ENOMEM. */
int monitor_start(struct monitor *m);

/* A reloaded configuration: used from the next round (the domain list is
 * re-read at every round). Enabling or disabling the monitor needs a
 * restart (logged). */
void monitor_reload(struct monitor *m, const struct sinkd_config *cfg);

/* Stop the thread (a round in progress is abandoned, not recorded) and free. */
void monitor_free(struct monitor *m);

/* Counters; thread-safe. */
void monitor_stats(struct monitor *m, struct monitor_stats *out);

/* Prometheus text exposition of the counters and of every domain not ok
 * after the last round (for /metrics). Thread-safe. 0 or SINKD_EIO. */
int monitor_metrics(struct monitor *m, FILE *out);

/* `sinkd domains [-c CONFIG] [--file PATH] check [--all | DOMAIN...]
 * [--format table|csv|json] [--db PATH] [--no-record]`. argv is the
 * `domains` command line; returns -1 when its command is not `check`, else
 * the exit status (0 all ok, 1 some domain not ok or an error, 2 usage). */
int monitor_cli(int argc, char **argv);

#endif
