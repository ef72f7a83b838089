/* Inside the decoders: the registry entry every decoder file defines, the
 * env they share, and helpers over the event payload. Only
 * src/classify/decode*.c and src/classify/decoders/ include this. */
#ifndef SINKD_CLASSIFY_DECODE_INTERNAL_H
#define SINKD_CLASSIFY_DECODE_INTERNAL_H

#include "classify/decode.h"
#include "core/config.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* One decoder. run() sets ev's decode fields (decode_status always) and
 * returns what decode_event documents; check_arg() validates a rule's
 * argument (NULL arg included) and may be NULL when the decoder takes none. */
struct decoder {
	const char *name;
	int (*run)(struct decode_env *env, const char *arg, struct sinkd_event *ev);
	int (*check_arg)(const char *arg, char *err, size_t errlen);
};

/* The registry (src/classify/decode.c lists them). */
extern const struct decoder decoder_waledac;
extern const struct decoder decoder_kelihos;
extern const struct decoder decoder_generic;

/* Scratch buffers: each holds a whole payload's worth (EVENT_PAYLOAD_MAX)
 * or, for decompressed text, DECODE_PLAIN_MAX. */
#define DECODE_SCRATCH EVENT_PAYLOAD_MAX
#define DECODE_PLAIN_MAX (256 * 1024)
#define DECODE_REGEX_CACHE 32

struct decode_regex; /* generic.c: a compiled PCRE2 pattern and its match data */

struct decode_env {
	uint8_t keys[CONFIG_MAX_KEYS][16]; /* [decode] waledac_key, in order */
	unsigned n_keys;
	uint8_t iv[16];		       /* [decode] waledac_iv (zero by default) */
	uint8_t *form;		       /* percent-decoded parameter value */
	uint8_t *raw;		       /* base64-decoded envelope */
	uint8_t *plain;		       /* decrypted ciphertext */
	uint8_t *text;		       /* decompressed plaintext (DECODE_PLAIN_MAX) */
	void *cipher[CONFIG_MAX_KEYS]; /* EVP_CIPHER_CTX per key, key schedule set once */
	unsigned long xml_salt;	       /* expat hash salt: fixed per env, no getrandom per doc */
	void *xml;		       /* XML_Parser, reset per document */
	void *zs;		       /* z_stream for inflate, reset per message */
	uint8_t *bz_arena;	       /* bzip2 decompressor state (allocated at first use) */
	size_t bz_used;
	struct decode_regex *regex[DECODE_REGEX_CACHE];
	unsigned n_regex;
};

/* Set ev->decode_status (truncated to the field). */
void decode_status(struct sinkd_event *ev, const char *status);

/* Copy text into a label field of size cap: printable ASCII kept, anything
 * else becomes '?', truncated to cap - 1. */
void decode_copy_label(char *dst, size_t cap, const char *src, size_t len);

/* True when s (len bytes) is exactly 32 hex digits. */
bool decode_is_hex32(const char *s, size_t len);

/* Find the value of parameter name in an x-www-form-urlencoded string
 * (query string or body) of len bytes: 0 and the raw (still encoded)
 * value, SINKD_ENOENT when absent. */
int decode_form_find(const char *form, size_t len, const char *name, const char **val,
		     size_t *val_len);

/* Percent-decode (and '+' -> space) src into dst (cap bytes); *out_len.
 * SINKD_EMALF on a bad escape, SINKD_EFULL when it does not fit. */
int decode_percent(const char *src, size_t len, uint8_t *dst, size_t cap, size_t *out_len);

/* Find header name (case-insensitive) in an EVP_HEADERS block: 0 and the
 * value with surrounding spaces trimmed, or SINKD_ENOENT. */
int decode_header_find(const uint8_t *hdrs, size_t len, const char *name, const char **val,
		       size_t *val_len);

/* The query string of a request target (after '?', before '#'); len 0 when
 * there is none. */
void decode_query(const uint8_t *target, size_t len, const char **q, size_t *q_len);

/* Waledac's compression state (waledac.c): freed with the env. */
void decode_waledac_env_free(struct decode_env *env);

/* Generic's regex cache entries are freed by this (generic.c). */
void decode_regex_free(struct decode_regex *r);

#endif
