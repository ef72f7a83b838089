/* Certificates for the TLS capture listener: one key pair generated at
 * start, and a self-signed certificate per SNI name made on first use and
 * cached, or the operator's configured certificate for every name.
 * (Separate from tls.h, the allocation-free ClientHello parser.) */
#ifndef SINKD_TLS_CERT_H
#define SINKD_TLS_CERT_H

#include <openssl/ssl.h>
#include <stddef.h>

struct tls_certs;

/* cert_file/key_file: "" to generate self-signed certificates per name.
 * cache_size: names kept per cache (each capture worker has its own).
 * Returns 0, SINKD_EIO (message on log naming the file) or SINKD_ENOMEM. */
int tls_certs_new(struct tls_certs **out, const char *cert_file, const char *key_file,
		  size_t cache_size);
void tls_certs_free(struct tls_certs *c);

/* A server SSL_CTX for TLS 1.0 to 1.3 with every cipher a legacy bot may
 * offer (security level 0), or NULL (logged). The caller frees it. */
SSL_CTX *tls_certs_server_ctx(struct tls_certs *c);

/* Install a certificate for sni (NULL or "": the default name) on ssl.
 * Not thread-safe: one struct tls_certs per thread, or a lock. 0 or
 * SINKD_EIO. */
int tls_certs_use(struct tls_certs *c, SSL *ssl, const char *sni);

#endif
