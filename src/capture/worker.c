/* Capture workers: sockets, the epoll loop, the connection and buffer
 * pools, timeouts and eviction. */
#define _LGPL_SOURCE
#include "capture/capture_internal.h"

#include "core/error.h"
#include "core/log.h"
#include "net/net.h"
#include "pipeline/pipeline.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <time.h>
#include <unistd.h>
#include <urcu-qsbr.h>

#define INC(c) atomic_fetch_add_explicit(&(c), 1, memory_order_relaxed)

uint64_t cap_mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

uint64_t cap_wall_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* ---- connection lists ---- */

static void list_ends(struct cap_worker *w, enum conn_list l, struct cap_conn ***head,
		      struct cap_conn ***tail)
{
	*head = l == LIST_IDLE ? &w->idle_head : l == LIST_BUSY ? &w->busy_head : &w->raw_head;
	*tail = l == LIST_IDLE ? &w->idle_tail : l == LIST_BUSY ? &w->busy_tail : &w->raw_tail;
}

static void list_unlink(struct cap_worker *w, struct cap_conn *c)
{
	if (c->list == LIST_NONE)
		return;
	struct cap_conn **head, **tail;
	list_ends(w, (enum conn_list)c->list, &head, &tail);
	if (c->prev != NULL)
		c->prev->next = c->next;
	else
		*head = c->next;
	if (c->next != NULL)
		c->next->prev = c->prev;
	else
		*tail = c->prev;
	c->prev = c->next = NULL;
	c->list = LIST_NONE;
}

void cap_list_move(struct cap_worker *w, struct cap_conn *c, enum conn_list to)
{
	list_unlink(w, c);
	struct cap_conn **head, **tail;
	list_ends(w, to, &head, &tail);
	c->prev = *tail;
	c->next = NULL;
	if (*tail != NULL)
		(*tail)->next = c;
	else
		*head = c;
	*tail = c;
	c->list = (uint8_t)to;
}

/* ---- per-source connection counts (open addressing, never shrinks
 * below the pool size, so probing always ends) ---- */

static uint64_t ip_hash(const uint8_t *ip)
{
	uint64_t a, b;
	memcpy(&a, ip, 8);
	memcpy(&b, ip + 8, 8);
	uint64_t h = (a ^ (b * 0x9e3779b97f4a7c15ull)) * 0xbf58476d1ce4e5b9ull;
	return h ^ (h >> 31);
}

/* Linear probing with backward-shift deletion: a slot with count 0 is
 * empty, so lookups stop at the first empty slot. */
static struct src_count *source_find(struct cap_worker *w, const uint8_t *ip, bool create)
{
	for (size_t i = ip_hash(ip) & w->sources_mask;; i = (i + 1) & w->sources_mask) {
		struct src_count *s = &w->sources[i];
		if (s->count == 0) {
			if (!create)
				return NULL;
			memcpy(s->ip, ip, 16);
			return s;
		}
		if (memcmp(s->ip, ip, 16) == 0)
			return s;
	}
}

static void source_delete(struct cap_worker *w, struct src_count *hole)
{
	size_t i = (size_t)(hole - w->sources);
	size_t j = i;
	for (;;) {
		j = (j + 1) & w->sources_mask;
		struct src_count *s = &w->sources[j];
		if (s->count == 0)
			break;
		size_t k = ip_hash(s->ip) & w->sources_mask;
		/* Move s into the hole unless its home lies cyclically in (i, j]. */
		bool stays = i <= j ? (i < k && k <= j) : (i < k || k <= j);
		if (!stays) {
			w->sources[i] = *s;
			i = j;
		}
	}
	w->sources[i].count = 0;
}

static void source_release(struct cap_worker *w, const uint8_t *ip)
{
	if (w->cap->cfg.capture_max_per_source == 0)
		return;
	struct src_count *s = source_find(w, ip, false);
	if (s != NULL && --s->count == 0)
		source_delete(w, s);
}

