/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The fleet's decisions as this gateway knows them (the loop's side): the
 * bucket's entries, checked, in a table by key; turned into the model's
 * fleet prefixes and applied to the maps in one transaction per batch of
 * entries, and again when a decision's TTL runs out.
 */
#ifndef PERIMD_FLEET_DECISIONS_H
#define PERIMD_FLEET_DECISIONS_H

#include <stdbool.h>
#include <stdint.h>

#include <json-c/json.h>

#include "fleet/decisions/decision.h"
#include "fleet/inbox.h"

struct perimd;

struct fleet_decisions {
	void *root;                /* tsearch tree of struct perimd_fleet_decision, by key */
	unsigned n;                /* in the tree, expired ones included */
	unsigned n_active;         /* applied after the last apply */
	uint64_t snapshot_gen;     /* the watch run the entries below were seen in */
	bool in_snapshot;
	bool dirty;                /* the tree changed since the last apply */
	bool hold_for_snapshot;    /* the model holds entries recovered from the pins: no apply before a full read */
	uint64_t next_expiry_ms;   /* the soonest expiry among applied decisions, 0: none */
	uint64_t last_apply_ms;
	/* For status and metrics: */
	uint64_t last_revision;    /* the newest revision applied */
	uint64_t seen_revision;    /* the newest revision taken (applied, removed or rejected) */
	uint64_t lag_entries;      /* what the watcher still had to deliver, at the last entry */
	uint64_t last_latency_ms;  /* created -> applied, for the last new decision */
	uint64_t applies, apply_failures;
	uint64_t apply_ns_total;   /* time inside applies (flatten + map transaction) */
	uint64_t last_apply_ns;    /* the last one's: spaces the applies of a burst */
	uint64_t rejected_malformed, rejected_cap;
	uint64_t snapshots;
	/* The last full read of the bucket: watch start to its entries applied. */
	uint64_t snapshot_start_ms, snapshot_entries;
	bool snapshot_timing;      /* ended, its apply still to come */
	uint64_t catchup_ms, catchup_entries;
	uint64_t removed_by_reconcile;
};

void fleet_decisions_init(struct fleet_decisions *ds);
void fleet_decisions_free(struct fleet_decisions *ds);

/* One message from the watcher (ENTRY, SNAPSHOT_BEGIN, SNAPSHOT_END). */
void fleet_decisions_take(struct fleet_decisions *ds, const struct fleet_msg *m);

/* Applies the tree to the maps when it changed or a decision expired. */
void fleet_decisions_sync(struct fleet_decisions *ds, struct perimd *d);

/* The same at once, past the spacing between applies: perimd is stopping. */
void fleet_decisions_flush(struct fleet_decisions *ds, struct perimd *d);

const struct perimd_fleet_decision *fleet_decisions_find(const struct fleet_decisions *ds, const char *key);
bool fleet_decisions_active(const struct perimd_fleet_decision *dec, uint64_t now_ms);

/* {"decisions":[{prefix,key,ttl,reason,created_ms,expires_ms,author,revision}],"count","cap"} */
struct json_object *fleet_decisions_json(const struct fleet_decisions *ds);

#endif /* PERIMD_FLEET_DECISIONS_H */
