/* Bounded single-producer single-consumer ring of variable-length records
 * (an event and its payload). Same contract as ring.h: one producer thread,
 * one consumer thread, lock-free, allocation only in vring_new, a reserve
 * that does not fit fails at once (the caller counts a drop).
 */
#ifndef SINKD_CORE_VRING_H
#define SINKD_CORE_VRING_H

#include <stddef.h>

struct vring;

/* A ring of at least `bytes` bytes (rounded up to a power of two). A
 * record may be at most a quarter of that. NULL on allocation failure. */
struct vring *vring_new(size_t bytes);
void vring_free(struct vring *r);

/* Producer: room for a record of len bytes (8-byte aligned), or NULL when
 * full or too large; publish with vring_commit(r, len), same len. */
void *vring_reserve(struct vring *r, size_t len);
void vring_commit(struct vring *r, size_t len);

/* Consumer: the oldest record and its length, or NULL when empty; valid
 * until vring_release. */
void *vring_peek(struct vring *r, size_t *len);
void vring_release(struct vring *r);

size_t vring_used(const struct vring *r);	/* bytes in use (approximate) */
size_t vring_capacity(const struct vring *r);

#endif
