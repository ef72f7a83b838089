/* The live rollup table: cells of (hour, family, domain, country, ASN,
 * transport) counted by the pipeline thread since the last hand-over.
 *
 * Cells live in a fixed array (max_cells) indexed by an open-addressing
 * table of twice as many slots; nothing is allocated per event except
 * when a sketch's exact set grows past what its slot held before (the
 * buffers are kept across resets, so a steady load stops allocating).
 */
#include "stats/stats.h"

#include "core/error.h"

#include <stdlib.h>
#include <string.h>

#define CELLS_DEFAULT 16384
#define NO_CELL UINT32_MAX

const char *const stats_sketch_names[STATS_N_SKETCHES] = {"sources", "nets", "bots", "id_sources",
							  "pairs"};

struct live_cell {
	uint64_t hash;
	uint32_t hour, asn;
	char family[EVENT_LABEL_MAX];
	char domain[EVENT_QNAME_MAX];
	char country[4];
	const char *transport; /* static string */
	const char *asn_org;
	uint64_t events, id_events, new_sources;
	struct hll sk[STATS_N_SKETCHES];
};

struct stats_live {
	struct live_cell *cells;
	size_t n_cells, max_cells;
	uint32_t *slots; /* cell index or NO_CELL */
	size_t n_slots;	 /* power of two >= 2 * max_cells */
	struct stats_cell *out;
	uint8_t *blobs; /* serialised sketches of out */
	size_t blobs_cap;
};

const char *stats_transport(const struct sinkd_event *ev)
{
	switch (ev->kind) {
	case EVENT_DNS:
		return "dns";
	case EVENT_HTTP:
		return (ev->flags & EVF_TLS) ? "https" : "http";
	case EVENT_TLS:
		return "tls";
	default:
		return "raw";
	}
}

static const uint8_t v4_prefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

void stats_source_key(const uint8_t ip[16], uint8_t out[16])
{
	memcpy(out, ip, 16);
	if (memcmp(ip, v4_prefix, 12) != 0)
		memset(out + 8, 0, 8); /* IPv6: the /64 */
}

void stats_net_key(const uint8_t ip[16], uint8_t out[16])
{
	memcpy(out, ip, 16);
	if (memcmp(ip, v4_prefix, 12) == 0)
		out[15] = 0; /* IPv4: the /24 */
	else
		memset(out + 8, 0, 8);
}

bool stats_event_hashes(const struct sinkd_event *ev, uint64_t out[STATS_N_SKETCHES])
{
	uint8_t src[16], net[16];
	stats_source_key(ev->src.ip, src);
	stats_net_key(ev->src.ip, net);
	out[STATS_SOURCES] = hll_hash(src, 16);
	out[STATS_NETS] = hll_hash(net, 16);
	size_t idl = strnlen(ev->bot_id, EVENT_BOTID_MAX - 1);
	if (idl == 0)
		return false;
	uint8_t pair[16 + EVENT_BOTID_MAX];
	out[STATS_BOTS] = hll_hash(ev->bot_id, idl);
	out[STATS_ID_SOURCES] = out[STATS_SOURCES];
	memcpy(pair, src, 16);
	memcpy(pair + 16, ev->bot_id, idl);
	out[STATS_PAIRS] = hll_hash(pair, 16 + idl);
	return true;
}

int stats_live_new(struct stats_live **out, size_t max_cells)
{
	struct stats_live *l = calloc(1, sizeof(*l));
	if (l == NULL)
		return SINKD_ENOMEM;
	l->max_cells = max_cells == 0 ? CELLS_DEFAULT : max_cells;
	l->n_slots = 1;
	while (l->n_slots < 2 * l->max_cells)
		l->n_slots *= 2;
	l->cells = calloc(l->max_cells, sizeof(*l->cells));
	l->slots = malloc(l->n_slots * sizeof(*l->slots));
	l->out = calloc(l->max_cells, sizeof(*l->out));
	if (l->cells == NULL || l->slots == NULL || l->out == NULL) {
		stats_live_free(l);
		return SINKD_ENOMEM;
	}
	memset(l->slots, 0xff, l->n_slots * sizeof(*l->slots));
	for (size_t i = 0; i < l->max_cells; i++) {
		for (int k = 0; k < STATS_N_SKETCHES; k++)
			hll_init(&l->cells[i].sk[k], 0);
	}
	*out = l;
	return 0;
}

