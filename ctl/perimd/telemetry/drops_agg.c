// SPDX-License-Identifier: GPL-2.0
/* Per-(interface, source) sample counts in one-second bins, ranked for `top`. */
#include <arpa/inet.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "telemetry/drops_agg.h"
#include "perim_drops.h"
#include "perim.h"
#include "names.h"

#define TABLE_CAP (2 * PERIMD_TOP_MAX_SOURCES)   /* open addressing, at most half full */
#define W PERIMD_TOP_WINDOW_S

/*
 * Bin i holds second sec[i]: its samples and the drops they stand for (the
 * sum of their weights); a bin from an older second counts as empty.
 */
struct bins {
	uint32_t samples[W];
	uint64_t drops[W];
	uint64_t sec[W];
};

struct sums {
	uint64_t samples, drops;
};

struct src_entry {
	bool used;
	uint8_t slot;
	uint8_t reason, proto;
	uint16_t dport;
	uint32_t rule;                 /* of the latest sample */
	uint8_t addr[16];
	uint8_t dst[16];               /* of the latest sample: whom the source was aimed at */
	struct bins bins;
};

struct perimd_drops_agg {
	struct src_entry *table;
	unsigned n_used;
	uint64_t last_sweep_sec;
	struct bins samples[PERIM_MAX_IFACES];
	struct bins untracked[PERIM_MAX_IFACES];
};

const char *perimd_drop_reason_name(unsigned reason)
{
	return perim_reason_names[reason < PERIM_REASON_MAX ? reason : PERIM_REASON_NONE];
}

/* ---- bins ---- */

static void bins_add(struct bins *b, uint64_t sec, uint32_t weight)
{
	unsigned i = sec % W;

	if (b->sec[i] != sec) {
		b->sec[i] = sec;
		b->samples[i] = 0;
		b->drops[i] = 0;
	}
	b->samples[i]++;
	b->drops[i] += weight;
}

static struct sums bins_sum(const struct bins *b, uint64_t now_sec)
{
	struct sums s = { 0, 0 };

	for (unsigned i = 0; i < W; i++) {
		if (b->sec[i] <= now_sec && b->sec[i] + W > now_sec) {
			s.samples += b->samples[i];
			s.drops += b->drops[i];
		}
	}
	return s;
}

/* ---- the table ---- */

struct perimd_drops_agg *perimd_drops_agg_new(void)
{
	struct perimd_drops_agg *a = calloc(1, sizeof(*a));

	if (!a)
		return NULL;
	a->table = calloc(TABLE_CAP, sizeof(*a->table));
	if (!a->table) {
		free(a);
		return NULL;
	}
	return a;
}

void perimd_drops_agg_free(struct perimd_drops_agg *a)
{
	if (!a)
		return;
	free(a->table);
	free(a);
}

static unsigned hash_key(uint8_t slot, const uint8_t addr[16])
{
	uint32_t h = 2166136261u ^ slot;

	for (int i = 0; i < 16; i++)
		h = (h ^ addr[i]) * 16777619u;
	return h % TABLE_CAP;
}

/* The entry of (slot, addr), or the free entry where it belongs. */
static struct src_entry *probe(struct src_entry *table, uint8_t slot, const uint8_t addr[16])
{
	unsigned i = hash_key(slot, addr);

	while (table[i].used && (table[i].slot != slot || memcmp(table[i].addr, addr, 16)))
		i = (i + 1) % TABLE_CAP;
	return &table[i];
}

/* Drop the sources with nothing left in the window: rebuild, since probing cannot skip holes. */
static void sweep(struct perimd_drops_agg *a, uint64_t now_sec)
{
	struct src_entry *old = a->table, *fresh = calloc(TABLE_CAP, sizeof(*fresh));

	a->last_sweep_sec = now_sec;
	if (!fresh)
		return;
	a->n_used = 0;
	for (unsigned i = 0; i < TABLE_CAP; i++) {
		if (!old[i].used || !bins_sum(&old[i].bins, now_sec).samples)
			continue;
		*probe(fresh, old[i].slot, old[i].addr) = old[i];
		a->n_used++;
	}
	a->table = fresh;
	free(old);
}

static struct src_entry *find_or_add(struct perimd_drops_agg *a, uint8_t slot, const uint8_t addr[16],
				     uint64_t now_sec)
{
	struct src_entry *e = probe(a->table, slot, addr);

	if (e->used)
		return e;
	if (a->n_used >= PERIMD_TOP_MAX_SOURCES) {
		if (a->last_sweep_sec == now_sec)
			return NULL;   /* at most one rebuild a second, however hard the flood */
		sweep(a, now_sec);
		if (a->n_used >= PERIMD_TOP_MAX_SOURCES)
			return NULL;
		e = probe(a->table, slot, addr);
	}
	memset(e, 0, sizeof(*e));
	e->used = true;
	e->slot = slot;
	memcpy(e->addr, addr, 16);
	a->n_used++;
	return e;
}

