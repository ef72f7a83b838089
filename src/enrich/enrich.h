/* Enrichment: country and ASN of a source address (docs/enrich.md).
 *
 * Countries from a MaxMind DB (libmaxminddb) at a configurable lookup path
 * ("country_code" for the shipped geo-whois-asn-country database,
 * "country.iso_code" for GeoLite2-Country); ASNs from a MaxMind DB
 * (GeoLite2-ASN layout) or from CSV range files (start,end,asn,org; the
 * shipped @ip-location-db/asn files). A database that is missing or broken
 * logs one warning and its answers are "unknown" (country "", ASN 0):
 * enrichment never fails the sinkhole.
 *
 * One handle per thread (the pipeline thread): lookups go through a
 * fixed-size direct-mapped cache and allocate nothing.
 */
#ifndef SINKD_ENRICH_ENRICH_H
#define SINKD_ENRICH_ENRICH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/event.h"

struct sinkd_config;
struct enrich;

/* What is known about an address. org points into the handle (valid until
 * enrich_close); "" when unknown. */
struct enrich_result {
	char country[4]; /* ISO 3166 alpha-2, "" unknown */
	uint32_t asn;	 /* 0 unknown */
	const char *org;
};

struct enrich_stats {
	uint64_t lookups, cache_hits;
	uint64_t errors;	 /* lookups a database failed on (answered unknown) */
	bool country_ok, asn_ok; /* a database of that kind is loaded */
	size_t asn_ranges;	 /* ranges loaded from CSV files */
};

/* Open the databases named by cfg's [enrich] section. Missing or broken
 * files are warned about (once each) and leave that kind "unknown"; the
 * only errors are SINKD_ENOMEM and SINKD_EINVAL (a bad lookup path). */
int enrich_open(struct enrich **out, const struct sinkd_config *cfg);
void enrich_close(struct enrich *e);

/* Look an address up (IPv4-mapped for IPv4). Never fails: unknown parts
 * are "" / 0. */
void enrich_lookup(struct enrich *e, const uint8_t ip[16], struct enrich_result *out);

/* Set ev->country and ev->asn from ev->src; returns the ASN's
 * organisation ("" unknown, owned by e). e may be NULL: then nothing is
 * set and "" is returned. */
const char *enrich_event(struct enrich *e, struct sinkd_event *ev);

void enrich_stats(const struct enrich *e, struct enrich_stats *out);

#endif
