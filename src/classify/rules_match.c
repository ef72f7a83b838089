/* Matching: a view of one event's fields (payload sections looked up once,
 * on first use) and the evaluation of a rule's conditions in cost order,
 * cheapest first. Allocates nothing: regexes use the classifier's
 * preallocated match data and JIT stack. */
#include "classify/rules_internal.h"

#include "classify/decode.h"
#include "domains/domains.h"

#include <string.h>
#include <strings.h>

/* Lazily located pieces of one event. */
struct rules_view {
	struct sinkd_event *ev;
	uint32_t looked; /* bit per payload type already looked up */
	const uint8_t *sec[EVP_TLS_HELLO + 1];
	size_t len[EVP_TLS_HELLO + 1];
	bool split;	 /* target split into path and query */
	size_t path_len; /* bytes of target before '?' */
};

static bool section(struct rules_view *v, uint8_t type, const uint8_t **p, size_t *len)
{
	if (!(v->looked & (1u << type))) {
		v->looked |= 1u << type;
		if (event_payload_get(v->ev, type, &v->sec[type], &v->len[type]) != 0)
			v->sec[type] = NULL;
	}
	*p = v->sec[type];
	*len = v->len[type];
	return *p != NULL;
}

static bool target_parts(struct rules_view *v, const uint8_t **t, size_t *len)
{
	if (!section(v, EVP_TARGET, t, len))
		return false;
	if (!v->split) {
		const uint8_t *q = memchr(*t, '?', *len);
		v->path_len = q != NULL ? (size_t)(q - *t) : *len;
		v->split = true;
	}
	return true;
}

static bool header_line_end(const uint8_t *p, const uint8_t *end, const uint8_t **eol,
			    const uint8_t **next)
{
	const uint8_t *nl = memchr(p, '\n', (size_t)(end - p));
	*next = nl != NULL ? nl + 1 : end;
	*eol = nl != NULL ? nl : end;
	if (*eol > p && (*eol)[-1] == '\r')
		(*eol)--;
	return true;
}

/* Field bytes that need no name (everything but header and param). */
static bool field_bytes(struct rules_view *v, uint8_t field, const uint8_t **p, size_t *len)
{
	struct sinkd_event *ev = v->ev;
	const uint8_t *t;
	size_t tl;
	switch (field) {
	case RF_METHOD:
		*p = (const uint8_t *)ev->http_method;
		*len = strnlen(ev->http_method, sizeof(ev->http_method));
		return ev->kind == EVENT_HTTP && *len > 0;
	case RF_TARGET:
		return section(v, EVP_TARGET, p, len);
	case RF_PATH:
		if (!target_parts(v, &t, &tl))
			return false;
		*p = t;
		*len = v->path_len;
		return true;
	case RF_QUERY:
		if (!target_parts(v, &t, &tl) || v->path_len == tl)
			return false;
		*p = t + v->path_len + 1;
		*len = tl - v->path_len - 1;
		return true;
	case RF_BODY:
		return section(v, EVP_BODY, p, len);
	case RF_BYTES:
		return section(v, EVP_RAW, p, len);
	case RF_JA3:
		return section(v, EVP_TLS_JA3, p, len);
	case RF_JA3_MD5:
		return section(v, EVP_TLS_JA3_MD5, p, len);
	case RF_JA4:
		return section(v, EVP_TLS_JA4, p, len);
	case RF_QNAME:
		*p = (const uint8_t *)ev->qname;
		*len = strnlen(ev->qname, sizeof(ev->qname));
		return *len > 0;
	case RF_ZONE:
		*p = (const uint8_t *)ev->zone;
		*len = strnlen(ev->zone, sizeof(ev->zone));
		return *len > 0;
	default:
		return false;
	}
}

static bool test_value(struct classifier *cl, const struct rule_cond *c, const uint8_t *p,
		       size_t len)
{
	switch (c->op) {
	case RO_PRESENT:
		return true;
	case RO_EQ:
		if (len != c->val_len)
			return false;
		return c->field == RF_METHOD
			   ? strncasecmp((const char *)p, (const char *)c->val, len) == 0
			   : memcmp(p, c->val, len) == 0;
	case RO_PREFIX:
		return len >= c->val_len && memcmp(p, c->val, c->val_len) == 0;
	case RO_CONTAINS:
		return memmem(p, len, c->val, c->val_len) != NULL;
	case RO_HEX:
		if (c->offset == RULE_HEX_ANY)
			return memmem(p, len, c->val, c->val_len) != NULL;
		return (size_t)c->offset <= len && len - (size_t)c->offset >= c->val_len &&
		       memcmp(p + c->offset, c->val, c->val_len) == 0;
	case RO_REGEX:
		/* Over the match limit or any other error: no match. */
		return pcre2_match(c->re, p, len, 0, 0, cl->md, cl->mctx) >= 0;
	default:
		return false;
	}
}

