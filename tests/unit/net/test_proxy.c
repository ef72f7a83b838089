/* PROXY protocol parser and trusted-proxy CIDRs.
 *
 * The real-tool vectors below were captured on loopback with a Python
 * socket that records the first bytes of a connection:
 *   v1_curl_*: curl 7.88.1 --haproxy-protocol http://127.0.0.1:P/x and
 *              http://[::1]:P/x (header + the HTTP request after it);
 *   v2_haproxy_*: HAProxy 2.6.12 (Debian 12) "server ... send-proxy-v2"
 *              (tcp4: plain; tcp6_crc: IPv6 client, proxy-v2-options
 *              crc32c; ssl: TLS frontend with ALPN h2 and a client
 *              certificate CN=bot-42.example, send-proxy-v2-ssl-cn with
 *              ssl,cert-cn,ssl-cipher,cert-sig,cert-key,authority,crc32c,
 *              unique-id, client curl --http2 to https://c2.example:P/;
 *              local: "check check-send-proxy" health check + crc32c).
 * docs/proxy-protocol.md describes how to capture them again. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "core/error.h"
#include "net/net.h"

/* ---- real-tool vectors ---- */
static const uint8_t v1_curl_tcp4[] = {
    0x50, 0x52, 0x4f, 0x58, 0x59, 0x20, 0x54, 0x43, 0x50, 0x34, 0x20, 0x31, 0x32, 0x37, 0x2e, 0x30,
    0x2e, 0x30, 0x2e, 0x31, 0x20, 0x31, 0x32, 0x37, 0x2e, 0x30, 0x2e, 0x30, 0x2e, 0x31, 0x20, 0x34,
    0x38, 0x38, 0x36, 0x38, 0x20, 0x33, 0x38, 0x31, 0x30, 0x31, 0x0d, 0x0a, 0x47, 0x45, 0x54, 0x20,
    0x2f, 0x78, 0x20, 0x48, 0x54, 0x54, 0x50, 0x2f, 0x31, 0x2e, 0x31, 0x0d, 0x0a, 0x48, 0x6f, 0x73,
    0x74, 0x3a, 0x20, 0x31, 0x32, 0x37, 0x2e, 0x30, 0x2e, 0x30, 0x2e, 0x31, 0x3a, 0x33, 0x38, 0x31,
    0x30, 0x31, 0x0d, 0x0a, 0x55, 0x73, 0x65, 0x72, 0x2d, 0x41, 0x67, 0x65, 0x6e, 0x74, 0x3a, 0x20,
    0x63, 0x75, 0x72, 0x6c, 0x2f, 0x37, 0x2e, 0x38, 0x38, 0x2e, 0x31, 0x0d, 0x0a, 0x41, 0x63, 0x63,
    0x65, 0x70, 0x74, 0x3a, 0x20, 0x2a, 0x2f, 0x2a, 0x0d, 0x0a, 0x0d, 0x0a,
};
static const uint8_t v1_curl_tcp6[] = {
    0x50, 0x52, 0x4f, 0x58, 0x59, 0x20, 0x54, 0x43, 0x50, 0x36, 0x20, 0x3a, 0x3a, 0x31, 0x20, 0x3a,
    0x3a, 0x31, 0x20, 0x35, 0x37, 0x32, 0x35, 0x36, 0x20, 0x33, 0x38, 0x31, 0x30, 0x32, 0x0d, 0x0a,
    0x47, 0x45, 0x54, 0x20, 0x2f, 0x78, 0x20, 0x48, 0x54, 0x54, 0x50, 0x2f, 0x31, 0x2e, 0x31, 0x0d,
    0x0a, 0x48, 0x6f, 0x73, 0x74, 0x3a, 0x20, 0x5b, 0x3a, 0x3a, 0x31, 0x5d, 0x3a, 0x33, 0x38, 0x31,
    0x30, 0x32, 0x0d, 0x0a, 0x55, 0x73, 0x65, 0x72, 0x2d, 0x41, 0x67, 0x65, 0x6e, 0x74, 0x3a, 0x20,
    0x63, 0x75, 0x72, 0x6c, 0x2f, 0x37, 0x2e, 0x38, 0x38, 0x2e, 0x31, 0x0d, 0x0a, 0x41, 0x63, 0x63,
    0x65, 0x70, 0x74, 0x3a, 0x20, 0x2a, 0x2f, 0x2a, 0x0d, 0x0a, 0x0d, 0x0a,
};
static const uint8_t v2_haproxy_tcp4[] = {
    0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a, 0x21, 0x11, 0x00, 0x0c,
    0x7f, 0x00, 0x00, 0x01, 0x7f, 0x00, 0x00, 0x01, 0xec, 0x92, 0x95, 0x39, 0x47, 0x45, 0x54, 0x20,
    0x2f, 0x20, 0x48, 0x54, 0x54, 0x50, 0x2f, 0x31, 0x2e, 0x31, 0x0d, 0x0a, 0x48, 0x6f, 0x73, 0x74,
    0x3a, 0x20, 0x31, 0x32, 0x37, 0x2e, 0x30, 0x2e, 0x30, 0x2e, 0x31, 0x3a, 0x33, 0x38, 0x32, 0x30,
    0x31, 0x0d, 0x0a, 0x55, 0x73, 0x65, 0x72, 0x2d, 0x41, 0x67, 0x65, 0x6e, 0x74, 0x3a, 0x20, 0x63,
    0x75, 0x72, 0x6c, 0x2f, 0x37, 0x2e, 0x38, 0x38, 0x2e, 0x31, 0x0d, 0x0a, 0x41, 0x63, 0x63, 0x65,
    0x70, 0x74, 0x3a, 0x20, 0x2a, 0x2f, 0x2a, 0x0d, 0x0a, 0x0d, 0x0a,
};
static const uint8_t v2_haproxy_tcp6_crc[] = {
    0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a, 0x21, 0x21, 0x00,
    0x2b, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x01, 0xed, 0x18, 0x95, 0x3a, 0x03, 0x00, 0x04, 0xd6, 0xbd, 0x90, 0x82, 0x47,
    0x45, 0x54, 0x20, 0x2f, 0x20, 0x48, 0x54, 0x54, 0x50, 0x2f, 0x31, 0x2e, 0x31, 0x0d, 0x0a,
    0x48, 0x6f, 0x73, 0x74, 0x3a, 0x20, 0x5b, 0x3a, 0x3a, 0x31, 0x5d, 0x3a, 0x33, 0x38, 0x32,
    0x30, 0x32, 0x0d, 0x0a, 0x55, 0x73, 0x65, 0x72, 0x2d, 0x41, 0x67, 0x65, 0x6e, 0x74, 0x3a,
    0x20, 0x63, 0x75, 0x72, 0x6c, 0x2f, 0x37, 0x2e, 0x38, 0x38, 0x2e, 0x31, 0x0d, 0x0a, 0x41,
    0x63, 0x63, 0x65, 0x70, 0x74, 0x3a, 0x20, 0x2a, 0x2f, 0x2a, 0x0d, 0x0a, 0x0d, 0x0a,
};
static const uint8_t v2_haproxy_ssl[] = {
    0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a, 0x21, 0x11, 0x00, 0xa4,
    0x7f, 0x00, 0x00, 0x01, 0x7f, 0x00, 0x00, 0x01, 0xa7, 0x10, 0x95, 0x3b, 0x03, 0x00, 0x04, 0xaa,
    0x47, 0x50, 0x47, 0x01, 0x00, 0x02, 0x68, 0x32, 0x02, 0x00, 0x0a, 0x63, 0x32, 0x2e, 0x65, 0x78,
    0x61, 0x6d, 0x70, 0x6c, 0x65, 0x05, 0x00, 0x29, 0x37, 0x46, 0x30, 0x30, 0x30, 0x30, 0x30, 0x31,
    0x3a, 0x41, 0x37, 0x31, 0x30, 0x5f, 0x37, 0x46, 0x30, 0x30, 0x30, 0x30, 0x30, 0x31, 0x3a, 0x39,
    0x35, 0x33, 0x42, 0x5f, 0x36, 0x42, 0x30, 0x36, 0x41, 0x30, 0x35, 0x37, 0x5f, 0x30, 0x30, 0x30,
    0x32, 0x20, 0x00, 0x50, 0x07, 0x00, 0x00, 0x00, 0x00, 0x21, 0x00, 0x07, 0x54, 0x4c, 0x53, 0x76,
    0x31, 0x2e, 0x33, 0x22, 0x00, 0x0e, 0x62, 0x6f, 0x74, 0x2d, 0x34, 0x32, 0x2e, 0x65, 0x78, 0x61,
    0x6d, 0x70, 0x6c, 0x65, 0x25, 0x00, 0x07, 0x52, 0x53, 0x41, 0x32, 0x30, 0x34, 0x38, 0x24, 0x00,
    0x0a, 0x52, 0x53, 0x41, 0x2d, 0x53, 0x48, 0x41, 0x32, 0x35, 0x36, 0x23, 0x00, 0x16, 0x54, 0x4c,
    0x53, 0x5f, 0x41, 0x45, 0x53, 0x5f, 0x32, 0x35, 0x36, 0x5f, 0x47, 0x43, 0x4d, 0x5f, 0x53, 0x48,
    0x41, 0x33, 0x38, 0x34, 0x50, 0x52, 0x49, 0x20, 0x2a, 0x20, 0x48, 0x54, 0x54, 0x50, 0x2f, 0x32,
    0x2e, 0x30, 0x0d, 0x0a, 0x0d, 0x0a, 0x53, 0x4d, 0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x00, 0x12, 0x04,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x03, 0x00, 0x00, 0x00, 0x64, 0x00, 0x04, 0x02, 0x00, 0x00,
    0x00, 0x00, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x04, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x01, 0xff, 0x00, 0x01, 0x00, 0x00, 0x20, 0x01, 0x05, 0x00, 0x00, 0x00, 0x01, 0x82, 0x84, 0x87,
    0x41, 0x8c, 0x20, 0x97, 0x2f, 0x91, 0xd3, 0x5d, 0x05, 0xb8, 0xcb, 0xc2, 0x03, 0x3f, 0x7a, 0x88,
    0x25, 0xb6, 0x50, 0xc3, 0xab, 0xbc, 0xf2, 0xe1, 0x53, 0x03, 0x2a, 0x2f, 0x2a,
};
static const uint8_t v2_haproxy_local[] = {
    0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a,
    0x20, 0x00, 0x00, 0x07, 0x03, 0x00, 0x04, 0xa9, 0xb8, 0x7e, 0x8f,
};

