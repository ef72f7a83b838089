/* The decoder registry, the per-thread env and the payload helpers every
 * decoder shares. Adding a family: src/classify/decoders/<family>.c defines
 * a `const struct decoder decoder_<family>` and one line below lists it. */
#include "classify/decode_internal.h"

#include "core/error.h"

#include <ctype.h>
#include <expat.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static const struct decoder *const registry[] = {
    &decoder_waledac,
    &decoder_kelihos,
    &decoder_generic,
};

#define N_DECODERS (sizeof(registry) / sizeof(registry[0]))

static const struct decoder *find(const char *name)
{
	if (name == NULL)
		return NULL;
	for (size_t i = 0; i < N_DECODERS; i++) {
		if (strcmp(registry[i]->name, name) == 0)
			return registry[i];
	}
	return NULL;
}

size_t decode_count(void) { return N_DECODERS; }

const char *decode_name(size_t i) { return i < N_DECODERS ? registry[i]->name : NULL; }

bool decode_known(const char *decoder) { return find(decoder) != NULL; }

int decode_check_arg(const char *decoder, const char *arg, char *err, size_t errlen)
{
	const struct decoder *d = find(decoder);
	if (d == NULL) {
		snprintf(err, errlen, "unknown decoder '%s'", decoder != NULL ? decoder : "");
		return SINKD_ENOENT;
	}
	if (d->check_arg != NULL)
		return d->check_arg(arg, err, errlen);
	if (arg != NULL && *arg != '\0') {
		snprintf(err, errlen, "%s: takes no argument (remove '%s')", d->name, arg);
		return SINKD_EINVAL;
	}
	return 0;
}

static int hex_nibble(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = (char)tolower((unsigned char)c);
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

int decode_env_new(struct decode_env **out, const struct sinkd_config *cfg)
{
	struct decode_env *env = calloc(1, sizeof(*env));
	if (env == NULL)
		return SINKD_ENOMEM;
	if (cfg != NULL) {
		for (unsigned i = 0; i < cfg->n_decode_waledac_key && i < CONFIG_MAX_KEYS; i++)
			memcpy(env->keys[env->n_keys++], cfg->decode_waledac_key[i].key, 16);
		if (decode_is_hex32(cfg->decode_waledac_iv, strlen(cfg->decode_waledac_iv))) {
			for (size_t i = 0; i < 16; i++)
				env->iv[i] =
				    (uint8_t)(hex_nibble(cfg->decode_waledac_iv[2 * i]) << 4 |
					      hex_nibble(cfg->decode_waledac_iv[2 * i + 1]));
		}
	}
	env->form = malloc(DECODE_SCRATCH + 4); /* + base64 padding */
	env->raw = malloc(DECODE_SCRATCH);
	env->plain = malloc(DECODE_SCRATCH);
	env->text = malloc(DECODE_PLAIN_MAX);
	env->xml = XML_ParserCreate("UTF-8");
	if (env->form == NULL || env->raw == NULL || env->plain == NULL || env->text == NULL ||
	    env->xml == NULL)
		goto fail;
	/* One context per key, its key schedule computed here; decoding only
	 * sets the IV. No padding: the decoder checks PKCS#7 itself against the
	 * envelope's length. */
	for (unsigned i = 0; i < env->n_keys; i++) {
		EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
		env->cipher[i] = c;
		if (c == NULL ||
		    EVP_DecryptInit_ex(c, EVP_aes_128_cbc(), NULL, env->keys[i], env->iv) != 1 ||
		    EVP_CIPHER_CTX_set_padding(c, 0) != 1)
			goto fail;
	}
	/* expat draws a hash-flooding salt from getrandom() per document unless
	 * one is set: draw it once per env. */
	if (RAND_bytes((unsigned char *)&env->xml_salt, sizeof(env->xml_salt)) != 1)
		goto fail;
	*out = env;
	return 0;
fail:
	decode_env_free(env);
	return SINKD_ENOMEM;
}

void decode_env_free(struct decode_env *env)
{
	if (env == NULL)
		return;
	for (unsigned i = 0; i < env->n_regex; i++)
		decode_regex_free(env->regex[i]);
	decode_waledac_env_free(env);
	free(env->form);
	free(env->raw);
	free(env->plain);
	free(env->text);
	for (unsigned i = 0; i < CONFIG_MAX_KEYS; i++)
		EVP_CIPHER_CTX_free(env->cipher[i]);
	if (env->xml != NULL)
		XML_ParserFree(env->xml);
	memset(env->keys, 0, sizeof(env->keys));
	free(env);
}

int decode_event(struct decode_env *env, const char *name, const char *arg, struct sinkd_event *ev)
{
	const struct decoder *d = find(name);
	ev->msg_type[0] = '\0';
	ev->proto_version[0] = '\0';
	ev->bot_id[0] = '\0';
	if (d == NULL) {
		decode_status(ev, "unknown-decoder");
		return SINKD_ENOENT;
	}
	return d->run(env, arg, ev);
}

/* ---- helpers ------------------------------------------------------------- */

void decode_status(struct sinkd_event *ev, const char *status)
{
	decode_copy_label(ev->decode_status, sizeof(ev->decode_status), status, strlen(status));
}

void decode_copy_label(char *dst, size_t cap, const char *src, size_t len)
{
	size_t n = len < cap - 1 ? len : cap - 1;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)src[i];
		dst[i] = c >= 0x20 && c < 0x7f ? (char)c : '?';
	}
	dst[n] = '\0';
}

