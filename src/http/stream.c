/* Request capture on top of http-parser: callbacks append payload sections
 * into the lent request buffer as bytes stream in, so nothing is copied
 * twice and nothing is held between requests. */
#include "http/http.h"

#include "core/error.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

#define SECTION_HDR 5
#define RAW_MAX 4096

enum { HS_NONE, HS_FIELD, HS_VALUE, HS_VALUE_HOST, HS_VALUE_UA, HS_VALUE_REF, HS_VALUE_XFF };

static http_parser_settings settings;

size_t http_buffer_size(const struct http_limits *lim)
{
	/* The event, target+headers, copies of UA and Referer, body, RAW on
	 * failure, and the section headers. */
	return sizeof(struct sinkd_event) + 2 * (size_t)lim->max_header_bytes +
	       lim->max_body_bytes + RAW_MAX + 8 * SECTION_HDR;
}

static struct sinkd_event *req_ev(struct http_stream *s)
{
	return (struct sinkd_event *)s->buf;
}

static uint8_t *payload(struct http_stream *s)
{
	return s->buf + sizeof(struct sinkd_event);
}

static void section_open(struct http_stream *s, uint8_t type)
{
	uint32_t zero = 0;
	s->section = s->used;
	payload(s)[s->used] = type;
	memcpy(payload(s) + s->used + 1, &zero, sizeof(zero));
	s->used += SECTION_HDR;
}

static void section_append(struct http_stream *s, const void *data, size_t len)
{
	if (len > s->cap - s->used)
		len = s->cap - s->used; /* sized so this cannot happen; stay safe */
	memcpy(payload(s) + s->used, data, len);
	s->used += (uint32_t)len;
	uint32_t l = s->used - s->section - SECTION_HDR;
	memcpy(payload(s) + s->section + 1, &l, sizeof(l));
}

static void section_copy(struct http_stream *s, uint8_t type, uint32_t off, uint32_t len)
{
	if (len == 0)
		return;
	section_open(s, type);
	section_append(s, payload(s) + off, len);
}

static struct http_stream *stream_of(http_parser *p)
{
	return p->data;
}

/* Header-block bytes count against the limit; above it the request fails
 * with 431 (the callback's non-zero return stops the parser). */
static int count_header(struct http_stream *s, size_t len)
{
	s->header_bytes += (uint32_t)len;
	if (s->header_bytes > s->lim->max_header_bytes) {
		req_ev(s)->flags |= EVF_LIMITED | EVF_HEADERS_TRUNCATED;
		return 1;
	}
	return 0;
}

static int on_message_begin(http_parser *p)
{
	struct http_stream *s = stream_of(p);
	struct sinkd_event *ev = req_ev(s);
	uint64_t ts = ev->ts_ns; /* set by feed before parsing */
	memset(ev, 0, sizeof(*ev));
	ev->ts_ns = ts;
	ev->kind = EVENT_HTTP;
	ev->transport = TRANSPORT_TCP;
	ev->src = s->conn->src;
	ev->dst = s->conn->dst;
	ev->proxy = s->conn->proxy;
	ev->conn_id = s->conn->conn_id;
	ev->flags = s->conn->flags;
	ev->worker = s->conn->worker;
	s->in_message = true;
	s->used = 0;
	s->header_bytes = 0;
	s->body_stored = 0;
	s->ua_off = s->ua_len = s->ref_off = s->ref_len = 0;
	s->hdr_state = HS_NONE;
	s->name_len = 0;
	s->host_len = 0;
	s->xff_len = 0;
	section_open(s, EVP_TARGET);
	return 0;
}

static int on_url(http_parser *p, const char *at, size_t len)
{
	struct http_stream *s = stream_of(p);
	if (count_header(s, len))
		return 1;
	section_append(s, at, len);
	return 0;
}

static int on_header_field(http_parser *p, const char *at, size_t len)
{
	struct http_stream *s = stream_of(p);
	if (count_header(s, len))
		return 1;
	if (s->hdr_state == HS_NONE) {
		section_open(s, EVP_HEADERS);
	} else if (s->hdr_state != HS_FIELD) {
		section_append(s, "\r\n", 2);
		s->name_len = 0;
	}
	s->hdr_state = HS_FIELD;
	for (size_t i = 0; i < len; i++, s->name_len++) {
		if (s->name_len < sizeof(s->name))
			s->name[s->name_len] = (char)tolower((unsigned char)at[i]);
	}
	section_append(s, at, len);
	return 0;
}

