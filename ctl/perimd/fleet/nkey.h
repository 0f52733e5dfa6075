/* SPDX-License-Identifier: GPL-2.0 */
/*
 * NATS nkeys: the printable seed (`SU...` for a user, 58 characters) and the
 * public key the server is configured with (`U...`, 56). An nkey is a type
 * prefix, the 32 bytes of an Ed25519 seed or public key and a CRC-16, in
 * base32 (RFC 4648, no padding). libnats signs the server's nonce itself; it
 * needs the public key beside the seed file, which is derived here. The
 * operator and account kinds serve the tests' JWT maker (tests/tools/natsjwt).
 */
#ifndef PERIMD_FLEET_NKEY_H
#define PERIMD_FLEET_NKEY_H

#include <stddef.h>
#include <stdint.h>

#define FLEET_NKEY_SEED_LEN 58
#define FLEET_NKEY_PUBLIC_LEN 56

/* The type prefix byte of each kind: its first letter in base32 (A, O, U). */
enum fleet_nkey_kind {
	FLEET_NKEY_ACCOUNT = 0 << 3,
	FLEET_NKEY_OPERATOR = 14 << 3,
	FLEET_NKEY_USER = 20 << 3,
};

/* The printable seed of kind k from 32 raw seed bytes. */
void fleet_nkey_seed(enum fleet_nkey_kind k, const uint8_t raw[32], char seed[FLEET_NKEY_SEED_LEN + 1]);

/* The 32 raw bytes of a seed of kind k (text, FLEET_NKEY_SEED_LEN characters). 0, or -1 with why set. */
int fleet_nkey_seed_raw(enum fleet_nkey_kind k, const char *seed, uint8_t raw[32], char *why, size_t whylen);

/* The public key of a seed of kind k. 0, or -1 with why set. */
int fleet_nkey_public(enum fleet_nkey_kind k, const char *seed, char pub[FLEET_NKEY_PUBLIC_LEN + 1],
		      char *why, size_t whylen);

/* The public key of a user seed. 0, or -1 with why set. */
int fleet_nkey_user_public(const char *seed, char pub[FLEET_NKEY_PUBLIC_LEN + 1], char *why, size_t whylen);

/* The printable user seed of 32 raw seed bytes. */
void fleet_nkey_user_seed(const uint8_t raw[32], char seed[FLEET_NKEY_SEED_LEN + 1]);

/* n bytes in the nkeys' base32 (RFC 4648 alphabet, no padding); out holds (8n + 4) / 5 + 1. */
void fleet_nkey_base32(const uint8_t *in, size_t n, char *out);

#endif /* PERIMD_FLEET_NKEY_H */
