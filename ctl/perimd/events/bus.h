/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The one event bus: tracer events (tracing/) and sampled XDP drops
 * (telemetry/drops.c) are published here, and from here reach the JSON-lines
 * sink, the backlog `perimctl events` dumps, and the `events --follow`
 * subscribers.
 */
#ifndef PERIMD_EVENTS_BUS_H
#define PERIMD_EVENTS_BUS_H

#include <stddef.h>
#include <stdint.h>
#include <json-c/json.h>

struct perim_loop;
struct perim_proctable;
struct perim_ev_json_ctx;
struct perim_drop_event;
struct perimd_bus;

/*
 * events_path: the JSON lines sink, NULL = stdout. procs: the process table
 * events are enriched from. 0 or -errno (the sink could not be opened).
 */
int perimd_bus_new(struct perim_loop *loop, const char *events_path, struct perim_proctable *procs,
		   struct perimd_bus **out);
void perimd_bus_free(struct perimd_bus *b);

/* How publishers render their events as JSON (events_json.h). */
const struct perim_ev_json_ctx *perimd_bus_json_ctx(const struct perimd_bus *b);

/* Write o (of type PERIM_EV_*_TYPE, events_json.h) to the sink, the backlog and the subscribers. */
void perimd_bus_publish(struct perimd_bus *b, int type, struct json_object *o);
/*
 * A tracer event (perim_events.h) / a sampled XDP drop published as its line
 * (events_json.h perim_ev_text / perim_xdp_drop_text: the same text as the
 * object's, without building it): 0, or -EINVAL (malformed) / -ENOMEM, and
 * nothing published.
 */
int perimd_bus_publish_event(struct perimd_bus *b, const void *data, size_t size);
int perimd_bus_publish_drop(struct perimd_bus *b, const struct perim_drop_event *e, const char *dev,
			    const char *reason, uint32_t pid, uint64_t start_ns);
/* Flush the sink after a batch. */
void perimd_bus_flush(struct perimd_bus *b);

/* fn sees every line published (its JSON text, without newline); must not block. NULL: none. */
typedef void (*perimd_bus_tap_fn)(void *ctx, int type, const char *json, size_t len);
void perimd_bus_set_tap(struct perimd_bus *b, perimd_bus_tap_fn fn, void *ctx);

/*
 * SIGHUP: (re)open the events sink at events_path (NULL or "-" = stdout),
 * the same file after a rotation or another one. On failure the old sink stays.
 */
int perimd_bus_reopen(struct perimd_bus *b, const char *events_path);

/* "events [--follow] [--type T,...]": stream events to a control client. Takes ownership of fd. */
int perimd_bus_subscribe(struct perimd_bus *b, int fd, const char *types, int follow);

#endif /* PERIMD_EVENTS_BUS_H */
