#include "core/config.h"
#include "core/error.h"

#include <stdarg.h>
#include <string.h>

static void usage(FILE *out)
{
	fprintf(out, "usage: sinkd config check FILE\n"
		     "       sinkd config dump [-c FILE]\n");
}

static void help(void)
{
	usage(stdout);
	printf("\n"
	       "  check FILE     report every error in FILE as 'FILE:LINE: message';\n"
	       "                 exit 0 when valid, 1 when not\n"
	       "  dump [-c FILE] print the effective configuration (FILE over the built-in\n"
	       "                 defaults, or the defaults alone) as a loadable file\n"
	       "\nKeys, defaults and meanings: docs/config.md and etc/sinkd.conf.\n");
}

static bool is_help(const char *arg)
{
	return strcmp(arg, "-h") == 0 || strcmp(arg, "--help") == 0 || strcmp(arg, "help") == 0;
}

__attribute__((format(printf, 1, 2))) static int bad_usage(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fprintf(stderr, "sinkd config: ");
	vfprintf(stderr, fmt, ap);
	fprintf(stderr, "\n");
	va_end(ap);
	usage(stderr);
	return 2;
}

static int cmd_check(int argc, char **argv)
{
	if (argc == 1 && is_help(argv[0])) {
		help();
		return 0;
	}
	if (argc != 1)
		return bad_usage("check takes exactly one FILE");
	struct sinkd_config cfg;
	if (config_load(&cfg, argv[0], stderr) != 0)
		return 1;
	printf("%s: ok\n", argv[0]);
	return 0;
}

static int cmd_dump(int argc, char **argv)
{
	const char *path = NULL;
	for (int i = 0; i < argc; i++) {
		if (is_help(argv[i])) {
			help();
			return 0;
		}
		if (strcmp(argv[i], "-c") != 0 && strcmp(argv[i], "--config") != 0)
			return bad_usage("dump: unexpected argument '%s'", argv[i]);
		if (i + 1 >= argc)
			return bad_usage("dump: %s needs a FILE", argv[i]);
		if (path != NULL)
			return bad_usage("dump: %s given twice", argv[i]);
		path = argv[++i];
	}
	struct sinkd_config cfg;
	if (path == NULL)
		config_defaults(&cfg);
	else if (config_load(&cfg, path, stderr) != 0)
		return 1;
	config_dump(&cfg, stdout);
	return fflush(stdout) == 0 ? 0 : 1;
}

int config_cli(int argc, char **argv)
{
	if (argc < 2)
		return bad_usage("missing subcommand");
	if (is_help(argv[1])) {
		help();
		return 0;
	}
	if (strcmp(argv[1], "check") == 0)
		return cmd_check(argc - 2, argv + 2);
	if (strcmp(argv[1], "dump") == 0)
		return cmd_dump(argc - 2, argv + 2);
	return bad_usage("unknown subcommand '%s'", argv[1]);
}
