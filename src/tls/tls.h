/* TLS ClientHello capture: parse the first flight of a TLS client into a
 * fixed-size struct and fingerprint it (JA3, JA4).
 *
 * The parser never allocates, never reads outside the buffer it is given and
 * never keeps a pointer into it: everything it reports is copied into
 * struct tls_clienthello. Lists are bounded arrays with a count; entries past
 * a bound are dropped and the matching TLS_CH_TRUNC_* bit is set.
 *
 * Two entry points:
 *  - tls_clienthello_parse(): raw bytes from the socket (e.g. recv with
 *    MSG_PEEK before the handshake), TLS record layer included. A ClientHello
 *    split over several records is reassembled on the fly (no copy); an
 *    SSLv2-compatible hello is detected and reported, not parsed.
 *  - tls_clienthello_parse_handshake(): one bare handshake message (4-byte
 *    handshake header + body), as OpenSSL's message callback hands it over.
 *
 * The fingerprints and the summary are pure functions of the parsed struct;
 * on a struct with TLS_CH_TRUNC_* bits set they cover the entries kept.
 * See docs/tls-fingerprints.md.
 */
#ifndef SINKD_TLS_TLS_H
#define SINKD_TLS_TLS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Bounds of struct tls_clienthello. */
#define TLS_CH_MAX_HELLO 16384 /* ClientHello body bytes reassembled at most */
#define TLS_CH_MAX_CIPHERS 256
#define TLS_CH_MAX_COMPRESSION 16
#define TLS_CH_MAX_EXTENSIONS 64
#define TLS_CH_MAX_VERSIONS 16
#define TLS_CH_MAX_GROUPS 64
#define TLS_CH_MAX_POINT_FORMATS 16
#define TLS_CH_MAX_SIGALGS 64
#define TLS_CH_MAX_ALPN 8
#define TLS_CH_MAX_KEY_SHARES 16
#define TLS_CH_MAX_PSK_MODES 8
#define TLS_CH_SNI_MAX 255 /* host name bytes kept */

/* A peek buffer of this size always holds a complete ClientHello that the
 * parser accepts, unless the client splits it into records shorter than
 * 512 bytes (then EAGAIN at a full buffer means "too fragmented"). */
#define TLS_CH_PEEK_MAX (TLS_CH_MAX_HELLO + 4 + 5 * (TLS_CH_MAX_HELLO / 512 + 1))

/* Bits of tls_clienthello.truncated: which list lost entries to a bound. */
enum tls_ch_trunc {
	TLS_CH_TRUNC_CIPHERS = 1 << 0,
	TLS_CH_TRUNC_COMPRESSION = 1 << 1,
	TLS_CH_TRUNC_EXTENSIONS = 1 << 2,
	TLS_CH_TRUNC_VERSIONS = 1 << 3,
	TLS_CH_TRUNC_GROUPS = 1 << 4,
	TLS_CH_TRUNC_POINT_FORMATS = 1 << 5,
	TLS_CH_TRUNC_SIGALGS = 1 << 6,
	TLS_CH_TRUNC_ALPN = 1 << 7,
	TLS_CH_TRUNC_KEY_SHARES = 1 << 8,
	TLS_CH_TRUNC_PSK_MODES = 1 << 9,
	TLS_CH_TRUNC_SNI = 1 << 10, /* host name longer than TLS_CH_SNI_MAX */
};

/* Extension types the parser decodes. */
enum tls_ext_type {
	TLS_EXT_SERVER_NAME = 0x0000,
	TLS_EXT_SUPPORTED_GROUPS = 0x000a,
	TLS_EXT_EC_POINT_FORMATS = 0x000b,
	TLS_EXT_SIGNATURE_ALGORITHMS = 0x000d,
	TLS_EXT_ALPN = 0x0010,
	TLS_EXT_SUPPORTED_VERSIONS = 0x002b,
	TLS_EXT_PSK_KEY_EXCHANGE_MODES = 0x002d,
	TLS_EXT_KEY_SHARE = 0x0033,
};

