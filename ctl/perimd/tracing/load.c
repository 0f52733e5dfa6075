// SPDX-License-Identifier: GPL-2.0
/* Loading and configuring the tracer object (load.h). */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <bpf/libbpf.h>

#include "perim_events.h"
#include "tracers/perim_trace.skel.h"
#include "datapath/loadfail.h"
#include "log.h"
#include "procs/proctable.h"
#include "tracing/guard_setup.h"
#include "tracing/hooks.h"
#include "tracing/load.h"

/*
 * A ring's data pages are mapped twice into perimd (libbpf's wrap-around
 * view), so each counts twice in its RSS: 2 MiB of events cost 4 MiB.
 * The program whose record crosses a ring's wakeup mark pays the wakeup (a
 * self-IPI, ~25-35 us in a VM), so the mark sits where the 50 ms drain timer
 * alone keeps the ring below it at every storm the benchmarks run: at 1/16
 * (128 KiB) an exec storm (~1.1 KB of events per exec) crossed it every ~120
 * execs, 150-200 ns on each exec's hook (bench, section_tracers: the exec
 * reference with perim's mark at 1/16, 1/4 and 1/2 of the ring, side by side:
 * 665, 500 and 475 ns/run, the reference without a mark 450). At 1/4 (512 KiB)
 * the timer keeps up with 10 MB/s of events without a wakeup, and 1.5 MiB of
 * headroom stays: perimd may stall ~150 ms at that rate before an event is
 * lost. The security ring wakes at 1/4 (128 KiB) too: its records are big
 * (a mount's is 640 bytes), so at 1/16 a mount storm paid a wakeup every 50
 * mounts, a third of each mount's cost in the kernel.
 */
#define EV_WAKEUP_FRACTION 4
#define SEC_WAKEUP_FRACTION 4
#define EV_RING_DEFAULT (2u << 20)
#define SEC_RING_DEFAULT (512u << 10)

/* One load in progress. */
struct loading {
	const char *btf_path;
	unsigned ring_bytes;                  /* 0 = the defaults */
	struct perim_hook_state *hooks;
	struct perim_rejects *rejects;
	struct perim_trace *skel;
};

static int self_start_ticks(uint64_t *ticks)
{
	return perim_proc_start_ticks("/proc/self/stat", ticks);
}

int perim_tracing_configure(struct perim_trace *skel, const struct perim_hook_state hooks[PERIM_HOOK_MAX],
			    const char *guard_rules, const char *pin_root)
{
	uint64_t ticks;
	long hz = sysconf(_SC_CLK_TCK);
	int err;

	err = self_start_ticks(&ticks);
	if (err) {
		pr_warn("tracers: reading perimd's start time: %s\n", strerror(-err));
		return err;
	}
	skel->data->self_tick_ns = 1000000000ull / (hz > 0 ? hz : 100);
	skel->bss->self_start_ticks = ticks;
	skel->bss->self_tgid = getpid();
	err = perim_guard_setup(skel, hooks, guard_rules, pin_root);
	if (err)
		return err;
	skel->bss->creds_fallback = hooks[PERIM_HOOK_CREDS].flavour >= 0 &&
				    !strcmp(hooks[PERIM_HOOK_CREDS].family, "tracepoint");
	for (int h = 0; h < PERIM_HOOK_MAX; h++)
		skel->bss->hook_on[h] = hooks[h].flavour >= 0;
	return 0;
}

/* Open the object, size its rings, plan the hooks (rejected programs excluded). */
static int open_and_plan(struct loading *t)
{
	LIBBPF_OPTS(bpf_object_open_opts, oo, .btf_custom_path = t->btf_path);
	unsigned ev_size = t->ring_bytes ? t->ring_bytes : EV_RING_DEFAULT;
	unsigned sec_size = t->ring_bytes ? t->ring_bytes : SEC_RING_DEFAULT;
	int err;

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
	t->skel->rodata->ev_wakeup_bytes = ev_size / EV_WAKEUP_FRACTION;
	t->skel->rodata->sec_wakeup_bytes = sec_size / SEC_WAKEUP_FRACTION;
	return perim_hooks_plan(t->skel->obj, t->hooks, t->rejects);
}

/* A program the verifier refused: remembered so the next attempt leaves it out. */
static bool reject_program(struct loading *t, const struct perim_load_failure *f)
{
	struct perim_rejects *rej = t->rejects;

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
static int load_skeleton(struct loading *t)
{
	struct perim_load_failure f;
	int err;

	for (;;) {
		err = open_and_plan(t);
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

int perim_tracing_load(const char *btf_path, unsigned ring_bytes, struct perim_hook_state hooks[PERIM_HOOK_MAX],
		       struct perim_rejects *rejects, struct perim_trace **skel)
{
	struct loading l = { .btf_path = btf_path, .ring_bytes = ring_bytes, .hooks = hooks, .rejects = rejects };
	int err = load_skeleton(&l);

	if (err) {
		perim_trace__destroy(l.skel);
		return err;
	}
	*skel = l.skel;
	return 0;
}
