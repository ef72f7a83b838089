/* `sinkd events --pseudonymise`: addresses rendered as keyed pseudonyms
 * (src/evidence, HMAC-SHA-256) and the payload sections that can carry
 * addresses in clear (the header block: X-Forwarded-For, Forwarded; the
 * first bytes of raw and TLS connections) left out of the output. */
#include "store/store_internal.h"

#include "evidence/evidence.h"

#include <string.h>

static const struct evidence_pseudonym *pseudonym_key;

void store_format_pseudonymise(const struct evidence_pseudonym *key) { pseudonym_key = key; }

bool store_format_pseudonymised(void) { return pseudonym_key != NULL; }

const char *store_addr_text(const struct event_addr *a, char *buf, size_t len)
{
	if (pseudonym_key != NULL)
		return evidence_pseudonymise(pseudonym_key, a, buf, len);
	return event_addr_str(a, buf, (unsigned)len);
}

/* Sections copied into a row shown pseudonymised (everything but headers
 * and first bytes). */
static bool kept(uint8_t type) { return type != EVP_HEADERS && type != EVP_RAW; }

void store_row_strip_clear(const struct store_row *row, struct store_row *out, uint8_t *buf,
			   size_t cap)
{
	const struct sinkd_event *ev = &row->ev;
	size_t off = 0, hdr = 1 + sizeof(uint32_t);
	uint32_t used = 0;
	*out = *row;
	while (ev->payload != NULL && ev->payload_len - off >= hdr) {
		uint8_t type = ev->payload[off];
		uint32_t l;
		memcpy(&l, ev->payload + off + 1, sizeof(l));
		if (l > ev->payload_len - off - hdr)
			break;
		if (kept(type))
			event_payload_add(buf, cap, &used, type, ev->payload + off + hdr, l);
		off += hdr + l;
	}
	out->ev.payload = buf;
	out->ev.payload_len = used;
}
