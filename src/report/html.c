/* The HTML report: one self-contained page (inline CSS and SVG, no script,
 * no network access) with the charts a report has data for — population
 * over time with its interval, the cleanup curve against the fit, top-N
 * bars — and every table. */
#include "report/report_internal.h"

#include "core/error.h"

#include <math.h>
#include <string.h>

#define W 760
#define H 260
#define PAD_L 70
#define PAD_B 40
#define PAD_T 30

static void esc(FILE *out, const char *s)
{
	for (; s != NULL && *s != '\0'; s++) {
		switch (*s) {
		case '<':
			fputs("&lt;", out);
			break;
		case '>':
			fputs("&gt;", out);
			break;
		case '&':
			fputs("&amp;", out);
			break;
		case '"':
			fputs("&quot;", out);
			break;
		default:
			fputc(*s, out);
		}
	}
}

static double num(const json_t *v) { return json_is_number(v) ? json_number_value(v) : NAN; }

struct series {
	const char *name, *color;
	const char *col; /* column of the rows */
};

/* A line chart of columns of rows against the x column; lo/hi columns draw
 * a band under the first series when set. */
static void line_chart(FILE *out, const char *title, const json_t *rows, const char *xcol,
		       const struct series *s, size_t ns, const char *lo, const char *hi)
{
	size_t n = json_array_size(rows);
	if (n == 0)
		return;
	double ymax = 0;
	for (size_t i = 0; i < n; i++) {
		const json_t *r = json_array_get(rows, i);
		for (size_t k = 0; k < ns; k++)
			ymax = fmax(ymax, num(json_object_get(r, s[k].col)));
		if (hi != NULL)
			ymax = fmax(ymax, num(json_object_get(r, hi)));
	}
	if (!(ymax > 0))
		ymax = 1;
	double pw = W - PAD_L - 20, ph = H - PAD_B - PAD_T;
#define XP(i) (PAD_L + (n > 1 ? pw * (double)(i) / (double)(n - 1) : pw / 2))
#define YP(v) (PAD_T + ph - ph * (v) / ymax)
	fprintf(out, "<h3>");
	esc(out, title);
	fprintf(out,
		"</h3>\n<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" "
		"role=\"img\">\n",
		W, H);
	fprintf(out, "<line x1=\"%d\" y1=\"%g\" x2=\"%d\" y2=\"%g\" stroke=\"#888\"/>\n", PAD_L,
		PAD_T + ph, W - 20, PAD_T + ph);
	for (int t = 0; t <= 4; t++) {
		double v = ymax * t / 4;
		fprintf(out,
			"<text x=\"%d\" y=\"%g\" font-size=\"11\" text-anchor=\"end\">%.0f</text>"
			"<line x1=\"%d\" y1=\"%g\" x2=\"%d\" y2=\"%g\" stroke=\"#eee\"/>\n",
			PAD_L - 6, YP(v) + 4, v, PAD_L, YP(v), W - 20, YP(v));
	}
	size_t step = n > 8 ? n / 8 : 1;
	for (size_t i = 0; i < n; i += step) {
		const char *x = json_string_value(json_object_get(json_array_get(rows, i), xcol));
		fprintf(out, "<text x=\"%g\" y=\"%d\" font-size=\"10\" text-anchor=\"middle\">",
			XP(i), H - PAD_B + 16);
		esc(out, x != NULL ? x : "");
		fprintf(out, "</text>\n");
	}
	if (lo != NULL && hi != NULL) {
		fprintf(out, "<polygon fill=\"%s\" fill-opacity=\"0.18\" points=\"", s[0].color);
		for (size_t i = 0; i < n; i++)
			fprintf(out, "%g,%g ", XP(i),
				YP(num(json_object_get(json_array_get(rows, i), hi))));
		for (size_t i = n; i > 0; i--)
			fprintf(out, "%g,%g ", XP(i - 1),
				YP(num(json_object_get(json_array_get(rows, i - 1), lo))));
		fprintf(out, "\"/>\n");
	}
	for (size_t k = 0; k < ns; k++) {
		fprintf(out, "<polyline fill=\"none\" stroke=\"%s\" stroke-width=\"2\" points=\"",
			s[k].color);
		for (size_t i = 0; i < n; i++) {
			double v = num(json_object_get(json_array_get(rows, i), s[k].col));
			if (isfinite(v))
				fprintf(out, "%g,%g ", XP(i), YP(v));
		}
		fprintf(out, "\"/>\n<text x=\"%g\" y=\"%d\" font-size=\"12\" fill=\"%s\">",
			PAD_L + 10 + 150.0 * (double)k, PAD_T - 10, s[k].color);
		esc(out, s[k].name);
		fprintf(out, "</text>\n");
	}
	fprintf(out, "</svg>\n");
#undef XP
#undef YP
}

