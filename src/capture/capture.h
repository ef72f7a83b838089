/* The capture listeners: every TCP connection a bot opens to the sinkhole
 * (HTTP now; TLS and the catch-all ports use the same workers) is accepted,
 * recorded in full and answered inertly.
 *
 * Threads by role: [capture] workers threads, each with its own
 * SO_REUSEPORT sockets, epoll loop, fixed connection pool and request
 * buffer pool; events go to the worker's own pipeline ring. Idle
 * connections hold no request buffer; when the pool is full the connection
 * idle longest is closed, and when request buffers run out the oldest
 * unfinished request (a slow client) is abandoned, so idle and slow
 * connections cannot lock out new check-ins. Everything refused or cut is
 * counted.
 */
#ifndef SINKD_CAPTURE_CAPTURE_H
#define SINKD_CAPTURE_CAPTURE_H

#include <stdatomic.h>
#include <stdint.h>

#include "core/config.h"

struct pipeline;
struct dns_server;

/* Counters per worker, relaxed atomics. */
struct capture_stats {
	atomic_uint_least64_t accepted, closed, requests, replies;
	atomic_uint_least64_t not_http, bad_request, header_too_large, body_truncated;
	atomic_uint_least64_t evicted_idle;	/* pool full: longest-idle closed */
	atomic_uint_least64_t evicted_slow;	/* no request buffer: oldest request cut */
	atomic_uint_least64_t per_source_refused;
	atomic_uint_least64_t request_timeouts, idle_timeouts;
	atomic_uint_least64_t events_dropped;	/* pipeline ring full */
	atomic_uint_least64_t send_errors;
	atomic_uint_least64_t proxy_accepted;	/* PROXY headers applied */
	atomic_uint_least64_t proxy_bad;	/* missing or malformed where required */
	atomic_uint_least64_t proxy_untrusted;	/* header from an untrusted peer */
	atomic_uint_least64_t tls_handshakes;	/* TLS handshakes completed */
	atomic_uint_least64_t tls_handshake_failures;	/* ClientHello seen, no handshake */
};

struct capture_totals {
	uint64_t accepted, closed, requests, replies, not_http, bad_request, header_too_large,
		body_truncated, evicted_idle, evicted_slow, per_source_refused, request_timeouts,
		idle_timeouts, events_dropped, send_errors, proxy_accepted, proxy_bad,
		proxy_untrusted, tls_handshakes, tls_handshake_failures;
};

struct capture;

/* Bind every capture socket for cfg (workers x listen addresses); events go
 * to pipeline rings ring_base .. ring_base + workers - 1; seized zones are
 * looked up in dns's published registry. 0, SINKD_ENET (logged, naming
 * the address) or SINKD_ENOMEM. Nothing to bind (HTTP disabled) is not an
 * error: *out is then NULL. */
int capture_new(struct capture **out, const struct sinkd_config *cfg, struct pipeline *pipe,
		unsigned ring_base, struct dns_server *dns);
int capture_start(struct capture *c);
/* Stop the workers; requests in progress are recorded as abandoned. */
void capture_stop(struct capture *c);
void capture_free(struct capture *c);

void capture_totals(const struct capture *c, struct capture_totals *out);

#endif
