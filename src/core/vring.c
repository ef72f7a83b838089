#include "core/vring.h"

#include <stdalign.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define HDR 8u
#define WRAP UINT32_MAX

struct vring {
	alignas(64) atomic_size_t head;	/* bytes written (producer) */
	alignas(64) atomic_size_t tail;	/* bytes consumed (consumer) */
	alignas(64) size_t size;
	size_t mask;
	size_t skip;			/* producer: padding before the reserved record */
	size_t peeked;			/* consumer: size of the record peeked */
	uint8_t *buf;
};

static size_t align8(size_t n)
{
	return (n + 7u) & ~(size_t)7u;
}

struct vring *vring_new(size_t bytes)
{
	size_t size = 4096;
	while (size < bytes)
		size <<= 1;
	struct vring *r = aligned_alloc(64, sizeof(*r));
	if (r == NULL)
		return NULL;
	memset(r, 0, sizeof(*r));
	r->buf = aligned_alloc(64, size);
	if (r->buf == NULL) {
		free(r);
		return NULL;
	}
	r->size = size;
	r->mask = size - 1;
	atomic_init(&r->head, 0);
	atomic_init(&r->tail, 0);
	return r;
}

void vring_free(struct vring *r)
{
	if (r == NULL)
		return;
	free(r->buf);
	free(r);
}

void *vring_reserve(struct vring *r, size_t len)
{
	size_t need = HDR + align8(len);
	if (need > r->size / 4)
		return NULL;
	size_t head = atomic_load_explicit(&r->head, memory_order_relaxed);
	size_t tail = atomic_load_explicit(&r->tail, memory_order_acquire);
	size_t pos = head & r->mask;
	size_t to_end = r->size - pos;
	size_t skip = need <= to_end ? 0 : to_end;
	if (r->size - (head - tail) < skip + need)
		return NULL;
	if (skip > 0) {
		uint32_t wrap = WRAP;
		memcpy(r->buf + pos, &wrap, sizeof(wrap));
		pos = 0;
	}
	r->skip = skip;
	uint32_t l = (uint32_t)len;
	memcpy(r->buf + pos, &l, sizeof(l));
	return r->buf + pos + HDR;
}

void vring_commit(struct vring *r, size_t len)
{
	size_t head = atomic_load_explicit(&r->head, memory_order_relaxed);
	atomic_store_explicit(&r->head, head + r->skip + HDR + align8(len), memory_order_release);
	r->skip = 0;
}

void *vring_peek(struct vring *r, size_t *len)
{
	size_t tail = atomic_load_explicit(&r->tail, memory_order_relaxed);
	size_t head = atomic_load_explicit(&r->head, memory_order_acquire);
	if (tail == head)
		return NULL;
	size_t pos = tail & r->mask;
	uint32_t l;
	memcpy(&l, r->buf + pos, sizeof(l));
	if (l == WRAP) {
		/* Padding to the end of the buffer: the record starts at 0. */
		tail += r->size - pos;
		atomic_store_explicit(&r->tail, tail, memory_order_release);
		pos = 0;
		memcpy(&l, r->buf, sizeof(l));
	}
	r->peeked = HDR + align8(l);
	*len = l;
	return r->buf + pos + HDR;
}

void vring_release(struct vring *r)
{
	size_t tail = atomic_load_explicit(&r->tail, memory_order_relaxed);
	atomic_store_explicit(&r->tail, tail + r->peeked, memory_order_release);
	r->peeked = 0;
}

size_t vring_used(const struct vring *r)
{
	return atomic_load_explicit(&r->head, memory_order_acquire) -
	       atomic_load_explicit(&r->tail, memory_order_acquire);
}

size_t vring_capacity(const struct vring *r)
{
	return r->size;
}
