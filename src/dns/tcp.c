/* DNS over TCP (RFC 7766): a fixed pool of connections per worker, several
 * pipelined queries per connection answered in order, idle timeout, and
 * eviction of the longest-idle connection when the pool is full. */
#include "dns/worker.h"

#include "core/error.h"
#include "core/log.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#define INC(c) atomic_fetch_add_explicit(&(c), 1, memory_order_relaxed)

int dns_tcp_pool_init(struct dns_worker *w, unsigned max_clients)
{
	w->conns = calloc(max_clients, sizeof(*w->conns));
	if (w->conns == NULL)
		return SINKD_ENOMEM;
	w->n_conns = max_clients;
	for (unsigned i = max_clients; i-- > 0;) {
		w->conns[i].ep.type = EP_TCP_CONN;
		w->conns[i].ep.fd = -1;
		w->conns[i].next = w->free_list;
		w->free_list = &w->conns[i];
	}
	return 0;
}

void dns_tcp_pool_free(struct dns_worker *w)
{
	for (unsigned i = 0; i < w->n_conns; i++) {
		if (w->conns[i].in_use)
			close(w->conns[i].ep.fd);
	}
	free(w->conns);
	w->conns = NULL;
	w->n_conns = 0;
}

static void lru_unlink(struct dns_worker *w, struct tcp_conn *c)
{
	if (c->prev != NULL)
		c->prev->next = c->next;
	else
		w->lru_head = c->next;
	if (c->next != NULL)
		c->next->prev = c->prev;
	else
		w->lru_tail = c->prev;
	c->prev = c->next = NULL;
}

static void lru_append(struct dns_worker *w, struct tcp_conn *c)
{
	c->prev = w->lru_tail;
	c->next = NULL;
	if (w->lru_tail != NULL)
		w->lru_tail->next = c;
	else
		w->lru_head = c;
	w->lru_tail = c;
}

static void conn_close(struct dns_worker *w, struct tcp_conn *c)
{
	lru_unlink(w, c);
	close(c->ep.fd); /* also removes it from epoll */
	c->ep.fd = -1;
	c->in_use = false;
	c->next = w->free_list;
	w->free_list = c;
	INC(w->stats.tcp_closed);
}

static void conn_touch(struct dns_worker *w, struct tcp_conn *c)
{
	c->last_ms = dns_mono_ms();
	if (w->lru_tail != c) {
		lru_unlink(w, c);
		lru_append(w, c);
	}
}

void dns_tcp_accept(struct dns_worker *w, struct ep_item *listener, const struct dns_data *data)
{
	(void)data;
	for (int i = 0; i < 64; i++) {
		struct sockaddr_storage peer;
		socklen_t plen = sizeof(peer);
		int fd = accept4(listener->fd, (struct sockaddr *)&peer, &plen,
				 SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0)
			return; /* EAGAIN, or the peer already gave up */
		if (w->free_list == NULL) {
			/* Pool full: the connection idle longest makes room. */
			INC(w->stats.tcp_rejected_full);
			conn_close(w, w->lru_head);
		}
		struct tcp_conn *c = w->free_list;
		w->free_list = c->next;
		c->ep.fd = fd;
		c->peer = peer;
		socklen_t llen = sizeof(c->ep.local);
		if (getsockname(fd, (struct sockaddr *)&c->ep.local, &llen) != 0)
			c->ep.local = listener->local;
		c->in_use = true;
		c->proxied = false;
		c->proxy = !w->srv->cfg.dns_proxy_protocol	  ? 0
			   : dns_proxy_trusted(w->srv, &peer) ? 1
							      : 2;
		c->want_out = false;
		c->want_in = true;
		c->rx_len = c->tx_off = c->tx_len = 0;
		c->last_ms = dns_mono_ms();
		lru_append(w, c);
		struct epoll_event ev = {.events = EPOLLIN | EPOLLRDHUP, .data.ptr = c};
		if (epoll_ctl(w->epfd, EPOLL_CTL_ADD, fd, &ev) != 0) {
			conn_close(w, c);
			continue;
		}
		INC(w->stats.tcp_accepted);
	}
}

/* Wait for output room while responses are pending; stop reading while the
 * input buffer is full (a client that sends but never reads). */
static void conn_update_events(struct dns_worker *w, struct tcp_conn *c)
{
	bool want_out = c->tx_len > 0;
	bool want_in = c->rx_len < TCP_RX_SIZE;
	if (c->want_out == want_out && c->want_in == want_in)
		return;
	struct epoll_event ev = {.events = (want_in ? EPOLLIN | EPOLLRDHUP : 0) |
					   (want_out ? EPOLLOUT : 0),
				 .data.ptr = c};
	epoll_ctl(w->epfd, EPOLL_CTL_MOD, c->ep.fd, &ev);
	c->want_out = want_out;
	c->want_in = want_in;
}

/* Write pending responses; false when the connection failed. */
static bool conn_flush(struct tcp_conn *c)
{
	while (c->tx_off < c->tx_len) {
		ssize_t n = send(c->ep.fd, c->tx + c->tx_off, c->tx_len - c->tx_off,
				 MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				break;
			return false;
		}
		c->tx_off += (uint16_t)n;
	}
	if (c->tx_off == c->tx_len)
		c->tx_off = c->tx_len = 0;
	return true;
}

