/* SPDX-License-Identifier: GPL-2.0 */
/*
 * LSM guard rails: configured (operation, path prefix, audit|enforce) rules.
 * None is active by default: guard_op_mask is 0 and every hook returns at once.
 * perimd is recognised by pid and start time, never by name.
 */
#ifndef PERIM_TRACERS_GUARD_H
#define PERIM_TRACERS_GUARD_H

#define PERIM_EPERM 1

/* Bit n set: some rule for enum perim_guard_op n exists. */
__u32 guard_op_mask;

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, PERIM_GUARD_MAX_RULES);
	__type(key, __u32);
	__type(value, struct perim_guard_rule);
} perim_guard_rules SEC(".maps");

static __always_inline bool perim_prefix_eq(const char *path, const struct perim_guard_rule *r)
{
	__u32 len = r->prefix_len;

	for (int j = 0; j < PERIM_PREFIX_MAX; j++) {
		if (j >= len)
			return true;
		if (path[j] != r->prefix[j])
			return false;
	}
	return len <= PERIM_PREFIX_MAX;
}

/* The first rule for op whose prefix starts path; -1 when none. */
static __always_inline int perim_guard_match(__u32 op, const char *path, __u32 *mode)
{
	for (__u32 i = 0; i < PERIM_GUARD_MAX_RULES; i++) {
		struct perim_guard_rule *r = bpf_map_lookup_elem(&perim_guard_rules, &i);

		if (!r || !r->mode || r->op != op)
			continue;
		if (perim_prefix_eq(path, r)) {
			*mode = r->mode;
			return i;
		}
	}
	return -1;
}

static __always_inline void perim_guard_report(__u32 op, __u32 hook, __u32 rule, __u32 mode,
					       int bpf_cmd, const char *path)
{
	struct perim_ev_guard *e;

	e = perim_reserve(PERIM_RING_SECURITY, hook, PERIM_EV_GUARD, sizeof(*e));
	if (!e)
		return;
	e->op = op;
	e->mode = mode;
	e->rule = rule;
	e->bpf_cmd = bpf_cmd;
	__builtin_memset(e->_pad0, 0, sizeof(e->_pad0));
	e->path_len = perim_str_len(bpf_probe_read_kernel_str(e->path, sizeof(e->path), path));
	perim_submit(PERIM_RING_SECURITY, e);
}

/* Decide on a path already in scratch: 0 = allow, -EPERM = deny. */
static __always_inline int perim_guard_decide(__u32 op, __u32 hook, int bpf_cmd, const char *path)
{
	__u32 mode = 0;
	int rule;

	if (perim_is_self())
		return 0;
	rule = perim_guard_match(op, path, &mode);
	if (rule < 0)
		return 0;
	perim_guard_report(op, hook, rule, mode, bpf_cmd, path);
	return mode == PERIM_GUARD_ENFORCE ? -PERIM_EPERM : 0;
}

static __always_inline struct perim_path_scratch *perim_scratch(void)
{
	__u32 zero = 0;

	return bpf_map_lookup_elem(&perim_path_scratch, &zero);
}

#endif /* PERIM_TRACERS_GUARD_H */
