// SPDX-License-Identifier: GPL-2.0
/*
 * ev_ref: the reference consumer of perimd's event storms. It loads and
 * attaches perimd's own tracers (tracers/perim_trace.bpf.c, through
 * ctl/perimd/tracing/load.c and hooks.c), drains both rings every 50 ms (or
 * at the programs' wakeup) as perimd does, and writes every event as the
 * same JSON line with json-c (events_json.c), to stdout: no process table,
 * so no enrichment (exe and argv null), no sequence tracking, no backlog,
 * no followers. Its CPU per event is what the machine charges for draining
 * and printing; perimd's above it is perimd's own.
 *
 *   ev_ref > /dev/null      prints "ready" to stderr once attached, and
 *                           "events=N generated=G lost=L" on each SIGUSR1
 *                           (written; generated and lost by the hooks, as
 *                           perimctl status counts them); ends on SIGTERM
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <bpf/libbpf.h>
#include <json-c/json.h>

#include "perim_events.h"
#include "tracers/perim_trace.skel.h"
#include "events/events_json.h"
#include "tracing/hooks.h"
#include "tracing/load.h"

#define DRAIN_INTERVAL_MS 50

static volatile sig_atomic_t stop, report;

static void on_stop(int sig)
{
	stop = 1;
}

static void on_report(int sig)
{
	report = 1;
}

struct ref {
	struct perim_ev_json_ctx ctx;
	struct perim_ev_json_cache cache;
	unsigned long long events;
};

static int on_sample(void *arg, void *data, size_t size)
{
	struct ref *r = arg;
	struct json_object *o = perim_ev_json(&r->ctx, data, size);
	const char *text;
	size_t len;

	if (!o)
		return 0;
	text = json_object_to_json_string_length(o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE, &len);
	if (fwrite(text, 1, len, stdout) != len || fputc('\n', stdout) == EOF)
		fprintf(stderr, "ev_ref: writing: %s\n", strerror(errno));
	json_object_put(o);
	r->events++;
	return 0;
}

static int64_t realtime_minus_monotonic(void)
{
	struct timespec rt, mono;

	clock_gettime(CLOCK_REALTIME, &rt);
	clock_gettime(CLOCK_MONOTONIC, &mono);
	return (rt.tv_sec - mono.tv_sec) * 1000000000ll + (rt.tv_nsec - mono.tv_nsec);
}

/* The hooks' generated and lost counts, summed over hooks and CPUs: 0 or -errno. */
static int hook_totals(struct perim_trace *skel, unsigned long long *generated, unsigned long long *lost)
{
	int ncpus = libbpf_num_possible_cpus();
	struct perim_hook_counters *per_cpu;
	int err = 0;

	if (ncpus <= 0)
		return ncpus ? ncpus : -EINVAL;
	per_cpu = calloc(ncpus, sizeof(*per_cpu));
	if (!per_cpu)
		return -ENOMEM;
	*generated = *lost = 0;
	for (uint32_t hook = 0; hook < PERIM_HOOK_MAX && !err; hook++) {
		if (bpf_map__lookup_elem(skel->maps.perim_hook_stats, &hook, sizeof(hook), per_cpu,
					 sizeof(*per_cpu) * ncpus, 0)) {
			err = -errno;
			break;
		}
		for (int c = 0; c < ncpus; c++) {
			*generated += per_cpu[c].generated;
			*lost += per_cpu[c].lost;
		}
	}
	free(per_cpu);
	return err;
}

static void say_counts(struct perim_trace *skel, const struct ref *r)
{
	unsigned long long generated, lost;
	int err = hook_totals(skel, &generated, &lost);

	if (err)
		fprintf(stderr, "ev_ref: reading the hook counters: %s\n", strerror(-err));
	else
		fprintf(stderr, "events=%llu generated=%llu lost=%llu\n", r->events, generated, lost);
}

static int drain_until_stopped(struct perim_trace *skel, struct ref *r)
{
	struct ring_buffer *rb = ring_buffer__new(bpf_map__fd(skel->maps.perim_ev_ring), on_sample, r, NULL);
	int err;

	if (!rb) {
		fprintf(stderr, "ev_ref: ring buffer: %s\n", strerror(errno));
		return 1;
	}
	err = ring_buffer__add(rb, bpf_map__fd(skel->maps.perim_sec_ring), on_sample, r);
	if (err) {
		fprintf(stderr, "ev_ref: security ring buffer: %s\n", strerror(-err));
		ring_buffer__free(rb);
		return 1;
	}
	fprintf(stderr, "ready\n");
	while (!stop) {
		err = ring_buffer__poll(rb, DRAIN_INTERVAL_MS);
		if (err < 0 && err != -EINTR) {
			fprintf(stderr, "ev_ref: draining: %s\n", strerror(-err));
			break;
		}
		fflush(stdout);
		if (report) {
			report = 0;
			say_counts(skel, r);
		}
	}
	ring_buffer__free(rb);
	return err < 0 && err != -EINTR;
}

int main(void)
{
	struct perim_hook_state hooks[PERIM_HOOK_MAX] = { 0 };
	struct perim_rejects rejects = { 0 };
	struct perim_trace *skel = NULL;
	static struct ref r;
	int err;

	signal(SIGTERM, on_stop);
	signal(SIGINT, on_stop);
	signal(SIGUSR1, on_report);
	r.ctx = (struct perim_ev_json_ctx){ .realtime_minus_monotonic_ns = realtime_minus_monotonic(), .cache = &r.cache };
	err = perim_tracing_load(NULL, 0, hooks, &rejects, &skel);
	if (!err)
		err = perim_tracing_configure(skel, hooks, NULL, NULL);
	if (err) {
		fprintf(stderr, "ev_ref: loading perimd's tracers: %s\n", strerror(-err));
		perim_trace__destroy(skel);
		return 1;
	}
	perim_hooks_attach(skel->obj, hooks);
	err = drain_until_stopped(skel, &r);
	perim_hooks_detach(hooks);
	perim_ev_json_cache_clear(&r.cache);
	perim_trace__destroy(skel);
	return err;
}
