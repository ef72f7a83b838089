/* Private to src/sim/: the random streams, the address tables and the
 * pieces the CLI wires together. */
#ifndef SINKD_SIM_INTERNAL_H
#define SINKD_SIM_INTERNAL_H

#include "sim/sim.h"

#include <jansson.h>

/* A xoshiro256** generator; streams are seeded through splitmix64 from
 * (seed, a, b, c) so every bot, day and check-in has its own. */
struct sim_rng {
	uint64_t s[4];
};

void sim_rng_seed(struct sim_rng *r, uint64_t seed, uint64_t a, uint64_t b, uint64_t c);
uint64_t sim_rng_next(struct sim_rng *r);
/* Uniform in [0, 1). */
double sim_rng_unit(struct sim_rng *r);
/* Uniform in [0, n) (n > 0). */
uint64_t sim_rng_below(struct sim_rng *r, uint64_t n);

/* Stream keys: what a stream is for, so two uses never share one. */
enum { SIM_STREAM_BOT = 1, SIM_STREAM_DAY, SIM_STREAM_CHECKIN, SIM_STREAM_NAT };

/* A range of addresses one ASN announces. */
struct sim_range {
	uint8_t first[16], last[16]; /* IPv4 as IPv4-mapped */
	uint32_t asn;
};

struct sim_prefixes {
	struct sim_range *v4, *v6;
	size_t n_v4, n_v6;
	struct MMDB_s *mmdb; /* NULL: no countries (tests) */
};

/* A uniformly random address in r (IPv6: in its first /64 .. last /64,
 * the interface id left zero). */
void sim_range_pick(const struct sim_range *r, struct sim_rng *rng, struct event_addr *out);

/* The ground truth being gathered while a run emits check-ins. */
struct sim_truth;
int sim_truth_new(struct sim_truth **out, const struct sim_population *pop);
void sim_truth_free(struct sim_truth *t);
/* Count one emitted check-in (and its DNS query / TLS connection). */
void sim_truth_add(struct sim_truth *t, const struct sim_checkin *c, const struct sim_request *r);
/* The truth as JSON (caller decrefs); px gives countries and ASNs. */
json_t *sim_truth_json(const struct sim_truth *t, const struct sim_prefixes *px);

/* Where check-ins go: compressed (ingest lines) or live. emit returns 0
 * (delivered: counted in the truth), 1 to stop the run (a bound was
 * reached), 2 when this one was not delivered (the run goes on) or a
 * negative error. */
struct sim_sink {
	int (*emit)(void *ctx, const struct sim_checkin *c, const struct sim_request *r);
	void *ctx;
};

/* Drive pop's check-ins, day by day in time order, into sink and truth.
 * 0, or the sink's or a builder's error. */
int sim_run(const struct sim_population *pop, const struct sim_keys *keys,
	    const char *const *domains, size_t n_domains, const char *sinkhole_ip,
	    struct sim_sink *sink, struct sim_truth *truth);

/* Compressed: the events of one check-in as ingest lines (DNS query,
 * ClientHello, HTTP request) with simulated times, to out. */
struct sim_compressed {
	FILE *out;
	struct event_addr dst_dns, dst_http, dst_tls; /* the sinkhole's */
	uint64_t conn_id;
	uint8_t *payload;	     /* EVENT_PAYLOAD_MAX */
	struct sim_tls_hello *hello; /* fingerprint of the simulator's TLS client */
};
int sim_compressed_init(struct sim_compressed *c, FILE *out, const char *sinkhole_ip);
void sim_compressed_free(struct sim_compressed *c);
int sim_compressed_emit(void *ctx, const struct sim_checkin *c, const struct sim_request *r);

/* Live: through the sinkhole's listeners. */
struct sim_live;
struct sim_live_opts {
	char host[64];
	uint16_t dns_port, http_port, tls_port;
	double speed;	       /* simulated seconds per real second (0: as fast as possible) */
	double duration_s;     /* 0: unbounded */
	uint64_t max_checkins; /* 0: unbounded */
};
int sim_live_new(struct sim_live **out, const struct sim_live_opts *o);
void sim_live_free(struct sim_live *l);
int sim_live_emit(void *ctx, const struct sim_checkin *c, const struct sim_request *r);
/* What happened: check-ins sent, DNS answers received, failures. */
void sim_live_counts(const struct sim_live *l, uint64_t *sent, uint64_t *dns_ok, uint64_t *failed);

#endif
