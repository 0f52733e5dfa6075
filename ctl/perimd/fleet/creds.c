// SPDX-License-Identifier: GPL-2.0
/* --fleet-creds: a credentials file (JWT and seed) or a user nkey seed, told apart and checked. */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include <openssl/crypto.h>

#include "fleet/creds.h"

#define CREDS_MAX 16384

static int read_small(const char *path, char *buf, size_t len, char *why, size_t whylen)
{
	FILE *f = fopen(path, "r");
	struct stat st;
	size_t n;

	if (!f)
		return snprintf(why, whylen, "cannot read it: %s", strerror(errno)), -1;
	if (fstat(fileno(f), &st) < 0 || !S_ISREG(st.st_mode) || st.st_size >= (off_t)len) {
		fclose(f);
		return snprintf(why, whylen, "not a regular file under %zu bytes", len), -1;
	}
	n = fread(buf, 1, len - 1, f);
	buf[n] = '\0';
	if (ferror(f)) {
		fclose(f);
		return snprintf(why, whylen, "reading it failed"), -1;
	}
	fclose(f);
	return 0;
}

/* The first word starting "SU": the seed, whether bare or inside its armour lines. */
static int find_seed(const char *text, char seed[FLEET_NKEY_SEED_LEN + 1])
{
	for (const char *p = text; (p = strstr(p, "SU")); p++) {
		size_t n = 0;

		if (p > text && isalnum((unsigned char)p[-1]))
			continue;
		while (isalnum((unsigned char)p[n]))
			n++;
		if (n == FLEET_NKEY_SEED_LEN) {
			memcpy(seed, p, n);
			seed[n] = '\0';
			return 0;
		}
	}
	return -1;
}

int fleet_creds_read(const char *path, struct fleet_creds *c, char *why, size_t whylen)
{
	char text[CREDS_MAX];
	char seed[FLEET_NKEY_SEED_LEN + 1], pub[FLEET_NKEY_PUBLIC_LEN + 1];
	int ret;

	memset(c, 0, sizeof(*c));
	if (read_small(path, text, sizeof(text), why, whylen))
		return -1;
	ret = find_seed(text, seed);
	c->jwt = strstr(text, "-----BEGIN NATS USER JWT-----") != NULL;
	OPENSSL_cleanse(text, sizeof(text));
	if (ret)
		return snprintf(why, whylen, "no user nkey seed (a %d-character word starting SU) in it",
				FLEET_NKEY_SEED_LEN), -1;
	ret = fleet_nkey_user_public(seed, pub, why, whylen);
	OPENSSL_cleanse(seed, sizeof(seed));
	if (ret)
		return -1;
	memcpy(c->nkey_public, pub, sizeof(pub));
	return 0;
}

natsStatus fleet_creds_set(natsOptions *opts, const char *path, char *why, size_t whylen)
{
	struct fleet_creds c;
	natsStatus s;

	if (fleet_creds_read(path, &c, why, whylen))
		return NATS_INVALID_ARG;
	if (c.jwt)
		s = natsOptions_SetUserCredentialsFromFiles(opts, path, NULL);
	else
		s = natsOptions_SetNKeyFromSeed(opts, c.nkey_public, path);
	if (s != NATS_OK)
		snprintf(why, whylen, "%s", natsStatus_GetText(s));
	return s;
}
