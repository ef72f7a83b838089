/* Report benchmark (bench/report/README.md).
 *
 *   bench_report [--bots N] [--checkins N] [--days D] [--dir DIR] [--no-raw]
 *
 * Generates a population straight into a store (event rows and their
 * rollups, written as the pipeline's writer does: one transaction per
 * batch with the rollup hook), then times every report from the rollups
 * and the same report from a raw scan, and measures the live aggregates'
 * memory per million distinct sources. Defaults: 200,000 bots, 10 million
 * check-ins over 30 days, 60% of bots carrying ids, churn 0.3/day, 20%
 * behind NAT, half-life 10 days. */
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/error.h"
#include "report/report.h"
#include "stats/stats.h"
#include "store/store.h"

#define T_START 1790812800ull /* 2026-10-01T00:00:00Z */
#define BATCH 20000

static uint64_t rng = 0x9e3779b97f4a7c15ull;
static uint64_t next(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}
static double unif(void) { return (double)(next() >> 11) / 9007199254740992.0; }

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

struct bot {
	uint32_t addr, asn;
	float dies;
	uint8_t country, family;
	bool nat;
};

static const char *const countries[] = {"US", "DE", "CN", "RU", "BR", "IN", "FR", "GB", "JP", "KR",
					"IT", "ES", "PL", "TR", "VN", "IR", "UA", "MX", "ID", "TH"};
static const char *const families[] = {"waledac", "kelihos"};

struct writer {
	struct store *st;
	struct stats_live *live;
	struct stats_seen *seen;
	struct sinkd_event *rows;
	size_t n;
	uint64_t cells;
};

static int put(struct store *st, void *ctx)
{
	struct writer *w = ctx;
	const struct stats_cell *cells;
	size_t n;
	if (stats_live_cells(w->live, &cells, &n) != 0)
		return SINKD_ENOMEM;
	w->cells += n;
	return store_rollups_put(st, cells, n);
}

static void flush(struct writer *w)
{
	struct store_batch_hook hook = {put, w};
	if (store_write_batch(w->st, NULL, 0, w->rows, w->n, &hook, 1) != 0) {
		fprintf(stderr, "bench_report: store write failed\n");
		exit(1);
	}
	stats_live_reset(w->live);
	w->n = 0;
}

static void add(struct writer *w, const struct sinkd_event *ev)
{
	int ret = stats_live_add(w->live, w->seen, ev, "Bench Networks");
	if (ret == SINKD_EFULL) {
		flush(w);
		ret = stats_live_add(w->live, w->seen, ev, "Bench Networks");
	}
	w->rows[w->n++] = *ev;
	if (w->n == BATCH)
		flush(w);
}

