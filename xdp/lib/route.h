/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Routes (include/perim.h): a known source's rule found with one lookup in
 * the family's bucket table, which for a rule without a byte limit is also
 * the source's bucket, so a known flooding source costs one hash, not a
 * prefix probe per length in use and then its bucket.
 * A program passes a perim_route_hint to perim_apply_rule to use them; the
 * egress program passes none (its buckets keep their {rule, address} keys).
 */
#ifndef PERIM_XDP_ROUTE_H
#define PERIM_XDP_ROUTE_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include "perim.h"
#include "maps.h"
#include "parse.h"
#include "match.h"
#include "gcra.h"     /* PERIM_READ_ONCE */

struct perim_route_hint {
	struct perim_src_route *route; /* the source's route on this interface, or NULL */
	__u32 slot;
	__u32 epoch;                   /* recorded with a new route; 0 when this decision may not be */
};

/* perimd's epoch (perim.h); 0 when the table is not managed. */
static __always_inline __u32 perim_route_epoch(void)
{
	__u32 key = PERIM_RULE_EPOCH_SLOT;
	struct perim_rule *r = bpf_map_lookup_elem(&perim_rules, &key);

	return r ? PERIM_READ_ONCE(r->gen) : 0;
}

static __always_inline struct perim_src_route *perim_route_lookup(__u32 slot, const struct perim_pkt *pkt)
{
	if (!pkt->is_v6) {
		struct perim_src4_key k4 = { .rule = PERIM_SRC_ROUTE | slot };
		struct perim_src_route *r;

		__builtin_memcpy(k4.addr, &pkt->addr[3], sizeof(k4.addr));
		r = bpf_map_lookup_elem(&perim_src4, &k4);
		PERIM_ONE_MAP_CALL(r);
		return r;
	}
	struct perim_src_key k6 = { .rule = PERIM_SRC_ROUTE | slot };

	__builtin_memcpy(k6.addr, pkt->addr, sizeof(k6.addr));
	return bpf_map_lookup_elem(&perim_src, &k6);
}

/* Does the route decide this packet's rule without a prefix lookup? */
static __always_inline bool perim_route_decides(const struct perim_src_route *route, __u32 epoch,
						const struct perim_pkt *pkt)
{
	return route && epoch && PERIM_READ_ONCE(route->epoch) == epoch &&
	       perim_candidate_matches(&route->cand, pkt);
}

static __always_inline bool perim_cand_same(const struct perim_candidate *a, const struct perim_candidate *b)
{
	return a->rule == b->rule && a->proto == b->proto && a->flags == b->flags &&
	       a->dport_lo == b->dport_lo && a->dport_hi == b->dport_hi;
}

/*
 * The route as the bucket of rule c->rule when it is that bucket's home (a
 * rule without a byte limit: the route has no byte_tat). A decision the
 * caller may record refreshes a stale epoch when the route already names
 * this very candidate, so it decides again.
 */
static __always_inline struct perim_bucket *perim_route_home(const struct perim_route_hint *hint,
							     const struct perim_candidate *c,
							     const struct perim_rule *rule)
{
	struct perim_src_route *route = hint->route;

	if (!route || route->cand.rule != c->rule || rule->byte_cost_fp16)
		return NULL;
	if (hint->epoch && PERIM_READ_ONCE(route->epoch) != hint->epoch && perim_cand_same(&route->cand, c))
		PERIM_WRITE_ONCE(route->epoch, hint->epoch);
	return (struct perim_bucket *)route;
}

/*
 * A new source's route, homing its bucket of c->rule. Another CPU may have
 * inserted one meanwhile (NOEXIST keeps it); the caller checks the home again.
 */
static __always_inline struct perim_src_route *perim_route_insert(const struct perim_route_hint *hint,
								  const struct perim_candidate *c,
								  const struct perim_rule *rule,
								  const struct perim_pkt *pkt)
{
	struct perim_src_route fresh = { .cand = *c, .gen = rule->gen, .epoch = hint->epoch };

	if (!pkt->is_v6) {
		struct perim_src4_key k4 = { .rule = PERIM_SRC_ROUTE | hint->slot };
		struct perim_src_route *r;

		__builtin_memcpy(k4.addr, &pkt->addr[3], sizeof(k4.addr));
		bpf_map_update_elem(&perim_src4, &k4, &fresh, BPF_NOEXIST);
		r = bpf_map_lookup_elem(&perim_src4, &k4);
		PERIM_ONE_MAP_CALL(r);
		return r;
	}
	struct perim_src_key k6 = { .rule = PERIM_SRC_ROUTE | hint->slot };

	__builtin_memcpy(k6.addr, pkt->addr, sizeof(k6.addr));
	bpf_map_update_elem(&perim_src, &k6, &fresh, BPF_NOEXIST);
	return bpf_map_lookup_elem(&perim_src, &k6);
}

#endif /* PERIM_XDP_ROUTE_H */
