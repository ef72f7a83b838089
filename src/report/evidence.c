/* `sinkd report evidence --domain D`: what the sinkhole recorded for one
 * seized domain, for a court filing: first and last seen, volumes per
 * day, distinct sources, families and message types, and example requests
 * verbatim with their SHA-256. JSON or HTML. */
#include "report/report_internal.h"

#include "core/error.h"
#include "store/store.h"

#include <errno.h>
#include <getopt.h>
#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define EXAMPLES 5

static void sha256_hex(const void *data, size_t len, char out[65])
{
	unsigned char md[32];
	unsigned int n = 0;
	EVP_Digest(data, len, md, &n, EVP_sha256(), NULL);
	for (unsigned i = 0; i < 32; i++)
		snprintf(out + 2 * i, 3, "%02x", md[i]);
}

/* Message types and families of the domain's raw events. */
struct mtypes {
	const char *domain;
	json_t *types;		    /* "family/msg_type" -> count */
	uint64_t first_ns, last_ns; /* the domain's events (0: none) */
};

static int on_raw(const struct sinkd_event *ev, uint64_t count, bool aggregate, void *ctx)
{
	struct mtypes *m = ctx;
	if (aggregate || strcmp(ev->zone, m->domain) != 0)
		return 0;
	if (m->first_ns == 0 || ev->ts_ns < m->first_ns)
		m->first_ns = ev->ts_ns;
	if (ev->ts_ns > m->last_ns)
		m->last_ns = ev->ts_ns;
	char key[80];
	snprintf(key, sizeof(key), "%s/%s", ev->family[0] != '\0' ? ev->family : "unclassified",
		 ev->msg_type[0] != '\0' ? ev->msg_type : "-");
	json_t *c = json_object_get(m->types, key);
	json_object_set_new(
	    m->types, key,
	    json_integer((c != NULL ? json_integer_value(c) : 0) + (json_int_t)count));
	return 0;
}

static void hex(const uint8_t *b, size_t n, char *out)
{
	for (size_t i = 0; i < n; i++)
		sprintf(out + 2 * i, "%02x", b[i]);
}

/* One manifest of the evidence chain covering the domain's events: what
 * `sinkd verify --pubkey` checks, for the filing. */
static int on_manifest(const struct store_manifest *mf, void *ctx)
{
	json_t *arr = ctx;
	char head[65], key[65], sig[129];
	hex(mf->head, 32, head);
	hex(mf->key_id, 32, key);
	hex(mf->sig, 64, sig);
	json_t *o = json_pack(
	    "{s:I,s:I,s:I,s:I,s:s,s:I,s:I,s:I,s:I,s:b}", "id", (json_int_t)mf->id, "written_ns",
	    (json_int_t)mf->ts_ns, "records_from", (json_int_t)mf->seq_lo, "records_to",
	    (json_int_t)mf->seq_hi, "chain_head_sha256", head, "events", (json_int_t)mf->events,
	    "dns_queries", (json_int_t)mf->dns_queries, "time_from_ns", (json_int_t)mf->time_lo,
	    "time_to_ns", (json_int_t)mf->time_hi, "signed", mf->is_signed);
	if (mf->has_key_id)
		json_object_set_new(o, "key_id_sha256", json_string(key));
	if (mf->is_signed)
		json_object_set_new(o, "ed25519_signature", json_string(sig));
	json_array_append_new(arr, o);
	return 0;
}

struct examples {
	struct store *st;
	json_t *arr;
	size_t n, max;
};

/* The stored body bytes as text when printable, else hex; "" when none. */
static json_t *body_json(struct store *st, const struct store_row *row)
{
	static uint8_t buf[65536];
	size_t len = 0;
	if (!row->has_body || store_body_get(st, row->body_sha256, buf, sizeof(buf), &len) != 0)
		return json_string("");
	bool text = true;
	for (size_t i = 0; i < len && text; i++)
		text = (buf[i] >= 0x20 && buf[i] < 0x7f) || buf[i] == '\r' || buf[i] == '\n' ||
		       buf[i] == '\t';
	if (text)
		return json_stringn((const char *)buf, len);
	json_t *o = json_object();
	char *hex = malloc(2 * len + 1);
	if (hex != NULL) {
		for (size_t i = 0; i < len; i++)
			snprintf(hex + 2 * i, 3, "%02x", buf[i]);
		json_object_set_new(o, "hex", json_string(hex));
		free(hex);
	}
	return o;
}

/* The request as received: request line, headers, and the body's hash
 * (bodies are kept once per content in the store's `bodies` table). */
