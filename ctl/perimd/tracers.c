// SPDX-License-Identifier: GPL-2.0
/*
 * The tracing side of perimd: load tracers/perim_trace.bpf.c, attach what the
 * kernel offers (hooks.c), drain both ring buffers from perimd's loop, keep
 * the process table, emit JSON lines to the sink, the backlog and subscribers.
 *
 * Draining: programs submit without waking the reader unless the ring holds
 * more than a threshold (1/16 of the event ring, 4 KiB of the security ring),
 * and perimd drains on a DRAIN_INTERVAL_MS timer. An event therefore waits at
 * most DRAIN_INTERVAL_MS (plus the time to handle what is queued before it);
 * a burst wakes perimd early, paying the ~25 us wakeup once per batch.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "perim_events.h"
#include "tracers/perim_trace.skel.h"
#include "events_dump.h"
#include "events_json.h"
#include "guard_objects.h"
#include "guard_rules.h"
#include "hooks.h"
#include "listeners.h"
#include "loadfail.h"
#include "log.h"
#include "proctable.h"
#include "proctable_synth.h"
#include "proto.h"
#include "tracers.h"

#define DRAIN_INTERVAL_MS 50
#define EVICT_EVERY_TICKS 20           /* once a second */
#define PROC_MAX 131072           /* 100,000 processes and room; ~95 bytes each when they share command lines */
#define PROC_GRACE_NS (30ull * 1000000000ull)
/*
 * A ring's data pages are mapped twice into perimd (libbpf's wrap-around
 * view), so each counts twice in its RSS: 2 MiB of events cost 4 MiB. With
 * the wakeup at 1/16 (128 KiB), 2 MiB still leaves ~1.9 MiB of headroom: at
 * the exec/connect storms' ~50k events/s (~5 MB/s) perimd may stall ~400 ms
 * before an event is lost. Security events are rare and woken at 4 KiB.
 */
#define EV_RING_DEFAULT (2u << 20)
#define SEC_RING_DEFAULT (512u << 10)
#define BACKLOG_MAX 1024
/*
 * Sampled XDP drops (up to 1000/s per CPU) keep a backlog of their own: in
 * one shared ring a drop flood pushed every tracer event out within a second.
 */
#define DROP_BACKLOG_MAX 256
#define SUBSCRIBERS_MAX 32
#define SUBSCRIBER_SEND_TIMEOUT_MS 200

/* Written to when nothing else is configured: sensitive places to write to. */
static const char *const default_write_prefixes[] = {
	"/etc/", "/boot/", "/root/.ssh/", "/usr/bin/", "/usr/sbin/", "/usr/lib/",
	"/bin/", "/sbin/", "/lib/", "/var/spool/cron/",
};

struct backlog_entry {
	int type;
	uint64_t order;                    /* publication order, to merge the two backlogs */
	char *json;
};

struct backlog {
	struct backlog_entry *e;
	unsigned cap, next;                /* next: the oldest entry, overwritten next */
};

enum { BACKLOG_TRACERS, BACKLOG_DROPS, BACKLOG_COUNT };

struct subscriber {
	int fd;                            /* -1 = free */
	uint32_t types;                    /* bit per event type, incl. "lost" */
};

struct ring_ctx {
	struct perim_tracers *t;
	int ring;
};

struct perim_tracers {
	struct perim_loop *loop;
	struct perim_trace *skel;
	struct ring_buffer *rb;
	struct ring_ctx ring_ctx[PERIM_RING_COUNT];
	struct perim_hook_state hooks[PERIM_HOOK_MAX];
	struct perim_rejects rejects;      /* programs the verifier refused */
	struct perim_proctable *procs;
	struct perimd_listeners *listeners;   /* sock_state and bind events keep it (drop attribution) */
	struct perim_ev_json_ctx jctx;
	char *events_path;                 /* NULL = stdout */
	FILE *sink;
	int ncpus;
	uint64_t *next_seq[PERIM_RING_COUNT]; /* per CPU: the seq expected next */
	uint64_t gaps[PERIM_RING_COUNT];
	uint64_t delivered[PERIM_HOOK_MAX];
	struct backlog_entry tracer_backlog[BACKLOG_MAX];
	struct backlog_entry drop_backlog[DROP_BACKLOG_MAX];
	struct backlog backlogs[BACKLOG_COUNT];
	uint64_t published;
	struct subscriber subs[SUBSCRIBERS_MAX];
	struct perimd_dumps *dumps;        /* non-follow `events` still being written */
	int timer_fd;
	bool ring_watched;
	const char *hold_file;             /* test only: no draining while this file exists */
	unsigned ticks;
	perim_tracers_tap_fn tap;          /* sees every line published (the fleet's export), or NULL */
	void *tap_ctx;
};

