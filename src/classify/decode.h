/* Protocol decoders: turn a classified check-in into message type, protocol
 * version and bot id (docs/decoders.md).
 *
 * Decoders are table-registered modules (src/classify/decoders/<family>.c)
 * behind one interface; a new family is a new file plus one line in the
 * registry (src/classify/decode.c). They run in the pipeline thread, after
 * the rules named the decoder, and never crash whatever the payload: every
 * failing step sets a precise decode_status.
 *
 * Memory: a struct decode_env holds the key material and per-thread scratch
 * buffers sized to the event payload bound (EVENT_PAYLOAD_MAX), so decoding
 * an event allocates nothing of its own except, once per distinct generic
 * regex, its compiled form (cached in the env); expat still allocates
 * inside its parser for each decrypted Waledac document (docs/decoders.md).
 */
#ifndef SINKD_CLASSIFY_DECODE_H
#define SINKD_CLASSIFY_DECODE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/event.h"

struct sinkd_config;
struct decode_env; /* key material + scratch buffers; one per pipeline thread */

/* Make an env from cfg's [decode] section (cfg may be NULL: no keys, zero
 * IV). Copies what it needs; cfg is not kept. 0 or SINKD_ENOMEM. */
int decode_env_new(struct decode_env **out, const struct sinkd_config *cfg);

/* Free an env and every regex it cached. NULL is a no-op. */
void decode_env_free(struct decode_env *env);

/* True when a decoder of that name is registered ("waledac", "kelihos",
 * "generic"); for `sinkd rules check`. */
bool decode_known(const char *decoder);

/* Check a rule's decoder argument without decoding anything (for `sinkd
 * rules check`): 0, SINKD_ENOENT (unknown decoder) or SINKD_EINVAL with a
 * one-line reason in err ("generic: regex=...: missing ')' at offset 3").
 * arg may be NULL. */
int decode_check_arg(const char *decoder, const char *arg, char *err, size_t errlen);

/* Run decoder `name` with the rule's argument `arg` (NULL if none, e.g.
 * generic "param=id", "header=X-Id", "regex=..."): sets ev->msg_type,
 * proto_version, bot_id, decode_status ("ok" or a precise failure name;
 * the other fields keep what the decoder found before failing). 0 when
 * "ok", SINKD_ENOENT for an unknown decoder (decode_status
 * "unknown-decoder"), SINKD_EMALF when the payload failed a step,
 * SINKD_EINVAL for a bad argument (decode_status "bad-arg"). "no-key"
 * (Waledac envelope decoded, no key configured) returns SINKD_EAGAIN.
 * Never crashes, whatever the payload. ev->payload must point at its
 * payload_len bytes. */
int decode_event(struct decode_env *env, const char *name, const char *arg, struct sinkd_event *ev);

/* Number of registered decoders and the i-th name (for help texts). */
size_t decode_count(void);
const char *decode_name(size_t i);

/* ---- Waledac: the simulator/test side ----------------------------------- */

enum decode_compress {
	DECODE_COMPRESS_NONE = 0,
	DECODE_COMPRESS_ZLIB = 1,  /* zlib stream (RFC 1950), detected by its header */
	DECODE_COMPRESS_BZIP2 = 2, /* bzip2 stream, detected by "BZh" */
};

/* Waledac envelope type bytes (public facts; others print as "type 0xNN"). */
#define DECODE_WALEDAC_GETKEY 0xff
#define DECODE_WALEDAC_NOTIFY 0x02
#define DECODE_WALEDAC_TASKREQ 0x03

/* One Waledac check-in to build. */
struct decode_waledac_msg {
	uint8_t type;	     /* envelope type byte */
	const char *command; /* <t> text; NULL = element omitted */
	const char *version; /* <v> text; NULL = omitted */
	const char *bot_id;  /* <i> text (32 hex for a real bot); NULL = omitted */
	const uint8_t *key;  /* 16-byte AES-128 key */
	const uint8_t *iv;   /* 16-byte CBC IV; NULL = all zero (the decoder's default) */
	enum decode_compress compress;
	const uint8_t *b; /* bytes for the `b` parameter; NULL = no `b` */
	size_t b_len;
};

/* Build the exact x-www-form-urlencoded body a Waledac bot POSTs:
 *   a=<URL-safe base64, no padding, of: type, be32 plaintext length,
 *      AES-128-CBC(PKCS#7)(compress(XML))>[&b=<URL-safe base64 of b>]
 * with XML "<lm><t>command</t><v>version</v><i>bot_id</i></lm>" (text is
 * XML-escaped). The length field is the plaintext length before padding,
 * i.e. the (compressed) XML length. Writes a NUL-terminated body into buf
 * (cap bytes) and its length (without the NUL) into *len. 0, SINKD_EINVAL
 * (NULL key), SINKD_EFULL (buf too small) or SINKD_ENOMEM. Allocates
 * temporary buffers; not for the hot path. */
int decode_waledac_build(const struct decode_waledac_msg *m, char *buf, size_t cap, size_t *len);

#endif
