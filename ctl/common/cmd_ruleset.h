/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The grammar of the ruleset commands (cmd_ruleset.c): show, apply, diff.
 * A ruleset is a file of the state file's lines; cmd.c's dispatch hands
 * these objects here.
 */
#ifndef PERIM_CMD_RULESET_H
#define PERIM_CMD_RULESET_H

#include <stdbool.h>
#include <stddef.h>

#include "cmd.h"

/* Is this OBJECT word one of the ruleset commands? */
bool perim_cmd_ruleset_object(const char *object);
/* perim_cmd_parse for those objects (cmd is already reset). */
int perim_cmd_ruleset_parse(int argc, char **argv, struct perim_cmd *cmd, char *err, size_t errlen);
const char *perim_cmd_ruleset_help(const char *object);

/*
 * A trailing "--confirm SECONDS" (1..86400) of any command: sets
 * cmd->confirm_s and returns argc without it; -1 with err on a bad value.
 */
int perim_cmd_take_confirm(int argc, char **argv, struct perim_cmd *cmd, char *err, size_t errlen);
/* After a command parsed: is --confirm allowed on it? 0 or PERIM_EXIT_BADINPUT. */
int perim_cmd_confirm_check(const struct perim_cmd *cmd, char *err, size_t errlen);

/* The kinds a ruleset file may hold: the lines "show" prints. */
bool perim_cmd_ruleset_line_kind(enum perim_cmd_kind kind);

#endif /* PERIM_CMD_RULESET_H */
