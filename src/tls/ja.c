/* JA3 (Salesforce) and JA4 (FoxIO) client fingerprints of a parsed
 * ClientHello. Definitions as implemented: docs/tls-fingerprints.md. */
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "core/error.h"
#include "tls/tls.h"
#include "tls/tls_internal.h"

/* Decimal, '-'-separated, GREASE removed (JA3 list syntax). */
static void sb_dec_list16(struct tls_sb *b, const uint16_t *v, unsigned n)
{
	bool first = true;

	for (unsigned i = 0; i < n; i++) {
		if (tls_is_grease(v[i]))
			continue;
		if (!first)
			tls_sb_putc(b, '-');
		tls_sb_dec(b, v[i]);
		first = false;
	}
}

/* Lowercase hex of the first hex_chars nibbles of digest(md, data). */
static int digest_hex(const EVP_MD *md, const char *data, size_t len, char *out, size_t hex_chars)
{
	unsigned char d[EVP_MAX_MD_SIZE];
	unsigned int dlen = 0;

	if (md == NULL || EVP_Digest(data, len, d, &dlen, md, NULL) != 1 ||
	    hex_chars > 2 * (size_t)dlen) {
		out[0] = '\0';
		return SINKD_EIO;
	}
	for (size_t i = 0; i < hex_chars; i++)
		out[i] = tls_hexdig[(d[i / 2] >> (i % 2 ? 0 : 4)) & 0xf];
	out[hex_chars] = '\0';
	return 0;
}

int tls_ja3(const struct tls_clienthello *ch, struct tls_ja3 *out)
{
	struct tls_sb b;

	if (ch == NULL || out == NULL)
		return SINKD_EINVAL;
	tls_sb_init(&b, out->str, sizeof(out->str));
	out->md5[0] = '\0';
	if (ch->sslv2)
		return SINKD_EINVAL;
	tls_sb_dec(&b, ch->legacy_version);
	tls_sb_putc(&b, ',');
	sb_dec_list16(&b, ch->ciphers, ch->n_ciphers);
	tls_sb_putc(&b, ',');
	sb_dec_list16(&b, ch->ext_type, ch->n_ext);
	tls_sb_putc(&b, ',');
	sb_dec_list16(&b, ch->groups, ch->n_groups);
	tls_sb_putc(&b, ',');
	for (unsigned i = 0; i < ch->n_point_formats; i++) {
		if (i > 0)
			tls_sb_putc(&b, '-');
		tls_sb_dec(&b, ch->point_formats[i]);
	}
	if (b.full)
		return SINKD_ERANGE; /* cannot happen: TLS_JA3_MAX covers the bounds */
	return digest_hex(EVP_md5(), b.p, b.len, out->md5, 32);
}

/* --- JA4 --- */

static int cmp_u16(const void *a, const void *b)
{
	uint16_t x = *(const uint16_t *)a, y = *(const uint16_t *)b;
	return (x > y) - (x < y);
}

_Static_assert(TLS_CH_MAX_EXTENSIONS <= TLS_CH_MAX_CIPHERS, "ja4 scratch arrays");

/* Copy v[0..n) without GREASE (and without server_name and ALPN when
 * skip_sni_alpn) into dst; returns the count. */
static unsigned filter(const uint16_t *v, unsigned n, bool skip_sni_alpn, uint16_t *dst)
{
	unsigned k = 0;

	for (unsigned i = 0; i < n; i++) {
		if (tls_is_grease(v[i]))
			continue;
		if (skip_sni_alpn && (v[i] == TLS_EXT_SERVER_NAME || v[i] == TLS_EXT_ALPN))
			continue;
		dst[k++] = v[i];
	}
	return k;
}

static const char *ja4_version(const struct tls_clienthello *ch)
{
	uint16_t v = 0;

	for (unsigned i = 0; i < ch->n_versions; i++)
		if (!tls_is_grease(ch->versions[i]) && ch->versions[i] > v)
			v = ch->versions[i];
	if (v == 0)
		v = ch->legacy_version;
	switch (v) {
	case 0x0304:
		return "13";
	case 0x0303:
		return "12";
	case 0x0302:
		return "11";
	case 0x0301:
		return "10";
	case 0x0300:
		return "s3";
	case 0x0002:
		return "s2";
	case 0xfeff:
		return "d1";
	case 0xfefd:
		return "d2";
	case 0xfefc:
		return "d3";
	default:
		return "00";
	}
}

static bool is_alnum(uint8_t c)
{
	return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}