/* ---- helpers --------------------------------------------------------------- */

/* Parse from an exact-size heap copy so ASan sees any read past len. */
static int parse_exact(const void *buf, size_t len, struct proxy_info *pi, size_t *consumed)
{
	uint8_t *copy = malloc(len > 0 ? len : 1);
	assert_non_null(copy);
	memcpy(copy, buf, len);
	int rc = proxy_parse(copy, len, pi, consumed);
	free(copy);
	return rc;
}

/* Every strict prefix of a valid header is "incomplete", never malformed. */
static void assert_prefixes_again(const void *buf, size_t hdr_len)
{
	for (size_t k = 0; k < hdr_len; k++) {
		struct proxy_info pi;
		size_t consumed = 4242;
		int rc = parse_exact(buf, k, &pi, &consumed);
		if (rc != SINKD_EAGAIN)
			fail_msg("prefix %zu of %zu: rc %d (%s)", k, hdr_len, rc,
				 pi.error ? pi.error : "-");
		assert_string_equal(pi.error, "incomplete header");
		assert_int_equal(consumed, 4242);
	}
}

/* Parse buf (a header followed by payload) and check the header length;
 * also every strict prefix of the header. */
static void parse_ok(const void *buf, size_t len, size_t hdr_len, struct proxy_info *pi)
{
	size_t consumed = 0;
	int rc = parse_exact(buf, len, pi, &consumed);
	if (rc != 0)
		fail_msg("rc %d (%s)", rc, pi->error ? pi->error : "-");
	assert_null(pi->error);
	assert_int_equal(consumed, hdr_len);
	assert_prefixes_again(buf, hdr_len);
}

static void parse_bad(const void *buf, size_t len, const char *why)
{
	struct proxy_info pi;
	size_t consumed = 4242;
	int rc = parse_exact(buf, len, &pi, &consumed);
	if (rc != SINKD_EMALF)
		fail_msg("%.*s: rc %d, want EMALF (%s)", (int)(len < 60 ? len : 60),
			 (const char *)buf, rc, why);
	assert_non_null(pi.error);
	assert_string_equal(pi.error, why);
	assert_int_equal(consumed, 4242);
}

