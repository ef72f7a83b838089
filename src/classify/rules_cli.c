/* `sinkd rules check FILE...` and `sinkd rules list [FILE...] [-c CONFIG]`.
 * Exit status: 0 ok, 1 a rule file has errors (each as file:line on
 * stderr) or cannot be read, 2 bad usage. */
#include "classify/rules_internal.h"

#include "core/config.h"
#include "core/error.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#define MAX_FILES 64

static const char usage_text[] =
    "usage: sinkd rules check FILE...\n"
    "       sinkd rules list [FILE...] [-c CONFIG]\n"
    "\n"
    "check: parse and compile every rule file (regexes, hex patterns, domain sets,\n"
    "       decoder names and arguments); every error as file:line: message.\n"
    "list:  the rules in evaluation order (priority, then file and rule order),\n"
    "       from FILEs or else from [rules] files of CONFIG (default: the shipped rules).\n"
    "Format: docs/rules.md.\n";

static int load_checked(const char *const *files, size_t n, struct classifier **out)
{
	unsigned n_errors = 0;
	int ret = classifier_load_report(out, files, n, stderr, &n_errors);
	if (ret == SINKD_ENOMEM)
		fprintf(stderr, "sinkd rules: out of memory\n");
	return ret;
}

static int cmd_check(int argc, char **argv)
{
	if (argc < 1) {
		fputs(usage_text, stderr);
		return 2;
	}
	struct classifier *c = NULL;
	if (load_checked((const char *const *)argv, (size_t)argc, &c) != 0)
		return 1;
	printf("%zu rules in %d file(s): ok\n", c->n_rules, argc);
	classifier_free(c);
	return 0;
}

static const char *severity_name(uint8_t s)
{
	static const char *const names[] = {"none", "low", "medium", "high", "critical"};
	return s < 5 ? names[s] : "?";
}

static void print_rules(const struct classifier *c)
{
	printf("%-24s %-10s %-20s %-8s %8s  %-28s %s\n", "rule", "family", "tag", "severity",
	       "priority", "decoder", "where");
	for (size_t i = 0; i < c->n_rules; i++) {
		const struct rule *r = &c->rules[i];
		char dec[EVENT_LABEL_MAX + 64];
		snprintf(dec, sizeof(dec), "%s%s%s", r->decoder[0] ? r->decoder : "-",
			 r->decoder_arg ? " " : "", r->decoder_arg ? r->decoder_arg : "");
		printf("%-24s %-10s %-20s %-8s %8d  %-28s %s:%u\n", r->id, r->family,
		       r->tag[0] ? r->tag : "-", severity_name(r->severity), r->priority, dec,
		       r->file, r->line);
	}
}

static int cmd_list(int argc, char **argv)
{
	static const struct option opts[] = {{"config", required_argument, NULL, 'c'},
					     {NULL, 0, NULL, 0}};
	const char *config = NULL;
	int opt;
	optind = 0;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, "+c:", opts, NULL)) != -1) {
		if (opt != 'c') {
			fprintf(stderr, "sinkd rules list: bad option '%s'\n", argv[optind - 1]);
			return 2;
		}
		config = optarg;
	}
	const char *paths[MAX_FILES];
	size_t n = 0;
	struct sinkd_config *cfg = NULL;
	char *buf = NULL;
	int status = 1;
	if (optind < argc) {
		n = (size_t)(argc - optind);
		if (n > MAX_FILES) {
			fprintf(stderr, "sinkd rules list: at most %d files\n", MAX_FILES);
			return 2;
		}
		for (size_t i = 0; i < n; i++)
			paths[i] = argv[optind + (int)i];
	} else {
		cfg = malloc(sizeof(*cfg));
		buf = malloc(sizeof(cfg->rules_files) + MAX_FILES);
		if (cfg == NULL || buf == NULL)
			goto done;
		config_defaults(cfg);
		if (config != NULL && config_load(cfg, config, stderr) != 0)
			goto done;
		int k = classify_split_files(
		    cfg->rules_files, buf, sizeof(cfg->rules_files) + MAX_FILES, paths, MAX_FILES);
		if (k < 0) {
			fprintf(stderr, "sinkd rules list: [rules] files: more than %d files\n",
				MAX_FILES);
			goto done;
		}
		n = (size_t)k;
	}
	struct classifier *c = NULL;
	if (load_checked(paths, n, &c) == 0) {
		print_rules(c);
		classifier_free(c);
		status = 0;
	}
done:
	free(cfg);
	free(buf);
	return status;
}

int classify_rules_cli(int argc, char **argv)
{
	if (argc < 2 || strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0) {
		fputs(usage_text, argc < 2 ? stderr : stdout);
		return argc < 2 ? 2 : 0;
	}
	if (strcmp(argv[1], "check") == 0)
		return cmd_check(argc - 2, argv + 2);
	if (strcmp(argv[1], "list") == 0)
		return cmd_list(argc - 1, argv + 1);
	fprintf(stderr, "sinkd rules: unknown command '%s' (check or list)\n", argv[1]);
	fputs(usage_text, stderr);
	return 2;
}
