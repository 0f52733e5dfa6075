/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Where the cgroup v2 hierarchy is mounted in perimd's mount namespace, from
 * /proc/self/mounts (hosts differ: /sys/fs/cgroup, /sys/fs/cgroup/unified).
 * Under `ip netns exec`, which mounts a fresh /sys, there may be none.
 */
#ifndef PERIMD_CGROUP2_H
#define PERIMD_CGROUP2_H

#include <stdbool.h>
#include <stddef.h>

/* true and its mount point in where, or false (none mounted, or mounts unreadable). */
bool perimd_cgroup2_mount(char *where, size_t len);

/* The sentence egress cgroup errors and the start-up log use when there is none. */
#define PERIMD_NO_CGROUP2 "no cgroup v2 hierarchy is mounted where perimd runs (ip netns exec mounts " \
	"a fresh /sys; start perimd with nsenter --net=/run/netns/NAME, or mount cgroup2 there)"

#endif /* PERIMD_CGROUP2_H */
