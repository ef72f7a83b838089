/* The classifier: loading (every file, then conditions sorted by cost and
 * rules by priority, and the preallocated matching state), freeing, and
 * listing. */
#include "classify/rules_internal.h"

#include "core/error.h"
#include "domains/domains.h"

#include <stdlib.h>
#include <string.h>

#define JIT_STACK_MIN (32 * 1024)
#define JIT_STACK_MAX (512 * 1024)
#define MATCH_LIMIT 200000 /* backtracking bound per regex match */
#define DEPTH_LIMIT 10000

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
	if (c->n_rules > 1) /* (an empty file has no array at all) */
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
		int r = rules_parse_file(c, c->files[i], e);
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
