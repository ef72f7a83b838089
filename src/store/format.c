/* Rendering of store rows for `sinkd events`: table, CSV (RFC 4180) and
 * JSON lines. The fields of HTTP, TLS and raw events: format_capture.c. */
#include "store/store_internal.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

/* A row as text; empty strings are "not applicable" (aggregates have no
 * transport or port, non-DNS events no qtype or rcode). */
struct row_text {
	char time[40];
	const char *kind;
	const char *transport;
	char src[64];
	const char *zone, *qname;
	char qtype[24], rcode[24];
	unsigned long long count;
	bool aggregate;
};

static void render_time(char *buf, size_t len, uint64_t ts_ns, bool minute)
{
	time_t s = (time_t)(ts_ns / 1000000000ull);
	struct tm tm;
	gmtime_r(&s, &tm);
	if (minute) {
		strftime(buf, len, "%Y-%m-%dT%H:%MZ", &tm);
		return;
	}
	char base[32];
	strftime(base, sizeof(base), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(buf, len, "%s.%03uZ", base, (unsigned)(ts_ns / 1000000ull % 1000));
}

static void render_src(char *buf, size_t len, const struct event_addr *a, bool with_port)
{
	char ip[48];
	store_addr_text(a, ip, sizeof(ip));
	if (!with_port)
		snprintf(buf, len, "%s", ip);
	else if (event_addr_is_v4(a))
		snprintf(buf, len, "%s:%u", ip, a->port);
	else
		snprintf(buf, len, "[%s]:%u", ip, a->port);
}

static void row_to_text(const struct store_row *row, struct row_text *t)
{
	const struct sinkd_event *ev = &row->ev;
	memset(t, 0, sizeof(*t));
	t->aggregate = row->aggregate;
	t->count = (unsigned long long)row->count;
	render_time(t->time, sizeof(t->time), ev->ts_ns, row->aggregate);
	t->kind = store_kind_name(ev->kind);
	t->transport = row->aggregate ? "" : store_transport_name(ev->transport);
	if (strcmp(t->transport, "-") == 0)
		t->transport = "";
	render_src(t->src, sizeof(t->src), &ev->src, !row->aggregate);
	t->zone = ev->zone;
	t->qname = ev->qname;
	if (ev->kind == EVENT_DNS) {
		store_qtype_name(ev->qtype, t->qtype, sizeof(t->qtype));
		store_rcode_name(ev->rcode, t->rcode, sizeof(t->rcode));
	} else if (ev->http_status != 0) {
		snprintf(t->rcode, sizeof(t->rcode), "%u", ev->http_status);
	}
}

static const char *dash(const char *s) { return s[0] != '\0' ? s : "-"; }

static void print_table(FILE *out, const struct row_text *t, const char *name,
			const struct sinkd_event *ev)
{
	fprintf(out, "%-24s %-4s %-9s %-22s %-40s %-6s %-9s %-5llu %-10s %-10s %s\n", t->time,
		t->kind, dash(t->transport), t->src, dash(name), dash(t->qtype), dash(t->rcode),
		t->count, dash(ev->family), dash(ev->msg_type), dash(ev->bot_id));
}

/* A field, then sep ('\0': none). */
static void csv_field(FILE *out, const char *s, char sep)
{
	if (strpbrk(s, ",\"\r\n") == NULL) {
		fputs(s, out);
	} else {
		fputc('"', out);
		for (; *s != '\0'; s++) {
			if (*s == '"')
				fputc('"', out);
			fputc(*s, out);
		}
		fputc('"', out);
	}
	if (sep != '\0')
		fputc(sep, out);
}

static void print_csv(FILE *out, const struct row_text *t)
{
	csv_field(out, t->time, ',');
	csv_field(out, t->kind, ',');
	csv_field(out, t->transport, ',');
	csv_field(out, t->src, ',');
	csv_field(out, t->zone, ',');
	csv_field(out, t->qname, ',');
	csv_field(out, t->qtype, ',');
	csv_field(out, t->rcode, ',');
	fprintf(out, "%llu,%s", t->count, t->aggregate ? "true" : "false");
}

/* A JSON string, or null when empty. Bytes outside printable ASCII are
 * \u00XX escapes, so the output is valid UTF-8 whatever the input. */
static void json_string(FILE *out, const char *key, const char *s)
{
	fprintf(out, "\"%s\":", key);
	if (s[0] == '\0') {
		fputs("null,", out);
		return;
	}
	fputc('"', out);
	for (const unsigned char *p = (const unsigned char *)s; *p != '\0'; p++) {
		if (*p == '"' || *p == '\\')
			fprintf(out, "\\%c", *p);
		else if (*p < 0x20 || *p >= 0x7f)
			fprintf(out, "\\u%04x", *p);
		else
			fputc(*p, out);
	}
	fputs("\",", out);
}

static void print_json(FILE *out, const struct row_text *t, const struct sinkd_event *ev)
{
	fputc('{', out);
	json_string(out, "time", t->time);
	json_string(out, "kind", t->kind);
	json_string(out, "transport", t->transport);
	json_string(out, "src", t->src);
	json_string(out, "zone", t->zone);
	json_string(out, "qname", t->qname);
	json_string(out, "qtype", t->qtype);
	json_string(out, "rcode", t->rcode);
	fprintf(out, "\"count\":%llu,\"aggregate\":%s", t->count, t->aggregate ? "true" : "false");
	store_print_labels_json(out, ev);
	fputs("}\n", out);
}

/* The labels of classification (schema 5), null / empty when not set. */
const char store_labels_csv_header[] =
    ",family,rule_id,tag,severity,msg_type,proto_version,bot_id,decode_status";

void store_print_labels_json(FILE *out, const struct sinkd_event *ev)
{
	fputc(',', out);
	json_string(out, "family", ev->family);
	json_string(out, "rule_id", ev->rule_id);
	json_string(out, "tag", ev->tag);
	if (ev->family[0] != '\0')
		fprintf(out, "\"severity\":%u,", ev->severity);
	else
		fputs("\"severity\":null,", out);
	json_string(out, "msg_type", ev->msg_type);
	json_string(out, "proto_version", ev->proto_version);
	json_string(out, "bot_id", ev->bot_id);
	/* json_string ends with ','; the last key goes without. */
	fputs("\"decode_status\":", out);
	if (ev->decode_status[0] == '\0') {
		fputs("null", out);
		return;
	}
	fputc('"', out);
	for (const unsigned char *p = (const unsigned char *)ev->decode_status; *p != '\0'; p++) {
		if (*p == '"' || *p == '\\')
			fprintf(out, "\\%c", *p);
		else if (*p < 0x20 || *p >= 0x7f)
			fprintf(out, "\\u%04x", *p);
		else
			fputc(*p, out);
	}
	fputc('"', out);
}

void store_print_labels_csv(FILE *out, const struct sinkd_event *ev)
{
	const char *fields[] = {ev->family, ev->rule_id, ev->tag};
	for (size_t i = 0; i < 3; i++) {
		fputc(',', out);
		csv_field(out, fields[i], '\0');
	}
	fputc(',', out);
	if (ev->family[0] != '\0')
		fprintf(out, "%u", ev->severity);
	const char *more[] = {ev->msg_type, ev->proto_version, ev->bot_id, ev->decode_status};
	for (size_t i = 0; i < 4; i++) {
		fputc(',', out);
		csv_field(out, more[i], '\0');
	}
}

void store_print_header(FILE *out, enum store_format fmt)
{
	if (fmt == STORE_FMT_TABLE)
		fprintf(out, "%-24s %-4s %-9s %-22s %-40s %-6s %-9s %-5s %-10s %-10s %s\n", "time",
			"kind", "transport", "src", "qname", "qtype", "rcode", "count", "family",
			"msg_type", "bot_id");
	else if (fmt == STORE_FMT_CSV)
		fprintf(out, "time,kind,transport,src,zone,qname,qtype,rcode,count,aggregate%s%s\n",
			store_capture_csv_header, store_labels_csv_header);
}

void store_print_row(FILE *out, enum store_format fmt, const struct store_row *row)
{
	struct row_text t;
	char name[512];
	row_to_text(row, &t);
	if (fmt == STORE_FMT_TABLE) {
		if (row->capture)
			store_capture_name(row, name, sizeof(name));
		print_table(out, &t, row->capture ? name : t.qname, &row->ev);
	} else if (fmt == STORE_FMT_CSV) {
		print_csv(out, &t);
		store_print_capture_csv(out, row);
		store_print_labels_csv(out, &row->ev);
		fputc('\n', out);
	} else if (row->capture) {
		store_print_capture_json(out, row, t.time);
	} else {
		print_json(out, &t, &row->ev);
	}
}
