/* Fuzz target: seized-domain lists and CSV files, then lookups of the
 * loaded names. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "domains/domains.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	int fd = memfd_create("fuzz.list", 0);
	if (fd < 0 || write(fd, data, size) != (ssize_t)size)
		abort();
	char path[64];
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	FILE *devnull = fopen("/dev/null", "w");
	struct domain_registry *reg = domains_new();
	struct domains_load_stats st = {0};
	domains_load_file(reg, path, devnull, &st);
	/* Every loaded zone must be found again, by name and in wire form. */
	for (size_t i = 0; i < domains_count(reg); i++) {
		if (domains_match_name(reg, domains_name(reg, i)) != (long)i)
			abort();
		size_t off = 99;
		if (domains_match_wire(reg, domains_wire(reg, i), &off) != (long)i || off != 0)
			abort();
	}
	domains_export(reg, "json", devnull);
	domains_free(reg);
	fclose(devnull);
	close(fd);
	return 0;
}
