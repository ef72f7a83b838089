/* The ingest format's writer: one event as one JSON line (docs/ingest.md).
 * Used by `sinkd events --format jsonl` and by `sinkd sim`. */
#include "ingest/ingest.h"

#include "core/error.h"
#include "store/store.h"

#include <jansson.h>
#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const char *kind_name(uint8_t kind)
{
	switch (kind) {
	case EVENT_DNS:
		return "dns";
	case EVENT_HTTP:
		return "http";
	case EVENT_TLS:
		return "tls";
	default:
		return "raw";
	}
}

static void render_addr(char *buf, size_t len, const struct event_addr *a)
{
	char ip[48];
	event_addr_str(a, ip, sizeof(ip));
	snprintf(buf, len, event_addr_is_v4(a) ? "%s:%u" : "[%s]:%u", ip, a->port);
}

static int set_str(json_t *o, const char *key, const char *s)
{
	return json_object_set_new(o, key, json_string(s));
}

/* Text that may hold any bytes: JSON strings are UTF-8, so bytes that are
 * not valid UTF-8 become U+FFFD-free \u00XX code points (latin-1 view). */
static json_t *bytes_string(const uint8_t *data, size_t len)
{
	json_t *j = json_stringn((const char *)data, len);
	if (j != NULL)
		return j;
	char *utf8 = malloc(len * 2 + 1);
	size_t n = 0;
	if (utf8 == NULL)
		return NULL;
	for (size_t i = 0; i < len; i++) {
		if (data[i] < 0x80) {
			utf8[n++] = (char)data[i];
		} else {
			utf8[n++] = (char)(0xc0 | (data[i] >> 6));
			utf8[n++] = (char)(0x80 | (data[i] & 0x3f));
		}
	}
	j = json_stringn(utf8, n);
	free(utf8);
	return j;
}

static int set_section(json_t *o, const char *key, const struct sinkd_event *ev, uint8_t type)
{
	const uint8_t *data;
	size_t len;
	if (event_payload_get(ev, type, &data, &len) != 0)
		return 0;
	return json_object_set_new(o, key, bytes_string(data, len));
}

static int set_base64(json_t *o, const char *key, const struct sinkd_event *ev, uint8_t type)
{
	const uint8_t *data;
	size_t len;
	if (event_payload_get(ev, type, &data, &len) != 0)
		return 0;
	char *b64 = malloc(4 * ((len + 2) / 3) + 1);
	if (b64 == NULL)
		return -1;
	EVP_EncodeBlock((unsigned char *)b64, data, (int)len);
	int ret = set_str(o, key, b64);
	free(b64);
	return ret;
}

/* "Name: value\r\n" lines as [["Name","value"], ...]. A line without a
 * colon keeps its text as the name and an empty value. */
static json_t *headers_json(const struct sinkd_event *ev)
{
	const uint8_t *data;
	size_t len;
	if (event_payload_get(ev, EVP_HEADERS, &data, &len) != 0)
		return NULL;
	json_t *list = json_array();
	const char *p = (const char *)data, *end = p + len;
	while (list != NULL && p < end) {
		const char *eol = memchr(p, '\n', (size_t)(end - p));
		const char *next = eol != NULL ? eol + 1 : end;
		const char *stop = eol != NULL ? eol : end;
		if (stop > p && stop[-1] == '\r')
			stop--;
		const char *colon = memchr(p, ':', (size_t)(stop - p));
		const char *vstart = colon != NULL ? colon + 1 : stop;
		if (colon != NULL && vstart < stop && *vstart == ' ')
			vstart++;
		json_t *pair = json_array();
		json_array_append_new(
		    pair,
		    bytes_string((const uint8_t *)p, (size_t)((colon != NULL ? colon : stop) - p)));
		json_array_append_new(
		    pair, bytes_string((const uint8_t *)vstart, (size_t)(stop - vstart)));
		json_array_append_new(list, pair);
		p = next;
	}
	return list;
}

static void set_flags(json_t *o, uint32_t flags)
{
	char name[16];
	if (flags == 0)
		return;
	json_t *list = json_array();
	for (unsigned bit = 0; bit < 32; bit++) {
		if (flags & (1u << bit))
			json_array_append_new(
			    list, json_string(store_flag_name(bit, name, sizeof(name))));
	}
	json_object_set_new(o, "flags", list);
}

static void set_http(json_t *o, const struct sinkd_event *ev)
{
	set_str(o, "host", ev->qname);
	set_str(o, "method", ev->http_method);
	set_section(o, "target", ev, EVP_TARGET);
	if (ev->http_version == 10 || ev->http_version == 11)
		set_str(o, "version", ev->http_version == 10 ? "1.0" : "1.1");
	json_t *h = headers_json(ev);
	if (h != NULL)
		json_object_set_new(o, "headers", h);
	set_base64(o, "body", ev, EVP_BODY);
	json_object_set_new(o, "body_len", json_integer(ev->body_len));
	if (ev->http_status != 0)
		json_object_set_new(o, "status", json_integer(ev->http_status));
}

