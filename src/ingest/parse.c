/* The ingest format's reader: one JSON line into the event record and
 * payload sections a listener would have produced (docs/ingest.md). */
#include "ingest/ingest.h"
#include "ingest/ingest_internal.h"

#include "core/error.h"
#include "domains/domains.h"
#include "store/store.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <jansson.h>
#include <openssl/evp.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

/* Parse state of one line. */
struct line {
	json_t *root;
	struct ingest_record *rec;
	char *err;
	size_t errlen;
};

static int fail(struct line *l, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(l->err, l->errlen, fmt, ap);
	va_end(ap);
	return SINKD_EINVAL;
}

/* Keys each kind accepts (bit per kind), so a misplaced field is an error
 * instead of being dropped silently. */
enum {
	K_DNS = 1 << EVENT_DNS,
	K_HTTP = 1 << EVENT_HTTP,
	K_TLS = 1 << EVENT_TLS,
	K_RAW = 1 << EVENT_RAW,
	K_CONN = K_HTTP | K_TLS | K_RAW,
	K_ALL = K_DNS | K_CONN
};

static const struct {
	const char *key;
	unsigned kinds;
} known_keys[] = {
    {"ts", K_ALL},	 {"kind", K_ALL},     {"transport", K_ALL},	{"src", K_ALL},
    {"dst", K_ALL},	 {"proxy", K_ALL},    {"flags", K_ALL},		{"labels", K_ALL},
    {"conn_id", K_CONN}, {"raw", K_CONN},     {"qname", K_DNS},		{"qtype", K_DNS},
    {"qclass", K_DNS},	 {"rcode", K_DNS},    {"msg_size", K_DNS},	{"ecs", K_DNS},
    {"count", K_DNS},	 {"host", K_HTTP},    {"method", K_HTTP},	{"target", K_HTTP},
    {"version", K_HTTP}, {"headers", K_HTTP}, {"body", K_HTTP},		{"body_len", K_HTTP},
    {"status", K_HTTP},	 {"sni", K_TLS},      {"ja3", K_TLS},		{"ja3_md5", K_TLS},
    {"ja4", K_TLS},	 {"hello", K_TLS},    {"proto", K_RAW | K_TLS}, {"bytes", K_RAW},
};

static const char *const kind_names[] = {
    [EVENT_DNS] = "dns", [EVENT_HTTP] = "http", [EVENT_TLS] = "tls", [EVENT_RAW] = "raw"};

static int check_keys(struct line *l, uint8_t kind)
{
	const char *key;
	json_t *v;
	json_object_foreach(l->root, key, v)
	{
		size_t i = 0;
		while (i < sizeof(known_keys) / sizeof(known_keys[0]) &&
		       strcmp(known_keys[i].key, key) != 0)
			i++;
		if (i == sizeof(known_keys) / sizeof(known_keys[0]))
			return fail(l, "unknown key \"%s\"", key);
		if ((known_keys[i].kinds & (1u << kind)) == 0)
			return fail(l, "\"%s\" does not apply to kind %s", key, kind_names[kind]);
	}
	return 0;
}

static int parse_ts(struct line *l, struct sinkd_event *ev)
{
	json_t *v = json_object_get(l->root, "ts");
	if (v == NULL)
		return fail(l, "missing \"ts\"");
	if (json_is_integer(v) && json_integer_value(v) >= 0) {
		ev->ts_ns = (uint64_t)json_integer_value(v);
		return 0;
	}
	if (json_is_string(v) && ingest_time_parse(json_string_value(v), &ev->ts_ns) == 0)
		return 0;
	return fail(l, "\"ts\": expected an RFC 3339 time (2026-01-01T00:00:00.123456789Z or "
		       "+01:00) or integer nanoseconds since 1970");
}

static int get_addr(struct line *l, const char *key, bool required, struct event_addr *a)
{
	json_t *v = json_object_get(l->root, key);
	if (v == NULL && !required)
		return 0;
	if (v == NULL)
		return fail(l, "missing \"%s\"", key);
	if (!json_is_string(v) || ingest_addr_parse(json_string_value(v), a) != 0)
		return fail(l, "\"%s\": expected ADDRESS:PORT (192.0.2.1:80 or [2001:db8::1]:80)",
			    key);
	return 0;
}

