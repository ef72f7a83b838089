/* The monitor thread of `sinkd serve`: a round at start, then one every
 * interval_s (measured from the start of the previous round), with its own
 * store writer handle. It shares nothing with the DNS workers. */
#include "monitor/monitor_internal.h"

#include "core/error.h"
#include "core/log.h"
#include "domains/domains.h"
#include "store/store.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

struct monitor {
	pthread_t thread;
	bool started;
	atomic_bool cancel;   /* abandon the round in progress */
	pthread_mutex_t lock; /* guards the fields below */
	pthread_cond_t cond;
	bool stop;
	bool have_next;
	struct sinkd_config next; /* a reloaded configuration */
	unsigned interval_s;
	struct monitor_stats stats;
	struct mon_result *not_ok; /* after the last round, details NULL */
	size_t n_not_ok;
	/* Monitor thread only: */
	struct mon_settings set;
	struct store *store;
};

static double now_s(clockid_t clk)
{
	struct timespec ts;
	clock_gettime(clk, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static struct domain_registry *load_domains(const struct mon_settings *set)
{
	struct domains_load_stats st;
	struct domain_registry *reg = domains_new();
	if (reg == NULL)
		return NULL;
	int ret = domains_load_file(reg, set->domains_file, NULL, &st);
	if (ret == SINKD_EPARSE) {
		log_warn("monitor: %s: %zu invalid line(s) skipped (sinkd domains list shows "
			 "them)",
			 set->domains_file, st.invalid);
	} else if (ret != 0) {
		log_err("monitor: cannot read the domain list %s: %s", set->domains_file,
			sinkd_strerror(ret));
		domains_free(reg);
		return NULL;
	}
	return reg;
}

/* Keep the domains not ok (for monitor_metrics), details dropped. */
static void publish(struct monitor *m, const struct monitor_stats *st, const struct mon_result *res,
		    size_t n)
{
	size_t k = 0;
	for (size_t i = 0; i < n; i++)
		k += res[i].state != MONITOR_OK;
	struct mon_result *copy = calloc(k ? k : 1, sizeof(*copy));
	for (size_t i = 0, j = 0; copy != NULL && i < n; i++) {
		if (res[i].state != MONITOR_OK) {
			copy[j] = res[i];
			copy[j++].details = NULL;
		}
	}
	pthread_mutex_lock(&m->lock);
	m->stats = *st;
	if (copy != NULL) {
		free(m->not_ok);
		m->not_ok = copy;
		m->n_not_ok = k;
	}
	pthread_mutex_unlock(&m->lock);
}

static void round_once(struct monitor *m)
{
	struct monitor_stats st;
	pthread_mutex_lock(&m->lock);
	st = m->stats;
	pthread_mutex_unlock(&m->lock);
	double t0 = now_s(CLOCK_MONOTONIC);
	struct domain_registry *reg = load_domains(&m->set);
	struct mon_result *res = NULL;
	size_t n = 0;
	struct mon_engine_counts counts = {0};
	int ret = reg != NULL
		      ? mon_round_check(&m->set, reg, NULL, 0, &m->cancel, &res, &n, &counts)
		      : SINKD_EIO;
	domains_free(reg);
	if (ret == SINKD_EAGAIN) { /* stopping */
		mon_results_free(res, n);
		return;
	}
	st.queries += counts.queries;
	st.query_failures += counts.failures;
	st.last_round_seconds = now_s(CLOCK_MONOTONIC) - t0;
	if (ret != 0) {
		st.rounds_failed++;
		log_err("monitor: round failed: %s", sinkd_strerror(ret));
	} else {
		mon_round_record(&m->set, m->store, "sinkd serve", res, n, &st);
		log_info("monitor: %zu domains checked in %.3fs: %llu ok, %llu expiring, %llu "
			 "unresolvable, %llu lame, %llu drifted, %llu expired",
			 n, st.last_round_seconds, (unsigned long long)st.domains[MONITOR_OK],
			 (unsigned long long)st.domains[MONITOR_EXPIRING],
			 (unsigned long long)st.domains[MONITOR_UNRESOLVABLE],
			 (unsigned long long)st.domains[MONITOR_LAME],
			 (unsigned long long)st.domains[MONITOR_DRIFTED],
			 (unsigned long long)st.domains[MONITOR_EXPIRED]);
	}
	publish(m, &st, res, ret == 0 ? n : 0);
	mon_results_free(res, n);
}

/* Sleep until the next round is due; false when stopping. */
static bool wait_next(struct monitor *m, double started)
{
	pthread_mutex_lock(&m->lock);
	for (;;) {
		if (m->stop)
			break;
		double due = started + m->interval_s;
		double now = now_s(CLOCK_MONOTONIC);
		if (now >= due)
			break;
		double left = due - now;
		struct timespec ts;
		clock_gettime(CLOCK_MONOTONIC, &ts);
		ts.tv_sec += (time_t)left;
		ts.tv_nsec += (long)((left - (double)(time_t)left) * 1e9);
		if (ts.tv_nsec >= 1000000000L) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000L;
		}
		pthread_cond_timedwait(&m->cond, &m->lock, &ts);
	}
	bool go = !m->stop;
	if (go && m->have_next) {
		mon_settings_from_config(&m->set, &m->next);
		m->have_next = false;
	}
	pthread_mutex_unlock(&m->lock);
	return go;
}

static void *monitor_main(void *arg)
{
	struct monitor *m = arg;
	do {
		double started = now_s(CLOCK_MONOTONIC);
		round_once(m);
		if (!wait_next(m, started))
			break;
	} while (true);
	return NULL;
}

int monitor_new(struct monitor **out, const struct sinkd_config *cfg)
{
	*out = NULL;
	if (!cfg->monitor_enabled)
		return 0;
	struct monitor *m = calloc(1, sizeof(*m));
	if (m == NULL)
		return SINKD_ENOMEM;
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&m->cond, &ca);
	pthread_condattr_destroy(&ca);
	pthread_mutex_init(&m->lock, NULL);
	mon_settings_from_config(&m->set, cfg);
	m->interval_s = cfg->monitor_interval_s;
	int ret = store_open(&m->store, cfg->store_path, false);
	if (ret != 0) {
		monitor_free(m);
		return ret;
	}
	if (m->set.on_change[0] != '\0' && access(m->set.on_change, X_OK) != 0)
		log_warn("monitor: on_change %s is not an executable file; changes will not be "
			 "passed on",
			 m->set.on_change);
	*out = m;
	return 0;
}