static void assert_addr(const struct sockaddr_storage *ss, const char *ip, unsigned port)
{
	char text[INET6_ADDRSTRLEN];
	unsigned got_port;

	if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *sin = (const struct sockaddr_in *)ss;
		inet_ntop(AF_INET, &sin->sin_addr, text, sizeof(text));
		got_port = ntohs(sin->sin_port);
	} else {
		assert_int_equal(ss->ss_family, AF_INET6);
		const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)ss;
		inet_ntop(AF_INET6, &sin6->sin6_addr, text, sizeof(text));
		got_port = ntohs(sin6->sin6_port);
	}
	assert_string_equal(text, ip);
	assert_int_equal(got_port, port);
}

/* A v2 header under construction. */
struct v2 {
	uint8_t b[PROXY_HDR_MAX + 512];
	size_t n;
	size_t crc_at;
};

static const uint8_t sig[12] = {0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d,
				0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a};

static void v2_start(struct v2 *h, uint8_t ver_cmd, uint8_t fam)
{
	memset(h, 0, sizeof(*h));
	memcpy(h->b, sig, 12);
	h->b[12] = ver_cmd;
	h->b[13] = fam;
	h->n = 16;
}

static void v2_put(struct v2 *h, const void *p, size_t n)
{
	assert_true(h->n + n <= sizeof(h->b));
	memcpy(h->b + h->n, p, n);
	h->n += n;
}

static void v2_tlv(struct v2 *h, uint8_t type, const void *v, size_t n)
{
	uint8_t t[3] = {type, (uint8_t)(n >> 8), (uint8_t)n};
	v2_put(h, t, 3);
	v2_put(h, v, n);
}

static void v2_add_crc(struct v2 *h)
{
	static const uint8_t zero[4];
	v2_tlv(h, 0x03, zero, 4);
	h->crc_at = h->n - 4;
}

/* Set the length field, then the CRC32c when a CRC TLV was added. */
static void v2_finish(struct v2 *h)
{
	h->b[14] = (uint8_t)((h->n - 16) >> 8);
	h->b[15] = (uint8_t)(h->n - 16);
	if (h->crc_at != 0) {
		uint32_t crc = proxy_crc32c(h->b, h->n);
		h->b[h->crc_at] = (uint8_t)(crc >> 24);
		h->b[h->crc_at + 1] = (uint8_t)(crc >> 16);
		h->b[h->crc_at + 2] = (uint8_t)(crc >> 8);
		h->b[h->crc_at + 3] = (uint8_t)crc;
	}
}

static const uint8_t addr4[12] = {192, 0, 2, 1, 198, 51, 100, 7, 0xc3, 0x50, 0x00, 0x50};

/* ---- v1 ---------------------------------------------------------------------- */

static void test_v1_good(void **state)
{
	struct proxy_info pi;
	const char *tcp4 = "PROXY TCP4 192.0.2.1 198.51.100.7 50000 80\r\nGET / HTTP/1.1\r\n";
	parse_ok(tcp4, strlen(tcp4), 44, &pi);
	assert_int_equal(pi.version, 1);
	assert_int_equal(pi.command, PROXY_CMD_PROXY);
	assert_int_equal(pi.transport, PROXY_TRANSPORT_TCP);
	assert_int_equal(pi.family, AF_INET);
	assert_true(pi.has_addr);
	assert_addr(&pi.src, "192.0.2.1", 50000);
	assert_addr(&pi.dst, "198.51.100.7", 80);
	assert_int_equal(pi.tlv, 0);

	const char *tcp6 = "PROXY TCP6 2001:db8::1 ::ffff:10.0.0.1 0 65535\r\n";
	parse_ok(tcp6, strlen(tcp6), strlen(tcp6), &pi);
	assert_int_equal(pi.family, AF_INET6);
	assert_addr(&pi.src, "2001:db8::1", 0);
	assert_addr(&pi.dst, "::ffff:10.0.0.1", 65535);

	const char *unknown = "PROXY UNKNOWN\r\nx";
	parse_ok(unknown, strlen(unknown), 15, &pi);
	assert_false(pi.has_addr);
	assert_int_equal(pi.family, AF_UNSPEC);
	assert_int_equal(pi.transport, PROXY_TRANSPORT_UNSPEC);

	const char *junk = "PROXY UNKNOWN what ever  here\r\n";
	parse_ok(junk, strlen(junk), strlen(junk), &pi);
	assert_false(pi.has_addr);
}

