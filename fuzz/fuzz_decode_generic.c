/* Fuzz target: the generic decoder. Input: argument NUL target NUL headers
 * NUL body; the argument ("param=id", "regex=...") is fuzzed too, so rule
 * arguments that do not compile are covered. */
#include "decode_fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *part[4];
	size_t len[4];
	char arg[256];
	fuzz_split(data, size, part, len, 4);
	size_t n = len[0] < sizeof(arg) - 1 ? len[0] : sizeof(arg) - 1;
	memcpy(arg, part[0], n);
	arg[n] = '\0';
	struct sinkd_event *ev = fuzz_event(part[1], len[1], part[2], len[2], part[3], len[3]);
	fuzz_decode("generic", arg, ev);
	return 0;
}
