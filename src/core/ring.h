/* Bounded single-producer single-consumer ring of fixed-size records.
 *
 * One producer thread calls ring_push, one consumer thread ring_pop /
 * ring_peek+ring_release. Lock-free (C11 atomics), allocation only in
 * ring_new. A push into a full ring fails with SINKD_EFULL and never blocks:
 * the caller counts the drop.
 */
#ifndef SINKD_CORE_RING_H
#define SINKD_CORE_RING_H

#include <stddef.h>
#include <stdint.h>

struct ring;

/* Create a ring of at least `capacity` records (rounded up to a power of
 * two) of `record_size` bytes each. Returns NULL on allocation failure. */
struct ring *ring_new(size_t capacity, size_t record_size);
void ring_free(struct ring *r);

/* Producer: copy one record in. 0 or SINKD_EFULL. */
int ring_push(struct ring *r, const void *record);

/* Producer: reserve the next free slot to fill in place (avoids a copy);
 * NULL when full. Publish with ring_commit. */
void *ring_reserve(struct ring *r);
void ring_commit(struct ring *r);

/* Consumer: copy one record out. 0 or SINKD_EAGAIN when empty. */
int ring_pop(struct ring *r, void *record);

/* Consumer: the oldest record in place (NULL when empty); it stays valid
 * until ring_release, which frees its slot. Avoids a copy. */
void *ring_peek(struct ring *r);
void ring_release(struct ring *r);

/* Records currently queued (approximate from any thread). */
size_t ring_count(const struct ring *r);
size_t ring_capacity(const struct ring *r);

#endif