/* A PROXY header at the start of the stream: required from a trusted
 * peer, refused from anyone else. Returns 1 when done (bytes stripped or
 * none expected), 0 to wait for more, -1 to close. */
static int conn_proxy(struct dns_worker *w, struct tcp_conn *c)
{
	if (c->proxy == 2) {
		enum net_proto_guess g = net_sniff(c->rx, c->rx_len, NULL);
		if (g == NET_SNIFF_PROXY_V1 || g == NET_SNIFF_PROXY_V2) {
			INC(w->stats.proxy_untrusted);
			return -1;
		}
		if (g == NET_SNIFF_NEED_MORE && c->rx_len < 16)
			return 0;
		c->proxy = 0;
		return 1;
	}
	struct proxy_info pi;
	size_t consumed;
	int ret = proxy_parse(c->rx, c->rx_len, &pi, &consumed);
	if (ret == SINKD_EAGAIN && c->rx_len < TCP_RX_SIZE)
		return 0;
	if (ret != 0) {
		INC(w->stats.proxy_bad);
		return -1;
	}
	INC(w->stats.proxy_accepted);
	if (pi.has_addr) {
		c->via = c->peer;
		c->peer = pi.src;
		c->proxied = true;
	}
	memmove(c->rx, c->rx + consumed, c->rx_len - consumed);
	c->rx_len -= (uint16_t)consumed;
	c->proxy = 0;
	return 1;
}

/* Answer every complete message in rx while the tx buffer has room.
 * Returns false when the stream is unusable (bad length). */
static bool conn_process(struct dns_worker *w, struct tcp_conn *c, const struct dns_data *data)
{
	if (c->proxy != 0) {
		int p = conn_proxy(w, c);
		if (p <= 0)
			return p == 0;
	}
	size_t off = 0;
	uint64_t now = dns_wall_ns();
	while (c->rx_len - off >= 2) {
		uint16_t mlen = (uint16_t)(c->rx[off] << 8 | c->rx[off + 1]);
		if (mlen == 0 || mlen > TCP_RX_SIZE - 2) {
			INC(w->stats.tcp_bad_length);
			return false;
		}
		if (c->rx_len - off < 2u + mlen)
			break;
		/* Keep room for a full-size answer; otherwise wait for a flush. */
		if (TCP_TX_SIZE - c->tx_len < 2 + 4096)
			break;
		struct dns_query_info qi = {.src = &c->peer, .dst = &c->ep.local, .tcp = true,
					    .now_ns = now};
		struct sinkd_event ev;
		uint8_t *out = c->tx + c->tx_len + 2;
		size_t len = dns_answer(&w->ctx, data, &qi, c->rx + off + 2, mlen, out,
					TCP_TX_SIZE - c->tx_len - 2, &ev);
		if (c->proxied) {
			event_addr_from_sockaddr(&ev.proxy, (struct sockaddr *)&c->via);
			ev.flags |= EVF_PROXIED;
		}
		if (ev.kind != 0)
			dns_worker_record(w, &ev);
		if (len > 0) {
			c->tx[c->tx_len] = (uint8_t)(len >> 8);
			c->tx[c->tx_len + 1] = (uint8_t)len;
			c->tx_len += (uint16_t)(2 + len);
		}
		off += 2u + mlen;
	}
	if (off > 0) {
		memmove(c->rx, c->rx + off, c->rx_len - off);
		c->rx_len -= (uint16_t)off;
	}
	return true;
}

void dns_tcp_io(struct dns_worker *w, struct tcp_conn *c, uint32_t events,
		const struct dns_data *data)
{
	if (!c->in_use)
		return;
	bool ok = true;
	if (events & EPOLLOUT)
		ok = conn_flush(c);
	if (ok && c->rx_len < TCP_RX_SIZE &&
	    (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR))) {
		ssize_t n;
		do {
			n = recv(c->ep.fd, c->rx + c->rx_len, TCP_RX_SIZE - c->rx_len, 0);
		} while (n < 0 && errno == EINTR);
		if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK)) {
			/* Peer closed: answer what it sent before closing. */
			conn_process(w, c, data);
			conn_flush(c);
			ok = false;
		} else if (n > 0) {
			c->rx_len += (uint16_t)n;
			ok = conn_process(w, c, data) && conn_flush(c);
		}
	}
	/* A full tx buffer can leave complete queries waiting in rx: retry
	 * them once the flush made room. */
	if (ok && c->rx_len >= 2 && c->tx_len == 0)
		ok = conn_process(w, c, data) && conn_flush(c);
	if (!ok) {
		conn_close(w, c);
		return;
	}
	conn_update_events(w, c);
	conn_touch(w, c);
}

void dns_tcp_sweep(struct dns_worker *w, unsigned idle_ms)
{
	uint64_t now = dns_mono_ms();
	while (w->lru_head != NULL && now - w->lru_head->last_ms >= idle_ms) {
		INC(w->stats.tcp_idle_timeouts);
		conn_close(w, w->lru_head);
	}
}
