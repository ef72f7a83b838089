/* GET /api/v1/counters, /api/v1/timeline and /api/v1/domains. */
#include "admin/admin_internal.h"

#include "capture/capture.h"
#include "core/error.h"
#include "dns/dns.h"
#include "monitor/monitor.h"
#include "pipeline/pipeline.h"
#include "store/store.h"

#include <string.h>
#include <time.h>

#define BAD(param, ...) admin_reply_error(c, MHD_HTTP_BAD_REQUEST, param, __VA_ARGS__)
#define I(v) ((json_int_t)(v))

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

json_t *admin_counters_json(struct admin *a)
{
	struct dns_totals d;
	struct capture_totals k;
	struct pipeline_stats p;
	struct pipeline_queue q;
	dns_server_totals(a->src.dns, &d);
	capture_totals(a->src.capture, &k);
	pipeline_stats(a->src.pipe, &p);
	pipeline_queue(a->src.pipe, &q);
	char iso[40];
	uint64_t now = now_ns();
	return json_pack(
	    "{s:s, s:I, s:I,"
	    " s:{s:I, s:I, s:I, s:I, s:I, s:I},"
	    " s:{s:I, s:I, s:I, s:I},"
	    " s:{s:I, s:I, s:I, s:I},"
	    " s:{s:I, s:I, s:I, s:f},"
	    " s:{s:I, s:I, s:I},"
	    " s:{s:I, s:I, s:f}}",
	    "time", admin_time_iso(now, iso, sizeof(iso)), "ts_ns", I(now), "uptime_s",
	    I((int64_t)(now / 1000000000ull) - a->started_s), "dns", "queries", I(d.queries),
	    "answered", I(d.answered), "nxdomain", I(d.nxdomain), "refused", I(d.refused),
	    "rrl_slipped", I(d.rrl_slipped), "rrl_dropped", I(d.rrl_dropped), "capture",
	    "connections", I(k.accepted), "requests", I(k.requests), "tls_handshakes",
	    I(k.tls_handshakes), "tls_handshake_failures", I(k.tls_handshake_failures), "checkins",
	    "http", I(p.stored_http), "tls", I(p.stored_tls), "raw", I(p.stored_raw), "total",
	    I(p.stored_http + p.stored_tls + p.stored_raw), "store", "events_stored",
	    I(p.events_stored), "events_failed", I(p.events_store_failed), "batches", I(p.batches),
	    "last_batch_ms", p.last_batch_us / 1000.0, "drops", "dns_queue_full",
	    I(d.events_dropped), "capture_queue_full", I(k.events_dropped), "store_failed",
	    I(p.events_store_failed), "queue", "used_bytes", I(q.used_bytes), "capacity_bytes",
	    I(q.capacity_bytes), "max_fill", q.max_fill);
}

enum MHD_Result admin_api_counters(struct admin *a, struct MHD_Connection *c, const char *rest,
				   const struct admin_params *p)
{
	static const char *const allowed[] = {NULL};
	const char *bad = admin_params_unknown(p, allowed);
	(void)rest;
	if (bad != NULL)
		return BAD(bad, "%s: /api/v1/counters takes no parameters", bad);
	json_t *o = admin_counters_json(a);
	return o != NULL ? admin_reply_json(c, MHD_HTTP_OK, o) : MHD_NO;
}

/* ---- timeline ------------------------------------------------------------ */

struct timeline {
	json_t *minutes;
	uint64_t dns, http, tls, raw;
	int error;
};

static int on_minute(const struct store_minute *m, void *ctx)
{
	struct timeline *t = ctx;
	char iso[40];
	json_t *o = json_pack("{s:I, s:s, s:I, s:I, s:I, s:I, s:I}", "minute", I(m->minute), "time",
			      admin_time_iso((uint64_t)m->minute * 1000000000ull, iso, sizeof(iso)),
			      "checkins", I(m->http + m->tls + m->raw), "dns", I(m->dns), "http",
			      I(m->http), "tls", I(m->tls), "raw", I(m->raw));
	if (o == NULL || json_array_append_new(t->minutes, o) != 0) {
		t->error = SINKD_ENOMEM;
		return 1;
	}
	t->dns += m->dns;
	t->http += m->http;
	t->tls += m->tls;
	t->raw += m->raw;
	return 0;
}

