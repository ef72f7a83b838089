/* ASN ranges from CSV files: "start,end,asn,org" per line, start and end
 * as numbers (the @ip-location-db *-num files: IPv4 as 32-bit, IPv6 as
 * 128-bit decimal) or as addresses ("1.0.0.0", "2001:db8::"). The org may
 * be quoted ("Cloudflare, Inc.") with "" for a quote. Ranges are kept in
 * two sorted arrays and found by binary search. */
#include "enrich/enrich_internal.h"

#include "core/error.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- organisation names ------------------------------------------------ */

static uint64_t name_hash(const char *s, size_t len)
{
	uint64_t h = 0xcbf29ce484222325ull;
	for (size_t i = 0; i < len; i++)
		h = (h ^ (uint8_t)s[i]) * 0x100000001b3ull;
	return h ^ (h >> 29);
}

static int orgs_grow(struct enrich_orgs *o)
{
	size_t n_slots = o->n_slots == 0 ? 4096 : o->n_slots * 2;
	uint32_t *slots = calloc(n_slots, sizeof(*slots));
	if (slots == NULL)
		return SINKD_ENOMEM;
	for (size_t i = 0; i < o->n; i++) {
		size_t j = name_hash(o->names[i], strlen(o->names[i])) & (n_slots - 1);
		while (slots[j] != 0)
			j = (j + 1) & (n_slots - 1);
		slots[j] = (uint32_t)i + 1;
	}
	free(o->slots);
	o->slots = slots;
	o->n_slots = n_slots;
	return 0;
}

int enrich_orgs_intern(struct enrich_orgs *o, const char *name, size_t len, uint32_t *idx)
{
	if ((o->n + 1) * 2 > o->n_slots && orgs_grow(o) != 0)
		return SINKD_ENOMEM;
	size_t j = name_hash(name, len) & (o->n_slots - 1);
	while (o->slots[j] != 0) {
		const char *s = o->names[o->slots[j] - 1];
		if (strncmp(s, name, len) == 0 && s[len] == '\0') {
			*idx = o->slots[j] - 1;
			return 0;
		}
		j = (j + 1) & (o->n_slots - 1);
	}
	if (o->n == o->cap) {
		size_t cap = o->cap == 0 ? 1024 : o->cap * 2;
		char **names = realloc(o->names, cap * sizeof(*names));
		if (names == NULL)
			return SINKD_ENOMEM;
		o->names = names;
		o->cap = cap;
	}
	char *copy = strndup(name, len);
	if (copy == NULL)
		return SINKD_ENOMEM;
	o->names[o->n] = copy;
	o->slots[j] = (uint32_t)o->n + 1;
	*idx = (uint32_t)o->n++;
	return 0;
}

void enrich_orgs_free(struct enrich_orgs *o)
{
	for (size_t i = 0; i < o->n; i++)
		free(o->names[i]);
	free(o->names);
	free(o->slots);
	memset(o, 0, sizeof(*o));
}

/* ---- parsing ------------------------------------------------------------ */

/* An address field: decimal (IPv4 when it fits 32 bits and *v6 is not
 * already implied, else IPv6) or text. Sets *is_v6. 0 or SINKD_EINVAL. */
static int parse_addr(const char *s, unsigned __int128 *out, int *is_v6)
{
	if (strchr(s, ':') != NULL) {
		struct in6_addr a6;
		if (inet_pton(AF_INET6, s, &a6) != 1)
			return SINKD_EINVAL;
		unsigned __int128 v = 0;
		for (int i = 0; i < 16; i++)
			v = (v << 8) | a6.s6_addr[i];
		*out = v;
		*is_v6 = 1;
		return 0;
	}
	if (strchr(s, '.') != NULL) {
		struct in_addr a4;
		if (inet_pton(AF_INET, s, &a4) != 1)
			return SINKD_EINVAL;
		*out = ntohl(a4.s_addr);
		*is_v6 = 0;
		return 0;
	}
	if (*s == '\0')
		return SINKD_EINVAL;
	unsigned __int128 v = 0;
	for (const char *p = s; *p != '\0'; p++) {
		if (!isdigit((unsigned char)*p))
			return SINKD_EINVAL;
		unsigned __int128 next = v * 10 + (unsigned)(*p - '0');
		if (next / 10 != v)
			return SINKD_EINVAL; /* overflow */
		v = next;
	}
	*out = v;
	*is_v6 = -1; /* decided by the file's other fields */
	return 0;
}

/* Split a CSV line into at most 4 fields in place; the 4th may be quoted.
 * Returns the number of fields. */
static int split_csv(char *line, char *f[4])
{
	int n = 0;
	char *p = line;
	while (n < 4) {
		if (*p == '"') {
			char *w = ++p;
			f[n++] = w;
			for (;;) {
				if (*p == '\0')
					return -1; /* unterminated quote */
				if (*p == '"' && p[1] == '"') {
					*w++ = '"';
					p += 2;
				} else if (*p == '"') {
					p++;
					break;
				} else {
					*w++ = *p++;
				}
			}
			*w = '\0';
			if (*p == ',')
				p++;
			else if (*p != '\0')
				return -1;
			else
				break;
		} else {
			f[n++] = p;
			char *c = strchr(p, ',');
			if (c == NULL || n == 4)
				break;
			*c = '\0';
			p = c + 1;
		}
	}
	return n;
}

static int push4(struct asn_table *t, uint32_t s, uint32_t e, uint32_t asn, uint32_t org)
{
	if (t->n4 == t->cap4) {
		size_t cap = t->cap4 == 0 ? 4096 : t->cap4 * 2;
		struct asn_range4 *v = realloc(t->v4, cap * sizeof(*v));
		if (v == NULL)
			return SINKD_ENOMEM;
		t->v4 = v;
		t->cap4 = cap;
	}
	t->v4[t->n4++] = (struct asn_range4){s, e, asn, org};
	return 0;
}

