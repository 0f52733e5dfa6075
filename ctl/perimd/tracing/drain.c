// SPDX-License-Identifier: GPL-2.0
/*
 * Draining the tracer rings (drain.h). Programs submit without waking the
 * reader unless the ring holds more than a threshold (1/4 of either ring:
 * load.c), and
 * perimd drains on a DRAIN_INTERVAL_MS timer. An event therefore waits at most
 * DRAIN_INTERVAL_MS (plus the time to handle what is queued before it); a
 * burst wakes perimd early, paying the ~25 us wakeup once per batch.
 */
#include <errno.h>
#include <malloc.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <bpf/libbpf.h>
#include <json-c/json.h>

#include "perim_events.h"
#include "events/bus.h"
#include "events/events_json.h"
#include "log.h"
#include "loop.h"
#include "names.h"
#include "procs/proc_events.h"
#include "procs/proctable.h"
#include "tracing/drain.h"

#define DRAIN_INTERVAL_MS 50
/*
 * Events handled per ring and turn of the loop: under a storm faster than
 * perimd, libbpf's consume would read until the producers pause, and
 * commands would wait seconds. Each ring has its own ring_buffer (libbpf 1.1
 * cannot consume one ring of several), so a storm on one does not starve
 * the other; the loop's epoll is level-triggered and comes back at once.
 */
#define DRAIN_BATCH_EVENTS 4096
#define DRAIN_BUDGET_SPENT (-EAGAIN)
#define EVICT_EVERY_TICKS 20           /* once a second */
/*
 * Memory a burst freed (its events' text, exited processes evicted) goes
 * back to the system once the burst is over: a second with fewer than
 * QUIET_EVENTS events after at least BURST_RELEASES events or evictions.
 */
#define BURST_RELEASES 10000
#define QUIET_EVENTS 1000

struct ring_ctx {
	struct perim_drain *t;
	int ring;
};

struct perim_drain {
	struct perim_loop *loop;
	struct ring_buffer *rb[PERIM_RING_COUNT];
	struct ring_ctx ring_ctx[PERIM_RING_COUNT];
	struct perimd_bus *bus;
	struct perim_proctable *procs;
	struct perimd_listeners *listeners;   /* sock_state and bind events keep it (drop attribution) */
	bool (*held)(void);
	int ncpus;
	uint64_t *next_seq[PERIM_RING_COUNT]; /* per CPU: the seq expected next */
	uint64_t gaps[PERIM_RING_COUNT];
	uint64_t delivered[PERIM_HOOK_MAX];
	int timer_fd;
	bool ring_watched;
	unsigned ticks;
	uint64_t batch_ns;                 /* when the batch being drained began (CLOCK_MONOTONIC) */
	unsigned batch_events, batch_max;  /* handled in this batch; its bound (0: none) */
	uint64_t events;                   /* handled, all rings */
	uint64_t events_at_tick;           /* events at the last 1 Hz tick */
	uint64_t since_trim;               /* events and evictions since the heap was last trimmed */
};

static void track_seq(struct perim_drain *t, const struct perim_ev_hdr *h)
{
	uint64_t *expect;

	if (h->cpu >= t->ncpus || h->ring >= PERIM_RING_COUNT)
		return;
	expect = &t->next_seq[h->ring][h->cpu];
	if (*expect == 0)
		*expect = 1;
	if (h->seq > *expect) {
		uint64_t missing = h->seq - *expect;
		struct json_object *o = perim_ev_lost_json(perimd_bus_json_ctx(t->bus), h->ring, h->cpu, missing);

		t->gaps[h->ring] += missing;
		pr_warn("tracers: %llu events lost on ring %s, cpu %u (ring full)\n",
			(unsigned long long)missing, h->ring ? "security" : "events", h->cpu);
		perimd_bus_publish(t->bus, PERIM_EV_LOST_TYPE, o);
		json_object_put(o);
	}
	if (h->seq >= *expect)
		*expect = h->seq + 1;
}

static int on_sample(void *ctx, void *data, size_t size)
{
	struct ring_ctx *rc = ctx;
	struct perim_drain *t = rc->t;
	const struct perim_ev_hdr *h = data;

	if (size < sizeof(*h) || perim_ev_size(h->type) != size || h->hook >= PERIM_HOOK_MAX) {
		pr_warn("tracers: malformed event (type %u, %zu bytes) on ring %d\n",
			size >= sizeof(*h) ? h->type : 0, size, rc->ring);
		return 0;
	}
	track_seq(t, h);
	t->delivered[h->hook]++;
	t->events++;
	/* The batch's clock, not one read per event: it only ages exited processes (seconds). */
	perimd_procs_on_event(t->procs, t->listeners, h, t->batch_ns);
	perimd_bus_publish_event(t->bus, data, size);
	return t->batch_max && ++t->batch_events >= t->batch_max ? DRAIN_BUDGET_SPENT : 0;
}

static bool held(const struct perim_drain *t)
{
	return t->held && t->held();
}

