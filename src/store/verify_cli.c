/* `sinkd verify`: recompute the evidence chain of a store and check every
 * manifest signature (docs/evidence.md). */
#include "store/store_internal.h"

#include "core/config.h"
#include "core/error.h"

#include <getopt.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static void usage(FILE *out)
{
	fprintf(out,
		"usage: sinkd verify [--store PATH | -c FILE] [--pubkey FILE] [--since T]\n"
		"  --store PATH    the store (default: [store] path of -c FILE, else sinkd.db)\n"
		"  -c FILE         configuration: store path and [evidence] key (its .pub)\n"
		"  --pubkey FILE   Ed25519 public key (PEM) every manifest must be signed by\n"
		"                  (default: [evidence] key + \".pub\" when it exists)\n"
		"  --since T       recompute rows of batches committed from T on only\n"
		"                  (RFC 3339, a date, or 90s/15m/2h/7d ago); links, DNS sums\n"
		"                  and manifests are always checked\n"
		"exit status: 0 everything matches, 1 a mismatch or error, 2 usage\n");
}

static void hex(const uint8_t *p, size_t n, char *out)
{
	for (size_t i = 0; i < n; i++)
		sprintf(out + 2 * i, "%02x", p[i]);
}

static EVP_PKEY *load_pubkey(const char *path)
{
	FILE *f = fopen(path, "r");
	if (f == NULL) {
		fprintf(stderr, "sinkd verify: %s: cannot open: %m\n", path);
		return NULL;
	}
	EVP_PKEY *k = PEM_read_PUBKEY(f, NULL, NULL, NULL);
	fclose(f);
	if (k == NULL || EVP_PKEY_get_base_id(k) != EVP_PKEY_ED25519) {
		fprintf(stderr,
			"sinkd verify: %s: not an Ed25519 public key in PEM "
			"(the .pub file 'sinkd keygen' wrote)\n",
			path);
		EVP_PKEY_free(k);
		return NULL;
	}
	return k;
}

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void print_summary(const char *path, const struct store_verify_result *r,
			  const EVP_PKEY *key, const uint8_t *key_id)
{
	char head[65], kid[65];
	hex(r->head, 32, head);
	printf("store %s: %llu chain records (%llu batches, %llu retention), head %lld %s\n", path,
	       (unsigned long long)r->records, (unsigned long long)r->batches,
	       (unsigned long long)r->prunes, (long long)r->head_seq, r->records ? head : "-");
	printf("  recomputed: %llu batches, %llu event rows, %llu capture rows, %llu DNS minutes\n",
	       (unsigned long long)r->content_checked, (unsigned long long)r->rows,
	       (unsigned long long)r->captures, (unsigned long long)r->dns_minutes);
	if (key != NULL) {
		hex(key_id, 32, kid);
		printf("  manifests: %llu, %llu signatures valid (key %.16s)\n",
		       (unsigned long long)r->manifests, (unsigned long long)r->manifests_signed,
		       kid);
	} else {
		printf("  manifests: %llu, signatures NOT checked (no public key: --pubkey FILE)\n",
		       (unsigned long long)r->manifests);
	}
	if (r->head_seq > r->manifest_seq)
		printf(
		    "  not yet in a manifest: records %lld..%lld (protected by the chain only)\n",
		    (long long)r->manifest_seq + 1, (long long)r->head_seq);
	if (r->rows_before_chain > 0)
		printf("  not covered: %llu event rows written before the chain began\n",
		       (unsigned long long)r->rows_before_chain);
	if (r->pruned_seq > 0)
		printf("  retention: rows of batches up to %lld pruned\n",
		       (long long)r->pruned_seq);
	if (r->pruned_minute > 0)
		printf("  DNS minutes before %lld not covered (pruned or before the chain)\n",
		       (long long)r->pruned_minute);
}

int verify_cli(int argc, char **argv)
{
	static const struct option opts[] = {{"store", required_argument, NULL, 's'},
					     {"db", required_argument, NULL, 's'},
					     {"config", required_argument, NULL, 'c'},
					     {"pubkey", required_argument, NULL, 'p'},
					     {"since", required_argument, NULL, 'S'},
					     {"help", no_argument, NULL, 'h'},
					     {NULL, 0, NULL, 0}};
	const char *store_path = NULL, *config_path = NULL, *pub_path = NULL, *since = NULL;
	static struct sinkd_config cfg;
	char default_pub[CONFIG_PATH_MAX + 8];
	int c;
	optind = 1;
	while ((c = getopt_long(argc, argv, "c:h", opts, NULL)) != -1) {
		switch (c) {
		case 's':
			store_path = optarg;
			break;
		case 'c':
			config_path = optarg;
			break;
		case 'p':
			pub_path = optarg;
			break;
		case 'S':
			since = optarg;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "sinkd verify: unexpected argument '%s'\n", argv[optind]);
		usage(stderr);
		return 2;
	}
	struct store_verify_opts o = {.out = stdout};
	if (since != NULL && store_time_parse(since, now_ns(), &o.since_ns) != 0) {
		fprintf(stderr,
			"sinkd verify: --since '%s': expected RFC 3339, a date or a "
			"duration like 2h\n",
			since);
		return 2;
	}
	config_defaults(&cfg);
	if (config_path != NULL && config_load(&cfg, config_path, stderr) != 0)
		return 1;
	if (store_path == NULL)
		store_path = cfg.store_path;
	if (pub_path == NULL && cfg.evidence_key[0] != '\0') {
		snprintf(default_pub, sizeof(default_pub), "%s.pub", cfg.evidence_key);
		if (access(default_pub, R_OK) == 0)
			pub_path = default_pub;
	}
	EVP_PKEY *key = NULL;
	uint8_t key_id[32] = {0};
	if (pub_path != NULL &&
	    ((key = load_pubkey(pub_path)) == NULL || store_key_id(key, key_id) != 0)) {
		EVP_PKEY_free(key);
		return 1;
	}
	o.pubkey = key;
	struct store *st = NULL;
	int ret = store_open(&st, store_path, true);
	if (ret == SINKD_ENOENT)
		fprintf(stderr, "sinkd verify: no store at %s\n", store_path);
	struct store_verify_result r;
	if (ret == 0)
		ret = store_verify(st, &o, &r);
	store_close(st);
	if (ret != 0) {
		EVP_PKEY_free(key);
		if (ret != SINKD_ENOENT)
			fprintf(stderr, "sinkd verify: %s: %s\n", store_path, sinkd_strerror(ret));
		return 1;
	}
	print_summary(store_path, &r, key, key_id);
	EVP_PKEY_free(key);
	if (r.ok) {
		printf("verify: OK\n");
		return 0;
	}
	if (r.first_bad_seq > 0)
		printf("verify: FAILED: first bad batch %lld (%llu failures)\n",
		       (long long)r.first_bad_seq, (unsigned long long)r.failures);
	else
		printf("verify: FAILED (%llu failures)\n", (unsigned long long)r.failures);
	return 1;
}
