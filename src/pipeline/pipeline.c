#include "pipeline/pipeline.h"

#include "classify/classify.h"
#include "classify/shapes.h"
#include "core/error.h"
#include "cluster/cluster.h"
#include "core/log.h"
#include "enrich/enrich.h"
#include "pipeline/agg.h"
#include "stats/stats.h"
#include "store/store.h"

#include <pthread.h>
#include <stddef.h>
#include <sys/resource.h>
#include <unistd.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Payload bytes one batch of rows may carry; a row that does not fit
 * starts the next batch. Twice EVENT_PAYLOAD_MAX at least. */
#define PAYLOAD_BATCH (32u * 1024 * 1024)

/* Aggregate keys per transaction when a flush is big. */
#define AGG_SLICE 10000

/* One hand-over from the pipeline to the writer. */
struct job {
	struct sinkd_event *rows;	/* individual events, batch_max capacity */
	size_t n_rows;
	uint8_t *payload;		/* their payload bytes */
	uint64_t row_events;		/* events counted by the rows (non-DNS) */
	struct agg *agg;		/* NULL: rows only */
	struct shapes_batch *shapes;	/* shape deltas (NULL: none), same transaction */
	struct stats_batch *stats;	/* rollup cells (NULL: none), same transaction */
};

struct pipeline {
	struct pipeline_options opt;
	struct store *store;
	struct vring **rings;

	/* Pipeline thread: what is being filled. */
	struct sinkd_event *rows;
	size_t n_rows;
	uint64_t row_events;
	uint8_t *payload;		/* payload bytes of the rows */
	size_t payload_used;
	struct agg *agg;
	uint64_t pending_since_ns;	/* monotonic time of the oldest pending item */
	struct sinkd_event scratch;	/* an expanded compact DNS record */
	struct shapes *shapes;		/* protocol discovery (classify/shapes.h) */
	struct enrich *enrich;		/* country, ASN (NULL: no enrichment) */
	struct stats_hook *stats;	/* hourly rollups */
	bool pending;

	/* Spares: the buffers not being filled and not being written. */
	struct sinkd_event *spare_rows;
	uint8_t *spare_payload;
	struct agg *spare_agg;

	/* Writer thread. */
	pthread_mutex_t lock;
	pthread_cond_t cond;
	struct job job;
	bool job_ready;			/* handed over, not yet written */
	bool writer_exit;

	pthread_t thread, writer;
	bool running;
	atomic_bool stop;

	atomic_uint_least64_t events_in, events_stored, events_store_failed, batches;
	atomic_uint_least64_t last_batch_us, agg_rows_written, writer_waits;
	atomic_uint_least64_t batch_us_total;
	atomic_uint_least64_t stored_kind[EVENT_RAW + 1];	/* rows committed, by kind */
	atomic_uint_least64_t shapes_n, shapes_evicted, shapes_dropped, shapes_zones_dropped;
	/* Store faults (docs/evidence.md, "Disk full"). */
	atomic_uint_least64_t dropped[STORE_FAULT_OTHER + 1], store_retries;
	atomic_bool store_ok;
	atomic_int last_fault;
	unsigned backoff_ms;		/* writer thread: next back-off after a failure */
	/* Retention (writer thread). */
	uint64_t prune_last_ns;		/* monotonic: last retention look */
	bool prune_more;		/* the last step left more to do */
};

