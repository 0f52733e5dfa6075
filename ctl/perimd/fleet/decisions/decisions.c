// SPDX-License-Identifier: GPL-2.0
/* The fleet decisions table and its apply: every batch is one transaction on the maps. */
#include <search.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "daemon.h"
#include "fleet/decisions/decisions.h"
#include "fleet/link.h"
#include "log.h"
#include "names.h"

#define COALESCE_MS 200
#define COALESCE_SNAPSHOT_MS 1000

struct stored {
	struct perimd_fleet_decision dec;
	uint64_t seen_gen;
};

static int key_cmp(const void *a, const void *b)
{
	return strcmp(((const struct stored *)a)->dec.key, ((const struct stored *)b)->dec.key);
}

void fleet_decisions_init(struct fleet_decisions *ds)
{
	memset(ds, 0, sizeof(*ds));
}

void fleet_decisions_free(struct fleet_decisions *ds)
{
	tdestroy(ds->root, free);
	ds->root = NULL;
	ds->n = 0;
}

static struct stored *find(const struct fleet_decisions *ds, const char *key)
{
	struct stored probe;
	void *const *hit;

	snprintf(probe.dec.key, sizeof(probe.dec.key), "%s", key);
	hit = tfind(&probe, &ds->root, key_cmp);
	return hit ? *(struct stored *const *)hit : NULL;
}

const struct perimd_fleet_decision *fleet_decisions_find(const struct fleet_decisions *ds, const char *key)
{
	struct stored *s = find(ds, key);

	return s ? &s->dec : NULL;
}

bool fleet_decisions_active(const struct perimd_fleet_decision *dec, uint64_t now_ms)
{
	uint64_t until = perimd_fleet_decision_expires_ms(dec);

	return !until || now_ms < until;
}

static void remove_key(struct fleet_decisions *ds, const char *key)
{
	struct stored *s = find(ds, key);

	if (!s)
		return;
	tdelete(s, &ds->root, key_cmp);
	free(s);
	ds->n--;
	ds->dirty = true;
}

static void store(struct fleet_decisions *ds, const struct perimd_fleet_decision *dec)
{
	struct stored *s = find(ds, dec->key);

	if (s) {
		s->dec = *dec;
		s->seen_gen = ds->snapshot_gen;
		ds->dirty = true;
		return;
	}
	if (ds->n >= PERIMD_FLEET_MAX_DECISIONS) {
		ds->rejected_cap++;
		pr_warn("perimd: fleet: decision %s rejected: this gateway holds %d decisions, the cap\n",
			dec->key, PERIMD_FLEET_MAX_DECISIONS);
		return;
	}
	s = malloc(sizeof(*s));
	if (s) {
		s->dec = *dec;
		s->seen_gen = ds->snapshot_gen;
	}
	if (!s || !tsearch(s, &ds->root, key_cmp)) {
		free(s);
		ds->apply_failures++;
		pr_warn("perimd: fleet: decision %s: out of memory\n", dec->key);
		return;
	}
	ds->n++;
	ds->dirty = true;
}

static void take_entry(struct fleet_decisions *ds, const struct fleet_msg *m)
{
	struct perimd_fleet_decision dec;
	char why[256];

	ds->lag_entries = m->delta;
	if (m->revision > ds->seen_revision)
		ds->seen_revision = m->revision;
	if (m->deleted) {
		remove_key(ds, m->key);
		if (m->revision > ds->last_revision)
			ds->last_revision = m->revision;
		return;
	}
	if (perimd_fleet_decision_parse(m->key, m->value ? m->value : "", m->value_len, &dec, why, sizeof(why))) {
		ds->rejected_malformed++;
		pr_warn("perimd: fleet: decision under key \"%s\" (revision %llu) rejected: %s\n", m->key,
			(unsigned long long)m->revision, why);
		/* A key the bucket still has keeps its last good decision through a reconcile. */
		if (find(ds, m->key))
			find(ds, m->key)->seen_gen = ds->snapshot_gen;
		return;
	}
	dec.revision = m->revision;
	store(ds, &dec);
}

struct sweep {
	struct fleet_decisions *ds;
	struct stored **stale;
	unsigned n_stale;
	struct perim_prefix *prefixes;
	unsigned n_prefixes;
	uint64_t now_ms, next_expiry_ms, newest_created_ms, newest_rev;
};

