/* `sinkd events`: list recorded events and DNS aggregates, newest first.
 * Exit status: 0 ok (also when the scan budget cut a filtered walk short:
 * said on stderr), 1 store or config error, 2 bad usage. */
#include "store/store_internal.h"

#include "core/config.h"
#include "core/error.h"
#include "domains/domains.h"
#include "ingest/ingest.h"

#include <getopt.h>

#include "evidence/evidence.h"
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct events_opts {
	struct store_filter f;
	char domain[DOMAINS_NAME_MAX];
	const char *db, *config;
	enum store_format format;
	bool help;
	bool pseudonymise;		/* --pseudonymise[=KEYFILE] */
	const char *pseudonym_key;	/* KEYFILE, else [privacy] key */
};

static const char usage_text[] =
    "usage: sinkd events [--since T] [--until T] [--domain NAME] [--ip ADDR]\n"
    "                    [--type dns|http|tls|raw|QTYPE] [--family NAME] [--limit N]\n"
    "                    [--format table|csv|json|jsonl] [--scan-max N]\n"
    "                    [--db PATH | -c CONFIG] [--pseudonymise[=KEYFILE]]\n"
    "\n"
    "Newest first. T is RFC 3339 (2026-11-25T08:00:00Z), a date (2026-11-25, UTC)\n"
    "or a duration ago (90s, 15m, 2h, 7d, 1w). --limit defaults to 100 (max 100000).\n"
    "--family is a family label (waledac, kelihos, generic, unknown, ...).\n"
    "--domain, --ip, --family and DNS types test rows newest first, at most --scan-max of\n"
    "them (default 2000000) on each side: narrow --since/--until to go further back.\n"
    "The store is --db PATH, else [store] path of CONFIG, else the default path.\n"
    "jsonl is the format sinkd ingest reads (docs/ingest.md): every field and the\n"
    "body, so an export ingests into another store unchanged.\n"
    "--pseudonymise shows every address as a keyed pseudonym (anon-...; key: KEYFILE,\n"
    "else [privacy] key of CONFIG) and leaves out headers and first bytes.\n";

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static int bad_value(const char *opt, const char *value, const char *expect)
{
	fprintf(stderr, "sinkd events: %s '%s': %s\n", opt, value, expect);
	return 2;
}

static int parse_time_opt(const char *opt, const char *value, uint64_t *out)
{
	if (store_time_parse(value, now_ns(), out) != 0)
		return bad_value(opt, value,
				 "expected an RFC 3339 time (2026-11-25T08:00:00Z), a date "
				 "(2026-11-25) or a duration ago (15m, 2h, 7d)");
	return 0;
}

static int parse_limit(const char *value, size_t *out)
{
	char *end;
	unsigned long long n = strtoull(value, &end, 10);
	if (value[0] < '0' || value[0] > '9' || *end != '\0' || n < 1 || n > STORE_LIMIT_MAX)
		return bad_value("--limit", value, "expected a number from 1 to 100000");
	*out = (size_t)n;
	return 0;
}

static int parse_scan_max(const char *value, uint64_t *out)
{
	char *end;
	unsigned long long n = strtoull(value, &end, 10);
	if (value[0] < '0' || value[0] > '9' || *end != '\0' || n < 1 || n > 1000000000000ull)
		return bad_value("--scan-max", value, "expected a number of rows from 1 to 10^12");
	*out = n;
	return 0;
}

static int parse_format(const char *value, enum store_format *out)
{
	static const char *const names[] = {"table", "csv", "json", "jsonl"};
	for (int i = 0; i < 4; i++) {
		if (strcmp(value, names[i]) == 0) {
			*out = (enum store_format)i;
			return 0;
		}
	}
	return bad_value("--format", value, "expected table, csv, json or jsonl");
}

/* Names are matched as stored (lowercase presentation form, any bytes a
 * bot sent); only an internationalised name is converted to its A-label,
 * the form seized zones are stored in. */
static int parse_domain(struct events_opts *o, const char *arg)
{
	const char *why = NULL;
	o->f.domain = arg;
	for (const unsigned char *p = (const unsigned char *)arg; *p != '\0'; p++) {
		if (*p < 0x80)
			continue;
		if (domains_normalize(arg, o->domain, sizeof(o->domain), &why) != 0)
			return bad_value("--domain", arg, why);
		o->f.domain = o->domain;
		break;
	}
	return 0;
}

