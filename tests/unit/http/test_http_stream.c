/* http_stream: requests from byte streams, fed whole and byte by byte. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "http/http.h"

#define MAX_SEEN 64

struct seen {
	int n;
	struct sinkd_event ev[MAX_SEEN];
	char target[MAX_SEEN][256];
	char headers[MAX_SEEN][1024];
	char ua[MAX_SEEN][128];
	size_t body_len[MAX_SEEN];
	uint8_t body0[MAX_SEEN];
	char raw[MAX_SEEN][64];
	enum http_reply reply[MAX_SEEN];
	bool close[MAX_SEEN];
};

static void copy_section(const struct sinkd_event *ev, uint8_t type, char *dst, size_t cap)
{
	const uint8_t *d;
	size_t len;
	dst[0] = '\0';
	if (event_payload_get(ev, type, &d, &len) == 0) {
		if (len >= cap)
			len = cap - 1;
		memcpy(dst, d, len);
		dst[len] = '\0';
	}
}

static void cb(void *ctx, struct sinkd_event *ev, enum http_reply reply, bool close)
{
	struct seen *s = ctx;
	int i = s->n++;
	assert_true(i < MAX_SEEN);
	s->ev[i] = *ev;
	copy_section(ev, EVP_TARGET, s->target[i], sizeof(s->target[i]));
	copy_section(ev, EVP_HEADERS, s->headers[i], sizeof(s->headers[i]));
	copy_section(ev, EVP_USER_AGENT, s->ua[i], sizeof(s->ua[i]));
	copy_section(ev, EVP_RAW, s->raw[i], sizeof(s->raw[i]));
	const uint8_t *d;
	if (event_payload_get(ev, EVP_BODY, &d, &s->body_len[i]) == 0 && s->body_len[i] > 0)
		s->body0[i] = d[0];
	s->reply[i] = reply;
	s->close[i] = close;
}

static struct http_limits lim = {.max_header_bytes = 1024, .max_body_bytes = 100};
static struct http_conn_info info = {.conn_id = 77};

static struct seen *run(const char *data, size_t len, bool bytewise, bool *alive)
{
	struct seen *s = calloc(1, sizeof(*s));
	struct http_stream st;
	uint8_t *buf = aligned_alloc(64, (http_buffer_size(&lim) + 63) & ~(size_t)63);
	http_stream_init(&st, &lim, &info, cb, s);
	http_stream_lend(&st, buf);
	bool ok = true;
	if (bytewise) {
		for (size_t i = 0; i < len && ok; i++)
			ok = http_stream_feed(&st, (const uint8_t *)data + i, 1, 1000);
	} else {
		ok = http_stream_feed(&st, (const uint8_t *)data, len, 1000);
	}
	http_stream_abandon(&st, false, 2000);
	*alive = ok;
	free(http_stream_reclaim(&st));
	return s;
}

static void test_pipelined_keepalive(void **state)
{
	const char req[] = "POST /a.png HTTP/1.1\r\nHost: WWW.Seized.com:8080\r\nUser-Agent: Mozilla\r\n"
			   "Referer: Mozilla\r\nContent-Length: 5\r\n\r\na=xyz"
			   "GET /b?q=1 HTTP/1.1\r\nhost: b.example\r\n\r\n"
			   "HEAD /c HTTP/1.1\r\nConnection: close\r\n\r\n";
	for (int bytewise = 0; bytewise < 2; bytewise++) {
		bool alive;
		struct seen *s = run(req, sizeof(req) - 1, bytewise, &alive);
		assert_int_equal(s->n, 3);
		assert_string_equal(s->ev[0].http_method, "POST");
		assert_string_equal(s->target[0], "/a.png");
		assert_string_equal(s->ev[0].qname, "www.seized.com");
		assert_string_equal(s->ua[0], "Mozilla");
		assert_int_equal(s->ev[0].body_len, 5);
		assert_int_equal(s->body_len[0], 5);
		assert_int_equal(s->body0[0], 'a');
		assert_string_equal(s->headers[0], "Host: WWW.Seized.com:8080\r\nUser-Agent: Mozilla\r\n"
						   "Referer: Mozilla\r\nContent-Length: 5\r\n");
		assert_int_equal(s->ev[0].http_version, 11);
		assert_int_equal(s->ev[0].conn_id, 77);
		assert_int_equal(s->ev[0].kind, EVENT_HTTP);
		assert_false(s->close[0]);
		assert_string_equal(s->target[1], "/b?q=1");
		assert_string_equal(s->ev[1].qname, "b.example");
		assert_int_equal(s->reply[2], HTTP_REPLY_OK_HEAD);
		assert_true(s->close[2]);
		free(s);
	}
}

static void test_chunked_and_truncated_body(void **state)
{
	const char req[] = "POST /u HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"
			   "64\r\nxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
			   "xxxxxxxxxxxxxxxxxxxxxxxxxxxx\r\n"
			   "5\r\nyyyyy\r\n0\r\n\r\n";
	bool alive;
	struct seen *s = run(req, sizeof(req) - 1, false, &alive);
	assert_true(alive);
	assert_int_equal(s->n, 1);
	assert_int_equal(s->ev[0].body_len, 105);
	assert_int_equal(s->body_len[0], 100);
	assert_true(s->ev[0].flags & EVF_BODY_TRUNCATED);
	free(s);
}

static void test_not_http(void **state)
{
	const char junk[] = "\x16\x03\x01\x00\x10hello";
	bool alive;
	struct seen *s = run(junk, sizeof(junk) - 1, false, &alive);
	assert_false(alive);
	assert_int_equal(s->n, 1);
	assert_true(s->ev[0].flags & EVF_NOT_HTTP);
	assert_int_equal(s->reply[0], HTTP_REPLY_NONE);
	assert_memory_equal(s->raw[0], junk, 5);
	free(s);
}

static void test_header_limit_and_malformed(void **state)
{
	char big[3000];
	int n = snprintf(big, sizeof(big), "GET / HTTP/1.1\r\nX: ");
	memset(big + n, 'a', 2000);
	memcpy(big + n + 2000, "\r\n\r\n", 4);
	bool alive;
	struct seen *s = run(big, (size_t)n + 2004, false, &alive);
	assert_false(alive);
	assert_int_equal(s->n, 1);
	assert_int_equal(s->reply[0], HTTP_REPLY_431);
	assert_true(s->ev[0].flags & EVF_HEADERS_TRUNCATED);
	free(s);
	const char bad[] = "GET / HTTP/1.1\r\nNo colon here\r\n\r\n";
	s = run(bad, sizeof(bad) - 1, false, &alive);
	assert_false(alive);
	assert_int_equal(s->reply[0], HTTP_REPLY_400);
	assert_true(s->ev[0].flags & EVF_MALFORMED);
	free(s);
}

static struct event_addr xff_seen;
static int xff_ret;

static void xff_cb(void *ctx, struct sinkd_event *ev, enum http_reply reply, bool close)
{
	xff_ret = http_stream_forwarded_for(ctx, &xff_seen);
}

static void test_forwarded_for_last_address(void **state)
{
	const char req[] = "GET / HTTP/1.1\r\nX-Forwarded-For: 10.0.0.1, 198.51.100.7\r\n"
			   "X-Forwarded-For: 203.0.113.5\r\n\r\n"
			   "GET / HTTP/1.1\r\nX-Forwarded-For: [2001:db8::7]:1234\r\n\r\n"
			   "GET / HTTP/1.1\r\nX-Forwarded-For: unknown\r\n\r\n";
	struct http_stream st;
	uint8_t *buf = aligned_alloc(64, (http_buffer_size(&lim) + 63) & ~(size_t)63);
	http_stream_init(&st, &lim, &info, xff_cb, &st);
	http_stream_lend(&st, buf);
	char ip[64];
	/* Feed one request at a time to look at each. */
	const char *p = req;
	const char *ends[3];
	ends[0] = strstr(p, "\r\n\r\n") + 4;
	ends[1] = strstr(ends[0], "\r\n\r\n") + 4;
	ends[2] = strstr(ends[1], "\r\n\r\n") + 4;
	assert_true(http_stream_feed(&st, (const uint8_t *)p, (size_t)(ends[0] - p), 1));
	assert_int_equal(xff_ret, 0);
	assert_string_equal(event_addr_str(&xff_seen, ip, sizeof(ip)), "203.0.113.5");
	assert_true(http_stream_feed(&st, (const uint8_t *)ends[0], (size_t)(ends[1] - ends[0]), 1));
	assert_int_equal(xff_ret, 0);
	assert_string_equal(event_addr_str(&xff_seen, ip, sizeof(ip)), "2001:db8::7");
	assert_true(http_stream_feed(&st, (const uint8_t *)ends[1], (size_t)(ends[2] - ends[1]), 1));
	assert_int_equal(xff_ret, SINKD_ENOENT);
	free(http_stream_reclaim(&st));
}

static void test_partial_request_abandoned(void **state)
{
	const char part[] = "GET /slow HTTP/1.1\r\nHost: sl";
	bool alive;
	struct seen *s = run(part, sizeof(part) - 1, true, &alive);
	assert_true(alive);
	assert_int_equal(s->n, 1); /* emitted by http_stream_abandon */
	assert_string_equal(s->target[0], "/slow");
	assert_int_equal(s->reply[0], HTTP_REPLY_NONE);
	free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pipelined_keepalive),
		cmocka_unit_test(test_chunked_and_truncated_body),
		cmocka_unit_test(test_not_http),
		cmocka_unit_test(test_header_limit_and_malformed),
		cmocka_unit_test(test_partial_request_abandoned),
		cmocka_unit_test(test_forwarded_for_last_address),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
