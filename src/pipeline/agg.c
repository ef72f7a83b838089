#include "pipeline/agg.h"

#include "core/error.h"

#include <stdlib.h>
#include <string.h>

#define AVG_NAME_BUDGET 48	/* string bytes per entry before "full" */

struct agg {
	struct store_dns_agg *rows;	/* insertion order */
	size_t n, max;
	uint32_t *slots;		/* row index + 1; 0 = empty */
	size_t mask;
	char *strings;
	size_t str_used, str_size;
	uint32_t oldest_minute;
	bool sorted;			/* rows reordered: slots are stale */
};

struct agg *agg_new(size_t max_entries)
{
	struct agg *a = calloc(1, sizeof(*a));
	if (a == NULL)
		return NULL;
	size_t slots = 1;
	while (slots < 2 * max_entries)
		slots <<= 1;
	a->max = max_entries;
	a->mask = slots - 1;
	a->str_size = max_entries * AVG_NAME_BUDGET;
	a->rows = malloc(max_entries * sizeof(*a->rows));
	a->slots = calloc(slots, sizeof(*a->slots));
	a->strings = malloc(a->str_size);
	if (a->rows == NULL || a->slots == NULL || a->strings == NULL) {
		agg_free(a);
		return NULL;
	}
	return a;
}

void agg_free(struct agg *a)
{
	if (a == NULL)
		return;
	free(a->rows);
	free(a->slots);
	free(a->strings);
	free(a);
}

static uint64_t hash_key(uint32_t minute, const uint8_t *ip, uint16_t qtype, uint16_t rcode,
			 const char *qname, size_t qlen)
{
	uint64_t h = 0xcbf29ce484222325ull ^ ((uint64_t)minute << 32 | (uint64_t)qtype << 16 | rcode);
	for (int i = 0; i < 16; i++)
		h = (h ^ ip[i]) * 0x100000001b3ull;
	for (size_t i = 0; i < qlen; i++)
		h = (h ^ (uint8_t)qname[i]) * 0x100000001b3ull;
	return h ^ (h >> 29);
}

static const char *intern(struct agg *a, const char *s, size_t len)
{
	if (a->str_size - a->str_used < len + 1)
		return NULL;
	char *dst = a->strings + a->str_used;
	memcpy(dst, s, len);
	dst[len] = '\0';
	a->str_used += len + 1;
	return dst;
}

int agg_add(struct agg *a, const struct sinkd_event *ev, bool logged)
{
	uint32_t minute = (uint32_t)(ev->ts_ns / 60000000000ull) * 60u;
	size_t qlen = strnlen(ev->qname, sizeof(ev->qname) - 1);
	uint64_t h = hash_key(minute, ev->src.ip, ev->qtype, ev->rcode, ev->qname, qlen);
	size_t i = h & a->mask;
	for (;; i = (i + 1) & a->mask) {
		uint32_t idx = a->slots[i];
		if (idx == 0)
			break;
		struct store_dns_agg *r = &a->rows[idx - 1];
		if (r->minute == minute && r->qtype == ev->qtype && r->rcode == ev->rcode &&
		    memcmp(r->resolver, ev->src.ip, 16) == 0 && strcmp(r->qname, ev->qname) == 0) {
			r->count++;
			r->logged += logged;
			return 0;
		}
	}
	if (a->n == a->max)
		return SINKD_EFULL;
	const char *qname = intern(a, ev->qname, qlen);
	if (qname == NULL)
		return SINKD_EFULL;
	/* The zone is a suffix of the name: share its bytes when it is. */
	size_t zlen = strnlen(ev->zone, sizeof(ev->zone) - 1);
	const char *zone = qname + qlen;
	if (zlen > 0 && zlen <= qlen && strcmp(qname + qlen - zlen, ev->zone) == 0)
		zone = qname + qlen - zlen;
	else if (zlen > 0 && (zone = intern(a, ev->zone, zlen)) == NULL)
		return SINKD_EFULL;
	struct store_dns_agg *r = &a->rows[a->n];
	*r = (struct store_dns_agg){.minute = minute, .qtype = ev->qtype, .rcode = ev->rcode,
				    .qname = qname, .zone = zone, .count = 1,
				    .logged = logged};
	memcpy(r->resolver, ev->src.ip, 16);
	a->slots[i] = (uint32_t)++a->n;
	if (a->oldest_minute == 0 || minute < a->oldest_minute)
		a->oldest_minute = minute;
	return 0;
}

size_t agg_count(const struct agg *a)
{
	return a->n;
}

bool agg_nearly_full(const struct agg *a)
{
	return a->n >= a->max - a->max / 8 || a->str_used >= a->str_size - a->str_size / 8;
}

uint32_t agg_oldest_minute(const struct agg *a)
{
	return a->oldest_minute;
}

void agg_rows(struct agg *a, const struct store_dns_agg **rows, size_t *n)
{
	*rows = a->rows;
	*n = a->n;
}

void agg_sort(struct agg *a)
{
	store_dns_aggs_sort(a->rows, a->n);
	a->sorted = true;
}

void agg_reset(struct agg *a)
{
	if (a->n == 0)
		return;
	/* Sparse tables: clear only the used slots; dense (or sorted, whose
	 * slots no longer match the rows) ones: clear all. */
	if (a->n < (a->mask + 1) / 64 && !a->sorted) {
		for (size_t k = 0; k < a->n; k++) {
			const struct store_dns_agg *r = &a->rows[k];
			size_t qlen = strlen(r->qname);
			size_t i = hash_key(r->minute, r->resolver, r->qtype, r->rcode, r->qname, qlen) &
				   a->mask;
			while (a->slots[i] != k + 1)
				i = (i + 1) & a->mask;
			a->slots[i] = 0;
		}
	} else {
		memset(a->slots, 0, (a->mask + 1) * sizeof(*a->slots));
	}
	a->n = 0;
	a->str_used = 0;
	a->oldest_minute = 0;
	a->sorted = false;
}
