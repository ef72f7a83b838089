/* `sinkd events` output of HTTP, TLS and raw events: the JSON object with
 * every captured field, the CSV columns after the common ones, and the
 * name column of the table (method and target, SNI and JA4, protocol). */
#include "store/store_internal.h"

#include <stdio.h>
#include <string.h>

/* The stored sections of a row (pointer and length; absent: data NULL). */
struct capture_text {
	const uint8_t *data[EVP_TLS_HELLO + 1];
	size_t len[EVP_TLS_HELLO + 1];
};

static void capture_text(const struct store_row *row, struct capture_text *t)
{
	memset(t, 0, sizeof(*t));
	for (uint8_t type = 1; type <= EVP_TLS_HELLO; type++) {
		if (event_payload_get(&row->ev, type, &t->data[type], &t->len[type]) != 0)
			t->data[type] = NULL;
	}
}

static void render_addr(char *buf, size_t len, const struct event_addr *a)
{
	char ip[48];
	store_addr_text(a, ip, sizeof(ip));
	snprintf(buf, len, event_addr_is_v4(a) ? "%s:%u" : "[%s]:%u", ip, a->port);
}

/* A JSON string of len bytes; printable ASCII as is, anything else as
 * \u00XX (valid UTF-8 output whatever the bytes). */
static void json_bytes(FILE *out, const void *data, size_t len)
{
	const unsigned char *p = data;
	fputc('"', out);
	for (size_t i = 0; i < len; i++) {
		if (p[i] == '"' || p[i] == '\\')
			fprintf(out, "\\%c", p[i]);
		else if (p[i] < 0x20 || p[i] >= 0x7f)
			fprintf(out, "\\u%04x", p[i]);
		else
			fputc(p[i], out);
	}
	fputc('"', out);
}

static void json_key(FILE *out, const char *key) { fprintf(out, ",\"%s\":", key); }

/* "key":"text" ("" when empty: these fields always apply). */
static void json_text(FILE *out, const char *key, const char *text)
{
	json_key(out, key);
	json_bytes(out, text, strlen(text));
}

/* "key":"section" or null when the event did not carry it. */
static void json_section(FILE *out, const char *key, const struct capture_text *t, uint8_t type)
{
	json_key(out, key);
	if (t->data[type] == NULL)
		fputs("null", out);
	else
		json_bytes(out, t->data[type], t->len[type]);
}

static void hex(FILE *out, const uint8_t *data, size_t len)
{
	static const char digits[] = "0123456789abcdef";
	for (size_t i = 0; i < len; i++) {
		fputc(digits[data[i] >> 4], out);
		fputc(digits[data[i] & 15], out);
	}
}

static void json_hex(FILE *out, const char *key, const uint8_t *data, size_t len)
{
	json_key(out, key);
	if (data == NULL) {
		fputs("null", out);
		return;
	}
	fputc('"', out);
	hex(out, data, len);
	fputc('"', out);
}

static void json_uint_or_null(FILE *out, const char *key, bool set, unsigned long long v)
{
	json_key(out, key);
	if (set)
		fprintf(out, "%llu", v);
	else
		fputs("null", out);
}

static void json_flags(FILE *out, uint32_t flags)
{
	char name[16];
	bool first = true;
	json_key(out, "flags");
	fputc('[', out);
	for (unsigned bit = 0; bit < 32; bit++) {
		if ((flags & (1u << bit)) == 0)
			continue;
		fprintf(out, "%s\"%s\"", first ? "" : ",",
			store_flag_name(bit, name, sizeof(name)));
		first = false;
	}
	fputc(']', out);
}

static void json_http(FILE *out, const struct store_row *row, const struct capture_text *t)
{
	const struct sinkd_event *ev = &row->ev;
	json_text(out, "method", ev->http_method);
	json_section(out, "target", t, EVP_TARGET);
	json_key(out, "http_version");
	if (ev->http_version == 10 || ev->http_version == 11)
		fprintf(out, "\"1.%u\"", ev->http_version - 10u);
	else
		fputs("null", out);
	json_uint_or_null(out, "status", ev->http_status != 0, ev->http_status);
	json_text(out, "host", ev->qname);
	json_section(out, "user_agent", t, EVP_USER_AGENT);
	json_section(out, "referer", t, EVP_REFERER);
	json_section(out, "headers", t, EVP_HEADERS);
	json_uint_or_null(out, "body_len", true, ev->body_len);
	json_uint_or_null(out, "body_stored", true, row->has_body ? row->body_stored : 0);
	json_hex(out, "body_sha256", row->has_body ? row->body_sha256 : NULL, 32);
}

