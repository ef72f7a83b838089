/* Private to src/capture/. */
#ifndef SINKD_CAPTURE_INTERNAL_H
#define SINKD_CAPTURE_INTERNAL_H

#include <pthread.h>
#include <sys/socket.h>

#include "capture/capture.h"
#include "core/event.h"
#include "http/http.h"
#include "net/net.h"
#include "tls/cert.h"
#include "tls/tls.h"

#define PEND_MAX 256		/* replies queued on one connection */
#define READ_CHUNK 4096		/* bytes parsed per read: <= PEND_MAX requests */

enum cap_ep {
	CAP_LISTEN_HTTP = 1,
	CAP_LISTEN_RAW = 2,
	CAP_UDP_RAW = 3,
	CAP_LISTEN_TLS = 4,
	CAP_CONN = 5,
};

/* Idle keep-alive connections (LRU), requests in progress (FIFO by start),
 * catch-all connections waiting for their first bytes (FIFO by accept). */
enum conn_list { LIST_NONE, LIST_IDLE, LIST_BUSY, LIST_RAW };

/* MODE_TLS: handshake in progress (then MODE_HTTP with ssl set). */
enum conn_mode { MODE_HTTP = 0, MODE_RAW = 1, MODE_TLS = 2 };

struct cap_conn {
	enum cap_ep type;		/* first: epoll data points here */
	int fd;
	struct cap_worker *w;
	struct cap_conn *prev, *next;	/* idle LRU / busy FIFO / free list */
	uint8_t list;			/* enum conn_list */
	uint8_t mode;			/* enum conn_mode */
	uint8_t proxy;			/* enum proxy_wait: a PROXY header step first */
	bool sniffed;			/* MODE_RAW: first bytes looked at */
	bool in_use, want_out, closing;
	uint64_t last_ms;		/* last activity */
	uint64_t req_ms;		/* request in progress since */
	struct http_conn_info info;
	uint8_t peer_ip[16];		/* the address max_per_source counted (the
					 * socket's, whatever a PROXY header says) */
	struct http_stream http;
	uint8_t *raw_buf;		/* MODE_RAW/TLS: lent buffer (event + sections) */
	uint32_t raw_len;		/* MODE_RAW: bytes captured; MODE_TLS: payload used */
	SSL *ssl;			/* TLS connections (handshake and after) */
	uint16_t pend_head, pend_count;	/* queued reply kinds */
	uint16_t pend_off;		/* bytes of the first already sent */
	uint8_t pend[PEND_MAX];
};

struct cap_listener {
	enum cap_ep type;
	int fd;
	bool proxy;			/* PROXY protocol enabled here */
	struct sockaddr_storage local;
};

enum proxy_wait {
	PROXY_NONE = 0,
	PROXY_REQUIRED = 1,	/* trusted peer: a header must come first */
	PROXY_FORBIDDEN = 2,	/* untrusted peer: a header is refused */
};

/* Source address -> open connections, for max_per_source. */
struct src_count {
	uint8_t ip[16];
	uint32_t count;		/* 0 = free slot */
};

struct capture;

struct cap_worker {
	struct capture *cap;
	unsigned idx;
	pthread_t thread;
	int epfd;
	struct vring *ring;
	struct cap_listener *listeners;		/* HTTP, catch-all TCP and UDP */
	unsigned n_listeners;
	struct cap_conn *conns;
	struct cap_conn *free_conns;
	struct cap_conn *idle_head, *idle_tail;	/* least recently active first */
	struct cap_conn *busy_head, *busy_tail;	/* oldest request first */
	struct cap_conn *raw_head, *raw_tail;	/* oldest catch-all first */
	uint8_t *bufs;				/* request buffer pool */
	uint8_t **free_bufs;
	unsigned n_free_bufs;
	struct src_count *sources;
	size_t sources_mask;
	struct capture_stats stats;
	uint8_t rx[READ_CHUNK];
	uint8_t tx[16384];
	uint8_t *scratch;			/* a datagram's event + payload */
	SSL_CTX *ssl_ctx;			/* TLS listeners */
	struct tls_certs *certs;
	struct tls_clienthello *hello;		/* scratch for the ClientHello */
	struct tls_ja3 *ja3;
	struct tls_ja4 *ja4;
	char *hello_json;			/* TLS_CH_JSON_MAX */
};