/* The cleanup curve: daily live estimates (full days) and the fitted
 * exponential n0 * exp(-lambda t). */
static void cleanup_chart(FILE *out, const json_t *rows, const json_t *fit)
{
	double n0 = num(json_object_get(fit, "n0")),
	       lambda = num(json_object_get(fit, "lambda_per_day"));
	if (!isfinite(n0) || !isfinite(lambda))
		return;
	json_t *pts = json_array();
	size_t i = 0;
	for (i = 0; i < json_array_size(rows); i++) {
		const json_t *r = json_array_get(rows, i);
		if (json_is_true(json_object_get(r, "partial")))
			continue;
		double t = (double)json_array_size(pts);
		json_array_append_new(
		    pts, json_pack("{s:O,s:O,s:f}", "day", json_object_get(r, "day"), "live",
				   json_object_get(r, "live"), "fit", n0 * exp(-lambda * t)));
	}
	char title[200];
	snprintf(title, sizeof(title),
		 "Cleanup: live population and exponential fit (half-life %.1f days)",
		 num(json_object_get(fit, "half_life_days")));
	struct series s[] = {{"live estimate", "#c0392b", "live"}, {"fit", "#2c3e50", "fit"}};
	line_chart(out, title, pts, "day", s, 2, NULL, NULL);
	json_decref(pts);
}

/* Horizontal bars of the sources column of a table. */
static void bar_chart(FILE *out, const char *title, const json_t *rows, const char *keycol)
{
	size_t n = json_array_size(rows);
	if (n == 0)
		return;
	double vmax = 0;
	for (size_t i = 0; i < n; i++)
		vmax = fmax(vmax, num(json_object_get(json_array_get(rows, i), "sources")));
	if (!(vmax > 0))
		return;
	int bh = 20, h = (int)n * (bh + 4) + 30;
	fprintf(out, "<h3>");
	esc(out, title);
	fprintf(out,
		"</h3>\n<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\">\n", W,
		h);
	for (size_t i = 0; i < n; i++) {
		const json_t *r = json_array_get(rows, i);
		char key[128];
		const json_t *k = json_object_get(r, keycol);
		if (json_is_integer(k))
			snprintf(key, sizeof(key), "AS%lld", (long long)json_integer_value(k));
		else
			snprintf(key, sizeof(key), "%s",
				 json_is_string(k) ? json_string_value(k) : "?");
		double v = num(json_object_get(r, "sources"));
		double w = (W - 260) * v / vmax;
		int y = 10 + (int)i * (bh + 4);
		fprintf(out, "<text x=\"150\" y=\"%d\" font-size=\"12\" text-anchor=\"end\">",
			y + 14);
		esc(out, key);
		fprintf(out,
			"</text><rect x=\"156\" y=\"%d\" width=\"%g\" height=\"%d\" "
			"fill=\"#2980b9\"/><text x=\"%g\" y=\"%d\" font-size=\"11\">%.0f</text>\n",
			y, w, bh, 160 + w, y + 14, v);
	}
	fprintf(out, "</svg>\n");
}

