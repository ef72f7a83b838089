/* The shape of one event (shapes_key): what stays the same between two
 * check-ins of one family while ids, counters and random names change. */
#include "classify/shapes.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#define MAX_NAMES 64 /* header or parameter names sorted per event */
#define ENTROPY_BYTES 4096

bool shapes_wanted(const struct sinkd_event *ev)
{
	if (ev->kind != EVENT_HTTP && ev->kind != EVENT_TLS && ev->kind != EVENT_RAW)
		return false;
	return ev->family[0] == '\0' || strcmp(ev->family, "unknown") == 0;
}

/* ---- text helpers -------------------------------------------------------- */

struct out {
	char *buf;
	size_t cap, n;
	bool full;
};

/* Content is kept to cap - 4 bytes, so a cut can always end in "...". */
static void put(struct out *o, const char *s, size_t len)
{
	size_t limit = o->cap - 4;
	if (o->full)
		return;
	if (o->n + len <= limit) {
		memcpy(o->buf + o->n, s, len);
		o->n += len;
		o->buf[o->n] = '\0';
		return;
	}
	memcpy(o->buf + o->n, s, limit - o->n);
	memcpy(o->buf + limit, "...", 4);
	o->n = limit + 3;
	o->full = true;
}

static void put_char(struct out *o, char c)
{
	char s[1] = {c};
	put(o, (unsigned char)c >= 0x20 && (unsigned char)c < 0x7f ? s : "?", 1);
}

static bool is_vowel(char c) { return strchr("aeiouAEIOU", c) != NULL; }

/* The placeholder for a run of letters and digits, or NULL to keep it. */
static const char *run_class(const char *s, size_t len)
{
	size_t digits = 0, hexletters = 0, letters = 0, vowels = 0, upper_after_lower = 0;
	size_t cons = 0, max_cons = 0;
	for (size_t i = 0; i < len; i++) {
		char c = s[i];
		if (isdigit((unsigned char)c)) {
			digits++;
			cons = 0;
			continue;
		}
		letters++;
		if ((c | 0x20) >= 'a' && (c | 0x20) <= 'f')
			hexletters++;
		if (is_vowel(c)) {
			vowels++;
			cons = 0;
		} else if (++cons > max_cons) {
			max_cons = cons;
		}
		if (i > 0 && isupper((unsigned char)c) && islower((unsigned char)s[i - 1]))
			upper_after_lower++;
	}
	if (digits == len)
		return "{d}";
	if (len >= 6 && digits > 0 && hexletters == letters)
		return "{hex}";
	if (len > 24)
		return "{rand}";
	if (digits > 0 && len >= 6)
		return "{rand}";
	if (digits == 0 && len >= 5 &&
	    (max_cons >= 4 || vowels * 5 < len || upper_after_lower >= 2))
		return "{rand}";
	return NULL;
}

static void put_template(struct out *o, const char *s, size_t len)
{
	size_t i = 0;
	while (i < len) {
		if (!isalnum((unsigned char)s[i])) {
			put_char(o, s[i++]);
			continue;
		}
		size_t start = i;
		while (i < len && isalnum((unsigned char)s[i]))
			i++;
		const char *cls = run_class(s + start, i - start);
		if (cls != NULL)
			put(o, cls, strlen(cls));
		else
			put(o, s + start, i - start);
	}
}

void shapes_template(const char *s, size_t len, char *buf, size_t cap)
{
	struct out o = {buf, cap, 0, false};
	buf[0] = '\0';
	put_template(&o, s, len);
}

/* ---- name sets ----------------------------------------------------------- */

struct name {
	const char *s;
	size_t len;
};

static int name_cmp(const struct name *a, const struct name *b)
{
	size_t n = a->len < b->len ? a->len : b->len;
	int c = strncasecmp(a->s, b->s, n);
	return c != 0 ? c : (a->len > b->len) - (a->len < b->len);
}

static void names_add(struct name *names, size_t *n, const char *s, size_t len)
{
	if (len == 0 || *n == MAX_NAMES)
		return;
	struct name x = {s, len};
	size_t i = *n;
	while (i > 0 && name_cmp(&names[i - 1], &x) > 0)
		i--;
	if (i > 0 && name_cmp(&names[i - 1], &x) == 0)
		return;
	memmove(names + i + 1, names + i, (*n - i) * sizeof(*names));
	names[i] = x;
	(*n)++;
}

/* Names joined by commas: templated (parameters) or lowercased (headers). */
static void put_names(struct out *o, const struct name *names, size_t n, bool lower)
{
	for (size_t i = 0; i < n; i++) {
		if (i > 0)
			put(o, ",", 1);
		if (!lower) {
			put_template(o, names[i].s, names[i].len);
			continue;
		}
		for (size_t j = 0; j < names[i].len; j++)
			put_char(o, (char)tolower((unsigned char)names[i].s[j]));
	}
}

