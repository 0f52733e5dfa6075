/* SPDX-License-Identifier: GPL-2.0 */
/* Per-CPU counters: plain increments, each CPU owns its row. Verdicts are the hook's (ctx.h). */
#ifndef PERIM_XDP_COUNTERS_H
#define PERIM_XDP_COUNTERS_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include "perim.h"
#include "ctx.h"
#include "maps.h"

static __always_inline void perim_count_rx(struct perim_if_counters *ifc, __u64 len)
{
	ifc->rx_packets++;
	ifc->rx_bytes += len;
}

static __always_inline int perim_count_pass(struct perim_if_counters *ifc, __u64 len)
{
	ifc->passed_packets++;
	ifc->passed_bytes += len;
	return PERIM_VERDICT_PASS;
}

static __always_inline int perim_count_drop(struct perim_if_counters *ifc, __u32 reason, __u64 len)
{
	if (reason < PERIM_REASON_MAX) {
		ifc->dropped_packets[reason]++;
		ifc->dropped_bytes[reason] += len;
	}
	return PERIM_VERDICT_DROP;
}

static __always_inline struct perim_rule_counters *perim_rule_counters(__u32 rule, __u64 len)
{
	struct perim_rule_counters *rc = bpf_map_lookup_elem(&perim_rule_stats, &rule);

	if (rc) {
		rc->matched_packets++;
		rc->matched_bytes += len;
	}
	return rc;
}

#endif /* PERIM_XDP_COUNTERS_H */
