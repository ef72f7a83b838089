/* Shared by the decoder fuzz targets: one env with a known key, an event
 * built from the input, and the invariants every decode must keep. */
#ifndef SINKD_FUZZ_DECODE_H
#define SINKD_FUZZ_DECODE_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "classify/decode.h"
#include "core/config.h"
#include "core/event.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The key the seed corpora are encrypted with: 000102...0f. */
static const uint8_t fuzz_key[16] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15};

static inline struct decode_env *fuzz_env(void)
{
	static struct decode_env *env;
	if (env == NULL) {
		struct sinkd_config cfg;
		config_defaults(&cfg);
		memcpy(cfg.decode_waledac_key[0].key, fuzz_key, 16);
		cfg.n_decode_waledac_key = 1;
		if (decode_env_new(&env, &cfg) != 0)
			abort();
	}
	return env;
}

static struct {
	struct sinkd_event ev;
	uint8_t payload[EVENT_PAYLOAD_MAX];
} fuzz_ev;

/* An HTTP event with the given sections (any may be empty). */
static inline struct sinkd_event *fuzz_event(const void *target, size_t target_len,
					     const void *hdrs, size_t hdrs_len, const void *body,
					     size_t body_len)
{
	struct sinkd_event *ev = &fuzz_ev.ev;
	memset(ev, 0, sizeof(*ev));
	ev->kind = EVENT_HTTP;
	uint32_t used = 0;
	size_t cap = sizeof(fuzz_ev.payload);
	event_payload_add(fuzz_ev.payload, cap, &used, EVP_TARGET, target, target_len);
	event_payload_add(fuzz_ev.payload, cap, &used, EVP_HEADERS, hdrs, hdrs_len);
	event_payload_add(fuzz_ev.payload, cap, &used, EVP_BODY, body, body_len);
	ev->body_len = (uint32_t)body_len;
	ev->payload_len = used;
	ev->payload = fuzz_ev.payload;
	return ev;
}

static inline void fuzz_check_label(const char *s, size_t cap)
{
	size_t n = strnlen(s, cap);
	if (n == cap)
		abort();
	for (size_t i = 0; i < n; i++) {
		if ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] >= 0x7f)
			abort();
	}
}

/* Run a decoder and check what it left in the event. */
static inline void fuzz_decode(const char *name, const char *arg, struct sinkd_event *ev)
{
	int ret = decode_event(fuzz_env(), name, arg, ev);
	fuzz_check_label(ev->msg_type, sizeof(ev->msg_type));
	fuzz_check_label(ev->proto_version, sizeof(ev->proto_version));
	fuzz_check_label(ev->bot_id, sizeof(ev->bot_id));
	fuzz_check_label(ev->decode_status, sizeof(ev->decode_status));
	if (ev->decode_status[0] == '\0' || (ret == 0) != (strcmp(ev->decode_status, "ok") == 0))
		abort();
}

/* Split data at NUL bytes into up to n parts (the last takes the rest). */
static inline void fuzz_split(const uint8_t *data, size_t size, const uint8_t **part, size_t *len,
			      size_t n)
{
	for (size_t i = 0; i < n; i++) {
		const uint8_t *nul = i + 1 < n ? memchr(data, 0, size) : NULL;
		part[i] = data;
		len[i] = nul != NULL ? (size_t)(nul - data) : size;
		size_t skip = nul != NULL ? len[i] + 1 : size;
		data += skip;
		size -= skip;
	}
}

#endif
