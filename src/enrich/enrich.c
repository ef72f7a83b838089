/* Country and ASN lookups with a direct-mapped cache (docs/enrich.md). */
#include "enrich/enrich.h"

#include "core/config.h"
#include "core/error.h"
#include "core/log.h"
#include "enrich/enrich_internal.h"

#include <arpa/inet.h>
#include <errno.h>
#include <maxminddb.h>
#include <stdlib.h>
#include <string.h>

#define PATH_DEPTH 8

/* One cached answer. The key is the address for IPv4 and the /64 for
 * IPv6 (no registry allocates below a /64). */
struct cache_slot {
	uint8_t key[16];
	bool used;
	char country[4];
	uint32_t asn;
	uint32_t org; /* UINT32_MAX: none */
};

/* A lookup path split at dots ("country.iso_code"). */
struct mm_path {
	char buf[128];
	const char *part[PATH_DEPTH + 1];
};

struct enrich {
	MMDB_s country_db, asn_db;
	bool country_ok, asn_ok;
	struct mm_path country_path, asn_path, asn_org_path;
	bool have_org_path;
	struct asn_table csv;
	struct enrich_orgs orgs;
	struct cache_slot *cache;
	size_t cache_mask; /* n_slots - 1, n_slots a power of two; no cache when NULL */
	uint64_t lookups, hits, errors;
	bool warned_lookup;
};

static int path_split(struct mm_path *p, const char *text)
{
	memset(p, 0, sizeof(*p));
	size_t n = strlen(text);
	if (n == 0 || n >= sizeof(p->buf))
		return SINKD_EINVAL;
	memcpy(p->buf, text, n);
	int k = 0;
	for (char *s = p->buf; s != NULL;) {
		if (k == PATH_DEPTH)
			return SINKD_EINVAL;
		p->part[k++] = s;
		char *dot = strchr(s, '.');
		if (dot != NULL)
			*dot++ = '\0';
		if (*s == '\0')
			return SINKD_EINVAL;
		s = dot;
	}
	p->part[k] = NULL;
	return 0;
}

static bool open_mmdb(const char *path, const char *what, MMDB_s *db)
{
	if (path[0] == '\0')
		return false;
	int rc = MMDB_open(path, MMDB_MODE_MMAP, db);
	if (rc != MMDB_SUCCESS) {
		log_warn("enrich: %s database %s: %s%s%s; answers are \"unknown\"", what,
			 path, MMDB_strerror(rc), rc == MMDB_IO_ERROR ? ": " : "",
			 rc == MMDB_IO_ERROR ? strerror(errno) : "");
		return false;
	}
	return true;
}

/* The comma-separated CSV files; any failure warns once and drops all. */
static void load_csv(struct enrich *e, const char *list)
{
	char buf[sizeof(((struct sinkd_config *)0)->enrich_asn_csv)];
	char err[512];
	snprintf(buf, sizeof(buf), "%s", list);
	for (char *save = NULL, *f = strtok_r(buf, ",", &save); f != NULL;
	     f = strtok_r(NULL, ",", &save)) {
		while (*f == ' ')
			f++;
		if (*f == '\0')
			continue;
		int ret = asn_table_load(&e->csv, &e->orgs, f, err, sizeof(err));
		if (ret == SINKD_EIO) {
			log_warn("enrich: ASN ranges %s: %s; ASNs of its family are reported as "
				 "\"unknown\"",
				 err, strerror(errno));
		} else if (ret != 0) {
			log_warn("enrich: ASN ranges %s; ASNs are reported as \"unknown\"", err);
			asn_table_free(&e->csv);
			return;
		}
	}
	asn_table_sort(&e->csv);
}

int enrich_open(struct enrich **out, const struct sinkd_config *cfg)
{
	struct enrich *e = calloc(1, sizeof(*e));
	if (e == NULL)
		return SINKD_ENOMEM;
	if (path_split(&e->country_path, cfg->enrich_country_path) != 0 ||
	    path_split(&e->asn_path, cfg->enrich_asn_path) != 0) {
		log_err("enrich: bad lookup path (country_path '%s', asn_path '%s')",
			cfg->enrich_country_path, cfg->enrich_asn_path);
		free(e);
		return SINKD_EINVAL;
	}
	e->have_org_path = path_split(&e->asn_org_path, cfg->enrich_asn_org_path) == 0;
	e->country_ok = open_mmdb(cfg->enrich_country_db, "country", &e->country_db);
	e->asn_ok = open_mmdb(cfg->enrich_asn_db, "ASN", &e->asn_db);
	if (!e->asn_ok && cfg->enrich_asn_csv[0] != '\0')
		load_csv(e, cfg->enrich_asn_csv);
	if (cfg->enrich_cache_size > 0) {
		size_t n = 1;
		while (n < cfg->enrich_cache_size)
			n *= 2;
		e->cache = calloc(n, sizeof(*e->cache));
		if (e->cache == NULL) {
			enrich_close(e);
			return SINKD_ENOMEM;
		}
		e->cache_mask = n - 1;
	}
	*out = e;
	return 0;
}

void enrich_close(struct enrich *e)
{
	if (e == NULL)
		return;
	if (e->country_ok)
		MMDB_close(&e->country_db);
	if (e->asn_ok)
		MMDB_close(&e->asn_db);
	asn_table_free(&e->csv);
	enrich_orgs_free(&e->orgs);
	free(e->cache);
	free(e);
}

static void lookup_error(struct enrich *e, const char *what, int rc)
{
	e->errors++;
	if (!e->warned_lookup) {
		e->warned_lookup = true;
		log_warn("enrich: %s lookup failed (%s); answered \"unknown\" (further failures "
			 "are only counted)",
			 what, MMDB_strerror(rc));
	}
}

