/* `sinkd keygen`: the Ed25519 manifest signing key and the pseudonymisation
 * key. Private material is created with O_EXCL and mode 0600 from the
 * start (never widened then narrowed). */
#include "evidence/evidence.h"

#include "core/error.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static void usage(FILE *out)
{
	fprintf(out,
		"usage: sinkd keygen --out FILE [--force]\n"
		"       sinkd keygen --pseudonym-key --out FILE [--force]\n"
		"  --out FILE        Ed25519 manifest signing key: FILE (private, PEM, mode\n"
		"                    0600) and FILE.pub (public, PEM); set [evidence] key = FILE\n"
		"  --pseudonym-key   instead: a 256-bit pseudonymisation key (hex, 0600);\n"
		"                    set [privacy] key = FILE\n"
		"  --force           replace existing files\n");
}

/* Open path for writing with mode, refusing an existing file unless force. */
static FILE *create(const char *path, mode_t mode, bool force)
{
	int flags = O_WRONLY | O_CREAT | O_CLOEXEC | (force ? O_TRUNC : O_EXCL);
	int fd = open(path, flags, mode);
	if (fd < 0) {
		if (errno == EEXIST)
			fprintf(stderr, "sinkd keygen: %s exists (--force replaces it)\n", path);
		else
			fprintf(stderr, "sinkd keygen: %s: %s\n", path, strerror(errno));
		return NULL;
	}
	if (fchmod(fd, mode) != 0) { /* an existing file replaced with --force */
		close(fd);
		return NULL;
	}
	FILE *f = fdopen(fd, "w");
	if (f == NULL)
		close(fd);
	return f;
}

static int finish(FILE *f, const char *path, bool ok)
{
	if (fclose(f) != 0 || !ok) {
		fprintf(stderr, "sinkd keygen: %s: write failed\n", path);
		unlink(path);
		return 1;
	}
	return 0;
}

static int pseudonym_key(const char *path, bool force)
{
	uint8_t key[EVIDENCE_PSEUDONYM_KEY_LEN];
	if (RAND_bytes(key, sizeof(key)) != 1) {
		fprintf(stderr, "sinkd keygen: no random bytes from OpenSSL\n");
		return 1;
	}
	FILE *f = create(path, 0600, force);
	if (f == NULL)
		return 1;
	bool ok = true;
	for (size_t i = 0; i < sizeof(key); i++)
		ok = ok && fprintf(f, "%02x", key[i]) == 2;
	ok = ok && fputc('\n', f) != EOF;
	if (finish(f, path, ok) != 0)
		return 1;
	printf("pseudonymisation key written to %s (mode 0600); set [privacy] key = %s\n", path,
	       path);
	return 0;
}

static int signing_key(const char *path, bool force)
{
	char pub_path[4096];
	if (snprintf(pub_path, sizeof(pub_path), "%s.pub", path) >= (int)sizeof(pub_path)) {
		fprintf(stderr, "sinkd keygen: %s: path too long\n", path);
		return 1;
	}
	EVP_PKEY *k = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
	if (k == NULL) {
		fprintf(stderr, "sinkd keygen: OpenSSL could not make an Ed25519 key\n");
		return 1;
	}
	int ret = 1;
	FILE *f = create(path, 0600, force);
	if (f == NULL)
		goto out;
	if (finish(f, path, PEM_write_PrivateKey(f, k, NULL, NULL, 0, NULL, NULL) == 1) != 0)
		goto out;
	f = create(pub_path, 0644, force);
	if (f == NULL || finish(f, pub_path, PEM_write_PUBKEY(f, k) == 1) != 0) {
		unlink(path);
		goto out;
	}
	uint8_t raw[32], id[32];
	size_t len = sizeof(raw);
	unsigned id_len = sizeof(id);
	EVP_PKEY_get_raw_public_key(k, raw, &len);
	EVP_Digest(raw, len, id, &id_len, EVP_sha256(), NULL);
	printf("Ed25519 signing key written to %s (mode 0600), public key to %s\n", path, pub_path);
	printf("key id (SHA-256 of the raw public key): ");
	for (size_t i = 0; i < sizeof(id); i++)
		printf("%02x", id[i]);
	printf("\n");
	PEM_write_PUBKEY(stdout, k);
	printf("set [evidence] key = %s; give %s to whoever verifies\n", path, pub_path);
	ret = 0;
out:
	EVP_PKEY_free(k);
	return ret;
}

int evidence_keygen_cli(int argc, char **argv)
{
	static const struct option opts[] = {{"out", required_argument, NULL, 'o'},
					     {"pseudonym-key", no_argument, NULL, 'p'},
					     {"force", no_argument, NULL, 'f'},
					     {"help", no_argument, NULL, 'h'},
					     {NULL, 0, NULL, 0}};
	const char *out = NULL;
	bool pseudonym = false, force = false;
	int c;
	optind = 1;
	while ((c = getopt_long(argc, argv, "o:h", opts, NULL)) != -1) {
		switch (c) {
		case 'o':
			out = optarg;
			break;
		case 'p':
			pseudonym = true;
			break;
		case 'f':
			force = true;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (out == NULL || optind < argc) {
		fprintf(stderr, "sinkd keygen: %s\n",
			out == NULL ? "--out FILE is required" : "unexpected argument");
		usage(stderr);
		return 2;
	}
	return pseudonym ? pseudonym_key(out, force) : signing_key(out, force);
}
