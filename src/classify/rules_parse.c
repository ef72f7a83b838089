/* Rule files: lines, words, blocks (`set`, `rule ... end`) and the rule
 * actions; conditions are parsed in rules_cond.c. Format: docs/rules.md.
 * Everything here runs at load time (allocation is fine); the compiled
 * classifier is immutable afterwards. */
#include "classify/rules_internal.h"

#include "classify/decode.h"
#include "core/error.h"
#include "domains/domains.h"

#include <ctype.h>
#include <errno.h>
#include <libgen.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#ifndef SINKD_DATA_DIR
#define SINKD_DATA_DIR "/usr/share/sinkd"
#endif

#define LINE_MAX_WORDS 64
#define JIT_STACK_MIN (32 * 1024)
#define JIT_STACK_MAX (512 * 1024)
#define MATCH_LIMIT 200000 /* backtracking bound per regex match */
#define DEPTH_LIMIT 10000

void rules_error(struct rules_errors *e, const char *file, unsigned line, const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (e->n++ == 0 && e->buf != NULL && e->len > 0) {
		if (line > 0)
			snprintf(e->buf, e->len, "%s:%u: %s", file, line, msg);
		else
			snprintf(e->buf, e->len, "%s: %s", file, msg);
	}
	if (e->out != NULL) {
		if (line > 0)
			fprintf(e->out, "%s:%u: %s\n", file, line, msg);
		else
			fprintf(e->out, "%s: %s\n", file, msg);
	}
}

/* ---- words ---------------------------------------------------------------- */

static int hexval(int ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	ch = tolower(ch);
	return ch >= 'a' && ch <= 'f' ? ch - 'a' + 10 : -1;
}

/* Split line (modified in place) into words: bare words end at blanks, a
 * '#' outside quotes starts a comment, "quoted words" take C escapes
 * (\\ \" \n \r \t \0 \xNN). 0, or SINKD_EPARSE with the error reported. */
