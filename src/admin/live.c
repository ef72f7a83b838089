/* GET /api/v1/live: server-sent events, one `counters` event (the object
 * of /api/v1/counters) at once and then every `interval` seconds, until the
 * client goes or sinkd stops. Each stream holds one connection thread;
 * streams are limited to half of [admin] max_connections. */
#include "admin/admin_internal.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

struct stream {
	struct admin *a;
	unsigned interval_ms;
	uint64_t sent; /* events sent */
	char *pending; /* text not yet handed to MHD */
	size_t pending_len, pending_off;
};

static void sleep_ms(unsigned ms)
{
	struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
	nanosleep(&ts, NULL);
}

static ssize_t next_chunk(void *cls, uint64_t pos, char *buf, size_t max)
{
	struct stream *s = cls;
	(void)pos;
	if (s->pending == NULL) {
		/* Wait for the next tick in small steps so a stop is seen. */
		for (unsigned waited = 0; s->sent > 0 && waited < s->interval_ms; waited += 100) {
			if (atomic_load(&s->a->stopping))
				return MHD_CONTENT_READER_END_OF_STREAM;
			sleep_ms(100);
		}
		if (atomic_load(&s->a->stopping))
			return MHD_CONTENT_READER_END_OF_STREAM;
		json_t *o = admin_counters_json(s->a);
		char *text =
		    o != NULL
			? json_dumps(o, JSON_COMPACT | JSON_ENSURE_ASCII | JSON_REAL_PRECISION(9))
			: NULL;
		json_decref(o);
		if (text == NULL)
			return MHD_CONTENT_READER_END_WITH_ERROR;
		size_t cap = strlen(text) + 64;
		s->pending = malloc(cap);
		if (s->pending == NULL) {
			free(text);
			return MHD_CONTENT_READER_END_WITH_ERROR;
		}
		s->pending_len =
		    (size_t)snprintf(s->pending, cap, "event: counters\nid: %llu\ndata: %s\n\n",
				     (unsigned long long)s->sent, text);
		s->pending_off = 0;
		free(text);
		s->sent++;
	}
	size_t n = s->pending_len - s->pending_off;
	if (n > max)
		n = max;
	memcpy(buf, s->pending + s->pending_off, n);
	s->pending_off += n;
	if (s->pending_off == s->pending_len) {
		free(s->pending);
		s->pending = NULL;
	}
	return (ssize_t)n;
}

static void end_stream(void *cls)
{
	struct stream *s = cls;
	atomic_fetch_sub(&s->a->streams, 1);
	free(s->pending);
	free(s);
}

enum MHD_Result admin_api_live(struct admin *a, struct MHD_Connection *c, const char *rest,
			       const struct admin_params *p)
{
	static const char *const allowed[] = {"interval", NULL};
	(void)rest;
	const char *bad = admin_params_unknown(p, allowed);
	if (bad != NULL)
		return admin_reply_error(c, MHD_HTTP_BAD_REQUEST, bad,
					 "%s: unknown or repeated parameter (allowed: interval)",
					 bad);
	uint64_t interval = 1;
	const char *v = admin_param(p, "interval");
	if (v != NULL && admin_parse_uint(v, 1, 60, &interval) != 0)
		return admin_reply_error(c, MHD_HTTP_BAD_REQUEST, "interval",
					 "interval: seconds from 1 to 60");
	unsigned max_streams = a->cfg.admin_max_connections / 2;
	if (max_streams == 0)
		max_streams = 1;
	if (atomic_fetch_add(&a->streams, 1) >= max_streams) {
		atomic_fetch_sub(&a->streams, 1);
		return admin_reply_error(c, MHD_HTTP_SERVICE_UNAVAILABLE, NULL,
					 "too many live streams open (at most %u)", max_streams);
	}
	struct stream *s = calloc(1, sizeof(*s));
	if (s == NULL) {
		atomic_fetch_sub(&a->streams, 1);
		return MHD_NO;
	}
	s->a = a;
	s->interval_ms = (unsigned)interval * 1000;
	struct MHD_Response *r =
	    MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 4096, next_chunk, s, end_stream);
	if (r == NULL) {
		end_stream(s);
		return MHD_NO;
	}
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, "text/event-stream");
	MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
	enum MHD_Result ret = MHD_queue_response(c, MHD_HTTP_OK, r);
	MHD_destroy_response(r);
	return ret;
}
