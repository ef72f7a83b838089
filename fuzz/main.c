/* Replay driver: the same fuzz targets that `make fuzz` runs under libFuzzer
 * are linked with this main in every normal build, so the test suite runs
 * each target's corpus (fuzz/fuzz_<target>.in/) under ASan+UBSan, and AFL
 * or a crash reproducer can call the binary with files.
 *
 *   fuzz_<target> FILE|DIR...   run every file (DIR: every file in it)
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int run_file(const char *path, size_t *count)
{
	FILE *f = fopen(path, "rb");
	if (f == NULL) {
		perror(path);
		return 1;
	}
	static uint8_t buf[1 << 20];
	size_t n = fread(buf, 1, sizeof(buf), f);
	fclose(f);
	/* An exact-size copy, so reading past the input is an ASan error. */
	uint8_t *copy = malloc(n > 0 ? n : 1);
	if (copy == NULL)
		return 1;
	memcpy(copy, buf, n);
	LLVMFuzzerTestOneInput(copy, n);
	free(copy);
	(*count)++;
	return 0;
}

static int run_path(const char *path, size_t *count)
{
	struct stat st;
	if (stat(path, &st) != 0) {
		perror(path);
		return 1;
	}
	if (!S_ISDIR(st.st_mode))
		return run_file(path, count);
	DIR *d = opendir(path);
	if (d == NULL) {
		perror(path);
		return 1;
	}
	int ret = 0;
	struct dirent *e;
	while ((e = readdir(d)) != NULL && ret == 0) {
		if (e->d_name[0] == '.')
			continue;
		char sub[4096];
		snprintf(sub, sizeof(sub), "%s/%s", path, e->d_name);
		ret = run_path(sub, count);
	}
	closedir(d);
	return ret;
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: %s FILE|DIR...\n", argv[0]);
		return 2;
	}
	size_t count = 0;
	for (int i = 1; i < argc; i++) {
		if (run_path(argv[i], &count) != 0)
			return 1;
	}
	printf("%s: %zu inputs, no failure\n", argv[0], count);
	return 0;
}
