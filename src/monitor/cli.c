/* `sinkd domains check`: one round from the command line, as a table, CSV
 * or JSON, with an exit status cron and monitoring can use. */
#include "monitor/monitor_internal.h"

#include "core/error.h"
#include "core/log.h"
#include "domains/domains.h"
#include "store/store.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct check_opts {
	const char *config, *file, *format, *db;
	bool all, no_record;
	char **names;
	size_t n_names;
};

static void usage(FILE *out)
{
	fputs("usage: sinkd domains [-c CONFIG] [--file PATH] check [--all | DOMAIN...]\n"
	      "                     [--format table|csv|json] [--db PATH] [--no-record]\n"
	      "\n"
	      "Check the delegation, the nameservers' answers and the expiry of every seized\n"
	      "domain (or the DOMAINs named) and print one line per domain: ok, expiring,\n"
	      "unresolvable, lame, drifted or expired. State changes are recorded in the\n"
	      "store ([store] path, or --db) and passed to [monitor] on_change, unless\n"
	      "--no-record. Exit status: 0 every domain ok, 1 any other state or an error,\n"
	      "2 usage. See docs/monitor.md.\n",
	      out);
}

static int usage_error(const char *fmt, const char *arg)
{
	fputs("sinkd domains check: ", stderr);
	fprintf(stderr, fmt, arg);
	fputs("\n(try 'sinkd domains check --help')\n", stderr);
	return 2;
}

/* Options of `sinkd domains` (and ours) that take a value. */
static bool takes_value(const char *opt)
{
	static const char *const with_value[] = {"-c",		"--config", "--file", "--format",
						 "--db",	"--family", "--case", "--seized",
						 "--registrar", "--expiry"};
	for (size_t i = 0; i < sizeof(with_value) / sizeof(with_value[0]); i++) {
		if (strcmp(opt, with_value[i]) == 0)
			return true;
	}
	return false;
}

/* Is the command word of this `domains` command line "check"? */
static bool is_check(int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (strcmp(a, "--") == 0)
			return i + 1 < argc && strcmp(argv[i + 1], "check") == 0;
		if (a[0] != '-' || a[1] == '\0')
			return strcmp(a, "check") == 0;
		if (takes_value(a))
			i++;
	}
	return false;
}

static int parse(int argc, char **argv, struct check_opts *o)
{
	static const struct option opts[] = {
	    {"config", required_argument, NULL, 'c'}, {"file", required_argument, NULL, 'f'},
	    {"format", required_argument, NULL, 'F'}, {"db", required_argument, NULL, 'd'},
	    {"all", no_argument, NULL, 'a'},	      {"no-record", no_argument, NULL, 'n'},
	    {"help", no_argument, NULL, 'h'},	      {NULL, 0, NULL, 0}};
	int c;
	memset(o, 0, sizeof(*o));
	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "c:h", opts, NULL)) != -1) {
		switch (c) {
		case 'c':
			o->config = optarg;
			break;
		case 'f':
			o->file = optarg;
			break;
		case 'F':
			o->format = optarg;
			break;
		case 'd':
			o->db = optarg;
			break;
		case 'a':
			o->all = true;
			break;
		case 'n':
			o->no_record = true;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			return usage_error("unknown option or missing value: '%s'",
					   argv[optind - 1]);
		}
	}
	/* The first positional argument is "check". */
	o->names = argv + optind + 1;
	o->n_names = (size_t)(argc - optind - 1);
	if (o->format && strcmp(o->format, "table") && strcmp(o->format, "csv") &&
	    strcmp(o->format, "json"))
		return usage_error("--format '%s': expected table, csv or json", o->format);
	if (o->all && o->n_names > 0)
		return usage_error("--all and domain names exclude each other (got '%s')",
				   o->names[0]);
	return -1;
}

