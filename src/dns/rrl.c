/* Response rate limiting (in the spirit of BIND/Knot RRL).
 *
 * Responses are counted per (source prefix, response class, zone) in a
 * fixed table of 64-bit atomic buckets shared by every worker: the high 32
 * bits hold the current second, the low 32 the responses counted in it.
 * Above `rate` in one second a response is dropped, except every `slip`-th
 * one, which is sent truncated (TC=1) so a real client retries over TCP.
 * Colliding keys share a bucket, which can only make limiting stricter.
 * The table is never locked and never allocates after dns_rrl_new.
 */
#include "dns/dns_internal.h"

#include "core/error.h"

#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

struct dns_rrl {
	unsigned rate;
	unsigned slip;
	unsigned v4_prefix, v6_prefix;
	uint64_t seed;
	size_t mask;
	_Atomic uint64_t *buckets;
};

int dns_rrl_new(struct dns_rrl **out, const struct sinkd_config *cfg)
{
	*out = NULL;
	if (!cfg->rrl_enabled || cfg->rrl_rate == 0)
		return 0;
	struct dns_rrl *r = calloc(1, sizeof(*r));
	if (r == NULL)
		return SINKD_ENOMEM;
	size_t size = 1;
	while (size < cfg->rrl_table_size)
		size <<= 1;
	r->buckets = calloc(size, sizeof(*r->buckets));
	if (r->buckets == NULL) {
		free(r);
		return SINKD_ENOMEM;
	}
	r->mask = size - 1;
	r->rate = cfg->rrl_rate;
	r->slip = cfg->rrl_slip;
	r->v4_prefix = cfg->rrl_ipv4_prefix;
	r->v6_prefix = cfg->rrl_ipv6_prefix;
	if (getrandom(&r->seed, sizeof(r->seed), 0) != sizeof(r->seed))
		r->seed = (uint64_t)(uintptr_t)r ^ 0x9e3779b97f4a7c15ull;
	*out = r;
	return 0;
}

void dns_rrl_free(struct dns_rrl *r)
{
	if (r == NULL)
		return;
	free(r->buckets);
	free(r);
}

static uint64_t mix64(uint64_t x)
{
	x ^= x >> 30;
	x *= 0xbf58476d1ce4e5b9ull;
	x ^= x >> 27;
	x *= 0x94d049bb133111ebull;
	x ^= x >> 31;
	return x;
}

static void mask_prefix(uint8_t *ip, size_t len, unsigned bits)
{
	for (size_t i = 0; i < len; i++) {
		unsigned keep = bits >= 8 ? 8 : bits;
		ip[i] &= (uint8_t)(0xff00u >> keep);
		bits -= keep;
	}
}

static uint64_t key_hash(const struct dns_rrl *r, const struct sockaddr_storage *src,
			 enum dns_rrl_class cls, long zone)
{
	uint8_t ip[16] = {0};
	if (src->ss_family == AF_INET) {
		memcpy(ip, &((const struct sockaddr_in *)src)->sin_addr, 4);
		mask_prefix(ip, 4, r->v4_prefix);
	} else if (src->ss_family == AF_INET6) {
		memcpy(ip, &((const struct sockaddr_in6 *)src)->sin6_addr, 16);
		mask_prefix(ip, 16, r->v6_prefix);
	}
	uint64_t a, b;
	memcpy(&a, ip, 8);
	memcpy(&b, ip + 8, 8);
	uint64_t h = mix64(a ^ r->seed);
	h = mix64(h ^ b ^ ((uint64_t)src->ss_family << 56));
	return mix64(h ^ ((uint64_t)cls << 40) ^ (uint64_t)zone);
}

enum dns_rrl_action dns_rrl_check(struct dns_rrl *r, const struct sockaddr_storage *src,
				  enum dns_rrl_class cls, long zone, uint32_t now_s)
{
	_Atomic uint64_t *b = &r->buckets[key_hash(r, src, cls, zone) & r->mask];
	uint64_t old = atomic_load_explicit(b, memory_order_relaxed);
	uint64_t next;
	do {
		uint32_t count = (uint32_t)(old >> 32) == now_s ? (uint32_t)old : 0;
		if (count < UINT32_MAX)
			count++;
		next = ((uint64_t)now_s << 32) | count;
	} while (!atomic_compare_exchange_weak_explicit(b, &old, next, memory_order_relaxed,
							memory_order_relaxed));
	uint32_t count = (uint32_t)next;
	if (count <= r->rate)
		return RRL_PASS;
	if (r->slip > 0 && (count - r->rate) % r->slip == 0)
		return RRL_SLIP;
	return RRL_DROP;
}