static void collect_stale(const void *node, VISIT which, void *arg)
{
	struct sweep *sw = arg;
	struct stored *s = *(struct stored *const *)node;

	if ((which == postorder || which == leaf) && s->seen_gen != sw->ds->snapshot_gen)
		sw->stale[sw->n_stale++] = s;
}

/* The watch run is complete: what it did not deliver is no longer in the bucket. */
static void reconcile(struct fleet_decisions *ds)
{
	struct sweep sw = { .ds = ds };

	if (!ds->n)
		return;
	sw.stale = malloc(ds->n * sizeof(*sw.stale));
	if (!sw.stale) {
		pr_warn("perimd: fleet: reconcile: out of memory; stale decisions stay until the next one\n");
		return;
	}
	twalk_r(ds->root, collect_stale, &sw);
	for (unsigned i = 0; i < sw.n_stale; i++) {
		pr_info("perimd: fleet: %s is no longer in the bucket: removed\n", sw.stale[i]->dec.key);
		remove_key(ds, sw.stale[i]->dec.key);
	}
	ds->removed_by_reconcile += sw.n_stale;
	free(sw.stale);
}

void fleet_decisions_take(struct fleet_decisions *ds, const struct fleet_msg *m)
{
	switch (m->kind) {
	case FLEET_MSG_SNAPSHOT_BEGIN:
		ds->snapshot_gen++;
		ds->in_snapshot = true;
		ds->snapshot_start_ms = m->watch_start_ms;
		ds->snapshot_entries = 0;
		break;
	case FLEET_MSG_SNAPSHOT_END:
		if (ds->in_snapshot)
			reconcile(ds);
		/* Whatever the bucket holds, even nothing, now replaces what the pins had. */
		if (ds->hold_for_snapshot)
			ds->dirty = true;
		ds->in_snapshot = false;
		ds->snapshots++;
		/* Its catch-up ends with the apply of what it brought, or now if it brought no change. */
		ds->snapshot_timing = ds->dirty;
		if (!ds->dirty) {
			ds->catchup_ms = fleet_now_ms() - ds->snapshot_start_ms;
			ds->catchup_entries = ds->snapshot_entries;
		}
		break;
	case FLEET_MSG_ENTRY:
		ds->snapshot_entries += ds->in_snapshot;
		take_entry(ds, m);
		break;
	default:
		break;
	}
}

static void collect_active(const void *node, VISIT which, void *arg)
{
	struct sweep *sw = arg;
	const struct stored *s = *(struct stored *const *)node;
	uint64_t until;

	if (which != postorder && which != leaf)
		return;
	if (s->dec.revision > sw->newest_rev) {
		sw->newest_rev = s->dec.revision;
		sw->newest_created_ms = s->dec.created_ms;
	}
	if (!fleet_decisions_active(&s->dec, sw->now_ms))
		return;
	sw->prefixes[sw->n_prefixes++] = s->dec.prefix;
	until = perimd_fleet_decision_expires_ms(&s->dec);
	if (until && (!sw->next_expiry_ms || until < sw->next_expiry_ms))
		sw->next_expiry_ms = until;
}

static int apply_prefixes(struct perimd *d, const struct perim_prefix *p, unsigned n, char *err, size_t errlen)
{
	struct perim_model *next = perim_model_dup(d->model);
	int ret;

	if (!next || perim_model_fleet_set(next, p, n)) {
		perim_model_free(next);
		snprintf(err, errlen, "out of memory");
		return PERIM_EXIT_FAIL;
	}
	ret = perim_apply(&d->loader.maps, d->installed, next, err, errlen);
	if (ret) {
		perim_model_free(next);
		return ret;
	}
	perim_model_free(d->model);
	d->model = next;
	return 0;
}

/*
 * From one apply's start to the next: an apply flattens every decision, so
 * with thousands in force it is spaced by its own cost (applying takes at
 * most half of the loop's time, a quarter within a burst) and the entries
 * arriving meanwhile are read and go into the next one. Within a burst, at
 * least COALESCE_MS. With few decisions this is a few milliseconds.
 */
static uint64_t apply_gap_ms(const struct fleet_decisions *ds)
{
	uint64_t cost_ms = ds->last_apply_ns / 1000000;

	if (!ds->lag_entries)
		return 2 * cost_ms;
	return 4 * cost_ms > COALESCE_MS ? 4 * cost_ms : COALESCE_MS;
}

