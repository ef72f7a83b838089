/* Protocol guess from the first bytes a client sends on an unknown port.
 * Each detector says NO, MAYBE (the bytes so far are a prefix of its
 * signature) or YES; the first YES in priority order wins. */
#include <string.h>

#include "net/net.h"

enum verdict { NO = 0, MAYBE = 1, YES = 2 };

static const char *const labels[NET_SNIFF_COUNT] = {
    [NET_SNIFF_NEED_MORE] = "need-more",
    [NET_SNIFF_UNKNOWN] = "unknown",
    [NET_SNIFF_TEXT] = "text",
    [NET_SNIFF_BINARY] = "binary",
    [NET_SNIFF_HTTP] = "http",
    [NET_SNIFF_HTTP2] = "http2",
    [NET_SNIFF_TLS] = "tls",
    [NET_SNIFF_SSLV2] = "sslv2",
    [NET_SNIFF_DNS] = "dns",
    [NET_SNIFF_PROXY_V1] = "proxy-v1",
    [NET_SNIFF_PROXY_V2] = "proxy-v2",
    [NET_SNIFF_SSH] = "ssh",
    [NET_SNIFF_SMTP] = "smtp",
    [NET_SNIFF_IRC] = "irc",
    [NET_SNIFF_SOCKS4] = "socks4",
    [NET_SNIFF_SOCKS5] = "socks5",
    [NET_SNIFF_RDP] = "rdp",
    [NET_SNIFF_SMB] = "smb",
    [NET_SNIFF_REDIS] = "redis",
};

static unsigned be16(const uint8_t *p) { return (unsigned)p[0] << 8 | p[1]; }

static uint8_t upper(uint8_t c) { return c >= 'a' && c <= 'z' ? (uint8_t)(c - 32) : c; }

/* buf against the n-byte signature s (ASCII case folded when fold). */
static enum verdict lit(const uint8_t *buf, size_t len, const char *s, size_t n, bool fold)
{
	size_t m = len < n ? len : n;

	for (size_t i = 0; i < m; i++) {
		uint8_t c = fold ? upper(buf[i]) : buf[i];
		if (c != (uint8_t)s[i])
			return NO;
	}
	return len >= n ? YES : MAYBE;
}

/* Best verdict over a list of NUL-terminated words. */
static enum verdict words(const uint8_t *buf, size_t len, const char *const *w, bool fold)
{
	enum verdict best = NO;

	for (; *w != NULL; w++) {
		enum verdict v = lit(buf, len, *w, strlen(*w), fold);
		if (v > best)
			best = v;
	}
	return best;
}

static enum verdict sniff_proxy_v1(const uint8_t *buf, size_t len)
{
	return lit(buf, len, "PROXY ", 6, false);
}

static enum verdict sniff_proxy_v2(const uint8_t *buf, size_t len)
{
	return lit(buf, len, "\r\n\r\n\0\r\nQUIT\n", 12, false);
}

static enum verdict sniff_http(const uint8_t *buf, size_t len)
{
	static const char *const methods[] = {"GET ",	 "POST ",     "HEAD ",	  "PUT ",
					      "DELETE ", "OPTIONS ",  "CONNECT ", "TRACE ",
					      "PATCH ",	 "PROPFIND ", NULL};
	enum verdict v = words(buf, len, methods, false);
	const uint8_t *sp = memchr(buf, ' ', len);

	/* The request target follows the single space. */
	if (v == YES && sp != NULL && sp + 1 < buf + len && (sp[1] <= ' ' || sp[1] >= 0x7f))
		return NO;
	return v;
}

static enum verdict sniff_http2(const uint8_t *buf, size_t len)
{
	return lit(buf, len, "PRI * HTTP/2.0\r\n", 16, false);
}

/* TLS record: handshake (22), version 3.0..3.4, plausible length, and the
 * client's first handshake message is a ClientHello (1). */
static enum verdict sniff_tls(const uint8_t *buf, size_t len)
{
	if (buf[0] != 22)
		return NO;
	if (len < 2)
		return MAYBE;
	if (buf[1] != 3)
		return NO;
	if (len < 3)
		return MAYBE;
	if (buf[2] > 4)
		return NO;
	if (len < 5)
		return MAYBE;
	if (be16(buf + 3) < 4 || be16(buf + 3) > 16384 + 2048)
		return NO;
	if (len < 6)
		return MAYBE;
	return buf[5] == 1 ? YES : NO;
}

/* SSLv2-format CLIENT-HELLO: 2-byte header with the high bit set, type 1,
 * version 0x0002 or 3.x, cipher specs (3 bytes each), session id 0 or 16,
 * challenge 16..32, lengths adding up to the record. */
