/* HAProxy PROXY protocol v1 (text) and v2 (binary) header parser, CRC32c,
 * and the trusted-proxy CIDR check. Spec: haproxy doc/proxy-protocol.txt. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>

#include "core/error.h"
#include "net/net.h"

#define V2_HDR_LEN 16
#define V2_SIG_LEN 12
#define V1_SIG "PROXY "
#define V1_SIG_LEN 6

enum {
	PP2_TYPE_ALPN = 0x01,
	PP2_TYPE_AUTHORITY = 0x02,
	PP2_TYPE_CRC32C = 0x03,
	PP2_TYPE_UNIQUE_ID = 0x05,
	PP2_TYPE_SSL = 0x20,
	PP2_SUBTYPE_SSL_VERSION = 0x21,
	PP2_SUBTYPE_SSL_CN = 0x22,
	PP2_SUBTYPE_SSL_CIPHER = 0x23,
};

static const uint8_t v2_sig[V2_SIG_LEN] = {0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d,
					   0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a};

/* CRC32c of each nibble value, reflected polynomial 0x82F63B78. */
static const uint32_t crc32c_nibble[16] = {
    0x00000000, 0x105ec76f, 0x20bd8ede, 0x30e349b1, 0x417b1dbc, 0x5125dad3, 0x61c69362, 0x7198540d,
    0x82f63b78, 0x92a8fc17, 0xa24bb5a6, 0xb21572c9, 0xc38d26c4, 0xd3d3e1ab, 0xe330a81a, 0xf36e6f75,
};

static uint32_t crc32c_update(uint32_t crc, const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		crc ^= p[i];
		crc = (crc >> 4) ^ crc32c_nibble[crc & 0x0f];
		crc = (crc >> 4) ^ crc32c_nibble[crc & 0x0f];
	}
	return crc;
}

uint32_t proxy_crc32c(const uint8_t *buf, size_t len)
{
	return ~crc32c_update(0xffffffffu, buf, len);
}

static int fail(struct proxy_info *out, const char *why)
{
	out->error = why;
	return SINKD_EMALF;
}

static int more(struct proxy_info *out)
{
	out->error = "incomplete header";
	return SINKD_EAGAIN;
}

static uint16_t be16(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }

static uint32_t be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* port is in network order. */
static void set_port(struct sockaddr_storage *ss, uint16_t port)
{
	if (ss->ss_family == AF_INET)
		((struct sockaddr_in *)ss)->sin_port = port;
	else
		((struct sockaddr_in6 *)ss)->sin6_port = port;
}

static void set_addr(struct sockaddr_storage *ss, int af, const uint8_t *ip)
{
	if (af == AF_INET) {
		struct sockaddr_in *sin = (struct sockaddr_in *)ss;
		sin->sin_family = AF_INET;
		memcpy(&sin->sin_addr, ip, 4);
	} else {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;
		sin6->sin6_family = AF_INET6;
		memcpy(&sin6->sin6_addr, ip, 16);
	}
}

/* ---- v1 ---------------------------------------------------------------- */

/* Decimal 0..65535, no sign, no leading zero. A partial token only has to
 * be a prefix of such a number. */
static bool v1_port(const char *p, size_t n, bool partial, uint16_t *port)
{
	unsigned v = 0;

	if (n == 0)
		return partial;
	if (n > 5 || (p[0] == '0' && n > 1))
		return false;
	for (size_t i = 0; i < n; i++) {
		if (p[i] < '0' || p[i] > '9')
			return false;
		v = v * 10 + (unsigned)(p[i] - '0');
	}
	if (v > 65535)
		return false;
	*port = htons((uint16_t)v);
	return true;
}

static bool v1_addr(const char *p, size_t n, int af, bool partial, struct sockaddr_storage *ss)
{
	char text[INET6_ADDRSTRLEN];
	uint8_t ip[16];
	size_t max = af == AF_INET ? INET_ADDRSTRLEN - 1 : INET6_ADDRSTRLEN - 1;

	if (n > max)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = p[i];
		bool ok = (c >= '0' && c <= '9') || c == '.';
		if (af == AF_INET6)
			ok = ok || c == ':' || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
		if (!ok)
			return false;
	}
	if (partial)
		return true;
	memcpy(text, p, n);
	text[n] = '\0';
	if (inet_pton(af, text, ip) != 1)
		return false;
	set_addr(ss, af, ip);
	return true;
}

