/* The catch-all: any other TCP port records the first bytes (bounded, with
 * a timeout) and closes; what turns out to be HTTP is handed to the HTTP
 * capture and answered like any check-in. UDP datagrams are recorded and
 * never answered (a sinkhole must not reflect). */
#include "capture/capture_internal.h"

#include "core/error.h"
#include "net/net.h"
#include "pipeline/pipeline.h"

#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>

/* From <linux/netfilter_ipv4.h>, which cannot be included together with
 * <netinet/in.h>. */
#ifndef SO_ORIGINAL_DST
#define SO_ORIGINAL_DST 80
#endif

#define INC(c) atomic_fetch_add_explicit(&(c), 1, memory_order_relaxed)
#define SECTION_HDR 5

static struct sinkd_event *raw_ev(struct cap_conn *c)
{
	return (struct sinkd_event *)c->raw_buf;
}

static uint8_t *raw_bytes(struct cap_conn *c)
{
	return c->raw_buf + sizeof(struct sinkd_event) + SECTION_HDR;
}

void cap_raw_open(struct cap_worker *w, struct cap_conn *c)
{
	c->mode = MODE_RAW;
	c->req_ms = cap_mono_ms();
	/* Traffic redirected here by netfilter (REDIRECT/DNAT "any port"
	 * set-ups) keeps its original destination. */
	struct sockaddr_in orig;
	socklen_t len = sizeof(orig);
	if (getsockopt(c->fd, SOL_IP, SO_ORIGINAL_DST, &orig, &len) == 0)
		event_addr_from_sockaddr(&c->info.dst, (struct sockaddr *)&orig);
	cap_list_move(w, c, LIST_RAW);
}

/* One event for raw bytes, kind EVENT_RAW, with the sniffed label. */
static void record(struct cap_worker *w, struct sinkd_event *ev, const uint8_t *bytes, size_t n,
		   uint32_t total)
{
	const char *label;
	net_sniff_final(bytes, n, &label);
	snprintf(ev->proto, sizeof(ev->proto), "%s", label);
	ev->kind = EVENT_RAW;
	ev->body_len = total;
	uint8_t *payload = (uint8_t *)ev + sizeof(*ev);
	ev->payload_len = 0;
	if (bytes != payload + SECTION_HDR)
		memmove(payload + SECTION_HDR, bytes, n);
	uint32_t l = (uint32_t)n;
	payload[0] = EVP_RAW;
	memcpy(payload + 1, &l, sizeof(l));
	ev->payload_len = SECTION_HDR + l;
	ev->payload = payload;
	INC(w->stats.requests);
	if (pipeline_push(w->ring, ev, payload) != 0)
		INC(w->stats.events_dropped);
}

static void fill_conn_fields(struct sinkd_event *ev, const struct cap_conn *c, uint8_t transport)
{
	memset(ev, 0, sizeof(*ev));
	ev->ts_ns = cap_wall_ns();
	ev->transport = transport;
	ev->src = c->info.src;
	ev->dst = c->info.dst;
	ev->proxy = c->info.proxy;
	ev->conn_id = c->info.conn_id;
	ev->flags = c->info.flags;
	ev->worker = c->info.worker;
}

void cap_raw_finish(struct cap_worker *w, struct cap_conn *c, bool timeout)
{
	if (c->raw_buf == NULL) {
		/* Nothing arrived: still a connection worth recording. */
		uint8_t buf[sizeof(struct sinkd_event) + SECTION_HDR];
		struct sinkd_event *ev = (struct sinkd_event *)buf;
		fill_conn_fields(ev, c, TRANSPORT_TCP);
		if (timeout)
			ev->flags |= EVF_TIMEOUT;
		record(w, ev, buf + sizeof(*ev) + SECTION_HDR, 0, 0);
		return;
	}
	struct sinkd_event *ev = raw_ev(c);
	if (timeout)
		ev->flags |= EVF_TIMEOUT;
	record(w, ev, raw_bytes(c), c->raw_len, c->raw_len);
	w->free_bufs[w->n_free_bufs++] = c->raw_buf;
	c->raw_buf = NULL;
}

/* The first bytes are HTTP: continue as an HTTP connection. */
static void become_http(struct cap_worker *w, struct cap_conn *c)
{
	size_t n = c->raw_len;
	memcpy(w->rx, raw_bytes(c), n); /* n <= first_bytes <= READ_CHUNK here */
	w->free_bufs[w->n_free_bufs++] = c->raw_buf;
	c->raw_buf = NULL;
	c->mode = MODE_HTTP;
	cap_http_open(w, c);
	cap_list_move(w, c, LIST_IDLE);
	if (!cap_http_consume(w, c, w->rx, n))
		c->closing = true;
	cap_http_io(w, c, EPOLLOUT);
}