static void json_tls(FILE *out, const struct store_row *row, const struct capture_text *t)
{
	json_text(out, "sni", row->ev.qname);
	json_section(out, "ja3", t, EVP_TLS_JA3);
	json_section(out, "ja3_md5", t, EVP_TLS_JA3_MD5);
	json_section(out, "ja4", t, EVP_TLS_JA4);
	json_key(out, "hello");
	if (t->data[EVP_TLS_HELLO] == NULL)
		fputs("null", out);
	else if (row->hello_json) /* checked by SQLite's json_valid() */
		fwrite(t->data[EVP_TLS_HELLO], 1, t->len[EVP_TLS_HELLO], out);
	else
		json_bytes(out, t->data[EVP_TLS_HELLO], t->len[EVP_TLS_HELLO]);
}

void store_print_capture_json(FILE *out, const struct store_row *row, const char *time)
{
	const struct sinkd_event *ev = &row->ev;
	struct capture_text t;
	char src[64], dst[64], proxy[64];
	capture_text(row, &t);
	render_addr(src, sizeof(src), &ev->src);
	render_addr(dst, sizeof(dst), &ev->dst);
	fputs("{\"time\":", out);
	json_bytes(out, time, strlen(time));
	json_text(out, "kind", store_kind_name(ev->kind));
	json_text(out, "transport", store_transport_name(ev->transport));
	json_text(out, "src", src);
	json_text(out, "dst", dst);
	json_key(out, "proxy");
	if (ev->flags & EVF_PROXIED) {
		render_addr(proxy, sizeof(proxy), &ev->proxy);
		json_bytes(out, proxy, strlen(proxy));
	} else {
		fputs("null", out);
	}
	json_uint_or_null(out, "conn_id", true, (unsigned long long)ev->conn_id);
	json_flags(out, ev->flags);
	json_text(out, "zone", ev->zone);
	json_text(out, "qname", ev->qname);
	if (ev->kind == EVENT_HTTP) {
		json_http(out, row, &t);
	} else if (ev->kind == EVENT_TLS) {
		json_tls(out, row, &t);
	} else {
		json_text(out, "proto", ev->proto);
		json_uint_or_null(out, "bytes", true, ev->body_len);
	}
	json_hex(out, "raw_hex", t.data[EVP_RAW], t.len[EVP_RAW]);
	fputs(",\"count\":1,\"aggregate\":false", out);
	store_print_labels_json(out, ev);
	fputs("}\n", out);
}

/* Append up to len bytes to buf (used so far: *used), control bytes and
 * bytes outside ASCII as \xNN, so a table line stays one line. */
static void name_append(char *buf, size_t cap, size_t *used, const void *data, size_t len)
{
	const unsigned char *p = data;
	for (size_t i = 0; i < len && *used + 5 < cap; i++) {
		if (p[i] < 0x20 || p[i] >= 0x7f)
			*used += (size_t)snprintf(buf + *used, cap - *used, "\\x%02x", p[i]);
		else
			buf[(*used)++] = (char)p[i];
	}
	buf[*used] = '\0';
}

