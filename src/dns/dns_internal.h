/* Private to src/dns/: the answer data layout shared by data.c and
 * answer.c, and the RRL check. Not part of the module interface. */
#ifndef SINKD_DNS_INTERNAL_H
#define SINKD_DNS_INTERNAL_H

#include <libknot/libknot.h>

#include "dns/dns.h"

/* A configured name: absolute wire name, or relative labels (no root
 * byte) to be joined with each seized zone. */
struct dns_name {
	uint8_t wire[KNOT_DNAME_MAXLEN];
	size_t len;
	bool relative;
};

struct dns_data {
	struct sinkd_config cfg;
	struct domain_registry *reg;
	knot_rdataset_t a, aaaa;	/* sinkhole addresses */
	knot_rdataset_t ns_a, ns_aaaa;	/* glue for in-zone NS names */
	struct dns_name ns[CONFIG_MAX_NS];
	unsigned n_ns;
	struct dns_name mx;		/* len 0: no MX */
	struct dns_name rname;
	uint32_t serial;
};

enum dns_rrl_class {
	RRL_ANSWER = 0,
	RRL_NODATA = 1,
	RRL_ERROR = 2,
	RRL_REFUSED = 3,
};

enum dns_rrl_action {
	RRL_PASS = 0,
	RRL_SLIP = 1,
	RRL_DROP = 2,
};

/* Account one UDP response and decide what to do with it. Lock-free:
 * buckets are 64-bit atomics shared by every worker. */
enum dns_rrl_action dns_rrl_check(struct dns_rrl *rrl, const struct sockaddr_storage *src,
				  enum dns_rrl_class cls, long zone, uint32_t now_s);

/* Write name (absolute, or relative joined with zone) into dst (at least
 * KNOT_DNAME_MAXLEN bytes). Returns dst or NULL if it would be too long. */
uint8_t *dns_name_resolve(const struct dns_name *name, const uint8_t *zone, uint8_t *dst);

#endif
