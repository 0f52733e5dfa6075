/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What an egress rule's "cgroup PATH" names. PATH is read two ways: a cgroup
 * below the cgroup2 mount ("/system.slice/x.service", as /proc/PID/cgroup
 * writes it) or, when it starts with the mount point, a directory of the
 * filesystem ("/sys/fs/cgroup/system.slice/x.service"). The mount point is
 * the first cgroup2 line of /proc/mounts.
 */
#ifndef PERIMD_CGROUP_PATH_H
#define PERIMD_CGROUP_PATH_H

#include <stddef.h>
#include <stdint.h>

#include "cmd.h"

/*
 * Resolves given (rel may be the same buffer) to the one existing cgroup2 directory it names: its path
 * below the mount into rel (the form perimd records, so either spelling of
 * one cgroup is the same rule) and its cgroup id. PERIM_EXIT_BADINPUT with
 * err naming it when it names none, or two different ones (ambiguous);
 * PERIM_EXIT_FAIL when the cgroup2 mount or the id cannot be read.
 */
int perimd_cgroup_resolve(const char *given, char rel[PERIM_CGROUP_PATH_MAX], uint64_t *id,
			  char *err, size_t errlen);

#endif /* PERIMD_CGROUP_PATH_H */