/* Field f (0 src, 1 dst, 2 sport, 3 dport) of a TCP4/TCP6 line. */
static bool v1_field(int f, const char *p, size_t n, bool partial, struct proxy_info *out)
{
	uint16_t port = 0;

	if (f < 2)
		return v1_addr(p, n, out->family, partial, f == 0 ? &out->src : &out->dst);
	if (!v1_port(p, n, partial, &port))
		return false;
	if (!partial)
		set_port(f == 2 ? &out->src : &out->dst, port);
	return true;
}

/* The protocol token p[0..n): sets family/transport; false if not valid
 * (or, when partial, not a prefix of a valid one). */
static bool v1_proto(const char *p, size_t n, bool partial, struct proxy_info *out)
{
	static const char *const names[] = {"TCP4", "TCP6", "UNKNOWN"};
	static const int fams[] = {AF_INET, AF_INET6, AF_UNSPEC};

	for (int i = 0; i < 3; i++) {
		size_t len = strlen(names[i]);
		if (partial ? n > len || memcmp(p, names[i], n) != 0
			    : n != len || memcmp(p, names[i], n) != 0)
			continue;
		out->family = (uint8_t)fams[i];
		out->transport = i < 2 ? PROXY_TRANSPORT_TCP : PROXY_TRANSPORT_UNSPEC;
		return true;
	}
	return false;
}

/* The line after "PROXY " up to (not including) CRLF, or all bytes seen so
 * far when partial. 0, SINKD_EAGAIN (partial and still a valid prefix) or
 * SINKD_EMALF. */
static int v1_line(const char *line, size_t n, bool partial, struct proxy_info *out)
{
	static const char *const bad[4] = {"v1: bad source address", "v1: bad destination address",
					   "v1: bad source port", "v1: bad destination port"};
	size_t pos = 0;

	while (pos < n && line[pos] != ' ')
		pos++;
	if (!v1_proto(line, pos, partial && pos == n, out))
		return fail(out, "v1: bad protocol (want TCP4, TCP6 or UNKNOWN)");
	if (out->family == AF_UNSPEC) /* UNKNOWN: the rest of the line is ignored */
		return partial ? more(out) : 0;
	for (int f = 0; f < 4; f++) {
		if (pos >= n)
			return partial ? more(out) : fail(out, "v1: missing field before CRLF");
		size_t start = ++pos;
		while (pos < n && line[pos] != ' ')
			pos++;
		bool tail = partial && pos == n;
		if (pos == start && !tail)
			return fail(out, "v1: empty field (double space)");
		if (!v1_field(f, line + start, pos - start, tail, out))
			return fail(out, bad[f]);
	}
	if (pos < n)
		return fail(out, pos + 1 == n ? "v1: trailing space before CRLF"
					      : "v1: extra field after destination port");
	if (partial)
		return more(out);
	out->has_addr = true;
	return 0;
}

static int v1_parse(const uint8_t *buf, size_t len, struct proxy_info *out, size_t *consumed)
{
	size_t n = len < PROXY_V1_MAX ? len : PROXY_V1_MAX;
	const char *line = (const char *)buf + V1_SIG_LEN;
	size_t eol = V1_SIG_LEN;

	out->version = 1;
	out->command = PROXY_CMD_PROXY;
	if (memcmp(buf, V1_SIG, n < V1_SIG_LEN ? n : V1_SIG_LEN) != 0)
		return fail(out, "v1: bad signature (want \"PROXY \")");
	if (n < V1_SIG_LEN)
		return more(out);
	while (eol < n && buf[eol] != '\r' && buf[eol] != '\n')
		eol++;
	if (eol == n) {
		if (n == PROXY_V1_MAX)
			return fail(out, "v1: no CRLF within 107 bytes");
		return v1_line(line, n - V1_SIG_LEN, true, out);
	}
	if (buf[eol] == '\n')
		return fail(out, "v1: LF without CR");
	if (eol + 1 == n && n == PROXY_V1_MAX)
		return fail(out, "v1: no CRLF within 107 bytes");
	if (eol + 1 < n && buf[eol + 1] != '\n')
		return fail(out, "v1: CR without LF");
	int rc = v1_line(line, eol - V1_SIG_LEN, false, out);
	if (rc != 0)
		return rc;
	if (eol + 1 == n) { /* line complete and valid, LF not here yet */
		out->has_addr = false;
		return more(out);
	}
	*consumed = eol + 2;
	return 0;
}

