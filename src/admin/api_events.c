/* GET /api/v1/events: recorded events, newest first, paged with a cursor.
 *
 * A page ends at `limit` rows; next_cursor "<ts_ns>.<skip>" resumes just
 * after the last row shown: rows up to and including that instant, minus the
 * `skip` rows of that very instant already shown (events and DNS minute
 * aggregates can share an instant). Every argument is checked before the
 * store is touched, and every query is bounded by limit and the store's
 * scan budget. */
#include "admin/admin_internal.h"

#include "core/error.h"
#include "core/event.h"
#include "store/store.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

struct page {
	json_t *events;
	uint64_t cursor_ts; /* rows after the cursor: ts <= this */
	uint64_t skip;	    /* rows at cursor_ts already shown */
	uint64_t skipped;
	size_t want, got;
	bool more;
	uint64_t last_ts;
	uint64_t same; /* rows of this page at last_ts */
	int error;
};

static void set_if_missing(json_t *o, const char *key, const char *value)
{
	if (value[0] != '\0' && json_object_get(o, key) == NULL)
		json_object_set_new(o, key, json_string(value));
}

/* The row as `sinkd events --format json` renders it, plus the labels of
 * classification and enrichment and the exact time in ns. */
static json_t *row_json(const struct store_row *row)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *mem = open_memstream(&buf, &len);
	if (mem == NULL)
		return NULL;
	int ret = store_row_json(mem, row);
	if (fclose(mem) != 0 || ret != 0) {
		free(buf);
		return NULL;
	}
	json_t *o = json_loadb(buf, len, 0, NULL);
	free(buf);
	if (o == NULL)
		return NULL;
	const struct sinkd_event *ev = &row->ev;
	json_object_set_new(o, "ts_ns", json_integer((json_int_t)ev->ts_ns));
	set_if_missing(o, "family", ev->family);
	set_if_missing(o, "msg_type", ev->msg_type);
	set_if_missing(o, "bot_id", ev->bot_id);
	set_if_missing(o, "country", ev->country);
	if (ev->asn != 0 && json_object_get(o, "asn") == NULL)
		json_object_set_new(o, "asn", json_integer(ev->asn));
	return o;
}

static int on_row(const struct store_row *row, void *ctx)
{
	struct page *pg = ctx;
	uint64_t ts = row->ev.ts_ns;
	if (pg->skipped < pg->skip) {
		if (ts == pg->cursor_ts) {
			pg->skipped++;
			return 0;
		}
		pg->skip = pg->skipped; /* fewer rows at that instant than before */
	}
	if (pg->got == pg->want) {
		pg->more = true;
		return 1;
	}
	json_t *o = row_json(row);
	if (o == NULL || json_array_append_new(pg->events, o) != 0) {
		pg->error = SINKD_ENOMEM;
		return 1;
	}
	pg->got++;
	if (pg->got == 1 || ts != pg->last_ts) {
		pg->last_ts = ts;
		pg->same = 0;
	}
	pg->same++;
	return 0;
}

int admin_parse_cursor(const char *text, uint64_t *ts, uint64_t *skip)
{
	const char *dot = strchr(text, '.');
	char head[24];
	if (dot == NULL || (size_t)(dot - text) >= sizeof(head))
		return SINKD_EINVAL;
	memcpy(head, text, (size_t)(dot - text));
	head[dot - text] = '\0';
	if (admin_parse_uint(head, 1, (uint64_t)INT64_MAX, ts) != 0)
		return SINKD_EINVAL;
	return admin_parse_uint(dot + 1, 0, ADMIN_EVENTS_SKIP_MAX, skip);
}

#define BAD(param, ...) admin_reply_error(c, MHD_HTTP_BAD_REQUEST, param, __VA_ARGS__)