void stats_live_free(struct stats_live *l)
{
	if (l == NULL)
		return;
	if (l->cells != NULL) {
		for (size_t i = 0; i < l->max_cells; i++) {
			for (int k = 0; k < STATS_N_SKETCHES; k++)
				hll_free(&l->cells[i].sk[k]);
		}
	}
	free(l->cells);
	free(l->slots);
	free(l->out);
	free(l->blobs);
	free(l);
}

size_t stats_live_count(const struct stats_live *l) { return l->n_cells; }

bool stats_live_nearly_full(const struct stats_live *l) { return l->n_cells + 1 >= l->max_cells; }

static uint64_t key_hash(uint32_t hour, const struct sinkd_event *ev, const char *transport)
{
	uint8_t buf[16 + EVENT_LABEL_MAX + EVENT_QNAME_MAX];
	size_t n = 0;
	memcpy(buf, &hour, 4);
	memcpy(buf + 4, &ev->asn, 4);
	memcpy(buf + 8, ev->country, 4);
	memcpy(buf + 12, transport, 4 < strlen(transport) + 1 ? 4 : strlen(transport) + 1);
	n = 16;
	size_t fl = strnlen(ev->family, EVENT_LABEL_MAX - 1);
	memcpy(buf + n, ev->family, fl);
	n += fl;
	buf[n++] = 0;
	size_t zl = strnlen(ev->zone, EVENT_QNAME_MAX - 1);
	memcpy(buf + n, ev->zone, zl);
	n += zl;
	return hll_hash(buf, n);
}

static bool cell_matches(const struct live_cell *c, uint64_t hash, uint32_t hour,
			 const struct sinkd_event *ev, const char *transport)
{
	return c->hash == hash && c->hour == hour && c->asn == ev->asn &&
	       c->transport == transport && strncmp(c->country, ev->country, 4) == 0 &&
	       strncmp(c->family, ev->family, EVENT_LABEL_MAX) == 0 &&
	       strncmp(c->domain, ev->zone, EVENT_QNAME_MAX) == 0;
}

static void copy_str(char *dst, size_t cap, const char *src)
{
	size_t n = strnlen(src, cap - 1);
	memcpy(dst, src, n);
	dst[n] = '\0';
}

/* The cell of ev (created when new), or NULL when the table is full. */
static struct live_cell *cell_for(struct stats_live *l, const struct sinkd_event *ev,
				  const char *asn_org)
{
	uint32_t hour = (uint32_t)(ev->ts_ns / 1000000000ull / 3600 * 3600);
	const char *transport = stats_transport(ev);
	uint64_t hash = key_hash(hour, ev, transport);
	size_t mask = l->n_slots - 1;
	for (size_t i = hash & mask;; i = (i + 1) & mask) {
		uint32_t idx = l->slots[i];
		if (idx == NO_CELL) {
			if (l->n_cells >= l->max_cells)
				return NULL;
			struct live_cell *c = &l->cells[l->n_cells];
			l->slots[i] = (uint32_t)l->n_cells++;
			c->hash = hash;
			c->hour = hour;
			c->asn = ev->asn;
			c->transport = transport;
			c->asn_org = asn_org != NULL ? asn_org : "";
			copy_str(c->country, sizeof(c->country), ev->country);
			copy_str(c->family, sizeof(c->family), ev->family);
			copy_str(c->domain, sizeof(c->domain), ev->zone);
			c->events = c->id_events = c->new_sources = 0;
			return c;
		}
		if (cell_matches(&l->cells[idx], hash, hour, ev, transport))
			return &l->cells[idx];
	}
}

