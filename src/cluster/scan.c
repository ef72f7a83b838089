/* Events back out of ClickHouse for the reports (`--source clickhouse://`).
 *
 * The reports' raw path takes events one at a time in time order and
 * feeds the same sketches the rollups use. ClickHouse hands them over
 * already grouped per hour and per distinct (source, labels) with their
 * count, oldest group first, after FINAL has collapsed delivered-twice
 * rows: far fewer lines than events (a bot checks in many times an hour),
 * and the same numbers as the raw path on the nodes' own stores, because
 * every distinct value reaches the same sketch code and a source's first
 * group holds its first event. */
#include "cluster/cluster_internal.h"

#include "core/error.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#define SCAN_FIELDS 12

struct scan {
	cluster_event_cb cb;
	void *ctx;
	char line[8192];
	size_t len;
	bool overflow;
	int ret; /* first error (from cb or parsing) */
	uint64_t rows;
	char error[256];
};

/* Unescape a TabSeparated field in place. */
static void unescape(char *s)
{
	char *w = s;
	for (char *r = s; *r; r++) {
		if (*r != '\\' || r[1] == '\0') {
			*w++ = *r;
			continue;
		}
		r++;
		*w++ = *r == 't'   ? '\t'
		       : *r == 'n' ? '\n'
		       : *r == 'r' ? '\r'
		       : *r == '0' ? '\0'
				   : *r;
	}
	*w = '\0';
}

/* One group: min(ts_ns) kind transport flags src_ip zone family bot_id
 * msg_type country asn count. */
static int parse_line(struct scan *sc, char *line)
{
	char *f[SCAN_FIELDS];
	size_t n = 0;
	char *p = line;
	while (n < SCAN_FIELDS) {
		f[n++] = p;
		char *tab = strchr(p, '\t');
		if (tab == NULL)
			break;
		*tab = '\0';
		p = tab + 1;
	}
	if (n != SCAN_FIELDS) {
		snprintf(sc->error, sizeof(sc->error),
			 "ClickHouse answered a line of %zu fields, expected %d", n, SCAN_FIELDS);
		return SINKD_EPARSE;
	}
	for (size_t i = 0; i < n; i++)
		unescape(f[i]);
	struct sinkd_event ev;
	memset(&ev, 0, sizeof(ev));
	ev.ts_ns = strtoull(f[0], NULL, 10);
	ev.kind = (uint8_t)strtoul(f[1], NULL, 10);
	ev.transport = (uint8_t)strtoul(f[2], NULL, 10);
	ev.flags = (uint32_t)strtoul(f[3], NULL, 10);
	if (event_addr_parse(&ev.src, f[4]) != 0) {
		snprintf(sc->error, sizeof(sc->error), "ClickHouse answered a bad address '%.64s'",
			 f[4]);
		return SINKD_EPARSE;
	}
	snprintf(ev.zone, sizeof(ev.zone), "%s", f[5]);
	snprintf(ev.family, sizeof(ev.family), "%s", f[6]);
	snprintf(ev.bot_id, sizeof(ev.bot_id), "%s", f[7]);
	snprintf(ev.msg_type, sizeof(ev.msg_type), "%s", f[8]);
	snprintf(ev.country, sizeof(ev.country), "%s", f[9]);
	ev.asn = (uint32_t)strtoul(f[10], NULL, 10);
	uint64_t count = strtoull(f[11], NULL, 10);
	sc->rows++;
	return sc->cb(&ev, count, false, sc->ctx);
}

static size_t on_data(char *ptr, size_t size, size_t nmemb, void *arg)
{
	struct scan *sc = arg;
	size_t n = size * nmemb;
	for (size_t i = 0; i < n && sc->ret == 0; i++) {
		char c = ptr[i];
		if (c != '\n') {
			if (sc->len + 1 < sizeof(sc->line))
				sc->line[sc->len++] = c;
			else
				sc->overflow = true;
			continue;
		}
		sc->line[sc->len] = '\0';
		sc->len = 0;
		if (sc->overflow) {
			snprintf(sc->error, sizeof(sc->error),
				 "ClickHouse answered a line over %zu bytes", sizeof(sc->line));
			sc->ret = SINKD_EPARSE;
			break;
		}
		sc->ret = parse_line(sc, sc->line);
	}
	return sc->ret == 0 ? n : 0;
}

int cluster_raw_scan(const char *source, const struct sinkd_config *cfg, uint64_t since_ns,
		     uint64_t until_ns, cluster_event_cb cb, void *ctx, char *err, size_t errlen)
{
	struct ch_server s;
	if (ch_server_from_url(&s, source, cfg, err, errlen) != 0)
		return SINKD_EINVAL;
	s.timeout_ms = 3600000; /* a scan of a big table streams for minutes */
	char sql[1024];
	if (until_ns == 0)
		until_ns = UINT64_MAX;
	/* FINAL: rows delivered twice (a retried batch) are one. Grouped per
	 * hour and distinct labelled source, oldest group first. */
	snprintf(sql, sizeof(sql),
		 "SELECT min(ts_ns) AS t, kind, transport, flags, src_ip, zone, family, bot_id,"
		 " msg_type, country, asn, count() FROM events FINAL"
		 " WHERE ts_ns >= %" PRIu64 " AND ts_ns < %" PRIu64
		 " GROUP BY toStartOfHour(ts) AS h, kind, transport, flags, src_ip, zone, family,"
		 " bot_id, msg_type, country, asn ORDER BY t FORMAT TabSeparated",
		 since_ns, until_ns);
	struct scan *sc = calloc(1, sizeof(*sc));
	if (sc == NULL)
		return SINKD_ENOMEM;
	sc->cb = cb;
	sc->ctx = ctx;
	struct ch_response r;
	int ret = ch_stream(&s, sql, "max_memory_usage=8000000000", on_data, sc, &r);
	if (sc->ret != 0) {
		if (sc->ret == SINKD_EPARSE)
			snprintf(err, errlen, "%s", sc->error);
		else
			snprintf(err, errlen, "stopped by the report (%s)",
				 sinkd_strerror(sc->ret));
		ret = sc->ret;
	} else if (ret != 0) {
		snprintf(err, errlen, "ClickHouse %s: %s", s.url, r.error);
	} else if (sc->len != 0) {
		snprintf(err, errlen, "ClickHouse's answer ended inside a line");
		ret = SINKD_EPARSE;
	}
	ch_response_free(&r);
	free(sc);
	return ret;
}