void cap_conn_abandon(struct cap_worker *w, struct cap_conn *c, bool timeout)
{
	if (c->mode == MODE_RAW)
		cap_raw_finish(w, c, timeout);
	else if (c->mode == MODE_TLS)
		cap_tls_finish(w, c, timeout);
	else
		cap_http_abandon(w, c, timeout);
}

void cap_conn_close(struct cap_worker *w, struct cap_conn *c)
{
	list_unlink(w, c);
	if (c->ssl != NULL) {
		SSL_free(c->ssl);
		c->ssl = NULL;
	}
	source_release(w, c->peer_ip);
	close(c->fd);
	c->fd = -1;
	c->in_use = false;
	c->next = w->free_conns;
	w->free_conns = c;
	INC(w->stats.closed);
}

/* ---- accept ---- */

static struct cap_conn *conn_get(struct cap_worker *w)
{
	if (w->free_conns == NULL) {
		/* Pool full: the connection idle longest makes room; failing
		 * that, the oldest unfinished request. */
		struct cap_conn *victim = w->idle_head != NULL   ? w->idle_head
					  : w->busy_head != NULL ? w->busy_head
								 : w->raw_head;
		if (victim == NULL)
			return NULL;
		if (victim == w->idle_head)
			INC(w->stats.evicted_idle);
		else
			INC(w->stats.evicted_slow);
		cap_conn_abandon(w, victim, false);
		cap_conn_close(w, victim);
	}
	struct cap_conn *c = w->free_conns;
	w->free_conns = c->next;
	return c;
}

static bool source_admit(struct cap_worker *w, const uint8_t *ip)
{
	unsigned max = w->cap->cfg.capture_max_per_source;
	if (max == 0)
		return true;
	/* The table has twice as many slots as connections: never full. */
	struct src_count *s = source_find(w, ip, true);
	if (s->count >= max)
		return false;
	s->count++;
	return true;
}

static void accept_all(struct cap_worker *w, struct cap_listener *l)
{
	for (int i = 0; i < 64; i++) {
		struct sockaddr_storage peer;
		socklen_t plen = sizeof(peer);
		int fd = accept4(l->fd, (struct sockaddr *)&peer, &plen, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0)
			return;
		struct event_addr src;
		event_addr_from_sockaddr(&src, (struct sockaddr *)&peer);
		if (!source_admit(w, src.ip)) {
			INC(w->stats.per_source_refused);
			close(fd);
			continue;
		}
		struct cap_conn *c = conn_get(w);
		if (c == NULL) {
			source_release(w, src.ip);
			close(fd);
			continue;
		}
		memset(c, 0, sizeof(*c));
		c->type = CAP_CONN;
		c->fd = fd;
		c->w = w;
		c->in_use = true;
		c->info.src = src;
		memcpy(c->peer_ip, src.ip, sizeof(c->peer_ip));
		/* A TLS 1.3 reply follows the session ticket in a second write:
		 * with Nagle it waited for the client's delayed ACK (40 ms). */
		int one = 1;
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		struct sockaddr_storage local;
		socklen_t llen = sizeof(local);
		if (getsockname(fd, (struct sockaddr *)&local, &llen) != 0)
			local = l->local;
		event_addr_from_sockaddr(&c->info.dst, (struct sockaddr *)&local);
		c->info.conn_id = atomic_fetch_add(&w->cap->next_conn_id, 1);
		c->info.worker = (uint16_t)w->idx;
		c->last_ms = cap_mono_ms();
		cap_proxy_accept(w, c, l, &peer);
		if (l->type == CAP_LISTEN_RAW) {
			cap_raw_open(w, c);
		} else if (l->type == CAP_LISTEN_TLS) {
			cap_tls_open(w, c);
		} else {
			cap_http_open(w, c);
			cap_list_move(w, c, LIST_IDLE);
		}
		struct epoll_event ev = {.events = EPOLLIN | EPOLLRDHUP, .data.ptr = c};
		if (epoll_ctl(w->epfd, EPOLL_CTL_ADD, fd, &ev) != 0) {
			cap_conn_close(w, c);
			continue;
		}
		INC(w->stats.accepted);
	}
}

