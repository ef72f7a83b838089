/* The pipeline's side of the rollups: two live tables (one filling in the
 * pipeline thread, one travelling with a batch to the writer), the "seen
 * before" filter and its periodic snapshot. The pipeline waits for the
 * writer before every hand-over, so the table and snapshot it hands over
 * are never in use by the writer. */
#include "stats/stats.h"

#include "core/config.h"
#include "core/error.h"
#include "core/log.h"
#include "store/store.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define SEEN_SAVE_INTERVAL_S 300

struct stats_batch {
	struct stats_live *live;
	bool with_seen;
	struct stats_hook *hook;
};

struct stats_hook {
	struct stats_live *cur;
	struct stats_batch batch[2];
	int next; /* batch slot handed over next */
	struct stats_seen *seen;
	uint8_t *seen_copy;
	size_t seen_len;
	time_t seen_saved;
	atomic_uint_least64_t errors;
};

int stats_hook_new(struct stats_hook **out, const struct sinkd_config *cfg, struct store *st)
{
	size_t cells = cfg != NULL ? cfg->stats_rollup_cells : 0;
	size_t seen_mb = cfg != NULL ? cfg->stats_seen_filter_mb : 8;
	struct stats_hook *h = calloc(1, sizeof(*h));
	if (h == NULL)
		return SINKD_ENOMEM;
	if (stats_live_new(&h->batch[0].live, cells) != 0 ||
	    stats_live_new(&h->batch[1].live, cells) != 0 ||
	    stats_seen_new(&h->seen, seen_mb << 20) != 0)
		goto fail;
	h->seen_len = seen_mb << 20;
	h->seen_copy = malloc(h->seen_len);
	if (h->seen_copy == NULL)
		goto fail;
	h->cur = h->batch[0].live;
	h->batch[0].hook = h->batch[1].hook = h;
	h->seen_saved = time(NULL);
	if (st != NULL) {
		int ret = store_seen_load(st, h->seen_copy, h->seen_len);
		if (ret == 0)
			stats_seen_load(h->seen, h->seen_copy, h->seen_len);
		else if (ret == SINKD_EINVAL)
			log_warn("stats: the saved 'seen before' filter has another size than "
				 "[stats] seen_filter_mb = %zu: starting empty (sources seen "
				 "before count as new once)",
				 seen_mb);
	}
	*out = h;
	return 0;
fail:
	stats_hook_free(h);
	return SINKD_ENOMEM;
}

void stats_hook_free(struct stats_hook *h)
{
	if (h == NULL)
		return;
	stats_live_free(h->batch[0].live);
	stats_live_free(h->batch[1].live);
	stats_seen_free(h->seen);
	free(h->seen_copy);
	free(h);
}

int stats_hook_add(struct stats_hook *h, const struct sinkd_event *ev, const char *asn_org)
{
	int ret = stats_live_add(h->cur, h->seen, ev, asn_org);
	if (ret == SINKD_ENOMEM)
		atomic_fetch_add(&h->errors, 1);
	return ret == SINKD_EFULL ? SINKD_EFULL : 0;
}

bool stats_hook_pending(const struct stats_hook *h)
{
	return h != NULL && stats_live_count(h->cur) > 0;
}

bool stats_hook_nearly_full(const struct stats_hook *h)
{
	return h != NULL && stats_live_nearly_full(h->cur);
}

struct stats_batch *stats_hook_detach(struct stats_hook *h, bool final)
{
	if (h == NULL)
		return NULL;
	struct stats_batch *b = &h->batch[h->next];
	time_t now = time(NULL);
	b->with_seen = final || now - h->seen_saved >= SEEN_SAVE_INTERVAL_S;
	if (b->with_seen) {
		size_t len;
		memcpy(h->seen_copy, stats_seen_bits(h->seen, &len), h->seen_len);
		h->seen_saved = now;
	}
	if (stats_live_count(b->live) == 0 && !b->with_seen)
		return NULL;
	h->next ^= 1;
	h->cur = h->batch[h->next].live;
	return b;
}

int stats_batch_write(struct store *st, void *ctx)
{
	struct stats_batch *b = ctx;
	struct stats_hook *h = b->hook;
	const struct stats_cell *cells = NULL;
	size_t n = 0;
	if (stats_live_cells(b->live, &cells, &n) != 0) {
		log_err("stats: out of memory serialising %zu rollup cells",
			stats_live_count(b->live));
		return SINKD_ENOMEM;
	}
	if (store_rollups_put(st, cells, n) != 0)
		return SINKD_ESTORE;
	if (b->with_seen && store_seen_put(st, h->seen_copy, h->seen_len) != 0)
		return SINKD_ESTORE;
	return 0;
}

void stats_batch_done(struct stats_batch *b) { stats_live_reset(b->live); }

uint64_t stats_hook_errors(const struct stats_hook *h)
{
	return h == NULL ? 0 : atomic_load(&((struct stats_hook *)h)->errors);
}