/* Registry indices of the domains named, in the order given. 0, 1 or 2. */
static int select_names(const struct check_opts *o, const struct domain_registry *reg,
			const char *path, size_t *only)
{
	for (size_t i = 0; i < o->n_names; i++) {
		char norm[DOMAINS_NAME_MAX];
		const char *why;
		if (domains_normalize(o->names[i], norm, sizeof(norm), &why) != 0) {
			fprintf(stderr, "sinkd domains check: '%s': %s\n", o->names[i], why);
			return 2;
		}
		long idx = domains_match_name(reg, norm);
		if (idx < 0 || strcmp(domains_name(reg, (size_t)idx), norm) != 0) {
			fprintf(stderr, "sinkd domains check: '%s' is not in the seized list %s\n",
				norm, path);
			return 2;
		}
		only[i] = (size_t)idx;
	}
	return 0;
}

/* ---- output ----------------------------------------------------------------------- */

static void print_table(const struct mon_result *res, size_t n, FILE *out)
{
	size_t w = strlen("DOMAIN");
	for (size_t i = 0; i < n; i++)
		w = strlen(res[i].domain) > w ? strlen(res[i].domain) : w;
	fprintf(out, "%-*s  %-12s  %-12s  %-10s  %s\n", (int)w, "DOMAIN", "STATE", "PREVIOUS",
		"EXPIRY", "DETAILS");
	for (size_t i = 0; i < n; i++) {
		const struct mon_result *r = &res[i];
		fprintf(out, "%-*s  %-12s  %-12s  %-10s  %s\n", (int)w, r->domain,
			monitor_state_name(r->state), r->previous[0] ? r->previous : "-",
			r->expiry[0] ? r->expiry : "-", r->summary[0] ? r->summary : "-");
	}
}

static void csv_field(FILE *out, const char *s, bool last)
{
	if (strpbrk(s, ",\"\r\n") != NULL) {
		fputc('"', out);
		for (; *s; s++) {
			if (*s == '"')
				fputc('"', out);
			fputc(*s, out);
		}
		fputc('"', out);
	} else {
		fputs(s, out);
	}
	fputc(last ? '\n' : ',', out);
}

static void print_csv(const struct mon_result *res, size_t n, FILE *out)
{
	fputs("domain,state,previous,changed,expiry,summary,details\n", out);
	for (size_t i = 0; i < n; i++) {
		const struct mon_result *r = &res[i];
		csv_field(out, r->domain, false);
		csv_field(out, monitor_state_name(r->state), false);
		csv_field(out, r->previous, false);
		csv_field(out, r->changed ? "yes" : "no", false);
		csv_field(out, r->expiry, false);
		csv_field(out, r->summary, false);
		csv_field(out, r->details ? r->details : "{}", true);
	}
}

static void print_json(const struct mon_result *res, size_t n, FILE *out)
{
	struct mon_buf b = {0};
	mon_buf_put(&b, "[\n", 2);
	for (size_t i = 0; i < n; i++) {
		const struct mon_result *r = &res[i];
		mon_buf_put(&b, "{\"domain\":", 10);
		mon_buf_json_str(&b, r->domain);
		mon_buf_printf(&b, ",\"state\":\"%s\",\"previous\":", monitor_state_name(r->state));
		if (r->previous[0])
			mon_buf_json_str(&b, r->previous);
		else
			mon_buf_put(&b, "null", 4);
		mon_buf_printf(&b, ",\"changed\":%s,\"expiry\":", r->changed ? "true" : "false");
		if (r->expiry[0])
			mon_buf_json_str(&b, r->expiry);
		else
			mon_buf_put(&b, "null", 4);
		mon_buf_put(&b, ",\"summary\":", 11);
		mon_buf_json_str(&b, r->summary);
		mon_buf_put(&b, ",\"details\":", 11);
		mon_buf_put(&b, r->details ? r->details : "{}",
			    strlen(r->details ? r->details : "{}"));
		mon_buf_put(&b, i + 1 < n ? "},\n" : "}\n", i + 1 < n ? 3 : 2);
	}
	mon_buf_put(&b, "]\n", 2);
	if (b.p != NULL)
		fwrite(b.p, 1, b.len, out);
	mon_buf_free(&b);
}

/* ---- the command ------------------------------------------------------------------ */

