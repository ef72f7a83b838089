/* Domain metadata: field table, validation, comparison. */
#include <stddef.h>
#include <string.h>

#include "core/error.h"
#include "domains/domains.h"
#include "domains/domains_internal.h"

const struct domains_field domains_fields[DOMAINS_NFIELDS] = {
    {"family", offsetof(struct domain_meta, family), sizeof(((struct domain_meta *)0)->family),
     false},
    {"case_ref", offsetof(struct domain_meta, case_ref),
     sizeof(((struct domain_meta *)0)->case_ref), false},
    {"seized", offsetof(struct domain_meta, seized), sizeof(((struct domain_meta *)0)->seized),
     true},
    {"registrar", offsetof(struct domain_meta, registrar),
     sizeof(((struct domain_meta *)0)->registrar), false},
    {"expiry", offsetof(struct domain_meta, expiry), sizeof(((struct domain_meta *)0)->expiry),
     true},
};

const struct domains_field *domains_field_find(const char *name)
{
	for (size_t i = 0; i < DOMAINS_NFIELDS; i++) {
		if (strcmp(domains_fields[i].name, name) == 0)
			return &domains_fields[i];
	}
	return NULL;
}

char *domains_field_ptr(struct domain_meta *meta, const struct domains_field *f)
{
	return (char *)meta + f->offset;
}

const char *domains_field_cptr(const struct domain_meta *meta, const struct domains_field *f)
{
	return (const char *)meta + f->offset;
}

static bool is_leap(int y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

static const char *check_date(const char *s)
{
	static const int mdays[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	if (strlen(s) != 10 || s[4] != '-' || s[7] != '-')
		return "not a date in YYYY-MM-DD form";
	for (int i = 0; i < 10; i++) {
		if (i != 4 && i != 7 && (s[i] < '0' || s[i] > '9'))
			return "not a date in YYYY-MM-DD form";
	}
	int y = (s[0] - '0') * 1000 + (s[1] - '0') * 100 + (s[2] - '0') * 10 + (s[3] - '0');
	int m = (s[5] - '0') * 10 + (s[6] - '0');
	int d = (s[8] - '0') * 10 + (s[9] - '0');
	if (m < 1 || m > 12 || d < 1)
		return "no such calendar date";
	int max = mdays[m - 1] + (m == 2 && is_leap(y));
	if (d > max)
		return "no such calendar date";
	return NULL;
}

/* Length of the UTF-8 sequence at s, 0 when invalid (overlong, surrogate,
 * beyond U+10FFFF, truncated). */
static size_t utf8_seq(const unsigned char *s)
{
	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		return (s[1] & 0xc0) == 0x80 ? 2 : 0;
	if (s[0] >= 0xe0 && s[0] <= 0xef) {
		unsigned lo = s[0] == 0xe0 ? 0xa0 : 0x80, hi = s[0] == 0xed ? 0x9f : 0xbf;
		if (s[1] < lo || s[1] > hi || (s[2] & 0xc0) != 0x80)
			return 0;
		return 3;
	}
	if (s[0] >= 0xf0 && s[0] <= 0xf4) {
		unsigned lo = s[0] == 0xf0 ? 0x90 : 0x80, hi = s[0] == 0xf4 ? 0x8f : 0xbf;
		if (s[1] < lo || s[1] > hi || (s[2] & 0xc0) != 0x80 || (s[3] & 0xc0) != 0x80)
			return 0;
		return 4;
	}
	return 0;
}

static const char *check_text(const char *s, size_t size)
{
	const unsigned char *p = (const unsigned char *)s;
	while (*p) {
		if (*p < 0x20 || *p == 0x7f)
			return "control character not allowed";
		size_t n = utf8_seq(p);
		if (n == 0)
			return "invalid UTF-8";
		p += n;
	}
	if ((size_t)(p - (const unsigned char *)s) >= size)
		return size > 32 ? "too long (at most 63 bytes)" : "too long (at most 31 bytes)";
	return NULL;
}

int domains_meta_set(struct domain_meta *meta, const char *field, const char *value,
		     const char **why)
{
	const struct domains_field *f = domains_field_find(field);
	if (!f) {
		*why = "unknown field";
		return SINKD_ENOENT;
	}
	while (domains_is_space((unsigned char)*value))
		value++;
	size_t n = strlen(value);
	while (n > 0 && domains_is_space((unsigned char)value[n - 1]))
		n--;
	char buf[256];
	if (n >= sizeof(buf)) {
		*why = f->size > 32 ? "too long (at most 63 bytes)" : "too long (at most 31 bytes)";
		if (f->is_date)
			*why = "not a date in YYYY-MM-DD form";
		return SINKD_EINVAL;
	}
	memcpy(buf, value, n);
	buf[n] = '\0';
	const char *reason = NULL;
	if (n > 0)
		reason = f->is_date ? check_date(buf) : check_text(buf, f->size);
	if (reason) {
		*why = reason;
		return SINKD_EINVAL;
	}
	char *dst = domains_field_ptr(meta, f);
	memset(dst, 0, f->size);
	memcpy(dst, buf, n);
	return 0;
}

/* Every field NUL-terminated, zero after the NUL: the canonical form the
 * interning table hashes and compares bytewise. */
void domains_meta_canon(struct domain_meta *dst, const struct domain_meta *src)
{
	memset(dst, 0, sizeof(*dst));
	if (!src)
		return;
	for (size_t i = 0; i < DOMAINS_NFIELDS; i++) {
		const struct domains_field *f = &domains_fields[i];
		const char *s = domains_field_cptr(src, f);
		memcpy(domains_field_ptr(dst, f), s, strnlen(s, f->size - 1));
	}
}

int domains_meta_check(const struct domain_meta *meta, const char **field, const char **why)
{
	for (size_t i = 0; i < DOMAINS_NFIELDS; i++) {
		const struct domains_field *f = &domains_fields[i];
		const char *s = domains_field_cptr(meta, f);
		const char *reason = NULL;
		if (s[0])
			reason = f->is_date ? check_date(s) : check_text(s, f->size);
		if (reason) {
			*field = f->name;
			*why = reason;
			return SINKD_EINVAL;
		}
	}
	return 0;
}

bool domains_meta_is_empty(const struct domain_meta *meta)
{
	for (size_t i = 0; i < DOMAINS_NFIELDS; i++) {
		if (domains_field_cptr(meta, &domains_fields[i])[0])
			return false;
	}
	return true;
}