static void set_tls(json_t *o, const struct sinkd_event *ev)
{
	const uint8_t *data;
	size_t len;
	set_str(o, "sni", ev->qname);
	if (ev->proto[0] != '\0')
		set_str(o, "proto", ev->proto);
	set_section(o, "ja3", ev, EVP_TLS_JA3);
	set_section(o, "ja3_md5", ev, EVP_TLS_JA3_MD5);
	set_section(o, "ja4", ev, EVP_TLS_JA4);
	if (event_payload_get(ev, EVP_TLS_HELLO, &data, &len) == 0) {
		json_t *hello = json_loadb((const char *)data, len, 0, NULL);
		if (hello == NULL || !json_is_object(hello)) {
			json_decref(hello);
			hello = bytes_string(data, len);
		}
		json_object_set_new(o, "hello", hello);
	}
}

static void set_dns(json_t *o, const struct sinkd_event *ev, uint64_t count)
{
	char ip[48];
	set_str(o, "qname", ev->qname);
	json_object_set_new(o, "qtype", json_integer(ev->qtype));
	if (count == 0)
		json_object_set_new(o, "qclass", json_integer(ev->qclass));
	json_object_set_new(o, "rcode", json_integer(ev->rcode));
	if (ev->msg_size != 0)
		json_object_set_new(o, "msg_size", json_integer(ev->msg_size));
	if (ev->flags & EVF_ECS) {
		char text[64];
		struct event_addr a = {0};
		if (ev->ecs_family == 1) {
			memset(a.ip + 10, 0xff, 2);
			memcpy(a.ip + 12, ev->ecs_addr, 4);
		} else {
			memcpy(a.ip, ev->ecs_addr, 16);
		}
		snprintf(text, sizeof(text), "%s/%u", event_addr_str(&a, ip, sizeof(ip)),
			 ev->ecs_source_prefix);
		set_str(o, "ecs", text);
	}
	if (count > 0)
		json_object_set_new(o, "count", json_integer((json_int_t)count));
}

/* What the pipeline computed: written for readers, ignored by ingest. */
static void set_labels(json_t *o, const struct sinkd_event *ev)
{
	json_t *l = json_object();
	const struct {
		const char *key, *value;
	} text[] = {
	    {"zone", ev->zone},		{"family", ev->family},
	    {"rule_id", ev->rule_id},	{"tag", ev->tag},
	    {"msg_type", ev->msg_type}, {"proto_version", ev->proto_version},
	    {"bot_id", ev->bot_id},	{"decode_status", ev->decode_status},
	    {"country", ev->country},
	};
	for (size_t i = 0; i < sizeof(text) / sizeof(text[0]); i++) {
		if (text[i].value[0] != '\0')
			json_object_set_new(
			    l, text[i].key,
			    bytes_string((const uint8_t *)text[i].value, strlen(text[i].value)));
	}
	if (ev->severity != 0)
		json_object_set_new(l, "severity", json_integer(ev->severity));
	if (ev->asn != 0)
		json_object_set_new(l, "asn", json_integer(ev->asn));
	if (json_object_size(l) > 0)
		json_object_set_new(o, "labels", l);
	else
		json_decref(l);
}

static json_t *event_json(const struct sinkd_event *ev, uint64_t count)
{
	char buf[64];
	json_t *o = json_object();
	if (o == NULL)
		return NULL;
	set_str(o, "ts", ingest_time_str(ev->ts_ns, buf, sizeof(buf)));
	set_str(o, "kind", kind_name(ev->kind));
	if (count == 0)
		set_str(o, "transport", ev->transport == TRANSPORT_UDP ? "udp" : "tcp");
	render_addr(buf, sizeof(buf), &ev->src);
	set_str(o, "src", buf);
	if (count == 0) { /* an aggregate's key has no transport, port or destination */
		render_addr(buf, sizeof(buf), &ev->dst);
		set_str(o, "dst", buf);
	}
	if (ev->flags & EVF_PROXIED) {
		render_addr(buf, sizeof(buf), &ev->proxy);
		set_str(o, "proxy", buf);
	}
	set_flags(o, ev->flags);
	if (ev->kind != EVENT_DNS)
		json_object_set_new(o, "conn_id", json_integer((json_int_t)ev->conn_id));
	if (ev->kind == EVENT_HTTP) {
		set_http(o, ev);
	} else if (ev->kind == EVENT_TLS) {
		set_tls(o, ev);
	} else if (ev->kind == EVENT_RAW) {
		set_str(o, "proto", ev->proto);
		json_object_set_new(o, "bytes", json_integer(ev->body_len));
	} else {
		set_dns(o, ev, count);
	}
	if (ev->kind != EVENT_DNS)
		set_base64(o, "raw", ev, EVP_RAW);
	set_labels(o, ev);
	return o;
}

int ingest_write(FILE *out, const struct sinkd_event *ev, uint64_t count)
{
	json_t *o = event_json(ev, count);
	if (o == NULL)
		return SINKD_ENOMEM;
	/* One string and one write: json_dumpf writes token by token. */
	char *text = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	if (text == NULL)
		return SINKD_ENOMEM;
	int ret = fputs(text, out) != EOF && fputc('\n', out) != EOF ? 0 : SINKD_EIO;
	free(text);
	return ret;
}
