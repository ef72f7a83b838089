/* Text forms of the ingest format: RFC 3339 times with nanoseconds and
 * ADDRESS:PORT. */
#include "ingest/ingest.h"
#include "ingest/ingest_internal.h"

#include "core/error.h"

#include <ctype.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Exactly n digits at *p. */
static bool digits(const char **p, int n, int *out)
{
	int v = 0;
	for (int i = 0; i < n; i++) {
		if (!isdigit((unsigned char)(*p)[i]))
			return false;
		v = v * 10 + ((*p)[i] - '0');
	}
	*p += n;
	*out = v;
	return true;
}

static bool lit(const char **p, char c)
{
	if (**p != c)
		return false;
	(*p)++;
	return true;
}

int ingest_time_parse(const char *text, uint64_t *ns)
{
	const char *p = text;
	struct tm tm = {0};
	int y, mo, d, h, mi, s, oh = 0, om = 0;
	uint64_t frac = 0;
	if (!digits(&p, 4, &y) || !lit(&p, '-') || !digits(&p, 2, &mo) || !lit(&p, '-') ||
	    !digits(&p, 2, &d) || !lit(&p, 'T') || !digits(&p, 2, &h) || !lit(&p, ':') ||
	    !digits(&p, 2, &mi) || !lit(&p, ':') || !digits(&p, 2, &s))
		return SINKD_EINVAL;
	if (lit(&p, '.')) {
		int n = 0;
		while (isdigit((unsigned char)*p) && n < 9) {
			frac = frac * 10 + (uint64_t)(*p++ - '0');
			n++;
		}
		if (n == 0 || isdigit((unsigned char)*p))
			return SINKD_EINVAL;
		for (; n < 9; n++)
			frac *= 10;
	}
	int sign = 0;
	if (*p == '+' || *p == '-') {
		sign = *p++ == '+' ? 1 : -1;
		if (!digits(&p, 2, &oh) || !lit(&p, ':') || !digits(&p, 2, &om) || oh > 23 ||
		    om > 59)
			return SINKD_EINVAL;
	} else if (!lit(&p, 'Z')) {
		return SINKD_EINVAL;
	}
	if (*p != '\0' || y < 1970 || mo < 1 || mo > 12 || d < 1 || h > 23 || mi > 59 || s > 59)
		return SINKD_EINVAL;
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = s;
	time_t t = timegm(&tm);
	if (t == (time_t)-1 || tm.tm_mday != d) /* 2026-02-30 normalises to March */
		return SINKD_EINVAL;
	int64_t secs = (int64_t)t - sign * (oh * 3600 + om * 60);
	if (secs < 0)
		return SINKD_EINVAL;
	*ns = (uint64_t)secs * 1000000000ull + frac;
	return 0;
}

const char *ingest_time_str(uint64_t ns, char *buf, size_t len)
{
	time_t s = (time_t)(ns / 1000000000ull);
	struct tm tm;
	char base[32];
	gmtime_r(&s, &tm);
	strftime(base, sizeof(base), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(buf, len, "%s.%09uZ", base, (unsigned)(ns % 1000000000ull));
	return buf;
}

/* "192.0.2.1:80", "[2001:db8::1]:80"; a bare address has port 0. */
int ingest_addr_parse(const char *text, struct event_addr *a)
{
	char buf[64];
	const char *port = NULL;
	size_t n = strlen(text);
	if (n >= sizeof(buf))
		return SINKD_EINVAL;
	memcpy(buf, text, n + 1);
	if (buf[0] == '[') {
		char *close = strchr(buf, ']');
		if (close == NULL || (close[1] != ':' && close[1] != '\0'))
			return SINKD_EINVAL;
		*close = '\0';
		port = close[1] == ':' ? close + 2 : NULL;
		memmove(buf, buf + 1, strlen(buf + 1) + 1);
		if (strchr(buf, ':') == NULL)
			return SINKD_EINVAL;
	} else {
		char *colon = strchr(buf, ':');
		if (colon != NULL && strchr(colon + 1, ':') == NULL) {
			*colon = '\0';
			port = colon + 1;
		}
	}
	if (event_addr_parse(a, buf) != 0)
		return SINKD_EINVAL;
	if (port != NULL) {
		char *end;
		unsigned long p = strtoul(port, &end, 10);
		if (!isdigit((unsigned char)*port) || *end != '\0' || p > 65535)
			return SINKD_EINVAL;
		a->port = (uint16_t)p;
	}
	return 0;
}
