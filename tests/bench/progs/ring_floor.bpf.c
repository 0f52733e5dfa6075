// SPDX-License-Identifier: GPL-2.0
/*
 * The floor of a tracer hook (exec, fork, exit, TCP state, connect's, accept's and bind's exit, mount), as reference rows of the tracer benchmark
 * (tests/bench/ring_floor.c beside perimd): reserve a record of perim's size
 * for that hook on a ring of perimd's size, write one field, submit without
 * a wakeup. Nothing read from the kernel, no counters, no sequence numbers.
 * What a hook costs above this is perim's own work; what this costs is the
 * ring buffer on this machine (the record's cache lines and pages arrive cold).
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_endian.h>

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

SEC("tp/syscalls/sys_enter_mount")
int floor_mount(struct trace_event_raw_sys_enter *ctx)
{
	struct perim_ev_mount *e = bpf_ringbuf_reserve(&floor_ring, sizeof(*e), 0);

	if (!e)
		return 0;
	e->flags = 1;
	bpf_ringbuf_submit(e, BPF_RB_NO_WAKEUP);
	return 0;
}

SEC("tp/syscalls/sys_exit_bind")
int floor_bind(struct trace_event_raw_sys_exit *ctx)
{
	struct perim_ev_bind *e = bpf_ringbuf_reserve(&floor_ring, sizeof(*e), 0);

	if (!e)
		return 0;
	e->result = ctx->ret;
	bpf_ringbuf_submit(e, BPF_RB_NO_WAKEUP);
	return 0;
}

/*
 * References: the unavoidable work of a hook whose cost stays above 1.5x its
 * floor. Each fills every field its event must carry, read the cheapest way
 * this kernel allows (bpf_get_current_task_btf and plain loads; one probe read
 * where the kernel gives only an untyped pointer), and submits without a
 * wakeup: none of perim's own bookkeeping (hook switches, per-hook counters,
 * sequence numbers, the wakeup mark). Written here, not taken from tracers/,
 * so that the reference does not inherit perim's choices.
 */
static __always_inline void ref_hdr(struct perim_ev_hdr *h)
{
	struct task_struct *t = bpf_get_current_task_btf();
	const struct cred *cred = t->cred;

	h->cpu = bpf_get_smp_processor_id();
	h->ts_ns = bpf_ktime_get_ns();
	h->pid = t->tgid;
	h->tid = t->pid;
	h->uid = cred->uid.val;
	h->gid = cred->gid.val;
	h->start_ns = t->group_leader->start_boottime;
	h->ppid = t->real_parent->tgid;
	h->cgroup_id = t->cgroups->dfl_cgrp->kn->id;
	__builtin_memcpy(h->comm, t->comm, sizeof(h->comm));
}

/* An IPv4 address as IPv4-mapped IPv6, four 4-byte stores. */
static __always_inline void ref_v4_mapped(__u8 *dst, __be32 addr)
{
	__u32 *w = (__u32 *)dst;

	w[0] = 0;
	w[1] = 0;
	w[2] = bpf_htonl(0xffff);
	w[3] = addr;
}

/* The current task's socket behind fd: the fd slot, the file's socket and its sock are untyped pointers. */
static __always_inline struct sock *ref_sock_of_fd(long fd)
{
	struct fdtable *fdt = bpf_get_current_task_btf()->files->fdt;
	struct file **fds = fdt->fd, *file = NULL;
	struct socket *sock = NULL;
	struct sock *sk = NULL;

	if (fd < 0 || fd >= fdt->max_fds || bpf_probe_read_kernel(&file, sizeof(file), &fds[fd]) || !file ||
	    bpf_probe_read_kernel(&sock, sizeof(sock), &file->private_data) || !sock)
		return NULL;
	bpf_probe_read_kernel(&sk, sizeof(sk), &sock->sk);
	return sk;
}

/* sk's addresses, ports, family (one read of its sock_common) and protocol. */
static __always_inline void ref_sock_fill(struct perim_ev_sock *e, struct sock *sk)
{
	struct sock_common c;

	if (bpf_probe_read_kernel(&c, sizeof(c), sk))
		return;
	e->family = c.skc_family;
	e->proto = BPF_CORE_READ(sk, sk_protocol);
	e->sport = c.skc_num;
	e->dport = bpf_ntohs(c.skc_dport);
	__builtin_memcpy(e->saddr, &c.skc_v6_rcv_saddr, 16);
	__builtin_memcpy(e->daddr, &c.skc_v6_daddr, 16);
	if (c.skc_family == 2) {
		__builtin_memcpy(e->saddr + 12, &c.skc_rcv_saddr, 4);
		__builtin_memcpy(e->daddr + 12, &c.skc_daddr, 4);
	}
}

