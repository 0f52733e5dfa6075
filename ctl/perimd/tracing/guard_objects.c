// SPDX-License-Identifier: GPL-2.0
/* perimd's maps and programs into the bpf guard rail's id set (guard_objects.h). */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>

#include "tracing/guard_objects.h"
#include "log.h"
#include "perim_events.h"

#define PROG_MAP_IDS_MAX 64

static int objs_fd = -1;
static struct perim_guard_verdict verdict;

void perim_guard_objects_start(int fd, const struct perim_guard_verdict *v)
{
	objs_fd = fd;
	verdict = *v;
}

void perim_guard_objects_stop(void)
{
	objs_fd = -1;
}

static int add_id(unsigned long long kind, __u32 id)
{
	__u64 key = kind << 32 | id;

	if (bpf_map_update_elem(objs_fd, &key, &verdict, BPF_ANY)) {
		int err = -errno;

		pr_warn("guard: listing perimd's %s id %u: %s\n", kind == PERIM_GUARD_OBJ_MAP ? "map" : "program",
			id, strerror(-err));
		return err;
	}
	return 0;
}

static int info_failed(const char *what, int fd)
{
	int err = -errno;

	pr_warn("guard: reading perimd's %s fd %d: %s\n", what, fd, strerror(-err));
	return err;
}

static int add_map(int fd)
{
	struct bpf_map_info info = {};
	__u32 len = sizeof(info);

	if (bpf_obj_get_info_by_fd(fd, &info, &len))
		return info_failed("map", fd);
	return add_id(PERIM_GUARD_OBJ_MAP, info.id);
}

/* A program and the maps it uses (some of which perimd may hold no fd to). */
static int add_prog(int fd)
{
	__u32 map_ids[PROG_MAP_IDS_MAX];
	struct bpf_prog_info info = {
		.nr_map_ids = PROG_MAP_IDS_MAX,
		.map_ids = (__u64)(unsigned long)map_ids,
	};
	__u32 len = sizeof(info);
	int err;

	if (bpf_obj_get_info_by_fd(fd, &info, &len))
		return info_failed("program", fd);
	err = add_id(PERIM_GUARD_OBJ_PROG, info.id);
	for (__u32 i = 0; !err && i < info.nr_map_ids && i < PROG_MAP_IDS_MAX; i++)
		err = add_id(PERIM_GUARD_OBJ_MAP, map_ids[i]);
	return err;
}

/* What the fd is, from its /proc link: "anon_inode:bpf-map", "anon_inode:bpf-prog". */
static int add_fd(int dirfd, const char *name)
{
	char target[64];
	ssize_t n = readlinkat(dirfd, name, target, sizeof(target) - 1);
	int fd = atoi(name);

	if (n < 0)
		return 0;                   /* closed since the directory was read */
	target[n] = '\0';
	if (!strcmp(target, "anon_inode:bpf-map"))
		return add_map(fd);
	if (!strcmp(target, "anon_inode:bpf-prog"))
		return add_prog(fd);
	return 0;
}

int perim_guard_objects_sync(void)
{
	struct dirent *de;
	DIR *dir;
	int err = 0;

	if (objs_fd < 0)
		return 0;
	dir = opendir("/proc/self/fd");
	if (!dir) {
		err = -errno;
		pr_warn("guard: listing perimd's fds: %s\n", strerror(-err));
		return err;
	}
	while (!err && (de = readdir(dir)))
		if (de->d_name[0] != '.' && atoi(de->d_name) != dirfd(dir))
			err = add_fd(dirfd(dir), de->d_name);
	closedir(dir);
	return err;
}
