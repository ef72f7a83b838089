/* Bump (region) allocator for request-scoped memory: allocations are carved
 * from one fixed buffer and released all at once by arena_reset. Nothing is
 * freed individually; nothing touches malloc after arena_init. */
#ifndef SINKD_CORE_ARENA_H
#define SINKD_CORE_ARENA_H

#include <stddef.h>
#include <stdint.h>

struct arena {
	uint8_t *base;
	size_t size;
	size_t used;
	size_t high_water;	/* largest `used` seen, for sizing */
	uint64_t failures;	/* allocations refused (arena too small) */
};

/* Allocate the backing buffer. 0 or SINKD_ENOMEM. */
int arena_init(struct arena *a, size_t size);
void arena_deinit(struct arena *a);

/* 16-byte aligned allocation; NULL (and failures++) when exhausted. */
void *arena_alloc(struct arena *a, size_t len);

static inline void arena_reset(struct arena *a)
{
	if (a->used > a->high_water)
		a->high_water = a->used;
	a->used = 0;
}

#endif
