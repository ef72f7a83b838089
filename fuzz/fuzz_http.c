/* Fuzz target: the HTTP request stream. The first input byte picks where
 * the rest is split into two reads, so requests straddling reads are
 * covered; every event handed out must be well formed. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "http/http.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const struct http_limits lim = {.max_header_bytes = 2048, .max_body_bytes = 1024};
static const struct http_conn_info info = {.conn_id = 1};

static void on_request(void *ctx, struct sinkd_event *ev, enum http_reply reply, bool close)
{
	size_t *n = ctx;
	(*n)++;
	if (ev->kind != EVENT_HTTP || ev->payload_len > http_buffer_size(&lim) ||
	    strnlen(ev->qname, sizeof(ev->qname)) == sizeof(ev->qname) ||
	    strnlen(ev->http_method, sizeof(ev->http_method)) == sizeof(ev->http_method))
		abort();
	const uint8_t *body;
	size_t blen;
	if (event_payload_get(ev, EVP_BODY, &body, &blen) == 0 && blen > lim.max_body_bytes)
		abort();
	if (reply == HTTP_REPLY_NONE && !close && !(ev->flags & EVF_TIMEOUT))
		abort(); /* no reply means the connection ends */
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t *buf;
	if (buf == NULL)
		buf = aligned_alloc(64, (http_buffer_size(&lim) + 63) & ~(size_t)63);
	size_t requests = 0;
	struct http_stream s;
	http_stream_init(&s, &lim, &info, on_request, &requests);
	http_stream_lend(&s, buf);
	size_t split = size > 0 ? data[0] % (size + 1) : 0;
	const uint8_t *rest = size > 0 ? data + 1 : data;
	size_t n = size > 0 ? size - 1 : 0;
	if (split > n)
		split = n;
	if (http_stream_feed(&s, rest, split, 1))
		http_stream_feed(&s, rest + split, n - split, 2);
	http_stream_abandon(&s, true, 3);
	http_stream_reclaim(&s);
	return 0;
}
