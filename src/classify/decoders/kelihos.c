/* Kelihos ("Waledac 2.0") decoder, as far as public facts go
 * (docs/decoders.md):
 *   - GET / with a Content-Length header and a binary body starting
 *     01 02 01 01 01 01 02 01: msg_type "binary"; the body length is the
 *     event's body_len and must agree with Content-Length ("length-mismatch"
 *     otherwise, unless the body was cut at the capture bound). The bytes
 *     after the prefix are encrypted and not decoded: no bot id, no version.
 *   - GET /<word>.htm (letters only): msg_type "fetch".
 * Statuses: "ok", "no-body", "short-body" (under 8 bytes), "bad-magic",
 * "no-content-length", "length-mismatch", "not-kelihos" (neither shape). */
#include "classify/decode_internal.h"

#include "core/error.h"

#include <ctype.h>
#include <string.h>

static const uint8_t magic[8] = {0x01, 0x02, 0x01, 0x01, 0x01, 0x01, 0x02, 0x01};

/* "/<letters>.htm", query string allowed. */
static bool is_word_htm(const uint8_t *t, size_t len)
{
	size_t path_len = 0;
	while (path_len < len && t[path_len] != '?' && t[path_len] != '#')
		path_len++;
	if (path_len < 6 || t[0] != '/' || memcmp(t + path_len - 4, ".htm", 4) != 0)
		return false;
	for (size_t i = 1; i < path_len - 4; i++) {
		if (!isalpha(t[i]))
			return false;
	}
	return true;
}

static int fail(struct sinkd_event *ev, const char *status)
{
	decode_status(ev, status);
	return SINKD_EMALF;
}

/* Content-Length as a number; false when absent or not digits. */
static bool content_length(const struct sinkd_event *ev, uint64_t *out)
{
	const uint8_t *hdrs;
	size_t len;
	const char *v;
	size_t v_len;
	if (event_payload_get(ev, EVP_HEADERS, &hdrs, &len) != 0 ||
	    decode_header_find(hdrs, len, "Content-Length", &v, &v_len) != 0 || v_len == 0 ||
	    v_len > 18)
		return false;
	uint64_t n = 0;
	for (size_t i = 0; i < v_len; i++) {
		if (!isdigit((unsigned char)v[i]))
			return false;
		n = n * 10 + (uint64_t)(v[i] - '0');
	}
	*out = n;
	return true;
}

static int kelihos_run(struct decode_env *env, const char *arg, struct sinkd_event *ev)
{
	const uint8_t *target = NULL, *body = NULL;
	size_t target_len = 0, body_len = 0;
	(void)env;
	(void)arg;
	event_payload_get(ev, EVP_TARGET, &target, &target_len);
	bool has_body = event_payload_get(ev, EVP_BODY, &body, &body_len) == 0 && body_len > 0;
	if (target != NULL && !has_body && is_word_htm(target, target_len)) {
		decode_copy_label(ev->msg_type, sizeof(ev->msg_type), "fetch", 5);
		decode_status(ev, "ok");
		return 0;
	}
	if (target == NULL || target_len == 0 || target[0] != '/' ||
	    (target_len > 1 && target[1] != '?'))
		return fail(ev, "not-kelihos");
	if (!has_body)
		return fail(ev, "no-body");
	if (body_len < sizeof(magic))
		return fail(ev, "short-body");
	if (memcmp(body, magic, sizeof(magic)) != 0)
		return fail(ev, "bad-magic");
	decode_copy_label(ev->msg_type, sizeof(ev->msg_type), "binary", 6);
	uint64_t cl;
	if (!content_length(ev, &cl))
		return fail(ev, "no-content-length");
	if (cl != ev->body_len && !(ev->flags & EVF_BODY_TRUNCATED))
		return fail(ev, "length-mismatch");
	decode_status(ev, "ok");
	return 0;
}

const struct decoder decoder_kelihos = {
    .name = "kelihos",
    .run = kelihos_run,
    .check_arg = NULL,
};
