/* SPDX-License-Identifier: GPL-2.0 */
/* The syncookie commands and SYN protection's part of status (syncookie.c). */
#ifndef PERIMD_CONTROL_SYNCOOKIE_H
#define PERIMD_CONTROL_SYNCOOKIE_H

#include <stddef.h>

#include <json-c/json.h>

struct perimd;
struct perim_cmd;

/* syncookie set / del / list. Returns PERIM_EXIT_*; result or err as perimd_exec. */
int perimd_syncookie_exec(struct perimd *d, const struct perim_cmd *cmd, struct json_object **result,
			  char *err, size_t errlen);

/* status: {"available", "reason", "program", "protections": [...]} */
struct json_object *perimd_syncookie_status_json(struct perimd *d);

#endif /* PERIMD_CONTROL_SYNCOOKIE_H */
