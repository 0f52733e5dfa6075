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
 *                           "events=N" on each SIGUSR1; ends on SIGTERM
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
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
			fprintf(stderr, "events=%llu\n", r->events);
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
