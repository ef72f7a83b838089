/* The shape table of the pipeline thread: open addressing on the shape
 * hash, entries evicted by a clock (second chance) among those with no
 * pending deltas, and a per-batch table of (shape, zone) counts. */
#include "classify/shapes_internal.h"

#include "core/error.h"

#include <stdlib.h>
#include <string.h>

struct entry {
	struct shape_key key;
	uint64_t hash;
	bool used, dirty, ref;
	uint64_t count;
	int64_t first_ns, last_ns;
	struct srcset src;
	unsigned n_examples, examples_sent;
	struct shape_example ex[SHAPE_EXAMPLES];
};

struct shapes {
	struct entry *entries; /* max */
	unsigned max, n_used, hand;
	uint32_t *index; /* n_index slots: entry + 1, 0 = empty */
	size_t n_index;
	struct shape_domain_delta *pairs; /* this batch's (entry, zone) counts */
	uint32_t *pair_index;		  /* 2 * SHAPE_DOMAIN_PAIRS slots */
	size_t n_pairs;
	struct shapes_stats stats;
};

int shapes_new(struct shapes **out, unsigned max)
{
	struct shapes *s = calloc(1, sizeof(*s));
	if (s == NULL)
		return SINKD_ENOMEM;
	s->max = max < 16 ? 16 : max;
	s->n_index = 1;
	while (s->n_index < 2 * (size_t)s->max)
		s->n_index *= 2;
	s->entries = calloc(s->max, sizeof(*s->entries));
	s->index = calloc(s->n_index, sizeof(*s->index));
	s->pairs = calloc(SHAPE_DOMAIN_PAIRS, sizeof(*s->pairs));
	s->pair_index = calloc(2 * SHAPE_DOMAIN_PAIRS, sizeof(*s->pair_index));
	if (s->entries == NULL || s->index == NULL || s->pairs == NULL || s->pair_index == NULL) {
		shapes_free(s);
		return SINKD_ENOMEM;
	}
	*out = s;
	return 0;
}

void shapes_free(struct shapes *s)
{
	if (s == NULL)
		return;
	if (s->entries != NULL) {
		for (unsigned i = 0; i < s->max; i++)
			srcset_free(&s->entries[i].src);
	}
	free(s->entries);
	free(s->index);
	free(s->pairs);
	free(s->pair_index);
	free(s);
}

static uint64_t key_hash(const struct shape_key *k) { return strtoull(k->id, NULL, 16); }

static bool key_eq(const struct shape_key *a, const struct shape_key *b)
{
	return a->kind == b->kind && strcmp(a->id, b->id) == 0 &&
	       strcmp(a->method, b->method) == 0 && strcmp(a->path, b->path) == 0 &&
	       strcmp(a->params, b->params) == 0 && strcmp(a->headers, b->headers) == 0 &&
	       strcmp(a->body, b->body) == 0 && strcmp(a->length, b->length) == 0 &&
	       strcmp(a->entropy, b->entropy) == 0;
}

/* Index slot holding the key, or the empty slot where it would go. */
static size_t index_find(const struct shapes *s, const struct shape_key *k, uint64_t h)
{
	size_t mask = s->n_index - 1, i = h & mask;
	while (s->index[i] != 0) {
		const struct entry *e = &s->entries[s->index[i] - 1];
		if (e->hash == h && key_eq(&e->key, k))
			return i;
		i = (i + 1) & mask;
	}
	return i;
}

/* Linear-probing delete: shift later members of the cluster back. */
static void index_remove(struct shapes *s, size_t i)
{
	size_t mask = s->n_index - 1, j = i;
	s->index[i] = 0;
	for (;;) {
		j = (j + 1) & mask;
		if (s->index[j] == 0)
			return;
		size_t home = s->entries[s->index[j] - 1].hash & mask;
		/* j's entry may move to i when home is not in (i, j] cyclically */
		if ((j > i && (home <= i || home > j)) || (j < i && (home <= i && home > j))) {
			s->index[i] = s->index[j];
			s->index[j] = 0;
			i = j;
		}
	}
}

