/* The authoritative DNS sinkhole: answers for every name under a seized
 * zone, REFUSED for everything else, and one event per query.
 *
 * Three objects:
 *  - struct dns_data: immutable answer data built from a config snapshot and
 *    a domain registry (owned). Shared read-only by all workers; replaced
 *    whole on reload (RCU, see dns_server_set_data).
 *  - struct dns_rrl: the response-rate-limit table, shared by all workers
 *    through atomics only; survives reloads.
 *  - struct dns_server: the listener workers (one thread each, SO_REUSEPORT
 *    UDP and TCP sockets, epoll, recvmmsg/sendmmsg), each pushing events into
 *    its own pipeline ring.
 * dns_answer() is the allocation-free core used by the workers and by tests.
 */
#ifndef SINKD_DNS_DNS_H
#define SINKD_DNS_DNS_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "core/arena.h"
#include "core/config.h"
#include "core/event.h"

struct domain_registry;
struct pipeline;

/* Per-worker counters. Written by one worker, read by anyone (relaxed). */
struct dns_stats {
	atomic_uint_least64_t queries;		/* datagrams/messages received */
	atomic_uint_least64_t answered;		/* responses sent */
	atomic_uint_least64_t noerror, nxdomain, refused, formerr, notimp, badvers, servfail;
	atomic_uint_least64_t truncated;	/* TC=1 sent because of size */
	atomic_uint_least64_t drop_short;	/* < 12 bytes: no reply possible */
	atomic_uint_least64_t drop_response;	/* QR=1: responses are never answered */
	atomic_uint_least64_t rrl_slipped;	/* rate limited, TC=1 sent */
	atomic_uint_least64_t rrl_dropped;	/* rate limited, not answered */
	atomic_uint_least64_t events_dropped;	/* pipeline ring full */
	atomic_uint_least64_t send_errors;
	atomic_uint_least64_t tcp_accepted, tcp_closed, tcp_rejected_full;
	atomic_uint_least64_t tcp_idle_timeouts, tcp_bad_length;
	atomic_uint_least64_t proxy_accepted;	/* PROXY headers applied */
	atomic_uint_least64_t proxy_bad;	/* missing/malformed from a trusted peer */
	atomic_uint_least64_t proxy_untrusted;	/* PROXY header from an untrusted peer */
};

/* Sum of every worker's counters into out (plain integers). */
struct dns_totals {
	uint64_t queries, answered, noerror, nxdomain, refused, formerr, notimp, badvers,
		servfail, truncated, drop_short, drop_response, rrl_slipped, rrl_dropped,
		events_dropped, send_errors, tcp_accepted, tcp_closed, tcp_rejected_full,
		tcp_idle_timeouts, tcp_bad_length, proxy_accepted, proxy_bad, proxy_untrusted;
};

struct dns_data;

/* Build answer data from cfg (copied) and reg (ownership taken, also on
 * failure). 0, SINKD_EINVAL (bad names in cfg, message on log) or
 * SINKD_ENOMEM. */
int dns_data_new(struct dns_data **out, const struct sinkd_config *cfg,
		 struct domain_registry *reg);
void dns_data_free(struct dns_data *data);
const struct domain_registry *dns_data_registry(const struct dns_data *data);

/* Response rate limiting. rate == 0 or !enabled: never limits. */
struct dns_rrl;
int dns_rrl_new(struct dns_rrl **out, const struct sinkd_config *cfg);
void dns_rrl_free(struct dns_rrl *rrl);

/* Per-worker scratch state for dns_answer (arena for libknot). */
struct dns_ctx {
	struct arena arena;
	struct dns_rrl *rrl;		/* may be NULL */
	struct dns_stats *stats;	/* must be set */
	uint8_t cookie_secret[16];
};

int dns_ctx_init(struct dns_ctx *ctx, struct dns_rrl *rrl, struct dns_stats *stats,
		 const uint8_t cookie_secret[16]);
void dns_ctx_deinit(struct dns_ctx *ctx);

/* Where a query came from. */
struct dns_query_info {
	const struct sockaddr_storage *src;
	const struct sockaddr_storage *dst;	/* local address (may be NULL) */
	bool tcp;
	uint64_t now_ns;			/* wall clock for the event */
};

/* Answer one query in wire format. Writes the response into out (out_max
 * bytes, >= 512) and returns its length, or 0 when nothing must be sent
 * (short packet, a response, rate-limited drop). ev is always filled (the
 * caller decides whether to record it; ev->kind is 0 when the input was too
 * short to be a DNS message). Allocation-free after dns_ctx_init. */
size_t dns_answer(struct dns_ctx *ctx, const struct dns_data *data,
		  const struct dns_query_info *qi, const uint8_t *query, size_t qlen,
		  uint8_t *out, size_t out_max, struct sinkd_event *ev);

/* The listener workers. */
struct dns_server;

/* Bind every socket (cfg->dns_listen, UDP and TCP when cfg->dns_tcp) for
 * cfg->workers workers; events go to pipeline_ring(pipe, i). Binding happens
 * here so privileges can be dropped before dns_server_start. data and rrl
 * are borrowed until dns_server_free. Returns 0, SINKD_ENET (message on
 * log naming the address) or SINKD_ENOMEM. */
int dns_server_new(struct dns_server **out, const struct sinkd_config *cfg,
		   struct dns_data *data, struct dns_rrl *rrl, struct pipeline *pipe);
int dns_server_start(struct dns_server *srv);

/* Publish new answer data to every worker and wait until none uses the
 * old one (RCU grace period); returns the old data for the caller to free. */
struct dns_data *dns_server_set_data(struct dns_server *srv, struct dns_data *data);

/* Stop workers (they finish the batch in hand and push its events). */
void dns_server_stop(struct dns_server *srv);
void dns_server_free(struct dns_server *srv);

void dns_server_totals(const struct dns_server *srv, struct dns_totals *out);

/* The seized-domain registry currently published to the workers. Call only
 * from a thread registered with urcu-qsbr and online (the value may be
 * freed after the caller's next quiescent state). */
const struct domain_registry *dns_server_registry(struct dns_server *srv);

#endif
