/* Seized-zone registry: one string arena, a zone array in insertion order,
 * an open-addressing (linear probing) hash table keyed by the wire name, and
 * interned metadata records.
 *
 * Arena record of a zone at zones[i].off: its index i (4 bytes, so a hit
 * costs one table slot and one record, not a trip through zones[]), one byte
 * wire length W, the wire name (W bytes, ending with the root label), the
 * presentation name (W-1 bytes with its NUL). The hash of a name is built
 * label by label from the root outwards, so matching a query hashes every
 * byte once and probes one suffix per label. */
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "domains/domains.h"
#include "domains/domains_internal.h"

#define FNV_OFFSET 0xcbf29ce484222325ULL
#define FNV_PRIME 0x100000001b3ULL
#define MAX_LABELS 128
#define REC_HDR 5
#define REC_SIZE(wlen) (REC_HDR + 2 * (size_t)(wlen))

struct zone {
	uint32_t off;  /* arena record */
	uint32_t meta; /* index into metas; 0 = no metadata */
};

struct slot {
	uint32_t tag;  /* high half of the mixed hash */
	uint32_t off1; /* arena record offset + 1; 0 = empty */
};

struct domain_registry {
	struct zone *zones;
	size_t nzones, zones_cap;
	uint8_t *arena;
	size_t arena_len, arena_cap, arena_dead;
	struct slot *slots;
	size_t slots_mask;
	struct domain_meta *metas;
	size_t nmetas, metas_cap;
	uint32_t *meta_slots; /* meta index + 1; 0 = empty */
	size_t meta_mask;
	unsigned min_labels, max_labels;
};

static inline uint64_t hash_label(uint64_t h, const uint8_t *label)
{
	for (size_t i = 0, n = (size_t)label[0] + 1; i < n; i++)
		h = (h ^ label[i]) * FNV_PRIME;
	return h;
}

/* Final avalanche (MurmurHash3 fmix64): FNV's low bits are weak. */
static inline uint64_t hash_mix(uint64_t h)
{
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdULL;
	h ^= h >> 33;
	h *= 0xc4ceb9fe1a85ec53ULL;
	h ^= h >> 33;
	return h;
}

/* Hash of a valid wire name, and its label count. */
static uint64_t wire_hash(const uint8_t *wire, unsigned *labels)
{
	uint8_t offs[MAX_LABELS];
	unsigned n = 0;
	for (size_t pos = 0; wire[pos] && n < MAX_LABELS; pos += wire[pos] + 1)
		offs[n++] = (uint8_t)pos;
	uint64_t h = FNV_OFFSET;
	for (unsigned k = n; k > 0; k--)
		h = hash_label(h, wire + offs[k - 1]);
	*labels = n;
	return hash_mix(h);
}

/* Presentation name (any case, optional final dot, no escapes) to lowercase
 * wire form. Returns the wire length or 0 when it is not a valid name. */
static size_t name_to_wire(const char *name, uint8_t *wire)
{
	size_t n = strlen(name), w = 0;
	if (n > 0 && name[n - 1] == '.')
		n--;
	for (size_t i = 0; i < n;) {
		size_t len = 0;
		while (i + len < n && name[i + len] != '.')
			len++;
		if (len == 0 || len > 63 || w + len + 2 > DOMAINS_WIRE_MAX)
			return 0;
		wire[w++] = (uint8_t)len;
		for (size_t j = 0; j < len; j++) {
			uint8_t c = (uint8_t)name[i + j];
			wire[w++] = (c >= 'A' && c <= 'Z') ? (uint8_t)(c - 'A' + 'a') : c;
		}
		i += len + 1;
	}
	wire[w++] = 0;
	return w;
}

static const uint8_t *zone_rec(const struct domain_registry *reg, size_t idx)
{
	return reg->arena + reg->zones[idx].off;
}

static uint32_t rec_idx(const uint8_t *rec)
{
	uint32_t idx;
	memcpy(&idx, rec, sizeof(idx));
	return idx;
}

static void rec_set_idx(uint8_t *rec, uint32_t idx) { memcpy(rec, &idx, sizeof(idx)); }

static long table_find(const struct domain_registry *reg, uint64_t h, const uint8_t *wire,
		       size_t wlen, size_t *slot_out)
{
	uint32_t tag = (uint32_t)(h >> 32);
	for (size_t i = h & reg->slots_mask;; i = (i + 1) & reg->slots_mask) {
		const struct slot *s = &reg->slots[i];
		if (s->off1 == 0)
			return -1;
		if (s->tag != tag)
			continue;
		const uint8_t *rec = reg->arena + s->off1 - 1;
		if (rec[4] == wlen && memcmp(rec + REC_HDR, wire, wlen) == 0) {
			if (slot_out)
				*slot_out = i;
			return (long)rec_idx(rec);
		}
	}
}