static void html_table(FILE *out, const char *title, const json_t *cols, const json_t *rows)
{
	if (title != NULL) {
		fprintf(out, "<h3>");
		esc(out, title);
		fprintf(out, "</h3>\n");
	}
	fprintf(out, "<table>\n<tr>");
	for (size_t c = 0; c < json_array_size(cols); c++) {
		fprintf(out, "<th>");
		esc(out, json_string_value(json_array_get(cols, c)));
		fprintf(out, "</th>");
	}
	fprintf(out, "</tr>\n");
	for (size_t r = 0; r < json_array_size(rows); r++) {
		fprintf(out, "<tr>");
		for (size_t c = 0; c < json_array_size(cols); c++) {
			const json_t *v = json_object_get(
			    json_array_get(rows, r), json_string_value(json_array_get(cols, c)));
			char buf[160];
			if (v == NULL || json_is_null(v))
				snprintf(buf, sizeof(buf), "-");
			else if (json_is_string(v))
				snprintf(buf, sizeof(buf), "%s", json_string_value(v));
			else if (json_is_integer(v))
				snprintf(buf, sizeof(buf), "%lld",
					 (long long)json_integer_value(v));
			else if (json_is_real(v))
				snprintf(buf, sizeof(buf), "%.3g", json_real_value(v));
			else
				snprintf(buf, sizeof(buf), "%s", json_is_true(v) ? "yes" : "no");
			fprintf(out, json_is_number(v) ? "<td class=n>" : "<td>");
			esc(out, buf);
			fprintf(out, "</td>");
		}
		fprintf(out, "</tr>\n");
	}
	fprintf(out, "</table>\n");
}

static void kv_block(FILE *out, const char *title, const json_t *o)
{
	fprintf(out, "<h3>");
	esc(out, title);
	fprintf(out, "</h3>\n<table class=kv>\n");
	const char *k;
	json_t *v;
	json_object_foreach((json_t *)o, k, v)
	{
		char buf[160];
		if (json_is_string(v))
			snprintf(buf, sizeof(buf), "%s", json_string_value(v));
		else if (json_is_integer(v))
			snprintf(buf, sizeof(buf), "%lld", (long long)json_integer_value(v));
		else if (json_is_real(v))
			snprintf(buf, sizeof(buf), "%.3g", json_real_value(v));
		else if (json_is_boolean(v))
			snprintf(buf, sizeof(buf), "%s", json_is_true(v) ? "yes" : "no");
		else if (json_is_array(v) && json_array_size(v) == 2)
			snprintf(buf, sizeof(buf), "%s .. %s",
				 json_string_value(json_array_get(v, 0)) ?: "?",
				 json_string_value(json_array_get(v, 1)) ?: "?");
		else
			snprintf(buf, sizeof(buf), "-");
		fprintf(out, "<tr><th>");
		esc(out, k);
		fprintf(out, "</th><td>");
		esc(out, buf);
		fprintf(out, "</td></tr>\n");
	}
	fprintf(out, "</table>\n");
}

static const char *key_column(const json_t *cols)
{
	const char *k = json_string_value(json_array_get(cols, 0));
	return k != NULL ? k : "key";
}

