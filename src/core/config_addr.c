#include <ctype.h>
#include "core/config.h"
#include "core/error.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

/* Strict decimal port 1..65535: digits only, no sign, no spaces. */
static int parse_port(const char *s, uint16_t *out)
{
	unsigned long v = 0;
	if (*s == '\0')
		return SINKD_EINVAL;
	for (; *s != '\0'; s++) {
		if (*s < '0' || *s > '9')
			return SINKD_EINVAL;
		v = v * 10 + (unsigned long)(*s - '0');
		if (v > 65535)
			return SINKD_EINVAL;
	}
	if (v == 0)
		return SINKD_EINVAL;
	*out = (uint16_t)v;
	return 0;
}

static int parse_v6_port(const char *text, struct config_sockaddr *out)
{
	const char *close = strchr(text, ']');
	char host[INET6_ADDRSTRLEN];
	size_t hlen = close != NULL ? (size_t)(close - text - 1) : 0;
	if (close == NULL || close[1] != ':' || hlen == 0 || hlen >= sizeof(host))
		return SINKD_EINVAL;
	memcpy(host, text + 1, hlen);
	host[hlen] = '\0';

	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&out->ss;
	uint16_t port;
	if (inet_pton(AF_INET6, host, &s6->sin6_addr) != 1 || parse_port(close + 2, &port) != 0)
		return SINKD_EINVAL;
	s6->sin6_family = AF_INET6;
	s6->sin6_port = htons(port);
	out->len = sizeof(*s6);
	return 0;
}

static int parse_v4_port(const char *text, struct config_sockaddr *out)
{
	const char *colon = strchr(text, ':');
	char host[INET_ADDRSTRLEN];
	size_t hlen = colon != NULL ? (size_t)(colon - text) : 0;
	if (colon == NULL || hlen == 0 || hlen >= sizeof(host))
		return SINKD_EINVAL;
	memcpy(host, text, hlen);
	host[hlen] = '\0';

	struct sockaddr_in *s4 = (struct sockaddr_in *)&out->ss;
	uint16_t port;
	if (inet_pton(AF_INET, host, &s4->sin_addr) != 1 || parse_port(colon + 1, &port) != 0)
		return SINKD_EINVAL;
	s4->sin_family = AF_INET;
	s4->sin_port = htons(port);
	out->len = sizeof(*s4);
	return 0;
}

int config_parse_sockaddr(const char *text, struct config_sockaddr *out)
{
	memset(out, 0, sizeof(*out));
	if (strlen(text) >= sizeof(out->text))
		return SINKD_EINVAL;
	int ret = text[0] == '[' ? parse_v6_port(text, out) : parse_v4_port(text, out);
	if (ret != 0) {
		memset(out, 0, sizeof(*out));
		return SINKD_EINVAL;
	}
	strcpy(out->text, text);
	return 0;
}

int config_parse_ipaddr(const char *text, struct config_ipaddr *out)
{
	memset(out, 0, sizeof(*out));
	if (strlen(text) >= sizeof(out->text))
		return SINKD_EINVAL;
	if (inet_pton(AF_INET, text, out->ip) == 1) {
		out->af = AF_INET;
	} else if (inet_pton(AF_INET6, text, out->ip) == 1) {
		out->af = AF_INET6;
	} else {
		memset(out, 0, sizeof(*out));
		return SINKD_EINVAL;
	}
	strcpy(out->text, text);
	return 0;
}

int config_parse_port_range(const char *text, struct config_port_range *out)
{
	memset(out, 0, sizeof(*out));
	if (strlen(text) >= sizeof(out->text))
		return SINKD_EINVAL;
	char first[72];
	strcpy(first, text);
	const char *colon = strrchr(first, ':');
	char *dash = colon != NULL ? strchr(colon, '-') : NULL;
	unsigned long last = 0;
	if (dash != NULL) {
		char *end;
		*dash = '\0';
		if (!isdigit((unsigned char)dash[1]))
			return SINKD_EINVAL;
		last = strtoul(dash + 1, &end, 10);
		if (*end != '\0' || last > 65535)
			return SINKD_EINVAL;
	}
	if (config_parse_sockaddr(first, &out->addr) != 0)
		return SINKD_EINVAL;
	uint16_t port = ntohs(out->addr.ss.ss_family == AF_INET
				      ? ((struct sockaddr_in *)&out->addr.ss)->sin_port
				      : ((struct sockaddr_in6 *)&out->addr.ss)->sin6_port);
	out->last = dash != NULL ? (uint16_t)last : port;
	if (out->last < port) {
		memset(out, 0, sizeof(*out));
		return SINKD_EINVAL;
	}
	strcpy(out->text, text);
	return 0;
}

int config_parse_server(const char *text, struct config_sockaddr *out)
{
	struct config_ipaddr ip;
	if (config_parse_sockaddr(text, out) == 0)
		return 0;
	if (config_parse_ipaddr(text, &ip) != 0)
		return SINKD_EINVAL;
	memset(out, 0, sizeof(*out));
	if (ip.af == AF_INET) {
		struct sockaddr_in *s4 = (struct sockaddr_in *)&out->ss;
		s4->sin_family = AF_INET;
		memcpy(&s4->sin_addr, ip.ip, 4);
		out->len = sizeof(*s4);
	} else {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&out->ss;
		s6->sin6_family = AF_INET6;
		memcpy(&s6->sin6_addr, ip.ip, 16);
		out->len = sizeof(*s6);
	}
	strcpy(out->text, text);
	return 0;
}

int config_parse_cidr(const char *text, struct config_cidr *out)
{
	memset(out, 0, sizeof(*out));
	if (strlen(text) >= sizeof(out->text))
		return SINKD_EINVAL;
	char addr[64];
	strcpy(addr, text);
	char *slash = strchr(addr, '/');
	unsigned long prefix = 0;
	if (slash != NULL) {
		char *end;
		*slash = '\0';
		if (!isdigit((unsigned char)slash[1]))
			return SINKD_EINVAL;
		prefix = strtoul(slash + 1, &end, 10);
		if (*end != '\0')
			return SINKD_EINVAL;
	}
	uint8_t ip[16];
	size_t bits;
	if (inet_pton(AF_INET, addr, ip) == 1)
		bits = 32;
	else if (inet_pton(AF_INET6, addr, ip) == 1)
		bits = 128;
	else
		return SINKD_EINVAL;
	if (slash == NULL)
		prefix = bits;
	if (prefix > bits)
		return SINKD_EINVAL;
	for (size_t b = prefix; b < bits; b++) {
		if (ip[b / 8] & (0x80 >> (b % 8)))
			return SINKD_EINVAL; /* host bits set beyond the prefix */
	}
	strcpy(out->text, text);
	return 0;
}

bool config_sockaddr_is_loopback(const struct config_sockaddr *sa)
{
	if (sa->ss.ss_family == AF_INET) {
		const struct sockaddr_in *in = (const struct sockaddr_in *)&sa->ss;
		return (ntohl(in->sin_addr.s_addr) >> 24) == 127;
	}
	if (sa->ss.ss_family == AF_INET6) {
		const struct in6_addr *a = &((const struct sockaddr_in6 *)&sa->ss)->sin6_addr;
		if (IN6_IS_ADDR_LOOPBACK(a))
			return true;
		return IN6_IS_ADDR_V4MAPPED(a) && a->s6_addr[12] == 127;
	}
	return false;
}