static int parse_value(struct events_opts *o, int opt, const char *arg)
{
	uint8_t kind;
	int qtype;
	struct event_addr a;
	switch (opt) {
	case 's':
		return parse_time_opt("--since", arg, &o->f.since_ns);
	case 'u':
		return parse_time_opt("--until", arg, &o->f.until_ns);
	case 'l':
		return parse_limit(arg, &o->f.limit);
	case 'f':
		return parse_format(arg, &o->format);
	case 'S':
		return parse_scan_max(arg, &o->f.scan_max);
	case 'd':
		return parse_domain(o, arg);
	case 'b':
		o->db = arg;
		return 0;
	case 'c':
		o->config = arg;
		return 0;
	case 'i':
		o->f.ip = arg;
		if (event_addr_parse(&a, arg) != 0)
			return bad_value("--ip", arg, "expected an IPv4 or IPv6 address");
		return 0;
	case 't':
		o->f.type = arg;
		if (store_type_parse(arg, &kind, &qtype) != 0)
			return bad_value("--type", arg,
					 "expected dns, http, tls, raw or a DNS type (A, AAAA, MX, "
					 "TXT, ...)");
		return 0;
	case 'F':
		o->f.family = arg;
		if (arg[0] == '\0')
			return bad_value("--family", arg, "expected a family name");
		return 0;
	case 'h':
		o->help = true;
		return 0;
	case 'P':
		o->pseudonymise = true;
		o->pseudonym_key = arg;
		return 0;
	default:
		return 2;
	}
}

static int parse_args(int argc, char **argv, struct events_opts *o)
{
	static const struct option longopts[] = {
	    {"since", required_argument, NULL, 's'},
	    {"until", required_argument, NULL, 'u'},
	    {"domain", required_argument, NULL, 'd'},
	    {"ip", required_argument, NULL, 'i'},
	    {"type", required_argument, NULL, 't'},
	    {"family", required_argument, NULL, 'F'},
	    {"limit", required_argument, NULL, 'l'},
	    {"format", required_argument, NULL, 'f'},
	    {"scan-max", required_argument, NULL, 'S'},
	    {"db", required_argument, NULL, 'b'},
	    {"config", required_argument, NULL, 'c'},
	    {"help", no_argument, NULL, 'h'},
	    {"pseudonymise", optional_argument, NULL, 'P'},
	    {NULL, 0, NULL, 0},
	};
	int opt;
	optind = 0; /* full reset: callable more than once per process */
	opterr = 0;
	while ((opt = getopt_long(argc, argv, ":c:h", longopts, NULL)) != -1) {
		if (opt == '?' || opt == ':') {
			fprintf(stderr, "sinkd events: %s '%s' (see sinkd events --help)\n",
				opt == '?' ? "unknown option" : "missing value for",
				argv[optind - 1]);
			return 2;
		}
		int ret = parse_value(o, opt, optarg);
		if (ret != 0)
			return ret;
	}
	if (optind < argc) {
		fprintf(stderr, "sinkd events: unexpected argument '%s'\n", argv[optind]);
		return 2;
	}
	if (o->pseudonymise && o->format == STORE_FMT_JSONL) {
		fprintf(stderr, "sinkd events: --pseudonymise with --format jsonl: jsonl is the "
				"lossless export (bodies included); use json or csv to share\n");
		return 2;
	}
	if (o->f.until_ns != 0 && o->f.since_ns >= o->f.until_ns) {
		fprintf(stderr, "sinkd events: --since must be before --until\n");
		return 2;
	}
	return 0;
}

/* The store path: --db, else the config's [store] path. */
static int store_path(const struct events_opts *o, struct sinkd_config *cfg, const char **path)
{
	if (o->db != NULL) {
		*path = o->db;
		return 0;
	}
	config_defaults(cfg);
	if (o->config != NULL && config_load(cfg, o->config, stderr) != 0)
		return 1;
	*path = cfg->store_path;
	return 0;
}

struct print_ctx {
	FILE *out;
	enum store_format format;
	struct store *st;
	uint8_t *payload; /* jsonl: the row's sections and its body */
};

/* The ingest format: the row's sections plus its body from `bodies`. */
static int print_jsonl(struct print_ctx *pc, const struct store_row *row)
{
	struct sinkd_event ev = row->ev;
	uint8_t *body = pc->payload + EVENT_PAYLOAD_MAX;
	size_t body_len = 0;
	if (ev.payload_len > 0)
		memcpy(pc->payload, ev.payload, ev.payload_len);
	ev.payload = pc->payload;
	if (row->has_body &&
	    store_body_get(pc->st, row->body_sha256, body, EVENT_PAYLOAD_MAX, &body_len) == 0)
		event_payload_add(pc->payload, EVENT_PAYLOAD_MAX, &ev.payload_len, EVP_BODY, body,
				  body_len);
	return ingest_write(pc->out, &ev, row->aggregate ? row->count : 0) == 0 ? 0 : 1;
}

