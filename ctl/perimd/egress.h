/* SPDX-License-Identifier: GPL-2.0 */
/*
 * perimd's egress side, per interface slot: the shaper (shaper.h) and the
 * tc program on the clsact egress hook (tc.h). The commands that change
 * them, their lines in the state file, their part of `stats`, and the hook
 * that brings them back when a link is re-created.
 */
#ifndef PERIMD_EGRESS_H
#define PERIMD_EGRESS_H

#include <stdbool.h>
#include <stddef.h>

#include <json-c/json.h>

#include "cmd.h"
#include "perim.h"

struct perimd;

struct perimd_egress {
	bool shaped[PERIM_MAX_IFACES];                 /* by interface slot */
	struct perim_shape_spec shape[PERIM_MAX_IFACES];   /* as configured, force cleared */
};

/* shape set / del / list. Returns PERIM_EXIT_*; result or err as perimd_exec. */
int perimd_egress_exec(struct perimd *d, const struct perim_cmd *cmd, struct json_object **result,
		       char *err, size_t errlen);

/* `stats`: adds "shaper" (null when the slot has none) to the interface object. */
void perimd_egress_stats_json(struct perimd *d, int slot, struct json_object *iface);

/*
 * The device named by slot's interface was (re-)created or re-attached:
 * put the shaper back. Safe to call when nothing is configured. A foreign
 * root qdisc found there is left in place, with a warning.
 */
void perimd_egress_link_back(struct perimd *d, int slot);

/* The slot is being detached: remove perim's shaper and forget it. */
void perimd_egress_forget(struct perimd *d, int slot);

#endif /* PERIMD_EGRESS_H */