/* One parsed ClientHello. Fixed size (about 3.5 KiB), no pointers except
 * `reason`, which points at static text. Byte strings (sni, alpn) are
 * NUL-terminated copies of the wire bytes and may hold any byte, NUL
 * included: their *_len is authoritative; escape them before display. */
struct tls_clienthello {
	bool sslv2;		 /* SSLv2-compatible hello: only legacy_version is set */
	uint16_t record_version; /* first record header; 0 from _parse_handshake */
	uint16_t legacy_version; /* client_version (SSLv2: the version offered) */
	uint8_t random[32];
	uint8_t session_id_len;
	uint32_t hello_len; /* handshake body length */
	uint16_t n_records; /* TLS records the ClientHello spanned */
	size_t consumed;    /* bytes of the input up to the end of the ClientHello */
	uint32_t truncated; /* enum tls_ch_trunc bits */
	bool has_grease;    /* an RFC 8701 value in any u16 list or extension type */

	uint16_t n_ciphers;
	uint16_t ciphers[TLS_CH_MAX_CIPHERS];
	uint8_t n_compression;
	uint8_t compression[TLS_CH_MAX_COMPRESSION];

	/* Extensions in wire order: type and length of each. */
	uint16_t n_ext;
	uint16_t ext_type[TLS_CH_MAX_EXTENSIONS];
	uint16_t ext_len[TLS_CH_MAX_EXTENSIONS];

	bool has_sni;	 /* server_name extension present (even if empty) */
	uint8_t sni_len; /* first host_name entry, bytes kept */
	char sni[TLS_CH_SNI_MAX + 1];

	uint8_t n_versions; /* supported_versions */
	uint16_t versions[TLS_CH_MAX_VERSIONS];
	uint8_t n_groups; /* supported_groups */
	uint16_t groups[TLS_CH_MAX_GROUPS];
	uint8_t n_point_formats; /* ec_point_formats */
	uint8_t point_formats[TLS_CH_MAX_POINT_FORMATS];
	uint8_t n_sigalgs; /* signature_algorithms */
	uint16_t sigalgs[TLS_CH_MAX_SIGALGS];
	uint8_t n_alpn; /* ALPN protocol names, in order */
	uint8_t alpn_len[TLS_CH_MAX_ALPN];
	char alpn[TLS_CH_MAX_ALPN][256];
	uint8_t n_key_shares; /* key_share: the groups of the entries */
	uint16_t key_shares[TLS_CH_MAX_KEY_SHARES];
	uint8_t n_psk_modes; /* psk_key_exchange_modes */
	uint8_t psk_modes[TLS_CH_MAX_PSK_MODES];

	/* Static text saying what was wrong when a parse returned SINKD_EMALF
	 * (e.g. "record type 23 (application_data) is not handshake"), else
	 * NULL. */
	const char *reason;
};

/* Parse a ClientHello from raw bytes read off a TCP connection, TLS record
 * headers included. *out is overwritten (also on error).
 * Returns 0 when a complete ClientHello was parsed (or an SSLv2-compatible
 * hello detected: out->sslv2), SINKD_EAGAIN when buf holds a valid but
 * incomplete start of one (call again with more bytes; len 0 included),
 * SINKD_EMALF when the bytes cannot be a ClientHello (out->reason says why),
 * SINKD_EINVAL for NULL arguments. Bytes after the ClientHello (early data,
 * change_cipher_spec) are never looked at. */
int tls_clienthello_parse(const uint8_t *buf, size_t len, struct tls_clienthello *out);

/* Parse one bare handshake message (type 1, 3-byte length, body) without
 * record headers, e.g. what an OpenSSL SSL_CTX_set_msg_callback() receives
 * for a read SSL3_RT_HANDSHAKE message. Same results as
 * tls_clienthello_parse(); record_version and n_records are 0. */