/* A free entry: unused, else the clock's next clean one. NULL when every
 * entry has pending deltas. */
static struct entry *entry_alloc(struct shapes *s)
{
	if (s->n_used < s->max)
		return &s->entries[s->n_used++];
	for (unsigned step = 0; step < 2 * s->max; step++) {
		struct entry *e = &s->entries[s->hand];
		s->hand = (s->hand + 1) % s->max;
		if (e->dirty)
			continue;
		if (e->ref) {
			e->ref = false;
			continue;
		}
		index_remove(s, index_find(s, &e->key, e->hash));
		s->stats.evicted++;
		e->used = false;
		return e;
	}
	return NULL;
}

static void add_example(struct entry *e, const struct sinkd_event *ev)
{
	if (e->examples_sent + e->n_examples >= SHAPE_EXAMPLES)
		return;
	for (unsigned i = 0; i < e->n_examples; i++) {
		if (memcmp(e->ex[i].ip, ev->src.ip, 16) == 0)
			return; /* examples from different sources, when there are */
	}
	struct shape_example *x = &e->ex[e->n_examples++];
	memset(x, 0, sizeof(*x));
	x->ts_ns = (int64_t)ev->ts_ns;
	memcpy(x->ip, ev->src.ip, 16);
	x->port = ev->src.port;
	const uint8_t *d;
	size_t len;
	if (event_payload_get(ev, EVP_TARGET, &d, &len) == 0) {
		size_t n = len < sizeof(x->target) - 1 ? len : sizeof(x->target) - 1;
		for (size_t i = 0; i < n; i++)
			x->target[i] = d[i] >= 0x20 && d[i] < 0x7f ? (char)d[i] : '?';
	}
	/* the body, or a raw event's first bytes (a TLS event's are its hello) */
	if (event_payload_get(ev, EVP_BODY, &d, &len) == 0 ||
	    (ev->kind == EVENT_RAW && event_payload_get(ev, EVP_RAW, &d, &len) == 0)) {
		size_t n = len < sizeof(x->body) - 1 ? len : sizeof(x->body) - 1;
		for (size_t i = 0; i < n; i++)
			x->body[i] = d[i] >= 0x20 && d[i] < 0x7f ? (char)d[i] : '.';
	}
}

static uint64_t zone_hash(uint32_t entry, const char *zone)
{
	uint64_t h = 0xcbf29ce484222325ull ^ entry;
	for (; *zone != '\0'; zone++)
		h = (h ^ (uint8_t)*zone) * 0x100000001b3ull;
	return h;
}

static void add_zone(struct shapes *s, uint32_t entry, const struct sinkd_event *ev)
{
	if (ev->zone[0] == '\0')
		return;
	size_t mask = 2 * SHAPE_DOMAIN_PAIRS - 1, i = zone_hash(entry, ev->zone) & mask;
	while (s->pair_index[i] != 0) {
		struct shape_domain_delta *p = &s->pairs[s->pair_index[i] - 1];
		if (p->row == entry && strcmp(p->zone, ev->zone) == 0) {
			p->count++;
			p->last_ns = (int64_t)ev->ts_ns;
			return;
		}
		i = (i + 1) & mask;
	}
	if (s->n_pairs == SHAPE_DOMAIN_PAIRS) {
		s->stats.domains_dropped++;
		return;
	}
	struct shape_domain_delta *p = &s->pairs[s->n_pairs++];
	p->row = entry;
	p->count = 1;
	p->last_ns = (int64_t)ev->ts_ns;
	memcpy(p->zone, ev->zone, sizeof(p->zone));
	p->zone[sizeof(p->zone) - 1] = '\0';
	s->pair_index[i] = (uint32_t)s->n_pairs;
}