bool decode_is_hex32(const char *s, size_t len)
{
	if (len != 32)
		return false;
	for (size_t i = 0; i < len; i++) {
		if (!isxdigit((unsigned char)s[i]))
			return false;
	}
	return true;
}

int decode_form_find(const char *form, size_t len, const char *name, const char **val,
		     size_t *val_len)
{
	size_t nlen = strlen(name);
	const char *p = form, *end = form + len;
	while (p < end) {
		const char *amp = memchr(p, '&', (size_t)(end - p));
		const char *pair_end = amp != NULL ? amp : end;
		const char *eq = memchr(p, '=', (size_t)(pair_end - p));
		const char *key_end = eq != NULL ? eq : pair_end;
		if ((size_t)(key_end - p) == nlen && memcmp(p, name, nlen) == 0) {
			*val = eq != NULL ? eq + 1 : pair_end;
			*val_len = (size_t)(pair_end - *val);
			return 0;
		}
		p = pair_end + 1;
	}
	return SINKD_ENOENT;
}

int decode_percent(const char *src, size_t len, uint8_t *dst, size_t cap, size_t *out_len)
{
	size_t n = 0;
	for (size_t i = 0; i < len; i++) {
		if (n >= cap)
			return SINKD_EFULL;
		char c = src[i];
		if (c == '%') {
			int hi = i + 2 < len ? hex_nibble(src[i + 1]) : -1;
			int lo = i + 2 < len ? hex_nibble(src[i + 2]) : -1;
			if (hi < 0 || lo < 0)
				return SINKD_EMALF;
			dst[n++] = (uint8_t)(hi << 4 | lo);
			i += 2;
		} else {
			dst[n++] = c == '+' ? ' ' : (uint8_t)c;
		}
	}
	*out_len = n;
	return 0;
}

int decode_header_find(const uint8_t *hdrs, size_t len, const char *name, const char **val,
		       size_t *val_len)
{
	size_t nlen = strlen(name);
	const char *p = (const char *)hdrs, *end = p + len;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *line_end = nl != NULL ? nl : end;
		const char *colon = memchr(p, ':', (size_t)(line_end - p));
		if (colon != NULL && (size_t)(colon - p) == nlen &&
		    strncasecmp(p, name, nlen) == 0) {
			const char *v = colon + 1, *ve = line_end;
			while (v < ve && (*v == ' ' || *v == '\t'))
				v++;
			while (ve > v && (ve[-1] == '\r' || ve[-1] == ' ' || ve[-1] == '\t'))
				ve--;
			*val = v;
			*val_len = (size_t)(ve - v);
			return 0;
		}
		p = line_end + 1;
	}
	return SINKD_ENOENT;
}

void decode_query(const uint8_t *target, size_t len, const char **q, size_t *q_len)
{
	const char *t = (const char *)target;
	const char *qm = memchr(t, '?', len);
	if (qm == NULL) {
		*q = t + len;
		*q_len = 0;
		return;
	}
	const char *end = t + len;
	const char *hash = memchr(qm + 1, '#', (size_t)(end - qm - 1));
	*q = qm + 1;
	*q_len = (size_t)((hash != NULL ? hash : end) - (qm + 1));
}
