/* Synthetic HTTP, TLS and raw events for bench_store: what the capture
 * listeners hand the store writer under a botnet's check-ins. Included by
 * bench_store.c only (static functions; uses its struct gen and xorshift).
 *
 * - HTTP: Waledac-style POSTs, a random target, ~230 bytes of headers, a
 *   ~190-byte body: 80 % from a pool of 64 bodies (bots repeating a
 *   check-in), 20 % unique (bodies with a nonce; --unique-bodies PCT).
 * - TLS: one of 16 client fingerprints (JA3 ~180 bytes, JA3 MD5, JA4, a
 *   ~560-byte JSON summary) and a 517-byte ClientHello whose 64 random
 *   bytes (random, session id) differ per connection.
 * - raw: a sniffed label and 16-200 first bytes.
 */
#ifndef SINKD_BENCH_GEN_CAPTURE_H
#define SINKD_BENCH_GEN_CAPTURE_H

#define CAPTURE_PAYLOAD_MAX 2048 /* payload bytes per generated event */
#define BODY_POOL 64
#define TLS_CLIENTS 16
#define HELLO_BYTES 517

static unsigned unique_body_pct = 20; /* --unique-bodies */

static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static void gen_fill(struct gen *g, char *out, size_t n, const char *alphabet, size_t n_alpha)
{
	uint64_t r = 0;
	for (size_t i = 0; i < n; i++) {
		if (i % 8 == 0)
			r = xorshift(g);
		out[i] = alphabet[(r >> (8 * (i % 8))) % n_alpha];
	}
}

static void gen_capture_common(struct gen *g, struct sinkd_event *ev, uint8_t kind,
			       uint8_t *buf, uint16_t dport)
{
	uint64_t r = xorshift(g);
	unsigned src = (unsigned)(r % 20000);
	memset(ev, 0, sizeof(*ev));
	g->ts_ns += 10000; /* 100,000 events/s of simulated time */
	ev->ts_ns = g->ts_ns;
	ev->kind = kind;
	ev->transport = TRANSPORT_TCP;
	ev->src.ip[10] = ev->src.ip[11] = 0xff;
	ev->src.ip[12] = 203;
	ev->src.ip[13] = 0;
	ev->src.ip[14] = (uint8_t)(src >> 8);
	ev->src.ip[15] = (uint8_t)src;
	ev->src.port = (uint16_t)(1024 + (r >> 16) % 60000);
	ev->dst.ip[10] = ev->dst.ip[11] = 0xff;
	ev->dst.ip[12] = 127;
	ev->dst.ip[15] = 1;
	ev->dst.port = dport;
	ev->conn_id = r >> 20;
	ev->payload = buf;
	if (kind != EVENT_RAW) {
		snprintf(ev->qname, sizeof(ev->qname), "www.botnet-cc-%u.example",
			 (unsigned)(r >> 60) % N_ZONES);
		snprintf(ev->zone, sizeof(ev->zone), "%s", ev->qname + 4);
	}
}

static void add_section(struct sinkd_event *ev, uint8_t type, const void *data, size_t len)
{
	event_payload_add((uint8_t *)ev->payload, CAPTURE_PAYLOAD_MAX, &ev->payload_len, type,
			  data, len);
}

static void gen_http_event(struct gen *g, struct sinkd_event *ev, uint8_t *buf)
{
	char target[16], body[200], headers[400];
	gen_capture_common(g, ev, EVENT_HTTP, buf, 80);
	uint64_t r = xorshift(g);
	size_t body_len;
	if ((r >> 8) % 100 >= unique_body_pct) {
		unsigned i = (unsigned)((r >> 16) % BODY_POOL);
		struct gen pool = {.rng = 0x51ed270b27a5c3f1ull + i};
		body_len = 180 + i % 20;
		gen_fill(&pool, body, body_len, b64, 64);
	} else {
		body_len = 180 + r % 20;
		gen_fill(g, body, body_len, b64, 64);
	}
	target[0] = '/';
	gen_fill(g, target + 1, 6, b64, 52);
	memcpy(target + 7, ".png", 5);
	static const char ua[] = "Mozilla/4.0 (compatible; MSIE 7.0; Windows NT 5.1)";
	int hl = snprintf(headers, sizeof(headers),
			  "Host: %s\r\nUser-Agent: %s\r\nAccept: */*\r\nContent-Type: "
			  "application/x-www-form-urlencoded\r\nContent-Length: %zu\r\n"
			  "Connection: keep-alive\r\n",
			  ev->qname, ua, body_len);
	snprintf(ev->http_method, sizeof(ev->http_method), "POST");
	ev->http_version = 11;
	ev->http_status = 200;
	ev->body_len = (uint32_t)body_len;
	add_section(ev, EVP_TARGET, target, 11);
	add_section(ev, EVP_HEADERS, headers, (size_t)hl);
	add_section(ev, EVP_USER_AGENT, ua, sizeof(ua) - 1);
	add_section(ev, EVP_BODY, body, body_len);
}

