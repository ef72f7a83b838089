/* Rendering a report object as an aligned table, CSV or JSON. A report
 * is a main table ("columns", "rows") and named sections: scalars, plain
 * objects (one line of key=value), and sub-tables (objects with columns
 * and rows, or arrays of objects). */
#include "report/report_internal.h"

#include "core/error.h"

#include <string.h>

#define CELL_MAX 128

static void cell_text(const json_t *v, char *buf, size_t len, bool csv)
{
	if (v == NULL || json_is_null(v))
		snprintf(buf, len, "%s", csv ? "" : "-");
	else if (json_is_string(v))
		snprintf(buf, len, "%s", json_string_value(v));
	else if (json_is_integer(v))
		snprintf(buf, len, "%lld", (long long)json_integer_value(v));
	else if (json_is_real(v))
		snprintf(buf, len, "%.3g", json_real_value(v));
	else if (json_is_boolean(v))
		snprintf(buf, len, "%s", json_is_true(v) ? "yes" : "no");
	else
		snprintf(buf, len, "%s", "...");
}

static void csv_field(FILE *out, const char *s)
{
	if (strpbrk(s, ",\"\n\r") == NULL) {
		fputs(s, out);
		return;
	}
	fputc('"', out);
	for (; *s != '\0'; s++) {
		if (*s == '"')
			fputc('"', out);
		fputc(*s, out);
	}
	fputc('"', out);
}

/* Columns of a table section: its "columns", or the keys of its first row. */
static json_t *columns_of(const json_t *rows, const json_t *cols)
{
	if (cols != NULL)
		return json_incref((json_t *)cols);
	json_t *c = json_array();
	const char *k;
	json_t *v;
	json_object_foreach(json_array_get(rows, 0), k, v) json_array_append_new(c, json_string(k));
	return c;
}

static void print_table(FILE *out, const json_t *cols, const json_t *rows, bool csv)
{
	size_t nc = json_array_size(cols), nr = json_array_size(rows);
	size_t width[64] = {0};
	char buf[CELL_MAX];
	if (nc > 64)
		nc = 64;
	for (size_t c = 0; c < nc; c++)
		width[c] = strlen(json_string_value(json_array_get(cols, c)));
	for (size_t r = 0; r < nr && !csv; r++) {
		for (size_t c = 0; c < nc; c++) {
			const char *name = json_string_value(json_array_get(cols, c));
			cell_text(json_object_get(json_array_get(rows, r), name), buf, sizeof(buf),
				  false);
			if (strlen(buf) > width[c])
				width[c] = strlen(buf);
		}
	}
	for (size_t c = 0; c < nc; c++) {
		const char *name = json_string_value(json_array_get(cols, c));
		if (csv) {
			fprintf(out, "%s", c > 0 ? "," : "");
			csv_field(out, name);
		} else {
			fprintf(out, "%s%-*s", c > 0 ? "  " : "", (int)width[c], name);
		}
	}
	fputc('\n', out);
	for (size_t r = 0; r < nr; r++) {
		for (size_t c = 0; c < nc; c++) {
			const char *name = json_string_value(json_array_get(cols, c));
			const json_t *v = json_object_get(json_array_get(rows, r), name);
			cell_text(v, buf, sizeof(buf), csv);
			if (csv) {
				fprintf(out, "%s", c > 0 ? "," : "");
				csv_field(out, buf);
			} else {
				bool num = json_is_number(v);
				fprintf(out, "%s%*s", c > 0 ? "  " : "",
					num ? (int)width[c] : -(int)width[c], buf);
			}
		}
		fputc('\n', out);
	}
}

static bool is_table(const json_t *v)
{
	return (json_is_object(v) && json_is_array(json_object_get(v, "rows"))) ||
	       (json_is_array(v) && json_is_object(json_array_get(v, 0)));
}

static void print_section(FILE *out, const char *key, const json_t *v, bool csv)
{
	char buf[CELL_MAX];
	if (is_table(v)) {
		const json_t *rows = json_is_array(v) ? v : json_object_get(v, "rows");
		json_t *cols =
		    columns_of(rows, json_is_array(v) ? NULL : json_object_get(v, "columns"));
		fprintf(out, csv ? "\n# %s\n" : "\n%s\n", key);
		print_table(out, cols, rows, csv);
		json_decref(cols);
		return;
	}
	fprintf(out, csv ? "# %s:" : "%s:", key);
	if (json_is_object(v)) {
		const char *k;
		json_t *x;
		json_object_foreach((json_t *)v, k, x)
		{
			if (json_is_array(x) && json_array_size(x) == 2) {
				char a[CELL_MAX], b[CELL_MAX];
				cell_text(json_array_get(x, 0), a, sizeof(a), false);
				cell_text(json_array_get(x, 1), b, sizeof(b), false);
				fprintf(out, " %s=%s..%s", k, a, b);
			} else {
				cell_text(x, buf, sizeof(buf), false);
				fprintf(out, " %s=%s", k, buf);
			}
		}
		fputc('\n', out);
		return;
	}
	cell_text(v, buf, sizeof(buf), false);
	fprintf(out, " %s\n", buf);
}

static void print_report(FILE *out, const json_t *r, bool csv)
{
	const char *name = json_string_value(json_object_get(r, "report"));
	const char *src = json_string_value(json_object_get(r, "source"));
	if (!csv) {
		fprintf(out, "sinkd report %s (from %s)", name != NULL ? name : "?",
			src != NULL ? src : "?");
		const char *k;
		json_t *v;
		json_object_foreach(json_object_get(r, "filter"), k, v)
		{
			char buf[CELL_MAX];
			cell_text(v, buf, sizeof(buf), false);
			fprintf(out, " %s=%s", k, buf);
		}
		fputc('\n', out);
	}
	if (json_is_array(json_object_get(r, "rows"))) {
		if (!csv)
			fputc('\n', out);
		print_table(out, json_object_get(r, "columns"), json_object_get(r, "rows"), csv);
	}
	const char *k;
	json_t *v;
	json_object_foreach((json_t *)r, k, v)
	{
		if (strcmp(k, "report") == 0 || strcmp(k, "filter") == 0 ||
		    strcmp(k, "source") == 0 || strcmp(k, "columns") == 0 || strcmp(k, "rows") == 0)
			continue;
		if (csv && !is_table(v))
			continue; /* CSV: tables only */
		print_section(out, k, v, csv);
	}
}

int report_render(FILE *out, const json_t *report, enum report_format fmt)
{
	switch (fmt) {
	case REPORT_JSON:
		if (json_dumpf(report, out, JSON_INDENT(2) | JSON_PRESERVE_ORDER) != 0)
			return SINKD_EIO;
		fputc('\n', out);
		break;
	case REPORT_HTML:
		return report_render_html(out, report);
	case REPORT_CSV:
		print_report(out, report, true);
		break;
	case REPORT_TABLE:
		print_report(out, report, false);
		break;
	}
	return ferror(out) ? SINKD_EIO : 0;
}
