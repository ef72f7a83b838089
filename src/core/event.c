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

#define SECTION_HDR 5 /* type byte + 32-bit length */

int event_payload_add(uint8_t *buf, size_t cap, uint32_t *used, uint8_t type, const void *data,
		      size_t len)
{
	if (*used > cap || cap - *used < SECTION_HDR || cap - *used - SECTION_HDR < len ||
	    len > UINT32_MAX)
		return SINKD_EFULL;
	uint8_t *p = buf + *used;
	uint32_t l = (uint32_t)len;
	p[0] = type;
	memcpy(p + 1, &l, sizeof(l));
	if (len > 0)
		memcpy(p + SECTION_HDR, data, len);
	*used += SECTION_HDR + l;
	return 0;
}

int event_payload_get(const struct sinkd_event *ev, uint8_t type, const uint8_t **data,
		      size_t *len)
{
	size_t off = 0;
	while (ev->payload != NULL && ev->payload_len - off >= SECTION_HDR) {
		uint32_t l;
		memcpy(&l, ev->payload + off + 1, sizeof(l));
		if (l > ev->payload_len - off - SECTION_HDR)
			break;
		if (ev->payload[off] == type) {
			*data = ev->payload + off + SECTION_HDR;
			*len = l;
			return 0;
		}
		off += SECTION_HDR + l;
	}
	return SINKD_ENOENT;
}