static __always_inline int ref_accept_exit(long ret)
{
	struct perim_ev_sock *e;
	struct sock *sk = ref_sock_of_fd(ret);

	if (!sk)
		return 0;
	e = bpf_ringbuf_reserve(&floor_ring, sizeof(*e), 0);
	if (!e)
		return 0;
	ref_hdr(&e->hdr);
	ref_sock_fill(e, sk);
	e->fd = ret;
	bpf_ringbuf_submit(e, BPF_RB_NO_WAKEUP);
	return 0;
}

SEC("tp/syscalls/sys_exit_accept")
int ref_accept(struct trace_event_raw_sys_exit *ctx)
{
	return ref_accept_exit(ctx->ret);
}

SEC("tp/syscalls/sys_exit_accept4")
int ref_accept4(struct trace_event_raw_sys_exit *ctx)
{
	return ref_accept_exit(ctx->ret);
}

/* connect's exit must learn the fd and the address asked for from its enter. */
struct ref_connect_args {
	long fd;
	struct sockaddr_in6 sa;
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 8192);
	__type(key, __u64);
	__type(value, struct ref_connect_args);
} ref_connect_pending SEC(".maps");

/* The fd and an inet address a connect or bind asks for, kept for its exit. */
static __always_inline int ref_remember_sockaddr(struct trace_event_raw_sys_enter *ctx, void *pending)
{
	struct ref_connect_args a = { .fd = ctx->args[0] };
	__u64 key = bpf_get_current_pid_tgid();

	if (bpf_probe_read_user(&a.sa, sizeof(a.sa), (void *)ctx->args[1]) ||
	    (a.sa.sin6_family != 2 && a.sa.sin6_family != 10))
		return 0;
	bpf_map_update_elem(pending, &key, &a, BPF_ANY);
	return 0;
}

SEC("tp/syscalls/sys_enter_connect")
int ref_connect_enter(struct trace_event_raw_sys_enter *ctx)
{
	return ref_remember_sockaddr(ctx, &ref_connect_pending);
}

SEC("tp/syscalls/sys_exit_connect")
int ref_connect(struct trace_event_raw_sys_exit *ctx)
{
	__u64 key = bpf_get_current_pid_tgid();
	struct ref_connect_args *a = bpf_map_lookup_elem(&ref_connect_pending, &key);
	struct perim_ev_sock *e;
	struct sock *sk;

	if (!a)
		return 0;
	e = bpf_ringbuf_reserve(&floor_ring, sizeof(*e), 0);
	if (e) {
		ref_hdr(&e->hdr);
		sk = ref_sock_of_fd(a->fd);
		if (sk)
			ref_sock_fill(e, sk);
		e->dport = bpf_ntohs(a->sa.sin6_port);
		e->fd = a->fd;
		e->result = ctx->ret;
		bpf_ringbuf_submit(e, BPF_RB_NO_WAKEUP);
	}
	bpf_map_delete_elem(&ref_connect_pending, &key);
	return 0;
}

/* bind's exit learns the fd and the address asked for from its enter, as connect's does. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 8192);
	__type(key, __u64);
	__type(value, struct ref_connect_args);
} ref_bind_pending SEC(".maps");

SEC("tp/syscalls/sys_enter_bind")
int ref_bind_enter(struct trace_event_raw_sys_enter *ctx)
{
	return ref_remember_sockaddr(ctx, &ref_bind_pending);
}

/* The port and address the kernel gave, the protocol and the socket's inode (via the fd's file). */
static __always_inline void ref_bind_fill(struct perim_ev_bind *e, long fd)
{
	struct fdtable *fdt = bpf_get_current_task_btf()->files->fdt;
	struct file **fds = fdt->fd, *file = NULL;
	struct socket *sock = NULL;
	struct sock *sk = NULL;
	struct sock_common c;

	if (fd < 0 || fd >= fdt->max_fds || bpf_probe_read_kernel(&file, sizeof(file), &fds[fd]) || !file ||
	    bpf_probe_read_kernel(&sock, sizeof(sock), &file->private_data) || !sock ||
	    bpf_probe_read_kernel(&sk, sizeof(sk), &sock->sk) || !sk ||
	    bpf_probe_read_kernel(&c, sizeof(c), sk))
		return;
	e->inode = BPF_CORE_READ(file, f_inode, i_ino);
	e->proto = BPF_CORE_READ(sk, sk_protocol);
	e->port = c.skc_num;
	if (c.skc_family == 2)
		ref_v4_mapped(e->addr, c.skc_rcv_saddr);
	else
		__builtin_memcpy(e->addr, &c.skc_v6_rcv_saddr, 16);
}

