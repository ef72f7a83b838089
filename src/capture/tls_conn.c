/* TLS on a capture connection. The ClientHello is captured before any
 * verdict: OpenSSL's message callback hands over the raw handshake message,
 * src/tls parses and fingerprints it (JA3, JA4), and one EVENT_TLS is
 * recorded when the handshake ends either way (or times out). A certificate
 * for the SNI name is installed from the client-hello callback. After a
 * successful handshake the connection carries HTTP like any other, with
 * EVF_TLS on its events and the same conn_id. Plain HTTP sent to a TLS port
 * is recognised from its first bytes and captured as HTTP. */
#define _LGPL_SOURCE
#include "capture/capture_internal.h"

#include "core/error.h"
#include "core/log.h"
#include "dns/dns.h"
#include "domains/domains.h"
#include "net/net.h"
#include "pipeline/pipeline.h"

#include <errno.h>
#include <openssl/err.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>

#define INC(c) atomic_fetch_add_explicit(&(c), 1, memory_order_relaxed)
#define RAW_PEEK 4096
#define SECTION_HDR 5

size_t cap_tls_buffer_size(void)
{
	return sizeof(struct sinkd_event) + RAW_PEEK + TLS_JA3_MAX + 33 + 40 + TLS_CH_JSON_MAX +
	       6 * SECTION_HDR;
}

static struct sinkd_event *tls_ev(struct cap_conn *c)
{
	return (struct sinkd_event *)c->raw_buf;
}

static uint8_t *tls_payload(struct cap_conn *c)
{
	return c->raw_buf + sizeof(struct sinkd_event);
}

static void add_section(struct cap_worker *w, struct cap_conn *c, uint8_t type, const void *data,
			size_t len)
{
	uint32_t used = c->raw_len;
	size_t cap = cap_tls_buffer_size() - sizeof(struct sinkd_event);
	if (event_payload_add(tls_payload(c), cap, &used, type, data, len) == 0)
		c->raw_len = used;
}