static int push6(struct asn_table *t, unsigned __int128 s, unsigned __int128 e, uint32_t asn,
		 uint32_t org)
{
	if (t->n6 == t->cap6) {
		size_t cap = t->cap6 == 0 ? 4096 : t->cap6 * 2;
		struct asn_range6 *v = realloc(t->v6, cap * sizeof(*v));
		if (v == NULL)
			return SINKD_ENOMEM;
		t->v6 = v;
		t->cap6 = cap;
	}
	t->v6[t->n6++] = (struct asn_range6){s, e, asn, org};
	return 0;
}

/* One line: 0, SINKD_EPARSE (message in err) or SINKD_ENOMEM. */
static int load_line(struct asn_table *t, struct enrich_orgs *orgs, char *line, char *err,
		     size_t errlen)
{
	char *f[4] = {0};
	int n = split_csv(line, f);
	if (n < 3) {
		snprintf(err, errlen, "expected start,end,asn[,org]");
		return SINKD_EPARSE;
	}
	unsigned __int128 s, e;
	int v6s, v6e;
	if (parse_addr(f[0], &s, &v6s) != 0 || parse_addr(f[1], &e, &v6e) != 0) {
		snprintf(err, errlen, "bad address '%s' or '%s'", f[0], f[1]);
		return SINKD_EPARSE;
	}
	char *end;
	unsigned long asn = strtoul(f[2], &end, 10);
	if (*f[2] == '\0' || *end != '\0' || asn > UINT32_MAX) {
		snprintf(err, errlen, "bad ASN '%s'", f[2]);
		return SINKD_EPARSE;
	}
	if (s > e) {
		snprintf(err, errlen, "range start after its end");
		return SINKD_EPARSE;
	}
	/* Numbers: IPv4 when both fit 32 bits (the -num files are one family
	 * each, and IPv6 ranges below 2^32 are not routable). */
	int v6 = v6s == 1 || v6e == 1 || (v6s == -1 && e > UINT32_MAX);
	uint32_t org = UINT32_MAX;
	if (n == 4 && f[3][0] != '\0' && enrich_orgs_intern(orgs, f[3], strlen(f[3]), &org) != 0)
		return SINKD_ENOMEM;
	if (v6)
		return push6(t, s, e, (uint32_t)asn, org);
	return push4(t, (uint32_t)s, (uint32_t)e, (uint32_t)asn, org);
}

int asn_table_load(struct asn_table *t, struct enrich_orgs *orgs, const char *path, char *err,
		   size_t errlen)
{
	FILE *f = fopen(path, "r");
	if (f == NULL) {
		snprintf(err, errlen, "%s: cannot open", path);
		return SINKD_EIO;
	}
	char *line = NULL, msg[256];
	size_t cap = 0;
	unsigned lineno = 0;
	int ret = 0;
	ssize_t len;
	while ((len = getline(&line, &cap, f)) >= 0) {
		lineno++;
		while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
			line[--len] = '\0';
		if (len == 0 || line[0] == '#')
			continue;
		ret = load_line(t, orgs, line, msg, sizeof(msg));
		if (ret == SINKD_EPARSE) {
			/* A header line is allowed as the first line. */
			if (lineno == 1 && !isdigit((unsigned char)line[0])) {
				ret = 0;
				continue;
			}
			snprintf(err, errlen, "%s:%u: %s", path, lineno, msg);
		}
		if (ret != 0)
			break;
	}
	free(line);
	fclose(f);
	return ret;
}

static int cmp4(const void *a, const void *b)
{
	const struct asn_range4 *x = a, *y = b;
	return (x->start > y->start) - (x->start < y->start);
}

static int cmp6(const void *a, const void *b)
{
	const struct asn_range6 *x = a, *y = b;
	return (x->start > y->start) - (x->start < y->start);
}

void asn_table_sort(struct asn_table *t)
{
	if (t->n4 > 1)
		qsort(t->v4, t->n4, sizeof(*t->v4), cmp4);
	if (t->n6 > 1)
		qsort(t->v6, t->n6, sizeof(*t->v6), cmp6);
}

void asn_table_free(struct asn_table *t)
{
	free(t->v4);
	free(t->v6);
	memset(t, 0, sizeof(*t));
}

static const uint8_t v4_mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

int asn_table_find(const struct asn_table *t, const uint8_t ip[16], uint32_t *asn, uint32_t *org)
{
	if (memcmp(ip, v4_mapped, 12) == 0) {
		uint32_t a = (uint32_t)ip[12] << 24 | (uint32_t)ip[13] << 16 |
			     (uint32_t)ip[14] << 8 | ip[15];
		size_t lo = 0, hi = t->n4; /* first range with start > a */
		while (lo < hi) {
			size_t mid = lo + (hi - lo) / 2;
			if (t->v4[mid].start <= a)
				lo = mid + 1;
			else
				hi = mid;
		}
		if (lo == 0 || t->v4[lo - 1].end < a)
			return SINKD_ENOENT;
		*asn = t->v4[lo - 1].asn;
		*org = t->v4[lo - 1].org;
		return 0;
	}
	unsigned __int128 a = 0;
	for (int i = 0; i < 16; i++)
		a = (a << 8) | ip[i];
	size_t lo = 0, hi = t->n6;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (t->v6[mid].start <= a)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == 0 || t->v6[lo - 1].end < a)
		return SINKD_ENOENT;
	*asn = t->v6[lo - 1].asn;
	*org = t->v6[lo - 1].org;
	return 0;
}
