/* bench_store: sustained events/s into the SQLite store, through the real
 * pipeline (producer thread -> ring -> pipeline thread -> store_write) and
 * directly (store_write in a loop), aggregates only and every_query; and the
 * store-writer hot path, store_write_aggs, alone: event rows only (a
 * random-subdomain flood logged with every_query) and aggregate upserts
 * only (distinct keys of one minute, then the same keys again); and the
 * events of the capture listeners (HTTP, TLS, raw: rows with their capture
 * row and bodies) through store_write_aggs.
 *
 * usage: bench_store [--events N] [--batch N] [--rows N] [--row-batch N]
 *                    [--keys N] [--key-batch N] [--capture-rows N]
 *                    [--unique-bodies PCT] [--dir DIR]
 *                    [--only direct|pipeline|aggs|capture]
 */
#include <getopt.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/error.h"
#include "core/log.h"
#include "pipeline/pipeline.h"
#include "store/store.h"

#define N_ZONES 8
#define N_LABELS 100000
#define N_RESOLVERS 5000

struct gen {
	uint64_t rng;
	uint64_t ts_ns;
};

struct result {
	const char *name;
	const char *file;
	uint64_t events;
	double seconds;
	uint64_t batches;
	uint64_t bytes;
	uint64_t producer_waits;
	double max_call_s; /* slowest single store call (store_write_aggs modes) */
};

struct bench {
	uint64_t n_events;
	size_t batch;
	uint64_t n_rows, n_keys;     /* store_write_aggs modes */
	size_t row_batch, key_batch;
	uint64_t n_capture;	     /* capture modes: rows of each kind */
	bool direct, pipeline, aggs, capture;
	char dir[512];
};

static uint64_t xorshift(struct gen *g)
{
	g->rng ^= g->rng << 13;
	g->rng ^= g->rng >> 7;
	g->rng ^= g->rng << 17;
	return g->rng;
}

#include "gen_capture.h"

/* Synthetic DNS check-ins at 10k queries/s of simulated time: most ask for
 * a seized zone itself (bots calling home), the rest random names under it,
 * from a skewed population of resolvers. */
static void gen_event(struct gen *g, struct sinkd_event *ev)
{
	static const uint16_t qtypes[] = {1, 1, 1, 1, 1, 1, 1, 28, 28, 15, 16};
	uint64_t r = xorshift(g);
	unsigned zone = r % N_ZONES;
	unsigned resolver = (unsigned)((xorshift(g) % N_RESOLVERS) * (r >> 40 & 0xff) / 256);
	memset(ev, 0, offsetof(struct sinkd_event, qname));
	g->ts_ns += 100000;
	ev->ts_ns = g->ts_ns;
	ev->kind = EVENT_DNS;
	ev->transport = TRANSPORT_UDP;
	ev->src.ip[10] = ev->src.ip[11] = 0xff;
	ev->src.ip[12] = 198;
	ev->src.ip[13] = 51;
	ev->src.ip[14] = (uint8_t)(resolver >> 8);
	ev->src.ip[15] = (uint8_t)resolver;
	ev->src.port = (uint16_t)(1024 + (r >> 16) % 60000);
	ev->dst.ip[10] = ev->dst.ip[11] = 0xff;
	ev->dst.ip[12] = 127;
	ev->dst.ip[15] = 1;
	ev->dst.port = 53;
	ev->qtype = qtypes[(r >> 8) % (sizeof(qtypes) / sizeof(qtypes[0]))];
	ev->qclass = 1;
	ev->msg_size = 45;
	char zname[32];
	snprintf(zname, sizeof(zname), "botnet-cc-%u.example", zone);
	snprintf(ev->zone, sizeof(ev->zone), "%s", zname);
	if ((r >> 32) % 10 < 7)
		snprintf(ev->qname, sizeof(ev->qname), "%s", zname);
	else
		snprintf(ev->qname, sizeof(ev->qname), "x%llu.%s",
			 (unsigned long long)(xorshift(g) % N_LABELS), zname);
	ev->family[0] = ev->msg_type[0] = ev->bot_id[0] = ev->country[0] = '\0';
}

/* A random-subdomain (DGA-style) flood at 250k queries/s of simulated
 * time: every query name is new, under one of the seized zones. Writes
 * "label.zone" into name and returns where the zone starts in it. */
