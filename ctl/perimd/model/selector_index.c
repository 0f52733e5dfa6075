// SPDX-License-Identifier: GPL-2.0
/* Rules by selector, in an open-addressing hash (selector_index.h). */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "model/rules.h"
#include "model/selector_index.h"

/* A rule's selector in fixed bytes: compared and hashed whole. The one definition of "same selector". */
struct selector_key {
	uint8_t slot, egress, has_src, has_dst, proto, syn, src_len, dst_len;
	uint16_t dport_lo, dport_hi;
	uint8_t src[16], dst[16];
	char cgroup[PERIM_CGROUP_PATH_MAX];
};

struct perim_selector_slot {
	uint32_t id;               /* 0: empty */
	uint64_t hash;
	struct selector_key key;
};

static void key_of(struct selector_key *k, int slot, const struct perim_limit_spec *s)
{
	memset(k, 0, sizeof(*k));
	k->slot = slot;
	k->egress = s->egress;
	k->has_src = s->has_src;
	k->has_dst = s->has_dst;
	k->proto = s->proto;
	k->syn = s->syn_only;
	k->dport_lo = s->dport_lo;
	k->dport_hi = s->dport_hi;
	if (s->has_src) {
		memcpy(k->src, s->src.addr, 16);
		k->src_len = s->src.len;
		perim_prefix_mask(k->src, k->src_len);
	}
	if (s->has_dst) {
		memcpy(k->dst, s->dst.addr, 16);
		k->dst_len = s->dst.len;
		perim_prefix_mask(k->dst, k->dst_len);
	}
	memcpy(k->cgroup, s->cgroup, strnlen(s->cgroup, sizeof(k->cgroup) - 1));
}

bool perim_limit_same_selector(const struct perim_limit_spec *a, const struct perim_limit_spec *b)
{
	struct selector_key ka, kb;

	key_of(&ka, 0, a);
	key_of(&kb, 0, b);
	return !memcmp(&ka, &kb, sizeof(ka));
}

/* FNV-1a over the key's bytes. */
static uint64_t hash_of(const struct selector_key *k)
{
	const uint8_t *b = (const uint8_t *)k;
	uint64_t h = 1469598103934665603ULL;

	for (size_t i = 0; i < sizeof(*k); i++)
		h = (h ^ b[i]) * 1099511628211ULL;
	return h;
}

int perim_selector_index_add(struct perim_selector_index *x, int slot, const struct perim_limit_spec *spec,
			     uint32_t id)
{
	struct selector_key k;
	uint64_t h;
	size_t i;

	key_of(&k, slot, spec);
	h = hash_of(&k);
	for (i = h & (x->cap - 1); x->slots[i].id; i = (i + 1) & (x->cap - 1))
		if (x->slots[i].hash == h && !memcmp(&x->slots[i].key, &k, sizeof(k)))
			return 0;   /* the first rule with a selector stays, as perim_model_limit_find_selector's scan */
	x->slots[i].id = id;
	x->slots[i].hash = h;
	x->slots[i].key = k;
	return 0;
}

int perim_selector_index_build(struct perim_selector_index *x, const struct perim_model *m, size_t expect,
			       const bool *slots)
{
	size_t need = 2 * (m->rules_end + expect) + 16;

	for (x->cap = 16; x->cap < need; x->cap *= 2)
		;
	x->slots = calloc(x->cap, sizeof(*x->slots));
	if (!x->slots)
		return -ENOMEM;
	for (uint32_t id = 1; id < m->rules_end; id++)
		if (m->rules[id].used && (!slots || slots[m->rules[id].iface]))
			perim_selector_index_add(x, m->rules[id].iface, &m->rules[id].spec, id);
	return 0;
}

uint32_t perim_selector_index_find(const struct perim_selector_index *x, int slot,
				   const struct perim_limit_spec *spec)
{
	struct selector_key k;
	uint64_t h;

	key_of(&k, slot, spec);
	h = hash_of(&k);
	for (size_t i = h & (x->cap - 1); x->slots[i].id; i = (i + 1) & (x->cap - 1))
		if (x->slots[i].hash == h && !memcmp(&x->slots[i].key, &k, sizeof(k)))
			return x->slots[i].id;
	return 0;
}

void perim_selector_index_free(struct perim_selector_index *x)
{
	free(x->slots);
	x->slots = NULL;
	x->cap = 0;
}
