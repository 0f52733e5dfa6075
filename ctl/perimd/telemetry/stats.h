/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The datapath's per-CPU counters, summed over every possible CPU, and a
 * 1 Hz sampler that keeps the last two samples so `stats` can report
 * per-second rates next to the totals.
 */
#ifndef PERIMD_STATS_H
#define PERIMD_STATS_H

#include <stdbool.h>
#include <stdint.h>

#include <json-c/json.h>

#include "perim.h"
#include "model/rules.h"

struct perimd_if_sample {
	uint64_t rx_packets, rx_bytes, passed_packets, dropped_packets;
	uint64_t dropped_by_reason[PERIM_REASON_MAX];
};

struct perimd_rule_sample {
	uint64_t matched_packets, dropped_packets;
};

struct perimd_sample {
	uint64_t time_ns;
	struct perimd_if_sample ifc[PERIM_MAX_IFACES];
	struct perimd_rule_sample rule[PERIM_MAX_RULES];
};

struct perimd_stats {
	int if_fd, rule_fd, ncpus;
	void *percpu;              /* lookup buffer: ncpus values */
	__u32 *batch_keys;         /* batched rule lookups: PERIMD_STATS_BATCH keys ... */
	void *batch_vals;          /* ... and their ncpus values each */
	struct perimd_sample *prev, *last;
	unsigned n_samples;
	uint32_t rules_seen;       /* the highest rules_end sampled: rule[] beyond it was never written */
};

int perimd_stats_init(struct perimd_stats *s, int if_fd, int rule_fd);
void perimd_stats_fini(struct perimd_stats *s);

int perimd_stats_read_if(struct perimd_stats *s, int slot, struct perim_if_counters *out);
int perimd_stats_read_rule(struct perimd_stats *s, uint32_t id, struct perim_rule_counters *out);

/* What slot's counters say perim dropped (all reasons) now; 0 if unreadable. */
uint64_t perimd_stats_if_dropped(struct perimd_stats *s, int slot);
/* What c says perim dropped (all reasons). */
uint64_t perimd_if_dropped(const struct perim_if_counters *c);

/*
 * The one rate computation: per second from (t0_ns, before) to (t1_ns,
 * after). false when there is none (no span, or the counter went back).
 */
bool perimd_rate(uint64_t t0_ns, uint64_t t1_ns, uint64_t before, uint64_t after, double *per_s);

/* Take a sample of every interface and rule in m (the 1 Hz timer). */
void perimd_stats_sample(struct perimd_stats *s, const struct perim_model *m);

/*
 * {"counters":{...},"rates":{...},"rules":[...]} members added to obj for
 * interface slot, whose counters this request read as c.
 */
int perimd_stats_iface_json(struct perimd_stats *s, const struct perim_model *m, int slot,
			    const struct perim_if_counters *c, struct json_object *obj);

#endif /* PERIMD_STATS_H */