/* One ring, at most max events (0: until it is empty): the number read, or a negative errno. */
static int drain_ring(struct perim_drain *t, int ring, unsigned max)
{
	int n;

	if (!t->rb[ring])
		return 0;
	t->batch_ns = perim_mono_ns();
	t->batch_events = 0;
	t->batch_max = max;
	n = ring_buffer__consume(t->rb[ring]);
	if (n == DRAIN_BUDGET_SPENT)
		n = (int)t->batch_events;
	if (n < 0)
		pr_warn("tracers: draining the %s ring: %s\n", ring ? "security" : "events", strerror(-n));
	if (n > 0)
		perimd_bus_flush(t->bus);
	return n;
}

static int drain(struct perim_drain *t)
{
	if (held(t))
		return 0;
	for (int r = 0; r < PERIM_RING_COUNT; r++)
		drain_ring(t, r, DRAIN_BATCH_EVENTS);
	return 0;
}

static int on_ring_ready(void *ctx, int fd, uint32_t events)
{
	struct ring_ctx *rc = ctx;

	if (!held(rc->t))
		drain_ring(rc->t, rc->ring, DRAIN_BATCH_EVENTS);
	return 0;
}

/* The wakeup-driven watch of each ring. */
static int watch_rings(struct perim_drain *t)
{
	int err;

	for (int r = 0; r < PERIM_RING_COUNT; r++) {
		err = perim_loop_add(t->loop, ring_buffer__epoll_fd(t->rb[r]), EPOLLIN, on_ring_ready,
				     &t->ring_ctx[r]);
		if (err) {
			pr_warn("tracers: watching the %s ring: %s\n", r ? "security" : "events", strerror(-err));
			while (r-- > 0)
				perim_loop_del(t->loop, ring_buffer__epoll_fd(t->rb[r]));
			return err;
		}
	}
	t->ring_watched = true;
	return 0;
}

static void each_second(struct perim_drain *t)
{
	uint64_t last_second = t->events - t->events_at_tick;

	t->events_at_tick = t->events;
	t->since_trim += last_second + perim_proctable_evict(t->procs, perim_mono_ns());
	if (t->since_trim >= BURST_RELEASES && last_second < QUIET_EVENTS) {
		malloc_trim(0);
		t->since_trim = 0;
	}
}

static int on_drain_timer(void *ctx, int fd, uint32_t events)
{
	struct perim_drain *t = ctx;

	/* The wakeup-driven watch is added once a test hold is over (a held ring stays readable). */
	if (!t->ring_watched && !held(t))
		watch_rings(t);
	drain(t);
	if (++t->ticks % EVICT_EVERY_TICKS == 0)
		each_second(t);
	return 0;
}

static int start_draining(struct perim_drain *t, int ev_ring_fd, int sec_ring_fd)
{
	const int fds[PERIM_RING_COUNT] = { [PERIM_RING_EVENTS] = ev_ring_fd, [PERIM_RING_SECURITY] = sec_ring_fd };
	int err;

	for (int r = 0; r < PERIM_RING_COUNT; r++) {
		t->ring_ctx[r] = (struct ring_ctx){ t, r };
		t->rb[r] = ring_buffer__new(fds[r], on_sample, &t->ring_ctx[r], NULL);
		if (!t->rb[r]) {
			err = -errno;
			pr_warn("tracers: the %s ring buffer: %s\n", r ? "security" : "events", strerror(-err));
			return err;
		}
	}
	t->timer_fd = perim_loop_every(t->loop, DRAIN_INTERVAL_MS, on_drain_timer, t);
	if (t->timer_fd < 0) {
		pr_warn("tracers: drain timer: %s\n", strerror(-t->timer_fd));
		return t->timer_fd;
	}
	return held(t) ? 0 : watch_rings(t);
}

void perim_drain_stop(struct perim_drain *t)
{
	if (!t)
		return;
	for (int r = 0; r < PERIM_RING_COUNT; r++) {
		if (!t->rb[r])
			continue;
		if (t->ring_watched)
			perim_loop_del(t->loop, ring_buffer__epoll_fd(t->rb[r]));
		drain_ring(t, r, 0);
		ring_buffer__free(t->rb[r]);
	}
	if (t->timer_fd >= 0)
		perim_loop_del(t->loop, t->timer_fd);
	for (int r = 0; r < PERIM_RING_COUNT; r++)
		free(t->next_seq[r]);
	free(t);
}

int perim_drain_start(struct perim_loop *loop, const struct perim_drain_opts *opts, struct perim_drain **out)
{
	struct perim_drain *t = calloc(1, sizeof(*t));
	int err;

	*out = NULL;
	if (!t)
		return -ENOMEM;
	t->loop = loop;
	t->timer_fd = -1;
	t->bus = opts->bus;
	t->procs = opts->procs;
	t->listeners = opts->listeners;
	t->held = opts->held;
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
	err = start_draining(t, opts->ev_ring_fd, opts->sec_ring_fd);
	if (err)
		goto fail;
	*out = t;
	return 0;
fail:
	perim_drain_stop(t);
	return err;
}

void perim_drain_now(struct perim_drain *t)
{
	drain(t);
}

uint64_t perim_drain_delivered(const struct perim_drain *t, int hook)
{
	return t->delivered[hook];
}
