/* Rule files, the lowest layer: the error sink, lines split into words
 * (quotes, escapes, comments), labels, numbers and severities. Load time
 * only. Format: docs/rules.md. */
#include "classify/rules_internal.h"

#include "core/error.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

void rules_error(struct rules_errors *e, const char *file, unsigned line, const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (e->n++ == 0 && e->buf != NULL && e->len > 0) {
		if (line > 0)
			snprintf(e->buf, e->len, "%s:%u: %s", file, line, msg);
		else
			snprintf(e->buf, e->len, "%s: %s", file, msg);
	}
	if (e->out != NULL) {
		if (line > 0)
			fprintf(e->out, "%s:%u: %s\n", file, line, msg);
		else
			fprintf(e->out, "%s: %s\n", file, msg);
	}
}

/* ---- words ---------------------------------------------------------------- */

static int hexval(int ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	ch = tolower(ch);
	return ch >= 'a' && ch <= 'f' ? ch - 'a' + 10 : -1;
}

/* Split line (modified in place) into words: bare words end at blanks, a
 * '#' outside quotes starts a comment, "quoted words" take C escapes
 * (\\ \" \n \r \t \0 \xNN). 0, or SINKD_EPARSE with the error reported. */
int rules_split_words(char *line, struct rules_line *ln, struct rules_errors *e)
{
	char *p = line;
	ln->n = 0;
	for (;;) {
		while (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n')
			p++;
		if (*p == '\0' || *p == '#')
			return 0;
		if (ln->n == RULES_LINE_MAX_WORDS) {
			rules_error(e, ln->file, ln->line,
				    "too many words on one line (at most %d)",
				    RULES_LINE_MAX_WORDS);
			return SINKD_EPARSE;
		}
		char *out = p, *start = p;
		if (*p != '"') {
			while (*p != '\0' && *p != ' ' && *p != '\t' && *p != '\r' && *p != '\n' &&
			       *p != '#')
				p++;
			ln->lens[ln->n] = (size_t)(p - start);
			ln->w[ln->n++] = start;
			if (*p == '\0' || *p == '#') {
				bool comment = *p == '#';
				*p = '\0';
				if (comment)
					return 0;
				continue;
			}
			*p++ = '\0';
			continue;
		}
		p++;
		while (*p != '"') {
			if (*p == '\0') {
				rules_error(e, ln->file, ln->line,
					    "unterminated string: add the closing '\"'");
				return SINKD_EPARSE;
			}
			if (*p != '\\') {
				*out++ = *p++;
				continue;
			}
			p++;
			int h1, h2;
			switch (*p) {
			case '\\':
			case '"':
				*out++ = *p++;
				break;
			case 'n':
				*out++ = '\n';
				p++;
				break;
			case 'r':
				*out++ = '\r';
				p++;
				break;
			case 't':
				*out++ = '\t';
				p++;
				break;
			case '0':
				*out++ = '\0';
				p++;
				break;
			case 'x':
				h1 = hexval((unsigned char)p[1]);
				h2 = h1 < 0 ? -1 : hexval((unsigned char)p[2]);
				if (h2 < 0) {
					rules_error(e, ln->file, ln->line,
						    "bad escape: \\x needs two hex digits");
					return SINKD_EPARSE;
				}
				*out++ = (char)(h1 * 16 + h2);
				p += 3;
				break;
			default:
				/* Kept as is: regexes use \d, \., \s ... */
				*out++ = '\\';
				if (*p == '\0') {
					rules_error(e, ln->file, ln->line,
						    "unterminated string: add the closing '\"'");
					return SINKD_EPARSE;
				}
				*out++ = *p++;
			}
		}
		p++;
		if (*p != '\0' && *p != ' ' && *p != '\t' && *p != '\r' && *p != '\n' &&
		    *p != '#') {
			rules_error(
			    e, ln->file, ln->line,
			    "text right after a closing quote: separate words with a blank");
			return SINKD_EPARSE;
		}
		ln->lens[ln->n] = (size_t)(out - start);
		*out = '\0';
		ln->w[ln->n++] = start;
		if (*p == '#') {
			*p = '\0';
			return 0;
		}
		if (*p != '\0')
			p++;
	}
}

/* ---- names and numbers --------------------------------------------------- */

/* A label: 1-31 characters of [A-Za-z0-9._:-]. */
bool rules_valid_label(const char *s, size_t len)
{
	if (len == 0 || len >= EVENT_LABEL_MAX)
		return false;
	for (size_t i = 0; i < len; i++) {
		unsigned char ch = (unsigned char)s[i];
		if (!isalnum(ch) && ch != '-' && ch != '_' && ch != '.' && ch != ':')
			return false;
	}
	return true;
}

int rules_set_label(char *dst, const struct rules_line *ln, const char *what,
		    struct rules_errors *e)
{
	if (ln->n != 2) {
		rules_error(e, ln->file, ln->line, "%s takes one value: '%s NAME'", what, what);
		return SINKD_EPARSE;
	}
	if (!rules_valid_label(ln->w[1], ln->lens[1])) {
		rules_error(e, ln->file, ln->line,
			    "%s '%s': expected 1-%d characters of letters, digits, '-', '_', '.', "
			    "':'",
			    what, ln->w[1], EVENT_LABEL_MAX - 1);
		return SINKD_EPARSE;
	}
	memcpy(dst, ln->w[1], ln->lens[1] + 1);
	return 0;
}

int rules_parse_long(const char *s, long lo, long hi, long *out)
{
	char *end;
	errno = 0;
	long v = strtol(s, &end, 10);
	if (s[0] == '\0' || *end != '\0' || errno != 0 || v < lo || v > hi)
		return SINKD_EINVAL;
	*out = v;
	return 0;
}

int rules_parse_severity(const struct rules_line *ln, struct rule *r, struct rules_errors *e)
{
	static const char *const names[] = {"none", "low", "medium", "high", "critical"};
	long v;
	if (ln->n == 2) {
		for (int i = 0; i < 5; i++) {
			if (strcasecmp(ln->w[1], names[i]) == 0) {
				r->severity = (uint8_t)i;
				r->has_severity = true;
				return 0;
			}
		}
		if (rules_parse_long(ln->w[1], 0, 4, &v) == 0) {
			r->severity = (uint8_t)v;
			r->has_severity = true;
			return 0;
		}
	}
	rules_error(e, ln->file, ln->line,
		    "severity: expected 0-4 or none, low, medium, high, critical");
	return SINKD_EPARSE;
}
