/* Fuzz target: proxy_parse() and net_sniff() on the same bytes, checking
 * the invariants listeners rely on (not only "does not crash").
 *
 * libFuzzer:
 *   clang -g -fsanitize=fuzzer,address -D_GNU_SOURCE -Isrc fuzz/fuzz_proxy.c \
 *     src/net/proxy.c src/net/sniff.c src/core/error.c -o /tmp/fzp
 *   /tmp/fzp -max_total_time=60 fuzz/fuzz_proxy.in/
 * Replay (files or directories): the fuzz_proxy binary of a normal build
 * (fuzz/main.c); `make fuzz` runs it under libFuzzer. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "net/net.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_strings(const struct proxy_info *pi)
{
	if (strnlen(pi->authority, sizeof(pi->authority)) == sizeof(pi->authority) ||
	    strnlen(pi->ssl_version, sizeof(pi->ssl_version)) == sizeof(pi->ssl_version) ||
	    strnlen(pi->ssl_cipher, sizeof(pi->ssl_cipher)) == sizeof(pi->ssl_cipher) ||
	    strnlen(pi->ssl_cn, sizeof(pi->ssl_cn)) == sizeof(pi->ssl_cn) ||
	    pi->alpn_len > sizeof(pi->alpn) || pi->unique_id_len > sizeof(pi->unique_id))
		abort();
}

/* A strict prefix of an accepted header must be "incomplete". */
static void check_prefix(const uint8_t *data, size_t k)
{
	struct proxy_info pi;
	size_t consumed = 0;

	if (proxy_parse(data, k, &pi, &consumed) != SINKD_EAGAIN)
		abort();
}

static void check_proxy(const uint8_t *data, size_t size)
{
	struct proxy_info pi;
	size_t consumed = 0;
	int rc = proxy_parse(data, size, &pi, &consumed);

	if (rc == SINKD_EAGAIN || rc == SINKD_EMALF) {
		if (pi.error == NULL || (rc == SINKD_EAGAIN && size >= PROXY_HDR_MAX))
			abort();
		return;
	}
	if (rc != 0 || pi.error != NULL || consumed < 15 || consumed > size ||
	    consumed > PROXY_HDR_MAX || (pi.version != 1 && pi.version != 2))
		abort();
	if (pi.has_addr && (pi.src.ss_family != pi.family || pi.dst.ss_family != pi.family))
		abort();
	check_strings(&pi);

	/* the header alone parses the same way */
	struct proxy_info again;
	size_t consumed2 = 0;
	if (proxy_parse(data, consumed, &again, &consumed2) != 0 || consumed2 != consumed ||
	    memcmp(&again, &pi, sizeof(pi)) != 0)
		abort();
	for (size_t k = 0; k < consumed && k < 24; k++)
		check_prefix(data, k);
	check_prefix(data, consumed / 2);
	check_prefix(data, consumed - 1);
}

static void check_sniff(const uint8_t *data, size_t size)
{
	const char *label = NULL;
	enum net_proto_guess g = net_sniff(data, size, &label);

	if ((unsigned)g >= NET_SNIFF_COUNT || label == NULL || strlen(label) == 0)
		abort();
	enum net_proto_guess f = net_sniff_final(data, size, &label);
	if (f == NET_SNIFF_NEED_MORE || (unsigned)f >= NET_SNIFF_COUNT || label == NULL)
		abort();
	/* a definite answer does not change when the input is declared final */
	if (g != NET_SNIFF_NEED_MORE && g != f)
		abort();
	if (size < 3 && g != NET_SNIFF_NEED_MORE)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* exact-size copy so sanitizers see reads past size */
	uint8_t *copy = malloc(size > 0 ? size : 1);
	if (copy == NULL)
		return 0;
	memcpy(copy, data, size);
	check_proxy(copy, size);
	check_sniff(copy, size);
	free(copy);
	return 0;
}