void store_capture_name(const struct store_row *row, char *buf, size_t cap)
{
	const struct sinkd_event *ev = &row->ev;
	struct capture_text t;
	size_t used = 0;
	capture_text(row, &t);
	buf[0] = '\0';
	if (ev->kind == EVENT_HTTP) {
		name_append(buf, cap, &used, ev->http_method, strlen(ev->http_method));
		name_append(buf, cap, &used, " ", used > 0);
		if (t.data[EVP_TARGET] != NULL)
			name_append(buf, cap, &used, t.data[EVP_TARGET], t.len[EVP_TARGET]);
		else if (ev->flags & EVF_NOT_HTTP)
			name_append(buf, cap, &used, "(not http)", 10);
	} else if (ev->kind == EVENT_TLS) {
		name_append(buf, cap, &used, ev->qname, strlen(ev->qname));
		name_append(buf, cap, &used, " ", used > 0);
		if (t.data[EVP_TLS_JA4] != NULL)
			name_append(buf, cap, &used, t.data[EVP_TLS_JA4], t.len[EVP_TLS_JA4]);
		else if (ev->proto[0] != '\0')
			name_append(buf, cap, &used, ev->proto, strlen(ev->proto));
	} else {
		name_append(buf, cap, &used, ev->proto, strlen(ev->proto));
	}
}

/* One CSV field of len bytes (RFC 4180 quoting when needed). */
static void csv_bytes(FILE *out, const void *data, size_t len)
{
	const char *p = data;
	fputc(',', out);
	if (data == NULL)
		return;
	if (memchr(p, ',', len) == NULL && memchr(p, '"', len) == NULL &&
	    memchr(p, '\r', len) == NULL && memchr(p, '\n', len) == NULL) {
		fwrite(p, 1, len, out);
		return;
	}
	fputc('"', out);
	for (size_t i = 0; i < len; i++) {
		if (p[i] == '"')
			fputc('"', out);
		fputc(p[i], out);
	}
	fputc('"', out);
}

static void csv_text(FILE *out, const char *s) { csv_bytes(out, s, strlen(s)); }

static void csv_section(FILE *out, const struct capture_text *t, uint8_t type)
{
	csv_bytes(out, t->data[type], t->len[type]);
}

static void csv_uint(FILE *out, bool set, unsigned long long v)
{
	fputc(',', out);
	if (set)
		fprintf(out, "%llu", v);
}

const char store_capture_csv_header[] =
    ",dst,proxy,conn_id,flags,method,target,http_version,status,user_agent,referer,headers,"
    "body_len,body_stored,body_sha256,proto,ja3,ja3_md5,ja4,hello,raw_hex";

void store_print_capture_csv(FILE *out, const struct store_row *row)
{
	const struct sinkd_event *ev = &row->ev;
	struct capture_text t;
	char addr[64], flags[256], name[16];
	size_t used = 0;
	if (!row->capture) {
		fputs(",,,,,,,,,,,,,,,,,,,,", out);
		return;
	}
	capture_text(row, &t);
	render_addr(addr, sizeof(addr), &ev->dst);
	csv_text(out, addr);
	if (ev->flags & EVF_PROXIED)
		render_addr(addr, sizeof(addr), &ev->proxy);
	else
		addr[0] = '\0';
	csv_text(out, addr);
	csv_uint(out, true, (unsigned long long)ev->conn_id);
	flags[0] = '\0';
	for (unsigned bit = 0; bit < 32; bit++) {
		if (ev->flags & (1u << bit))
			used += (size_t)snprintf(flags + used, sizeof(flags) - used, "%s%s",
						 used > 0 ? " " : "",
						 store_flag_name(bit, name, sizeof(name)));
	}
	csv_text(out, flags);
	csv_text(out, ev->http_method);
	csv_section(out, &t, EVP_TARGET);
	csv_text(out, ev->http_version == 10 ? "1.0" : ev->http_version == 11 ? "1.1" : "");
	csv_uint(out, ev->http_status != 0, ev->http_status);
	csv_section(out, &t, EVP_USER_AGENT);
	csv_section(out, &t, EVP_REFERER);
	csv_section(out, &t, EVP_HEADERS);
	csv_uint(out, true, ev->body_len);
	csv_uint(out, row->has_body, row->body_stored);
	fputc(',', out);
	if (row->has_body)
		hex(out, row->body_sha256, 32);
	csv_text(out, ev->proto);
	csv_section(out, &t, EVP_TLS_JA3);
	csv_section(out, &t, EVP_TLS_JA3_MD5);
	csv_section(out, &t, EVP_TLS_JA4);
	csv_section(out, &t, EVP_TLS_HELLO);
	fputc(',', out);
	if (t.data[EVP_RAW] != NULL)
		hex(out, t.data[EVP_RAW], t.len[EVP_RAW]);
}