static int load_settings(const struct check_opts *o, struct sinkd_config *cfg,
			 struct mon_settings *set)
{
	config_defaults(cfg);
	if (o->config != NULL && config_load(cfg, o->config, stderr) != 0)
		return 1;
	mon_settings_from_config(set, cfg);
	if (o->file != NULL)
		snprintf(set->domains_file, sizeof(set->domains_file), "%s", o->file);
	if (o->db != NULL)
		snprintf(set->store_path, sizeof(set->store_path), "%s", o->db);
	return 0;
}

static void print_results(const struct check_opts *o, const struct mon_result *res, size_t n,
			  const struct monitor_stats *stats)
{
	const char *f = o->format ? o->format : "table";
	if (strcmp(f, "csv") == 0)
		print_csv(res, n, stdout);
	else if (strcmp(f, "json") == 0)
		print_json(res, n, stdout);
	else
		print_table(res, n, stdout);
	fprintf(stderr, "%zu domain%s checked in %.2fs (%llu queries):", n, n == 1 ? "" : "s",
		stats->last_round_seconds, (unsigned long long)stats->queries);
	for (unsigned s = 0; s < MONITOR_N_STATES; s++)
		fprintf(stderr, "%s %llu %s", s ? "," : "", (unsigned long long)stats->domains[s],
			monitor_state_name((enum monitor_state)s));
	fputc('\n', stderr);
}

/* Check, record, print. 0 every domain ok, 1 otherwise or on an error. */
static int check_and_print(const struct check_opts *o, const struct mon_settings *set,
			   struct domain_registry *reg, const size_t *only, struct store *st)
{
	struct mon_result *res = NULL;
	size_t n = 0;
	struct mon_engine_counts counts = {0};
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	int ret = mon_round_check(set, reg, only, o->n_names, NULL, &res, &n, &counts);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	if (ret != 0) {
		fprintf(stderr, "sinkd domains check: %s\n", sinkd_strerror(ret));
		mon_results_free(res, n);
		return 1;
	}
	struct monitor_stats stats = {.queries = counts.queries, .query_failures = counts.failures};
	stats.last_round_seconds =
	    (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	/* A store, hook or metrics failure is logged; the results still print. */
	bool recorded = mon_round_record(set, st, "sinkd domains check", res, n, &stats) == 0;
	print_results(o, res, n, &stats);
	mon_results_free(res, n);
	return recorded && stats.domains[MONITOR_OK] == n ? 0 : 1;
}

static int run(const struct check_opts *o, const struct mon_settings *set,
	       struct domain_registry *reg)
{
	size_t *only = o->n_names ? calloc(o->n_names, sizeof(*only)) : NULL;
	int rc = o->n_names && only == NULL ? 1 : 0;
	if (rc == 0 && only != NULL)
		rc = select_names(o, reg, set->domains_file, only);
	struct store *st = NULL;
	if (rc == 0 && !o->no_record && store_open(&st, set->store_path, false) != 0) {
		fprintf(stderr,
			"sinkd domains check: cannot open the store %s (give --db PATH, or "
			"--no-record)\n",
			set->store_path);
		rc = 1;
	}
	if (rc == 0)
		rc = check_and_print(o, set, reg, only, st);
	if (fflush(stdout) != 0)
		rc = 1;
	store_close(st);
	free(only);
	return rc;
}

int monitor_cli(int argc, char **argv)
{
	if (!is_check(argc, argv))
		return -1;
	struct check_opts o;
	int rc = parse(argc, argv, &o);
	if (rc >= 0)
		return rc;
	static struct sinkd_config cfg;
	static struct mon_settings set;
	if (load_settings(&o, &cfg, &set) != 0)
		return 1;
	enum log_level level;
	if (log_level_parse(cfg.log_level, &level) == 0)
		log_set_level(level < LOG_WARN ? level : LOG_WARN);
	struct domains_load_stats ls;
	struct domain_registry *reg = domains_new();
	if (reg == NULL)
		return 1;
	int ret = domains_load_file(reg, set.domains_file, stderr, &ls);
	if (ret != 0 && ret != SINKD_EPARSE) {
		domains_free(reg);
		return 1;
	}
	rc = run(&o, &set, reg);
	domains_free(reg);
	return rc != 0 || ret != 0 ? (rc == 2 ? 2 : 1) : 0;
}
