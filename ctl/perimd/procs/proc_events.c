// SPDX-License-Identifier: GPL-2.0
/* The process and listener tables kept from tracer events (proc_events.h). */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "perim_events.h"
#include "procs/listeners.h"
#include "procs/proc_events.h"
#include "procs/proctable.h"

/* src[0..n) as a C string in dst, cut to fit (a copy per exec event: no snprintf). */
static void copy_text(char *dst, size_t len, const char *src, size_t n)
{
	if (n > len - 1)
		n = len - 1;
	memcpy(dst, src, n);
	dst[n] = '\0';
}

/* exe: the path the kernel resolved when it is absolute, else /proc's view. */
static void exec_exe(const struct perim_ev_exec *e, char *exe, size_t len)
{
	size_t n = strnlen(e->filename, e->filename_len < sizeof(e->filename) ? e->filename_len : sizeof(e->filename));
	char link[64];
	ssize_t r;

	if (n && e->filename[0] == '/') {
		copy_text(exe, len, e->filename, n);
		return;
	}
	snprintf(link, sizeof(link), "/proc/%u/exe", e->hdr.pid);
	r = readlink(link, exe, len - 1);
	if (r > 0)
		exe[r] = '\0';
	else
		copy_text(exe, len, e->filename, n);
}

static void update_procs(struct perim_proctable *procs, const struct perim_ev_hdr *h, uint64_t now_ns)
{
	struct perim_proc *p;

	switch (h->type) {
	case PERIM_EV_EXEC: {
		const struct perim_ev_exec *e = (const void *)h;
		char exe[PERIM_PATH_MAX + 1];

		exec_exe(e, exe, sizeof(exe));
		p = perim_proctable_exec(procs, h->pid, h->start_ns, h->comm, exe, e->argv,
					 e->argv_len < PERIM_ARGV_MAX ? e->argv_len : PERIM_ARGV_MAX);
		break;
	}
	case PERIM_EV_FORK: {
		const struct perim_ev_fork *e = (const void *)h;

		p = perim_proctable_fork(procs, h->pid, h->start_ns, e->child_pid, e->child_start_ns);
		if (p)
			p->ppid = h->pid;
		return;
	}
	case PERIM_EV_EXIT:
		perim_proctable_exit(procs, h->pid, h->start_ns, now_ns);
		/* The exiting process's identity is still worth refreshing. */
		__attribute__((fallthrough));
	default: /* any event names a process: learn it if /proc did not */
		p = perim_proctable_upsert(procs, h->pid, h->start_ns);
		if (p && !p->comm[0])
			snprintf(p->comm, sizeof(p->comm), "%.*s", PERIM_COMM_LEN, h->comm);
		break;
	}
	if (!p)
		return;
	p->ppid = h->ppid;
	p->uid = h->uid;
	p->gid = h->gid;
	p->cgroup_id = h->cgroup_id;
}

void perimd_procs_on_event(struct perim_proctable *procs, struct perimd_listeners *listeners,
			   const struct perim_ev_hdr *h, uint64_t now_ns)
{
	update_procs(procs, h, now_ns);
	if (h->type == PERIM_EV_SOCK_STATE)
		perimd_listeners_on_sock_state(listeners, (const void *)h);
	else if (h->type == PERIM_EV_BIND)
		perimd_listeners_on_bind(listeners, (const void *)h);
}
