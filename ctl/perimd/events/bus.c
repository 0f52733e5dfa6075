// SPDX-License-Identifier: GPL-2.0
/*
 * The event bus (bus.h): one sink, two backlogs and the subscribers. Sampled
 * XDP drops (up to 1000/s per CPU) keep a backlog of their own: in one shared
 * ring a drop flood pushed every tracer event out within a second. A dump
 * merges the two in publication order.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <json-c/printbuf.h>

#include "events/bus.h"
#include "events/events_dump.h"
#include "events/events_json.h"
#include "events/follower.h"
#include "log.h"
#include "loop.h"
#include "names.h"
#include "proto.h"

#define BACKLOG_MAX 1024
#define DROP_BACKLOG_MAX 256
#define SUBSCRIBERS_MAX 32
#define SUBSCRIBER_SNDBUF (1 << 20)
#define DUMP_EXPIRY_MS 1000
/*
 * The events file's stdio buffer: a storm's batch is written in writes of
 * this size (stdio's default, 4 KiB, is ten event lines: a write system call
 * every ten events); the bus flushes after every batch all the same.
 */
#define SINK_BUFFER_BYTES (32 << 10)

struct backlog_entry {
	int type;
	uint64_t order;                    /* publication order, to merge the two backlogs */
	char *json;                        /* NULL: never written */
	size_t len, cap;                   /* json's buffer is reused while its size fits */
};

struct backlog {
	struct backlog_entry *e;
	unsigned cap, next;                /* next: the oldest entry, overwritten next */
};

enum { BACKLOG_TRACERS, BACKLOG_DROPS, BACKLOG_COUNT };

struct perimd_bus {
	struct perim_loop *loop;
	struct perim_ev_json_ctx jctx;
	struct perim_ev_json_cache json_cache;
	struct printbuf *line;             /* the event line being published, reused */
	char *events_path;                 /* NULL = stdout */
	FILE *sink;
	char *sink_buf;                    /* sink's buffer when it is a file perimd opened */
	struct backlog_entry tracer_backlog[BACKLOG_MAX];
	struct backlog_entry drop_backlog[DROP_BACKLOG_MAX];
	struct backlog backlogs[BACKLOG_COUNT];
	uint64_t published;
	struct perimd_follower subs[SUBSCRIBERS_MAX];
	uint32_t followed_types;           /* the union of the followers' types: a storm with none skips them all */
	struct perimd_dumps *dumps;        /* non-follow `events` still being written */
	int expiry_fd;
	perimd_bus_tap_fn tap;             /* sees every line published (the fleet's export), or NULL */
	void *tap_ctx;
};

static int64_t realtime_minus_monotonic(void)
{
	struct timespec rt, mono;

	clock_gettime(CLOCK_REALTIME, &rt);
	clock_gettime(CLOCK_MONOTONIC, &mono);
	return (rt.tv_sec - mono.tv_sec) * 1000000000ll + (rt.tv_nsec - mono.tv_nsec);
}

/* ---- output: sink, backlog, subscribers ---- */

static void refresh_followed_types(struct perimd_bus *b)
{
	b->followed_types = 0;
	for (int i = 0; i < SUBSCRIBERS_MAX; i++)
		if (b->subs[i].fd >= 0)
			b->followed_types |= b->subs[i].types;
}

static void subscriber_drop(struct perimd_bus *b, struct perimd_follower *s)
{
	perim_loop_del(b->loop, s->fd);
	close(s->fd);
	perimd_follower_reset(s);
	refresh_followed_types(b);
}

/* A reader gone (EPIPE, ECONNRESET) is no news; anything else is said. */
static void subscriber_failed(struct perimd_bus *b, struct perimd_follower *s, int err)
{
	if (err != -EPIPE && err != -ECONNRESET)
		pr_warn("tracers: dropping an events --follow reader: %s\n", strerror(-err));
	subscriber_drop(b, s);
}

/*
 * text into b's buffer, reallocated when too small or more than twice too
 * large (a burst of long lines would otherwise keep every slot at its peak):
 * false when out of memory, b then empty.
 */
static bool backlog_store(struct backlog_entry *b, const char *text, size_t len)
{
	size_t need = (len + 1 + 15) & ~(size_t)15;

	if (need > b->cap || need * 2 < b->cap) {
		char *json = realloc(b->json, need);

		if (!json) {
			free(b->json);
			*b = (struct backlog_entry){ 0 };
			return false;
		}
		b->json = json;
		b->cap = need;
	}
	memcpy(b->json, text, len + 1);
	b->len = len;
	return true;
}

