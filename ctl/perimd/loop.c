// SPDX-License-Identifier: GPL-2.0
/* perimd's event loop: one epoll set; a watcher per fd, timers are timerfds. */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "loop.h"

struct perim_watch {
	int fd;
	bool is_timer;
	perim_loop_fn fn;
	void *ctx;
	struct perim_watch *next;
};

struct perim_loop {
	int epfd;
	bool stop;
	struct perim_watch *watches;
};

struct perim_loop *perim_loop_new(void)
{
	struct perim_loop *loop = calloc(1, sizeof(*loop));

	if (!loop)
		return NULL;
	loop->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (loop->epfd < 0) {
		free(loop);
		return NULL;
	}
	return loop;
}

void perim_loop_free(struct perim_loop *loop)
{
	struct perim_watch *w, *next;

	if (!loop)
		return;
	for (w = loop->watches; w; w = next) {
		next = w->next;
		if (w->is_timer)
			close(w->fd);
		free(w);
	}
	close(loop->epfd);
	free(loop);
}

static struct perim_watch *watch_new(struct perim_loop *loop, int fd, perim_loop_fn fn, void *ctx)
{
	struct perim_watch *w = calloc(1, sizeof(*w));

	if (!w)
		return NULL;
	w->fd = fd;
	w->fn = fn;
	w->ctx = ctx;
	w->next = loop->watches;
	loop->watches = w;
	return w;
}

static void watch_unlink(struct perim_loop *loop, struct perim_watch *w)
{
	struct perim_watch **pp;

	for (pp = &loop->watches; *pp; pp = &(*pp)->next) {
		if (*pp == w) {
			*pp = w->next;
			return;
		}
	}
}

int perim_loop_add(struct perim_loop *loop, int fd, uint32_t events, perim_loop_fn fn, void *ctx)
{
	struct epoll_event ev = { .events = events };
	struct perim_watch *w = watch_new(loop, fd, fn, ctx);

	if (!w)
		return -ENOMEM;
	ev.data.ptr = w;
	if (epoll_ctl(loop->epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
		int err = -errno;

		watch_unlink(loop, w);
		free(w);
		return err;
	}
	return 0;
}

int perim_loop_del(struct perim_loop *loop, int fd)
{
	struct perim_watch *w;

	for (w = loop->watches; w; w = w->next)
		if (w->fd == fd)
			break;
	if (!w)
		return -ENOENT;
	/* A closed fd has already left the epoll set; that is not an error here. */
	if (epoll_ctl(loop->epfd, EPOLL_CTL_DEL, fd, NULL) < 0 && errno != EBADF && errno != ENOENT)
		return -errno;
	watch_unlink(loop, w);
	if (w->is_timer)
		close(w->fd);
	/* perim_loop_run re-checks the list before dispatching, so freeing now is safe. */
	free(w);
	return 0;
}

int perim_loop_every(struct perim_loop *loop, unsigned interval_ms, perim_loop_fn fn, void *ctx)
{
	struct itimerspec its = {
		.it_interval = { interval_ms / 1000, (interval_ms % 1000) * 1000000L },
		.it_value = { interval_ms / 1000, (interval_ms % 1000) * 1000000L },
	};
	int fd, err;

	fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (timerfd_settime(fd, 0, &its, NULL) < 0) {
		err = -errno;
		close(fd);
		return err;
	}
	err = perim_loop_add(loop, fd, EPOLLIN, fn, ctx);
	if (err) {
		close(fd);
		return err;
	}
	loop->watches->is_timer = true;
	return fd;
}

static void drain_timer(int fd)
{
	uint64_t expirations;

	/* EAGAIN is fine: a spurious wakeup has nothing to drain. */
	if (read(fd, &expirations, sizeof(expirations)) < 0)
		return;
}

int perim_loop_run(struct perim_loop *loop)
{
	struct epoll_event evs[32];
	int n, i, err;

	loop->stop = false;
	while (!loop->stop) {
		n = epoll_wait(loop->epfd, evs, 32, -1);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		for (i = 0; i < n && !loop->stop; i++) {
			struct perim_watch *w = evs[i].data.ptr;
			struct perim_watch *live;

			/* A handler earlier in this batch may have removed this watch. */
			for (live = loop->watches; live && live != w; live = live->next)
				;
			if (!live || !w->fn)
				continue;
			if (w->is_timer)
				drain_timer(w->fd);
			err = w->fn(w->ctx, w->fd, evs[i].events);
			if (err < 0)
				return err;
		}
	}
	return 0;
}

void perim_loop_stop(struct perim_loop *loop)
{
	loop->stop = true;
}
