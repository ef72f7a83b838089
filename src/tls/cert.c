#include "tls/cert.h"

#include "core/error.h"
#include "core/log.h"

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/evp.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DEFAULT_NAME "sinkhole.invalid"

struct cert_slot {
	char name[256];
	X509 *cert;
};

struct tls_certs {
	EVP_PKEY *key;
	X509 *fixed;			/* configured certificate, or NULL */
	STACK_OF(X509) *chain;		/* its chain */
	struct cert_slot *slots;	/* direct-mapped cache by name hash */
	size_t n_slots;
};

static void log_ssl_error(const char *what)
{
	char buf[256];
	unsigned long e = ERR_get_error();
	ERR_error_string_n(e, buf, sizeof(buf));
	log_err("tls: %s: %s", what, e != 0 ? buf : "unknown error");
	ERR_clear_error();
}

static int load_files(struct tls_certs *c, const char *cert_file, const char *key_file)
{
	FILE *f = fopen(key_file, "r");
	if (f == NULL) {
		log_err("[tls] key_file %s: cannot open", key_file);
		return SINKD_EIO;
	}
	c->key = PEM_read_PrivateKey(f, NULL, NULL, NULL);
	fclose(f);
	f = fopen(cert_file, "r");
	if (f == NULL) {
		log_err("[tls] cert_file %s: cannot open", cert_file);
		return SINKD_EIO;
	}
	c->fixed = PEM_read_X509(f, NULL, NULL, NULL);
	c->chain = sk_X509_new_null();
	X509 *extra;
	while (c->chain != NULL && (extra = PEM_read_X509(f, NULL, NULL, NULL)) != NULL)
		sk_X509_push(c->chain, extra);
	ERR_clear_error(); /* end of file ends the loop above */
	fclose(f);
	if (c->key == NULL || c->fixed == NULL) {
		log_err("[tls] %s: not a PEM private key and certificate pair",
			c->key == NULL ? key_file : cert_file);
		return SINKD_EIO;
	}
	if (X509_check_private_key(c->fixed, c->key) != 1) {
		log_err("[tls] cert_file %s does not match key_file %s", cert_file, key_file);
		return SINKD_EIO;
	}
	return 0;
}

int tls_certs_new(struct tls_certs **out, const char *cert_file, const char *key_file,
		  size_t cache_size)
{
	struct tls_certs *c = calloc(1, sizeof(*c));
	if (c == NULL)
		return SINKD_ENOMEM;
	int ret = 0;
	if (cert_file[0] != '\0') {
		ret = load_files(c, cert_file, key_file);
	} else {
		/* P-256: fast to sign with, accepted by every TLS 1.0+ client
		 * that offers ECDHE-ECDSA; RSA-only clients fail the handshake
		 * after their ClientHello has been recorded. */
		c->key = EVP_EC_gen("P-256");
		c->n_slots = cache_size > 0 ? cache_size : 1;
		c->slots = calloc(c->n_slots, sizeof(*c->slots));
		if (c->key == NULL || c->slots == NULL) {
			log_ssl_error("key generation");
			ret = SINKD_ENOMEM;
		}
	}
	if (ret != 0) {
		tls_certs_free(c);
		return ret;
	}
	*out = c;
	return 0;
}

void tls_certs_free(struct tls_certs *c)
{
	if (c == NULL)
		return;
	for (size_t i = 0; c->slots != NULL && i < c->n_slots; i++)
		X509_free(c->slots[i].cert);
	free(c->slots);
	X509_free(c->fixed);
	if (c->chain != NULL)
		sk_X509_pop_free(c->chain, X509_free);
	EVP_PKEY_free(c->key);
	free(c);
}