struct capture {
	struct sinkd_config cfg;
	struct http_limits limits;
	size_t buf_size;
	unsigned n_sockets;		/* listeners per worker */
	struct pipeline *pipe;
	struct dns_server *dns;
	struct cap_worker **workers;
	unsigned n_workers;
	atomic_bool stop;
	bool started;
	atomic_uint_least64_t next_conn_id;
	struct net_cidr trusted[16];	/* [proxy] trusted */
	unsigned n_trusted;
	/* Fixed replies, built once from [http]. */
	char reply_ok[512], reply_ok_close[512], reply_head[512], reply_head_close[512];
	size_t reply_ok_len, reply_ok_close_len, reply_head_len, reply_head_close_len;
};

uint64_t cap_mono_ms(void);
uint64_t cap_wall_ns(void);

/* Connection lists and lifecycle (worker.c). */
void cap_list_move(struct cap_worker *w, struct cap_conn *c, enum conn_list to);
void cap_conn_close(struct cap_worker *w, struct cap_conn *c);

/* HTTP on a connection (http_conn.c). */
void cap_http_open(struct cap_worker *w, struct cap_conn *c);
void cap_http_io(struct cap_worker *w, struct cap_conn *c, uint32_t events);
/* Record the request in progress as abandoned and give its buffer back. */
void cap_http_abandon(struct cap_worker *w, struct cap_conn *c, bool timeout);
void cap_build_replies(struct capture *cap);
/* Parse bytes already read (a catch-all connection that turned out to be
 * HTTP hands its first bytes over this way). False: close. */
bool cap_http_consume(struct cap_worker *w, struct cap_conn *c, const uint8_t *data, size_t n);
/* Take a request buffer (evicting the oldest slow request if needed). */
uint8_t *cap_buffer_get(struct cap_worker *w, struct cap_conn *c);

/* The catch-all (raw_conn.c). */
void cap_raw_open(struct cap_worker *w, struct cap_conn *c);
void cap_raw_io(struct cap_worker *w, struct cap_conn *c, uint32_t events);
/* Record what a catch-all connection sent so far, give its buffer back. */
void cap_raw_finish(struct cap_worker *w, struct cap_conn *c, bool timeout);
void cap_raw_datagrams(struct cap_worker *w, struct cap_listener *l);

/* PROXY protocol (proxy_conn.c). Mark c after accept on l; then, while
 * c->proxy != PROXY_NONE, call cap_proxy_io first: true when the
 * connection goes on to its mode's I/O now, false when it waits or was
 * closed. */
void cap_proxy_accept(struct cap_worker *w, struct cap_conn *c, const struct cap_listener *l,
		      const struct sockaddr_storage *peer);
bool cap_proxy_io(struct cap_worker *w, struct cap_conn *c);
/* Edge-triggered input while waiting for more of a header or signature, so
 * a peer that sends part of one and stops cannot spin the worker on data
 * that stays readable (peeked); level-triggered again after. */
void cap_set_edge(struct cap_worker *w, struct cap_conn *c, bool edge);
/* True when addr is one of [proxy] trusted. */
bool cap_peer_trusted(const struct capture *cap, const struct event_addr *addr);

/* TLS (tls_conn.c). */
int cap_tls_worker_init(struct cap_worker *w);
void cap_tls_worker_free(struct cap_worker *w);
void cap_tls_open(struct cap_worker *w, struct cap_conn *c);
void cap_tls_io(struct cap_worker *w, struct cap_conn *c, uint32_t events);
/* Record the handshake as it stands (timeout or eviction), free its buffer. */
void cap_tls_finish(struct cap_worker *w, struct cap_conn *c, bool timeout);
/* Bytes a TLS connection needs in a request buffer. */
size_t cap_tls_buffer_size(void);
/* Abandon whatever a connection has in progress, whatever its mode. */
void cap_conn_abandon(struct cap_worker *w, struct cap_conn *c, bool timeout);

#endif
