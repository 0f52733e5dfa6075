/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The sliding window behind `perimctl top`: sampled drop events counted per
 * (interface slot, source) in one-second bins over the last
 * PERIMD_TOP_WINDOW_S seconds, and ranked on request. Bounded: at most
 * PERIMD_TOP_MAX_SOURCES sources are tracked; samples from sources beyond
 * that (a spoofed flood) are counted as "untracked", never allocated.
 * Pure data, no kernel: tests feed it events directly.
 */
#ifndef PERIMD_DROPS_AGG_H
#define PERIMD_DROPS_AGG_H

#include <stdint.h>

#include <json-c/json.h>

#include "perim.h"
#include "perim_drops.h"

#define PERIMD_TOP_WINDOW_S 10
#define PERIMD_TOP_MAX_SOURCES 4096
#define PERIMD_TOP_ROWS_DEFAULT 20

struct perimd_drops_agg;

struct perimd_drops_agg *perimd_drops_agg_new(void);
void perimd_drops_agg_free(struct perimd_drops_agg *a);

/* Count one sample; now_ns is CLOCK_MONOTONIC. Samples outside the window are ignored. */
void perimd_drops_agg_add(struct perimd_drops_agg *a, const struct perim_drop_event *e, uint64_t now_ns);

/* The interface slot's name and current drop rate (for the estimate), or NULL name to skip. */
typedef const char *(*perimd_slot_info_fn)(void *ctx, int slot, double *dropped_pps);

/*
 * {"window_s", "sources": [{dev, src, samples, share, est_pps, reason, rule,
 * proto, dport}...] (most samples first, at most rows), "totals":
 * [{dev, samples, untracked, dropped_pps}]}. slot < 0: every interface.
 * share is the source's fraction of its interface's samples in the window;
 * est_pps = share * the interface's current dropped_pps.
 */
struct json_object *perimd_drops_agg_json(struct perimd_drops_agg *a, int slot, unsigned rows, uint64_t now_ns,
					  perimd_slot_info_fn info, void *ctx);

#endif /* PERIMD_DROPS_AGG_H */
