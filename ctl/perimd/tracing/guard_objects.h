/* SPDX-License-Identifier: GPL-2.0 */
/*
 * perimd's own maps and programs, by id, in the tracers' perim_guard_objs map:
 * lsm/bpf_map and lsm/bpf_prog refuse (or report) every other process a new
 * fd to them under a bpf guard rule (tracers/lib/guard.h).
 */
#ifndef PERIM_GUARD_OBJECTS_H
#define PERIM_GUARD_OBJECTS_H

#include "perim_events.h"

/* The key of an object in perim_guard_objs: tracers/lib/guard.h's PERIM_GUARD_OBJ_KEY. */
#define PERIM_GUARD_OBJ_MAP  1ull
#define PERIM_GUARD_OBJ_PROG 2ull

/* From now on, every object perimd holds goes into objs_fd with verdict v. */
void perim_guard_objects_start(int objs_fd, const struct perim_guard_verdict *v);
void perim_guard_objects_stop(void);

/*
 * Every map and program perimd holds an fd to (and every map its programs
 * use) into the set; nothing when not started. 0, or -errno of the first
 * failure (logged).
 */
int perim_guard_objects_sync(void);

#endif /* PERIM_GUARD_OBJECTS_H */
