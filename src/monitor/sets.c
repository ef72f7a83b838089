/* Address, name and server sets; the growable text buffer and JSON strings. */
#include "monitor/monitor_internal.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int ip_cmp(const struct mon_ip *a, const struct mon_ip *b)
{
	if (a->af != b->af)
		return a->af == AF_INET ? -1 : 1;
	return memcmp(a->b, b->b, a->af == AF_INET ? 4 : 16);
}

void mon_ipset_add(struct mon_ipset *set, const struct mon_ip *ip)
{
	unsigned i = 0;
	while (i < set->n && ip_cmp(&set->ip[i], ip) < 0)
		i++;
	if (i < set->n && ip_cmp(&set->ip[i], ip) == 0)
		return;
	if (set->n == MON_MAX_IPS) {
		set->truncated = true;
		return;
	}
	memmove(&set->ip[i + 1], &set->ip[i], (set->n - i) * sizeof(set->ip[0]));
	memset(&set->ip[i], 0, sizeof(set->ip[i]));
	set->ip[i].af = ip->af;
	memcpy(set->ip[i].b, ip->b, ip->af == AF_INET ? 4 : 16);
	set->n++;
}

bool mon_ipset_equal(const struct mon_ipset *a, const struct mon_ipset *b)
{
	if (a->n != b->n)
		return false;
	for (unsigned i = 0; i < a->n; i++) {
		if (ip_cmp(&a->ip[i], &b->ip[i]) != 0)
			return false;
	}
	return true;
}

bool mon_ipset_has(const struct mon_ipset *set, const struct mon_ip *ip)
{
	for (unsigned i = 0; i < set->n; i++) {
		if (ip_cmp(&set->ip[i], ip) == 0)
			return true;
	}
	return false;
}

void mon_ipset_family(const struct mon_ipset *set, int af, struct mon_ipset *out)
{
	memset(out, 0, sizeof(*out));
	for (unsigned i = 0; i < set->n; i++) {
		if (set->ip[i].af == af)
			mon_ipset_add(out, &set->ip[i]);
	}
}

const char *mon_ip_text(const struct mon_ip *ip, char *buf, size_t len)
{
	if (ip->af != AF_INET && ip->af != AF_INET6) {
		snprintf(buf, len, "-");
		return buf;
	}
	if (inet_ntop(ip->af, ip->b, buf, (socklen_t)len) == NULL)
		snprintf(buf, len, "?");
	return buf;
}

const char *mon_ipset_text(const struct mon_ipset *set, char *buf, size_t len)
{
	size_t used = 0;
	buf[0] = '\0';
	if (set->n == 0)
		snprintf(buf, len, "none");
	for (unsigned i = 0; i < set->n && used < len; i++) {
		char one[INET6_ADDRSTRLEN];
		int w = snprintf(buf + used, len - used, "%s%s", i ? ", " : "",
				 mon_ip_text(&set->ip[i], one, sizeof(one)));
		used += w > 0 ? (size_t)w : 0;
	}
	return buf;
}

void mon_ip_from_config(const struct config_ipaddr *in, struct mon_ip *out)
{
	memset(out, 0, sizeof(*out));
	out->af = in->af;
	memcpy(out->b, in->ip, in->af == AF_INET ? 4 : 16);
}

/* Lowercase absolute form of name into out (MON_NAME_MAX). */
static void name_canon(const char *name, char *out)
{
	size_t n = strlen(name);
	if (n > MON_NAME_MAX - 2)
		n = MON_NAME_MAX - 2;
	for (size_t i = 0; i < n; i++)
		out[i] = (char)tolower((unsigned char)name[i]);
	if (n == 0 || out[n - 1] != '.')
		out[n++] = '.';
	out[n] = '\0';
}

void mon_nameset_add(struct mon_nameset *set, const char *name)
{
	char canon[MON_NAME_MAX];
	name_canon(name, canon);
	unsigned i = 0;
	while (i < set->n && strcmp(set->name[i], canon) < 0)
		i++;
	if (i < set->n && strcmp(set->name[i], canon) == 0)
		return;
	if (set->n == MON_MAX_NAMES) {
		set->truncated = true;
		return;
	}
	memmove(set->name[i + 1], set->name[i], (set->n - i) * sizeof(set->name[0]));
	memcpy(set->name[i], canon, sizeof(canon));
	set->n++;
}

