/* Reading shapes: shapes_report_json (the API) and `sinkd report protocols`
 * (table, CSV, JSON). */
#include "classify/shapes_internal.h"

#include "core/config.h"
#include "core/error.h"
#include "store/store.h"

#include <ctype.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static void fmt_time(int64_t ns, char *buf, size_t cap)
{
	time_t s = (time_t)(ns / 1000000000);
	struct tm tm;
	gmtime_r(&s, &tm);
	strftime(buf, cap, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static const char *kind_name(uint8_t kind)
{
	return kind == EVENT_HTTP  ? "http"
	       : kind == EVENT_TLS ? "tls"
	       : kind == EVENT_RAW ? "raw"
				   : "?";
}

/* "a,b" -> ["a", "b"] ("" -> []). */
static json_t *list_json(const char *s)
{
	json_t *a = json_array();
	while (a != NULL && *s != '\0') {
		const char *comma = strchr(s, ',');
		size_t n = comma != NULL ? (size_t)(comma - s) : strlen(s);
		json_array_append_new(a, json_stringn(s, n));
		s += n + (comma != NULL);
	}
	return a;
}

json_t *shapes_row_json(const struct store_shape *s)
{
	char first[32], last[32];
	fmt_time(s->first_ns, first, sizeof(first));
	fmt_time(s->last_ns, last, sizeof(last));
	json_t *ex = json_loads(s->examples, 0, NULL);
	if (!json_is_array(ex)) {
		json_decref(ex);
		ex = json_array();
	}
	return json_pack("{s:s, s:s, s:s, s:s, s:o, s:o, s:s, s:s, s:s, s:I, s:I, s:s, s:s, s:o, "
			 "s:o}",
			 "id", s->id, "kind", kind_name(s->kind), "method", s->method, "path",
			 s->path, "params", list_json(s->params), "headers", list_json(s->headers),
			 "body", s->body, "length", s->length, "entropy", s->entropy, "count",
			 (json_int_t)s->count, "sources", (json_int_t)s->sources, "first_seen",
			 first, "last_seen", last, "domains", list_json(s->domains), "examples",
			 ex);
}

struct collect {
	json_t *arr;
	int err;
};

static int collect_cb(const struct store_shape *s, void *ctx)
{
	struct collect *c = ctx;
	json_t *o = shapes_row_json(s);
	if (o == NULL || json_array_append_new(c->arr, o) != 0) {
		c->err = SINKD_ENOMEM;
		return 1;
	}
	return 0;
}

static int report(struct store *st, const char *domain, size_t limit, json_t **out)
{
	struct collect c = {json_array(), 0};
	if (c.arr == NULL)
		return SINKD_ENOMEM;
	int ret = store_shapes_list(st, domain, limit, collect_cb, &c);
	if (ret == 0)
		ret = c.err;
	if (ret != 0) {
		json_decref(c.arr);
		return ret;
	}
	*out = c.arr;
	return 0;
}

int shapes_report_json(struct store *st, const char *domain, json_t **out)
{
	return report(st, domain, 0, out);
}

/* ---- printing ------------------------------------------------------------ */

static const char *jstr(const json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));
	return s != NULL ? s : "";
}

static void join(const json_t *arr, const char *sep, char *buf, size_t cap)
{
	size_t n = 0, i;
	json_t *v;
	buf[0] = '\0';
	json_array_foreach(arr, i, v)
	{
		int w = snprintf(buf + n, cap - n, "%s%s", i > 0 ? sep : "", json_string_value(v));
		if (w < 0 || (size_t)w >= cap - n)
			break;
		n += (size_t)w;
	}
}