/* ---- v2 ---------------------------------------------------------------- */

/* Next TLV at *off in p[..end): 1 (type, value at *off, *vlen; *off moves
 * past it), 0 at end, -1 if it overruns end. */
static int tlv_next(const uint8_t *p, size_t *off, size_t end, uint8_t *type, size_t *vlen)
{
	if (*off >= end)
		return 0;
	if (end - *off < 3)
		return -1;
	*type = p[*off];
	*vlen = be16(p + *off + 1);
	*off += 3;
	if (*vlen > end - *off)
		return -1;
	*off += *vlen;
	return 1;
}

static void copy_text(char *dst, size_t cap, const uint8_t *v, size_t n, struct proxy_info *out)
{
	if (n >= cap) {
		n = cap - 1;
		out->tlv |= PROXY_TLV_TRUNCATED;
	}
	memcpy(dst, v, n);
	dst[n] = '\0';
}

static uint8_t copy_bytes(uint8_t *dst, size_t cap, const uint8_t *v, size_t n,
			  struct proxy_info *out)
{
	if (n > cap) {
		n = cap;
		out->tlv |= PROXY_TLV_TRUNCATED;
	}
	memcpy(dst, v, n);
	return (uint8_t)n;
}

static int v2_ssl(const uint8_t *v, size_t n, struct proxy_info *out)
{
	size_t off = 5, vlen = 0;
	uint8_t type = 0;
	int rc;

	if (n < 5)
		return fail(out, "v2: SSL TLV shorter than 5 bytes");
	out->tlv |= PROXY_TLV_SSL;
	out->ssl_client = v[0];
	out->ssl_verify = be32(v + 1);
	while ((rc = tlv_next(v, &off, n, &type, &vlen)) > 0) {
		const uint8_t *val = v + off - vlen;
		if (type == PP2_SUBTYPE_SSL_VERSION) {
			copy_text(out->ssl_version, sizeof(out->ssl_version), val, vlen, out);
			out->tlv |= PROXY_TLV_SSL_VERSION;
		} else if (type == PP2_SUBTYPE_SSL_CIPHER) {
			copy_text(out->ssl_cipher, sizeof(out->ssl_cipher), val, vlen, out);
			out->tlv |= PROXY_TLV_SSL_CIPHER;
		} else if (type == PP2_SUBTYPE_SSL_CN) {
			copy_text(out->ssl_cn, sizeof(out->ssl_cn), val, vlen, out);
			out->tlv |= PROXY_TLV_SSL_CN;
		}
	}
	return rc < 0 ? fail(out, "v2: SSL sub-TLV overruns the SSL TLV") : 0;
}

/* One top-level TLV whose value is h[at..at+vlen). */
static int v2_tlv(uint8_t type, const uint8_t *h, size_t at, size_t vlen, size_t *crc_at,
		  struct proxy_info *out)
{
	const uint8_t *v = h + at;

	switch (type) {
	case PP2_TYPE_ALPN:
		out->alpn_len = copy_bytes(out->alpn, sizeof(out->alpn), v, vlen, out);
		out->tlv |= PROXY_TLV_ALPN;
		return 0;
	case PP2_TYPE_AUTHORITY:
		copy_text(out->authority, sizeof(out->authority), v, vlen, out);
		out->tlv |= PROXY_TLV_AUTHORITY;
		return 0;
	case PP2_TYPE_CRC32C:
		if (vlen != 4)
			return fail(out, "v2: CRC32C TLV length is not 4");
		if (*crc_at != 0)
			return fail(out, "v2: duplicate CRC32C TLV");
		*crc_at = at;
		return 0;
	case PP2_TYPE_UNIQUE_ID:
		out->unique_id_len =
		    copy_bytes(out->unique_id, sizeof(out->unique_id), v, vlen, out);
		out->tlv |= PROXY_TLV_UNIQUE_ID;
		return 0;
	case PP2_TYPE_SSL:
		return v2_ssl(v, vlen, out);
	default:
		out->tlv |= PROXY_TLV_OTHER;
		return 0;
	}
}

