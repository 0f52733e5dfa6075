// SPDX-License-Identifier: GPL-2.0
/*
 * The tracing side of perimd (tracers.h): load tracers/perim_trace.bpf.c and
 * configure it (load.c, guard_setup.c), attach what the kernel offers
 * (hooks.c), seed the process tables from /proc, then drain (drain.c).
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/libbpf.h>

#include "perim_events.h"
#include "tracers/perim_trace.skel.h"
#include "log.h"
#include "procs/listeners.h"
#include "procs/proctable.h"
#include "tracing/drain.h"
#include "tracing/guard_objects.h"
#include "tracing/hooks.h"
#include "tracing/load.h"
#include "tracing/tracers.h"

struct perim_tracers {
	struct perim_trace *skel;
	struct perim_hook_state hooks[PERIM_HOOK_MAX];
	struct perim_rejects rejects;      /* programs the verifier refused */
	struct perim_drain *drain;
	int ncpus;
};

__attribute__((weak)) int perim_tracers_test_opts(struct perim_tracers_opts *opts)
{
	return 0;
}

static void seed_tables(const struct perim_tracers_opts *opts)
{
	int n = perim_proctable_scan(opts->procs, "/proc");

	if (n < 0)
		pr_warn("tracers: scanning /proc: %s\n", strerror(-n));
	n = perimd_listeners_scan(opts->listeners);
	if (n < 0)
		pr_warn("tracers: scanning /proc/net/{tcp,udp} for listeners: %s\n", strerror(-n));
}

int perim_tracers_start(struct perim_loop *loop, const struct perim_tracers_opts *opts,
			struct perim_tracers **out)
{
	struct perim_tracers *t = calloc(1, sizeof(*t));
	struct perim_tracers_opts o = *opts;
	struct perim_drain_opts dopts;
	int err;

	*out = NULL;
	if (!t)
		return -ENOMEM;
	err = perim_tracers_test_opts(&o);
	if (err)
		goto fail;
	opts = &o;
	dopts = (struct perim_drain_opts){
		.bus = opts->bus, .procs = opts->procs, .listeners = opts->listeners, .held = opts->held,
	};
	t->ncpus = libbpf_num_possible_cpus();
	if (t->ncpus <= 0) {
		err = t->ncpus ? t->ncpus : -EINVAL;
		pr_warn("tracers: counting CPUs: %s\n", strerror(-err));
		goto fail;
	}
	err = perim_tracing_load(opts->btf_path, opts->ring_bytes, t->hooks, &t->rejects, &t->skel);
	if (err)
		goto fail;
	err = perim_tracing_configure(t->skel, t->hooks, opts->guard_rules, opts->pin_root);
	if (err)
		goto fail;
	/* Scan before attaching would miss processes born in between; after, events win. */
	perim_hooks_attach(t->skel->obj, t->hooks);
	perim_hooks_report(t->hooks);
	seed_tables(opts);
	dopts.ev_ring_fd = bpf_map__fd(t->skel->maps.perim_ev_ring);
	dopts.sec_ring_fd = bpf_map__fd(t->skel->maps.perim_sec_ring);
	err = perim_drain_start(loop, &dopts, &t->drain);
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
	perim_drain_stop(t->drain);
	perim_hooks_detach(t->hooks);
	perim_guard_objects_stop();
	perim_trace__destroy(t->skel);
	free(t);
}

void perim_tracers_drain(struct perim_tracers *t)
{
	perim_drain_now(t->drain);
}

/* ---- status ---- */

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
		json_object_object_add(o, "delivered", json_object_new_uint64(perim_drain_delivered(t->drain, h)));
		json_object_array_add(arr, o);
	}
	return arr;
}
