/* SPDX-License-Identifier: GPL-2.0 */
/* The grammar of "protect" (cmd_protect.c): protected management access. */
#ifndef PERIM_CMD_PROTECT_H
#define PERIM_CMD_PROTECT_H

#include <stddef.h>

#include "cmd.h"

extern const char perim_cmd_protect_help[];

/* perim_cmd_parse for argv[0] == "protect" (cmd is already reset). */
int perim_cmd_protect_parse(int argc, char **argv, struct perim_cmd *cmd, char *err, size_t errlen);

/* "protect add DEV PREFIX [proto P] [dport X[-Y]]": the line perim_cmd_parse reads back. Like snprintf. */
int perim_protect_format(const char *dev, const struct perim_protect_spec *p, char *buf, size_t len);

#endif /* PERIM_CMD_PROTECT_H */