/* CRC32c of h[0..total) with the 4 checksum bytes at crc_at taken as 0. */
static bool v2_crc_ok(const uint8_t *h, size_t total, size_t crc_at)
{
	static const uint8_t zero[4];
	uint32_t crc = crc32c_update(0xffffffffu, h, crc_at);

	crc = crc32c_update(crc, zero, 4);
	crc = ~crc32c_update(crc, h + crc_at + 4, total - crc_at - 4);
	return crc == be32(h + crc_at);
}

static int v2_tlvs(const uint8_t *h, size_t total, size_t off, struct proxy_info *out)
{
	size_t crc_at = 0, vlen = 0;
	uint8_t type = 0;
	int rc;

	while ((rc = tlv_next(h, &off, total, &type, &vlen)) > 0) {
		int err = v2_tlv(type, h, off - vlen, vlen, &crc_at, out);
		if (err != 0)
			return err;
	}
	if (rc < 0)
		return fail(out, "v2: TLV overruns the header length");
	if (crc_at != 0) {
		if (!v2_crc_ok(h, total, crc_at))
			return fail(out, "v2: CRC32C mismatch");
		out->tlv |= PROXY_TLV_CRC32C;
	}
	return 0;
}

/* The complete header h[0..total): addresses, then TLVs. */
static int v2_body(const uint8_t *h, size_t total, struct proxy_info *out)
{
	static const uint16_t addr_len[4] = {0, 12, 36, 216};
	static const uint8_t fams[4] = {AF_UNSPEC, AF_INET, AF_INET6, AF_UNIX};
	static const char *const short_msg[4] = {
	    "", "v2: address length too short for AF_INET (need 12)",
	    "v2: address length too short for AF_INET6 (need 36)",
	    "v2: address length too short for AF_UNIX (need 216)"};
	unsigned fam = h[13] >> 4, proto = h[13] & 0x0f;
	size_t alen = addr_len[fam];

	out->family = fams[fam];
	out->transport = (uint8_t)proto; /* 0 UNSPEC, 1 STREAM, 2 DGRAM */
	if (total - V2_HDR_LEN < alen) {
		/* LOCAL: "discard the protocol block including the family" */
		return out->command == PROXY_CMD_LOCAL ? 0 : fail(out, short_msg[fam]);
	}
	if (out->command == PROXY_CMD_PROXY && (fam == 1 || fam == 2) && proto != 0) {
		size_t iplen = fam == 1 ? 4 : 16;
		const uint8_t *a = h + V2_HDR_LEN;
		uint16_t sport, dport;
		set_addr(&out->src, out->family, a);
		set_addr(&out->dst, out->family, a + iplen);
		memcpy(&sport, a + 2 * iplen, 2);
		memcpy(&dport, a + 2 * iplen + 2, 2);
		set_port(&out->src, sport);
		set_port(&out->dst, dport);
		out->has_addr = true;
	}
	return v2_tlvs(h, total, V2_HDR_LEN + alen, out);
}

static int v2_parse(const uint8_t *buf, size_t len, struct proxy_info *out, size_t *consumed)
{
	out->version = 2;
	if (memcmp(buf, v2_sig, len < V2_SIG_LEN ? len : V2_SIG_LEN) != 0)
		return fail(out, "v2: bad signature");
	if (len <= V2_SIG_LEN)
		return more(out);
	if (buf[12] >> 4 != 2)
		return fail(out, "v2: version is not 2");
	if ((buf[12] & 0x0f) > PROXY_CMD_PROXY)
		return fail(out, "v2: unknown command (want LOCAL or PROXY)");
	out->command = buf[12] & 0x0f;
	if (len < 14)
		return more(out);
	if (buf[13] >> 4 > 3)
		return fail(out, "v2: unknown address family");
	if ((buf[13] & 0x0f) > 2)
		return fail(out, "v2: unknown transport protocol");
	if (len < V2_HDR_LEN)
		return more(out);
	size_t total = V2_HDR_LEN + (size_t)be16(buf + 14);
	if (total > PROXY_HDR_MAX)
		return fail(out, "v2: header longer than PROXY_HDR_MAX (2048 bytes)");
	if (len < total)
		return more(out);
	int rc = v2_body(buf, total, out);
	if (rc == 0)
		*consumed = total;
	return rc;
}

