// SPDX-License-Identifier: GPL-2.0
/*
 * ev_ref: the reference consumer of perimd's event storms. It loads and
 * attaches perimd's own tracers (tracers/perim_trace.bpf.c, through
 * ctl/perimd/tracing/load.c and hooks.c), drains both rings every 50 ms (or
 * at the programs' wakeup) as perimd does, and writes every event as the
 * same JSON line (events_json.c, json_text.c), to stdout: no process table,
 * so no enrichment (exe and argv null), no sequence tracking, no backlog,
 * no followers. Its CPU per event is what the machine charges for draining
 * and printing; perimd's above it is perimd's own.
 *
 * With --drops, it also drains the datapath's pinned drop-sample ring and
 * writes each sample as perimd's "xdp_drop" line (events_json.c), naming DEV
 * for every slot and no listener: perimd also looks up the local listener
 * the drop was aimed at (procs/listeners.c) and adds it to top's window
 * (telemetry/drops_agg.c); here neither.
 *
 *   ev_ref [--drops PIN DEV] > /dev/null
 *                           prints "ready" to stderr once attached, and on
 *                           each SIGUSR1 "kinds=exec:N,...,xdp_drop:N" (written,
 *                           per hook) then "events=N generated=G lost=L"
 *                           (written; generated and lost by the hooks, as
 *                           perimctl status counts them, plus the samples put
 *                           on the drop ring since ev_ref started); ends on SIGTERM
 */
#include <errno.h>
#include <stdbool.h>
#include <signal.h>
#include <unistd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <json-c/json.h>
#include <json-c/printbuf.h>

#include "perim_drops.h"
#include "perim_events.h"
#include "tracers/perim_trace.skel.h"
#include "events/events_json.h"
#include "tracing/hooks.h"
#include "tracing/load.h"
#include "telemetry/drops_agg.h"
#include "telemetry/ring_pos.h"

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
	struct printbuf *line;             /* the line being written, reused */
	unsigned long long events;
	unsigned long long per_hook[PERIM_HOOK_MAX];
	unsigned long long drops;          /* xdp_drop lines written */
	const char *drops_dev;             /* --drops: the name every sample's slot gets */
	int drops_fd;                      /* the pinned drop ring, -1 without --drops */
	uint64_t drops_start;              /* its consumer position when ev_ref started */
};

/* r->line (an event's line, as perimd's bus writes it) to stdout; false when it could not be written */
static bool write_line(struct ref *r, int rendered)
{
	size_t len = (size_t)r->line->bpos;

	if (rendered)
		return false;
	if (fwrite(r->line->buf, 1, len, stdout) != len || fputc('\n', stdout) == EOF)
		fprintf(stderr, "ev_ref: writing: %s\n", strerror(errno));
	return true;
}

static int on_sample(void *arg, void *data, size_t size)
{
	struct ref *r = arg;
	const struct perim_ev_hdr *h = data;

	printbuf_reset(r->line);
	if (!write_line(r, perim_ev_text(&r->ctx, data, size, r->line)))
		return 0;
	r->events++;
	if (h->hook < PERIM_HOOK_MAX)
		r->per_hook[h->hook]++;
	return 0;
}

