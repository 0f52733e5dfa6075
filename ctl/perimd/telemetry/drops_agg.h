/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The sliding window behind `perimctl top`: sampled drop events counted per
 * (interface slot, source) in one-second bins over the last
 * PERIMD_TOP_WINDOW_S seconds, and ranked on request by the drops they stand
 * for (the sum of the samples' weights, include/perim_drops.h). Bounded: at most
 * PERIMD_TOP_MAX_SOURCES sources are tracked; samples from sources beyond
 * that (a spoofed flood) are counted as "untracked", never allocated.
 * Pure data, no kernel: tests feed it events directly.
 */
#ifndef PERIMD_DROPS_AGG_H
#define PERIMD_DROPS_AGG_H

#include <stdint.h>

#include <json-c/json.h>

#include "perim_drops.h"

#define PERIMD_TOP_WINDOW_S 10
#define PERIMD_TOP_MAX_SOURCES 4096
#define PERIMD_TOP_ROWS_DEFAULT 20

struct perimd_drops_agg;

struct perimd_drops_agg *perimd_drops_agg_new(void);
void perimd_drops_agg_free(struct perimd_drops_agg *a);

/* "rate-pps", "deny", ...; "none" for an unknown reason. */
const char *perimd_drop_reason_name(unsigned reason);

/* Count one sample; now_ns is CLOCK_MONOTONIC. Samples outside the window are ignored. */
void perimd_drops_agg_add(struct perimd_drops_agg *a, const struct perim_drop_event *e, uint64_t now_ns);

/* The interface slot's name and its current drop rate (shown beside the estimates), or NULL to skip. */
typedef const char *(*perimd_slot_info_fn)(void *ctx, int slot, double *dropped_pps);

/*
 * {"window_s", "sources": [{dev, src, samples, est_drops, est_pps, share,
 * reason, rule, proto, dport}...] (most drops first, at most rows),
 * "totals": [{dev, samples, est_drops, untracked, dropped_pps}]}.
 * slot < 0: every interface. est_drops sums the samples' weights over the
 * window, est_pps = est_drops / window_s, share = est_drops over the
 * interface's; reason, rule, proto, dport are the latest sample's. untracked
 * counts the drops of sources beyond PERIMD_TOP_MAX_SOURCES.
 */
struct json_object *perimd_drops_agg_json(struct perimd_drops_agg *a, int slot, unsigned rows, uint64_t now_ns,
					  perimd_slot_info_fn info, void *ctx);

#endif /* PERIMD_DROPS_AGG_H */
