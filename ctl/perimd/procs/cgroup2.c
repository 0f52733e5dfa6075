// SPDX-License-Identifier: GPL-2.0
/* The cgroup2 mount, from the mount table. */
#include <mntent.h>
#include <stdio.h>
#include <string.h>

#include "procs/cgroup2.h"

bool perimd_cgroup2_mount(char *where, size_t len)
{
	FILE *f = setmntent("/proc/self/mounts", "re");
	struct mntent *m;
	bool found = false;

	if (!f)
		return false;
	while (!found && (m = getmntent(f))) {
		if (strcmp(m->mnt_type, "cgroup2"))
			continue;
		snprintf(where, len, "%s", m->mnt_dir);
		found = true;
	}
	endmntent(f);
	return found;
}
