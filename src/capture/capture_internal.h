/* Private to src/capture/. */
#ifndef SINKD_CAPTURE_INTERNAL_H
#define SINKD_CAPTURE_INTERNAL_H

#include <pthread.h>
#include <sys/socket.h>

#include "capture/capture.h"
#include "core/event.h"
#include "http/http.h"

#define PEND_MAX 256		/* replies queued on one connection */
#define READ_CHUNK 4096		/* bytes parsed per read: <= PEND_MAX requests */

enum cap_ep { CAP_LISTEN_HTTP = 1, CAP_CONN = 2 };

enum conn_list { LIST_NONE, LIST_IDLE, LIST_BUSY };

struct cap_conn {
	enum cap_ep type;		/* first: epoll data points here */
	int fd;
	struct cap_worker *w;
	struct cap_conn *prev, *next;	/* idle LRU / busy FIFO / free list */
	uint8_t list;			/* enum conn_list */
	bool in_use, want_out, closing;
	uint64_t last_ms;		/* last activity */
	uint64_t req_ms;		/* request in progress since */
	struct http_conn_info info;
	struct http_stream http;
	uint16_t pend_head, pend_count;	/* queued reply kinds */
	uint16_t pend_off;		/* bytes of the first already sent */
	uint8_t pend[PEND_MAX];
};

struct cap_listener {
	enum cap_ep type;
	int fd;
	struct sockaddr_storage local;
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
	struct cap_listener listeners[CONFIG_MAX_LISTEN];
	unsigned n_listeners;
	struct cap_conn *conns;
	struct cap_conn *free_conns;
	struct cap_conn *idle_head, *idle_tail;	/* least recently active first */
	struct cap_conn *busy_head, *busy_tail;	/* oldest request first */
	uint8_t *bufs;				/* request buffer pool */
	uint8_t **free_bufs;
	unsigned n_free_bufs;
	struct src_count *sources;
	size_t sources_mask;
	struct capture_stats stats;
	uint8_t rx[READ_CHUNK];
	uint8_t tx[16384];
};

struct capture {
	struct sinkd_config cfg;
	struct http_limits limits;
	size_t buf_size;
	struct pipeline *pipe;
	struct dns_server *dns;
	struct cap_worker **workers;
	unsigned n_workers;
	atomic_bool stop;
	bool started;
	atomic_uint_least64_t next_conn_id;
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

#endif
