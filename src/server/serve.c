/* `sinkd serve`: start-up order, signals, reload and shutdown.
 *
 * Order: config -> seized domains -> store -> pipeline -> DNS sockets
 * (bound while still privileged) -> privilege drop -> threads. Every
 * signal is blocked in all threads and taken synchronously here, so
 * reload and shutdown run in one place, never inside a handler.
 */
#include "server/server.h"

#include "admin/admin.h"
#include "capture/capture.h"
#include "classify/classify.h"
#include "core/config.h"
#include "core/error.h"
#include "core/log.h"
#include "dns/dns.h"
#include "domains/domains.h"
#include "cluster/cluster.h"
#include "monitor/monitor.h"
#include "net/net.h"
#include "pipeline/pipeline.h"
#include "store/store.h"

#include <errno.h>
#include <getopt.h>
#include <sys/resource.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <systemd/sd-daemon.h>

struct serve {
	struct sinkd_config cfg;
	const char *config_path;	/* NULL: embedded defaults */
	struct store *store;
	struct pipeline *pipe;
	struct dns_rrl *rrl;
	struct dns_server *dns;
	struct monitor *monitor;	/* NULL: [monitor] enabled = no */
	struct capture *capture;
	struct admin *admin;		/* NULL: [admin] listen = off */
	struct store_jsonl *jsonl;	/* NULL: no [store] jsonl */
	struct cluster *cluster;	/* NULL: [cluster] enabled = no */
	struct classify *classify;	/* family rules + decoders */
};

static int load_config(const char *path, struct sinkd_config *cfg)
{
	config_defaults(cfg);
	if (path == NULL)
		return 0;
	return config_load(cfg, path, stderr);
}

/* Seized domains + answer data for cfg. Any invalid line fails the load. */
static int load_data(const struct sinkd_config *cfg, struct dns_data **out)
{
	struct domain_registry *reg = domains_new();
	if (reg == NULL)
		return SINKD_ENOMEM;
	struct domains_load_stats st = {0};
	int ret = domains_load_file(reg, cfg->domains_file, stderr, &st);
	if (ret != 0) {
		log_err("%s: %zu invalid line(s), %zu domains valid; fix the file and retry",
			cfg->domains_file, st.invalid, st.loaded);
		domains_free(reg);
		return ret == SINKD_EIO ? SINKD_EIO : SINKD_EPARSE;
	}
	if (domains_count(reg) == 0)
		log_warn("%s: no seized domains: every query will be REFUSED", cfg->domains_file);
	log_info("seized domains: %zu from %s (%zu duplicates)", domains_count(reg),
		 cfg->domains_file, st.duplicates);
	return dns_data_new(out, cfg, reg);
}

static void warn_restart_needed(const struct sinkd_config *old, const struct sinkd_config *cur)
{
	bool listen_changed = old->n_dns_listen != cur->n_dns_listen || old->dns_tcp != cur->dns_tcp;
	for (unsigned i = 0; !listen_changed && i < cur->n_dns_listen; i++)
		listen_changed = strcmp(old->dns_listen[i].text, cur->dns_listen[i].text) != 0;
	if (listen_changed || old->workers != cur->workers ||
	    strcmp(old->store_path, cur->store_path) != 0 || old->queue_size != cur->queue_size ||
	    old->rrl_enabled != cur->rrl_enabled || old->rrl_rate != cur->rrl_rate ||
	    old->dns_log_every_query != cur->dns_log_every_query)
		log_warn("reload: listeners, workers, store, queue, RRL and log_every_query changes "
			 "take effect only after a restart");
}

static void reload(struct serve *s)
{
	struct sinkd_config cfg;
	log_info("reload: SIGHUP received");
	if (load_config(s->config_path, &cfg) != 0) {
		log_err("reload: configuration has errors; keeping the running state");
		return;
	}
	struct dns_data *data;
	if (load_data(&cfg, &data) != 0) {
		log_err("reload: domain list has errors; keeping the running state");
		return;
	}
	char err[512];
	if (classify_reload(s->classify, &cfg, err, sizeof(err)) != 0) {
		log_err("reload: %s; keeping the running state", err);
		dns_data_free(data);
		return;
	}
	warn_restart_needed(&s->cfg, &cfg);
	dns_data_free(dns_server_set_data(s->dns, data));
	monitor_reload(s->monitor, &cfg);
	struct classify_stats cs;
	classify_stats(s->classify, &cs);
	log_info("reload: done, %zu seized domains, %zu family rules",
		 domains_count(dns_data_registry(data)), cs.rules);
}

