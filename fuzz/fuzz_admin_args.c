/* Fuzz target: the admin API's argument parsers (times, numbers, names,
 * cursors) on every query-string value a client can send, checking the
 * bounds the handlers rely on, not only "does not crash".
 *
 * Input: NUL-separated values, each tried with every parser.
 * Replay (files or directories): the fuzz_admin_args binary of a normal
 * build (fuzz/main.c); `make fuzz` runs it under libFuzzer. */
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "admin/admin_internal.h"
#include "core/error.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_one(const char *v)
{
	uint64_t u, ts, skip, ns;
	if (admin_parse_uint(v, 1, 1000, &u) == 0 && (u < 1 || u > 1000))
		abort();
	if (admin_parse_uint(v, 0, UINT64_MAX, &u) == 0) {
		/* Accepted numbers are plain decimal: they print back the same. */
		char back[32];
		snprintf(back, sizeof(back), "%" PRIu64, u);
		if (strcmp(back, v) != 0 && v[0] != '0')
			abort();
	}
	if (admin_parse_cursor(v, &ts, &skip) == 0) {
		if (ts == 0 || ts > (uint64_t)INT64_MAX || skip > ADMIN_EVENTS_SKIP_MAX)
			abort();
	}
	if (admin_name_ok(v, 253)) {
		size_t n = strlen(v);
		if (n == 0 || n > 253 || strpbrk(v, " /%?&=\"'\\<>") != NULL)
			abort();
	}
	if (admin_parse_time(v, &ns) == 0) {
		char iso[40];
		admin_time_iso(ns, iso, sizeof(iso));
		if (strlen(iso) < 20 || iso[strlen(iso) - 1] != 'Z')
			abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > 4096)
		return 0;
	char *buf = malloc(size + 1);
	if (buf == NULL)
		return 0;
	memcpy(buf, data, size);
	buf[size] = '\0';
	for (size_t off = 0; off <= size;) {
		check_one(buf + off);
		off += strlen(buf + off) + 1;
	}
	free(buf);
	return 0;
}
