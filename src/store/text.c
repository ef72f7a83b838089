/* Text forms used by store_query filters and the events CLI: kind and
 * transport names, qtype and rcode mnemonics (libknot tables), times. */
#include "store/store_internal.h"

#include "core/error.h"

#include <ctype.h>
#include <libknot/libknot.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

static const char *const kind_names[] = {
    [EVENT_DNS] = "dns",
    [EVENT_HTTP] = "http",
    [EVENT_TLS] = "tls",
    [EVENT_RAW] = "raw",
};

const char *store_kind_name(uint8_t kind)
{
	if (kind < sizeof(kind_names) / sizeof(kind_names[0]) && kind_names[kind] != NULL)
		return kind_names[kind];
	return "?";
}

const char *store_transport_name(uint8_t transport)
{
	switch (transport) {
	case TRANSPORT_UDP:
		return "udp";
	case TRANSPORT_TCP:
		return "tcp";
	default:
		return "-";
	}
}

static const struct {
	uint32_t flag;
	const char *name;
} flag_names[] = {
    {EVF_EDNS, "edns"},
    {EVF_DO, "do"},
    {EVF_TC, "tc"},
    {EVF_RRL_SLIP, "rrl_slip"},
    {EVF_RRL_DROP, "rrl_drop"},
    {EVF_ECS, "ecs"},
    {EVF_MALFORMED, "malformed"},
    {EVF_COOKIE, "cookie"},
    {EVF_NSID, "nsid"},
    {EVF_TLS, "tls"},
    {EVF_BODY_TRUNCATED, "body_truncated"},
    {EVF_HEADERS_TRUNCATED, "headers_truncated"},
    {EVF_NOT_HTTP, "not_http"},
    {EVF_PROXIED, "proxied"},
    {EVF_HANDSHAKE_FAILED, "handshake_failed"},
    {EVF_TIMEOUT, "timeout"},
    {EVF_LIMITED, "limited"},
};

const char *store_flag_name(unsigned bit, char *buf, size_t len)
{
	for (size_t i = 0; bit < 32 && i < sizeof(flag_names) / sizeof(flag_names[0]); i++) {
		if (flag_names[i].flag == 1u << bit)
			return flag_names[i].name;
	}
	snprintf(buf, len, "bit%u", bit);
	return buf;
}

int store_flag_parse(const char *name, uint32_t *flag)
{
	for (size_t i = 0; i < sizeof(flag_names) / sizeof(flag_names[0]); i++) {
		if (strcmp(flag_names[i].name, name) == 0) {
			*flag = flag_names[i].flag;
			return 0;
		}
	}
	if (strncmp(name, "bit", 3) == 0 && name[3] >= '0' && name[3] <= '9') {
		char *end;
		unsigned long bit = strtoul(name + 3, &end, 10);
		if (*end == '\0' && bit < 32) {
			*flag = 1u << bit;
			return 0;
		}
	}
	return SINKD_EINVAL;
}

int store_type_parse(const char *text, uint8_t *kind, int *qtype)
{
	uint16_t num;
	*qtype = -1;
	for (uint8_t k = 0; k < sizeof(kind_names) / sizeof(kind_names[0]); k++) {
		if (kind_names[k] != NULL && strcasecmp(text, kind_names[k]) == 0) {
			*kind = k;
			return 0;
		}
	}
	if (knot_rrtype_from_string(text, &num) != 0)
		return SINKD_EINVAL;
	*kind = EVENT_DNS;
	*qtype = num;
	return 0;
}

const char *store_qtype_name(uint16_t qtype, char *buf, size_t len)
{
	if (knot_rrtype_to_string(qtype, buf, len) < 0)
		snprintf(buf, len, "TYPE%u", qtype);
	return buf;
}

const char *store_rcode_name(uint16_t rcode, char *buf, size_t len)
{
	const knot_lookup_t *l = knot_lookup_by_id(knot_rcode_names, rcode);
	if (l != NULL)
		snprintf(buf, len, "%s", l->name);
	else
		snprintf(buf, len, "RCODE%u", rcode);
	return buf;
}

/* Exactly n decimal digits. */
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