/* ---- the loop ---- */

static void sweep(struct cap_worker *w)
{
	const struct sinkd_config *cfg = &w->cap->cfg;
	uint64_t now = cap_mono_ms();
	while (w->busy_head != NULL && now - w->busy_head->req_ms >= cfg->capture_request_timeout_ms) {
		INC(w->stats.request_timeouts);
		cap_http_abandon(w, w->busy_head, true);
		cap_conn_close(w, w->busy_head);
	}
	while (w->idle_head != NULL && now - w->idle_head->last_ms >= cfg->capture_idle_timeout_ms) {
		INC(w->stats.idle_timeouts);
		cap_conn_close(w, w->idle_head);
	}
	while (w->raw_head != NULL &&
	       now - w->raw_head->req_ms >= (w->raw_head->mode == MODE_TLS
						     ? cfg->capture_request_timeout_ms
						     : cfg->catchall_timeout_ms)) {
		INC(w->stats.request_timeouts);
		cap_conn_abandon(w, w->raw_head, true);
		cap_conn_close(w, w->raw_head);
	}
}

static void *worker_main(void *arg)
{
	struct cap_worker *w = arg;
	struct capture *cap = w->cap;
	struct epoll_event evs[64];
	char name[16];
	snprintf(name, sizeof(name), "sinkd-cap-%u", w->idx);
	pthread_setname_np(pthread_self(), name);
	rcu_register_thread();
	while (!atomic_load_explicit(&cap->stop, memory_order_relaxed)) {
		rcu_thread_offline();
		int n = epoll_wait(w->epfd, evs, 64, 100);
		rcu_thread_online();
		for (int i = 0; i < n; i++) {
			enum cap_ep *type = evs[i].data.ptr;
			if (*type == CAP_LISTEN_HTTP || *type == CAP_LISTEN_RAW ||
			    *type == CAP_LISTEN_TLS) {
				accept_all(w, (struct cap_listener *)type);
			} else if (*type == CAP_UDP_RAW) {
				cap_raw_datagrams(w, (struct cap_listener *)type);
			} else {
				struct cap_conn *c = (struct cap_conn *)type;
				if (c->in_use && c->proxy != PROXY_NONE && !cap_proxy_io(w, c))
					continue;
				if (c->in_use && c->mode == MODE_RAW)
					cap_raw_io(w, c, evs[i].events);
				else if (c->in_use && c->mode == MODE_TLS)
					cap_tls_io(w, c, evs[i].events);
				else if (c->in_use)
					cap_http_io(w, c, evs[i].events);
			}
		}
		sweep(w);
		rcu_quiescent_state();
	}
	/* Requests in progress are recorded as they are. */
	while (w->busy_head != NULL) {
		cap_http_abandon(w, w->busy_head, false);
		cap_conn_close(w, w->busy_head);
	}
	while (w->raw_head != NULL) {
		cap_conn_abandon(w, w->raw_head, false);
		cap_conn_close(w, w->raw_head);
	}
	rcu_unregister_thread();
	return NULL;
}

/* ---- lifecycle ---- */

static int listen_on(struct cap_worker *w, const struct config_sockaddr *a, enum net_proto proto,
		     enum cap_ep type)
{
	const struct sinkd_config *cfg = &w->cap->cfg;
	int fd = net_bind(a, proto);
	if (fd < 0)
		return fd;
	struct cap_listener *l = &w->listeners[w->n_listeners++];
	*l = (struct cap_listener){.type = type, .fd = fd, .local = a->ss};
	l->proxy = type == CAP_LISTEN_HTTP	 ? cfg->http_proxy_protocol
		   : type == CAP_LISTEN_TLS ? cfg->tls_proxy_protocol
		   : type == CAP_LISTEN_RAW ? cfg->catchall_proxy_protocol
					    : false;
	struct epoll_event ev = {.events = EPOLLIN, .data.ptr = l};
	return epoll_ctl(w->epfd, EPOLL_CTL_ADD, fd, &ev) == 0 ? 0 : SINKD_ENET;
}

