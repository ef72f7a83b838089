/* ClientHello extension bodies: the lists a fingerprint or a report needs
 * (server_name, supported_groups, ec_point_formats, signature_algorithms,
 * ALPN, supported_versions, psk_key_exchange_modes, key_share). */
#include <string.h>

#include "core/error.h"
#include "tls/tls.h"
#include "tls/tls_internal.h"

int tls_rd_list16(struct tls_rd *r, uint32_t end, const struct tls_list16 *l, unsigned *n,
		  struct tls_clienthello *ch)
{
	uint32_t vec_end = 0;

	*n = 0;
	if (tls_rd_vec(r, l->lenbytes, end, &vec_end, l->bad))
		return r->err;
	if ((vec_end - r->off) % 2 != 0)
		return tls_rd_fail(r, l->odd);
	while (r->off < vec_end) {
		uint16_t v = 0;
		if (tls_rd_u16(r, &v))
			return r->err;
		if (tls_is_grease(v))
			ch->has_grease = true;
		if (*n < l->cap)
			l->arr[(*n)++] = v;
		else
			ch->truncated |= l->trunc_bit;
	}
	return 0;
}

int tls_rd_list8(struct tls_rd *r, uint32_t end, uint8_t *arr, unsigned cap, unsigned *n,
		 uint32_t trunc_bit, const char *bad, struct tls_clienthello *ch)
{
	uint32_t vec_end = 0;

	*n = 0;
	if (tls_rd_vec(r, 1, end, &vec_end, bad))
		return r->err;
	while (r->off < vec_end) {
		uint8_t v = 0;
		if (tls_rd_u8(r, &v))
			return r->err;
		if (*n < cap)
			arr[(*n)++] = v;
		else
			ch->truncated |= trunc_bit;
	}
	return 0;
}

/* server_name: a list of (type, name); the first host_name (type 0) is
 * kept. An empty extension body counts as present without a name. */
static int ext_sni(struct tls_rd *r, uint32_t end, struct tls_clienthello *ch, const char *bad)
{
	uint32_t list_end = 0, name_end = 0;
	bool got = false;

	ch->has_sni = true;
	if (r->off == end)
		return 0;
	if (tls_rd_vec(r, 2, end, &list_end, bad))
		return r->err;
	while (r->off < list_end) {
		uint8_t type = 0;
		if (list_end - r->off < 3)
			return tls_rd_fail(r, bad);
		if (tls_rd_u8(r, &type) || tls_rd_vec(r, 2, list_end, &name_end, bad))
			return r->err;
		uint32_t n = name_end - r->off;
		if (type != 0 || got) {
			if (tls_rd_bytes(r, NULL, n))
				return r->err;
			continue;
		}
		if (n == 0)
			return tls_rd_fail(r, "server_name host name is empty");
		uint32_t keep = n > TLS_CH_SNI_MAX ? TLS_CH_SNI_MAX : n;
		if (tls_rd_bytes(r, ch->sni, keep) || tls_rd_bytes(r, NULL, n - keep))
			return r->err;
		if (keep < n)
			ch->truncated |= TLS_CH_TRUNC_SNI;
		ch->sni[keep] = '\0';
		ch->sni_len = (uint8_t)keep;
		got = true;
	}
	return 0;
}

/* ALPN: a u16-prefixed list of u8-prefixed protocol names. */
static int ext_alpn(struct tls_rd *r, uint32_t end, struct tls_clienthello *ch, const char *bad)
{
	uint32_t list_end = 0, name_end = 0;

	if (tls_rd_vec(r, 2, end, &list_end, bad))
		return r->err;
	while (r->off < list_end) {
		if (tls_rd_vec(r, 1, list_end, &name_end, bad))
			return r->err;
		uint32_t n = name_end - r->off;
		if (ch->n_alpn == TLS_CH_MAX_ALPN) {
			ch->truncated |= TLS_CH_TRUNC_ALPN;
			if (tls_rd_bytes(r, NULL, n))
				return r->err;
			continue;
		}
		char *name = ch->alpn[ch->n_alpn];
		if (tls_rd_bytes(r, name, n))
			return r->err;
		name[n] = '\0';
		if (n == 2 && tls_is_grease((uint16_t)((uint8_t)name[0] << 8 | (uint8_t)name[1])))
			ch->has_grease = true;
		ch->alpn_len[ch->n_alpn++] = (uint8_t)n;
	}
	return 0;
}

/* key_share: a u16-prefixed list of (group, u16-prefixed key); the groups
 * are kept, the keys skipped. */
