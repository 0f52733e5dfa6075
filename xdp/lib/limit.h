/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Rate limiting: find the rule's bucket (per source or aggregate), then
 * block time, packet rate and byte rate. Returns the drop reason, or
 * PERIM_REASON_NONE when the packet conforms.
 */
#ifndef PERIM_XDP_LIMIT_H
#define PERIM_XDP_LIMIT_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include "perim.h"
#include "maps.h"
#include "parse.h"
#include "gcra.h"
#include "route.h"

/*
 * A slot reused by a new rule must not inherit the old rule's debt.
 * routed: b is a route (route.h), whose byte_tat is its candidate.
 */
static __always_inline void perim_bucket_sync_gen(struct perim_bucket *b, __u32 gen, bool routed)
{
	if (b->gen == gen)
		return;
	b->pkt_tat = 0;
	if (!routed)
		b->byte_tat = 0;
	b->blocked_until = 0;
	b->gen = gen;
}

/* The family's bucket table: IPv4 keys are 8 bytes, IPv6 keys 24. */
static __always_inline struct perim_bucket *perim_src_lookup(__u32 rule_id, const struct perim_pkt *pkt)
{
	if (!pkt->is_v6) {
		struct perim_src4_key k4 = { .rule = rule_id };

		struct perim_bucket *b;

		__builtin_memcpy(k4.addr, &pkt->addr[3], sizeof(k4.addr));
		b = bpf_map_lookup_elem(&perim_src4, &k4);
		PERIM_ONE_MAP_CALL(b);
		return b;
	}
	struct perim_src_key k6 = { .rule = rule_id };

	__builtin_memcpy(k6.addr, pkt->addr, sizeof(k6.addr));
	return bpf_map_lookup_elem(&perim_src, &k6);
}

/* Another CPU may have inserted it meanwhile: NOEXIST keeps its state. */
static __always_inline void perim_src_insert(__u32 rule_id, const struct perim_pkt *pkt,
					     const struct perim_bucket *fresh)
{
	if (!pkt->is_v6) {
		struct perim_src4_key k4 = { .rule = rule_id };

		__builtin_memcpy(k4.addr, &pkt->addr[3], sizeof(k4.addr));
		bpf_map_update_elem(&perim_src4, &k4, fresh, BPF_NOEXIST);
		return;
	}
	struct perim_src_key k6 = { .rule = rule_id };

	__builtin_memcpy(k6.addr, pkt->addr, sizeof(k6.addr));
	bpf_map_update_elem(&perim_src, &k6, fresh, BPF_NOEXIST);
}

/* The rule's bucket of an unseen source, once admitted: its route's when the route is free. */
static __always_inline struct perim_bucket *
perim_new_source_bucket(const struct perim_candidate *c, const struct perim_rule *rule,
			const struct perim_pkt *pkt, struct perim_route_hint *hint, bool *routed)
{
	struct perim_bucket fresh = { .gen = rule->gen };
	struct perim_bucket *b;

	if (hint && !hint->route && !rule->byte_cost_fp16) {
		hint->route = perim_route_insert(hint, c, rule, pkt);
		b = perim_route_home(hint, c, rule);
		if (b) {
			*routed = true;
			return b;
		}
	}
	perim_src_insert(c->rule, pkt, &fresh);
	return perim_src_lookup(c->rule, pkt);
}

/*
 * The bucket of an unseen source is created only when the rule's new-source
 * bucket admits it: a spoofed flood is dropped here without touching the
 * LRU, so it cannot evict the buckets of established sources.
 * Returns NULL with *reason set when the source is refused.
 */