static void generate(const char *db, unsigned n_bots, uint64_t checkins, unsigned days)
{
	struct bot *b = calloc(n_bots, sizeof(*b));
	struct writer w = {.rows = calloc(BATCH, sizeof(struct sinkd_event))};
	if (b == NULL || w.rows == NULL || store_open(&w.st, db, false) != 0 ||
	    stats_live_new(&w.live, 65536) != 0 || stats_seen_new(&w.seen, 8u << 20) != 0) {
		fprintf(stderr, "bench_report: setup failed\n");
		exit(1);
	}
	/* 2,000 networks, bots spread over them Zipf-like (a few big ISPs,
	 * a long tail), each network in one country. */
	enum { NETS = 2000 };
	static double cdf[NETS];
	double z = 0;
	for (unsigned k = 0; k < NETS; k++)
		cdf[k] = (z += 1.0 / (k + 1));
	double lambda = log(2) / 10.0, bot_days = 0;
	uint32_t gateway = 0;
	unsigned on_gw = 4;
	for (unsigned i = 0; i < n_bots; i++) {
		b[i].dies = (float)(-log(1 - unif()) / lambda);
		b[i].family = unif() < 0.6 ? 0 : 1;
		double u = unif() * z;
		unsigned lo = 0, hi = NETS - 1;
		while (lo < hi) {
			unsigned mid = (lo + hi) / 2;
			if (cdf[mid] < u)
				lo = mid + 1;
			else
				hi = mid;
		}
		b[i].asn = 64512 + lo;
		b[i].country = (uint8_t)((lo * 7919u) % 20);
		b[i].nat = unif() < 0.2;
		if (b[i].nat && on_gw == 4) {
			gateway = 0x0b000000u | (uint32_t)(next() & 0xffffff);
			on_gw = 0;
		}
		b[i].addr = b[i].nat ? gateway : 0x0c000000u | (uint32_t)(next() & 0x3ffffff);
		on_gw += b[i].nat;
		bot_days += fmin(b[i].dies, days);
	}
	double per_day = (double)checkins / bot_days;
	uint64_t total = 0;
	double t0 = now_s();
	struct sinkd_event ev;
	memset(&ev, 0, sizeof(ev));
	ev.kind = EVENT_HTTP;
	ev.transport = TRANSPORT_TCP;
	ev.src.ip[10] = ev.src.ip[11] = 0xff;
	strcpy(ev.zone, "bestchristmascard.com");
	strcpy(ev.qname, "www.bestchristmascard.com");
	/* Hour by hour, so the rows append in time order. */
	for (unsigned h = 0; h < days * 24; h++) {
		unsigned d = h / 24;
		for (unsigned i = 0; i < n_bots; i++) {
			if (b[i].dies <= d)
				continue;
			if (h % 24 == 0 && !b[i].nat && unif() < 0.3)
				b[i].addr = 0x0c000000u | (uint32_t)(next() & 0x3ffffff);
			double p = per_day / 24.0;
			unsigned k = (unsigned)p + (unif() < p - floor(p));
			for (unsigned j = 0; j < k; j++) {
				ev.ts_ns = ((T_START + h * 3600ull) * 1000000000ull) +
					   next() % 3600000000000ull;
				ev.src.ip[12] = (uint8_t)(b[i].addr >> 24);
				ev.src.ip[13] = (uint8_t)(b[i].addr >> 16);
				ev.src.ip[14] = (uint8_t)(b[i].addr >> 8);
				ev.src.ip[15] = (uint8_t)b[i].addr;
				ev.src.port = (uint16_t)(1024 + next() % 60000);
				strcpy(ev.family, families[b[i].family]);
				strcpy(ev.country, countries[b[i].country]);
				ev.asn = b[i].asn;
				if (b[i].family == 0)
					snprintf(ev.bot_id, sizeof(ev.bot_id), "%032x", i);
				else
					ev.bot_id[0] = '\0';
				add(&w, &ev);
				total++;
			}
		}
		if (h % 24 == 23)
			fprintf(stderr, "\rday %u: %llu check-ins", d + 1,
				(unsigned long long)total);
	}
	flush(&w);
	double dt = now_s() - t0;
	fprintf(stderr, "\n");
	printf("generated %llu check-ins from %u bots over %u days in %.1f s (%.0f/s), %llu "
	       "rollup cell upserts\n",
	       (unsigned long long)total, n_bots, days, dt, (double)total / dt,
	       (unsigned long long)w.cells);
	stats_live_free(w.live);
	stats_seen_free(w.seen);
	store_close(w.st);
	free(w.rows);
	free(b);
}

static double time_report(const char *db, const char *name, bool raw, const char *family)
{
	struct store *st;
	if (store_open(&st, db, true) != 0)
		exit(1);
	struct report_filter f = {.family = family};
	struct report_options o = {.raw = raw};
	json_t *r = NULL;
	char err[256];
	double t0 = now_s();
	int ret = report_json_opts(st, name, &f, &o, &r, err, sizeof(err));
	double dt = now_s() - t0;
	if (ret != 0) {
		fprintf(stderr, "report %s: %s\n", name, err);
		exit(1);
	}
	json_decref(r);
	store_close(st);
	return dt;
}

/* Live aggregates per million distinct sources: one hour of check-ins
 * from 1M sources spread like the population above, in one table. */
