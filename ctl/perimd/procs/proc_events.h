/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What a tracer event teaches the process table (exec, fork, exit, and any
 * event's process identity) and the listener table (sock_state and bind).
 */
#ifndef PERIMD_PROC_EVENTS_H
#define PERIMD_PROC_EVENTS_H

#include <stdint.h>

struct perim_ev_hdr;
struct perim_proctable;
struct perimd_listeners;

/* h is a whole, size-checked event; now_ns is CLOCK_MONOTONIC. */
void perimd_procs_on_event(struct perim_proctable *procs, struct perimd_listeners *listeners,
			   const struct perim_ev_hdr *h, uint64_t now_ns);

#endif /* PERIMD_PROC_EVENTS_H */