static uint64_t mono_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static uint32_t wall_minute(void)
{
	return (uint32_t)(time(NULL) / 60) * 60u;
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
	if (p->opt.dns_aggregate_max == 0)
		p->opt.dns_aggregate_max = 1000000;
	if (p->opt.dns_flush_max == 0)
		p->opt.dns_flush_max = 50000;
	p->store = st;
	atomic_store(&p->store_ok, true);
	pthread_mutex_init(&p->lock, NULL);
	pthread_cond_init(&p->cond, NULL);
	p->rings = calloc(opt->n_rings, sizeof(*p->rings));
	p->rows = calloc(p->opt.batch_max, sizeof(*p->rows));
	p->spare_rows = calloc(p->opt.batch_max, sizeof(*p->spare_rows));
	p->payload = malloc(PAYLOAD_BATCH);
	p->spare_payload = malloc(PAYLOAD_BATCH);
	p->agg = agg_new(p->opt.dns_aggregate_max);
	p->spare_agg = agg_new(p->opt.dns_aggregate_max);
	if (shapes_new(&p->shapes, p->opt.shapes_max != 0 ? p->opt.shapes_max : 4096) != 0)
		goto fail;
	if (p->rings == NULL || p->rows == NULL || p->spare_rows == NULL || p->agg == NULL ||
	    p->spare_agg == NULL || p->payload == NULL || p->spare_payload == NULL)
		goto fail;
	for (unsigned i = 0; i < opt->n_rings; i++) {
		p->rings[i] = vring_new(opt->ring_size * (sizeof(struct sinkd_event) + 8));
		if (p->rings[i] == NULL)
			goto fail;
	}
	int ret = SINKD_ENOMEM;
	if ((opt->cfg != NULL && (ret = enrich_open(&p->enrich, opt->cfg)) != 0) ||
	    (ret = stats_hook_new(&p->stats, opt->cfg, st)) != 0) {
		pipeline_free(p);
		return ret;
	}
	*out = p;
	return 0;
fail:
	pipeline_free(p);
	return SINKD_ENOMEM;
}

struct vring *pipeline_ring(struct pipeline *p, unsigned i)
{
	return i < p->opt.n_rings ? p->rings[i] : NULL;
}

/* The DNS fields of a sinkd_event; qname and zone follow, unterminated.
 * Starts like struct sinkd_event (ts_ns, kind) so a reader can tell the
 * two apart by kind. */
struct dns_compact {
	uint64_t ts_ns;
	uint8_t kind;		/* DNS_COMPACT */
	uint8_t transport;
	uint16_t worker;
	uint32_t flags;
	struct event_addr src, dst, proxy;
	uint16_t qtype, qclass, rcode, msg_size;
	uint8_t ecs_family, ecs_source_prefix;
	uint8_t qname_len, zone_len;
	uint8_t ecs_addr[16];
};

#define DNS_COMPACT 0x80 /* not an enum event_kind */

int pipeline_push_dns(struct vring *r, const struct sinkd_event *ev)
{
	size_t qlen = strnlen(ev->qname, 255), zlen = strnlen(ev->zone, 255);
	size_t len = sizeof(struct dns_compact) + qlen + zlen;
	uint8_t *slot = vring_reserve(r, len);
	if (slot == NULL)
		return SINKD_EFULL;
	struct dns_compact *d = (struct dns_compact *)slot;
	*d = (struct dns_compact){
		.ts_ns = ev->ts_ns, .kind = DNS_COMPACT, .transport = ev->transport,
		.worker = ev->worker, .flags = ev->flags, .src = ev->src, .dst = ev->dst,
		.proxy = ev->proxy, .qtype = ev->qtype, .qclass = ev->qclass, .rcode = ev->rcode,
		.msg_size = ev->msg_size, .ecs_family = ev->ecs_family,
		.ecs_source_prefix = ev->ecs_source_prefix, .qname_len = (uint8_t)qlen,
		.zone_len = (uint8_t)zlen};
	memcpy(d->ecs_addr, ev->ecs_addr, sizeof(d->ecs_addr));
	memcpy(slot + sizeof(*d), ev->qname, qlen);
	memcpy(slot + sizeof(*d) + qlen, ev->zone, zlen);
	vring_commit(r, len);
	return 0;
}

