/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The tracing side of perimd: loads tracers/ (load.h), attaches every hook
 * the running kernel offers (hooks.h: probing, falling back, recording why
 * not), and drains the rings from perimd's loop (drain.h) into the process
 * tables and the event bus.
 */
#ifndef PERIM_TRACERS_H
#define PERIM_TRACERS_H

#include <stdbool.h>
#include <json-c/json.h>

struct perim_loop;
struct perim_proctable;
struct perimd_listeners;
struct perimd_bus;
struct perim_tracers;

struct perim_tracers_opts {
	const char *btf_path;      /* custom BTF for CO-RE, NULL = the kernel's own */
	const char *pin_root;      /* perimd's pin root */
	const char *guard_rules;   /* LSM guard rail config file, NULL = none */
	struct perimd_bus *bus;    /* where the events go */
	struct perim_proctable *procs;        /* kept from /proc and the events */
	struct perimd_listeners *listeners;   /* kept from /proc/net and the events */
	/* Set by a test build only (tests/daemon/): */
	unsigned ring_bytes;       /* both rings' size, 0 = the defaults */
	bool (*held)(void);        /* no draining while it returns true; NULL = never */
};

/*
 * A test build of perimd defines this to set the test-only options; the
 * daemon's own (weak) definition leaves opts as they are.
 */
int perim_tracers_test_opts(struct perim_tracers_opts *opts);

/* Loads and attaches; never fails because an optional hook is unavailable. */
int perim_tracers_start(struct perim_loop *loop, const struct perim_tracers_opts *opts,
			struct perim_tracers **out);
void perim_tracers_stop(struct perim_tracers *t);

/* The "hooks" array for perimctl status: one object per hook. */
struct json_object *perim_tracers_hooks_json(struct perim_tracers *t);

/* Drain what the rings hold now (an `events` dump is then complete). */
void perim_tracers_drain(struct perim_tracers *t);

#endif /* PERIM_TRACERS_H */