int proxy_parse(const uint8_t *buf, size_t len, struct proxy_info *out, size_t *consumed)
{
	memset(out, 0, sizeof(*out));
	if (len == 0)
		return more(out);
	if (buf[0] == 'P')
		return v1_parse(buf, len, out, consumed);
	if (buf[0] == '\r')
		return v2_parse(buf, len, out, consumed);
	return fail(out, "not a PROXY protocol header");
}

/* ---- trusted proxies ---------------------------------------------------- */

static int cidr_prefix(const char *p, unsigned max, unsigned *prefix)
{
	unsigned v = 0;
	size_t n = strlen(p);

	if (n == 0 || (p[0] == '0' && n > 1))
		return SINKD_EINVAL;
	for (size_t i = 0; i < n; i++) {
		if (p[i] < '0' || p[i] > '9')
			return SINKD_EINVAL;
		if (i >= 3)
			return SINKD_ERANGE;
		v = v * 10 + (unsigned)(p[i] - '0');
	}
	if (v > max)
		return SINKD_ERANGE;
	*prefix = v;
	return 0;
}

/* True when the first prefix bits of a and b are equal. */
static bool prefix_equal(const uint8_t *a, const uint8_t *b, unsigned prefix)
{
	unsigned bytes = prefix / 8, bits = prefix % 8;

	if (memcmp(a, b, bytes) != 0)
		return false;
	if (bits == 0)
		return true;
	uint8_t mask = (uint8_t)(0xff << (8 - bits));
	return (a[bytes] & mask) == (b[bytes] & mask);
}

int net_cidr_parse(const char *text, struct net_cidr *out)
{
	char addr[INET6_ADDRSTRLEN];
	const char *slash = strchr(text, '/');
	size_t n = slash != NULL ? (size_t)(slash - text) : strlen(text);
	unsigned max;

	memset(out, 0, sizeof(*out));
	if (n == 0 || n >= sizeof(addr))
		return SINKD_EINVAL;
	memcpy(addr, text, n);
	addr[n] = '\0';
	if (inet_pton(AF_INET, addr, out->addr) == 1)
		out->af = AF_INET, max = 32;
	else if (inet_pton(AF_INET6, addr, out->addr) == 1)
		out->af = AF_INET6, max = 128;
	else
		return SINKD_EINVAL;
	out->prefix = max;
	if (slash != NULL) {
		int rc = cidr_prefix(slash + 1, max, &out->prefix);
		if (rc != 0)
			return rc;
	}
	/* Host bits set ("10.1.0.0/8") is an error, not silently widened. */
	uint8_t host[16];
	memcpy(host, out->addr, sizeof(host));
	for (unsigned bit = out->prefix; bit < max; bit++)
		host[bit / 8] &= (uint8_t) ~(0x80 >> (bit % 8));
	if (memcmp(host, out->addr, sizeof(host)) != 0)
		return SINKD_EINVAL;
	return 0;
}

bool net_cidr_match(const struct net_cidr *cidr, const struct sockaddr_storage *addr)
{
	const uint8_t *ip;
	int af = addr->ss_family;

	if (af == AF_INET) {
		ip = (const uint8_t *)&((const struct sockaddr_in *)addr)->sin_addr;
	} else if (af == AF_INET6) {
		const struct in6_addr *a6 = &((const struct sockaddr_in6 *)addr)->sin6_addr;
		ip = a6->s6_addr;
		if (IN6_IS_ADDR_V4MAPPED(a6)) {
			af = AF_INET;
			ip += 12;
		}
	} else {
		return false;
	}
	return af == cidr->af && prefix_equal(ip, cidr->addr, cidr->prefix);
}

bool proxy_trusted(const struct sockaddr_storage *peer, const struct net_cidr *trusted, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (net_cidr_match(&trusted[i], peer))
			return true;
	return false;
}
