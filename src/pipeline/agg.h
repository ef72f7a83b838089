/* Private to src/pipeline/: the in-memory DNS per-minute aggregate.
 *
 * Open-addressing hash table keyed by (minute, resolver, qname, qtype,
 * rcode) counting queries since the last flush. Strings live in one arena
 * owned by the table; agg_reset empties it in O(1) amortised (entries are
 * tracked in insertion order, so a flush walks only what is used). Bounded:
 * agg_add refuses when the entry or string budget is exhausted, and the
 * pipeline flushes before that happens.
 */
#ifndef SINKD_PIPELINE_AGG_H
#define SINKD_PIPELINE_AGG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/event.h"
#include "store/store.h"

struct agg;

/* A table for at most max_entries keys. NULL on allocation failure. */
struct agg *agg_new(size_t max_entries);
void agg_free(struct agg *a);

/* Count one DNS event (also in `logged` when it is stored as a row too).
 * 0, or SINKD_EFULL when the table is at its bound (nothing counted: flush
 * and retry). */
int agg_add(struct agg *a, const struct sinkd_event *ev, bool logged);

size_t agg_count(const struct agg *a);	/* distinct keys */
bool agg_nearly_full(const struct agg *a);	/* >= 7/8 of entries or strings */
uint32_t agg_oldest_minute(const struct agg *a);	/* 0 when empty */

/* Rows for the store, valid until agg_reset/agg_free. *rows points into the
 * table. */
void agg_rows(struct agg *a, const struct store_dns_agg **rows, size_t *n);

/* Sort the rows into store order (store_dns_aggs_sort). The table can then
 * only be read and reset, no longer added to. */
void agg_sort(struct agg *a);

void agg_reset(struct agg *a);

#endif
