/* libFuzzer target: serialised distinct-count sketches as read back from
 * the store (hll_merge_serialized, the sinkd_hll_merge SQL function's
 * input). Accepted input must round-trip: serialising the merged sketch
 * and merging that again gives the same count; rejected input must leave
 * the sketch unchanged. Seed corpus: fuzz_hll.in/ (an empty set, an exact
 * set, a dense sketch, truncated and unsorted sets). */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "stats/stats.h"

static void check(int cond)
{
	if (!cond)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t buf[HLL_SERIAL_MAX];
	struct hll h, r;
	hll_init(&h, 0);
	hll_init(&r, 0);
	check(hll_add(&h, 42) == 0);
	int rc = hll_merge_serialized(&h, data, size);
	check(rc == 0 || rc == SINKD_EINVAL);
	if (rc != 0) {
		check(hll_is_exact(&h) && hll_count(&h) == 1.0);
	} else {
		size_t len = hll_serialize(&h, buf, sizeof(buf));
		check(len > 0);
		check(hll_merge_serialized(&r, buf, len) == 0);
		check(hll_count(&r) == hll_count(&h));
		check(hll_count(&h) >= 1.0);
	}
	hll_free(&h);
	hll_free(&r);
	return 0;
}