int stats_live_add(struct stats_live *l, struct stats_seen *seen, const struct sinkd_event *ev,
		   const char *asn_org)
{
	return stats_live_add_n(l, seen, ev, asn_org, 1);
}

int stats_live_add_n(struct stats_live *l, struct stats_seen *seen, const struct sinkd_event *ev,
		     const char *asn_org, uint64_t count)
{
	struct live_cell *c = cell_for(l, ev, asn_org);
	if (c == NULL)
		return SINKD_EFULL;
	uint64_t hs[STATS_N_SKETCHES];
	bool has_id = stats_event_hashes(ev, hs);
	int ret = 0;
	c->events += count;
	if (seen != NULL && ev->kind != EVENT_DNS) { /* resolvers are not bots */
		uint8_t src[16];
		stats_source_key(ev->src.ip, src);
		if (!stats_seen_check_add(seen, src))
			c->new_sources++;
	}
	ret |= hll_add(&c->sk[STATS_SOURCES], hs[STATS_SOURCES]);
	ret |= hll_add(&c->sk[STATS_NETS], hs[STATS_NETS]);
	if (has_id) {
		c->id_events += count;
		ret |= hll_add(&c->sk[STATS_BOTS], hs[STATS_BOTS]);
		ret |= hll_add(&c->sk[STATS_ID_SOURCES], hs[STATS_ID_SOURCES]);
		ret |= hll_add(&c->sk[STATS_PAIRS], hs[STATS_PAIRS]);
	}
	return ret != 0 ? SINKD_ENOMEM : 0;
}

int stats_live_cells(struct stats_live *l, const struct stats_cell **cells, size_t *n)
{
	size_t need = 0;
	for (size_t i = 0; i < l->n_cells; i++) {
		for (int k = 0; k < STATS_N_SKETCHES; k++) {
			const struct hll *h = &l->cells[i].sk[k];
			need += h->regs != NULL ? HLL_SERIAL_MAX : 8 + (size_t)h->n * 8;
		}
	}
	if (need > l->blobs_cap) {
		uint8_t *b = realloc(l->blobs, need);
		if (b == NULL)
			return SINKD_ENOMEM;
		l->blobs = b;
		l->blobs_cap = need;
	}
	size_t off = 0;
	for (size_t i = 0; i < l->n_cells; i++) {
		struct live_cell *c = &l->cells[i];
		struct stats_cell *o = &l->out[i];
		*o = (struct stats_cell){.hour = c->hour,
					 .family = c->family,
					 .domain = c->domain,
					 .country = c->country,
					 .asn = c->asn,
					 .asn_org = c->asn_org,
					 .transport = c->transport,
					 .events = c->events,
					 .id_events = c->id_events,
					 .new_sources = c->new_sources};
		for (int k = 0; k < STATS_N_SKETCHES; k++) {
			size_t len = hll_serialize(&c->sk[k], l->blobs + off, l->blobs_cap - off);
			o->sketch[k] = l->blobs + off;
			o->sketch_len[k] = len;
			off += len;
		}
	}
	*cells = l->out;
	*n = l->n_cells;
	return 0;
}

void stats_live_reset(struct stats_live *l)
{
	for (size_t i = 0; i < l->n_cells; i++) {
		for (int k = 0; k < STATS_N_SKETCHES; k++)
			hll_clear(&l->cells[i].sk[k]);
	}
	l->n_cells = 0;
	memset(l->slots, 0xff, l->n_slots * sizeof(*l->slots));
}

size_t stats_live_memory(const struct stats_live *l)
{
	size_t bytes = sizeof(*l) + l->max_cells * (sizeof(*l->cells) + sizeof(*l->out)) +
		       l->n_slots * sizeof(*l->slots) + l->blobs_cap;
	for (size_t i = 0; i < l->max_cells; i++) {
		for (int k = 0; k < STATS_N_SKETCHES; k++) {
			const struct hll *h = &l->cells[i].sk[k];
			bytes += (size_t)h->cap * 8 + (h->regs != NULL ? HLL_REGISTERS : 0);
		}
	}
	return bytes;
}