static size_t gen_flood_name(struct gen *g, char *name, size_t len)
{
	static const char alnum[] = "abcdefghijklmnopqrstuvwxyz0123456789";
	uint64_t r = xorshift(g);
	size_t label = 8 + r % 13, i;
	for (i = 0; i < label && i + 1 < len; i++) {
		if (i % 10 == 0)
			r = xorshift(g);
		name[i] = alnum[(r >> (6 * (i % 10))) % 36];
	}
	snprintf(name + i, len - i, ".botnet-cc-%u.example", (unsigned)(r >> 60) % N_ZONES);
	return i + 1;
}

static void gen_flood_event(struct gen *g, struct sinkd_event *ev)
{
	gen_event(g, ev);
	g->ts_ns += 4000 - 100000; /* gen_event advanced 100 us */
	ev->ts_ns = g->ts_ns;
	size_t zone = gen_flood_name(g, ev->qname, sizeof(ev->qname));
	snprintf(ev->zone, sizeof(ev->zone), "%s", ev->qname + zone);
}

/* Distinct aggregate keys of one minute, in first-seen (random) order as
 * the pipeline hands them over; each name takes EVENT_QNAME_MAX bytes of
 * names at first, then is packed to its length. */
static int gen_flood_aggs(struct gen *g, uint32_t minute, size_t n, struct store_dns_agg **out,
			  char **out_names)
{
	static const uint16_t qtypes[] = {1, 1, 1, 1, 1, 28, 28, 16};
	struct store_dns_agg *aggs = calloc(n, sizeof(*aggs));
	char *names = malloc(n * 48 + EVENT_QNAME_MAX);
	size_t used = 0;
	if (aggs == NULL || names == NULL) {
		free(aggs);
		free(names);
		return SINKD_ENOMEM;
	}
	for (size_t i = 0; i < n; i++) {
		struct store_dns_agg *a = &aggs[i];
		char *name = names + used;
		uint64_t r = xorshift(g);
		unsigned resolver = (unsigned)((r % N_RESOLVERS) * (r >> 40 & 0xff) / 256);
		size_t zone = gen_flood_name(g, name, 48);
		a->minute = minute;
		a->qtype = qtypes[(r >> 20) % (sizeof(qtypes) / sizeof(qtypes[0]))];
		a->resolver[10] = a->resolver[11] = 0xff;
		a->resolver[12] = 198;
		a->resolver[13] = 51;
		a->resolver[14] = (uint8_t)(resolver >> 8);
		a->resolver[15] = (uint8_t)resolver;
		a->qname = name;
		a->zone = name + zone;
		a->count = 1 + (r >> 32) % 3;
		used += strlen(name) + 1;
	}
	*out = aggs;
	*out_names = names;
	return 0;
}

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static uint64_t file_size(const char *path)
{
	struct stat sb;
	return stat(path, &sb) == 0 ? (uint64_t)sb.st_size : 0;
}

static void db_path(const struct bench *b, const char *name, char *out, size_t len)
{
	snprintf(out, len, "%s/bench-%s.db", b->dir, name);
	char side[700];
	unlink(out);
	snprintf(side, sizeof(side), "%s-wal", out);
	unlink(side);
	snprintf(side, sizeof(side), "%s-shm", out);
	unlink(side);
}

/* Size after close: the last connection checkpoints and removes the WAL;
 * whatever is left of it still counts. */
static uint64_t store_bytes(const char *path)
{
	char wal[700];
	snprintf(wal, sizeof(wal), "%s-wal", path);
	return file_size(path) + file_size(wal);
}

static int run_direct(const struct bench *b, bool every_query, struct result *res)
{
	char path[600];
	struct store *st = NULL;
	struct gen g = {.rng = 0x9e3779b97f4a7c15ull, .ts_ns = 1795651200000000000ull};
	struct sinkd_event *batch = calloc(b->batch, sizeof(*batch));
	db_path(b, res->file, path, sizeof(path));
	int ret = batch == NULL ? SINKD_ENOMEM : store_open(&st, path, false);
	if (ret != 0)
		goto fail;
	/* Only store_write is timed: in the pipeline runs the producer
	 * generates events on its own thread. */
	for (uint64_t done = 0; done < b->n_events;) {
		size_t n = b->n_events - done < b->batch ? (size_t)(b->n_events - done) : b->batch;
		for (size_t i = 0; i < n; i++)
			gen_event(&g, &batch[i]);
		double t0 = now_s();
		ret = store_write(st, batch, n, every_query);
		res->seconds += now_s() - t0;
		if (ret != 0)
			goto fail;
		done += n;
		res->batches++;
	}
	res->events = b->n_events;
	store_close(st);
	st = NULL;
	res->bytes = store_bytes(path);
fail:
	store_close(st);
	free(batch);
	return ret;
}

