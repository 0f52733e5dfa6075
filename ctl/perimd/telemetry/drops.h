/* SPDX-License-Identifier: GPL-2.0 */
/* `top`: sampled drop events from the pinned perim_drops ring, ranked by source. */
#ifndef PERIMD_DROPS_H
#define PERIMD_DROPS_H

#include <stddef.h>

#include <json-c/json.h>

#include "cmd.h"

struct perimd;

/*
 * Answer "top [DEV]": {"sampling": true, "window_s", "sources": [...],
 * "totals": [...]} (drops_agg.h), or {"sampling": false, "reason"} when the
 * datapath has no drop ring. Returns PERIM_EXIT_* with err set on failure.
 */
int perimd_drops_top(struct perimd *d, const struct perim_cmd *cmd, struct json_object **result,
		     char *err, size_t errlen);

/*
 * With the tracers running: drain from now on (looking for the ring every
 * second until an interface's datapath pins it) and publish every sample as
 * an "xdp_drop" event. No-op without tracers or when already draining.
 */
void perimd_drops_follow(struct perimd *d);

/*
 * status's "drop_samples": {"rate" (--drop-sample-rate), "sent" (samples the
 * datapath put on the pinned ring since it was created; null without one),
 * "received" (samples this perimd drained)}.
 */
struct json_object *perimd_drops_status_json(struct perimd *d);

#endif /* PERIMD_DROPS_H */
