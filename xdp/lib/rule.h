/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The rule side shared by the XDP (ingress) and tc (egress) programs: the
 * lookup in the instance's trie of the packet's family, and applying the
 * matched rule (bucket, dry-run, counters). Which address the tries hold,
 * source or destination, is the parser's business (PERIM_MATCH_DST).
 */
#ifndef PERIM_XDP_RULE_H
#define PERIM_XDP_RULE_H

static __always_inline struct perim_lpm_value *perim_lpm_lookup(const struct perim_pkt *pkt)
{
	if (pkt->is_v6) {
		struct perim_lpm6_key k6 = { .prefixlen = 128 };

		__builtin_memcpy(k6.addr, pkt->addr, sizeof(k6.addr));
		return bpf_map_lookup_elem(&perim_lpm6, &k6);
	}
	struct perim_lpm4_key k4 = { .prefixlen = 32 };

	__builtin_memcpy(k4.addr, &pkt->addr[3], sizeof(k4.addr));
	return bpf_map_lookup_elem(&perim_lpm4, &k4);
}

static __always_inline int perim_apply_rule(struct perim_if_counters *ifc,
					    const struct perim_candidate *c,
					    const struct perim_pkt *pkt, __u64 len, bool cas)
{
	__u32 rule_id = c->rule;
	struct perim_rule_counters *rc;
	struct perim_rule *rule;
	__u32 reason;
	__u64 now;

	rule = bpf_map_lookup_elem(&perim_rules, &rule_id);
	if (!rule || !(rule->flags & PERIM_RULE_ACTIVE))
		return perim_count_pass(ifc, len);

	/* One clock read serves the bucket and the drop sampler. */
	now = perim_now();
	rc = perim_rule_counters(rule_id, len);
	reason = perim_limit(rule_id, rule, pkt, len, now, cas);
	if (reason == PERIM_REASON_NONE) {
		if (rc) {
			rc->passed_packets++;
			rc->passed_bytes += len;
		}
		return perim_count_pass(ifc, len);
	}
	if (rule->flags & PERIM_RULE_DRY_RUN) {
		if (rc) {
			rc->would_drop_packets++;
			rc->would_drop_bytes += len;
			rc->passed_packets++;
			rc->passed_bytes += len;
		}
		ifc->would_drop_packets++;
		return perim_count_pass(ifc, len);
	}
	if (rc) {
		rc->dropped_packets++;
		rc->dropped_bytes += len;
	}
#ifdef PERIM_XDP_DROP_SAMPLE_H
	/* Only the XDP program samples its drops (for `perimctl top`). */
	perim_sample_drop_at(perim_slot, rule_id, reason, pkt, len, now);
#endif
	return perim_count_drop(ifc, reason, len);
}

#endif /* PERIM_XDP_RULE_H */
