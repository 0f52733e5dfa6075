/* SPDX-License-Identifier: GPL-2.0 */
/* show, apply, diff: a whole configuration as a file (control/ruleset.c). */
#ifndef PERIMD_RULESET_H
#define PERIMD_RULESET_H

#include <stddef.h>
#include <json-c/json.h>

struct perimd;
struct perim_cmd;

/* PERIM_CMD_SHOW, PERIM_CMD_APPLY, PERIM_CMD_DIFF; like perimd_exec. */
int perimd_ruleset_exec(struct perimd *d, const struct perim_cmd *cmd, struct json_object **result,
			char *err, size_t errlen);

#endif /* PERIMD_RULESET_H */
