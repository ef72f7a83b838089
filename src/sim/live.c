/* Live runs: each check-in through the sinkhole's real listeners from a
 * synthetic source address, announced in a PROXY protocol v2 header over
 * loopback: a DNS query for the seized name (libknot), then the HTTP
 * request, in the clear or inside TLS (OpenSSL client with SNI). */
#include "sim/sim_internal.h"

#include "core/error.h"

#include <arpa/inet.h>
#include <errno.h>
#include <libknot/libknot.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/ssl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define IO_TIMEOUT_MS 3000

struct sim_live {
	struct sim_live_opts o;
	struct sockaddr_storage dns, http, tls;
	socklen_t salen;
	struct event_addr sinkhole;
	SSL_CTX *ssl_ctx;
	uint8_t *buf;
	size_t cap;
	uint64_t sent, dns_ok, failed;
	uint64_t first_ts_ns, wall_start_ns;
	bool started;
	uint16_t dns_id;
};

static uint64_t mono_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static int set_addr(struct sim_live *l, struct sockaddr_storage *ss, uint16_t port)
{
	struct sockaddr_in *sin = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;
	memset(ss, 0, sizeof(*ss));
	if (inet_pton(AF_INET, l->o.host, &sin->sin_addr) == 1) {
		sin->sin_family = AF_INET;
		sin->sin_port = htons(port);
		l->salen = sizeof(*sin);
		return 0;
	}
	if (inet_pton(AF_INET6, l->o.host, &sin6->sin6_addr) == 1) {
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons(port);
		l->salen = sizeof(*sin6);
		return 0;
	}
	return SINKD_EINVAL;
}

int sim_live_new(struct sim_live **out, const struct sim_live_opts *o)
{
	struct sim_live *l = calloc(1, sizeof(*l));
	if (l == NULL)
		return SINKD_ENOMEM;
	/* A sinkhole that closes mid-request is a failed check-in, not a
	 * reason to die: OpenSSL writes without MSG_NOSIGNAL. */
	signal(SIGPIPE, SIG_IGN);
	l->o = *o;
	l->cap = 2 * SIM_BODY_MAX + 8192;
	l->buf = malloc(l->cap);
	l->ssl_ctx = SSL_CTX_new(TLS_client_method());
	if (l->buf == NULL || l->ssl_ctx == NULL) {
		sim_live_free(l);
		return SINKD_ENOMEM;
	}
	/* The sinkhole's certificate is self-signed for whatever name is
	 * asked: a bot does not verify it either. */
	SSL_CTX_set_verify(l->ssl_ctx, SSL_VERIFY_NONE, NULL);
	if (set_addr(l, &l->dns, o->dns_port) != 0 || set_addr(l, &l->http, o->http_port) != 0 ||
	    set_addr(l, &l->tls, o->tls_port) != 0 ||
	    event_addr_parse(&l->sinkhole, o->host) != 0) {
		sim_live_free(l);
		return SINKD_EINVAL;
	}
	*out = l;
	return 0;
}

void sim_live_free(struct sim_live *l)
{
	if (l == NULL)
		return;
	SSL_CTX_free(l->ssl_ctx);
	free(l->buf);
	free(l);
}

void sim_live_counts(const struct sim_live *l, uint64_t *sent, uint64_t *dns_ok, uint64_t *failed)
{
	*sent = l->sent;
	*dns_ok = l->dns_ok;
	*failed = l->failed;
}

/* PROXY v2 header for src -> dst (the sinkhole's address and port), TCP
 * or UDP; an IPv6 source gets an IPv6 header (the sinkhole IPv4-mapped). */
static size_t proxy_v2(uint8_t *out, const struct event_addr *src, const struct event_addr *dst,
		       uint16_t dst_port, bool udp)
{
	static const uint8_t sig[12] = {0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d,
					0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a};
	bool v4 = event_addr_is_v4(src);
	size_t n = 16;
	memcpy(out, sig, 12);
	out[12] = 0x21; /* version 2, PROXY */
	out[13] = (uint8_t)((v4 ? 0x10 : 0x20) | (udp ? 0x02 : 0x01));
	if (v4) {
		memcpy(out + n, src->ip + 12, 4);
		memcpy(out + n + 4, dst->ip + 12, 4);
		n += 8;
	} else {
		memcpy(out + n, src->ip, 16);
		memcpy(out + n + 16, dst->ip, 16); /* an IPv4 sinkhole IPv4-mapped */
		n += 32;
	}
	out[n++] = (uint8_t)(src->port >> 8);
	out[n++] = (uint8_t)src->port;
	out[n++] = (uint8_t)(dst_port >> 8);
	out[n++] = (uint8_t)dst_port;
	out[14] = (uint8_t)((n - 16) >> 8);
	out[15] = (uint8_t)(n - 16);
	return n;
}

static bool wait_fd(int fd, short events)
{
	struct pollfd p = {.fd = fd, .events = events};
	return poll(&p, 1, IO_TIMEOUT_MS) == 1;
}

