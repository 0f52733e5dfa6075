/* SPDX-License-Identifier: GPL-2.0 */
/*
 * An interface's egress shaper, part of the model like its limits: copied
 * with it, written to the state file with it, and put in the kernel by the
 * same commit (control/commands.c), whose one undo puts back the model
 * before it.
 */
#ifndef PERIMD_MODEL_SHAPES_H
#define PERIMD_MODEL_SHAPES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "cmd.h"

struct perim_model;

struct perim_model_shape {
	bool used;
	/*
	 * spec.force and install: this change asks the kernel to (re)install the
	 * shaper even where the spec is the one installed (spec.force: over a
	 * foreign root qdisc). Cleared once committed; never persisted.
	 */
	bool install;
	struct perim_shape_spec spec;
};

/* slot's shaper is spec from now on. */
void perim_model_shape_set(struct perim_model *m, int slot, const struct perim_shape_spec *spec);
/* slot has no shaper: PERIM_EXIT_BADINPUT naming dev when it had none. */
int perim_model_shape_del(struct perim_model *m, int slot, const char *dev, char *err, size_t errlen);

/* Does committing `to` over `from` change slot's shaper in the kernel? (from NULL: nothing installed) */
bool perim_model_shape_changed(const struct perim_model *from, const struct perim_model *to, int slot);
/* A committed model: no change asks for a reinstall any more. */
void perim_model_shapes_settle(struct perim_model *m);

/* The state file's "shape set" lines, of every slot or of one (slot >= 0). 0 or -EINVAL. */
int perim_model_shapes_format(const struct perim_model *m, int slot, FILE *f);

#endif /* PERIMD_MODEL_SHAPES_H */
