/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The rule side shared by the XDP (ingress) and tc (egress) programs:
 * applying the matched rule (bucket, dry-run, counters, and the drop sample
 * when the program samples: drop_sample.h).
 */
#ifndef PERIM_XDP_RULE_H
#define PERIM_XDP_RULE_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include "perim.h"
#include "maps.h"
#include "parse.h"
#include "clock.h"
#include "limit.h"
#include "counters.h"
#include "drop_sample.h"

/*
 * slot: the instance's interface slot, which a drop sample names.
 * hint: the program's routes (route.h), or NULL for none.
 */
static __always_inline int perim_apply_rule(__u32 slot, struct perim_if_counters *ifc,
					    const struct perim_candidate *c,
					    const struct perim_pkt *pkt, __u64 len, bool cas,
					    struct perim_route_hint *hint)
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
	reason = perim_limit(c, rule, pkt, len, now, cas, hint);
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
	perim_sample_drop_at(slot, rule_id, reason, pkt, len, now);
	return perim_count_drop(ifc, reason, len);
}

#endif /* PERIM_XDP_RULE_H */