enum MHD_Result admin_api_events(struct admin *a, struct MHD_Connection *c, const char *rest,
				 const struct admin_params *p)
{
	static const char *const allowed[] = {"since",	"until", "domain", "ip", "type",
					      "family", "limit", "cursor", NULL};
	(void)rest;
	const char *bad = admin_params_unknown(p, allowed);
	if (bad != NULL)
		return BAD(bad,
			   "%s: unknown or repeated parameter (allowed: since, until, domain, "
			   "ip, type, family, limit, cursor)",
			   bad);
	struct store_filter f = {0};
	const char *v;
	if ((v = admin_param(p, "since")) != NULL && admin_parse_time(v, &f.since_ns) != 0)
		return BAD("since",
			   "since: '%s' is not a time (RFC 3339, a date, Unix seconds or "
			   "an age like 15m)",
			   v);
	if ((v = admin_param(p, "until")) != NULL && admin_parse_time(v, &f.until_ns) != 0)
		return BAD("until",
			   "until: '%s' is not a time (RFC 3339, a date, Unix seconds or "
			   "an age like 15m)",
			   v);
	if (f.until_ns != 0 && f.since_ns >= f.until_ns)
		return BAD("until", "until must be later than since");
	if ((v = admin_param(p, "domain")) != NULL) {
		if (!admin_name_ok(v, 253))
			return BAD("domain",
				   "domain: not a domain name (letters, digits, '-', '.', "
				   "at most 253 characters)");
		f.domain = v;
	}
	if ((v = admin_param(p, "ip")) != NULL) {
		struct event_addr addr;
		if (strlen(v) > 45 || event_addr_parse(&addr, v) != 0)
			return BAD("ip", "ip: not an IPv4 or IPv6 address");
		f.ip = v;
	}
	if ((v = admin_param(p, "type")) != NULL) {
		uint8_t kind;
		int qtype;
		if (strlen(v) > 16 || store_type_parse(v, &kind, &qtype) != 0)
			return BAD("type",
				   "type: expected dns, http, tls, raw or a DNS type like A");
		f.type = v;
	}
	if ((v = admin_param(p, "family")) != NULL) {
		if (!admin_name_ok(v, EVENT_LABEL_MAX - 1))
			return BAD("family", "family: 1 to %d letters, digits, '.', '-' or '_'",
				   EVENT_LABEL_MAX - 1);
		f.family = v;
	}
	uint64_t limit = 100;
	if ((v = admin_param(p, "limit")) != NULL &&
	    admin_parse_uint(v, 1, ADMIN_EVENTS_LIMIT_MAX, &limit) != 0)
		return BAD("limit", "limit: a number from 1 to %d", ADMIN_EVENTS_LIMIT_MAX);
	struct page pg = {.want = (size_t)limit};
	if ((v = admin_param(p, "cursor")) != NULL) {
		if (strlen(v) > 48 || admin_parse_cursor(v, &pg.cursor_ts, &pg.skip) != 0)
			return BAD("cursor",
				   "cursor: use next_cursor from the previous page as is");
		if (f.until_ns == 0 || pg.cursor_ts + 1 < f.until_ns)
			f.until_ns = pg.cursor_ts + 1;
		if (f.since_ns >= f.until_ns)
			f.until_ns = f.since_ns + 1; /* nothing left: an empty page */
	}
	f.limit = (size_t)(pg.skip + limit + 1);
	pg.events = json_array();
	if (pg.events == NULL)
		return MHD_NO;
	struct store_scan scan = {0};
	pthread_mutex_lock(&a->store_lock);
	int ret = store_query_scan(a->store, &f, on_row, &pg, &scan);
	pthread_mutex_unlock(&a->store_lock);
	if (ret == 0)
		ret = pg.error;
	if (ret != 0) {
		json_decref(pg.events);
		return admin_reply_error(c, MHD_HTTP_INTERNAL_SERVER_ERROR, NULL,
					 "the store could not be read: %s", sinkd_strerror(ret));
	}
	json_t *o = json_pack("{s:o, s:I, s:b}", "events", pg.events, "count", (json_int_t)pg.got,
			      "complete", !scan.stopped);
	if (o == NULL)
		return MHD_NO;
	char cur[48];
	if (pg.more) {
		uint64_t skip = pg.same + (pg.last_ts == pg.cursor_ts ? pg.skip : 0);
		uint64_t ts = pg.last_ts;
		if (skip > ADMIN_EVENTS_SKIP_MAX) {
			/* More rows at one instant than a cursor can skip (a DNS
			 * flood's minute): the next page starts before it. */
			ts--;
			skip = 0;
			json_object_set_new(o, "complete", json_false());
		}
		snprintf(cur, sizeof(cur), "%" PRIu64 ".%" PRIu64, ts, skip);
	}
	json_object_set_new(o, "next_cursor", pg.more ? json_string(cur) : json_null());
	if (scan.stopped) {
		char iso[40];
		json_object_set_new(o, "searched_back_to",
				    json_string(admin_time_iso(scan.stopped_ns, iso, sizeof(iso))));
	}
	return admin_reply_json(c, MHD_HTTP_OK, o);
}