/* The full record again, into out (reused: only DNS fields are set). */
static void dns_expand(const struct dns_compact *d, struct sinkd_event *out)
{
	memset(out, 0, offsetof(struct sinkd_event, qname));
	out->ts_ns = d->ts_ns;
	out->kind = EVENT_DNS;
	out->transport = d->transport;
	out->worker = d->worker;
	out->flags = d->flags;
	out->src = d->src;
	out->dst = d->dst;
	out->qtype = d->qtype;
	out->qclass = d->qclass;
	out->rcode = d->rcode;
	out->msg_size = d->msg_size;
	out->ecs_family = d->ecs_family;
	out->ecs_source_prefix = d->ecs_source_prefix;
	memcpy(out->ecs_addr, d->ecs_addr, sizeof(out->ecs_addr));
	const char *names = (const char *)(d + 1);
	memcpy(out->qname, names, d->qname_len);
	out->qname[d->qname_len] = '\0';
	memcpy(out->zone, names + d->qname_len, d->zone_len);
	out->zone[d->zone_len] = '\0';
	/* Everything after zone (labels, connection fields, payload) is zero,
	 * as a DNS record has none of it. */
	memset((uint8_t *)out + offsetof(struct sinkd_event, family), 0,
	       sizeof(*out) - offsetof(struct sinkd_event, family));
	out->proxy = d->proxy;
}

int pipeline_push(struct vring *r, const struct sinkd_event *ev, const uint8_t *payload)
{
	size_t len = sizeof(*ev) + ev->payload_len;
	uint8_t *slot = vring_reserve(r, len);
	if (slot == NULL)
		return SINKD_EFULL;
	memcpy(slot, ev, sizeof(*ev));
	((struct sinkd_event *)slot)->payload = NULL;
	if (ev->payload_len > 0)
		memcpy(slot + sizeof(*ev), payload, ev->payload_len);
	vring_commit(r, len);
	return 0;
}

/* Writer thread: commit each job, then hand its buffers back as spares. */
static uint64_t agg_events(const struct store_dns_agg *aggs, size_t n)
{
	uint64_t events = 0;
	for (size_t i = 0; i < n; i++)
		events += aggs[i].count;
	return events;
}

static const char *const fault_names[] = {"ok", "disk full", "store unwritable",
					   "store error"};

/* Count events of a failed commit under the store's reason; the first
 * failure of a run says so once instead of once per batch. */
static void store_failed(struct pipeline *p, uint64_t events)
{
	enum store_fault f = store_last_fault(p->store);
	if (f == STORE_FAULT_NONE)
		f = STORE_FAULT_OTHER;
	atomic_fetch_add(&p->dropped[f], events);
	atomic_store(&p->last_fault, (int)f);
	if (atomic_exchange(&p->store_ok, false))
		log_err("store: %s: recording paused, events are dropped and counted; retrying",
			fault_names[f]);
}

/* Events a job (or the pipeline's pending batch) holds. */
static uint64_t pending_events(struct agg *agg, uint64_t row_events)
{
	const struct store_dns_agg *aggs = NULL;
	size_t n = 0;
	if (agg != NULL)
		agg_rows(agg, &aggs, &n);
	return row_events + agg_events(aggs, n);
}

/* Writer thread, after a failed job: wait before the next attempt (0.25 s
 * doubling to 2 s), unless asked to exit. */
static void writer_backoff(struct pipeline *p)
{
	struct timespec until;
	p->backoff_ms = p->backoff_ms == 0 ? 250 : p->backoff_ms * 2;
	if (p->backoff_ms > 2000)
		p->backoff_ms = 2000;
	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += p->backoff_ms / 1000;
	until.tv_nsec += (long)(p->backoff_ms % 1000) * 1000000L;
	if (until.tv_nsec >= 1000000000L) {
		until.tv_sec++;
		until.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&p->lock);
	while (!p->writer_exit && pthread_cond_timedwait(&p->cond, &p->lock, &until) == 0)
		;
	pthread_mutex_unlock(&p->lock);
}

/* Writer thread: one job, as one transaction or, for a big aggregate
 * flush, sorted slices of AGG_SLICE keys (docs/store.md, batch sizes) so
 * each transaction touches only its part of the minute's pages. */
