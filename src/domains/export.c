/* Writing the registry out: plain list, CSV, JSON. */
#include <string.h>

#include "core/error.h"
#include "domains/domains.h"
#include "domains/domains_internal.h"

void domains_csv_field(FILE *out, const char *s)
{
	size_t n = strlen(s);
	bool quote = strpbrk(s, ",\"\r\n") != NULL || s[0] == '#' ||
		     (n > 0 && (domains_is_space((unsigned char)s[0]) ||
				domains_is_space((unsigned char)s[n - 1])));
	if (!quote) {
		fputs(s, out);
		return;
	}
	fputc('"', out);
	for (; *s; s++) {
		if (*s == '"')
			fputc('"', out);
		fputc(*s, out);
	}
	fputc('"', out);
}

void domains_csv_header(FILE *out)
{
	fputs("domain", out);
	for (size_t i = 0; i < DOMAINS_NFIELDS; i++)
		fprintf(out, ",%s", domains_fields[i].name);
	fputc('\n', out);
}

void domains_csv_row(FILE *out, const char *name, const struct domain_meta *meta)
{
	domains_csv_field(out, name);
	for (size_t i = 0; i < DOMAINS_NFIELDS; i++) {
		fputc(',', out);
		domains_csv_field(out, domains_field_cptr(meta, &domains_fields[i]));
	}
	fputc('\n', out);
}

/* JSON string: quotes, backslash and control characters escaped; the text
 * is already valid UTF-8 (names are ASCII, metadata is checked). */
static void json_string(FILE *out, const char *s)
{
	fputc('"', out);
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '"' || c == '\\')
			fprintf(out, "\\%c", c);
		else if (c == '\n')
			fputs("\\n", out);
		else if (c == '\t')
			fputs("\\t", out);
		else if (c == '\r')
			fputs("\\r", out);
		else if (c < 0x20 || c == 0x7f)
			fprintf(out, "\\u%04x", c);
		else
			fputc(c, out);
	}
	fputc('"', out);
}

static void export_json(const struct domain_registry *reg, FILE *out)
{
	size_t n = domains_count(reg);
	fputs(n ? "[\n" : "[]\n", out);
	for (size_t i = 0; i < n; i++) {
		const struct domain_meta *meta = domains_meta(reg, i);
		fputs("  {\"domain\": ", out);
		json_string(out, domains_name(reg, i));
		for (size_t k = 0; k < DOMAINS_NFIELDS; k++) {
			fprintf(out, ", \"%s\": ", domains_fields[k].name);
			json_string(out, domains_field_cptr(meta, &domains_fields[k]));
		}
		fputs(i + 1 < n ? "},\n" : "}\n]\n", out);
	}
}

int domains_export(const struct domain_registry *reg, const char *format, FILE *out)
{
	size_t n = domains_count(reg);
	if (strcmp(format, "list") == 0) {
		for (size_t i = 0; i < n; i++)
			fprintf(out, "%s\n", domains_name(reg, i));
	} else if (strcmp(format, "csv") == 0) {
		domains_csv_header(out);
		for (size_t i = 0; i < n; i++)
			domains_csv_row(out, domains_name(reg, i), domains_meta(reg, i));
	} else if (strcmp(format, "json") == 0) {
		export_json(reg, out);
	} else {
		return SINKD_EINVAL;
	}
	return ferror(out) ? SINKD_EIO : 0;
}
