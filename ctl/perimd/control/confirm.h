/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Confirm or roll back (control/confirm.c): a change made with --confirm
 * SECONDS is rolled back to the exact previous configuration unless
 * "confirm" comes in time. The pending rollback lives in the state file, so
 * a restarted perimd resumes it.
 */
#ifndef PERIMD_CONFIRM_H
#define PERIMD_CONFIRM_H

#include <stdbool.h>
#include <stddef.h>
#include <json-c/json.h>

struct perimd;
struct perim_cmd;
struct perimd_state_file;

typedef int (*perimd_exec_fn)(struct perimd *d, const struct perim_cmd *cmd, struct json_object **result,
			      char *err, size_t errlen);

/* A change while one awaits confirmation: PERIM_EXIT_FAIL with why; else 0. */
int perimd_confirm_refuse(struct perimd *d, const struct perim_cmd *cmd, bool changing, char *err, size_t errlen);
/* Runs cmd through exec; with --confirm, arms the rollback once it succeeded. */
int perimd_confirm_run(struct perimd *d, const struct perim_cmd *cmd, perimd_exec_fn exec,
		       struct json_object **result, char *err, size_t errlen);
/* confirm, rollback. */
int perimd_confirm_exec(struct perimd *d, const struct perim_cmd *cmd, struct json_object **result,
			char *err, size_t errlen);
/* Start-up: the pending rollback the state file records, if any (state_format.h). 0 or an exit code. */
int perimd_confirm_restore(struct perimd *d, const struct perimd_state_file *sf, char *err, size_t errlen);
/* End of start-up: a restored pending rollback is armed, or done now if its deadline passed. */
void perimd_confirm_resume(struct perimd *d);
/* status: {"pending","deadline","deadline_unix_ms","ms_left"} */
struct json_object *perimd_confirm_json(struct perimd *d);

#endif /* PERIMD_CONFIRM_H */