static void write_job(struct pipeline *p, struct job *job)
{
	const struct store_dns_agg *aggs = NULL;
	size_t n_aggs = 0;
	if (job->agg != NULL) {
		if (agg_count(job->agg) > 2 * AGG_SLICE)
			agg_sort(job->agg);
		agg_rows(job->agg, &aggs, &n_aggs);
	}
	size_t slice = n_aggs > 2 * AGG_SLICE ? AGG_SLICE : n_aggs;
	uint64_t t0 = mono_ns();
	uint64_t stored = 0, failed = 0;
	if (!atomic_load(&p->store_ok))
		atomic_fetch_add(&p->store_retries, 1);
	for (size_t off = 0; off < n_aggs || off == 0; off += slice) {
		size_t k = n_aggs - off < slice ? n_aggs - off : slice;
		bool first = off == 0;
		uint64_t events = agg_events(aggs + off, k) + (first ? job->row_events : 0);
		struct store_batch_hook hooks[2];
		size_t n_hooks = 0;
		if (first && job->shapes != NULL)
			hooks[n_hooks++] = (struct store_batch_hook){shapes_batch_write, job->shapes};
		if (first && job->stats != NULL)
			hooks[n_hooks++] = (struct store_batch_hook){stats_batch_write, job->stats};
		int ret = store_write_batch(p->store, aggs + off, k, first ? job->rows : NULL,
					    first ? job->n_rows : 0, hooks, n_hooks);
		if (ret == 0 && first && job->n_rows > 0 && p->opt.cluster != NULL) {
			size_t n_ids;
			const int64_t *ids = store_batch_ids(p->store, &n_ids);
			if (n_ids == job->n_rows)
				cluster_spool(p->opt.cluster, job->rows, ids, n_ids);
			else
				log_err("cluster: batch of %zu rows has %zu ids: not spooled",
					job->n_rows, n_ids);
		}
		if (ret == 0) {
			stored += events;
			if (first && job->n_rows > 0)
				store_jsonl_write(p->opt.jsonl, job->rows, job->n_rows);
			for (size_t i = 0; first && i < job->n_rows; i++)
				if (job->rows[i].kind <= EVENT_RAW)
					atomic_fetch_add(&p->stored_kind[job->rows[i].kind], 1);
			atomic_fetch_add(&p->agg_rows_written, k);
			atomic_fetch_add(&p->batches, 1);
		} else {
			failed += events;
			store_failed(p, events);
		}
		if (slice == 0)
			break;
	}
	if (failed == 0 && !atomic_load(&p->store_ok)) {
		atomic_store(&p->store_ok, true);
		p->backoff_ms = 0;
		log_info("store: writable again: recording resumed");
	}
	atomic_store(&p->last_batch_us, (mono_ns() - t0) / 1000);
	atomic_fetch_add(&p->batch_us_total, (mono_ns() - t0) / 1000);
	atomic_fetch_add(&p->events_stored, stored);
	atomic_fetch_add(&p->events_store_failed, failed);
	if (job->agg != NULL)
		agg_reset(job->agg);
	shapes_batch_free(job->shapes);
	job->shapes = NULL;
	if (job->stats != NULL)
		stats_batch_done(job->stats);
}

/* Recording runs at a lower priority than answering: on a shared core the
 * listener workers preempt it at once, and the rings absorb the delay. */
static void lower_priority(void)
{
	setpriority(PRIO_PROCESS, (id_t)gettid(), 10);
}

/* Writer thread, between jobs: retention in small steps (at most about
 * 50 ms at a time, once a second unless a step left more), stopping as
 * soon as a job is waiting. Ingestion never waits for it: the pipeline
 * keeps filling the other buffer meanwhile. */
static void writer_retention(struct pipeline *p)
{
	const uint64_t day_ns = 86400ull * 1000000000ull;
	if (p->opt.retention_raw_days == 0 && p->opt.retention_rollup_days == 0)
		return;
	uint64_t t0 = mono_ns();
	if (!p->prune_more && t0 - p->prune_last_ns < 1000000000ull)
		return;
	struct timespec now;
	clock_gettime(CLOCK_REALTIME, &now);
	uint64_t now_ns = (uint64_t)now.tv_sec * 1000000000ull + (uint64_t)now.tv_nsec;
	uint64_t raw = p->opt.retention_raw_days ? now_ns - p->opt.retention_raw_days * day_ns : 0;
	int64_t rollup = p->opt.retention_rollup_days
			     ? (int64_t)((now_ns - p->opt.retention_rollup_days * day_ns) / 1000000000ull)
			     : 0;
	bool more = true, busy = false;
	while (more && !busy && mono_ns() - t0 < 50000000ull) {
		if (store_prune_step(p->store, raw, rollup, 5000, &more) != 0)
			break;
		pthread_mutex_lock(&p->lock);
		busy = p->job_ready || p->writer_exit;
		pthread_mutex_unlock(&p->lock);
	}
	p->prune_more = more;
	p->prune_last_ns = mono_ns();
}

