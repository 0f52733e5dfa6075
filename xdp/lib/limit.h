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

/* A slot reused by a new rule must not inherit the old rule's debt. */
static __always_inline void perim_bucket_sync_gen(struct perim_bucket *b, __u32 gen)
{
	if (b->gen == gen)
		return;
	b->pkt_tat = 0;
	b->byte_tat = 0;
	b->blocked_until = 0;
	b->gen = gen;
}

/* The family's bucket table: IPv4 keys are 8 bytes, IPv6 keys 24. */
static __always_inline struct perim_bucket *perim_src_lookup(__u32 rule_id, const struct perim_pkt *pkt)
{
	if (!pkt->is_v6) {
		struct perim_src4_key k4 = { .rule = rule_id };

		__builtin_memcpy(k4.addr, &pkt->addr[3], sizeof(k4.addr));
		return bpf_map_lookup_elem(&perim_src4, &k4);
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

/*
 * The bucket of an unseen source is created only when the rule's new-source
 * bucket admits it: a spoofed flood is dropped here without touching the
 * LRU, so it cannot evict the buckets of established sources.
 * Returns NULL with *reason set when the source is refused.
 */
static __always_inline struct perim_bucket *
perim_source_bucket(__u32 rule_id, const struct perim_rule *rule, const struct perim_pkt *pkt,
		    __u64 now, bool cas, __u32 *reason)
{
	struct perim_bucket fresh = { .gen = rule->gen };
	struct perim_rule_state *st;
	struct perim_bucket *b;

	b = perim_src_lookup(rule_id, pkt);
	if (b)
		return b;

	st = bpf_map_lookup_elem(&perim_rule_state, &rule_id);
	if (!st)
		return NULL;
	if (rule->newsrc_interval_ns) {
		perim_bucket_sync_gen(&st->newsrc, rule->gen);
		if (!perim_gcra_charge(&st->newsrc.pkt_tat, now, rule->newsrc_interval_ns,
				       rule->newsrc_tolerance_ns, cas)) {
			*reason = PERIM_REASON_NEW_SOURCE;
			return NULL;
		}
	}
	perim_src_insert(rule_id, pkt, &fresh);
	return perim_src_lookup(rule_id, pkt);
}

static __always_inline struct perim_bucket *
perim_rule_bucket(__u32 rule_id, const struct perim_rule *rule, const struct perim_pkt *pkt,
		  __u64 now, bool cas, __u32 *reason)
{
	struct perim_rule_state *st;

	if (rule->flags & PERIM_RULE_PER_SOURCE)
		return perim_source_bucket(rule_id, rule, pkt, now, cas, reason);
	st = bpf_map_lookup_elem(&perim_rule_state, &rule_id);
	return st ? &st->agg : NULL;
}

/* Packet and byte buckets: both must conform, and only then are both charged. */
static __always_inline __u32 perim_charge(struct perim_bucket *b, const struct perim_rule *rule,
					  __u64 now, __u64 len, bool cas)
{
	__u64 pkt_cost = rule->pkt_interval_ns;
	__u64 byte_cost = (len * rule->byte_cost_fp16) >> 16;

	if (pkt_cost && !perim_gcra_conforms(b->pkt_tat, now, rule->pkt_tolerance_ns))
		return PERIM_REASON_RATE_PPS;
	if (rule->byte_cost_fp16 && !perim_gcra_conforms(b->byte_tat, now, rule->byte_tolerance_ns))
		return PERIM_REASON_RATE_BYTES;

	if (pkt_cost && !perim_gcra_charge(&b->pkt_tat, now, pkt_cost, rule->pkt_tolerance_ns, cas))
		return PERIM_REASON_RATE_PPS;
	if (rule->byte_cost_fp16 &&
	    !perim_gcra_charge(&b->byte_tat, now, byte_cost, rule->byte_tolerance_ns, cas)) {
		/* Lost a race on the byte bucket: the dropped packet pays nothing. */
		if (pkt_cost)
			perim_gcra_refund(&b->pkt_tat, pkt_cost);
		return PERIM_REASON_RATE_BYTES;
	}
	return PERIM_REASON_NONE;
}

static __always_inline __u32 perim_limit(__u32 rule_id, const struct perim_rule *rule,
					 const struct perim_pkt *pkt, __u64 len, __u64 now, bool cas)
{
	__u32 reason = PERIM_REASON_NONE;
	struct perim_bucket *b;

	b = perim_rule_bucket(rule_id, rule, pkt, now, cas, &reason);
	if (!b)
		return reason;
	perim_bucket_sync_gen(b, rule->gen);
	if (b->blocked_until > now)
		return PERIM_REASON_BLOCKED;
	reason = perim_charge(b, rule, now, len, cas);
	if (reason && rule->block_ns)
		b->blocked_until = now + rule->block_ns;
	return reason;
}

#endif /* PERIM_XDP_LIMIT_H */
