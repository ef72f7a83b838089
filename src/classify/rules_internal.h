/* Private to src/classify/: the compiled rule set shared by the parser
 * (rules_parse.c, rules_cond.c), the matcher (rules_match.c) and the live
 * holder (classify.c). Not part of the module interface (classify.h). */
#ifndef SINKD_CLASSIFY_RULES_INTERNAL_H
#define SINKD_CLASSIFY_RULES_INTERNAL_H

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include "classify/classify.h"

/* What a condition looks at. */
enum rule_field {
	RF_KIND,
	RF_TRANSPORT,
	RF_PORT, /* destination port */
	RF_METHOD,
	RF_PATH,   /* request target up to '?' */
	RF_QUERY,  /* after '?' */
	RF_TARGET, /* whole request target */
	RF_PARAM,  /* one query parameter's value (name in cond) */
	RF_HEADER, /* one header's value (name in cond) */
	RF_BODY,
	RF_BYTES, /* first bytes of a connection (raw, TLS, not-HTTP) */
	RF_QNAME, /* DNS qname, HTTP Host, TLS SNI */
	RF_ZONE,  /* the seized zone the name falls under */
	RF_JA3,
	RF_JA3_MD5,
	RF_JA4,
	RF_COUNT
};

enum rule_op {
	RO_PRESENT, /* header/param present; other fields: non-empty */
	RO_EQ,	    /* exact bytes (method, header names: case-insensitive) */
	RO_PREFIX,
	RO_CONTAINS,
	RO_REGEX,
	RO_HEX, /* bytes at an offset (or anywhere) */
	RO_IN,	/* kind/transport/method lists, port ranges, zone sets */
};

#define RULE_MAX_RANGES 16
#define RULE_HEX_ANY (-1L)

struct rule_set; /* a named domain set (rules_parse.c) */

struct rule_cond {
	uint8_t field; /* enum rule_field */
	uint8_t op;    /* enum rule_op */
	bool negate;
	unsigned cost; /* evaluation order inside a rule, cheapest first */
	char *name;    /* header or parameter name (owned) */
	size_t name_len;
	uint8_t *val; /* literal bytes (owned), NUL-terminated for convenience */
	size_t val_len;
	long offset; /* RO_HEX: offset, or RULE_HEX_ANY */
	pcre2_code *re;
	uint32_t mask;	   /* RO_IN on kind/transport: bit per value */
	unsigned n_ranges; /* RO_IN on port */
	uint16_t lo[RULE_MAX_RANGES], hi[RULE_MAX_RANGES];
	char **words; /* RO_IN on method (owned) */
	unsigned n_words;
	const struct domain_registry *set; /* RO_IN on zone (borrowed) */
};

struct rule {
	char id[EVENT_LABEL_MAX];
	char family[EVENT_LABEL_MAX];
	char tag[EVENT_LABEL_MAX];
	uint8_t severity;
	bool has_severity;
	int priority;
	char decoder[EVENT_LABEL_MAX];
	char *decoder_arg; /* NULL: none (owned) */
	uint32_t kinds;	   /* bit per enum event_kind allowed (prefilter) */
	struct rule_cond *conds;
	unsigned n_conds;
	const char *file; /* owned by the classifier's file list */
	unsigned line;
	unsigned seq;	     /* load order, for a stable priority sort */
	unsigned family_idx; /* index into classifier families */
	bool broken;	     /* a line of it had an error (already reported) */
};

struct named_set {
	char name[EVENT_LABEL_MAX];
	struct domain_registry *reg;
	const char *file;
	unsigned line;
};

struct classifier {
	struct rule *rules;
	size_t n_rules, cap_rules;
	char **files; /* paths as given */
	size_t n_files;
	struct named_set *sets;
	size_t n_sets, cap_sets;
	char (*families)[EVENT_LABEL_MAX];
	size_t n_families;
	/* Matching state: preallocated, used by one thread at a time. */
	pcre2_match_data *md;
	pcre2_match_context *mctx;
	pcre2_jit_stack *jit_stack;
	/* Filled by the live holder (classify.c): the stats slot of each
	 * family (CLASSIFY_STATS_FAMILIES = other). */
	unsigned *family_slot;
};

/* Parser (rules_parse.c) error sink: first error into buf, or every error
 * to a FILE. */
struct rules_errors {
	char *buf;
	size_t len;
	FILE *out;
	unsigned n;
};

void rules_error(struct rules_errors *e, const char *file, unsigned line, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

#define RULES_LINE_MAX_WORDS 64

/* Words (rules_lex.c). Split line (modified in place) into ln->w/lens:
 * bare words, "quoted" words with escapes, '#' comments. 0 or
 * SINKD_EPARSE (reported). */
struct rules_line;
int rules_split_words(char *line, struct rules_line *ln, struct rules_errors *e);
/* A label: 1-31 of [A-Za-z0-9._:-]. */
bool rules_valid_label(const char *s, size_t len);
/* `what NAME` into dst (EVENT_LABEL_MAX). 0 or SINKD_EPARSE (reported). */
int rules_set_label(char *dst, const struct rules_line *ln, const char *what,
		    struct rules_errors *e);
/* Decimal in [lo, hi]: 0 or SINKD_EINVAL. */
int rules_parse_long(const char *s, long lo, long hi, long *out);
struct rule;
int rules_parse_severity(const struct rules_line *ln, struct rule *r, struct rules_errors *e);

/* A `set` line (rules_set.c). 0, SINKD_EPARSE (reported) or SINKD_ENOMEM. */
int rules_parse_set(struct classifier *cl, const struct rules_line *ln, struct rules_errors *e);

/* Parse one rule file into cl (rules_parse.c): 0, SINKD_EPARSE, SINKD_EIO
 * (unreadable, reported) or SINKD_ENOMEM. */
int rules_parse_file(struct classifier *cl, const char *path, struct rules_errors *e);

/* Parse one condition line (keyword and the rest of its words) into c.
 * Words are NUL-terminated strings (quotes and escapes already resolved;
 * lens give their byte lengths, as a quoted word may hold NUL bytes).
 * 0 or SINKD_EPARSE with the error reported. */
struct rules_line {
	const char *file;
	unsigned line;
	char **w;
	size_t *lens;
	unsigned n;
};
int rules_cond_parse(struct classifier *cl, const struct rules_line *ln, unsigned first,
		     struct rule_cond *c, struct rules_errors *e);
void rules_cond_free(struct rule_cond *c);

/* The cost class of a condition (cheap fixed fields first, regexes last). */
unsigned rules_cond_cost(const struct rule_cond *c);

/* Find a named set, NULL when none. */
const struct named_set *rules_set_find(const struct classifier *cl, const char *name);

/* Does rule r match ev? (rules_match.c) */
struct rules_view;
bool rules_match(struct classifier *cl, const struct rule *r, struct rules_view *v);

#endif