/* Wait for a job; with retention on, wake once a second to run it. */
static void writer_wait(struct pipeline *p)
{
	if (p->opt.retention_raw_days == 0 && p->opt.retention_rollup_days == 0) {
		pthread_cond_wait(&p->cond, &p->lock);
		return;
	}
	struct timespec until;
	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += 1;
	if (pthread_cond_timedwait(&p->cond, &p->lock, &until) != 0 && !p->job_ready) {
		pthread_mutex_unlock(&p->lock);
		writer_retention(p);
		pthread_mutex_lock(&p->lock);
	}
}

static void *writer_main(void *arg)
{
	struct pipeline *p = arg;
	lower_priority();
	pthread_mutex_lock(&p->lock);
	for (;;) {
		while (!p->job_ready && !p->writer_exit)
			writer_wait(p);
		if (!p->job_ready)
			break;
		struct job job = p->job;
		pthread_mutex_unlock(&p->lock);
		write_job(p, &job);
		pthread_mutex_lock(&p->lock);
		p->spare_rows = job.rows;
		p->spare_payload = job.payload;
		if (job.agg != NULL)
			p->spare_agg = job.agg;
		p->job_ready = false;
		pthread_cond_broadcast(&p->cond);
		if (!atomic_load(&p->store_ok)) {
			pthread_mutex_unlock(&p->lock);
			writer_backoff(p);
			pthread_mutex_lock(&p->lock);
		} else if (!p->job_ready) {
			pthread_mutex_unlock(&p->lock);
			writer_retention(p);
			pthread_mutex_lock(&p->lock);
		}
	}
	pthread_mutex_unlock(&p->lock);
	return NULL;
}

/* Drop everything pending (rows and aggregates: the aggregates' logged
 * counts refer to the rows), counted under the store's last fault. */
static void drop_pending(struct pipeline *p)
{
	uint64_t events = pending_events(p->agg, p->row_events);
	int f = atomic_load(&p->last_fault);
	atomic_fetch_add(&p->dropped[f > 0 ? f : STORE_FAULT_OTHER], events);
	atomic_fetch_add(&p->events_store_failed, events);
	agg_reset(p->agg);
	p->n_rows = 0;
	p->row_events = 0;
	p->payload_used = 0;
	p->pending = false;
	p->pending_since_ns = mono_ns();
}

/* Give the current rows (and the aggregates when with_agg) to the writer,
 * waiting for it to finish the previous job first. */
static void hand_over(struct pipeline *p, bool with_agg)
{
	bool final = atomic_load(&p->stop);
	if (p->n_rows == 0 && (!with_agg || agg_count(p->agg) == 0) &&
	    !stats_hook_pending(p->stats) && !final)
		return;
	struct shapes_batch *sb = shapes_take(p->shapes);
	struct shapes_stats ss;
	shapes_stats(p->shapes, &ss);
	atomic_store(&p->shapes_n, ss.shapes);
	atomic_store(&p->shapes_evicted, ss.evicted);
	atomic_store(&p->shapes_dropped, ss.dropped);
	atomic_store(&p->shapes_zones_dropped, ss.domains_dropped);
	pthread_mutex_lock(&p->lock);
	if (p->job_ready && !atomic_load(&p->store_ok)) {
		/* The store is failing and the writer is busy or backing off:
		 * count this batch as dropped rather than stall the rings. */
		pthread_mutex_unlock(&p->lock);
		shapes_batch_free(sb);
		drop_pending(p);
		return;
	}
	if (p->job_ready)
		atomic_fetch_add(&p->writer_waits, 1);
	while (p->job_ready)
		pthread_cond_wait(&p->cond, &p->lock);
	p->job = (struct job){.rows = p->rows, .n_rows = p->n_rows, .row_events = p->row_events,
			      .payload = p->payload, .agg = with_agg ? p->agg : NULL,
			      .shapes = sb, .stats = stats_hook_detach(p->stats, final)};
	p->rows = p->spare_rows;
	p->spare_rows = NULL;
	p->payload = p->spare_payload;
	p->spare_payload = NULL;
	if (with_agg) {
		p->agg = p->spare_agg;
		p->spare_agg = NULL;
	}
	p->job_ready = true;
	pthread_cond_broadcast(&p->cond);
	pthread_mutex_unlock(&p->lock);
	p->n_rows = 0;
	p->row_events = 0;
	p->payload_used = 0;
	p->pending = !with_agg && agg_count(p->agg) > 0;
	p->pending_since_ns = mono_ns();
}

