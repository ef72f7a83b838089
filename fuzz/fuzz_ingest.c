/* Fuzz target: ingest_parse() on one line, checking the round trip the
 * export relies on (not only "does not crash"): an accepted line written
 * with ingest_write() parses again, and writing that gives the same text.
 *
 * libFuzzer: `make fuzz` (SINKD_FUZZ=ON), then
 *   ./build-fuzz/fuzz_ingest -max_total_time=60 fuzz/fuzz_ingest.in/
 * Replay: the fuzz_ingest binary of a normal build (fuzz/main.c). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ingest/ingest.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct ingest_record *rec;

/* ev as a line (malloc'ed, caller frees). */
static char *written(const struct sinkd_event *ev, uint64_t count)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	if (f == NULL || ingest_write(f, ev, count) != 0)
		abort();
	fclose(f);
	return text;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[256];
	if (rec == NULL && (rec = malloc(sizeof(*rec))) == NULL)
		abort();
	if (size > 65536 ||
	    ingest_parse((const char *)data, size, NULL, rec, err, sizeof(err)) != 0)
		return 0;
	if (strnlen(err, sizeof(err)) == sizeof(err))
		abort();
	uint64_t count = rec->ev.kind == EVENT_DNS && rec->count > 1 ? rec->count : 0;
	char *first = written(&rec->ev, count);
	if (ingest_parse(first, strlen(first), NULL, rec, err, sizeof(err)) != 0)
		abort(); /* what we write, we read */
	char *second = written(&rec->ev, count);
	if (strcmp(first, second) != 0)
		abort();
	free(first);
	free(second);
	return 0;
}
