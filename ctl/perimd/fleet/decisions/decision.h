/* SPDX-License-Identifier: GPL-2.0 */
/*
 * One fleet block decision: its KV key (the prefix, ':' spelled '_' since
 * NATS keys allow [-/_=.A-Za-z0-9]) and its value, a JSON object
 *   {"prefix":"203.0.113.0/24","ttl":3600,"reason":"scan","created_ms":1733480000123,"author":"gw1"}
 * ttl in seconds, 0 = until unblocked; created_ms the author's wall clock.
 */
#ifndef PERIMD_FLEET_DECISION_H
#define PERIMD_FLEET_DECISION_H

#include <stddef.h>
#include <stdint.h>

#include "cmd.h"
#include "fleet/inbox.h"

#define PERIMD_FLEET_BUCKET "perim-decisions"
/* The most decisions a gateway applies: a quarter of one trie (PERIM_LPM_MAX_ENTRIES), local lists keep the rest. */
#define PERIMD_FLEET_MAX_DECISIONS 16384
#define PERIMD_FLEET_VALUE_MAX 1024
#define PERIMD_FLEET_REASON_MAX 128
#define PERIMD_FLEET_TTL_MAX_S (366u * 86400u)

struct perimd_fleet_decision {
	char key[FLEET_KEY_MAX];
	struct perim_prefix prefix;
	uint32_t ttl_s;
	uint64_t created_ms;
	char reason[PERIMD_FLEET_REASON_MAX];
	char author[64];
	uint64_t revision;         /* the KV revision it came with */
};

/* The KV key of a prefix. */
void perimd_fleet_key_of(const struct perim_prefix *p, char key[FLEET_KEY_MAX]);

/*
 * A value read from the bucket under key. 0, or -1 with why naming the bad
 * field; out is only written on success.
 */
int perimd_fleet_decision_parse(const char *key, const char *value, size_t len,
				struct perimd_fleet_decision *out, char *why, size_t whylen);

/* The value to store (malloc'ed JSON text), NULL when out of memory. */
char *perimd_fleet_decision_format(const struct perimd_fleet_decision *d);

/* When it stops applying (ms since the epoch), 0 for never. */
uint64_t perimd_fleet_decision_expires_ms(const struct perimd_fleet_decision *d);

#endif /* PERIMD_FLEET_DECISION_H */