static void mark_pending(struct pipeline *p)
{
	if (!p->pending) {
		p->pending = true;
		p->pending_since_ns = mono_ns();
	}
}

static void take(struct pipeline *p, struct sinkd_event *ev)
{
	const char *asn_org = enrich_event(p->enrich, ev);
	const struct sinkd_event *counted = ev; /* the classified copy when there is one */
	bool dns = ev->kind == EVENT_DNS;
	bool as_row = !dns || p->opt.every_query;
	if (dns) {
		if (agg_nearly_full(p->agg))
			hand_over(p, true);
		if (agg_add(p->agg, ev, as_row) != 0) {
			hand_over(p, true);
			agg_add(p->agg, ev, as_row); /* empty table: cannot fail */
		}
	}
	if (as_row) {
		if (PAYLOAD_BATCH - p->payload_used < ev->payload_len)
			hand_over(p, agg_count(p->agg) <= p->opt.dns_flush_max);
		struct sinkd_event *row = &p->rows[p->n_rows++];
		*row = *ev;
		row->payload = NULL;
		if (ev->payload_len > 0) {
			row->payload = p->payload + p->payload_used;
			memcpy(p->payload + p->payload_used, (const uint8_t *)ev + sizeof(*ev),
			       ev->payload_len);
			p->payload_used += ev->payload_len;
		}
		if (p->opt.classify != NULL)
			classify_event(p->opt.classify, row); /* rules, then the rule's decoder */
		counted = row; /* read-only from here: safe even once handed over */
		if (!dns)
			p->row_events++;
		shapes_observe(p->shapes, row); /* traffic no rule claimed */
		if (p->n_rows == p->opt.batch_max)
			hand_over(p, agg_count(p->agg) <= p->opt.dns_flush_max);
	}
	if (stats_hook_add(p->stats, counted, asn_org) == SINKD_EFULL) {
		hand_over(p, agg_count(p->agg) <= p->opt.dns_flush_max);
		stats_hook_add(p->stats, counted, asn_org); /* empty table: fits */
	}
	mark_pending(p);
}

static size_t drain_rings(struct pipeline *p)
{
	size_t taken = 0;
	for (unsigned i = 0; i < p->opt.n_rings; i++) {
		struct sinkd_event *ev;
		size_t len;
		/* Peek in place: the record is copied once, into a batch row;
		 * compact DNS records are expanded into a scratch record. */
		while ((ev = vring_peek(p->rings[i], &len)) != NULL) {
			if (ev->kind == DNS_COMPACT) {
				dns_expand((const struct dns_compact *)ev, &p->scratch);
				ev = &p->scratch;
			}
			take(p, ev);
			vring_release(p->rings[i]);
			taken++;
		}
	}
	atomic_fetch_add(&p->events_in, taken);
	return taken;
}

/* Interval elapsed: rows always go; aggregates go too unless a flood keeps
 * more than dns_flush_max keys pending, in which case they wait for their
 * minute to close. */
static void maybe_commit(struct pipeline *p)
{
	const uint64_t interval_ns = (uint64_t)p->opt.commit_interval_ms * 1000000ull;
	if (!p->pending || mono_ns() - p->pending_since_ns < interval_ns)
		return;
	bool with_agg = agg_count(p->agg) <= p->opt.dns_flush_max ||
			agg_oldest_minute(p->agg) < wall_minute();
	hand_over(p, with_agg);
	if (!with_agg && p->n_rows == 0)
		p->pending_since_ns = mono_ns();
}

