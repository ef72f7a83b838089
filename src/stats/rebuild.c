/* `sinkd rollup rebuild`: recompute every rollup from the raw events, in
 * time order, exactly as the pipeline counts them live (same cells, same
 * sketches, a fresh "seen before" filter). DNS minute aggregates carry no
 * country or ASN: they are enriched again with the configured databases;
 * DNS queries kept only as aggregates carry no family label either. */
#include "stats/stats.h"

#include "core/config.h"
#include "core/error.h"
#include "core/log.h"
#include "enrich/enrich.h"
#include "store/store.h"

#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

struct rebuild {
	struct store *wr;
	struct enrich *enrich;
	struct stats_live *live;
	struct stats_seen *seen;
	uint64_t events, rows, cells, batches;
	bool progress;
	time_t last_progress;
};

struct flush_ctx {
	struct rebuild *r;
	bool final;
	size_t n;
};

static int write_cells(struct store *st, void *ctx)
{
	struct flush_ctx *fc = ctx;
	const struct stats_cell *cells;
	if (stats_live_cells(fc->r->live, &cells, &fc->n) != 0)
		return SINKD_ENOMEM;
	if (store_rollups_put(st, cells, fc->n) != 0)
		return SINKD_ESTORE;
	if (fc->final) {
		size_t len;
		const uint8_t *bits = stats_seen_bits(fc->r->seen, &len);
		return store_seen_put(st, bits, len);
	}
	return 0;
}

/* One transaction with the cells counted so far. */
static int flush(struct rebuild *r, bool final)
{
	struct flush_ctx fc = {.r = r, .final = final};
	struct store_batch_hook hook = {write_cells, &fc};
	int ret = store_write_batch(r->wr, NULL, 0, NULL, 0, &hook, 1);
	r->cells += fc.n;
	r->batches++;
	stats_live_reset(r->live);
	return ret;
}

static int on_event(const struct sinkd_event *cev, uint64_t count, bool aggregate, void *ctx)
{
	struct rebuild *r = ctx;
	struct sinkd_event ev = *cev;
	struct enrich_result er = {.org = ""};
	if (aggregate) {
		enrich_event(r->enrich, &ev);
	}
	if (ev.asn != 0) {
		enrich_lookup(r->enrich, ev.src.ip, &er);
		if (er.asn != ev.asn)
			er.org = ""; /* the database changed since: org unknown */
	}
	int ret = stats_live_add_n(r->live, r->seen, &ev, er.org, count);
	if (ret == SINKD_EFULL) {
		if ((ret = flush(r, false)) != 0)
			return ret;
		ret = stats_live_add_n(r->live, r->seen, &ev, er.org, count);
	}
	if (ret != 0)
		return ret;
	r->events += count;
	r->rows++;
	if (r->progress && (r->rows & 0xffff) == 0 && time(NULL) != r->last_progress) {
		r->last_progress = time(NULL);
		fprintf(stderr, "\rrollup rebuild: %llu events, %llu cells written",
			(unsigned long long)r->events, (unsigned long long)r->cells);
	}
	return 0;
}

static void usage(FILE *out)
{
	fprintf(out, "usage: sinkd rollup rebuild [--store PATH] [-c FILE]\n"
		     "  Delete every hourly rollup and recompute them from the raw events.\n"
		     "  Stop 'sinkd serve' on the store first: events it writes meanwhile\n"
		     "  would be counted twice or not at all.\n");
}

static int rebuild_run(const struct sinkd_config *cfg, const char *path)
{
	struct rebuild r = {.progress = isatty(STDERR_FILENO)};
	struct store *rd = NULL;
	int ret = store_open(&r.wr, path, false);
	if (ret != 0) {
		fprintf(stderr, "sinkd rollup rebuild: cannot open store %s\n", path);
		return 1;
	}
	if ((ret = store_open(&rd, path, true)) != 0 || (ret = enrich_open(&r.enrich, cfg)) != 0 ||
	    (ret = stats_live_new(&r.live, cfg->stats_rollup_cells * 4)) != 0 ||
	    (ret = stats_seen_new(&r.seen, (size_t)cfg->stats_seen_filter_mb << 20)) != 0)
		goto done;
	if ((ret = store_rollup_clear(r.wr, 0, 0)) != 0)
		goto done;
	ret = store_raw_scan(rd, 0, 0, on_event, &r);
	if (ret == 0)
		ret = flush(&r, true);
done:
	if (r.progress)
		fprintf(stderr, "\r");
	if (ret == 0)
		printf("rollup rebuild: %llu events (%llu rows) -> %llu cells in %llu "
		       "transactions\n",
		       (unsigned long long)r.events, (unsigned long long)r.rows,
		       (unsigned long long)r.cells, (unsigned long long)r.batches);
	else
		fprintf(stderr,
			"sinkd rollup rebuild: failed: %s (rollups are incomplete: run it "
			"again)\n",
			sinkd_strerror(ret));
	stats_seen_free(r.seen);
	stats_live_free(r.live);
	enrich_close(r.enrich);
	store_close(rd);
	store_close(r.wr);
	return ret == 0 ? 0 : 1;
}

int stats_rollup_cli(int argc, char **argv)
{
	static const struct option longopts[] = {{"store", required_argument, NULL, 's'},
						 {"config", required_argument, NULL, 'c'},
						 {"help", no_argument, NULL, 'h'},
						 {NULL, 0, NULL, 0}};
	const char *store = NULL, *config = NULL;
	if (argc < 2 || strcmp(argv[1], "rebuild") != 0) {
		if (argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
			usage(stdout);
			return 0;
		}
		fprintf(stderr, "sinkd rollup: expected 'rebuild'\n");
		usage(stderr);
		return 2;
	}
	argc--;
	argv++;
	int opt;
	optind = 1;
	while ((opt = getopt_long(argc, argv, ":c:h", longopts, NULL)) != -1) {
		switch (opt) {
		case 's':
			store = optarg;
			break;
		case 'c':
			config = optarg;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			fprintf(stderr, "sinkd rollup rebuild: bad option '%s'\n",
				argv[optind - 1]);
			usage(stderr);
			return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "sinkd rollup rebuild: unexpected argument '%s'\n", argv[optind]);
		return 2;
	}
	static struct sinkd_config cfg;
	config_defaults(&cfg);
	if (config != NULL && config_load(&cfg, config, stderr) != 0)
		return 1;
	return rebuild_run(&cfg, store != NULL ? store : cfg.store_path);
}
