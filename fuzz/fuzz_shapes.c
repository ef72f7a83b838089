/* Fuzz target: protocol shapes. Input: kind selector byte, then target NUL
 * headers NUL body; the shape key must be printable, NUL-terminated text
 * with a 16-hex id, and a small table must take any number of them. */
#include <ctype.h>

#include "classify/shapes.h"
#include "decode_fuzz.h"

static void check_text(const char *s, size_t cap) { fuzz_check_label(s, cap); }

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct shapes *table;
	if (table == NULL && shapes_new(&table, 16) != 0)
		abort();
	if (size == 0)
		return 0;
	const uint8_t *part[3];
	size_t len[3];
	fuzz_split(data + 1, size - 1, part, len, 3);
	struct sinkd_event *ev = fuzz_event(part[0], len[0], part[1], len[1], part[2], len[2]);
	static const uint8_t kinds[] = {EVENT_HTTP, EVENT_TLS, EVENT_RAW};
	ev->kind = kinds[data[0] % 3];
	ev->transport = data[0] & 4 ? TRANSPORT_UDP : TRANSPORT_TCP;
	ev->src.ip[15] = data[0];
	if (ev->kind == EVENT_RAW) { /* the bytes as a catch-all's first bytes */
		uint32_t used = 0;
		event_payload_add((uint8_t *)ev->payload, EVENT_PAYLOAD_MAX, &used, EVP_RAW,
				  part[2], len[2]);
		ev->payload_len = used;
	}
	struct shape_key k;
	shapes_key(ev, &k);
	check_text(k.method, sizeof(k.method));
	check_text(k.path, sizeof(k.path));
	check_text(k.params, sizeof(k.params));
	check_text(k.headers, sizeof(k.headers));
	check_text(k.body, sizeof(k.body));
	check_text(k.length, sizeof(k.length));
	check_text(k.entropy, sizeof(k.entropy));
	if (strlen(k.id) != 16)
		abort();
	for (size_t i = 0; i < 16; i++) {
		if (!isxdigit((unsigned char)k.id[i]))
			abort();
	}
	shapes_observe(table, ev);
	if (data[0] % 7 == 0)
		shapes_batch_free(shapes_take(table));
	return 0;
}
