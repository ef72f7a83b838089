/* Test helper: build ClientHello bytes from a description, and load the
 * captured vectors. Header-only: each test executable includes it once. */
#ifndef SINKD_TEST_TLS_HELLO_BUILDER_H
#define SINKD_TEST_TLS_HELLO_BUILDER_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define HB_MAX (1 << 17)

struct hb {
	uint8_t b[HB_MAX];
	size_t n;
};

static inline void hb_u8(struct hb *h, unsigned v)
{
	if (h->n < HB_MAX)
		h->b[h->n++] = (uint8_t)v;
}

static inline void hb_u16(struct hb *h, unsigned v)
{
	hb_u8(h, v >> 8);
	hb_u8(h, v);
}

static inline void hb_bytes(struct hb *h, const void *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		hb_u8(h, ((const uint8_t *)p)[i]);
}

/* Reserve a width-byte length; hb_close() patches it to what follows. */
static inline size_t hb_open(struct hb *h, int width)
{
	size_t at = h->n;
	for (int i = 0; i < width; i++)
		hb_u8(h, 0);
	return at;
}

static inline void hb_close(struct hb *h, size_t at, int width)
{
	size_t len = h->n - at - (size_t)width;
	for (int i = width - 1; i >= 0; i--, len >>= 8)
		h->b[at + (size_t)i] = (uint8_t)len;
}

/* What goes into a built ClientHello. Extension bodies come from the
 * fields below for the types the parser decodes; other types get an empty
 * body (key_share: one x25519 share, psk modes: [1]). */
struct hello_spec {
	uint16_t version;
	const uint16_t *ciphers;
	size_t n_ciphers;
	const uint16_t *ext;
	size_t n_ext;
	bool no_ext_block;
	const char *sni;
	const uint16_t *groups;
	size_t n_groups;
	const uint8_t *pf;
	size_t n_pf;
	const uint16_t *sigalgs;
	size_t n_sigalgs;
	const char *const *alpn;
	size_t n_alpn;
	const uint16_t *versions;
	size_t n_versions;
	uint16_t empty_type; /* with force_empty: this type gets an empty body */
	bool force_empty;
	uint16_t raw_type; /* with raw_body: this type gets these bytes */
	const uint8_t *raw_body;
	size_t raw_len;
};

static inline void hb_list16(struct hb *h, int width, const uint16_t *v, size_t n)
{
	size_t at = hb_open(h, width);
	for (size_t i = 0; i < n; i++)
		hb_u16(h, v[i]);
	hb_close(h, at, width);
}

static inline void hb_ext_body(struct hb *h, uint16_t type, const struct hello_spec *s)
{
	size_t at, at2;

	if (s->force_empty && type == s->empty_type)
		return;
	if (s->raw_body != NULL && type == s->raw_type) {
		hb_bytes(h, s->raw_body, s->raw_len);
		return;
	}
	switch (type) {
	case 0x0000:
		if (s->sni == NULL)
			break;
		at = hb_open(h, 2);
		hb_u8(h, 0);
		at2 = hb_open(h, 2);
		hb_bytes(h, s->sni, strlen(s->sni));
		hb_close(h, at2, 2);
		hb_close(h, at, 2);
		break;
	case 0x000a:
		hb_list16(h, 2, s->groups, s->n_groups);
		break;
	case 0x000b:
		at = hb_open(h, 1);
		hb_bytes(h, s->pf, s->n_pf);
		hb_close(h, at, 1);
		break;
	case 0x000d:
		hb_list16(h, 2, s->sigalgs, s->n_sigalgs);
		break;
	case 0x0010:
		at = hb_open(h, 2);
		for (size_t i = 0; i < s->n_alpn; i++) {
			hb_u8(h, (unsigned)strlen(s->alpn[i]));
			hb_bytes(h, s->alpn[i], strlen(s->alpn[i]));
		}
		hb_close(h, at, 2);
		break;
	case 0x002b:
		hb_list16(h, 1, s->versions, s->n_versions);
		break;
	case 0x002d:
		hb_u8(h, 1);
		hb_u8(h, 1);
		break;
	case 0x0033:
		at = hb_open(h, 2);
		hb_u16(h, 0x001d);
		hb_u16(h, 32);
		for (int i = 0; i < 32; i++)
			hb_u8(h, (unsigned)i);
		hb_close(h, at, 2);
		break;
	default:
		break;
	}
}

/* Handshake message (header + body) of a ClientHello. */
static inline void hb_hello(struct hb *h, const struct hello_spec *s)
{
	size_t hs, at, ext;

	hb_u8(h, 1);
	hs = hb_open(h, 3);
	hb_u16(h, s->version ? s->version : 0x0303);
	for (int i = 0; i < 32; i++)
		hb_u8(h, 0xa0 + (unsigned)i);
	hb_u8(h, 32);
	for (int i = 0; i < 32; i++)
		hb_u8(h, (unsigned)i);
	hb_list16(h, 2, s->ciphers, s->n_ciphers);
	hb_u8(h, 1);
	hb_u8(h, 0);
	if (!s->no_ext_block) {
		ext = hb_open(h, 2);
		for (size_t i = 0; i < s->n_ext; i++) {
			hb_u16(h, s->ext[i]);
			at = hb_open(h, 2);
			hb_ext_body(h, s->ext[i], s);
			hb_close(h, at, 2);
		}
		hb_close(h, ext, 2);
	}
	hb_close(h, hs, 3);
}

/* Wrap a handshake message into handshake records of at most frag bytes. */
static inline void hb_records(struct hb *out, const uint8_t *msg, size_t n, size_t frag)
{
	for (size_t off = 0; off < n; off += frag) {
		size_t len = n - off < frag ? n - off : frag;
		hb_u8(out, 22);
		hb_u16(out, 0x0301);
		hb_u16(out, (unsigned)len);
		hb_bytes(out, msg + off, len);
	}
}

/* A ClientHello in one record. */
static inline void hb_record_hello(struct hb *out, const struct hello_spec *s)
{
	static struct hb msg;
	msg.n = 0;
	hb_hello(&msg, s);
	hb_records(out, msg.b, msg.n, 16384);
}

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

/* Read tests/unit/tls/vectors/<name>.bin into a malloc'd buffer. */
static inline uint8_t *load_vector(const char *name, size_t *len)
{
	char path[4096];
	const char *file = __FILE__;
	const char *slash = strrchr(file, '/');
	int dir_len = slash ? (int)(slash - file) : 1;

	snprintf(path, sizeof(path), "%.*s/vectors/%s.bin", dir_len, slash ? file : ".", name);
	FILE *f = fopen(path, "rb");
	if (f == NULL) {
		fprintf(stderr, "cannot open test vector %s\n", path);
		abort();
	}
	uint8_t *buf = malloc(HB_MAX);
	*len = fread(buf, 1, HB_MAX, f);
	fclose(f);
	return buf;
}

#endif
