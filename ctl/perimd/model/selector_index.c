// SPDX-License-Identifier: GPL-2.0
/*
 * Rules by selector, in an open-addressing hash of rule ids (selector_index.h).
 * A slot holds an id and its selector's hash only: the selector itself is
 * the model's rule, compared when the hashes agree.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "model/rules.h"
#include "model/selector_index.h"

struct perim_selector_slot {
	uint32_t id;               /* 0: empty */
	uint32_t hash;
};

bool perim_limit_same_selector(const struct perim_limit_spec *a, const struct perim_limit_spec *b)
{
	return a->egress == b->egress && a->has_src == b->has_src &&
	       (!a->has_src || perim_prefix_equal(&a->src, &b->src)) && a->has_dst == b->has_dst &&
	       (!a->has_dst || perim_prefix_equal(&a->dst, &b->dst)) && !strcmp(a->cgroup, b->cgroup) &&
	       a->proto == b->proto && a->dport_lo == b->dport_lo && a->dport_hi == b->dport_hi &&
	       a->syn_only == b->syn_only;
}

/* FNV-1a, continued over more bytes. */
static uint64_t fnv(uint64_t h, const void *data, size_t len)
{
	const uint8_t *b = data;

	for (size_t i = 0; i < len; i++)
		h = (h ^ b[i]) * 1099511628211ULL;
	return h;
}

static uint64_t hash_prefix(uint64_t h, const struct perim_prefix *p)
{
	uint8_t addr[16];

	memcpy(addr, p->addr, 16);
	perim_prefix_mask(addr, p->len);
	return fnv(fnv(h, addr, 16), &p->len, 1);
}

/* Over what perim_limit_same_selector compares, and the slot: equal selectors hash equal. */
static uint32_t hash_of(int slot, const struct perim_limit_spec *s)
{
	uint8_t flags[4] = { slot, s->egress, s->proto, s->syn_only };
	uint16_t ports[2] = { s->dport_lo, s->dport_hi };
	uint64_t h = fnv(1469598103934665603ULL, flags, sizeof(flags));

	h = fnv(h, ports, sizeof(ports));
	if (s->has_src)
		h = hash_prefix(h, &s->src);
	if (s->has_dst)
		h = hash_prefix(fnv(h, "d", 1), &s->dst);
	h = fnv(h, s->cgroup, strnlen(s->cgroup, sizeof(s->cgroup)));
	return (uint32_t)(h ^ (h >> 32));
}

static bool slot_holds(const struct perim_selector_index *x, const struct perim_selector_slot *e, uint32_t h,
		       int slot, const struct perim_limit_spec *spec)
{
	const struct perim_model_rule *r = &x->m->rules[e->id];

	return e->hash == h && r->iface == slot && perim_limit_same_selector(&r->spec, spec);
}

int perim_selector_index_add(struct perim_selector_index *x, int slot, const struct perim_limit_spec *spec,
			     uint32_t id)
{
	uint32_t h = hash_of(slot, spec);
	size_t i;

	for (i = h & (x->cap - 1); x->slots[i].id; i = (i + 1) & (x->cap - 1))
		if (slot_holds(x, &x->slots[i], h, slot, spec))
			return 0;   /* the first rule with a selector stays, as perim_model_limit_find_selector's scan */
	x->slots[i].id = id;
	x->slots[i].hash = h;
	return 0;
}

int perim_selector_index_build(struct perim_selector_index *x, const struct perim_model *m, size_t expect,
			       const bool *slots)
{
	size_t need = 2 * (m->rules_end + expect) + 16;

	for (x->cap = 16; x->cap < need; x->cap *= 2)
		;
	x->m = m;
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
	uint32_t h = hash_of(slot, spec);

	for (size_t i = h & (x->cap - 1); x->slots[i].id; i = (i + 1) & (x->cap - 1))
		if (slot_holds(x, &x->slots[i], h, slot, spec))
			return x->slots[i].id;
	return 0;
}

void perim_selector_index_free(struct perim_selector_index *x)
{
	free(x->slots);
	x->slots = NULL;
	x->cap = 0;
}
