/* Recorded check-ins as JSON lines, with explicit timestamps.
 *
 * `sinkd ingest FILE|-` reads one event per line (docs/ingest.md) and
 * pushes each through the real pipeline (classification, enrichment,
 * rollups, store) exactly as a listener would, so captures made elsewhere,
 * exports of another store and simulated runs (`sinkd sim`) land in the
 * store with their own times. `sinkd events --format jsonl` writes the same
 * format (ingest_write), so an export ingests back unchanged.
 */
#ifndef SINKD_INGEST_INGEST_H
#define SINKD_INGEST_INGEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "core/event.h"

struct domain_registry;

#define INGEST_LINE_MAX (1024 * 1024) /* longest line accepted, bytes */

/* One parsed line. ev.payload points at payload (the sections the
 * listener would have produced: target, headers, User-Agent, Referer,
 * body, TLS fingerprints, first bytes). Large: allocate one and reuse it. */
struct ingest_record {
	struct sinkd_event ev;
	uint64_t count; /* DNS: queries the line stands for (>= 1); else 1 */
	uint8_t payload[EVENT_PAYLOAD_MAX];
	uint8_t scratch[EVENT_PAYLOAD_MAX + 4]; /* base64 decoding */
};

/* Parse one line (len bytes, no newline needed) into rec. The seized zone
 * of the name (Host, SNI, qname) is looked up in reg, as the listeners do
 * (reg may be NULL: zone ""). Labels in the line are ignored: the pipeline
 * computes them. 0, or SINKD_EINVAL with one line of text in err
 * ("\"ts\": expected ..."), without the FILE:LINE prefix. */
int ingest_parse(const char *line, size_t len, const struct domain_registry *reg,
		 struct ingest_record *rec, char *err, size_t errlen);

/* Write ev (its payload sections; the body from EVP_BODY) as one line of
 * the format. aggregate_count > 0 marks a DNS per-minute aggregate of that
 * many queries (only its key fields are written); 0 an individual event.
 * 0, SINKD_ENOMEM or SINKD_EIO (write error on out). */
int ingest_write(FILE *out, const struct sinkd_event *ev, uint64_t aggregate_count);

/* Parse "2026-01-01T00:00:00.123456789Z" (RFC 3339: fraction up to 9
 * digits, Z or +hh:mm/-hh:mm) into ns since the epoch. 0 or SINKD_EINVAL. */
int ingest_time_parse(const char *text, uint64_t *ns);

/* Render ns as RFC 3339 UTC with 9 fraction digits. buf >= 32 bytes. */
const char *ingest_time_str(uint64_t ns, char *buf, size_t len);

/* Ingest every line of in (named name in messages) into the store at
 * store_path (NULL: cfg's [store] path) through a pipeline made from cfg.
 * Reports bad lines and a summary on stderr. Returns the exit status:
 * 0 all stored, 1 a line rejected, a batch lost or the store unusable. */
struct sinkd_config;
int ingest_stream(const struct sinkd_config *cfg, const char *store_path, FILE *in,
		  const char *name);

/* `sinkd ingest [--config F] [--store PATH] FILE|-`. Exit status: 0 all
 * lines stored, 1 some line rejected or a store error, 2 bad usage. */
int ingest_cli(int argc, char **argv);

#endif
