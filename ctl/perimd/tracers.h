/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The tracing side of perimd: loads tracers/, attaches every hook the running
 * kernel offers (probing, falling back, recording why not), drains the ring
 * buffers from perimd's loop, keeps the process table and emits JSON lines.
 */
#ifndef PERIM_TRACERS_H
#define PERIM_TRACERS_H

#include <json-c/json.h>
#include "loop.h"

struct perim_tracers;

struct perim_tracers_opts {
	const char *btf_path;      /* custom BTF for CO-RE, NULL = the kernel's own */
	const char *pin_root;      /* perimd's pin root */
	const char *events_path;   /* JSON lines sink: NULL or "-" = stdout */
	const char *guard_rules;   /* LSM guard rail config file, NULL = none */
};

/* Loads and attaches; never fails because an optional hook is unavailable. */
int perim_tracers_start(struct perim_loop *loop, const struct perim_tracers_opts *opts,
			struct perim_tracers **out);
void perim_tracers_stop(struct perim_tracers *t);

/* The "hooks" array for perimctl status: one object per hook. */
struct json_object *perim_tracers_hooks_json(struct perim_tracers *t);

/* SIGHUP: reopen the events file (rotation). */
int perim_tracers_reopen(struct perim_tracers *t);

/* "events [--follow] [--type T,...]": stream events to a control client. Takes ownership of fd. */
int perim_tracers_subscribe(struct perim_tracers *t, int fd, const char *types, int follow);

/*
 * For events that are not the tracers' own (drops.c's sampled XDP drops):
 * write o (of type PERIM_EV_*_TYPE, events_json.h) to the sink, the backlog
 * and the subscribers; flush the sink after a batch.
 */
struct perim_ev_json_ctx;
struct perimd_listeners;
void perim_tracers_publish(struct perim_tracers *t, int type, struct json_object *o);
/* fn sees every line published (its JSON text, without newline); must not block. NULL: none. */
typedef void (*perim_tracers_tap_fn)(void *ctx, int type, const char *json, size_t len);
void perim_tracers_set_tap(struct perim_tracers *t, perim_tracers_tap_fn fn, void *ctx);
void perim_tracers_flush(struct perim_tracers *t);
/* The listener table the sock_state events keep (listeners.h). */
struct perimd_listeners *perim_tracers_listeners(struct perim_tracers *t);
const struct perim_ev_json_ctx *perim_tracers_json_ctx(struct perim_tracers *t);

#endif /* PERIM_TRACERS_H */
