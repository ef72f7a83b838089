#include "pipeline/pipeline.h"

#include "core/error.h"
#include "core/log.h"
#include "store/store.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct pipeline {
	struct pipeline_options opt;
	struct store *store;
	struct ring **rings;
	struct sinkd_event *batch;	/* batch_max events, reused */
	size_t batch_len;
	uint64_t batch_started_ns;	/* monotonic time of the first pending event */
	pthread_t thread;
	bool running;
	atomic_bool stop;

	atomic_uint_least64_t events_in;
	atomic_uint_least64_t events_stored;
	atomic_uint_least64_t events_store_failed;
	atomic_uint_least64_t batches;
	atomic_uint_least64_t last_batch_us;
};

static uint64_t mono_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

int pipeline_new(struct pipeline **out, struct store *st, const struct pipeline_options *opt)
{
	struct pipeline *p = calloc(1, sizeof(*p));
	if (p == NULL)
		return SINKD_ENOMEM;
	p->opt = *opt;
	if (p->opt.batch_max == 0)
		p->opt.batch_max = 10000;
	if (p->opt.commit_interval_ms == 0)
		p->opt.commit_interval_ms = 1000;
	p->store = st;
	p->rings = calloc(opt->n_rings, sizeof(*p->rings));
	p->batch = calloc(p->opt.batch_max, sizeof(*p->batch));
	if (p->rings == NULL || p->batch == NULL)
		goto fail;
	for (unsigned i = 0; i < opt->n_rings; i++) {
		p->rings[i] = ring_new(opt->ring_size, sizeof(struct sinkd_event));
		if (p->rings[i] == NULL)
			goto fail;
	}
	*out = p;
	return 0;
fail:
	pipeline_free(p);
	return SINKD_ENOMEM;
}

struct ring *pipeline_ring(struct pipeline *p, unsigned i)
{
	return i < p->opt.n_rings ? p->rings[i] : NULL;
}

static void commit_batch(struct pipeline *p)
{
	if (p->batch_len == 0)
		return;
	uint64_t t0 = mono_ns();
	int ret = store_write(p->store, p->batch, p->batch_len, p->opt.every_query);
	uint64_t us = (mono_ns() - t0) / 1000;
	atomic_store(&p->last_batch_us, us);
	if (ret == 0) {
		atomic_fetch_add(&p->events_stored, p->batch_len);
		atomic_fetch_add(&p->batches, 1);
	} else {
		atomic_fetch_add(&p->events_store_failed, p->batch_len);
		log_err("store: batch of %zu events lost: %s", p->batch_len, sinkd_strerror(ret));
	}
	p->batch_len = 0;
}

/* Move everything queued now into the batch, committing whenever it fills.
 * Returns the number of events taken. */
static size_t drain_rings(struct pipeline *p)
{
	size_t taken = 0;
	for (unsigned i = 0; i < p->opt.n_rings; i++) {
		while (ring_pop(p->rings[i], &p->batch[p->batch_len]) == 0) {
			if (p->batch_len == 0)
				p->batch_started_ns = mono_ns();
			p->batch_len++;
			taken++;
			if (p->batch_len == p->opt.batch_max)
				commit_batch(p);
		}
	}
	atomic_fetch_add(&p->events_in, taken);
	return taken;
}

static void *pipeline_main(void *arg)
{
	struct pipeline *p = arg;
	const uint64_t interval_ns = (uint64_t)p->opt.commit_interval_ms * 1000000ull;
	while (!atomic_load(&p->stop)) {
		size_t taken = drain_rings(p);
		if (p->batch_len > 0 && mono_ns() - p->batch_started_ns >= interval_ns)
			commit_batch(p);
		if (taken == 0) {
			/* Idle: a short sleep keeps latency to storage well under
			 * the commit interval without spinning a core. */
			struct timespec ts = {0, 2 * 1000000};
			nanosleep(&ts, NULL);
		}
	}
	/* Producers have stopped before pipeline_stop: drain to empty. */
	while (drain_rings(p) > 0)
		;
	commit_batch(p);
	return NULL;
}

int pipeline_start(struct pipeline *p)
{
	atomic_store(&p->stop, false);
	if (pthread_create(&p->thread, NULL, pipeline_main, p) != 0)
		return SINKD_ENOMEM;
	pthread_setname_np(p->thread, "sinkd-pipeline");
	p->running = true;
	return 0;
}

void pipeline_stop(struct pipeline *p)
{
	if (!p->running)
		return;
	atomic_store(&p->stop, true);
	pthread_join(p->thread, NULL);
	p->running = false;
}

void pipeline_free(struct pipeline *p)
{
	if (p == NULL)
		return;
	pipeline_stop(p);
	if (p->rings != NULL) {
		for (unsigned i = 0; i < p->opt.n_rings; i++)
			ring_free(p->rings[i]);
	}
	free(p->rings);
	free(p->batch);
	free(p);
}

void pipeline_stats(const struct pipeline *p, struct pipeline_stats *out)
{
	struct pipeline *mp = (struct pipeline *)p;
	out->events_in = atomic_load(&mp->events_in);
	out->events_stored = atomic_load(&mp->events_stored);
	out->events_store_failed = atomic_load(&mp->events_store_failed);
	out->batches = atomic_load(&mp->batches);
	out->last_batch_us = atomic_load(&mp->last_batch_us);
}
