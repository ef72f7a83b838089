/* `sinkd ingest`: recorded check-ins (JSON lines, explicit timestamps)
 * through the real pipeline into the store. */
#include "ingest/ingest.h"

#include "classify/classify.h"
#include "core/config.h"
#include "core/error.h"
#include "core/log.h"
#include "domains/domains.h"
#include "pipeline/pipeline.h"
#include "store/store.h"

#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define ERRORS_SHOWN 100 /* rejected lines named one by one; the rest counted */

static const char usage_text[] =
    "usage: sinkd ingest [--config FILE] [--store PATH] FILE|-\n"
    "\n"
    "Reads recorded check-ins, one JSON object per line with its own timestamp\n"
    "(docs/ingest.md; `sinkd events --format jsonl` and `sinkd sim --out` write\n"
    "it), and stores them through the same pipeline as live traffic:\n"
    "classification, enrichment and rollups apply. A bad line is reported as\n"
    "FILE:LINE: message and skipped; the exit status is 1 if any was.\n"
    "The store is --store PATH, else [store] path of the configuration.\n";

struct ingest_opts {
	const char *config, *store, *file;
	bool help;
};

static int parse_args(int argc, char **argv, struct ingest_opts *o)
{
	static const struct option longopts[] = {
	    {"config", required_argument, NULL, 'c'},
	    {"store", required_argument, NULL, 's'},
	    {"db", required_argument, NULL, 's'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	int opt;
	optind = 0;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, ":c:h", longopts, NULL)) != -1) {
		if (opt == 'c') {
			o->config = optarg;
		} else if (opt == 's') {
			o->store = optarg;
		} else if (opt == 'h') {
			o->help = true;
		} else {
			fprintf(stderr, "sinkd ingest: %s '%s' (see sinkd ingest --help)\n",
				opt == '?' ? "unknown option" : "missing value for",
				argv[optind - 1]);
			return 2;
		}
	}
	if (o->help)
		return 0;
	if (optind + 1 != argc) {
		fprintf(stderr, "sinkd ingest: expected one FILE (or - for standard input)\n");
		return 2;
	}
	o->file = argv[optind];
	return 0;
}

/* Everything one run holds. */
struct ingest_run {
	struct sinkd_config cfg;
	struct domain_registry *reg;
	struct store *store;
	struct pipeline *pipe;
	struct classify *classify;
	struct ingest_record rec;
	uint64_t lineno, lines, events, rejected, waits;
};

static void wait_a_moment(void)
{
	struct timespec ts = {0, 200 * 1000};
	nanosleep(&ts, NULL);
}

/* Into the ring; a full ring waits for the pipeline instead of dropping. */
static void push(struct ingest_run *r, struct vring *ring)
{
	const struct sinkd_event *ev = &r->rec.ev;
	for (uint64_t i = 0; i < r->rec.count; i++) {
		while ((ev->kind == EVENT_DNS ? pipeline_push_dns(ring, ev)
					      : pipeline_push(ring, ev, r->rec.payload)) != 0) {
			r->waits++;
			wait_a_moment();
		}
		r->events++;
	}
}

static void one_line(struct ingest_run *r, struct vring *ring, const char *name, char *line,
		     size_t len)
{
	char err[256];
	r->lineno++;
	while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
		line[--len] = '\0';
	if (len == 0)
		return; /* blank lines separate nothing and are allowed */
	r->lines++;
	int ret = len > INGEST_LINE_MAX
		      ? (snprintf(err, sizeof(err), "line longer than %u bytes",
				  (unsigned)INGEST_LINE_MAX),
			 SINKD_EINVAL)
		      : ingest_parse(line, len, r->reg, &r->rec, err, sizeof(err));
	if (ret == 0) {
		push(r, ring);
		return;
	}
	if (r->rejected++ < ERRORS_SHOWN)
		fprintf(stderr, "%s:%llu: %s\n", name, (unsigned long long)r->lineno, err);
}

static int read_all(struct ingest_run *r, FILE *in, const char *name)
{
	struct vring *ring = pipeline_ring(r->pipe, 0);
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	while ((n = getline(&line, &cap, in)) >= 0)
		one_line(r, ring, name, line, (size_t)n);
	free(line);
	if (ferror(in)) {
		fprintf(stderr, "sinkd ingest: read error on %s\n", name);
		return SINKD_EIO;
	}
	return 0;
}

static int load_domains(struct ingest_run *r)
{
	struct domains_load_stats st = {0};
	r->reg = domains_new();
	if (r->reg == NULL)
		return SINKD_ENOMEM;
	int ret = domains_load_file(r->reg, r->cfg.domains_file, stderr, &st);
	if (ret != 0)
		fprintf(stderr, "sinkd ingest: %s: %zu invalid line(s); fix the domain list\n",
			r->cfg.domains_file, st.invalid);
	return ret;
}