struct producer {
	const struct bench *b;
	struct vring *ring;
	uint64_t waits;
};

static void *producer_main(void *arg)
{
	struct producer *pr = arg;
	struct gen g = {.rng = 0x9e3779b97f4a7c15ull, .ts_ns = 1795651200000000000ull};
	struct sinkd_event ev;
	memset(&ev, 0, sizeof(ev));
	for (uint64_t i = 0; i < pr->b->n_events; i++) {
		gen_event(&g, &ev);
		while (pipeline_push(pr->ring, &ev, NULL) != 0) {
			/* Full ring: a listener would count a drop; the bench
			 * waits so every event reaches the store. */
			struct timespec ts = {0, 20000};
			pr->waits++;
			nanosleep(&ts, NULL);
		}
	}
	return NULL;
}

static int run_pipeline(const struct bench *b, bool every_query, struct result *res)
{
	char path[600];
	struct store *st = NULL;
	struct pipeline *p = NULL;
	struct pipeline_stats ps;
	struct pipeline_options opt = {.n_rings = 1,
				       .ring_size = 65536,
				       .batch_max = b->batch,
				       .commit_interval_ms = 1000,
				       .every_query = every_query};
	struct producer pr = {.b = b};
	pthread_t thread;
	db_path(b, res->file, path, sizeof(path));
	int ret = store_open(&st, path, false);
	if (ret == 0)
		ret = pipeline_new(&p, st, &opt);
	if (ret == 0)
		ret = pipeline_start(p);
	if (ret != 0)
		goto fail;
	pr.ring = pipeline_ring(p, 0);
	double t0 = now_s();
	if (pthread_create(&thread, NULL, producer_main, &pr) != 0) {
		ret = SINKD_ENOMEM;
		goto fail;
	}
	pthread_join(thread, NULL);
	pipeline_stop(p);
	res->seconds = now_s() - t0;
	pipeline_stats(p, &ps);
	res->events = ps.events_stored;
	res->batches = ps.batches;
	res->producer_waits = pr.waits;
	if (ps.events_store_failed != 0 || ps.events_stored != b->n_events)
		ret = SINKD_ESTORE;
	pipeline_free(p);
	p = NULL;
	store_close(st);
	st = NULL;
	res->bytes = store_bytes(path);
fail:
	pipeline_free(p);
	store_close(st);
	return ret;
}

/* Time one store_write_aggs call into res. */
static int timed_write_aggs(struct store *st, const struct store_dns_agg *aggs, size_t n_aggs,
			    const struct sinkd_event *ev, size_t n_ev, struct result *res)
{
	double t0 = now_s();
	int ret = store_write_aggs(st, aggs, n_aggs, ev, n_ev);
	double dt = now_s() - t0;
	res->seconds += dt;
	if (dt > res->max_call_s)
		res->max_call_s = dt;
	res->batches++;
	res->events += n_aggs + n_ev;
	return ret;
}

/* Event rows only: what the store writer does for log_every_query. */
static int run_rows(const struct bench *b, struct result *res)
{
	char path[600];
	struct store *st = NULL;
	struct gen g = {.rng = 0x2545f4914f6cdd1dull, .ts_ns = 1795651200000000000ull};
	struct sinkd_event *batch = calloc(b->row_batch, sizeof(*batch));
	db_path(b, res->file, path, sizeof(path));
	int ret = batch == NULL ? SINKD_ENOMEM : store_open(&st, path, false);
	for (uint64_t done = 0; ret == 0 && done < b->n_rows;) {
		size_t n = b->n_rows - done < b->row_batch ? (size_t)(b->n_rows - done)
							   : b->row_batch;
		for (size_t i = 0; i < n; i++)
			gen_flood_event(&g, &batch[i]);
		ret = timed_write_aggs(st, NULL, 0, batch, n, res);
		done += n;
	}
	store_close(st);
	if (ret == 0)
		res->bytes = store_bytes(path);
	free(batch);
	return ret;
}

/* Write keys in calls of key_batch into the store at path (kept open
 * between passes by the caller). */
