/* Private to src/ingest/: helpers shared by the reader and the writer. */
#ifndef SINKD_INGEST_INTERNAL_H
#define SINKD_INGEST_INTERNAL_H

#include "core/event.h"

/* "192.0.2.1:80", "[2001:db8::1]:80"; a bare address has port 0.
 * 0 or SINKD_EINVAL. */
int ingest_addr_parse(const char *text, struct event_addr *a);

#endif
