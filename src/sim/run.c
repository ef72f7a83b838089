/* Driving a run: the population's check-ins day by day in time order,
 * into a sink and the ground truth; and the compressed sink, which writes
 * them as ingest lines with their simulated times. */
#include "sim/sim_internal.h"

#include "core/error.h"
#include "ingest/ingest.h"
#include "tls/tls.h"

#include <openssl/ssl.h>
#include <stdlib.h>
#include <string.h>

int sim_run(const struct sim_population *pop, const struct sim_keys *keys,
	    const char *const *domains, size_t n_domains, const char *sinkhole_ip,
	    struct sim_sink *sink, struct sim_truth *truth)
{
	struct sim_request *req = malloc(sizeof(*req));
	int ret = req == NULL ? SINKD_ENOMEM : 0;
	for (unsigned day = 0; ret == 0 && day < pop->p.days; day++) {
		struct sim_checkin *list = NULL;
		size_t n = 0;
		ret = sim_day_checkins(pop, day, &list, &n);
		for (size_t i = 0; ret == 0 && i < n; i++) {
			ret = sim_request_build(pop, keys, domains, n_domains, sinkhole_ip,
						&list[i], req);
			if (ret == 0)
				ret = sink->emit(sink->ctx, &list[i], req);
			if (ret == 0)
				sim_truth_add(truth, &list[i], req);
			else if (ret == 2) /* not delivered: not in the truth */
				ret = 0;
		}
		free(list);
	}
	free(req);
	return ret == 1 ? 0 : ret;
}

/* ---- the simulator's TLS client, fingerprinted as the listener would ---- */

/* What the listener would record of a ClientHello. */
struct hello_print {
	char sni[256];
	char ja3[TLS_JA3_MAX];
	char ja3_md5[33];
	char ja4[40];
	char json[TLS_CH_JSON_MAX];
};

#define HELLO_CACHE_SLOTS 1024 /* direct mapped by SNI */

struct sim_tls_hello {
	SSL_CTX *ctx;
	struct tls_clienthello ch;
	struct tls_ja3 ja3;
	struct tls_ja4 ja4;
	uint8_t record[16384];
	/* A handshake costs a key pair: the print depends only on the SNI. */
	struct hello_print cache[HELLO_CACHE_SLOTS];
};

static size_t sni_slot(const char *sni)
{
	uint64_t h = 1469598103934665603ull;
	for (; *sni != '\0'; sni++)
		h = (h ^ (uint8_t)*sni) * 1099511628211ull;
	return (size_t)(h % HELLO_CACHE_SLOTS);
}

/* The ClientHello our OpenSSL client sends for sni, parsed by the same
 * code the TLS listener runs (src/tls). 0 or SINKD_EINVAL. */
static int hello_for(struct sim_tls_hello *h, const char *sni, const struct hello_print **out)
{
	struct hello_print *p = &h->cache[sni_slot(sni)];
	if (strcmp(p->sni, sni) == 0 && p->sni[0] != '\0') {
		*out = p;
		return 0;
	}
	SSL *ssl = SSL_new(h->ctx);
	BIO *rb = BIO_new(BIO_s_mem()), *wb = BIO_new(BIO_s_mem());
	int ret = SINKD_EINVAL;
	if (ssl == NULL || rb == NULL || wb == NULL) {
		BIO_free(rb);
		BIO_free(wb);
		SSL_free(ssl);
		return SINKD_ENOMEM;
	}
	SSL_set_bio(ssl, rb, wb);
	SSL_set_tlsext_host_name(ssl, sni);
	SSL_connect(ssl); /* wants the server's answer: the hello is in wb */
	int n = BIO_read(wb, h->record, sizeof(h->record));
	if (n > 0 && tls_clienthello_parse(h->record, (size_t)n, &h->ch) == 0 &&
	    tls_ja3(&h->ch, &h->ja3) == 0 && tls_ja4(&h->ch, &h->ja4) == 0 &&
	    tls_clienthello_json(&h->ch, p->json, sizeof(p->json)) == 0) {
		snprintf(p->sni, sizeof(p->sni), "%s", sni);
		memcpy(p->ja3, h->ja3.str, sizeof(p->ja3));
		memcpy(p->ja3_md5, h->ja3.md5, sizeof(p->ja3_md5));
		memcpy(p->ja4, h->ja4.ja4, sizeof(p->ja4));
		*out = p;
		ret = 0;
	} else {
		p->sni[0] = '\0';
	}
	SSL_free(ssl);
	return ret;
}

int sim_compressed_init(struct sim_compressed *c, FILE *out, const char *sinkhole_ip)
{
	memset(c, 0, sizeof(*c));
	c->out = out;
	if (event_addr_parse(&c->dst_dns, sinkhole_ip) != 0)
		return SINKD_EINVAL;
	c->dst_http = c->dst_tls = c->dst_dns;
	c->dst_dns.port = 53;
	c->dst_http.port = 80;
	c->dst_tls.port = 443;
	c->payload = malloc(EVENT_PAYLOAD_MAX);
	c->hello = calloc(1, sizeof(*c->hello));
	if (c->payload == NULL || c->hello == NULL)
		return SINKD_ENOMEM;
	c->hello->ctx = SSL_CTX_new(TLS_client_method());
	return c->hello->ctx != NULL ? 0 : SINKD_ENOMEM;
}

