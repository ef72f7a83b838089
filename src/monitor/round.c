/* One round: every domain checked with at most `concurrency` in flight,
 * each observation evaluated as it completes; then the results recorded,
 * logged, passed to the hook and published as metrics.
 */
#include "monitor/monitor_internal.h"

#include "core/error.h"
#include "core/log.h"
#include "domains/domains.h"
#include "store/store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

struct round {
	const struct mon_settings *set;
	const struct domain_registry *reg;
	const size_t *only;
	size_t n;
	struct mon_engine *e;
	struct mon_result *res;
	struct slot *slots;
	size_t next, running;
	bool starting; /* inside start_next: completions do not recurse */
	uint64_t rng;
	char source[CONFIG_PATH_MAX + 64];
	int err;
};

struct slot {
	struct round *r;
	size_t i;
};

static uint64_t next_rand(struct round *r)
{
	r->rng ^= r->rng << 13; /* xorshift64: random labels, not secrets */
	r->rng ^= r->rng >> 7;
	r->rng ^= r->rng << 17;
	return r->rng;
}

static size_t reg_index(const struct round *r, size_t i)
{
	return r->only != NULL ? r->only[i] : i;
}

static void start_next(struct round *r);

static void on_checked(void *arg, struct mon_obs *obs)
{
	struct slot *s = arg;
	struct round *r = s->r;
	const struct domain_meta *meta = domains_meta(r->reg, reg_index(r, s->i));
	struct mon_expect ex;
	snprintf(obs->expiry, sizeof(obs->expiry), "%s", meta ? meta->expiry : "");
	mon_expect_build(&ex, r->set, domains_name(r->reg, reg_index(r, s->i)));
	int ret = mon_evaluate(&ex, obs, time(NULL), r->set->warn_days, r->source, &r->res[s->i]);
	if (ret != 0)
		r->err = ret;
	r->running--;
	if (!r->starting)
		start_next(r);
}

static void start_next(struct round *r)
{
	r->starting = true;
	while (r->running < r->set->concurrency && r->next < r->n && !mon_engine_cancelled(r->e)) {
		size_t i = r->next++;
		r->slots[i] = (struct slot){.r = r, .i = i};
		r->running++;
		mon_check_start(r->e, domains_name(r->reg, reg_index(r, i)), next_rand(r),
				on_checked, &r->slots[i]);
	}
	r->starting = false;
}

int mon_round_check(const struct mon_settings *set, const struct domain_registry *reg,
		    const size_t *only, size_t n_only, const atomic_bool *cancel,
		    struct mon_result **results, size_t *n_results,
		    struct mon_engine_counts *counts)
{
	struct round r = {.set = set, .reg = reg, .only = only};
	r.n = only != NULL ? n_only : domains_count(reg);
	snprintf(r.source, sizeof(r.source), "registry metadata file %s", set->domains_file);
	if (getrandom(&r.rng, sizeof(r.rng), 0) != sizeof(r.rng) || r.rng == 0)
		r.rng = (uint64_t)time(NULL) | 1;
	r.res = calloc(r.n ? r.n : 1, sizeof(*r.res));
	r.slots = calloc(r.n ? r.n : 1, sizeof(*r.slots));
	int ret = r.res && r.slots ? mon_engine_new(&r.e, set, cancel) : SINKD_ENOMEM;
	if (ret != 0) {
		free(r.res);
		free(r.slots);
		return ret;
	}
	/* Every completion starts the next domain; the loop runs until the
	 * last answer (or cancel). Checks cut short by cancel finish while
	 * the engine is freed. */
	start_next(&r);
	while (r.next < r.n || r.running > 0) {
		mon_engine_run(r.e);
		if (mon_engine_cancelled(r.e))
			break;
		if (r.running > 0) { /* cannot happen: a check always has a query out */
			log_err("monitor: %zu checks stalled; abandoning the round", r.running);
			break;
		}
		start_next(&r);
	}
	mon_engine_counts(r.e, counts);
	bool cancelled = mon_engine_cancelled(r.e) || r.next < r.n || r.running > 0;
	mon_engine_free(r.e);
	free(r.slots);
	*results = r.res;
	*n_results = r.n;
	if (r.err != 0)
		return r.err;
	return cancelled ? SINKD_EAGAIN : 0;
}

/* ---- recording -------------------------------------------------------------------- */

/* A change worth telling about: anything but a first check that found ok. */
static bool notable(const struct mon_result *r)
{
	return r->changed && !(r->previous[0] == '\0' && r->state == MONITOR_OK);
}

static int record_store(struct store *st, const char *source, struct mon_result *res, size_t n)
{
	struct store_status *rows = calloc(n ? n : 1, sizeof(*rows));
	if (rows == NULL)
		return SINKD_ENOMEM;
	for (size_t i = 0; i < n; i++) {
		rows[i].domain = res[i].domain;
		rows[i].state = monitor_state_name(res[i].state);
		rows[i].details = res[i].details ? res[i].details : "{}";
	}
	int ret = store_status_record(st, (int64_t)time(NULL), source, rows, n);
	for (size_t i = 0; ret == 0 && i < n; i++) {
		snprintf(res[i].previous, sizeof(res[i].previous), "%s", rows[i].previous);
		res[i].changed = rows[i].changed;
	}
	free(rows);
	return ret;
}

static void log_changes(const struct mon_result *res, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		const struct mon_result *r = &res[i];
		if (!r->changed)
			continue;
		enum log_level lvl = r->state != MONITOR_OK ? LOG_WARN
				     : notable(r)	    ? LOG_INFO
							    : LOG_DEBUG;
		log_msg(lvl, "monitor: %s: %s -> %s%s%s", r->domain,
			r->previous[0] ? r->previous : "(first check)",
			monitor_state_name(r->state), r->summary[0] ? ": " : "", r->summary);
	}
}

static void run_hook(const struct mon_settings *set, const struct mon_result *res, size_t n,
		     const char *source, struct monitor_stats *stats)
{
	size_t notable_n = 0;
	for (size_t i = 0; i < n; i++)
		notable_n += notable(&res[i]);
	if (set->on_change[0] == '\0' || notable_n == 0)
		return;
	struct mon_buf json = {0};
	int ret = mon_hook_json(res, n, source, time(NULL), &json);
	if (ret == 0)
		ret = mon_hook_run(set->on_change, json.p, json.len, MON_HOOK_TIMEOUT_S);
	mon_buf_free(&json);
	stats->hook_runs++;
	if (ret != 0)
		stats->hook_failures++;
}

int mon_round_record(const struct mon_settings *set, struct store *st, const char *source,
		     struct mon_result *res, size_t n, struct monitor_stats *stats)
{
	int ret = 0;
	if (st != NULL && (ret = record_store(st, source, res, n)) != 0)
		log_err("monitor: state changes not recorded in the store (%s)",
			sinkd_strerror(ret));
	memset(stats->domains, 0, sizeof(stats->domains));
	for (size_t i = 0; i < n; i++) {
		stats->domains[res[i].state]++;
		stats->changes += res[i].changed;
	}
	stats->rounds++;
	stats->checks += n;
	stats->last_round_end = (int64_t)time(NULL);
	if (ret != 0)
		stats->rounds_failed++;
	log_changes(res, n);
	if (st != NULL)
		run_hook(set, res, n, source, stats);
	if (set->metrics_file[0] != '\0') {
		struct mon_buf text = {0};
		mon_metrics_text(stats, res, n, &text);
		if (mon_metrics_file(set->metrics_file, &text) != 0)
			ret = ret ? ret : SINKD_EIO;
		mon_buf_free(&text);
	}
	return ret;
}