static int print_cb(const struct store_row *row, void *ctx)
{
	static uint8_t clear[EVENT_PAYLOAD_MAX];
	struct print_ctx *pc = ctx;
	if (pc->format == STORE_FMT_JSONL)
		return print_jsonl(pc, row);
	struct store_row stripped;
	if (store_format_pseudonymised()) {
		store_row_strip_clear(row, &stripped, clear, sizeof(clear));
		row = &stripped;
	}
	store_print_row(pc->out, pc->format, row);
	return ferror(pc->out) ? 1 : 0;
}

/* The budget stopped a filtered walk: the rows shown are right, older
 * ones were not searched. One line on stderr says where and what to do. */
static void report_stop(const struct store_scan *scan)
{
	char when[40];
	time_t s = (time_t)(scan->stopped_ns / 1000000000ull);
	struct tm tm;
	gmtime_r(&s, &tm);
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
	fprintf(stderr,
		"sinkd events: scanned %llu rows, stopped: nothing older than %s was searched "
		"(narrow --since, or raise --scan-max)\n",
		(unsigned long long)scan->scanned, when);
}

static int run(const struct events_opts *o, const char *path)
{
	struct store *st = NULL;
	struct store_scan scan = {0};
	struct print_ctx pc = {stdout, o->format, NULL, NULL};
	int ret = store_open(&st, path, true);
	if (ret == SINKD_ENOENT) {
		fprintf(stderr,
			"sinkd events: no store at %s (run sinkd serve, or pass --db PATH)\n",
			path);
		return 1;
	}
	if (ret != 0) {
		fprintf(stderr, "sinkd events: cannot open store %s: %s\n", path,
			sinkd_strerror(ret));
		return 1;
	}
	pc.st = st;
	if (o->format == STORE_FMT_JSONL && (pc.payload = malloc(2 * EVENT_PAYLOAD_MAX)) == NULL) {
		store_close(st);
		fprintf(stderr, "sinkd events: out of memory\n");
		return 1;
	}
	store_print_header(stdout, o->format);
	ret = store_query_scan(st, &o->f, print_cb, &pc, &scan);
	store_close(st);
	free(pc.payload);
	if (fflush(stdout) != 0 || ferror(stdout)) {
		fprintf(stderr, "sinkd events: write error on standard output\n");
		return 1;
	}
	if (ret != 0) {
		fprintf(stderr, "sinkd events: query failed on %s: %s\n", path,
			sinkd_strerror(ret));
		return 1;
	}
	if (scan.stopped)
		report_stop(&scan);
	return 0;
}

/* The key of --pseudonymise: KEYFILE, else [privacy] key of -c CONFIG. */
static int load_pseudonym_key(const struct events_opts *o, struct sinkd_config *cfg,
			      struct evidence_pseudonym *key)
{
	char err[1200];
	const char *path = o->pseudonym_key;
	if (path == NULL) {
		if (o->db != NULL) { /* store_path did not read the config */
			config_defaults(cfg);
			if (o->config != NULL && config_load(cfg, o->config, stderr) != 0)
				return 1;
		}
		path = cfg->privacy_key;
	}
	if (path[0] == '\0') {
		fprintf(stderr, "sinkd events: --pseudonymise needs a key: --pseudonymise=FILE or "
				"[privacy] key in -c CONFIG (make one with 'sinkd keygen "
				"--pseudonym-key --out FILE')\n");
		return 2;
	}
	if (evidence_pseudonym_load(key, path, err, sizeof(err)) != 0) {
		fprintf(stderr, "sinkd events: %s\n", err);
		return 1;
	}
	store_format_pseudonymise(key);
	return 0;
}

int events_cli(int argc, char **argv)
{
	struct events_opts o = {.format = STORE_FMT_TABLE};
	struct sinkd_config *cfg = NULL;
	const char *path;
	int ret = parse_args(argc, argv, &o);
	if (ret != 0)
		return ret;
	if (o.help) {
		fputs(usage_text, stdout);
		return 0;
	}
	cfg = malloc(sizeof(*cfg));
	if (cfg == NULL) {
		fprintf(stderr, "sinkd events: out of memory\n");
		return 1;
	}
	ret = store_path(&o, cfg, &path);
	static struct evidence_pseudonym key;
	if (ret == 0 && o.pseudonymise)
		ret = load_pseudonym_key(&o, cfg, &key);
	if (ret == 0)
		ret = run(&o, path);
	store_format_pseudonymise(NULL);
	free(cfg);
	return ret;
}