static uint64_t now_monotonic_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

static int64_t realtime_minus_monotonic(void)
{
	struct timespec rt, mono;

	clock_gettime(CLOCK_REALTIME, &rt);
	clock_gettime(CLOCK_MONOTONIC, &mono);
	return (rt.tv_sec - mono.tv_sec) * 1000000000ll + (rt.tv_nsec - mono.tv_nsec);
}

/* ---- output: sink, backlog, subscribers ---- */

static void subscriber_drop(struct perim_tracers *t, struct subscriber *s)
{
	perim_loop_del(t->loop, s->fd);
	close(s->fd);
	s->fd = -1;
}

static void publish(struct perim_tracers *t, int type, struct json_object *o)
{
	const char *text = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN);
	size_t len = strlen(text);
	struct backlog *bl = &t->backlogs[type == PERIM_EV_XDP_DROP_TYPE ? BACKLOG_DROPS : BACKLOG_TRACERS];
	struct backlog_entry *b = &bl->e[bl->next];

	if (fwrite(text, 1, len, t->sink) != len || fputc('\n', t->sink) == EOF)
		pr_debug("tracers: writing the events sink: %s\n", strerror(errno));
	if (t->tap)
		t->tap(t->tap_ctx, type, text, len);
	free(b->json);
	b->json = strdup(text);
	b->type = type;
	b->order = ++t->published;
	bl->next = (bl->next + 1) % bl->cap;
	for (int i = 0; i < SUBSCRIBERS_MAX; i++) {
		struct subscriber *s = &t->subs[i];

		if (s->fd < 0 || !(s->types & (1u << type)))
			continue;
		if (perim_proto_send(s->fd, text, len) < 0)
			subscriber_drop(t, s);
	}
}

void perim_tracers_publish(struct perim_tracers *t, int type, struct json_object *o)
{
	publish(t, type, o);
}

void perim_tracers_set_tap(struct perim_tracers *t, perim_tracers_tap_fn fn, void *ctx)
{
	t->tap = fn;
	t->tap_ctx = ctx;
}

void perim_tracers_flush(struct perim_tracers *t)
{
	fflush(t->sink);
}

struct perimd_listeners *perim_tracers_listeners(struct perim_tracers *t)
{
	return t->listeners;
}

const struct perim_ev_json_ctx *perim_tracers_json_ctx(struct perim_tracers *t)
{
	return &t->jctx;
}

/* ---- events ---- */

static void track_seq(struct perim_tracers *t, const struct perim_ev_hdr *h)
{
	uint64_t *expect;

	if (h->cpu >= t->ncpus || h->ring >= PERIM_RING_COUNT)
		return;
	expect = &t->next_seq[h->ring][h->cpu];
	if (*expect == 0)
		*expect = 1;
	if (h->seq > *expect) {
		uint64_t missing = h->seq - *expect;
		struct json_object *o = perim_ev_lost_json(&t->jctx, h->ring, h->cpu, missing);

		t->gaps[h->ring] += missing;
		pr_warn("tracers: %llu events lost on ring %s, cpu %u (ring full)\n",
			(unsigned long long)missing, h->ring ? "security" : "events", h->cpu);
		publish(t, PERIM_EV_LOST_TYPE, o);
		json_object_put(o);
	}
	if (h->seq >= *expect)
		*expect = h->seq + 1;
}

/* exe: the path the kernel resolved when it is absolute, else /proc's view. */
static void exec_exe(const struct perim_ev_exec *e, char *exe, size_t len)
{
	size_t n = strnlen(e->filename, e->filename_len < sizeof(e->filename) ? e->filename_len : sizeof(e->filename));
	char link[64];
	ssize_t r;

	if (n && e->filename[0] == '/') {
		snprintf(exe, len, "%.*s", (int)n, e->filename);
		return;
	}
	snprintf(link, sizeof(link), "/proc/%u/exe", e->hdr.pid);
	r = readlink(link, exe, len - 1);
	if (r > 0)
		exe[r] = '\0';
	else
		snprintf(exe, len, "%.*s", (int)n, e->filename);
}