static void print_listening(const struct serve *s, size_t n_domains)
{
	const struct sinkd_config *c = &s->cfg;
	printf("sinkd %s serving %zu seized domains from %s\n", SINKD_VERSION, n_domains,
	       c->domains_file);
	for (unsigned i = 0; i < c->n_dns_listen; i++)
		printf("  dns   %s (udp%s)\n", c->dns_listen[i].text, c->dns_tcp ? "+tcp" : "");
	for (unsigned i = 0; s->capture != NULL && c->http_enabled && i < c->n_http_listen; i++)
		printf("  http  %s\n", c->http_listen[i].text);
	for (unsigned i = 0; s->capture != NULL && c->tls_enabled && i < c->n_tls_listen; i++)
		printf("  tls   %s\n", c->tls_listen[i].text);
	for (unsigned i = 0; s->capture != NULL && c->catchall_enabled && i < c->n_catchall_tcp; i++)
		printf("  any   %s/tcp (catch-all)\n", c->catchall_tcp[i].text);
	for (unsigned i = 0; s->capture != NULL && c->catchall_enabled && i < c->n_catchall_udp; i++)
		printf("  any   %s/udp (catch-all)\n", c->catchall_udp[i].text);
	printf("  store %s (%s)\n", c->store_path,
	       c->dns_log_every_query ? "every query" : "per-minute DNS aggregates");
	if (s->admin != NULL)
		printf("  admin %s://%s/ (dashboard, /health, /metrics, /api/v1/)\n",
		       c->admin_cert_file[0] != '\0' ? "https" : "http", admin_address(s->admin));
	if (s->jsonl != NULL)
		printf("  jsonl %s (stored event rows)\n", c->store_jsonl);
	printf("  %u worker(s); SIGHUP reloads the domain list, SIGTERM stops\n",
	       c->workers);
	fflush(stdout);
}

static void print_classified(const struct classify *cl)
{
	struct classify_stats cs;
	char fams[512] = "";
	size_t used = 0;
	classify_stats(cl, &cs);
	for (size_t i = 0; i < cs.n_families && used < sizeof(fams); i++)
		used += (size_t)snprintf(fams + used, sizeof(fams) - used, " %s=%llu",
					 cs.families[i].family,
					 (unsigned long long)cs.families[i].hits);
	log_info("classified: %llu events, %llu unknown;%s; decoded %llu ok, %llu failed",
		 (unsigned long long)cs.events, (unsigned long long)cs.unknown, fams,
		 (unsigned long long)cs.decode_ok, (unsigned long long)cs.decode_failed);
}

static void print_totals(const struct serve *s)
{
	struct dns_totals t;
	struct pipeline_stats p;
	dns_server_totals(s->dns, &t);
	pipeline_stats(s->pipe, &p);
	log_info("stopped: %llu queries, %llu answered (%llu refused, %llu formerr), "
		 "%llu rrl-dropped, %llu rrl-slipped, %llu malformed drops; "
		 "PROXY %llu applied, %llu bad, %llu untrusted; "
		 "events stored %llu (all listeners), DNS events dropped (queue full) %llu, "
		 "lost (store) %llu",
		 (unsigned long long)t.queries, (unsigned long long)t.answered,
		 (unsigned long long)t.refused, (unsigned long long)t.formerr,
		 (unsigned long long)t.rrl_dropped, (unsigned long long)t.rrl_slipped,
		 (unsigned long long)(t.drop_short + t.drop_response),
		 (unsigned long long)t.proxy_accepted, (unsigned long long)t.proxy_bad,
		 (unsigned long long)t.proxy_untrusted,
		 (unsigned long long)p.events_stored, (unsigned long long)t.events_dropped,
		 (unsigned long long)p.events_store_failed);
	if (s->classify != NULL)
		print_classified(s->classify);
	log_info("shapes: %llu in memory, %llu evicted after writing, %llu events and %llu zone "
		 "counts not counted (docs/shapes.md)",
		 (unsigned long long)p.shapes, (unsigned long long)p.shapes_evicted,
		 (unsigned long long)p.shapes_dropped, (unsigned long long)p.shapes_zones_dropped);
	log_info("store drops: %llu disk full, %llu unwritable, %llu other errors; %llu retries; "
		 "store %s",
		 (unsigned long long)p.dropped_store_full,
		 (unsigned long long)p.dropped_store_unwritable,
		 (unsigned long long)p.dropped_store_error, (unsigned long long)p.store_retries,
		 p.store_ok ? "ok" : "failing");
	if (s->capture != NULL) {
		struct capture_totals c;
		capture_totals(s->capture, &c);
		log_info("capture: %llu connections, %llu requests (%llu not HTTP, %llu bad, "
			 "%llu too large), %llu evicted idle, %llu evicted slow, %llu refused "
			 "per source, %llu events dropped; PROXY %llu applied, %llu bad, "
			 "%llu untrusted",
			 (unsigned long long)c.accepted, (unsigned long long)c.requests,
			 (unsigned long long)c.not_http, (unsigned long long)c.bad_request,
			 (unsigned long long)c.header_too_large, (unsigned long long)c.evicted_idle,
			 (unsigned long long)c.evicted_slow, (unsigned long long)c.per_source_refused,
			 (unsigned long long)c.events_dropped, (unsigned long long)c.proxy_accepted,
			 (unsigned long long)c.proxy_bad, (unsigned long long)c.proxy_untrusted);
	}
}