int monitor_start(struct monitor *m)
{
	if (m == NULL)
		return 0;
	if (pthread_create(&m->thread, NULL, monitor_main, m) != 0) {
		log_err("monitor: cannot start its thread");
		return SINKD_ENOMEM;
	}
	pthread_setname_np(m->thread, "sinkd-monitor");
	m->started = true;
	log_info("monitor: checking the seized domains every %us (%s)", m->interval_s,
		 m->set.parents.n ? "configured parent servers" : "from the root hints");
	return 0;
}

void monitor_reload(struct monitor *m, const struct sinkd_config *cfg)
{
	if (m == NULL) {
		if (cfg->monitor_enabled)
			log_warn("reload: [monitor] enabled takes effect after a restart");
		return;
	}
	if (!cfg->monitor_enabled)
		log_warn("reload: [monitor] enabled = no takes effect after a restart");
	pthread_mutex_lock(&m->lock);
	m->next = *cfg;
	m->have_next = true;
	m->interval_s = cfg->monitor_interval_s;
	pthread_cond_signal(&m->cond);
	pthread_mutex_unlock(&m->lock);
}

void monitor_free(struct monitor *m)
{
	if (m == NULL)
		return;
	pthread_mutex_lock(&m->lock);
	m->stop = true;
	atomic_store(&m->cancel, true);
	pthread_cond_signal(&m->cond);
	pthread_mutex_unlock(&m->lock);
	if (m->started)
		pthread_join(m->thread, NULL);
	store_close(m->store);
	pthread_cond_destroy(&m->cond);
	pthread_mutex_destroy(&m->lock);
	free(m->not_ok);
	free(m);
}

void monitor_stats(struct monitor *m, struct monitor_stats *out)
{
	memset(out, 0, sizeof(*out));
	if (m == NULL)
		return;
	pthread_mutex_lock(&m->lock);
	*out = m->stats;
	pthread_mutex_unlock(&m->lock);
}

int monitor_metrics(struct monitor *m, FILE *out)
{
	struct mon_buf b = {0};
	struct monitor_stats empty = {0};
	if (m != NULL)
		pthread_mutex_lock(&m->lock);
	mon_metrics_text(m ? &m->stats : &empty, m ? m->not_ok : NULL, m ? m->n_not_ok : 0, &b);
	if (m != NULL)
		pthread_mutex_unlock(&m->lock);
	bool ok = !b.failed && fwrite(b.p ? b.p : "", 1, b.len, out) == b.len;
	mon_buf_free(&b);
	return ok ? 0 : SINKD_EIO;
}
