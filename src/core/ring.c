#include "core/ring.h"
#include "core/error.h"

#include <stdalign.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

struct ring {
	alignas(64) atomic_size_t head;	/* next slot to write (producer) */
	alignas(64) atomic_size_t tail;	/* next slot to read (consumer) */
	alignas(64) size_t mask;
	size_t record_size;
	uint8_t *slots;
};

struct ring *ring_new(size_t capacity, size_t record_size)
{
	size_t cap = 1;
	while (cap < capacity)
		cap <<= 1;
	struct ring *r = aligned_alloc(64, sizeof(*r));
	if (r == NULL)
		return NULL;
	memset(r, 0, sizeof(*r));
	r->slots = calloc(cap, record_size);
	if (r->slots == NULL) {
		free(r);
		return NULL;
	}
	r->mask = cap - 1;
	r->record_size = record_size;
	atomic_init(&r->head, 0);
	atomic_init(&r->tail, 0);
	return r;
}

void ring_free(struct ring *r)
{
	if (r == NULL)
		return;
	free(r->slots);
	free(r);
}

void *ring_reserve(struct ring *r)
{
	size_t head = atomic_load_explicit(&r->head, memory_order_relaxed);
	size_t tail = atomic_load_explicit(&r->tail, memory_order_acquire);
	if (head - tail > r->mask)
		return NULL;
	return r->slots + (head & r->mask) * r->record_size;
}

void ring_commit(struct ring *r)
{
	size_t head = atomic_load_explicit(&r->head, memory_order_relaxed);
	atomic_store_explicit(&r->head, head + 1, memory_order_release);
}

int ring_push(struct ring *r, const void *record)
{
	void *slot = ring_reserve(r);
	if (slot == NULL)
		return SINKD_EFULL;
	memcpy(slot, record, r->record_size);
	ring_commit(r);
	return 0;
}

int ring_pop(struct ring *r, void *record)
{
	size_t tail = atomic_load_explicit(&r->tail, memory_order_relaxed);
	size_t head = atomic_load_explicit(&r->head, memory_order_acquire);
	if (tail == head)
		return SINKD_EAGAIN;
	memcpy(record, r->slots + (tail & r->mask) * r->record_size, r->record_size);
	atomic_store_explicit(&r->tail, tail + 1, memory_order_release);
	return 0;
}

void *ring_peek(struct ring *r)
{
	size_t tail = atomic_load_explicit(&r->tail, memory_order_relaxed);
	size_t head = atomic_load_explicit(&r->head, memory_order_acquire);
	if (tail == head)
		return NULL;
	return r->slots + (tail & r->mask) * r->record_size;
}

void ring_release(struct ring *r)
{
	size_t tail = atomic_load_explicit(&r->tail, memory_order_relaxed);
	atomic_store_explicit(&r->tail, tail + 1, memory_order_release);
}

size_t ring_count(const struct ring *r)
{
	size_t head = atomic_load_explicit(&r->head, memory_order_acquire);
	size_t tail = atomic_load_explicit(&r->tail, memory_order_acquire);
	return head - tail;
}

size_t ring_capacity(const struct ring *r)
{
	return r->mask + 1;
}
