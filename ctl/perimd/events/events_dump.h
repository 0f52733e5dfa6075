/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Non-follow `perimctl events`: the answer and the backlog's matching events
 * are framed into one buffer when asked (a snapshot, bounded by the backlog's
 * size) and written whenever the client's socket takes more, from perimd's
 * loop. A slow reader gets every event; a stuck one never blocks the loop: a
 * dump that makes no progress for PERIMD_DUMP_STALL_MS is dropped, and at most
 * PERIMD_DUMPS_MAX run at once (one more is refused).
 */
#ifndef PERIMD_EVENTS_DUMP_H
#define PERIMD_EVENTS_DUMP_H

#include <stddef.h>
#include <stdint.h>

#define PERIMD_DUMPS_MAX 8
#define PERIMD_DUMP_STALL_MS 10000

struct perim_loop;
struct perimd_dumps;

/* Control-protocol messages (a 4-byte host-order length, then the JSON) in one buffer. */
struct perimd_frames {
	char *buf;
	size_t len, cap;
};

/* Appends one message. 0 or -ENOMEM / -EMSGSIZE. */
int perimd_frames_add(struct perimd_frames *f, const char *json, size_t len);
void perimd_frames_free(struct perimd_frames *f);

struct perimd_dumps *perimd_dumps_new(struct perim_loop *loop);
/* Drops every dump still running (closing its socket). */
void perimd_dumps_free(struct perimd_dumps *ds);

/*
 * Writes f to fd (a non-blocking stream socket) until all of it is out, then
 * closes fd. Takes fd and f's buffer in every case. 0, or -EBUSY when
 * PERIMD_DUMPS_MAX dumps are running, or -errno (fd closed).
 */
int perimd_dumps_start(struct perimd_dumps *ds, int fd, struct perimd_frames *f);

/* Drops the dumps that made no progress for PERIMD_DUMP_STALL_MS; returns how many. */
int perimd_dumps_expire(struct perimd_dumps *ds, uint64_t now_ns);

/* Dumps running now. */
int perimd_dumps_running(const struct perimd_dumps *ds);

#endif /* PERIMD_EVENTS_DUMP_H */