/* The socket address of one port of a range. */
static void range_port(const struct config_port_range *r, unsigned port,
		       struct config_sockaddr *out)
{
	*out = r->addr;
	if (out->ss.ss_family == AF_INET)
		((struct sockaddr_in *)&out->ss)->sin_port = htons((uint16_t)port);
	else
		((struct sockaddr_in6 *)&out->ss)->sin6_port = htons((uint16_t)port);
	char ip[INET6_ADDRSTRLEN];
	if (out->ss.ss_family == AF_INET)
		inet_ntop(AF_INET, &((struct sockaddr_in *)&out->ss)->sin_addr, ip, sizeof(ip));
	else
		inet_ntop(AF_INET6, &((struct sockaddr_in6 *)&out->ss)->sin6_addr, ip, sizeof(ip));
	snprintf(out->text, sizeof(out->text), out->ss.ss_family == AF_INET ? "%s:%u" : "[%s]:%u",
		 ip, port);
}

static unsigned range_first(const struct config_port_range *r)
{
	const struct sockaddr_storage *ss = &r->addr.ss;
	return ntohs(ss->ss_family == AF_INET ? ((const struct sockaddr_in *)ss)->sin_port
					      : ((const struct sockaddr_in6 *)ss)->sin6_port);
}

static int listen_range(struct cap_worker *w, const struct config_port_range *r,
			enum net_proto proto, enum cap_ep type)
{
	for (unsigned p = range_first(r); p <= r->last; p++) {
		struct config_sockaddr a;
		range_port(r, p, &a);
		int ret = listen_on(w, &a, proto, type);
		if (ret != 0)
			return ret;
	}
	return 0;
}

/* Count the sockets one worker needs; refuse more catch-all ports than
 * CONFIG_MAX_CATCHALL_PORTS, and addresses another process holds. */
static int plan_sockets(struct capture *cap)
{
	const struct sinkd_config *cfg = &cap->cfg;
	unsigned ports = 0;
	int ret = 0;
	for (unsigned i = 0; cfg->http_enabled && i < cfg->n_http_listen && ret == 0; i++) {
		ret = net_check_free(&cfg->http_listen[i], NET_TCP);
		cap->n_sockets++;
	}
	for (unsigned i = 0; cfg->tls_enabled && i < cfg->n_tls_listen && ret == 0; i++) {
		ret = net_check_free(&cfg->tls_listen[i], NET_TCP);
		cap->n_sockets++;
	}
	for (int udp = 0; udp < 2 && cfg->catchall_enabled; udp++) {
		const struct config_port_range *r = udp ? cfg->catchall_udp : cfg->catchall_tcp;
		unsigned n = udp ? cfg->n_catchall_udp : cfg->n_catchall_tcp;
		for (unsigned i = 0; i < n && ret == 0; i++) {
			ports += r[i].last - range_first(&r[i]) + 1;
			if (ports > CONFIG_MAX_CATCHALL_PORTS) {
				log_err("[catchall] %s: more than %u ports in all; narrow the ranges "
					"(or redirect ports to one with netfilter)",
					r[i].text, CONFIG_MAX_CATCHALL_PORTS);
				return SINKD_EINVAL;
			}
			for (unsigned p = range_first(&r[i]); p <= r[i].last && ret == 0; p++) {
				struct config_sockaddr a;
				range_port(&r[i], p, &a);
				ret = net_check_free(&a, udp ? NET_UDP : NET_TCP);
			}
		}
	}
	cap->n_sockets += ports;
	return ret;
}