/* First and last character of the first ALPN value; "00" when there is
 * none; the first and last hex digit of the value when either end byte is
 * not alphanumeric. */
static void ja4_alpn(const struct tls_clienthello *ch, char out[2])
{
	if (ch->n_alpn == 0 || ch->alpn_len[0] == 0) {
		out[0] = out[1] = '0';
		return;
	}
	uint8_t first = (uint8_t)ch->alpn[0][0], last = (uint8_t)ch->alpn[0][ch->alpn_len[0] - 1];
	if (is_alnum(first) && is_alnum(last)) {
		out[0] = (char)first;
		out[1] = (char)last;
	} else {
		out[0] = tls_hexdig[first >> 4];
		out[1] = tls_hexdig[last & 0xf];
	}
}

/* "t13d1516h2": transport, version, SNI, cipher count, extension count, ALPN. */
static void ja4_a(const struct tls_clienthello *ch, struct tls_sb *b)
{
	uint16_t tmp[TLS_CH_MAX_CIPHERS];
	unsigned nc = filter(ch->ciphers, ch->n_ciphers, false, tmp);
	unsigned ne = filter(ch->ext_type, ch->n_ext, false, tmp);
	const char *ver = ja4_version(ch);
	char alpn[2];

	nc = nc > 99 ? 99 : nc;
	ne = ne > 99 ? 99 : ne;
	ja4_alpn(ch, alpn);
	tls_sb_putc(b, 't');
	tls_sb_putc(b, ver[0]);
	tls_sb_putc(b, ver[1]);
	tls_sb_putc(b, ch->has_sni ? 'd' : 'i');
	tls_sb_putc(b, (char)('0' + nc / 10));
	tls_sb_putc(b, (char)('0' + nc % 10));
	tls_sb_putc(b, (char)('0' + ne / 10));
	tls_sb_putc(b, (char)('0' + ne % 10));
	tls_sb_putc(b, alpn[0]);
	tls_sb_putc(b, alpn[1]);
}

static void sb_hex_list(struct tls_sb *b, const uint16_t *v, unsigned n)
{
	for (unsigned i = 0; i < n; i++) {
		if (i > 0)
			tls_sb_putc(b, ',');
		tls_sb_hex4(b, v[i]);
	}
}

/* Append "_<12 hex of sha256(raw part)>" to the JA4 and "_<raw part>" to
 * JA4_r; an empty part hashes to twelve zeros. */
static int ja4_part(struct tls_sb *ja4, struct tls_sb *raw, size_t raw_start, bool empty)
{
	char hex[13];
	int err = 0;

	if (empty)
		memcpy(hex, "000000000000", sizeof(hex));
	else
		err = digest_hex(EVP_sha256(), raw->p + raw_start, raw->len - raw_start, hex, 12);
	tls_sb_putc(ja4, '_');
	for (int i = 0; i < 12 && hex[i] != '\0'; i++)
		tls_sb_putc(ja4, hex[i]);
	return err;
}

int tls_ja4(const struct tls_clienthello *ch, struct tls_ja4 *out)
{
	uint16_t v[TLS_CH_MAX_CIPHERS], sig[TLS_CH_MAX_SIGALGS];
	struct tls_sb a, r;
	int err, err2;

	if (ch == NULL || out == NULL)
		return SINKD_EINVAL;
	tls_sb_init(&a, out->ja4, sizeof(out->ja4));
	tls_sb_init(&r, out->ja4_r, sizeof(out->ja4_r));
	if (ch->sslv2)
		return SINKD_EINVAL;
	ja4_a(ch, &a);
	ja4_a(ch, &r);

	unsigned n = filter(ch->ciphers, ch->n_ciphers, false, v);
	qsort(v, n, sizeof(v[0]), cmp_u16);
	tls_sb_putc(&r, '_');
	size_t start = r.len;
	sb_hex_list(&r, v, n);
	err = ja4_part(&a, &r, start, n == 0);

	n = filter(ch->ext_type, ch->n_ext, true, v);
	qsort(v, n, sizeof(v[0]), cmp_u16);
	unsigned ns = filter(ch->sigalgs, ch->n_sigalgs, false, sig);
	tls_sb_putc(&r, '_');
	start = r.len;
	sb_hex_list(&r, v, n);
	if (ns > 0) {
		tls_sb_putc(&r, '_');
		sb_hex_list(&r, sig, ns);
	}
	err2 = ja4_part(&a, &r, start, n == 0);
	if (a.full || r.full)
		return SINKD_ERANGE; /* cannot happen: the sizes cover the bounds */
	return err ? err : err2;
}
