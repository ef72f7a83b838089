/* `sinkd domains list|add|remove|import|export`. */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "core/config.h"
#include "core/error.h"
#include "domains/domains.h"
#include "domains/domains_internal.h"
#include "monitor/monitor.h"

struct cli_opts {
	const char *config;
	const char *file;
	const char *format;
	struct domain_meta meta;
	bool has_meta;
	char **args; /* positional arguments after the command */
	size_t nargs;
};

static void usage(FILE *out)
{
	fputs("usage: sinkd domains [-c CONFIG] [--file PATH] COMMAND [ARGS]\n"
	      "\n"
	      "commands:\n"
	      "  list [--format table|csv|json]   show the seized domains and their metadata\n"
	      "  add NAME... [--family F] [--case C] [--seized YYYY-MM-DD]\n"
	      "              [--registrar R] [--expiry YYYY-MM-DD]\n"
	      "                                   add domains (normalised; IDN allowed)\n"
	      "  remove NAME...                   remove domains\n"
	      "  import FILE                      merge another list or CSV file\n"
	      "  export [--format list|csv|json]  write the list to stdout\n"
	      "  check [--all | DOMAIN...]        delegation, answers and expiry of each domain\n"
	      "                                   (sinkd domains check --help)\n"
	      "\n"
	      "The file is [domains] file of the configuration (-c CONFIG, else the\n"
	      "embedded defaults) unless --file PATH is given. Changes are atomic and\n"
	      "all-or-nothing; a running sinkd reloads on SIGHUP. See docs/domains.md.\n",
	      out);
}

static int usage_error(const char *fmt, const char *arg)
{
	fputs("sinkd domains: ", stderr);
	fprintf(stderr, fmt, arg);
	fputs("\n(try 'sinkd domains --help')\n", stderr);
	return 2;
}

static const struct option long_opts[] = {
    {"config", required_argument, NULL, 'c'},
    {"file", required_argument, NULL, 'f'},
    {"format", required_argument, NULL, 'F'},
    {"family", required_argument, NULL, 'm'},
    {"case", required_argument, NULL, 'm'},
    {"seized", required_argument, NULL, 'm'},
    {"registrar", required_argument, NULL, 'm'},
    {"expiry", required_argument, NULL, 'm'},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

/* --family and friends: validated now, so a bad value is an input error. */
static int set_meta(struct cli_opts *o, const char *opt, const char *value)
{
	const char *field = strcmp(opt, "case") == 0 ? "case_ref" : opt, *why;
	if (domains_meta_set(&o->meta, field, value, &why) != 0) {
		fprintf(stderr, "sinkd domains: --%s '%s': %s\n", opt, value, why);
		return 1;
	}
	o->has_meta = true;
	return 0;
}

/* Returns -1 to go on, else the exit status. */
static int parse_opts(int argc, char **argv, struct cli_opts *o)
{
	int c, idx;
	memset(o, 0, sizeof(*o));
	optind = 0; /* full GNU reinitialisation: the CLI may run more than once */
	opterr = 0;
	while ((c = getopt_long(argc, argv, "c:h", long_opts, &idx)) != -1) {
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
		case 'm':
			if (set_meta(o, long_opts[idx].name, optarg) != 0)
				return 1;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			return usage_error("unknown option or missing value: '%s'",
					   argv[optind - 1]);
		}
	}
	o->args = argv + optind;
	o->nargs = (size_t)(argc - optind);
	return -1;
}

/* The domain file: --file, else [domains] file of the configuration. */
static int resolve_file(const struct cli_opts *o, char *path, size_t size)
{
	static struct sinkd_config cfg;
	if (o->file) {
		snprintf(path, size, "%s", o->file);
		return 0;
	}
	config_defaults(&cfg);
	if (o->config && config_load(&cfg, o->config, stderr) != 0)
		return 1;
	if (cfg.domains_file[0] == '\0') {
		fprintf(stderr, "sinkd domains: no [domains] file configured; use --file PATH\n");
		return 1;
	}
	snprintf(path, size, "%s", cfg.domains_file);
	return 0;
}

/* Display width of UTF-8 text: continuation bytes take no column. */
static size_t text_width(const char *s)
{
	size_t w = 0;
	for (; *s; s++)
		w += ((unsigned char)*s & 0xc0) != 0x80;
	return w;
}

static const char *cell(const struct domain_registry *reg, size_t row, size_t col)
{
	if (col == 0)
		return domains_name(reg, row);
	const char *s = domains_field_cptr(domains_meta(reg, row), &domains_fields[col - 1]);
	return s[0] ? s : "-";
}

