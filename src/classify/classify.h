/* Classification: family rules (docs/rules.md) and the rule's decoder.
 *
 * A classifier is an immutable rule set compiled from rule files: every
 * regex is compiled (PCRE2, JIT) once at load, and the match data, match
 * context and JIT stack are preallocated per classifier, so labelling an
 * event allocates nothing. A classifier is used by one thread at a time
 * (the pipeline thread); reloads build a new one and swap it whole.
 *
 * struct classify is the live holder the pipeline uses: the current rule
 * set and decoder environment, a hand-over slot for reloads (any thread
 * loads, the pipeline thread picks the new set up between events, the old
 * one is freed off the pipeline thread), and counters for /metrics.
 */
#ifndef SINKD_CLASSIFY_CLASSIFY_H
#define SINKD_CLASSIFY_CLASSIFY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "core/event.h"

struct classifier;
struct decode_env;
struct sinkd_config;

/* Family name given to events no rule claims. */
#define CLASSIFY_UNKNOWN "unknown"

/* Load and compile the rule files files[0..n-1] (in this order: file
 * order then rule order is the order of equal priorities). On error err
 * (errlen bytes, may be NULL when errlen is 0) holds one line
 * "file:line: message" (the first error) and nothing is returned in *out.
 * Named decoders are checked against the decoder registry.
 * 0, SINKD_EPARSE (bad rule file), SINKD_EIO (unreadable file: err names
 * it) or SINKD_ENOMEM. The caller owns *out (classifier_free). */
int classifier_load(struct classifier **out, const char *const *files, size_t n, char *err,
		    size_t errlen);

/* Like classifier_load, but every error (not only the first) is written to
 * errs as "file:line: message" lines; *n_errors counts them. For
 * `sinkd rules check`. Same returns. */
int classifier_load_report(struct classifier **out, const char *const *files, size_t n, FILE *errs,
			   unsigned *n_errors);

void classifier_free(struct classifier *c);

/* Label ev in place (family, rule_id, tag, severity; family "unknown" and
 * the other labels empty when no rule claims it), then run the rule's
 * decoder through decode_event() (env may be NULL: no decoding). Allocates
 * nothing. Not thread-safe per classifier. */
void classifier_classify(struct classifier *c, struct decode_env *env, struct sinkd_event *ev);

/* The same, returning the index of the rule that matched (-1: none) and
 * the decoder's result (0, or its negative code; 0 when no decoder ran)
 * in *decode_ret (may be NULL). */
long classifier_match(struct classifier *c, struct decode_env *env, struct sinkd_event *ev,
		      int *decode_ret);

/* Number of rules, and what rule i (in evaluation order) is, for listing.
 * Strings belong to the classifier. */
struct classifier_rule_info {
	const char *id, *family, *tag;
	uint8_t severity;
	int priority;
	const char *decoder;	 /* "" when none */
	const char *decoder_arg; /* "" when none */
	const char *file;
	unsigned line;
	unsigned n_conditions;
};
size_t classifier_rule_count(const struct classifier *c);
int classifier_rule_info(const struct classifier *c, size_t i, struct classifier_rule_info *out);

/* Split the config's [rules] files value (comma list, blanks trimmed) into
 * at most max paths written into buf (bufsize bytes), pointers in paths.
 * Returns the number of paths, or SINKD_ERANGE when they do not fit. */
int classify_split_files(const char *list, char *buf, size_t bufsize, const char **paths,
			 size_t max);

/* ---- live classification in the pipeline -------------------------------- */

struct classify;

/* Load the rules of cfg ([rules] files) and make the decoder environment.
 * 0, or the classifier_load codes with err set. */
int classify_new(struct classify **out, const struct sinkd_config *cfg, char *err, size_t errlen);
void classify_free(struct classify *cl);

/* Reload from cfg on any thread but the pipeline's (SIGHUP): builds the
 * new rule set and decoder environment here and hands them over; the
 * pipeline thread switches at its next event and the set it used before is
 * freed by a later reload or classify_free. On error the running set stays
 * and err holds "file:line: message". Same returns as classifier_load. */
int classify_reload(struct classify *cl, const struct sinkd_config *cfg, char *err, size_t errlen);

/* Pipeline thread: label and decode one event (the hook). */
void classify_event(struct classify *cl, struct sinkd_event *ev);

#define CLASSIFY_STATS_FAMILIES 64

/* Counters since start (atomics; any thread). Families are every family
 * any loaded rule set named, in first-seen order; hits of families beyond
 * CLASSIFY_STATS_FAMILIES are counted in `other_hits`. */
struct classify_stats {
	uint64_t events;	/* classified */
	uint64_t unknown;	/* no rule matched */
	uint64_t decode_ok;	/* decoder ran and said "ok" */
	uint64_t decode_failed; /* decoder ran and failed (any status) */
	uint64_t reloads, reload_failures;
	uint64_t other_hits;
	size_t n_families;
	struct {
		char family[EVENT_LABEL_MAX];
		uint64_t hits;
		uint64_t decode_failed;
	} families[CLASSIFY_STATS_FAMILIES];
	size_t rules; /* rules in the running set */
};

void classify_stats(const struct classify *cl, struct classify_stats *out);

/* `sinkd rules check FILE...` / `sinkd rules list [FILE...] [-c CONFIG]`.
 * Returns the process exit status. */
int classify_rules_cli(int argc, char **argv);

#endif
