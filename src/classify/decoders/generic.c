/* Generic decoder: the bot id is wherever the rule says, named by its
 * argument:
 *   param=NAME   query parameter NAME, else the same name in a form body
 *   header=NAME  request header NAME (case-insensitive)
 *   regex=PCRE2  first match in the target, then the headers, then the body;
 *                capture group 1 when the pattern has one, else the match
 * Sets bot_id (percent-decoded for param=, printable ASCII, truncated to the
 * field) and decode_status "ok", "no-bot-id" (not present or empty),
 * "bad-form" (a bad %-escape in the value), "regex-limit" (the match gave
 * up after MATCH_LIMIT backtracking steps) or "bad-arg". Regexes are
 * compiled (with JIT where available) once per env and cached. */
#include "classify/decode_internal.h"

#include "core/error.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Backtracking bound per match: a pathological pattern costs at most this
 * many steps per section instead of stalling the pipeline thread. */
#define MATCH_LIMIT 100000

struct decode_regex {
	char *pattern;
	pcre2_code *code;
	pcre2_match_data *md;
	pcre2_match_context *mc;
};

void decode_regex_free(struct decode_regex *r)
{
	if (r == NULL)
		return;
	pcre2_match_data_free(r->md);
	pcre2_match_context_free(r->mc);
	pcre2_code_free(r->code);
	free(r->pattern);
	free(r);
}

enum where { W_PARAM, W_HEADER, W_REGEX };

/* Split "kind=value". 0 or SINKD_EINVAL with a reason. */
static int parse_arg(const char *arg, enum where *w, const char **value, char *err, size_t errlen)
{
	static const struct {
		const char *prefix;
		enum where w;
	} kinds[] = {{"param=", W_PARAM}, {"header=", W_HEADER}, {"regex=", W_REGEX}};
	if (arg == NULL || *arg == '\0') {
		snprintf(err, errlen,
			 "generic: needs an argument: param=NAME, header=NAME or "
			 "regex=PATTERN");
		return SINKD_EINVAL;
	}
	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
		size_t n = strlen(kinds[i].prefix);
		if (strncmp(arg, kinds[i].prefix, n) == 0) {
			*w = kinds[i].w;
			*value = arg + n;
			if (**value == '\0') {
				snprintf(err, errlen, "generic: '%s' names nothing after '='", arg);
				return SINKD_EINVAL;
			}
			return 0;
		}
	}
	snprintf(err, errlen, "generic: '%s' is not param=NAME, header=NAME or regex=PATTERN", arg);
	return SINKD_EINVAL;
}

static pcre2_code *compile(const char *pattern, char *err, size_t errlen)
{
	int code;
	PCRE2_SIZE off;
	pcre2_code *re =
	    pcre2_compile((PCRE2_SPTR)pattern, PCRE2_ZERO_TERMINATED, 0, &code, &off, NULL);
	if (re == NULL) {
		PCRE2_UCHAR msg[256];
		pcre2_get_error_message(code, msg, sizeof(msg));
		snprintf(err, errlen, "generic: regex=%s: %s at offset %zu", pattern,
			 (const char *)msg, (size_t)off);
		return NULL;
	}
	pcre2_jit_compile(re, PCRE2_JIT_COMPLETE); /* falls back to the interpreter */
	return re;
}

static int generic_check_arg(const char *arg, char *err, size_t errlen)
{
	enum where w;
	const char *value;
	int ret = parse_arg(arg, &w, &value, err, errlen);
	if (ret != 0 || w != W_REGEX)
		return ret;
	pcre2_code *re = compile(value, err, errlen);
	if (re == NULL)
		return SINKD_EINVAL;
	pcre2_code_free(re);
	return 0;
}

/* The cached compiled pattern (compiled on first use; the oldest entry is
 * replaced when the cache is full). NULL when it does not compile or on
 * out of memory. */
static struct decode_regex *regex_get(struct decode_env *env, const char *pattern)
{
	for (unsigned i = 0; i < env->n_regex; i++) {
		if (strcmp(env->regex[i]->pattern, pattern) == 0)
			return env->regex[i];
	}
	char err[512];
	struct decode_regex *r = calloc(1, sizeof(*r));
	if (r == NULL)
		return NULL;
	r->pattern = strdup(pattern);
	r->code = compile(pattern, err, sizeof(err));
	if (r->pattern == NULL || r->code == NULL)
		goto fail;
	r->md = pcre2_match_data_create_from_pattern(r->code, NULL);
	r->mc = pcre2_match_context_create(NULL);
	if (r->md == NULL || r->mc == NULL)
		goto fail;
	pcre2_set_match_limit(r->mc, MATCH_LIMIT);
	if (env->n_regex == DECODE_REGEX_CACHE) {
		decode_regex_free(env->regex[0]);
		memmove(env->regex, env->regex + 1,
			sizeof(env->regex[0]) * (DECODE_REGEX_CACHE - 1));
		env->n_regex--;
	}
	env->regex[env->n_regex++] = r;
	return r;
fail:
	decode_regex_free(r);
	return NULL;
}

