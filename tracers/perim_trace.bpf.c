// SPDX-License-Identifier: GPL-2.0
/*
 * perim's tracers: thin entry programs over tracers/lib/. Each hook has one or
 * more flavours, named <hook>__<flavour>[_<detail>], tried by perimd in the
 * order kp (kprobe), fe (fentry), btf (tp_btf), raw (raw_tp), tp (tracepoint),
 * lsm; perimd turns off autoload for every flavour it does not use.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_endian.h>

#include "perim_events.h"

/*
 * In the order an event flows: its hook (below) calls a handler, which reads
 * the kernel's objects with the helpers and reserves, fills and submits a
 * record on a ring.
 */
#include "lib/proc.h"         /* exec, fork, exit, signals */
#include "lib/net.h"          /* connect, accept, TCP states */
#include "lib/bind.h"         /* bind: local ports */
#include "lib/sec.h"          /* ptrace, modules, bpf(), set*id, mounts, creds */
#include "lib/file.h"         /* unlink, rename, attributes, sensitive writes */
#include "lib/guard.h"        /* LSM guard rails */
#include "lib/path.h"         /* helpers: user strings, dentry names, prefixes */
#include "lib/sock.h"         /* helpers: fd to sock, addresses */
#include "lib/common.h"       /* the rings, hook switches, sequence numbers */

char LICENSE[] SEC("license") = "GPL";