/* A drop sample as perimd's xdp_drop line, without the listener lookup (null, as for a port nobody listens on). */
static int on_drop(void *arg, void *data, size_t size)
{
	struct ref *r = arg;
	const struct perim_drop_event *e = data;

	if (size < sizeof(*e))
		return 0;
	printbuf_reset(r->line);
	if (!write_line(r, perim_xdp_drop_text(&r->ctx, e, r->drops_dev, perimd_drop_reason_name(e->reason), 0, 0,
					       r->line)))
		return 0;
	r->events++;
	r->drops++;
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

/* Samples put on the drop ring since ev_ref started: 0 or -errno. */
static int drops_sent(const struct ref *r, unsigned long long *sent)
{
	uint64_t consumer, producer;
	int err;

	*sent = 0;
	if (r->drops_fd < 0)
		return 0;
	err = perim_ring_positions(r->drops_fd, &consumer, &producer);
	if (!err)
		*sent = (producer - r->drops_start) / PERIM_RING_RECORD_BYTES(sizeof(struct perim_drop_event));
	return err;
}

static void say_kinds(const struct ref *r)
{
	static const char *const names[PERIM_HOOK_MAX] = PERIM_HOOK_NAMES;
	const char *sep = "";

	fprintf(stderr, "kinds=");
	for (int h = 0; h < PERIM_HOOK_MAX; h++, sep = ",")
		fprintf(stderr, "%s%s:%llu", sep, names[h], r->per_hook[h]);
	fprintf(stderr, ",xdp_drop:%llu\n", r->drops);
}

static void say_counts(struct perim_trace *skel, const struct ref *r)
{
	unsigned long long generated, lost, sent;
	int err = hook_totals(skel, &generated, &lost);

	if (err) {
		fprintf(stderr, "ev_ref: reading the hook counters: %s\n", strerror(-err));
		return;
	}
	err = drops_sent(r, &sent);
	if (err) {
		fprintf(stderr, "ev_ref: reading the drop ring's position: %s\n", strerror(-err));
		return;
	}
	say_kinds(r);
	fprintf(stderr, "events=%llu generated=%llu lost=%llu\n", r->events, generated + sent, lost);
}

static int drain_until_stopped(struct perim_trace *skel, struct ref *r)
{
	struct ring_buffer *rb = ring_buffer__new(bpf_map__fd(skel->maps.perim_ev_ring), on_sample, r, NULL);
	struct ring_buffer *drops_rb = NULL;
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
	/* The datapath submits samples without a wakeup: drained each round, as perimd's timer does. */
	if (r->drops_fd >= 0 && !(drops_rb = ring_buffer__new(r->drops_fd, on_drop, r, NULL))) {
		fprintf(stderr, "ev_ref: drop ring: %s\n", strerror(errno));
		ring_buffer__free(rb);
		return 1;
	}
	fprintf(stderr, "ready\n");
	while (!stop) {
		/*
		 * poll consumes only a ring that woke it; the hooks wake at a mark a
		 * concurrent producer can step over, so the timer drains too (perimd's
		 * drain timer does the same).
		 */
		err = ring_buffer__poll(rb, DRAIN_INTERVAL_MS);
		if (err >= 0 || err == -EINTR)
			err = ring_buffer__consume(rb);
		if (err < 0 && err != -EINTR) {
			fprintf(stderr, "ev_ref: draining: %s\n", strerror(-err));
			break;
		}
		if (drops_rb && (err = ring_buffer__consume(drops_rb)) < 0) {
			fprintf(stderr, "ev_ref: draining the drop ring: %s\n", strerror(-err));
			break;
		}
		fflush(stdout);
		if (report) {
			report = 0;
			say_counts(skel, r);
		}
	}
	ring_buffer__free(drops_rb);
	ring_buffer__free(rb);
	return err < 0 && err != -EINTR;
}

/* --drops PIN DEV: the pinned drop ring, and where its drains start. 0, or 1 after saying why. */
static int open_drops(struct ref *r, const char *pin, const char *dev)
{
	uint64_t producer;
	int err;

	r->drops_dev = dev;
	r->drops_fd = bpf_obj_get(pin);
	if (r->drops_fd < 0) {
		fprintf(stderr, "ev_ref: %s: %s\n", pin, strerror(errno));
		return 1;
	}
	err = perim_ring_positions(r->drops_fd, &r->drops_start, &producer);
	if (err) {
		fprintf(stderr, "ev_ref: %s: reading its positions: %s\n", pin, strerror(-err));
		return 1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct perim_hook_state hooks[PERIM_HOOK_MAX] = { 0 };
	struct perim_rejects rejects = { 0 };
	struct perim_trace *skel = NULL;
	static struct ref r = { .drops_fd = -1 };
	int err;

	if (argc == 4 && !strcmp(argv[1], "--drops")) {
		if (open_drops(&r, argv[2], argv[3]))
			return 1;
	} else if (argc != 1) {
		fprintf(stderr, "usage: ev_ref [--drops PIN DEV]\n");
		return 2;
	}

	r.line = printbuf_new();
	if (!r.line) {
		fprintf(stderr, "ev_ref: out of memory\n");
		err = 1;
		goto out;
	}
	signal(SIGTERM, on_stop);
	signal(SIGINT, on_stop);
	signal(SIGUSR1, on_report);
	r.ctx = (struct perim_ev_json_ctx){ .realtime_minus_monotonic_ns = realtime_minus_monotonic(), .cache = &r.cache };
	err = perim_tracing_load(NULL, 0, hooks, &rejects, &skel);
	if (!err)
		err = perim_tracing_configure(skel, hooks, NULL, NULL);
	if (err) {
		fprintf(stderr, "ev_ref: loading perimd's tracers: %s\n", strerror(-err));
		err = 1;
		goto out;
	}
	perim_hooks_attach(skel->obj, hooks);
	err = drain_until_stopped(skel, &r);
	perim_hooks_detach(hooks);
out:
	if (r.line)
		printbuf_free(r.line);
	perim_trace__destroy(skel);
	if (r.drops_fd >= 0)
		close(r.drops_fd);
	return err;
}
