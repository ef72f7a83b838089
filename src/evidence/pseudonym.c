/* Keyed pseudonyms of source addresses for exports (HMAC-SHA-256). */
#include "evidence/evidence.h"

#include "core/error.h"

#include <ctype.h>
#include <errno.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdio.h>
#include <string.h>

static int hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = tolower(c);
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

int evidence_pseudonym_load(struct evidence_pseudonym *p, const char *path, char *err,
			    size_t errlen)
{
	char buf[256];
	FILE *f = fopen(path, "r");
	if (f == NULL) {
		snprintf(err, errlen, "%s: cannot open: %s", path, strerror(errno));
		return SINKD_EIO;
	}
	size_t n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	while (n > 0 && isspace((unsigned char)buf[n - 1]))
		buf[--n] = '\0';
	if (n != 2 * EVIDENCE_PSEUDONYM_KEY_LEN)
		goto bad;
	for (size_t i = 0; i < EVIDENCE_PSEUDONYM_KEY_LEN; i++) {
		int hi = hexval(buf[2 * i]), lo = hexval(buf[2 * i + 1]);
		if (hi < 0 || lo < 0)
			goto bad;
		p->key[i] = (uint8_t)(hi << 4 | lo);
	}
	return 0;
bad:
	snprintf(err, errlen,
		 "%s: expected 64 hex digits (make one with 'sinkd keygen "
		 "--pseudonym-key --out %s')",
		 path, path);
	return SINKD_EPARSE;
}

const char *evidence_pseudonymise(const struct evidence_pseudonym *p, const struct event_addr *a,
				  char *buf, size_t len)
{
	uint8_t ip[16], md[32];
	unsigned md_len = sizeof(md);
	memcpy(ip, a->ip, sizeof(ip));
	if (!event_addr_is_v4(a))
		memset(ip + 8, 0, 8); /* one token per /64: one host or one NAT */
	if (HMAC(EVP_sha256(), p->key, sizeof(p->key), ip, sizeof(ip), md, &md_len) == NULL)
		memset(md, 0, sizeof(md));
	snprintf(buf, len, "anon-%02x%02x%02x%02x%02x%02x%02x%02x", md[0], md[1], md[2], md[3],
		 md[4], md[5], md[6], md[7]);
	return buf;
}
