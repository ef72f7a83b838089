/* `sinkd sim`: a simulated botnet calling home, with a ground truth
 * (docs/sim.md).
 *
 * A population of bots (family, id, version, schedule, address behaviour,
 * lifetime) is drawn from a seed; every random choice comes from a stream
 * keyed by (seed, bot, day, check-in), so a run is the same whatever is
 * asked of it. Its check-ins are either sent through the sinkhole's real
 * listeners (live: DNS, then HTTP or TLS, with PROXY v2 source addresses)
 * or written with simulated timestamps as ingest lines (compressed). The
 * ground truth is what was emitted: bots alive per day, their addresses,
 * NAT groups and the tally of check-ins by family and message type.
 */
#ifndef SINKD_SIM_SIM_H
#define SINKD_SIM_SIM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "core/event.h"

enum sim_family { SIM_WALEDAC, SIM_KELIHOS, SIM_GENERIC, SIM_UNKNOWN, SIM_FAMILIES };

/* How a bot's source address behaves. */
enum sim_addr_kind {
	SIM_ADDR_DHCP, /* IPv4 of its own; new one on a day with probability churn */
	SIM_ADDR_NAT,  /* IPv4 shared with the rest of its NAT group, static */
	SIM_ADDR_IPV6, /* a /64 of its own, new interface id every day */
};

struct sim_params {
	unsigned bots; /* population size */
	unsigned days; /* simulated days */
	uint64_t seed;
	double mix[SIM_FAMILIES]; /* weights, normalised */
	unsigned interval_s;	  /* mean time between check-ins */
	double jitter;		  /* each interval varies by +-jitter/2 of itself */
	double diurnal;		  /* 0 flat .. 1: at local 08:00 no check-ins */
	double churn;		  /* daily probability of a new DHCP address */
	double nat_fraction;	  /* bots behind shared NAT addresses */
	unsigned nat_group;	  /* bots per NAT address */
	double ipv6_fraction;	  /* bots on IPv6 */
	double half_life_days;	  /* cleanup: 0 = bots never disappear */
	double tls_fraction;	  /* generic and unknown bots that use HTTPS */
	uint64_t start_ns;	  /* midnight UTC of day 0 */
};

/* Fill p with the documented defaults (docs/sim.md). */
void sim_params_defaults(struct sim_params *p);

/* Parse "waledac=0.6,kelihos=0.2,generic=0.2" into p->mix (families not
 * named get 0). 0 or SINKD_EINVAL with a reason in err. */
int sim_mix_parse(const char *text, struct sim_params *p, char *err, size_t errlen);

const char *sim_family_name(enum sim_family f);

/* ---- real address space ---------------------------------------------------- */

/* Announced ranges with their ASN (the @ip-location-db asn CSVs) and the
 * country database (geo-whois-asn-country.mmdb, libmaxminddb). */
struct sim_prefixes;

/* Load both CSVs (start,end,asn,org; IPv6 as decimal integers) and open
 * the mmdb. 0, or SINKD_EIO / SINKD_EPARSE with "PATH: reason" or
 * "PATH:LINE: reason" in err. */
int sim_prefixes_load(struct sim_prefixes **out, const char *v4_csv, const char *v6_csv,
		      const char *mmdb, char *err, size_t errlen);
void sim_prefixes_free(struct sim_prefixes *px);

/* Country (ISO alpha-2, "" unknown) and ASN (0 unknown) of an address. */
void sim_prefixes_lookup(const struct sim_prefixes *px, const struct event_addr *a, char country[4],
			 uint32_t *asn);

/* ---- the population -------------------------------------------------------- */

struct sim_bot {
	char id[33];	   /* 32 lowercase hex: the id the protocol carries */
	uint8_t family;	   /* enum sim_family */
	uint8_t addr_kind; /* enum sim_addr_kind */
	uint8_t compress;  /* Waledac: enum decode_compress of its payloads */
	bool tls;
	char version[8];
	int nat_group;	  /* -1 unless SIM_ADDR_NAT */
	uint32_t range;	  /* its provider's range (v4 or v6 table index) */
	double death_s;	  /* seconds after start; INFINITY: never */
	int tz_hours;	  /* local time offset for the diurnal pattern */
	uint32_t phase_s; /* offset of its check-ins within an interval */
};

struct sim_population {
	struct sim_params p;
	struct sim_bot *bots;
	struct event_addr *addrs; /* bots * days: the bot's address on each day */
	unsigned n_nat_groups;
};

/* Draw the population and every bot's daily addresses. 0, SINKD_EINVAL
 * (no ranges to draw from) or SINKD_ENOMEM. */
int sim_population_new(struct sim_population **out, const struct sim_params *p,
		       const struct sim_prefixes *px);
void sim_population_free(struct sim_population *pop);

/* Bot i is alive at the start of day d (it has not been cleaned up). */
bool sim_bot_alive(const struct sim_population *pop, size_t i, unsigned day);

/* Bot i's source address on day d (port 0). */
const struct event_addr *sim_bot_addr(const struct sim_population *pop, size_t i, unsigned day);

/* One scheduled check-in. */
struct sim_checkin {
	uint64_t ts_ns;
	uint32_t bot;
	uint32_t seq; /* 0 for the bot's first check-in of the day */
};

/* Day d's check-ins of every bot alive then, in time order; *out is
 * malloc'ed (caller frees). 0 or SINKD_ENOMEM. */
int sim_day_checkins(const struct sim_population *pop, unsigned day, struct sim_checkin **out,
		     size_t *n);

/* ---- one check-in on the wire ---------------------------------------------- */

#define SIM_HEADERS_MAX 10
#define SIM_BODY_MAX 4096

struct sim_keys {
	uint8_t waledac_key[16];
	uint8_t waledac_iv[16];
	bool have_key;
};

struct sim_request {
	bool resolve;	 /* query qname at the sinkhole's DNS first */
	char qname[256]; /* the seized name (also Host/SNI) */
	bool tls;
	char method[8];
	char target[160];
	struct {
		char name[32];
		char value[288];
	} hdr[SIM_HEADERS_MAX];
	unsigned n_hdr;
	uint8_t body[SIM_BODY_MAX];
	size_t body_len;
	struct event_addr src; /* the bot's address that day and its port */
	/* What the decoders are expected to say (the ground truth). */
	char msg_type[32]; /* "" when the protocol names none */
	char bot_id[33];   /* "" when the protocol carries none */
};

/* Build check-in c of pop: seized names from domains[n_domains] (needed
 * by every family but Kelihos, which talks to sinkhole_ip, a dotted IP).
 * 0, SINKD_EINVAL (no domains, or Waledac without a key) or another
 * negative code from the Waledac builder. */
int sim_request_build(const struct sim_population *pop, const struct sim_keys *keys,
		      const char *const *domains, size_t n_domains, const char *sinkhole_ip,
		      const struct sim_checkin *c, struct sim_request *out);

/* The request as bytes to send ("GET / HTTP/1.1\r\n..."), into buf.
 * Returns the length, or 0 when it does not fit. */
size_t sim_request_wire(const struct sim_request *r, uint8_t *buf, size_t cap);

/* `sinkd sim [options]` (docs/sim.md). Exit status 0, 1 on an error, 2 for
 * bad usage. */
int sim_cli(int argc, char **argv);

#endif
