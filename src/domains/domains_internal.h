/* Private to src/domains (and its unit tests): helpers shared by the
 * registry, the file loader, the exporters and the CLI. Not an interface
 * for other modules; they include domains.h only. */
#ifndef SINKD_DOMAINS_INTERNAL_H
#define SINKD_DOMAINS_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "domains/domains.h"

/* Metadata columns in their canonical (export) order. */
#define DOMAINS_NFIELDS 5
struct domains_field {
	const char *name; /* CSV column name */
	size_t offset;	  /* in struct domain_meta */
	size_t size;	  /* of the char array */
	bool is_date;
};
extern const struct domains_field domains_fields[DOMAINS_NFIELDS];

/* Field by column name, NULL when unknown. */
const struct domains_field *domains_field_find(const char *name);
char *domains_field_ptr(struct domain_meta *meta, const struct domains_field *f);
const char *domains_field_cptr(const struct domain_meta *meta, const struct domains_field *f);

/* Copy src (NULL = empty) into dst in canonical form: each field truncated
 * to fit, zero-filled after its NUL. */
void domains_meta_canon(struct domain_meta *dst, const struct domain_meta *src);
/* Validate every field; on error *field names the column. 0 or SINKD_EINVAL. */
int domains_meta_check(const struct domain_meta *meta, const char **field, const char **why);
bool domains_meta_is_empty(const struct domain_meta *meta);

bool domains_is_space(int c);
/* Trim ASCII whitespace in place; returns the first non-space byte. */
char *domains_trim(char *s);

/* Add an already normalised name (no re-normalisation). Same returns as
 * domains_add. */
int domains_add_normalized(struct domain_registry *reg, const char *name,
			   const struct domain_meta *meta);

/* Give back the spare capacity of the arena and zone array (after a bulk
 * load; adding again regrows them). */
void domains_shrink(struct domain_registry *reg);

/* Line-by-line parser shared by domains_load_file and the file editor.
 * The format is decided by the first line that is neither blank nor a
 * comment: a CSV header when one of its fields is "domain", else a list. */
enum domains_format { DOMAINS_FMT_UNKNOWN, DOMAINS_FMT_LIST, DOMAINS_FMT_CSV };

enum domains_line {
	DOMAINS_LINE_SKIP,    /* blank or comment */
	DOMAINS_LINE_HEADER,  /* valid CSV header */
	DOMAINS_LINE_ENTRY,   /* name (normalised) and meta filled */
	DOMAINS_LINE_INVALID, /* reported on err */
};

#define DOMAINS_MAX_COLUMNS 16
struct domains_parser {
	const char *path; /* for messages */
	FILE *err;	  /* NULL = silent */
	unsigned long lineno;
	enum domains_format format;
	size_t ncols;
	int col_field[DOMAINS_MAX_COLUMNS]; /* -1 domain, -2 unknown, else field index */
};

void domains_parser_init(struct domains_parser *p, const char *path, FILE *err);
/* Parse one line (without its line ending; modified in place). len is its
 * length, so an embedded NUL is detected. For an entry, name receives the
 * normalised domain (DOMAINS_NAME_MAX bytes) and meta its metadata. */
enum domains_line domains_parse_line(struct domains_parser *p, char *line, size_t len, char *name,
				     struct domain_meta *meta);

/* Write one CSV field, quoted when it needs to be. */
void domains_csv_field(FILE *out, const char *s);
/* Write the CSV header / one CSV row in canonical column order. */
void domains_csv_header(FILE *out);
void domains_csv_row(FILE *out, const char *name, const struct domain_meta *meta);

/* File editing used by `sinkd domains add|remove|import`. Every change is
 * all-or-nothing: any invalid input (arguments, lines of the file, lines of
 * the imported file) is reported on err and nothing is written. The file is
 * replaced atomically (temporary file in the same directory, fsync,
 * rename). Progress and the reload hint go to out. Return the exit status:
 * 0 ok, 1 input error. */
int domains_file_add(const char *path, char **names, size_t n, const struct domain_meta *meta,
		     FILE *out, FILE *err);
int domains_file_remove(const char *path, char **names, size_t n, FILE *out, FILE *err);
int domains_file_import(const char *path, const char *src, FILE *out, FILE *err);

#endif
