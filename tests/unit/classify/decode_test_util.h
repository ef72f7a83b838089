/* Helpers for the decoder tests: HTTP events with payload sections, and
 * hand-made Waledac envelopes (for the failure cases the builder cannot
 * produce). */
#ifndef SINKD_TEST_DECODE_UTIL_H
#define SINKD_TEST_DECODE_UTIL_H

#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "classify/decode.h"
#include "core/config.h"
#include "core/error.h"
#include "core/event.h"

struct test_event {
	struct sinkd_event ev;
	uint8_t payload[EVENT_PAYLOAD_MAX];
};

/* An HTTP event: target, headers block ("Name: v\r\n" lines, may be NULL),
 * body (body_len bytes, NULL for none). */
static inline void test_event_http(struct test_event *t, const char *method, const char *target,
				   const char *headers, const void *body, size_t body_len)
{
	memset(&t->ev, 0, sizeof(t->ev));
	t->ev.kind = EVENT_HTTP;
	snprintf(t->ev.http_method, sizeof(t->ev.http_method), "%s", method);
	uint32_t used = 0;
	event_payload_add(t->payload, sizeof(t->payload), &used, EVP_TARGET, target,
			  strlen(target));
	if (headers != NULL)
		event_payload_add(t->payload, sizeof(t->payload), &used, EVP_HEADERS, headers,
				  strlen(headers));
	if (body != NULL)
		event_payload_add(t->payload, sizeof(t->payload), &used, EVP_BODY, body, body_len);
	t->ev.body_len = (uint32_t)body_len;
	t->ev.payload_len = used;
	t->ev.payload = t->payload;
}

/* URL-safe base64 without padding. */
static inline size_t test_b64url(const uint8_t *in, size_t len, char *out)
{
	int n = EVP_EncodeBlock((unsigned char *)out, in, (int)len);
	while (n > 0 && out[n - 1] == '=')
		n--;
	for (int i = 0; i < n; i++)
		out[i] = out[i] == '+' ? '-' : out[i] == '/' ? '_' : out[i];
	out[n] = '\0';
	return (size_t)n;
}

/* AES-128-CBC with PKCS#7 padding (zero IV when iv is NULL). */
static inline size_t test_encrypt(const uint8_t *key, const uint8_t *iv, const uint8_t *in,
				  size_t len, uint8_t *out)
{
	static const uint8_t zero[16];
	EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
	int n1 = 0, n2 = 0;
	EVP_EncryptInit_ex(c, EVP_aes_128_cbc(), NULL, key, iv != NULL ? iv : zero);
	EVP_EncryptUpdate(c, out, &n1, in, (int)len);
	EVP_EncryptFinal_ex(c, out + n1, &n2);
	EVP_CIPHER_CTX_free(c);
	return (size_t)(n1 + n2);
}

/* Form body "a=<b64(type, be32 len_field, ct)>" around ciphertext bytes. */
static inline void test_envelope_body(uint8_t type, uint32_t len_field, const uint8_t *ct,
				      size_t ct_len, char *body, size_t cap)
{
	uint8_t *raw = malloc(5 + ct_len);
	raw[0] = type;
	raw[1] = (uint8_t)(len_field >> 24);
	raw[2] = (uint8_t)(len_field >> 16);
	raw[3] = (uint8_t)(len_field >> 8);
	raw[4] = (uint8_t)len_field;
	memcpy(raw + 5, ct, ct_len);
	char *b64 = malloc(4 * (5 + ct_len) / 3 + 8);
	test_b64url(raw, 5 + ct_len, b64);
	snprintf(body, cap, "a=%s&b=AAAA", b64);
	free(raw);
	free(b64);
}

/* A Waledac body whose plaintext is exactly `plain` (encrypted with key). */
static inline void test_plain_body(const uint8_t *key, const void *plain, size_t len, char *body,
				   size_t cap)
{
	uint8_t *ct = malloc(len + 32);
	size_t ct_len = test_encrypt(key, NULL, plain, len, ct);
	test_envelope_body(0x02, (uint32_t)len, ct, ct_len, body, cap);
	free(ct);
}

/* An env with the given keys (n of them, 16 bytes each) and optional IV
 * (32 hex or NULL), through the real config parser's structures. */
static inline struct decode_env *test_env(const uint8_t (*keys)[16], unsigned n, const char *iv)
{
	struct sinkd_config cfg;
	config_defaults(&cfg);
	for (unsigned i = 0; i < n; i++)
		memcpy(cfg.decode_waledac_key[i].key, keys[i], 16);
	cfg.n_decode_waledac_key = n;
	if (iv != NULL)
		snprintf(cfg.decode_waledac_iv, sizeof(cfg.decode_waledac_iv), "%s", iv);
	struct decode_env *env = NULL;
	if (decode_env_new(&env, &cfg) != 0)
		abort();
	return env;
}

#endif