static int worker_new(struct capture *cap, unsigned idx, struct cap_worker **out)
{
	const struct sinkd_config *cfg = &cap->cfg;
	struct cap_worker *w = calloc(1, sizeof(*w));
	if (w == NULL)
		return SINKD_ENOMEM;
	*out = w;
	w->cap = cap;
	w->idx = idx;
	w->ring = pipeline_ring(cap->pipe, idx);
	w->epfd = epoll_create1(EPOLL_CLOEXEC);
	unsigned n_conns = cfg->capture_max_connections;
	unsigned n_bufs = cfg->capture_request_buffers;
	size_t n_src = 1;
	while (n_src < 2 * (size_t)n_conns)
		n_src <<= 1;
	w->conns = calloc(n_conns, sizeof(*w->conns));
	w->bufs = aligned_alloc(64, (size_t)n_bufs * cap->buf_size);
	w->free_bufs = calloc(n_bufs, sizeof(*w->free_bufs));
	w->sources = calloc(n_src, sizeof(*w->sources));
	if (w->epfd < 0 || w->conns == NULL || w->bufs == NULL || w->free_bufs == NULL ||
	    w->sources == NULL)
		return SINKD_ENOMEM;
	w->sources_mask = n_src - 1;
	for (unsigned i = n_conns; i-- > 0;) {
		w->conns[i].fd = -1;
		w->conns[i].next = w->free_conns;
		w->free_conns = &w->conns[i];
	}
	for (unsigned i = 0; i < n_bufs; i++)
		w->free_bufs[w->n_free_bufs++] = w->bufs + (size_t)i * cap->buf_size;
	w->listeners = calloc(cap->n_sockets, sizeof(*w->listeners));
	w->scratch = malloc(sizeof(struct sinkd_event) + 8 + cfg->catchall_first_bytes);
	if (w->listeners == NULL || w->scratch == NULL)
		return SINKD_ENOMEM;
	for (unsigned i = 0; cfg->http_enabled && i < cfg->n_http_listen; i++) {
		int ret = listen_on(w, &cfg->http_listen[i], NET_TCP, CAP_LISTEN_HTTP);
		if (ret != 0)
			return ret;
	}
	int tret = cap_tls_worker_init(w);
	if (tret != 0)
		return tret;
	for (unsigned i = 0; w->ssl_ctx != NULL && i < cfg->n_tls_listen; i++) {
		int ret = listen_on(w, &cfg->tls_listen[i], NET_TCP, CAP_LISTEN_TLS);
		if (ret != 0)
			return ret;
	}
	for (unsigned i = 0; cfg->catchall_enabled && i < cfg->n_catchall_tcp; i++) {
		int ret = listen_range(w, &cfg->catchall_tcp[i], NET_TCP, CAP_LISTEN_RAW);
		if (ret != 0)
			return ret;
	}
	for (unsigned i = 0; cfg->catchall_enabled && i < cfg->n_catchall_udp; i++) {
		int ret = listen_range(w, &cfg->catchall_udp[i], NET_UDP, CAP_UDP_RAW);
		if (ret != 0)
			return ret;
	}
	return 0;
}

static void worker_free(struct cap_worker *w)
{
	if (w == NULL)
		return;
	for (unsigned i = 0; w->conns != NULL && i < w->cap->cfg.capture_max_connections; i++) {
		if (w->conns[i].in_use) {
			SSL_free(w->conns[i].ssl);
			close(w->conns[i].fd);
		}
	}
	for (unsigned i = 0; i < w->n_listeners; i++)
		close(w->listeners[i].fd);
	if (w->epfd >= 0)
		close(w->epfd);
	free(w->conns);
	free(w->bufs);
	free(w->free_bufs);
	free(w->sources);
	free(w->listeners);
	free(w->scratch);
	cap_tls_worker_free(w);
	free(w);
}

