#include "core/arena.h"
#include "core/error.h"

#include <stdlib.h>

int arena_init(struct arena *a, size_t size)
{
	a->base = aligned_alloc(16, (size + 15) & ~(size_t)15);
	if (a->base == NULL)
		return SINKD_ENOMEM;
	a->size = size;
	a->used = 0;
	a->high_water = 0;
	a->failures = 0;
	return 0;
}

void arena_deinit(struct arena *a)
{
	free(a->base);
	a->base = NULL;
	a->size = a->used = 0;
}

void *arena_alloc(struct arena *a, size_t len)
{
	size_t start = (a->used + 15) & ~(size_t)15;
	if (start > a->size || len > a->size - start) {
		a->failures++;
		return NULL;
	}
	a->used = start + len;
	return a->base + start;
}
