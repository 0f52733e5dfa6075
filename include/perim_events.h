/* SPDX-License-Identifier: GPL-2.0 */
/*
 * perim's tracing ABI: the events tracers/ writes into its ring buffers and
 * perimd reads, plus the hook numbering both sides count by.
 *
 * Every event is a fixed-size POD: fixed-width fields, explicit padding, no
 * pointers; strings are fixed byte arrays with an explicit length (the bytes
 * past the length are undefined, a string is not necessarily NUL-terminated).
 * Every event starts with struct perim_ev_hdr.
 */
#ifndef PERIM_EVENTS_H
#define PERIM_EVENTS_H

#ifdef __bpf__
/* vmlinux.h is included first by the BPF side. */
#else
#include <linux/types.h>
#endif

#define PERIM_COMM_LEN 16
#define PERIM_PATH_MAX 256            /* power of two: the BPF side masks with it */
#define PERIM_ARGV_MAX 512            /* NUL-separated argv bytes, power of two */
#define PERIM_MODNAME_LEN 64
#define PERIM_FSTYPE_LEN 32
#define PERIM_PREFIX_MAX 64           /* path prefix bytes in the write filter / guard rules */
#define PERIM_GUARD_MAX_RULES 16

/* The two ring buffers: security events never share space with the flood. */
#define PERIM_RING_EVENTS   0
#define PERIM_RING_SECURITY 1
#define PERIM_RING_COUNT    2

#define PERIM_MAP_RING_EVENTS   "perim_ev_ring"
#define PERIM_MAP_RING_SECURITY "perim_sec_ring"

/* Hooks: what perimd attaches, counts loss for and reports. Stable numbers. */
enum perim_hook {
	PERIM_HOOK_EXEC = 0,
	PERIM_HOOK_FORK,
	PERIM_HOOK_EXIT,
	PERIM_HOOK_SIGNAL,
	PERIM_HOOK_CONNECT,
	PERIM_HOOK_ACCEPT,
	PERIM_HOOK_SOCK_STATE,
	PERIM_HOOK_PTRACE,
	PERIM_HOOK_MODULE,
	PERIM_HOOK_BPF,
	PERIM_HOOK_SETID,
	PERIM_HOOK_MOUNT,
	PERIM_HOOK_UNLINK,
	PERIM_HOOK_RENAME,
	PERIM_HOOK_ATTR,              /* chmod, chown, truncate */
	PERIM_HOOK_WRITE,             /* opens for writing under a sensitive prefix */
	PERIM_HOOK_CREDS,
	PERIM_HOOK_LSM_FILE_OPEN,
	PERIM_HOOK_LSM_BPRM,
	PERIM_HOOK_LSM_BPF,
	PERIM_HOOK_BIND,
	PERIM_HOOK_MAX
};

enum perim_ev_type {
	PERIM_EV_NONE = 0,
	PERIM_EV_EXEC,
	PERIM_EV_FORK,
	PERIM_EV_EXIT,
	PERIM_EV_SIGNAL,
	PERIM_EV_CONNECT,
	PERIM_EV_ACCEPT,
	PERIM_EV_SOCK_STATE,
	PERIM_EV_PTRACE,
	PERIM_EV_MODULE,
	PERIM_EV_BPF,
	PERIM_EV_SETID,
	PERIM_EV_MOUNT,
	PERIM_EV_FILE,                /* unlink, rename, attr, write: see perim_file_op */
	PERIM_EV_CREDS,
	PERIM_EV_GUARD,               /* an LSM guard rail matched */
	PERIM_EV_BIND,
	PERIM_EV_MAX
};

/*
 * Event types user space makes itself, numbered after the tracer types so
 * one numbering (and one --type filter) covers every event perimd publishes:
 * the synthetic "lost" event of a sequence gap, and a sampled XDP drop
 * (perim_drops.h). They never cross a tracer ring.
 */