/* OpenSSL message callback: the ClientHello as received. */
static void on_message(int write_p, int version, int content_type, const void *buf, size_t len,
		       SSL *ssl, void *arg)
{
	struct cap_conn *c = SSL_get_app_data(ssl);
	if (write_p || content_type != SSL3_RT_HANDSHAKE || len < 4 || c == NULL ||
	    c->raw_buf == NULL || ((const uint8_t *)buf)[0] != SSL3_MT_CLIENT_HELLO)
		return;
	struct cap_worker *w = c->w;
	struct sinkd_event *ev = tls_ev(c);
	if (ev->qname[0] != '\0' || ev->proto[0] != '\0')
		return; /* a second ClientHello (after HelloRetryRequest) */
	if (tls_clienthello_parse_handshake(buf, len, w->hello) != 0) {
		snprintf(ev->proto, sizeof(ev->proto), "tls-malformed");
		const char *why = w->hello->reason != NULL ? w->hello->reason : "malformed";
		add_section(w, c, EVP_TLS_HELLO, why, strlen(why));
		return;
	}
	snprintf(ev->proto, sizeof(ev->proto), "tls");
	/* SNI is raw client bytes: lowercase, and anything that cannot be in a
	 * host name becomes '?' (the escaped original is in the summary). */
	size_t n = 0;
	for (size_t i = 0; i < w->hello->sni_len && n + 1 < sizeof(ev->qname); i++) {
		unsigned char ch = (unsigned char)w->hello->sni[i];
		if (ch >= 'A' && ch <= 'Z')
			ch = (unsigned char)(ch - 'A' + 'a');
		bool ok = (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '-' ||
			  ch == '.' || ch == '_';
		ev->qname[n++] = ok ? (char)ch : '?';
	}
	ev->qname[n] = '\0';
	if (ev->qname[0] != '\0') {
		const struct domain_registry *reg = dns_server_registry(w->cap->dns);
		long z = reg != NULL ? domains_match_name(reg, ev->qname) : -1;
		if (z >= 0)
			snprintf(ev->zone, sizeof(ev->zone), "%s", domains_name(reg, (size_t)z));
	}
	if (tls_ja3(w->hello, w->ja3) == 0) {
		add_section(w, c, EVP_TLS_JA3, w->ja3->str, strlen(w->ja3->str));
		add_section(w, c, EVP_TLS_JA3_MD5, w->ja3->md5, strlen(w->ja3->md5));
	}
	if (tls_ja4(w->hello, w->ja4) == 0)
		add_section(w, c, EVP_TLS_JA4, w->ja4->ja4, strlen(w->ja4->ja4));
	if (tls_clienthello_json(w->hello, w->hello_json, TLS_CH_JSON_MAX) == 0)
		add_section(w, c, EVP_TLS_HELLO, w->hello_json, strlen(w->hello_json));
}

/* Client-hello callback: a certificate for the name asked for. */
static int on_client_hello(SSL *ssl, int *alert, void *arg)
{
	struct cap_conn *c = SSL_get_app_data(ssl);
	if (c == NULL || c->raw_buf == NULL)
		return SSL_CLIENT_HELLO_SUCCESS;
	if (tls_certs_use(c->w->certs, ssl, tls_ev(c)->qname) != 0) {
		*alert = SSL_AD_INTERNAL_ERROR;
		return SSL_CLIENT_HELLO_ERROR;
	}
	return SSL_CLIENT_HELLO_SUCCESS;
}

int cap_tls_worker_init(struct cap_worker *w)
{
	const struct sinkd_config *cfg = &w->cap->cfg;
	if (!cfg->tls_enabled || cfg->n_tls_listen == 0)
		return 0;
	int ret = tls_certs_new(&w->certs, cfg->tls_cert_file, cfg->tls_key_file,
				cfg->tls_cert_cache);
	if (ret != 0)
		return ret;
	w->ssl_ctx = tls_certs_server_ctx(w->certs);
	w->hello = malloc(sizeof(*w->hello));
	w->ja3 = malloc(sizeof(*w->ja3));
	w->ja4 = malloc(sizeof(*w->ja4));
	w->hello_json = malloc(TLS_CH_JSON_MAX);
	if (w->ssl_ctx == NULL || w->hello == NULL || w->ja3 == NULL || w->ja4 == NULL ||
	    w->hello_json == NULL)
		return SINKD_ENOMEM;
	SSL_CTX_set_msg_callback(w->ssl_ctx, on_message);
	SSL_CTX_set_client_hello_cb(w->ssl_ctx, on_client_hello, NULL);
	return 0;
}

void cap_tls_worker_free(struct cap_worker *w)
{
	SSL_CTX_free(w->ssl_ctx);
	tls_certs_free(w->certs);
	free(w->hello);
	free(w->ja3);
	free(w->ja4);
	free(w->hello_json);
}

void cap_tls_open(struct cap_worker *w, struct cap_conn *c)
{
	c->mode = MODE_TLS;
	c->req_ms = cap_mono_ms();
	cap_list_move(w, c, LIST_RAW);
}

static void record(struct cap_worker *w, struct cap_conn *c, uint32_t flags)
{
	struct sinkd_event *ev = tls_ev(c);
	ev->flags |= flags;
	ev->payload = tls_payload(c);
	ev->payload_len = c->raw_len;
	INC(w->stats.requests);
	if (pipeline_push(w->ring, ev, ev->payload) != 0)
		INC(w->stats.events_dropped);
}

static void release(struct cap_worker *w, struct cap_conn *c)
{
	if (c->raw_buf != NULL) {
		w->free_bufs[w->n_free_bufs++] = c->raw_buf;
		c->raw_buf = NULL;
	}
}

void cap_tls_finish(struct cap_worker *w, struct cap_conn *c, bool timeout)
{
	if (c->raw_buf != NULL) {
		atomic_fetch_add_explicit(&w->stats.tls_handshake_failures, 1,
					  memory_order_relaxed);
		record(w, c, EVF_HANDSHAKE_FAILED | (timeout ? EVF_TIMEOUT : 0));
	}
	release(w, c);
}

/* First bytes: peek them (they stay for OpenSSL), keep them as RAW, and
 * divert plain HTTP. Returns false when the connection went elsewhere. */
static bool first_bytes(struct cap_worker *w, struct cap_conn *c)
{
	c->raw_buf = cap_buffer_get(w, c);
	if (c->raw_buf == NULL)
		return false;
	struct sinkd_event *ev = tls_ev(c);
	memset(ev, 0, sizeof(*ev));
	ev->ts_ns = cap_wall_ns();
	ev->kind = EVENT_TLS;
	ev->transport = TRANSPORT_TCP;
	ev->src = c->info.src;
	ev->dst = c->info.dst;
	ev->proxy = c->info.proxy;
	ev->conn_id = c->info.conn_id;
	ev->flags = c->info.flags;
	ev->worker = c->info.worker;
	c->raw_len = 0;
	ssize_t n = recv(c->fd, w->rx, RAW_PEEK, MSG_PEEK);
	if (n > 0) {
		add_section(w, c, EVP_RAW, w->rx, (size_t)n);
		if (net_sniff(w->rx, (size_t)n, NULL) == NET_SNIFF_HTTP) {
			/* Plain HTTP on a TLS port: it is still a check-in. */
			release(w, c);
			c->mode = MODE_HTTP;
			cap_http_open(w, c);
			cap_list_move(w, c, LIST_IDLE);
			cap_http_io(w, c, EPOLLIN);
			return false;
		}
	}
	c->ssl = SSL_new(w->ssl_ctx);
	if (c->ssl == NULL || SSL_set_fd(c->ssl, c->fd) != 1)
		return true; /* handshake step fails and records */
	SSL_set_app_data(c->ssl, c);
	SSL_set_accept_state(c->ssl);
	return true;
}

static void want(struct cap_worker *w, struct cap_conn *c, bool out)
{
	struct epoll_event ev = {.events = out ? EPOLLOUT : EPOLLIN | EPOLLRDHUP, .data.ptr = c};
	epoll_ctl(w->epfd, EPOLL_CTL_MOD, c->fd, &ev);
	c->want_out = out;
}

void cap_tls_io(struct cap_worker *w, struct cap_conn *c, uint32_t events)
{
	if (c->raw_buf == NULL && c->ssl == NULL && !first_bytes(w, c))
		return;
	int ret = c->ssl != NULL ? SSL_do_handshake(c->ssl) : -1;
	if (ret == 1) {
		/* Done: record the TLS fields, carry on as HTTP inside TLS. */
		atomic_fetch_add_explicit(&w->stats.tls_handshakes, 1, memory_order_relaxed);
		record(w, c, 0);
		release(w, c);
		c->mode = MODE_HTTP;
		c->info.flags |= EVF_TLS;
		cap_http_open(w, c);
		c->last_ms = cap_mono_ms();
		cap_list_move(w, c, LIST_IDLE);
		want(w, c, false);
		if (SSL_pending(c->ssl) > 0)
			cap_http_io(w, c, EPOLLIN);
		return;
	}
	int err = c->ssl != NULL ? SSL_get_error(c->ssl, ret) : SSL_ERROR_SSL;
	if (err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE) {
		want(w, c, err == SSL_ERROR_WANT_WRITE);
		return;
	}
	ERR_clear_error();
	cap_tls_finish(w, c, false);
	cap_conn_close(w, c);
}