SSL_CTX *tls_certs_server_ctx(struct tls_certs *c)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
	if (ctx == NULL) {
		log_ssl_error("SSL_CTX_new");
		return NULL;
	}
	/* Bots speak whatever their libraries spoke when they were built. */
	SSL_CTX_set_security_level(ctx, 0);
	SSL_CTX_set_min_proto_version(ctx, TLS1_VERSION);
	SSL_CTX_set_cipher_list(ctx, "ALL:@SECLEVEL=0");
	SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER |
				      SSL_MODE_RELEASE_BUFFERS);
	SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_TICKET);
	SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
	if (c->fixed != NULL) {
		if (SSL_CTX_use_certificate(ctx, c->fixed) != 1 ||
		    SSL_CTX_use_PrivateKey(ctx, c->key) != 1) {
			log_ssl_error("configured certificate");
			SSL_CTX_free(ctx);
			return NULL;
		}
		for (int i = 0; i < sk_X509_num(c->chain); i++)
			SSL_CTX_add1_chain_cert(ctx, sk_X509_value(c->chain, i));
	}
	return ctx;
}

static X509 *make_cert(EVP_PKEY *key, const char *name)
{
	X509 *x = X509_new();
	if (x == NULL)
		return NULL;
	X509_set_version(x, 2);
	ASN1_INTEGER_set_int64(X509_get_serialNumber(x), (int64_t)(rand() & 0x7fffffff) + 1);
	X509_gmtime_adj(X509_getm_notBefore(x), -86400);
	X509_gmtime_adj(X509_getm_notAfter(x), 825L * 86400);
	X509_set_pubkey(x, key);
	X509_NAME *subj = X509_get_subject_name(x);
	X509_NAME_add_entry_by_txt(subj, "CN", MBSTRING_ASC, (const unsigned char *)name, -1, -1, 0);
	X509_set_issuer_name(x, subj);
	char san[300];
	snprintf(san, sizeof(san), "DNS:%s", name);
	X509V3_CTX v3;
	X509V3_set_ctx_nodb(&v3);
	X509V3_set_ctx(&v3, x, x, NULL, NULL, 0);
	X509_EXTENSION *ext = X509V3_EXT_conf_nid(NULL, &v3, NID_subject_alt_name, san);
	if (ext == NULL || X509_add_ext(x, ext, -1) != 1 || X509_sign(x, key, EVP_sha256()) == 0) {
		X509_EXTENSION_free(ext);
		X509_free(x);
		return NULL;
	}
	X509_EXTENSION_free(ext);
	return x;
}

static size_t name_hash(const char *s)
{
	size_t h = 1469598103934665603ull;
	for (; *s != '\0'; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ull;
	return h;
}

/* Names go into a certificate: keep them to hostname characters. */
static void safe_name(const char *sni, char *out, size_t cap)
{
	size_t n = 0;
	for (; sni != NULL && *sni != '\0' && n + 1 < cap; sni++) {
		char ch = *sni;
		if ((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '-' || ch == '.' ||
		    ch == '_')
			out[n++] = ch;
		else if (ch >= 'A' && ch <= 'Z')
			out[n++] = (char)(ch - 'A' + 'a');
	}
	out[n] = '\0';
	if (n == 0)
		snprintf(out, cap, "%s", DEFAULT_NAME);
}

int tls_certs_use(struct tls_certs *c, SSL *ssl, const char *sni)
{
	if (c->fixed != NULL)
		return 0; /* the SSL_CTX carries it */
	char name[256];
	safe_name(sni, name, sizeof(name));
	struct cert_slot *slot = &c->slots[name_hash(name) % c->n_slots];
	if (slot->cert == NULL || strcmp(slot->name, name) != 0) {
		X509 *x = make_cert(c->key, name);
		if (x == NULL) {
			log_ssl_error("certificate generation");
			return SINKD_EIO;
		}
		X509_free(slot->cert);
		slot->cert = x;
		snprintf(slot->name, sizeof(slot->name), "%s", name);
	}
	if (SSL_use_certificate(ssl, slot->cert) != 1 || SSL_use_PrivateKey(ssl, c->key) != 1) {
		log_ssl_error("SSL_use_certificate");
		return SINKD_EIO;
	}
	return 0;
}