static void print_table(FILE *f, const json_t *arr)
{
	size_t i;
	json_t *s;
	char buf[2048];
	if (json_array_size(arr) == 0)
		fprintf(f, "no shapes recorded (traffic no rule claims appears here)\n");
	json_array_foreach(arr, i, s)
	{
		fprintf(f, "%s%s  %s  %lld events  %lld sources  %s .. %s\n", i > 0 ? "\n" : "",
			jstr(s, "id"), jstr(s, "kind"),
			(long long)json_integer_value(json_object_get(s, "count")),
			(long long)json_integer_value(json_object_get(s, "sources")),
			jstr(s, "first_seen"), jstr(s, "last_seen"));
		join(json_object_get(s, "params"), "&", buf, sizeof(buf));
		fprintf(f, "  %s %s%s%s\n", jstr(s, "method"), jstr(s, "path"), buf[0] ? "?" : "",
			buf);
		fprintf(f, "  body %s, length %s, entropy %s\n", jstr(s, "body"), jstr(s, "length"),
			jstr(s, "entropy"));
		join(json_object_get(s, "headers"), ", ", buf, sizeof(buf));
		fprintf(f, "  headers: %s\n", buf[0] ? buf : "-");
		join(json_object_get(s, "domains"), ", ", buf, sizeof(buf));
		fprintf(f, "  domains: %s\n", buf[0] ? buf : "-");
		size_t j;
		json_t *x;
		json_array_foreach(json_object_get(s, "examples"), j, x)
		{
			json_t *id = json_object_get(x, "event_id");
			fprintf(f, "  example %s %s%s%lld: %s %s\n", jstr(x, "src"),
				id != NULL ? "event " : "", id != NULL ? "" : "ts_ns ",
				(long long)json_integer_value(
				    id != NULL ? id : json_object_get(x, "ts_ns")),
				jstr(x, "target"), jstr(x, "body"));
		}
	}
}

static void csv_field(FILE *f, const char *s, char sep)
{
	fputc('"', f);
	for (; *s != '\0'; s++) {
		if (*s == '"')
			fputc('"', f);
		fputc(*s, f);
	}
	fputc('"', f);
	fputc(sep, f);
}

static void print_csv(FILE *f, const json_t *arr)
{
	size_t i;
	json_t *s;
	char buf[4096], num[32];
	fprintf(f, "id,kind,method,path,params,headers,body,length,entropy,count,sources,"
		   "first_seen,last_seen,domains,examples\n");
	json_array_foreach(arr, i, s)
	{
		static const char *const text1[] = {"id", "kind", "method", "path"};
		for (size_t k = 0; k < 4; k++)
			csv_field(f, jstr(s, text1[k]), ',');
		join(json_object_get(s, "params"), ";", buf, sizeof(buf));
		csv_field(f, buf, ',');
		join(json_object_get(s, "headers"), ";", buf, sizeof(buf));
		csv_field(f, buf, ',');
		csv_field(f, jstr(s, "body"), ',');
		csv_field(f, jstr(s, "length"), ',');
		csv_field(f, jstr(s, "entropy"), ',');
		snprintf(num, sizeof(num), "%lld",
			 (long long)json_integer_value(json_object_get(s, "count")));
		csv_field(f, num, ',');
		snprintf(num, sizeof(num), "%lld",
			 (long long)json_integer_value(json_object_get(s, "sources")));
		csv_field(f, num, ',');
		csv_field(f, jstr(s, "first_seen"), ',');
		csv_field(f, jstr(s, "last_seen"), ',');
		join(json_object_get(s, "domains"), ";", buf, sizeof(buf));
		csv_field(f, buf, ',');
		char *ex = json_dumps(json_object_get(s, "examples"), JSON_COMPACT);
		csv_field(f, ex != NULL ? ex : "[]", '\n');
		free(ex);
	}
}

/* ---- CLI ----------------------------------------------------------------- */

static const char report_usage[] =
    "usage: sinkd report protocols [--domain NAME] [--limit N] [--format table|json|csv]\n"
    "                              [--store PATH | -c CONFIG]\n"
    "\n"
    "Shapes of the traffic no rule claims, most frequent first (docs/shapes.md):\n"
    "method, path template, parameter and header names, body class, length and\n"
    "entropy, with counts, distinct sources, first/last seen, zones and examples.\n"
    "--domain keeps the shapes seen under that seized zone. --limit: default 50.\n"
    "Turn one into a rule with: sinkd rules skeleton SHAPE_ID\n";

int shapes_usage_error(const char *cmd, const char *msg, const char *arg)
{
	fprintf(stderr, "sinkd %s: %s '%s' (see sinkd %s --help)\n", cmd, msg, arg, cmd);
	return 2;
}