#define PERIM_EV_LOST_TYPE     PERIM_EV_MAX
#define PERIM_EV_XDP_DROP_TYPE (PERIM_EV_MAX + 1)
#define PERIM_EV_TYPE_COUNT    (PERIM_EV_MAX + 2)

/*
 * The names perimd shows (JSON "type" and "hook", `perimctl status`,
 * --type filters), as initialisers of tables indexed by the numbers above:
 *   static const char *const names[PERIM_HOOK_MAX] = PERIM_HOOK_NAMES;
 */
#define PERIM_HOOK_NAMES {                                                            \
	[PERIM_HOOK_EXEC] = "exec", [PERIM_HOOK_FORK] = "fork", [PERIM_HOOK_EXIT] = "exit",  \
	[PERIM_HOOK_SIGNAL] = "signal", [PERIM_HOOK_CONNECT] = "connect",                    \
	[PERIM_HOOK_ACCEPT] = "accept", [PERIM_HOOK_SOCK_STATE] = "sock_state",              \
	[PERIM_HOOK_PTRACE] = "ptrace", [PERIM_HOOK_MODULE] = "module", [PERIM_HOOK_BPF] = "bpf", \
	[PERIM_HOOK_SETID] = "setid", [PERIM_HOOK_MOUNT] = "mount", [PERIM_HOOK_UNLINK] = "unlink", \
	[PERIM_HOOK_RENAME] = "rename", [PERIM_HOOK_ATTR] = "attr", [PERIM_HOOK_WRITE] = "write", \
	[PERIM_HOOK_CREDS] = "creds", [PERIM_HOOK_LSM_FILE_OPEN] = "guard_open",             \
	[PERIM_HOOK_LSM_BPRM] = "guard_exec", [PERIM_HOOK_LSM_BPF] = "guard_bpf",            \
	[PERIM_HOOK_BIND] = "bind",                                                           \
}

#define PERIM_EV_TYPE_NAMES {                                                         \
	[PERIM_EV_EXEC] = "exec", [PERIM_EV_FORK] = "fork", [PERIM_EV_EXIT] = "exit",        \
	[PERIM_EV_SIGNAL] = "signal", [PERIM_EV_CONNECT] = "connect", [PERIM_EV_ACCEPT] = "accept", \
	[PERIM_EV_SOCK_STATE] = "sock_state", [PERIM_EV_PTRACE] = "ptrace",                  \
	[PERIM_EV_MODULE] = "module", [PERIM_EV_BPF] = "bpf", [PERIM_EV_SETID] = "setid",    \
	[PERIM_EV_MOUNT] = "mount", [PERIM_EV_FILE] = "file", [PERIM_EV_CREDS] = "creds",    \
	[PERIM_EV_GUARD] = "guard", [PERIM_EV_BIND] = "bind",                                 \
	[PERIM_EV_LOST_TYPE] = "lost", [PERIM_EV_XDP_DROP_TYPE] = "xdp_drop",                 \
}

/* A number added at the end of either list needs its name (the table ends at its last name). */
_Static_assert(sizeof((const char *[])PERIM_HOOK_NAMES) == PERIM_HOOK_MAX * sizeof(const char *),
	       "PERIM_HOOK_NAMES names the last hook");
_Static_assert(sizeof((const char *[])PERIM_EV_TYPE_NAMES) == PERIM_EV_TYPE_COUNT * sizeof(const char *),
	       "PERIM_EV_TYPE_NAMES names the last event type");