void shapes_observe(struct shapes *s, const struct sinkd_event *ev)
{
	if (!shapes_wanted(ev))
		return;
	struct shape_key k;
	shapes_key(ev, &k);
	uint64_t h = key_hash(&k);
	size_t slot = index_find(s, &k, h);
	struct entry *e;
	if (s->index[slot] != 0) {
		e = &s->entries[s->index[slot] - 1];
	} else {
		e = entry_alloc(s);
		if (e == NULL) {
			s->stats.dropped++;
			return;
		}
		slot = index_find(s, &k, h); /* an eviction may have moved slots */
		e->key = k;
		e->hash = h;
		e->used = true;
		e->dirty = false;
		e->count = 0;
		e->n_examples = e->examples_sent = 0;
		srcset_reset(&e->src);
		s->index[slot] = (uint32_t)(e - s->entries) + 1;
		s->stats.created++;
	}
	if (!e->dirty) {
		e->dirty = true;
		e->first_ns = (int64_t)ev->ts_ns;
		e->last_ns = (int64_t)ev->ts_ns;
	}
	e->ref = true;
	e->count++;
	if ((int64_t)ev->ts_ns < e->first_ns)
		e->first_ns = (int64_t)ev->ts_ns;
	if ((int64_t)ev->ts_ns > e->last_ns)
		e->last_ns = (int64_t)ev->ts_ns;
	uint8_t ip[16];
	shapes_src_norm(ev->src.ip, ip);
	if (srcset_add(&e->src, ip) != 0)
		s->stats.dropped++; /* counted, the source is not */
	add_example(e, ev);
	add_zone(s, (uint32_t)(e - s->entries), ev);
	s->stats.observed++;
}

struct shapes_batch *shapes_take(struct shapes *s)
{
	size_t n = 0;
	for (unsigned i = 0; i < s->n_used; i++)
		n += s->entries[i].dirty;
	if (n == 0)
		return NULL;
	struct shapes_batch *b = calloc(1, sizeof(*b));
	uint32_t *row_of = calloc(s->n_used, sizeof(*row_of));
	if (b != NULL) {
		b->rows = calloc(n, sizeof(*b->rows));
		b->domains = calloc(s->n_pairs > 0 ? s->n_pairs : 1, sizeof(*b->domains));
	}
	if (b == NULL || row_of == NULL || b->rows == NULL || b->domains == NULL) {
		free(row_of);
		shapes_batch_free(b);
		s->stats.dropped += n; /* the deltas stay pending for the next try */
		return NULL;
	}
	for (unsigned i = 0; i < s->n_used; i++) {
		struct entry *e = &s->entries[i];
		if (!e->dirty)
			continue;
		struct shape_row *r = &b->rows[b->n_rows];
		row_of[i] = (uint32_t)b->n_rows++;
		r->key = e->key;
		r->count = e->count;
		r->first_ns = e->first_ns;
		r->last_ns = e->last_ns;
		r->src_len = srcset_blob(&e->src, r->src);
		r->n_examples = e->n_examples;
		memcpy(r->ex, e->ex, sizeof(r->ex));
		e->examples_sent += e->n_examples;
		e->n_examples = 0;
		e->count = 0;
		e->dirty = false;
		srcset_reset(&e->src);
	}
	for (size_t i = 0; i < s->n_pairs; i++) {
		b->domains[b->n_domains] = s->pairs[i];
		b->domains[b->n_domains++].row = row_of[s->pairs[i].row];
	}
	s->n_pairs = 0;
	memset(s->pair_index, 0, 2 * SHAPE_DOMAIN_PAIRS * sizeof(*s->pair_index));
	free(row_of);
	return b;
}

void shapes_batch_free(struct shapes_batch *b)
{
	if (b == NULL)
		return;
	free(b->rows);
	free(b->domains);
	free(b);
}

void shapes_stats(const struct shapes *s, struct shapes_stats *out)
{
	*out = s->stats;
	out->shapes = s->n_used;
}
