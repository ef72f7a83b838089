/* Seized-domain registry.
 *
 * Holds the normalised set of seized zones (lowercase, no final dot, IDNA
 * A-labels) with optional metadata. Built once (load/add/remove), then used
 * read-only and concurrently by listener workers: domains_match_wire() finds
 * the seized zone a query name falls under in time proportional to the
 * number of labels, independent of the number of zones, without allocating.
 */
#ifndef SINKD_DOMAINS_DOMAINS_H
#define SINKD_DOMAINS_DOMAINS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* Longest normalised name (253) plus the terminating NUL. */
#define DOMAINS_NAME_MAX 254
/* Longest wire-format name. */
#define DOMAINS_WIRE_MAX 255

struct domain_meta {
	char family[32];
	char case_ref[64];
	char seized[16];	/* YYYY-MM-DD or "" */
	char registrar[64];
	char expiry[16];	/* YYYY-MM-DD or "" */
};

struct domains_load_stats {
	size_t lines;		/* lines read */
	size_t loaded;		/* new domains added */
	size_t duplicates;	/* already present */
	size_t invalid;		/* rejected (each reported on err) */
};

struct domain_registry;

struct domain_registry *domains_new(void);
void domains_free(struct domain_registry *reg);

/* Load a list file (one name per line, '#' comments, inline "name # note")
 * or a CSV file whose first non-comment line is a header with a "domain"
 * field (columns domain,family,case_ref,seized,registrar,expiry in any
 * order; only domain is required). CRLF endings and a UTF-8 BOM are
 * accepted. Each invalid line is reported on err (may be NULL) as
 * "path:line: why"; st (may be NULL) is reset, then counts lines, new
 * zones, duplicates and invalid lines. A name listed again keeps its first
 * metadata (a warning is printed when they differ). Returns 0 when the file
 * was read, SINKD_EIO when unreadable, SINKD_ENOMEM, SINKD_EPARSE when any
 * line was invalid (the valid ones are still added). */
int domains_load_file(struct domain_registry *reg, const char *path, FILE *err,
		      struct domains_load_stats *st);

/* Normalise one name into out (lowercase, no final dot, IDNA A-label).
 * Returns 0 or SINKD_EINVAL with *why set to a static reason. Reasons that
 * quote the input ("invalid character '!'", "IDNA conversion failed: ...")
 * live in thread-local storage, valid until the next call on that thread.
 * out_len should be DOMAINS_NAME_MAX; a shorter buffer fails with
 * SINKD_ERANGE if the name does not fit. Rules: docs/domains.md. */
int domains_normalize(const char *in, char *out, size_t out_len, const char **why);

/* Set one metadata field by its CSV column name (family, case_ref, seized,
 * registrar, expiry) after trimming and validating value (dates must be a
 * real YYYY-MM-DD, text must be UTF-8 without control characters and fit
 * the field). 0, or SINKD_EINVAL / SINKD_ENOENT (unknown field) with *why
 * set to a static reason. */
int domains_meta_set(struct domain_meta *meta, const char *field, const char *value,
		     const char **why);

/* Add (normalising) / remove one domain. meta may be NULL; it is copied
 * (identical metadata records are stored once).
 * add: 0, SINKD_EEXIST (duplicate, metadata left unchanged), SINKD_EINVAL
 * (bad name or metadata; use domains_normalize for the reason), SINKD_ENOMEM.
 * remove: 0, SINKD_ENOENT or SINKD_EINVAL; it shifts the index of every later
 * zone down by one and costs O(zones). */
int domains_add(struct domain_registry *reg, const char *name, const struct domain_meta *meta);
int domains_remove(struct domain_registry *reg, const char *name);

size_t domains_count(const struct domain_registry *reg);

/* Hot path. dname is a wire-format name, already lowercase. Returns the
 * index of the longest seized zone that equals dname or is its parent,
 * and sets *zone_off to the offset of that zone inside dname; returns -1
 * when the name is under no seized zone. Allocation-free, thread-safe
 * for concurrent readers. dname must be uncompressed; a malformed name
 * (label > 63, longer than 255 bytes) returns -1 without reading past the
 * 255th byte. The registry must not be modified while readers use it:
 * build a new registry and swap it whole (indices are only meaningful for
 * the registry that returned them). */
long domains_match_wire(const struct domain_registry *reg, const uint8_t *dname, size_t *zone_off);

/* Same for a presentation-form name (any case, optional final dot). */
long domains_match_name(const struct domain_registry *reg, const char *name);

/* Zone by index (0 .. count-1, in insertion order after removals compact):
 * presentation form, wire form, metadata (all-empty when none was given).
 * NULL when idx is out of range. The pointers stay valid until the registry
 * is modified or freed. */
const char *domains_name(const struct domain_registry *reg, size_t idx);
const uint8_t *domains_wire(const struct domain_registry *reg, size_t idx);
const struct domain_meta *domains_meta(const struct domain_registry *reg, size_t idx);

/* Write all domains in a format: "list" (one per line), "csv" (with header
 * and metadata) or "json" (array of objects). 0, SINKD_EINVAL (unknown
 * format) or SINKD_EIO (write error on out). */
int domains_export(const struct domain_registry *reg, const char *format, FILE *out);

/* `sinkd domains list|add|remove|import|export ...`. Returns exit status. */
int domains_cli(int argc, char **argv);

#endif
