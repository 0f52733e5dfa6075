// SPDX-License-Identifier: GPL-2.0
/* The process table: a chained hash on pid, entries keyed by (pid, start). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "proctable.h"

#define PROCTABLE_BUCKETS 4096     /* power of two */
#define PROC_ARGV_MAX 4096

struct perim_proctable {
	struct perim_proc *buckets[PROCTABLE_BUCKETS];
	size_t max_procs;
	uint64_t grace_ns;
	uint64_t tick_ns;          /* one /proc clock tick */
	size_t procs;
	size_t exited;
	uint64_t dropped;
	uint64_t evicted;
};

struct perim_proctable *perim_proctable_new(size_t max_procs, uint64_t grace_ns)
{
	struct perim_proctable *t = calloc(1, sizeof(*t));
	long hz = sysconf(_SC_CLK_TCK);

	if (!t)
		return NULL;
	t->max_procs = max_procs ? max_procs : 1;
	t->grace_ns = grace_ns;
	t->tick_ns = 1000000000ull / (uint64_t)(hz > 0 ? hz : 100);
	return t;
}

static void proc_free(struct perim_proc *p)
{
	free(p->exe);
	free(p->argv);
	free(p);
}

void perim_proctable_free(struct perim_proctable *t)
{
	if (!t)
		return;
	for (size_t i = 0; i < PROCTABLE_BUCKETS; i++) {
		struct perim_proc *p = t->buckets[i], *next;

		for (; p; p = next) {
			next = p->next;
			proc_free(p);
		}
	}
	free(t);
}

uint64_t perim_proctable_ticks(const struct perim_proctable *t, uint64_t start_ns)
{
	return start_ns / t->tick_ns;
}

static struct perim_proc **bucket_of(struct perim_proctable *t, uint32_t pid)
{
	return &t->buckets[(pid * 2654435761u) & (PROCTABLE_BUCKETS - 1)];
}

static struct perim_proc *find_ticks(struct perim_proctable *t, uint32_t pid, uint64_t ticks)
{
	for (struct perim_proc *p = *bucket_of(t, pid); p; p = p->next)
		if (p->pid == pid && p->start_ticks == ticks)
			return p;
	return NULL;
}

struct perim_proc *perim_proctable_lookup(struct perim_proctable *t, uint32_t pid, uint64_t start_ns)
{
	return find_ticks(t, pid, perim_proctable_ticks(t, start_ns));
}

static void unlink_proc(struct perim_proctable *t, struct perim_proc *victim)
{
	for (struct perim_proc **pp = bucket_of(t, victim->pid); *pp; pp = &(*pp)->next) {
		if (*pp == victim) {
			*pp = victim->next;
			break;
		}
	}
	t->procs--;
	if (victim->exited)
		t->exited--;
	proc_free(victim);
}

/* Full table: make room by dropping the exited process that left first. */
static int evict_oldest_exited(struct perim_proctable *t)
{
	struct perim_proc *oldest = NULL;

	for (size_t i = 0; i < PROCTABLE_BUCKETS; i++)
		for (struct perim_proc *p = t->buckets[i]; p; p = p->next)
			if (p->exited && (!oldest || p->exit_ns < oldest->exit_ns))
				oldest = p;
	if (!oldest)
		return -ENOSPC;
	unlink_proc(t, oldest);
	t->evicted++;
	return 0;
}

static struct perim_proc *insert_ticks(struct perim_proctable *t, uint32_t pid, uint64_t ticks)
{
	struct perim_proc *p = find_ticks(t, pid, ticks), **head;

	if (p)
		return p;
	if (t->procs >= t->max_procs && evict_oldest_exited(t)) {
		t->dropped++;
		return NULL;
	}
	p = calloc(1, sizeof(*p));
	if (!p) {
		t->dropped++;
		return NULL;
	}
	p->pid = pid;
	p->start_ticks = ticks;
	head = bucket_of(t, pid);
	p->next = *head;
	*head = p;
	t->procs++;
	return p;
}

struct perim_proc *perim_proctable_upsert(struct perim_proctable *t, uint32_t pid, uint64_t start_ns)
{
	return insert_ticks(t, pid, perim_proctable_ticks(t, start_ns));
}

static int set_bytes(char **dst, const char *src, size_t len)
{
	char *copy = NULL;

	if (src) {
		copy = malloc(len + 1);
		if (!copy)
			return -ENOMEM;
		memcpy(copy, src, len);
		copy[len] = '\0';
	}
	free(*dst);
	*dst = copy;
	return 0;
}

struct perim_proc *perim_proctable_exec(struct perim_proctable *t, uint32_t pid, uint64_t start_ns,
					const char *comm, const char *exe, const char *argv, size_t argv_len)
{
	struct perim_proc *p = perim_proctable_upsert(t, pid, start_ns);

	if (!p)
		return NULL;
	if (comm)
		snprintf(p->comm, sizeof(p->comm), "%s", comm);
	set_bytes(&p->exe, exe, exe ? strlen(exe) : 0);
	if (set_bytes(&p->argv, argv, argv_len) == 0)
		p->argv_len = argv ? argv_len : 0;
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
		set_bytes(&p->exe, parent->exe, parent->exe ? strlen(parent->exe) : 0);
		if (set_bytes(&p->argv, parent->argv, parent->argv_len) == 0)
			p->argv_len = parent->argv ? parent->argv_len : 0;
	}
	return p;
}

void perim_proctable_exit(struct perim_proctable *t, uint32_t pid, uint64_t start_ns, uint64_t now_ns)
{
	struct perim_proc *p = perim_proctable_lookup(t, pid, start_ns);

	if (!p || p->exited)
		return;
	p->exited = 1;
	p->exit_ns = now_ns;
	t->exited++;
}

size_t perim_proctable_evict(struct perim_proctable *t, uint64_t now_ns)
{
	size_t n = 0;

	if (!t->exited)
		return 0;
	for (size_t i = 0; i < PROCTABLE_BUCKETS; i++) {
		struct perim_proc **pp = &t->buckets[i];

		while (*pp) {
			struct perim_proc *p = *pp;

			if (p->exited && now_ns - p->exit_ns >= t->grace_ns) {
				*pp = p->next;
				t->procs--;
				t->exited--;
				proc_free(p);
				n++;
			} else {
				pp = &p->next;
			}
		}
	}
	t->evicted += n;
	return n;
}

void perim_proctable_stats(const struct perim_proctable *t, struct perim_proctable_stats *st)
{
	st->procs = t->procs;
	st->exited = t->exited;
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
	char path[PATH_MAX], buf[PROC_ARGV_MAX], comm[PERIM_PROC_COMM_LEN], exe[PATH_MAX];
	uint64_t ticks = 0;
	uint32_t ppid = 0;
	struct perim_proc *p;
	ssize_t n;

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
	n = readlink(path, exe, sizeof(exe) - 1);
	if (n > 0)
		set_bytes(&p->exe, exe, n);
	snprintf(path, sizeof(path), "%s/%u/cmdline", proc_root, pid);
	n = read_file(path, buf, sizeof(buf));
	if (n > 0 && set_bytes(&p->argv, buf, n) == 0)
		p->argv_len = n;
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
