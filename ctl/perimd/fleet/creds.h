/* SPDX-License-Identifier: GPL-2.0 */
/*
 * --fleet-creds FILE: either a NATS user credentials file (a user JWT and its
 * nkey seed, as `nsc` writes them) or a user nkey seed alone (`SU...`, bare or
 * between `-----BEGIN USER NKEY SEED-----` lines, as `nk -gen user` writes it)
 * for a server that lists the user's public nkey.
 */
#ifndef PERIMD_FLEET_CREDS_H
#define PERIMD_FLEET_CREDS_H

#include <stdbool.h>
#include <stddef.h>

#include <nats/nats.h>

#include "fleet/nkey.h"

struct fleet_creds {
	bool jwt;                                     /* a credentials file: JWT and seed */
	char nkey_public[FLEET_NKEY_PUBLIC_LEN + 1];  /* the seed's user's public key (a JWT's subject) */
};

/* Reads and checks FILE. 0, or -1 with why naming what is wrong. */
int fleet_creds_read(const char *path, struct fleet_creds *c, char *why, size_t whylen);

/* Hands FILE to libnats in the form it has. NATS_OK or libnats' status (why set). */
natsStatus fleet_creds_set(natsOptions *opts, const char *path, char *why, size_t whylen);

#endif /* PERIMD_FLEET_CREDS_H */
