/* SPDX-License-Identifier: GPL-2.0 */
/* The state file's fixed lines, shared by its writer (state.c) and reader (state_load.c). */
#ifndef PERIMD_STATE_FORMAT_H
#define PERIMD_STATE_FORMAT_H

#include <stddef.h>
#include <stdint.h>

#define PERIMD_STATE_HEADER    "# perim state v2, written by perimd; one perimctl command per line\n"
/* The first version's header: its files have no trailer. */
#define PERIMD_STATE_HEADER_V1 "# perim state, written by perimd; one perimctl command per line\n"
/* Every line before it counted, every byte before it checksummed (zlib's crc32). */
#define PERIMD_STATE_TRAILER   "# perim-state lines %u crc32 %08x\n"
#define PERIMD_STATE_TRAILER_MAX 64
/*
 * A change awaiting confirmation (control/confirm.c), after the configuration:
 * "rollback-at UNIX_MS" (the deadline, wall clock), then the configuration a
 * rollback restores, one "rollback-to LINE" per line of it.
 */
#define PERIMD_STATE_ROLLBACK_AT "rollback-at"
#define PERIMD_STATE_ROLLBACK_TO "rollback-to"
#define PERIMD_STATE_PREV_SUFFIX ".prev"
/* The longest file read: far above the biggest model, far below trouble. */
#define PERIMD_STATE_MAX_BYTES (16u << 20)

struct perim_model;

/* The header and command lines for m, in memory (free *body). 0 or -errno. */
int perimd_state_render(const struct perim_model *m, char **body, size_t *len);

/*
 * "perimctl show": the same lines, of every interface or of one slot
 * (slot >= 0), under a comment instead of the state file's header.
 */
#define PERIMD_SHOW_HEADER "# perim ruleset, from perimctl show; perimctl apply FILE makes it the configuration\n"
int perimd_state_render_show(const struct perim_model *m, int slot, char **body, size_t *len);

/* The trailer for body into buf (PERIMD_STATE_TRAILER_MAX bytes). */
void perimd_state_trailer(const char *body, size_t len, char *buf);

#endif /* PERIMD_STATE_FORMAT_H */
