// SPDX-License-Identifier: GPL-2.0
/*
 * The commands that keep running: stats --watch and top (one request per
 * second) and events (one connection: the response, then one message per event until
 * perimd closes it, which --follow never does). Both stop cleanly, exit 0, on
 * SIGINT or SIGTERM.
 *
 * The signals stay blocked except inside ppoll(), which unblocks them
 * atomically: a signal can never slip in between checking `stop` and waiting.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "perimctl.h"
#include "proto.h"

static volatile sig_atomic_t stop;

static void on_stop_signal(int sig)
{
	stop = 1;
}

/* Blocks SIGINT/SIGTERM; *waitmask is the mask to wait with (them unblocked). */
static int install_stop_handlers(sigset_t *waitmask)
{
	struct sigaction sa = { .sa_handler = on_stop_signal };
	sigset_t block;

	sigemptyset(&block);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGTERM);
	if (sigprocmask(SIG_BLOCK, &block, waitmask) < 0 ||
	    sigaction(SIGINT, &sa, NULL) < 0 || sigaction(SIGTERM, &sa, NULL) < 0) {
		fprintf(stderr, "perimctl: cannot install signal handlers: %s\n", strerror(errno));
		return -1;
	}
	sigdelset(waitmask, SIGINT);
	sigdelset(waitmask, SIGTERM);
	return 0;
}

/* Sleeps until the next whole second after `since`, or until a stop signal. */
static void wait_next_tick(const struct timespec *since, const sigset_t *waitmask)
{
	struct timespec now, left;
	long long ns;

	clock_gettime(CLOCK_MONOTONIC, &now);
	ns = 1000000000LL - ((now.tv_sec - since->tv_sec) * 1000000000LL + (now.tv_nsec - since->tv_nsec));
	if (ns <= 0 || stop)
		return;
	left.tv_sec = ns / 1000000000LL;
	left.tv_nsec = ns % 1000000000LL;
	ppoll(NULL, 0, &left, waitmask);
}

static void draw_watch_frame(const struct perimctl_opts *opts, const struct perim_cmd *cmd,
			     struct json_object *result, bool tty)
{
	char when[32];
	time_t t = time(NULL);

	if (opts->json) {
		perimctl_render(opts, cmd, result);
	} else {
		strftime(when, sizeof(when), "%H:%M:%S", localtime(&t));
		/* home + clear to end: redraw in place without scrolling */
		if (tty)
			fputs("\033[H\033[J", stdout);
		printf("perim %s at %s, every 1s%s\n\n", cmd->kind == PERIM_CMD_TOP ? "top" : "stats", when,
		       tty ? " (Ctrl-C to stop)" : "");
		perimctl_render(opts, cmd, result);
		if (!tty)
			printf("\n");
	}
	fflush(stdout);
}

static struct json_object *member(struct json_object *o, const char *key)
{
	struct json_object *v;

	return o && json_object_object_get_ex(o, key, &v) ? v : NULL;
}

static struct json_object *iface_named(struct json_object *result, const char *dev)
{
	struct json_object *ifaces = member(result, "interfaces");

	for (size_t i = 0; ifaces && i < json_object_array_length(ifaces); i++) {
		struct json_object *ifc = json_object_array_get_idx(ifaces, i);
		const char *name = json_object_get_string(member(ifc, "dev"));

		if (name && dev && !strcmp(name, dev))
			return ifc;
	}
	return NULL;
}

/* rates.syncookie_pps {synack_sent, cookie_valid, cookie_bad}: the SYN-cookie stage's counters per second. */
static void add_syncookie_rates(struct json_object *old, struct json_object *now, int64_t dt_ns,
				struct json_object *rates)
{
	static const char *const keys[] = { "synack_sent", "cookie_valid", "cookie_bad" };
	struct json_object *pps;

	if (!old || !now)
		return;
	pps = json_object_new_object();
	for (size_t k = 0; k < sizeof(keys) / sizeof(keys[0]); k++) {
		int64_t a = json_object_get_int64(member(old, keys[k])), b = json_object_get_int64(member(now, keys[k]));

		json_object_object_add(pps, keys[k], json_object_new_int64(b >= a ? (int64_t)((b - a) * 1e9 / dt_ns + 0.5) : 0));
	}
	json_object_object_add(rates, "syncookie_pps", pps);
}

/*
 * perimd's 1 Hz rates cover received, passed, dropped and each rule; the
 * drops of each reason get theirs here, from this frame and the one before,
 * as rates.dropped_pps_by_reason {reason: pps}.
 */