static void update_procs(struct perim_tracers *t, const struct perim_ev_hdr *h)
{
	struct perim_proc *p;

	switch (h->type) {
	case PERIM_EV_EXEC: {
		const struct perim_ev_exec *e = (const void *)h;
		char comm[PERIM_COMM_LEN + 1], exe[PERIM_PATH_MAX + 1];

		snprintf(comm, sizeof(comm), "%.*s", PERIM_COMM_LEN, h->comm);
		exec_exe(e, exe, sizeof(exe));
		p = perim_proctable_exec(t->procs, h->pid, h->start_ns, comm, exe, e->argv,
					 e->argv_len < PERIM_ARGV_MAX ? e->argv_len : PERIM_ARGV_MAX);
		break;
	}
	case PERIM_EV_FORK: {
		const struct perim_ev_fork *e = (const void *)h;

		p = perim_proctable_fork(t->procs, h->pid, h->start_ns, e->child_pid, e->child_start_ns);
		if (p)
			p->ppid = h->pid;
		return;
	}
	case PERIM_EV_EXIT:
		perim_proctable_exit(t->procs, h->pid, h->start_ns, now_monotonic_ns());
		/* The exiting process's identity is still worth refreshing. */
		__attribute__((fallthrough));
	default: /* any event names a process: learn it if /proc did not */
		p = perim_proctable_upsert(t->procs, h->pid, h->start_ns);
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

static int on_sample(void *ctx, void *data, size_t size)
{
	struct ring_ctx *rc = ctx;
	struct perim_tracers *t = rc->t;
	const struct perim_ev_hdr *h = data;
	struct json_object *o;

	if (size < sizeof(*h) || perim_ev_size(h->type) != size || h->hook >= PERIM_HOOK_MAX) {
		pr_warn("tracers: malformed event (type %u, %zu bytes) on ring %d\n",
			size >= sizeof(*h) ? h->type : 0, size, rc->ring);
		return 0;
	}
	track_seq(t, h);
	t->delivered[h->hook]++;
	update_procs(t, h);
	if (h->type == PERIM_EV_SOCK_STATE)
		perimd_listeners_on_sock_state(t->listeners, data);
	else if (h->type == PERIM_EV_BIND)
		perimd_listeners_on_bind(t->listeners, data);
	o = perim_ev_json(&t->jctx, data, size);
	if (!o)
		return 0;
	publish(t, h->type, o);
	json_object_put(o);
	return 0;
}

static bool held(const struct perim_tracers *t)
{
	return t->hold_file && access(t->hold_file, F_OK) == 0;
}

static int drain(struct perim_tracers *t)
{
	int n;

	if (held(t))
		return 0;
	n = ring_buffer__consume(t->rb);
	if (n < 0)
		pr_warn("tracers: draining the ring buffers: %s\n", strerror(-n));
	if (n > 0)
		fflush(t->sink);
	return 0;
}

static int on_ring_ready(void *ctx, int fd, uint32_t events)
{
	return drain(ctx);
}

static int on_drain_timer(void *ctx, int fd, uint32_t events)
{
	struct perim_tracers *t = ctx;
	int err;

	/* The wakeup-driven watch is added once a test hold is over (a held ring stays readable). */
	if (!t->ring_watched && !held(t)) {
		err = perim_loop_add(t->loop, ring_buffer__epoll_fd(t->rb), EPOLLIN, on_ring_ready, t);
		if (err)
			pr_warn("tracers: watching the ring buffers: %s\n", strerror(-err));
		t->ring_watched = true;
	}
	drain(t);
	if (++t->ticks % EVICT_EVERY_TICKS == 0) {
		perim_proctable_evict(t->procs, now_monotonic_ns());
		perimd_dumps_expire(t->dumps, now_monotonic_ns());
	}
	return 0;
}

/* ---- configuration of the loaded object ---- */

static int ring_size_override(unsigned *ev, unsigned *sec)
{
	const char *s = getenv("PERIM_TEST_RINGBUF_SIZE");
	long page = sysconf(_SC_PAGESIZE);
	char *end;
	unsigned long v;

	if (!s)
		return 0;
	v = strtoul(s, &end, 0);
	if (*end || v < (unsigned long)page || (v & (v - 1))) {
		pr_warn("tracers: PERIM_TEST_RINGBUF_SIZE \"%s\" is wrong: a power of two, at least %ld\n", s, page);
		return -EINVAL;
	}
	*ev = *sec = v;
	return 0;
}

static int add_write_prefix(struct perim_tracers *t, const char *prefix)
{
	struct perim_prefix_key key = {};
	size_t len = strlen(prefix);
	uint8_t one = 1;

	if (len == 0 || len > PERIM_PREFIX_MAX || prefix[0] != '/') {
		pr_warn("tracers: write prefix \"%s\" is wrong: an absolute path of at most %d bytes\n",
			prefix, PERIM_PREFIX_MAX);
		return -EINVAL;
	}
	key.prefixlen = len * 8;
	memcpy(key.path, prefix, len);
	if (bpf_map__update_elem(t->skel->maps.perim_write_prefixes, &key, sizeof(key), &one, sizeof(one), 0)) {
		pr_warn("tracers: adding write prefix %s: %s\n", prefix, strerror(errno));
		return -errno;
	}
	return 0;
}

static const char *const guard_op_names[PERIM_GUARD_OP_MAX] = {
	[PERIM_GUARD_OPEN] = "open", [PERIM_GUARD_EXEC] = "exec", [PERIM_GUARD_BPF] = "bpf",
};

static const int guard_op_hooks[PERIM_GUARD_OP_MAX] = {
	[PERIM_GUARD_OPEN] = PERIM_HOOK_LSM_FILE_OPEN, [PERIM_GUARD_EXEC] = PERIM_HOOK_LSM_BPRM,
	[PERIM_GUARD_BPF] = PERIM_HOOK_LSM_BPF,
};

/*
 * A rule's file or directory, by inode, in the kernel's dev_t encoding: what
 * open and exec guard, and for bpf the directory no other process may pin
 * into or unlink or rename pins from.
 */
static int add_guard_inode(struct perim_tracers *t, const struct perim_guard_rule *r,
			   const struct perim_guard_verdict *v)
{
	struct perim_guard_ino_key key = { .op = r->op };
	struct stat st;

	if (stat(r->prefix, &st)) {
		pr_warn("tracers: guard rule %s %s (line %d) not applied: %s\n",
			guard_op_names[r->op], r->prefix, r->line, strerror(errno));
		return 0;
	}
	key.ino = st.st_ino;
	key.dev = (major(st.st_dev) << 20) | minor(st.st_dev);
	if (bpf_map__update_elem(t->skel->maps.perim_guard_inodes, &key, sizeof(key), v, sizeof(*v), 0)) {
		pr_warn("tracers: guard rule %s (line %d): %s\n", r->prefix, r->line, strerror(errno));
		return -errno;
	}
	return 0;
}

/* Is dir (a rule's PATH, with or without a trailing '/') pin_root or above it? */
static bool covers(const char *dir, const char *pin_root)
{
	size_t len = strlen(dir);

	while (len > 1 && dir[len - 1] == '/')
		len--;
	if (len == 1)
		return true;                /* "/" */
	return !strncmp(dir, pin_root, len) && (pin_root[len] == '\0' || pin_root[len] == '/');
}

/*
 * The first bpf rule over perimd's pin root guards its maps and programs by
 * id: every one perimd holds now, and those it makes or adopts later
 * (pinned_map.c).
 */
static int guard_own_objects(struct perim_tracers *t, const struct perim_guard_config *c, const char *pin_root)
{
	for (int i = 0; pin_root && i < c->n_rules; i++) {
		const struct perim_guard_rule *r = &c->rules[i];
		struct perim_guard_verdict v = { .rule = i, .mode = r->mode };

		if (r->op != PERIM_GUARD_BPF || !covers(r->prefix, pin_root))
			continue;
		perim_guard_objects_start(bpf_map__fd(t->skel->maps.perim_guard_objs), &v);
		return perim_guard_objects_sync();
	}
	return 0;
}

/* One line naming every rule whose LSM hook cannot run here, and why. */
static void warn_unenforced(const struct perim_tracers *t, const struct perim_guard_config *c)
{
	char rules[1024] = "", why[PERIM_HOOK_TEXT + 32] = "";
	size_t used = 0;

	for (int i = 0; i < c->n_rules && used < sizeof(rules); i++) {
		const struct perim_guard_rule *r = &c->rules[i];
		const struct perim_hook_state *h = &t->hooks[guard_op_hooks[r->op]];

		if (h->flavour >= 0)
			continue;
		used += snprintf(rules + used, sizeof(rules) - used, "%s%s %s (line %d)", used ? ", " : "",
				 guard_op_names[r->op], r->prefix, r->line);
		if (!why[0])
			snprintf(why, sizeof(why), "hook %s: %s", h->name, h->reason[0] ? h->reason : "unavailable");
	}
	if (rules[0])
		pr_warn("tracers: guard rules NOT enforced: %s: %s\n", rules, why);
}

/* The guard rail file (guard_rules.h) into the maps; write prefixes into the write filter. */
static int load_guard_rules(struct perim_tracers *t, const char *path, const char *pin_root)
{
	struct perim_guard_config *c = calloc(1, sizeof(*c));
	char why[512];
	uint32_t mask = 0;
	int err;

	if (!c)
		return -ENOMEM;
	err = perim_guard_rules_parse(path, c, why, sizeof(why));
	if (err)
		pr_warn("tracers: guard rules: %s\n", why);
	for (int i = 0; !err && i < c->n_write; i++)
		err = add_write_prefix(t, c->write_prefixes[i]);
	for (int i = 0; !err && i < c->n_rules; i++) {
		const struct perim_guard_rule *r = &c->rules[i];
		struct perim_guard_verdict v = { .rule = i, .mode = r->mode };

		err = add_guard_inode(t, r, &v);
		mask |= 1u << r->op;
	}
	if (!err)
		err = guard_own_objects(t, c, pin_root);
	if (!err) {
		warn_unenforced(t, c);
		t->skel->bss->guard_op_mask = mask;
	}
	free(c);
	return err;
}

static int self_start_ticks(uint64_t *ticks)
{
	return perim_proc_start_ticks("/proc/self/stat", ticks);
}

static int configure_loaded(struct perim_tracers *t, const struct perim_tracers_opts *opts)
{
	uint64_t ticks;
	long hz = sysconf(_SC_CLK_TCK);
	int err;

	err = self_start_ticks(&ticks);
	if (err) {
		pr_warn("tracers: reading perimd's start time: %s\n", strerror(-err));
		return err;
	}
	t->skel->data->self_tick_ns = 1000000000ull / (hz > 0 ? hz : 100);
	t->skel->bss->self_start_ticks = ticks;
	t->skel->bss->self_tgid = getpid();
	for (size_t i = 0; i < sizeof(default_write_prefixes) / sizeof(default_write_prefixes[0]); i++) {
		err = add_write_prefix(t, default_write_prefixes[i]);
		if (err)
			return err;
	}
	if (opts->guard_rules) {
		err = load_guard_rules(t, opts->guard_rules, opts->pin_root);
		if (err)
			return err;
	}
	t->skel->bss->creds_fallback = t->hooks[PERIM_HOOK_CREDS].flavour >= 0 &&
				       !strcmp(t->hooks[PERIM_HOOK_CREDS].family, "tracepoint");
	for (int h = 0; h < PERIM_HOOK_MAX; h++)
		t->skel->bss->hook_on[h] = t->hooks[h].flavour >= 0;
	return 0;
}

static int open_sink(struct perim_tracers *t)
{
	FILE *f;

	if (!t->events_path) {
		t->sink = stdout;
		return 0;
	}
	f = fopen(t->events_path, "ae");
	if (!f) {
		pr_warn("tracers: opening the events file %s: %s\n", t->events_path, strerror(errno));
		return -errno;
	}
	t->sink = f;
	return 0;
}

/* Open the object, size its rings, plan the hooks (rejected programs excluded). */
static int open_and_plan(struct perim_tracers *t, const struct perim_tracers_opts *opts)
{
	LIBBPF_OPTS(bpf_object_open_opts, oo, .btf_custom_path = opts->btf_path);
	unsigned ev_size = EV_RING_DEFAULT, sec_size = SEC_RING_DEFAULT;
	int err;

	err = ring_size_override(&ev_size, &sec_size);
	if (err)
		return err;
	t->skel = perim_trace__open_opts(&oo);
	if (!t->skel) {
		err = -errno;
		pr_warn("tracers: opening the BPF object: %s\n", strerror(-err));
		return err;
	}
	if ((err = bpf_map__set_max_entries(t->skel->maps.perim_ev_ring, ev_size)) ||
	    (err = bpf_map__set_max_entries(t->skel->maps.perim_sec_ring, sec_size))) {
		pr_warn("tracers: sizing the ring buffers: %s\n", strerror(-err));
		return err;
	}
	t->skel->rodata->ev_wakeup_bytes = ev_size / 16;
	t->skel->rodata->sec_wakeup_bytes = sec_size < 4 * 4096 ? sec_size / 4 : 4096;
	return perim_hooks_plan(t->skel->obj, t->hooks, &t->rejects);
}

/* A program the verifier refused: remembered so the next attempt leaves it out. */
static bool reject_program(struct perim_tracers *t, const struct perim_load_failure *f)
{
	struct perim_rejects *rej = &t->rejects;

	if (!f->found || rej->n >= PERIM_REJECTS_MAX)
		return false;
	for (int i = 0; i < rej->n; i++)
		if (!strcmp(rej->r[i].prog, f->prog))
			return false;       /* left out and still failing: something else is wrong */
	snprintf(rej->r[rej->n].prog, sizeof(rej->r[rej->n].prog), "%s", f->prog);
	snprintf(rej->r[rej->n].why, sizeof(rej->r[rej->n].why), "%s", f->why);
	rej->n++;
	return true;
}

/*
 * One program the kernel refuses must not take every hook down: a failed load
 * names the program (libbpf's log), which the next attempt leaves out so its
 * hook falls back to its next flavour. At most PERIM_REJECTS_MAX retries.
 */
static int load_skeleton(struct perim_tracers *t, const struct perim_tracers_opts *opts)
{
	struct perim_load_failure f;
	int err;

	for (;;) {
		err = open_and_plan(t, opts);
		if (err)
			return err;
		perim_load_capture_begin(&f);
		err = perim_trace__load(t->skel);
		perim_load_capture_end();
		if (!err)
			return 0;
		if (!reject_program(t, &f)) {
			pr_warn("tracers: loading the BPF programs: %s%s%s%s%s\n", strerror(-err),
				f.found ? " (program " : "", f.found ? f.prog : "", f.found ? ": " : "",
				f.found ? f.why : "");
			return err;
		}
		pr_warn("tracers: the kernel's verifier rejected program %s: %s; loading without it\n",
			f.prog, f.why);
		perim_trace__destroy(t->skel);
		t->skel = NULL;
	}
}

static int start_draining(struct perim_tracers *t)
{
	int err;

	t->ring_ctx[PERIM_RING_EVENTS] = (struct ring_ctx){ t, PERIM_RING_EVENTS };
	t->ring_ctx[PERIM_RING_SECURITY] = (struct ring_ctx){ t, PERIM_RING_SECURITY };
	t->rb = ring_buffer__new(bpf_map__fd(t->skel->maps.perim_ev_ring), on_sample,
				 &t->ring_ctx[PERIM_RING_EVENTS], NULL);
	if (!t->rb) {
		err = -errno;
		pr_warn("tracers: ring buffer: %s\n", strerror(-err));
		return err;
	}
	err = ring_buffer__add(t->rb, bpf_map__fd(t->skel->maps.perim_sec_ring), on_sample,
			       &t->ring_ctx[PERIM_RING_SECURITY]);
	if (err) {
		pr_warn("tracers: security ring buffer: %s\n", strerror(-err));
		return err;
	}
	t->timer_fd = perim_loop_every(t->loop, DRAIN_INTERVAL_MS, on_drain_timer, t);
	if (t->timer_fd < 0) {
		pr_warn("tracers: drain timer: %s\n", strerror(-t->timer_fd));
		return t->timer_fd;
	}
	if (!held(t)) {
		err = perim_loop_add(t->loop, ring_buffer__epoll_fd(t->rb), EPOLLIN, on_ring_ready, t);
		if (err) {
			pr_warn("tracers: watching the ring buffers: %s\n", strerror(-err));
			return err;
		}
		t->ring_watched = true;
	}
	return 0;
}

int perim_tracers_start(struct perim_loop *loop, const struct perim_tracers_opts *opts,
			struct perim_tracers **out)
{
	struct perim_tracers *t = calloc(1, sizeof(*t));
	int err, n;

	*out = NULL;
	if (!t)
		return -ENOMEM;
	t->loop = loop;
	t->timer_fd = -1;
	t->backlogs[BACKLOG_TRACERS] = (struct backlog){ t->tracer_backlog, BACKLOG_MAX, 0 };
	t->backlogs[BACKLOG_DROPS] = (struct backlog){ t->drop_backlog, DROP_BACKLOG_MAX, 0 };
	t->hold_file = getenv("PERIM_TEST_HOLD_FILE");
	for (int i = 0; i < SUBSCRIBERS_MAX; i++)
		t->subs[i].fd = -1;
	t->ncpus = libbpf_num_possible_cpus();
	if (t->ncpus <= 0) {
		err = t->ncpus ? t->ncpus : -EINVAL;
		pr_warn("tracers: counting CPUs: %s\n", strerror(-err));
		goto fail;
	}
	for (int r = 0; r < PERIM_RING_COUNT; r++) {
		t->next_seq[r] = calloc(t->ncpus, sizeof(uint64_t));
		if (!t->next_seq[r]) {
			err = -ENOMEM;
			goto fail;
		}
	}
	if (opts->events_path && strcmp(opts->events_path, "-")) {
		t->events_path = strdup(opts->events_path);
		if (!t->events_path) {
			err = -ENOMEM;
			goto fail;
		}
	}
	err = open_sink(t);
	if (err)
		goto fail;
	t->procs = perim_proctable_new(PROC_MAX, PROC_GRACE_NS);
	if (!t->procs) {
		err = -ENOMEM;
		goto fail;
	}
	t->jctx.procs = t->procs;
	t->listeners = perimd_listeners_new("/proc");
	t->dumps = perimd_dumps_new(loop);
	if (!t->listeners || !t->dumps) {
		err = -ENOMEM;
		goto fail;
	}
	err = perim_proctable_synthesize_from_env(t->procs);
	if (err)
		goto fail;
	t->jctx.realtime_minus_monotonic_ns = realtime_minus_monotonic();
	err = load_skeleton(t, opts);
	if (err)
		goto fail;
	err = configure_loaded(t, opts);
	if (err)
		goto fail;
	/* Scan before attaching would miss processes born in between; after, events win. */
	perim_hooks_attach(t->skel->obj, t->hooks);
	perim_hooks_report(t->hooks);
	n = perim_proctable_scan(t->procs, "/proc");
	if (n < 0)
		pr_warn("tracers: scanning /proc: %s\n", strerror(-n));
	n = perimd_listeners_scan(t->listeners);
	if (n < 0)
		pr_warn("tracers: scanning /proc/net/{tcp,udp} for listeners: %s\n", strerror(-n));
	err = start_draining(t);
	if (err)
		goto fail;
	*out = t;
	return 0;
fail:
	perim_tracers_stop(t);
	return err;
}

void perim_tracers_stop(struct perim_tracers *t)
{
	if (!t)
		return;
	if (t->rb) {
		if (t->ring_watched)
			perim_loop_del(t->loop, ring_buffer__epoll_fd(t->rb));
		ring_buffer__consume(t->rb);
	}
	if (t->timer_fd >= 0)
		perim_loop_del(t->loop, t->timer_fd);
	for (int i = 0; i < SUBSCRIBERS_MAX; i++)
		if (t->subs[i].fd >= 0)
			subscriber_drop(t, &t->subs[i]);
	perimd_dumps_free(t->dumps);
	perim_hooks_detach(t->hooks);
	perim_guard_objects_stop();
	ring_buffer__free(t->rb);
	perim_trace__destroy(t->skel);
	perim_proctable_free(t->procs);
	perimd_listeners_free(t->listeners);
	if (t->sink && t->sink != stdout)
		fclose(t->sink);
	else if (t->sink)
		fflush(t->sink);
	for (int i = 0; i < BACKLOG_MAX; i++)
		free(t->tracer_backlog[i].json);
	for (int i = 0; i < DROP_BACKLOG_MAX; i++)
		free(t->drop_backlog[i].json);
	for (int r = 0; r < PERIM_RING_COUNT; r++)
		free(t->next_seq[r]);
	free(t->events_path);
	free(t);
}

/* ---- control ---- */

static int hook_counters(struct perim_tracers *t, int hook, struct perim_hook_counters *sum)
{
	struct perim_hook_counters *per_cpu = calloc(t->ncpus, sizeof(*per_cpu));
	uint32_t key = hook;
	int err = 0;

	memset(sum, 0, sizeof(*sum));
	if (!per_cpu)
		return -ENOMEM;
	if (bpf_map__lookup_elem(t->skel->maps.perim_hook_stats, &key, sizeof(key), per_cpu,
				 sizeof(*per_cpu) * t->ncpus, 0)) {
		err = -errno;
	} else {
		for (int c = 0; c < t->ncpus; c++) {
			sum->generated += per_cpu[c].generated;
			sum->lost += per_cpu[c].lost;
		}
	}
	free(per_cpu);
	return err;
}

struct json_object *perim_tracers_hooks_json(struct perim_tracers *t)
{
	struct json_object *arr = json_object_new_array();

	for (int h = 0; h < PERIM_HOOK_MAX; h++) {
		struct json_object *o = perim_hook_json(&t->hooks[h]);
		struct perim_hook_counters c;

		if (hook_counters(t, h, &c) == 0) {
			json_object_object_add(o, "generated", json_object_new_uint64(c.generated));
			json_object_object_add(o, "lost", json_object_new_uint64(c.lost));
		}
		json_object_object_add(o, "delivered", json_object_new_uint64(t->delivered[h]));
		json_object_array_add(arr, o);
	}
	return arr;
}

int perim_tracers_reopen(struct perim_tracers *t)
{
	FILE *old = t->sink;
	int err;

	if (!t->events_path)
		return 0;
	fflush(old);
	err = open_sink(t);
	if (err) {
		t->sink = old;
		return err;
	}
	fclose(old);
	return 0;
}

static int parse_types(const char *types, uint32_t *mask, char *bad, size_t badlen)
{
	char buf[256], *save = NULL, *tok;

	if (!types || !types[0]) {
		*mask = ~0u;
		return 0;
	}
	*mask = 0;
	snprintf(buf, sizeof(buf), "%s", types);
	for (tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		int type = perim_ev_type_parse(tok);

		if (type < 0) {
			snprintf(bad, badlen, "%s", tok);
			return -EINVAL;
		}
		*mask |= 1u << type;
	}
	return 0;
}

static struct json_object *status_json(int status, const char *error)
{
	struct json_object *o = json_object_new_object(), *result;

	json_object_object_add(o, "status", json_object_new_int(status));
	if (error) {
		json_object_object_add(o, "error", json_object_new_string(error));
	} else {
		result = json_object_new_object();
		json_object_object_add(result, "streaming", json_object_new_boolean(1));
		json_object_object_add(o, "result", result);
	}
	return o;
}

static int send_status(int fd, int status, const char *error)
{
	struct json_object *o = status_json(status, error);
	const char *text = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN);
	int err = perim_proto_send(fd, text, strlen(text));

	json_object_put(o);
	return err;
}

static int on_subscriber_readable(void *ctx, int fd, uint32_t events)
{
	struct perim_tracers *t = ctx;
	char buf[64];

	/* A follower sends nothing: readable means it hung up (or misbehaves). */
	if (read(fd, buf, sizeof(buf)) > 0 && !(events & (EPOLLHUP | EPOLLRDHUP)))
		return 0;
	for (int i = 0; i < SUBSCRIBERS_MAX; i++)
		if (t->subs[i].fd == fd)
			subscriber_drop(t, &t->subs[i]);
	return 0;
}

/* The oldest entry of bl from its i-th on (i counts from the oldest), or NULL. */
static struct backlog_entry *backlog_at(struct backlog *bl, unsigned *i)
{
	for (; *i < bl->cap; ++*i) {
		struct backlog_entry *b = &bl->e[(bl->next + *i) % bl->cap];

		if (b->json)
			return b;
	}
	return NULL;
}

/* The answer and the matching backlog as framed messages, both backlogs merged in publication order. */
static int frame_backlog(struct perim_tracers *t, uint32_t mask, struct perimd_frames *f)
{
	struct json_object *o = status_json(0, NULL);
	const char *text = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN);
	int err = perimd_frames_add(f, text, strlen(text));
	unsigned pos[BACKLOG_COUNT] = { 0 };

	json_object_put(o);
	while (!err) {
		struct backlog_entry *b = NULL;
		int from = -1;

		for (int k = 0; k < BACKLOG_COUNT; k++) {
			struct backlog_entry *c = backlog_at(&t->backlogs[k], &pos[k]);

			if (c && (!b || c->order < b->order)) {
				b = c;
				from = k;
			}
		}
		if (!b)
			break;
		pos[from]++;
		if (mask & (1u << b->type))
			err = perimd_frames_add(f, b->json, strlen(b->json));
	}
	return err;
}

