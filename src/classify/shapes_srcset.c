/* Distinct sources of a shape: exact up to SRC_EXACT addresses, then a
 * HyperLogLog sketch (HLL_M one-byte registers, mergeable by max). */
#include "classify/shapes_internal.h"

#include "core/error.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static const uint8_t v4_prefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

void shapes_src_norm(const uint8_t ip[16], uint8_t out[16])
{
	memcpy(out, ip, 16);
	if (memcmp(ip, v4_prefix, sizeof(v4_prefix)) != 0)
		memset(out + 8, 0, 8);
}

static uint64_t mix(uint64_t x)
{
	x ^= x >> 30;
	x *= 0xbf58476d1ce4e5b9ull;
	x ^= x >> 27;
	x *= 0x94d049bb133111ebull;
	return x ^ (x >> 31);
}

static void hll_add(uint8_t *hll, const uint8_t ip[16])
{
	uint64_t a, b;
	memcpy(&a, ip, 8);
	memcpy(&b, ip + 8, 8);
	uint64_t h = mix(a ^ mix(b + 0x9e3779b97f4a7c15ull));
	unsigned idx = (unsigned)(h >> (64 - HLL_BITS));
	uint64_t rest = h << HLL_BITS;
	uint8_t rank =
	    rest == 0 ? (uint8_t)(64 - HLL_BITS + 1) : (uint8_t)(__builtin_clzll(rest) + 1);
	if (rank > hll[idx])
		hll[idx] = rank;
}

static int to_sketch(struct srcset *s)
{
	if (s->hll == NULL && (s->hll = malloc(HLL_M)) == NULL)
		return SINKD_ENOMEM;
	memset(s->hll, 0, HLL_M);
	for (unsigned i = 0; i < s->n; i++)
		hll_add(s->hll, s->exact[i]);
	s->n = 0;
	s->sketch = true;
	return 0;
}

int srcset_add(struct srcset *s, const uint8_t ip[16])
{
	if (s->sketch) {
		hll_add(s->hll, ip);
		return 0;
	}
	for (unsigned i = 0; i < s->n; i++) {
		if (memcmp(s->exact[i], ip, 16) == 0)
			return 0;
	}
	if (s->n < SRC_EXACT) {
		memcpy(s->exact[s->n++], ip, 16);
		return 0;
	}
	int ret = to_sketch(s);
	if (ret == 0)
		hll_add(s->hll, ip);
	return ret;
}

void srcset_reset(struct srcset *s)
{
	s->n = 0;
	s->sketch = false;
}

void srcset_free(struct srcset *s)
{
	free(s->hll);
	s->hll = NULL;
	srcset_reset(s);
}

int srcset_merge_blob(struct srcset *s, const uint8_t *blob, size_t len)
{
	if (len >= 1 && blob[0] == 'E' && (len - 1) % 16 == 0 && (len - 1) / 16 <= SRC_EXACT) {
		for (size_t i = 1; i < len; i += 16) {
			int ret = srcset_add(s, blob + i);
			if (ret != 0)
				return ret;
		}
		return 0;
	}
	if (len == 1 + HLL_M && blob[0] == 'H') {
		if (!s->sketch && to_sketch(s) != 0)
			return SINKD_ENOMEM;
		for (size_t i = 0; i < HLL_M; i++) {
			if (blob[1 + i] > s->hll[i])
				s->hll[i] = blob[1 + i];
		}
	}
	return 0;
}

size_t srcset_blob(const struct srcset *s, uint8_t *out)
{
	if (s->sketch) {
		out[0] = 'H';
		memcpy(out + 1, s->hll, HLL_M);
		return 1 + HLL_M;
	}
	out[0] = 'E';
	memcpy(out + 1, s->exact, (size_t)s->n * 16);
	return 1 + (size_t)s->n * 16;
}

static uint64_t hll_estimate(const uint8_t *hll)
{
	double sum = 0;
	unsigned zeros = 0;
	for (unsigned i = 0; i < HLL_M; i++) {
		sum += ldexp(1.0, -(int)hll[i]);
		zeros += hll[i] == 0;
	}
	double m = HLL_M;
	double e = 0.7213 / (1 + 1.079 / m) * m * m / sum;
	if (e <= 2.5 * m && zeros > 0)
		e = m * log(m / zeros);
	return (uint64_t)llround(e);
}

uint64_t srcset_estimate(const struct srcset *s) { return s->sketch ? hll_estimate(s->hll) : s->n; }

uint64_t shapes_blob_estimate(const uint8_t *blob, size_t len)
{
	if (len == 1 + HLL_M && blob[0] == 'H')
		return hll_estimate(blob + 1);
	if (len >= 1 && blob[0] == 'E')
		return (len - 1) / 16;
	return 0;
}