/* Parameter names of a form (query string or body). */
static void form_names(const char *s, size_t len, struct name *names, size_t *n)
{
	const char *p = s, *end = s + len;
	while (p < end) {
		const char *amp = memchr(p, '&', (size_t)(end - p));
		const char *pe = amp != NULL ? amp : end;
		const char *eq = memchr(p, '=', (size_t)(pe - p));
		names_add(names, n, p, (size_t)((eq != NULL ? eq : pe) - p));
		p = pe + 1;
	}
}

/* ---- body ---------------------------------------------------------------- */

enum { C_HEX = 1, C_B64 = 2 };

static unsigned char_class(uint8_t c)
{
	uint8_t l = c | 0x20;
	if (c >= '0' && c <= '9')
		return C_HEX | C_B64;
	if (l >= 'a' && l <= 'z')
		return l <= 'f' ? C_HEX | C_B64 : C_B64;
	if (c == '\r' || c == '\n')
		return C_HEX | C_B64;
	if (c == '+' || c == '/' || c == '=' || c == '-' || c == '_')
		return C_B64;
	return 0;
}

/* The classes every byte belongs to (C_HEX, C_B64). */
static unsigned all_of(const uint8_t *b, size_t len)
{
	unsigned all = C_HEX | C_B64;
	for (size_t i = 0; i < len && all != 0; i++)
		all &= char_class(b[i]);
	return all;
}

static bool printable(const uint8_t *b, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		if ((b[i] < 0x20 && b[i] != '\r' && b[i] != '\n' && b[i] != '\t') || b[i] == 0x7f)
			return false;
	}
	return true;
}

static bool is_form_body(const uint8_t *b, size_t len)
{
	if (memchr(b, '=', len) == NULL)
		return false;
	for (size_t i = 0; i < len; i++) {
		if (b[i] <= 0x20 || b[i] >= 0x7f)
			return false;
	}
	return true;
}

static void body_class(const uint8_t *b, size_t len, struct out *o)
{
	size_t i = 0;
	while (i < len && isspace(b[i]))
		i++;
	unsigned all = len >= 16 ? all_of(b, len) : 0;
	if (len == 0) {
		put(o, "empty", 5);
	} else if (len >= 2 && b[0] == 0x1f && b[1] == 0x8b) {
		put(o, "gzip", 4);
	} else if (len >= 4 && memcmp(b, "BZh", 3) == 0) {
		put(o, "bzip2", 5);
	} else if (len >= 4 && memcmp(b, "PK\x03\x04", 4) == 0) {
		put(o, "zip", 3);
	} else if (!printable(b, len)) {
		put(o, "binary", 6);
	} else if (i < len && (b[i] == '{' || b[i] == '[')) {
		put(o, "json", 4);
	} else if (i < len && b[i] == '<') {
		put(o, "xml", 3);
	} else if (all & C_HEX) {
		put(o, "hex", 3);
	} else if (all & C_B64) {
		put(o, "base64", 6);
	} else if (is_form_body(b, len)) {
		struct name names[MAX_NAMES];
		size_t n = 0;
		form_names((const char *)b, len, names, &n);
		put(o, "form:", 5);
		put_names(o, names, n, false);
	} else {
		put(o, "printable", 9);
	}
}

static void length_bucket(uint64_t len, char *out, size_t cap)
{
	static const struct {
		uint64_t below;
		const char *name;
	} buckets[] = {{1, "0"},	 {16, "1-15"},	  {64, "16-63"},     {256, "64-255"},
		       {1024, "256-1k"}, {4096, "1k-4k"}, {16384, "4k-16k"}, {65536, "16k-64k"}};
	for (size_t i = 0; i < sizeof(buckets) / sizeof(buckets[0]); i++) {
		if (len < buckets[i].below) {
			snprintf(out, cap, "%s", buckets[i].name);
			return;
		}
	}
	snprintf(out, cap, "64k+");
}

/* Shannon entropy of the first bytes relative to the most those bytes can
 * show (log2 of their count, at most 8 bits). */
static void entropy_bucket(const uint8_t *b, size_t len, char *out, size_t cap)
{
	if (len > ENTROPY_BYTES)
		len = ENTROPY_BYTES;
	if (len < 16) {
		snprintf(out, cap, "-");
		return;
	}
	unsigned counts[256] = {0};
	for (size_t i = 0; i < len; i++)
		counts[b[i]]++;
	double h = 0;
	for (int i = 0; i < 256; i++) {
		if (counts[i] > 0) {
			double p = (double)counts[i] / (double)len;
			h -= p * log2(p);
		}
	}
	double most = log2((double)len);
	if (most > 8)
		most = 8;
	double r = h / most;
	snprintf(out, cap, "%s", r < 0.5 ? "low" : r < 0.75 ? "mid" : r < 0.9 ? "high" : "max");
}

