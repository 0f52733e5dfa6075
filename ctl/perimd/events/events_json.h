/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Tracer events (include/perim_events.h) to JSON objects, enriched from the
 * process table. Keys are stable; see the report at the top of events_json.c.
 */
#ifndef PERIM_EVENTS_JSON_H
#define PERIM_EVENTS_JSON_H

#include <stddef.h>
#include <stdint.h>
#include <json-c/json.h>

#include "perim_events.h"

/* "exec", "connect", ...; "lost" for PERIM_EV_LOST_TYPE; NULL when unknown. */
const char *perim_ev_type_name(int type);
/* The type for a name, -1 when unknown. */
int perim_ev_type_parse(const char *name);
/* The exact size an event of this type has, 0 when unknown. */
size_t perim_ev_size(int type);

struct perim_proctable;

struct perim_ev_json_ctx {
	struct perim_proctable *procs;
	int64_t realtime_minus_monotonic_ns;   /* to print wall-clock times */
};

/* The event as JSON, or NULL on a malformed event. */
struct json_object *perim_ev_json(const struct perim_ev_json_ctx *ctx, const void *data, size_t size);

/* The ring/cpu gap perimd noticed: {"type":"lost","ring","cpu","count"} */
struct json_object *perim_ev_lost_json(const struct perim_ev_json_ctx *ctx, int ring, int cpu, uint64_t count);

struct perim_drop_event;

/*
 * A sampled XDP drop: {"type":"xdp_drop", time, ts_ns, dev, reason, rule,
 * flow {family, proto, src, sport, dst, dport}, weight, len, listener}, where
 * listener is {pid, comm, exe, uid, user, argv} of the local process
 * listening on the destination (pid, start_ns), or null when pid is 0.
 */
/* The local process a packet was aimed at: pid, comm, exe, uid, user, argv (null when unknown). */
struct json_object *perim_listener_json(const struct perim_ev_json_ctx *ctx, uint32_t pid, uint64_t start_ns);

struct json_object *perim_xdp_drop_json(const struct perim_ev_json_ctx *ctx, const struct perim_drop_event *e,
					const char *dev, const char *reason, uint32_t pid, uint64_t start_ns);

#endif /* PERIM_EVENTS_JSON_H */
