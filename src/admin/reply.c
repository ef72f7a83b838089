/* Replies and argument parsing shared by the admin handlers. */
#include "admin/admin_internal.h"

#include "core/error.h"
#include "store/store.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static enum MHD_Result collect_one(void *cls, enum MHD_ValueKind kind, const char *key,
				   const char *value)
{
	struct admin_params *p = cls;
	(void)kind;
	for (unsigned i = 0; i < p->n; i++) {
		if (strcmp(p->key[i], key) == 0) {
			if (p->problem == NULL)
				p->problem = key;
			return MHD_YES;
		}
	}
	if (p->n == ADMIN_MAX_PARAMS) {
		if (p->problem == NULL)
			p->problem = key;
		return MHD_YES;
	}
	p->key[p->n] = key;
	p->val[p->n++] = value != NULL ? value : "";
	return MHD_YES;
}

void admin_params_collect(struct MHD_Connection *c, struct admin_params *p)
{
	memset(p, 0, sizeof(*p));
	MHD_get_connection_values(c, MHD_GET_ARGUMENT_KIND, collect_one, p);
}

const char *admin_param(const struct admin_params *p, const char *key)
{
	for (unsigned i = 0; i < p->n; i++) {
		if (strcmp(p->key[i], key) == 0)
			return p->val[i];
	}
	return NULL;
}

const char *admin_params_unknown(const struct admin_params *p, const char *const *allowed)
{
	if (p->problem != NULL)
		return p->problem;
	for (unsigned i = 0; i < p->n; i++) {
		bool known = false;
		for (const char *const *k = allowed; *k != NULL && !known; k++)
			known = strcmp(*k, p->key[i]) == 0;
		if (!known)
			return p->key[i];
	}
	return NULL;
}

enum MHD_Result admin_reply_buffer(struct MHD_Connection *c, unsigned status,
				   const char *content_type, char *buf, size_t len)
{
	struct MHD_Response *r = MHD_create_response_from_buffer(len, buf, MHD_RESPMEM_MUST_FREE);
	if (r == NULL) {
		free(buf);
		return MHD_NO;
	}
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, content_type);
	MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
	MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
	enum MHD_Result ret = MHD_queue_response(c, status, r);
	MHD_destroy_response(r);
	return ret;
}

enum MHD_Result admin_reply_json(struct MHD_Connection *c, unsigned status, json_t *body)
{
	char *text =
	    body != NULL
		? json_dumps(body, JSON_COMPACT | JSON_ENSURE_ASCII | JSON_REAL_PRECISION(9))
		: NULL;
	json_decref(body);
	if (text == NULL)
		return MHD_NO;
	size_t len = strlen(text);
	/* jansson allocates with malloc (the default allocator): free() fits. */
	char *buf = realloc(text, len + 2);
	if (buf == NULL) {
		free(text);
		return MHD_NO;
	}
	buf[len] = '\n';
	buf[len + 1] = '\0';
	return admin_reply_buffer(c, status, "application/json", buf, len + 1);
}

enum MHD_Result admin_reply_error(struct MHD_Connection *c, unsigned status, const char *param,
				  const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	json_t *o = json_pack("{s:s, s:I}", "error", msg, "status", (json_int_t)status);
	if (o != NULL && param != NULL)
		json_object_set_new(o, "parameter", json_string(param));
	return admin_reply_json(c, status, o);
}

bool admin_name_ok(const char *s, size_t max)
{
	size_t n = strlen(s);
	if (n == 0 || n > max)
		return false;
	for (; *s != '\0'; s++) {
		if (!isalnum((unsigned char)*s) && *s != '.' && *s != '-' && *s != '_')
			return false;
	}
	return true;
}

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

int admin_parse_uint(const char *text, uint64_t min, uint64_t max, uint64_t *out)
{
	if (text == NULL || text[0] == '\0' || strlen(text) > 19)
		return SINKD_EINVAL;
	uint64_t v = 0;
	for (const char *p = text; *p != '\0'; p++) {
		if (*p < '0' || *p > '9')
			return SINKD_EINVAL;
		v = v * 10 + (uint64_t)(*p - '0');
	}
	if (v < min || v > max)
		return SINKD_EINVAL;
	*out = v;
	return 0;
}

int admin_parse_time(const char *text, uint64_t *out_ns)
{
	uint64_t s;
	if (text == NULL || strlen(text) > 64)
		return SINKD_EINVAL;
	/* Unix seconds (10 digits and fewer) as well as everything `sinkd
	 * events --since` takes. */
	if (strlen(text) <= 10 && admin_parse_uint(text, 0, 9999999999ull, &s) == 0) {
		*out_ns = s * 1000000000ull;
		return 0;
	}
	return store_time_parse(text, now_ns(), out_ns);
}

const char *admin_time_iso(uint64_t ts_ns, char *buf, size_t len)
{
	time_t s = (time_t)(ts_ns / 1000000000ull);
	struct tm tm;
	char base[32];
	gmtime_r(&s, &tm);
	strftime(base, sizeof(base), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(buf, len, "%s.%03uZ", base, (unsigned)(ts_ns / 1000000ull % 1000));
	return buf;
}
