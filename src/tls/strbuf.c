/* Bounded string builder used by the fingerprints and the JSON summary. */
#include "tls/tls_internal.h"

const char tls_hexdig[] = "0123456789abcdef";

void tls_sb_init(struct tls_sb *b, char *p, size_t cap)
{
	*b = (struct tls_sb){.p = p, .cap = cap};
	if (cap > 0)
		p[0] = '\0';
	else
		b->full = true;
}

void tls_sb_putc(struct tls_sb *b, char c)
{
	if (b->len + 1 >= b->cap) {
		b->full = true;
		return;
	}
	b->p[b->len++] = c;
	b->p[b->len] = '\0';
}

void tls_sb_puts(struct tls_sb *b, const char *s)
{
	while (*s != '\0')
		tls_sb_putc(b, *s++);
}

void tls_sb_dec(struct tls_sb *b, unsigned v)
{
	char d[12];
	int n = 0;

	do {
		d[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v > 0);
	while (n > 0)
		tls_sb_putc(b, d[--n]);
}

void tls_sb_hex4(struct tls_sb *b, uint16_t v)
{
	for (int shift = 12; shift >= 0; shift -= 4)
		tls_sb_putc(b, tls_hexdig[(v >> shift) & 0xf]);
}