static void memory_per_million(void)
{
	struct stats_live *l;
	struct stats_seen *s;
	/* The default table ([stats] rollup_cells = 16384), handed over when
	 * full as the pipeline does: the peak is what the pipeline holds. */
	if (stats_live_new(&l, 16384) != 0 || stats_seen_new(&s, 8u << 20) != 0)
		exit(1);
	size_t base = stats_live_memory(l), peak = 0;
	unsigned handovers = 0;
	struct sinkd_event ev;
	memset(&ev, 0, sizeof(ev));
	ev.kind = EVENT_HTTP;
	ev.src.ip[10] = ev.src.ip[11] = 0xff;
	ev.ts_ns = T_START * 1000000000ull;
	strcpy(ev.zone, "bestchristmascard.com");
	for (uint32_t i = 0; i < 1000000; i++) {
		uint32_t a = 0x0c000000u + i * 7;
		memcpy(ev.src.ip + 12, &a, 4);
		strcpy(ev.family, families[i % 5 < 3 ? 0 : 1]);
		strcpy(ev.country, countries[next() % 20]);
		ev.asn = 64512 + (uint32_t)(next() % 2000);
		if (i % 5 < 3)
			snprintf(ev.bot_id, sizeof(ev.bot_id), "%032x", i);
		else
			ev.bot_id[0] = '\0';
		int ret = stats_live_add(l, s, &ev, "");
		if (ret == SINKD_EFULL) {
			size_t m = stats_live_memory(l);
			peak = m > peak ? m : peak;
			stats_live_reset(l);
			handovers++;
			ret = stats_live_add(l, s, &ev, "");
		}
		if (ret != 0)
			exit(1);
	}
	size_t m = stats_live_memory(l), len;
	peak = m > peak ? m : peak;
	stats_seen_bits(s, &len);
	printf("live aggregates, 1,000,000 distinct sources in one hour (2,000 networks x 20 "
	       "countries x 2 families): %u hand-overs of the 16,384-cell table; peak %.1f MB "
	       "per table (%.1f MB fixed), two tables; + %.1f MB seen filter (1%% false "
	       "positives up to ~7M sources)\n",
	       handovers, (double)peak / 1e6, (double)base / 1e6, (double)len / 1e6);
	stats_live_free(l);
	stats_seen_free(s);
}

int main(int argc, char **argv)
{
	unsigned bots = 200000, days = 30;
	uint64_t checkins = 10000000;
	const char *dir = "bench-report";
	bool raw = true;
	static const struct option longopts[] = {
	    {"bots", required_argument, NULL, 'b'}, {"checkins", required_argument, NULL, 'n'},
	    {"days", required_argument, NULL, 'd'}, {"dir", required_argument, NULL, 'D'},
	    {"no-raw", no_argument, NULL, 'r'},	    {NULL, 0, NULL, 0}};
	int opt;
	while ((opt = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (opt) {
		case 'b':
			bots = (unsigned)strtoul(optarg, NULL, 10);
			break;
		case 'n':
			checkins = strtoull(optarg, NULL, 10);
			break;
		case 'd':
			days = (unsigned)strtoul(optarg, NULL, 10);
			break;
		case 'D':
			dir = optarg;
			break;
		case 'r':
			raw = false;
			break;
		default:
			fprintf(stderr, "usage: bench_report [--bots N] [--checkins N] [--days D] "
					"[--dir DIR] [--no-raw]\n");
			return 2;
		}
	}
	char db[1024];
	mkdir(dir, 0755);
	snprintf(db, sizeof(db), "%s/bench.db", dir);
	struct stat sb;
	if (stat(db, &sb) != 0)
		generate(db, bots, checkins, days);
	else
		printf("reusing %s (delete it to generate again)\n", db);
	static const char *const names[] = {"summary", "population", "countries", "asns",
					    "domains", "families",   "timeline"};
	printf("\n| report | rollups (s) | raw scan (s) | raw / rollups |\n|---|---|---|---|\n");
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		double a = time_report(db, names[i], false, NULL);
		double r = raw ? time_report(db, names[i], true, NULL) : NAN;
		printf("| %s | %.3f | %.2f | %.0fx |\n", names[i], a, r, r / a);
		fflush(stdout);
	}
	double a = time_report(db, "population", false, "kelihos");
	printf("| population --family kelihos | %.3f | | |\n\n", a);
	memory_per_million();
	return 0;
}
