/* Key material for evidence and privacy (docs/evidence.md): `sinkd keygen`
 * makes the Ed25519 signing key for manifests (the store signs with it,
 * src/store/manifest.c) and the separate pseudonymisation key; the
 * pseudonymiser turns a source address into a keyed token for exports
 * shared outside the team. */
#ifndef SINKD_EVIDENCE_EVIDENCE_H
#define SINKD_EVIDENCE_EVIDENCE_H

#include <stddef.h>
#include <stdint.h>

#include "core/event.h"

#define EVIDENCE_PSEUDONYM_KEY_LEN 32

/* `sinkd keygen --out FILE [--force]`: Ed25519 private key FILE (PEM,
 * mode 0600) and public key FILE.pub (PEM, 0644), the public key printed;
 * `sinkd keygen --pseudonym-key --out FILE [--force]`: 32 random bytes as
 * 64 hex digits (0600). An existing FILE is refused without --force.
 * Returns the exit status. */
int evidence_keygen_cli(int argc, char **argv);

/* A loaded pseudonymisation key. */
struct evidence_pseudonym {
	uint8_t key[EVIDENCE_PSEUDONYM_KEY_LEN];
};

/* Read a key file written by `sinkd keygen --pseudonym-key` (64 hex digits,
 * optional trailing newline). 0, SINKD_EIO (unreadable: message on err
 * with the path) or SINKD_EPARSE ("path: expected 64 hex digits"). */
int evidence_pseudonym_load(struct evidence_pseudonym *p, const char *path, char *err,
			    size_t errlen);

/* The token of address a: "anon-" followed by the first 16 hex digits of
 * HMAC-SHA-256(key, the 16 address bytes); IPv6 addresses are taken by
 * their /64 (the port is not part of it). Equal addresses give equal
 * tokens under one key; without the key a token cannot be turned back
 * into an address or matched against a guess. buf holds >= 22 bytes.
 * Returns buf. */
const char *evidence_pseudonymise(const struct evidence_pseudonym *p, const struct event_addr *a,
				  char *buf, size_t len);

#endif
