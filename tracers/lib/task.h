/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The current task, read the cheapest way the kernel allows: where it has
 * bpf_get_current_task_btf (5.11+), plain loads the verifier checks (one
 * instruction each, faults caught by the JIT's exception table); before, one
 * bpf_probe_read_kernel call per field through CO-RE. The test is a CO-RE
 * constant, so older verifiers never see the unknown helper (as clock.h).
 */
#ifndef PERIM_TRACERS_TASK_H
#define PERIM_TRACERS_TASK_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include "perim_events.h"

#define perim_has_task_btf() bpf_core_enum_value_exists(enum bpf_func_id, BPF_FUNC_get_current_task_btf)

/* Kernels before 5.5 call the boot-time start real_start_time. */
struct task_struct___pre55 {
	__u64 real_start_time;
};

static __always_inline __u64 perim_task_start_ns(struct task_struct *task)
{
	struct task_struct *leader = BPF_CORE_READ(task, group_leader);

	if (bpf_core_field_exists(leader->start_boottime))
		return BPF_CORE_READ(leader, start_boottime);
	return BPF_CORE_READ((struct task_struct___pre55 *)leader, real_start_time);
}

/* task_struct::state became __state in 5.14. */
struct task_struct___pre514 {
	long state;
};

static __always_inline __u32 perim_task_state(struct task_struct *task)
{
	if (bpf_core_field_exists(task->__state))
		return BPF_CORE_READ(task, __state);
	return BPF_CORE_READ((struct task_struct___pre514 *)task, state);
}

/* comm as two 8-byte loads: the kernel keeps it NUL-terminated within 16 bytes. */
static __always_inline void perim_copy_comm(char *dst, const char *comm)
{
	((__u64 *)dst)[0] = ((const __u64 *)comm)[0];
	((__u64 *)dst)[1] = ((const __u64 *)comm)[1];
}

/* pid, tid, ids, cgroup, start time, parent and comm of a BTF task (the current one). */
static __always_inline void perim_fill_hdr_btf(struct perim_ev_hdr *h, struct task_struct *t)
{
	const struct cred *cred = t->cred;

	h->pid = t->tgid;
	h->tid = t->pid;
	h->uid = cred->uid.val;
	h->gid = cred->gid.val;
	h->start_ns = t->group_leader->start_boottime;
	h->ppid = t->real_parent->tgid;
	h->cgroup_id = t->cgroups->dfl_cgrp->kn->id;
	perim_copy_comm(h->comm, t->comm);
}

/* The same through the helpers: one call per field, four probe reads for start and parent. */
static __always_inline void perim_fill_hdr_helpers(struct perim_ev_hdr *h)
{
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	__u64 uid_gid = bpf_get_current_uid_gid();

	h->pid = pid_tgid >> 32;
	h->tid = (__u32)pid_tgid;
	h->uid = (__u32)uid_gid;
	h->gid = uid_gid >> 32;
	h->start_ns = perim_task_start_ns(task);
	h->ppid = BPF_CORE_READ(task, real_parent, tgid);
	h->cgroup_id = bpf_get_current_cgroup_id();
	bpf_get_current_comm(h->comm, sizeof(h->comm));
}

static __always_inline void perim_fill_hdr_task(struct perim_ev_hdr *h)
{
	if (perim_has_task_btf())
		perim_fill_hdr_btf(h, bpf_get_current_task_btf());
	else
		perim_fill_hdr_helpers(h);
}

/*
 * The struct file behind fd in the current task, or NULL. The fd array is a
 * pointer to pointers, which the verifier types as a scalar: its slot is one
 * probe read on every kernel, the walk to it plain loads where possible.
 */
static __always_inline struct file *perim_file_of_fd(int fd)
{
	struct file **fds, *file = NULL;
	struct fdtable *fdt;

	if (fd < 0)
		return NULL;
	if (perim_has_task_btf()) {
		fdt = bpf_get_current_task_btf()->files->fdt;
		if ((unsigned int)fd >= fdt->max_fds)
			return NULL;
		fds = fdt->fd;
	} else {
		fdt = BPF_CORE_READ((struct task_struct *)bpf_get_current_task(), files, fdt);
		if (!fdt || (unsigned int)fd >= BPF_CORE_READ(fdt, max_fds))
			return NULL;
		fds = BPF_CORE_READ(fdt, fd);
	}
	if (bpf_probe_read_kernel(&file, sizeof(file), &fds[fd]))
		return NULL;
	return file;
}

#endif /* PERIM_TRACERS_TASK_H */
