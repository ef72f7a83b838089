/* libFuzzer target: the TLS ClientHello parser (both entry points), JA3,
 * JA4 and the JSON summary, with the invariants the callers rely on checked
 * on every input. Seed corpus: fuzz_clienthello.in/ (real captured hellos,
 * a hello split into 1-byte records, a bare handshake message, SSLv2).
 *
 *   clang -g -fsanitize=fuzzer,address,undefined -Isrc fuzz/fuzz_clienthello.c \
 *     src/tls/clienthello.c src/tls/extension.c src/tls/strbuf.c src/tls/ja.c \
 *     src/tls/summary.c src/core/error.c -lcrypto -o /tmp/fz
 *   /tmp/fz -max_total_time=60 fuzz/fuzz_clienthello.in/
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "tls/tls.h"

static void check(int cond)
{
	if (!cond)
		abort();
}

static void check_parsed(int rc, const struct tls_clienthello *ch, size_t size)
{
	check(rc == 0 || rc == SINKD_EAGAIN || rc == SINKD_EMALF);
	check((rc == SINKD_EMALF) == (ch->reason != NULL));
	if (rc != 0)
		return;
	check(ch->consumed <= size);
	check(ch->n_ciphers <= TLS_CH_MAX_CIPHERS && ch->n_ext <= TLS_CH_MAX_EXTENSIONS);
	check(ch->n_alpn <= TLS_CH_MAX_ALPN && ch->n_sigalgs <= TLS_CH_MAX_SIGALGS);
	check(ch->sni[ch->sni_len] == '\0');
	check(ch->sslv2 || ch->n_ciphers > 0);
}

static void fingerprint(const struct tls_clienthello *ch)
{
	static struct tls_ja3 ja3;
	static struct tls_ja4 ja4;
	static char json[TLS_CH_JSON_MAX];
	int want = ch->sslv2 ? SINKD_EINVAL : 0;

	check(tls_ja3(ch, &ja3) == want);
	check(tls_ja4(ch, &ja4) == want);
	check(tls_clienthello_json(ch, json, sizeof(json)) == 0);
	if (ch->sslv2)
		return;
	check(strlen(ja3.md5) == 32);
	check(strlen(ja4.ja4) == 36 && ja4.ja4[10] == '_' && ja4.ja4[23] == '_');
	check(memcmp(ja4.ja4, ja4.ja4_r, 11) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct tls_clienthello ch;
	int rc;

	rc = tls_clienthello_parse(data, size, &ch);
	check_parsed(rc, &ch, size);
	if (rc == 0)
		fingerprint(&ch);

	rc = tls_clienthello_parse_handshake(data, size, &ch);
	check_parsed(rc, &ch, size);
	if (rc == 0)
		fingerprint(&ch);
	return 0;
}