int tls_clienthello_parse_handshake(const uint8_t *msg, size_t len, struct tls_clienthello *out);

/* True for the RFC 8701 GREASE values 0x0a0a, 0x1a1a, ..., 0xfafa. */
bool tls_is_grease(uint16_t v);

/* Longest JA3 string the bounds of struct tls_clienthello allow, NUL included. */
#define TLS_JA3_MAX                                                                                \
	(8 + 6 * (TLS_CH_MAX_CIPHERS + TLS_CH_MAX_EXTENSIONS + TLS_CH_MAX_GROUPS) +                \
	 4 * TLS_CH_MAX_POINT_FORMATS)

struct tls_ja3 {
	char str[TLS_JA3_MAX]; /* "771,4865-4866-...,0-11-10-...,29-23-24,0" */
	char md5[33];	       /* lowercase hex MD5 of str */
};

/* Longest JA4_r string, NUL included. */
#define TLS_JA4_R_MAX (16 + 5 * (TLS_CH_MAX_CIPHERS + TLS_CH_MAX_EXTENSIONS + TLS_CH_MAX_SIGALGS))

struct tls_ja4 {
	char ja4[40];		   /* "t13d1516h2_8daaf6152771_e5627efa2ab1" */
	char ja4_r[TLS_JA4_R_MAX]; /* the same with the lists unhashed */
};

/* JA3 of a parsed ClientHello (Salesforce JA3: legacy version, ciphers,
 * extensions, groups, point formats; GREASE removed; decimal).
 * 0, SINKD_EINVAL (NULL argument or an SSLv2 hello: nothing to
 * fingerprint), SINKD_EIO (the MD5 digest is unavailable, e.g. a FIPS-only
 * OpenSSL; out->str is still filled). */
int tls_ja3(const struct tls_clienthello *ch, struct tls_ja3 *out);

/* JA4 and JA4_r (FoxIO JA4, TLS over TCP) of a parsed ClientHello.
 * 0, SINKD_EINVAL (NULL argument or SSLv2 hello), SINKD_EIO (SHA-256
 * unavailable; out->ja4_r is still filled). */
int tls_ja4(const struct tls_clienthello *ch, struct tls_ja4 *out);

/* Longest JSON summary, NUL included (SNI and ALPN bytes escaped as \u00XX
 * at worst). A typical browser hello needs about 1 KiB. */
#define TLS_CH_JSON_MAX                                                                            \
	(512 +                                                                                     \
	 7 * (TLS_CH_MAX_CIPHERS + TLS_CH_MAX_EXTENSIONS + TLS_CH_MAX_VERSIONS +                   \
	      TLS_CH_MAX_GROUPS + TLS_CH_MAX_SIGALGS + TLS_CH_MAX_KEY_SHARES) +                    \
	 4 * (TLS_CH_MAX_COMPRESSION + TLS_CH_MAX_POINT_FORMATS + TLS_CH_MAX_PSK_MODES) +          \
	 6 * TLS_CH_SNI_MAX + TLS_CH_MAX_ALPN * (3 + 6 * 255))

/* One-line JSON summary of a parsed ClientHello (for EVP_TLS_HELLO):
 * versions, SNI, ALPN, lists (u16 values as 4-digit hex strings), record
 * count, GREASE and truncation bits; byte strings escaped (bytes outside
 * printable ASCII as \u00XX), so the text is valid JSON and UTF-8 whatever
 * the input. Writes at most cap bytes, NUL-terminated when cap > 0.
 * Returns 0, SINKD_EFULL when it did not fit (buf then holds a cut, invalid
 * JSON text; TLS_CH_JSON_MAX bytes always fit), SINKD_EINVAL for NULL
 * arguments. */
int tls_clienthello_json(const struct tls_clienthello *ch, char *buf, size_t cap);

#endif
