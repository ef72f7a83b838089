/* HTTP/1.x request capture over a byte stream.
 *
 * One struct http_stream per connection parses requests with http-parser
 * (keep-alive, pipelining, chunked and Content-Length bodies, any method,
 * absolute-form targets) and turns each complete request into one event
 * plus payload sections (target, headers in order, User-Agent, Referer,
 * body). Nothing here sends anything: it says which of the listener's fixed
 * replies fits, and the caller writes it. No allocation: the caller lends
 * the stream a request buffer of http_buffer_size() bytes while a request
 * is in progress (see http_stream_idle).
 */
#ifndef SINKD_HTTP_HTTP_H
#define SINKD_HTTP_HTTP_H

#include <http_parser.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/event.h"

struct http_limits {
	uint32_t max_header_bytes;	/* request line + headers; above: 431 */
	uint32_t max_body_bytes;	/* stored; the rest is counted, not kept */
};

/* The fixed reply a request gets. */
enum http_reply {
	HTTP_REPLY_NONE = 0,		/* close without a reply (not HTTP) */
	HTTP_REPLY_OK,			/* the listener's configured response */
	HTTP_REPLY_OK_HEAD,		/* same, headers only (HEAD) */
	HTTP_REPLY_400,			/* malformed request: then close */
	HTTP_REPLY_431,			/* header block too large: then close */
};

/* The connection's fields copied into every request's event. */
struct http_conn_info {
	struct event_addr src, dst, proxy;
	uint64_t conn_id;
	uint32_t flags;			/* EVF_TLS, EVF_PROXIED */
	uint16_t worker;
};

/* Receives each complete (or abandoned) request. ev->payload points at
 * payload_len bytes valid during the call. close: the connection must be
 * closed after the reply. */
typedef void (*http_request_cb)(void *ctx, struct sinkd_event *ev, enum http_reply reply,
				bool close);

struct http_stream {
	http_parser parser;
	const struct http_limits *lim;
	http_request_cb cb;
	void *cb_ctx;
	const struct http_conn_info *conn;
	uint8_t *buf;			/* lent request buffer (NULL when idle): a
					 * struct sinkd_event, then its payload */
	uint32_t cap, used;		/* payload capacity and use */
	uint32_t section;		/* offset of the open section's header */
	uint32_t header_bytes;
	uint32_t body_stored;
	uint32_t ua_off, ua_len, ref_off, ref_len;	/* inside the headers */
	uint8_t hdr_state;		/* internal: field / value / which header */
	bool in_message;
	bool failed;			/* a reply that closes was produced */
	char name[24];			/* current header name (prefix) */
	uint8_t name_len;
	uint16_t host_len;
	uint32_t requests;		/* completed on this connection */
	char xff[64];			/* X-Forwarded-For: its last 63 bytes */
	uint8_t xff_len;
};

/* The last address of the request's X-Forwarded-For header (the one the
 * nearest proxy added), valid during the request callback. 0, or
 * SINKD_ENOENT when there is none or it is not an address. */
int http_stream_forwarded_for(const struct http_stream *s, struct event_addr *out);

/* Bytes of request buffer a stream needs for lim. */
size_t http_buffer_size(const struct http_limits *lim);

/* Reset s for a new connection; conn (borrowed for the stream's life)
 * gives the fields copied into every request's event. */
void http_stream_init(struct http_stream *s, const struct http_limits *lim,
		      const struct http_conn_info *conn, http_request_cb cb, void *ctx);

/* Lend / take back the request buffer (http_buffer_size bytes, aligned
 * for struct sinkd_event). Take back only when http_stream_idle. */
void http_stream_lend(struct http_stream *s, uint8_t *buf);
uint8_t *http_stream_reclaim(struct http_stream *s);

/* Parse len bytes; a buffer must be lent. Calls cb for every request that
 * completes (or fails) inside them. Returns false once the connection must
 * be closed (after the reply the callback was told about). */
bool http_stream_feed(struct http_stream *s, const uint8_t *data, size_t len, uint64_t now_ns);

/* Peer closed or timed out: emit the request in progress, if any, flagged
 * (EVF_TIMEOUT when timeout) and truncated as it is. */
void http_stream_abandon(struct http_stream *s, bool timeout, uint64_t now_ns);

/* True when no request is in progress, so the buffer can be taken back. */
static inline bool http_stream_idle(const struct http_stream *s)
{
	return !s->in_message;
}

#endif