/* An optional string; *out NULL when absent. */
static int get_str(struct line *l, const char *key, const char **out, size_t *len)
{
	json_t *v = json_object_get(l->root, key);
	*out = NULL;
	if (v == NULL)
		return 0;
	if (!json_is_string(v))
		return fail(l, "\"%s\": expected a string", key);
	*out = json_string_value(v);
	if (len != NULL)
		*len = json_string_length(v);
	return 0;
}

/* An optional string copied into a fixed field of cap bytes. */
static int get_field(struct line *l, const char *key, char *dst, size_t cap)
{
	const char *s;
	size_t len;
	int ret = get_str(l, key, &s, &len);
	if (ret != 0 || s == NULL)
		return ret;
	if (len >= cap || memchr(s, '\0', len) != NULL)
		return fail(l, "\"%s\": longer than %zu bytes or holds a NUL", key, cap - 1);
	memcpy(dst, s, len + 1);
	return 0;
}

/* An optional integer in [min, max]; *out untouched when absent. */
static int get_int(struct line *l, const char *key, int64_t min, int64_t max, int64_t *out)
{
	json_t *v = json_object_get(l->root, key);
	if (v == NULL)
		return 0;
	if (!json_is_integer(v) || json_integer_value(v) < min || json_integer_value(v) > max)
		return fail(l, "\"%s\": expected an integer from %lld to %lld", key, (long long)min,
			    (long long)max);
	*out = json_integer_value(v);
	return 0;
}

static int add_section(struct line *l, uint8_t type, const void *data, size_t len)
{
	struct sinkd_event *ev = &l->rec->ev;
	if (event_payload_add(l->rec->payload, sizeof(l->rec->payload), &ev->payload_len, type,
			      data, len) != 0)
		return fail(l, "the event's variable fields exceed %u bytes",
			    (unsigned)EVENT_PAYLOAD_MAX);
	return 0;
}

static int add_str_section(struct line *l, const char *key, uint8_t type)
{
	const char *s;
	size_t len;
	int ret = get_str(l, key, &s, &len);
	if (ret == 0 && s != NULL)
		ret = add_section(l, type, s, len);
	return ret;
}

/* Standard base64 (padding required) into rec->scratch. */
static int get_base64(struct line *l, const char *key, const uint8_t **out, size_t *len)
{
	const char *s;
	size_t n;
	int ret = get_str(l, key, &s, &n);
	*out = NULL;
	if (ret != 0 || s == NULL)
		return ret;
	if (n % 4 != 0)
		return fail(l, "\"%s\": invalid base64 (length %zu is not a multiple of 4)", key,
			    n);
	if (n / 4 * 3 > sizeof(l->rec->scratch))
		return fail(l, "\"%s\": longer than %u bytes decoded", key,
			    (unsigned)EVENT_PAYLOAD_MAX);
	int d = EVP_DecodeBlock(l->rec->scratch, (const unsigned char *)s, (int)n);
	if (d < 0)
		return fail(l, "\"%s\": invalid base64", key);
	size_t pad = n >= 1 && s[n - 1] == '=' ? (n >= 2 && s[n - 2] == '=' ? 2 : 1) : 0;
	*out = l->rec->scratch;
	*len = (size_t)d - pad;
	return 0;
}

static int parse_flags(struct line *l, struct sinkd_event *ev)
{
	json_t *v = json_object_get(l->root, "flags"), *f;
	size_t i;
	if (v == NULL)
		return 0;
	if (!json_is_array(v))
		return fail(l, "\"flags\": expected a list of flag names");
	json_array_foreach(v, i, f)
	{
		uint32_t bit;
		if (!json_is_string(f) || store_flag_parse(json_string_value(f), &bit) != 0)
			return fail(l,
				    "\"flags\"[%zu]: unknown flag (expected tls, proxied, "
				    "body_truncated, ... as docs/ingest.md lists)",
				    i);
		ev->flags |= bit;
	}
	return 0;
}

