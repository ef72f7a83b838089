/* Seized-domain registry benchmark.
 *
 * Usage: bench_domains [N [QUERIES]]
 *   N        zones to generate (default 1000000)
 *   QUERIES  lookups per row of the match table (default 2000000)
 *
 * Generates N random two-label domains, measures adding them
 * (domains_add: normalisation + insert), loading the same names from a file
 * (domains_load_file), the memory the registry holds (heap bytes in use from
 * mallinfo2, and VmRSS growth), then domains_match_wire throughput for hits
 * and misses on query names of 2..6 labels. A peer runs beside it: binary
 * search over the sorted names, one search per suffix, the obvious
 * alternative without a hash table. Build in Release:
 *   cmake -S . -B build-rel -G Ninja -DCMAKE_BUILD_TYPE=Release
 *   cmake --build build-rel --target bench_domains && ./build-rel/bench_domains
 */
#include <malloc.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "domains/domains.h"
#include "domains/domains_internal.h"

#define NAME_LEN 48
#define MAX_QLABELS 6

static uint64_t rng_state = 0x2545f4914f6cdd1dULL;

static uint64_t rng(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static long rss_kb(void)
{
	FILE *f = fopen("/proc/self/status", "r");
	char line[256];
	long kb = -1;
	while (f && fgets(line, sizeof(line), f)) {
		if (sscanf(line, "VmRSS: %ld kB", &kb) == 1)
			break;
	}
	if (f)
		fclose(f);
	return kb;
}

static void random_label(char *out, size_t min, size_t max)
{
	static const char alpha[] = "abcdefghijklmnopqrstuvwxyz0123456789";
	size_t n = min + rng() % (max - min + 1);
	out[0] = alpha[rng() % 26];
	for (size_t i = 1; i < n; i++)
		out[i] = alpha[rng() % 36];
	out[n] = '\0';
}

/* N distinct zones "label.tld"; distinctness through a counter suffix. */
static char *gen_zones(size_t n)
{
	static const char *const tlds[] = {"com", "net", "org", "info", "ru", "biz", "cn", "de"};
	char *names = malloc(n * NAME_LEN);
	char label[24];
	for (size_t i = 0; names && i < n; i++) {
		random_label(label, 4, 12);
		snprintf(names + i * NAME_LEN, NAME_LEN, "%s%zx.%s", label, i, tlds[rng() % 8]);
	}
	return names;
}

/* Presentation name to lowercase wire. */
static size_t to_wire(const char *name, uint8_t *wire)
{
	size_t w = 0;
	while (*name) {
		size_t len = strcspn(name, ".");
		wire[w++] = (uint8_t)len;
		memcpy(wire + w, name, len);
		w += len;
		name += len + (name[len] == '.');
	}
	wire[w++] = 0;
	return w;
}

struct queries {
	uint8_t (*wire)[256];
	char (*text)[256];
	size_t n;
};

/* labels-2 random labels in front of a zone (hit) or of a fresh name (miss). */
static void gen_queries(struct queries *q, const char *zones, size_t nzones, unsigned labels,
			bool hit)
{
	char label[24], name[256];
	for (size_t i = 0; i < q->n; i++) {
		name[0] = '\0';
		for (unsigned k = 2; k < labels; k++) {
			random_label(label, 1, 10);
			strcat(name, label);
			strcat(name, ".");
		}
		if (hit) {
			strcat(name, zones + (rng() % nzones) * NAME_LEN);
		} else {
			random_label(label, 4, 12);
			strcat(name, label);
			strcat(name, "-miss.com");
		}
		to_wire(name, q->wire[i]);
		strcpy(q->text[i], name);
	}
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Peer: longest-suffix match by binary search, one per label boundary. */
static long peer_match(const char **sorted, size_t n, const char *name)
{
	for (const char *s = name;; s++) {
		const char **hit = bsearch(&s, sorted, n, sizeof(*sorted), cmp_str);
		if (hit)
			return hit - sorted;
		s = strchr(s, '.');
		if (!s)
			return -1;
	}
}

static double time_ours(const struct domain_registry *reg, const struct queries *q, size_t lookups,
			long *found)
{
	size_t off;
	long hits = 0;
	double t0 = now();
	for (size_t i = 0; i < lookups; i++)
		hits += domains_match_wire(reg, q->wire[i % q->n], &off) >= 0;
	*found = hits;
	return (now() - t0) * 1e9 / (double)lookups;
}

static double time_peer(const char **sorted, size_t n, const struct queries *q, size_t lookups)
{
	long hits = 0;
	double t0 = now();
	for (size_t i = 0; i < lookups; i++)
		hits += peer_match(sorted, n, q->text[i % q->n]) >= 0;
	double ns = (now() - t0) * 1e9 / (double)lookups;
	return hits >= 0 ? ns : 0;
}

static void bench_match(const struct domain_registry *reg, const char *zones, size_t nzones,
			size_t lookups)
{
	struct queries q = {.n = 65536};
	q.wire = malloc(q.n * sizeof(*q.wire));
	q.text = malloc(q.n * sizeof(*q.text));
	const char **sorted = malloc(nzones * sizeof(*sorted));
	if (!q.wire || !q.text || !sorted) {
		fprintf(stderr, "bench_domains: out of memory\n");
		exit(1);
	}
	for (size_t i = 0; i < nzones; i++)
		sorted[i] = zones + i * NAME_LEN;
	qsort(sorted, nzones, sizeof(*sorted), cmp_str);
	printf("\nmatch (%zu lookups per row, %zu distinct query names)\n", lookups, q.n);
	printf("%-6s %-5s %12s %10s %14s %8s %9s\n", "labels", "kind", "lookups/s", "ns/lookup",
	       "peer ns/lookup", "speedup", "found");
	for (unsigned labels = 2; labels <= MAX_QLABELS; labels++) {
		for (int hit = 1; hit >= 0; hit--) {
			long found;
			gen_queries(&q, zones, nzones, labels, hit);
			double ns = time_ours(reg, &q, lookups, &found);
			double peer = time_peer(sorted, nzones, &q, lookups / 4);
			printf("%-6u %-5s %12.0f %10.1f %14.1f %7.1fx %8.1f%%\n", labels,
			       hit ? "hit" : "miss", 1e9 / ns, ns, peer, peer / ns,
			       100.0 * (double)found / (double)lookups);
		}
	}
	free(sorted);
	free(q.wire);
	free(q.text);
}

static double bench_load_file(const char *zones, size_t n)
{
	char path[] = "/tmp/bench_domains.XXXXXX";
	int fd = mkstemp(path);
	FILE *f = fd >= 0 ? fdopen(fd, "w") : NULL;
	if (!f)
		return -1;
	for (size_t i = 0; i < n; i++)
		fprintf(f, "%s\n", zones + i * NAME_LEN);
	fclose(f);
	struct domain_registry *reg = domains_new();
	struct domains_load_stats st;
	double t0 = now();
	int rc = domains_load_file(reg, path, stderr, &st);
	double t = now() - t0;
	unlink(path);
	domains_free(reg);
	return rc == 0 && st.loaded == n ? t : -1;
}

int main(int argc, char **argv)
{
	size_t n = argc > 1 ? strtoull(argv[1], NULL, 10) : 1000000;
	size_t lookups = argc > 2 ? strtoull(argv[2], NULL, 10) : 2000000;
	char *zones = gen_zones(n);
	if (!zones || n == 0) {
		fprintf(stderr, "usage: bench_domains [N [QUERIES]]\n");
		return 2;
	}
	struct mallinfo2 m0 = mallinfo2();
	long rss0 = rss_kb();
	struct domain_registry *reg = domains_new();
	double t0 = now();
	for (size_t i = 0; i < n; i++) {
		if (domains_add(reg, zones + i * NAME_LEN, NULL) != 0) {
			fprintf(stderr, "bench_domains: cannot add %s\n", zones + i * NAME_LEN);
			return 1;
		}
	}
	double t_add = now() - t0;
	domains_shrink(reg);
	struct mallinfo2 m1 = mallinfo2();
	long rss1 = rss_kb();
	double heap = (double)(m1.uordblks + m1.hblkhd - m0.uordblks - m0.hblkhd);
	size_t total = 0;
	for (size_t i = 0; i < n; i++)
		total += strlen(zones + i * NAME_LEN);
	printf("zones %zu (average name %.1f bytes)\n", n, (double)total / (double)n);
	printf("%-34s %10.3f s  %8.0f ns/domain\n", "domains_add (normalise+insert)", t_add,
	       t_add * 1e9 / (double)n);
	double t_load = bench_load_file(zones, n);
	printf("%-34s %10.3f s  %8.0f ns/domain\n", "domains_load_file (list file)", t_load,
	       t_load * 1e9 / (double)n);
	printf("%-34s %10.1f MB  %8.1f bytes/domain\n", "heap held by the registry", heap / 1e6,
	       heap / (double)n);
	printf("%-34s %10.1f MB  %8.1f bytes/domain\n", "VmRSS growth", (double)(rss1 - rss0) / 1e3,
	       (double)(rss1 - rss0) * 1024.0 / (double)n);
	bench_match(reg, zones, n, lookups);
	domains_free(reg);
	free(zones);
	return 0;
}
