/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Draining the tracer rings from perimd's loop: every event is checked,
 * counted per hook, its sequence number tracked per ring and CPU (a gap is a
 * "lost" event), taught to the process and listener tables, and published
 * on the event bus.
 */
#ifndef PERIMD_TRACING_DRAIN_H
#define PERIMD_TRACING_DRAIN_H

#include <stdbool.h>
#include <stdint.h>

struct perim_loop;
struct perim_proctable;
struct perimd_listeners;
struct perimd_bus;
struct perim_drain;

struct perim_drain_opts {
	int ev_ring_fd, sec_ring_fd;           /* the two BPF ring buffer maps */
	struct perimd_bus *bus;
	struct perim_proctable *procs;
	struct perimd_listeners *listeners;
	/* While it returns true nothing is drained (a test build's hold); NULL = never. */
	bool (*held)(void);
};

int perim_drain_start(struct perim_loop *loop, const struct perim_drain_opts *opts, struct perim_drain **out);
/* Drains what is queued once more, then stops. */
void perim_drain_stop(struct perim_drain *dr);

/* Drain what is queued now (before a dump, so it is complete). */
void perim_drain_now(struct perim_drain *dr);

/* Events of this hook handed to the bus so far. */
uint64_t perim_drain_delivered(const struct perim_drain *dr, int hook);

#endif /* PERIMD_TRACING_DRAIN_H */
