/* PROXY protocol v1/v2 on capture connections: from a trusted load
 * balancer the header is required and its source replaces the socket's
 * (the balancer's own address is kept as ev->proxy); from anyone else a
 * header is refused. The header is peeked and then consumed exactly, so
 * the bytes after it are left for the connection's own protocol. */
#include "capture/capture_internal.h"

#include "core/error.h"

#include <errno.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/epoll.h>

#define INC(c) atomic_fetch_add_explicit(&(c), 1, memory_order_relaxed)

static bool peer_trusted(const struct capture *cap, const struct sockaddr_storage *peer)
{
	for (unsigned i = 0; i < cap->n_trusted; i++) {
		if (net_cidr_match(&cap->trusted[i], peer))
			return true;
	}
	return false;
}

bool cap_peer_trusted(const struct capture *cap, const struct event_addr *addr)
{
	struct sockaddr_storage ss = {0};
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;
	s6->sin6_family = AF_INET6;
	memcpy(&s6->sin6_addr, addr->ip, 16); /* IPv4-mapped matches IPv4 networks */
	return peer_trusted(cap, &ss);
}

void cap_proxy_accept(struct cap_worker *w, struct cap_conn *c, const struct cap_listener *l,
		      const struct sockaddr_storage *peer)
{
	if (!l->proxy)
		c->proxy = PROXY_NONE;
	else if (peer_trusted(w->cap, peer))
		c->proxy = PROXY_REQUIRED;
	else
		c->proxy = PROXY_FORBIDDEN;
}

void cap_set_edge(struct cap_worker *w, struct cap_conn *c, bool edge)
{
	struct epoll_event ev = {.events = EPOLLIN | EPOLLRDHUP | (edge ? EPOLLET : 0),
				 .data.ptr = c};
	epoll_ctl(w->epfd, EPOLL_CTL_MOD, c->fd, &ev);
}

static void apply(struct cap_conn *c, const struct proxy_info *pi)
{
	if (!pi->has_addr)
		return; /* LOCAL / UNKNOWN: the socket's addresses stand */
	c->info.proxy = c->info.src;
	event_addr_from_sockaddr(&c->info.src, (const struct sockaddr *)&pi->src);
	event_addr_from_sockaddr(&c->info.dst, (const struct sockaddr *)&pi->dst);
	c->info.flags |= EVF_PROXIED;
}

bool cap_proxy_io(struct cap_worker *w, struct cap_conn *c)
{
	ssize_t n = recv(c->fd, w->rx, PROXY_HDR_MAX, MSG_PEEK);
	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
		return false;
	if (n <= 0) {
		c->proxy = PROXY_NONE; /* let the mode record the empty connection */
		return true;
	}
	if (c->proxy == PROXY_FORBIDDEN) {
		enum net_proto_guess g = net_sniff(w->rx, (size_t)n, NULL);
		if (g == NET_SNIFF_PROXY_V1 || g == NET_SNIFF_PROXY_V2) {
			INC(w->stats.proxy_untrusted);
			cap_conn_close(w, c);
			return false;
		}
		if (g == NET_SNIFF_NEED_MORE && n < 16) {
			cap_set_edge(w, c, true);
			return false;
		}
		c->proxy = PROXY_NONE;
		cap_set_edge(w, c, false);
		return true;
	}
	struct proxy_info pi;
	size_t consumed = 0;
	int ret = proxy_parse(w->rx, (size_t)n, &pi, &consumed);
	if (ret == SINKD_EAGAIN) {
		cap_set_edge(w, c, true);
		return false;
	}
	if (ret != 0 || recv(c->fd, w->rx, consumed, 0) != (ssize_t)consumed) {
		INC(w->stats.proxy_bad);
		cap_conn_close(w, c);
		return false;
	}
	INC(w->stats.proxy_accepted);
	apply(c, &pi);
	c->proxy = PROXY_NONE;
	cap_set_edge(w, c, false);
	return true;
}
