/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Security events, on their own ring: ptrace, module load, bpf() by others,
 * the set*id family, mount, credential changes.
 */
#ifndef PERIM_TRACERS_SEC_H
#define PERIM_TRACERS_SEC_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include "perim_events.h"
#include "common.h"
#include "path.h"

static __always_inline int perim_on_ptrace(long request, __u32 target)
{
	struct perim_ev_ptrace *e;

	if (!perim_hook_enabled(PERIM_HOOK_PTRACE))
		return 0;
	e = perim_reserve(PERIM_RING_SECURITY, PERIM_HOOK_PTRACE, PERIM_EV_PTRACE, sizeof(*e));
	if (!e)
		return 0;
	e->request = request;
	e->target_pid = target;
	e->_pad0 = 0;
	perim_submit(PERIM_RING_SECURITY, e);
	return 0;
}

static __always_inline int perim_on_module(struct module *mod)
{
	struct perim_ev_module *e;

	if (!perim_hook_enabled(PERIM_HOOK_MODULE))
		return 0;
	e = perim_reserve(PERIM_RING_SECURITY, PERIM_HOOK_MODULE, PERIM_EV_MODULE, sizeof(*e));
	if (!e)
		return 0;
	__builtin_memset(e->_pad0, 0, sizeof(e->_pad0));
	e->name_len = perim_str_len(bpf_probe_read_kernel_str(e->name, sizeof(e->name), mod->name));
	perim_submit(PERIM_RING_SECURITY, e);
	return 0;
}

static __always_inline int perim_on_bpf(__u32 cmd)
{
	struct perim_ev_bpf *e;

	if (!perim_hook_enabled(PERIM_HOOK_BPF) || cmd >= 64 || !(bpf_cmd_mask & (1ULL << cmd)) ||
	    perim_is_self())
		return 0;
	e = perim_reserve(PERIM_RING_SECURITY, PERIM_HOOK_BPF, PERIM_EV_BPF, sizeof(*e));
	if (!e)
		return 0;
	e->cmd = cmd;
	e->_pad0 = 0;
	perim_submit(PERIM_RING_SECURITY, e);
	return 0;
}

/* Credentials before a set*id call, kept until its exit (creds fallback). */
struct perim_cred_ids {
	__u32 uid, euid, gid, egid;
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4096);
	__type(key, __u64);
	__type(value, struct perim_cred_ids);
} perim_setid_pending SEC(".maps");

static __always_inline void perim_cred_ids_of(const struct cred *c, struct perim_cred_ids *ids)
{
	ids->uid = BPF_CORE_READ(c, uid.val);
	ids->euid = BPF_CORE_READ(c, euid.val);
	ids->gid = BPF_CORE_READ(c, gid.val);
	ids->egid = BPF_CORE_READ(c, egid.val);
}

static __always_inline void perim_emit_creds(const struct perim_cred_ids *old,
					     const struct perim_cred_ids *new, __u32 via)
{
	struct perim_ev_creds *e;

	if (old->uid == new->uid && old->euid == new->euid &&
	    old->gid == new->gid && old->egid == new->egid)
		return;
	e = perim_reserve(PERIM_RING_SECURITY, PERIM_HOOK_CREDS, PERIM_EV_CREDS, sizeof(*e));
	if (!e)
		return;
	e->old_uid = old->uid;
	e->old_euid = old->euid;
	e->old_gid = old->gid;
	e->old_egid = old->egid;
	e->new_uid = new->uid;
	e->new_euid = new->euid;
	e->new_gid = new->gid;
	e->new_egid = new->egid;
	e->via = via;
	e->_pad0 = 0;
	perim_submit(PERIM_RING_SECURITY, e);
}