static enum verdict sniff_sslv2(const uint8_t *buf, size_t len)
{
	if (!(buf[0] & 0x80))
		return NO;
	if (len < 3)
		return MAYBE;
	unsigned rec = (buf[0] & 0x7fu) << 8 | buf[1];
	if (rec < 9 + 3 + 16 || buf[2] != 1)
		return NO;
	if (len < 5)
		return MAYBE;
	if (!((buf[3] == 0 && buf[4] == 2) || (buf[3] == 3 && buf[4] <= 4)))
		return NO;
	if (len < 11)
		return MAYBE;
	unsigned cs = be16(buf + 5), sid = be16(buf + 7), ch = be16(buf + 9);
	if (cs == 0 || cs % 3 != 0 || (sid != 0 && sid != 16) || ch < 16 || ch > 32)
		return NO;
	return 9 + cs + sid + ch == rec ? YES : NO;
}

/* The question of a query at q[12..n): labels of 1..63 bytes (no
 * compression), name <= 255, then QTYPE and a plausible QCLASS. */
static enum verdict dns_question(const uint8_t *q, size_t n)
{
	size_t off = 12;

	for (;;) {
		if (off >= n)
			return MAYBE;
		uint8_t l = q[off];
		if (l > 63 || off - 12 + l + 1 > 255)
			return NO;
		off += 1 + (size_t)l;
		if (l == 0)
			break;
	}
	if (off + 4 > n)
		return MAYBE;
	unsigned qclass = be16(q + off + 2);
	return qclass == 1 || qclass == 3 || qclass == 4 || qclass == 254 || qclass == 255 ? YES
											   : NO;
}

/* A DNS query message of which n bytes are here: QR=0, opcode 0, RA=0,
 * Z=0, RCODE 0, QDCOUNT 1, no answers or authority, at most 1 additional. */
static enum verdict dns_message(const uint8_t *q, size_t n)
{
	static const uint8_t counts[8] = {0, 1, 0, 0, 0, 0, 0, 1};

	if (n < 3)
		return MAYBE;
	if (q[2] & 0xf8)
		return NO;
	if (n < 4)
		return MAYBE;
	if (q[3] & 0xcf)
		return NO;
	for (size_t i = 4; i < 12; i++) {
		if (i >= n)
			return MAYBE;
		if (q[i] > counts[i - 4] || (i == 5 && q[i] != 1))
			return NO;
	}
	return dns_question(q, n);
}

static enum verdict sniff_dns_tcp(const uint8_t *buf, size_t len)
{
	if (len < 2)
		return MAYBE;
	/* a query is short: this also keeps text (first byte >= 0x20) out */
	if (be16(buf) < 12 + 1 + 4 || be16(buf) > 4096)
		return NO;
	return dns_message(buf + 2, len - 2);
}

static enum verdict sniff_dns_udp(const uint8_t *buf, size_t len) { return dns_message(buf, len); }

static enum verdict sniff_ssh(const uint8_t *buf, size_t len)
{
	static const char *const banners[] = {"SSH-2.0-", "SSH-1.99-", "SSH-1.5-", NULL};
	return words(buf, len, banners, false);
}

static enum verdict sniff_smtp(const uint8_t *buf, size_t len)
{
	static const char *const cmds[] = {"EHLO ", "HELO ", NULL};
	return words(buf, len, cmds, true);
}

static enum verdict sniff_irc(const uint8_t *buf, size_t len)
{
	static const char *const cmds[] = {"NICK ", "USER ", "PASS ", "CAP LS", "CAP REQ ", NULL};
	return words(buf, len, cmds, true);
}

/* SOCKS4/4a: version 4, CONNECT or BIND, port, IPv4, NUL-terminated
 * printable user id. */
static enum verdict sniff_socks4(const uint8_t *buf, size_t len)
{
	if (buf[0] != 4)
		return NO;
	if (len < 2)
		return MAYBE;
	if (buf[1] != 1 && buf[1] != 2)
		return NO;
	for (size_t i = 8; i < len; i++) {
		if (buf[i] == 0)
			return YES;
		if (buf[i] < 0x20 || buf[i] > 0x7e || i >= 8 + 255)
			return NO;
	}
	return MAYBE;
}

/* SOCKS5 greeting: version 5, 1..16 methods, each a defined or private one;
 * a pipelined request after it must start with version 5 again. */
static enum verdict sniff_socks5(const uint8_t *buf, size_t len)
{
	if (buf[0] != 5)
		return NO;
	if (len < 2)
		return MAYBE;
	size_t n = buf[1];
	if (n == 0 || n > 16)
		return NO;
	for (size_t i = 2; i < len && i < 2 + n; i++)
		if (buf[i] > 9 && (buf[i] < 0x80 || buf[i] == 0xff))
			return NO;
	if (len < 2 + n)
		return MAYBE;
	return len == 2 + n || buf[2 + n] == 5 ? YES : NO;
}