static int wait_signals(struct serve *s, const sigset_t *set)
{
	for (;;) {
		int sig = sigwaitinfo(set, NULL);
		if (sig == SIGHUP) {
			reload(s);
		} else if (sig == SIGUSR1) {
			/* logrotate moved the files: open their paths again. */
			if (log_reopen() != 0)
				log_err("SIGUSR1: cannot reopen log file %s", s->cfg.log_file);
			store_jsonl_reopen(s->jsonl);
			log_info("SIGUSR1: log files reopened");
		}
		else if (sig == SIGTERM || sig == SIGINT)
			return sig;
	}
}

static int serve_run(struct serve *s)
{
	struct dns_data *data = NULL;
	int ret = load_data(&s->cfg, &data);
	if (ret != 0)
		return ret;
	size_t n_domains = domains_count(dns_data_registry(data));
	char err[512];
	ret = classify_new(&s->classify, &s->cfg, err, sizeof(err));
	if (ret != 0) {
		log_err("rules: %s", err);
		goto fail;
	}
	struct classify_stats cs;
	classify_stats(s->classify, &cs);
	log_info("family rules: %zu from %s", cs.rules, s->cfg.rules_files);
	ret = store_open(&s->store, s->cfg.store_path, false);
	if (ret == 0 && s->cfg.store_jsonl[0] != '\0')
		ret = store_jsonl_open(&s->jsonl, s->cfg.store_jsonl);
	if (ret == 0)
		ret = store_evidence_setup(s->store, s->cfg.evidence_key,
					   s->cfg.evidence_manifest_interval_s);
	if (ret != 0)
		goto fail;
	if (s->cfg.cluster_enabled) {
		ret = cluster_new(&s->cluster, &s->cfg);
		if (ret != 0)
			goto fail;
	}
	struct pipeline_options po = {
		.n_rings = s->cfg.workers + s->cfg.capture_workers,
		.ring_size = s->cfg.queue_size,
		.batch_max = s->cfg.store_batch_max,
		.commit_interval_ms = s->cfg.store_commit_interval_ms,
		.every_query = s->cfg.dns_log_every_query,
		.dns_aggregate_max = s->cfg.dns_aggregate_max,
		.dns_flush_max = s->cfg.dns_flush_max,
		.cfg = &s->cfg,
		.retention_raw_days = s->cfg.retention_raw_days,
		.retention_rollup_days = s->cfg.retention_rollup_days,
		.cluster = s->cluster,
		.classify = s->classify,
		.shapes_max = s->cfg.shapes_max,
		.jsonl = s->jsonl,
	};
	ret = pipeline_new(&s->pipe, s->store, &po);
	if (ret == 0)
		ret = dns_rrl_new(&s->rrl, &s->cfg);
	if (ret == 0)
		ret = dns_server_new(&s->dns, &s->cfg, data, s->rrl, s->pipe);
	if (ret != 0)
		goto fail;
	data = NULL; /* owned by the server from here */
	ret = capture_new(&s->capture, &s->cfg, s->pipe, s->cfg.workers, s->dns);
	if (ret != 0)
		return ret;
	ret = monitor_new(&s->monitor, &s->cfg); /* its store handle: before the drop */
	if (ret != 0)
		return ret;
	struct admin_sources as = {.pipe = s->pipe, .dns = s->dns, .capture = s->capture,
				   .monitor = s->monitor, .classify = s->classify,
				   .cluster = s->cluster};
	ret = admin_new(&s->admin, &s->cfg, &as); /* binds: before the drop */
	if (ret != 0)
		return ret;
	ret = server_lockdown(&s->cfg);
	if (ret == 0)
		ret = pipeline_start(s->pipe);
	if (ret == 0)
		ret = dns_server_start(s->dns);
	if (ret == 0)
		ret = monitor_start(s->monitor);
	if (ret == 0 && s->cluster != NULL)
		ret = cluster_start(s->cluster);
	if (ret == 0)
		ret = capture_start(s->capture);
	if (ret == 0)
		ret = admin_start(s->admin);
	if (ret == 0)
		ret = server_seccomp(&s->cfg);
	if (ret != 0)
		return ret;
	print_listening(s, n_domains);
	admin_set_ready(s->admin, true);
	sd_notifyf(0, "READY=1\nSTATUS=serving %zu seized domains", n_domains);
	return 0;
fail:
	dns_data_free(data);
	return ret;
}