static void table_put(struct slot *slots, size_t mask, uint64_t h, uint32_t off)
{
	size_t i = h & mask;
	while (slots[i].off1 != 0)
		i = (i + 1) & mask;
	slots[i].tag = (uint32_t)(h >> 32);
	slots[i].off1 = off + 1;
}

static int table_resize(struct domain_registry *reg, size_t nslots)
{
	struct slot *slots = calloc(nslots, sizeof(*slots));
	if (!slots)
		return SINKD_ENOMEM;
	unsigned labels;
	for (size_t i = 0; i < reg->nzones; i++)
		table_put(slots, nslots - 1, wire_hash(zone_rec(reg, i) + REC_HDR, &labels),
			  reg->zones[i].off);
	free(reg->slots);
	reg->slots = slots;
	reg->slots_mask = nslots - 1;
	return 0;
}

static int grow(void **p, size_t *cap, size_t need, size_t elem)
{
	if (need <= *cap)
		return 0;
	size_t ncap = *cap ? *cap : 16;
	while (ncap < need)
		ncap *= 2;
	void *np = realloc(*p, ncap * elem);
	if (!np)
		return SINKD_ENOMEM;
	*p = np;
	*cap = ncap;
	return 0;
}

struct domain_registry *domains_new(void)
{
	struct domain_registry *reg = calloc(1, sizeof(*reg));
	if (!reg)
		return NULL;
	reg->min_labels = MAX_LABELS;
	if (table_resize(reg, 64) != 0 ||
	    grow((void **)&reg->metas, &reg->metas_cap, 1, sizeof(*reg->metas)) != 0) {
		domains_free(reg);
		return NULL;
	}
	memset(&reg->metas[0], 0, sizeof(reg->metas[0]));
	reg->nmetas = 1;
	return reg;
}

void domains_free(struct domain_registry *reg)
{
	if (!reg)
		return;
	free(reg->zones);
	free(reg->arena);
	free(reg->slots);
	free(reg->metas);
	free(reg->meta_slots);
	free(reg);
}

size_t domains_count(const struct domain_registry *reg) { return reg ? reg->nzones : 0; }

static uint64_t meta_hash(const struct domain_meta *m)
{
	const uint8_t *p = (const uint8_t *)m;
	uint64_t h = FNV_OFFSET;
	for (size_t i = 0; i < sizeof(*m); i++)
		h = (h ^ p[i]) * FNV_PRIME;
	return hash_mix(h);
}

static int meta_table_resize(struct domain_registry *reg, size_t nslots)
{
	uint32_t *slots = calloc(nslots, sizeof(*slots));
	if (!slots)
		return SINKD_ENOMEM;
	for (size_t idx = 1; idx < reg->nmetas; idx++) {
		size_t i = meta_hash(&reg->metas[idx]) & (nslots - 1);
		while (slots[i] != 0)
			i = (i + 1) & (nslots - 1);
		slots[i] = (uint32_t)idx + 1;
	}
	free(reg->meta_slots);
	reg->meta_slots = slots;
	reg->meta_mask = nslots - 1;
	return 0;
}

/* Index of an identical stored record, appending m when there is none. m is
 * canonical (see domains_meta_canon) so records compare bytewise. */
static int meta_intern(struct domain_registry *reg, const struct domain_meta *m, uint32_t *out)
{
	*out = 0;
	if (domains_meta_is_empty(m))
		return 0;
	if (!reg->meta_slots || (reg->nmetas + 1) * 2 > reg->meta_mask + 1) {
		int rc = meta_table_resize(reg, reg->meta_slots ? (reg->meta_mask + 1) * 2 : 16);
		if (rc)
			return rc;
	}
	size_t i = meta_hash(m) & reg->meta_mask;
	for (; reg->meta_slots[i] != 0; i = (i + 1) & reg->meta_mask) {
		if (memcmp(&reg->metas[reg->meta_slots[i] - 1], m, sizeof(*m)) == 0) {
			*out = reg->meta_slots[i] - 1;
			return 0;
		}
	}
	if (reg->nmetas >= UINT32_MAX - 1 ||
	    grow((void **)&reg->metas, &reg->metas_cap, reg->nmetas + 1, sizeof(*m)) != 0)
		return SINKD_ENOMEM;
	reg->metas[reg->nmetas] = *m;
	reg->meta_slots[i] = (uint32_t)reg->nmetas + 1;
	*out = (uint32_t)reg->nmetas++;
	return 0;
}

