/* SPDX-License-Identifier: GPL-2.0 */
/* The execution of a parsed command against the daemon (commands.c). */
#ifndef PERIMD_COMMANDS_H
#define PERIMD_COMMANDS_H

#include <stddef.h>
#include <json-c/json.h>

struct perimd;
struct perim_cmd;

/*
 * Run one command. Returns the exit status (PERIM_EXIT_*); on success
 * *result is the result object (may be NULL), else err holds the message.
 * PERIM_CMD_EVENTS is the socket's business, not handled here.
 */
int perimd_exec(struct perimd *d, const struct perim_cmd *cmd, struct json_object **result,
		char *err, size_t errlen);

/*
 * Make next the model: the maps, then the shapers, then the state file,
 * then swap it in. A failed step puts the kernel back to the current model
 * (one undo for maps and shapers) and frees next. While restoring, only the
 * swap. PERIM_EXIT_* with err.
 */
struct perim_model;
int perimd_commit(struct perimd *d, struct perim_model *next, char *err, size_t errlen);

/* Apply the model to the maps and shapers and write the state file (end of start-up). */
int perimd_commit_model(struct perimd *d, char *err, size_t errlen);

/*
 * Write m as the state file. On failure records why in state_error (shown by
 * status) and says in err that the change is refused; PERIM_EXIT_FAIL.
 */
int perimd_persist(struct perimd *d, const struct perim_model *m, char *err, size_t errlen);

/*
 * The model a command edits (commit.c): a copy, kept only if the change is
 * committed; while restoring, the model itself. NULL with err: out of memory.
 */
struct perim_model *perimd_model_copy(struct perimd *d, char *err, size_t errlen);
/* A copy from perimd_model_copy whose change failed. */
void perimd_model_discard(struct perimd *d, struct perim_model *next);

#endif /* PERIMD_COMMANDS_H */
