/* ClientHello parser: TLS record layer, SSLv2 detection, handshake body.
 * Extension bodies are decoded in extension.c. */
#include <string.h>

#include "core/error.h"
#include "tls/tls.h"
#include "tls/tls_internal.h"

#define TLS_CT_HANDSHAKE 22
#define TLS_HS_CLIENT_HELLO 1
#define TLS_RECORD_MAX 16384 /* RFC 8446 5.1, RFC 5246 6.2.1: plaintext bound */

int tls_rd_fail(struct tls_rd *r, const char *reason)
{
	if (r->err == 0) {
		r->err = SINKD_EMALF;
		r->reason = reason;
	}
	return r->err;
}

static int rd_again(struct tls_rd *r)
{
	if (r->err == 0)
		r->err = SINKD_EAGAIN;
	return r->err;
}

static const char *record_type_reason(uint8_t type)
{
	switch (type) {
	case 20:
		return "record type 20 (change_cipher_spec) is not handshake";
	case 21:
		return "record type 21 (alert) is not handshake";
	case 23:
		return "record type 23 (application_data) is not handshake";
	case 24:
		return "record type 24 (heartbeat) is not handshake";
	default:
		break;
	}
	if (type >= 'A' && type <= 'Z')
		return "not TLS: starts with an ASCII letter (plaintext protocol on a TLS port?)";
	return "not TLS: first byte is not record type 22 (handshake)";
}

/* Step over the next record header; the handshake continues in its fragment.
 * Whatever part of a header has arrived is checked before asking for more, so
 * garbage is reported as soon as it is visible. */
static int rd_next_record(struct tls_rd *r)
{
	const uint8_t *h = r->buf + r->pos;
	size_t avail = r->len - r->pos;

	if (!r->records)
		return rd_again(r);
	if (avail >= 1 && h[0] != TLS_CT_HANDSHAKE)
		return tls_rd_fail(r, r->n_records == 0
					  ? record_type_reason(h[0])
					  : "handshake continues in a non-handshake record");
	if (avail >= 2 && h[1] != 3)
		return tls_rd_fail(r, "record version is not 3.x");
	if (avail < 5)
		return rd_again(r);
	size_t frag_len = (size_t)h[3] << 8 | h[4];
	if (frag_len == 0)
		return tls_rd_fail(r, "zero-length handshake record");
	if (frag_len > TLS_RECORD_MAX)
		return tls_rd_fail(r, "record longer than 16384 bytes");
	if (r->n_records == 0)
		r->record_version = (uint16_t)(h[1] << 8 | h[2]);
	r->n_records++;
	r->pos += 5;
	r->frag_end = r->pos + frag_len;
	return 0;
}

int tls_rd_bytes(struct tls_rd *r, void *dst, size_t n)
{
	uint8_t *out = dst;

	if (r->err)
		return r->err;
	if (n > r->limit - r->off)
		return tls_rd_fail(r, "ClientHello fields run past the handshake length");
	while (n > 0) {
		if (r->pos == r->frag_end && rd_next_record(r))
			return r->err;
		if (r->pos >= r->len)
			return rd_again(r);
		size_t chunk = r->frag_end - r->pos;
		if (chunk > r->len - r->pos)
			chunk = r->len - r->pos;
		if (chunk > n)
			chunk = n;
		if (out != NULL) {
			memcpy(out, r->buf + r->pos, chunk);
			out += chunk;
		}
		r->pos += chunk;
		r->off += (uint32_t)chunk;
		n -= chunk;
	}
	return 0;
}

int tls_rd_u8(struct tls_rd *r, uint8_t *v) { return tls_rd_bytes(r, v, 1); }

int tls_rd_u16(struct tls_rd *r, uint16_t *v)
{
	uint8_t b[2] = {0, 0};

	if (tls_rd_bytes(r, b, 2))
		return r->err;
	*v = (uint16_t)(b[0] << 8 | b[1]);
	return 0;
}

int tls_rd_vec(struct tls_rd *r, unsigned lenbytes, uint32_t end, uint32_t *vec_end,
	       const char *reason)
{
	uint16_t n = 0;

	if (r->off > end || end - r->off < lenbytes)
		return tls_rd_fail(r, reason);
	if (lenbytes == 1) {
		uint8_t n8 = 0;
		if (tls_rd_u8(r, &n8))
			return r->err;
		n = n8;
	} else if (tls_rd_u16(r, &n)) {
		return r->err;
	}
	if (r->off > end || n > end - r->off)
		return tls_rd_fail(r, reason);
	*vec_end = r->off + n;
	return 0;
}

bool tls_is_grease(uint16_t v) { return (v & 0x0f0f) == 0x0a0a && (v >> 8) == (v & 0xff); }

/* An SSLv2-compatible CLIENT-HELLO: 2-byte header with the top bit set,
 * message type 1, then the highest version offered. Not parsed further. */
static int parse_sslv2(const uint8_t *buf, size_t len, struct tls_clienthello *out)
{
	if (len < 3)
		return SINKD_EAGAIN;
	if (buf[2] != TLS_HS_CLIENT_HELLO) {
		out->reason = "SSLv2 record is not a CLIENT-HELLO";
		return SINKD_EMALF;
	}
	if (len >= 4 && buf[3] != 0 && buf[3] != 3) {
		out->reason = "SSLv2 CLIENT-HELLO offers an unknown version";
		return SINKD_EMALF;
	}
	if (len < 5)
		return SINKD_EAGAIN;
	if (buf[3] == 0 && buf[4] != 2) {
		out->reason = "SSLv2 CLIENT-HELLO offers an unknown version";
		return SINKD_EMALF;
	}
	out->sslv2 = true;
	out->legacy_version = (uint16_t)(buf[3] << 8 | buf[4]);
	out->consumed = 5;
	return 0;
}