/* Make room for one more zone of wire length wlen. */
static int reserve_zone(struct domain_registry *reg, size_t wlen)
{
	size_t rec = REC_SIZE(wlen);
	if (reg->nzones >= UINT32_MAX - 1 || reg->arena_len + rec >= UINT32_MAX)
		return SINKD_ENOMEM;
	if ((reg->nzones + 1) * 10 > (reg->slots_mask + 1) * 7) {
		int rc = table_resize(reg, (reg->slots_mask + 1) * 2);
		if (rc)
			return rc;
	}
	if (grow((void **)&reg->zones, &reg->zones_cap, reg->nzones + 1, sizeof(struct zone)) ||
	    grow((void **)&reg->arena, &reg->arena_cap, reg->arena_len + rec, 1))
		return SINKD_ENOMEM;
	return 0;
}

int domains_add_normalized(struct domain_registry *reg, const char *name,
			   const struct domain_meta *meta)
{
	struct domain_meta m;
	uint8_t wire[DOMAINS_WIRE_MAX];
	const char *field, *why;
	unsigned labels;
	uint32_t meta_idx;
	domains_meta_canon(&m, meta);
	size_t wlen = name_to_wire(name, wire);
	if (wlen <= 1 || domains_meta_check(&m, &field, &why) != 0)
		return SINKD_EINVAL;
	uint64_t h = wire_hash(wire, &labels);
	if (table_find(reg, h, wire, wlen, NULL) >= 0)
		return SINKD_EEXIST;
	int rc = reserve_zone(reg, wlen);
	if (!rc)
		rc = meta_intern(reg, &m, &meta_idx);
	if (rc)
		return rc;
	uint8_t *rec = reg->arena + reg->arena_len;
	rec_set_idx(rec, (uint32_t)reg->nzones);
	rec[4] = (uint8_t)wlen;
	memcpy(rec + REC_HDR, wire, wlen);
	memcpy(rec + REC_HDR + wlen, name, wlen - 1);
	reg->zones[reg->nzones].off = (uint32_t)reg->arena_len;
	reg->zones[reg->nzones].meta = meta_idx;
	reg->arena_len += REC_SIZE(wlen);
	table_put(reg->slots, reg->slots_mask, h, reg->zones[reg->nzones].off);
	reg->nzones++;
	if (labels < reg->min_labels)
		reg->min_labels = labels;
	if (labels > reg->max_labels)
		reg->max_labels = labels;
	return 0;
}

int domains_add(struct domain_registry *reg, const char *name, const struct domain_meta *meta)
{
	char norm[DOMAINS_NAME_MAX];
	const char *why;
	if (domains_normalize(name, norm, sizeof(norm), &why) != 0)
		return SINKD_EINVAL;
	return domains_add_normalized(reg, norm, meta);
}

/* Backward-shift deletion keeps linear probing free of tombstones. */
static void table_delete(struct domain_registry *reg, size_t hole)
{
	unsigned labels;
	for (size_t j = (hole + 1) & reg->slots_mask; reg->slots[j].off1 != 0;
	     j = (j + 1) & reg->slots_mask) {
		const uint8_t *rec = reg->arena + reg->slots[j].off1 - 1;
		size_t home = wire_hash(rec + REC_HDR, &labels) & reg->slots_mask;
		/* Move j into the hole unless its home lies cyclically in (hole, j]. */
		bool stays = hole < j ? (home > hole && home <= j) : (home > hole || home <= j);
		if (!stays) {
			reg->slots[hole] = reg->slots[j];
			hole = j;
		}
	}
	reg->slots[hole].off1 = 0;
	reg->slots[hole].tag = 0;
}

/* Rewrite the arena without the records of removed zones. The table holds
 * arena offsets, so it is rebuilt alongside; on allocation failure the
 * waste is simply kept. */
static void arena_compact(struct domain_registry *reg)
{
	size_t nslots = reg->slots_mask + 1, len = 0;
	uint8_t *fresh = malloc(reg->arena_len - reg->arena_dead + 1);
	struct slot *slots = calloc(nslots, sizeof(*slots));
	unsigned labels;
	if (!fresh || !slots) {
		free(fresh);
		free(slots);
		return;
	}
	for (size_t i = 0; i < reg->nzones; i++) {
		const uint8_t *rec = zone_rec(reg, i);
		size_t size = REC_SIZE(rec[4]);
		memcpy(fresh + len, rec, size);
		reg->zones[i].off = (uint32_t)len;
		table_put(slots, nslots - 1, wire_hash(fresh + len + REC_HDR, &labels),
			  (uint32_t)len);
		len += size;
	}
	free(reg->arena);
	free(reg->slots);
	reg->arena = fresh;
	reg->slots = slots;
	reg->arena_len = reg->arena_cap = len;
	reg->arena_dead = 0;
}

