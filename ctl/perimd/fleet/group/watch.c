// SPDX-License-Identifier: GPL-2.0
/*
 * The group watcher thread (--fleet-group only): watches the group's key in
 * perim-rulesets and hands each revision to the loop. A watch starts with
 * the key's current value (then a NULL entry: caught up); after a reconnect
 * or missed heartbeats it starts over, so a gateway that was cut off
 * converges on the current revision.
 */
#include <stdlib.h>
#include <string.h>

#include "fleet/group/group_int.h"
#include "log.h"

#define NEXT_TIMEOUT_MS 250
#define RETRY_MS 500

static void push_entry(struct fleet_group *g, kvEntry *e)
{
	struct fleet_msg *m = fleet_msg_new(FLEET_MSG_ENTRY);
	kvOperation op = kvEntry_Operation(e);
	int len = kvEntry_ValueLen(e);

	if (!m)
		return;
	snprintf(m->key, sizeof(m->key), "%s", kvEntry_Key(e));
	m->revision = kvEntry_Revision(e);
	m->delta = kvEntry_Delta(e);
	m->deleted = op == kvOp_Delete || op == kvOp_Purge;
	m->value = malloc(len > 0 ? len + 1 : 1);
	if (!m->value) {
		fleet_msg_free(m);
		return;
	}
	if (!m->deleted && len > 0)
		memcpy(m->value, kvEntry_Value(e), len);
	m->value_len = m->deleted || len < 0 ? 0 : len;
	m->value[m->value_len] = '\0';
	fleet_inbox_push(g->inbox, m);
}

static void push_caught_up(struct fleet_group *g)
{
	struct fleet_msg *m = fleet_msg_new(FLEET_MSG_SNAPSHOT_END);

	if (m)
		fleet_inbox_push(g->inbox, m);
}

static bool same_gen(struct fleet_group *g, uint64_t gen)
{
	uint64_t now;

	fleet_group_link_gen(g, &now);
	return now == gen;
}

/* One watch, until an error, a reconnect or stop. */
static void watch_once(struct fleet_group *g, kvStore *kv, uint64_t gen)
{
	kvWatchOptions wo;
	kvWatcher *w = NULL;
	kvEntry *e;
	natsStatus s;

	kvWatchOptions_Init(&wo);
	s = kvStore_Watch(&w, kv, g->group, &wo);
	if (s != NATS_OK) {
		pr_warn("perimd: fleet: watching %s/%s: %s\n", FLEET_GROUP_RULESETS_BUCKET, g->group,
			natsStatus_GetText(s));
		fleet_group_wait(g, RETRY_MS);
		return;
	}
	while (fleet_group_wait(g, 0) && same_gen(g, gen)) {
		e = NULL;
		s = kvWatcher_Next(&e, w, NEXT_TIMEOUT_MS);
		if (s == NATS_TIMEOUT)
			continue;
		if (s != NATS_OK) {
			pr_warn("perimd: fleet: group watch: %s\n", natsStatus_GetText(s));
			break;
		}
		if (!e) {
			push_caught_up(g);
			continue;
		}
		push_entry(g, e);
		kvEntry_Destroy(e);
	}
	kvWatcher_Destroy(w);
}

void *fleet_group_watcher_main(void *arg)
{
	struct fleet_group *g = arg;
	jsCtx *js = NULL;
	kvStore *kv = NULL;
	bool told = false;
	uint64_t gen;
	natsStatus s;

	while (fleet_group_wait(g, 0)) {
		if (!fleet_group_link_gen(g, &gen)) {
			fleet_group_wait(g, RETRY_MS);
			continue;
		}
		if (!kv) {
			s = fleet_group_bucket(g, &js, &kv, FLEET_GROUP_RULESETS_BUCKET, FLEET_GROUP_RULESET_MAX, true);
			if (s != NATS_OK) {
				if (!told)
					pr_warn("perimd: fleet: bucket %s: %s (retrying)\n", FLEET_GROUP_RULESETS_BUCKET,
						natsStatus_GetText(s));
				told = true;
				kv = NULL;
				fleet_group_wait(g, RETRY_MS);
				continue;
			}
		}
		watch_once(g, kv, gen);
	}
	kvStore_Destroy(kv);
	jsCtx_Destroy(js);
	return NULL;
}