static int write_keys(const struct bench *b, struct store *st, const struct store_dns_agg *aggs,
		      struct result *res)
{
	int ret = 0;
	for (uint64_t done = 0; ret == 0 && done < b->n_keys;) {
		size_t n = b->n_keys - done < b->key_batch ? (size_t)(b->n_keys - done)
							   : b->key_batch;
		ret = timed_write_aggs(st, aggs + done, n, NULL, 0, res);
		done += n;
	}
	return ret;
}

/* Aggregate upserts only: n_keys distinct keys of one minute (a flood's
 * flush) in random order, then the same keys again (every key conflicts:
 * count +=); and the same two passes into a new store with the keys sorted
 * once (store_dns_aggs_sort) and passed as consecutive slices. */
static int run_keys(const struct bench *b, struct result *res)
{
	char path[600], sorted_path[600];
	struct store *st = NULL;
	struct store_dns_agg *aggs = NULL;
	char *names = NULL;
	struct gen g = {.rng = 0x94d049bb133111ebull};
	db_path(b, res[0].file, path, sizeof(path));
	db_path(b, res[2].file, sorted_path, sizeof(sorted_path));
	int ret = gen_flood_aggs(&g, 1795651200u, b->n_keys, &aggs, &names);
	if (ret == 0)
		ret = store_open(&st, path, false);
	if (ret == 0)
		ret = write_keys(b, st, aggs, &res[0]);
	if (ret == 0)
		ret = write_keys(b, st, aggs, &res[1]);
	store_close(st);
	st = NULL;
	res[0].bytes = res[1].bytes = store_bytes(path);
	store_dns_aggs_sort(aggs, b->n_keys);
	if (ret == 0)
		ret = store_open(&st, sorted_path, false);
	if (ret == 0)
		ret = write_keys(b, st, aggs, &res[2]);
	if (ret == 0)
		ret = write_keys(b, st, aggs, &res[3]);
	store_close(st);
	res[2].bytes = res[3].bytes = store_bytes(sorted_path);
	free(aggs);
	free(names);
	return ret;
}

static void print_aggs_result(const struct result *r, size_t batch, double target)
{
	double rate = (double)r->events / r->seconds;
	printf("%-22s %10llu %8zu %8.2f %10.0f %10.0f %6s %9.1f %9.1f\n", r->name,
	       (unsigned long long)r->events, batch, r->seconds, rate, target,
	       rate >= target ? "yes" : "NO", r->max_call_s * 1e3,
	       (double)r->bytes / (double)r->events);
}

static int run_aggs_modes(const struct bench *b)
{
	struct result rows = {.name = "rows", .file = "aggs-rows"};
	struct result keys[4] = {
	    {.name = "keys new", .file = "aggs-keys"},
	    {.name = "keys again", .file = "aggs-keys"},
	    {.name = "sorted keys new", .file = "aggs-keys-sorted"},
	    {.name = "sorted keys again", .file = "aggs-keys-sorted"},
	};
	printf("\nstore_write_aggs: %llu event rows (random subdomains), %llu distinct keys of "
	       "one minute\n",
	       (unsigned long long)b->n_rows, (unsigned long long)b->n_keys);
	printf("%-22s %10s %8s %8s %10s %10s %6s %9s %9s\n", "mode", "items", "batch",
	       "seconds", "items/s", "target", "met", "max ms", "bytes/it");
	int ret = run_rows(b, &rows);
	if (ret == 0)
		print_aggs_result(&rows, b->row_batch, 400000);
	if (ret == 0)
		ret = run_keys(b, keys);
	for (int i = 0; ret == 0 && i < 4; i++)
		print_aggs_result(&keys[i], b->key_batch, 300000);
	if (ret != 0)
		fprintf(stderr, "bench_store: store_write_aggs failed: %s\n", sinkd_strerror(ret));
	char path[600];
	db_path(b, rows.file, path, sizeof(path)); /* removes the files */
	db_path(b, keys[0].file, path, sizeof(path));
	db_path(b, keys[2].file, path, sizeof(path));
	return ret;
}

typedef void (*gen_capture_fn)(struct gen *g, struct sinkd_event *ev, uint8_t *buf);

/* Capture rows of one kind in calls of row_batch, as the store writer gets
 * them from the pipeline (store_write_aggs, no aggregates). */
