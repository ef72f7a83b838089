#include "core/event.h"
#include "core/error.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>

static const uint8_t v4mapped_prefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

bool event_addr_is_v4(const struct event_addr *a)
{
	return memcmp(a->ip, v4mapped_prefix, sizeof(v4mapped_prefix)) == 0;
}

const char *event_addr_str(const struct event_addr *a, char *buf, unsigned len)
{
	if (event_addr_is_v4(a))
		inet_ntop(AF_INET, a->ip + 12, buf, len);
	else
		inet_ntop(AF_INET6, a->ip, buf, len);
	return buf;
}

void event_addr_from_sockaddr(struct event_addr *a, const struct sockaddr *sa)
{
	memset(a, 0, sizeof(*a));
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *s4 = (const struct sockaddr_in *)sa;
		memcpy(a->ip, v4mapped_prefix, sizeof(v4mapped_prefix));
		memcpy(a->ip + 12, &s4->sin_addr, 4);
		a->port = ntohs(s4->sin_port);
	} else if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)sa;
		memcpy(a->ip, &s6->sin6_addr, 16);
		a->port = ntohs(s6->sin6_port);
	}
}

int event_addr_parse(struct event_addr *a, const char *text)
{
	memset(a, 0, sizeof(*a));
	if (inet_pton(AF_INET, text, a->ip + 12) == 1) {
		memcpy(a->ip, v4mapped_prefix, sizeof(v4mapped_prefix));
		return 0;
	}
	if (inet_pton(AF_INET6, text, a->ip) == 1)
		return 0;
	return SINKD_EINVAL;
}