/* The name a listener would record (Host, SNI, qname) and its zone. */
static int parse_name(struct line *l, const char *key, const struct domain_registry *reg)
{
	struct sinkd_event *ev = &l->rec->ev;
	int ret = get_field(l, key, ev->qname, sizeof(ev->qname));
	if (ret != 0 || reg == NULL || ev->qname[0] == '\0')
		return ret;
	long z = domains_match_name(reg, ev->qname);
	if (z >= 0)
		snprintf(ev->zone, sizeof(ev->zone), "%s", domains_name(reg, (size_t)z));
	return 0;
}

/* Headers as [["Name","value"], ...], rebuilt into "Name: value\r\n"
 * lines; User-Agent and Referer sections from them, as the listener does. */
static int parse_headers(struct line *l)
{
	json_t *v = json_object_get(l->root, "headers"), *h;
	char *buf = (char *)l->rec->scratch;
	size_t used = 0, i;
	const char *ua = NULL, *ref = NULL;
	size_t ua_len = 0, ref_len = 0;
	if (v == NULL)
		return 0;
	if (!json_is_array(v))
		return fail(l, "\"headers\": expected a list of [name, value] pairs");
	json_array_foreach(v, i, h)
	{
		json_t *n = json_array_get(h, 0), *val = json_array_get(h, 1);
		if (!json_is_array(h) || json_array_size(h) != 2 || !json_is_string(n) ||
		    !json_is_string(val))
			return fail(l, "\"headers\"[%zu]: expected a [name, value] pair of strings",
				    i);
		size_t nl = json_string_length(n), vl = json_string_length(val);
		if (used + nl + vl + 4 > sizeof(l->rec->scratch))
			return fail(l, "\"headers\": longer than %u bytes",
				    (unsigned)EVENT_PAYLOAD_MAX);
		memcpy(buf + used, json_string_value(n), nl);
		used += nl;
		memcpy(buf + used, ": ", 2);
		used += 2;
		if (strcasecmp(json_string_value(n), "User-Agent") == 0 && ua == NULL) {
			ua = buf + used;
			ua_len = vl;
		} else if (strcasecmp(json_string_value(n), "Referer") == 0 && ref == NULL) {
			ref = buf + used;
			ref_len = vl;
		}
		memcpy(buf + used, json_string_value(val), vl);
		used += vl;
		memcpy(buf + used, "\r\n", 2);
		used += 2;
	}
	int ret = add_section(l, EVP_HEADERS, buf, used);
	if (ret == 0 && ua != NULL)
		ret = add_section(l, EVP_USER_AGENT, ua, ua_len);
	if (ret == 0 && ref != NULL)
		ret = add_section(l, EVP_REFERER, ref, ref_len);
	return ret;
}

static int parse_http(struct line *l, const struct domain_registry *reg)
{
	struct sinkd_event *ev = &l->rec->ev;
	const char *version;
	const uint8_t *body;
	size_t body_len = 0;
	int64_t v = -1;
	int ret = parse_name(l, "host", reg);
	if (ret == 0 && json_object_get(l->root, "method") == NULL)
		ret = fail(l, "missing \"method\"");
	if (ret == 0)
		ret = get_field(l, "method", ev->http_method, sizeof(ev->http_method));
	if (ret == 0)
		ret = add_str_section(l, "target", EVP_TARGET);
	if (ret == 0)
		ret = get_str(l, "version", &version, NULL);
	if (ret != 0)
		return ret;
	ev->http_version = 11;
	if (version != NULL && strcmp(version, "1.0") == 0)
		ev->http_version = 10;
	else if (version != NULL && strcmp(version, "1.1") != 0)
		return fail(l, "\"version\": expected \"1.0\" or \"1.1\"");
	ret = parse_headers(l);
	if (ret == 0)
		ret = get_base64(l, "body", &body, &body_len);
	if (ret == 0 && body != NULL)
		ret = add_section(l, EVP_BODY, body, body_len);
	if (ret == 0)
		ret = get_int(l, "body_len", (int64_t)body_len, UINT32_MAX, &v);
	if (ret == 0)
		ev->body_len = v >= 0 ? (uint32_t)v : (uint32_t)body_len;
	v = 0;
	if (ret == 0)
		ret = get_int(l, "status", 0, 999, &v);
	ev->http_status = (uint16_t)v;
	return ret;
}

