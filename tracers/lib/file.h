/* SPDX-License-Identifier: GPL-2.0 */
/* Filesystem operations: unlink, rename, chmod/chown/truncate, writes to sensitive paths. */
#ifndef PERIM_TRACERS_FILE_H
#define PERIM_TRACERS_FILE_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include "perim_events.h"
#include "common.h"
#include "path.h"

static __always_inline struct perim_ev_file *perim_file_reserve(__u32 hook, __u16 op)
{
	struct perim_ev_file *e = perim_reserve(PERIM_RING_EVENTS, hook, PERIM_EV_FILE, sizeof(*e));

	if (!e)
		return NULL;
	e->op = op;
	e->path_len = 0;
	e->path2_len = 0;
	e->path_kind = PERIM_PATH_ARG;
	e->dirfd = -1;
	e->mode = 0;
	e->uid = (__u32)-1;
	e->gid = (__u32)-1;
	e->length = 0;
	return e;
}

/* A syscall naming its file by (dirfd, path): unlink, chmod, chown, truncate. */
static __always_inline int perim_on_file_arg(__u32 hook, __u16 op, int dirfd, const char *upath,
					     __u32 mode, __u32 uid, __u32 gid, __s64 length)
{
	struct perim_ev_file *e;

	if (!perim_hook_enabled(hook))
		return 0;
	e = perim_file_reserve(hook, op);
	if (!e)
		return 0;
	e->dirfd = dirfd;
	e->mode = mode;
	e->uid = uid;
	e->gid = gid;
	e->length = length;
	e->path_len = perim_read_user_path(e->path, upath);
	perim_submit(PERIM_RING_EVENTS, e);
	return 0;
}

/* The same by fd: fchmod, fchown, ftruncate. The path is the dentry name. */
static __always_inline int perim_on_file_fd(__u32 hook, __u16 op, int fd,
					    __u32 mode, __u32 uid, __u32 gid, __s64 length)
{
	struct perim_ev_file *e;

	if (!perim_hook_enabled(hook))
		return 0;
	e = perim_file_reserve(hook, op);
	if (!e)
		return 0;
	e->dirfd = fd;
	e->mode = mode;
	e->uid = uid;
	e->gid = gid;
	e->length = length;
	e->path_kind = PERIM_PATH_DENTRY;
	e->path_len = perim_read_fd_name(e->path, fd);
	perim_submit(PERIM_RING_EVENTS, e);
	return 0;
}

static __always_inline int perim_on_rename_arg(int olddfd, const char *oldp, const char *newp)
{
	struct perim_ev_file *e;

	if (!perim_hook_enabled(PERIM_HOOK_RENAME))
		return 0;
	e = perim_file_reserve(PERIM_HOOK_RENAME, PERIM_FILE_RENAME);
	if (!e)
		return 0;
	e->dirfd = olddfd;
	e->path_len = perim_read_user_path(e->path, oldp);
	e->path2_len = perim_read_user_path(e->path2, newp);
	perim_submit(PERIM_RING_EVENTS, e);
	return 0;
}

/* open*(): flags first (no memory read), then the prefix map, then reserve. */
static __always_inline int perim_on_open_write(int dirfd, const char *upath, __u64 flags)
{
	struct perim_ev_file *e;

	if (!perim_hook_enabled(PERIM_HOOK_WRITE) || !(flags & PERIM_WRITE_FLAGS))
		return 0;
	if (!perim_user_path_sensitive(upath))
		return 0;
	e = perim_file_reserve(PERIM_HOOK_WRITE, PERIM_FILE_WRITE);
	if (!e)
		return 0;
	e->dirfd = dirfd;
	e->mode = flags;
	e->path_len = perim_read_user_path(e->path, upath);
	perim_submit(PERIM_RING_EVENTS, e);
	return 0;
}

/* kprobe/fentry flavours: the dentries the VFS works on. */
static __always_inline int perim_on_vfs_dentry(__u32 hook, __u16 op, struct dentry *d, struct dentry *d2)
{
	struct perim_ev_file *e;

	if (!perim_hook_enabled(hook))
		return 0;
	e = perim_file_reserve(hook, op);
	if (!e)
		return 0;
	e->path_kind = PERIM_PATH_DENTRY;
	e->path_len = perim_read_dentry_name(e->path, d);
	if (d2)
		e->path2_len = perim_read_dentry_name(e->path2, d2);
	perim_submit(PERIM_RING_EVENTS, e);
	return 0;
}

#define PERIM_ATTR_MODE 1
#define PERIM_ATTR_UID  2
#define PERIM_ATTR_GID  4
#define PERIM_ATTR_SIZE 8

static __always_inline int perim_on_notify_change(struct dentry *d, struct iattr *attr)
{
	unsigned int valid = BPF_CORE_READ(attr, ia_valid);
	struct perim_ev_file *e;

	if (!perim_hook_enabled(PERIM_HOOK_ATTR) ||
	    !(valid & (PERIM_ATTR_MODE | PERIM_ATTR_UID | PERIM_ATTR_GID | PERIM_ATTR_SIZE)))
		return 0;
	e = perim_file_reserve(PERIM_HOOK_ATTR, PERIM_FILE_ATTR);
	if (!e)
		return 0;
	e->path_kind = PERIM_PATH_DENTRY;
	if (valid & PERIM_ATTR_MODE)
		e->mode = BPF_CORE_READ(attr, ia_mode);
	if (valid & PERIM_ATTR_UID)
		e->uid = BPF_CORE_READ(attr, ia_uid.val);
	if (valid & PERIM_ATTR_GID)
		e->gid = BPF_CORE_READ(attr, ia_gid.val);
	if (valid & PERIM_ATTR_SIZE)
		e->length = BPF_CORE_READ(attr, ia_size);
	e->path_len = perim_read_dentry_name(e->path, d);
	perim_submit(PERIM_RING_EVENTS, e);
	return 0;
}

#endif /* PERIM_TRACERS_FILE_H */
