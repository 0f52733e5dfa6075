// SPDX-License-Identifier: GPL-2.0
/* The process table: pid reuse never misattributes; exited processes leave after the grace period. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "test.h"
#include "names.h"
#include "procs/proctable.h"

#define TICK_NS (1000000000ull / (uint64_t)sysconf(_SC_CLK_TCK))
#define START_A (1000 * TICK_NS)
#define START_B (2000 * TICK_NS)

static void test_pid_reuse_keeps_identities_apart(void)
{
	struct perim_proctable *t = perim_proctable_new(16, 1000);
	struct perim_proc *p;

	if (!ASSERT_OK_PTR(t, "new"))
		return;
	ASSERT_OK_PTR(perim_proctable_exec(t, 100, START_A, "old", "/bin/old", "old\0-x", 7), "exec old");
	perim_proctable_exit(t, 100, START_A, 10);
	ASSERT_OK_PTR(perim_proctable_exec(t, 100, START_B, "new", "/bin/new", "new", 4), "exec new");

	p = perim_proctable_lookup(t, 100, START_A);
	if (ASSERT_OK_PTR(p, "old still known in its grace period"))
		ASSERT_STREQ(p->exe, "/bin/old", "old exe");
	p = perim_proctable_lookup(t, 100, START_B);
	if (ASSERT_OK_PTR(p, "new known")) {
		ASSERT_STREQ(p->exe, "/bin/new", "new exe");
		ASSERT_STREQ(p->comm, "new", "new comm");
		ASSERT_EQ(p->exited, 0, "new is alive");
	}
	/* A third start time with the same pid is nobody we know. */
	ASSERT_TRUE(perim_proctable_lookup(t, 100, START_B + 5 * TICK_NS) == NULL, "unknown start");
	/* Same tick, finer ns: the same process (the key unit is /proc's tick). */
	ASSERT_TRUE(perim_proctable_lookup(t, 100, START_B + TICK_NS / 2) == p, "same tick");
	perim_proctable_free(t);
}

static void test_exited_evicted_after_grace(void)
{
	struct perim_proctable *t = perim_proctable_new(16, 1000);
	struct perim_proctable_stats st;

	if (!ASSERT_OK_PTR(t, "new"))
		return;
	perim_proctable_upsert(t, 7, START_A);
	perim_proctable_upsert(t, 8, START_A);
	perim_proctable_exit(t, 7, START_A, 5000);
	ASSERT_EQ(perim_proctable_evict(t, 5999), 0, "inside grace");
	ASSERT_OK_PTR(perim_proctable_lookup(t, 7, START_A), "kept in grace");
	ASSERT_EQ(perim_proctable_evict(t, 6000), 1, "after grace");
	ASSERT_TRUE(perim_proctable_lookup(t, 7, START_A) == NULL, "gone");
	ASSERT_OK_PTR(perim_proctable_lookup(t, 8, START_A), "live one stays");
	perim_proctable_stats(t, &st);
	ASSERT_EQ(st.procs, 1, "procs");
	ASSERT_EQ(st.exited, 0, "exited");
	ASSERT_EQ(st.evicted, 1, "evicted");
	perim_proctable_free(t);
}

static void test_bounded_memory(void)
{
	struct perim_proctable *t = perim_proctable_new(2, 1000000);
	struct perim_proctable_stats st;

	if (!ASSERT_OK_PTR(t, "new"))
		return;
	ASSERT_OK_PTR(perim_proctable_upsert(t, 1, START_A), "1");
	ASSERT_OK_PTR(perim_proctable_upsert(t, 2, START_A), "2");
	ASSERT_TRUE(perim_proctable_upsert(t, 3, START_A) == NULL, "full of live processes");
	perim_proctable_exit(t, 1, START_A, 50);
	/* Room is made from the exited process, even inside its grace period. */
	ASSERT_OK_PTR(perim_proctable_upsert(t, 3, START_A), "3 after 1 exited");
	ASSERT_TRUE(perim_proctable_lookup(t, 1, START_A) == NULL, "1 evicted");
	perim_proctable_stats(t, &st);
	ASSERT_EQ(st.procs, 2, "procs");
	ASSERT_EQ(st.dropped, 1, "dropped");
	perim_proctable_free(t);
}