static bool name_is(const struct http_stream *s, const char *name)
{
	size_t n = strlen(name);
	return s->name_len == n && memcmp(s->name, name, n) == 0;
}

static int on_header_value(http_parser *p, const char *at, size_t len)
{
	struct http_stream *s = stream_of(p);
	if (count_header(s, len))
		return 1;
	if (s->hdr_state == HS_FIELD) {
		section_append(s, ": ", 2);
		s->hdr_state = HS_VALUE;
		if (name_is(s, "host")) {
			s->hdr_state = HS_VALUE_HOST;
		} else if (name_is(s, "user-agent") && s->ua_len == 0) {
			s->hdr_state = HS_VALUE_UA;
			s->ua_off = s->used;
		} else if (name_is(s, "referer") && s->ref_len == 0) {
			s->hdr_state = HS_VALUE_REF;
			s->ref_off = s->used;
		} else if (name_is(s, "x-forwarded-for")) {
			s->hdr_state = HS_VALUE_XFF;
			if (s->xff_len > 0 && s->xff_len < sizeof(s->xff) - 1)
				s->xff[s->xff_len++] = ','; /* repeated header: one list */
		}
	}
	struct sinkd_event *ev = req_ev(s);
	if (s->hdr_state == HS_VALUE_HOST) {
		for (size_t i = 0; i < len && s->host_len < sizeof(ev->qname) - 1; i++)
			ev->qname[s->host_len++] = (char)tolower((unsigned char)at[i]);
	} else if (s->hdr_state == HS_VALUE_UA) {
		s->ua_len += (uint32_t)len;
	} else if (s->hdr_state == HS_VALUE_REF) {
		s->ref_len += (uint32_t)len;
	} else if (s->hdr_state == HS_VALUE_XFF) {
		/* Keep the tail: the nearest proxy's address is the last one. */
		for (size_t i = 0; i < len; i++) {
			if (s->xff_len == sizeof(s->xff) - 1) {
				memmove(s->xff, s->xff + 1, sizeof(s->xff) - 2);
				s->xff_len--;
			}
			s->xff[s->xff_len++] = at[i];
		}
	}
	section_append(s, at, len);
	return 0;
}

/* Host "name:port" -> name; a trailing dot goes too. */
static void host_trim(char *host)
{
	char *end = host + strlen(host);
	if (host[0] == '[') {
		char *close = strchr(host, ']');
		if (close != NULL)
			*(close + 1) = '\0';
		return;
	}
	char *colon = strchr(host, ':');
	if (colon != NULL)
		end = colon;
	if (end > host && end[-1] == '.')
		end--;
	*end = '\0';
}

static int on_headers_complete(http_parser *p)
{
	struct http_stream *s = stream_of(p);
	struct sinkd_event *ev = req_ev(s);
	if (s->hdr_state != HS_NONE && s->hdr_state != HS_FIELD)
		section_append(s, "\r\n", 2);
	if (s->hdr_state == HS_NONE)
		section_open(s, EVP_HEADERS);
	section_copy(s, EVP_USER_AGENT, s->ua_off, s->ua_len);
	section_copy(s, EVP_REFERER, s->ref_off, s->ref_len);
	host_trim(ev->qname);
	snprintf(ev->http_method, sizeof(ev->http_method), "%s", http_method_str(p->method));
	ev->http_version = (uint8_t)(p->http_major * 10 + p->http_minor);
	section_open(s, EVP_BODY);
	return 0;
}

static int on_body(http_parser *p, const char *at, size_t len)
{
	struct http_stream *s = stream_of(p);
	struct sinkd_event *ev = req_ev(s);
	ev->body_len += (uint32_t)len;
	size_t room = s->lim->max_body_bytes - s->body_stored;
	if (len > room) {
		ev->flags |= EVF_BODY_TRUNCATED;
		len = room;
	}
	section_append(s, at, len);
	s->body_stored += (uint32_t)len;
	return 0;
}

static void emit(struct http_stream *s, enum http_reply reply, bool close)
{
	struct sinkd_event *ev = req_ev(s);
	ev->payload = payload(s);
	ev->payload_len = s->used;
	ev->http_status = reply == HTTP_REPLY_400 ? 400 : reply == HTTP_REPLY_431 ? 431 : 0;
	s->in_message = false;
	s->requests++;
	s->cb(s->cb_ctx, ev, reply, close);
}

