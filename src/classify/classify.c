/* The live classifier of `sinkd serve`: the rule set and decoder
 * environment the pipeline thread uses, reload hand-over, and counters.
 *
 * A generation (rule set + decoder environment) is built off the pipeline
 * thread and published in `pending`. The pipeline thread, before its next
 * event, takes it, makes it current and puts the generation it used
 * before into `retired`, which the next reload (or classify_free) frees.
 * No lock on the pipeline side: two atomic exchanges per reload. */
#include "classify/rules_internal.h"

#include "classify/decode.h"
#include "core/config.h"
#include "core/error.h"
#include "core/log.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#define MAX_RULE_FILES 64

struct generation {
	struct classifier *c;
	struct decode_env *env;
};

struct classify {
	struct generation *cur;		      /* pipeline thread only */
	_Atomic(struct generation *) pending; /* built, not yet taken */
	_Atomic(struct generation *) retired; /* released by the pipeline */
	pthread_mutex_t reload_lock;	      /* one loader at a time */

	/* Family slots for the counters: names written under reload_lock
	 * before n_families is published (release); never changed after. */
	char family[CLASSIFY_STATS_FAMILIES][EVENT_LABEL_MAX];
	atomic_size_t n_families;
	atomic_uint_least64_t hits[CLASSIFY_STATS_FAMILIES];
	atomic_uint_least64_t family_decode_failed[CLASSIFY_STATS_FAMILIES];
	atomic_uint_least64_t events, unknown, decode_ok, decode_failed, other_hits;
	atomic_uint_least64_t reloads, reload_failures;
	atomic_size_t rules;
};

static void generation_free(struct generation *g)
{
	if (g == NULL)
		return;
	classifier_free(g->c);
	decode_env_free(g->env);
	free(g);
}

/* Give each family of c its counter slot (under reload_lock). */
static void assign_slots(struct classify *cl, struct classifier *c)
{
	size_t n = atomic_load_explicit(&cl->n_families, memory_order_relaxed);
	for (size_t i = 0; i < c->n_families; i++) {
		size_t s = 0;
		while (s < n && strcmp(cl->family[s], c->families[i]) != 0)
			s++;
		if (s == n && n < CLASSIFY_STATS_FAMILIES) {
			snprintf(cl->family[n], EVENT_LABEL_MAX, "%s", c->families[i]);
			n++;
			atomic_store_explicit(&cl->n_families, n, memory_order_release);
		}
		c->family_slot[i] =
		    s < CLASSIFY_STATS_FAMILIES ? (unsigned)s : CLASSIFY_STATS_FAMILIES;
	}
}

static int build(struct classify *cl, const struct sinkd_config *cfg, struct generation **out,
		 char *err, size_t errlen)
{
	char buf[sizeof(cfg->rules_files) + MAX_RULE_FILES];
	const char *paths[MAX_RULE_FILES];
	int n = classify_split_files(cfg->rules_files, buf, sizeof(buf), paths, MAX_RULE_FILES);
	if (n < 0) {
		snprintf(err, errlen, "[rules] files: more than %d files", MAX_RULE_FILES);
		return SINKD_EPARSE;
	}
	struct generation *g = calloc(1, sizeof(*g));
	if (g == NULL)
		return SINKD_ENOMEM;
	int ret = classifier_load(&g->c, paths, (size_t)n, err, errlen);
	if (ret == 0) {
		ret = decode_env_new(&g->env, cfg);
		if (ret != 0)
			snprintf(err, errlen, "decoder set-up failed: %s", sinkd_strerror(ret));
	}
	if (ret != 0) {
		generation_free(g);
		return ret;
	}
	assign_slots(cl, g->c);
	*out = g;
	return 0;
}

int classify_new(struct classify **out, const struct sinkd_config *cfg, char *err, size_t errlen)
{
	struct classify *cl = calloc(1, sizeof(*cl));
	if (cl == NULL)
		return SINKD_ENOMEM;
	pthread_mutex_init(&cl->reload_lock, NULL);
	pthread_mutex_lock(&cl->reload_lock);
	int ret = build(cl, cfg, &cl->cur, err, errlen);
	pthread_mutex_unlock(&cl->reload_lock);
	if (ret != 0) {
		classify_free(cl);
		return ret;
	}
	atomic_store(&cl->rules, cl->cur->c->n_rules);
	*out = cl;
	return 0;
}