/* One A query for qname, answered or not within the timeout. */
static int resolve(struct sim_live *l, const struct sim_request *r)
{
	knot_dname_t *name = knot_dname_from_str_alloc(r->qname);
	knot_pkt_t *pkt = knot_pkt_new(NULL, KNOT_WIRE_MAX_PKTSIZE, NULL);
	int fd = -1, ret = SINKD_ENET;
	if (name == NULL || pkt == NULL)
		goto fail;
	knot_wire_set_id(pkt->wire, ++l->dns_id);
	if (knot_pkt_put_question(pkt, name, KNOT_CLASS_IN, KNOT_RRTYPE_A) != KNOT_EOK)
		goto fail;
	struct event_addr src = r->src;
	src.port = (uint16_t)(r->src.port ^ 0x2000);
	size_t n = proxy_v2(l->buf, &src, &l->sinkhole, l->o.dns_port, true);
	memcpy(l->buf + n, pkt->wire, pkt->size);
	fd = socket(l->dns.ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0 ||
	    sendto(fd, l->buf, n + pkt->size, 0, (struct sockaddr *)&l->dns, l->salen) < 0)
		goto fail;
	ret = 0;
	if (wait_fd(fd, POLLIN)) {
		uint8_t answer[4096];
		ssize_t got = recv(fd, answer, sizeof(answer), 0);
		if (got >= 12 && knot_wire_get_id(answer) == l->dns_id && knot_wire_get_qr(answer))
			l->dns_ok++;
	}
fail:
	if (fd >= 0)
		close(fd);
	knot_pkt_free(pkt);
	knot_dname_free(name, NULL);
	return ret;
}

static int connect_to(const struct sim_live *l, const struct sockaddr_storage *ss)
{
	int fd = socket(ss->ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	if (connect(fd, (const struct sockaddr *)ss, l->salen) != 0) {
		close(fd);
		return -1;
	}
	/* The PROXY header, the ClientHello and the request are separate
	 * small writes: without this, Nagle holds each one for the last ACK. */
	int one = 1;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	struct timeval tv = {IO_TIMEOUT_MS / 1000, 0};
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	return fd;
}

static bool send_all(int fd, SSL *ssl, const uint8_t *p, size_t n)
{
	while (n > 0) {
		ssize_t w = ssl != NULL ? SSL_write(ssl, p, (int)n) : send(fd, p, n, MSG_NOSIGNAL);
		if (w <= 0)
			return false;
		p += w;
		n -= (size_t)w;
	}
	return true;
}

/* Read the reply: the header block, then Content-Length bytes. */
static bool read_reply(int fd, SSL *ssl)
{
	char buf[4096];
	size_t used = 0;
	for (;;) {
		ssize_t n = ssl != NULL ? SSL_read(ssl, buf + used, (int)(sizeof(buf) - 1 - used))
					: recv(fd, buf + used, sizeof(buf) - 1 - used, 0);
		if (n <= 0)
			return false;
		used += (size_t)n;
		buf[used] = '\0';
		char *end = strstr(buf, "\r\n\r\n");
		if (end == NULL) {
			if (used == sizeof(buf) - 1)
				return false;
			continue;
		}
		const char *cl = strcasestr(buf, "\r\nContent-Length:");
		size_t want = cl != NULL && cl < end ? strtoul(cl + 17, NULL, 10) : 0;
		size_t have = used - (size_t)(end + 4 - buf);
		return have >= want ||
		       want > sizeof(buf); /* the reply is inert: its end suffices */
	}
}

static int check_in(struct sim_live *l, const struct sim_request *r)
{
	const struct sockaddr_storage *ss = r->tls ? &l->tls : &l->http;
	uint16_t port = r->tls ? l->o.tls_port : l->o.http_port;
	SSL *ssl = NULL;
	bool ok = false;
	int fd = connect_to(l, ss);
	if (fd < 0)
		return SINKD_ENET;
	size_t n = proxy_v2(l->buf, &r->src, &l->sinkhole, port, false);
	if (!send_all(fd, NULL, l->buf, n))
		goto done;
	if (r->tls) {
		ssl = SSL_new(l->ssl_ctx);
		if (ssl == NULL || SSL_set_fd(ssl, fd) != 1 ||
		    SSL_set_tlsext_host_name(ssl, r->qname) != 1 || SSL_connect(ssl) != 1)
			goto done;
	}
	n = sim_request_wire(r, l->buf, l->cap);
	ok = n > 0 && send_all(fd, ssl, l->buf, n) && read_reply(fd, ssl);
done:
	if (ssl != NULL) {
		SSL_shutdown(ssl);
		SSL_free(ssl);
	}
	close(fd);
	return ok ? 0 : SINKD_EIO;
}

/* Hold the simulated clock to speed x real time from the first check-in. */
static int pace(struct sim_live *l, const struct sim_checkin *c)
{
	uint64_t now = mono_ns();
	if (!l->started) {
		l->started = true;
		l->first_ts_ns = c->ts_ns;
		l->wall_start_ns = now;
	}
	if (l->o.duration_s > 0 && (double)(now - l->wall_start_ns) / 1e9 >= l->o.duration_s)
		return 1;
	if (l->o.speed <= 0)
		return 0;
	uint64_t due =
	    l->wall_start_ns + (uint64_t)((double)(c->ts_ns - l->first_ts_ns) / l->o.speed);
	if (l->o.duration_s > 0 && (double)(due - l->wall_start_ns) / 1e9 >= l->o.duration_s)
		return 1;
	if (due > now) {
		struct timespec ts = {(time_t)((due - now) / 1000000000ull),
				      (long)((due - now) % 1000000000ull)};
		nanosleep(&ts, NULL);
	}
	return 0;
}

int sim_live_emit(void *ctx, const struct sim_checkin *c, const struct sim_request *r)
{
	struct sim_live *l = ctx;
	if (l->o.max_checkins > 0 && l->sent >= l->o.max_checkins)
		return 1;
	int ret = pace(l, c);
	if (ret != 0)
		return ret;
	if (r->resolve && resolve(l, r) != 0) {
		l->failed++;
		return SINKD_ENET;
	}
	ret = check_in(l, r);
	if (ret == SINKD_ENET) {
		l->failed++;
		return ret;
	}
	if (ret != 0) {
		/* No complete reply (refused, reset, timed out): whether the
		 * sinkhole recorded it is unknown, so the truth leaves it out
		 * and the summary counts it. */
		l->failed++;
		return 2;
	}
	l->sent++;
	return 0;
}