/*
 * Written from the loop as the reader takes it (events_dump.h): a blocking
 * or timed send would either stall every other client or cut the tail off
 * for a reader slower than the timeout.
 */
static int dump_backlog(struct perim_tracers *t, int fd, uint32_t mask)
{
	struct perimd_frames f = { 0 };
	int err, fl;

	/* never a blocking write from the loop, whatever the socket was left as */
	fl = fcntl(fd, F_GETFL);
	if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK)) {
		err = -errno;
		pr_warn("tracers: events dump: making the socket non-blocking: %s\n", strerror(-err));
		close(fd);
		return err;
	}
	if (perimd_dumps_running(t->dumps) >= PERIMD_DUMPS_MAX) {
		send_status(fd, 1, "Error: too many `events` dumps in progress; try again");
		close(fd);
		return -EBUSY;
	}
	err = frame_backlog(t, mask, &f);
	if (err) {
		perimd_frames_free(&f);
		send_status(fd, 1, "Error: out of memory for the events dump");
		close(fd);
		return err;
	}
	return perimd_dumps_start(t->dumps, fd, &f);
}

int perim_tracers_subscribe(struct perim_tracers *t, int fd, const char *types, int follow)
{
	struct timeval tv = { 0, SUBSCRIBER_SEND_TIMEOUT_MS * 1000 };
	char bad[128], msg[512];
	uint32_t mask;
	int err, slot = -1;

	if (parse_types(types, &mask, bad, sizeof(bad))) {
		snprintf(msg, sizeof(msg), "Error: argument \"%s\" is wrong: event types are "
			 "exec,fork,exit,signal,connect,accept,sock_state,ptrace,module,bpf,setid,mount,file,creds,guard,bind,lost,xdp_drop",
			 bad);
		send_status(fd, 2, msg);
		close(fd);
		return -EINVAL;
	}
	drain(t);
	if (!follow)
		return dump_backlog(t, fd, mask);
	/* A stalled reader must not stall the daemon: give up on it instead. */
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	err = send_status(fd, 0, NULL);
	if (err) {
		close(fd);
		return err;
	}
	for (int i = 0; i < SUBSCRIBERS_MAX && slot < 0; i++)
		if (t->subs[i].fd < 0)
			slot = i;
	if (slot < 0) {
		close(fd);
		return -EMFILE;
	}
	err = perim_loop_add(t->loop, fd, EPOLLIN | EPOLLRDHUP, on_subscriber_readable, t);
	if (err) {
		close(fd);
		return err;
	}
	t->subs[slot].fd = fd;
	t->subs[slot].types = mask;
	return 0;
}
