/* SPDX-License-Identifier: GPL-2.0 */
/* protect add|del|list executed by perimd (control/protect.c). */
#ifndef PERIMD_CONTROL_PROTECT_H
#define PERIMD_CONTROL_PROTECT_H

#include <stddef.h>
#include <json-c/json.h>

struct perimd;
struct perim_cmd;

int perimd_protect_exec(struct perimd *d, const struct perim_cmd *cmd, struct json_object **result,
			char *err, size_t errlen);

#endif /* PERIMD_CONTROL_PROTECT_H */