static __always_inline int perim_on_setid(__u32 call, __u32 nargs, __u32 a, __u32 b, __u32 c)
{
	struct perim_ev_setid *e;

	if (creds_fallback && perim_hook_enabled(PERIM_HOOK_CREDS)) {
		struct task_struct *task = (struct task_struct *)bpf_get_current_task();
		struct perim_cred_ids ids;
		__u64 key = bpf_get_current_pid_tgid();

		perim_cred_ids_of(BPF_CORE_READ(task, cred), &ids);
		bpf_map_update_elem(&perim_setid_pending, &key, &ids, BPF_ANY);
	}
	if (!perim_hook_enabled(PERIM_HOOK_SETID))
		return 0;
	e = perim_reserve(PERIM_RING_SECURITY, PERIM_HOOK_SETID, PERIM_EV_SETID, sizeof(*e));
	if (!e)
		return 0;
	e->call = call;
	e->nargs = nargs;
	e->id[0] = a;
	e->id[1] = b;
	e->id[2] = c;
	e->_pad0 = 0;
	perim_submit(PERIM_RING_SECURITY, e);
	return 0;
}

/* Fallback for commit_creds: a set*id syscall returned; did the ids change? */
static __always_inline int perim_on_setid_exit(long ret)
{
	__u64 key = bpf_get_current_pid_tgid();
	struct perim_cred_ids *old, before, after;
	struct task_struct *task;

	old = bpf_map_lookup_elem(&perim_setid_pending, &key);
	if (!old)
		return 0;
	before = *old;
	bpf_map_delete_elem(&perim_setid_pending, &key);
	if (ret != 0)
		return 0;
	task = (struct task_struct *)bpf_get_current_task();
	perim_cred_ids_of(BPF_CORE_READ(task, cred), &after);
	perim_emit_creds(&before, &after, PERIM_CREDS_VIA_SETID_EXIT);
	return 0;
}

/* The ids of a BTF pointer's credentials: plain loads. */
static __always_inline void perim_cred_ids_of_btf(const struct cred *c, struct perim_cred_ids *ids)
{
	ids->uid = c->uid.val;
	ids->euid = c->euid.val;
	ids->gid = c->gid.val;
	ids->egid = c->egid.val;
}

/*
 * Fallback for commit_creds in exec: a set-id image runs with other ids than
 * its caller's. btf: task is a BTF pointer (tp_btf).
 */
static __always_inline void perim_creds_fallback_exec(struct task_struct *task, bool btf)
{
	struct perim_cred_ids real, eff;

	if (!perim_hook_enabled(PERIM_HOOK_CREDS))
		return;
	if (btf)
		perim_cred_ids_of_btf(task->cred, &eff);
	else
		perim_cred_ids_of(BPF_CORE_READ(task, cred), &eff);
	if (eff.euid == eff.uid && eff.egid == eff.gid)
		return;
	/* The caller's view: the real ids, which a set-id exec leaves alone. */
	real = eff;
	real.euid = eff.uid;
	real.egid = eff.gid;
	perim_emit_creds(&real, &eff, PERIM_CREDS_VIA_EXEC);
}

/* commit_creds(new) via kprobe or fentry: compare with the task's current creds. */
static __always_inline int perim_on_commit_creds(const struct cred *new)
{
	struct task_struct *task;
	struct perim_cred_ids before, after;

	if (!perim_hook_enabled(PERIM_HOOK_CREDS))
		return 0;
	task = (struct task_struct *)bpf_get_current_task();
	perim_cred_ids_of(BPF_CORE_READ(task, cred), &before);
	perim_cred_ids_of(new, &after);
	perim_emit_creds(&before, &after, PERIM_CREDS_VIA_COMMIT_CREDS);
	return 0;
}

static __always_inline int perim_on_mount(const char *source, const char *target,
					  const char *fstype, __u64 flags)
{
	struct perim_ev_mount *e;

	if (!perim_hook_enabled(PERIM_HOOK_MOUNT))
		return 0;
	e = perim_reserve(PERIM_RING_SECURITY, PERIM_HOOK_MOUNT, PERIM_EV_MOUNT, sizeof(*e));
	if (!e)
		return 0;
	e->flags = flags;
	e->_pad0 = 0;
	e->source_len = source ? perim_read_user_path(e->source, source) : 0;
	e->target_len = target ? perim_read_user_path(e->target, target) : 0;
	e->fstype_len = fstype ? perim_str_len(bpf_probe_read_user_str(e->fstype, sizeof(e->fstype), fstype)) : 0;
	perim_submit(PERIM_RING_SECURITY, e);
	return 0;
}

#endif /* PERIM_TRACERS_SEC_H */
