// SPDX-License-Identifier: GPL-2.0
/*
 * The process table: entries in slabs that never move, found through a
 * chained hash on pid whose links are slot indexes (4 bytes, not 8), grown by
 * doubling as the table fills. Exe paths are interned, argv copies shared on
 * fork (proc_image.c). Exited processes are also queued in the order they
 * exited (the caller's clock only moves forward), so both ways out, the grace
 * period and room for a newcomer in a full table, take the queue's head:
 * O(1) per process. A scan for the oldest per insert made a fork storm into
 * a full table quadratic and held perimd's event loop for minutes.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "procs/proc_image.h"
#include "procs/proctable.h"

#define SLAB_SHIFT 10              /* 1024 entries a slab */
#define SLAB_SIZE (1u << SLAB_SHIFT)
#define BUCKETS_MIN 1024u          /* power of two */
#define NIL 0u                     /* index + 1 links: 0 ends a chain */
#define RECENT_SLOTS 64u           /* power of two */

_Static_assert(sizeof(struct perim_proc) == 80, "perim_proc stays compact");

struct perim_proctable {
	struct perim_proc **slabs;
	uint32_t nslabs;
	uint32_t slots;            /* slots handed out so far, over every slab */
	uint32_t free_head;        /* free list of released slots, index + 1 */
	uint32_t *buckets;         /* chain heads, index + 1 */
	uint32_t nbuckets;
	uint32_t recent[RECENT_SLOTS]; /* by pid: the slot index + 1 found last, or NIL (find_link) */
	struct perim_proc_exes *exes;
	size_t argvs;              /* argv copies held */
	size_t max_procs;
	uint64_t grace_ns;
	uint64_t tick_ns;          /* one /proc clock tick */
	size_t procs;
	size_t exited;             /* also the length of the exit queue */
	uint32_t *exits;           /* ring of exited slot indexes, oldest exit at exits_head */
	uint32_t exits_cap, exits_head;
	uint64_t dropped;
	uint64_t evicted;
};

struct perim_proctable *perim_proctable_new(size_t max_procs, uint64_t grace_ns)
{
	struct perim_proctable *t = calloc(1, sizeof(*t));
	long hz = sysconf(_SC_CLK_TCK);

	if (!t)
		return NULL;
	t->buckets = calloc(BUCKETS_MIN, sizeof(*t->buckets));
	t->exes = perim_proc_exes_new();
	if (!t->buckets || !t->exes) {
		perim_proctable_free(t);
		return NULL;
	}
	t->nbuckets = BUCKETS_MIN;
	/* Indexes are 32-bit, with 0 reserved for "none". */
	t->max_procs = max_procs ? (max_procs < UINT32_MAX - 1 ? max_procs : UINT32_MAX - 1) : 1;
	t->grace_ns = grace_ns;
	t->tick_ns = 1000000000ull / (uint64_t)(hz > 0 ? hz : 100);
	return t;
}

static struct perim_proc *slot_at(const struct perim_proctable *t, uint32_t idx)
{
	return &t->slabs[idx >> SLAB_SHIFT][idx & (SLAB_SIZE - 1)];
}

/* Takes over the caller's references to exe and argv (either may be NULL), drops the old ones. */
static void set_strings(struct perim_proctable *t, struct perim_proc *p, const char *exe,
			const char *argv, uint16_t argv_len)
{
	perim_proc_exe_put(t->exes, p->exe);
	t->argvs -= perim_proc_argv_put(p->argv);
	p->exe = exe;
	p->argv = argv;
	p->argv_len = argv ? argv_len : 0;
}

void perim_proctable_free(struct perim_proctable *t)
{
	if (!t)
		return;
	for (uint32_t i = 0; i < t->slots; i++) {
		struct perim_proc *p = slot_at(t, i);

		if (p->in_use)
			set_strings(t, p, NULL, NULL, 0);
	}
	for (uint32_t s = 0; s < t->nslabs; s++)
		free(t->slabs[s]);
	free(t->slabs);
	free(t->buckets);
	free(t->exits);
	perim_proc_exes_free(t->exes);
	free(t);
}

/* Nanoseconds (kernel boot-time start) to the table's key unit. */
static uint64_t perim_proctable_ticks(const struct perim_proctable *t, uint64_t start_ns)
{
	return start_ns / t->tick_ns;
}

static uint32_t *bucket_of(const struct perim_proctable *t, uint32_t pid)
{
	return &t->buckets[(pid * 2654435761u) & (t->nbuckets - 1)];
}

static bool slot_is(const struct perim_proctable *t, uint32_t link, uint32_t pid, uint64_t ticks)
{
	const struct perim_proc *p = slot_at(t, link - 1);

	return p->in_use && p->pid == pid && p->start_ticks == ticks;
}