SEC("tp/syscalls/sys_exit_bind")
int ref_bind(struct trace_event_raw_sys_exit *ctx)
{
	__u64 key = bpf_get_current_pid_tgid();
	struct ref_connect_args *a = bpf_map_lookup_elem(&ref_bind_pending, &key);
	struct perim_ev_bind *e;

	if (!a)
		return 0;
	e = bpf_ringbuf_reserve(&floor_ring, sizeof(*e), 0);
	if (e) {
		ref_hdr(&e->hdr);
		e->family = a->sa.sin6_family;
		e->port = bpf_ntohs(a->sa.sin6_port);
		e->result = ctx->ret;
		e->fd = a->fd;
		if (ctx->ret == 0)
			ref_bind_fill(e, a->fd);
		bpf_ringbuf_submit(e, BPF_RB_NO_WAKEUP);
	}
	bpf_map_delete_elem(&ref_bind_pending, &key);
	return 0;
}

/* An exec event's fields: the header, the file name and argv as the new image sees it. */
static __always_inline void ref_exec_fill(struct perim_ev_exec *e, struct task_struct *p, pid_t old_pid,
					  struct linux_binprm *bprm)
{
	unsigned long start, n;

	ref_hdr(&e->hdr);
	e->old_pid = old_pid;
	e->filename_len = bpf_probe_read_kernel_str(e->filename, sizeof(e->filename), bprm->filename);
	start = p->mm->arg_start;
	n = p->mm->arg_end - start;
	if (n > PERIM_ARGV_MAX - 1)
		n = PERIM_ARGV_MAX - 1;
	n &= PERIM_ARGV_MAX - 1;          /* the verifier's bound */
	if (bpf_probe_read_user(e->argv, n, (void *)start))
		n = 0;
	e->argv_len = n;
}

SEC("tp_btf/sched_process_exec")
int BPF_PROG(ref_exec, struct task_struct *p, pid_t old_pid, struct linux_binprm *bprm)
{
	struct perim_ev_exec *e = bpf_ringbuf_reserve(&floor_ring, sizeof(*e), 0);

	if (!e)
		return 0;
	ref_exec_fill(e, p, old_pid, bprm);
	bpf_ringbuf_submit(e, BPF_RB_NO_WAKEUP);
	return 0;
}

SEC("tp/syscalls/sys_enter_mount")
int ref_mount(struct trace_event_raw_sys_enter *ctx)
{
	struct perim_ev_mount *e = bpf_ringbuf_reserve(&floor_ring, sizeof(*e), 0);

	if (!e)
		return 0;
	ref_hdr(&e->hdr);
	e->flags = ctx->args[3];
	e->source_len = bpf_probe_read_user_str(e->source, sizeof(e->source), (void *)ctx->args[0]);
	e->target_len = bpf_probe_read_user_str(e->target, sizeof(e->target), (void *)ctx->args[1]);
	e->fstype_len = bpf_probe_read_user_str(e->fstype, sizeof(e->fstype), (void *)ctx->args[2]);
	bpf_ringbuf_submit(e, BPF_RB_NO_WAKEUP);
	return 0;
}

/* A new process (not a thread): the parent in the header, the child's pid and start time. */
SEC("tp_btf/sched_process_fork")
int BPF_PROG(ref_fork, struct task_struct *parent, struct task_struct *child)
{
	struct perim_ev_fork *e;

	if (child->pid != child->tgid)
		return 0;
	e = bpf_ringbuf_reserve(&floor_ring, sizeof(*e), 0);
	if (!e)
		return 0;
	ref_hdr(&e->hdr);
	e->child_pid = child->tgid;
	e->child_start_ns = child->start_boottime;
	bpf_ringbuf_submit(e, BPF_RB_NO_WAKEUP);
	return 0;
}

/* The last thread of a process out (its signal struct has no live thread left), with its exit code. */
SEC("tp_btf/sched_process_exit")
int BPF_PROG(ref_exit, struct task_struct *p)
{
	struct perim_ev_exit *e;

	if (p->signal->live.counter)
		return 0;
	e = bpf_ringbuf_reserve(&floor_ring, sizeof(*e), 0);
	if (!e)
		return 0;
	ref_hdr(&e->hdr);
	e->exit_code = p->exit_code;
	bpf_ringbuf_submit(e, BPF_RB_NO_WAKEUP);
	return 0;
}