static void test_fork_inherits_parent(void)
{
	struct perim_proctable *t = perim_proctable_new(16, 1000);
	struct perim_proc *c;

	if (!ASSERT_OK_PTR(t, "new"))
		return;
	perim_proctable_exec(t, 10, START_A, "sh", "/bin/sh", "sh\0-c\0true", 11);
	c = perim_proctable_fork(t, 10, START_A, 11, START_B);
	if (ASSERT_OK_PTR(c, "child")) {
		ASSERT_STREQ(c->exe, "/bin/sh", "child exe");
		ASSERT_EQ(c->argv_len, 11, "child argv");
		ASSERT_EQ(c->ppid, 10, "ppid");
	}
	/* A child of an unknown parent is known, without identity. */
	c = perim_proctable_fork(t, 99, START_A, 12, START_B);
	if (ASSERT_OK_PTR(c, "orphan"))
		ASSERT_TRUE(c->exe == NULL, "no exe");
	perim_proctable_free(t);
}

/* Forked children share their parent's exe and argv; execs of one program share its exe. */
static void test_strings_shared(void)
{
	struct perim_proctable *t = perim_proctable_new(64, 1000);
	struct perim_proctable_stats st;
	struct perim_proc *a, *b, *c;

	if (!ASSERT_OK_PTR(t, "new"))
		return;
	a = perim_proctable_exec(t, 20, START_A, "srv", "/usr/sbin/srv", "srv\0-w", 7);
	b = perim_proctable_fork(t, 20, START_A, 21, START_B);
	c = perim_proctable_exec(t, 22, START_B, "srv", "/usr/sbin/srv", "srv\0-w", 7);
	if (!ASSERT_OK_PTR(a, "a") || !ASSERT_OK_PTR(b, "b") || !ASSERT_OK_PTR(c, "c")) {
		perim_proctable_free(t);
		return;
	}
	ASSERT_TRUE(a->exe == b->exe && a->argv == b->argv, "child shares its parent's strings");
	ASSERT_TRUE(a->exe == c->exe, "same exe is interned");
	ASSERT_TRUE(c->argv != a->argv && !memcmp(c->argv, a->argv, 7), "an exec's argv is its own copy");
	perim_proctable_stats(t, &st);
	ASSERT_EQ(st.exes, 1, "one exe");
	ASSERT_EQ(st.argvs, 2, "two argv copies");
	/* Same exe, other argv: the old argv stays for a and b. */
	perim_proctable_exec(t, 22, START_B, "srv", "/usr/sbin/srv", "srv\0-x", 7);
	ASSERT_STREQ(c->argv + 4, "-x", "c's new argv");
	ASSERT_STREQ(a->argv + 4, "-w", "a keeps its argv");
	perim_proctable_stats(t, &st);
	ASSERT_EQ(st.argvs, 2, "c's old argv freed");
	/* Unknown exe and argv: none held. */
	perim_proctable_exec(t, 22, START_B, "srv", NULL, NULL, 0);
	ASSERT_TRUE(c->exe == NULL && c->argv == NULL && c->argv_len == 0, "strings forgotten");
	perim_proctable_exit(t, 20, START_A, 1);
	ASSERT_EQ(perim_proctable_evict(t, 5000), 1, "parent evicted");
	ASSERT_STREQ(b->exe, "/usr/sbin/srv", "child's exe outlives its parent");
	ASSERT_STREQ(b->argv + 4, "-w", "child's argv outlives its parent");
	perim_proctable_exit(t, 21, START_B, 1);
	perim_proctable_evict(t, 5000);
	perim_proctable_stats(t, &st);
	ASSERT_EQ(st.exes, 0, "exes go with their last process");
	ASSERT_EQ(st.argvs, 0, "argvs go with their last process");
	perim_proctable_free(t);
}

/* Exe only, argv only, and an argv cut at PERIM_PROC_ARGV_MAX. */
static void test_partial_strings(void)
{
	struct perim_proctable *t = perim_proctable_new(8, 1000);
	static char big[PERIM_PROC_ARGV_MAX + 100];
	struct perim_proc *p;

	if (!ASSERT_OK_PTR(t, "new"))
		return;
	p = perim_proctable_exec(t, 30, START_A, "x", "/bin/x", NULL, 0);
	if (ASSERT_OK_PTR(p, "exe only"))
		ASSERT_TRUE(p->argv == NULL && p->argv_len == 0 && !strcmp(p->exe, "/bin/x"), "no argv");
	p = perim_proctable_exec(t, 31, START_A, "y", NULL, "y\0-v", 5);
	if (ASSERT_OK_PTR(p, "argv only"))
		ASSERT_TRUE(p->exe == NULL && p->argv_len == 5 && !strcmp(p->argv + 2, "-v"), "no exe");
	memset(big, 'a', sizeof(big));
	p = perim_proctable_exec(t, 32, START_A, "z", "/bin/z", big, sizeof(big));
	if (ASSERT_OK_PTR(p, "long argv"))
		ASSERT_TRUE(p->argv_len == PERIM_PROC_ARGV_MAX && p->argv[PERIM_PROC_ARGV_MAX] == '\0', "cut");
	perim_proctable_free(t);
}