/* Look at the first bytes without taking them: HTTP and TLS go to their
 * own handling with the bytes still in the socket. True when the
 * connection stays a catch-all one (or must wait for more bytes: *wait). */
static bool sniff_first(struct cap_worker *w, struct cap_conn *c, bool *wait)
{
	*wait = false;
	ssize_t n = recv(c->fd, w->rx, sizeof(w->rx), MSG_PEEK);
	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) {
		*wait = true;
		return true;
	}
	if (n <= 0) {
		c->sniffed = true;
		return true;
	}
	enum net_proto_guess g = net_sniff(w->rx, (size_t)n, NULL);
	if (g == NET_SNIFF_NEED_MORE && n < 16) {
		cap_set_edge(w, c, true);
		*wait = true;
		return true;
	}
	c->sniffed = true;
	cap_set_edge(w, c, false);
	if (g == NET_SNIFF_HTTP) {
		c->mode = MODE_HTTP;
		cap_http_open(w, c);
		cap_list_move(w, c, LIST_IDLE);
		cap_http_io(w, c, EPOLLIN);
		return false;
	}
	if ((g == NET_SNIFF_TLS || g == NET_SNIFF_SSLV2) && w->ssl_ctx != NULL) {
		c->mode = MODE_TLS;
		cap_tls_io(w, c, EPOLLIN);
		return false;
	}
	return true;
}

void cap_raw_io(struct cap_worker *w, struct cap_conn *c, uint32_t events)
{
	size_t cap = w->cap->cfg.catchall_first_bytes;
	if (!c->sniffed) {
		bool wait;
		if (!sniff_first(w, c, &wait) || wait)
			return;
	}
	if (c->raw_buf == NULL) {
		c->raw_buf = cap_buffer_get(w, c);
		if (c->raw_buf == NULL) {
			cap_conn_close(w, c);
			return;
		}
		fill_conn_fields(raw_ev(c), c, TRANSPORT_TCP);
		c->raw_len = 0;
	}
	ssize_t n;
	do {
		n = recv(c->fd, raw_bytes(c) + c->raw_len, cap - c->raw_len, 0);
	} while (n < 0 && errno == EINTR);
	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
		return;
	if (n > 0)
		c->raw_len += (uint32_t)n;
	if (n > 0 && c->raw_len < cap) {
		const char *label;
		enum net_proto_guess g = net_sniff(raw_bytes(c), c->raw_len, &label);
		if (g == NET_SNIFF_HTTP && c->raw_len <= READ_CHUNK) {
			become_http(w, c);
			return;
		}
		if (g == NET_SNIFF_NEED_MORE || g == NET_SNIFF_HTTP)
			return;
		/* Known or unknown, not HTTP: keep reading up to the bound. */
		return;
	}
	/* Bound reached, peer closed or error: record and close. */
	if (c->raw_len > 0 && c->raw_len <= READ_CHUNK &&
	    net_sniff_final(raw_bytes(c), c->raw_len, NULL) == NET_SNIFF_HTTP) {
		become_http(w, c);
		return;
	}
	cap_raw_finish(w, c, false);
	cap_conn_close(w, c);
}

void cap_raw_datagrams(struct cap_worker *w, struct cap_listener *l)
{
	size_t cap = w->cap->cfg.catchall_first_bytes;
	for (int i = 0; i < 64; i++) {
		struct sinkd_event *ev = (struct sinkd_event *)w->scratch;
		uint8_t *bytes = w->scratch + sizeof(*ev) + SECTION_HDR;
		struct sockaddr_storage peer;
		socklen_t plen = sizeof(peer);
		ssize_t n = recvfrom(l->fd, bytes, cap, MSG_DONTWAIT | MSG_TRUNC,
				     (struct sockaddr *)&peer, &plen);
		if (n < 0)
			return;
		memset(ev, 0, sizeof(*ev));
		ev->ts_ns = cap_wall_ns();
		ev->transport = TRANSPORT_UDP;
		ev->worker = (uint16_t)w->idx;
		event_addr_from_sockaddr(&ev->src, (struct sockaddr *)&peer);
		event_addr_from_sockaddr(&ev->dst, (struct sockaddr *)&l->local);
		size_t kept = (size_t)n < cap ? (size_t)n : cap;
		if ((size_t)n > cap)
			ev->flags |= EVF_BODY_TRUNCATED;
		record(w, ev, bytes, kept, (uint32_t)n);
	}
}
