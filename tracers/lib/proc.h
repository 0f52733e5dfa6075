/* SPDX-License-Identifier: GPL-2.0 */
/* Process lifecycle: exec (with argv), fork, exit (with code), signals. */
#ifndef PERIM_TRACERS_PROC_H
#define PERIM_TRACERS_PROC_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include "perim_events.h"
#include "common.h"
#include "sec.h"      /* the commit_creds fallback of a set-id exec */

/*
 * The hooks below take btf: true in the tp_btf flavour, whose task and bprm
 * are BTF pointers read with plain loads; false in raw_tp, whose are read
 * through CO-RE probe reads. It is a constant in each program, so the other
 * branch is gone before the verifier runs.
 *
 * argv as the new image sees it: mm->arg_start..arg_end, bounded. The strings
 * are not counted here (perimd splits at the NULs): a per-byte loop would cost
 * up to PERIM_ARGV_MAX iterations per exec, and older verifiers (6.1) lose the
 * loop bound against the record's end and reject the program.
 */
static __always_inline void perim_read_argv(struct perim_ev_exec *e, struct task_struct *task, bool btf)
{
	struct mm_struct *mm = btf ? task->mm : BPF_CORE_READ(task, mm);
	unsigned long start = btf ? mm->arg_start : BPF_CORE_READ(mm, arg_start);
	unsigned long end = btf ? mm->arg_end : BPF_CORE_READ(mm, arg_end);
	unsigned long n = end > start ? end - start : 0;

	e->argv_truncated = n > PERIM_ARGV_MAX - 1;
	if (n > PERIM_ARGV_MAX - 1)
		n = PERIM_ARGV_MAX - 1;
	n &= PERIM_ARGV_MAX - 1;          /* the verifier's bound */
	if (bpf_probe_read_user(e->argv, n, (const void *)start))
		n = 0;
	e->argv_len = n;
}

static __always_inline int perim_on_exec(struct task_struct *task, __u32 old_pid, struct linux_binprm *bprm,
					 bool btf)
{
	struct perim_ev_exec *e;

	if (creds_fallback)
		perim_creds_fallback_exec(task, btf);
	if (!perim_hook_enabled(PERIM_HOOK_EXEC))
		return 0;
	e = perim_reserve(PERIM_RING_EVENTS, PERIM_HOOK_EXEC, PERIM_EV_EXEC, sizeof(*e));
	if (!e)
		return 0;
	e->old_pid = old_pid;
	__builtin_memset(e->_pad0, 0, sizeof(e->_pad0));
	e->filename_len = perim_str_len(bpf_probe_read_kernel_str(e->filename, sizeof(e->filename),
								  btf ? bprm->filename : BPF_CORE_READ(bprm, filename)));
	perim_read_argv(e, task, btf);
	perim_submit(PERIM_RING_EVENTS, e);
	return 0;
}

static __always_inline int perim_on_fork(struct task_struct *parent, struct task_struct *child, bool btf)
{
	struct perim_ev_fork *e;
	__u32 tgid;

	if (!perim_hook_enabled(PERIM_HOOK_FORK))
		return 0;
	tgid = btf ? child->tgid : BPF_CORE_READ(child, tgid);
	/* New threads are not new processes. */
	if ((btf ? child->pid : BPF_CORE_READ(child, pid)) != tgid)
		return 0;
	e = perim_reserve(PERIM_RING_EVENTS, PERIM_HOOK_FORK, PERIM_EV_FORK, sizeof(*e));
	if (!e)
		return 0;
	e->child_pid = tgid;
	e->_pad0 = 0;
	/* A new process leads its group: its own start time (tp_btf exists only where start_boottime does). */
	e->child_start_ns = btf ? child->start_boottime : perim_task_start_ns(child);
	perim_submit(PERIM_RING_EVENTS, e);
	return 0;
}

static __always_inline int perim_on_exit(struct task_struct *task, bool btf)
{
	struct perim_ev_exit *e;

	if (!perim_hook_enabled(PERIM_HOOK_EXIT))
		return 0;
	/* Only the last thread out ends the process (signal->live already dropped). */
	if ((btf ? task->signal->live.counter : BPF_CORE_READ(task, signal, live.counter)) != 0)
		return 0;
	e = perim_reserve(PERIM_RING_EVENTS, PERIM_HOOK_EXIT, PERIM_EV_EXIT, sizeof(*e));
	if (!e)
		return 0;
	e->exit_code = btf ? task->exit_code : BPF_CORE_READ(task, exit_code);
	e->_pad0 = 0;
	perim_submit(PERIM_RING_EVENTS, e);
	return 0;
}

static __always_inline int perim_on_signal(int sig, struct task_struct *target, int group, int result)
{
	struct perim_ev_signal *e;

	if (!perim_hook_enabled(PERIM_HOOK_SIGNAL))
		return 0;
	if (sig < 0 || sig >= 64 || (signal_skip_mask & (1ULL << sig)))
		return 0;
	e = perim_reserve(PERIM_RING_EVENTS, PERIM_HOOK_SIGNAL, PERIM_EV_SIGNAL, sizeof(*e));
	if (!e)
		return 0;
	e->sig = sig;
	e->result = result;
	e->group = group;
	e->target_pid = BPF_CORE_READ(target, tgid);
	e->target_tid = BPF_CORE_READ(target, pid);
	e->target_state = perim_task_state(target);
	BPF_CORE_READ_STR_INTO(&e->target_comm, target, comm);
	perim_submit(PERIM_RING_EVENTS, e);
	return 0;
}

#endif /* PERIM_TRACERS_PROC_H */
