/* Events as ClickHouse TabSeparated rows, and gzip. The column order here
 * and in cluster_columns (the CREATE TABLE) is one list: change both. */
#include "cluster/cluster_internal.h"

#include "core/error.h"

#include <arpa/inet.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

const char cluster_columns[] =
    "node String, id Int64, ts DateTime, ts_ns UInt64, kind UInt8, transport UInt8,"
    " flags UInt32, src_ip String, src_port UInt16, src_net String, dst_ip String,"
    " dst_port UInt16, zone String, qname String, qtype UInt16, rcode UInt16,"
    " family String, rule_id String, tag String, severity UInt8, msg_type String,"
    " proto_version String, bot_id String, decode_status String, country String,"
    " asn UInt32, conn_id UInt64, method String, target String, http_status UInt16,"
    " body_len UInt32, proto String, user_agent String, referer String, ja3_md5 String,"
    " ja4 String";

static int reserve(struct tsv_buf *b, size_t more)
{
	if (b->len + more <= b->cap)
		return 0;
	size_t cap = b->cap ? b->cap : 65536;
	while (cap < b->len + more)
		cap *= 2;
	char *p = realloc(b->p, cap);
	if (p == NULL)
		return SINKD_ENOMEM;
	b->p = p;
	b->cap = cap;
	return 0;
}

void tsv_buf_free(struct tsv_buf *b)
{
	free(b->p);
	memset(b, 0, sizeof(*b));
}

/* A string field, escaped as TabSeparated wants (\\ \t \n \r \0). */
static int put_str(struct tsv_buf *b, const char *s, size_t n, char sep)
{
	if (reserve(b, 2 * n + 1) != 0)
		return SINKD_ENOMEM;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		const char *esc = c == '\\'   ? "\\\\"
				  : c == '\t' ? "\\t"
				  : c == '\n' ? "\\n"
				  : c == '\r' ? "\\r"
				  : c == '\0' ? "\\0"
					      : NULL;
		if (esc != NULL) {
			b->p[b->len++] = esc[0];
			b->p[b->len++] = esc[1];
		} else {
			b->p[b->len++] = c;
		}
	}
	b->p[b->len++] = sep;
	return 0;
}

static int put_cstr(struct tsv_buf *b, const char *s, size_t max, char sep)
{
	return put_str(b, s, strnlen(s, max), sep);
}

static int put_payload(struct tsv_buf *b, const struct sinkd_event *ev, uint8_t type, char sep)
{
	const uint8_t *data;
	size_t len;
	if (event_payload_get(ev, type, &data, &len) != 0)
		len = 0;
	/* Bounded: the column is for reports, the full text stays in SQLite. */
	return put_str(b, len ? (const char *)data : "", len > 4096 ? 4096 : len, sep);
}

__attribute__((format(printf, 2, 3))) static int put_fmt(struct tsv_buf *b, const char *fmt, ...)
{
	if (reserve(b, 128) != 0)
		return SINKD_ENOMEM;
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(b->p + b->len, 128, fmt, ap);
	va_end(ap);
	if (n < 0 || n >= 128)
		return SINKD_EINVAL;
	b->len += (size_t)n;
	return 0;
}

/* The network a source is counted under: IPv4 /24, IPv6 /64. */
static void source_net(const struct event_addr *a, char *buf, size_t len)
{
	struct event_addr net = *a;
	if (event_addr_is_v4(a)) {
		net.ip[15] = 0;
		char ip[48];
		snprintf(buf, len, "%s/24", event_addr_str(&net, ip, sizeof(ip)));
	} else {
		memset(net.ip + 8, 0, 8);
		char ip[48];
		snprintf(buf, len, "%s/64", event_addr_str(&net, ip, sizeof(ip)));
	}
}

