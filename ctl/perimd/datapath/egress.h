/* SPDX-License-Identifier: GPL-2.0 */
/*
 * perimd's egress side, per interface slot: the shaper (shaper.h) and the
 * tc program on the clsact egress hook (tc.h). Putting the model's shapers
 * in the kernel, their part of `stats`, and the hook that brings them back
 * when a link is re-created. The shape commands are control/shapes.c.
 */
#ifndef PERIMD_EGRESS_H
#define PERIMD_EGRESS_H

#include <stdbool.h>
#include <stddef.h>

#include <json-c/json.h>

#include "cmd.h"
#include "perim.h"
#include "datapath/tc.h"

struct perimd;

struct perimd_egress {
	struct perim_tc_attachment tc[PERIM_MAX_IFACES];   /* the egress program, by slot */
};

/*
 * The commit's kernel step for shapers: put in the kernel the shapers that
 * `to` changes from `from` (NULL: none installed). On failure, what was
 * changed is put back and err says why. PERIM_EXIT_*.
 */
struct perim_model;
int perimd_egress_shapes_apply(const struct perim_model *from, const struct perim_model *to,
			       char *err, size_t errlen);

/*
 * Before a dir egress limit joins the model: resolve its cgroup (spec's
 * cgroup_id) and make sure the egress program is on the NIC, so the rule
 * is enforced from the moment the maps hold it. While restoring, a missing
 * cgroup is a warning (the rule waits, matching nothing) and the program is
 * attached by perimd_egress_sync_all at the end. PERIM_EXIT_* with err.
 */
int perimd_egress_limit_prepare(struct perimd *d, int slot, struct perim_limit_spec *spec,
				char *err, size_t errlen);

/*
 * Converge slot's egress program on the model: attached (to the device now
 * bearing the name) while the slot has dir egress rules, detached when it
 * has none. Failures are logged; the next sync tries again.
 */
void perimd_egress_sync(struct perimd *d, int slot);
void perimd_egress_sync_all(struct perimd *d);

/* {"dev","rate_bits","burst_bytes","latency_ms","installed","root","queue"[,"child"]} of slot's shaper. */
struct json_object *perimd_egress_shaper_json(struct perimd *d, int slot, bool with_counters);

/*
 * `stats`: adds "shaper" (null when the slot has none) and "egress"
 * ({"attached","prog_id","counters":{...}} as the XDP side's counters).
 */
void perimd_egress_stats_json(struct perimd *d, int slot, struct json_object *iface);

/*
 * The device named by slot's interface was (re-)created or re-attached:
 * put the shaper and the egress program back. Safe to call when nothing is configured. A foreign
 * root qdisc found there is left in place, with a warning.
 */
void perimd_egress_link_back(struct perimd *d, int slot);

/* The slot is being detached: remove perim's egress program (its shaper goes with the model's commit). */
void perimd_egress_forget(struct perimd *d, int slot);

#endif /* PERIMD_EGRESS_H */