static int parse_tls(struct line *l, const struct domain_registry *reg)
{
	json_t *hello = json_object_get(l->root, "hello");
	int ret = parse_name(l, "sni", reg);
	if (ret == 0)
		ret = get_field(l, "proto", l->rec->ev.proto, sizeof(l->rec->ev.proto));
	if (ret == 0)
		ret = add_str_section(l, "ja3", EVP_TLS_JA3);
	if (ret == 0)
		ret = add_str_section(l, "ja3_md5", EVP_TLS_JA3_MD5);
	if (ret == 0)
		ret = add_str_section(l, "ja4", EVP_TLS_JA4);
	if (ret != 0 || hello == NULL)
		return ret;
	if (json_is_string(hello))
		return add_section(l, EVP_TLS_HELLO, json_string_value(hello),
				   json_string_length(hello));
	if (!json_is_object(hello))
		return fail(l, "\"hello\": expected a JSON object or a string");
	char *text = json_dumps(hello, JSON_COMPACT);
	if (text == NULL)
		return fail(l, "out of memory");
	ret = add_section(l, EVP_TLS_HELLO, text, strlen(text));
	free(text);
	return ret;
}

static int parse_raw_kind(struct line *l)
{
	struct sinkd_event *ev = &l->rec->ev;
	int64_t v = -1;
	int ret = get_field(l, "proto", ev->proto, sizeof(ev->proto));
	if (ret == 0)
		ret = get_int(l, "bytes", 0, UINT32_MAX, &v);
	if (ret == 0 && v >= 0)
		ev->body_len = (uint32_t)v;
	return ret;
}

static int parse_ecs(struct line *l, struct sinkd_event *ev)
{
	const char *s;
	char buf[64];
	int ret = get_str(l, "ecs", &s, NULL);
	if (ret != 0 || s == NULL)
		return ret;
	const char *slash = strchr(s, '/');
	struct event_addr a;
	char *end;
	unsigned long prefix = slash != NULL ? strtoul(slash + 1, &end, 10) : 0;
	if (slash == NULL || (size_t)(slash - s) >= sizeof(buf) || *end != '\0' ||
	    !isdigit((unsigned char)slash[1]))
		return fail(l, "\"ecs\": expected ADDRESS/PREFIX");
	memcpy(buf, s, (size_t)(slash - s));
	buf[slash - s] = '\0';
	if (event_addr_parse(&a, buf) != 0)
		return fail(l, "\"ecs\": expected ADDRESS/PREFIX");
	bool v4 = event_addr_is_v4(&a);
	if (prefix > (v4 ? 32u : 128u))
		return fail(l, "\"ecs\": prefix longer than the address");
	ev->ecs_family = v4 ? 1 : 2;
	ev->ecs_source_prefix = (uint8_t)prefix;
	memcpy(ev->ecs_addr, v4 ? a.ip + 12 : a.ip, v4 ? 4 : 16);
	ev->flags |= EVF_ECS;
	return 0;
}

static int parse_dns(struct line *l, const struct domain_registry *reg)
{
	struct sinkd_event *ev = &l->rec->ev;
	int64_t qtype = -1, qclass = 1, rcode = 0, size = 0, count = 1;
	if (json_object_get(l->root, "qname") == NULL)
		return fail(l, "missing \"qname\"");
	int ret = parse_name(l, "qname", reg);
	if (ret == 0)
		ret = get_int(l, "qtype", 0, 65535, &qtype);
	if (ret == 0 && qtype < 0)
		ret = fail(l, "missing \"qtype\"");
	if (ret == 0)
		ret = get_int(l, "qclass", 0, 65535, &qclass);
	if (ret == 0)
		ret = get_int(l, "rcode", 0, 4095, &rcode);
	if (ret == 0)
		ret = get_int(l, "msg_size", 0, 65535, &size);
	if (ret == 0)
		ret = get_int(l, "count", 1, 1000000, &count);
	if (ret == 0)
		ret = parse_ecs(l, ev);
	ev->qtype = (uint16_t)qtype;
	ev->qclass = (uint16_t)qclass;
	ev->rcode = (uint16_t)rcode;
	ev->msg_size = (uint16_t)size;
	l->rec->count = (uint64_t)count;
	return ret;
}