/* A TCP socket's state change: its addresses, ports, family and protocol by plain loads, both states. */
SEC("tp_btf/inet_sock_set_state")
int BPF_PROG(ref_sock_state, struct sock *sk, int oldstate, int newstate)
{
	const struct sock_common *c = &sk->__sk_common;
	struct perim_ev_sock *e;

	if (sk->sk_protocol != IPPROTO_TCP)
		return 0;
	e = bpf_ringbuf_reserve(&floor_ring, sizeof(*e), 0);
	if (!e)
		return 0;
	ref_hdr(&e->hdr);
	e->family = c->skc_family;
	e->proto = IPPROTO_TCP;
	e->sport = c->skc_num;
	e->dport = bpf_ntohs(c->skc_dport);
	if (c->skc_family == 2) {
		ref_v4_mapped(e->saddr, c->skc_rcv_saddr);
		ref_v4_mapped(e->daddr, c->skc_daddr);
	} else {
		__builtin_memcpy(e->saddr, c->skc_v6_rcv_saddr.in6_u.u6_addr8, 16);
		__builtin_memcpy(e->daddr, c->skc_v6_daddr.in6_u.u6_addr8, 16);
	}
	e->fd = -1;
	e->oldstate = oldstate;
	e->newstate = newstate;
	bpf_ringbuf_submit(e, BPF_RB_NO_WAKEUP);
	return 0;
}

/*
 * The exec reference with one of perim's own pieces added at a time (the
 * bisect set, "bis_"): perim's bookkeeping (a per-CPU counter row and a
 * per-CPU sequence number, as tracers/lib/common.h perim_reserve), its wakeup
 * mark (a ring query per submit and a forced wakeup on the record that
 * crosses the mark, as perim_submit, at perimd's mark), and both. Each runs in
 * a process of its own, so none finds the lines another warmed.
 */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 32);
	__type(key, __u32);
	__type(value, struct perim_hook_counters);
} bis_stats SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 2);
	__type(key, __u32);
	__type(value, __u64);
} bis_seq SEC(".maps");

/* perimd's wakeup mark on its event ring (set by the loader: ring / 16). */
const volatile __u64 bis_wakeup_bytes = 128 << 10;

static __always_inline bool bis_book(void)
{
	__u32 hook = 0, ring = 0;
	struct perim_hook_counters *c = bpf_map_lookup_elem(&bis_stats, &hook);
	__u64 *seq = bpf_map_lookup_elem(&bis_seq, &ring);

	if (!c || !seq)
		return false;
	c->generated++;
	++*seq;
	return true;
}

static __always_inline __u64 bis_wake_flag(__u64 size)
{
	__u64 avail = bpf_ringbuf_query(&floor_ring, BPF_RB_AVAIL_DATA);

	return avail >= bis_wakeup_bytes && avail < bis_wakeup_bytes + size + 8 ? BPF_RB_FORCE_WAKEUP :
										  BPF_RB_NO_WAKEUP;
}

/* mark: 0 none, 1 the query alone (never waking), 2 perim's wakeup mark */
static __always_inline int bis_exec(struct task_struct *p, pid_t old_pid, struct linux_binprm *bprm,
				    bool book, int mark)
{
	struct perim_ev_exec *e;

	if (book && !bis_book())
		return 0;
	e = bpf_ringbuf_reserve(&floor_ring, sizeof(*e), 0);
	if (!e)
		return 0;
	ref_exec_fill(e, p, old_pid, bprm);
	if (mark == 1)
		e->_reserved0 = bpf_ringbuf_query(&floor_ring, BPF_RB_AVAIL_DATA) >= bis_wakeup_bytes;
	bpf_ringbuf_submit(e, mark == 2 ? bis_wake_flag(sizeof(*e)) : BPF_RB_NO_WAKEUP);
	return 0;
}

SEC("tp_btf/sched_process_exec")
int BPF_PROG(bis_exec_book, struct task_struct *p, pid_t old_pid, struct linux_binprm *bprm)
{
	return bis_exec(p, old_pid, bprm, true, 0);
}

SEC("tp_btf/sched_process_exec")
int BPF_PROG(bis_exec_mark, struct task_struct *p, pid_t old_pid, struct linux_binprm *bprm)
{
	return bis_exec(p, old_pid, bprm, false, 2);
}

SEC("tp_btf/sched_process_exec")
int BPF_PROG(bis_exec_both, struct task_struct *p, pid_t old_pid, struct linux_binprm *bprm)
{
	return bis_exec(p, old_pid, bprm, true, 2);
}

SEC("tp_btf/sched_process_exec")
int BPF_PROG(bis_exec_query, struct task_struct *p, pid_t old_pid, struct linux_binprm *bprm)
{
	return bis_exec(p, old_pid, bprm, true, 1);
}

/* No ring at all: what running any program on the hook costs (with bpf_stats on). */
SEC("tp_btf/sched_process_exec")
int BPF_PROG(floor_empty, struct task_struct *p)
{
	return 0;
}