static void charts(FILE *out, const char *name, const json_t *r)
{
	const json_t *rows = json_object_get(r, "rows");
	const json_t *daily = json_object_get(json_object_get(r, "daily"), "rows");
	const json_t *pop = daily != NULL ? daily : (strcmp(name, "population") == 0 ? rows : NULL);
	if (pop != NULL) {
		struct series s[] = {{"live population (95% interval)", "#c0392b", "live"},
				     {"bot ids", "#27ae60", "bots"},
				     {"source addresses", "#7f8c8d", "sources"}};
		line_chart(out, "Population over time", pop, "day", s, 3, "live_lo", "live_hi");
		const json_t *fit = json_object_get(r, daily != NULL ? "trend" : "cleanup");
		if (json_is_object(fit))
			cleanup_chart(out, pop, fit);
	}
	if (strcmp(name, "timeline") == 0) {
		struct series s[] = {{"events", "#2980b9", "events"},
				     {"sources", "#c0392b", "sources"}};
		line_chart(out, "Timeline", rows, "time", s, 2, NULL, NULL);
	}
	if (json_is_array(rows) && json_array_size(rows) > 0 &&
	    json_object_get(json_array_get(rows, 0), "sources") != NULL && pop == NULL &&
	    strcmp(name, "timeline") != 0)
		bar_chart(out, "Top by source addresses", rows,
			  key_column(json_object_get(r, "columns")));
	static const char *const tops[] = {"top_families", "top_countries", "top_asns",
					   "top_domains"};
	for (size_t i = 0; i < 4; i++) {
		const json_t *t = json_object_get(r, tops[i]);
		if (t != NULL)
			bar_chart(out, tops[i], json_object_get(t, "rows"),
				  key_column(json_object_get(t, "columns")));
	}
}

int report_render_html(FILE *out, const json_t *r)
{
	const char *name = json_string_value(json_object_get(r, "report"));
	if (name == NULL)
		name = "?";
	fprintf(out, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
		     "<title>sinkd report ");
	esc(out, name);
	fprintf(out, "</title>\n<style>body{font-family:sans-serif;margin:2em;color:#222}"
		     "table{border-collapse:collapse;margin:0.5em 0 1.5em}"
		     "th,td{border:1px solid #ccc;padding:3px 8px;font-size:13px}"
		     "th{background:#f4f4f4;text-align:left}td.n{text-align:right}"
		     "table.kv th{width:14em}</style></head><body>\n<h1>sinkd report ");
	esc(out, name);
	fprintf(out, "</h1>\n<p>From ");
	esc(out, json_string_value(json_object_get(r, "source")));
	fprintf(out, ".");
	const char *k;
	json_t *v;
	json_object_foreach(json_object_get(r, "filter"), k, v)
	{
		fprintf(out, " %s=", k);
		if (json_is_string(v))
			esc(out, json_string_value(v));
		else
			fprintf(out, "%lld", (long long)json_integer_value(v));
	}
	fprintf(out, "</p>\n");
	charts(out, name, r);
	if (json_is_array(json_object_get(r, "rows")))
		html_table(out, NULL, json_object_get(r, "columns"), json_object_get(r, "rows"));
	json_object_foreach((json_t *)r, k, v)
	{
		if (strcmp(k, "report") == 0 || strcmp(k, "filter") == 0 ||
		    strcmp(k, "source") == 0 || strcmp(k, "columns") == 0 || strcmp(k, "rows") == 0)
			continue;
		if (json_is_object(v) && json_is_array(json_object_get(v, "rows")))
			html_table(out, k, json_object_get(v, "columns"),
				   json_object_get(v, "rows"));
		else if (json_is_array(v) && json_is_object(json_array_get(v, 0))) {
			json_t *cols = json_array();
			const char *ck;
			json_t *cv;
			json_object_foreach(json_array_get(v, 0), ck, cv)
			    json_array_append_new(cols, json_string(ck));
			html_table(out, k, cols, v);
			json_decref(cols);
		} else if (json_is_object(v))
			kv_block(out, k, v);
		else if (!json_is_array(v)) {
			fprintf(out, "<p><b>");
			esc(out, k);
			fprintf(out, ":</b> ");
			if (json_is_string(v))
				esc(out, json_string_value(v));
			else if (json_is_integer(v))
				fprintf(out, "%lld", (long long)json_integer_value(v));
			else
				fprintf(out, "-");
			fprintf(out, "</p>\n");
		}
	}
	fprintf(out,
		"<p style=\"color:#888;font-size:12px\">Methods and error bounds: "
		"docs/population.md. Generated by sinkd %s.</p>\n</body></html>\n",
		SINKD_VERSION);
	return ferror(out) ? SINKD_EIO : 0;
}
