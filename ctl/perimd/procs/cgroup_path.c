// SPDX-License-Identifier: GPL-2.0
/* An egress rule's cgroup: which directory "cgroup PATH" names, and its id. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/magic.h>
#include <mntent.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>

#include "procs/cgroup2.h"
#include "procs/cgroup_path.h"

/* The cgroup2 mount point; none is bad input for a cgroup rule, with the reason (cgroup2.h). */
static int cgroup2_mount(const char *token, char *out, size_t len, char *err, size_t errlen)
{
	if (perimd_cgroup2_mount(out, len))
		return 0;
	snprintf(err, errlen, "Error: argument \"%s\" is wrong: %s", token, PERIMD_NO_CGROUP2);
	return PERIM_EXIT_BADINPUT;
}

static bool is_cgroup2_dir(const char *path)
{
	struct statfs sfs;
	struct stat st;

	return statfs(path, &sfs) == 0 && sfs.f_type == CGROUP2_SUPER_MAGIC &&
	       stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

/* token as a directory of the filesystem: only when it is the mount or below it. */
static bool under_mount(const char *token, const char *mount)
{
	size_t n = strlen(mount);

	if (!strcmp(mount, "/"))
		return true;
	return !strncmp(token, mount, n) && (token[n] == '\0' || token[n] == '/');
}

/* The cgroup id of a directory: its file handle, as the kernel's cgroup_id(). */
static int cgroup_id_of(const char *path, uint64_t *id, char *err, size_t errlen)
{
	union {
		struct file_handle fh;
		char buf[sizeof(struct file_handle) + sizeof(uint64_t)];
	} h = { .fh.handle_bytes = sizeof(uint64_t) };
	int mount_id;

	if (name_to_handle_at(AT_FDCWD, path, &h.fh, &mount_id, 0) < 0 || h.fh.handle_bytes != sizeof(*id)) {
		snprintf(err, errlen, "reading the cgroup id of %s: %s", path, strerror(errno));
		return PERIM_EXIT_FAIL;
	}
	memcpy(id, h.fh.f_handle, sizeof(*id));
	return 0;
}

static int set_rel(const char *fs_path, const char *mount, const char *token,
		   char rel[PERIM_CGROUP_PATH_MAX], char *err, size_t errlen)
{
	const char *below = strcmp(mount, "/") ? fs_path + strlen(mount) : fs_path;

	if (snprintf(rel, PERIM_CGROUP_PATH_MAX, "%s", below[0] ? below : "/") >= PERIM_CGROUP_PATH_MAX) {
		snprintf(err, errlen, "Error: argument \"%s\" is wrong: cgroup path is too long", token);
		return PERIM_EXIT_BADINPUT;
	}
	return 0;
}

int perimd_cgroup_resolve(const char *given, char rel[PERIM_CGROUP_PATH_MAX], uint64_t *id,
			  char *err, size_t errlen)
{
	char mount[PATH_MAX], below[PATH_MAX + PERIM_CGROUP_PATH_MAX], token[PERIM_CGROUP_PATH_MAX];
	bool fs_form, below_ok, fs_ok;
	int ret = cgroup2_mount(given, mount, sizeof(mount), err, errlen);

	if (ret)
		return ret;
	snprintf(token, sizeof(token), "%s", given);   /* rel may be given itself */
	snprintf(below, sizeof(below), "%s%s", strcmp(mount, "/") ? mount : "",
		 strcmp(token, "/") ? token : "");
	fs_form = under_mount(token, mount);
	below_ok = is_cgroup2_dir(below);
	fs_ok = fs_form && is_cgroup2_dir(token);
	if (below_ok && fs_ok && strcmp(below, token)) {
		snprintf(err, errlen, "Error: argument \"%s\" is wrong: ambiguous: it is both the cgroup %s "
			 "below the cgroup2 mount (directory %s) and the directory %s; write %s for the "
			 "first, or the part of the second below %s", token, token, below, token, below, mount);
		return PERIM_EXIT_BADINPUT;
	}
	if (!below_ok && !fs_ok) {
		snprintf(err, errlen, "Error: argument \"%s\" is wrong: no such cgroup: not below the cgroup2 "
			 "mount (%s does not exist), and %s %s", token, below, token,
			 fs_form ? "does not exist either" : "is not in a cgroup v2 hierarchy");
		return PERIM_EXIT_BADINPUT;
	}
	ret = set_rel(below_ok ? below : token, mount, token, rel, err, errlen);
	return ret ?: cgroup_id_of(below_ok ? below : token, id, err, errlen);
}
