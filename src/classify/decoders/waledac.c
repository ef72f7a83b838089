/* Waledac decoder (docs/decoders.md): form body -> `a` -> URL-safe base64
 * -> envelope (type, be32 plaintext length, AES-128-CBC ciphertext) ->
 * with a configured key: decrypt, bzip2/zlib detect and decompress, <lm>
 * XML -> command, version, bot id. Every step that fails names itself in
 * decode_status. Works in the env's scratch buffers; the zlib stream and
 * the bzip2 state are kept in the env and reset per message. */
#include "classify/decode_internal.h"

#include "core/error.h"

#include <bzlib.h>
#include <ctype.h>
#include <expat.h>
#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

/* bzip2 decompression state for a 900k block: 64 KiB + 4 * 900,000 bytes. */
#define BZ_ARENA (4u * 1024 * 1024)

static int fail(struct sinkd_event *ev, const char *status)
{
	decode_status(ev, status);
	return SINKD_EMALF;
}

static void type_name(uint8_t type, char *out, size_t cap)
{
	switch (type) {
	case DECODE_WALEDAC_GETKEY:
		snprintf(out, cap, "getkey");
		break;
	case DECODE_WALEDAC_NOTIFY:
		snprintf(out, cap, "notify");
		break;
	case DECODE_WALEDAC_TASKREQ:
		snprintf(out, cap, "taskreq");
		break;
	default:
		snprintf(out, cap, "type 0x%02x", type);
	}
}

/* A form body is printable ASCII (a trailing CR/LF is tolerated). */
static bool is_form(const uint8_t *b, size_t len)
{
	while (len > 0 && (b[len - 1] == '\n' || b[len - 1] == '\r'))
		len--;
	for (size_t i = 0; i < len; i++) {
		if (b[i] <= 0x20 || b[i] >= 0x7f)
			return false;
	}
	return true;
}

/* URL-safe base64, padding optional (standard '+' '/' accepted too; a '+'
 * that form decoding turned into a space counts as '+'). In place in buf
 * (which has 2 spare bytes) into out; OpenSSL's EVP_DecodeBlock does the
 * decoding once the alphabet is mapped. 0 or SINKD_EMALF. */
static int base64_url_decode(uint8_t *buf, size_t len, uint8_t *out, size_t *out_len)
{
	if (len >= 1 && buf[len - 1] == '=')
		len--;
	if (len >= 1 && buf[len - 1] == '=')
		len--;
	if (len == 0 || len % 4 == 1)
		return SINKD_EMALF;
	for (size_t i = 0; i < len; i++) {
		uint8_t c = buf[i];
		if (c == '-' || c == ' ')
			buf[i] = '+';
		else if (c == '_')
			buf[i] = '/';
		else if (!isalnum(c) && c != '+' && c != '/')
			return SINKD_EMALF;
	}
	size_t pad = (4 - len % 4) % 4;
	for (size_t i = 0; i < pad; i++)
		buf[len + i] = '=';
	int n = EVP_DecodeBlock(out, buf, (int)(len + pad));
	if (n < 0)
		return SINKD_EMALF;
	*out_len = (size_t)n - pad;
	return 0;
}

static bool is_zlib(const uint8_t *p, size_t len)
{
	return len >= 2 && (p[0] & 0x0f) == 8 && (p[0] >> 4) <= 7 &&
	       ((unsigned)p[0] << 8 | p[1]) % 31 == 0;
}

static bool is_bzip2(const uint8_t *p, size_t len)
{
	return len >= 4 && memcmp(p, "BZh", 3) == 0 && p[3] >= '1' && p[3] <= '9';
}

static bool is_xml_start(const uint8_t *p, size_t len)
{
	size_t i = 0;
	if (len >= 3 && memcmp(p, "\xEF\xBB\xBF", 3) == 0)
		i = 3;
	while (i < len && (p[i] == ' ' || p[i] == '\t' || p[i] == '\r' || p[i] == '\n'))
		i++;
	return i < len && p[i] == '<';
}

/* Decrypt ct with each key in turn; the first whose PKCS#7 padding agrees
 * with the envelope length and whose plaintext starts like something we
 * know (XML, bzip2, zlib) wins. 0 or SINKD_EMALF. */
static int decrypt(struct decode_env *env, const uint8_t *ct, size_t ct_len, size_t plain_len)
{
	uint8_t pad = (uint8_t)(ct_len - plain_len);
	for (unsigned k = 0; k < env->n_keys; k++) {
		EVP_CIPHER_CTX *ctx = env->cipher[k];
		int n1 = 0, n2 = 0;
		if (EVP_DecryptInit_ex(ctx, NULL, NULL, NULL, env->iv) != 1 ||
		    EVP_DecryptUpdate(ctx, env->plain, &n1, ct, (int)ct_len) != 1 ||
		    EVP_DecryptFinal_ex(ctx, env->plain + n1, &n2) != 1 ||
		    (size_t)(n1 + n2) != ct_len)
			continue;
		bool pad_ok = true;
		for (size_t i = plain_len; i < ct_len; i++)
			pad_ok = pad_ok && env->plain[i] == pad;
		const uint8_t *p = env->plain;
		if (pad_ok &&
		    (is_xml_start(p, plain_len) || is_bzip2(p, plain_len) || is_zlib(p, plain_len)))
			return 0;
	}
	return SINKD_EMALF;
}

