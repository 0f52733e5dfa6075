/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Tracer events (include/perim_events.h) to JSON objects, enriched from the
 * process table. Keys are stable; see the report at the top of events_json.c.
 */
#ifndef PERIM_EVENTS_JSON_H
#define PERIM_EVENTS_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>
#include <netinet/in.h>
#include <json-c/json.h>
#include <json-c/printbuf.h>

#include "perim_events.h"

/* "exec", "connect", ...; "lost" for PERIM_EV_LOST_TYPE; NULL when unknown. */
const char *perim_ev_type_name(int type);
/* The type for a name, -1 when unknown. */
int perim_ev_type_parse(const char *name);
/* The exact size an event of this type has, 0 when unknown. */
size_t perim_ev_size(int type);

struct perim_proctable;

struct perim_ev_time_text {
	bool valid;
	time_t secs;
	char text[64];                         /* "YYYY-MM-DDTHH:MM:SS" of secs */
};

/* An address as printed (inet_ntop), kept for the next event naming it. */
#define PERIM_EV_ADDR_TEXTS 16         /* power of two */
struct perim_ev_addr_text {
	bool valid;
	uint8_t addr[16];
	char text[INET6_ADDRSTRLEN];
};

/*
 * What an event line's text is made from and lasts beyond the event: the
 * last second's date text, and the addresses printed last (a connect storm
 * names the same few addresses in every event).
 */
struct perim_ev_json_cache {
	struct perim_ev_time_text second;
	struct perim_ev_addr_text addrs[PERIM_EV_ADDR_TEXTS];
};

struct perim_ev_json_ctx {
	struct perim_proctable *procs;
	int64_t realtime_minus_monotonic_ns;   /* to print wall-clock times */
	struct perim_ev_json_cache *cache;     /* NULL: every text made anew */
};

/* The event as a new JSON object, or NULL on a malformed event (or out of memory). */
struct json_object *perim_ev_json(const struct perim_ev_json_ctx *ctx, const void *data, size_t size);

/* The flags event lines are printed with (the bus's). */
#define PERIM_EV_TEXT_FLAGS (JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE)

/*
 * The event's line appended to pb, written as it is made (json_fill's text
 * mode): the text json-c prints for perim_ev_json's object with
 * PERIM_EV_TEXT_FLAGS, without the object. 0, -EINVAL for a malformed event,
 * -ENOMEM when pb could not grow.
 */
int perim_ev_text(const struct perim_ev_json_ctx *ctx, const void *data, size_t size, struct printbuf *pb);

/* The ring/cpu gap perimd noticed: {"type":"lost","ring","cpu","count"} */
struct json_object *perim_ev_lost_json(const struct perim_ev_json_ctx *ctx, int ring, int cpu, uint64_t count);

struct perim_drop_event;

/*
 * A sampled XDP drop: {"type":"xdp_drop", time, ts_ns, dev, reason, rule,
 * flow {family, proto, src, sport, dst, dport}, weight, len, listener}, where
 * listener is {pid, comm, exe, uid, user, argv} of the local process
 * listening on the destination (pid, start_ns), or null when pid is 0.
 */
/* The local process a packet was aimed at: pid, comm, exe, uid, user, argv (null when unknown); a new object. */
struct json_object *perim_listener_json(const struct perim_ev_json_ctx *ctx, uint32_t pid, uint64_t start_ns);

/* A new object, as perim_ev_json. */
struct json_object *perim_xdp_drop_json(const struct perim_ev_json_ctx *ctx, const struct perim_drop_event *e,
					const char *dev, const char *reason, uint32_t pid, uint64_t start_ns);
/* Its line appended to pb, as perim_ev_text: 0 or -ENOMEM. */
int perim_xdp_drop_text(const struct perim_ev_json_ctx *ctx, const struct perim_drop_event *e, const char *dev,
			const char *reason, uint32_t pid, uint64_t start_ns, struct printbuf *pb);

#endif /* PERIM_EVENTS_JSON_H */