static bool mm_find(struct enrich *e, MMDB_s *db, const uint8_t ip[16], const char *what,
		    MMDB_lookup_result_s *res)
{
	struct sockaddr_in6 sa6 = {.sin6_family = AF_INET6};
	struct sockaddr_in sa4 = {.sin_family = AF_INET};
	const struct sockaddr *sa = (const struct sockaddr *)&sa6;
	static const uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
	if (memcmp(ip, mapped, 12) == 0) {
		memcpy(&sa4.sin_addr, ip + 12, 4);
		sa = (const struct sockaddr *)&sa4;
	} else {
		memcpy(&sa6.sin6_addr, ip, 16);
	}
	int rc = MMDB_SUCCESS;
	*res = MMDB_lookup_sockaddr(db, sa, &rc);
	if (rc != MMDB_SUCCESS) {
		lookup_error(e, what, rc);
		return false;
	}
	return res->found_entry;
}

static void mm_country(struct enrich *e, const uint8_t ip[16], char out[4])
{
	MMDB_lookup_result_s res;
	MMDB_entry_data_s d;
	if (!mm_find(e, &e->country_db, ip, "country", &res))
		return;
	int rc = MMDB_aget_value(&res.entry, &d, e->country_path.part);
	if (rc != MMDB_SUCCESS && rc != MMDB_LOOKUP_PATH_DOES_NOT_MATCH_DATA_ERROR) {
		lookup_error(e, "country", rc);
		return;
	}
	if (rc == MMDB_SUCCESS && d.has_data && d.type == MMDB_DATA_TYPE_UTF8_STRING &&
	    d.data_size >= 2 && d.data_size <= 3) {
		memcpy(out, d.utf8_string, d.data_size);
		out[d.data_size] = '\0';
	}
}

static void mm_asn(struct enrich *e, const uint8_t ip[16], uint32_t *asn, uint32_t *org)
{
	MMDB_lookup_result_s res;
	MMDB_entry_data_s d;
	if (!mm_find(e, &e->asn_db, ip, "ASN", &res))
		return;
	if (MMDB_aget_value(&res.entry, &d, e->asn_path.part) == MMDB_SUCCESS && d.has_data) {
		if (d.type == MMDB_DATA_TYPE_UINT32)
			*asn = d.uint32;
		else if (d.type == MMDB_DATA_TYPE_UINT16)
			*asn = d.uint16;
		else if (d.type == MMDB_DATA_TYPE_UINT64 && d.uint64 <= UINT32_MAX)
			*asn = (uint32_t)d.uint64;
	}
	if (e->have_org_path &&
	    MMDB_aget_value(&res.entry, &d, e->asn_org_path.part) == MMDB_SUCCESS && d.has_data &&
	    d.type == MMDB_DATA_TYPE_UTF8_STRING &&
	    enrich_orgs_intern(&e->orgs, d.utf8_string, d.data_size, org) != 0)
		*org = UINT32_MAX;
}

static void cache_key(const uint8_t ip[16], uint8_t key[16])
{
	static const uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
	memcpy(key, ip, 16);
	if (memcmp(ip, mapped, 12) != 0)
		memset(key + 8, 0, 8);
}

static uint64_t key_hash(const uint8_t key[16])
{
	uint64_t a, b;
	memcpy(&a, key, 8);
	memcpy(&b, key + 8, 8);
	uint64_t h = (a * 0x9e3779b97f4a7c15ull) ^ (b * 0xc2b2ae3d27d4eb4full);
	return h ^ (h >> 31);
}

static void lookup_slot(struct enrich *e, const uint8_t ip[16], struct cache_slot *s)
{
	s->country[0] = '\0';
	s->asn = 0;
	s->org = UINT32_MAX;
	if (e->country_ok)
		mm_country(e, ip, s->country);
	if (e->asn_ok)
		mm_asn(e, ip, &s->asn, &s->org);
	else
		asn_table_find(&e->csv, ip, &s->asn, &s->org);
}

void enrich_lookup(struct enrich *e, const uint8_t ip[16], struct enrich_result *out)
{
	struct cache_slot tmp, *s = &tmp;
	uint8_t key[16];
	cache_key(ip, key);
	e->lookups++;
	if (e->cache != NULL) {
		s = &e->cache[key_hash(key) & e->cache_mask];
		if (s->used && memcmp(s->key, key, 16) == 0) {
			e->hits++;
			goto done;
		}
	}
	lookup_slot(e, key, s);
	memcpy(s->key, key, 16);
	s->used = true;
done:
	memcpy(out->country, s->country, sizeof(out->country));
	out->asn = s->asn;
	out->org = s->org == UINT32_MAX ? "" : e->orgs.names[s->org];
}

const char *enrich_event(struct enrich *e, struct sinkd_event *ev)
{
	if (e == NULL)
		return "";
	struct enrich_result r;
	enrich_lookup(e, ev->src.ip, &r);
	memcpy(ev->country, r.country, sizeof(ev->country));
	ev->asn = r.asn;
	return r.org;
}

void enrich_stats(const struct enrich *e, struct enrich_stats *out)
{
	*out = (struct enrich_stats){.lookups = e->lookups,
				     .cache_hits = e->hits,
				     .errors = e->errors,
				     .country_ok = e->country_ok,
				     .asn_ok = e->asn_ok || e->csv.n4 + e->csv.n6 > 0,
				     .asn_ranges = e->csv.n4 + e->csv.n6};
}
