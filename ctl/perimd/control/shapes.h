/* SPDX-License-Identifier: GPL-2.0 */
/* The shape commands (shapes.c). */
#ifndef PERIMD_CONTROL_SHAPES_H
#define PERIMD_CONTROL_SHAPES_H

#include <stddef.h>
#include <json-c/json.h>

struct perimd;
struct perim_cmd;

/* shape set / del / list. Returns PERIM_EXIT_*; result or err as perimd_exec. */
int perimd_shape_exec(struct perimd *d, const struct perim_cmd *cmd, struct json_object **result,
		      char *err, size_t errlen);

#endif /* PERIMD_CONTROL_SHAPES_H */