/* Past the initial hash size every entry is still found; freed slots are reused. */
static void test_many_entries(void)
{
	enum { N = 20000 };
	struct perim_proctable *t = perim_proctable_new(N, 1000);
	struct perim_proctable_stats st;
	int found = 0, named = 0;
	char exe[32];

	if (!ASSERT_OK_PTR(t, "new"))
		return;
	for (uint32_t pid = 1; pid <= N; pid++) {
		snprintf(exe, sizeof(exe), "/bin/p%u", pid % 100);
		perim_proctable_exec(t, pid, START_A, "p", exe, "p", 2);
	}
	for (uint32_t pid = 1; pid <= N; pid++) {
		struct perim_proc *p = perim_proctable_lookup(t, pid, START_A);

		snprintf(exe, sizeof(exe), "/bin/p%u", pid % 100);
		found += p != NULL;
		named += p && p->exe && !strcmp(p->exe, exe);
	}
	ASSERT_EQ(found, N, "all found");
	ASSERT_EQ(named, N, "all with their exe");
	perim_proctable_stats(t, &st);
	ASSERT_EQ(st.exes, 100, "one copy per exe");
	ASSERT_EQ(st.argvs, N, "one argv per exec");
	ASSERT_TRUE(perim_proctable_upsert(t, N + 1, START_A) == NULL, "bounded");
	for (uint32_t pid = 1; pid <= N / 2; pid++)
		perim_proctable_exit(t, pid, START_A, 0);
	ASSERT_EQ(perim_proctable_evict(t, 1000), N / 2, "half evicted");
	for (uint32_t pid = N + 1; pid <= N + N / 2; pid++)
		found += perim_proctable_upsert(t, pid, START_B) != NULL;
	ASSERT_EQ(found, N + N / 2, "freed slots taken again");
	ASSERT_OK_PTR(perim_proctable_lookup(t, N, START_A), "survivor still found");
	ASSERT_TRUE(perim_proctable_lookup(t, 1, START_A) == NULL, "evicted gone");
	perim_proctable_free(t);
}

static void test_scan_finds_self(void)
{
	struct perim_proctable *t = perim_proctable_new(65536, 1000);
	char path[64], buf[1024], *p;
	unsigned long long ticks = 0;
	struct perim_proc *me;
	FILE *f;

	if (!ASSERT_OK_PTR(t, "new"))
		return;
	ASSERT_TRUE(perim_proctable_scan(t, "/proc") > 0, "scan");
	snprintf(path, sizeof(path), "/proc/%d/stat", getpid());
	f = fopen(path, "r");
	if (!ASSERT_OK_PTR(f, "stat")) {
		perim_proctable_free(t);
		return;
	}
	if (fgets(buf, sizeof(buf), f) && (p = strrchr(buf, ')'))) {
		for (int field = 3; p && field <= 22; field++)
			p = strchr(p + 1, ' ');
		if (p)
			ticks = strtoull(p + 1, NULL, 10);
	}
	fclose(f);
	me = perim_proctable_lookup(t, getpid(), ticks * TICK_NS);
	if (ASSERT_OK_PTR(me, "self by pid and start")) {
		ASSERT_STREQ(me->comm, "test_proctable", "comm");
		ASSERT_EQ(me->uid, getuid(), "uid");
		ASSERT_TRUE(me->exe && strstr(me->exe, "test_proctable"), "exe");
	}
	perim_proctable_free(t);
}