static uint32_t *recent_of(struct perim_proctable *t, uint32_t pid)
{
	return &t->recent[pid & (RECENT_SLOTS - 1)];
}

/*
 * The slot index + 1 of (pid, ticks), or NIL. An event looks its process up
 * two or three times (the table's update, then the JSON's enrichment), and a
 * storm's few busy processes come back event after event: the slot found
 * last for a pid's recent[] entry is tried before the chain (whose bucket
 * and entries are cache misses in a large table), checked by its contents,
 * so a slot freed or reused since simply misses.
 */
static uint32_t find_link(struct perim_proctable *t, uint32_t pid, uint64_t ticks)
{
	uint32_t *recent = recent_of(t, pid);

	if (*recent != NIL && slot_is(t, *recent, pid, ticks))
		return *recent;
	for (uint32_t link = *bucket_of(t, pid); link != NIL;) {
		struct perim_proc *p = slot_at(t, link - 1);

		if (p->pid == pid && p->start_ticks == ticks) {
			*recent = link;
			return link;
		}
		link = p->next;
	}
	return NIL;
}

static struct perim_proc *find_ticks(struct perim_proctable *t, uint32_t pid, uint64_t ticks)
{
	uint32_t link = find_link(t, pid, ticks);

	return link != NIL ? slot_at(t, link - 1) : NULL;
}

struct perim_proc *perim_proctable_lookup(struct perim_proctable *t, uint32_t pid, uint64_t start_ns)
{
	return find_ticks(t, pid, perim_proctable_ticks(t, start_ns));
}

/* Slot idx back to the free list; the caller has unlinked it from its chain. */
static void release_slot(struct perim_proctable *t, uint32_t idx)
{
	struct perim_proc *p = slot_at(t, idx);

	set_strings(t, p, NULL, NULL, 0);
	t->procs--;
	if (p->exited)
		t->exited--;
	memset(p, 0, sizeof(*p));
	p->next = t->free_head;
	t->free_head = idx + 1;
}

static void unlink_proc(struct perim_proctable *t, struct perim_proc *victim)
{
	uint32_t *link = bucket_of(t, victim->pid);

	while (*link != NIL) {
		struct perim_proc *p = slot_at(t, *link - 1);

		if (p == victim) {
			uint32_t idx = *link - 1;

			*link = p->next;
			release_slot(t, idx);
			return;
		}
		link = &p->next;
	}
}

/* The exit queue's ring, doubled (up to max_procs) when full: 0 or -ENOMEM. */
static int exits_grow(struct perim_proctable *t)
{
	uint32_t cap = t->exits_cap ? t->exits_cap * 2 : 1024, *ring;

	if (cap > t->max_procs)
		cap = (uint32_t)t->max_procs;
	ring = malloc((size_t)cap * sizeof(*ring));
	if (!ring)
		return -ENOMEM;
	for (uint32_t i = 0; i < t->exited; i++)
		ring[i] = t->exits[(t->exits_head + i) % t->exits_cap];
	free(t->exits);
	t->exits = ring;
	t->exits_cap = cap;
	t->exits_head = 0;
	return 0;
}

static struct perim_proc *oldest_exited(const struct perim_proctable *t)
{
	return t->exited ? slot_at(t, t->exits[t->exits_head]) : NULL;
}

/* Drops the exited process that left first (the exit queue's head). */
static void drop_oldest_exited(struct perim_proctable *t)
{
	struct perim_proc *oldest = oldest_exited(t);

	t->exits_head = (t->exits_head + 1) % t->exits_cap;
	unlink_proc(t, oldest);
	t->evicted++;
}

/* Full table: make room by dropping the exited process that left first. */
static int evict_oldest_exited(struct perim_proctable *t)
{
	if (!t->exited)
		return -ENOSPC;
	drop_oldest_exited(t);
	return 0;
}

/* A slot off the free list, or the next never-used one (a new slab when needed). */
static struct perim_proc *take_slot(struct perim_proctable *t, uint32_t *idx)
{
	struct perim_proc *p;

	if (t->free_head != NIL) {
		*idx = t->free_head - 1;
		p = slot_at(t, *idx);
		t->free_head = p->next;
		return p;
	}
	if ((t->slots >> SLAB_SHIFT) >= t->nslabs) {
		struct perim_proc **slabs = realloc(t->slabs, (t->nslabs + 1) * sizeof(*slabs));

		if (!slabs)
			return NULL;
		t->slabs = slabs;
		t->slabs[t->nslabs] = calloc(SLAB_SIZE, sizeof(struct perim_proc));
		if (!t->slabs[t->nslabs])
			return NULL;
		t->nslabs++;
	}
	*idx = t->slots++;
	return slot_at(t, *idx);
}

