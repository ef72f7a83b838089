/* `sinkd rules skeleton SHAPE_ID`: a rule (docs/rules.md) that matches a
 * discovered shape, for the analyst to name and tighten. */
#include "classify/shapes_internal.h"

#include "core/error.h"
#include "store/store.h"

#include <ctype.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

static const char skeleton_usage[] =
    "usage: sinkd rules skeleton SHAPE_ID [--store PATH | -c CONFIG]\n"
    "\n"
    "Print a rule matching a protocol shape of `sinkd report protocols` (an id or\n"
    "a unique prefix of one), in the rule-file format (docs/rules.md): name the\n"
    "family, check the conditions against the examples, then sinkd rules check.\n";

/* Headers nearly every client sends: not distinctive, listed in a comment. */
static const char *const common_headers[] = {
    "host",	     "connection",     "accept", "accept-encoding", "accept-language",
    "cache-control", "content-length", "pragma"};

static bool is_common(const char *h, size_t len)
{
	for (size_t i = 0; i < sizeof(common_headers) / sizeof(common_headers[0]); i++) {
		if (strlen(common_headers[i]) == len && strncmp(common_headers[i], h, len) == 0)
			return true;
	}
	return false;
}

/* The path template as an anchored regex inside a rule-file string. */
static void put_path_regex(FILE *f, const char *t)
{
	static const struct {
		const char *ph, *re;
	} ph[] = {{"{d}", "[0-9]+"}, {"{hex}", "[0-9a-fA-F]+"}, {"{rand}", "[A-Za-z0-9]+"}};
	size_t len = strlen(t);
	bool cut = len >= 3 && strcmp(t + len - 3, "...") == 0;
	if (cut)
		len -= 3;
	fputs("\"^", f);
	for (size_t i = 0; i < len;) {
		bool done = false;
		for (size_t k = 0; k < 3 && !done; k++) {
			size_t n = strlen(ph[k].ph);
			if (strncmp(t + i, ph[k].ph, n) == 0) {
				fputs(ph[k].re, f);
				i += n;
				done = true;
			}
		}
		if (done)
			continue;
		char c = t[i++];
		if (c == '"')
			fputs("\\\"", f); /* \" in the rule string */
		else if (c == '\\')
			fputs("\\\\\\\\", f); /* regex \\, each escaped in the string */
		else if (strchr(".^$|?*+()[]{}", c) != NULL)
			fprintf(f, "\\%c", c);
		else
			fputc(c, f);
	}
	fputs(cut ? "\"" : "$\"", f);
}

static void put_quoted(FILE *f, const char *s, size_t n)
{
	fputc('"', f);
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '"' || s[i] == '\\')
			fputc('\\', f);
		fputc(s[i], f);
	}
	fputc('"', f);
}