int domains_remove(struct domain_registry *reg, const char *name)
{
	char norm[DOMAINS_NAME_MAX];
	uint8_t wire[DOMAINS_WIRE_MAX];
	const char *why;
	unsigned labels;
	size_t slot;
	if (domains_normalize(name, norm, sizeof(norm), &why) != 0)
		return SINKD_EINVAL;
	size_t wlen = name_to_wire(norm, wire);
	long idx = table_find(reg, wire_hash(wire, &labels), wire, wlen, &slot);
	if (idx < 0)
		return SINKD_ENOENT;
	table_delete(reg, slot);
	reg->arena_dead += REC_SIZE(wlen);
	memmove(&reg->zones[idx], &reg->zones[idx + 1],
		(reg->nzones - (size_t)idx - 1) * sizeof(struct zone));
	reg->nzones--;
	for (size_t i = (size_t)idx; i < reg->nzones; i++)
		rec_set_idx(reg->arena + reg->zones[i].off, (uint32_t)i);
	if (reg->arena_dead > 4096 && reg->arena_dead * 2 > reg->arena_len)
		arena_compact(reg);
	return 0;
}

long domains_match_wire(const struct domain_registry *reg, const uint8_t *dname, size_t *zone_off)
{
	uint8_t offs[MAX_LABELS];
	unsigned n = 0;
	size_t pos = 0;
	if (reg->nzones == 0)
		return -1;
	while (dname[pos] != 0) {
		if (dname[pos] > 63 || pos + dname[pos] + 1 >= DOMAINS_WIRE_MAX)
			return -1;
		offs[n++] = (uint8_t)pos;
		pos += (size_t)dname[pos] + 1;
	}
	/* Root outwards: each hit is longer than the previous one. */
	uint64_t h = FNV_OFFSET;
	long best = -1;
	unsigned last = n < reg->max_labels ? n : reg->max_labels;
	for (unsigned k = 1; k <= last; k++) {
		size_t off = offs[n - k];
		h = hash_label(h, dname + off);
		if (k < reg->min_labels)
			continue;
		long idx = table_find(reg, hash_mix(h), dname + off, pos + 1 - off, NULL);
		if (idx >= 0) {
			best = idx;
			if (zone_off)
				*zone_off = off;
		}
	}
	return best;
}

long domains_match_name(const struct domain_registry *reg, const char *name)
{
	char norm[DOMAINS_NAME_MAX], raw[DOMAINS_NAME_MAX + 2];
	uint8_t wire[DOMAINS_WIRE_MAX];
	const char *why, *src = norm;
	/* Query names need not be valid zone names ("_dmarc.x.com", "com"):
	 * fall back to the trimmed text as it is. */
	if (domains_normalize(name, norm, sizeof(norm), &why) != 0) {
		size_t n = strlen(name);
		if (n >= sizeof(raw))
			return -1;
		memcpy(raw, name, n + 1);
		src = domains_trim(raw);
	}
	if (name_to_wire(src, wire) == 0)
		return -1;
	return domains_match_wire(reg, wire, NULL);
}

const char *domains_name(const struct domain_registry *reg, size_t idx)
{
	if (idx >= reg->nzones)
		return NULL;
	const uint8_t *rec = zone_rec(reg, idx);
	return (const char *)rec + REC_HDR + rec[4];
}

const uint8_t *domains_wire(const struct domain_registry *reg, size_t idx)
{
	return idx < reg->nzones ? zone_rec(reg, idx) + REC_HDR : NULL;
}

const struct domain_meta *domains_meta(const struct domain_registry *reg, size_t idx)
{
	return idx < reg->nzones ? &reg->metas[reg->zones[idx].meta] : NULL;
}

void domains_shrink(struct domain_registry *reg)
{
	if (reg->arena_len > 0 && reg->arena_len < reg->arena_cap) {
		uint8_t *a = realloc(reg->arena, reg->arena_len);
		if (a) {
			reg->arena = a;
			reg->arena_cap = reg->arena_len;
		}
	}
	if (reg->nzones > 0 && reg->nzones < reg->zones_cap) {
		struct zone *z = realloc(reg->zones, reg->nzones * sizeof(*z));
		if (z) {
			reg->zones = z;
			reg->zones_cap = reg->nzones;
		}
	}
}