static int on_example(const struct store_row *row, void *ctx)
{
	struct examples *x = ctx;
	const struct sinkd_event *ev = &row->ev;
	if (row->aggregate || x->n >= x->max)
		return x->n >= x->max;
	char text[16384], src[64], when[40];
	size_t len = 0;
	const uint8_t *d;
	size_t dl;
	if (ev->kind == EVENT_HTTP) {
		const char *target = "";
		int tl = 0;
		if (event_payload_get(ev, EVP_TARGET, &d, &dl) == 0) {
			target = (const char *)d;
			tl = (int)dl;
		}
		len +=
		    (size_t)snprintf(text, sizeof(text), "%s %.*s HTTP/%d.%d\r\n", ev->http_method,
				     tl, target, ev->http_version / 10, ev->http_version % 10);
		if (event_payload_get(ev, EVP_HEADERS, &d, &dl) == 0 && len + dl < sizeof(text)) {
			memcpy(text + len, d, dl);
			len += dl;
		}
	} else if (event_payload_get(ev, EVP_TLS_HELLO, &d, &dl) == 0 && dl < sizeof(text)) {
		memcpy(text, d, dl);
		len = dl;
	} else if (event_payload_get(ev, EVP_RAW, &d, &dl) == 0) {
		for (size_t i = 0; i < dl && len + 3 < sizeof(text); i++)
			len += (size_t)snprintf(text + len, sizeof(text) - len, "%02x", d[i]);
	}
	text[len] = '\0';
	char hash[65], body[65] = "";
	sha256_hex(text, len, hash);
	if (row->has_body) {
		for (int i = 0; i < 32; i++)
			snprintf(body + 2 * i, 3, "%02x", row->body_sha256[i]);
	}
	time_t t = (time_t)(ev->ts_ns / 1000000000ull);
	struct tm tm;
	gmtime_r(&t, &tm);
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
	event_addr_str(&ev->src, src, sizeof(src));
	json_array_append_new(
	    x->arr, json_pack("{s:s,s:s,s:i,s:s,s:s,s:s,s:s,s:s,s:s,s:I}", "time", when, "src_ip",
			      src, "src_port", ev->src.port, "kind",
			      ev->kind == EVENT_HTTP  ? "http"
			      : ev->kind == EVENT_TLS ? "tls"
						      : "raw",
			      "family", ev->family, "msg_type", ev->msg_type, "request", text,
			      "request_sha256", hash, "body_sha256", row->has_body ? body : "",
			      "body_len", (json_int_t)ev->body_len));
	json_object_set_new(json_array_get(x->arr, json_array_size(x->arr) - 1), "body",
			    body_json(x->st, row));
	x->n++;
	return 0;
}

