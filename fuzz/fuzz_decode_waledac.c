/* Fuzz target: the Waledac decoder. First byte: even = the rest is the
 * form body as received; odd = the rest is a plaintext, which the target
 * encrypts with the fuzz key into a well-formed envelope, so the
 * decompression and XML steps are reached too. */
#include <openssl/evp.h>

#include "decode_fuzz.h"

static char body[EVENT_PAYLOAD_MAX];

static size_t wrap_plaintext(const uint8_t *plain, size_t len)
{
	static uint8_t raw[(EVENT_PAYLOAD_MAX / 4) * 3];
	static const uint8_t iv[16];
	if (len > sizeof(raw) / 2)
		len = sizeof(raw) / 2;
	EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
	int n1 = 0, n2 = 0;
	EVP_EncryptInit_ex(c, EVP_aes_128_cbc(), NULL, fuzz_key, iv);
	EVP_EncryptUpdate(c, raw + 5, &n1, plain, (int)len);
	EVP_EncryptFinal_ex(c, raw + 5 + n1, &n2);
	EVP_CIPHER_CTX_free(c);
	raw[0] = 0x02;
	raw[1] = (uint8_t)(len >> 24);
	raw[2] = (uint8_t)(len >> 16);
	raw[3] = (uint8_t)(len >> 8);
	raw[4] = (uint8_t)len;
	memcpy(body, "a=", 2);
	int n = EVP_EncodeBlock((unsigned char *)body + 2, raw, 5 + n1 + n2);
	for (int i = 2; i < 2 + n; i++)
		body[i] = body[i] == '+' ? '-' : body[i] == '/' ? '_' : body[i];
	return 2 + (size_t)n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size == 0)
		return 0;
	const uint8_t *rest = data + 1;
	size_t n = size - 1;
	struct sinkd_event *ev;
	if (data[0] & 1) {
		size_t len = wrap_plaintext(rest, n);
		ev = fuzz_event("/x.png", 6, "", 0, body, len);
	} else {
		ev = fuzz_event("/x.png", 6, "", 0, rest, n);
	}
	fuzz_decode("waledac", NULL, ev);
	return 0;
}