/* The task that caused the event (the current task at the hook). */
struct perim_ev_hdr {
	__u16 type;                   /* enum perim_ev_type */
	__u16 hook;                   /* enum perim_hook */
	__u16 cpu;
	__u16 ring;                   /* PERIM_RING_*: seq counts per (ring, cpu) */
	__u64 seq;                    /* per-CPU per-ring, counts reservation failures too */
	__u64 ts_ns;                  /* CLOCK_MONOTONIC */
	__u64 start_ns;               /* process (group leader) start, boot-time ns: pid-reuse key */
	__u64 cgroup_id;              /* cgroup v2 id */
	__u32 pid;                    /* tgid: the process id */
	__u32 tid;
	__u32 ppid;                   /* real parent's tgid */
	__u32 uid;
	__u32 gid;
	__u32 _pad0;
	char comm[PERIM_COMM_LEN];
};

struct perim_ev_exec {
	struct perim_ev_hdr hdr;
	__u32 old_pid;                /* a non-leader thread exec'ing changes the tid */
	__u16 filename_len;
	__u16 argv_len;               /* bytes in argv, NUL-separated */
	__u16 _reserved0;             /* was argc, never filled: count the NULs in argv */
	__u8 argv_truncated;
	__u8 _pad0[5];
	char filename[PERIM_PATH_MAX];
	char argv[PERIM_ARGV_MAX];
};

struct perim_ev_fork {
	struct perim_ev_hdr hdr;      /* the parent */
	__u32 child_pid;
	__u32 _pad0;
	__u64 child_start_ns;
};

struct perim_ev_exit {
	struct perim_ev_hdr hdr;
	__u32 exit_code;              /* task->exit_code: status << 8 | signal */
	__u32 _pad0;
};

struct perim_ev_signal {
	struct perim_ev_hdr hdr;      /* the sender */
	__s32 sig;
	__s32 result;                 /* TRACE_SIGNAL_* */
	__u32 target_pid;             /* tgid */
	__u32 target_tid;
	__u32 target_state;           /* task_struct::__state (or ::state) */
	__u32 group;
	char target_comm[PERIM_COMM_LEN];
};

/* connect, accept, TCP state change. Addresses IPv4-mapped like include/perim.h. */
struct perim_ev_sock {
	struct perim_ev_hdr hdr;
	__u16 family;                 /* AF_INET or AF_INET6 as the socket has it */
	__u16 proto;                  /* IPPROTO_TCP, IPPROTO_UDP, ... */
	__u16 sport;                  /* host order, local port */
	__u16 dport;                  /* host order, remote port */
	__s32 result;                 /* connect: syscall return (0, -EINPROGRESS, -ECONNREFUSED); accept: new fd */
	__s32 fd;
	__u8 saddr[16];               /* local */
	__u8 daddr[16];               /* remote */
	__u8 oldstate;                /* sock_state: TCP_* */
	__u8 newstate;
	__u8 _pad0[6];
};

struct perim_ev_ptrace {
	struct perim_ev_hdr hdr;
	__s64 request;
	__u32 target_pid;
	__u32 _pad0;
};

struct perim_ev_module {
	struct perim_ev_hdr hdr;
	__u16 name_len;
	__u8 _pad0[6];
	char name[PERIM_MODNAME_LEN];
};

struct perim_ev_bpf {
	struct perim_ev_hdr hdr;
	__u32 cmd;                    /* enum bpf_cmd */
	__u32 _pad0;
};

/* The setuid/setgid family: which syscall and its (up to three) ids. */
enum perim_setid_call {
	PERIM_SETUID = 1, PERIM_SETGID, PERIM_SETREUID, PERIM_SETREGID,
	PERIM_SETRESUID, PERIM_SETRESGID, PERIM_SETFSUID, PERIM_SETFSGID,
};

struct perim_ev_setid {
	struct perim_ev_hdr hdr;
	__u32 call;                   /* enum perim_setid_call */
	__u32 nargs;
	__u32 id[3];                  /* (u32)-1 = unchanged */
	__u32 _pad0;
};

struct perim_ev_mount {
	struct perim_ev_hdr hdr;
	__u64 flags;
	__u16 source_len;
	__u16 target_len;
	__u16 fstype_len;
	__u16 _pad0;
	char source[PERIM_PATH_MAX];
	char target[PERIM_PATH_MAX];
	char fstype[PERIM_FSTYPE_LEN];
};

