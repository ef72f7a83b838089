/* Domain name normalisation (trim, lowercase, final dot, IDNA, LDH rules)
 * and metadata field validation. */
#include <idn2.h>
#include <stdio.h>
#include <string.h>

#include "core/error.h"
#include "domains/domains.h"
#include "domains/domains_internal.h"

/* Longest input we look at: anything longer cannot become a 253-byte name
 * (an IDNA U-label expands, it never shrinks below a quarter). */
#define INPUT_MAX 1024

/* Reasons that quote the input are built here; see domains.h. */
static _Thread_local char why_buf[128];

bool domains_is_space(int c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f';
}

char *domains_trim(char *s)
{
	while (domains_is_space((unsigned char)*s))
		s++;
	size_t n = strlen(s);
	while (n > 0 && domains_is_space((unsigned char)s[n - 1]))
		s[--n] = '\0';
	return s;
}

static const char *bad_char(unsigned char c)
{
	if (c >= 0x20 && c < 0x7f)
		snprintf(why_buf, sizeof(why_buf), "invalid character '%c'", c);
	else
		snprintf(why_buf, sizeof(why_buf), "invalid character 0x%02x", c);
	return why_buf;
}

static bool is_ldh(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
}

/* Check one label [s, s+n) against the LDH rules. NULL when valid. */
static const char *check_label(const char *s, size_t n)
{
	if (n == 0)
		return "empty label";
	for (size_t i = 0; i < n; i++) {
		if (!is_ldh((unsigned char)s[i]))
			return bad_char((unsigned char)s[i]);
	}
	if (n > 63)
		return "label longer than 63 characters";
	if (s[0] == '-')
		return "label starts with a hyphen";
	if (s[n - 1] == '-')
		return "label ends with a hyphen";
	return NULL;
}

/* Whole-name rules on an ASCII name: labels, length, label count, TLD. */
static const char *check_name(const char *name)
{
	size_t labels = 0;
	const char *label = name;
	for (;;) {
		const char *dot = strchr(label, '.');
		size_t n = dot ? (size_t)(dot - label) : strlen(label);
		const char *why = check_label(label, n);
		if (why)
			return why;
		labels++;
		if (!dot)
			break;
		label = dot + 1;
	}
	if (strlen(name) > 253)
		return "name longer than 253 characters";
	if (labels < 2)
		return "single-label name (a bare TLD cannot be a seized zone)";
	if (strspn(label, "0123456789") == strlen(label))
		return "all-numeric top-level label (an IP address is not a domain name)";
	return NULL;
}

/* Does the name need libidn2: non-ASCII bytes or an A-label to verify? */
static bool needs_idna(const char *name)
{
	for (const char *p = name; *p; p++) {
		if ((unsigned char)*p >= 0x80)
			return true;
	}
	for (const char *l = name;; l++) {
		if (strncmp(l, "xn--", 4) == 0)
			return true;
		l = strchr(l, '.');
		if (!l)
			return false;
	}
}

/* Labels must be non-empty before libidn2 sees them: its own message for
 * "a..b" is less precise. */
static bool has_empty_label(const char *name)
{
	return name[0] == '.' || strstr(name, "..") != NULL || name[strlen(name) - 1] == '.';
}

static const char *to_ascii(char *buf, size_t size)
{
	if (has_empty_label(buf))
		return "empty label";
	char *res = NULL;
	int rc = idn2_to_ascii_8z(buf, &res, IDN2_NONTRANSITIONAL | IDN2_NFC_INPUT);
	if (rc != IDN2_OK) {
		snprintf(why_buf, sizeof(why_buf), "IDNA conversion failed: %s", idn2_strerror(rc));
		return why_buf;
	}
	size_t n = strlen(res);
	if (n >= size) {
		idn2_free(res);
		return "name longer than 253 characters";
	}
	memcpy(buf, res, n + 1);
	idn2_free(res);
	for (char *p = buf; *p; p++) {
		if (*p >= 'A' && *p <= 'Z')
			*p = (char)(*p - 'A' + 'a');
	}
	return NULL;
}

int domains_normalize(const char *in, char *out, size_t out_len, const char **why)
{
	char buf[INPUT_MAX + 1];
	const char *reason = NULL;
	while (domains_is_space((unsigned char)*in))
		in++;
	size_t n = strlen(in);
	while (n > 0 && domains_is_space((unsigned char)in[n - 1]))
		n--;
	if (n > INPUT_MAX) {
		*why = "name longer than 253 characters";
		return SINKD_EINVAL;
	}
	for (size_t i = 0; i < n; i++) {
		char c = in[i];
		buf[i] = (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
	}
	if (n > 0 && buf[n - 1] == '.')
		n--;
	buf[n] = '\0';
	if (n == 0) {
		*why = "empty name";
		return SINKD_EINVAL;
	}
	if (needs_idna(buf))
		reason = to_ascii(buf, sizeof(buf));
	if (!reason)
		reason = check_name(buf);
	if (reason) {
		*why = reason;
		return SINKD_EINVAL;
	}
	n = strlen(buf);
	if (n >= out_len) {
		*why = "output buffer too small";
		return SINKD_ERANGE;
	}
	memcpy(out, buf, n + 1);
	return 0;
}
