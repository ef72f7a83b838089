/* The DNS listener workers: one thread each, epoll over its own
 * SO_REUSEPORT UDP and TCP sockets, batched recvmmsg/sendmmsg, answer data
 * read under urcu-qsbr so a reload never blocks a query. */
#define _LGPL_SOURCE
#include "dns/worker.h"

#include "core/error.h"
#include "core/log.h"
#include "net/net.h"
#include "pipeline/pipeline.h"

#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>
#include <urcu-qsbr.h>

uint64_t dns_mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

uint64_t dns_wall_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

bool dns_proxy_trusted(const struct dns_server *srv, const struct sockaddr_storage *peer)
{
	for (unsigned i = 0; i < srv->n_trusted; i++) {
		if (net_cidr_match(&srv->trusted[i], peer))
			return true;
	}
	return false;
}

/* PROXY v2 over UDP: from a trusted peer the header is required and gives
 * the source; from anyone else a header is refused. Returns the offset of
 * the DNS message, or -1 to drop the datagram (counted). */
static long udp_proxy(struct dns_worker *w, const uint8_t *buf, size_t len,
		      const struct sockaddr_storage *peer, struct sockaddr_storage *src)
{
	struct dns_server *srv = w->srv;
	if (!dns_proxy_trusted(srv, peer)) {
		if (net_sniff_final(buf, len, NULL) == NET_SNIFF_PROXY_V2) {
			atomic_fetch_add_explicit(&w->stats.proxy_untrusted, 1, memory_order_relaxed);
			return -1;
		}
		return 0;
	}
	struct proxy_info pi;
	size_t consumed;
	if (proxy_parse(buf, len, &pi, &consumed) != 0) {
		atomic_fetch_add_explicit(&w->stats.proxy_bad, 1, memory_order_relaxed);
		return -1;
	}
	atomic_fetch_add_explicit(&w->stats.proxy_accepted, 1, memory_order_relaxed);
	if (pi.has_addr)
		*src = pi.src;
	return (long)consumed;
}

void dns_worker_record(struct dns_worker *w, const struct sinkd_event *ev)
{
	if (pipeline_push_dns(w->ring, ev) != 0)
		atomic_fetch_add_explicit(&w->stats.events_dropped, 1, memory_order_relaxed);
}

/* The address a datagram was sent to, from IP_PKTINFO / IPV6_PKTINFO; the
 * reply carries the same control message so it leaves from that address. */
static void udp_local_addr(const struct msghdr *m, const struct ep_item *sock,
			   struct sockaddr_storage *local, uint8_t *tx_ctrl, size_t *tx_ctrl_len)
{
	*local = sock->local;
	*tx_ctrl_len = 0;
	for (struct cmsghdr *c = CMSG_FIRSTHDR(m); c != NULL; c = CMSG_NXTHDR((struct msghdr *)m, c)) {
		if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_PKTINFO) {
			struct in_pktinfo pi;
			memcpy(&pi, CMSG_DATA(c), sizeof(pi));
			((struct sockaddr_in *)local)->sin_addr = pi.ipi_addr;
			pi.ipi_spec_dst = pi.ipi_addr;
			pi.ipi_ifindex = 0;
			struct cmsghdr *o = (struct cmsghdr *)tx_ctrl;
			o->cmsg_level = IPPROTO_IP;
			o->cmsg_type = IP_PKTINFO;
			o->cmsg_len = CMSG_LEN(sizeof(pi));
			memcpy(CMSG_DATA(o), &pi, sizeof(pi));
			*tx_ctrl_len = CMSG_SPACE(sizeof(pi));
		} else if (c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_PKTINFO) {
			struct in6_pktinfo pi;
			memcpy(&pi, CMSG_DATA(c), sizeof(pi));
			((struct sockaddr_in6 *)local)->sin6_addr = pi.ipi6_addr;
			pi.ipi6_ifindex = 0;
			struct cmsghdr *o = (struct cmsghdr *)tx_ctrl;
			o->cmsg_level = IPPROTO_IPV6;
			o->cmsg_type = IPV6_PKTINFO;
			o->cmsg_len = CMSG_LEN(sizeof(pi));
			memcpy(CMSG_DATA(o), &pi, sizeof(pi));
			*tx_ctrl_len = CMSG_SPACE(sizeof(pi));
		}
	}
}