static int open_pipeline(struct ingest_run *r, const char *path)
{
	char err[512];
	int ret = classify_new(&r->classify, &r->cfg, err, sizeof(err));
	if (ret != 0) {
		fprintf(stderr, "sinkd ingest: rules: %s\n", err);
		return ret;
	}
	ret = store_open(&r->store, path, false);
	if (ret != 0) {
		fprintf(stderr, "sinkd ingest: cannot open store %s: %s\n", path,
			sinkd_strerror(ret));
		return ret;
	}
	/* The options sinkd serve uses, with one producer: this reader. */
	struct pipeline_options po = {
	    .n_rings = 1,
	    .ring_size = r->cfg.queue_size,
	    .batch_max = r->cfg.store_batch_max,
	    .commit_interval_ms = r->cfg.store_commit_interval_ms,
	    .every_query = r->cfg.dns_log_every_query,
	    .dns_aggregate_max = r->cfg.dns_aggregate_max,
	    .dns_flush_max = r->cfg.dns_flush_max,
	    .classify = r->classify,
	    .cfg = &r->cfg, /* enrichment and rollups, as serve */
	};
	ret = pipeline_new(&r->pipe, r->store, &po);
	if (ret == 0)
		ret = pipeline_start(r->pipe);
	if (ret != 0)
		fprintf(stderr, "sinkd ingest: cannot start the pipeline: %s\n",
			sinkd_strerror(ret));
	return ret;
}

/* Everything after the input is open: 0, 1 (a line rejected, a batch
 * lost, or the store, domain list or pipeline unusable). */
static int run_stream(struct ingest_run *r, const char *store_path, FILE *in, const char *name)
{
	struct pipeline_stats ps = {0};
	int ret = load_domains(r);
	if (ret == 0)
		ret = open_pipeline(r, store_path);
	if (ret == 0)
		ret = read_all(r, in, name);
	if (r->pipe != NULL) {
		pipeline_stop(r->pipe);
		pipeline_stats(r->pipe, &ps);
	}
	if (ret != 0)
		return 1;
	if (r->rejected > ERRORS_SHOWN)
		fprintf(stderr, "%s: %llu more rejected lines not shown\n", name,
			(unsigned long long)(r->rejected - ERRORS_SHOWN));
	fprintf(stderr,
		"sinkd ingest: %s: %llu lines, %llu rejected; %llu events stored, %llu lost "
		"to store errors\n",
		name, (unsigned long long)r->lines, (unsigned long long)r->rejected,
		(unsigned long long)ps.events_stored, (unsigned long long)ps.events_store_failed);
	return r->rejected > 0 || ps.events_store_failed > 0 ? 1 : 0;
}

int ingest_stream(const struct sinkd_config *cfg, const char *store_path, FILE *in,
		  const char *name)
{
	struct ingest_run *r = calloc(1, sizeof(*r));
	if (r == NULL) {
		fprintf(stderr, "sinkd ingest: out of memory\n");
		return 1;
	}
	r->cfg = *cfg;
	int ret = run_stream(r, store_path != NULL ? store_path : cfg->store_path, in, name);
	pipeline_free(r->pipe);
	classify_free(r->classify); /* after the pipeline: it used it */
	store_close(r->store);
	domains_free(r->reg);
	free(r);
	return ret;
}

int ingest_cli(int argc, char **argv)
{
	struct ingest_opts o = {0};
	int ret = parse_args(argc, argv, &o);
	if (ret != 0)
		return ret;
	if (o.help) {
		fputs(usage_text, stdout);
		return 0;
	}
	struct sinkd_config *cfg = malloc(sizeof(*cfg));
	if (cfg == NULL) {
		fprintf(stderr, "sinkd ingest: out of memory\n");
		return 1;
	}
	config_defaults(cfg);
	if (o.config != NULL && config_load(cfg, o.config, stderr) != 0) {
		free(cfg);
		return 1;
	}
	bool is_stdin = strcmp(o.file, "-") == 0;
	FILE *in = is_stdin ? stdin : fopen(o.file, "r");
	if (in == NULL) {
		fprintf(stderr, "sinkd ingest: cannot open %s: %s\n", o.file, strerror(errno));
		free(cfg);
		return 1;
	}
	ret = ingest_stream(cfg, o.store, in, is_stdin ? "<stdin>" : o.file);
	if (!is_stdin)
		fclose(in);
	free(cfg);
	return ret;
}