static void print_skeleton(FILE *f, const json_t *s)
{
	const char *id = json_string_value(json_object_get(s, "id"));
	const char *kind = json_string_value(json_object_get(s, "kind"));
	const char *method = json_string_value(json_object_get(s, "method"));
	const char *path = json_string_value(json_object_get(s, "path"));
	json_t *domains = json_object_get(s, "domains"), *examples = json_object_get(s, "examples");
	json_t *ex0 = json_array_get(examples, 0);
	size_t i;
	json_t *v;
	fprintf(f, "# Skeleton of protocol shape %s (sinkd rules skeleton %s).\n", id, id);
	fprintf(f, "# Seen %lld times from %lld sources, %s .. %s\n",
		(long long)json_integer_value(json_object_get(s, "count")),
		(long long)json_integer_value(json_object_get(s, "sources")),
		json_string_value(json_object_get(s, "first_seen")),
		json_string_value(json_object_get(s, "last_seen")));
	fprintf(f, "# Body: %s, length %s, entropy %s\n",
		json_string_value(json_object_get(s, "body")),
		json_string_value(json_object_get(s, "length")),
		json_string_value(json_object_get(s, "entropy")));
	json_array_foreach(examples, i, v)
	    fprintf(f, "# Example: %s %s %s\n", json_string_value(json_object_get(v, "src")),
		    json_string_value(json_object_get(v, "target")),
		    json_string_value(json_object_get(v, "body")));
	fprintf(f, "# Name the family, drop what is too tight, then: sinkd rules check FILE\n");
	fprintf(f, "rule shape-%.8s\n", id);
	fprintf(f, "\tfamily shape-%.8s\n\ttag checkin\n\tseverity medium\n", id);
	fprintf(f, "\tkind %s\n", kind);
	if (strcmp(kind, "http") == 0) {
		fprintf(f, "\tmethod %s\n\tpath ~ ", method);
		put_path_regex(f, path);
		fputc('\n', f);
		json_array_foreach(json_object_get(s, "params"), i, v)
		{
			const char *p = json_string_value(v);
			if (strchr(p, '{') == NULL && strstr(p, "...") == NULL)
				fprintf(f, "\tparam %s\n", p);
		}
		json_array_foreach(json_object_get(s, "headers"), i, v)
		{
			const char *h = json_string_value(v);
			if (strstr(h, "...") == NULL && !is_common(h, strlen(h)))
				fprintf(f, "\theader %s\n", h);
		}
		const char *body = json_string_value(json_object_get(s, "body"));
		const char *xb = json_string_value(json_object_get(ex0, "body"));
		const char *eq = xb != NULL ? strchr(xb, '=') : NULL;
		if (strncmp(body, "form:", 5) == 0 && eq != NULL) {
			fputs("\tbody prefix ", f);
			put_quoted(f, xb, (size_t)(eq - xb) + 1);
			fputc('\n', f);
		}
	} else if (strcmp(kind, "tls") == 0 && strncmp(path, "ja4:", 4) == 0) {
		fprintf(f, "\tja4 = ");
		put_quoted(f, path + 4, strlen(path + 4));
		fputc('\n', f);
	} else if (strcmp(kind, "raw") == 0) {
		fprintf(f, "\ttransport %s\n", strncmp(method, "RAW/udp", 7) == 0 ? "udp" : "tcp");
	}
	if (json_array_size(domains) == 1) {
		fprintf(f, "\tzone = ");
		const char *z = json_string_value(json_array_get(domains, 0));
		put_quoted(f, z, strlen(z));
		fputc('\n', f);
	} else if (json_array_size(domains) > 1) {
		fprintf(f, "\t# seen under %zu zones: a `set NAME file ...` and `zone in NAME`\n",
			json_array_size(domains));
	}
	fprintf(f, "end\n");
}

struct find {
	const char *prefix;
	json_t *found;
	unsigned n;
};

static int find_cb(const struct store_shape *s, void *ctx)
{
	struct find *f = ctx;
	if (strncmp(s->id, f->prefix, strlen(f->prefix)) != 0)
		return 0;
	if (f->n++ == 0)
		f->found = shapes_row_json(s);
	return 0;
}

int shapes_skeleton_cli(int argc, char **argv)
{
	const char *cmd = "rules skeleton";
	struct report_opts o = {0};
	int ret = shapes_cli_parse(argc, argv, cmd, skeleton_usage, &o);
	if (ret != 0)
		return ret == 1 ? 0 : ret;
	if (optind != argc - 1) {
		fputs(skeleton_usage, stderr);
		return 2;
	}
	const char *id = argv[optind];
	size_t n = strlen(id);
	for (size_t i = 0; i < n; i++) {
		if (!isxdigit((unsigned char)id[i]) || isupper((unsigned char)id[i]))
			n = 0;
	}
	if (n == 0 || n > SHAPES_ID_LEN)
		return shapes_usage_error(cmd, "expected a shape id (lowercase hex), not", id);
	struct store *st;
	if (shapes_cli_open(cmd, &o, &st) != 0)
		return 1;
	struct find f = {id, NULL, 0};
	ret = store_shapes_list(st, NULL, 0, find_cb, &f);
	store_close(st);
	if (ret != 0) {
		fprintf(stderr, "sinkd %s: %s\n", cmd, sinkd_strerror(ret));
		json_decref(f.found);
		return 1;
	}
	if (f.n != 1) {
		fprintf(stderr, "sinkd %s: %s shape matches '%s' (see sinkd report protocols)\n",
			cmd, f.n == 0 ? "no" : "more than one", id);
		json_decref(f.found);
		return 1;
	}
	print_skeleton(stdout, f.found);
	json_decref(f.found);
	return 0;
}