/* Parse the options both commands share. 0, 1 (help printed) or 2. */
int shapes_cli_parse(int argc, char **argv, const char *cmd, const char *usage,
		     struct report_opts *o)
{
	static const struct option longopts[] = {
	    {"store", required_argument, NULL, 's'},  {"db", required_argument, NULL, 's'},
	    {"config", required_argument, NULL, 'c'}, {"domain", required_argument, NULL, 'd'},
	    {"format", required_argument, NULL, 'f'}, {"limit", required_argument, NULL, 'l'},
	    {"help", no_argument, NULL, 'h'},	      {NULL, 0, NULL, 0},
	};
	int opt;
	char *end;
	optind = 0;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, ":c:h", longopts, NULL)) != -1) {
		switch (opt) {
		case 's':
			o->store = optarg;
			break;
		case 'c':
			o->config = optarg;
			break;
		case 'd':
			o->domain = optarg;
			break;
		case 'f':
			if (strcmp(optarg, "table") != 0 && strcmp(optarg, "json") != 0 &&
			    strcmp(optarg, "csv") != 0)
				return shapes_usage_error(
				    cmd, "--format: expected table, json or csv, not", optarg);
			o->format = optarg;
			break;
		case 'l':
			o->limit = strtoul(optarg, &end, 10);
			if (!isdigit((unsigned char)optarg[0]) || *end != '\0' || o->limit == 0 ||
			    o->limit > 100000)
				return shapes_usage_error(cmd, "--limit: expected 1..100000, not",
							  optarg);
			break;
		case 'h':
			fputs(usage, stdout);
			return 1;
		default:
			return shapes_usage_error(
			    cmd, opt == ':' ? "missing value for" : "unknown option",
			    argv[optind - 1]);
		}
	}
	return 0;
}

/* Open the store read-only: --store, else [store] path of the config. */
int shapes_cli_open(const char *cmd, const struct report_opts *o, struct store **st)
{
	struct sinkd_config *cfg = malloc(sizeof(*cfg));
	if (cfg == NULL)
		return 1;
	config_defaults(cfg);
	if (o->store == NULL && o->config != NULL && config_load(cfg, o->config, stderr) != 0) {
		free(cfg);
		return 1;
	}
	const char *path = o->store != NULL ? o->store : cfg->store_path;
	int ret = store_open(st, path, true);
	if (ret == SINKD_ENOENT)
		fprintf(stderr,
			"sinkd %s: no store at %s (run sinkd serve, or pass --store PATH)\n", cmd,
			path);
	else if (ret != 0)
		fprintf(stderr, "sinkd %s: cannot open store %s: %s\n", cmd, path,
			sinkd_strerror(ret));
	free(cfg);
	return ret != 0 ? 1 : 0;
}

/* "WWW.Example.COM." -> "www.example.com" */
static void normalize_domain(const char *in, char *out, size_t cap)
{
	size_t n = 0;
	for (; *in != '\0' && n + 1 < cap; in++)
		out[n++] = (char)tolower((unsigned char)*in);
	while (n > 0 && out[n - 1] == '.')
		n--;
	out[n] = '\0';
}

int shapes_report_cli(int argc, char **argv)
{
	struct report_opts o = {.format = "table", .limit = 50};
	const char *cmd = "report protocols";
	int ret = shapes_cli_parse(argc, argv, cmd, report_usage, &o);
	if (ret != 0)
		return ret == 1 ? 0 : ret;
	if (optind < argc)
		return shapes_usage_error(cmd, "unexpected argument", argv[optind]);
	char domain[EVENT_QNAME_MAX];
	if (o.domain != NULL)
		normalize_domain(o.domain, domain, sizeof(domain));
	struct store *st;
	if (shapes_cli_open(cmd, &o, &st) != 0)
		return 1;
	json_t *arr = NULL;
	ret = report(st, o.domain != NULL ? domain : NULL, o.limit, &arr);
	store_close(st);
	if (ret != 0) {
		fprintf(stderr, "sinkd %s: %s\n", cmd, sinkd_strerror(ret));
		return 1;
	}
	if (strcmp(o.format, "json") == 0) {
		json_dumpf(arr, stdout, JSON_INDENT(2));
		fputc('\n', stdout);
	} else if (strcmp(o.format, "csv") == 0) {
		print_csv(stdout, arr);
	} else {
		print_table(stdout, arr);
	}
	json_decref(arr);
	if (fflush(stdout) != 0) {
		fprintf(stderr, "sinkd %s: write error on standard output\n", cmd);
		return 1;
	}
	return 0;
}
