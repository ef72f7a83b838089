/* /metrics: Prometheus text exposition format 0.0.4. Every counter is a
 * process-lifetime total (name ending in _total), every gauge a value now.
 * Sources: the DNS workers, the capture workers, the pipeline and store
 * writer, the domain monitor (its own exposition, appended as is) and
 * /proc/self for the process. */
#include "admin/admin_internal.h"

#include "capture/capture.h"
#include "classify/classify.h"
#include "cluster/cluster.h"
#include "core/error.h"
#include "dns/dns.h"
#include "monitor/monitor.h"
#include "pipeline/pipeline.h"

#include <dirent.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

static void head(FILE *out, const char *name, const char *type, const char *help)
{
	fprintf(out, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void counter(FILE *out, const char *name, const char *help, uint64_t v)
{
	head(out, name, "counter", help);
	fprintf(out, "%s %llu\n", name, (unsigned long long)v);
}

static void gauge(FILE *out, const char *name, const char *help, double v)
{
	head(out, name, "gauge", help);
	fprintf(out, "%s %.17g\n", name, v);
}

/* One sample of a labelled family: name{label="value"} v. */
static void sample(FILE *out, const char *name, const char *label, const char *value, uint64_t v)
{
	fprintf(out, "%s{%s=\"%s\"} %llu\n", name, label, value, (unsigned long long)v);
}

static void dns_metrics(FILE *out, const struct dns_totals *t)
{
	counter(out, "sinkd_dns_queries_total", "DNS queries received (UDP and TCP).", t->queries);
	head(out, "sinkd_dns_answers_total", "counter", "DNS responses sent, by response code.");
	static const char *const n = "sinkd_dns_answers_total";
	sample(out, n, "rcode", "noerror", t->noerror);
	sample(out, n, "rcode", "nxdomain", t->nxdomain);
	sample(out, n, "rcode", "refused", t->refused);
	sample(out, n, "rcode", "formerr", t->formerr);
	sample(out, n, "rcode", "notimp", t->notimp);
	sample(out, n, "rcode", "badvers", t->badvers);
	sample(out, n, "rcode", "servfail", t->servfail);
	counter(out, "sinkd_dns_truncated_total", "Responses sent with TC=1 because of size.",
		t->truncated);
	head(out, "sinkd_dns_rrl_actions_total", "counter",
	     "Response rate limiting: answers slipped (TC=1) or dropped.");
	sample(out, "sinkd_dns_rrl_actions_total", "action", "slip", t->rrl_slipped);
	sample(out, "sinkd_dns_rrl_actions_total", "action", "drop", t->rrl_dropped);
	counter(out, "sinkd_dns_tcp_connections_total", "DNS TCP connections accepted.",
		t->tcp_accepted);
	head(out, "sinkd_dns_drops_total", "counter",
	     "DNS messages or connections dropped, by reason.");
	static const char *const d = "sinkd_dns_drops_total";
	sample(out, d, "reason", "short", t->drop_short);
	sample(out, d, "reason", "response", t->drop_response);
	sample(out, d, "reason", "send_error", t->send_errors);
	sample(out, d, "reason", "tcp_full", t->tcp_rejected_full);
	sample(out, d, "reason", "tcp_idle_timeout", t->tcp_idle_timeouts);
	sample(out, d, "reason", "tcp_bad_length", t->tcp_bad_length);
	head(out, "sinkd_proxy_headers_total", "counter",
	     "PROXY protocol headers by listener and outcome.");
	fprintf(out,
		"sinkd_proxy_headers_total{listener=\"dns\",result=\"applied\"} %llu\n"
		"sinkd_proxy_headers_total{listener=\"dns\",result=\"bad\"} %llu\n"
		"sinkd_proxy_headers_total{listener=\"dns\",result=\"untrusted\"} %llu\n",
		(unsigned long long)t->proxy_accepted, (unsigned long long)t->proxy_bad,
		(unsigned long long)t->proxy_untrusted);
}

static void capture_metrics(FILE *out, const struct capture_totals *t)
{
	fprintf(out,
		"sinkd_proxy_headers_total{listener=\"capture\",result=\"applied\"} %llu\n"
		"sinkd_proxy_headers_total{listener=\"capture\",result=\"bad\"} %llu\n"
		"sinkd_proxy_headers_total{listener=\"capture\",result=\"untrusted\"} %llu\n",
		(unsigned long long)t->proxy_accepted, (unsigned long long)t->proxy_bad,
		(unsigned long long)t->proxy_untrusted);
	counter(out, "sinkd_capture_connections_total",
		"Connections accepted by the HTTP, TLS and catch-all listeners.", t->accepted);
	counter(out, "sinkd_capture_connections_closed_total", "Capture connections closed.",
		t->closed);
	counter(out, "sinkd_capture_requests_total", "HTTP requests received (also inside TLS).",
		t->requests);
	counter(out, "sinkd_capture_replies_total", "Inert HTTP replies sent.", t->replies);
	head(out, "sinkd_tls_handshakes_total", "counter", "TLS handshakes by result.");
	sample(out, "sinkd_tls_handshakes_total", "result", "ok", t->tls_handshakes);
	sample(out, "sinkd_tls_handshakes_total", "result", "failed", t->tls_handshake_failures);
	head(out, "sinkd_capture_drops_total", "counter",
	     "Capture requests or connections refused, cut or malformed, by reason.");
	static const char *const d = "sinkd_capture_drops_total";
	sample(out, d, "reason", "not_http", t->not_http);
	sample(out, d, "reason", "bad_request", t->bad_request);
	sample(out, d, "reason", "header_too_large", t->header_too_large);
	sample(out, d, "reason", "body_truncated", t->body_truncated);
	sample(out, d, "reason", "evicted_idle", t->evicted_idle);
	sample(out, d, "reason", "evicted_slow", t->evicted_slow);
	sample(out, d, "reason", "per_source_refused", t->per_source_refused);
	sample(out, d, "reason", "request_timeout", t->request_timeouts);
	sample(out, d, "reason", "idle_timeout", t->idle_timeouts);
	sample(out, d, "reason", "send_error", t->send_errors);
}

static void pipeline_metrics(struct admin *a, FILE *out, const struct dns_totals *dt,
			     const struct capture_totals *ct)
{
	struct pipeline_stats ps;
	struct pipeline_queue q;
	pipeline_stats(a->src.pipe, &ps);
	pipeline_queue(a->src.pipe, &q);
	head(out, "sinkd_events_dropped_total", "counter",
	     "Events not recorded, by listener and reason (queue_full: the worker's ring was "
	     "full; store_failed: the batch failed to commit).");
	fprintf(out,
		"sinkd_events_dropped_total{listener=\"dns\",reason=\"queue_full\"} %llu\n"
		"sinkd_events_dropped_total{listener=\"capture\",reason=\"queue_full\"} %llu\n"
		"sinkd_events_dropped_total{listener=\"all\",reason=\"store_failed\"} %llu\n",
		(unsigned long long)dt->events_dropped, (unsigned long long)ct->events_dropped,
		(unsigned long long)ps.events_store_failed);
	counter(out, "sinkd_pipeline_events_total", "Events taken from the worker rings.",
		ps.events_in);
	counter(out, "sinkd_store_events_total",
		"Events committed to the store (DNS queries counted in aggregates included).",
		ps.events_stored);
	counter(out, "sinkd_store_events_failed_total", "Events lost because a commit failed.",
		ps.events_store_failed);
	head(out, "sinkd_store_dropped_total", "counter",
	     "Events lost because a commit failed, by reason (docs/evidence.md).");
	sample(out, "sinkd_store_dropped_total", "reason", "disk_full", ps.dropped_store_full);
	sample(out, "sinkd_store_dropped_total", "reason", "unwritable", ps.dropped_store_unwritable);
	sample(out, "sinkd_store_dropped_total", "reason", "error", ps.dropped_store_error);
	counter(out, "sinkd_store_retries_total", "Commit attempts while the store was failing.",
		ps.store_retries);
	gauge(out, "sinkd_store_ok", "1 while the last commit succeeded.", ps.store_ok ? 1 : 0);
	head(out, "sinkd_checkins_stored_total", "counter",
	     "Check-in rows committed to the store, by kind.");
	sample(out, "sinkd_checkins_stored_total", "kind", "http", ps.stored_http);
	sample(out, "sinkd_checkins_stored_total", "kind", "tls", ps.stored_tls);
	sample(out, "sinkd_checkins_stored_total", "kind", "raw", ps.stored_raw);
	counter(out, "sinkd_store_dns_aggregate_rows_total",
		"DNS per-minute aggregate keys written.", ps.agg_rows_written);
	counter(out, "sinkd_store_writer_waits_total",
		"Hand-overs where the pipeline waited for the store writer.", ps.writer_waits);
	head(out, "sinkd_store_batch_duration_seconds", "summary",
	     "Duration of store commits (transactions).");
	fprintf(out,
		"sinkd_store_batch_duration_seconds_sum %.6f\n"
		"sinkd_store_batch_duration_seconds_count %llu\n",
		ps.batch_us_total / 1e6, (unsigned long long)ps.batches);
	gauge(out, "sinkd_store_last_batch_duration_seconds", "Duration of the last store commit.",
	      ps.last_batch_us / 1e6);
	gauge(out, "sinkd_queue_rings", "Worker event rings.", q.rings);
	gauge(out, "sinkd_queue_used_bytes", "Bytes queued in the worker rings.",
	      (double)q.used_bytes);
	gauge(out, "sinkd_queue_capacity_bytes", "Capacity of the worker rings.",
	      (double)q.capacity_bytes);
	gauge(out, "sinkd_queue_max_fill_ratio", "Fill of the fullest worker ring (0..1).",
	      q.max_fill);
	bool ready;
	json_decref(admin_health_json(a, &ready));
	gauge(out, "sinkd_ready", "1 when /health reports ready.", ready ? 1 : 0);
}

/* A label value as the text format wants it: \\, \" and \n escaped. */
static void label_value(FILE *out, const char *v)
{
	for (; *v != '\0'; v++) {
		if (*v == '\\' || *v == '"')
			fprintf(out, "\\%c", *v);
		else if (*v == '\n')
			fputs("\\n", out);
		else
			fputc(*v, out);
	}
}

static void classify_metrics(FILE *out, const struct classify *cl)
{
	struct classify_stats st;
	classify_stats(cl, &st);
	counter(out, "sinkd_classify_events_total", "Events classified by the family rules.",
		st.events);
	counter(out, "sinkd_classify_unknown_total", "Classified events no rule claimed.",
		st.unknown);
	head(out, "sinkd_rule_hits_total", "counter", "Events a rule claimed, by family.");
	for (size_t i = 0; i < st.n_families && i < CLASSIFY_STATS_FAMILIES; i++) {
		fputs("sinkd_rule_hits_total{family=\"", out);
		label_value(out, st.families[i].family);
		fprintf(out, "\"} %llu\n", (unsigned long long)st.families[i].hits);
	}
	/* Families beyond the table's bound, so the sum stays right. */
	fprintf(out, "sinkd_rule_hits_total{family=\"(other)\"} %llu\n",
		(unsigned long long)st.other_hits);
	head(out, "sinkd_decode_results_total", "counter",
	     "Protocol decoder runs by result (a failure is any status but ok).");
	sample(out, "sinkd_decode_results_total", "result", "ok", st.decode_ok);
	sample(out, "sinkd_decode_results_total", "result", "failed", st.decode_failed);
	head(out, "sinkd_decode_failures_total", "counter", "Decoder failures, by family.");
	for (size_t i = 0; i < st.n_families && i < CLASSIFY_STATS_FAMILIES; i++) {
		fputs("sinkd_decode_failures_total{family=\"", out);
		label_value(out, st.families[i].family);
		fprintf(out, "\"} %llu\n", (unsigned long long)st.families[i].decode_failed);
	}
	head(out, "sinkd_rules_reloads_total", "counter", "Rule set reloads (SIGHUP) by result.");
	sample(out, "sinkd_rules_reloads_total", "result", "ok", st.reloads);
	sample(out, "sinkd_rules_reloads_total", "result", "failed", st.reload_failures);
	gauge(out, "sinkd_rules_loaded", "Rules in the running set.", (double)st.rules);
}

void admin_proc_open(struct admin *a)
{
	a->proc_stat_fd = open("/proc/self/stat", O_RDONLY | O_CLOEXEC);
	a->proc_fd_dir = open("/proc/self/fd", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	char buf[256];
	FILE *f = fopen("/proc/stat", "r");
	while (f != NULL && fgets(buf, sizeof(buf), f) != NULL) {
		if (strncmp(buf, "btime ", 6) == 0)
			a->boot_time = strtod(buf + 6, NULL);
	}
	if (f != NULL)
		fclose(f);
}

void admin_proc_close(struct admin *a)
{
	if (a->proc_stat_fd >= 0)
		close(a->proc_stat_fd);
	if (a->proc_fd_dir >= 0)
		close(a->proc_fd_dir);
}

/* Descriptors open now, from the /proc/self/fd handle (less the one the
 * count itself uses); -1 when unavailable. */
static long open_fds(const struct admin *a)
{
	if (a->proc_fd_dir < 0)
		return -1;
	int fd = openat(a->proc_fd_dir, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
	if (d == NULL) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	long n = 0;
	for (struct dirent *e; (e = readdir(d)) != NULL;)
		n += e->d_name[0] != '.';
	closedir(d);
	return n - 1;
}

/* /proc/self/stat (read through the handle opened at start): CPU seconds,
 * start time, virtual and resident size. */
static void process_metrics(const struct admin *a, FILE *out)
{
	char buf[1024];
	ssize_t n = a->proc_stat_fd >= 0 ? pread(a->proc_stat_fd, buf, sizeof(buf) - 1, 0) : -1;
	if (n <= 0)
		return;
	buf[n] = '\0';
	char *p = strrchr(buf, ')');
	unsigned long long utime = 0, stime = 0, start = 0, vsize = 0;
	long long rss = 0;
	/* After ") ": field 3 (state) on; utime is 14, stime 15, starttime 22,
	 * vsize 23, rss 24. */
	if (p == NULL || sscanf(p + 2,
				"%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu %*d %*d "
				"%*d %*d %*d %*d %llu %llu %lld",
				&utime, &stime, &start, &vsize, &rss) != 5)
		return;
	double hz = (double)sysconf(_SC_CLK_TCK);
	long page = sysconf(_SC_PAGESIZE);
	head(out, "process_cpu_seconds_total", "counter",
	     "Total user and system CPU time in seconds.");
	fprintf(out, "process_cpu_seconds_total %.2f\n", (double)(utime + stime) / hz);
	gauge(out, "process_resident_memory_bytes", "Resident memory size in bytes.",
	      (double)rss * (double)page);
	gauge(out, "process_virtual_memory_bytes", "Virtual memory size in bytes.", (double)vsize);
	if (a->boot_time > 0)
		gauge(out, "process_start_time_seconds",
		      "Start time of the process since the Unix epoch.",
		      a->boot_time + (double)start / hz);
	long fds = open_fds(a);
	if (fds >= 0)
		gauge(out, "process_open_fds", "Open file descriptors.", (double)fds);
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0)
		gauge(out, "process_max_fds", "Maximum number of open file descriptors.",
		      (double)rl.rlim_cur);
}

int admin_metrics_write(struct admin *a, FILE *out)
{
	struct dns_totals dt;
	struct capture_totals ct;
	dns_server_totals(a->src.dns, &dt);
	capture_totals(a->src.capture, &ct);
	head(out, "sinkd_build_info", "gauge", "sinkd version (value 1).");
	fprintf(out, "sinkd_build_info{version=\"%s\"} 1\n", SINKD_VERSION);
	dns_metrics(out, &dt);
	capture_metrics(out, &ct);
	pipeline_metrics(a, out, &dt, &ct);
	if (a->src.classify != NULL)
		classify_metrics(out, a->src.classify);
	if (a->src.cluster != NULL)
		cluster_metrics(a->src.cluster, out);
	if (a->src.monitor != NULL && monitor_metrics(a->src.monitor, out) != 0)
		return SINKD_EIO;
	process_metrics(a, out);
	return ferror(out) ? SINKD_EIO : 0;
}

enum MHD_Result admin_metrics(struct admin *a, struct MHD_Connection *c, const char *rest,
			      const struct admin_params *p)
{
	static const char *const allowed[] = {NULL};
	const char *bad = admin_params_unknown(p, allowed);
	(void)rest;
	if (bad != NULL)
		return admin_reply_error(c, MHD_HTTP_BAD_REQUEST, bad,
					 "%s: /metrics takes no parameters", bad);
	char *buf = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&buf, &len);
	if (out == NULL)
		return MHD_NO;
	int ret = admin_metrics_write(a, out);
	if (fclose(out) != 0 || ret != 0) {
		free(buf);
		return admin_reply_error(c, MHD_HTTP_INTERNAL_SERVER_ERROR, NULL,
					 "could not write the metrics");
	}
	return admin_reply_buffer(c, MHD_HTTP_OK, "text/plain; version=0.0.4; charset=utf-8", buf,
				  len);
}
