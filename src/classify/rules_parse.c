/* Rule files: `rule ... end` blocks, their actions, and files line by
 * line; words come from rules_lex.c, sets from rules_set.c, conditions
 * from rules_cond.c. Format: docs/rules.md. Load time only: the compiled
 * classifier is immutable afterwards. */
#include "classify/rules_internal.h"

#include "classify/decode.h"
#include "core/error.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static int add_family(struct classifier *cl, const char *family, unsigned *idx)
{
	for (size_t i = 0; i < cl->n_families; i++) {
		if (strcmp(cl->families[i], family) == 0) {
			*idx = (unsigned)i;
			return 0;
		}
	}
	char(*f)[EVENT_LABEL_MAX] = realloc(cl->families, (cl->n_families + 1) * sizeof(*f));
	if (f == NULL)
		return SINKD_ENOMEM;
	cl->families = f;
	snprintf(f[cl->n_families], EVENT_LABEL_MAX, "%s", family);
	*idx = (unsigned)cl->n_families++;
	return 0;
}

static const struct rule *find_rule(const struct classifier *cl, const char *id)
{
	for (size_t i = 0; i < cl->n_rules; i++) {
		if (strcmp(cl->rules[i].id, id) == 0)
			return &cl->rules[i];
	}
	return NULL;
}

static int rule_begin(struct classifier *cl, const struct rules_line *ln, struct rules_errors *e,
		      struct rule **out)
{
	if (ln->n != 2 || !rules_valid_label(ln->w[1], ln->lens[1])) {
		rules_error(e, ln->file, ln->line,
			    "rule: expected 'rule ID' (ID: 1-31 of [A-Za-z0-9._:-])");
		return SINKD_EPARSE;
	}
	const struct rule *dup = find_rule(cl, ln->w[1]);
	if (dup != NULL) {
		rules_error(e, ln->file, ln->line, "rule '%s' is already defined at %s:%u",
			    ln->w[1], dup->file, dup->line);
		return SINKD_EPARSE;
	}
	if (cl->n_rules == cl->cap_rules) {
		size_t cap = cl->cap_rules ? cl->cap_rules * 2 : 16;
		struct rule *r = realloc(cl->rules, cap * sizeof(*r));
		if (r == NULL)
			return SINKD_ENOMEM;
		cl->rules = r;
		cl->cap_rules = cap;
	}
	struct rule *r = &cl->rules[cl->n_rules++];
	memset(r, 0, sizeof(*r));
	memcpy(r->id, ln->w[1], ln->lens[1] + 1);
	r->file = ln->file;
	r->line = ln->line;
	r->seq = (unsigned)cl->n_rules;
	r->kinds = UINT32_MAX;
	*out = r;
	return 0;
}

static int add_cond(struct classifier *cl, struct rule *r, const struct rules_line *ln,
		    struct rules_errors *e)
{
	struct rule_cond c;
	memset(&c, 0, sizeof(c));
	int ret = rules_cond_parse(cl, ln, 0, &c, e);
	if (ret != 0)
		return ret;
	struct rule_cond *conds = realloc(r->conds, (r->n_conds + 1) * sizeof(*conds));
	if (conds == NULL) {
		rules_cond_free(&c);
		return SINKD_ENOMEM;
	}
	c.cost = rules_cond_cost(&c);
	r->conds = conds;
	r->conds[r->n_conds++] = c;
	/* A positive kind condition narrows the prefilter. */
	if (c.field == RF_KIND && !c.negate)
		r->kinds &= c.mask;
	return 0;
}

static int parse_decoder(struct rule *r, const struct rules_line *ln, struct rules_errors *e)
{
	if (ln->n < 2 || ln->n > 3 || !rules_valid_label(ln->w[1], ln->lens[1])) {
		rules_error(e, ln->file, ln->line, "decoder: expected 'decoder NAME [ARGUMENT]'");
		return SINKD_EPARSE;
	}
	if (r->decoder[0] != '\0') {
		rules_error(e, ln->file, ln->line, "rule '%s' already names a decoder", r->id);
		return SINKD_EPARSE;
	}
	memcpy(r->decoder, ln->w[1], ln->lens[1] + 1);
	if (ln->n == 3) {
		r->decoder_arg = strdup(ln->w[2]);
		if (r->decoder_arg == NULL)
			return SINKD_ENOMEM;
	}
	return 0;
}

/* One line inside `rule ... end`. */
static int rule_line(struct classifier *cl, struct rule *r, const struct rules_line *ln,
		     struct rules_errors *e)
{
	const char *k = ln->w[0];
	long v;
	if (strcmp(k, "family") == 0) {
		if (r->family[0] != '\0') {
			rules_error(e, ln->file, ln->line, "rule '%s' already sets a family",
				    r->id);
			return SINKD_EPARSE;
		}
		return rules_set_label(r->family, ln, "family", e);
	}
	if (strcmp(k, "tag") == 0)
		return rules_set_label(r->tag, ln, "tag", e);
	if (strcmp(k, "severity") == 0)
		return rules_parse_severity(ln, r, e);
	if (strcmp(k, "priority") == 0) {
		if (ln->n != 2 || rules_parse_long(ln->w[1], -1000000, 1000000, &v) != 0) {
			rules_error(e, ln->file, ln->line,
				    "priority: expected a whole number from -1000000 to 1000000");
			return SINKD_EPARSE;
		}
		r->priority = (int)v;
		return 0;
	}
	if (strcmp(k, "decoder") == 0)
		return parse_decoder(r, ln, e);
	return add_cond(cl, r, ln, e);
}

