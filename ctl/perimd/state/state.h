/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The state file: the interfaces, limits, allow/deny prefixes and shapers, as
 * the perimctl commands that recreate them, one per line, between a header and
 * a trailer that counts the lines before it and checksums their bytes:
 *
 *   # perim state v2, written by perimd; one perimctl command per line
 *   attach eth1 mode native slot 0
 *   limit set eth1 id 1 src 10.0.0.0/8 rate 1kpps per-source
 *   deny add eth1 2001:db8::/32
 *   # perim-state lines 4 crc32 1a2b3c4d
 *
 * Written atomically: a temp file in the same directory (FILE.XXXXXX), fsync,
 * the file it replaces kept as FILE.prev, rename, fsync of the directory, so a
 * crash leaves the old or the new file, never half. A file that fails the
 * trailer is refused whole; one with the first version's header and no
 * trailer is accepted (it predates the trailer) and rewritten with one.
 * A change awaiting confirmation adds its rollback after the configuration
 * (rollback-at, rollback-to lines: state_format.h), inside the trailer.
 */
#ifndef PERIMD_STATE_H
#define PERIMD_STATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "cmd.h"
#include "model/rules.h"

int perimd_state_write(const char *path, const struct perim_model *m, char *err, size_t errlen);

/*
 * A change awaiting confirmation (control/confirm.c): from now on the state
 * file also records prev, the configuration a rollback restores, and the
 * deadline (wall clock, ms since 1970), as "rollback-at MS" and one
 * "rollback-to LINE" per line after the configuration. prev NULL: none.
 * prev must live until it is replaced.
 */
void perimd_state_set_pending(const struct perim_model *prev, uint64_t deadline_ms);

/* A state file as read and verified; body is everything before the trailer. */
struct perimd_state_file {
	char *body;
	size_t body_len;
	bool present;   /* false: no file, an empty state */
	bool legacy;    /* the first version's header, no trailer */
};

/*
 * Read and verify the whole file before any line counts. 0; PERIM_EXIT_FAIL
 * when it cannot be read; PERIM_EXIT_BADINPUT when it is not an intact perim
 * state file (err says what failed, never quotes the file's content).
 */
int perimd_state_load(const char *path, struct perimd_state_file *sf, char *err, size_t errlen);
void perimd_state_file_free(struct perimd_state_file *sf);

/*
 * Called per command line; a non-zero return stops the replay with that
 * value and err (filled by the callback) is reported with FILE:LINE.
 */
typedef int (*perimd_state_fn)(void *ctx, const struct perim_cmd *cmd, char *err, size_t errlen);

/*
 * Parse and hand over each configuration line. A line that does not parse, or
 * a pending rollback's lines out of their order: PERIM_EXIT_BADINPUT.
 */
int perimd_state_replay(const struct perimd_state_file *sf, const char *path, perimd_state_fn fn, void *ctx,
			char *err, size_t errlen);

/*
 * The pending rollback's lines (state_format.h): *deadline_ms (0: none) and
 * each rollback-to line's command handed to fn, the configuration skipped.
 */
int perimd_state_replay_rollback(const struct perimd_state_file *sf, const char *path, uint64_t *deadline_ms,
				 perimd_state_fn fn, void *ctx, char *err, size_t errlen);

/* Would writing m produce the same commands as sf holds (headers aside)? */
bool perimd_state_unchanged(const struct perimd_state_file *sf, const struct perim_model *m);

/* Remove FILE.XXXXXX temp files a killed write left (perim's own content only). */
void perimd_state_clean_temps(const char *path);

#endif /* PERIMD_STATE_H */