/* Doubled when entries outnumber buckets; a failed grow only lengthens chains. */
static void maybe_grow(struct perim_proctable *t)
{
	uint32_t n = t->nbuckets * 2, *b;

	if (t->procs <= t->nbuckets || n < t->nbuckets)
		return;
	b = calloc(n, sizeof(*b));
	if (!b)
		return;
	free(t->buckets);
	t->buckets = b;
	t->nbuckets = n;
	for (uint32_t i = 0; i < t->slots; i++) {
		struct perim_proc *p = slot_at(t, i);
		uint32_t *head;

		if (!p->in_use)
			continue;
		head = bucket_of(t, p->pid);
		p->next = *head;
		*head = i + 1;
	}
}

static struct perim_proc *insert_ticks(struct perim_proctable *t, uint32_t pid, uint64_t ticks)
{
	struct perim_proc *p = find_ticks(t, pid, ticks);
	uint32_t idx, *head;

	if (p)
		return p;
	if (t->procs >= t->max_procs && evict_oldest_exited(t)) {
		t->dropped++;
		return NULL;
	}
	p = take_slot(t, &idx);
	if (!p) {
		t->dropped++;
		return NULL;
	}
	p->pid = pid;
	p->start_ticks = ticks;
	p->in_use = 1;
	head = bucket_of(t, pid);
	p->next = *head;
	*head = idx + 1;
	*recent_of(t, pid) = idx + 1;
	t->procs++;
	maybe_grow(t);
	return p;
}

struct perim_proc *perim_proctable_upsert(struct perim_proctable *t, uint32_t pid, uint64_t start_ns)
{
	return insert_ticks(t, pid, perim_proctable_ticks(t, start_ns));
}

/* A new exe and argv (either may be unknown); on ENOMEM that one is unknown rather than stale. */
static void set_image(struct perim_proctable *t, struct perim_proc *p, const char *exe, size_t exe_len,
		      const char *argv, size_t argv_len)
{
	uint16_t alen = (uint16_t)(argv_len < PERIM_PROC_ARGV_MAX ? argv_len : PERIM_PROC_ARGV_MAX);
	const char *e = exe ? perim_proc_exe_get(t->exes, exe, exe_len) : NULL;
	const char *a = argv ? perim_proc_argv_new(argv, alen) : NULL;

	t->argvs += a != NULL;
	set_strings(t, p, e, a, alen);
}

struct perim_proc *perim_proctable_exec(struct perim_proctable *t, uint32_t pid, uint64_t start_ns,
					const char *comm, const char *exe, const char *argv, size_t argv_len)
{
	struct perim_proc *p = perim_proctable_upsert(t, pid, start_ns);

	if (!p)
		return NULL;
	if (comm) {
		size_t n = strnlen(comm, sizeof(p->comm) - 1);

		memcpy(p->comm, comm, n);
		p->comm[n] = '\0';
	}
	set_image(t, p, exe, exe ? strlen(exe) : 0, argv, argv_len);
	return p;
}

struct perim_proc *perim_proctable_fork(struct perim_proctable *t, uint32_t ppid, uint64_t pstart_ns,
					uint32_t pid, uint64_t start_ns)
{
	struct perim_proc *parent, *p = perim_proctable_upsert(t, pid, start_ns);

	if (!p)
		return NULL;
	p->ppid = ppid;
	/* Looked up after the insert, which may have evicted an exited parent. */
	parent = perim_proctable_lookup(t, ppid, pstart_ns);
	if (parent && parent != p) {
		p->uid = parent->uid;
		p->gid = parent->gid;
		p->cgroup_id = parent->cgroup_id;
		memcpy(p->comm, parent->comm, sizeof(p->comm));
		perim_proc_exe_hold(parent->exe);
		perim_proc_argv_hold(parent->argv);
		set_strings(t, p, parent->exe, parent->argv, parent->argv_len);
	}
	return p;
}

void perim_proctable_exit(struct perim_proctable *t, uint32_t pid, uint64_t start_ns, uint64_t now_ns)
{
	uint32_t link = find_link(t, pid, perim_proctable_ticks(t, start_ns));
	struct perim_proc *p = link != NIL ? slot_at(t, link - 1) : NULL;

	if (!p || p->exited)
		return;
	if (t->exited == t->exits_cap && exits_grow(t)) {
		/* No room to queue it: it goes now rather than never. */
		unlink_proc(t, p);
		t->evicted++;
		return;
	}
	p->exited = 1;
	p->exit_ns = now_ns;
	t->exits[(t->exits_head + t->exited) % t->exits_cap] = link - 1;
	t->exited++;
}

