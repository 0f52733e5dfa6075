/* SPDX-License-Identifier: GPL-2.0 */
/* perimctl's modules: the client call, the renderers, the streaming loops. */
#ifndef PERIMCTL_H
#define PERIMCTL_H

#include <stdbool.h>
#include <json-c/json.h>

#include "cmd.h"

struct perimctl_opts {
	const char *socket;        /* -s, $PERIM_SOCKET, or PERIM_SOCKET_DEFAULT */
	bool json;                 /* -j: print results as returned */
	bool force;                /* --force: no SSH_CONNECTION guard (ssh_guard.c) */
	bool quiet;                /* print no error: a look-up whose failure the caller handles */
};

/* client.c */
/* Connects and sends {"argv": [...]}. Returns the fd, or -1 after printing why. */
int perimctl_open(const struct perimctl_opts *opts, int argc, char **argv);
/*
 * Reads one response from fd. Returns its status (an exit code) after printing
 * its error, if any; on 0, *result holds the result (put it with json_object_put).
 */
int perimctl_read_result(const struct perimctl_opts *opts, int fd, struct json_object **result);
/* One request, one response: perimctl_open + perimctl_read_result. */
int perimctl_call(const struct perimctl_opts *opts, int argc, char **argv, struct json_object **result);

/* render.c */
/* Prints a result: one JSON line with -j, else the human text for cmd's kind. */
void perimctl_render(const struct perimctl_opts *opts, const struct perim_cmd *cmd,
		     struct json_object *result);
/* The "rolled back at ... unless confirmed" line of a change made with --confirm, if it was. */
void perimctl_render_confirm(struct json_object *result);
void perimctl_render_event(const struct perimctl_opts *opts, struct json_object *event);

/* watch.c */
int perimctl_stats_watch(const struct perimctl_opts *opts, const struct perim_cmd *cmd,
			 int argc, char **argv);
/* The response, then every further message as an event, until EOF or a signal. */
int perimctl_events(const struct perimctl_opts *opts, int argc, char **argv);

/*
 * ssh_guard.c: PERIM_EXIT_BADINPUT (message printed) when cmd (or, for
 * apply, text) would leave the client of $SSH_CONNECTION dropped or limited
 * and not protected, by adding the deny, limit or fleet block or by taking
 * away its protect entry; else 0.
 */
int perimctl_ssh_guard(const struct perimctl_opts *opts, const struct perim_cmd *cmd, int argc, char **argv,
		       const char *text);

/* fleet_group.c: fleet apply, fleet gateways; the group lines of fleet status. */
void perimctl_render_fleet_apply(struct json_object *r);
void perimctl_render_fleet_gateways(struct json_object *r);
void perimctl_render_fleet_group_status(struct json_object *r);

/* ruleset.c: show, apply, diff (apply and diff send FILE's content). */
int perimctl_ruleset(const struct perimctl_opts *opts, const struct perim_cmd *cmd, int argc, char **argv);

#endif /* PERIMCTL_H */
