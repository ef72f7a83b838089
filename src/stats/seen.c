/* "Seen before": a Bloom filter of source keys, so that new and returning
 * sources are told apart in bounded memory (docs/population.md, "New and
 * returning sources"). k = 7 bit positions from one 128-bit double hash
 * (Kirsch-Mitzenmacher). At 9.6 bits per source the false-positive rate
 * is 1%: a false positive counts a new source as returning. */
#include "stats/stats.h"

#include "core/error.h"

#include <stdlib.h>
#include <string.h>

#define SEEN_K 7

struct stats_seen {
	uint8_t *bits;
	size_t bytes;
	uint64_t n_bits;
};

int stats_seen_new(struct stats_seen **out, size_t bytes)
{
	if (bytes < 64)
		return SINKD_EINVAL;
	struct stats_seen *s = calloc(1, sizeof(*s));
	if (s == NULL)
		return SINKD_ENOMEM;
	s->bits = calloc(bytes, 1);
	if (s->bits == NULL) {
		free(s);
		return SINKD_ENOMEM;
	}
	s->bytes = bytes;
	s->n_bits = (uint64_t)bytes * 8;
	*out = s;
	return 0;
}

void stats_seen_free(struct stats_seen *s)
{
	if (s == NULL)
		return;
	free(s->bits);
	free(s);
}

bool stats_seen_check_add(struct stats_seen *s, const uint8_t key[16])
{
	uint64_t h1 = hll_hash(key, 16);
	uint64_t h2 = hll_hash(&h1, 8) | 1;
	bool seen = true;
	for (int i = 0; i < SEEN_K; i++) {
		uint64_t bit = (h1 + (uint64_t)i * h2) % s->n_bits;
		uint8_t mask = (uint8_t)(1u << (bit & 7));
		if ((s->bits[bit >> 3] & mask) == 0) {
			seen = false;
			s->bits[bit >> 3] |= mask;
		}
	}
	return seen;
}

const uint8_t *stats_seen_bits(const struct stats_seen *s, size_t *len)
{
	*len = s->bytes;
	return s->bits;
}

int stats_seen_load(struct stats_seen *s, const uint8_t *bits, size_t len)
{
	if (len != s->bytes)
		return SINKD_EINVAL;
	for (size_t i = 0; i < len; i++)
		s->bits[i] |= bits[i];
	return 0;
}