enum MHD_Result admin_api_timeline(struct admin *a, struct MHD_Connection *c, const char *rest,
				   const struct admin_params *p)
{
	static const char *const allowed[] = {"since", "until", "domain", "family", NULL};
	(void)rest;
	const char *bad = admin_params_unknown(p, allowed);
	if (bad != NULL)
		return BAD(
		    bad,
		    "%s: unknown or repeated parameter (allowed: since, until, domain, family)",
		    bad);
	uint64_t now = now_ns(), since = now - 3600ull * 1000000000ull, until = now;
	const char *v;
	if ((v = admin_param(p, "since")) != NULL && admin_parse_time(v, &since) != 0)
		return BAD("since",
			   "since: '%s' is not a time (RFC 3339, a date, Unix seconds or "
			   "an age like 15m)",
			   v);
	if ((v = admin_param(p, "until")) != NULL && admin_parse_time(v, &until) != 0)
		return BAD("until",
			   "until: '%s' is not a time (RFC 3339, a date, Unix seconds or "
			   "an age like 15m)",
			   v);
	if (since >= until)
		return BAD("until", "until must be later than since");
	if (until - since > (uint64_t)ADMIN_TIMELINE_MAX_S * 1000000000ull)
		return BAD("since", "the window since..until is at most %d days",
			   ADMIN_TIMELINE_MAX_S / 86400);
	struct store_timeline_filter tf = {.since_ns = since, .until_ns = until};
	if ((v = admin_param(p, "domain")) != NULL) {
		if (!admin_name_ok(v, 253))
			return BAD("domain", "domain: a seized domain (letters, digits, '-', '.')");
		tf.domain = v;
	}
	if ((v = admin_param(p, "family")) != NULL) {
		if (!admin_name_ok(v, 31))
			return BAD("family", "family: 1 to 31 letters, digits, '.', '-' or '_'");
		tf.family = v;
	}
	struct timeline t = {.minutes = json_array()};
	if (t.minutes == NULL)
		return MHD_NO;
	pthread_mutex_lock(&a->store_lock);
	int ret = store_timeline(a->store, &tf, on_minute, &t);
	pthread_mutex_unlock(&a->store_lock);
	if (ret == 0)
		ret = t.error;
	if (ret != 0) {
		json_decref(t.minutes);
		return admin_reply_error(c, MHD_HTTP_INTERNAL_SERVER_ERROR, NULL,
					 "the store could not be read: %s", sinkd_strerror(ret));
	}
	char s_iso[40], u_iso[40];
	json_t *o = json_pack("{s:s, s:s, s:s, s:o, s:{s:I, s:I, s:I, s:I, s:I}}", "since",
			      admin_time_iso(since, s_iso, sizeof(s_iso)), "until",
			      admin_time_iso(until, u_iso, sizeof(u_iso)), "bucket", "minute",
			      "minutes", t.minutes, "totals", "checkins", I(t.http + t.tls + t.raw),
			      "dns", I(t.dns), "http", I(t.http), "tls", I(t.tls), "raw", I(t.raw));
	return o != NULL ? admin_reply_json(c, MHD_HTTP_OK, o) : MHD_NO;
}

/* ---- domains ----------------------------------------------------------------- */

struct domains {
	json_t *list;
	const char *state; /* filter, NULL = all */
	int error;
};

static int on_status(const struct store_status_row *r, void *ctx)
{
	struct domains *d = ctx;
	if (d->state != NULL && strcmp(d->state, r->state) != 0)
		return 0;
	char iso[40];
	json_t *details = json_loads(r->details, 0, NULL);
	json_t *o =
	    json_pack("{s:s, s:s, s:s?, s:s, s:s, s:o}", "domain", r->domain, "state", r->state,
		      "previous", r->previous[0] ? r->previous : NULL, "since",
		      admin_time_iso((uint64_t)r->ts * 1000000000ull, iso, sizeof(iso)), "source",
		      r->source, "details", details != NULL ? details : json_object());
	if (o == NULL || json_array_append_new(d->list, o) != 0) {
		d->error = SINKD_ENOMEM;
		return 1;
	}
	return 0;
}

static json_t *monitor_json(struct monitor *m)
{
	if (m == NULL)
		return json_pack("{s:b}", "enabled", 0);
	struct monitor_stats st;
	monitor_stats(m, &st);
	json_t *counts = json_object();
	for (unsigned s = 0; counts != NULL && s < MONITOR_N_STATES; s++)
		json_object_set_new(counts, monitor_state_name((enum monitor_state)s),
				    json_integer(I(st.domains[s])));
	char iso[40];
	return json_pack(
	    "{s:b, s:I, s:I, s:I, s:s?, s:f, s:o}", "enabled", 1, "rounds", I(st.rounds), "checks",
	    I(st.checks), "changes", I(st.changes), "last_round",
	    st.last_round_end != 0
		? admin_time_iso((uint64_t)st.last_round_end * 1000000000ull, iso, sizeof(iso))
		: NULL,
	    "last_round_seconds", st.last_round_seconds, "domains", counts);
}

enum MHD_Result admin_api_domains(struct admin *a, struct MHD_Connection *c, const char *rest,
				  const struct admin_params *p)
{
	static const char *const allowed[] = {"state", NULL};
	(void)rest;
	const char *bad = admin_params_unknown(p, allowed);
	if (bad != NULL)
		return BAD(bad, "%s: unknown or repeated parameter (allowed: state)", bad);
	struct domains d = {.list = json_array(), .state = admin_param(p, "state")};
	enum monitor_state st;
	if (d.state != NULL && monitor_state_parse(d.state, &st) != 0) {
		json_decref(d.list);
		return BAD("state", "state: expected ok, expiring, unresolvable, lame, drifted or "
				    "expired");
	}
	if (d.list == NULL)
		return MHD_NO;
	pthread_mutex_lock(&a->store_lock);
	int ret = store_status_latest(a->store, on_status, &d);
	pthread_mutex_unlock(&a->store_lock);
	if (ret == 0)
		ret = d.error;
	if (ret != 0) {
		json_decref(d.list);
		return admin_reply_error(c, MHD_HTTP_INTERNAL_SERVER_ERROR, NULL,
					 "the store could not be read: %s", sinkd_strerror(ret));
	}
	json_t *o = json_pack("{s:o, s:I, s:o}", "monitor", monitor_json(a->src.monitor), "count",
			      I(json_array_size(d.list)), "domains", d.list);
	return o != NULL ? admin_reply_json(c, MHD_HTTP_OK, o) : MHD_NO;
}
