/* HTTP on a capture connection: read, parse, record, reply. */
#define _LGPL_SOURCE
#include "capture/capture_internal.h"

#include "core/error.h"
#include "core/log.h"
#include "dns/dns.h"
#include "domains/domains.h"
#include "pipeline/pipeline.h"

#include <errno.h>
#include <openssl/err.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#define INC(c) atomic_fetch_add_explicit(&(c), 1, memory_order_relaxed)

static const char reply_400[] = "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n"
				"Connection: close\r\n\r\n";
static const char reply_431[] = "HTTP/1.1 431 Request Header Fields Too Large\r\n"
				"Content-Length: 0\r\nConnection: close\r\n\r\n";

enum pend_kind { PK_OK, PK_OK_CLOSE, PK_HEAD, PK_HEAD_CLOSE, PK_400, PK_431 };

static const char *reason(unsigned status)
{
	switch (status) {
	case 200: return "OK";
	case 201: return "Created";
	case 202: return "Accepted";
	case 204: return "No Content";
	case 301: return "Moved Permanently";
	case 302: return "Found";
	case 400: return "Bad Request";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 410: return "Gone";
	case 500: return "Internal Server Error";
	case 503: return "Service Unavailable";
	default: return "Status";
	}
}

static size_t build_reply(const struct sinkd_config *cfg, char *buf, size_t cap, bool close,
			  bool head)
{
	int n = snprintf(buf, cap,
			 "HTTP/1.1 %u %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n"
			 "Connection: %s\r\n\r\n%s",
			 cfg->http_status, reason(cfg->http_status), cfg->http_content_type,
			 strlen(cfg->http_body), close ? "close" : "keep-alive",
			 head ? "" : cfg->http_body);
	return n < 0 ? 0 : (size_t)n < cap ? (size_t)n : cap - 1;
}

void cap_build_replies(struct capture *cap)
{
	const struct sinkd_config *cfg = &cap->cfg;
	cap->reply_ok_len = build_reply(cfg, cap->reply_ok, sizeof(cap->reply_ok), false, false);
	cap->reply_ok_close_len =
		build_reply(cfg, cap->reply_ok_close, sizeof(cap->reply_ok_close), true, false);
	cap->reply_head_len = build_reply(cfg, cap->reply_head, sizeof(cap->reply_head), false, true);
	cap->reply_head_close_len =
		build_reply(cfg, cap->reply_head_close, sizeof(cap->reply_head_close), true, true);
}

static const char *reply_bytes(const struct capture *cap, uint8_t kind, size_t *len)
{
	switch (kind) {
	case PK_OK: *len = cap->reply_ok_len; return cap->reply_ok;
	case PK_OK_CLOSE: *len = cap->reply_ok_close_len; return cap->reply_ok_close;
	case PK_HEAD: *len = cap->reply_head_len; return cap->reply_head;
	case PK_HEAD_CLOSE: *len = cap->reply_head_close_len; return cap->reply_head_close;
	case PK_400: *len = sizeof(reply_400) - 1; return reply_400;
	default: *len = sizeof(reply_431) - 1; return reply_431;
	}
}

static void count_request(struct capture_stats *st, const struct sinkd_event *ev,
			  enum http_reply reply)
{
	INC(st->requests);
	if (ev->flags & EVF_NOT_HTTP)
		INC(st->not_http);
	if (reply == HTTP_REPLY_400)
		INC(st->bad_request);
	if (reply == HTTP_REPLY_431)
		INC(st->header_too_large);
	if (ev->flags & EVF_BODY_TRUNCATED)
		INC(st->body_truncated);
}