static void udp_send(struct dns_worker *w, int fd, unsigned n)
{
	unsigned sent = 0;
	while (sent < n) {
		int ret = sendmmsg(fd, w->tx_msgs + sent, n - sent, MSG_DONTWAIT);
		if (ret < 0) {
			if (errno == EINTR)
				continue;
			/* Socket buffer full or a bad destination: skip one. */
			atomic_fetch_add_explicit(&w->stats.send_errors, 1, memory_order_relaxed);
			sent++;
			continue;
		}
		sent += (unsigned)ret;
	}
}

/* Answer one batch from a UDP socket; returns the number of datagrams. */
static int udp_batch(struct dns_worker *w, struct ep_item *sock, const struct dns_data *data)
{
	for (unsigned i = 0; i < UDP_BATCH; i++) {
		struct msghdr *m = &w->rx_msgs[i].msg_hdr;
		w->rx_iov[i] = (struct iovec){w->rx_buf[i], UDP_RX_SIZE};
		*m = (struct msghdr){.msg_name = &w->rx_addr[i],
				     .msg_namelen = sizeof(w->rx_addr[i]),
				     .msg_iov = &w->rx_iov[i],
				     .msg_iovlen = 1,
				     .msg_control = w->rx_ctrl[i],
				     .msg_controllen = sizeof(w->rx_ctrl[i])};
	}
	int n = recvmmsg(sock->fd, w->rx_msgs, UDP_BATCH, MSG_DONTWAIT, NULL);
	if (n <= 0)
		return 0;
	uint64_t now = dns_wall_ns();
	unsigned out = 0;
	for (int i = 0; i < n; i++) {
		struct msghdr *m = &w->rx_msgs[i].msg_hdr;
		struct sockaddr_storage local;
		size_t ctrl_len;
		udp_local_addr(m, sock, &local, w->tx_ctrl[out], &ctrl_len);
		const uint8_t *query = w->rx_buf[i];
		size_t qlen = w->rx_msgs[i].msg_len;
		struct sockaddr_storage src = w->rx_addr[i];
		if (w->srv->cfg.dns_proxy_protocol) {
			long off = udp_proxy(w, query, qlen, &w->rx_addr[i], &src);
			if (off < 0)
				continue;
			query += off;
			qlen -= (size_t)off;
		}
		struct dns_query_info qi = {.src = &src, .dst = &local, .now_ns = now};
		/* The event is filled in a worker-local record (hot in cache) and
		 * queued as a compact DNS record. */
		struct sinkd_event *ev = &w->ev;
		size_t len = dns_answer(&w->ctx, data, &qi, query, qlen, w->tx_buf[out], UDP_TX_SIZE,
					ev);
		if (src.ss_family != 0 && memcmp(&src, &w->rx_addr[i], sizeof(src)) != 0) {
			event_addr_from_sockaddr(&ev->proxy, (struct sockaddr *)&w->rx_addr[i]);
			ev->flags |= EVF_PROXIED;
		}
		if (ev->kind != 0)
			dns_worker_record(w, ev);
		if (len == 0)
			continue;
		w->tx_iov[out] = (struct iovec){w->tx_buf[out], len};
		w->tx_msgs[out].msg_hdr = (struct msghdr){.msg_name = &w->rx_addr[i],
							  .msg_namelen = m->msg_namelen,
							  .msg_iov = &w->tx_iov[out],
							  .msg_iovlen = 1,
							  .msg_control = ctrl_len ? w->tx_ctrl[out] : NULL,
							  .msg_controllen = ctrl_len};
		out++;
	}
	if (out > 0)
		udp_send(w, sock->fd, out);
	return n;
}

static void udp_drain(struct dns_worker *w, struct ep_item *sock, const struct dns_data *data)
{
	/* Bounded so one busy socket cannot starve the others (level-triggered
	 * epoll brings us back). */
	for (int round = 0; round < 16; round++) {
		if (udp_batch(w, sock, data) < UDP_BATCH)
			break;
	}
}

