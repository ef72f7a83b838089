/* Domain list files: plain lists and CSV, parsed line by line. */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/error.h"
#include "domains/domains.h"
#include "domains/domains_internal.h"

static void report(const struct domains_parser *p, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void report(const struct domains_parser *p, const char *fmt, ...)
{
	if (!p->err)
		return;
	va_list ap;
	va_start(ap, fmt);
	fprintf(p->err, "%s:%lu: ", p->path, p->lineno);
	vfprintf(p->err, fmt, ap);
	fputc('\n', p->err);
	va_end(ap);
}

/* Printable, bounded copy of user text for a message. */
static const char *shown(const char *s, char *buf, size_t size)
{
	size_t i = 0;
	for (; s[i] && i + 4 < size; i++)
		buf[i] = ((unsigned char)s[i] < 0x20 || s[i] == 0x7f) ? '?' : s[i];
	if (s[i]) {
		memcpy(buf + i, "...", 3);
		i += 3;
	}
	buf[i] = '\0';
	return buf;
}

/* Split a CSV line in place into fields (RFC 4180 quoting, "" for a quote,
 * spaces around fields ignored). Returns the field count or -1 with *why. */
static int csv_split(char *line, char **fields, size_t max, const char **why)
{
	size_t n = 0;
	char *p = line;
	for (;;) {
		while (*p == ' ' || *p == '\t')
			p++;
		if (n == max) {
			*why = "too many fields";
			return -1;
		}
		char *start = p, *w = p;
		if (*p == '"') {
			for (p++;; p++) {
				if (*p == '\0') {
					*why = "unterminated quoted field";
					return -1;
				}
				if (*p == '"' && p[1] != '"')
					break;
				if (*p == '"')
					p++;
				*w++ = *p;
			}
			p++;
			while (*p == ' ' || *p == '\t')
				p++;
			if (*p != ',' && *p != '\0') {
				*why = "unexpected text after a closing quote";
				return -1;
			}
		} else {
			while (*p != ',' && *p != '\0')
				p++;
			w = p;
			while (w > start && (w[-1] == ' ' || w[-1] == '\t'))
				w--;
		}
		fields[n++] = start;
		char sep = *p;
		*w = '\0';
		if (sep == '\0')
			return (int)n;
		p++;
	}
}

void domains_parser_init(struct domains_parser *p, const char *path, FILE *err)
{
	memset(p, 0, sizeof(*p));
	p->path = path;
	p->err = err;
}

static bool looks_like_header(const char *line)
{
	char copy[1024], *fields[DOMAINS_MAX_COLUMNS];
	const char *why;
	if (strlen(line) >= sizeof(copy))
		return false;
	memcpy(copy, line, strlen(line) + 1);
	int n = csv_split(copy, fields, DOMAINS_MAX_COLUMNS, &why);
	for (int i = 0; i < n; i++) {
		if (strcasecmp(fields[i], "domain") == 0)
			return true;
	}
	return false;
}

/* Map the header's columns; unknown and repeated columns are one error. */
static enum domains_line parse_header(struct domains_parser *p, char *line)
{
	char *fields[DOMAINS_MAX_COLUMNS], unknown[512] = "", tmp[80];
	const char *why, *dup = NULL;
	size_t nunknown = 0, len = 0;
	bool seen[DOMAINS_NFIELDS + 1] = {false};
	p->format = DOMAINS_FMT_CSV;
	int n = csv_split(line, fields, DOMAINS_MAX_COLUMNS, &why);
	if (n < 0) {
		report(p, "CSV header: %s", why);
		return DOMAINS_LINE_INVALID;
	}
	p->ncols = (size_t)n;
	for (int i = 0; i < n; i++) {
		int f = -2;
		if (strcasecmp(fields[i], "domain") == 0)
			f = -1;
		for (size_t k = 0; k < DOMAINS_NFIELDS && f == -2; k++) {
			if (strcasecmp(fields[i], domains_fields[k].name) == 0)
				f = (int)k;
		}
		if (f == -2 && len < sizeof(unknown) - 100) {
			len += (size_t)snprintf(unknown + len, sizeof(unknown) - len, "%s'%s'",
						nunknown ? ", " : "",
						shown(fields[i], tmp, sizeof(tmp)));
			nunknown++;
		} else if (f != -2 && seen[f + 1]) {
			dup = f == -1 ? "domain" : domains_fields[f].name;
			f = -2;
		} else if (f != -2) {
			seen[f + 1] = true;
		}
		p->col_field[i] = f;
	}
	if (nunknown)
		report(p,
		       "unknown column%s %s (known: domain, family, case_ref, seized, registrar, "
		       "expiry)",
		       nunknown > 1 ? "s" : "", unknown);
	if (dup)
		report(p, "column '%s' appears twice", dup);
	return nunknown || dup ? DOMAINS_LINE_INVALID : DOMAINS_LINE_HEADER;
}

static enum domains_line parse_name(struct domains_parser *p, const char *text, char *name)
{
	const char *why;
	char tmp[80];
	if (domains_normalize(text, name, DOMAINS_NAME_MAX, &why) != 0) {
		if (*text)
			report(p, "'%s': %s", shown(text, tmp, sizeof(tmp)), why);
		else
			report(p, "%s", why);
		return DOMAINS_LINE_INVALID;
	}
	return DOMAINS_LINE_ENTRY;
}

static enum domains_line parse_row(struct domains_parser *p, char *line, char *name,
				   struct domain_meta *meta)
{
	char *fields[DOMAINS_MAX_COLUMNS + 1], tmp[80];
	const char *why;
	int n = csv_split(line, fields, DOMAINS_MAX_COLUMNS + 1, &why);
	if (n < 0) {
		report(p, "%s", why);
		return DOMAINS_LINE_INVALID;
	}
	if ((size_t)n > p->ncols) {
		report(p, "%d fields but the header has %zu (quote fields that contain commas)", n,
		       p->ncols);
		return DOMAINS_LINE_INVALID;
	}
	const char *domain = "";
	bool ok = true;
	for (int i = 0; i < n; i++) {
		int f = p->col_field[i];
		if (f == -1)
			domain = fields[i];
		if (f < 0 || domains_meta_set(meta, domains_fields[f].name, fields[i], &why) == 0)
			continue;
		report(p, "%s '%s': %s", domains_fields[f].name, shown(fields[i], tmp, sizeof(tmp)),
		       why);
		ok = false;
	}
	if (parse_name(p, domain, name) != DOMAINS_LINE_ENTRY)
		return DOMAINS_LINE_INVALID;
	return ok ? DOMAINS_LINE_ENTRY : DOMAINS_LINE_INVALID;
}

enum domains_line domains_parse_line(struct domains_parser *p, char *line, size_t len, char *name,
				     struct domain_meta *meta)
{
	p->lineno++;
	memset(meta, 0, sizeof(*meta));
	if (p->lineno == 1 && len >= 3 && memcmp(line, "\xef\xbb\xbf", 3) == 0) {
		line += 3;
		len -= 3;
	}
	if (strlen(line) != len) {
		report(p, "NUL byte in line (binary file?)");
		return DOMAINS_LINE_INVALID;
	}
	char *s = domains_trim(line);
	if (*s == '\0' || *s == '#')
		return DOMAINS_LINE_SKIP;
	if (p->format == DOMAINS_FMT_UNKNOWN) {
		if (looks_like_header(s))
			return parse_header(p, s);
		p->format = DOMAINS_FMT_LIST;
	}
	if (p->format == DOMAINS_FMT_CSV)
		return parse_row(p, s, name, meta);
	char *hash = strchr(s, '#');
	if (hash) {
		*hash = '\0';
		s = domains_trim(s);
	}
	return parse_name(p, s, name);
}

/* A repeated name keeps its first metadata; say so when they differ. */
static void check_duplicate(struct domains_parser *p, struct domain_registry *reg, const char *name,
			    const struct domain_meta *meta)
{
	struct domain_meta canon;
	domains_meta_canon(&canon, meta);
	long idx = domains_match_name(reg, name);
	if (idx < 0 || domains_meta_is_empty(&canon))
		return;
	if (memcmp(domains_meta(reg, (size_t)idx), &canon, sizeof(canon)) != 0)
		report(p, "'%s' listed again with different metadata; keeping the first", name);
}

static int add_entry(struct domains_parser *p, struct domain_registry *reg, const char *name,
		     const struct domain_meta *meta, struct domains_load_stats *st)
{
	int rc = domains_add_normalized(reg, name, meta);
	if (rc == 0) {
		st->loaded++;
	} else if (rc == SINKD_EEXIST) {
		st->duplicates++;
		check_duplicate(p, reg, name, meta);
	} else {
		report(p, "'%s': %s", name, sinkd_strerror(rc));
		return rc;
	}
	return 0;
}

int domains_load_file(struct domain_registry *reg, const char *path, FILE *err,
		      struct domains_load_stats *st)
{
	struct domains_load_stats local;
	struct domains_parser p;
	struct domain_meta meta;
	char name[DOMAINS_NAME_MAX], *line = NULL;
	size_t cap = 0;
	ssize_t len;
	int rc = 0;
	if (!st)
		st = &local;
	memset(st, 0, sizeof(*st));
	FILE *f = fopen(path, "r");
	if (!f) {
		if (err)
			fprintf(err, "%s: cannot open: %s\n", path, strerror(errno));
		return SINKD_EIO;
	}
	domains_parser_init(&p, path, err);
	while (rc == 0 && (len = getline(&line, &cap, f)) >= 0) {
		st->lines++;
		if (len > 0 && line[len - 1] == '\n')
			line[--len] = '\0';
		if (len > 0 && line[len - 1] == '\r')
			line[--len] = '\0';
		switch (domains_parse_line(&p, line, (size_t)len, name, &meta)) {
		case DOMAINS_LINE_ENTRY:
			rc = add_entry(&p, reg, name, &meta, st);
			break;
		case DOMAINS_LINE_INVALID:
			st->invalid++;
			break;
		default:
			break;
		}
	}
	if (rc == 0 && ferror(f)) {
		if (err)
			fprintf(err, "%s: read error: %s\n", path, strerror(errno));
		rc = SINKD_EIO;
	}
	free(line);
	fclose(f);
	domains_shrink(reg);
	if (rc == 0 && st->invalid)
		rc = SINKD_EPARSE;
	return rc;
}
