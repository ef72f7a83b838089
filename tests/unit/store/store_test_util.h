/* Helpers shared by the store unit tests: a temp directory per test, event
 * builders and direct SQL on the store file. Header-only (static). */
#ifndef SINKD_TEST_STORE_UTIL_H
#define SINKD_TEST_STORE_UTIL_H

#include <dirent.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/event.h"

#define T0_NS 1795651200000000000ull /* 2026-11-26T00:00:00Z */
#define SEC_NS 1000000000ull

struct tmpdir {
	char dir[512];
	char db[600];
};

static inline void tmpdir_make(struct tmpdir *t)
{
	const char *base = getenv("SINKD_TEST_TMP");
	if (base == NULL || base[0] == '\0')
		base = "/tmp";
	mkdir(base, 0755);
	snprintf(t->dir, sizeof(t->dir), "%s/store-XXXXXX", base);
	if (mkdtemp(t->dir) == NULL) {
		perror("mkdtemp");
		abort();
	}
	snprintf(t->db, sizeof(t->db), "%s/sinkd.db", t->dir);
}

static inline void tmpdir_remove(struct tmpdir *t)
{
	DIR *d = opendir(t->dir);
	struct dirent *e;
	char path[1200];
	while (d != NULL && (e = readdir(d)) != NULL) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		snprintf(path, sizeof(path), "%s/%s", t->dir, e->d_name);
		chmod(path, 0644);
		unlink(path);
	}
	if (d != NULL)
		closedir(d);
	rmdir(t->dir);
}

static inline struct sinkd_event dns_event(uint64_t ts_ns, const char *src, uint16_t port,
					   const char *zone, const char *qname, uint16_t qtype,
					   uint16_t rcode)
{
	struct sinkd_event ev;
	memset(&ev, 0, sizeof(ev));
	ev.ts_ns = ts_ns;
	ev.kind = EVENT_DNS;
	ev.transport = TRANSPORT_UDP;
	event_addr_parse(&ev.src, src);
	ev.src.port = port;
	event_addr_parse(&ev.dst, "127.0.0.1");
	ev.dst.port = 5353;
	ev.qtype = qtype;
	ev.qclass = 1;
	ev.rcode = rcode;
	ev.msg_size = 40;
	snprintf(ev.zone, sizeof(ev.zone), "%s", zone);
	snprintf(ev.qname, sizeof(ev.qname), "%s", qname);
	return ev;
}

/* An HTTP, TLS or raw event from src:port to 127.0.0.1:dport whose payload
 * sections are added to buf (cap bytes) with cap_section. */
static inline struct sinkd_event cap_event(uint8_t kind, uint64_t ts_ns, const char *src,
					   uint16_t port, uint16_t dport, uint64_t conn_id,
					   uint8_t *buf)
{
	struct sinkd_event ev;
	memset(&ev, 0, sizeof(ev));
	ev.ts_ns = ts_ns;
	ev.kind = kind;
	ev.transport = TRANSPORT_TCP;
	event_addr_parse(&ev.src, src);
	ev.src.port = port;
	event_addr_parse(&ev.dst, "127.0.0.1");
	ev.dst.port = dport;
	ev.conn_id = conn_id;
	ev.payload = buf;
	return ev;
}

static inline void cap_section(struct sinkd_event *ev, size_t cap, uint8_t type,
			       const void *data, size_t len)
{
	if (event_payload_add((uint8_t *)ev->payload, cap, &ev->payload_len, type, data, len) != 0)
		abort();
}

static inline void cap_text(struct sinkd_event *ev, size_t cap, uint8_t type, const char *text)
{
	cap_section(ev, cap, type, text, strlen(text));
}

/* One integer from SQL run on the file through its own connection. */
static inline long long sql_int(const char *db, const char *sql)
{
	sqlite3 *h = NULL;
	sqlite3_stmt *s = NULL;
	long long v = -1;
	if (sqlite3_open_v2(db, &h, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK &&
	    sqlite3_prepare_v2(h, sql, -1, &s, NULL) == SQLITE_OK && sqlite3_step(s) == SQLITE_ROW)
		v = sqlite3_column_int64(s, 0);
	else
		fprintf(stderr, "sql_int(%s): %s\n", sql, sqlite3_errmsg(h));
	sqlite3_finalize(s);
	sqlite3_close(h);
	return v;
}

/* Run SQL read-write on the file; returns the sqlite result code. */
static inline int sql_exec(const char *db, const char *sql)
{
	sqlite3 *h = NULL;
	int rc = sqlite3_open_v2(db, &h, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_exec(h, sql, NULL, NULL, NULL);
	if (rc != SQLITE_OK)
		fprintf(stderr, "sql_exec(%s): %s\n", sql, sqlite3_errmsg(h));
	sqlite3_close(h);
	return rc;
}

#endif
