// SPDX-License-Identifier: GPL-2.0
/*
 * natsnkey: a fresh NATS user nkey for the fleet tests (nats-server cannot
 * make one and `nk` is not packaged).
 *   natsnkey FILE   writes the seed (SU...) to FILE, mode 0600, and prints
 *                   the public key (U...) the server's config lists.
 * Exit 0, or 1 with the reason.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "fleet/nkey.h"

int main(int argc, char **argv)
{
	uint8_t raw[32];
	char seed[FLEET_NKEY_SEED_LEN + 1], pub[FLEET_NKEY_PUBLIC_LEN + 1], why[128];
	int fd, ok;

	if (argc != 2) {
		fprintf(stderr, "usage: natsnkey FILE\n");
		return 1;
	}
	if (RAND_bytes(raw, sizeof(raw)) != 1) {
		fprintf(stderr, "natsnkey: no random bytes from OpenSSL\n");
		return 1;
	}
	fleet_nkey_user_seed(raw, seed);
	OPENSSL_cleanse(raw, sizeof(raw));
	if (fleet_nkey_user_public(seed, pub, why, sizeof(why))) {
		fprintf(stderr, "natsnkey: %s\n", why);
		return 1;
	}
	fd = open(argv[1], O_WRONLY | O_CREAT | O_TRUNC, 0600);
	if (fd < 0) {
		fprintf(stderr, "natsnkey: %s: %s\n", argv[1], strerror(errno));
		return 1;
	}
	ok = dprintf(fd, "%s\n", seed) == FLEET_NKEY_SEED_LEN + 1;
	if (close(fd) < 0 || !ok) {
		fprintf(stderr, "natsnkey: writing %s failed\n", argv[1]);
		return 1;
	}
	printf("%s\n", pub);
	return 0;
}
