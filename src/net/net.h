/* Socket plumbing shared by every listener: binding (SO_REUSEPORT groups,
 * with a check that no other process already holds the address), local
 * address reporting, privilege drop. */
#ifndef SINKD_NET_NET_H
#define SINKD_NET_NET_H

#include <stdbool.h>
#include <sys/socket.h>

#include "core/config.h"

enum net_proto { NET_UDP = 0, NET_TCP = 1 };

/* Fail with a clear log line if another process already listens on addr
 * (bind without SO_REUSEPORT on a probe socket). 0 or SINKD_ENET. */
int net_check_free(const struct config_sockaddr *addr, enum net_proto proto);

/* Create a non-blocking socket bound to addr with SO_REUSEPORT (so each
 * worker gets its own), listening when TCP. UDP sockets get packet-info
 * options so replies leave from the address the query arrived on. Returns
 * the fd, or SINKD_ENET with a log line naming the address and errno. */
int net_bind(const struct config_sockaddr *addr, enum net_proto proto);

/* Drop root to `user` (setgroups, setgid, setuid) when running as root and
 * user is not empty. 0 or SINKD_EINVAL (unknown user) / SINKD_EIO. */
int net_drop_privileges(const char *user);

/* ---- PROXY protocol, trusted-proxy CIDRs, first-bytes sniffing ----------
 * Pure parsers over caller-owned bytes (src/net/proxy.c, src/net/sniff.c):
 * no allocation, no global state, safe from any thread. */

#include <stddef.h>
#include <stdint.h>

/* A listener's read buffer of this size always holds a whole header that
 * proxy_parse() can accept: v1 lines are at most 107 bytes, and v2 headers
 * (16 bytes + addresses + TLVs) longer than this are rejected. */
#define PROXY_HDR_MAX 2048
#define PROXY_V1_MAX 107

#define PROXY_AUTHORITY_MAX 256	/* PP2_TYPE_AUTHORITY (SNI/host), NUL incl. */
#define PROXY_ALPN_MAX 32	/* PP2_TYPE_ALPN bytes */
#define PROXY_UNIQUE_ID_MAX 128	/* PP2_TYPE_UNIQUE_ID bytes (spec maximum) */
#define PROXY_SSL_TEXT_MAX 64	/* SSL version / cipher / client CN, NUL incl. */

enum proxy_command { PROXY_CMD_LOCAL = 0, PROXY_CMD_PROXY = 1 };

/* For AF_UNIX, TCP means SOCK_STREAM and UDP means SOCK_DGRAM. */
enum proxy_transport {
	PROXY_TRANSPORT_UNSPEC = 0,
	PROXY_TRANSPORT_TCP = 1,
	PROXY_TRANSPORT_UDP = 2,
};

/* Bits of proxy_info.tlv: which v2 TLVs were present. */
enum proxy_tlv_flag {
	PROXY_TLV_ALPN = 1 << 0,
	PROXY_TLV_AUTHORITY = 1 << 1,
	PROXY_TLV_CRC32C = 1 << 2,	/* present and verified */
	PROXY_TLV_UNIQUE_ID = 1 << 3,
	PROXY_TLV_SSL = 1 << 4,		/* ssl_client/ssl_verify valid */
	PROXY_TLV_SSL_VERSION = 1 << 5,
	PROXY_TLV_SSL_CIPHER = 1 << 6,
	PROXY_TLV_SSL_CN = 1 << 7,
	PROXY_TLV_OTHER = 1 << 8,	/* NOOP, NETNS, custom, unknown: skipped */
	PROXY_TLV_TRUNCATED = 1 << 9,	/* a value was cut to its buffer */
};

/* What a PROXY header said. A plain value that owns no memory. */
struct proxy_info {
	uint8_t version;	/* 1 or 2 */
	uint8_t command;	/* enum proxy_command (v1: always PROXY) */
	uint8_t transport;	/* enum proxy_transport */
	uint8_t family;		/* announced: AF_UNSPEC, AF_INET, AF_INET6, AF_UNIX */
	/* True when src/dst hold the original AF_INET/AF_INET6 endpoints
	 * (ports in network order, as in any sockaddr). False for LOCAL,
	 * UNKNOWN, UNSPEC and AF_UNIX: the caller keeps the socket's own. */
	bool has_addr;
	struct sockaddr_storage src;
	struct sockaddr_storage dst;
	/* Static text: why the header was rejected (SINKD_EMALF) or that it is
	 * incomplete (SINKD_EAGAIN); NULL on success. Never freed. */
	const char *error;

	/* v2 TLVs (all zero for v1). Strings are NUL-terminated copies of the
	 * wire bytes, cut to their buffers (PROXY_TLV_TRUNCATED). */
	uint32_t tlv;		/* enum proxy_tlv_flag */
	uint8_t ssl_client;	/* PP2_CLIENT_SSL 0x01 | CERT_CONN 0x02 | CERT_SESS 0x04 */
	uint32_t ssl_verify;	/* 0 = client certificate verified */
	uint8_t alpn_len;
	uint8_t unique_id_len;
	uint8_t alpn[PROXY_ALPN_MAX];
	uint8_t unique_id[PROXY_UNIQUE_ID_MAX];
	char authority[PROXY_AUTHORITY_MAX];
	char ssl_version[PROXY_SSL_TEXT_MAX];
	char ssl_cipher[PROXY_SSL_TEXT_MAX];
	char ssl_cn[PROXY_SSL_TEXT_MAX];
};