/* The line of an event standing for weight events to the sink, the backlog, the tap and the followers. */
static void publish_line(struct perimd_bus *t, int type, const char *text, size_t len, uint64_t weight)
{
	struct backlog *bl = &t->backlogs[type == PERIM_EV_XDP_DROP_TYPE ? BACKLOG_DROPS : BACKLOG_TRACERS];
	struct backlog_entry *b = &bl->e[bl->next];
	int err;

	if (fwrite(text, 1, len, t->sink) != len || fputc('\n', t->sink) == EOF)
		pr_debug("tracers: writing the events sink: %s\n", strerror(errno));
	if (t->tap)
		t->tap(t->tap_ctx, type, text, len);
	if (backlog_store(b, text, len)) {
		b->type = type;
		b->order = ++t->published;
		bl->next = (bl->next + 1) % bl->cap;
	}
	for (int i = 0; i < SUBSCRIBERS_MAX && (t->followed_types & (1u << type)); i++) {
		struct perimd_follower *s = &t->subs[i];

		if (s->fd < 0 || !(s->types & (1u << type)))
			continue;
		err = perimd_follower_send(s, text, len, weight);
		if (err < 0)
			subscriber_failed(t, s, err);
	}
}

void perimd_bus_publish(struct perimd_bus *t, int type, struct json_object *o)
{
	size_t len;
	const char *text = json_object_to_json_string_length(o, PERIM_EV_TEXT_FLAGS, &len);
	uint64_t weight = 1;

	/* A ring-loss record a follower misses stands for the events it announced. */
	if (type == PERIM_EV_LOST_TYPE) {
		struct json_object *count;

		if (json_object_object_get_ex(o, "count", &count))
			weight = json_object_get_uint64(count);
	}
	publish_line(t, type, text, len, weight);
}

/* The line in t->line, as render wrote it (0), published. */
static int publish_rendered(struct perimd_bus *t, int type, int rendered)
{
	if (rendered)
		return rendered;
	publish_line(t, type, t->line->buf, (size_t)t->line->bpos, 1);
	return 0;
}

int perimd_bus_publish_event(struct perimd_bus *t, const void *data, size_t size)
{
	const struct perim_ev_hdr *h = data;

	printbuf_reset(t->line);
	return publish_rendered(t, size >= sizeof(*h) ? h->type : 0, perim_ev_text(&t->jctx, data, size, t->line));
}

int perimd_bus_publish_drop(struct perimd_bus *t, const struct perim_drop_event *e, const char *dev,
			    const char *reason, uint32_t pid, uint64_t start_ns)
{
	printbuf_reset(t->line);
	return publish_rendered(t, PERIM_EV_XDP_DROP_TYPE,
				perim_xdp_drop_text(&t->jctx, e, dev, reason, pid, start_ns, t->line));
}

void perimd_bus_flush(struct perimd_bus *b)
{
	fflush(b->sink);
}

const struct perim_ev_json_ctx *perimd_bus_json_ctx(const struct perimd_bus *b)
{
	return &b->jctx;
}

/* The buffer for a sink just opened (none written yet): a failure only leaves stdio's default. */
static char *sink_buffer(FILE *f, const char *path)
{
	char *buf = malloc(SINK_BUFFER_BYTES);

	if (!buf || setvbuf(f, buf, _IOFBF, SINK_BUFFER_BYTES)) {
		pr_debug("tracers: a %d-byte buffer for the events file %s: %s\n", SINK_BUFFER_BYTES, path,
			 strerror(buf ? errno : ENOMEM));
		free(buf);
		return NULL;
	}
	return buf;
}

/* The sink at events_path (stdout when NULL), and its buffer; the caller keeps the old ones until then. */
static int open_sink(struct perimd_bus *t)
{
	FILE *f;

	if (!t->events_path) {
		t->sink = stdout;
		t->sink_buf = NULL;
		return 0;
	}
	f = fopen(t->events_path, "ae");
	if (!f) {
		pr_warn("tracers: opening the events file %s: %s\n", t->events_path, strerror(errno));
		return -errno;
	}
	t->sink = f;
	t->sink_buf = sink_buffer(f, t->events_path);
	return 0;
}

void perimd_bus_set_tap(struct perimd_bus *b, perimd_bus_tap_fn fn, void *ctx)
{
	b->tap = fn;
	b->tap_ctx = ctx;
}

int perimd_bus_reopen(struct perimd_bus *t, const char *events_path)
{
	char *old_path = t->events_path, *path = NULL, *old_buf = t->sink_buf;
	FILE *old = t->sink;
	int err;

	if (events_path && strcmp(events_path, "-")) {
		path = strdup(events_path);
		if (!path)
			return -ENOMEM;
	}
	fflush(old);
	t->events_path = path;
	err = open_sink(t);
	if (err) {
		free(path);
		t->events_path = old_path;
		t->sink = old;
		t->sink_buf = old_buf;
		return err;
	}
	free(old_path);
	if (old != stdout && fclose(old))
		pr_warn("tracers: closing the old events file: %s\n", strerror(errno));
	free(old_buf);
	return 0;
}

