/* decode_waledac_build: the bot's side of the Waledac check-in, for the
 * simulator and the tests (the exact inverse of waledac.c). */
#include "classify/decode_internal.h"

#include "core/error.h"

#include <bzlib.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

/* Append s XML-escaped. 0 or SINKD_EFULL. */
static int put_escaped(char *buf, size_t cap, size_t *n, const char *s)
{
	for (; *s != '\0'; s++) {
		const char *rep = NULL;
		char one[2] = {*s, '\0'};
		switch (*s) {
		case '<':
			rep = "&lt;";
			break;
		case '>':
			rep = "&gt;";
			break;
		case '&':
			rep = "&amp;";
			break;
		default:
			rep = one;
		}
		size_t len = strlen(rep);
		if (cap - *n <= len)
			return SINKD_EFULL;
		memcpy(buf + *n, rep, len);
		*n += len;
	}
	buf[*n] = '\0';
	return 0;
}

static int put_element(char *buf, size_t cap, size_t *n, const char *tag, const char *text)
{
	char open[8], close[8];
	if (text == NULL)
		return 0;
	snprintf(open, sizeof(open), "<%s>", tag);
	snprintf(close, sizeof(close), "</%s>", tag);
	if (put_escaped(buf, cap, n, "") != 0 || cap - *n <= strlen(open))
		return SINKD_EFULL;
	memcpy(buf + *n, open, strlen(open));
	*n += strlen(open);
	if (put_escaped(buf, cap, n, text) != 0 || cap - *n <= strlen(close))
		return SINKD_EFULL;
	memcpy(buf + *n, close, strlen(close) + 1);
	*n += strlen(close);
	return 0;
}

static int make_xml(const struct decode_waledac_msg *m, char *xml, size_t cap, size_t *len)
{
	size_t n = 0;
	int ret;
	memcpy(xml, "<lm>", 5);
	n = 4;
	if ((ret = put_element(xml, cap, &n, "t", m->command)) != 0 ||
	    (ret = put_element(xml, cap, &n, "v", m->version)) != 0 ||
	    (ret = put_element(xml, cap, &n, "i", m->bot_id)) != 0)
		return ret;
	if (cap - n <= 5)
		return SINKD_EFULL;
	memcpy(xml + n, "</lm>", 6);
	*len = n + 5;
	return 0;
}

/* Compress in into out (cap bytes). */
static int compress_plain(enum decode_compress c, const uint8_t *in, size_t len, uint8_t *out,
			  size_t cap, size_t *out_len)
{
	if (c == DECODE_COMPRESS_NONE) {
		if (len > cap)
			return SINKD_EFULL;
		memcpy(out, in, len);
		*out_len = len;
		return 0;
	}
	if (c == DECODE_COMPRESS_ZLIB) {
		uLongf n = (uLongf)cap;
		if (compress2(out, &n, in, (uLong)len, Z_BEST_COMPRESSION) != Z_OK)
			return SINKD_EFULL;
		*out_len = n;
		return 0;
	}
	if (c == DECODE_COMPRESS_BZIP2) {
		unsigned n = (unsigned)cap;
		if (BZ2_bzBuffToBuffCompress((char *)out, &n, (char *)(uintptr_t)in, (unsigned)len,
					     9, 0, 0) != BZ_OK)
			return SINKD_EFULL;
		*out_len = n;
		return 0;
	}
	return SINKD_EINVAL;
}

static int encrypt(const uint8_t *key, const uint8_t *iv, const uint8_t *in, size_t len,
		   uint8_t *out, size_t *out_len)
{
	static const uint8_t zero_iv[16];
	EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
	int n1 = 0, n2 = 0, ret = SINKD_ENOMEM;
	if (ctx == NULL)
		return SINKD_ENOMEM;
	if (EVP_EncryptInit_ex(ctx, EVP_aes_128_cbc(), NULL, key, iv != NULL ? iv : zero_iv) == 1 &&
	    EVP_EncryptUpdate(ctx, out, &n1, in, (int)len) == 1 &&
	    EVP_EncryptFinal_ex(ctx, out + n1, &n2) == 1) {
		*out_len = (size_t)(n1 + n2);
		ret = 0;
	}
	EVP_CIPHER_CTX_free(ctx);
	return ret;
}

/* URL-safe base64 without padding of in, appended to buf at *n. */
static int put_base64(char *buf, size_t cap, size_t *n, const uint8_t *in, size_t len)
{
	size_t need = 4 * ((len + 2) / 3);
	if (cap - *n <= need)
		return SINKD_EFULL;
	int w = EVP_EncodeBlock((unsigned char *)buf + *n, in, (int)len);
	size_t end = *n + (size_t)w;
	for (size_t i = *n; i < end; i++) {
		if (buf[i] == '+')
			buf[i] = '-';
		else if (buf[i] == '/')
			buf[i] = '_';
	}
	while (end > *n && buf[end - 1] == '=')
		end--;
	buf[end] = '\0';
	*n = end;
	return 0;
}

int decode_waledac_build(const struct decode_waledac_msg *m, char *buf, size_t cap, size_t *len)
{
	if (m == NULL || m->key == NULL || buf == NULL || cap < 3)
		return SINKD_EINVAL;
	size_t xml_cap =
	    256 + 5 * ((m->command ? strlen(m->command) : 0) +
		       (m->version ? strlen(m->version) : 0) + (m->bot_id ? strlen(m->bot_id) : 0));
	size_t z_cap = xml_cap + xml_cap / 100 + 1024;
	char *xml = malloc(xml_cap);
	uint8_t *z = malloc(z_cap);
	uint8_t *env = malloc(5 + z_cap + 16);
	size_t xml_len, z_len, ct_len, n = 0;
	int ret = SINKD_ENOMEM;
	if (xml == NULL || z == NULL || env == NULL)
		goto done;
	if ((ret = make_xml(m, xml, xml_cap, &xml_len)) != 0 ||
	    (ret = compress_plain(m->compress, (const uint8_t *)xml, xml_len, z, z_cap, &z_len)) !=
		0 ||
	    (ret = encrypt(m->key, m->iv, z, z_len, env + 5, &ct_len)) != 0)
		goto done;
	env[0] = m->type;
	env[1] = (uint8_t)(z_len >> 24);
	env[2] = (uint8_t)(z_len >> 16);
	env[3] = (uint8_t)(z_len >> 8);
	env[4] = (uint8_t)z_len;
	memcpy(buf, "a=", 3);
	n = 2;
	if ((ret = put_base64(buf, cap, &n, env, 5 + ct_len)) != 0)
		goto done;
	if (m->b != NULL) {
		if (cap - n <= 3) {
			ret = SINKD_EFULL;
			goto done;
		}
		memcpy(buf + n, "&b=", 4);
		n += 3;
		if ((ret = put_base64(buf, cap, &n, m->b, m->b_len)) != 0)
			goto done;
	}
	*len = n;
done:
	free(xml);
	free(z);
	free(env);
	return ret;
}