/* http_stream callback: one request done (or given up). */
static void on_request(void *ctx, struct sinkd_event *ev, enum http_reply reply, bool close)
{
	struct cap_conn *c = ctx;
	struct cap_worker *w = c->w;
	struct capture *cap = w->cap;
	if (reply == HTTP_REPLY_OK || reply == HTTP_REPLY_OK_HEAD)
		ev->http_status = (uint16_t)cap->cfg.http_status;
	/* X-Forwarded-For only from a trusted HTTP proxy talking to us
	 * directly (a PROXY header already named the client otherwise). */
	struct event_addr xff;
	if (!(ev->flags & EVF_PROXIED) && cap_peer_trusted(cap, &c->info.src) &&
	    http_stream_forwarded_for(&c->http, &xff) == 0) {
		ev->proxy = ev->src;
		ev->src = xff;
		ev->flags |= EVF_PROXIED;
	}
	if (ev->qname[0] != '\0') {
		const struct domain_registry *reg = dns_server_registry(cap->dns);
		long z = reg != NULL ? domains_match_name(reg, ev->qname) : -1;
		if (z >= 0)
			snprintf(ev->zone, sizeof(ev->zone), "%s", domains_name(reg, (size_t)z));
	}
	count_request(&w->stats, ev, reply);
	if (pipeline_push(w->ring, ev, ev->payload) != 0)
		INC(w->stats.events_dropped);
	if (close)
		c->closing = true;
	uint8_t kind;
	switch (reply) {
	case HTTP_REPLY_NONE: return;
	case HTTP_REPLY_OK: kind = close ? PK_OK_CLOSE : PK_OK; break;
	case HTTP_REPLY_OK_HEAD: kind = close ? PK_HEAD_CLOSE : PK_HEAD; break;
	case HTTP_REPLY_400: kind = PK_400; break;
	default: kind = PK_431; break;
	}
	if (c->pend_count == PEND_MAX) {
		/* Cannot happen with READ_CHUNK-sized reads; never overflow. */
		c->closing = true;
		return;
	}
	c->pend[(c->pend_head + c->pend_count++) % PEND_MAX] = kind;
}

void cap_http_open(struct cap_worker *w, struct cap_conn *c)
{
	http_stream_init(&c->http, &w->cap->limits, &c->info, on_request, c);
}

void cap_http_abandon(struct cap_worker *w, struct cap_conn *c, bool timeout)
{
	if (c->http.buf == NULL)
		return;
	http_stream_abandon(&c->http, timeout, cap_wall_ns());
	w->free_bufs[w->n_free_bufs++] = http_stream_reclaim(&c->http);
}

/* Socket or TLS I/O: n > 0 bytes, 0 for end of stream, -1 for "try again
 * later", -2 for a failed connection. */
static ssize_t conn_recv(struct cap_conn *c, void *buf, size_t len)
{
	if (c->ssl != NULL) {
		int n = SSL_read(c->ssl, buf, (int)len);
		if (n > 0)
			return n;
		int err = SSL_get_error(c->ssl, n);
		ERR_clear_error();
		if (err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE)
			return -1;
		return err == SSL_ERROR_ZERO_RETURN ? 0 : -2;
	}
	ssize_t n;
	do {
		n = recv(c->fd, buf, len, 0);
	} while (n < 0 && errno == EINTR);
	if (n < 0)
		return errno == EAGAIN || errno == EWOULDBLOCK ? -1 : -2;
	return n;
}

static ssize_t conn_send(struct cap_conn *c, const void *buf, size_t len)
{
	if (c->ssl != NULL) {
		int n = SSL_write(c->ssl, buf, (int)len);
		if (n > 0)
			return n;
		int err = SSL_get_error(c->ssl, n);
		ERR_clear_error();
		return err == SSL_ERROR_WANT_WRITE || err == SSL_ERROR_WANT_READ ? -1 : -2;
	}
	ssize_t n;
	do {
		n = send(c->fd, buf, len, MSG_NOSIGNAL | MSG_DONTWAIT);
	} while (n < 0 && errno == EINTR);
	if (n < 0)
		return errno == EAGAIN || errno == EWOULDBLOCK ? -1 : -2;
	return n;
}

/* Send queued replies; false when the connection failed. */
static bool flush(struct cap_worker *w, struct cap_conn *c)
{
	while (c->pend_count > 0) {
		size_t n = 0;
		uint16_t k = 0;
		while (k < c->pend_count) {
			size_t len;
			const char *r = reply_bytes(w->cap, c->pend[(c->pend_head + k) % PEND_MAX], &len);
			size_t skip = k == 0 ? c->pend_off : 0;
			if (n + len - skip > sizeof(w->tx))
				break;
			memcpy(w->tx + n, r + skip, len - skip);
			n += len - skip;
			k++;
		}
		ssize_t sent = conn_send(c, w->tx, n);
		if (sent == -1)
			return true;
		if (sent < 0) {
			INC(w->stats.send_errors);
			return false;
		}
		/* Retire the replies fully sent. */
		size_t left = (size_t)sent;
		while (c->pend_count > 0) {
			size_t len;
			reply_bytes(w->cap, c->pend[c->pend_head], &len);
			size_t rest = len - c->pend_off;
			if (left < rest) {
				c->pend_off += (uint16_t)left;
				break;
			}
			left -= rest;
			c->pend_off = 0;
			c->pend_head = (uint16_t)((c->pend_head + 1) % PEND_MAX);
			c->pend_count--;
			INC(w->stats.replies);
		}
		if ((size_t)sent < n)
			return true; /* socket buffer full: wait for EPOLLOUT */
	}
	return true;
}