static int split_words(char *line, struct rules_line *ln, struct rules_errors *e)
{
	char *p = line;
	ln->n = 0;
	for (;;) {
		while (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n')
			p++;
		if (*p == '\0' || *p == '#')
			return 0;
		if (ln->n == LINE_MAX_WORDS) {
			rules_error(e, ln->file, ln->line,
				    "too many words on one line (at most %d)", LINE_MAX_WORDS);
			return SINKD_EPARSE;
		}
		char *out = p, *start = p;
		if (*p != '"') {
			while (*p != '\0' && *p != ' ' && *p != '\t' && *p != '\r' && *p != '\n' &&
			       *p != '#')
				p++;
			ln->lens[ln->n] = (size_t)(p - start);
			ln->w[ln->n++] = start;
			if (*p == '\0' || *p == '#') {
				bool comment = *p == '#';
				*p = '\0';
				if (comment)
					return 0;
				continue;
			}
			*p++ = '\0';
			continue;
		}
		p++;
		while (*p != '"') {
			if (*p == '\0') {
				rules_error(e, ln->file, ln->line,
					    "unterminated string: add the closing '\"'");
				return SINKD_EPARSE;
			}
			if (*p != '\\') {
				*out++ = *p++;
				continue;
			}
			p++;
			int h1, h2;
			switch (*p) {
			case '\\':
			case '"':
				*out++ = *p++;
				break;
			case 'n':
				*out++ = '\n';
				p++;
				break;
			case 'r':
				*out++ = '\r';
				p++;
				break;
			case 't':
				*out++ = '\t';
				p++;
				break;
			case '0':
				*out++ = '\0';
				p++;
				break;
			case 'x':
				h1 = hexval((unsigned char)p[1]);
				h2 = h1 < 0 ? -1 : hexval((unsigned char)p[2]);
				if (h2 < 0) {
					rules_error(e, ln->file, ln->line,
						    "bad escape: \\x needs two hex digits");
					return SINKD_EPARSE;
				}
				*out++ = (char)(h1 * 16 + h2);
				p += 3;
				break;
			default:
				/* Kept as is: regexes use \d, \., \s ... */
				*out++ = '\\';
				if (*p == '\0') {
					rules_error(e, ln->file, ln->line,
						    "unterminated string: add the closing '\"'");
					return SINKD_EPARSE;
				}
				*out++ = *p++;
			}
		}
		p++;
		if (*p != '\0' && *p != ' ' && *p != '\t' && *p != '\r' && *p != '\n' &&
		    *p != '#') {
			rules_error(
			    e, ln->file, ln->line,
			    "text right after a closing quote: separate words with a blank");
			return SINKD_EPARSE;
		}
		ln->lens[ln->n] = (size_t)(out - start);
		*out = '\0';
		ln->w[ln->n++] = start;
		if (*p == '#') {
			*p = '\0';
			return 0;
		}
		if (*p != '\0')
			p++;
	}
}

/* ---- names and numbers --------------------------------------------------- */

/* A label: 1-31 characters of [A-Za-z0-9._:-]. */
static bool valid_label(const char *s, size_t len)
{
	if (len == 0 || len >= EVENT_LABEL_MAX)
		return false;
	for (size_t i = 0; i < len; i++) {
		unsigned char ch = (unsigned char)s[i];
		if (!isalnum(ch) && ch != '-' && ch != '_' && ch != '.' && ch != ':')
			return false;
	}
	return true;
}

static int set_label(char *dst, const struct rules_line *ln, const char *what,
		     struct rules_errors *e)
{
	if (ln->n != 2) {
		rules_error(e, ln->file, ln->line, "%s takes one value: '%s NAME'", what, what);
		return SINKD_EPARSE;
	}
	if (!valid_label(ln->w[1], ln->lens[1])) {
		rules_error(e, ln->file, ln->line,
			    "%s '%s': expected 1-%d characters of letters, digits, '-', '_', '.', "
			    "':'",
			    what, ln->w[1], EVENT_LABEL_MAX - 1);
		return SINKD_EPARSE;
	}
	memcpy(dst, ln->w[1], ln->lens[1] + 1);
	return 0;
}

static int parse_long(const char *s, long lo, long hi, long *out)
{
	char *end;
	errno = 0;
	long v = strtol(s, &end, 10);
	if (s[0] == '\0' || *end != '\0' || errno != 0 || v < lo || v > hi)
		return SINKD_EINVAL;
	*out = v;
	return 0;
}

static int parse_severity(const struct rules_line *ln, struct rule *r, struct rules_errors *e)
{
	static const char *const names[] = {"none", "low", "medium", "high", "critical"};
	long v;
	if (ln->n == 2) {
		for (int i = 0; i < 5; i++) {
			if (strcasecmp(ln->w[1], names[i]) == 0) {
				r->severity = (uint8_t)i;
				r->has_severity = true;
				return 0;
			}
		}
		if (parse_long(ln->w[1], 0, 4, &v) == 0) {
			r->severity = (uint8_t)v;
			r->has_severity = true;
			return 0;
		}
	}
	rules_error(e, ln->file, ln->line,
		    "severity: expected 0-4 or none, low, medium, high, critical");
	return SINKD_EPARSE;
}

/* ---- sets ----------------------------------------------------------------- */

const struct named_set *rules_set_find(const struct classifier *cl, const char *name)
{
	for (size_t i = 0; i < cl->n_sets; i++) {
		if (strcmp(cl->sets[i].name, name) == 0)
			return &cl->sets[i];
	}
	return NULL;
}

/* A file named in a rule file: "$DATA/..." is under the data directory
 * chosen at build time, a relative path is relative to the rule file's
 * directory. */
static void resolve_path(const char *rule_file, const char *name, char *out, size_t len)
{
	if (strncmp(name, "$DATA/", 6) == 0) {
		snprintf(out, len, "%s/%s", SINKD_DATA_DIR, name + 6);
		return;
	}
	if (name[0] == '/') {
		snprintf(out, len, "%s", name);
		return;
	}
	char dir[1024];
	snprintf(dir, sizeof(dir), "%s", rule_file);
	snprintf(out, len, "%s/%s", dirname(dir), name);
}

/* set NAME = a.com b.com, c.com  |  set NAME file PATH */
static int parse_set(struct classifier *cl, const struct rules_line *ln, struct rules_errors *e)
{
	if (ln->n < 3 || (strcmp(ln->w[2], "=") != 0 && strcmp(ln->w[2], "file") != 0) ||
	    (strcmp(ln->w[2], "file") == 0 && ln->n != 4)) {
		rules_error(e, ln->file, ln->line,
			    "set: expected 'set NAME = domain...' or 'set NAME file PATH'");
		return SINKD_EPARSE;
	}
	if (!valid_label(ln->w[1], ln->lens[1])) {
		rules_error(e, ln->file, ln->line,
			    "set name '%s': expected 1-31 of [A-Za-z0-9._:-]", ln->w[1]);
		return SINKD_EPARSE;
	}
	if (rules_set_find(cl, ln->w[1]) != NULL) {
		rules_error(e, ln->file, ln->line, "set '%s' is already defined", ln->w[1]);
		return SINKD_EPARSE;
	}
	if (cl->n_sets == cl->cap_sets) {
		size_t cap = cl->cap_sets ? cl->cap_sets * 2 : 8;
		struct named_set *s = realloc(cl->sets, cap * sizeof(*s));
		if (s == NULL)
			return SINKD_ENOMEM;
		cl->sets = s;
		cl->cap_sets = cap;
	}
	struct named_set *set = &cl->sets[cl->n_sets];
	memset(set, 0, sizeof(*set));
	memcpy(set->name, ln->w[1], ln->lens[1] + 1);
	set->line = ln->line;
	set->reg = domains_new();
	if (set->reg == NULL)
		return SINKD_ENOMEM;
	cl->n_sets++;
	if (strcmp(ln->w[2], "file") == 0) {
		char path[2048];
		struct domains_load_stats st;
		resolve_path(ln->file, ln->w[3], path, sizeof(path));
		int ret = domains_load_file(set->reg, path, NULL, &st);
		if (ret == SINKD_EIO) {
			rules_error(e, ln->file, ln->line, "set '%s': cannot read %s", ln->w[1],
				    path);
			return SINKD_EPARSE;
		}
		if (ret != 0) {
			rules_error(e, ln->file, ln->line,
				    "set '%s': %s has %zu invalid line(s) (check it with 'sinkd "
				    "domains list --file')",
				    ln->w[1], path, st.invalid);
			return SINKD_EPARSE;
		}
		return 0;
	}
	for (unsigned i = 3; i < ln->n; i++) {
		char *save = NULL;
		for (char *tok = strtok_r(ln->w[i], ",", &save); tok != NULL;
		     tok = strtok_r(NULL, ",", &save)) {
			int ret = domains_add(set->reg, tok, NULL);
			if (ret != 0 && ret != SINKD_EEXIST) {
				rules_error(e, ln->file, ln->line, "set '%s': invalid domain '%s'",
					    set->name, tok);
				return SINKD_EPARSE;
			}
		}
	}
	if (domains_count(set->reg) == 0) {
		rules_error(e, ln->file, ln->line, "set '%s' is empty", set->name);
		return SINKD_EPARSE;
	}
	return 0;
}

/* ---- rules ---------------------------------------------------------------- */

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
	if (ln->n != 2 || !valid_label(ln->w[1], ln->lens[1])) {
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
	if (ln->n < 2 || ln->n > 3 || !valid_label(ln->w[1], ln->lens[1])) {
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
		return set_label(r->family, ln, "family", e);
	}
	if (strcmp(k, "tag") == 0)
		return set_label(r->tag, ln, "tag", e);
	if (strcmp(k, "severity") == 0)
		return parse_severity(ln, r, e);
	if (strcmp(k, "priority") == 0) {
		if (ln->n != 2 || parse_long(ln->w[1], -1000000, 1000000, &v) != 0) {
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
		return parse_set(cl, ln, e);
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

static int parse_file(struct classifier *cl, const char *path, struct rules_errors *e)
{
	FILE *f = fopen(path, "r");
	if (f == NULL) {
		rules_error(e, path, 0, "cannot open rule file: %s", strerror(errno));
		return SINKD_EIO;
	}
	char *buf = NULL;
	size_t cap = 0;
	char *words[LINE_MAX_WORDS];
	size_t lens[LINE_MAX_WORDS];
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
		if (split_words(buf, &ln, e) != 0) {
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

/* ---- classifier ----------------------------------------------------------- */

void classifier_free(struct classifier *c)
{
	if (c == NULL)
		return;
	for (size_t i = 0; i < c->n_rules; i++) {
		for (unsigned j = 0; j < c->rules[i].n_conds; j++)
			rules_cond_free(&c->rules[i].conds[j]);
		free(c->rules[i].conds);
		free(c->rules[i].decoder_arg);
	}
	free(c->rules);
	for (size_t i = 0; i < c->n_sets; i++)
		domains_free(c->sets[i].reg);
	free(c->sets);
	for (size_t i = 0; i < c->n_files; i++)
		free(c->files[i]);
	free(c->files);
	free(c->families);
	free(c->family_slot);
	pcre2_match_data_free(c->md);
	pcre2_match_context_free(c->mctx);
	pcre2_jit_stack_free(c->jit_stack);
	free(c);
}

static int cmp_cond(const void *a, const void *b)
{
	const struct rule_cond *x = a, *y = b;
	return x->cost < y->cost ? -1 : x->cost > y->cost;
}

/* Higher priority first; equal priorities keep load order. */
static int cmp_rule(const void *a, const void *b)
{
	const struct rule *x = a, *y = b;
	if (x->priority != y->priority)
		return x->priority > y->priority ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

static int finish(struct classifier *c)
{
	for (size_t i = 0; i < c->n_rules; i++)
		qsort(c->rules[i].conds, c->rules[i].n_conds, sizeof(struct rule_cond), cmp_cond);
	qsort(c->rules, c->n_rules, sizeof(*c->rules), cmp_rule);
	c->md = pcre2_match_data_create(1, NULL);
	c->mctx = pcre2_match_context_create(NULL);
	c->jit_stack = pcre2_jit_stack_create(JIT_STACK_MIN, JIT_STACK_MAX, NULL);
	c->family_slot = calloc(c->n_families + 1, sizeof(*c->family_slot));
	if (c->md == NULL || c->mctx == NULL || c->jit_stack == NULL || c->family_slot == NULL)
		return SINKD_ENOMEM;
	pcre2_jit_stack_assign(c->mctx, NULL, c->jit_stack);
	pcre2_set_match_limit(c->mctx, MATCH_LIMIT);
	pcre2_set_depth_limit(c->mctx, DEPTH_LIMIT);
	for (size_t i = 0; i < c->n_families; i++)
		c->family_slot[i] = CLASSIFY_STATS_FAMILIES;
	return 0;
}

static int load(struct classifier **out, const char *const *files, size_t n, struct rules_errors *e)
{
	struct classifier *c = calloc(1, sizeof(*c));
	int ret = SINKD_ENOMEM;
	*out = NULL;
	if (c == NULL)
		return SINKD_ENOMEM;
	c->files = calloc(n ? n : 1, sizeof(*c->files));
	if (c->files == NULL)
		goto fail;
	ret = 0;
	for (size_t i = 0; i < n; i++) {
		c->files[i] = strdup(files[i]);
		if (c->files[i] == NULL) {
			ret = SINKD_ENOMEM;
			goto fail;
		}
		c->n_files++;
		int r = parse_file(c, c->files[i], e);
		if (r == SINKD_ENOMEM) {
			ret = r;
			goto fail;
		}
		if (r != 0 && ret != SINKD_EIO)
			ret = r;
	}
	if (ret != 0)
		goto fail;
	ret = finish(c);
	if (ret != 0)
		goto fail;
	*out = c;
	return 0;
fail:
	classifier_free(c);
	return ret;
}

int classifier_load(struct classifier **out, const char *const *files, size_t n, char *err,
		    size_t errlen)
{
	struct rules_errors e = {.buf = err, .len = errlen};
	if (err != NULL && errlen > 0)
		err[0] = '\0';
	return load(out, files, n, &e);
}

int classifier_load_report(struct classifier **out, const char *const *files, size_t n, FILE *errs,
			   unsigned *n_errors)
{
	struct rules_errors e = {.out = errs};
	int ret = load(out, files, n, &e);
	*n_errors = e.n;
	return ret;
}

size_t classifier_rule_count(const struct classifier *c) { return c->n_rules; }

int classifier_rule_info(const struct classifier *c, size_t i, struct classifier_rule_info *out)
{
	if (i >= c->n_rules)
		return SINKD_ENOENT;
	const struct rule *r = &c->rules[i];
	*out = (struct classifier_rule_info){
	    .id = r->id,
	    .family = r->family,
	    .tag = r->tag,
	    .severity = r->severity,
	    .priority = r->priority,
	    .decoder = r->decoder,
	    .decoder_arg = r->decoder_arg != NULL ? r->decoder_arg : "",
	    .file = r->file,
	    .line = r->line,
	    .n_conditions = r->n_conds,
	};
	return 0;
}

int classify_split_files(const char *list, char *buf, size_t bufsize, const char **paths,
			 size_t max)
{
	size_t n = 0, used = 0;
	const char *p = list;
	while (*p != '\0') {
		while (*p == ' ' || *p == '\t' || *p == ',')
			p++;
		const char *start = p;
		while (*p != '\0' && *p != ',')
			p++;
		const char *end = p;
		while (end > start && (end[-1] == ' ' || end[-1] == '\t'))
			end--;
		if (end == start)
			continue;
		size_t len = (size_t)(end - start);
		if (n == max || bufsize - used < len + 1)
			return SINKD_ERANGE;
		memcpy(buf + used, start, len);
		buf[used + len] = '\0';
		paths[n++] = buf + used;
		used += len + 1;
	}
	return (int)n;
}
