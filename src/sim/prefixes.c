/* Real address space for the simulator: the ranges each ASN announces
 * (@ip-location-db asn CSVs) and countries from the mmdb (libmaxminddb),
 * and the random streams every choice is drawn from. */
#include "sim/sim_internal.h"

#include "core/error.h"

#include <arpa/inet.h>
#include <errno.h>
#include <maxminddb.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

static uint64_t splitmix64(uint64_t *x)
{
	uint64_t z = (*x += 0x9e3779b97f4a7c15ull);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

void sim_rng_seed(struct sim_rng *r, uint64_t seed, uint64_t a, uint64_t b, uint64_t c)
{
	uint64_t x = seed;
	x = splitmix64(&x) ^ a;
	x = splitmix64(&x) ^ b;
	x = splitmix64(&x) ^ c;
	for (int i = 0; i < 4; i++)
		r->s[i] = splitmix64(&x);
}

static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

uint64_t sim_rng_next(struct sim_rng *r)
{
	uint64_t *s = r->s;
	uint64_t result = rotl(s[1] * 5, 7) * 9, t = s[1] << 17;
	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = rotl(s[3], 45);
	return result;
}

double sim_rng_unit(struct sim_rng *r) { return (double)(sim_rng_next(r) >> 11) * 0x1.0p-53; }

uint64_t sim_rng_below(struct sim_rng *r, uint64_t n)
{
	return (uint64_t)(((unsigned __int128)sim_rng_next(r) * n) >> 64);
}

/* ---- the ranges ------------------------------------------------------------ */

typedef unsigned __int128 u128;

static void u128_to_bytes(u128 v, uint8_t out[16])
{
	for (int i = 15; i >= 0; i--) {
		out[i] = (uint8_t)v;
		v >>= 8;
	}
}

static u128 bytes_to_u128(const uint8_t in[16])
{
	u128 v = 0;
	for (int i = 0; i < 16; i++)
		v = v << 8 | in[i];
	return v;
}

/* A decimal number of up to 39 digits ending at ',' . */
static bool decimal(const char **p, u128 *out)
{
	u128 v = 0;
	int n = 0;
	while (**p >= '0' && **p <= '9') {
		u128 next = v * 10 + (u128)(**p - '0');
		if (next / 10 != v)
			return false;
		v = next;
		(*p)++;
		n++;
	}
	*out = v;
	return n > 0 && *(*p)++ == ',';
}

/* "start,end,asn,org": the org is not needed. */
static bool parse_line(const char *line, bool v6, struct sim_range *r)
{
	u128 first, last, asn;
	const char *p = line;
	if (!decimal(&p, &first) || !decimal(&p, &last) || !decimal(&p, &asn) || last < first ||
	    asn > UINT32_MAX)
		return false;
	if (!v6 && last > UINT32_MAX)
		return false;
	if (!v6) {
		first |= (u128)0xffff << 32;
		last |= (u128)0xffff << 32;
	}
	u128_to_bytes(first, r->first);
	u128_to_bytes(last, r->last);
	r->asn = (uint32_t)asn;
	return true;
}

/* The /64s lying wholly inside an IPv6 range: indexes (address >> 64)
 * firstk..lastk; false when there is none. A bot owns one /64. */
static bool v6_slots(const struct sim_range *r, u128 *firstk, u128 *lastk)
{
	const u128 mask = 0xffffffffffffffffull;
	u128 first = bytes_to_u128(r->first), last = bytes_to_u128(r->last);
	*firstk = (first >> 64) + ((first & mask) != 0);
	if ((last & mask) == mask)
		*lastk = last >> 64;
	else if ((last >> 64) == 0)
		return false;
	else
		*lastk = (last >> 64) - 1;
	return *firstk <= *lastk;
}

static bool usable_v6(const struct sim_range *r)
{
	u128 a, b;
	return v6_slots(r, &a, &b);
}

static int load_csv(const char *path, bool v6, struct sim_range **out, size_t *n, char *err,
		    size_t errlen)
{
	FILE *f = fopen(path, "r");
	char *line = NULL;
	size_t cap = 0, alloc = 0, lineno = 0;
	int ret = 0;
	if (f == NULL) {
		snprintf(err, errlen, "%s: %s (give the path with --asn-v%c)", path,
			 strerror(errno), v6 ? '6' : '4');
		return SINKD_EIO;
	}
	*out = NULL;
	*n = 0;
	while (getline(&line, &cap, f) >= 0) {
		struct sim_range r;
		lineno++;
		if (!parse_line(line, v6, &r)) {
			snprintf(err, errlen,
				 "%s:%zu: expected start,end,asn,org with decimal numbers", path,
				 lineno);
			ret = SINKD_EPARSE;
			break;
		}
		if (v6 && !usable_v6(&r))
			continue;
		if (*n == alloc) {
			alloc = alloc ? alloc * 2 : 4096;
			struct sim_range *bigger = realloc(*out, alloc * sizeof(**out));
			if (bigger == NULL) {
				ret = SINKD_ENOMEM;
				break;
			}
			*out = bigger;
		}
		(*out)[(*n)++] = r;
	}
	if (ret == 0 && *n == 0) {
		snprintf(err, errlen, "%s: no address ranges", path);
		ret = SINKD_EPARSE;
	}
	free(line);
	fclose(f);
	return ret;
}

int sim_prefixes_load(struct sim_prefixes **out, const char *v4_csv, const char *v6_csv,
		      const char *mmdb, char *err, size_t errlen)
{
	struct sim_prefixes *px = calloc(1, sizeof(*px));
	int ret;
	if (px == NULL)
		return SINKD_ENOMEM;
	ret = load_csv(v4_csv, false, &px->v4, &px->n_v4, err, errlen);
	if (ret == 0)
		ret = load_csv(v6_csv, true, &px->v6, &px->n_v6, err, errlen);
	if (ret == 0) {
		px->mmdb = calloc(1, sizeof(*px->mmdb));
		if (px->mmdb == NULL) {
			ret = SINKD_ENOMEM;
		} else {
			int rc = MMDB_open(mmdb, MMDB_MODE_MMAP, px->mmdb);
			if (rc != MMDB_SUCCESS) {
				snprintf(err, errlen, "%s: %s (give the path with --geo-db)", mmdb,
					 MMDB_strerror(rc));
				free(px->mmdb);
				px->mmdb = NULL;
				ret = SINKD_EIO;
			}
		}
	}
	if (ret != 0) {
		sim_prefixes_free(px);
		return ret;
	}
	*out = px;
	return 0;
}

void sim_prefixes_free(struct sim_prefixes *px)
{
	if (px == NULL)
		return;
	if (px->mmdb != NULL) {
		MMDB_close(px->mmdb);
		free(px->mmdb);
	}
	free(px->v4);
	free(px->v6);
	free(px);
}

static uint32_t asn_of(const struct sim_range *t, size_t n, const uint8_t ip[16])
{
	size_t lo = 0, hi = n;
	while (lo < hi) { /* first range starting after ip */
		size_t mid = lo + (hi - lo) / 2;
		if (memcmp(t[mid].first, ip, 16) <= 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo > 0 && memcmp(t[lo - 1].last, ip, 16) >= 0)
		return t[lo - 1].asn;
	return 0;
}

void sim_prefixes_lookup(const struct sim_prefixes *px, const struct event_addr *a, char country[4],
			 uint32_t *asn)
{
	bool v4 = event_addr_is_v4(a);
	country[0] = '\0';
	*asn = v4 ? asn_of(px->v4, px->n_v4, a->ip) : asn_of(px->v6, px->n_v6, a->ip);
	if (px->mmdb == NULL)
		return;
	struct sockaddr_in sin = {.sin_family = AF_INET};
	struct sockaddr_in6 sin6 = {.sin6_family = AF_INET6};
	const struct sockaddr *sa = (const struct sockaddr *)&sin6;
	if (v4) {
		memcpy(&sin.sin_addr, a->ip + 12, 4);
		sa = (const struct sockaddr *)&sin;
	} else {
		memcpy(&sin6.sin6_addr, a->ip, 16);
	}
	int mmdb_err;
	MMDB_lookup_result_s res = MMDB_lookup_sockaddr(px->mmdb, sa, &mmdb_err);
	MMDB_entry_data_s data;
	if (mmdb_err != MMDB_SUCCESS || !res.found_entry ||
	    MMDB_get_value(&res.entry, &data, "country_code", NULL) != MMDB_SUCCESS ||
	    !data.has_data || data.type != MMDB_DATA_TYPE_UTF8_STRING || data.data_size > 3)
		return;
	memcpy(country, data.utf8_string, data.data_size);
	country[data.data_size] = '\0';
}

void sim_range_pick(const struct sim_range *r, struct sim_rng *rng, struct event_addr *out)
{
	u128 first = bytes_to_u128(r->first), last = bytes_to_u128(r->last), v;
	bool v4 = r->first[10] == 0xff && r->first[11] == 0xff &&
		  memcmp(r->first, "\0\0\0\0\0\0\0\0\0\0", 10) == 0;
	memset(out, 0, sizeof(*out));
	if (v4) {
		v = first + sim_rng_below(rng, (uint64_t)(last - first) + 1);
	} else {
		u128 firstk = 0, lastk = 0;
		v6_slots(r, &firstk, &lastk);
		u128 span = lastk - firstk + 1;
		u128 pick = span == 0 || span > UINT64_MAX ? sim_rng_next(rng)
							   : sim_rng_below(rng, (uint64_t)span);
		v = (firstk + pick) << 64;
	}
	u128_to_bytes(v, out->ip);
}