static int on_expiry_timer(void *ctx, int fd, uint32_t events)
{
	struct perimd_bus *b = ctx;

	perimd_dumps_expire(b->dumps, perim_mono_ns());
	/* Readers whose socket was full: what is pending, and the count of what they missed. */
	for (int i = 0; i < SUBSCRIBERS_MAX; i++) {
		int err;

		if (b->subs[i].fd >= 0 && (err = perimd_follower_catch_up(&b->subs[i])) < 0)
			subscriber_failed(b, &b->subs[i], err);
	}
	return 0;
}

int perimd_bus_new(struct perim_loop *loop, const char *events_path, struct perim_proctable *procs,
		   struct perimd_bus **out)
{
	struct perimd_bus *b = calloc(1, sizeof(*b));
	int err;

	*out = NULL;
	if (!b)
		return -ENOMEM;
	b->loop = loop;
	b->expiry_fd = -1;
	b->jctx.procs = procs;
	b->jctx.realtime_minus_monotonic_ns = realtime_minus_monotonic();
	b->jctx.cache = &b->json_cache;
	b->line = printbuf_new();
	if (!b->line) {
		err = -ENOMEM;
		goto fail;
	}
	b->backlogs[BACKLOG_TRACERS] = (struct backlog){ b->tracer_backlog, BACKLOG_MAX, 0 };
	b->backlogs[BACKLOG_DROPS] = (struct backlog){ b->drop_backlog, DROP_BACKLOG_MAX, 0 };
	for (int i = 0; i < SUBSCRIBERS_MAX; i++)
		b->subs[i].fd = -1;
	if (events_path && strcmp(events_path, "-")) {
		b->events_path = strdup(events_path);
		if (!b->events_path) {
			err = -ENOMEM;
			goto fail;
		}
	}
	err = open_sink(b);
	if (err)
		goto fail;
	b->dumps = perimd_dumps_new(loop);
	if (!b->dumps) {
		err = -ENOMEM;
		goto fail;
	}
	b->expiry_fd = perim_loop_every(loop, DUMP_EXPIRY_MS, on_expiry_timer, b);
	if (b->expiry_fd < 0) {
		err = b->expiry_fd;
		pr_warn("events: dump expiry timer: %s\n", strerror(-err));
		goto fail;
	}
	*out = b;
	return 0;
fail:
	perimd_bus_free(b);
	return err;
}

void perimd_bus_free(struct perimd_bus *t)
{
	if (!t)
		return;
	if (t->expiry_fd >= 0)
		perim_loop_del(t->loop, t->expiry_fd);
	for (int i = 0; i < SUBSCRIBERS_MAX; i++)
		if (t->subs[i].fd >= 0)
			subscriber_drop(t, &t->subs[i]);
	perimd_dumps_free(t->dumps);
	if (t->sink && t->sink != stdout)
		fclose(t->sink);
	else if (t->sink)
		fflush(t->sink);
	free(t->sink_buf);
	for (int i = 0; i < BACKLOG_MAX; i++)
		free(t->tracer_backlog[i].json);
	for (int i = 0; i < DROP_BACKLOG_MAX; i++)
		free(t->drop_backlog[i].json);
	if (t->line)
		printbuf_free(t->line);
	free(t->events_path);
	free(t);
}

/* ---- subscriptions ---- */

static int parse_types(const char *types, uint32_t *mask, char *bad, size_t badlen)
{
	char buf[256], *save = NULL, *tok;

	if (!types || !types[0]) {
		*mask = ~0u;
		return 0;
	}
	*mask = 0;
	snprintf(buf, sizeof(buf), "%s", types);
	for (tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		int type = perim_ev_type_parse(tok);

		if (type < 0) {
			snprintf(bad, badlen, "%s", tok);
			return -EINVAL;
		}
		*mask |= 1u << type;
	}
	return 0;
}

static struct json_object *status_json(int status, const char *error)
{
	struct json_object *o = json_object_new_object(), *result;

	json_object_object_add(o, "status", json_object_new_int(status));
	if (error) {
		json_object_object_add(o, "error", json_object_new_string(error));
	} else {
		result = json_object_new_object();
		json_object_object_add(result, "streaming", json_object_new_boolean(1));
		json_object_object_add(o, "result", result);
	}
	return o;
}

static int send_status(int fd, int status, const char *error)
{
	struct json_object *o = status_json(status, error);
	const char *text = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
	int err = perim_proto_send(fd, text, strlen(text));

	json_object_put(o);
	return err;
}