/* A full table makes room from its exited processes in the order they exited. */
static void test_full_table_evicts_in_exit_order(void)
{
	struct perim_proctable *t = perim_proctable_new(4, 1000000);

	if (!ASSERT_OK_PTR(t, "new"))
		return;
	for (uint32_t pid = 1; pid <= 4; pid++)
		perim_proctable_upsert(t, pid, START_A);
	perim_proctable_exit(t, 3, START_A, 10);
	perim_proctable_exit(t, 1, START_A, 20);
	perim_proctable_exit(t, 4, START_A, 30);
	ASSERT_OK_PTR(perim_proctable_upsert(t, 5, START_A), "5");
	ASSERT_TRUE(perim_proctable_lookup(t, 3, START_A) == NULL, "3, the first to exit, made room");
	ASSERT_OK_PTR(perim_proctable_upsert(t, 6, START_A), "6");
	ASSERT_TRUE(perim_proctable_lookup(t, 1, START_A) == NULL, "then 1");
	ASSERT_OK_PTR(perim_proctable_lookup(t, 4, START_A), "4, the last to exit, stays");
	ASSERT_EQ(perim_proctable_evict(t, 30 + 999999), 0, "4 inside its grace");
	ASSERT_EQ(perim_proctable_evict(t, 30 + 1000000), 1, "4 after its grace");
	ASSERT_OK_PTR(perim_proctable_lookup(t, 2, START_A), "the live one stays");
	perim_proctable_free(t);
}

/*
 * A fork storm into perimd's full table: every fork makes room. Each costs
 * O(1), so 2 x PERIM_PROCTABLE_MAX of them take milliseconds; a scan of the
 * table per fork (as before) took minutes and held perimd's event loop.
 */
static void test_fork_storm_into_full_table(void)
{
	struct perim_proctable *t = perim_proctable_new(PERIM_PROCTABLE_MAX, PERIM_PROCTABLE_GRACE_NS);
	struct perim_proctable_stats st;
	uint64_t t0, now = 1;
	uint32_t pid;

	if (!ASSERT_OK_PTR(t, "new"))
		return;
	perim_proctable_exec(t, 1, START_A, "storm", "/usr/bin/storm", "storm", 6);
	t0 = perim_mono_ns();
	for (pid = 2; pid < 3 * PERIM_PROCTABLE_MAX; pid++, now++) {
		if (!perim_proctable_fork(t, 1, START_A, pid, START_B))
			break;
		perim_proctable_exit(t, pid, START_B, now);
	}
	ASSERT_EQ(pid, 3 * PERIM_PROCTABLE_MAX, "every fork had room");
	ASSERT_TRUE(perim_mono_ns() - t0 < 5000000000ull, "the storm took under 5 s");
	perim_proctable_stats(t, &st);
	ASSERT_EQ(st.procs, PERIM_PROCTABLE_MAX, "the table is full");
	ASSERT_EQ(st.evicted, 3 * PERIM_PROCTABLE_MAX - 2 - (PERIM_PROCTABLE_MAX - 1), "evicted");
	ASSERT_OK_PTR(perim_proctable_lookup(t, 1, START_A), "the live parent stays");
	ASSERT_TRUE(perim_proctable_lookup(t, 2, START_B) == NULL, "the first child went first");
	ASSERT_OK_PTR(perim_proctable_lookup(t, pid - 1, START_B), "the last child is there");
	perim_proctable_free(t);
}

/*
 * A pid's slot found last is tried first: once that process is evicted and its
 * slot reused by another, looking the first one up again finds nobody, and
 * the newcomer is found under its own identity only.
 */
static void test_last_found_slot_never_stale(void)
{
	struct perim_proctable *t = perim_proctable_new(16, 1000);
	struct perim_proc *p, *q;

	if (!ASSERT_OK_PTR(t, "new"))
		return;
	p = perim_proctable_exec(t, 100, START_A, "old", "/bin/old", "old", 4);
	if (!ASSERT_OK_PTR(p, "exec old") || !ASSERT_TRUE(perim_proctable_lookup(t, 100, START_A) == p, "found"))
		goto out;
	perim_proctable_exit(t, 100, START_A, 10);
	ASSERT_EQ(perim_proctable_evict(t, 10 + 1000), 1, "evicted");
	ASSERT_TRUE(perim_proctable_lookup(t, 100, START_A) == NULL, "evicted one not found again");
	/* The freed slot goes to the next process: same pid (reused) and a different one. */
	q = perim_proctable_exec(t, 100, START_B, "new", "/bin/new", "new", 4);
	if (!ASSERT_OK_PTR(q, "exec new"))
		goto out;
	ASSERT_TRUE(q == p, "the slot was reused");
	ASSERT_TRUE(perim_proctable_lookup(t, 100, START_A) == NULL, "old identity not found in its reused slot");
	ASSERT_TRUE(perim_proctable_lookup(t, 100, START_B) == q, "new identity found");
	ASSERT_TRUE(perim_proctable_lookup(t, 101, START_B) == NULL, "another pid not found in it");
	ASSERT_STREQ(perim_proctable_lookup(t, 100, START_B)->exe, "/bin/new", "new exe");
out:
	perim_proctable_free(t);
}