void perimd_drops_agg_add(struct perimd_drops_agg *a, const struct perim_drop_event *ev, uint64_t now_ns)
{
	uint64_t now_sec = now_ns / 1000000000ULL, sec = ev->ts / 1000000000ULL;
	uint32_t weight = ev->weight ? ev->weight : 1;
	struct src_entry *e;

	/* The coarse clock may trail CLOCK_MONOTONIC by a tick: a sample "from the future" is now. */
	if (sec > now_sec)
		sec = now_sec;
	if (ev->slot >= PERIM_MAX_IFACES || sec + W <= now_sec)
		return;
	bins_add(&a->samples[ev->slot], sec, weight);
	e = find_or_add(a, ev->slot, ev->src, now_sec);
	if (!e) {
		bins_add(&a->untracked[ev->slot], sec, weight);
		return;
	}
	bins_add(&e->bins, sec, weight);
	e->reason = ev->reason < PERIM_REASON_MAX ? ev->reason : PERIM_REASON_NONE;
	e->rule = ev->rule;
	e->proto = ev->proto;
	e->dport = ev->dport;
	memcpy(e->dst, ev->dst, sizeof(e->dst));
}

/* ---- ranking ---- */

struct ranked {
	const struct src_entry *e;
	struct sums sum;
};

static int by_drops_desc(const void *pa, const void *pb)
{
	const struct ranked *x = pa, *y = pb;

	if (x->sum.drops != y->sum.drops)
		return x->sum.drops < y->sum.drops ? 1 : -1;
	if (x->e->slot != y->e->slot)
		return x->e->slot < y->e->slot ? -1 : 1;
	return memcmp(x->e->addr, y->e->addr, 16);
}

static struct json_object *source_json(const struct ranked *r, const char *dev, uint64_t iface_drops)
{
	struct json_object *o = json_object_new_object();
	double share = iface_drops ? (double)r->sum.drops / iface_drops : 0;
	char addr[INET6_ADDRSTRLEN], dst[INET6_ADDRSTRLEN], proto[8];

	perim_addr_format(r->e->addr, addr, sizeof(addr));
	perim_addr_format(r->e->dst, dst, sizeof(dst));
	json_object_object_add(o, "dev", json_object_new_string(dev));
	json_object_object_add(o, "src", json_object_new_string(addr));
	json_object_object_add(o, "dst", json_object_new_string(dst));
	json_object_object_add(o, "samples", json_object_new_uint64(r->sum.samples));
	json_object_object_add(o, "est_drops", json_object_new_uint64(r->sum.drops));
	json_object_object_add(o, "est_pps", json_object_new_uint64((r->sum.drops + W / 2) / W));
	json_object_object_add(o, "share", json_object_new_double(share));
	json_object_object_add(o, "reason", json_object_new_string(perim_reason_names[r->e->reason]));
	json_object_object_add(o, "rule", json_object_new_uint64(r->e->rule));
	json_object_object_add(o, "proto", json_object_new_string(perim_proto_name(r->e->proto, proto)));
	json_object_object_add(o, "dport", json_object_new_uint64(r->e->dport));
	return o;
}

static struct ranked *rank(struct perimd_drops_agg *a, int slot, uint64_t now_sec, size_t *n)
{
	struct ranked *r = calloc(a->n_used ? a->n_used : 1, sizeof(*r));

	*n = 0;
	if (!r)
		return NULL;
	for (unsigned i = 0; i < TABLE_CAP && *n < a->n_used; i++) {
		const struct src_entry *e = &a->table[i];
		struct sums s;

		if (!e->used || (slot >= 0 && e->slot != slot))
			continue;
		s = bins_sum(&e->bins, now_sec);
		if (s.samples)
			r[(*n)++] = (struct ranked){ e, s };
	}
	qsort(r, *n, sizeof(*r), by_drops_desc);
	return r;
}

static struct json_object *totals_json(struct perimd_drops_agg *a, int slot, uint64_t now_sec,
				       perimd_slot_info_fn info, void *ctx)
{
	struct json_object *arr = json_object_new_array();

	for (int s = 0; s < PERIM_MAX_IFACES; s++) {
		struct json_object *o;
		double pps = 0;
		const char *dev;

		if ((slot >= 0 && s != slot) || !(dev = info(ctx, s, &pps)))
			continue;
		o = json_object_new_object();
		json_object_object_add(o, "dev", json_object_new_string(dev));
		json_object_object_add(o, "samples", json_object_new_uint64(bins_sum(&a->samples[s], now_sec).samples));
		json_object_object_add(o, "est_drops", json_object_new_uint64(bins_sum(&a->samples[s], now_sec).drops));
		json_object_object_add(o, "untracked", json_object_new_uint64(bins_sum(&a->untracked[s], now_sec).drops));
		json_object_object_add(o, "dropped_pps", json_object_new_uint64((uint64_t)(pps + 0.5)));
		json_object_array_add(arr, o);
	}
	return arr;
}

struct json_object *perimd_drops_agg_json(struct perimd_drops_agg *a, int slot, unsigned rows, uint64_t now_ns,
					  perimd_slot_info_fn info, void *ctx)
{
	uint64_t now_sec = now_ns / 1000000000ULL;
	struct json_object *out, *sources;
	struct ranked *r;
	size_t n;

	r = rank(a, slot, now_sec, &n);
	if (!r)
		return NULL;
	out = json_object_new_object();
	sources = json_object_new_array();
	for (size_t i = 0; i < n && i < rows; i++) {
		double pps = 0;
		const char *dev = info(ctx, r[i].e->slot, &pps);

		if (!dev)
			continue;   /* the interface is gone: its samples age out */
		json_object_array_add(sources, source_json(&r[i], dev, bins_sum(&a->samples[r[i].e->slot], now_sec).drops));
	}
	free(r);
	json_object_object_add(out, "window_s", json_object_new_int(W));
	json_object_object_add(out, "sources", sources);
	json_object_object_add(out, "totals", totals_json(a, slot, now_sec, info, ctx));
	return out;
}