static int parse_ago(const char *text, uint64_t now_ns, uint64_t *out)
{
	char *end;
	unsigned long long n = strtoull(text, &end, 10);
	static const struct {
		char unit;
		uint64_t seconds;
	} units[] = {{'s', 1}, {'m', 60}, {'h', 3600}, {'d', 86400}, {'w', 604800}};
	if (end == text || !isdigit((unsigned char)text[0]) || end[0] == '\0' || end[1] != '\0')
		return SINKD_EINVAL;
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		if (units[i].unit != end[0])
			continue;
		if (n > now_ns / 1000000000ull / units[i].seconds)
			return SINKD_EINVAL;
		*out = now_ns - n * units[i].seconds * 1000000000ull;
		return 0;
	}
	return SINKD_EINVAL;
}

/* "[T|t| ]HH:MM[:SS[.frac]][Z|z|+hh:mm|-hh:mm]" after the date. */
static int parse_clock(const char *p, struct tm *tm, uint64_t *frac_ns, int64_t *offset_s)
{
	if (*p != 'T' && *p != 't' && *p != ' ')
		return SINKD_EINVAL;
	p++;
	if (!digits(&p, 2, &tm->tm_hour) || *p++ != ':' || !digits(&p, 2, &tm->tm_min))
		return SINKD_EINVAL;
	if (*p == ':') {
		p++;
		if (!digits(&p, 2, &tm->tm_sec))
			return SINKD_EINVAL;
		if (*p == '.') {
			uint64_t scale = 100000000ull;
			if (!isdigit((unsigned char)*++p))
				return SINKD_EINVAL;
			for (; isdigit((unsigned char)*p); p++, scale /= 10)
				*frac_ns += (uint64_t)(*p - '0') * scale;
		}
	}
	if (tm->tm_hour > 23 || tm->tm_min > 59 || tm->tm_sec > 60)
		return SINKD_EINVAL;
	if (*p == 'Z' || *p == 'z')
		return p[1] == '\0' ? 0 : SINKD_EINVAL;
	if (*p == '+' || *p == '-') {
		int sign = *p++ == '-' ? -1 : 1, oh, om;
		if (!digits(&p, 2, &oh) || *p++ != ':' || !digits(&p, 2, &om) || *p != '\0' ||
		    oh > 23 || om > 59)
			return SINKD_EINVAL;
		*offset_s = sign * (oh * 3600 + om * 60);
		return 0;
	}
	return *p == '\0' ? 0 : SINKD_EINVAL;
}

static int parse_absolute(const char *text, uint64_t *out)
{
	struct tm tm = {0};
	uint64_t frac_ns = 0;
	int64_t offset_s = 0;
	const char *p = text;
	if (!digits(&p, 4, &tm.tm_year) || *p++ != '-' || !digits(&p, 2, &tm.tm_mon) ||
	    *p++ != '-' || !digits(&p, 2, &tm.tm_mday))
		return SINKD_EINVAL;
	if (*p != '\0' && parse_clock(p, &tm, &frac_ns, &offset_s) != 0)
		return SINKD_EINVAL;
	int year = tm.tm_year, mon = tm.tm_mon, mday = tm.tm_mday;
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	time_t t = timegm(&tm);
	/* timegm normalises 2026-02-30 to March: reject instead. */
	if (t < 0 || tm.tm_year != year - 1900 || tm.tm_mon != mon - 1 || tm.tm_mday != mday)
		return SINKD_EINVAL;
	int64_t s = (int64_t)t - offset_s;
	if (s < 0)
		return SINKD_EINVAL;
	*out = (uint64_t)s * 1000000000ull + frac_ns;
	return 0;
}

int store_time_parse(const char *text, uint64_t now_ns, uint64_t *out_ns)
{
	if (text == NULL || text[0] == '\0')
		return SINKD_EINVAL;
	if (strcmp(text, "now") == 0) {
		*out_ns = now_ns;
		return 0;
	}
	if (strlen(text) >= 10 && text[4] == '-')
		return parse_absolute(text, out_ns);
	return parse_ago(text, now_ns, out_ns);
}