static int on_subscriber_readable(void *ctx, int fd, uint32_t events)
{
	struct perimd_bus *t = ctx;
	char buf[64];

	/* A follower sends nothing: readable means it hung up (or misbehaves). */
	if (read(fd, buf, sizeof(buf)) > 0 && !(events & (EPOLLHUP | EPOLLRDHUP)))
		return 0;
	for (int i = 0; i < SUBSCRIBERS_MAX; i++)
		if (t->subs[i].fd == fd)
			subscriber_drop(t, &t->subs[i]);
	return 0;
}

/* The oldest entry of bl from its i-th on (i counts from the oldest), or NULL. */
static struct backlog_entry *backlog_at(struct backlog *bl, unsigned *i)
{
	for (; *i < bl->cap; ++*i) {
		struct backlog_entry *b = &bl->e[(bl->next + *i) % bl->cap];

		if (b->json)
			return b;
	}
	return NULL;
}

/* The answer and the matching backlog as framed messages, both backlogs merged in publication order. */
static int frame_backlog(struct perimd_bus *t, uint32_t mask, struct perimd_frames *f)
{
	struct json_object *o = status_json(0, NULL);
	const char *text = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
	int err = perimd_frames_add(f, text, strlen(text));
	unsigned pos[BACKLOG_COUNT] = { 0 };

	json_object_put(o);
	while (!err) {
		struct backlog_entry *b = NULL;
		int from = -1;

		for (int k = 0; k < BACKLOG_COUNT; k++) {
			struct backlog_entry *c = backlog_at(&t->backlogs[k], &pos[k]);

			if (c && (!b || c->order < b->order)) {
				b = c;
				from = k;
			}
		}
		if (!b)
			break;
		pos[from]++;
		if (mask & (1u << b->type))
			err = perimd_frames_add(f, b->json, b->len);
	}
	return err;
}

/*
 * Written from the loop as the reader takes it (events_dump.h): a blocking
 * or timed send would either stall every other client or cut the tail off
 * for a reader slower than the timeout.
 */
static int dump_backlog(struct perimd_bus *t, int fd, uint32_t mask)
{
	struct perimd_frames f = { 0 };
	int err, fl;

	/* never a blocking write from the loop, whatever the socket was left as */
	fl = fcntl(fd, F_GETFL);
	if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK)) {
		err = -errno;
		pr_warn("tracers: events dump: making the socket non-blocking: %s\n", strerror(-err));
		close(fd);
		return err;
	}
	if (perimd_dumps_running(t->dumps) >= PERIMD_DUMPS_MAX) {
		send_status(fd, 1, "Error: too many `events` dumps in progress; try again");
		close(fd);
		return -EBUSY;
	}
	err = frame_backlog(t, mask, &f);
	if (err) {
		perimd_frames_free(&f);
		send_status(fd, 1, "Error: out of memory for the events dump");
		close(fd);
		return err;
	}
	return perimd_dumps_start(t->dumps, fd, &f);
}

int perimd_bus_subscribe(struct perimd_bus *t, int fd, const char *types, int follow)
{
	char bad[128], msg[512];
	uint32_t mask;
	int err, slot = -1, sndbuf = SUBSCRIBER_SNDBUF;

	if (parse_types(types, &mask, bad, sizeof(bad))) {
		snprintf(msg, sizeof(msg), "Error: argument \"%s\" is wrong: event types are "
			 "exec,fork,exit,signal,connect,accept,sock_state,ptrace,module,bpf,setid,mount,file,creds,guard,bind,lost,xdp_drop",
			 bad);
		send_status(fd, 2, msg);
		close(fd);
		return -EINVAL;
	}
	if (!follow)
		return dump_backlog(t, fd, mask);
	/* Room for a burst (an exec storm) while the reader is descheduled; best effort (follower.h). */
	if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &sndbuf, sizeof(sndbuf)) &&
	    setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof(sndbuf)))
		pr_debug("tracers: events --follow: send buffer of %d bytes: %s\n", sndbuf, strerror(errno));
	for (int i = 0; i < SUBSCRIBERS_MAX && slot < 0; i++)
		if (t->subs[i].fd < 0)
			slot = i;
	if (slot < 0) {
		/* Refused before any "streaming" answer: the client must not think it follows. */
		snprintf(msg, sizeof(msg), "Error: too many `events --follow` clients (at most %d); try again later",
			 SUBSCRIBERS_MAX);
		pr_warn("tracers: events --follow refused: already %d followers\n", SUBSCRIBERS_MAX);
		send_status(fd, 1, msg);
		close(fd);
		return -EUSERS;
	}
	err = send_status(fd, 0, NULL);
	if (err) {
		close(fd);
		return err;
	}
	err = perim_loop_add(t->loop, fd, EPOLLIN | EPOLLRDHUP, on_subscriber_readable, t);
	if (err) {
		close(fd);
		return err;
	}
	perimd_follower_reset(&t->subs[slot]);
	t->subs[slot].fd = fd;
	t->subs[slot].types = mask;
	refresh_followed_types(t);
	return 0;
}
