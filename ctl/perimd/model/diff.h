/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What changes between two models on some interfaces, as the ruleset lines
 * added, removed and replaced ("perimctl diff", "perimctl apply").
 */
#ifndef PERIMD_MODEL_DIFF_H
#define PERIMD_MODEL_DIFF_H

#include <stdbool.h>

#include "perim.h"

struct perim_model;

enum perim_diff_op {
	PERIM_DIFF_ADD,
	PERIM_DIFF_REMOVE,
	PERIM_DIFF_REPLACE,        /* same rule id or shaper, other parameters; line is the new one */
	PERIM_DIFF_OPS
};

/* Called per change with its ruleset line (no newline). */
typedef void (*perim_diff_fn)(void *ctx, enum perim_diff_op op, const char *line);

/*
 * Every change from `from` to `to` on the slots marked in slots[] (limits,
 * allow/deny prefixes, shapers; both models have the same interfaces).
 * Counts per op into counts[]; fn (NULL: counts only) gets each line.
 * 0, or -EINVAL when a line cannot be formatted.
 */
int perim_model_diff(const struct perim_model *from, const struct perim_model *to,
		     const bool slots[PERIM_MAX_IFACES], perim_diff_fn fn, void *ctx,
		     unsigned counts[PERIM_DIFF_OPS]);

const char *perim_diff_op_name(enum perim_diff_op op);   /* "added", "removed", "replaced" */

#endif /* PERIMD_MODEL_DIFF_H */