static int on_message_complete(http_parser *p)
{
	struct http_stream *s = stream_of(p);
	bool head = p->method == HTTP_HEAD;
	emit(s, head ? HTTP_REPLY_OK_HEAD : HTTP_REPLY_OK,
	     !http_should_keep_alive(p) || p->upgrade);
	return 0;
}

static void settings_init(void)
{
	if (settings.on_message_begin != NULL)
		return;
	http_parser_settings_init(&settings);
	settings.on_message_begin = on_message_begin;
	settings.on_url = on_url;
	settings.on_header_field = on_header_field;
	settings.on_header_value = on_header_value;
	settings.on_headers_complete = on_headers_complete;
	settings.on_body = on_body;
	settings.on_message_complete = on_message_complete;
}

void http_stream_init(struct http_stream *s, const struct http_limits *lim,
		      const struct http_conn_info *conn, http_request_cb cb, void *ctx)
{
	settings_init();
	memset(s, 0, sizeof(*s));
	http_parser_init(&s->parser, HTTP_REQUEST);
	s->parser.data = s;
	s->lim = lim;
	s->conn = conn;
	s->cb = cb;
	s->cb_ctx = ctx;
	s->cap = (uint32_t)(http_buffer_size(lim) - sizeof(struct sinkd_event));
}

void http_stream_lend(struct http_stream *s, uint8_t *buf)
{
	s->buf = buf;
}

uint8_t *http_stream_reclaim(struct http_stream *s)
{
	uint8_t *b = s->buf;
	s->buf = NULL;
	return b;
}

/* Bytes that are not HTTP at all: one event with the first bytes. */
static void not_http(struct http_stream *s, const uint8_t *data, size_t len, uint64_t now_ns)
{
	if (!s->in_message)
		on_message_begin(&s->parser);
	struct sinkd_event *ev = req_ev(s);
	ev->ts_ns = now_ns;
	ev->flags |= EVF_NOT_HTTP;
	s->used = 0;
	section_open(s, EVP_RAW);
	section_append(s, data, len < RAW_MAX ? len : RAW_MAX);
	emit(s, HTTP_REPLY_NONE, true);
}

bool http_stream_feed(struct http_stream *s, const uint8_t *data, size_t len, uint64_t now_ns)
{
	if (s->failed)
		return false;
	if (!s->in_message)
		req_ev(s)->ts_ns = now_ns;
	bool first = s->requests == 0;
	size_t n = http_parser_execute(&s->parser, &settings, (const char *)data, len);
	enum http_errno err = HTTP_PARSER_ERRNO(&s->parser);
	if (s->parser.upgrade)
		return false; /* CONNECT / Upgrade: answered, then closed */
	if (err == HPE_OK && n == len)
		return true;
	s->failed = true;
	struct sinkd_event *ev = req_ev(s);
	if (s->in_message && (ev->flags & EVF_LIMITED)) {
		emit(s, HTTP_REPLY_431, true);
	} else if (first && (err == HPE_INVALID_METHOD || err == HPE_INVALID_CONSTANT ||
			     err == HPE_INVALID_VERSION || err == HPE_INVALID_URL)) {
		not_http(s, data, len, now_ns);
	} else {
		if (!s->in_message)
			on_message_begin(&s->parser);
		ev->flags |= EVF_MALFORMED;
		emit(s, HTTP_REPLY_400, true);
	}
	return false;
}

void http_stream_abandon(struct http_stream *s, bool timeout, uint64_t now_ns)
{
	if (!s->in_message || s->buf == NULL)
		return;
	struct sinkd_event *ev = req_ev(s);
	if (timeout)
		ev->flags |= EVF_TIMEOUT;
	emit(s, HTTP_REPLY_NONE, true);
}

int http_stream_forwarded_for(const struct http_stream *s, struct event_addr *out)
{
	char buf[sizeof(s->xff)];
	memcpy(buf, s->xff, s->xff_len);
	buf[s->xff_len] = '\0';
	char *last = strrchr(buf, ',');
	last = last != NULL ? last + 1 : buf;
	while (*last == ' ' || *last == '\t')
		last++;
	char *end = last + strlen(last);
	while (end > last && (end[-1] == ' ' || end[-1] == '\t'))
		*--end = '\0';
	if (*last == '[') { /* "[2001:db8::1]:port" */
		char *close = strchr(last, ']');
		if (close != NULL)
			*close = '\0';
		last++;
	}
	return event_addr_parse(out, last) == 0 ? 0 : SINKD_ENOENT;
}
