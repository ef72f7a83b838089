/* Prometheus text exposition of the monitor (for /metrics, and for the
 * [monitor] metrics_file a node_exporter textfile collector can read). */
#include "monitor/monitor_internal.h"

#include "core/error.h"
#include "core/log.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static void counter(struct mon_buf *b, const char *name, const char *help, uint64_t v)
{
	mon_buf_printf(b, "# HELP %s %s\n# TYPE %s counter\n%s %llu\n", name, help, name, name,
		       (unsigned long long)v);
}

void mon_metrics_text(const struct monitor_stats *st, const struct mon_result *res, size_t n,
		      struct mon_buf *b)
{
	mon_buf_printf(b, "# HELP sinkd_monitor_domains Seized domains per state after the last "
			  "check round.\n# TYPE sinkd_monitor_domains gauge\n");
	for (unsigned s = 0; s < MONITOR_N_STATES; s++)
		mon_buf_printf(b, "sinkd_monitor_domains{state=\"%s\"} %llu\n",
			       monitor_state_name((enum monitor_state)s),
			       (unsigned long long)st->domains[s]);
	mon_buf_printf(b, "# HELP sinkd_monitor_domain_state Seized domains not ok after the last "
			  "round (1 per domain).\n# TYPE sinkd_monitor_domain_state gauge\n");
	for (size_t i = 0; i < n; i++) {
		if (res[i].state == MONITOR_OK)
			continue;
		mon_buf_printf(b, "sinkd_monitor_domain_state{domain=\"%s\",state=\"%s\"} 1\n",
			       res[i].domain, monitor_state_name(res[i].state));
	}
	counter(b, "sinkd_monitor_rounds_total", "Check rounds completed.", st->rounds);
	counter(b, "sinkd_monitor_rounds_failed_total", "Rounds that could not run or record.",
		st->rounds_failed);
	counter(b, "sinkd_monitor_checks_total", "Domain checks completed.", st->checks);
	counter(b, "sinkd_monitor_state_changes_total", "Domain state changes recorded.",
		st->changes);
	counter(b, "sinkd_monitor_queries_total", "DNS queries sent.", st->queries);
	counter(b, "sinkd_monitor_query_failures_total", "DNS queries without an answer.",
		st->query_failures);
	counter(b, "sinkd_monitor_hook_runs_total", "on_change program runs.", st->hook_runs);
	counter(b, "sinkd_monitor_hook_failures_total", "on_change runs that failed.",
		st->hook_failures);
	mon_buf_printf(b,
		       "# HELP sinkd_monitor_last_round_timestamp_seconds End of the last round.\n"
		       "# TYPE sinkd_monitor_last_round_timestamp_seconds gauge\n"
		       "sinkd_monitor_last_round_timestamp_seconds %lld\n"
		       "# HELP sinkd_monitor_last_round_duration_seconds Duration of the last "
		       "round.\n# TYPE sinkd_monitor_last_round_duration_seconds gauge\n"
		       "sinkd_monitor_last_round_duration_seconds %.3f\n",
		       (long long)st->last_round_end, st->last_round_seconds);
}

int mon_metrics_file(const char *path, const struct mon_buf *text)
{
	char tmp[CONFIG_PATH_MAX + 32];
	snprintf(tmp, sizeof(tmp), "%s.tmp.%ld", path, (long)getpid());
	FILE *f = fopen(tmp, "w");
	if (f == NULL || text->failed) {
		log_err("monitor: metrics_file %s: %s", tmp, f ? "out of memory" : strerror(errno));
		if (f != NULL) {
			fclose(f);
			unlink(tmp);
		}
		return SINKD_EIO;
	}
	size_t len = text->p != NULL ? text->len : 0;
	bool ok = fwrite(text->p ? text->p : "", 1, len, f) == len;
	ok = fclose(f) == 0 && ok;
	if (!ok || rename(tmp, path) != 0) {
		log_err("monitor: metrics_file %s: %s", path, strerror(errno));
		unlink(tmp);
		return SINKD_EIO;
	}
	return 0;
}
