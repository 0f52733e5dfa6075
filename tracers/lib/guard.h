/* SPDX-License-Identifier: GPL-2.0 */
/*
 * LSM guard rails: configured (operation, file or directory, audit|enforce)
 * rules. None is active by default: guard_op_mask is 0 and every hook returns
 * at once. perimd is recognised by pid and start time, never by name.
 *
 * open and exec match by inode: the file's own, then each parent directory's
 * (bounded), so no path string is built in the kernel. bpf matches the path
 * bpf() was given against string prefixes. No per-rule loop: one map lookup
 * per level, which every verifier since 5.10 bounds.
 */
#ifndef PERIM_TRACERS_GUARD_H
#define PERIM_TRACERS_GUARD_H

#define PERIM_EPERM 1

/* Bit n set: some rule for enum perim_guard_op n exists. */
__u32 guard_op_mask;

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, PERIM_GUARD_MAX_RULES);
	__type(key, struct perim_guard_ino_key);
	__type(value, struct perim_guard_verdict);
} perim_guard_inodes SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, PERIM_GUARD_MAX_RULES);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct perim_prefix_key);
	__type(value, struct perim_guard_verdict);
} perim_guard_paths SEC(".maps");

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

static __always_inline struct perim_path_scratch *perim_scratch(void)
{
	__u32 zero = 0;

	return bpf_map_lookup_elem(&perim_path_scratch, &zero);
}

#endif /* PERIM_TRACERS_GUARD_H */
