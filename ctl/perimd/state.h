/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The state file: the interfaces, limits and allow/deny prefixes, as the
 * perimctl commands that recreate them, one per line:
 *
 *   # perim state, written by perimd
 *   attach eth1 mode native slot 0
 *   limit set eth1 id 1 src 10.0.0.0/8 rate 1kpps per-source
 *   allow add eth1 10.1.0.0/16
 *   deny add eth1 2001:db8::/32
 *
 * Written atomically: a temp file in the same directory, fsync, rename, fsync
 * of the directory, so a crash leaves the old or the new file, never half.
 */
#ifndef PERIMD_STATE_H
#define PERIMD_STATE_H

#include <stddef.h>
#include <stdio.h>

#include "cmd.h"
#include "rules.h"

int perimd_state_write(const char *path, const struct perim_model *m, char *err, size_t errlen);

/*
 * Lines written after the model's, by a module that keeps its own state
 * (egress.c: the shapers; syn/: the SYN protections). One entry per
 * function, at most four; 0 or -errno. Set it again any time.
 */
typedef int (*perimd_state_extra_fn)(void *ctx, FILE *f);
void perimd_state_set_extra(perimd_state_extra_fn fn, void *ctx);

/* Called per command line; a non-zero return stops the read with that value. */
typedef int (*perimd_state_fn)(void *ctx, const struct perim_cmd *cmd, int lineno, const char *line);

/* A missing file is an empty state. A line that does not parse: PERIM_EXIT_BADINPUT, err names it. */
int perimd_state_read(const char *path, perimd_state_fn fn, void *ctx, char *err, size_t errlen);

#endif /* PERIMD_STATE_H */