static void serve_stop(struct serve *s)
{
	struct dns_data *data = NULL;
	admin_free(s->admin); /* reads every module below: goes first */
	monitor_free(s->monitor);
	capture_stop(s->capture);
	if (s->dns != NULL) {
		dns_server_stop(s->dns);
		data = dns_server_set_data(s->dns, NULL);
	}
	if (s->pipe != NULL)
		pipeline_stop(s->pipe);
	if (s->cluster != NULL) {
		cluster_stop(s->cluster); /* after the pipeline's last spool write */
		struct cluster_stats cs;
		cluster_stats(s->cluster, &cs);
		log_info("cluster: %llu events spooled, %llu shipped, %llu dropped (spool full or "
			 "refused), %llu not spooled (disk); %llu batches (%llu bytes) left in the "
			 "spool for the next start",
			 (unsigned long long)cs.events_spooled, (unsigned long long)cs.events_shipped,
			 (unsigned long long)cs.events_dropped,
			 (unsigned long long)cs.spool_write_failed, (unsigned long long)cs.spool_files,
			 (unsigned long long)cs.spool_bytes);
	}
	if (s->dns != NULL && s->pipe != NULL)
		print_totals(s);
	capture_free(s->capture);
	dns_server_free(s->dns);
	dns_data_free(data);
	pipeline_free(s->pipe);
	dns_rrl_free(s->rrl);
	store_jsonl_close(s->jsonl);
	store_close(s->store);
	cluster_free(s->cluster);
	classify_free(s->classify); /* after the pipeline: it used it */
}

/* Connection pools are sized in the tens of thousands: lift the soft
 * descriptor limit to the hard one. */
static void raise_fd_limit(void)
{
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
}

static void usage(FILE *out)
{
	fprintf(out, "usage: sinkd serve [-c FILE]\n"
		     "  -c, --config FILE   configuration file (default: embedded defaults;\n"
		     "                      see 'sinkd config dump')\n");
}

int server_cli(int argc, char **argv)
{
	static const struct option opts[] = {{"config", required_argument, NULL, 'c'},
					     {"help", no_argument, NULL, 'h'},
					     {NULL, 0, NULL, 0}};
	struct serve s = {0};
	int c;
	optind = 1;
	while ((c = getopt_long(argc, argv, "c:h", opts, NULL)) != -1) {
		switch (c) {
		case 'c': s.config_path = optarg; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "sinkd serve: unexpected argument '%s'\n", argv[optind]);
		usage(stderr);
		return 2;
	}
	if (load_config(s.config_path, &s.cfg) != 0)
		return 1;
	enum log_level level;
	if (log_level_parse(s.cfg.log_level, &level) == 0)
		log_set_level(level);
	if (s.cfg.log_file[0] != '\0' && log_open_file(s.cfg.log_file) != 0) {
		fprintf(stderr, "sinkd serve: [server] log_file %s: %s\n", s.cfg.log_file,
			strerror(errno));
		return 1;
	}

	/* Block the signals we handle before any thread exists. */
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGUSR1);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);

	raise_fd_limit();
	int ret = server_harden_early();
	if (ret == 0)
		ret = serve_run(&s);
	if (ret == 0) {
		int sig = wait_signals(&s, &set);
		sd_notify(0, "STOPPING=1");
		admin_set_ready(s.admin, false);
		log_info("%s received: draining queued events to the store", strsignal(sig));
	} else {
		log_err("sinkd serve: not started: %s", sinkd_strerror(ret));
	}
	serve_stop(&s);
	return ret == 0 ? 0 : 1;
}
