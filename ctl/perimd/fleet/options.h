/* SPDX-License-Identifier: GPL-2.0 */
/* perimd's fleet options (--fleet, --fleet-name, ...): parsed with the others by config.c. */
#ifndef PERIMD_FLEET_OPTIONS_H
#define PERIMD_FLEET_OPTIONS_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>

#define PERIMD_FLEET_MAX_SERVERS 8
#define PERIMD_FLEET_NAME_MAX 64

/* Event types --fleet-events may name, a bit each (the tracers' types plus "drops"). */
#define PERIMD_FLEET_EVENTS_MAX_TYPES 32

struct perimd_fleet_opts {
	char servers[1024];            /* --fleet as given: "nats://h:p[,nats://...]"; empty: no fleet */
	char name[PERIMD_FLEET_NAME_MAX];   /* --fleet-name; empty: the hostname */
	char group[PERIMD_FLEET_NAME_MAX];  /* --fleet-group; empty: none */
	char creds[PATH_MAX];          /* --fleet-creds: a NATS credentials file or a user nkey seed */
	char creds_nkey[57];           /* the seed's public user nkey (shown as the account), of a JWT too */
	char tls_ca[PATH_MAX];         /* --fleet-tls-ca: CA bundle; implies TLS */
	char events[256];              /* --fleet-events: "exec,connect,..." as given */
};

/*
 * One fleet option by its long name without dashes ("fleet", "fleet-name",
 * ...). Returns 0, or -1 with why set (the value is wrong), or 1 when name
 * is not a fleet option.
 */
int perimd_fleet_opt_apply(struct perimd_fleet_opts *o, const char *name, const char *value,
			   char *why, size_t whylen);

/* Checks that need every option (--fleet-name without --fleet, ...). 0 or -1 with why. */
int perimd_fleet_opts_check(const struct perimd_fleet_opts *o, char *why, size_t whylen);

/* Splits servers into at most PERIMD_FLEET_MAX_SERVERS URLs (pointers into buf). Returns the count. */
int perimd_fleet_servers_split(const char *servers, char *buf, size_t buflen, const char **urls);

/* servers with any "user:password@" left out: what logs and status show. */
void perimd_fleet_servers_display(const char *servers, char *out, size_t len);

/* The user named in the first URL's "user[:password]@", or "" (the account fleet status shows). */
void perimd_fleet_servers_user(const char *servers, char *out, size_t len);

/*
 * A subject token or KV key part: [A-Za-z0-9_-]+, at most
 * PERIMD_FLEET_NAME_MAX - 1 bytes (no '.', '*', '>' or space).
 */
bool perimd_fleet_name_ok(const char *name);

#endif /* PERIMD_FLEET_OPTIONS_H */