static int ext_key_share(struct tls_rd *r, uint32_t end, struct tls_clienthello *ch,
			 const char *bad)
{
	uint32_t list_end = 0, key_end = 0;

	if (tls_rd_vec(r, 2, end, &list_end, bad))
		return r->err;
	while (r->off < list_end) {
		uint16_t group = 0;
		if (list_end - r->off < 4)
			return tls_rd_fail(r, bad);
		if (tls_rd_u16(r, &group) || tls_rd_vec(r, 2, list_end, &key_end, bad) ||
		    tls_rd_bytes(r, NULL, key_end - r->off))
			return r->err;
		if (tls_is_grease(group))
			ch->has_grease = true;
		if (ch->n_key_shares < TLS_CH_MAX_KEY_SHARES)
			ch->key_shares[ch->n_key_shares++] = group;
		else
			ch->truncated |= TLS_CH_TRUNC_KEY_SHARES;
	}
	return 0;
}

static int ext_u16_list(struct tls_rd *r, uint32_t end, struct tls_clienthello *ch,
			unsigned lenbytes, uint16_t *arr, unsigned cap, uint8_t *count,
			uint32_t trunc_bit, const char *bad)
{
	struct tls_list16 l = {lenbytes, arr, cap, trunc_bit, bad, bad};
	unsigned n = 0;

	if (tls_rd_list16(r, end, &l, &n, ch))
		return r->err;
	*count = (uint8_t)n;
	return 0;
}

static int ext_groups(struct tls_rd *r, uint32_t end, struct tls_clienthello *ch, const char *bad)
{
	return ext_u16_list(r, end, ch, 2, ch->groups, TLS_CH_MAX_GROUPS, &ch->n_groups,
			    TLS_CH_TRUNC_GROUPS, bad);
}

static int ext_sigalgs(struct tls_rd *r, uint32_t end, struct tls_clienthello *ch, const char *bad)
{
	return ext_u16_list(r, end, ch, 2, ch->sigalgs, TLS_CH_MAX_SIGALGS, &ch->n_sigalgs,
			    TLS_CH_TRUNC_SIGALGS, bad);
}

static int ext_versions(struct tls_rd *r, uint32_t end, struct tls_clienthello *ch, const char *bad)
{
	return ext_u16_list(r, end, ch, 1, ch->versions, TLS_CH_MAX_VERSIONS, &ch->n_versions,
			    TLS_CH_TRUNC_VERSIONS, bad);
}

static int ext_point_formats(struct tls_rd *r, uint32_t end, struct tls_clienthello *ch,
			     const char *bad)
{
	unsigned n = 0;

	if (tls_rd_list8(r, end, ch->point_formats, TLS_CH_MAX_POINT_FORMATS, &n,
			 TLS_CH_TRUNC_POINT_FORMATS, bad, ch))
		return r->err;
	ch->n_point_formats = (uint8_t)n;
	return 0;
}

static int ext_psk_modes(struct tls_rd *r, uint32_t end, struct tls_clienthello *ch,
			 const char *bad)
{
	unsigned n = 0;

	if (tls_rd_list8(r, end, ch->psk_modes, TLS_CH_MAX_PSK_MODES, &n, TLS_CH_TRUNC_PSK_MODES,
			 bad, ch))
		return r->err;
	ch->n_psk_modes = (uint8_t)n;
	return 0;
}

static const struct ext_decoder {
	uint16_t type;
	int (*decode)(struct tls_rd *r, uint32_t end, struct tls_clienthello *ch, const char *bad);
	const char *bad;
} decoders[] = {
    {TLS_EXT_SERVER_NAME, ext_sni, "server_name extension is malformed"},
    {TLS_EXT_SUPPORTED_GROUPS, ext_groups, "supported_groups extension is malformed"},
    {TLS_EXT_EC_POINT_FORMATS, ext_point_formats, "ec_point_formats extension is malformed"},
    {TLS_EXT_SIGNATURE_ALGORITHMS, ext_sigalgs, "signature_algorithms extension is malformed"},
    {TLS_EXT_ALPN, ext_alpn, "ALPN extension is malformed"},
    {TLS_EXT_SUPPORTED_VERSIONS, ext_versions, "supported_versions extension is malformed"},
    {TLS_EXT_PSK_KEY_EXCHANGE_MODES, ext_psk_modes,
     "psk_key_exchange_modes extension is malformed"},
    {TLS_EXT_KEY_SHARE, ext_key_share, "key_share extension is malformed"},
};

int tls_ext_parse(struct tls_rd *r, uint16_t type, uint16_t ext_len, struct tls_clienthello *ch)
{
	uint32_t end = r->off + ext_len;

	for (size_t i = 0; i < sizeof(decoders) / sizeof(decoders[0]); i++) {
		if (decoders[i].type != type)
			continue;
		if (decoders[i].decode(r, end, ch, decoders[i].bad))
			return r->err;
		if (r->off != end)
			return tls_rd_fail(r, decoders[i].bad);
		return 0;
	}
	return tls_rd_bytes(r, NULL, ext_len);
}