/* One client's fingerprints: fixed per client, as for a bot family. */
static void gen_tls_client(unsigned client, char *ja3, size_t ja3_len, char *md5, char *ja4,
			   char *hello, size_t hello_len)
{
	struct gen c = {.rng = 0x2f1e3d4c5b6a7988ull + client};
	size_t used = (size_t)snprintf(ja3, ja3_len, "771,");
	for (int i = 0; i < 28; i++)
		used += (size_t)snprintf(ja3 + used, ja3_len - used, "%s%u", i ? "-" : "",
					 (unsigned)(xorshift(&c) % 65000));
	snprintf(ja3 + used, ja3_len - used, ",0-11-10-35-16-22-23-13-43-45-51,29-23-30-25-24,0");
	gen_fill(&c, md5, 32, "0123456789abcdef", 16);
	md5[32] = '\0';
	snprintf(ja4, 37, "t13d2811h2_%.12s_%.12s", md5, md5 + 12);
	used = (size_t)snprintf(hello, hello_len,
				"{\"record_version\":769,\"version\":771,\"ciphers\":[");
	for (int i = 0; i < 28; i++)
		used += (size_t)snprintf(hello + used, hello_len - used, "%s%u", i ? "," : "",
					 (unsigned)(xorshift(&c) % 65000));
	snprintf(hello + used, hello_len - used,
		 "],\"extensions\":[0,11,10,35,16,22,23,13,43,45,51],\"groups\":[29,23,30,25,24],"
		 "\"ec_point_formats\":[0],\"sig_algs\":[1027,2052,1025,1283,2053,1281,2054,1537],"
		 "\"alpn\":[\"h2\",\"http/1.1\"],\"versions\":[772,771],\"sni\":\"client%u\"}",
		 client);
}

static void gen_tls_event(struct gen *g, struct sinkd_event *ev, uint8_t *buf)
{
	char ja3[400], md5[33], ja4[40], hello[1200];
	uint8_t raw[HELLO_BYTES];
	gen_capture_common(g, ev, EVENT_TLS, buf, 443);
	unsigned client = (unsigned)(xorshift(g) % TLS_CLIENTS);
	gen_tls_client(client, ja3, sizeof(ja3), md5, ja4, hello, sizeof(hello));
	struct gen fixed = {.rng = 0x7a3c5e9b1d2f4680ull + client};
	gen_fill(&fixed, (char *)raw, sizeof(raw), b64, 64);
	gen_fill(g, (char *)raw + 11, 64, b64, 64); /* random and session id */
	snprintf(ev->proto, sizeof(ev->proto), "tls");
	add_section(ev, EVP_TLS_JA3, ja3, strlen(ja3));
	add_section(ev, EVP_TLS_JA3_MD5, md5, 32);
	add_section(ev, EVP_TLS_JA4, ja4, strlen(ja4));
	add_section(ev, EVP_TLS_HELLO, hello, strlen(hello));
	add_section(ev, EVP_RAW, raw, sizeof(raw));
}

static void gen_raw_event(struct gen *g, struct sinkd_event *ev, uint8_t *buf)
{
	static const char *const protos[] = {"ssh", "smtp", "socks5", "binary", "text", "irc"};
	char raw[200];
	gen_capture_common(g, ev, EVENT_RAW, buf, 9000);
	uint64_t r = xorshift(g);
	size_t n = 16 + r % 185;
	gen_fill(g, raw, n, b64, 64);
	snprintf(ev->proto, sizeof(ev->proto), "%s", protos[(r >> 8) % 6]);
	ev->body_len = (uint32_t)n;
	add_section(ev, EVP_RAW, raw, n);
}

#endif