enum perim_file_op {
	PERIM_FILE_UNLINK = 1,
	PERIM_FILE_RENAME,
	PERIM_FILE_CHMOD,
	PERIM_FILE_CHOWN,
	PERIM_FILE_TRUNCATE,
	PERIM_FILE_WRITE,             /* opened for writing */
	PERIM_FILE_ATTR,              /* notify_change: several attributes */
};

/*
 * Paths are as the hook sees them: tracepoint fallbacks give the syscall's
 * argument (relative to dirfd when not absolute), fd-based calls and kprobes
 * the dentry name, fentry/LSM the full d_path.
 */
struct perim_ev_file {
	struct perim_ev_hdr hdr;
	__u16 op;                     /* enum perim_file_op */
	__u16 path_len;
	__u16 path2_len;              /* rename: the new name */
	__u16 path_kind;              /* PERIM_PATH_* */
	__s32 dirfd;                  /* AT_FDCWD = -100; fd for fd-based calls; -1 none */
	__u32 mode;                   /* chmod mode, open flags for write */
	__u32 uid;                    /* chown, (u32)-1 = unchanged */
	__u32 gid;
	__s64 length;                 /* truncate */
	char path[PERIM_PATH_MAX];
	char path2[PERIM_PATH_MAX];
};

#define PERIM_PATH_ARG    0       /* the syscall's path argument */
#define PERIM_PATH_DENTRY 1       /* the last component only */
#define PERIM_PATH_FULL   2       /* d_path */

struct perim_ev_creds {
	struct perim_ev_hdr hdr;      /* hdr.uid/gid: before */
	__u32 old_uid, old_euid, old_gid, old_egid;
	__u32 new_uid, new_euid, new_gid, new_egid;
	__u32 via;                    /* PERIM_CREDS_VIA_* */
	__u32 _pad0;
};

#define PERIM_CREDS_VIA_COMMIT_CREDS 1
#define PERIM_CREDS_VIA_SETID_EXIT   2 /* tracepoint fallback: a set*id syscall succeeded */
#define PERIM_CREDS_VIA_EXEC         3 /* tracepoint fallback: set-id binary executed */

/* ---- LSM guard rails ---- */

enum perim_guard_op {
	PERIM_GUARD_OPEN = 0,         /* lsm/file_open */
	PERIM_GUARD_EXEC,             /* lsm/bprm_check_security */
	PERIM_GUARD_BPF,              /* lsm/bpf_map, bpf_prog: perimd's objects; inode_*: its pins */
	PERIM_GUARD_OP_MAX
};

#define PERIM_GUARD_AUDIT   1
#define PERIM_GUARD_ENFORCE 2

/*
 * open and exec rules name a file or a directory (guarding everything below
 * it, up to PERIM_GUARD_DEPTH levels): HASH perim_guard_inodes, looked up for
 * the file and each of its parents. perimd resolves the names at start, so
 * the kernel needs no path string (bpf_d_path is not allowed in these LSM
 * hooks before 5.11). A bpf rule's directory is keyed there too (op
 * PERIM_GUARD_BPF), for the pins in it; perimd's objects are guarded by id.
 */
#define PERIM_GUARD_DEPTH 16

struct perim_guard_ino_key {
	__u64 ino;
	__u32 dev;                    /* the kernel's encoding: major << 20 | minor */
	__u32 op;                     /* enum perim_guard_op */
};

struct perim_guard_verdict {
	__u32 rule;                   /* the rule's place in the guard rail file, from 0 */
	__u32 mode;                   /* PERIM_GUARD_AUDIT or _ENFORCE */
};