uint8_t *cap_buffer_get(struct cap_worker *w, struct cap_conn *c)
{
	if (w->n_free_bufs == 0) {
		/* The oldest unfinished request, else the oldest catch-all
		 * connection, gives its buffer up. */
		struct cap_conn *victim = w->busy_head != NULL ? w->busy_head : w->raw_head;
		if (victim == NULL || victim == c)
			return NULL;
		INC(w->stats.evicted_slow);
		if (victim->mode == MODE_RAW)
			cap_raw_finish(w, victim, false);
		else
			cap_http_abandon(w, victim, false);
		cap_conn_close(w, victim);
	}
	return w->free_bufs[--w->n_free_bufs];
}

/* A request buffer for c: from the pool, or taken from the oldest
 * unfinished request (a slow client) when the pool is empty. */
static bool lend_buffer(struct cap_worker *w, struct cap_conn *c)
{
	uint8_t *buf = cap_buffer_get(w, c);
	if (buf == NULL)
		return false;
	http_stream_lend(&c->http, buf);
	return true;
}

static void update_events(struct cap_worker *w, struct cap_conn *c)
{
	bool want_out = c->pend_count > 0;
	if (want_out == c->want_out)
		return;
	struct epoll_event ev = {.events = want_out ? EPOLLOUT : EPOLLIN | EPOLLRDHUP,
				 .data.ptr = c};
	epoll_ctl(w->epfd, EPOLL_CTL_MOD, c->fd, &ev);
	c->want_out = want_out;
}

/* Read and parse one chunk. False when the connection is finished. */
static bool read_some(struct cap_worker *w, struct cap_conn *c)
{
	if (c->http.buf == NULL && !lend_buffer(w, c))
		return false;
	ssize_t n = conn_recv(c, w->rx, sizeof(w->rx));
	if (n == -1)
		return true;
	if (n <= 0) {
		cap_http_abandon(w, c, false);
		return false;
	}
	return cap_http_consume(w, c, w->rx, (size_t)n);
}

bool cap_http_consume(struct cap_worker *w, struct cap_conn *c, const uint8_t *data, size_t n)
{
	if (c->http.buf == NULL && !lend_buffer(w, c))
		return false;
	bool was_idle = http_stream_idle(&c->http);
	uint64_t now = cap_mono_ms();
	if (!http_stream_feed(&c->http, data, n, cap_wall_ns()))
		c->closing = true;
	c->last_ms = now;
	if (http_stream_idle(&c->http)) {
		w->free_bufs[w->n_free_bufs++] = http_stream_reclaim(&c->http);
		cap_list_move(w, c, LIST_IDLE);
	} else if (was_idle || c->list != LIST_BUSY) {
		c->req_ms = now;
		cap_list_move(w, c, LIST_BUSY);
	}
	return true;
}

void cap_http_io(struct cap_worker *w, struct cap_conn *c, uint32_t events)
{
	bool ok = true;
	if (events & EPOLLOUT)
		ok = flush(w, c);
	if (ok && c->pend_count == 0 && !c->closing &&
	    (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR))) {
		ok = read_some(w, c);
		if (ok)
			ok = flush(w, c);
		/* TLS may hold decrypted bytes the socket no longer signals. */
		for (int i = 0; ok && i < 16 && c->ssl != NULL && SSL_pending(c->ssl) > 0 &&
				c->pend_count == 0 && !c->closing;
		     i++) {
			ok = read_some(w, c);
			if (ok)
				ok = flush(w, c);
		}
	}
	if (!ok || (c->closing && c->pend_count == 0)) {
		if (c->http.buf != NULL)
			cap_http_abandon(w, c, false);
		cap_conn_close(w, c);
		return;
	}
	update_events(w, c);
}