bool mon_nameset_has(const struct mon_nameset *set, const char *name)
{
	char canon[MON_NAME_MAX];
	name_canon(name, canon);
	for (unsigned i = 0; i < set->n; i++) {
		if (strcmp(set->name[i], canon) == 0)
			return true;
	}
	return false;
}

bool mon_nameset_equal(const struct mon_nameset *a, const struct mon_nameset *b)
{
	if (a->n != b->n)
		return false;
	for (unsigned i = 0; i < a->n; i++) {
		if (strcmp(a->name[i], b->name[i]) != 0)
			return false;
	}
	return true;
}

const char *mon_nameset_text(const struct mon_nameset *set, char *buf, size_t len)
{
	size_t used = 0;
	buf[0] = '\0';
	if (set->n == 0)
		snprintf(buf, len, "none");
	for (unsigned i = 0; i < set->n && used < len; i++) {
		int w = snprintf(buf + used, len - used, "%s%s", i ? ", " : "", set->name[i]);
		used += w > 0 ? (size_t)w : 0;
	}
	return buf;
}

void mon_server_from_ip(const struct mon_ip *ip, uint16_t port, struct mon_server *out)
{
	memset(out, 0, sizeof(*out));
	if (ip->af == AF_INET) {
		struct sockaddr_in *s4 = (struct sockaddr_in *)&out->ss;
		s4->sin_family = AF_INET;
		s4->sin_port = htons(port);
		memcpy(&s4->sin_addr, ip->b, 4);
		out->len = sizeof(*s4);
	} else {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&out->ss;
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons(port);
		memcpy(&s6->sin6_addr, ip->b, 16);
		out->len = sizeof(*s6);
	}
}

void mon_server_from_config(const struct config_sockaddr *in, uint16_t dflt, struct mon_server *out)
{
	memset(out, 0, sizeof(*out));
	memcpy(&out->ss, &in->ss, in->len);
	out->len = in->len;
	if (out->ss.ss_family == AF_INET) {
		struct sockaddr_in *s4 = (struct sockaddr_in *)&out->ss;
		if (s4->sin_port == 0)
			s4->sin_port = htons(dflt);
	} else {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&out->ss;
		if (s6->sin6_port == 0)
			s6->sin6_port = htons(dflt);
	}
}

void mon_srvset_add(struct mon_srvset *set, const struct mon_server *s)
{
	for (unsigned i = 0; i < set->n; i++) {
		if (set->s[i].len == s->len && memcmp(&set->s[i].ss, &s->ss, s->len) == 0)
			return;
	}
	if (set->n < MON_MAX_SERVERS)
		set->s[set->n++] = *s;
}

/* ---- text buffer ----------------------------------------------------------- */

static bool buf_reserve(struct mon_buf *b, size_t more)
{
	if (b->failed)
		return false;
	if (b->len + more + 1 <= b->cap)
		return true;
	size_t cap = b->cap ? b->cap : 256;
	while (cap < b->len + more + 1)
		cap *= 2;
	char *p = realloc(b->p, cap);
	if (p == NULL) {
		b->failed = true;
		return false;
	}
	b->p = p;
	b->cap = cap;
	return true;
}

void mon_buf_put(struct mon_buf *b, const char *s, size_t n)
{
	if (!buf_reserve(b, n))
		return;
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

void mon_buf_printf(struct mon_buf *b, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0 || !buf_reserve(b, (size_t)n))
		return;
	va_start(ap, fmt);
	vsnprintf(b->p + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
}

void mon_buf_json_str(struct mon_buf *b, const char *s)
{
	mon_buf_put(b, "\"", 1);
	for (const unsigned char *p = (const unsigned char *)s; *p != '\0'; p++) {
		if (*p == '"' || *p == '\\') {
			char esc[2] = {'\\', (char)*p};
			mon_buf_put(b, esc, 2);
		} else if (*p < 0x20 || *p >= 0x7f) {
			mon_buf_printf(b, "\\u%04x", *p);
		} else {
			mon_buf_put(b, (const char *)p, 1);
		}
	}
	mon_buf_put(b, "\"", 1);
}

void mon_buf_free(struct mon_buf *b)
{
	free(b->p);
	memset(b, 0, sizeof(*b));
}
