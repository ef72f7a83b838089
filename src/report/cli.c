/* `sinkd report ...`: options, the read-only store, output. */
#include "report/report_internal.h"

#include "core/config.h"
#include "core/error.h"
#include "store/store.h"

#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static void usage(FILE *out)
{
	fprintf(out,
		"usage: sinkd report NAME [options]\n"
		"  NAME: summary population countries asns domains families timeline\n"
		"        notify (--asn N | --cidr LIST) [--out DIR]\n"
		"        evidence --domain D [--format json|html] [--out FILE]\n"
		"  --since T --until T     time range (RFC 3339, date, or 7d/24h ago)\n"
		"  --family F --domain D --country CC --asn N   filters\n"
		"  --top N                 rows of top-N tables (default 10)\n"
		"  --bucket hour|day       timeline buckets (default hour)\n"
		"  --threshold N           population: project the date below N (default 1%%)\n"
		"  --format table|csv|json|html   (default table)\n"
		"  --out FILE              write there instead of stdout\n"
		"  --raw                   recompute from raw events instead of rollups\n"
		"  --source clickhouse://HOST[:PORT][/DB]   the cluster's events instead of\n"
		"                          the store (--store then only names ASNs)\n"
		"  --store PATH | -c FILE  the store (default: the config's [store] path)\n");
}

int report_open_store(const char *store_path, const char *config, struct store **st)
{
	static struct sinkd_config cfg;
	config_defaults(&cfg);
	if (config != NULL && config_load(&cfg, config, stderr) != 0)
		return 1;
	const char *path = store_path != NULL ? store_path : cfg.store_path;
	int ret = store_open(st, path, true);
	if (ret == SINKD_ENOENT) {
		fprintf(stderr,
			"sinkd report: no store at %s (run sinkd serve first, or pass "
			"--store PATH)\n",
			path);
		return 1;
	}
	if (ret != 0) {
		fprintf(stderr, "sinkd report: cannot open store %s\n", path);
		return 1;
	}
	return 0;
}

static int parse_format(const char *s, enum report_format *out)
{
	static const char *const names[] = {"table", "csv", "json", "html"};
	for (int i = 0; i < 4; i++) {
		if (strcmp(s, names[i]) == 0) {
			*out = (enum report_format)i;
			return 0;
		}
	}
	return SINKD_EINVAL;
}

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static int bad(const char *what, const char *value, const char *expected)
{
	fprintf(stderr, "sinkd report: %s '%s': expected %s\n", what, value, expected);
	return 2;
}