static int rule_end(struct classifier *cl, struct rule *r, const struct rules_line *ln,
		    struct rules_errors *e)
{
	if (r->broken)
		return SINKD_EPARSE; /* its error is reported; more would be noise */
	if (r->family[0] == '\0') {
		rules_error(e, ln->file, r->line, "rule '%s' has no family (add 'family NAME')",
			    r->id);
		return SINKD_EPARSE;
	}
	if (r->n_conds == 0) {
		rules_error(e, ln->file, r->line,
			    "rule '%s' has no condition: it would claim every event", r->id);
		return SINKD_EPARSE;
	}
	if (r->decoder[0] != '\0') {
		char why[256];
		if (!decode_known(r->decoder)) {
			rules_error(e, ln->file, r->line, "rule '%s': unknown decoder '%s'", r->id,
				    r->decoder);
			return SINKD_EPARSE;
		}
		if (decode_check_arg(r->decoder, r->decoder_arg, why, sizeof(why)) != 0) {
			rules_error(e, ln->file, r->line, "rule '%s': decoder %s: %s", r->id,
				    r->decoder, why);
			return SINKD_EPARSE;
		}
	}
	if (!r->has_severity)
		r->severity = 2; /* medium: a check-in of a known family */
	return add_family(cl, r->family, &r->family_idx);
}

/* ---- files ---------------------------------------------------------------- */

struct file_state {
	struct rule *open; /* rule being parsed, NULL outside a block */
	bool skip;	   /* inside a rule whose header failed: skip to end */
	unsigned open_line;
};

static int file_line(struct classifier *cl, struct file_state *fs, const struct rules_line *ln,
		     struct rules_errors *e)
{
	const char *k = ln->w[0];
	if (fs->open != NULL || fs->skip) {
		if (strcmp(k, "end") == 0) {
			int ret = 0;
			if (fs->open != NULL)
				ret = rule_end(cl, fs->open, ln, e);
			fs->open = NULL;
			fs->skip = false;
			return ret;
		}
		if (strcmp(k, "rule") == 0 || strcmp(k, "set") == 0) {
			rules_error(
			    e, ln->file, ln->line,
			    "'%s' inside rule started at line %u: close it with 'end' first", k,
			    fs->open_line);
			return SINKD_EPARSE;
		}
		if (fs->skip)
			return 0;
		int ret = rule_line(cl, fs->open, ln, e);
		if (ret != 0)
			fs->open->broken = true;
		return ret;
	}
	if (strcmp(k, "set") == 0)
		return rules_parse_set(cl, ln, e);
	if (strcmp(k, "rule") == 0) {
		fs->open_line = ln->line;
		int ret = rule_begin(cl, ln, e, &fs->open);
		if (ret != 0)
			fs->skip = true;
		return ret;
	}
	if (strcmp(k, "end") == 0)
		rules_error(e, ln->file, ln->line, "'end' without a 'rule'");
	else
		rules_error(e, ln->file, ln->line,
			    "unknown keyword '%s' (outside a rule: 'rule ID' or 'set NAME')", k);
	return SINKD_EPARSE;
}

int rules_parse_file(struct classifier *cl, const char *path, struct rules_errors *e)
{
	FILE *f = fopen(path, "r");
	if (f == NULL) {
		rules_error(e, path, 0, "cannot open rule file: %s", strerror(errno));
		return SINKD_EIO;
	}
	char *buf = NULL;
	size_t cap = 0;
	char *words[RULES_LINE_MAX_WORDS];
	size_t lens[RULES_LINE_MAX_WORDS];
	struct rules_line ln = {.file = path, .w = words, .lens = lens};
	struct file_state fs = {0};
	int ret = 0;
	ssize_t got;
	while ((got = getline(&buf, &cap, f)) != -1) {
		ln.line++;
		if (memchr(buf, '\0', (size_t)got) != NULL) {
			rules_error(e, path, ln.line,
				    "NUL byte in a rule file (use \\0 in a string)");
			ret = SINKD_EPARSE;
			continue;
		}
		if (rules_split_words(buf, &ln, e) != 0) {
			ret = SINKD_EPARSE;
			continue;
		}
		if (ln.n == 0)
			continue;
		int r = file_line(cl, &fs, &ln, e);
		if (r == SINKD_ENOMEM) {
			ret = r;
			break;
		}
		if (r != 0)
			ret = SINKD_EPARSE;
	}
	if (ret != SINKD_ENOMEM && (fs.open != NULL || fs.skip)) {
		rules_error(e, path, fs.open_line, "rule is not closed: add 'end'");
		ret = SINKD_EPARSE;
	}
	free(buf);
	fclose(f);
	return ret;
}
