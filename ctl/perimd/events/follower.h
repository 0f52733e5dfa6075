/* SPDX-License-Identifier: GPL-2.0 */
/*
 * One `events --follow` reader, written to without ever blocking perimd: a
 * frame its socket takes only in part is finished later, and an event that
 * finds the socket full is not sent but counted; once there is room again the
 * reader gets a "lost" event with ring "follower" and that count before the
 * next event. A slow reader thus loses events, knowingly, and slows nothing.
 */
#ifndef PERIMD_EVENTS_FOLLOWER_H
#define PERIMD_EVENTS_FOLLOWER_H

#include <stddef.h>
#include <stdint.h>

struct perimd_follower {
	int fd;                    /* non-blocking; -1 = free */
	uint32_t types;            /* bit per event type, incl. "lost" */
	uint64_t skipped;          /* events not sent since the last "lost" it got */
	char *pending;             /* the unsent tail of a frame */
	size_t pending_len, pending_off;
};

/*
 * Send one event (JSON text) or count it as skipped, as `weight` events (a
 * ring-loss record counts the events it announced): 0, or -errno when the
 * reader is gone.
 */
int perimd_follower_send(struct perimd_follower *f, const char *json, size_t len, uint64_t weight);
/* Finish a pending frame and announce what was skipped, if the socket has room now. */
int perimd_follower_catch_up(struct perimd_follower *f);
/* Forget the pending frame and the counts (the caller closes fd). */
void perimd_follower_reset(struct perimd_follower *f);

#endif /* PERIMD_EVENTS_FOLLOWER_H */
