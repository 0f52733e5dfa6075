// SPDX-License-Identifier: GPL-2.0
/* Peer credentials: SO_PEERCRED for uid/gid/pid, SO_PEERGROUPS (or /proc) for groups. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "control/peercred.h"

#ifndef SO_PEERGROUPS
#define SO_PEERGROUPS 59
#endif

static bool in_peergroups(int fd, gid_t group, bool *known)
{
	gid_t groups[256];
	socklen_t len = sizeof(groups);

	*known = false;
	if (getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, groups, &len) < 0)
		return false;
	*known = true;
	for (size_t i = 0; i < len / sizeof(gid_t); i++)
		if (groups[i] == group)
			return true;
	return false;
}

/* Kernels before 4.13 lack SO_PEERGROUPS: read the peer's Groups: line. */
static bool in_proc_groups(pid_t pid, gid_t group)
{
	char path[64], line[4096];
	bool found = false;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", pid);
	f = fopen(path, "r");
	if (!f)
		return false;
	while (fgets(line, sizeof(line), f)) {
		char *p, *end;

		if (strncmp(line, "Groups:", 7))
			continue;
		for (p = line + 7;; p = end) {
			unsigned long g = strtoul(p, &end, 10);

			if (end == p)
				break;
			if (g == group)
				found = true;
		}
		break;
	}
	fclose(f);
	return found;
}

bool perimd_peer_allowed(int fd, gid_t group, const char *group_name, char *why, size_t whylen)
{
	struct ucred cred;
	socklen_t len = sizeof(cred);
	bool known;

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0 || len != sizeof(cred) ||
	    cred.pid <= 0) {
		snprintf(why, whylen, "permission denied: the peer's credentials are unavailable");
		return false;
	}
	if (cred.uid == 0)
		return true;
	if (group != (gid_t)-1) {
		if (cred.gid == group || in_peergroups(fd, group, &known))
			return true;
		if (!known && in_proc_groups(cred.pid, group))
			return true;
		snprintf(why, whylen, "permission denied: uid %u is neither root nor in group %s",
			 cred.uid, group_name);
		return false;
	}
	snprintf(why, whylen, "permission denied: uid %u is neither root nor in group (none configured)",
		 cred.uid);
	return false;
}
