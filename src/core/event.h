/* The fixed-size event record every listener produces.
 *
 * One struct for all listeners (DNS now; HTTP, TLS, raw later). Records are
 * copied by value into per-worker rings; they own no memory. Strings are
 * NUL-terminated and truncated to their buffers; a truncation sets a flag.
 */
#ifndef SINKD_CORE_EVENT_H
#define SINKD_CORE_EVENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum event_kind {
	EVENT_DNS = 1,
	EVENT_HTTP = 2,
	EVENT_TLS = 3,
	EVENT_RAW = 4,
};

enum event_transport {
	TRANSPORT_UDP = 1,
	TRANSPORT_TCP = 2,
};

/* Flags on a DNS event. */
enum event_flag {
	EVF_EDNS = 1 << 0,	/* query carried an OPT record */
	EVF_DO = 1 << 1,	/* DNSSEC OK bit set */
	EVF_TC = 1 << 2,	/* answer was truncated (TC=1) */
	EVF_RRL_SLIP = 1 << 3,	/* rate limited: answered with TC=1 (slip) */
	EVF_RRL_DROP = 1 << 4,	/* rate limited: not answered */
	EVF_ECS = 1 << 5,	/* EDNS client subnet present (ecs_* valid) */
	EVF_MALFORMED = 1 << 6,	/* query could not be parsed */
	EVF_COOKIE = 1 << 7,	/* DNS COOKIE present */
	EVF_NSID = 1 << 8,	/* NSID requested */
	/* Connection listeners (HTTP, TLS, raw) */
	EVF_TLS = 1 << 9,		/* HTTP carried inside TLS */
	EVF_BODY_TRUNCATED = 1 << 10,	/* body longer than the capture bound */
	EVF_HEADERS_TRUNCATED = 1 << 11,	/* header block longer than stored */
	EVF_NOT_HTTP = 1 << 12,		/* bytes on an HTTP port that are not HTTP */
	EVF_PROXIED = 1 << 13,		/* source taken from a trusted PROXY header */
	EVF_HANDSHAKE_FAILED = 1 << 14,	/* TLS: ClientHello seen, handshake failed */
	EVF_TIMEOUT = 1 << 15,		/* connection timed out before completion */
	EVF_LIMITED = 1 << 16,		/* a size or rate limit answered (431, 413, ...) */
};

/* Payload sections: variable-length data (request target, headers, body,
 * first bytes, TLS fingerprints) carried after the fixed record as
 * type-length-value items. Lengths are host order: payloads never leave the
 * process in this form. */
enum event_payload_type {
	EVP_TARGET = 1,		/* HTTP request target, as received */
	EVP_HEADERS = 2,	/* "Name: value\r\n" lines in order */
	EVP_BODY = 3,		/* body bytes (bounded; see body_len) */
	EVP_RAW = 4,		/* first bytes of a connection or datagram */
	EVP_USER_AGENT = 5,
	EVP_REFERER = 6,
	EVP_TLS_JA3 = 7,	/* JA3 string */
	EVP_TLS_JA3_MD5 = 8,
	EVP_TLS_JA4 = 9,
	EVP_TLS_HELLO = 10,	/* ClientHello summary, JSON text */
};

#define EVENT_PAYLOAD_MAX (128 * 1024)	/* bound on all sections of one event */

#define EVENT_QNAME_MAX 256	/* presentation form, without trailing dot */
#define EVENT_LABEL_MAX 32	/* family, tag, message type */
#define EVENT_BOTID_MAX 72

/* An address: IPv4 is stored as an IPv4-mapped IPv6 address. */
struct event_addr {
	uint8_t ip[16];
	uint16_t port;
};

struct sinkd_event {
	uint64_t ts_ns;		/* wall clock, ns since the Unix epoch */
	uint8_t kind;		/* enum event_kind */
	uint8_t transport;	/* enum event_transport */
	uint32_t flags;		/* enum event_flag */
	uint16_t worker;	/* listener worker index */
	struct event_addr src;
	struct event_addr dst;

	/* DNS */
	uint16_t qtype;
	uint16_t qclass;
	uint16_t rcode;		/* response code sent (extended rcode included) */
	uint16_t msg_size;	/* query size in bytes */
	uint8_t ecs_family;	/* 1 = IPv4, 2 = IPv6 (IANA address family) */
	uint8_t ecs_source_prefix;
	uint8_t ecs_addr[16];
	/* Full query name, lowercase presentation form without the final dot
	 * ("" for the root or when unparseable). */
	char qname[EVENT_QNAME_MAX];
	/* Seized zone the name falls under ("" when none). */
	char zone[EVENT_QNAME_MAX];

	/* Filled by classification (src/classify) in the pipeline thread:
	 * "" until classified; family "unknown" when no rule matched. */
	char family[EVENT_LABEL_MAX];
	char rule_id[EVENT_LABEL_MAX];	/* id of the rule that matched */
	char tag[EVENT_LABEL_MAX];
	uint8_t severity;		/* 0 none .. 4 critical, from the rule */
	/* Filled by the rule's decoder, when it ran. */
	char msg_type[EVENT_LABEL_MAX];	/* "getkey", "notify", "type 0x07" */
	char proto_version[EVENT_LABEL_MAX];
	char bot_id[EVENT_BOTID_MAX];	/* "" when the protocol gave none */
	char decode_status[EVENT_LABEL_MAX];	/* "ok", "no-key", "bad-base64", ... */
	/* Filled by enrichment (src/enrich) in the pipeline thread. */
	char country[4];		/* ISO 3166 alpha-2, "" unknown */
	uint32_t asn;			/* 0 unknown */

	/* Connection listeners (HTTP, TLS, raw). qname holds the name asked
	 * for (Host, SNI), zone the seized zone it falls under. */
	uint64_t conn_id;	/* requests on one connection share it */
	struct event_addr proxy;	/* the proxy's address when EVF_PROXIED */
	char http_method[16];
	uint8_t http_version;	/* 10 or 11 */
	uint16_t http_status;	/* status we answered (0: none sent) */
	uint32_t body_len;	/* true body length received */
	char proto[16];		/* sniffed protocol on catch-all ports */

	/* Payload: payload_len bytes of sections (see event_payload_*). In a
	 * ring they follow the record; elsewhere `payload` points at them. */
	uint32_t payload_len;
	const uint8_t *payload;
};

/* Append one section to a payload buffer of cap bytes holding *used.
 * Returns 0, or SINKD_EFULL (nothing written) when it does not fit. */
int event_payload_add(uint8_t *buf, size_t cap, uint32_t *used, uint8_t type, const void *data,
		      size_t len);

/* Find the first section of a type in ev's payload: 0 and (*data, *len),
 * or SINKD_ENOENT. */
int event_payload_get(const struct sinkd_event *ev, uint8_t type, const uint8_t **data,
		      size_t *len);

/* Render an event address as text ("192.0.2.1" or "2001:db8::1").
 * buf must hold at least 46 bytes. Returns buf. */
const char *event_addr_str(const struct event_addr *a, char *buf, unsigned len);

/* True when the address is an IPv4-mapped address. */
bool event_addr_is_v4(const struct event_addr *a);

/* Fill an event_addr from a sockaddr (AF_INET or AF_INET6). */
struct sockaddr;
void event_addr_from_sockaddr(struct event_addr *a, const struct sockaddr *sa);

/* Parse text ("192.0.2.1" or "2001:db8::1") into an event address with
 * port 0. Returns 0 or SINKD_EINVAL. */
int event_addr_parse(struct event_addr *a, const char *text);

#endif
