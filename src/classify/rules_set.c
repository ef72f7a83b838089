/* Named domain sets of rule files: `set NAME = a.com, b.net` and `set NAME
 * file PATH` (docs/rules.md), held as domain registries for `zone in`. */
#include "classify/rules_internal.h"

#include "core/error.h"
#include "domains/domains.h"

#include <libgen.h>
#include <stdlib.h>
#include <string.h>

#ifndef SINKD_DATA_DIR
#define SINKD_DATA_DIR "/usr/share/sinkd"
#endif

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
int rules_parse_set(struct classifier *cl, const struct rules_line *ln, struct rules_errors *e)
{
	if (ln->n < 3 || (strcmp(ln->w[2], "=") != 0 && strcmp(ln->w[2], "file") != 0) ||
	    (strcmp(ln->w[2], "file") == 0 && ln->n != 4)) {
		rules_error(e, ln->file, ln->line,
			    "set: expected 'set NAME = domain...' or 'set NAME file PATH'");
		return SINKD_EPARSE;
	}
	if (!rules_valid_label(ln->w[1], ln->lens[1])) {
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
