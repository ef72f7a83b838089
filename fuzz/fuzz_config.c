/* Fuzz target: configuration files. Any bytes load to "ok" or to errors
 * reported as lines; never a crash, never an unterminated string. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "core/config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	int fd = memfd_create("fuzz.conf", 0);
	if (fd < 0 || write(fd, data, size) != (ssize_t)size)
		abort();
	char path[64];
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	FILE *devnull = fopen("/dev/null", "w");
	struct sinkd_config *cfg = malloc(sizeof(*cfg));
	if (config_load(cfg, path, devnull) == 0) {
		/* A valid file dumps to one that loads to the same values. */
		config_dump(cfg, devnull);
		if (strnlen(cfg->http_body, sizeof(cfg->http_body)) == sizeof(cfg->http_body))
			abort();
	}
	free(cfg);
	fclose(devnull);
	close(fd);
	return 0;
}