static void print_table(const struct domain_registry *reg, FILE *out)
{
	static const char *const head[DOMAINS_NFIELDS + 1] = {"DOMAIN", "FAMILY",    "CASE",
							      "SEIZED", "REGISTRAR", "EXPIRY"};
	size_t width[DOMAINS_NFIELDS + 1];
	size_t n = domains_count(reg);
	for (size_t c = 0; c <= DOMAINS_NFIELDS; c++) {
		width[c] = strlen(head[c]);
		for (size_t r = 0; r < n; r++) {
			size_t w = text_width(cell(reg, r, c));
			width[c] = w > width[c] ? w : width[c];
		}
	}
	for (size_t r = 0; r <= n; r++) {
		for (size_t c = 0; c <= DOMAINS_NFIELDS; c++) {
			const char *s = r == 0 ? head[c] : cell(reg, r - 1, c);
			fputs(s, out);
			if (c < DOMAINS_NFIELDS)
				fprintf(out, "%*s", (int)(width[c] - text_width(s) + 2), "");
		}
		fputc('\n', out);
	}
}

/* Load the file for reading; invalid lines are reported and make the exit
 * status 1, the valid ones are still shown. */
static int load(const char *path, struct domain_registry **reg, bool *had_invalid)
{
	struct domains_load_stats st;
	*reg = domains_new();
	if (!*reg) {
		fprintf(stderr, "sinkd domains: %s\n", sinkd_strerror(SINKD_ENOMEM));
		return 1;
	}
	int rc = domains_load_file(*reg, path, stderr, &st);
	if (rc != 0 && rc != SINKD_EPARSE)
		return 1;
	*had_invalid = st.invalid > 0;
	fprintf(stderr, "%zu domain%s in %s", st.loaded, st.loaded == 1 ? "" : "s", path);
	if (st.duplicates)
		fprintf(stderr, ", %zu duplicate line%s ignored", st.duplicates,
			st.duplicates == 1 ? "" : "s");
	if (st.invalid)
		fprintf(stderr, ", %zu invalid line%s (see above)", st.invalid,
			st.invalid == 1 ? "" : "s");
	fputc('\n', stderr);
	return 0;
}

static int cmd_show(const struct cli_opts *o, const char *path, bool export)
{
	const char *format = o->format ? o->format : export ? "list" : "table";
	bool table = !export && strcmp(format, "table") == 0;
	if (table || strcmp(format, "csv") == 0 || strcmp(format, "json") == 0 ||
	    (export && strcmp(format, "list") == 0)) {
		struct domain_registry *reg;
		bool invalid = false;
		int rc = load(path, &reg, &invalid);
		if (rc == 0 && table)
			print_table(reg, stdout);
		else if (rc == 0)
			domains_export(reg, format, stdout);
		domains_free(reg);
		if (rc == 0 && fflush(stdout) != 0)
			rc = 1;
		return rc ? rc : invalid;
	}
	return usage_error("unknown format '%s'", format);
}

static int check_usage(const struct cli_opts *o, const char *cmd)
{
	bool shows = strcmp(cmd, "list") == 0 || strcmp(cmd, "export") == 0;
	if (!shows && strcmp(cmd, "add") != 0 && strcmp(cmd, "remove") != 0 &&
	    strcmp(cmd, "import") != 0)
		return usage_error("unknown command '%s'", cmd);
	if (o->format && !shows)
		return usage_error("--format applies to list and export, not %s", cmd);
	if (o->has_meta && strcmp(cmd, "add") != 0)
		return usage_error("metadata options apply to add, not %s", cmd);
	if (shows && o->nargs > 1)
		return usage_error("unexpected argument '%s'", o->args[1]);
	if (!shows && o->nargs < 2)
		return usage_error("%s needs an argument", cmd);
	if (strcmp(cmd, "import") == 0 && o->nargs > 2)
		return usage_error("import takes one FILE, got also '%s'", o->args[2]);
	return 0;
}

int domains_cli(int argc, char **argv)
{
	struct cli_opts o;
	char path[CONFIG_PATH_MAX];
	int rc = monitor_cli(argc, argv); /* `check`: src/monitor; -1 for the others */
	if (rc >= 0)
		return rc;
	rc = parse_opts(argc, argv, &o);
	if (rc >= 0)
		return rc;
	if (o.nargs == 0)
		return usage_error("%s", "missing command (list, add, remove, import, export)");
	const char *cmd = o.args[0];
	rc = check_usage(&o, cmd);
	if (rc == 0)
		rc = resolve_file(&o, path, sizeof(path));
	if (rc != 0)
		return rc;
	if (strcmp(cmd, "list") == 0 || strcmp(cmd, "export") == 0)
		return cmd_show(&o, path, strcmp(cmd, "export") == 0);
	if (strcmp(cmd, "add") == 0)
		return domains_file_add(path, o.args + 1, o.nargs - 1, o.has_meta ? &o.meta : NULL,
					stdout, stderr);
	if (strcmp(cmd, "remove") == 0)
		return domains_file_remove(path, o.args + 1, o.nargs - 1, stdout, stderr);
	return domains_file_import(path, o.args[1], stdout, stderr);
}
