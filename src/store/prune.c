/* Retention: delete the rows of old batches and old DNS minutes in small
 * transactions, each with a chain record (kind 2) saying what is gone, so
 * `sinkd verify` still checks every link, every manifest and every batch
 * that keeps its rows (docs/evidence.md, "Retention"). */
#include "store/store_internal.h"

#include "core/error.h"
#include "core/log.h"

#include <stdlib.h>
#include <string.h>

/* The batches after pruned_seq whose events are all older than before_ns,
 * oldest first, as long as rows stay under max_rows (at least one). */
struct prune_plan {
	int64_t first_seq, last_seq;
	int64_t ev_lo, ev_hi; /* union of their ranges */
	int64_t *late;	      /* their own late ids */
	size_t n_late;
};

static int plan_batches(struct store *st, uint64_t before_ns, size_t max_rows, struct prune_plan *p)
{
	static const char sql[] = "SELECT seq, kind, ev_lo, ev_hi, late, rows, time_hi FROM chain"
				  " WHERE seq > ?1 ORDER BY seq LIMIT 1000";
	sqlite3_stmt *s = NULL;
	int64_t rows = 0;
	int rc;
	memset(p, 0, sizeof(*p));
	if (sqlite3_prepare_v2(st->db, sql, -1, &s, NULL) != SQLITE_OK)
		return store_sql_error(st, "plan retention");
	sqlite3_bind_int64(s, 1, st->chain.pruned_seq);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		int64_t seq = sqlite3_column_int64(s, 0), kind = sqlite3_column_int64(s, 1);
		if (kind == CHAIN_PRUNE) {
			if (p->first_seq != 0)
				p->last_seq = seq;
			continue;
		}
		if ((uint64_t)sqlite3_column_int64(s, 6) >= before_ns)
			break; /* this batch has events to keep: stop here */
		if (p->first_seq != 0 && rows + sqlite3_column_int64(s, 5) > (int64_t)max_rows)
			break;
		int64_t *late;
		size_t n;
		if (chain_late_decode(sqlite3_column_blob(s, 4), (size_t)sqlite3_column_bytes(s, 4),
				      &late, &n) != 0)
			break;
		if (n > 0) {
			int64_t *all = realloc(p->late, (p->n_late + n) * sizeof(*all));
			if (all == NULL) {
				free(late);
				break;
			}
			memcpy(all + p->n_late, late, n * sizeof(*late));
			p->late = all;
			p->n_late += n;
		}
		free(late);
		if (p->first_seq == 0) {
			p->first_seq = seq;
			p->ev_lo = sqlite3_column_int64(s, 2);
		}
		p->last_seq = seq;
		p->ev_hi = sqlite3_column_int64(s, 3);
		rows += sqlite3_column_int64(s, 5);
	}
	sqlite3_finalize(s);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : store_sql_error(st, "plan retention");
}

static int cmp_id(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
	return (x > y) - (x < y);
}

/* Ids in (lo, hi] listed as late by records after last_seq: rows of
 * batches that are kept. */
static int kept_ids(struct store *st, const struct prune_plan *p, int64_t **out, size_t *n_out)
{
	static const char sql[] = "SELECT late FROM chain WHERE late_min IS NOT NULL"
				  " AND late_min <= ?1 AND seq > ?2";
	sqlite3_stmt *s = NULL;
	int rc;
	*out = NULL;
	*n_out = 0;
	if (sqlite3_prepare_v2(st->db, sql, -1, &s, NULL) != SQLITE_OK)
		return store_sql_error(st, "retention: late ids");
	sqlite3_bind_int64(s, 1, p->ev_hi);
	sqlite3_bind_int64(s, 2, p->last_seq);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		int64_t *late;
		size_t n;
		if (chain_late_decode(sqlite3_column_blob(s, 0), (size_t)sqlite3_column_bytes(s, 0),
				      &late, &n) != 0)
			continue;
		for (size_t i = 0; i < n; i++) {
			if (late[i] <= p->ev_lo || late[i] > p->ev_hi)
				continue;
			int64_t *grown = realloc(*out, (*n_out + 1) * sizeof(**out));
			if (grown == NULL) {
				free(late);
				sqlite3_finalize(s);
				return SINKD_ENOMEM;
			}
			*out = grown;
			(*out)[(*n_out)++] = late[i];
		}
		free(late);
	}
	sqlite3_finalize(s);
	if (*n_out > 1)
		qsort(*out, *n_out, sizeof(**out), cmp_id);
	return rc == SQLITE_DONE ? 0 : store_sql_error(st, "retention: late ids");
}

static int exec_range(struct store *st, const char *sql, int64_t a, int64_t b, int64_t *changed)
{
	sqlite3_stmt *s = NULL;
	if (sqlite3_prepare_v2(st->db, sql, -1, &s, NULL) != SQLITE_OK)
		return store_sql_error(st, sql);
	sqlite3_bind_int64(s, 1, a);
	sqlite3_bind_int64(s, 2, b);
	int rc = sqlite3_step(s);
	sqlite3_finalize(s);
	if (rc != SQLITE_DONE)
		return store_sql_error(st, sql);
	*changed += sqlite3_changes(st->db);
	return 0;
}

/* Delete events and capture rows in (lo, hi], around the kept ids. */
static int delete_range(struct store *st, int64_t lo, int64_t hi, const int64_t *keep, size_t n,
			int64_t *rows, int64_t *caps)
{
	int64_t from = lo;
	for (size_t i = 0; i <= n; i++) {
		int64_t to = i < n ? keep[i] - 1 : hi;
		if (to > from && (exec_range(st, "DELETE FROM events WHERE id > ?1 AND id <= ?2",
					     from, to, rows) != 0 ||
				  exec_range(st, "DELETE FROM capture WHERE id > ?1 AND id <= ?2",
					     from, to, caps) != 0))
			return SINKD_ESTORE;
		if (i < n)
			from = keep[i];
	}
	return 0;
}

