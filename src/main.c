/* sinkd: botnet sinkhole. Subcommand dispatch only. */
#include <stdio.h>
#include <string.h>

#include <curl/curl.h>

#include "classify/shapes.h"
#include "cluster/cluster.h"
#include "classify/classify.h"
#include "core/config.h"
#include "domains/domains.h"
#include "ingest/ingest.h"
#include "report/report.h"
#include "evidence/evidence.h"
#include "server/server.h"
#include "sim/sim.h"
#include "stats/stats.h"
#include "store/store.h"

struct command {
	const char *name;
	int (*run)(int argc, char **argv);
	const char *help;
};

static const struct command commands[] = {
	{"serve", server_cli, "run the sinkhole (DNS listeners, pipeline, store)"},
	{"config", config_cli, "check FILE | dump [-c FILE]: validate or print the configuration"},
	{"domains", domains_cli, "list|add|remove|import|export: the seized-domain list"},
	{"events", events_cli, "list recorded events (--since --until --domain --ip --type --family)"},
	{"report", report_cli, "summary|population|countries|asns|domains|families|timeline|protocols|nodes|\n"
			   "            notify|evidence: reports (--source clickhouse:// for the fleet)"},
	{"rollup", stats_rollup_cli, "rebuild: recompute the hourly rollups from raw events"},
	{"cluster", cluster_cli, "init|status: the ClickHouse cluster this node ships to"},
	{"rules", classify_rules_cli, "check FILE... | list [FILE...] | skeleton SHAPE_ID: family rule files"},
	{"sim", sim_cli, "a simulated botnet with a ground truth, live or compressed (docs/sim.md)"},
	{"ingest", ingest_cli, "FILE|-: store recorded check-ins (JSON lines) through the pipeline"},
	{"verify", verify_cli, "recompute the evidence chain, check manifest signatures"},
	{"keygen", evidence_keygen_cli, "--out FILE [--pseudonym-key]: signing or pseudonym key"},
};

static void usage(FILE *out)
{
	fprintf(out, "usage: sinkd <command> [options]\n\ncommands:\n");
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(out, "  %-9s %s\n", commands[i].name, commands[i].help);
	fprintf(out, "\nRun 'sinkd <command> --help' for the options of one command.\n");
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	if (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0 ||
	    strcmp(argv[1], "help") == 0) {
		usage(stdout);
		return 0;
	}
	if (strcmp(argv[1], "--version") == 0 || strcmp(argv[1], "version") == 0) {
		printf("sinkd %s\n", SINKD_VERSION);
		return 0;
	}
	/* libcurl (ClickHouse shipping) wants this before any thread starts. */
	curl_global_init(CURL_GLOBAL_DEFAULT);
	if (argc > 2 && strcmp(argv[1], "report") == 0 && strcmp(argv[2], "nodes") == 0)
		return cluster_report_nodes(argc - 2, argv + 2);
	/* Protocol discovery's subcommands (classify/shapes.h). */
	if (argc >= 3 && strcmp(argv[1], "report") == 0 && strcmp(argv[2], "protocols") == 0)
		return shapes_report_cli(argc - 2, argv + 2);
	if (argc >= 3 && strcmp(argv[1], "rules") == 0 && strcmp(argv[2], "skeleton") == 0)
		return shapes_skeleton_cli(argc - 2, argv + 2);
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
		if (strcmp(argv[1], commands[i].name) == 0)
			return commands[i].run(argc - 1, argv + 1);
	}
	fprintf(stderr, "sinkd: unknown command '%s'\n", argv[1]);
	usage(stderr);
	return 2;
}