/* Any header named c->name whose value (blanks around it trimmed) passes. */
static bool test_header(struct classifier *cl, const struct rule_cond *c, struct rules_view *v)
{
	const uint8_t *h, *eol, *next;
	size_t hl;
	if (!section(v, EVP_HEADERS, &h, &hl))
		return false;
	for (const uint8_t *p = h, *end = h + hl; p < end; p = next) {
		header_line_end(p, end, &eol, &next);
		const uint8_t *colon = memchr(p, ':', (size_t)(eol - p));
		if (colon == NULL || (size_t)(colon - p) != c->name_len ||
		    strncasecmp((const char *)p, c->name, c->name_len) != 0)
			continue;
		const uint8_t *val = colon + 1, *vend = eol;
		while (val < vend && (*val == ' ' || *val == '\t'))
			val++;
		while (vend > val && (vend[-1] == ' ' || vend[-1] == '\t'))
			vend--;
		if (test_value(cl, c, val, (size_t)(vend - val)))
			return true;
	}
	return false;
}

/* Any query parameter named c->name (exact bytes, not URL-decoded) whose
 * raw value passes. */
static bool test_param(struct classifier *cl, const struct rule_cond *c, struct rules_view *v)
{
	const uint8_t *q;
	size_t ql;
	if (!field_bytes(v, RF_QUERY, &q, &ql))
		return false;
	const uint8_t *end = q + ql, *next;
	for (const uint8_t *p = q; p < end; p = next) {
		const uint8_t *amp = memchr(p, '&', (size_t)(end - p));
		const uint8_t *pend = amp != NULL ? amp : end;
		next = amp != NULL ? amp + 1 : end;
		const uint8_t *eq = memchr(p, '=', (size_t)(pend - p));
		const uint8_t *nend = eq != NULL ? eq : pend;
		if ((size_t)(nend - p) != c->name_len || memcmp(p, c->name, c->name_len) != 0)
			continue;
		const uint8_t *val = eq != NULL ? eq + 1 : pend;
		if (test_value(cl, c, val, (size_t)(pend - val)))
			return true;
	}
	return false;
}

static bool test_in(const struct rule_cond *c, struct rules_view *v)
{
	const struct sinkd_event *ev = v->ev;
	switch (c->field) {
	case RF_KIND:
		return (c->mask >> (ev->kind & 31)) & 1u;
	case RF_TRANSPORT:
		return (c->mask >> (ev->transport & 31)) & 1u;
	case RF_PORT:
		for (unsigned i = 0; i < c->n_ranges; i++) {
			if (ev->dst.port >= c->lo[i] && ev->dst.port <= c->hi[i])
				return true;
		}
		return false;
	case RF_METHOD:
		for (unsigned i = 0; ev->kind == EVENT_HTTP && i < c->n_words; i++) {
			if (strcasecmp(ev->http_method, c->words[i]) == 0)
				return true;
		}
		return false;
	case RF_ZONE: {
		/* The seized zone, or for a name under none the name itself. */
		const char *name = ev->zone[0] != '\0' ? ev->zone : ev->qname;
		return name[0] != '\0' && domains_match_name(c->set, name) >= 0;
	}
	default:
		return false;
	}
}

static bool test_cond(struct classifier *cl, const struct rule_cond *c, struct rules_view *v)
{
	const uint8_t *p;
	size_t len;
	if (c->op == RO_IN)
		return test_in(c, v);
	if (c->field == RF_HEADER)
		return test_header(cl, c, v);
	if (c->field == RF_PARAM)
		return test_param(cl, c, v);
	if (!field_bytes(v, c->field, &p, &len))
		return false;
	return test_value(cl, c, p, len);
}

bool rules_match(struct classifier *cl, const struct rule *r, struct rules_view *v)
{
	for (unsigned i = 0; i < r->n_conds; i++) {
		const struct rule_cond *c = &r->conds[i];
		if (test_cond(cl, c, v) == c->negate)
			return false;
	}
	return true;
}

static void clear_labels(struct sinkd_event *ev)
{
	ev->rule_id[0] = ev->tag[0] = '\0';
	ev->severity = 0;
	ev->msg_type[0] = ev->proto_version[0] = ev->bot_id[0] = ev->decode_status[0] = '\0';
}

long classifier_match(struct classifier *c, struct decode_env *env, struct sinkd_event *ev,
		      int *decode_ret)
{
	struct rules_view v;
	v.ev = ev;
	v.looked = 0;
	v.split = false;
	uint32_t kind_bit = 1u << (ev->kind & 31);
	if (decode_ret != NULL)
		*decode_ret = 0;
	clear_labels(ev);
	for (size_t i = 0; i < c->n_rules; i++) {
		const struct rule *r = &c->rules[i];
		if (!(r->kinds & kind_bit) || !rules_match(c, r, &v))
			continue;
		/* Label fields are NUL-padded in the rule: fixed-size copies. */
		memcpy(ev->family, r->family, EVENT_LABEL_MAX);
		memcpy(ev->rule_id, r->id, EVENT_LABEL_MAX);
		memcpy(ev->tag, r->tag, EVENT_LABEL_MAX);
		ev->severity = r->severity;
		if (r->decoder[0] != '\0' && env != NULL) {
			int ret = decode_event(env, r->decoder, r->decoder_arg, ev);
			if (decode_ret != NULL)
				*decode_ret = ret;
		}
		return (long)i;
	}
	memcpy(ev->family, CLASSIFY_UNKNOWN, sizeof(CLASSIFY_UNKNOWN));
	return -1;
}

void classifier_classify(struct classifier *c, struct decode_env *env, struct sinkd_event *ev)
{
	classifier_match(c, env, ev, NULL);
}