static int begin(struct store *st)
{
	if (sqlite3_exec(st->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK)
		return store_sql_error(st, "retention: begin");
	return store_chain_begin(st);
}

static int commit(struct store *st, struct chain_rec *r)
{
	uint8_t empty[CHAIN_HASH_LEN];
	struct chain_tally t = {0};
	struct chain_rec none = {.ev_lo = st->chain.ev_hi, .ev_hi = st->chain.ev_hi};
	r->kind = CHAIN_PRUNE;
	r->ev_lo = r->ev_hi = st->chain.ev_hi;
	r->zones_lo = r->zones_hi = st->chain.zones_hi;
	r->labels_lo = r->labels_hi = st->chain.labels_hi;
	r->bots_lo = r->bots_hi = st->chain.bots_hi;
	none.zones_lo = none.zones_hi = r->zones_hi;
	none.labels_lo = none.labels_hi = r->labels_hi;
	none.bots_lo = none.bots_hi = r->bots_hi;
	/* A retention record has no content of its own: the digest of no rows. */
	if (chain_content(st, &none, NULL, 0, &t, empty) != 0)
		return SINKD_ESTORE;
	memcpy(r->content, empty, sizeof(empty));
	if (store_chain_append(st, r) != 0 || store_manifest_maybe(st, r->ts_ns, false) != 0)
		return SINKD_ESTORE;
	if (sqlite3_exec(st->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
		return store_sql_error(st, "retention: commit");
	store_chain_committed(st);
	atomic_fetch_add_explicit(&st->stat.retention_steps, 1, memory_order_relaxed);
	atomic_fetch_add_explicit(&st->stat.retention_rows, (uint64_t)(r->rows + r->captures),
				  memory_order_relaxed);
	return 0;
}

static void rollback(struct store *st)
{
	sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
	store_chain_rolled_back(st);
}

/* One chunk of event rows: the batches planned, their late rows. */
static int prune_events(struct store *st, uint64_t before_ns, size_t max_rows, bool *more)
{
	struct prune_plan p;
	int64_t *keep = NULL, rows = 0, caps = 0;
	size_t n_keep = 0;
	if (plan_batches(st, before_ns, max_rows, &p) != 0)
		return SINKD_ESTORE;
	if (p.first_seq == 0) {
		free(p.late);
		return 0;
	}
	int ret = begin(st);
	if (ret == 0)
		ret = kept_ids(st, &p, &keep, &n_keep);
	if (ret == 0)
		ret = delete_range(st, p.ev_lo, p.ev_hi, keep, n_keep, &rows, &caps);
	for (size_t i = 0; ret == 0 && i < p.n_late; i++)
		ret = exec_range(st, "DELETE FROM events WHERE id >= ?1 AND id <= ?2", p.late[i],
				 p.late[i], &rows) != 0 ||
			      exec_range(st, "DELETE FROM capture WHERE id >= ?1 AND id <= ?2",
					 p.late[i], p.late[i], &caps) != 0
			  ? SINKD_ESTORE
			  : 0;
	struct chain_rec r = {.pruned_seq = p.last_seq,
			      .pruned_minute = st->chain.pruned_minute,
			      .rows = rows,
			      .captures = caps};
	if (ret == 0)
		ret = commit(st, &r);
	if (ret != 0)
		rollback(st);
	else
		*more = true;
	free(keep);
	free(p.late);
	return ret;
}

/* One chunk of dns_minute rows older than before_minute. */
static int prune_minutes(struct store *st, int64_t before_minute, size_t max_rows, bool *more)
{
	static const char sql[] =
	    "DELETE FROM dns_minute WHERE (minute, resolver, qname, zone_id, qtype, rcode) IN"
	    " (SELECT minute, resolver, qname, zone_id, qtype, rcode FROM dns_minute"
	    " WHERE minute < ?1 ORDER BY minute LIMIT ?2)";
	int64_t n = 0;
	if (before_minute <= 0)
		return 0;
	if (begin(st) != 0 || exec_range(st, sql, before_minute, (int64_t)max_rows, &n) != 0) {
		rollback(st);
		return SINKD_ESTORE;
	}
	if (n == 0 && before_minute <= st->chain.pruned_minute) {
		rollback(st); /* nothing to do, nothing to record */
		return 0;
	}
	struct chain_rec r = {.pruned_seq = st->chain.pruned_seq,
			      .pruned_minute = before_minute > st->chain.pruned_minute
						   ? before_minute
						   : st->chain.pruned_minute,
			      .rows = n};
	if (commit(st, &r) != 0) {
		rollback(st);
		return SINKD_ESTORE;
	}
	*more = n == (int64_t)max_rows;
	return 0;
}

int store_prune_step(struct store *st, uint64_t raw_before_ns, int64_t rollup_before_minute,
		     size_t max_rows, bool *more)
{
	*more = false;
	if (st->read_only || !st->chain.have_last)
		return 0; /* nothing sealed yet: nothing to prune against */
	int ret = 0;
	if (raw_before_ns > 0)
		ret = prune_events(st, raw_before_ns, max_rows, more);
	if (ret == 0 && !*more && rollup_before_minute > 0)
		ret = prune_minutes(st, rollup_before_minute / 60 * 60, max_rows, more);
	if (ret != 0)
		log_err("store %s: retention step failed; retrying later", st->path);
	return ret;
}
