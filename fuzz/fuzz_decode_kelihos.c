/* Fuzz target: the Kelihos decoder. Input: target NUL headers NUL body. */
#include "decode_fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *part[3];
	size_t len[3];
	fuzz_split(data, size, part, len, 3);
	struct sinkd_event *ev = fuzz_event(part[0], len[0], part[1], len[1], part[2], len[2]);
	fuzz_decode("kelihos", NULL, ev);
	return 0;
}