static __always_inline struct perim_bucket *
perim_source_bucket(const struct perim_candidate *c, const struct perim_rule *rule, const struct perim_pkt *pkt,
		    __u64 now, bool cas, struct perim_route_hint *hint, bool *routed, __u32 *reason)
{
	__u32 rule_id = c->rule;
	struct perim_rule_state *st;
	struct perim_bucket *b;

	if (hint) {
		if (!hint->route)
			hint->route = perim_route_lookup(hint->slot, pkt);
		b = perim_route_home(hint, c, rule);
		if (b) {
			*routed = true;
			return b;
		}
	}
	b = perim_src_lookup(rule_id, pkt);
	if (b)
		return b;

	st = bpf_map_lookup_elem(&perim_rule_state, &rule_id);
	if (!st)
		return NULL;
	if (rule->newsrc_interval_ns) {
		perim_bucket_sync_gen(&st->newsrc, rule->gen, false);
		if (!perim_gcra_charge(&st->newsrc.pkt_tat, now, rule->newsrc_interval_ns,
				       rule->newsrc_tolerance_ns, cas)) {
			*reason = PERIM_REASON_NEW_SOURCE;
			return NULL;
		}
	}
	return perim_new_source_bucket(c, rule, pkt, hint, routed);
}

static __always_inline struct perim_bucket *
perim_rule_bucket(const struct perim_candidate *c, const struct perim_rule *rule, const struct perim_pkt *pkt,
		  __u64 now, bool cas, struct perim_route_hint *hint, bool *routed, __u32 *reason)
{
	__u32 rule_id = c->rule;
	struct perim_rule_state *st;

	if (rule->flags & PERIM_RULE_PER_SOURCE)
		return perim_source_bucket(c, rule, pkt, now, cas, hint, routed, reason);
	st = bpf_map_lookup_elem(&perim_rule_state, &rule_id);
	return st ? &st->agg : NULL;
}

/* Packet and byte buckets: both must conform, and only then are both charged. */
static __always_inline __u32 perim_charge(struct perim_bucket *b, const struct perim_rule *rule,
					  __u64 now, __u64 len, bool cas, bool routed)
{
	__u64 pkt_cost = rule->pkt_interval_ns;
	/* A route has no byte bucket: read once, a rule rewritten meanwhile cannot reach its candidate. */
	__u64 byte_fp16 = routed ? 0 : PERIM_READ_ONCE(rule->byte_cost_fp16);
	__u64 byte_cost = (len * byte_fp16) >> 16;

	if (pkt_cost && !perim_gcra_conforms(b->pkt_tat, now, rule->pkt_tolerance_ns))
		return PERIM_REASON_RATE_PPS;
	if (byte_fp16 && !perim_gcra_conforms(b->byte_tat, now, rule->byte_tolerance_ns))
		return PERIM_REASON_RATE_BYTES;

	if (pkt_cost && !perim_gcra_charge(&b->pkt_tat, now, pkt_cost, rule->pkt_tolerance_ns, cas))
		return PERIM_REASON_RATE_PPS;
	if (byte_fp16 &&
	    !perim_gcra_charge(&b->byte_tat, now, byte_cost, rule->byte_tolerance_ns, cas)) {
		/* Lost a race on the byte bucket: the dropped packet pays nothing. */
		if (pkt_cost)
			perim_gcra_refund(&b->pkt_tat, pkt_cost);
		return PERIM_REASON_RATE_BYTES;
	}
	return PERIM_REASON_NONE;
}

/* hint: the program's routes (route.h), or NULL. */
static __always_inline __u32 perim_limit(const struct perim_candidate *c, const struct perim_rule *rule,
					 const struct perim_pkt *pkt, __u64 len, __u64 now, bool cas,
					 struct perim_route_hint *hint)
{
	__u32 reason = PERIM_REASON_NONE;
	struct perim_bucket *b;
	bool routed = false;

	b = perim_rule_bucket(c, rule, pkt, now, cas, hint, &routed, &reason);
	if (!b)
		return reason;
	perim_bucket_sync_gen(b, rule->gen, routed);
	if (b->blocked_until > now)
		return PERIM_REASON_BLOCKED;
	reason = perim_charge(b, rule, now, len, cas, routed);
	if (reason && rule->block_ns)
		b->blocked_until = now + rule->block_ns;
	return reason;
}

#endif /* PERIM_XDP_LIMIT_H */
