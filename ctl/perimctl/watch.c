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

int perimctl_stats_watch(const struct perimctl_opts *opts, const struct perim_cmd *cmd,
			 int argc, char **argv)
{
	bool tty = isatty(STDOUT_FILENO);
	struct json_object *result;
	struct timespec tick;
	sigset_t waitmask;
	int status;

	if (install_stop_handlers(&waitmask))
		return PERIM_EXIT_FAIL;
	while (!stop) {
		clock_gettime(CLOCK_MONOTONIC, &tick);
		status = perimctl_call(opts, argc, argv, &result);
		if (status)
			return status;
		draw_watch_frame(opts, cmd, result, tty);
		json_object_put(result);
		wait_next_tick(&tick, &waitmask);
	}
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