/* The longest lines the spec says a receiver must take: 104 and 107. */
static void test_v1_max_length(void **state)
{
	struct proxy_info pi;
	const char *ffff = "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff";
	char line[200];

	snprintf(line, sizeof(line), "PROXY TCP6 %s %s 65535 65535\r\n", ffff, ffff);
	assert_int_equal(strlen(line), 104);
	parse_ok(line, strlen(line), 104, &pi);
	assert_addr(&pi.src, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", 65535);

	snprintf(line, sizeof(line), "PROXY UNKNOWN %s %s 65535 65535\r\n", ffff, ffff);
	assert_int_equal(strlen(line), 107);
	parse_ok(line, strlen(line), 107, &pi);

	snprintf(line, sizeof(line), "PROXY UNKNOWN %s %s 65535 655350\r\n", ffff, ffff);
	parse_bad(line, strlen(line), "v1: no CRLF within 107 bytes");
	parse_bad(line, 107, "v1: no CRLF within 107 bytes");
	/* 106 bytes of a 108-byte line are still a possible header. */
	size_t consumed;
	assert_int_equal(parse_exact(line, 106, &pi, &consumed), SINKD_EAGAIN);

	memset(line, 'a', sizeof(line));
	memcpy(line, "PROXY UNKNOWN ", 14);
	parse_bad(line, sizeof(line), "v1: no CRLF within 107 bytes");
}

static const struct {
	const char *line;
	const char *why;
} v1_bad[] = {
    {"PROXX TCP4 1.2.3.4 5.6.7.8 1 2\r\n", "v1: bad signature (want \"PROXY \")"},
    {"PROXY\r\n", "v1: bad signature (want \"PROXY \")"},
    {"Proxy TCP4 1.2.3.4 5.6.7.8 1 2\r\n", "v1: bad signature (want \"PROXY \")"},
    {"proxy TCP4 1.2.3.4 5.6.7.8 1 2\r\n", "not a PROXY protocol header"},
    {"PROXY  TCP4 1.2.3.4 5.6.7.8 1 2\r\n", "v1: bad protocol (want TCP4, TCP6 or UNKNOWN)"},
    {"PROXY tcp4 1.2.3.4 5.6.7.8 1 2\r\n", "v1: bad protocol (want TCP4, TCP6 or UNKNOWN)"},
    {"PROXY TCP5 1.2.3.4 5.6.7.8 1 2\r\n", "v1: bad protocol (want TCP4, TCP6 or UNKNOWN)"},
    {"PROXY UDP4 1.2.3.4 5.6.7.8 1 2\r\n", "v1: bad protocol (want TCP4, TCP6 or UNKNOWN)"},
    {"PROXY TCP4\t1.2.3.4 5.6.7.8 1 2\r\n", "v1: bad protocol (want TCP4, TCP6 or UNKNOWN)"},
    {"PROXY UNKNOWNX\r\n", "v1: bad protocol (want TCP4, TCP6 or UNKNOWN)"},
    {"PROXY \r\n", "v1: bad protocol (want TCP4, TCP6 or UNKNOWN)"},
    {"PROXY TCP4  1.2.3.4 5.6.7.8 1 2\r\n", "v1: empty field (double space)"},
    {"PROXY TCP4 1.2.3.4  5.6.7.8 1 2\r\n", "v1: empty field (double space)"},
    {"PROXY TCP4 1.2.3 5.6.7.8 1 2\r\n", "v1: bad source address"},
    {"PROXY TCP4 256.2.3.4 5.6.7.8 1 2\r\n", "v1: bad source address"},
    {"PROXY TCP4 01.2.3.4 5.6.7.8 1 2\r\n", "v1: bad source address"},
    {"PROXY TCP4 ::1 5.6.7.8 1 2\r\n", "v1: bad source address"},
    {"PROXY TCP4 1.2.3.4x 5.6.7.8 1 2\r\n", "v1: bad source address"},
    {"PROXY TCP4 1111.222.333.4444 5.6.7.8 1 2\r\n", "v1: bad source address"},
    {"PROXY TCP6 1.2.3.4 ::1 1 2\r\n", "v1: bad source address"},
    {"PROXY TCP6 fe80::1%eth0 ::1 1 2\r\n", "v1: bad source address"},
    {"PROXY TCP4 1.2.3.4 5.6.7.256 1 2\r\n", "v1: bad destination address"},
    {"PROXY TCP4 1.2.3.4 5.6.7.08 1 2\r\n", "v1: bad destination address"},
    {"PROXY TCP4 1.2.3.4 ::1 1 2\r\n", "v1: bad destination address"},
    {"PROXY TCP6 ::1 ::g 1 2\r\n", "v1: bad destination address"},
    {"PROXY TCP6 ::1 1:2:3:4:5:6:7:8:9 1 2\r\n", "v1: bad destination address"},
    {"PROXY TCP6 ::1 1::2::3 1 2\r\n", "v1: bad destination address"},
    {"PROXY TCP4 1.2.3.4 5.6.7.8 +1 2\r\n", "v1: bad source port"},
    {"PROXY TCP4 1.2.3.4 5.6.7.8 -1 2\r\n", "v1: bad source port"},
    {"PROXY TCP4 1.2.3.4 5.6.7.8 01 2\r\n", "v1: bad source port"},
    {"PROXY TCP4 1.2.3.4 5.6.7.8 00 2\r\n", "v1: bad source port"},
    {"PROXY TCP4 1.2.3.4 5.6.7.8 65536 2\r\n", "v1: bad source port"},
    {"PROXY TCP4 1.2.3.4 5.6.7.8 100000 2\r\n", "v1: bad source port"},
    {"PROXY TCP4 1.2.3.4 5.6.7.8 1a 2\r\n", "v1: bad source port"},
    {"PROXY TCP4 1.2.3.4 5.6.7.8 0x50 2\r\n", "v1: bad source port"},
    {"PROXY TCP4 1.2.3.4 5.6.7.8 1 02\r\n", "v1: bad destination port"},
    {"PROXY TCP4 1.2.3.4 5.6.7.8 1 99999\r\n", "v1: bad destination port"},
    {"PROXY TCP4 1.2.3.4 5.6.7.8 1 2x\r\n", "v1: bad destination port"},
    {"PROXY TCP4 1.2.3.4 5.6.7.8 1 \r\n", "v1: empty field (double space)"},
    {"PROXY TCP4 1.2.3.4 5.6.7.8 1 2 \r\n", "v1: trailing space before CRLF"},
    {"PROXY TCP4 1.2.3.4 5.6.7.8 1 2 3\r\n", "v1: extra field after destination port"},
    {"PROXY TCP4 1.2.3.4 5.6.7.8 1\r\n", "v1: missing field before CRLF"},
    {"PROXY TCP4 1.2.3.4\r\n", "v1: missing field before CRLF"},
    {"PROXY TCP4\r\n", "v1: missing field before CRLF"},
    {"PROXY TCP4 1.2.3.4 5.6.7.8 1 2\n", "v1: LF without CR"},
    {"PROXY TCP4 1.2.3.4 5.6.7.8 1 2\rX", "v1: CR without LF"},
    {"PROXY TCP4 1.2.3.4 5.6.7.8 1 2\r\r\n", "v1: CR without LF"},
    {"PROXY TCP4 1.2.3.4\r\n5.6.7.8 1 2\r\n", "v1: missing field before CRLF"},
    {"PROXY UNKNOWN\n", "v1: LF without CR"},
    /* the line must be valid before a lone CR can be an incomplete CRLF */
    {"PROXY TCP4 1.2.3.4 5.6.7.8 1\r", "v1: missing field before CRLF"},
};

static void test_v1_bad(void **state)
{
	for (size_t i = 0; i < sizeof(v1_bad) / sizeof(v1_bad[0]); i++)
		parse_bad(v1_bad[i].line, strlen(v1_bad[i].line), v1_bad[i].why);
}

/* Malformed prefixes are rejected before the CRLF arrives. */
static void test_v1_early_reject(void **state)
{
	parse_bad("PROXY TCP4 1.2.3.4x", 19, "v1: bad source address");
	parse_bad("PROXY TCP4 1.2.3.4 5.6.7.8 655361", 33, "v1: bad source port");
	parse_bad("PROXY TCP4 1.2.3.4 5.6.7.8 01", 29, "v1: bad source port");
	parse_bad("PROXY TCP7", 10, "v1: bad protocol (want TCP4, TCP6 or UNKNOWN)");
	parse_bad("PROXY  ", 7, "v1: bad protocol (want TCP4, TCP6 or UNKNOWN)");
	parse_bad("PROXY TCP4 1.2.3.4 5.6.7.8 1 2 ", 31, "v1: trailing space before CRLF");
	parse_bad("PROXX", 5, "v1: bad signature (want \"PROXY \")");

	struct proxy_info pi;
	size_t consumed;
	assert_int_equal(parse_exact("PROXY TCP4 1.2.3.4 5.6.7.8 1 2\r", 31, &pi, &consumed),
			 SINKD_EAGAIN);
	assert_false(pi.has_addr);
}

static void test_v1_curl(void **state)
{
	struct proxy_info pi;
	parse_ok(v1_curl_tcp4, sizeof(v1_curl_tcp4), 44, &pi);
	assert_int_equal(pi.family, AF_INET);
	assert_addr(&pi.src, "127.0.0.1", 48868);
	assert_addr(&pi.dst, "127.0.0.1", 38101);
	assert_memory_equal(v1_curl_tcp4 + 44, "GET /x HTTP/1.1\r\n", 17);

	parse_ok(v1_curl_tcp6, sizeof(v1_curl_tcp6), 32, &pi);
	assert_int_equal(pi.family, AF_INET6);
	assert_addr(&pi.src, "::1", 57256);
	assert_addr(&pi.dst, "::1", 38102);
	assert_memory_equal(v1_curl_tcp6 + 32, "GET /x", 6);
}

/* ---- v2 ---------------------------------------------------------------------- */

static void test_v2_tcp4(void **state)
{
	struct v2 h;
	struct proxy_info pi;

	v2_start(&h, 0x21, 0x11);
	v2_put(&h, addr4, 12);
	v2_finish(&h);
	v2_put(&h, "GET /", 5); /* payload, not part of the header */
	parse_ok(h.b, h.n, 28, &pi);
	assert_int_equal(pi.version, 2);
	assert_int_equal(pi.command, PROXY_CMD_PROXY);
	assert_int_equal(pi.transport, PROXY_TRANSPORT_TCP);
	assert_int_equal(pi.family, AF_INET);
	assert_true(pi.has_addr);
	assert_addr(&pi.src, "192.0.2.1", 50000);
	assert_addr(&pi.dst, "198.51.100.7", 80);
	assert_int_equal(pi.tlv, 0);
}

static void test_v2_tcp6_tlvs_crc(void **state)
{
	static const uint8_t addr6[36] = {
	    0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,    0,	   0x01, 0x20, 0x01,
	    0x0d, 0xb8, 0,    0,    0, 0, 0, 0, 0, 0, 0, 0, 0, 0x02, 0x04, 0xd2, 0x01, 0xbb};
	static const uint8_t ssl[] = {0x07, 0, 0, 0,   0, /* client, verify */
				      0x21, 0, 7, 'T', 'L', 'S', 'v', '1', '.', '3', /* version */
				      0x22, 0, 3, 'b', 'o', 't',		     /* CN */
				      0x23, 0, 4, 'A', 'E', 'S', 'X',		     /* cipher */
				      0x25, 0, 7, 'R', 'S', 'A', '2', '0', '4', '8'};
	static const uint8_t uid[4] = {0xde, 0xad, 0xbe, 0xef};
	struct v2 h;
	struct proxy_info pi;

	v2_start(&h, 0x21, 0x21);
	v2_put(&h, addr6, 36);
	v2_tlv(&h, 0x04, "pad", 3);	    /* NOOP */
	v2_tlv(&h, 0x01, "h2", 2);	    /* ALPN */
	v2_tlv(&h, 0x02, "c2.example", 10); /* AUTHORITY */
	v2_add_crc(&h);
	v2_tlv(&h, 0x05, uid, 4); /* UNIQUE_ID */
	v2_tlv(&h, 0x20, ssl, sizeof(ssl));
	v2_tlv(&h, 0xea, "vpce-1", 6); /* custom (AWS) */
	v2_finish(&h);
	parse_ok(h.b, h.n, h.n, &pi);
	assert_int_equal(pi.family, AF_INET6);
	assert_addr(&pi.src, "2001:db8::1", 1234);
	assert_addr(&pi.dst, "2001:db8::2", 443);
	assert_int_equal(pi.tlv, PROXY_TLV_ALPN | PROXY_TLV_AUTHORITY | PROXY_TLV_CRC32C |
				     PROXY_TLV_UNIQUE_ID | PROXY_TLV_SSL | PROXY_TLV_SSL_VERSION |
				     PROXY_TLV_SSL_CIPHER | PROXY_TLV_SSL_CN | PROXY_TLV_OTHER);
	assert_int_equal(pi.alpn_len, 2);
	assert_memory_equal(pi.alpn, "h2", 2);
	assert_string_equal(pi.authority, "c2.example");
	assert_int_equal(pi.unique_id_len, 4);
	assert_memory_equal(pi.unique_id, uid, 4);
	assert_int_equal(pi.ssl_client, 7);
	assert_int_equal(pi.ssl_verify, 0);
	assert_string_equal(pi.ssl_version, "TLSv1.3");
	assert_string_equal(pi.ssl_cn, "bot");
	assert_string_equal(pi.ssl_cipher, "AESX");

	/* any flipped bit in the addresses or a TLV value breaks the CRC (a
	 * flip that turns the CRC TLV into another type cannot be caught) */
	static const size_t spans[][2] = {{16, 52}, {55, 58}, {61, 63}, {66, 76}};
	for (size_t at = 16; at < 76; at++) {
		bool in = false;
		for (size_t s = 0; s < 4; s++)
			in = in || (at >= spans[s][0] && at < spans[s][1]);
		if (!in)
			continue;
		struct v2 bad = h;
		bad.b[at] ^= 0x01;
		struct proxy_info bpi;
		size_t consumed;
		assert_int_equal(parse_exact(bad.b, bad.n, &bpi, &consumed), SINKD_EMALF);
		assert_string_equal(bpi.error, "v2: CRC32C mismatch");
	}
	h.b[h.crc_at + 3] ^= 0x80;
	parse_bad(h.b, h.n, "v2: CRC32C mismatch");
}

static void test_v2_udp4_datagram(void **state)
{
	static const uint8_t dns[] = {0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0,
				      0,    0,	  0,	0,    0, 1, 0, 1};
	struct v2 h;
	struct proxy_info pi;
	size_t consumed = 0;

	v2_start(&h, 0x21, 0x12);
	v2_put(&h, addr4, 12);
	v2_finish(&h);
	v2_put(&h, dns, sizeof(dns));
	assert_int_equal(parse_exact(h.b, h.n, &pi, &consumed), 0);
	assert_int_equal(consumed, 28);
	assert_int_equal(pi.transport, PROXY_TRANSPORT_UDP);
	assert_addr(&pi.src, "192.0.2.1", 50000);
	assert_memory_equal(h.b + consumed, dns, sizeof(dns));
	/* a datagram cut inside the header is "incomplete": the UDP caller
	 * treats that as malformed */
	assert_int_equal(parse_exact(h.b, 20, &pi, &consumed), SINKD_EAGAIN);
}

static void test_v2_local_unspec_unix(void **state)
{
	struct v2 h;
	struct proxy_info pi;

	v2_start(&h, 0x20, 0x00); /* LOCAL, as health checks send it */
	v2_finish(&h);
	parse_ok(h.b, h.n, 16, &pi);
	assert_int_equal(pi.command, PROXY_CMD_LOCAL);
	assert_false(pi.has_addr);

	v2_start(&h, 0x20, 0x11); /* LOCAL with addresses: they are ignored */
	v2_put(&h, addr4, 12);
	v2_add_crc(&h);
	v2_finish(&h);
	parse_ok(h.b, h.n, h.n, &pi);
	assert_false(pi.has_addr);
	assert_int_equal(pi.tlv, PROXY_TLV_CRC32C);

	v2_start(&h, 0x20, 0x21); /* LOCAL with a short block: skipped whole */
	v2_put(&h, addr4, 12);
	v2_finish(&h);
	parse_ok(h.b, h.n, 28, &pi);
	assert_false(pi.has_addr);

	v2_start(&h, 0x21, 0x00); /* PROXY + UNSPEC ("UNKNOWN"): keep socket's */
	v2_tlv(&h, 0x02, "x", 1);
	v2_finish(&h);
	parse_ok(h.b, h.n, h.n, &pi);
	assert_int_equal(pi.command, PROXY_CMD_PROXY);
	assert_false(pi.has_addr);
	assert_string_equal(pi.authority, "x");

	v2_start(&h, 0x21, 0x10); /* AF_INET but UNSPEC protocol */
	v2_put(&h, addr4, 12);
	v2_finish(&h);
	parse_ok(h.b, h.n, 28, &pi);
	assert_false(pi.has_addr);

	uint8_t paths[216] = {0};
	memcpy(paths, "/run/a.sock", 11);
	v2_start(&h, 0x21, 0x31); /* AF_UNIX stream */
	v2_put(&h, paths, sizeof(paths));
	v2_tlv(&h, 0x01, "http/1.1", 8);
	v2_finish(&h);
	parse_ok(h.b, h.n, h.n, &pi);
	assert_int_equal(pi.family, AF_UNIX);
	assert_int_equal(pi.transport, PROXY_TRANSPORT_TCP);
	assert_false(pi.has_addr);
	assert_int_equal(pi.alpn_len, 8);
}

static void test_v2_truncating_tlvs(void **state)
{
	uint8_t big[300];
	struct v2 h;
	struct proxy_info pi;

	memset(big, 'a', sizeof(big));
	v2_start(&h, 0x21, 0x11);
	v2_put(&h, addr4, 12);
	v2_tlv(&h, 0x02, big, 300); /* authority longer than its buffer */
	v2_tlv(&h, 0x05, big, 200); /* unique id over the 128-byte maximum */
	v2_tlv(&h, 0x01, big, 40);
	v2_finish(&h);
	parse_ok(h.b, h.n, h.n, &pi);
	assert_true(pi.tlv & PROXY_TLV_TRUNCATED);
	assert_int_equal(strlen(pi.authority), PROXY_AUTHORITY_MAX - 1);
	assert_int_equal(pi.unique_id_len, PROXY_UNIQUE_ID_MAX);
	assert_int_equal(pi.alpn_len, PROXY_ALPN_MAX);
}

static void test_v2_bad(void **state)
{
	struct v2 h;

	v2_start(&h, 0x11, 0x11);
	parse_bad(h.b, 13, "v2: version is not 2");
	v2_start(&h, 0x31, 0x11);
	parse_bad(h.b, 16, "v2: version is not 2");
	v2_start(&h, 0x22, 0x11);
	parse_bad(h.b, 13, "v2: unknown command (want LOCAL or PROXY)");
	v2_start(&h, 0x2f, 0x11);
	parse_bad(h.b, 16, "v2: unknown command (want LOCAL or PROXY)");
	v2_start(&h, 0x21, 0x41);
	parse_bad(h.b, 14, "v2: unknown address family");
	v2_start(&h, 0x21, 0x13);
	parse_bad(h.b, 14, "v2: unknown transport protocol");

	v2_start(&h, 0x21, 0x11);
	v2_put(&h, addr4, 8);
	v2_finish(&h);
	parse_bad(h.b, h.n, "v2: address length too short for AF_INET (need 12)");
	v2_start(&h, 0x21, 0x21);
	v2_put(&h, addr4, 4);
	v2_finish(&h);
	parse_bad(h.b, h.n, "v2: address length too short for AF_INET6 (need 36)");
	v2_start(&h, 0x21, 0x32);
	v2_put(&h, addr4, 12);
	v2_finish(&h);
	parse_bad(h.b, h.n, "v2: address length too short for AF_UNIX (need 216)");

	v2_start(&h, 0x21, 0x11);
	v2_put(&h, addr4, 12);
	v2_put(&h, "\x02\x00", 2); /* TLV header cut short */
	v2_finish(&h);
	parse_bad(h.b, h.n, "v2: TLV overruns the header length");
	v2_start(&h, 0x21, 0x11);
	v2_put(&h, addr4, 12);
	v2_put(&h,
	       "\x02\x00\x05"
	       "abcd",
	       7); /* value one byte short */
	v2_finish(&h);
	parse_bad(h.b, h.n, "v2: TLV overruns the header length");

	v2_start(&h, 0x21, 0x11);
	v2_put(&h, addr4, 12);
	v2_tlv(&h, 0x03, "abc", 3);
	v2_finish(&h);
	parse_bad(h.b, h.n, "v2: CRC32C TLV length is not 4");
	v2_start(&h, 0x21, 0x11);
	v2_put(&h, addr4, 12);
	v2_add_crc(&h);
	v2_add_crc(&h);
	v2_finish(&h);
	parse_bad(h.b, h.n, "v2: duplicate CRC32C TLV");

	v2_start(&h, 0x21, 0x11);
	v2_put(&h, addr4, 12);
	v2_tlv(&h, 0x20, "\x01\x00\x00\x00", 4);
	v2_finish(&h);
	parse_bad(h.b, h.n, "v2: SSL TLV shorter than 5 bytes");
	v2_start(&h, 0x21, 0x11);
	v2_put(&h, addr4, 12);
	v2_tlv(&h, 0x20, "\x01\x00\x00\x00\x00\x21\x00\x09TLSv1.3", 15);
	v2_finish(&h);
	parse_bad(h.b, h.n, "v2: SSL sub-TLV overruns the SSL TLV");
}

static void test_v2_signature_and_oversize(void **state)
{
	struct v2 h;

	for (size_t i = 0; i < 12; i++) {
		v2_start(&h, 0x21, 0x11);
		v2_put(&h, addr4, 12);
		v2_finish(&h);
		h.b[i] ^= 0x20;
		struct proxy_info pi;
		size_t consumed;
		assert_int_equal(parse_exact(h.b, h.n, &pi, &consumed), SINKD_EMALF);
		assert_int_equal(parse_exact(h.b, i + 1, &pi, &consumed), SINKD_EMALF);
	}
	/* length 0xffff: rejected from the 16 fixed bytes, no waiting for 64 KiB */
	v2_start(&h, 0x21, 0x11);
	h.b[14] = 0xff;
	h.b[15] = 0xff;
	parse_bad(h.b, 16, "v2: header longer than PROXY_HDR_MAX (2048 bytes)");
	h.b[14] = (PROXY_HDR_MAX - 16 + 1) >> 8;
	h.b[15] = (uint8_t)(PROXY_HDR_MAX - 16 + 1);
	parse_bad(h.b, 16, "v2: header longer than PROXY_HDR_MAX (2048 bytes)");

	/* exactly PROXY_HDR_MAX is accepted */
	uint8_t pad[PROXY_HDR_MAX];
	memset(pad, 0, sizeof(pad));
	v2_start(&h, 0x21, 0x11);
	v2_put(&h, addr4, 12);
	v2_tlv(&h, 0x04, pad, PROXY_HDR_MAX - 16 - 12 - 3);
	v2_finish(&h);
	assert_int_equal(h.n, PROXY_HDR_MAX);
	struct proxy_info pi;
	parse_ok(h.b, h.n, PROXY_HDR_MAX, &pi);
}

static void test_v2_haproxy(void **state)
{
	struct proxy_info pi;

	parse_ok(v2_haproxy_tcp4, sizeof(v2_haproxy_tcp4), 28, &pi);
	assert_int_equal(pi.command, PROXY_CMD_PROXY);
	assert_int_equal(pi.transport, PROXY_TRANSPORT_TCP);
	assert_addr(&pi.src, "127.0.0.1", 60562);
	assert_addr(&pi.dst, "127.0.0.1", 38201);
	assert_memory_equal(v2_haproxy_tcp4 + 28, "GET / HTTP/1.1", 14);

	parse_ok(v2_haproxy_tcp6_crc, sizeof(v2_haproxy_tcp6_crc), 16 + 43, &pi);
	assert_addr(&pi.src, "::1", 60696);
	assert_addr(&pi.dst, "::1", 38202);
	assert_int_equal(pi.tlv, PROXY_TLV_CRC32C);

	parse_ok(v2_haproxy_ssl, sizeof(v2_haproxy_ssl), 16 + 164, &pi);
	assert_addr(&pi.src, "127.0.0.1", 42768);
	assert_addr(&pi.dst, "127.0.0.1", 38203);
	assert_true(pi.tlv & PROXY_TLV_CRC32C);
	assert_int_equal(pi.alpn_len, 2);
	assert_memory_equal(pi.alpn, "h2", 2);
	assert_string_equal(pi.authority, "c2.example");
	assert_int_equal(pi.unique_id_len, 41);
	assert_memory_equal(pi.unique_id, "7F000001:A710_7F000001:953B_", 28);
	assert_int_equal(pi.ssl_client, 0x07);
	assert_int_equal(pi.ssl_verify, 0);
	assert_string_equal(pi.ssl_version, "TLSv1.3");
	assert_string_equal(pi.ssl_cn, "bot-42.example");
	assert_string_equal(pi.ssl_cipher, "TLS_AES_256_GCM_SHA384");
	assert_false(pi.tlv & PROXY_TLV_TRUNCATED);
	assert_memory_equal(v2_haproxy_ssl + 180, "PRI * HTTP/2.0", 14);

	parse_ok(v2_haproxy_local, sizeof(v2_haproxy_local), 23, &pi);
	assert_int_equal(pi.command, PROXY_CMD_LOCAL);
	assert_false(pi.has_addr);
	assert_int_equal(pi.tlv, PROXY_TLV_CRC32C);

	/* haproxy's own checksum: one flipped bit is a mismatch */
	uint8_t bad[sizeof(v2_haproxy_local)];
	memcpy(bad, v2_haproxy_local, sizeof(bad));
	bad[22] ^= 1;
	parse_bad(bad, sizeof(bad), "v2: CRC32C mismatch");
}

/* ---- misc ---------------------------------------------------------------------- */

static void test_not_proxy(void **state)
{
	struct proxy_info pi;
	size_t consumed;

	assert_int_equal(parse_exact("", 0, &pi, &consumed), SINKD_EAGAIN);
	parse_bad("GET / HTTP/1.1\r\n", 16, "not a PROXY protocol header");
	parse_bad("\x16\x03\x01", 3, "not a PROXY protocol header");
	parse_bad("\r\n\r\n\r\n", 6, "v2: bad signature");
	parse_bad("PRI * HTTP/2.0", 14, "v1: bad signature (want \"PROXY \")");
}

static void test_crc32c(void **state)
{
	assert_int_equal(proxy_crc32c((const uint8_t *)"123456789", 9), 0xe3069283u);
	assert_int_equal(proxy_crc32c(NULL, 0), 0);
	uint8_t zeros[32] = {0};
	assert_int_equal(proxy_crc32c(zeros, 32), 0x8a9136aau); /* RFC 3720 B.4 */
}

static void sa4(struct sockaddr_storage *ss, const char *ip)
{
	memset(ss, 0, sizeof(*ss));
	struct sockaddr_in *sin = (struct sockaddr_in *)ss;
	sin->sin_family = AF_INET;
	assert_int_equal(inet_pton(AF_INET, ip, &sin->sin_addr), 1);
}

static void sa6(struct sockaddr_storage *ss, const char *ip)
{
	memset(ss, 0, sizeof(*ss));
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;
	sin6->sin6_family = AF_INET6;
	assert_int_equal(inet_pton(AF_INET6, ip, &sin6->sin6_addr), 1);
}

static void test_cidr_parse(void **state)
{
	struct net_cidr c;

	assert_int_equal(net_cidr_parse("10.0.0.0/8", &c), 0);
	assert_int_equal(c.af, AF_INET);
	assert_int_equal(c.prefix, 8);
	assert_int_equal(c.addr[0], 10);
	assert_int_equal(net_cidr_parse("2001:db8::/32", &c), 0);
	assert_int_equal(c.af, AF_INET6);
	assert_int_equal(c.prefix, 32);
	assert_int_equal(net_cidr_parse("192.0.2.7", &c), 0);
	assert_int_equal(c.prefix, 32);
	assert_int_equal(net_cidr_parse("::1", &c), 0);
	assert_int_equal(c.prefix, 128);
	assert_int_equal(net_cidr_parse("0.0.0.0/0", &c), 0);
	assert_int_equal(net_cidr_parse("::/0", &c), 0);
	assert_int_equal(net_cidr_parse("10.1.2.128/25", &c), 0);

	assert_int_equal(net_cidr_parse("", &c), SINKD_EINVAL);
	assert_int_equal(net_cidr_parse("/8", &c), SINKD_EINVAL);
	assert_int_equal(net_cidr_parse("10.0.0.0/", &c), SINKD_EINVAL);
	assert_int_equal(net_cidr_parse("10.0.0.0/08", &c), SINKD_EINVAL);
	assert_int_equal(net_cidr_parse("10.0.0.0/+8", &c), SINKD_EINVAL);
	assert_int_equal(net_cidr_parse("10.0.0.0/8x", &c), SINKD_EINVAL);
	assert_int_equal(net_cidr_parse("10.0.0.0/8/8", &c), SINKD_EINVAL);
	assert_int_equal(net_cidr_parse("10.0.0/8", &c), SINKD_EINVAL);
	assert_int_equal(net_cidr_parse("example.com/8", &c), SINKD_EINVAL);
	assert_int_equal(net_cidr_parse("10.1.0.0/8", &c), SINKD_EINVAL); /* host bits */
	assert_int_equal(net_cidr_parse("10.1.2.129/25", &c), SINKD_EINVAL);
	assert_int_equal(net_cidr_parse("2001:db8::1/64", &c), SINKD_EINVAL);
	assert_int_equal(net_cidr_parse("10.0.0.0/33", &c), SINKD_ERANGE);
	assert_int_equal(net_cidr_parse("::/129", &c), SINKD_ERANGE);
	assert_int_equal(net_cidr_parse("::/1000", &c), SINKD_ERANGE);
}

static void test_trusted(void **state)
{
	struct net_cidr t[3];
	struct sockaddr_storage ss;

	assert_int_equal(net_cidr_parse("10.0.0.0/8", &t[0]), 0);
	assert_int_equal(net_cidr_parse("192.0.2.7", &t[1]), 0);
	assert_int_equal(net_cidr_parse("2001:db8:1::/48", &t[2]), 0);

	sa4(&ss, "10.200.3.4");
	assert_true(proxy_trusted(&ss, t, 3));
	assert_false(proxy_trusted(&ss, t, 0));
	sa4(&ss, "11.0.0.1");
	assert_false(proxy_trusted(&ss, t, 3));
	sa4(&ss, "192.0.2.7");
	assert_true(proxy_trusted(&ss, t, 3));
	sa4(&ss, "192.0.2.8");
	assert_false(proxy_trusted(&ss, t, 3));
	sa6(&ss, "2001:db8:1:ffff::1");
	assert_true(proxy_trusted(&ss, t, 3));
	sa6(&ss, "2001:db8:2::1");
	assert_false(proxy_trusted(&ss, t, 3));
	sa6(&ss, "::ffff:10.9.8.7"); /* dual-stack socket, IPv4 peer */
	assert_true(proxy_trusted(&ss, t, 3));
	sa6(&ss, "::ffff:11.9.8.7");
	assert_false(proxy_trusted(&ss, t, 3));
	ss.ss_family = AF_UNIX;
	assert_false(proxy_trusted(&ss, t, 3));

	struct net_cidr odd;
	assert_int_equal(net_cidr_parse("10.1.2.128/25", &odd), 0);
	sa4(&ss, "10.1.2.255");
	assert_true(net_cidr_match(&odd, &ss));
	sa4(&ss, "10.1.2.127");
	assert_false(net_cidr_match(&odd, &ss));
	assert_int_equal(net_cidr_parse("0.0.0.0/0", &odd), 0);
	assert_true(net_cidr_match(&odd, &ss));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_v1_good),
	    cmocka_unit_test(test_v1_max_length),
	    cmocka_unit_test(test_v1_bad),
	    cmocka_unit_test(test_v1_early_reject),
	    cmocka_unit_test(test_v1_curl),
	    cmocka_unit_test(test_v2_tcp4),
	    cmocka_unit_test(test_v2_tcp6_tlvs_crc),
	    cmocka_unit_test(test_v2_udp4_datagram),
	    cmocka_unit_test(test_v2_local_unspec_unix),
	    cmocka_unit_test(test_v2_truncating_tlvs),
	    cmocka_unit_test(test_v2_bad),
	    cmocka_unit_test(test_v2_signature_and_oversize),
	    cmocka_unit_test(test_v2_haproxy),
	    cmocka_unit_test(test_not_proxy),
	    cmocka_unit_test(test_crc32c),
	    cmocka_unit_test(test_cidr_parse),
	    cmocka_unit_test(test_trusted),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
