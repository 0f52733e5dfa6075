// SPDX-License-Identifier: GPL-2.0
/* Nkeys: base32 and CRC-16 as nkeys define them, Ed25519 from OpenSSL. */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "fleet/nkey.h"

#define PREFIX_SEED (18 << 3) /* 'S' */
#define SEED_RAW 36           /* 2 prefix bytes, 32 seed bytes, CRC */
#define PUBLIC_RAW 35         /* 1 prefix byte, 32 key bytes, CRC */

static const char B32[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

/* CRC-16/XMODEM (polynomial 0x1021, initial 0), stored little-endian after the data. */
static uint16_t crc16(const uint8_t *p, size_t n)
{
	uint16_t crc = 0;

	while (n--) {
		crc ^= (uint16_t)(*p++) << 8;
		for (int b = 0; b < 8; b++)
			crc = crc & 0x8000 ? (uint16_t)(crc << 1) ^ 0x1021 : (uint16_t)(crc << 1);
	}
	return crc;
}

void fleet_nkey_base32(const uint8_t *in, size_t n, char *out)
{
	unsigned bits = 0, acc = 0;

	for (size_t i = 0; i < n; i++) {
		acc = (acc << 8) | in[i];
		for (bits += 8; bits >= 5; bits -= 5)
			*out++ = B32[(acc >> (bits - 5)) & 31];
	}
	if (bits)
		*out++ = B32[(acc << (5 - bits)) & 31];
	*out = '\0';
}

/* Exactly n bytes from len characters, or false. */
static bool base32_decode(const char *in, size_t len, uint8_t *out, size_t n)
{
	unsigned bits = 0, acc = 0;
	size_t got = 0;

	for (size_t i = 0; i < len; i++) {
		const char *c = in[i] ? strchr(B32, in[i]) : NULL;

		if (!c)
			return false;
		acc = (acc << 5) | (unsigned)(c - B32);
		bits += 5;
		if (bits >= 8) {
			if (got == n)
				return false;
			out[got++] = (uint8_t)(acc >> (bits - 8));
			bits -= 8;
		}
	}
	/* The last character's unused low bits are zero in a canonical encoding. */
	return got == n && !(acc & ((1u << bits) - 1));
}

static void encode_with_crc(uint8_t *raw, size_t n_data, char *out)
{
	uint16_t crc = crc16(raw, n_data);

	raw[n_data] = crc & 0xff;
	raw[n_data + 1] = crc >> 8;
	fleet_nkey_base32(raw, n_data + 2, out);
}

static const char *kind_name(enum fleet_nkey_kind k)
{
	return k == FLEET_NKEY_USER ? "a user seed (SU...)" : k == FLEET_NKEY_ACCOUNT ? "an account seed (SA...)"
										  : "an operator seed (SO...)";
}

void fleet_nkey_seed(enum fleet_nkey_kind k, const uint8_t key[32], char seed[FLEET_NKEY_SEED_LEN + 1])
{
	uint8_t raw[SEED_RAW];

	raw[0] = PREFIX_SEED | (k >> 5);
	raw[1] = (k & 31) << 3;
	memcpy(raw + 2, key, 32);
	encode_with_crc(raw, 34, seed);
	OPENSSL_cleanse(raw, sizeof(raw));
}

void fleet_nkey_user_seed(const uint8_t key[32], char seed[FLEET_NKEY_SEED_LEN + 1])
{
	fleet_nkey_seed(FLEET_NKEY_USER, key, seed);
}

static int ed25519_public(const uint8_t seed[32], uint8_t pub[32])
{
	EVP_PKEY *k = EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, NULL, seed, 32);
	size_t len = 32;
	int ok = k && EVP_PKEY_get_raw_public_key(k, pub, &len) == 1 && len == 32;

	EVP_PKEY_free(k);
	return ok ? 0 : -1;
}

int fleet_nkey_seed_raw(enum fleet_nkey_kind k, const char *seed, uint8_t key[32], char *why, size_t whylen)
{
	uint8_t raw[SEED_RAW];
	int ret = -1;

	if (strlen(seed) != FLEET_NKEY_SEED_LEN || !base32_decode(seed, FLEET_NKEY_SEED_LEN, raw, sizeof(raw)))
		snprintf(why, whylen, "the seed is not %d base32 characters", FLEET_NKEY_SEED_LEN);
	else if (crc16(raw, 34) != (raw[34] | raw[35] << 8))
		snprintf(why, whylen, "the seed's checksum is wrong");
	else if ((raw[0] & 0xf8) != PREFIX_SEED || (unsigned)(((raw[0] & 7) << 5) | (raw[1] >> 3)) != (unsigned)k)
		snprintf(why, whylen, "not %s", kind_name(k));
	else {
		memcpy(key, raw + 2, 32);
		ret = 0;
	}
	OPENSSL_cleanse(raw, sizeof(raw));
	return ret;
}

int fleet_nkey_public(enum fleet_nkey_kind k, const char *seed, char pub[FLEET_NKEY_PUBLIC_LEN + 1],
		      char *why, size_t whylen)
{
	uint8_t key[32], out[PUBLIC_RAW];
	int ret = -1;

	if (fleet_nkey_seed_raw(k, seed, key, why, whylen))
		return -1;
	if (ed25519_public(key, out + 1))
		snprintf(why, whylen, "OpenSSL refused the Ed25519 seed");
	else {
		out[0] = k;
		encode_with_crc(out, 33, pub);
		ret = 0;
	}
	OPENSSL_cleanse(key, sizeof(key));
	return ret;
}

int fleet_nkey_user_public(const char *seed, char pub[FLEET_NKEY_PUBLIC_LEN + 1], char *why, size_t whylen)
{
	return fleet_nkey_public(FLEET_NKEY_USER, seed, pub, why, whylen);
}
