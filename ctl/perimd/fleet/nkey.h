/* SPDX-License-Identifier: GPL-2.0 */
/*
 * NATS nkeys for a user: the printable seed (`SU...`, 58 characters) and the
 * public key the server is configured with (`U...`, 56). An nkey is a type
 * prefix, the 32 bytes of an Ed25519 seed or public key and a CRC-16, in
 * base32 (RFC 4648, no padding). libnats signs the server's nonce itself; it
 * needs the public key beside the seed file, which is derived here.
 */
#ifndef PERIMD_FLEET_NKEY_H
#define PERIMD_FLEET_NKEY_H

#include <stddef.h>
#include <stdint.h>

#define FLEET_NKEY_SEED_LEN 58
#define FLEET_NKEY_PUBLIC_LEN 56

/* The public key of a user seed (text, exactly FLEET_NKEY_SEED_LEN characters). 0, or -1 with why set. */
int fleet_nkey_user_public(const char *seed, char pub[FLEET_NKEY_PUBLIC_LEN + 1], char *why, size_t whylen);

/* The printable user seed of 32 raw seed bytes. */
void fleet_nkey_user_seed(const uint8_t raw[32], char seed[FLEET_NKEY_SEED_LEN + 1]);

#endif /* PERIMD_FLEET_NKEY_H */
