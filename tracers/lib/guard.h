/* SPDX-License-Identifier: GPL-2.0 */
/*
 * LSM guard rails: configured (operation, file or directory, audit|enforce)
 * rules. None is active by default: guard_op_mask is 0 and every hook returns
 * at once. perimd is recognised by pid and start time, never by name.
 *
 * open and exec match by inode: the file's own, then each parent directory's
 * (bounded), so no path string is built in the kernel. No per-rule loop: one
 * map lookup per level, which every verifier since 5.10 bounds.
 *
 * bpf matches by object identity, never by the path bpf() is given: perimd
 * lists the ids of its own maps and programs in perim_guard_objs (with the
 * verdict of the bpf rule covering its pin root), and every new fd to one of
 * them (by pin, by id, through any path) is decided in lsm/bpf_map and
 * lsm/bpf_prog. Unlinking, renaming or pinning below a bpf rule's directory is
 * matched by inode, as open and exec are.
 */
#ifndef PERIM_TRACERS_GUARD_H
#define PERIM_TRACERS_GUARD_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include "perim_events.h"
#include "common.h"
#include "path.h"

#define PERIM_EPERM 1

/* Bit n set: some rule for enum perim_guard_op n exists. */
__u32 guard_op_mask;

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, PERIM_GUARD_MAX_RULES);
	__type(key, struct perim_guard_ino_key);
	__type(value, struct perim_guard_verdict);
} perim_guard_inodes SEC(".maps");

/* perimd's maps and programs: key PERIM_GUARD_OBJ_KEY(kind, id). */
#define PERIM_GUARD_OBJ_MAP  1ull
#define PERIM_GUARD_OBJ_PROG 2ull
#define PERIM_GUARD_OBJ_KEY(kind, id) ((kind) << 32 | (__u32)(id))

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, __u64);
	__type(value, struct perim_guard_verdict);
} perim_guard_objs SEC(".maps");

/* The rule guarding dentry d or a directory above it, for op; NULL when none. */
static __always_inline struct perim_guard_verdict *perim_guard_by_inode(__u32 op, struct dentry *d)
{
	struct perim_guard_ino_key key = {};
	__u32 dev = BPF_CORE_READ(d, d_sb, s_dev);

	for (int level = 0; level < PERIM_GUARD_DEPTH && d; level++) {
		struct perim_guard_verdict *v;
		struct dentry *parent;

		key.ino = BPF_CORE_READ(d, d_inode, i_ino);
		key.dev = dev;
		key.op = op;
		v = bpf_map_lookup_elem(&perim_guard_inodes, &key);
		if (v)
			return v;
		parent = BPF_CORE_READ(d, d_parent);
		if (parent == d)            /* the file system's root */
			break;
		d = parent;
	}
	return NULL;
}

static __always_inline void perim_guard_report(__u32 op, __u32 hook, const struct perim_guard_verdict *v,
					       int bpf_cmd, const char *path)
{
	struct perim_ev_guard *e;

	e = perim_reserve(PERIM_RING_SECURITY, hook, PERIM_EV_GUARD, sizeof(*e));
	if (!e)
		return;
	e->op = op;
	e->mode = v->mode;
	e->rule = v->rule;
	e->bpf_cmd = bpf_cmd;
	__builtin_memset(e->_pad0, 0, sizeof(e->_pad0));
	e->path_len = perim_str_len(bpf_probe_read_kernel_str(e->path, sizeof(e->path), path));
	perim_submit(PERIM_RING_SECURITY, e);
}

/* Report a matched rule (path: a kernel string naming the target): 0 = allow, -EPERM = deny. */
static __always_inline int perim_guard_decide(__u32 op, __u32 hook, int bpf_cmd,
					      const struct perim_guard_verdict *v, const char *path)
{
	__u32 mode;

	if (!v || perim_is_self())
		return 0;
	mode = v->mode;
	perim_guard_report(op, hook, v, bpf_cmd, path);
	return mode == PERIM_GUARD_ENFORCE ? -PERIM_EPERM : 0;
}

/* The bpf rule's verdict for a new fd to one of perimd's objects; NULL when it is not one. */
static __always_inline struct perim_guard_verdict *perim_guard_obj(__u64 kind, __u32 id)
{
	__u64 key = PERIM_GUARD_OBJ_KEY(kind, id);

	return bpf_map_lookup_elem(&perim_guard_objs, &key);
}

/* A pin created, unlinked or renamed: dentry (or its directory) below a bpf rule's directory. */
#define PERIM_BPF_FS_MAGIC 0xcafe4a11

static __always_inline int perim_guard_pin(struct dentry *d)
{
	/* only bpffs holds pins: every other file system's creates and unlinks pass at once */
	if (!(guard_op_mask & (1u << PERIM_GUARD_BPF)) || BPF_CORE_READ(d, d_sb, s_magic) != PERIM_BPF_FS_MAGIC)
		return 0;
	return perim_guard_decide(PERIM_GUARD_BPF, PERIM_HOOK_LSM_BPF, -1,
				  perim_guard_by_inode(PERIM_GUARD_BPF, d),
				  (const char *)BPF_CORE_READ(d, d_name.name));
}

static __always_inline struct perim_path_scratch *perim_scratch(void)
{
	__u32 zero = 0;

	return bpf_map_lookup_elem(&perim_path_scratch, &zero);
}

#endif /* PERIM_TRACERS_GUARD_H */