void classify_free(struct classify *cl)
{
	if (cl == NULL)
		return;
	generation_free(cl->cur);
	generation_free(atomic_exchange(&cl->pending, NULL));
	generation_free(atomic_exchange(&cl->retired, NULL));
	pthread_mutex_destroy(&cl->reload_lock);
	free(cl);
}

int classify_reload(struct classify *cl, const struct sinkd_config *cfg, char *err, size_t errlen)
{
	struct generation *g = NULL;
	pthread_mutex_lock(&cl->reload_lock);
	int ret = build(cl, cfg, &g, err, errlen);
	if (ret == 0) {
		/* The generation the pipeline let go of at the last reload. */
		generation_free(atomic_exchange(&cl->retired, NULL));
		/* A set the pipeline never took (no event since) is replaced. */
		generation_free(atomic_exchange(&cl->pending, g));
		atomic_store(&cl->rules, g->c->n_rules);
		atomic_fetch_add(&cl->reloads, 1);
	} else {
		atomic_fetch_add(&cl->reload_failures, 1);
	}
	pthread_mutex_unlock(&cl->reload_lock);
	return ret;
}

/* Pipeline thread: switch to a newly loaded generation. */
static void take_pending(struct classify *cl)
{
	struct generation *g = atomic_exchange(&cl->pending, NULL);
	if (g == NULL)
		return;
	struct generation *old = cl->cur;
	cl->cur = g;
	/* Normally empty (the reload that published g collected it); if a
	 * second reload raced, the older one is no longer in anyone's use. */
	generation_free(atomic_exchange(&cl->retired, old));
}

void classify_event(struct classify *cl, struct sinkd_event *ev)
{
	if (atomic_load_explicit(&cl->pending, memory_order_relaxed) != NULL)
		take_pending(cl);
	struct classifier *c = cl->cur->c;
	int dret;
	long i = classifier_match(c, cl->cur->env, ev, &dret);
	atomic_fetch_add_explicit(&cl->events, 1, memory_order_relaxed);
	if (i < 0) {
		atomic_fetch_add_explicit(&cl->unknown, 1, memory_order_relaxed);
		return;
	}
	const struct rule *r = &c->rules[i];
	unsigned slot = c->family_slot[r->family_idx];
	if (slot < CLASSIFY_STATS_FAMILIES)
		atomic_fetch_add_explicit(&cl->hits[slot], 1, memory_order_relaxed);
	else
		atomic_fetch_add_explicit(&cl->other_hits, 1, memory_order_relaxed);
	if (r->decoder[0] == '\0')
		return;
	if (dret == 0) {
		atomic_fetch_add_explicit(&cl->decode_ok, 1, memory_order_relaxed);
		return;
	}
	atomic_fetch_add_explicit(&cl->decode_failed, 1, memory_order_relaxed);
	if (slot < CLASSIFY_STATS_FAMILIES)
		atomic_fetch_add_explicit(&cl->family_decode_failed[slot], 1, memory_order_relaxed);
}

void classify_stats(const struct classify *ccl, struct classify_stats *out)
{
	struct classify *cl = (struct classify *)ccl;
	memset(out, 0, sizeof(*out));
	out->events = atomic_load(&cl->events);
	out->unknown = atomic_load(&cl->unknown);
	out->decode_ok = atomic_load(&cl->decode_ok);
	out->decode_failed = atomic_load(&cl->decode_failed);
	out->reloads = atomic_load(&cl->reloads);
	out->reload_failures = atomic_load(&cl->reload_failures);
	out->other_hits = atomic_load(&cl->other_hits);
	out->rules = atomic_load(&cl->rules);
	out->n_families = atomic_load_explicit(&cl->n_families, memory_order_acquire);
	for (size_t i = 0; i < out->n_families; i++) {
		memcpy(out->families[i].family, cl->family[i], EVENT_LABEL_MAX);
		out->families[i].hits = atomic_load(&cl->hits[i]);
		out->families[i].decode_failed = atomic_load(&cl->family_decode_failed[i]);
	}
}