static int build(struct store *st, const char *domain, json_t **out, char *err, size_t errlen)
{
	struct report_filter f = {.domain = domain, .top = 1000, .bucket = "day"};
	struct report_options o = {0};
	json_t *tl = NULL, *dom = NULL, *fam = NULL;
	int ret = report_json_opts(st, "timeline", &f, &o, &tl, err, errlen);
	if (ret == 0)
		ret = report_json_opts(st, "domains", &f, &o, &dom, err, errlen);
	if (ret == 0)
		ret = report_json_opts(st, "families", &f, &o, &fam, err, errlen);
	if (ret != 0)
		goto fail;
	json_t *drow = json_array_get(json_object_get(dom, "rows"), 0);
	json_t *r = json_pack("{s:s,s:s,s:s}", "report", "evidence", "domain", domain, "source",
			      "rollups and raw events");
	char now[40];
	report_time_text((uint32_t)time(NULL), false, now, sizeof(now));
	json_object_set_new(r, "generated", json_string(now));
	json_object_set_new(r, "filter", json_pack("{s:s}", "domain", domain));
	if (drow != NULL) {
		json_object_set(r, "first_seen", json_object_get(drow, "first_seen"));
		json_object_set(r, "last_seen", json_object_get(drow, "last_seen"));
		json_object_set(r, "events", json_object_get(drow, "events"));
		json_object_set(r, "dns_queries", json_object_get(drow, "dns_queries"));
		json_object_set(r, "distinct_sources", json_object_get(drow, "sources"));
		json_object_set(r, "distinct_nets", json_object_get(drow, "nets"));
		json_object_set(r, "distinct_bot_ids", json_object_get(drow, "bots"));
	}
	json_object_set_new(r, "volumes_per_day",
			    json_pack("{s:O,s:O}", "columns", json_object_get(tl, "columns"),
				      "rows", json_object_get(tl, "rows")));
	json_object_set_new(r, "families",
			    json_pack("{s:O,s:O}", "columns", json_object_get(fam, "columns"),
				      "rows", json_object_get(fam, "rows")));
	struct mtypes m = {.domain = domain, .types = json_object()};
	ret = store_raw_scan(st, 0, 0, on_raw, &m);
	json_t *mt = json_array();
	const char *k;
	json_t *v;
	json_object_foreach(m.types, k, v)
	{
		const char *slash = strchr(k, '/');
		json_array_append_new(mt, json_pack("{s:s#,s:s,s:O}", "family", k, (int)(slash - k),
						    "msg_type", slash + 1, "events", v));
	}
	json_decref(m.types);
	json_object_set_new(r, "message_types", mt);
	struct examples x = {.st = st, .arr = json_array(), .max = EXAMPLES};
	static const char *const kinds[] = {"http", "tls", "raw"};
	for (size_t i = 0; i < 3 && ret == 0; i++) {
		struct store_filter sf = {.domain = domain, .type = kinds[i], .limit = EXAMPLES};
		x.n = 0;
		ret = store_query(st, &sf, on_example, &x);
	}
	json_object_set_new(r, "examples", x.arr);
	json_t *mfs = json_array();
	if (ret == 0 && m.first_ns != 0)
		ret = store_manifests(st, m.first_ns, m.last_ns + 1, on_manifest, mfs);
	json_object_set_new(r, "manifests", mfs);
	json_object_set_new(r, "manifests_note",
			    json_string("signed manifests of the evidence chain covering these "
					"events (docs/evidence.md); check them and every batch "
					"with: sinkd verify --pubkey KEY.pub"));
	json_decref(tl);
	json_decref(dom);
	json_decref(fam);
	if (ret != 0) {
		json_decref(r);
		snprintf(err, errlen, "%s", sinkd_strerror(ret));
		return ret;
	}
	*out = r;
	return 0;
fail:
	json_decref(tl);
	json_decref(dom);
	json_decref(fam);
	return ret;
}

int report_evidence_cli(int argc, char **argv)
{
	static const struct option longopts[] = {
	    {"domain", required_argument, NULL, 'd'}, {"format", required_argument, NULL, 'F'},
	    {"out", required_argument, NULL, 'o'},    {"store", required_argument, NULL, 'S'},
	    {"config", required_argument, NULL, 'c'}, {NULL, 0, NULL, 0}};
	const char *domain = NULL, *outpath = NULL, *store_path = NULL, *config = NULL;
	enum report_format fmt = REPORT_JSON;
	int opt;
	optind = 1;
	while ((opt = getopt_long(argc, argv, ":c:", longopts, NULL)) != -1) {
		switch (opt) {
		case 'd':
			domain = optarg;
			break;
		case 'F':
			if (strcmp(optarg, "json") == 0)
				fmt = REPORT_JSON;
			else if (strcmp(optarg, "html") == 0)
				fmt = REPORT_HTML;
			else {
				fprintf(stderr,
					"sinkd report evidence: --format '%s': expected "
					"json or html\n",
					optarg);
				return 2;
			}
			break;
		case 'o':
			outpath = optarg;
			break;
		case 'S':
			store_path = optarg;
			break;
		case 'c':
			config = optarg;
			break;
		default:
			fprintf(stderr, "usage: sinkd report evidence --domain D [--format "
					"json|html] [--out FILE] [--store P]\n");
			return 2;
		}
	}
	if (domain == NULL) {
		fprintf(stderr, "sinkd report evidence: --domain D is required\n");
		return 2;
	}
	struct store *st;
	if (report_open_store(store_path, config, &st) != 0)
		return 1;
	json_t *r = NULL;
	char err[256] = "";
	int ret = build(st, domain, &r, err, sizeof(err));
	store_close(st);
	if (ret != 0) {
		fprintf(stderr, "sinkd report evidence: %s\n", err);
		return 1;
	}
	FILE *out = stdout;
	if (outpath != NULL && (out = fopen(outpath, "w")) == NULL) {
		fprintf(stderr, "sinkd report evidence: cannot write %s: %s\n", outpath,
			strerror(errno));
		json_decref(r);
		return 1;
	}
	ret = report_render(out, r, fmt);
	json_decref(r);
	if (out != stdout)
		ret |= fclose(out);
	return ret == 0 ? 0 : 1;
}