int report_cli(int argc, char **argv)
{
	if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
		usage(argc < 2 ? stderr : stdout);
		return argc < 2 ? 2 : 0;
	}
	const char *name = argv[1];
	if (strcmp(name, "notify") == 0)
		return report_notify_cli(argc - 1, argv + 1);
	if (strcmp(name, "evidence") == 0)
		return report_evidence_cli(argc - 1, argv + 1);
	static const struct option longopts[] = {{"since", required_argument, NULL, 's'},
						 {"until", required_argument, NULL, 'u'},
						 {"family", required_argument, NULL, 'f'},
						 {"domain", required_argument, NULL, 'd'},
						 {"country", required_argument, NULL, 'C'},
						 {"asn", required_argument, NULL, 'a'},
						 {"top", required_argument, NULL, 't'},
						 {"bucket", required_argument, NULL, 'b'},
						 {"threshold", required_argument, NULL, 'T'},
						 {"format", required_argument, NULL, 'F'},
						 {"out", required_argument, NULL, 'o'},
						 {"raw", no_argument, NULL, 'r'},
						 {"source", required_argument, NULL, 'X'},
						 {"store", required_argument, NULL, 'S'},
						 {"config", required_argument, NULL, 'c'},
						 {"help", no_argument, NULL, 'h'},
						 {NULL, 0, NULL, 0}};
	struct report_filter f = {0};
	struct report_options o = {.progress = isatty(STDERR_FILENO)};
	enum report_format fmt = REPORT_TABLE;
	const char *store_path = NULL, *config = NULL, *outpath = NULL;
	char *end;
	int opt;
	argc--;
	argv++;
	optind = 1;
	while ((opt = getopt_long(argc, argv, ":c:h", longopts, NULL)) != -1) {
		switch (opt) {
		case 's':
		case 'u':
			if (store_time_parse(optarg, now_ns(),
					     opt == 's' ? &f.since_ns : &f.until_ns) != 0)
				return bad(opt == 's' ? "--since" : "--until", optarg,
					   "RFC 3339, a date or a duration like 7d");
			break;
		case 'f':
			f.family = optarg;
			break;
		case 'd':
			f.domain = optarg;
			break;
		case 'C':
			f.country = optarg;
			break;
		case 'a':
			errno = 0;
			f.asn = (uint32_t)strtoul(optarg, &end, 10);
			if (*optarg == '\0' || *end != '\0' || errno != 0 || f.asn == 0)
				return bad("--asn", optarg, "an AS number 1..4294967295");
			break;
		case 't':
			f.top = (unsigned)strtoul(optarg, &end, 10);
			if (*optarg == '\0' || *end != '\0' || f.top == 0 || f.top > 100000)
				return bad("--top", optarg, "1..100000");
			break;
		case 'b':
			f.bucket = optarg;
			break;
		case 'T':
			o.threshold = strtod(optarg, &end);
			if (*optarg == '\0' || *end != '\0' || !(o.threshold > 0))
				return bad("--threshold", optarg, "a positive number");
			break;
		case 'F':
			if (parse_format(optarg, &fmt) != 0)
				return bad("--format", optarg, "table, csv, json or html");
			break;
		case 'o':
			outpath = optarg;
			break;
		case 'r':
			o.raw = true;
			break;
		case 'X':
			if (strncmp(optarg, "clickhouse://", 13) != 0)
				return bad("--source", optarg, "clickhouse://HOST[:PORT][/DB]");
			o.source = optarg;
			break;
		case 'S':
			store_path = optarg;
			break;
		case 'c':
			config = optarg;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			fprintf(stderr, "sinkd report: bad option '%s' (see sinkd report --help)\n",
				argv[optind - 1]);
			return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "sinkd report: unexpected argument '%s'\n", argv[optind]);
		return 2;
	}
	struct store *st = NULL;
	static struct sinkd_config cfg;
	if (o.source != NULL) {
		/* The cluster's events; a local store only for ASN names. */
		config_defaults(&cfg);
		if (config != NULL && config_load(&cfg, config, stderr) != 0)
			return 1;
		o.cfg = &cfg;
		if (store_path != NULL && report_open_store(store_path, NULL, &st) != 0)
			return 1;
	} else if (report_open_store(store_path, config, &st) != 0) {
		return 1;
	}
	json_t *r = NULL;
	char err[256] = "";
	int ret = report_json_opts(st, name, &f, &o, &r, err, sizeof(err));
	store_close(st);
	if (ret != 0) {
		fprintf(stderr, "sinkd report %s: %s\n", name, err);
		return ret == SINKD_EINVAL ? 2 : 1;
	}
	FILE *out = stdout;
	if (outpath != NULL && (out = fopen(outpath, "w")) == NULL) {
		fprintf(stderr, "sinkd report: cannot write %s: %s\n", outpath, strerror(errno));
		json_decref(r);
		return 1;
	}
	ret = report_render(out, r, fmt);
	json_decref(r);
	if (out != stdout && fclose(out) != 0)
		ret = SINKD_EIO;
	if (ret != 0) {
		fprintf(stderr, "sinkd report: write error\n");
		return 1;
	}
	if (outpath != NULL)
		fprintf(stderr, "sinkd report %s: wrote %s\n", name, outpath);
	return 0;
}
