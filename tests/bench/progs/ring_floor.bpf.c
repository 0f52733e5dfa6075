// SPDX-License-Identifier: GPL-2.0
/*
 * The floor of a tracer hook (exec, fork, exit, TCP state, connect's and accept's exit), as reference rows of the tracer benchmark
 * (tests/bench/ring_floor.c beside perimd): reserve a record of perim's size
 * for that hook on a ring of perimd's size, write one field, submit without
 * a wakeup. Nothing read from the kernel, no counters, no sequence numbers.
 * What a hook costs above this is perim's own work; what this costs is the
 * ring buffer on this machine (the record's cache lines and pages arrive cold).
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "perim_events.h"

char LICENSE[] SEC("license") = "GPL";

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 2 << 20);          /* the loader sets perimd's size */
} floor_ring SEC(".maps");

SEC("tp_btf/sched_process_exec")
int BPF_PROG(floor_exec, struct task_struct *p, pid_t old_pid)
{
	struct perim_ev_exec *e = bpf_ringbuf_reserve(&floor_ring, sizeof(*e), 0);

	if (!e)
		return 0;
	e->old_pid = old_pid;
	bpf_ringbuf_submit(e, BPF_RB_NO_WAKEUP);
	return 0;
}

SEC("tp_btf/inet_sock_set_state")
int BPF_PROG(floor_sock, struct sock *sk, int oldstate, int newstate)
{
	struct perim_ev_sock *e = bpf_ringbuf_reserve(&floor_ring, sizeof(*e), 0);

	if (!e)
		return 0;
	e->newstate = newstate;
	bpf_ringbuf_submit(e, BPF_RB_NO_WAKEUP);
	return 0;
}

SEC("tp_btf/sched_process_fork")
int BPF_PROG(floor_fork, struct task_struct *parent, struct task_struct *child)
{
	struct perim_ev_fork *e = bpf_ringbuf_reserve(&floor_ring, sizeof(*e), 0);

	if (!e)
		return 0;
	e->child_pid = 1;
	bpf_ringbuf_submit(e, BPF_RB_NO_WAKEUP);
	return 0;
}

SEC("tp_btf/sched_process_exit")
int BPF_PROG(floor_exit, struct task_struct *p)
{
	struct perim_ev_exit *e = bpf_ringbuf_reserve(&floor_ring, sizeof(*e), 0);

	if (!e)
		return 0;
	e->exit_code = 1;
	bpf_ringbuf_submit(e, BPF_RB_NO_WAKEUP);
	return 0;
}

SEC("tp/syscalls/sys_exit_connect")
int floor_connect(struct trace_event_raw_sys_exit *ctx)
{
	struct perim_ev_sock *e = bpf_ringbuf_reserve(&floor_ring, sizeof(*e), 0);

	if (!e)
		return 0;
	e->result = ctx->ret;
	bpf_ringbuf_submit(e, BPF_RB_NO_WAKEUP);
	return 0;
}

/* accept() and accept4() are two tracepoints; perim has a program on each. */
static __always_inline int floor_accept_exit(long ret)
{
	struct perim_ev_sock *e = bpf_ringbuf_reserve(&floor_ring, sizeof(*e), 0);

	if (!e)
		return 0;
	e->fd = ret;
	bpf_ringbuf_submit(e, BPF_RB_NO_WAKEUP);
	return 0;
}

SEC("tp/syscalls/sys_exit_accept")
int floor_accept(struct trace_event_raw_sys_exit *ctx)
{
	return floor_accept_exit(ctx->ret);
}

SEC("tp/syscalls/sys_exit_accept4")
int floor_accept4(struct trace_event_raw_sys_exit *ctx)
{
	return floor_accept_exit(ctx->ret);
}

/* No ring at all: what running any program on the hook costs (with bpf_stats on). */
SEC("tp_btf/sched_process_exec")
int BPF_PROG(floor_empty, struct task_struct *p)
{
	return 0;
}