/* ---- the key ------------------------------------------------------------- */

static void http_key(const struct sinkd_event *ev, struct shape_key *k)
{
	const uint8_t *t = NULL, *h = NULL;
	size_t t_len = 0, h_len = 0;
	event_payload_get(ev, EVP_TARGET, &t, &t_len);
	event_payload_get(ev, EVP_HEADERS, &h, &h_len);
	snprintf(k->method, sizeof(k->method), "%s", ev->http_method);
	/* absolute-form targets: the path only */
	size_t path_start = 0;
	if (t_len > 7 && (strncasecmp((const char *)t, "http://", 7) == 0 ||
			  strncasecmp((const char *)t, "https://", 8) == 0)) {
		const uint8_t *slash = memchr(t + 8, '/', t_len - 8);
		path_start = slash != NULL ? (size_t)(slash - t) : t_len;
	}
	size_t path_end = path_start;
	while (path_end < t_len && t[path_end] != '?' && t[path_end] != '#')
		path_end++;
	shapes_template((const char *)t + path_start, path_end - path_start, k->path,
			sizeof(k->path));
	struct name names[MAX_NAMES];
	size_t n = 0;
	if (path_end < t_len && t[path_end] == '?') {
		size_t q = path_end + 1, qe = q;
		while (qe < t_len && t[qe] != '#')
			qe++;
		form_names((const char *)t + q, qe - q, names, &n);
	}
	struct out o = {k->params, sizeof(k->params), 0, false};
	put_names(&o, names, n, false);
	n = 0;
	const char *p = (const char *)h, *end = p + h_len;
	while (p != NULL && p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *le = nl != NULL ? nl : end;
		const char *colon = memchr(p, ':', (size_t)(le - p));
		if (colon != NULL)
			names_add(names, &n, p, (size_t)(colon - p));
		p = le + 1;
	}
	o = (struct out){k->headers, sizeof(k->headers), 0, false};
	put_names(&o, names, n, true);
	const uint8_t *b = NULL;
	size_t b_len = 0;
	event_payload_get(ev, EVP_BODY, &b, &b_len);
	o = (struct out){k->body, sizeof(k->body), 0, false};
	body_class(b, b_len, &o);
	length_bucket(ev->body_len, k->length, sizeof(k->length));
	entropy_bucket(b, b_len, k->entropy, sizeof(k->entropy));
}

static void other_key(const struct sinkd_event *ev, struct shape_key *k)
{
	const uint8_t *d = NULL;
	size_t len = 0;
	if (ev->kind == EVENT_TLS) {
		snprintf(k->method, sizeof(k->method), "TLS");
		if (event_payload_get(ev, EVP_TLS_JA4, &d, &len) == 0 && len > 0) {
			struct out o = {k->path, sizeof(k->path), 0, false};
			put(&o, "ja4:", 4);
			for (size_t i = 0; i < len; i++)
				put_char(&o, (char)d[i]);
		}
		snprintf(k->body, sizeof(k->body), "-");
		snprintf(k->length, sizeof(k->length), "-");
		snprintf(k->entropy, sizeof(k->entropy), "-");
		return;
	}
	snprintf(k->method, sizeof(k->method), "RAW/%s%s%.12s",
		 ev->transport == TRANSPORT_UDP ? "udp" : "tcp", ev->proto[0] ? "/" : "",
		 ev->proto);
	event_payload_get(ev, EVP_RAW, &d, &len);
	struct out o = {k->body, sizeof(k->body), 0, false};
	body_class(d, len, &o);
	length_bucket(len, k->length, sizeof(k->length));
	entropy_bucket(d, len, k->entropy, sizeof(k->entropy));
}

static uint64_t fnv(uint64_t h, const char *s)
{
	for (; *s != '\0'; s++)
		h = (h ^ (uint8_t)*s) * 0x100000001b3ull;
	return (h ^ 0x1f) * 0x100000001b3ull; /* field separator */
}

void shapes_key(const struct sinkd_event *ev, struct shape_key *k)
{
	memset(k, 0, sizeof(*k));
	k->kind = ev->kind;
	if (ev->kind == EVENT_HTTP)
		http_key(ev, k);
	else
		other_key(ev, k);
	uint64_t h = 0xcbf29ce484222325ull ^ k->kind;
	h = fnv(h, k->method);
	h = fnv(h, k->path);
	h = fnv(h, k->params);
	h = fnv(h, k->headers);
	h = fnv(h, k->body);
	h = fnv(h, k->length);
	h = fnv(h, k->entropy);
	snprintf(k->id, sizeof(k->id), "%016llx", (unsigned long long)h);
}