static void *worker_main(void *arg)
{
	struct dns_worker *w = arg;
	struct dns_server *srv = w->srv;
	struct epoll_event evs[64];
	char name[16];
	snprintf(name, sizeof(name), "sinkd-dns-%u", w->idx);
	pthread_setname_np(pthread_self(), name);
	rcu_register_thread();
	while (!atomic_load_explicit(&srv->stop, memory_order_relaxed)) {
		rcu_thread_offline();
		int n = epoll_wait(w->epfd, evs, 64, 100);
		rcu_thread_online();
		const struct dns_data *data = rcu_dereference(srv->data);
		for (int i = 0; i < n; i++) {
			struct ep_item *it = evs[i].data.ptr;
			switch (it->type) {
			case EP_UDP:
				udp_drain(w, it, data);
				break;
			case EP_TCP_LISTEN:
				dns_tcp_accept(w, it, data);
				break;
			case EP_TCP_CONN:
				dns_tcp_io(w, (struct tcp_conn *)it, evs[i].events, data);
				break;
			}
		}
		dns_tcp_sweep(w, srv->cfg.tcp_idle_timeout_ms);
		rcu_quiescent_state();
	}
	rcu_unregister_thread();
	return NULL;
}

static int ep_add(struct dns_worker *w, struct ep_item *it)
{
	struct epoll_event ev = {.events = EPOLLIN, .data.ptr = it};
	return epoll_ctl(w->epfd, EPOLL_CTL_ADD, it->fd, &ev) == 0 ? 0 : SINKD_ENET;
}

static int worker_new(struct dns_server *srv, unsigned idx, const uint8_t secret[16],
		      struct dns_worker **out)
{
	struct dns_worker *w = calloc(1, sizeof(*w));
	if (w == NULL)
		return SINKD_ENOMEM;
	*out = w;
	w->srv = srv;
	w->idx = idx;
	w->ring = pipeline_ring(srv->pipe, idx);
	w->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (w->epfd < 0)
		return SINKD_ENET;
	int ret = dns_ctx_init(&w->ctx, srv->rrl, &w->stats, secret);
	if (ret == 0 && srv->cfg.dns_tcp)
		ret = dns_tcp_pool_init(w, srv->cfg.tcp_max_clients);
	for (unsigned i = 0; ret == 0 && i < srv->cfg.n_dns_listen; i++) {
		const struct config_sockaddr *a = &srv->cfg.dns_listen[i];
		int fd = net_bind(a, NET_UDP);
		if (fd < 0)
			return fd;
		w->udp[w->n_udp] = (struct ep_item){.type = EP_UDP, .fd = fd, .local = a->ss};
		ret = ep_add(w, &w->udp[w->n_udp++]);
		if (ret != 0 || !srv->cfg.dns_tcp)
			continue;
		fd = net_bind(a, NET_TCP);
		if (fd < 0)
			return fd;
		w->tcp[w->n_tcp] = (struct ep_item){.type = EP_TCP_LISTEN, .fd = fd, .local = a->ss};
		ret = ep_add(w, &w->tcp[w->n_tcp++]);
	}
	return ret;
}

static void worker_free(struct dns_worker *w)
{
	if (w == NULL)
		return;
	for (unsigned i = 0; i < w->n_udp; i++)
		close(w->udp[i].fd);
	for (unsigned i = 0; i < w->n_tcp; i++)
		close(w->tcp[i].fd);
	dns_tcp_pool_free(w);
	if (w->epfd >= 0)
		close(w->epfd);
	dns_ctx_deinit(&w->ctx);
	free(w);
}

static int cookie_secret(const struct sinkd_config *cfg, uint8_t out[16])
{
	if (cfg->cookie_secret[0] == '\0')
		return getrandom(out, 16, 0) == 16 ? 0 : SINKD_EIO;
	for (int i = 0; i < 16; i++) {
		unsigned v;
		if (sscanf(cfg->cookie_secret + 2 * i, "%2x", &v) != 1)
			return SINKD_EINVAL;
		out[i] = (uint8_t)v;
	}
	return 0;
}