int capture_new(struct capture **out, const struct sinkd_config *cfg, struct pipeline *pipe,
		unsigned ring_base, struct dns_server *dns)
{
	*out = NULL;
	if ((!cfg->http_enabled || cfg->n_http_listen == 0) &&
	    (!cfg->tls_enabled || cfg->n_tls_listen == 0) &&
	    (!cfg->catchall_enabled || cfg->n_catchall_tcp + cfg->n_catchall_udp == 0))
		return 0;
	struct capture *cap = calloc(1, sizeof(*cap));
	if (cap == NULL)
		return SINKD_ENOMEM;
	cap->cfg = *cfg;
	cap->limits = (struct http_limits){.max_header_bytes = cfg->http_max_header_bytes,
					   .max_body_bytes = cfg->http_max_body_bytes};
	size_t need = http_buffer_size(&cap->limits);
	size_t raw_need = sizeof(struct sinkd_event) + 8 + cfg->catchall_first_bytes;
	if (raw_need > need)
		need = raw_need;
	if (cap_tls_buffer_size() > need)
		need = cap_tls_buffer_size();
	cap->buf_size = (need + 63) & ~(size_t)63;
	cap->pipe = pipe;
	cap->dns = dns;
	atomic_init(&cap->next_conn_id, 1);
	cap_build_replies(cap);
	cap->n_workers = cfg->capture_workers;
	cap->workers = calloc(cap->n_workers, sizeof(*cap->workers));
	int ret = cap->workers == NULL ? SINKD_ENOMEM : plan_sockets(cap);
	for (unsigned i = 0; ret == 0 && i < cfg->n_proxy_trusted; i++) {
		if (net_cidr_parse(cfg->proxy_trusted[i].text, &cap->trusted[i]) != 0) {
			log_err("[proxy] trusted: '%s' is not a network", cfg->proxy_trusted[i].text);
			ret = SINKD_EINVAL;
		}
		cap->n_trusted++;
	}
	for (unsigned i = 0; ret == 0 && i < cap->n_workers; i++) {
		ret = worker_new(cap, i, &cap->workers[i]);
		if (ret == 0)
			cap->workers[i]->ring = pipeline_ring(pipe, ring_base + i);
	}
	if (ret != 0) {
		capture_free(cap);
		return ret;
	}
	*out = cap;
	return 0;
}

int capture_start(struct capture *c)
{
	if (c == NULL)
		return 0;
	atomic_store(&c->stop, false);
	for (unsigned i = 0; i < c->n_workers; i++) {
		if (pthread_create(&c->workers[i]->thread, NULL, worker_main, c->workers[i]) != 0) {
			c->n_workers = i;
			capture_stop(c);
			return SINKD_ENOMEM;
		}
	}
	c->started = true;
	return 0;
}

void capture_stop(struct capture *c)
{
	if (c == NULL || !c->started)
		return;
	atomic_store(&c->stop, true);
	for (unsigned i = 0; i < c->n_workers; i++)
		pthread_join(c->workers[i]->thread, NULL);
	c->started = false;
}

void capture_free(struct capture *c)
{
	if (c == NULL)
		return;
	capture_stop(c);
	for (unsigned i = 0; c->workers != NULL && i < c->n_workers; i++)
		worker_free(c->workers[i]);
	free(c->workers);
	free(c);
}

#define SUM(f) out->f += atomic_load_explicit(&st->f, memory_order_relaxed)

void capture_totals(const struct capture *c, struct capture_totals *out)
{
	memset(out, 0, sizeof(*out));
	for (unsigned i = 0; c != NULL && i < c->n_workers; i++) {
		struct capture_stats *st = &c->workers[i]->stats;
		SUM(accepted); SUM(closed); SUM(requests); SUM(replies); SUM(not_http);
		SUM(bad_request); SUM(header_too_large); SUM(body_truncated); SUM(evicted_idle);
		SUM(evicted_slow); SUM(per_source_refused); SUM(request_timeouts);
		SUM(idle_timeouts); SUM(events_dropped); SUM(send_errors); SUM(proxy_accepted);
		SUM(proxy_bad); SUM(proxy_untrusted); SUM(tls_handshakes);
		SUM(tls_handshake_failures);
	}
}