static void *bz_alloc(void *opaque, int n, int m)
{
	struct decode_env *env = opaque;
	size_t size = ((size_t)n * (size_t)m + 15) & ~(size_t)15;
	if (size > BZ_ARENA - env->bz_used)
		return NULL;
	void *p = env->bz_arena + env->bz_used;
	env->bz_used += size;
	return p;
}

static void bz_free(void *opaque, void *p)
{
	(void)opaque;
	(void)p; /* the arena is reset per message */
}

/* 0, SINKD_EMALF (corrupt or truncated), SINKD_EFULL (over the bound),
 * SINKD_ENOMEM. */
static int unbzip2(struct decode_env *env, const uint8_t *in, size_t len, size_t *out_len)
{
	if (env->bz_arena == NULL && (env->bz_arena = malloc(BZ_ARENA)) == NULL)
		return SINKD_ENOMEM;
	env->bz_used = 0;
	bz_stream s = {.bzalloc = bz_alloc, .bzfree = bz_free, .opaque = env};
	if (BZ2_bzDecompressInit(&s, 0, 0) != BZ_OK)
		return SINKD_ENOMEM;
	s.next_in = (char *)(uintptr_t)in;
	s.avail_in = (unsigned)len;
	s.next_out = (char *)env->text;
	s.avail_out = DECODE_PLAIN_MAX;
	int rc = BZ2_bzDecompress(&s);
	size_t produced = DECODE_PLAIN_MAX - s.avail_out;
	BZ2_bzDecompressEnd(&s);
	if (rc == BZ_STREAM_END) {
		*out_len = produced;
		return 0;
	}
	if (rc == BZ_OK && s.avail_out == 0)
		return SINKD_EFULL;
	return SINKD_EMALF;
}

static int unzlib(struct decode_env *env, const uint8_t *in, size_t len, size_t *out_len)
{
	z_stream *zs = env->zs;
	if (zs == NULL) {
		zs = calloc(1, sizeof(*zs));
		if (zs == NULL || inflateInit(zs) != Z_OK) {
			free(zs);
			return SINKD_ENOMEM;
		}
		env->zs = zs;
	} else if (inflateReset(zs) != Z_OK) {
		return SINKD_EMALF;
	}
	zs->next_in = (Bytef *)(uintptr_t)in;
	zs->avail_in = (uInt)len;
	zs->next_out = env->text;
	zs->avail_out = DECODE_PLAIN_MAX;
	int rc = inflate(zs, Z_FINISH);
	if (rc == Z_STREAM_END) {
		*out_len = DECODE_PLAIN_MAX - zs->avail_out;
		return 0;
	}
	if (rc == Z_BUF_ERROR && zs->avail_out == 0)
		return SINKD_EFULL;
	return SINKD_EMALF;
}

void decode_waledac_env_free(struct decode_env *env)
{
	if (env->zs != NULL) {
		inflateEnd(env->zs);
		free(env->zs);
	}
	free(env->bz_arena);
	env->zs = NULL;
	env->bz_arena = NULL;
}

/* ---- XML ----------------------------------------------------------------- */

#define XML_FIELD 96

struct lm_doc {
	int depth;
	bool root_lm;
	int field;		 /* 0 none, 1 t, 2 v, 3 i: the element being read */
	char text[3][XML_FIELD]; /* t, v, i */
	size_t len[3];
	bool seen[3];
	bool too_long[3];
};

static void XMLCALL on_start(void *ud, const XML_Char *name, const XML_Char **attrs)
{
	struct lm_doc *d = ud;
	(void)attrs;
	d->depth++;
	d->field = 0;
	if (d->depth == 1) {
		d->root_lm = strcmp(name, "lm") == 0;
		return;
	}
	if (d->depth != 2 || !d->root_lm || name[0] == '\0' || name[1] != '\0')
		return;
	const char *which = strchr("tvi", name[0]);
	if (which == NULL)
		return;
	int f = (int)(which - "tvi");
	if (d->seen[f])
		return; /* the first of each counts */
	d->seen[f] = true;
	d->field = f + 1;
}

static void XMLCALL on_end(void *ud, const XML_Char *name)
{
	struct lm_doc *d = ud;
	(void)name;
	d->depth--;
	d->field = 0;
}

