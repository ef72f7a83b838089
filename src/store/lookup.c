/* Lookup tables for repeated strings (zones: seized zones; labels:
 * family, message type, bot id), Pi-hole FTL style: hot tables store the
 * integer id. A direct-mapped cache in the writer handle answers repeated
 * strings without touching SQLite; a collision simply evicts. */
#include "store/store_internal.h"

#include "core/error.h"
#include "core/log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static uint64_t hash_text(const char *s, size_t len)
{
	uint64_t h = 0xcbf29ce484222325ull; /* FNV-1a */
	for (size_t i = 0; i < len; i++) {
		h ^= (uint8_t)s[i];
		h *= 0x100000001b3ull;
	}
	return h;
}

int store_lookup_init(struct store *st, struct store_lookup *lk, const char *table, size_t n_slots)
{
	char sql[128];
	lk->table = table;
	lk->n_slots = n_slots;
	lk->slots = calloc(n_slots, sizeof(*lk->slots));
	if (lk->slots == NULL)
		return SINKD_ENOMEM;
	snprintf(sql, sizeof(sql), "SELECT id FROM %s WHERE name = ?1", table);
	if (store_prepare(st, sql, &lk->select) != 0)
		return SINKD_ESTORE;
	snprintf(sql, sizeof(sql), "INSERT INTO %s(name) VALUES (?1)", table);
	return store_prepare(st, sql, &lk->insert);
}

void store_lookup_free(struct store_lookup *lk)
{
	sqlite3_finalize(lk->select);
	sqlite3_finalize(lk->insert);
	free(lk->slots);
	memset(lk, 0, sizeof(*lk));
}

void store_lookup_invalidate(struct store_lookup *lk)
{
	for (size_t i = 0; i < lk->n_slots; i++)
		lk->slots[i].id = 0;
}

/* SELECT, then INSERT when absent. The caller holds the write transaction,
 * so nobody can insert the same text in between. */
static int lookup_db(struct store *st, struct store_lookup *lk, const char *text, size_t len,
		     int64_t *id)
{
	sqlite3_bind_text(lk->select, 1, text, (int)len, SQLITE_STATIC);
	int rc = sqlite3_step(lk->select);
	if (rc == SQLITE_ROW)
		*id = sqlite3_column_int64(lk->select, 0);
	sqlite3_reset(lk->select);
	if (rc == SQLITE_ROW)
		return 0;
	if (rc != SQLITE_DONE)
		return store_sql_error(st, lk->table);
	sqlite3_bind_text(lk->insert, 1, text, (int)len, SQLITE_STATIC);
	rc = sqlite3_step(lk->insert);
	sqlite3_reset(lk->insert);
	if (rc != SQLITE_DONE)
		return store_sql_error(st, lk->table);
	*id = sqlite3_last_insert_rowid(st->db);
	return 0;
}

int store_lookup_id(struct store *st, struct store_lookup *lk, const char *text, int64_t *id)
{
	size_t len = strnlen(text, EVENT_QNAME_MAX - 1);
	uint64_t h = hash_text(text, len);
	struct store_lookup_slot *slot = &lk->slots[h & (lk->n_slots - 1)];
	if (slot->id != 0 && slot->hash == h && slot->len == len &&
	    memcmp(slot->text, text, len) == 0) {
		atomic_fetch_add_explicit(&st->stat.cache_hits, 1, memory_order_relaxed);
		*id = slot->id;
		return 0;
	}
	atomic_fetch_add_explicit(&st->stat.cache_misses, 1, memory_order_relaxed);
	int ret = lookup_db(st, lk, text, len, id);
	if (ret != 0)
		return ret;
	slot->hash = h;
	slot->id = *id;
	slot->len = (uint16_t)len;
	memcpy(slot->text, text, len);
	return 0;
}

int store_lookup_find(struct store *st, const char *table, const char *text, int64_t *id)
{
	char sql[128];
	sqlite3_stmt *stmt = NULL;
	snprintf(sql, sizeof(sql), "SELECT id FROM %s WHERE name = ?1", table);
	if (sqlite3_prepare_v2(st->db, sql, -1, &stmt, NULL) != SQLITE_OK)
		return store_sql_error(st, sql);
	sqlite3_bind_text(stmt, 1, text, -1, SQLITE_STATIC);
	int rc = sqlite3_step(stmt);
	int ret = 0;
	if (rc == SQLITE_ROW)
		*id = sqlite3_column_int64(stmt, 0);
	else if (rc == SQLITE_DONE)
		ret = SINKD_ENOENT;
	else
		ret = store_sql_error(st, sql);
	sqlite3_finalize(stmt);
	return ret;
}
