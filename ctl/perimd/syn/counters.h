/* SPDX-License-Identifier: GPL-2.0 */
/* The SYN-cookie stage's counters (perim_syn_stats, summed over CPUs) in stats and metrics. */
#ifndef PERIMD_SYN_COUNTERS_H
#define PERIMD_SYN_COUNTERS_H

#include <stdio.h>

#include <json-c/json.h>

struct perimd;

/*
 * stats: adds "syncookie" {synack_sent, cookie_valid, cookie_bad,
 * dry_run_syns, dry_run_bad, unhandled, rates: {synack_sent, cookie_valid,
 * cookie_bad} per second} to obj, when the kernel has the stage. 0 or -errno.
 */
int perimd_syn_stats_json(struct perimd *d, int slot, struct json_object *obj);

/* Take a sample of every interface's counters (the 1 Hz timer), for the rates. */
void perimd_syn_sample(struct perimd *d);

/* metrics: the perim_syncookie_* families (Prometheus text), when the kernel has the stage. */
void perimd_syn_metrics(struct perimd *d, FILE *f);

#endif /* PERIMD_SYN_COUNTERS_H */