/* RDP: TPKT (3, 0, length) around an X.224 Connection Request (0xE0)
 * whose length indicator covers the rest of the packet. */
static enum verdict sniff_rdp(const uint8_t *buf, size_t len)
{
	if (buf[0] != 3)
		return NO;
	if (len < 2)
		return MAYBE;
	if (buf[1] != 0)
		return NO;
	if (len < 4)
		return MAYBE;
	unsigned tl = be16(buf + 2);
	if (tl < 11 || tl > 4096)
		return NO;
	if (len < 6)
		return len < 5 || buf[4] == tl - 5 ? MAYBE : NO;
	return buf[4] == tl - 5 && (buf[5] & 0xf0) == 0xe0 ? YES : NO;
}

/* NetBIOS session message (type 0, 17-bit length) carrying SMB1 (0xFF) or
 * SMB2/3 (0xFE) "SMB". */
static enum verdict sniff_smb(const uint8_t *buf, size_t len)
{
	if (buf[0] != 0)
		return NO;
	if (len < 2)
		return MAYBE;
	if (buf[1] > 1)
		return NO;
	if (len < 4)
		return MAYBE;
	if (((unsigned)buf[1] << 16 | be16(buf + 2)) < 32)
		return NO;
	enum verdict v1 = lit(buf + 4, len - 4, "\xffSMB", 4, false);
	enum verdict v2 = lit(buf + 4, len - 4, "\xfeSMB", 4, false);
	return v1 > v2 ? v1 : v2;
}

/* RESP: "*<count>\r\n$" (an array of bulk strings, as redis-cli sends). */
static enum verdict sniff_redis(const uint8_t *buf, size_t len)
{
	size_t i = 1;

	if (buf[0] != '*')
		return NO;
	while (i < len && buf[i] >= '0' && buf[i] <= '9')
		i++;
	if (i > 7 || (i < len && i == 1))
		return NO;
	return lit(buf + i, len - i, "\r\n$", 3, false);
}

typedef enum verdict (*detector_fn)(const uint8_t *buf, size_t len);

/* Priority order: the first YES wins. */
static const struct {
	detector_fn fn;
	enum net_proto_guess guess;
} detectors[] = {
    {sniff_proxy_v2, NET_SNIFF_PROXY_V2}, {sniff_proxy_v1, NET_SNIFF_PROXY_V1},
    {sniff_tls, NET_SNIFF_TLS},		  {sniff_sslv2, NET_SNIFF_SSLV2},
    {sniff_http2, NET_SNIFF_HTTP2},	  {sniff_http, NET_SNIFF_HTTP},
    {sniff_ssh, NET_SNIFF_SSH},		  {sniff_smb, NET_SNIFF_SMB},
    {sniff_rdp, NET_SNIFF_RDP},		  {sniff_dns_tcp, NET_SNIFF_DNS},
    {sniff_dns_udp, NET_SNIFF_DNS},	  {sniff_socks4, NET_SNIFF_SOCKS4},
    {sniff_socks5, NET_SNIFF_SOCKS5},	  {sniff_redis, NET_SNIFF_REDIS},
    {sniff_smtp, NET_SNIFF_SMTP},	  {sniff_irc, NET_SNIFF_IRC},
};

static bool is_text(const uint8_t *buf, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if ((buf[i] < 0x20 || buf[i] > 0x7e) && buf[i] != '\t' && buf[i] != '\r' &&
		    buf[i] != '\n')
			return false;
	return true;
}

static enum net_proto_guess sniff(const uint8_t *buf, size_t len, bool final)
{
	bool maybe = false;

	if (len == 0)
		return final ? NET_SNIFF_UNKNOWN : NET_SNIFF_NEED_MORE;
	for (size_t i = 0; i < sizeof(detectors) / sizeof(detectors[0]); i++) {
		enum verdict v = detectors[i].fn(buf, len);
		if (v == YES)
			return detectors[i].guess;
		maybe = maybe || v == MAYBE;
	}
	if (!final && (maybe || len < 3))
		return NET_SNIFF_NEED_MORE;
	return is_text(buf, len) ? NET_SNIFF_TEXT : NET_SNIFF_BINARY;
}

const char *net_sniff_label(enum net_proto_guess guess)
{
	if ((unsigned)guess >= NET_SNIFF_COUNT)
		return "unknown";
	return labels[guess];
}

enum net_proto_guess net_sniff(const uint8_t *buf, size_t len, const char **label)
{
	enum net_proto_guess g = sniff(buf, len, false);

	if (label != NULL)
		*label = net_sniff_label(g);
	return g;
}

enum net_proto_guess net_sniff_final(const uint8_t *buf, size_t len, const char **label)
{
	enum net_proto_guess g = sniff(buf, len, true);

	if (label != NULL)
		*label = net_sniff_label(g);
	return g;
}
