// SPDX-License-Identifier: GPL-2.0
/*
 * Event dumps written as the socket drains (events_dump.h). A dump holds at
 * most the backlog (1024 events of up to a few KiB), so PERIMD_DUMPS_MAX of
 * them bound the memory a crowd of slow readers can pin.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "events/events_dump.h"
#include "log.h"
#include "loop.h"
#include "proto.h"
#include "names.h"

struct dump {
	struct perimd_dumps *ds;
	int fd;                            /* -1 = free slot */
	struct perimd_frames out;
	size_t off;
	uint64_t progress_ns;              /* the last write that moved bytes */
};

struct perimd_dumps {
	struct perim_loop *loop;
	struct dump d[PERIMD_DUMPS_MAX];
};

int perimd_frames_add(struct perimd_frames *f, const char *json, size_t len)
{
	uint32_t hdr = len;

	if (len == 0 || len > PERIM_PROTO_MAX)
		return -EMSGSIZE;
	if (f->len + sizeof(hdr) + len > f->cap) {
		size_t cap = f->cap ? f->cap : 64 << 10;
		char *buf;

		while (cap < f->len + sizeof(hdr) + len)
			cap *= 2;
		buf = realloc(f->buf, cap);
		if (!buf)
			return -ENOMEM;
		f->buf = buf;
		f->cap = cap;
	}
	memcpy(f->buf + f->len, &hdr, sizeof(hdr));
	memcpy(f->buf + f->len + sizeof(hdr), json, len);
	f->len += sizeof(hdr) + len;
	return 0;
}

void perimd_frames_free(struct perimd_frames *f)
{
	free(f->buf);
	memset(f, 0, sizeof(*f));
}

struct perimd_dumps *perimd_dumps_new(struct perim_loop *loop)
{
	struct perimd_dumps *ds = calloc(1, sizeof(*ds));

	if (!ds)
		return NULL;
	ds->loop = loop;
	for (int i = 0; i < PERIMD_DUMPS_MAX; i++)
		ds->d[i].fd = -1;
	return ds;
}

static void dump_end(struct dump *d, bool watched)
{
	if (watched)
		perim_loop_del(d->ds->loop, d->fd);
	close(d->fd);
	d->fd = -1;
	perimd_frames_free(&d->out);
	d->off = 0;
}

void perimd_dumps_free(struct perimd_dumps *ds)
{
	if (!ds)
		return;
	for (int i = 0; i < PERIMD_DUMPS_MAX; i++)
		if (ds->d[i].fd >= 0)
			dump_end(&ds->d[i], true);
	free(ds);
}

/* Writes what the socket takes now: 1 when all is out, 0 when it is full, -errno. */
static int dump_write(struct dump *d)
{
	while (d->off < d->out.len) {
		ssize_t n = send(d->fd, d->out.buf + d->off, d->out.len - d->off, MSG_NOSIGNAL);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return errno == EAGAIN || errno == EWOULDBLOCK ? 0 : -errno;
		}
		d->off += n;
		d->progress_ns = perim_mono_ns();
	}
	return 1;
}

static int on_writable(void *ctx, int fd, uint32_t events)
{
	struct dump *d = ctx;
	int ret = dump_write(d);

	if (ret < 0)
		pr_debug("perimd: events dump: %s (%zu of %zu bytes sent)\n", strerror(-ret), d->off, d->out.len);
	if (ret != 0 || (events & (EPOLLERR | EPOLLHUP)))
		dump_end(d, true);
	return 0;
}

int perimd_dumps_start(struct perimd_dumps *ds, int fd, struct perimd_frames *f)
{
	struct dump *d = NULL;
	int ret;

	for (int i = 0; i < PERIMD_DUMPS_MAX && !d; i++)
		if (ds->d[i].fd < 0)
			d = &ds->d[i];
	if (!d) {
		perimd_frames_free(f);
		close(fd);
		return -EBUSY;
	}
	*d = (struct dump){ .ds = ds, .fd = fd, .out = *f, .progress_ns = perim_mono_ns() };
	memset(f, 0, sizeof(*f));
	/* Most dumps fit in the socket's buffer at once: no watch needed. */
	ret = dump_write(d);
	if (ret != 0) {
		dump_end(d, false);
		return ret < 0 ? ret : 0;
	}
	ret = perim_loop_add(ds->loop, fd, EPOLLOUT, on_writable, d);
	if (ret) {
		dump_end(d, false);
		return ret;
	}
	return 0;
}

int perimd_dumps_expire(struct perimd_dumps *ds, uint64_t now)
{
	int dropped = 0;

	for (int i = 0; i < PERIMD_DUMPS_MAX; i++) {
		struct dump *d = &ds->d[i];

		if (d->fd < 0 || now - d->progress_ns < PERIMD_DUMP_STALL_MS * 1000000ull)
			continue;
		pr_warn("perimd: events dump: the reader took nothing for %d ms; dropped after %zu of %zu bytes\n",
			PERIMD_DUMP_STALL_MS, d->off, d->out.len);
		dump_end(d, true);
		dropped++;
	}
	return dropped;
}

int perimd_dumps_running(const struct perimd_dumps *ds)
{
	int n = 0;

	for (int i = 0; i < PERIMD_DUMPS_MAX; i++)
		n += ds->d[i].fd >= 0;
	return n;
}