static int run_capture(const struct bench *b, gen_capture_fn gen, struct result *res,
		       struct store_stats *stats)
{
	char path[600];
	struct store *st = NULL;
	struct gen g = {.rng = 0x8badf00ddeadbeefull, .ts_ns = 1795651200000000000ull};
	struct sinkd_event *batch = calloc(b->row_batch, sizeof(*batch));
	uint8_t *payload = malloc(b->row_batch * CAPTURE_PAYLOAD_MAX);
	db_path(b, res->file, path, sizeof(path));
	int ret = batch == NULL || payload == NULL ? SINKD_ENOMEM : store_open(&st, path, false);
	for (uint64_t done = 0; ret == 0 && done < b->n_capture;) {
		size_t n = b->n_capture - done < b->row_batch ? (size_t)(b->n_capture - done)
							      : b->row_batch;
		for (size_t i = 0; i < n; i++)
			gen(&g, &batch[i], payload + i * CAPTURE_PAYLOAD_MAX);
		ret = timed_write_aggs(st, NULL, 0, batch, n, res);
		done += n;
	}
	if (st != NULL)
		store_stats(st, stats);
	store_close(st);
	if (ret == 0)
		res->bytes = store_bytes(path);
	db_path(b, res->file, path, sizeof(path)); /* removes the files */
	free(batch);
	free(payload);
	return ret;
}

static int run_capture_modes(const struct bench *b)
{
	static const gen_capture_fn gens[] = {gen_http_event, gen_tls_event, gen_raw_event};
	struct result res[3] = {
	    {.name = "http rows", .file = "capture-http"},
	    {.name = "tls rows", .file = "capture-tls"},
	    {.name = "raw rows", .file = "capture-raw"},
	};
	struct store_stats stats[3];
	int ret = 0;
	printf("\nstore_write_aggs: %llu capture events of each kind (%u %% of HTTP bodies "
	       "unique)\n",
	       (unsigned long long)b->n_capture, unique_body_pct);
	printf("%-22s %10s %8s %8s %10s %10s %6s %9s %9s %8s\n", "mode", "items", "batch",
	       "seconds", "items/s", "target", "met", "max ms", "bytes/it", "bodies");
	for (int i = 0; i < 3 && ret == 0; i++) {
		memset(&stats[i], 0, sizeof(stats[i]));
		ret = run_capture(b, gens[i], &res[i], &stats[i]);
		if (ret != 0)
			break;
		double rate = (double)res[i].events / res[i].seconds;
		printf("%-22s %10llu %8zu %8.2f %10.0f %10.0f %6s %9.1f %9.1f %8llu\n",
		       res[i].name, (unsigned long long)res[i].events, b->row_batch,
		       res[i].seconds, rate, 200000.0, rate >= 200000 ? "yes" : "NO",
		       res[i].max_call_s * 1e3, (double)res[i].bytes / (double)res[i].events,
		       (unsigned long long)stats[i].bodies_new);
	}
	if (ret != 0)
		fprintf(stderr, "bench_store: capture rows failed: %s\n", sinkd_strerror(ret));
	return ret;
}

static void print_result(const struct result *r)
{
	printf("%-22s %10llu %8.2f %12.0f %8llu %10.1f %12llu\n", r->name,
	       (unsigned long long)r->events, r->seconds, (double)r->events / r->seconds,
	       (unsigned long long)r->batches, (double)r->bytes / (double)r->events,
	       (unsigned long long)r->producer_waits);
}

