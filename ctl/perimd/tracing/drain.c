// SPDX-License-Identifier: GPL-2.0
/*
 * Draining the tracer rings (drain.h). Programs submit without waking the
 * reader unless the ring holds more than a threshold (1/16 of each ring), and
 * perimd drains on a DRAIN_INTERVAL_MS timer. An event therefore waits at most
 * DRAIN_INTERVAL_MS (plus the time to handle what is queued before it); a
 * burst wakes perimd early, paying the ~25 us wakeup once per batch.
 */
#include <errno.h>
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
#define EVICT_EVERY_TICKS 20           /* once a second */

struct ring_ctx {
	struct perim_drain *t;
	int ring;
};

struct perim_drain {
	struct perim_loop *loop;
	struct ring_buffer *rb;
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
	struct json_object *o;

	if (size < sizeof(*h) || perim_ev_size(h->type) != size || h->hook >= PERIM_HOOK_MAX) {
		pr_warn("tracers: malformed event (type %u, %zu bytes) on ring %d\n",
			size >= sizeof(*h) ? h->type : 0, size, rc->ring);
		return 0;
	}
	track_seq(t, h);
	t->delivered[h->hook]++;
	perimd_procs_on_event(t->procs, t->listeners, h, perim_mono_ns());
	o = perim_ev_json(perimd_bus_json_ctx(t->bus), data, size);
	if (!o)
		return 0;
	perimd_bus_publish(t->bus, h->type, o);
	json_object_put(o);
	return 0;
}

static bool held(const struct perim_drain *t)
{
	return t->held && t->held();
}

static int drain(struct perim_drain *t)
{
	int n;

	if (held(t))
		return 0;
	n = ring_buffer__consume(t->rb);
	if (n < 0)
		pr_warn("tracers: draining the ring buffers: %s\n", strerror(-n));
	if (n > 0)
		perimd_bus_flush(t->bus);
	return 0;
}

static int on_ring_ready(void *ctx, int fd, uint32_t events)
{
	return drain(ctx);
}

static int on_drain_timer(void *ctx, int fd, uint32_t events)
{
	struct perim_drain *t = ctx;
	int err;

	/* The wakeup-driven watch is added once a test hold is over (a held ring stays readable). */
	if (!t->ring_watched && !held(t)) {
		err = perim_loop_add(t->loop, ring_buffer__epoll_fd(t->rb), EPOLLIN, on_ring_ready, t);
		if (err)
			pr_warn("tracers: watching the ring buffers: %s\n", strerror(-err));
		t->ring_watched = true;
	}
	drain(t);
	if (++t->ticks % EVICT_EVERY_TICKS == 0)
		perim_proctable_evict(t->procs, perim_mono_ns());
	return 0;
}

static int start_draining(struct perim_drain *t, int ev_ring_fd, int sec_ring_fd)
{
	int err;

	t->ring_ctx[PERIM_RING_EVENTS] = (struct ring_ctx){ t, PERIM_RING_EVENTS };
	t->ring_ctx[PERIM_RING_SECURITY] = (struct ring_ctx){ t, PERIM_RING_SECURITY };
	t->rb = ring_buffer__new(ev_ring_fd, on_sample,
				 &t->ring_ctx[PERIM_RING_EVENTS], NULL);
	if (!t->rb) {
		err = -errno;
		pr_warn("tracers: ring buffer: %s\n", strerror(-err));
		return err;
	}
	err = ring_buffer__add(t->rb, sec_ring_fd, on_sample,
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


void perim_drain_stop(struct perim_drain *t)
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
	ring_buffer__free(t->rb);
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
