/* The store writer's side: merge a batch of shape deltas into the stored
 * rows (count, first/last seen, distinct sources, examples, zones), inside
 * the batch's transaction. */
#include "classify/shapes_internal.h"

#include "core/error.h"
#include "core/log.h"
#include "store/store.h"

#include <stdlib.h>
#include <string.h>

struct merged {
	bool found;
	uint64_t count;
	int64_t first_ns, last_ns;
	struct srcset src;
	json_t *examples;
	int err;
};

static int on_stored(const struct store_shape *s, void *ctx)
{
	struct merged *m = ctx;
	m->found = true;
	m->count = s->count;
	m->first_ns = s->first_ns;
	m->last_ns = s->last_ns;
	if (srcset_merge_blob(&m->src, s->srcset, s->srcset_len) != 0)
		m->err = SINKD_ENOMEM;
	json_t *ex = json_loads(s->examples, 0, NULL);
	if (json_is_array(ex)) {
		json_decref(m->examples);
		m->examples = ex;
	} else {
		json_decref(ex);
	}
	return 0;
}

static json_t *example_json(struct store *st, const struct shape_example *x)
{
	char ip[64];
	struct event_addr a;
	memcpy(a.ip, x->ip, 16);
	a.port = x->port;
	event_addr_str(&a, ip, sizeof(ip));
	json_t *o = json_pack("{s:I, s:s, s:i, s:s, s:s}", "ts_ns", (json_int_t)x->ts_ns, "src", ip,
			      "src_port", (int)x->port, "target", x->target, "body", x->body);
	int64_t id;
	if (o != NULL && store_event_find(st, x->ts_ns, x->ip, x->port, &id) == 0)
		json_object_set_new(o, "event_id", json_integer((json_int_t)id));
	return o;
}

static int merge_row(struct store *st, const struct shape_row *r, struct merged *m)
{
	int ret = store_shape_get(st, r->key.id, on_stored, m);
	if (ret != 0 && ret != SINKD_ENOENT)
		return ret;
	if (m->err != 0)
		return m->err;
	if (!m->found || r->first_ns < m->first_ns)
		m->first_ns = r->first_ns;
	if (!m->found || r->last_ns > m->last_ns)
		m->last_ns = r->last_ns;
	m->count += r->count;
	if (srcset_merge_blob(&m->src, r->src, r->src_len) != 0)
		return SINKD_ENOMEM;
	for (unsigned i = 0; i < r->n_examples && json_array_size(m->examples) < SHAPE_EXAMPLES;
	     i++)
		json_array_append_new(m->examples, example_json(st, &r->ex[i]));
	char *examples = json_dumps(m->examples, JSON_COMPACT);
	uint8_t blob[SRC_BLOB_MAX];
	size_t blob_len = srcset_blob(&m->src, blob);
	if (examples == NULL)
		return SINKD_ENOMEM;
	const struct shape_key *k = &r->key;
	struct store_shape s = {.id = k->id,
				.kind = k->kind,
				.method = k->method,
				.path = k->path,
				.params = k->params,
				.headers = k->headers,
				.body = k->body,
				.length = k->length,
				.entropy = k->entropy,
				.count = m->count,
				.sources = srcset_estimate(&m->src),
				.first_ns = m->first_ns,
				.last_ns = m->last_ns,
				.srcset = blob,
				.srcset_len = blob_len,
				.examples = examples};
	ret = store_shape_put(st, &s);
	free(examples);
	return ret;
}

int shapes_batch_write(struct store *st, void *ctx)
{
	struct shapes_batch *b = ctx;
	struct merged m;
	memset(&m, 0, sizeof(m));
	int ret = 0;
	for (size_t i = 0; i < b->n_rows && ret == 0; i++) {
		m.found = false;
		m.count = 0;
		m.err = 0;
		srcset_reset(&m.src);
		json_decref(m.examples);
		m.examples = json_array();
		ret = m.examples != NULL ? merge_row(st, &b->rows[i], &m) : SINKD_ENOMEM;
	}
	for (size_t i = 0; i < b->n_domains && ret == 0; i++) {
		const struct shape_domain_delta *d = &b->domains[i];
		ret = store_shape_domain_add(st, b->rows[d->row].key.id, d->zone, d->count,
					     d->last_ns);
	}
	json_decref(m.examples);
	srcset_free(&m.src);
	if (ret == SINKD_ENOMEM)
		log_err("shapes: out of memory merging %zu shapes", b->n_rows);
	return ret;
}