static void XMLCALL on_text(void *ud, const XML_Char *s, int len)
{
	struct lm_doc *d = ud;
	if (d->field == 0)
		return;
	int f = d->field - 1;
	size_t room = XML_FIELD - 1 - d->len[f];
	size_t n = (size_t)len < room ? (size_t)len : room;
	if ((size_t)len > room)
		d->too_long[f] = true;
	memcpy(d->text[f] + d->len[f], s, n);
	d->len[f] += n;
	d->text[f][d->len[f]] = '\0';
}

static int parse_lm(struct decode_env *env, const uint8_t *xml, size_t len, struct sinkd_event *ev)
{
	XML_Parser p = env->xml;
	struct lm_doc d;
	memset(&d, 0, sizeof(d));
	if (XML_ParserReset(p, "UTF-8") != XML_TRUE || XML_SetHashSalt(p, env->xml_salt) != 1)
		return fail(ev, "bad-xml");
	XML_SetUserData(p, &d);
	XML_SetElementHandler(p, on_start, on_end);
	XML_SetCharacterDataHandler(p, on_text);
	if (len > INT32_MAX || XML_Parse(p, (const char *)xml, (int)len, XML_TRUE) != XML_STATUS_OK)
		return fail(ev, "bad-xml");
	if (!d.root_lm)
		return fail(ev, "not-lm-xml");
	if (d.len[0] > 0)
		decode_copy_label(ev->msg_type, sizeof(ev->msg_type), d.text[0], d.len[0]);
	decode_copy_label(ev->proto_version, sizeof(ev->proto_version), d.text[1], d.len[1]);
	if (!d.seen[2] || d.len[2] == 0)
		return fail(ev, "no-bot-id");
	if (d.too_long[2] || !decode_is_hex32(d.text[2], d.len[2]))
		return fail(ev, "bad-bot-id");
	for (size_t i = 0; i < 32; i++)
		ev->bot_id[i] = (char)tolower((unsigned char)d.text[2][i]);
	ev->bot_id[32] = '\0';
	decode_status(ev, "ok");
	return 0;
}

/* ---- the decoder --------------------------------------------------------- */

/* Envelope from the form body into env->raw: 0 and its length, or a
 * status set. */
static int envelope(struct decode_env *env, struct sinkd_event *ev, size_t *raw_len)
{
	const uint8_t *body;
	size_t body_len;
	const char *a;
	size_t a_len, n;
	if (event_payload_get(ev, EVP_BODY, &body, &body_len) != 0 || body_len == 0)
		return fail(ev, "no-body");
	if (!is_form(body, body_len))
		return fail(ev, "bad-form");
	if (decode_form_find((const char *)body, body_len, "a", &a, &a_len) != 0)
		return fail(ev, "no-a-param");
	if (decode_percent(a, a_len, env->form, DECODE_SCRATCH, &n) != 0)
		return fail(ev, "bad-form");
	if (base64_url_decode(env->form, n, env->raw, raw_len) != 0)
		return fail(ev, "bad-base64");
	return 0;
}

static int waledac_run(struct decode_env *env, const char *arg, struct sinkd_event *ev)
{
	size_t raw_len, text_len;
	(void)arg;
	int ret = envelope(env, ev, &raw_len);
	if (ret != 0)
		return ret;
	if (raw_len < 5)
		return fail(ev, "short-envelope");
	const uint8_t *raw = env->raw;
	type_name(raw[0], ev->msg_type, sizeof(ev->msg_type));
	size_t plain_len =
	    (size_t)raw[1] << 24 | (size_t)raw[2] << 16 | (size_t)raw[3] << 8 | raw[4];
	size_t ct_len = raw_len - 5;
	if (ct_len == 0)
		return fail(ev, "short-envelope");
	if (ct_len % 16 != 0)
		return fail(ev, "bad-ciphertext-length");
	if (plain_len >= ct_len || plain_len + 16 < ct_len)
		return fail(ev, "length-mismatch");
	if (env->n_keys == 0) {
		decode_status(ev, "no-key");
		return SINKD_EAGAIN;
	}
	if (decrypt(env, raw + 5, ct_len, plain_len) != 0)
		return fail(ev, "wrong-key");
	const uint8_t *plain = env->plain;
	if (is_bzip2(plain, plain_len) || is_zlib(plain, plain_len)) {
		ret = is_bzip2(plain, plain_len) ? unbzip2(env, plain, plain_len, &text_len)
						 : unzlib(env, plain, plain_len, &text_len);
		if (ret == SINKD_EFULL)
			return fail(ev, "too-large");
		if (ret == SINKD_ENOMEM) {
			decode_status(ev, "out-of-memory");
			return SINKD_ENOMEM;
		}
		if (ret != 0)
			return fail(ev, "bad-compression");
		return parse_lm(env, env->text, text_len, ev);
	}
	return parse_lm(env, plain, plain_len, ev);
}

const struct decoder decoder_waledac = {
    .name = "waledac",
    .run = waledac_run,
    .check_arg = NULL,
};