int dns_server_new(struct dns_server **out, const struct sinkd_config *cfg,
		   struct dns_data *data, struct dns_rrl *rrl, struct pipeline *pipe)
{
	struct dns_server *srv = calloc(1, sizeof(*srv));
	if (srv == NULL)
		return SINKD_ENOMEM;
	srv->cfg = *cfg;
	srv->data = data;
	srv->rrl = rrl;
	srv->pipe = pipe;
	srv->n_workers = cfg->workers > 0 ? cfg->workers : 1;
	for (unsigned i = 0; cfg->dns_proxy_protocol && i < cfg->n_proxy_trusted; i++) {
		if (net_cidr_parse(cfg->proxy_trusted[i].text, &srv->trusted[srv->n_trusted]) == 0)
			srv->n_trusted++;
	}
	srv->workers = calloc(srv->n_workers, sizeof(*srv->workers));
	uint8_t secret[16];
	int ret = srv->workers == NULL ? SINKD_ENOMEM : cookie_secret(cfg, secret);
	for (unsigned i = 0; ret == 0 && i < cfg->n_dns_listen; i++) {
		ret = net_check_free(&cfg->dns_listen[i], NET_UDP);
		if (ret == 0 && cfg->dns_tcp)
			ret = net_check_free(&cfg->dns_listen[i], NET_TCP);
	}
	for (unsigned i = 0; ret == 0 && i < srv->n_workers; i++)
		ret = worker_new(srv, i, secret, &srv->workers[i]);
	if (ret != 0) {
		dns_server_free(srv);
		return ret;
	}
	*out = srv;
	return 0;
}

int dns_server_start(struct dns_server *srv)
{
	atomic_store(&srv->stop, false);
	for (unsigned i = 0; i < srv->n_workers; i++) {
		if (pthread_create(&srv->workers[i]->thread, NULL, worker_main, srv->workers[i]) !=
		    0) {
			srv->n_workers = i; /* stop only what started */
			dns_server_stop(srv);
			return SINKD_ENOMEM;
		}
	}
	srv->started = true;
	return 0;
}

struct dns_data *dns_server_set_data(struct dns_server *srv, struct dns_data *data)
{
	struct dns_data *old = rcu_xchg_pointer(&srv->data, data);
	synchronize_rcu();
	return old;
}

void dns_server_stop(struct dns_server *srv)
{
	if (!srv->started)
		return;
	atomic_store(&srv->stop, true);
	for (unsigned i = 0; i < srv->n_workers; i++)
		pthread_join(srv->workers[i]->thread, NULL);
	srv->started = false;
}

void dns_server_free(struct dns_server *srv)
{
	if (srv == NULL)
		return;
	dns_server_stop(srv);
	if (srv->workers != NULL) {
		for (unsigned i = 0; i < srv->n_workers; i++)
			worker_free(srv->workers[i]);
	}
	free(srv->workers);
	free(srv);
}

#define SUM(f) out->f += atomic_load_explicit(&st->f, memory_order_relaxed)

void dns_server_totals(const struct dns_server *srv, struct dns_totals *out)
{
	memset(out, 0, sizeof(*out));
	for (unsigned i = 0; i < srv->n_workers; i++) {
		if (srv->workers[i] == NULL)
			continue;
		struct dns_stats *st = &srv->workers[i]->stats;
		SUM(queries); SUM(answered); SUM(noerror); SUM(nxdomain); SUM(refused);
		SUM(formerr); SUM(notimp); SUM(badvers); SUM(servfail); SUM(truncated);
		SUM(drop_short); SUM(drop_response); SUM(rrl_slipped); SUM(rrl_dropped);
		SUM(events_dropped); SUM(send_errors); SUM(tcp_accepted); SUM(tcp_closed);
		SUM(tcp_rejected_full); SUM(tcp_idle_timeouts); SUM(tcp_bad_length);
		SUM(proxy_accepted); SUM(proxy_bad); SUM(proxy_untrusted);
	}
}

const struct domain_registry *dns_server_registry(struct dns_server *srv)
{
	const struct dns_data *data = rcu_dereference(srv->data);
	return data != NULL ? dns_data_registry(data) : NULL;
}