struct perim_ev_guard {
	struct perim_ev_hdr hdr;
	__u32 op;                     /* enum perim_guard_op */
	__u32 mode;                   /* the rule's mode: enforce = denied */
	__u32 rule;                   /* the rule's place in the guard rail file, from 0 */
	__s32 bpf_cmd;
	__u16 path_len;
	__u8 _pad0[6];
	char path[PERIM_PATH_MAX];
};

/*
 * bind() of an IPv4/IPv6 socket. The address is the one the socket has after
 * the call (so the port the kernel chose for port 0); when the call failed,
 * the one that was asked for.
 */
struct perim_ev_bind {
	struct perim_ev_hdr hdr;
	__u16 family;                 /* AF_INET or AF_INET6 */
	__u16 proto;                  /* IPPROTO_UDP, IPPROTO_TCP, ... (0 when the bind failed) */
	__u16 port;                   /* host order */
	__u16 _pad0;
	__s32 result;                 /* syscall return: 0 or -errno */
	__s32 fd;
	__u64 inode;                  /* the socket's inode, as /proc/net/udp and /proc/<pid>/fd name it; 0 = unknown */
	__u8 addr[16];                /* local, IPv4-mapped for AF_INET; zero = any */
};

/* ---- maps user space reads ---- */

/* PERCPU_ARRAY indexed by enum perim_hook. */
struct perim_hook_counters {
	__u64 generated;              /* events the hook wanted to ship */
	__u64 lost;                   /* of which the ring had no room for */
};

/* LPM_TRIE key of the write filter: prefixlen in bits over path. */
struct perim_prefix_key {
	__u32 prefixlen;
	char path[PERIM_PREFIX_MAX];
};

#ifndef __bpf__
_Static_assert(sizeof(struct perim_ev_hdr) == 80, "perim_ev_hdr layout");
_Static_assert(sizeof(struct perim_ev_exec) == 80 + 16 + PERIM_PATH_MAX + PERIM_ARGV_MAX, "perim_ev_exec layout");
_Static_assert(sizeof(struct perim_ev_fork) == 96, "perim_ev_fork layout");
_Static_assert(sizeof(struct perim_ev_exit) == 88, "perim_ev_exit layout");
_Static_assert(sizeof(struct perim_ev_signal) == 120, "perim_ev_signal layout");
_Static_assert(sizeof(struct perim_ev_sock) == 136, "perim_ev_sock layout");
_Static_assert(sizeof(struct perim_ev_ptrace) == 96, "perim_ev_ptrace layout");
_Static_assert(sizeof(struct perim_ev_module) == 88 + PERIM_MODNAME_LEN, "perim_ev_module layout");
_Static_assert(sizeof(struct perim_ev_bpf) == 88, "perim_ev_bpf layout");
_Static_assert(sizeof(struct perim_ev_setid) == 104, "perim_ev_setid layout");
_Static_assert(sizeof(struct perim_ev_mount) == 96 + 2 * PERIM_PATH_MAX + PERIM_FSTYPE_LEN, "perim_ev_mount layout");
_Static_assert(sizeof(struct perim_ev_file) == 112 + 2 * PERIM_PATH_MAX, "perim_ev_file layout");
_Static_assert(sizeof(struct perim_ev_creds) == 120, "perim_ev_creds layout");
_Static_assert(sizeof(struct perim_guard_ino_key) == 16, "perim_guard_ino_key layout");
_Static_assert(sizeof(struct perim_guard_verdict) == 8, "perim_guard_verdict layout");
_Static_assert(sizeof(struct perim_ev_guard) == 104 + PERIM_PATH_MAX, "perim_ev_guard layout");
_Static_assert(sizeof(struct perim_ev_bind) == 120, "perim_ev_bind layout");
_Static_assert(sizeof(struct perim_hook_counters) == 16, "perim_hook_counters layout");
_Static_assert(sizeof(struct perim_prefix_key) == 4 + PERIM_PREFIX_MAX, "perim_prefix_key layout");
#endif

#endif /* PERIM_EVENTS_H */