size_t perim_proctable_evict(struct perim_proctable *t, uint64_t now_ns)
{
	size_t n = 0;

	while (t->exited && now_ns - oldest_exited(t)->exit_ns >= t->grace_ns) {
		drop_oldest_exited(t);
		n++;
	}
	return n;
}

void perim_proctable_stats(const struct perim_proctable *t, struct perim_proctable_stats *st)
{
	st->procs = t->procs;
	st->exited = t->exited;
	st->exes = perim_proc_exes_count(t->exes);
	st->argvs = t->argvs;
	st->dropped = t->dropped;
	st->evicted = t->evicted;
}

/* ---- /proc ---- */

static ssize_t read_file(const char *path, char *buf, size_t size)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = read(fd, buf, size);
	if (n < 0)
		n = -errno;
	close(fd);
	return n;
}

/* comm, ppid and starttime (ticks) from /proc/<pid>/stat. */
static int parse_stat(const char *buf, char *comm, uint32_t *ppid, uint64_t *start_ticks)
{
	const char *open_paren = strchr(buf, '('), *close_paren = strrchr(buf, ')');
	const char *s;
	unsigned long long v = 0;
	int field;

	if (!open_paren || !close_paren || close_paren < open_paren)
		return -EINVAL;
	snprintf(comm, PERIM_PROC_COMM_LEN, "%.*s", (int)(close_paren - open_paren - 1), open_paren + 1);
	/* Field 3 (state) follows ") "; ppid is field 4, starttime field 22. */
	s = close_paren + 2;
	for (field = 3; field < 22 && s; field++) {
		if (field == 4)
			*ppid = strtoul(s, NULL, 10);
		s = strchr(s, ' ');
		if (s)
			s++;
	}
	if (!s || sscanf(s, "%llu", &v) != 1)
		return -EINVAL;
	*start_ticks = v;
	return 0;
}

int perim_proc_start_ticks(const char *stat_path, uint64_t *ticks)
{
	char buf[1024], comm[PERIM_PROC_COMM_LEN];
	uint32_t ppid;
	ssize_t n = read_file(stat_path, buf, sizeof(buf) - 1);

	if (n < 0)
		return (int)n;
	if (n == 0)
		return -EIO;
	buf[n] = '\0';
	return parse_stat(buf, comm, &ppid, ticks) ? -EIO : 0;
}

static void parse_ids(const char *status, uint32_t *uid, uint32_t *gid)
{
	const char *u = strstr(status, "\nUid:"), *g = strstr(status, "\nGid:");

	if (u)
		*uid = strtoul(u + 5, NULL, 10);
	if (g)
		*gid = strtoul(g + 5, NULL, 10);
}

static void scan_one(struct perim_proctable *t, const char *proc_root, uint32_t pid)
{
	char path[PATH_MAX], buf[PERIM_PROC_ARGV_MAX], comm[PERIM_PROC_COMM_LEN], exe[PATH_MAX];
	uint64_t ticks = 0;
	uint32_t ppid = 0;
	struct perim_proc *p;
	ssize_t n, exe_len;

	snprintf(path, sizeof(path), "%s/%u/stat", proc_root, pid);
	n = read_file(path, buf, sizeof(buf) - 1);
	if (n <= 0)
		return;
	buf[n] = '\0';
	if (parse_stat(buf, comm, &ppid, &ticks))
		return;
	p = insert_ticks(t, pid, ticks);
	if (!p)
		return;
	p->ppid = ppid;
	memcpy(p->comm, comm, sizeof(p->comm));
	snprintf(path, sizeof(path), "%s/%u/status", proc_root, pid);
	n = read_file(path, buf, sizeof(buf) - 1);
	if (n > 0) {
		buf[n] = '\0';
		parse_ids(buf, &p->uid, &p->gid);
	}
	snprintf(path, sizeof(path), "%s/%u/exe", proc_root, pid);
	exe_len = readlink(path, exe, sizeof(exe) - 1);
	snprintf(path, sizeof(path), "%s/%u/cmdline", proc_root, pid);
	n = read_file(path, buf, sizeof(buf));
	set_image(t, p, exe_len > 0 ? exe : NULL, exe_len > 0 ? (size_t)exe_len : 0,
		  n > 0 ? buf : NULL, n > 0 ? (size_t)n : 0);
}

int perim_proctable_scan(struct perim_proctable *t, const char *proc_root)
{
	DIR *dir = opendir(proc_root);
	size_t before = t->procs;
	struct dirent *de;

	if (!dir)
		return -errno;
	while ((de = readdir(dir))) {
		char *end;
		unsigned long pid = strtoul(de->d_name, &end, 10);

		if (*end || !pid)
			continue;
		scan_one(t, proc_root, pid);
	}
	closedir(dir);
	return (int)(t->procs - before);
}
