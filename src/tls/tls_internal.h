/* Internal to src/tls: the byte reader shared by the ClientHello parser and
 * the extension decoders. Not part of the module interface (see tls.h). */
#ifndef SINKD_TLS_INTERNAL_H
#define SINKD_TLS_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tls/tls.h"

/* Reads the handshake byte stream out of a buffer, skipping TLS record
 * headers as it crosses record boundaries. Offsets (`off`, `limit`) count
 * handshake bytes, not buffer bytes. Errors are sticky: once `err` is set
 * every read returns it. */
struct tls_rd {
	const uint8_t *buf;
	size_t len;	 /* bytes in buf */
	size_t pos;	 /* next byte of buf */
	size_t frag_end; /* end of the current record's fragment in buf */
	bool records;	 /* buf has record headers */
	uint16_t n_records;
	uint16_t record_version;
	uint32_t off;	    /* handshake bytes read */
	uint32_t limit;	    /* reads past this offset are malformed */
	int err;	    /* 0, SINKD_EAGAIN or SINKD_EMALF */
	const char *reason; /* static text for SINKD_EMALF */
};

/* Set a malformed-input error (first reason wins); returns SINKD_EMALF. */
int tls_rd_fail(struct tls_rd *r, const char *reason);

/* Read n bytes into dst (dst NULL: skip them). 0 or the sticky error. */
int tls_rd_bytes(struct tls_rd *r, void *dst, size_t n);
int tls_rd_u8(struct tls_rd *r, uint8_t *v);
int tls_rd_u16(struct tls_rd *r, uint16_t *v);

/* Read an lenbytes-wide (1 or 2) vector length and check the vector ends by
 * `end`; *vec_end gets its end offset. */
int tls_rd_vec(struct tls_rd *r, unsigned lenbytes, uint32_t end, uint32_t *vec_end,
	       const char *reason);

/* Decode one extension body of ext_len bytes (the reader is at its start)
 * into ch. Unknown types are skipped. Checks the body is consumed exactly. */
int tls_ext_parse(struct tls_rd *r, uint16_t type, uint16_t ext_len, struct tls_clienthello *ch);

/* Read a vector of big-endian u16 (a u8 or u16 length prefix, lenbytes)
 * ending by `end` into arr (cap entries; *n counts those kept). Sets
 * trunc_bit in ch->truncated when entries are dropped and ch->has_grease
 * when a GREASE value appears. */
struct tls_list16 {
	unsigned lenbytes;
	uint16_t *arr;
	unsigned cap;
	uint32_t trunc_bit;
	const char *bad; /* reason when the vector runs past `end` */
	const char *odd; /* reason when its length is odd */
};
int tls_rd_list16(struct tls_rd *r, uint32_t end, const struct tls_list16 *l, unsigned *n,
		  struct tls_clienthello *ch);

/* The same for a u8-prefixed vector of u8 items. */
int tls_rd_list8(struct tls_rd *r, uint32_t end, uint8_t *arr, unsigned cap, unsigned *n,
		 uint32_t trunc_bit, const char *bad, struct tls_clienthello *ch);

/* Bounded string builder: never writes past cap, always NUL-terminated
 * (cap > 0); `full` records that something was cut. */
struct tls_sb {
	char *p;
	size_t cap, len;
	bool full;
};

extern const char tls_hexdig[]; /* "0123456789abcdef" */

void tls_sb_init(struct tls_sb *b, char *p, size_t cap);
void tls_sb_putc(struct tls_sb *b, char c);
void tls_sb_puts(struct tls_sb *b, const char *s);
void tls_sb_dec(struct tls_sb *b, unsigned v);
void tls_sb_hex4(struct tls_sb *b, uint16_t v); /* 4 lowercase hex digits */

#endif
