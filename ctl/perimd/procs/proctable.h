/* SPDX-License-Identifier: GPL-2.0 */
/*
 * perimd's process table: who a pid is, for attributing events. Filled from
 * /proc at start and kept current from exec/fork/exit events.
 *
 * Keyed by pid plus start time (in /proc's clock ticks, the coarsest unit
 * both /proc and the kernel events share), so a reused pid never inherits an
 * older process's identity. Memory is bounded: exited processes stay for a
 * grace period (events already queued may still name them), then go.
 *
 * Compact by design (a gateway may run 100,000 processes): 80-byte entries
 * live in fixed slabs (no allocation per process, pointers stay valid); exe
 * paths are interned and an argv is one exact-length block a forked child
 * shares with its parent (proc_image.h).
 */
#ifndef PERIM_PROCTABLE_H
#define PERIM_PROCTABLE_H

#include <stddef.h>
#include <stdint.h>

#define PERIM_PROC_COMM_LEN 16
#define PERIM_PROC_ARGV_MAX 4096   /* argv bytes kept; longer ones are cut */
/* perimd's table: 100,000 processes and room; ~95 bytes each when they share command lines. */
#define PERIM_PROCTABLE_MAX 131072
#define PERIM_PROCTABLE_GRACE_NS (30ull * 1000000000ull)

struct perim_proc {
	uint32_t pid;
	uint32_t ppid;
	uint32_t uid;
	uint32_t gid;
	uint64_t start_ticks;
	uint64_t cgroup_id;
	char comm[PERIM_PROC_COMM_LEN];
	const char *exe;           /* NULL when unknown; interned, read-only */
	const char *argv;          /* NUL-separated, argv_len bytes (+ NUL); NULL when unknown; shared */
	uint16_t argv_len;
	uint8_t exited;
	uint8_t in_use;            /* the table's: 0 on a free slab slot */
	uint32_t next;             /* the table's: hash chain or free list, index + 1 */
	uint64_t exit_ns;          /* caller's clock (CLOCK_MONOTONIC ns) */
};

struct perim_proctable;

/* max_procs bounds the table; exited processes are kept grace_ns. */
struct perim_proctable *perim_proctable_new(size_t max_procs, uint64_t grace_ns);
void perim_proctable_free(struct perim_proctable *t);

/* Field 22 of a /proc/<pid>/stat file (clock ticks since boot): 0 or -errno. */
int perim_proc_start_ticks(const char *stat_path, uint64_t *ticks);

/* Reads every /proc/<pid>; returns the number of processes added or -errno. */
int perim_proctable_scan(struct perim_proctable *t, const char *proc_root);

/* The process (pid, start) or NULL: a different process with the same pid never matches. */
struct perim_proc *perim_proctable_lookup(struct perim_proctable *t, uint32_t pid, uint64_t start_ns);

/*
 * Insert or find (pid, start). Returns NULL when the table is full of live
 * processes (counted in perim_proctable_stats.dropped).
 */
struct perim_proc *perim_proctable_upsert(struct perim_proctable *t, uint32_t pid, uint64_t start_ns);

/* exec: new image, new comm/exe/argv. Of comm, at most PERIM_PROC_COMM_LEN - 1 bytes are read (a NUL ends it earlier). */
struct perim_proc *perim_proctable_exec(struct perim_proctable *t, uint32_t pid, uint64_t start_ns,
					const char *comm, const char *exe, const char *argv, size_t argv_len);

/* fork: the child starts as a copy of its parent (when the parent is known). */
struct perim_proc *perim_proctable_fork(struct perim_proctable *t, uint32_t ppid, uint64_t pstart_ns,
					uint32_t pid, uint64_t start_ns);

void perim_proctable_exit(struct perim_proctable *t, uint32_t pid, uint64_t start_ns, uint64_t now_ns);

/* Drops exited processes older than the grace period; returns how many. */
size_t perim_proctable_evict(struct perim_proctable *t, uint64_t now_ns);

struct perim_proctable_stats {
	size_t procs;              /* in the table, live and exited */
	size_t exited;
	size_t exes;               /* distinct exe paths held */
	size_t argvs;              /* argv copies held (a forked child shares its parent's) */
	uint64_t dropped;          /* inserts refused: full of live processes */
	uint64_t evicted;
};
void perim_proctable_stats(const struct perim_proctable *t, struct perim_proctable_stats *st);

#endif /* PERIM_PROCTABLE_H */