/* Parse a PROXY protocol v1 or v2 header at the start of buf (the first
 * bytes of a TCP connection, or a whole UDP datagram for v2).
 * Returns:
 *   0            complete valid header; *consumed = its length, which the
 *                caller strips (the payload starts at buf + *consumed);
 *   SINKD_EAGAIN buf is a valid prefix but incomplete: read more (never
 *                for >= PROXY_HDR_MAX bytes). On UDP this means truncated:
 *                treat it as malformed;
 *   SINKD_EMALF  not a valid header (out->error says why): close and count.
 * v1 is strict: single spaces, addresses as inet_pton accepts them, decimal
 * ports 0..65535 without sign or leading zero, CRLF within 107 bytes;
 * "UNKNOWN" ignores the rest of its line. v2 rejects a version other than 2,
 * unknown commands, families and protocols, address blocks shorter than
 * their family needs, TLVs that overrun the header, and a CRC32C TLV that
 * does not match. out is fully overwritten; *consumed is set only on 0. */
int proxy_parse(const uint8_t *buf, size_t len, struct proxy_info *out, size_t *consumed);

/* CRC32c (Castagnoli, as in RFC 4960 appendix B) of len bytes. */
uint32_t proxy_crc32c(const uint8_t *buf, size_t len);

/* An IPv4 or IPv6 network. */
struct net_cidr {
	int af;			/* AF_INET or AF_INET6 */
	uint8_t addr[16];	/* network order; 4 bytes used for AF_INET */
	unsigned prefix;	/* 0..32 or 0..128 */
};

/* Parse "10.0.0.0/8", "2001:db8::/32", or a bare address (= /32, /128).
 * Returns 0, SINKD_EINVAL (not an address, bad prefix syntax, or host bits
 * set beyond the prefix, e.g. "10.1.0.0/8") or SINKD_ERANGE (prefix larger
 * than 32 or 128). */
int net_cidr_parse(const char *text, struct net_cidr *out);

/* True when addr (AF_INET or AF_INET6; an IPv4-mapped IPv6 address counts as
 * IPv4) falls in cidr. */
bool net_cidr_match(const struct net_cidr *cidr, const struct sockaddr_storage *addr);

/* True when peer is in any of the n trusted proxy networks; the only peers
 * whose PROXY header may be believed. False for n == 0. */
bool proxy_trusted(const struct sockaddr_storage *peer, const struct net_cidr *trusted, size_t n);

/* What the first bytes of a connection or datagram look like. */
enum net_proto_guess {
	NET_SNIFF_NEED_MORE = 0,	/* too few bytes to decide ("need-more") */
	NET_SNIFF_UNKNOWN,		/* "unknown": no bytes at all */
	NET_SNIFF_TEXT,			/* "text": printable ASCII, no known protocol */
	NET_SNIFF_BINARY,		/* "binary": anything else */
	NET_SNIFF_HTTP,			/* "http": HTTP/1.x request line */
	NET_SNIFF_HTTP2,		/* "http2": "PRI * HTTP/2.0" preface */
	NET_SNIFF_TLS,			/* "tls": TLS handshake record, ClientHello */
	NET_SNIFF_SSLV2,		/* "sslv2": SSLv2-format ClientHello */
	NET_SNIFF_DNS,			/* "dns": query, TCP (length-prefixed) or UDP form */
	NET_SNIFF_PROXY_V1,		/* "proxy-v1" */
	NET_SNIFF_PROXY_V2,		/* "proxy-v2" */
	NET_SNIFF_SSH,			/* "ssh": "SSH-2.0-" / "SSH-1.x-" banner */
	NET_SNIFF_SMTP,			/* "smtp": EHLO/HELO */
	NET_SNIFF_IRC,			/* "irc": NICK/USER/PASS/CAP */
	NET_SNIFF_SOCKS4,		/* "socks4": SOCKS4/4a request */
	NET_SNIFF_SOCKS5,		/* "socks5": SOCKS5 method greeting */
	NET_SNIFF_RDP,			/* "rdp": TPKT + X.224 connection request */
	NET_SNIFF_SMB,			/* "smb": NetBIOS session + SMB1/SMB2 */
	NET_SNIFF_REDIS,		/* "redis": RESP array of bulk strings */
	NET_SNIFF_COUNT
};

/* Guess the protocol from the first len bytes a client sent. Returns
 * NET_SNIFF_NEED_MORE while the bytes are a prefix of a known signature or
 * fewer than 3, so a TCP listener can wait briefly for more; after that
 * wait (or for a datagram) call net_sniff_final(). *label (may be NULL) gets
 * the stable short label of the result (static text). */
enum net_proto_guess net_sniff(const uint8_t *buf, size_t len, const char **label);

/* As net_sniff() for input that will not grow (a datagram, or a TCP client
 * that went quiet): never returns NET_SNIFF_NEED_MORE. */
enum net_proto_guess net_sniff_final(const uint8_t *buf, size_t len, const char **label);

/* Static label of a guess ("http", "tls", ...; "unknown" when out of range). */
const char *net_sniff_label(enum net_proto_guess guess);

#endif