/* The first bytes of the connection, as received ("raw", base64). */
static int get_base64_section(struct line *l)
{
	const uint8_t *data;
	size_t len;
	int ret = get_base64(l, "raw", &data, &len);
	if (ret == 0 && data != NULL)
		ret = add_section(l, EVP_RAW, data, len);
	return ret;
}

static int parse_kind(struct line *l, uint8_t *kind)
{
	const char *s;
	int ret = get_str(l, "kind", &s, NULL);
	if (ret != 0)
		return ret;
	if (s == NULL)
		return fail(l, "missing \"kind\"");
	for (uint8_t k = EVENT_DNS; k <= EVENT_RAW; k++) {
		if (strcmp(s, kind_names[k]) == 0) {
			*kind = k;
			return 0;
		}
	}
	return fail(l, "\"kind\": expected http, tls, raw or dns");
}

static int parse_common(struct line *l, const struct domain_registry *reg)
{
	struct sinkd_event *ev = &l->rec->ev;
	const char *transport;
	int64_t conn = 0;
	int ret = parse_kind(l, &ev->kind);
	if (ret == 0)
		ret = check_keys(l, ev->kind);
	if (ret == 0)
		ret = parse_ts(l, ev);
	if (ret == 0)
		ret = get_str(l, "transport", &transport, NULL);
	if (ret != 0)
		return ret;
	ev->transport = ev->kind == EVENT_DNS ? TRANSPORT_UDP : TRANSPORT_TCP;
	if (transport != NULL && strcmp(transport, "udp") == 0)
		ev->transport = TRANSPORT_UDP;
	else if (transport != NULL && strcmp(transport, "tcp") == 0)
		ev->transport = TRANSPORT_TCP;
	else if (transport != NULL)
		return fail(l, "\"transport\": expected tcp or udp");
	event_addr_parse(&ev->dst, "0.0.0.0");
	ret = get_addr(l, "src", true, &ev->src);
	if (ret == 0)
		ret = get_addr(l, "dst", false, &ev->dst);
	if (ret == 0 && json_object_get(l->root, "proxy") != NULL) {
		ret = get_addr(l, "proxy", true, &ev->proxy);
		ev->flags |= EVF_PROXIED;
	}
	if (ret == 0)
		ret = parse_flags(l, ev);
	if (ret == 0)
		ret = get_int(l, "conn_id", 0, INT64_MAX, &conn);
	ev->conn_id = (uint64_t)conn;
	if (ret != 0)
		return ret;
	switch (ev->kind) {
	case EVENT_HTTP:
		ret = parse_http(l, reg);
		break;
	case EVENT_TLS:
		ret = parse_tls(l, reg);
		break;
	case EVENT_RAW:
		ret = parse_raw_kind(l);
		break;
	default:
		return parse_dns(l, reg);
	}
	if (ret == 0)
		ret = get_base64_section(l);
	return ret;
}

int ingest_parse(const char *text, size_t len, const struct domain_registry *reg,
		 struct ingest_record *rec, char *err, size_t errlen)
{
	json_error_t jerr;
	struct line l = {.rec = rec, .err = err, .errlen = errlen};
	memset(&rec->ev, 0, sizeof(rec->ev));
	rec->count = 1;
	l.root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
	if (l.root == NULL)
		return fail(&l, "not JSON: %s (column %d)", jerr.text, jerr.column);
	int ret = json_is_object(l.root) ? parse_common(&l, reg)
					 : fail(&l, "expected a JSON object, one per line");
	json_decref(l.root);
	rec->ev.payload = rec->payload;
	return ret;
}
