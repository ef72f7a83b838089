/* Private to src/dns/: one listener worker (thread, epoll loop, sockets,
 * TCP connection pool). */
#ifndef SINKD_DNS_WORKER_H
#define SINKD_DNS_WORKER_H

#include <pthread.h>

#include "dns/dns_internal.h"
#include "net/net.h"

#define UDP_BATCH 32
#define UDP_RX_SIZE 4096
#define UDP_TX_SIZE 4096
#define TCP_RX_SIZE 4096	/* largest query accepted over TCP */
#define TCP_TX_SIZE 16384	/* pending responses per connection */

enum ep_type { EP_UDP = 1, EP_TCP_LISTEN = 2, EP_TCP_CONN = 3 };

/* Every epoll registration points at one of these (first member). */
struct ep_item {
	enum ep_type type;
	int fd;
	struct sockaddr_storage local;	/* bound / accepted-on address */
};

struct tcp_conn {
	struct ep_item ep;
	struct sockaddr_storage peer;
	uint64_t last_ms;		/* monotonic time of last activity */
	struct tcp_conn *prev, *next;	/* LRU (head = idle longest) or free list */
	bool in_use;
	bool want_out;			/* EPOLLOUT registered */
	bool want_in;			/* EPOLLIN registered */
	uint8_t proxy;			/* 0, 1 = header required, 2 = refused */
	struct sockaddr_storage via;	/* the proxy's address when one was applied */
	bool proxied;
	uint16_t rx_len;
	uint16_t tx_off, tx_len;
	uint8_t rx[TCP_RX_SIZE];
	uint8_t tx[TCP_TX_SIZE];
};

struct dns_server;

struct dns_worker {
	struct dns_server *srv;
	unsigned idx;
	pthread_t thread;
	int epfd;
	struct ep_item udp[CONFIG_MAX_LISTEN];
	struct ep_item tcp[CONFIG_MAX_LISTEN];
	unsigned n_udp, n_tcp;
	struct dns_ctx ctx;
	struct dns_stats stats;
	struct vring *ring;
	struct sinkd_event ev;		/* the event being filled */

	/* TCP connection pool */
	struct tcp_conn *conns;
	unsigned n_conns;
	struct tcp_conn *free_list;
	struct tcp_conn *lru_head, *lru_tail;

	/* UDP batch buffers */
	struct mmsghdr rx_msgs[UDP_BATCH], tx_msgs[UDP_BATCH];
	struct iovec rx_iov[UDP_BATCH], tx_iov[UDP_BATCH];
	struct sockaddr_storage rx_addr[UDP_BATCH];
	uint8_t rx_ctrl[UDP_BATCH][64];
	uint8_t tx_ctrl[UDP_BATCH][64];
	uint8_t rx_buf[UDP_BATCH][UDP_RX_SIZE];
	uint8_t tx_buf[UDP_BATCH][UDP_TX_SIZE];
};

struct dns_server {
	struct sinkd_config cfg;
	struct net_cidr trusted[16];	/* [proxy] trusted, when proxy_protocol */
	unsigned n_trusted;
	struct dns_data *data;		/* RCU-protected (urcu-qsbr) */
	struct dns_rrl *rrl;
	struct pipeline *pipe;
	struct dns_worker **workers;
	unsigned n_workers;
	atomic_bool stop;
	bool started;
};

uint64_t dns_mono_ms(void);

/* True when peer is one of the trusted PROXY-protocol senders. */
bool dns_proxy_trusted(const struct dns_server *srv, const struct sockaddr_storage *peer);
uint64_t dns_wall_ns(void);

/* Push the event filled in *ev into the worker's ring (or count a drop). */
void dns_worker_record(struct dns_worker *w, const struct sinkd_event *ev);

/* TCP side of the worker (tcp.c). */
int dns_tcp_pool_init(struct dns_worker *w, unsigned max_clients);
void dns_tcp_pool_free(struct dns_worker *w);
void dns_tcp_accept(struct dns_worker *w, struct ep_item *listener, const struct dns_data *data);
void dns_tcp_io(struct dns_worker *w, struct tcp_conn *c, uint32_t events,
		const struct dns_data *data);
void dns_tcp_sweep(struct dns_worker *w, unsigned idle_ms);

#endif
