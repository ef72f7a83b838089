/* Inside protocol discovery: the distinct-source sets, the table entry and
 * the batch handed to the store writer. Only src/classify/shapes*.c. */
#ifndef SINKD_CLASSIFY_SHAPES_INTERNAL_H
#define SINKD_CLASSIFY_SHAPES_INTERNAL_H

#include "classify/shapes.h"

#define SRC_EXACT 8 /* sources kept exactly before the sketch */
#define HLL_BITS 10
#define HLL_M (1u << HLL_BITS) /* HyperLogLog registers (~3% error) */
#define SRC_BLOB_MAX (1 + HLL_M)
#define SHAPE_EXAMPLES 3
#define SHAPE_DOMAIN_PAIRS 4096 /* (shape, zone) pairs per batch */

/* Distinct sources as serialized in shapes.srcset: 'E' + n 16-byte
 * addresses (n <= SRC_EXACT), or 'H' + HLL_M registers. */
struct srcset {
	unsigned n;
	uint8_t exact[SRC_EXACT][16];
	bool sketch;
	uint8_t *hll; /* HLL_M registers when sketch (owned) */
};

/* The address a source counts as: IPv6 by /64, IPv4 whole. */
void shapes_src_norm(const uint8_t ip[16], uint8_t out[16]);

/* Add a (normalized) address. 0 or SINKD_ENOMEM (sketch allocation). */
int srcset_add(struct srcset *s, const uint8_t ip[16]);
void srcset_reset(struct srcset *s); /* empty; keeps the sketch buffer */
void srcset_free(struct srcset *s);

/* Merge a serialized set into s (a bad blob is ignored: 0). 0 or ENOMEM. */
int srcset_merge_blob(struct srcset *s, const uint8_t *blob, size_t len);

/* Serialize s into out (SRC_BLOB_MAX bytes); returns the length. */
size_t srcset_blob(const struct srcset *s, uint8_t *out);

/* Distinct count: exact, or the HyperLogLog estimate. */
uint64_t srcset_estimate(const struct srcset *s);

/* Estimate straight from a serialized set. */
uint64_t shapes_blob_estimate(const uint8_t *blob, size_t len);

/* One example event of a shape. */
struct shape_example {
	int64_t ts_ns;
	uint8_t ip[16];
	uint16_t port;
	char target[160]; /* request target (HTTP) or "" */
	char body[64];	  /* first body/raw bytes, non-printable as '.' */
};

/* A shape's pending deltas in a batch. */
struct shape_row {
	struct shape_key key;
	uint64_t count;
	int64_t first_ns, last_ns;
	uint8_t src[SRC_BLOB_MAX];
	size_t src_len;
	unsigned n_examples;
	struct shape_example ex[SHAPE_EXAMPLES];
};

struct shape_domain_delta {
	uint32_t row; /* index into rows */
	uint32_t count;
	int64_t last_ns;
	char zone[EVENT_QNAME_MAX];
};

struct shapes_batch {
	struct shape_row *rows;
	size_t n_rows;
	struct shape_domain_delta *domains;
	size_t n_domains;
};

/* ---- the commands (shapes_report.c, shapes_skeleton.c) ---- */

struct store;
struct store_shape;

struct report_opts {
	const char *store, *config, *domain, *format;
	size_t limit;
};

/* Options shared by `report protocols` and `rules skeleton`: 0, 1 (help
 * printed) or 2 (usage error printed). */
int shapes_cli_parse(int argc, char **argv, const char *cmd, const char *usage,
		     struct report_opts *o);
/* Open the store read-only (errors printed): 0 or 1. */
int shapes_cli_open(const char *cmd, const struct report_opts *o, struct store **st);
int shapes_usage_error(const char *cmd, const char *msg, const char *arg);
/* A stored shape as the JSON object of shapes_report_json. */
json_t *shapes_row_json(const struct store_shape *s);

#endif