void fleet_decisions_sync(struct fleet_decisions *ds, struct perimd *d)
{
	struct sweep sw = { .ds = ds, .now_ms = fleet_now_ms() };
	uint64_t t0;
	char err[512];
	int ret;

	if (!ds->dirty && !(ds->next_expiry_ms && sw.now_ms >= ds->next_expiry_ms))
		return;
	/*
	 * More entries are right behind (a burst of blocks, or a catch-up until
	 * the watch's initial values are all in): one transaction for them all,
	 * at most COALESCE_MS (COALESCE_SNAPSHOT_MS) later (the expiry tick comes
	 * back), instead of a flatten of everything per handful.
	 */
	if (ds->hold_for_snapshot && !ds->snapshots)
		return;
	if (ds->in_snapshot && sw.now_ms - ds->last_apply_ms < COALESCE_SNAPSHOT_MS)
		return;
	if (sw.now_ms - ds->last_apply_ms < apply_gap_ms(ds))
		return;
	sw.prefixes = malloc((ds->n ? ds->n : 1) * sizeof(*sw.prefixes));
	if (!sw.prefixes) {
		ds->apply_failures++;
		return;
	}
	t0 = perim_mono_ns();
	twalk_r(ds->root, collect_active, &sw);
	ds->applies++;
	ds->last_apply_ms = sw.now_ms;
	ret = apply_prefixes(d, sw.prefixes, sw.n_prefixes, err, sizeof(err));
	ds->last_apply_ns = perim_mono_ns() - t0;
	ds->apply_ns_total += ds->last_apply_ns;
	if (ret) {
		/* The maps are back as they were; the next change or tick tries again. */
		ds->apply_failures++;
		pr_warn("perimd: fleet: applying %u decisions: %s\n", sw.n_prefixes, err);
		free(sw.prefixes);
		return;
	}
	free(sw.prefixes);
	if (sw.newest_rev > ds->last_revision) {
		ds->last_revision = sw.newest_rev;
		ds->last_latency_ms = sw.now_ms > sw.newest_created_ms ? sw.now_ms - sw.newest_created_ms : 0;
	}
	ds->n_active = sw.n_prefixes;
	if (ds->snapshot_timing) {
		ds->snapshot_timing = false;
		ds->catchup_ms = fleet_now_ms() - ds->snapshot_start_ms;
		ds->catchup_entries = ds->snapshot_entries;
	}
	ds->hold_for_snapshot = false;
	ds->next_expiry_ms = sw.next_expiry_ms;
	ds->dirty = false;
}

static void add_decision_json(const void *node, VISIT which, void *arg)
{
	const struct stored *s = *(struct stored *const *)node;
	struct json_object *list = arg, *o;
	char prefix[64];

	if ((which != postorder && which != leaf) || !fleet_decisions_active(&s->dec, fleet_now_ms()))
		return;
	o = json_object_new_object();
	perim_prefix_format(&s->dec.prefix, prefix, sizeof(prefix));
	json_object_object_add(o, "prefix", json_object_new_string(prefix));
	json_object_object_add(o, "key", json_object_new_string(s->dec.key));
	json_object_object_add(o, "ttl", json_object_new_int64(s->dec.ttl_s));
	json_object_object_add(o, "reason", json_object_new_string(s->dec.reason));
	json_object_object_add(o, "created_ms", json_object_new_int64(s->dec.created_ms));
	json_object_object_add(o, "expires_ms", json_object_new_int64(perimd_fleet_decision_expires_ms(&s->dec)));
	json_object_object_add(o, "author", json_object_new_string(s->dec.author));
	json_object_object_add(o, "revision", json_object_new_int64(s->dec.revision));
	json_object_array_add(list, o);
}

struct json_object *fleet_decisions_json(const struct fleet_decisions *ds)
{
	struct json_object *r = json_object_new_object(), *list = json_object_new_array();

	twalk_r(ds->root, add_decision_json, list);
	json_object_object_add(r, "decisions", list);
	json_object_object_add(r, "count", json_object_new_int64(json_object_array_length(list)));
	json_object_object_add(r, "cap", json_object_new_int64(PERIMD_FLEET_MAX_DECISIONS));
	return r;
}

/*
 * A decision listed is one the pins enforce after a stop: whatever the spacing
 * held back goes to the maps before perimd leaves them to enforce alone.
 */
void fleet_decisions_flush(struct fleet_decisions *ds, struct perimd *d)
{
	ds->last_apply_ms = 0;
	fleet_decisions_sync(ds, d);
}