void sim_compressed_free(struct sim_compressed *c)
{
	if (c->hello != NULL)
		SSL_CTX_free(c->hello->ctx);
	free(c->hello);
	free(c->payload);
}

static int write_dns(struct sim_compressed *s, const struct sim_checkin *c,
		     const struct sim_request *r, const struct event_addr *src)
{
	struct sinkd_event ev = {.ts_ns = c->ts_ns - 30000000ull, /* 30 ms before */
				 .kind = EVENT_DNS,
				 .transport = TRANSPORT_UDP,
				 .src = *src,
				 .dst = s->dst_dns,
				 .qtype = 1,
				 .qclass = 1};
	ev.src.port = (uint16_t)(r->src.port ^ 0x2000);
	snprintf(ev.qname, sizeof(ev.qname), "%s", r->qname);
	ev.msg_size = (uint16_t)(12 + strlen(r->qname) + 2 + 4);
	return ingest_write(s->out, &ev, 0);
}

static int write_tls(struct sim_compressed *s, const struct sim_checkin *c,
		     const struct sim_request *r, const struct event_addr *src)
{
	struct sim_tls_hello *h = s->hello;
	struct sinkd_event ev = {.ts_ns = c->ts_ns - 10000000ull, /* 10 ms before */
				 .kind = EVENT_TLS,
				 .transport = TRANSPORT_TCP,
				 .src = *src,
				 .dst = s->dst_tls,
				 .conn_id = s->conn_id,
				 .payload = s->payload};
	const struct hello_print *hp;
	int ret = hello_for(h, r->qname, &hp);
	if (ret != 0)
		return ret;
	snprintf(ev.qname, sizeof(ev.qname), "%s", r->qname);
	snprintf(ev.proto, sizeof(ev.proto), "tls");
	uint8_t *p = s->payload;
	event_payload_add(p, EVENT_PAYLOAD_MAX, &ev.payload_len, EVP_TLS_JA3, hp->ja3,
			  strlen(hp->ja3));
	event_payload_add(p, EVENT_PAYLOAD_MAX, &ev.payload_len, EVP_TLS_JA3_MD5, hp->ja3_md5,
			  strlen(hp->ja3_md5));
	event_payload_add(p, EVENT_PAYLOAD_MAX, &ev.payload_len, EVP_TLS_JA4, hp->ja4,
			  strlen(hp->ja4));
	/* Not the record itself: its random, session id and key share differ
	 * every time, and a run must be the same for a seed. */
	event_payload_add(p, EVENT_PAYLOAD_MAX, &ev.payload_len, EVP_TLS_HELLO, hp->json,
			  strlen(hp->json));
	return ingest_write(s->out, &ev, 0);
}

static int write_http(struct sim_compressed *s, const struct sim_checkin *c,
		      const struct sim_request *r, const struct event_addr *src, const char *host)
{
	struct sinkd_event ev = {.ts_ns = c->ts_ns,
				 .kind = EVENT_HTTP,
				 .transport = TRANSPORT_TCP,
				 .flags = r->tls ? EVF_TLS : 0,
				 .src = *src,
				 .dst = r->tls ? s->dst_tls : s->dst_http,
				 .conn_id = s->conn_id,
				 .http_version = 11,
				 .http_status = 200,
				 .body_len = (uint32_t)r->body_len,
				 .payload = s->payload};
	char headers[SIM_HEADERS_MAX * 340];
	size_t used = 0;
	for (unsigned i = 0; i < r->n_hdr; i++)
		used += (size_t)snprintf(headers + used, sizeof(headers) - used, "%s: %s\r\n",
					 r->hdr[i].name, r->hdr[i].value);
	snprintf(ev.qname, sizeof(ev.qname), "%s", host);
	snprintf(ev.http_method, sizeof(ev.http_method), "%s", r->method);
	uint8_t *p = s->payload;
	event_payload_add(p, EVENT_PAYLOAD_MAX, &ev.payload_len, EVP_TARGET, r->target,
			  strlen(r->target));
	event_payload_add(p, EVENT_PAYLOAD_MAX, &ev.payload_len, EVP_HEADERS, headers, used);
	if (r->body_len > 0)
		event_payload_add(p, EVENT_PAYLOAD_MAX, &ev.payload_len, EVP_BODY, r->body,
				  r->body_len);
	return ingest_write(s->out, &ev, 0);
}

int sim_compressed_emit(void *ctx, const struct sim_checkin *c, const struct sim_request *r)
{
	struct sim_compressed *s = ctx;
	struct event_addr src = r->src;
	int ret = 0;
	s->conn_id++;
	if (r->resolve)
		ret = write_dns(s, c, r, &src);
	if (ret == 0 && r->tls)
		ret = write_tls(s, c, r, &src);
	const char *host = r->hdr[0].value;
	for (unsigned i = 0; i < r->n_hdr; i++) {
		if (strcmp(r->hdr[i].name, "Host") == 0)
			host = r->hdr[i].value;
	}
	if (ret == 0)
		ret = write_http(s, c, r, &src, host);
	return ret;
}
