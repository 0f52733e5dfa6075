/* SPDX-License-Identifier: GPL-2.0 */
/* Start-up from the state file (restore.c). */
#ifndef PERIMD_RESTORE_H
#define PERIMD_RESTORE_H

struct perimd;

/*
 * Verify and replay the state file, attach --interface devices, persist,
 * apply. 0, or the exit status after a one-line message on stderr; on
 * failure the pinned maps are as they were.
 */
int perimd_restore(struct perimd *d);

#endif /* PERIMD_RESTORE_H */
