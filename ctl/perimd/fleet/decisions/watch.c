// SPDX-License-Identifier: GPL-2.0
/*
 * The watcher thread: bind (or create) the decisions bucket, watch every
 * key, hand each entry to the loop. A watch starts with the bucket's
 * current values and ends that run with a NULL entry (the loop then drops
 * local decisions the bucket no longer has); after a reconnect it starts
 * over, so an outage never leaves a removed decision in force.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fleet/link.h"
#include "log.h"

/* Also how soon the watcher sees a stop (fleet_link_stop gives it STOP_GRACE_MS). */
#define NEXT_TIMEOUT_MS 100
#define BATCH_MAX 512
#define BATCH_WAIT_MS 2    /* with a batch held: the next entry is late, hand the batch over */
#define RETRY_MS 500

static struct fleet_msg *entry_msg(kvEntry *e)
{
	struct fleet_msg *m = fleet_msg_new(FLEET_MSG_ENTRY);
	kvOperation op = kvEntry_Operation(e);
	int len = kvEntry_ValueLen(e);

	if (!m)
		return NULL;
	snprintf(m->key, sizeof(m->key), "%s", kvEntry_Key(e));
	m->revision = kvEntry_Revision(e);
	m->delta = kvEntry_Delta(e);
	m->deleted = op == kvOp_Delete || op == kvOp_Purge;
	if (strlen(kvEntry_Key(e)) >= sizeof(m->key)) {
		/* Longer than any prefix's key: the loop rejects it by its (cut) name. */
		m->value = strdup("");
		m->value_len = 0;
	} else if (!m->deleted && len >= 0) {
		m->value = malloc(len + 1);
		if (!m->value) {
			fleet_msg_free(m);
			return NULL;
		}
		memcpy(m->value, kvEntry_Value(e), len);
		m->value[len] = '\0';
		m->value_len = len;
	}
	return m;
}

/*
 * Entries the watch delivers back to back go to the loop together: one lock
 * and one wake-up per batch rather than per entry (a catch-up of thousands
 * was two context switches per decision).
 */
struct batch {
	struct fleet_msg *head, *tail;
	unsigned n;
};

static void batch_add(struct batch *b, struct fleet_msg *m)
{
	if (!m)
		return;
	m->next = NULL;
	if (b->tail)
		b->tail->next = m;
	else
		b->head = m;
	b->tail = m;
	b->n++;
}

static void batch_flush(struct fleet_link *l, struct batch *b)
{
	if (b->head)
		fleet_inbox_push_chain(l->inbox, b->head, b->tail);
	memset(b, 0, sizeof(*b));
}

static bool connected_gen(struct fleet_link *l, uint64_t *gen)
{
	bool up;

	pthread_mutex_lock(&l->mu);
	up = l->connected;
	*gen = l->watch_gen;
	pthread_mutex_unlock(&l->mu);
	return up;
}

/* Not stopping, and no reconnect since this watch started. */
static bool keep_watching(struct fleet_link *l, uint64_t gen)
{
	bool go_on;

	pthread_mutex_lock(&l->mu);
	go_on = !l->stop && l->watch_gen == gen;
	pthread_mutex_unlock(&l->mu);
	return go_on;
}

/* One watch, until an error, a reconnect or stop. */
static void watch_once(struct fleet_link *l, kvStore *kv, uint64_t gen)
{
	kvWatchOptions wo;
	kvWatcher *w = NULL;
	struct batch b = { 0 };
	uint64_t start_ms = fleet_now_ms();
	struct fleet_msg *begin;
	kvEntry *e;
	natsStatus s;

	kvWatchOptions_Init(&wo);
	s = kvStore_WatchAll(&w, kv, &wo);
	if (s != NATS_OK) {
		pr_warn("perimd: fleet: watching %s: %s\n", kvStore_Bucket(kv), natsStatus_GetText(s));
		fleet_link_wait(l, RETRY_MS);
		return;
	}
	begin = fleet_msg_new(FLEET_MSG_SNAPSHOT_BEGIN);
	if (begin) {
		begin->watch_start_ms = start_ms;
		fleet_inbox_push(l->inbox, begin);
	}
	while (keep_watching(l, gen)) {
		uint64_t delta;

		e = NULL;
		s = kvWatcher_Next(&e, w, b.n ? BATCH_WAIT_MS : NEXT_TIMEOUT_MS);
		if (s == NATS_TIMEOUT) {
			batch_flush(l, &b);
			continue;
		}
		if (s != NATS_OK) {
			pr_warn("perimd: fleet: watch: %s\n", natsStatus_GetText(s));
			break;
		}
		if (!e) {
			batch_add(&b, fleet_msg_new(FLEET_MSG_SNAPSHOT_END));
			batch_flush(l, &b);
			continue;
		}
		delta = kvEntry_Delta(e);
		batch_add(&b, entry_msg(e));
		kvEntry_Destroy(e);
		/* Nothing more pending: hand it over now, a lone block waits for nothing. */
		if (!delta || b.n >= BATCH_MAX)
			batch_flush(l, &b);
	}
	batch_flush(l, &b);
	kvWatcher_Destroy(w);
}

void *fleet_watcher_main(void *arg)
{
	struct fleet_link *l = arg;
	jsCtx *js = NULL;
	kvStore *kv = NULL;
	bool told = false;
	uint64_t gen;
	natsStatus s;

	while (fleet_link_wait(l, 0)) {
		if (!connected_gen(l, &gen)) {
			fleet_link_wait(l, RETRY_MS);
			continue;
		}
		if (!kv) {
			s = fleet_link_bucket(l, &js, &kv, true);
			if (s != NATS_OK) {
				if (!told)
					pr_warn("perimd: fleet: bucket: %s (retrying)\n", natsStatus_GetText(s));
				told = true;
				kv = NULL;
				fleet_link_wait(l, RETRY_MS);
				continue;
			}
		}
		watch_once(l, kv, gen);
	}
	kvStore_Destroy(kv);
	jsCtx_Destroy(js);
	return NULL;
}