#define SYS_ENTER(hook, call) \
	SEC("tp/syscalls/sys_enter_" #call) int hook##__tp_##call(struct trace_event_raw_sys_enter *ctx)
#define SYS_EXIT(hook, call) \
	SEC("tp/syscalls/sys_exit_" #call) int hook##__tp_##call(struct trace_event_raw_sys_exit *ctx)
#define ARG(n) (ctx->args[n])

/* ---- process lifecycle ---- */

SEC("tp_btf/sched_process_exec")
int BPF_PROG(exec__btf, struct task_struct *p, pid_t old_pid, struct linux_binprm *bprm)
{
	return perim_on_exec(p, old_pid, bprm, true);
}

SEC("raw_tp/sched_process_exec")
int BPF_PROG(exec__raw, struct task_struct *p, pid_t old_pid, struct linux_binprm *bprm)
{
	return perim_on_exec(p, old_pid, bprm, false);
}

SEC("tp_btf/sched_process_fork")
int BPF_PROG(fork__btf, struct task_struct *parent, struct task_struct *child)
{
	return perim_on_fork(parent, child, true);
}

SEC("raw_tp/sched_process_fork")
int BPF_PROG(fork__raw, struct task_struct *parent, struct task_struct *child)
{
	return perim_on_fork(parent, child, false);
}

SEC("tp_btf/sched_process_exit")
int BPF_PROG(exit__btf, struct task_struct *p)
{
	return perim_on_exit(p, true);
}

SEC("raw_tp/sched_process_exit")
int BPF_PROG(exit__raw, struct task_struct *p)
{
	return perim_on_exit(p, false);
}

SEC("tp_btf/signal_generate")
int BPF_PROG(signal__btf, int sig, struct kernel_siginfo *info, struct task_struct *task, int group, int result)
{
	return perim_on_signal(sig, task, group, result);
}

SEC("raw_tp/signal_generate")
int BPF_PROG(signal__raw, int sig, struct kernel_siginfo *info, struct task_struct *task, int group, int result)
{
	return perim_on_signal(sig, task, group, result);
}

/* ---- network ---- */

SYS_ENTER(connect, connect) { return perim_on_connect_enter(ARG(0), (const void *)ARG(1)); }
SEC("tp/syscalls/sys_exit_connect")
int connect__tp_exit(struct trace_event_raw_sys_exit *ctx) { return perim_on_connect_exit(ctx->ret); }

SYS_EXIT(accept, accept4) { return perim_on_accept_exit(ctx->ret); }
SYS_EXIT(accept, accept) { return perim_on_accept_exit(ctx->ret); }

SYS_ENTER(bind, bind) { return perim_on_bind_enter(ARG(0), (const void *)ARG(1)); }
SEC("tp/syscalls/sys_exit_bind")
int bind__tp_exit(struct trace_event_raw_sys_exit *ctx) { return perim_on_bind_exit(ctx->ret); }

SEC("tp_btf/inet_sock_set_state")
int BPF_PROG(sock_state__btf, struct sock *sk, int oldstate, int newstate)
{
	return perim_on_sock_state(sk, oldstate, newstate, true);
}

SEC("raw_tp/inet_sock_set_state")
int BPF_PROG(sock_state__raw, struct sock *sk, int oldstate, int newstate)
{
	return perim_on_sock_state(sk, oldstate, newstate, false);
}

/* ---- security ring ---- */

SYS_ENTER(ptrace, ptrace) { return perim_on_ptrace(ARG(0), ARG(1)); }

SEC("tp_btf/module_load")
int BPF_PROG(module__btf, struct module *mod)
{
	return perim_on_module(mod);
}

SEC("raw_tp/module_load")
int BPF_PROG(module__raw, struct module *mod)
{
	return perim_on_module(mod);
}

SYS_ENTER(bpf, bpf) { return perim_on_bpf(ARG(0)); }

SYS_ENTER(setid, setuid)   { return perim_on_setid(PERIM_SETUID, 1, ARG(0), 0, 0); }
SYS_ENTER(setid, setgid)   { return perim_on_setid(PERIM_SETGID, 1, ARG(0), 0, 0); }
SYS_ENTER(setid, setreuid) { return perim_on_setid(PERIM_SETREUID, 2, ARG(0), ARG(1), 0); }
SYS_ENTER(setid, setregid) { return perim_on_setid(PERIM_SETREGID, 2, ARG(0), ARG(1), 0); }
SYS_ENTER(setid, setresuid) { return perim_on_setid(PERIM_SETRESUID, 3, ARG(0), ARG(1), ARG(2)); }
SYS_ENTER(setid, setresgid) { return perim_on_setid(PERIM_SETRESGID, 3, ARG(0), ARG(1), ARG(2)); }
SYS_ENTER(setid, setfsuid) { return perim_on_setid(PERIM_SETFSUID, 1, ARG(0), 0, 0); }
SYS_ENTER(setid, setfsgid) { return perim_on_setid(PERIM_SETFSGID, 1, ARG(0), 0, 0); }

SYS_ENTER(mount, mount)
{
	return perim_on_mount((const char *)ARG(0), (const char *)ARG(1), (const char *)ARG(2), ARG(3));
}

/* credentials: commit_creds, or the set*id exits (+ set-id execs) as the fallback */

SEC("kprobe/commit_creds")
int BPF_KPROBE(creds__kp, const struct cred *new)
{
	return perim_on_commit_creds(new);
}

SEC("fentry/commit_creds")
int BPF_PROG(creds__fe, const struct cred *new)
{
	return perim_on_commit_creds(new);
}

SYS_EXIT(creds, setuid)    { return perim_on_setid_exit(ctx->ret); }
SYS_EXIT(creds, setgid)    { return perim_on_setid_exit(ctx->ret); }
SYS_EXIT(creds, setreuid)  { return perim_on_setid_exit(ctx->ret); }
SYS_EXIT(creds, setregid)  { return perim_on_setid_exit(ctx->ret); }
SYS_EXIT(creds, setresuid) { return perim_on_setid_exit(ctx->ret); }
SYS_EXIT(creds, setresgid) { return perim_on_setid_exit(ctx->ret); }
SYS_EXIT(creds, setfsuid)  { return perim_on_setid_exit(ctx->ret); }
SYS_EXIT(creds, setfsgid)  { return perim_on_setid_exit(ctx->ret); }

/* ---- filesystem ---- */

/*
 * 5.12 put the mount's namespace first in the VFS calls (struct user_namespace *,
 * struct mnt_idmap * since 6.3) and packed vfs_rename's arguments into struct
 * renamedata, so which argument is which depends on the kernel:
 *   vfs_unlink(dir, dentry, ..)             vfs_unlink(ns, dir, dentry, ..)
 *   notify_change(dentry, attr, ..)         notify_change(ns, dentry, attr, ..)
 *   vfs_rename(odir, odentry, ndir, ndentry, ..)   vfs_rename(struct renamedata *)
 * kprobe and fentry alike read raw arguments (BPF_CORE_READ, not the
 * verifier's typed view), so both flavours pick by the same test.
 */
extern int LINUX_KERNEL_VERSION __kconfig;

static __always_inline bool perim_vfs_ns_first(void)
{
	return LINUX_KERNEL_VERSION >= KERNEL_VERSION(5, 12, 0);
}

/*
 * Both candidates are read before the choice: otherwise clang picks the
 * context offset instead (ctx + (cond ? 96 : 104)), a modified context pointer
 * the verifier refuses to dereference.
 */
static __always_inline void *perim_pick(bool first, void *a, void *b)
{
	barrier_var(a);
	barrier_var(b);
	return first ? a : b;
}

static __always_inline int perim_on_vfs_unlink(void *a0, void *a1, void *a2)
{
	return perim_on_vfs_dentry(PERIM_HOOK_UNLINK, PERIM_FILE_UNLINK, perim_pick(perim_vfs_ns_first(), a2, a1), NULL);
}

static __always_inline int perim_on_vfs_rename(void *a0, void *a1, void *a3)
{
	struct renamedata *rd = a0;

	/* a CO-RE constant: the branch for the other layout is gone before the verifier runs */
	if (bpf_core_type_exists(struct renamedata))
		return perim_on_vfs_dentry(PERIM_HOOK_RENAME, PERIM_FILE_RENAME,
					   BPF_CORE_READ(rd, old_dentry), BPF_CORE_READ(rd, new_dentry));
	return perim_on_vfs_dentry(PERIM_HOOK_RENAME, PERIM_FILE_RENAME, a1, a3);
}

static __always_inline int perim_on_vfs_notify_change(void *a0, void *a1, void *a2)
{
	bool ns_first = perim_vfs_ns_first();

	return perim_on_notify_change(perim_pick(ns_first, a1, a0), perim_pick(ns_first, a2, a1));
}

SEC("kprobe/vfs_unlink")
int BPF_KPROBE(unlink__kp, void *a0, void *a1, void *a2)
{
	return perim_on_vfs_unlink(a0, a1, a2);
}

SEC("fentry/vfs_unlink")
int BPF_PROG(unlink__fe, void *a0, void *a1, void *a2)
{
	return perim_on_vfs_unlink(a0, a1, a2);
}

SYS_ENTER(unlink, unlinkat)
{
	return perim_on_file_arg(PERIM_HOOK_UNLINK, PERIM_FILE_UNLINK, ARG(0), (const char *)ARG(1), 0, -1, -1, 0);
}
SYS_ENTER(unlink, unlink)
{
	return perim_on_file_arg(PERIM_HOOK_UNLINK, PERIM_FILE_UNLINK, -100, (const char *)ARG(0), 0, -1, -1, 0);
}

SEC("kprobe/vfs_rename")
int BPF_KPROBE(rename__kp, void *a0, void *a1, void *a2, void *a3)
{
	return perim_on_vfs_rename(a0, a1, a3);
}

/*
 * fentry checks every context read against the function's real arity (one
 * argument since 5.12, six before), so each layout reads only its own.
 */
SEC("fentry/vfs_rename")
int rename__fe(unsigned long long *ctx)
{
	if (bpf_core_type_exists(struct renamedata))
		return perim_on_vfs_rename((void *)ctx[0], NULL, NULL);
	return perim_on_vfs_rename(NULL, (void *)ctx[1], (void *)ctx[3]);
}

SYS_ENTER(rename, renameat2) { return perim_on_rename_arg(ARG(0), (const char *)ARG(1), (const char *)ARG(3)); }
SYS_ENTER(rename, renameat)  { return perim_on_rename_arg(ARG(0), (const char *)ARG(1), (const char *)ARG(3)); }
SYS_ENTER(rename, rename)    { return perim_on_rename_arg(-100, (const char *)ARG(0), (const char *)ARG(1)); }

SEC("kprobe/notify_change")
int BPF_KPROBE(attr__kp, void *a0, void *a1, void *a2)
{
	return perim_on_vfs_notify_change(a0, a1, a2);
}

SEC("fentry/notify_change")
int BPF_PROG(attr__fe, void *a0, void *a1, void *a2)
{
	return perim_on_vfs_notify_change(a0, a1, a2);
}

#define ATTR_ARG(op, dfd, path, mode, uid, gid, len) \
	perim_on_file_arg(PERIM_HOOK_ATTR, op, dfd, (const char *)(path), mode, uid, gid, len)
#define ATTR_FD(op, fd, mode, uid, gid, len) perim_on_file_fd(PERIM_HOOK_ATTR, op, fd, mode, uid, gid, len)

SYS_ENTER(attr, fchmodat)  { return ATTR_ARG(PERIM_FILE_CHMOD, ARG(0), ARG(1), ARG(2), -1, -1, 0); }
SYS_ENTER(attr, fchmodat2) { return ATTR_ARG(PERIM_FILE_CHMOD, ARG(0), ARG(1), ARG(2), -1, -1, 0); }
SYS_ENTER(attr, chmod)     { return ATTR_ARG(PERIM_FILE_CHMOD, -100, ARG(0), ARG(1), -1, -1, 0); }
SYS_ENTER(attr, fchmod)    { return ATTR_FD(PERIM_FILE_CHMOD, ARG(0), ARG(1), -1, -1, 0); }
SYS_ENTER(attr, fchownat)  { return ATTR_ARG(PERIM_FILE_CHOWN, ARG(0), ARG(1), 0, ARG(2), ARG(3), 0); }
SYS_ENTER(attr, chown)     { return ATTR_ARG(PERIM_FILE_CHOWN, -100, ARG(0), 0, ARG(1), ARG(2), 0); }
SYS_ENTER(attr, lchown)    { return ATTR_ARG(PERIM_FILE_CHOWN, -100, ARG(0), 0, ARG(1), ARG(2), 0); }
SYS_ENTER(attr, fchown)    { return ATTR_FD(PERIM_FILE_CHOWN, ARG(0), 0, ARG(1), ARG(2), 0); }
SYS_ENTER(attr, truncate)  { return ATTR_ARG(PERIM_FILE_TRUNCATE, -100, ARG(0), 0, -1, -1, ARG(1)); }
SYS_ENTER(attr, ftruncate) { return ATTR_FD(PERIM_FILE_TRUNCATE, ARG(0), 0, -1, -1, ARG(1)); }

/* Writes to sensitive paths: opens for writing, filtered by the prefix map. */
SEC("fentry/security_file_open")
int BPF_PROG(write__fe, struct file *file)
{
	struct perim_path_scratch *s;
	struct perim_ev_file *e;
	long n;

	if (!perim_hook_enabled(PERIM_HOOK_WRITE) || !(BPF_CORE_READ(file, f_mode) & PERIM_FMODE_WRITE))
		return 0;
	s = perim_scratch();
	if (!s)
		return 0;
	n = bpf_d_path((struct path *)&file->f_path, s->path, sizeof(s->path));
	if (n <= 0)
		return 0;
	__builtin_memset(&s->key, 0, sizeof(s->key));
	bpf_probe_read_kernel_str(s->key.path, sizeof(s->key.path), s->path);
	if (!perim_prefix_match(&s->key))
		return 0;
	e = perim_file_reserve(PERIM_HOOK_WRITE, PERIM_FILE_WRITE);
	if (!e)
		return 0;
	e->path_kind = PERIM_PATH_FULL;
	e->mode = BPF_CORE_READ(file, f_flags);
	e->path_len = perim_str_len(bpf_probe_read_kernel_str(e->path, sizeof(e->path), s->path));
	perim_submit(PERIM_RING_EVENTS, e);
	return 0;
}

SYS_ENTER(write, openat) { return perim_on_open_write(ARG(0), (const char *)ARG(1), ARG(2)); }
SYS_ENTER(write, open)   { return perim_on_open_write(-100, (const char *)ARG(0), ARG(1)); }
SYS_ENTER(write, openat2)
{
	__u64 flags = 0;

	if (bpf_probe_read_user(&flags, sizeof(flags), (const void *)ARG(2)))
		return 0;
	return perim_on_open_write(ARG(0), (const char *)ARG(1), flags);
}

/* ---- LSM guard rails (not sleepable: 5.10 allows no sleepable program on these hooks) ---- */

SEC("lsm/file_open")
int BPF_PROG(guard_open__lsm, struct file *file)
{
	struct dentry *d;

	if (!(guard_op_mask & (1u << PERIM_GUARD_OPEN)))
		return 0;
	d = BPF_CORE_READ(file, f_path.dentry);
	return perim_guard_decide(PERIM_GUARD_OPEN, PERIM_HOOK_LSM_FILE_OPEN, -1,
				  perim_guard_by_inode(PERIM_GUARD_OPEN, d),
				  (const char *)BPF_CORE_READ(d, d_name.name));
}

SEC("lsm/bprm_check_security")
int BPF_PROG(guard_exec__lsm, struct linux_binprm *bprm)
{
	if (!(guard_op_mask & (1u << PERIM_GUARD_EXEC)))
		return 0;
	return perim_guard_decide(PERIM_GUARD_EXEC, PERIM_HOOK_LSM_BPRM, -1,
				  perim_guard_by_inode(PERIM_GUARD_EXEC, BPF_CORE_READ(bprm, file, f_path.dentry)),
				  BPF_CORE_READ(bprm, filename));
}

/*
 * bpf: every new fd to one of perimd's maps or programs, however it was
 * reached (a pin by any path, an id), and pins created, unlinked or renamed
 * below a bpf rule's directory.
 */
SEC("lsm/bpf_map")
int BPF_PROG(guard_bpf__lsm_map, struct bpf_map *map, fmode_t fmode)
{
	if (!(guard_op_mask & (1u << PERIM_GUARD_BPF)))
		return 0;
	return perim_guard_decide(PERIM_GUARD_BPF, PERIM_HOOK_LSM_BPF, -1,
				  perim_guard_obj(PERIM_GUARD_OBJ_MAP, BPF_CORE_READ(map, id)), map->name);
}

SEC("lsm/bpf_prog")
int BPF_PROG(guard_bpf__lsm_prog, struct bpf_prog *prog)
{
	struct bpf_prog_aux *aux;

	if (!(guard_op_mask & (1u << PERIM_GUARD_BPF)))
		return 0;
	aux = BPF_CORE_READ(prog, aux);
	return perim_guard_decide(PERIM_GUARD_BPF, PERIM_HOOK_LSM_BPF, -1,
				  perim_guard_obj(PERIM_GUARD_OBJ_PROG, BPF_CORE_READ(aux, id)), aux->name);
}

SEC("lsm/inode_unlink")
int BPF_PROG(guard_bpf__lsm_unlink, struct inode *dir, struct dentry *dentry)
{
	return perim_guard_pin(dentry);
}

SEC("lsm/inode_rename")
int BPF_PROG(guard_bpf__lsm_rename, struct inode *old_dir, struct dentry *old_dentry,
	     struct inode *new_dir, struct dentry *new_dentry)
{
	int ret = perim_guard_pin(old_dentry);

	return ret ? ret : perim_guard_pin(new_dentry);
}

/* bpf(BPF_OBJ_PIN) creates the pin through vfs_mkobj, which asks inode_create. */
SEC("lsm/inode_create")
int BPF_PROG(guard_bpf__lsm_create, struct inode *dir, struct dentry *dentry, umode_t mode)
{
	return perim_guard_pin(dentry);
}