/* Extensions: a u16-prefixed block that must end exactly at the end of the
 * ClientHello. No block at all is valid (pre-TLS 1.2 clients). */
static int parse_extensions(struct tls_rd *r, struct tls_clienthello *ch)
{
	uint32_t end = 0;

	if (r->off == r->limit)
		return 0;
	if (tls_rd_vec(r, 2, r->limit, &end,
		       "extensions length runs past the end of the ClientHello"))
		return r->err;
	if (end != r->limit)
		return tls_rd_fail(r, "bytes after the extensions block");
	while (r->off < end) {
		uint16_t type = 0, len = 0;
		if (end - r->off < 4)
			return tls_rd_fail(r, "extension header runs past the extensions block");
		if (tls_rd_u16(r, &type) || tls_rd_u16(r, &len))
			return r->err;
		if (len > end - r->off)
			return tls_rd_fail(r,
					   "extension length runs past the end of the extensions");
		for (unsigned i = 0; i < ch->n_ext; i++)
			if (ch->ext_type[i] == type)
				return tls_rd_fail(r, "duplicate extension type");
		if (tls_is_grease(type))
			ch->has_grease = true;
		if (ch->n_ext < TLS_CH_MAX_EXTENSIONS) {
			ch->ext_type[ch->n_ext] = type;
			ch->ext_len[ch->n_ext++] = len;
		} else {
			ch->truncated |= TLS_CH_TRUNC_EXTENSIONS;
		}
		if (tls_ext_parse(r, type, len, ch))
			return r->err;
	}
	return 0;
}

/* The ClientHello body, from client_version to the end of the extensions. */
static int parse_body(struct tls_rd *r, struct tls_clienthello *ch)
{
	struct tls_list16 cl = {2,
				ch->ciphers,
				TLS_CH_MAX_CIPHERS,
				TLS_CH_TRUNC_CIPHERS,
				"cipher suites run past the end of the ClientHello",
				"cipher suites length is odd"};
	unsigned n = 0;

	if (tls_rd_u16(r, &ch->legacy_version) || tls_rd_bytes(r, ch->random, 32) ||
	    tls_rd_u8(r, &ch->session_id_len))
		return r->err;
	if (ch->session_id_len > 32)
		return tls_rd_fail(r, "session id longer than 32 bytes");
	if (tls_rd_bytes(r, NULL, ch->session_id_len) || tls_rd_list16(r, r->limit, &cl, &n, ch))
		return r->err;
	ch->n_ciphers = (uint16_t)n;
	if (n == 0)
		return tls_rd_fail(r, "cipher suite list is empty");
	if (tls_rd_list8(r, r->limit, ch->compression, TLS_CH_MAX_COMPRESSION, &n,
			 TLS_CH_TRUNC_COMPRESSION,
			 "compression methods run past the end of the ClientHello", ch))
		return r->err;
	ch->n_compression = (uint8_t)n;
	if (n == 0)
		return tls_rd_fail(r, "compression method list is empty");
	return parse_extensions(r, ch);
}

/* Handshake header (type, 24-bit length) then the body. */
static int parse_message(struct tls_rd *r, struct tls_clienthello *ch)
{
	uint8_t h[4];

	r->limit = 4;
	if (tls_rd_bytes(r, h, 1))
		return r->err;
	if (h[0] != TLS_HS_CLIENT_HELLO)
		return tls_rd_fail(r, "handshake message is not a ClientHello");
	if (tls_rd_bytes(r, h + 1, 3))
		return r->err;
	ch->hello_len = (uint32_t)h[1] << 16 | (uint32_t)h[2] << 8 | h[3];
	if (ch->hello_len > TLS_CH_MAX_HELLO)
		return tls_rd_fail(r, "ClientHello longer than the 16 KiB capture bound");
	r->limit = 4 + ch->hello_len;
	return parse_body(r, ch);
}

static int finish(struct tls_rd *r, struct tls_clienthello *out, int err)
{
	out->record_version = r->record_version;
	out->n_records = r->n_records;
	out->consumed = r->pos;
	if (err == SINKD_EMALF)
		out->reason = r->reason;
	return err;
}

int tls_clienthello_parse(const uint8_t *buf, size_t len, struct tls_clienthello *out)
{
	struct tls_rd r = {.buf = buf, .len = len, .records = true};

	if (out == NULL || (buf == NULL && len > 0))
		return SINKD_EINVAL;
	memset(out, 0, sizeof(*out));
	if (len > 0 && (buf[0] & 0x80))
		return parse_sslv2(buf, len, out);
	return finish(&r, out, parse_message(&r, out));
}

int tls_clienthello_parse_handshake(const uint8_t *msg, size_t len, struct tls_clienthello *out)
{
	struct tls_rd r = {.buf = msg, .len = len, .frag_end = len};

	if (out == NULL || (msg == NULL && len > 0))
		return SINKD_EINVAL;
	memset(out, 0, sizeof(*out));
	return finish(&r, out, parse_message(&r, out));
}