static int set_id(struct sinkd_event *ev, const char *id, size_t len)
{
	if (len == 0) {
		decode_status(ev, "no-bot-id");
		return SINKD_EMALF;
	}
	decode_copy_label(ev->bot_id, sizeof(ev->bot_id), id, len);
	decode_status(ev, "ok");
	return 0;
}

static int by_param(struct decode_env *env, const char *name, struct sinkd_event *ev)
{
	const uint8_t *data;
	size_t len;
	const char *q, *val = NULL;
	size_t q_len = 0, val_len = 0;
	if (event_payload_get(ev, EVP_TARGET, &data, &len) == 0) {
		decode_query(data, len, &q, &q_len);
		if (decode_form_find(q, q_len, name, &val, &val_len) != 0)
			val = NULL;
	}
	if (val == NULL && event_payload_get(ev, EVP_BODY, &data, &len) == 0 &&
	    decode_form_find((const char *)data, len, name, &val, &val_len) != 0)
		val = NULL;
	if (val == NULL) {
		decode_status(ev, "no-bot-id");
		return SINKD_EMALF;
	}
	size_t n;
	if (decode_percent(val, val_len, env->form, DECODE_SCRATCH, &n) != 0) {
		decode_status(ev, "bad-form");
		return SINKD_EMALF;
	}
	return set_id(ev, (const char *)env->form, n);
}

static int by_header(const char *name, struct sinkd_event *ev)
{
	const uint8_t *hdrs;
	size_t len;
	const char *val;
	size_t val_len;
	if (event_payload_get(ev, EVP_HEADERS, &hdrs, &len) != 0 ||
	    decode_header_find(hdrs, len, name, &val, &val_len) != 0) {
		decode_status(ev, "no-bot-id");
		return SINKD_EMALF;
	}
	return set_id(ev, val, val_len);
}

static int by_regex(struct decode_env *env, const char *pattern, struct sinkd_event *ev)
{
	static const uint8_t sections[] = {EVP_TARGET, EVP_HEADERS, EVP_BODY};
	struct decode_regex *r = regex_get(env, pattern);
	if (r == NULL) {
		decode_status(ev, "bad-arg");
		return SINKD_EINVAL;
	}
	uint32_t groups = pcre2_get_ovector_count(r->md);
	for (size_t i = 0; i < sizeof(sections); i++) {
		const uint8_t *data;
		size_t len;
		if (event_payload_get(ev, sections[i], &data, &len) != 0)
			continue;
		int rc = pcre2_match(r->code, data, len, 0, 0, r->md, r->mc);
		if (rc == PCRE2_ERROR_MATCHLIMIT || rc == PCRE2_ERROR_JIT_STACKLIMIT) {
			decode_status(ev, "regex-limit");
			return SINKD_EMALF;
		}
		if (rc <= 0)
			continue;
		PCRE2_SIZE *ov = pcre2_get_ovector_pointer(r->md);
		unsigned g = groups > 1 && rc > 1 && ov[2] != PCRE2_UNSET ? 1 : 0;
		return set_id(ev, (const char *)data + ov[2 * g], ov[2 * g + 1] - ov[2 * g]);
	}
	decode_status(ev, "no-bot-id");
	return SINKD_EMALF;
}

static int generic_run(struct decode_env *env, const char *arg, struct sinkd_event *ev)
{
	char err[256];
	enum where w;
	const char *value;
	if (parse_arg(arg, &w, &value, err, sizeof(err)) != 0) {
		decode_status(ev, "bad-arg");
		return SINKD_EINVAL;
	}
	if (w == W_PARAM)
		return by_param(env, value, ev);
	if (w == W_HEADER)
		return by_header(value, ev);
	return by_regex(env, value, ev);
}

const struct decoder decoder_generic = {
    .name = "generic",
    .run = generic_run,
    .check_arg = generic_check_arg,
};
