/* One-line JSON summary of a parsed ClientHello (event payload EVP_TLS_HELLO). */
#include "core/error.h"
#include "tls/tls.h"
#include "tls/tls_internal.h"

/* A JSON string of raw bytes: printable ASCII as is (quote and backslash
 * escaped), every other byte as \u00XX, so any input gives valid UTF-8. */
static void json_bytes(struct tls_sb *b, const char *s, size_t n)
{
	tls_sb_putc(b, '"');
	for (size_t i = 0; i < n; i++) {
		uint8_t c = (uint8_t)s[i];
		if (c == '"' || c == '\\') {
			tls_sb_putc(b, '\\');
			tls_sb_putc(b, (char)c);
		} else if (c >= 0x20 && c < 0x7f) {
			tls_sb_putc(b, (char)c);
		} else {
			tls_sb_puts(b, "\\u00");
			tls_sb_putc(b, tls_hexdig[c >> 4]);
			tls_sb_putc(b, tls_hexdig[c & 0xf]);
		}
	}
	tls_sb_putc(b, '"');
}

static void json_key(struct tls_sb *b, const char *key)
{
	tls_sb_putc(b, b->len > 1 ? ',' : '{');
	tls_sb_putc(b, '"');
	tls_sb_puts(b, key);
	tls_sb_puts(b, "\":");
}

static void json_hex16(struct tls_sb *b, const char *key, uint16_t v)
{
	json_key(b, key);
	tls_sb_putc(b, '"');
	tls_sb_hex4(b, v);
	tls_sb_putc(b, '"');
}

static void json_uint(struct tls_sb *b, const char *key, unsigned v)
{
	json_key(b, key);
	tls_sb_dec(b, v);
}

static void json_list16(struct tls_sb *b, const char *key, const uint16_t *v, unsigned n)
{
	json_key(b, key);
	tls_sb_putc(b, '[');
	for (unsigned i = 0; i < n; i++) {
		tls_sb_puts(b, i > 0 ? ",\"" : "\"");
		tls_sb_hex4(b, v[i]);
		tls_sb_putc(b, '"');
	}
	tls_sb_putc(b, ']');
}

static void json_list8(struct tls_sb *b, const char *key, const uint8_t *v, unsigned n)
{
	json_key(b, key);
	tls_sb_putc(b, '[');
	for (unsigned i = 0; i < n; i++) {
		if (i > 0)
			tls_sb_putc(b, ',');
		tls_sb_dec(b, v[i]);
	}
	tls_sb_putc(b, ']');
}

static void json_lists(struct tls_sb *b, const struct tls_clienthello *ch)
{
	json_list16(b, "ciphers", ch->ciphers, ch->n_ciphers);
	json_list8(b, "compression", ch->compression, ch->n_compression);
	json_list16(b, "extensions", ch->ext_type, ch->n_ext);
	json_list16(b, "versions", ch->versions, ch->n_versions);
	json_list16(b, "groups", ch->groups, ch->n_groups);
	json_list8(b, "point_formats", ch->point_formats, ch->n_point_formats);
	json_list16(b, "sigalgs", ch->sigalgs, ch->n_sigalgs);
	json_list16(b, "key_shares", ch->key_shares, ch->n_key_shares);
	json_list8(b, "psk_modes", ch->psk_modes, ch->n_psk_modes);
	json_key(b, "alpn");
	tls_sb_putc(b, '[');
	for (unsigned i = 0; i < ch->n_alpn; i++) {
		if (i > 0)
			tls_sb_putc(b, ',');
		json_bytes(b, ch->alpn[i], ch->alpn_len[i]);
	}
	tls_sb_putc(b, ']');
}

int tls_clienthello_json(const struct tls_clienthello *ch, char *buf, size_t cap)
{
	struct tls_sb b;

	if (ch == NULL || buf == NULL)
		return SINKD_EINVAL;
	tls_sb_init(&b, buf, cap);
	json_key(&b, "sslv2");
	tls_sb_puts(&b, ch->sslv2 ? "true" : "false");
	if (!ch->sslv2)
		json_hex16(&b, "record_version", ch->record_version);
	json_hex16(&b, "version", ch->legacy_version);
	if (!ch->sslv2) {
		json_uint(&b, "records", ch->n_records);
		json_uint(&b, "length", ch->hello_len);
		json_uint(&b, "session_id_len", ch->session_id_len);
		if (ch->has_sni) {
			json_key(&b, "sni");
			json_bytes(&b, ch->sni, ch->sni_len);
		}
		json_lists(&b, ch);
		json_key(&b, "grease");
		tls_sb_puts(&b, ch->has_grease ? "true" : "false");
		json_uint(&b, "truncated", ch->truncated);
	}
	tls_sb_putc(&b, '}');
	return b.full ? SINKD_EFULL : 0;
}