static int parse_args(int argc, char **argv, struct bench *b)
{
	static const struct option longopts[] = {
	    {"events", required_argument, NULL, 'n'},
	    {"batch", required_argument, NULL, 'b'},
	    {"dir", required_argument, NULL, 'd'},
	    {"rows", required_argument, NULL, 'r'},
	    {"row-batch", required_argument, NULL, 'R'},
	    {"keys", required_argument, NULL, 'k'},
	    {"key-batch", required_argument, NULL, 'K'},
	    {"only", required_argument, NULL, 'o'},
	    {"capture-rows", required_argument, NULL, 'C'},
	    {"unique-bodies", required_argument, NULL, 'U'},
	    {NULL, 0, NULL, 0},
	};
	int opt;
	while ((opt = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		if (opt == 'n')
			b->n_events = strtoull(optarg, NULL, 10);
		else if (opt == 'b')
			b->batch = strtoull(optarg, NULL, 10);
		else if (opt == 'r')
			b->n_rows = strtoull(optarg, NULL, 10);
		else if (opt == 'R')
			b->row_batch = strtoull(optarg, NULL, 10);
		else if (opt == 'k')
			b->n_keys = strtoull(optarg, NULL, 10);
		else if (opt == 'K')
			b->key_batch = strtoull(optarg, NULL, 10);
		else if (opt == 'C')
			b->n_capture = strtoull(optarg, NULL, 10);
		else if (opt == 'U' && strtoul(optarg, NULL, 10) <= 100)
			unique_body_pct = (unsigned)strtoul(optarg, NULL, 10);
		else if (opt == 'd')
			snprintf(b->dir, sizeof(b->dir), "%s", optarg);
		else if (opt == 'o' && strcmp(optarg, "direct") == 0)
			b->pipeline = b->aggs = b->capture = false;
		else if (opt == 'o' && strcmp(optarg, "pipeline") == 0)
			b->direct = b->aggs = b->capture = false;
		else if (opt == 'o' && strcmp(optarg, "aggs") == 0)
			b->direct = b->pipeline = b->capture = false;
		else if (opt == 'o' && strcmp(optarg, "capture") == 0)
			b->direct = b->pipeline = b->aggs = false;
		else
			return 2;
	}
	if (b->n_events == 0 || b->batch == 0 || b->n_rows == 0 || b->row_batch == 0 ||
	    b->n_keys == 0 || b->key_batch == 0 || b->n_capture == 0) {
		fprintf(stderr, "bench_store: counts and batch sizes must be positive\n");
		return 2;
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct bench b = {.n_events = 1000000,
			  .batch = 10000,
			  .n_rows = 2000000,
			  .row_batch = 10000,
			  .n_keys = 1000000,
			  .key_batch = 100000,
			  .n_capture = 500000,
			  .direct = true,
			  .pipeline = true,
			  .aggs = true,
			  .capture = true};
	char tmpl[] = "/tmp/bench_store-XXXXXX";
	bool own_dir = false;
	if (parse_args(argc, argv, &b) != 0) {
		fprintf(stderr, "usage: bench_store [--events N] [--batch N] [--rows N] "
				"[--row-batch N] [--keys N] [--key-batch N] [--capture-rows N] "
				"[--unique-bodies PCT] [--dir DIR] "
				"[--only direct|pipeline|aggs|capture]\n");
		return 2;
	}
	if (b.dir[0] == '\0') {
		if (mkdtemp(tmpl) == NULL) {
			perror("bench_store: mkdtemp");
			return 1;
		}
		snprintf(b.dir, sizeof(b.dir), "%s", tmpl);
		own_dir = true;
	}
	log_set_level(LOG_WARN);
	setvbuf(stdout, NULL, _IOLBF, 0);
	struct result res[4] = {
	    {.name = "direct aggregates", .file = "direct-agg"},
	    {.name = "pipeline aggregates", .file = "pipeline-agg"},
	    {.name = "direct every_query", .file = "direct-every"},
	    {.name = "pipeline every_query", .file = "pipeline-every"},
	};
	int ret = 0;
	if (b.direct || b.pipeline) {
		printf("%llu synthetic DNS events (%d zones, %d names, %d resolvers), batch %zu, "
		       "in %s\n",
		       (unsigned long long)b.n_events, N_ZONES, N_LABELS, N_RESOLVERS, b.batch,
		       b.dir);
		printf("%-22s %10s %8s %12s %8s %10s %12s\n", "mode", "events", "seconds",
		       "events/s", "batches", "bytes/ev", "prod. waits");
	}
	for (int i = 0; i < 4 && ret == 0; i++) {
		bool every_query = i >= 2, direct = i % 2 == 0;
		if ((direct && !b.direct) || (!direct && !b.pipeline))
			continue;
		ret = direct ? run_direct(&b, every_query, &res[i])
			     : run_pipeline(&b, every_query, &res[i]);
		if (ret == 0)
			print_result(&res[i]);
		else
			fprintf(stderr, "bench_store: %s failed: %s\n", res[i].name,
				sinkd_strerror(ret));
	}
	if (ret == 0 && b.direct && b.pipeline)
		printf("pipeline/direct events/s: aggregates %.2f, every_query %.2f\n",
		       (res[1].events / res[1].seconds) / (res[0].events / res[0].seconds),
		       (res[3].events / res[3].seconds) / (res[2].events / res[2].seconds));
	if (ret == 0 && b.aggs)
		ret = run_aggs_modes(&b);
	if (ret == 0 && b.capture)
		ret = run_capture_modes(&b);
	for (int i = 0; own_dir && i < 4; i++) {
		char path[600];
		db_path(&b, res[i].file, path, sizeof(path)); /* removes the files */
	}
	if (own_dir)
		rmdir(b.dir);
	return ret == 0 ? 0 : 1;
}