static void *pipeline_main(void *arg)
{
	struct pipeline *p = arg;
	lower_priority();
	while (!atomic_load(&p->stop)) {
		size_t taken = drain_rings(p);
		maybe_commit(p);
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
	hand_over(p, true);
	return NULL;
}

int pipeline_start(struct pipeline *p)
{
	atomic_store(&p->stop, false);
	p->writer_exit = false;
	if (pthread_create(&p->writer, NULL, writer_main, p) != 0)
		return SINKD_ENOMEM;
	if (pthread_create(&p->thread, NULL, pipeline_main, p) != 0) {
		pthread_mutex_lock(&p->lock);
		p->writer_exit = true;
		pthread_cond_broadcast(&p->cond);
		pthread_mutex_unlock(&p->lock);
		pthread_join(p->writer, NULL);
		return SINKD_ENOMEM;
	}
	pthread_setname_np(p->thread, "sinkd-pipeline");
	pthread_setname_np(p->writer, "sinkd-store");
	p->running = true;
	return 0;
}

void pipeline_stop(struct pipeline *p)
{
	if (!p->running)
		return;
	atomic_store(&p->stop, true);
	pthread_join(p->thread, NULL);
	/* The writer finishes the last job, then exits. */
	pthread_mutex_lock(&p->lock);
	p->writer_exit = true;
	pthread_cond_broadcast(&p->cond);
	pthread_mutex_unlock(&p->lock);
	pthread_join(p->writer, NULL);
	p->running = false;
}

void pipeline_free(struct pipeline *p)
{
	if (p == NULL)
		return;
	pipeline_stop(p);
	if (p->rings != NULL) {
		for (unsigned i = 0; i < p->opt.n_rings; i++)
			vring_free(p->rings[i]);
	}
	free(p->rings);
	free(p->rows);
	free(p->spare_rows);
	free(p->payload);
	free(p->spare_payload);
	agg_free(p->agg);
	agg_free(p->spare_agg);
	shapes_free(p->shapes);
	enrich_close(p->enrich);
	stats_hook_free(p->stats);
	pthread_mutex_destroy(&p->lock);
	pthread_cond_destroy(&p->cond);
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
	out->agg_rows_written = atomic_load(&mp->agg_rows_written);
	out->writer_waits = atomic_load(&mp->writer_waits);
	out->shapes = atomic_load(&mp->shapes_n);
	out->shapes_evicted = atomic_load(&mp->shapes_evicted);
	out->shapes_dropped = atomic_load(&mp->shapes_dropped);
	out->shapes_zones_dropped = atomic_load(&mp->shapes_zones_dropped);
	out->dropped_store_full = atomic_load(&mp->dropped[STORE_FAULT_FULL]);
	out->dropped_store_unwritable = atomic_load(&mp->dropped[STORE_FAULT_UNWRITABLE]);
	out->dropped_store_error = atomic_load(&mp->dropped[STORE_FAULT_OTHER]);
	out->store_retries = atomic_load(&mp->store_retries);
	out->store_ok = atomic_load(&mp->store_ok);
	out->batch_us_total = atomic_load(&mp->batch_us_total);
	out->stored_http = atomic_load(&mp->stored_kind[EVENT_HTTP]);
	out->stored_tls = atomic_load(&mp->stored_kind[EVENT_TLS]);
	out->stored_raw = atomic_load(&mp->stored_kind[EVENT_RAW]);
}

void pipeline_queue(const struct pipeline *p, struct pipeline_queue *out)
{
	*out = (struct pipeline_queue){.rings = p->opt.n_rings};
	for (unsigned i = 0; i < p->opt.n_rings; i++) {
		size_t used = vring_used(p->rings[i]), cap = vring_capacity(p->rings[i]);
		out->used_bytes += used;
		out->capacity_bytes += cap;
		double fill = cap > 0 ? (double)used / (double)cap : 0;
		if (fill > out->max_fill)
			out->max_fill = fill;
	}
}