static int put_event(struct tsv_buf *b, const char *node, const struct sinkd_event *ev, int64_t id)
{
	char src[48], dst[48], net[64];
	event_addr_str(&ev->src, src, sizeof(src));
	event_addr_str(&ev->dst, dst, sizeof(dst));
	source_net(&ev->src, net, sizeof(net));
	int ret = put_cstr(b, node, 64, '\t');
	ret |= put_fmt(b, "%" PRId64 "\t%" PRIu64 "\t%" PRIu64 "\t%u\t%u\t%u\t", id,
		       ev->ts_ns / 1000000000u, ev->ts_ns, ev->kind, ev->transport, ev->flags);
	ret |= put_cstr(b, src, sizeof(src), '\t');
	ret |= put_fmt(b, "%u\t", ev->src.port);
	ret |= put_cstr(b, net, sizeof(net), '\t');
	ret |= put_cstr(b, dst, sizeof(dst), '\t');
	ret |= put_fmt(b, "%u\t", ev->dst.port);
	ret |= put_cstr(b, ev->zone, sizeof(ev->zone), '\t');
	ret |= put_cstr(b, ev->qname, sizeof(ev->qname), '\t');
	ret |= put_fmt(b, "%u\t%u\t", ev->qtype, ev->rcode);
	ret |= put_cstr(b, ev->family, sizeof(ev->family), '\t');
	ret |= put_cstr(b, ev->rule_id, sizeof(ev->rule_id), '\t');
	ret |= put_cstr(b, ev->tag, sizeof(ev->tag), '\t');
	ret |= put_fmt(b, "%u\t", ev->severity);
	ret |= put_cstr(b, ev->msg_type, sizeof(ev->msg_type), '\t');
	ret |= put_cstr(b, ev->proto_version, sizeof(ev->proto_version), '\t');
	ret |= put_cstr(b, ev->bot_id, sizeof(ev->bot_id), '\t');
	ret |= put_cstr(b, ev->decode_status, sizeof(ev->decode_status), '\t');
	ret |= put_cstr(b, ev->country, sizeof(ev->country), '\t');
	ret |= put_fmt(b, "%u\t%" PRIu64 "\t", ev->asn, ev->conn_id);
	ret |= put_cstr(b, ev->http_method, sizeof(ev->http_method), '\t');
	ret |= put_payload(b, ev, EVP_TARGET, '\t');
	ret |= put_fmt(b, "%u\t%u\t", ev->http_status, ev->body_len);
	ret |= put_cstr(b, ev->proto, sizeof(ev->proto), '\t');
	ret |= put_payload(b, ev, EVP_USER_AGENT, '\t');
	ret |= put_payload(b, ev, EVP_REFERER, '\t');
	ret |= put_payload(b, ev, EVP_TLS_JA3_MD5, '\t');
	ret |= put_payload(b, ev, EVP_TLS_JA4, '\n');
	return ret != 0 ? SINKD_ENOMEM : 0;
}

int cluster_tsv_events(struct tsv_buf *b, const char *node, const struct sinkd_event *ev,
		       const int64_t *ids, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (put_event(b, node, &ev[i], ids[i]) != 0)
			return SINKD_ENOMEM;
	}
	return 0;
}

int cluster_gzip(const void *src, size_t len, uint8_t **out, size_t *out_len)
{
	z_stream z;
	memset(&z, 0, sizeof(z));
	/* windowBits 15 + 16: a gzip header, which Content-Encoding: gzip wants. */
	if (deflateInit2(&z, 1, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
		return SINKD_ENOMEM;
	size_t cap = deflateBound(&z, len) + 32;
	uint8_t *buf = malloc(cap);
	if (buf == NULL) {
		deflateEnd(&z);
		return SINKD_ENOMEM;
	}
	z.next_in = (Bytef *)src;
	z.avail_in = (uInt)len;
	z.next_out = buf;
	z.avail_out = (uInt)cap;
	int rc = deflate(&z, Z_FINISH);
	deflateEnd(&z);
	if (rc != Z_STREAM_END) {
		free(buf);
		return SINKD_EIO;
	}
	*out = buf;
	*out_len = cap - z.avail_out;
	return 0;
}