static void add_reason_rates(struct json_object *prev, struct json_object *cur)
{
	int64_t t0 = json_object_get_int64(member(prev, "time_ns"));
	int64_t t1 = json_object_get_int64(member(cur, "time_ns"));
	struct json_object *ifaces = member(cur, "interfaces");

	if (!prev || t1 <= t0 || !ifaces)
		return;
	for (size_t i = 0; i < json_object_array_length(ifaces); i++) {
		struct json_object *ifc = json_object_array_get_idx(ifaces, i);
		struct json_object *old = iface_named(prev, json_object_get_string(member(ifc, "dev")));
		struct json_object *now_drops = member(member(ifc, "counters"), "dropped");
		struct json_object *old_drops = member(member(old, "counters"), "dropped");
		struct json_object *rates = member(ifc, "rates"), *by_reason;

		if (!now_drops || !old_drops || !rates)
			continue;
		by_reason = json_object_new_object();
		json_object_object_foreach(now_drops, reason, counts) {
			int64_t a = json_object_get_int64(member(member(old_drops, reason), "packets"));
			int64_t b = json_object_get_int64(member(counts, "packets"));
			double pps = b >= a ? (b - a) * 1e9 / (t1 - t0) : 0;

			json_object_object_add(by_reason, reason, json_object_new_int64((int64_t)(pps + 0.5)));
		}
		json_object_object_add(rates, "dropped_pps_by_reason", by_reason);
		add_syncookie_rates(member(old, "syncookie"), member(ifc, "syncookie"), t1 - t0, rates);
	}
}

int perimctl_stats_watch(const struct perimctl_opts *opts, const struct perim_cmd *cmd,
			 int argc, char **argv)
{
	bool tty = isatty(STDOUT_FILENO);
	struct json_object *result, *prev = NULL;
	struct timespec tick;
	sigset_t waitmask;
	int status;

	if (install_stop_handlers(&waitmask))
		return PERIM_EXIT_FAIL;
	while (!stop) {
		clock_gettime(CLOCK_MONOTONIC, &tick);
		status = perimctl_call(opts, argc, argv, &result);
		if (status) {
			json_object_put(prev);
			return status;
		}
		add_reason_rates(prev, result);
		draw_watch_frame(opts, cmd, result, tty);
		json_object_put(prev);
		prev = result;
		wait_next_tick(&tick, &waitmask);
	}
	json_object_put(prev);
	return PERIM_EXIT_OK;
}

/* 1 when fd is readable, 0 on a stop signal, -1 on error. */
static int wait_readable(int fd, const sigset_t *waitmask)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };

	while (!stop) {
		int n = ppoll(&pfd, 1, NULL, waitmask);

		if (n > 0)
			return 1;
		if (n < 0 && errno != EINTR)
			return -1;
	}
	return 0;
}

int perimctl_events(const struct perimctl_opts *opts, int argc, char **argv)
{
	struct json_object *result, *event;
	sigset_t waitmask;
	size_t len;
	char *text;
	int fd, status, err, ready;

	if (install_stop_handlers(&waitmask))
		return PERIM_EXIT_FAIL;
	fd = perimctl_open(opts, argc, argv);
	if (fd < 0)
		return PERIM_EXIT_FAIL;
	status = perimctl_read_result(opts, fd, &result);
	if (status) {
		close(fd);
		return status;
	}
	if (json_object_object_length(result))
		perimctl_render(opts, &(struct perim_cmd){ .kind = PERIM_CMD_EVENTS }, result);
	json_object_put(result);
	fflush(stdout);
	while ((ready = wait_readable(fd, &waitmask)) > 0) {
		err = perim_proto_recv(fd, &text, &len);
		if (err == -ECONNRESET)
			break;  /* the daemon ended the stream */
		if (err) {
			fprintf(stderr, "perimctl: lost perimd at %s: %s\n", opts->socket, strerror(-err));
			status = PERIM_EXIT_FAIL;
			break;
		}
		event = json_tokener_parse(text);
		free(text);
		if (!event) {
			fprintf(stderr, "perimctl: bad event from perimd at %s: not JSON\n", opts->socket);
			status = PERIM_EXIT_FAIL;
			break;
		}
		perimctl_render_event(opts, event);
		json_object_put(event);
	}
	if (ready < 0) {
		fprintf(stderr, "perimctl: waiting for events: %s\n", strerror(errno));
		status = PERIM_EXIT_FAIL;
	}
	close(fd);
	return status;
}
