/* SPDX-License-Identifier: GPL-2.0 */
/*
 * perimd's one event loop: epoll over the control socket, the ring buffers,
 * netlink, signals and timers. Handlers run to completion; nothing blocks.
 */
#ifndef PERIM_LOOP_H
#define PERIM_LOOP_H

#include <stdint.h>

struct perim_loop;

/* Called with the epoll events that fired; return < 0 to stop the loop with that error. */
typedef int (*perim_loop_fn)(void *ctx, int fd, uint32_t events);

struct perim_loop *perim_loop_new(void);
void perim_loop_free(struct perim_loop *loop);

/* Watch fd for events (EPOLLIN, ...). Returns 0 or -errno. */
int perim_loop_add(struct perim_loop *loop, int fd, uint32_t events, perim_loop_fn fn, void *ctx);
int perim_loop_del(struct perim_loop *loop, int fd);

/* A periodic timer (timerfd): fn runs every interval_ms. Returns the timer fd or -errno. */
int perim_loop_every(struct perim_loop *loop, unsigned interval_ms, perim_loop_fn fn, void *ctx);

/* Run until perim_loop_stop() or a handler fails. Returns 0 or the handler's error. */
int perim_loop_run(struct perim_loop *loop);
void perim_loop_stop(struct perim_loop *loop);

#endif /* PERIM_LOOP_H */
