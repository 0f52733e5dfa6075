// SPDX-License-Identifier: GPL-2.0
/* The control socket server: accept, check credentials, read one request, answer. */
#include <errno.h>
#include <grp.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <json-c/json.h>

#include "ctlsock.h"
#include "daemon.h"
#include "fleet/fleet.h"
#include "log.h"
#include "peercred.h"
#include "proto.h"

#define REQUEST_MAX (64u << 10)     /* an argv, not a bulk upload */
#define CLIENT_DEADLINE_NS (5ULL * 1000000000ULL)
#define MAX_ARGS 64

struct client {
	struct perimd_ctlsock *sock;
	int fd;
	uint64_t deadline_ns;
	uint32_t need;             /* body length, once the 4-byte header is in */
	size_t have;
	char *in;
	char *out;
	size_t out_len, out_off;
	char *denied;              /* refused peer: answered with this once its request is in */
	struct client *next;
};

struct perimd_ctlsock {
	struct perimd *d;
	int fd;
	gid_t group;
	struct client *clients;
};

static void client_close(struct client *c)
{
	struct client **pp;

	for (pp = &c->sock->clients; *pp; pp = &(*pp)->next)
		if (*pp == c) {
			*pp = c->next;
			break;
		}
	if (c->fd >= 0) {
		perim_loop_del(c->sock->d->loop, c->fd);
		close(c->fd);
	}
	free(c->in);
	free(c->out);
	free(c->denied);
	free(c);
}

/* ---- responses ---- */

char *perimd_ctlsock_response(int status, struct json_object *result, const char *error)
{
	struct json_object *r = json_object_new_object();
	char *text;

	json_object_object_add(r, "status", json_object_new_int(status));
	if (status == 0)
		json_object_object_add(r, "result", result ? result : json_object_new_object());
	else
		json_object_object_add(r, "error", json_object_new_string(error));
	text = strdup(json_object_to_json_string_ext(r, JSON_C_TO_STRING_PLAIN));
	json_object_put(r);
	return text;
}

static int client_write(void *ctx, int fd, uint32_t events);

static int flush_out(struct client *c)
{
	while (c->out_off < c->out_len) {
		ssize_t n = send(c->fd, c->out + c->out_off, c->out_len - c->out_off, MSG_NOSIGNAL);

		if (n < 0 && errno == EAGAIN)
			return 1;
		if (n <= 0)
			return -1;
		c->out_off += n;
	}
	return 0;
}

/* Queue the framed response; what the socket does not take now waits for EPOLLOUT. */
static void client_respond(struct client *c, char *json)
{
	uint32_t len = json ? strlen(json) : 0;
	int ret;

	if (!json) {
		client_close(c);
		return;
	}
	c->out = malloc(sizeof(len) + len);
	if (!c->out) {
		free(json);
		client_close(c);
		return;
	}
	memcpy(c->out, &len, sizeof(len));
	memcpy(c->out + sizeof(len), json, len);
	c->out_len = sizeof(len) + len;
	free(json);
	ret = flush_out(c);
	if (ret <= 0) {
		client_close(c);
		return;
	}
	perim_loop_del(c->sock->d->loop, c->fd);
	if (perim_loop_add(c->sock->d->loop, c->fd, EPOLLOUT, client_write, c) < 0)
		client_close(c);
}

static int client_write(void *ctx, int fd, uint32_t events)
{
	struct client *c = ctx;

	if (flush_out(c) <= 0)
		client_close(c);
	return 0;
}

/* ---- requests ---- */

static int request_argv(const char *text, struct json_object **root, char **argv, char *err, size_t errlen)
{
	struct json_object *args;
	int argc;

	*root = json_tokener_parse(text);
	if (!*root || !json_object_object_get_ex(*root, "argv", &args) ||
	    !json_object_is_type(args, json_type_array)) {
		snprintf(err, errlen, "Error: the request is not {\"argv\": [...]}");
		return -1;
	}
	argc = json_object_array_length(args);
	if (argc > MAX_ARGS) {
		snprintf(err, errlen, "Error: more than %d arguments", MAX_ARGS);
		return -1;
	}
	for (int i = 0; i < argc; i++) {
		struct json_object *a = json_object_array_get_idx(args, i);

		if (!json_object_is_type(a, json_type_string)) {
			snprintf(err, errlen, "Error: argument %d is not a string", i + 1);
			return -1;
		}
		argv[i] = (char *)json_object_get_string(a);
	}
	return argc;
}

static void hand_over_events(struct client *c, const struct perim_cmd *cmd)
{
	struct perimd *d = c->sock->d;
	int fd = c->fd, ret;

	if (!d->tracers) {
		client_respond(c, perimd_ctlsock_response(PERIM_EXIT_FAIL, NULL, "the tracers are not running"));
		return;
	}
	perim_loop_del(d->loop, fd);
	c->fd = -1;
	client_close(c);
	ret = perim_tracers_subscribe(d->tracers, fd, cmd->types[0] ? cmd->types : NULL, cmd->follow);
	if (ret < 0)
		pr_warn("perimd: events subscription: %s\n", strerror(-ret));
}

/* Answered when the fleet's bucket has acknowledged the change: the fleet takes the connection. */
static void hand_over_fleet(struct client *c, const struct perim_cmd *cmd)
{
	struct perimd *d = c->sock->d;
	int fd = c->fd;

	perim_loop_del(d->loop, fd);
	c->fd = -1;
	client_close(c);
	perimd_fleet_submit(d, cmd, fd);
}

static void client_request(struct client *c)
{
	struct json_object *root = NULL, *result = NULL;
	char *argv[MAX_ARGS + 1], err[512];
	struct perim_cmd cmd;
	int argc, status;

	if (c->denied) {
		client_respond(c, perimd_ctlsock_response(PERIM_EXIT_FAIL, NULL, c->denied));
		return;
	}
	argc = request_argv(c->in, &root, argv, err, sizeof(err));
	if (argc < 0) {
		status = PERIM_EXIT_BADINPUT;
	} else {
		argv[argc] = NULL;
		memset(&cmd, 0, sizeof(cmd));
		status = perim_cmd_parse(argc, argv, &cmd, err, sizeof(err));
	}
	if (status == 0 && cmd.kind == PERIM_CMD_EVENTS) {
		json_object_put(root);
		hand_over_events(c, &cmd);
		return;
	}
	if (status == 0 && perimd_fleet_answers_later(&cmd)) {
		json_object_put(root);
		hand_over_fleet(c, &cmd);
		return;
	}
	if (status == 0 && cmd.kind == PERIM_CMD_HELP) {
		result = json_object_new_object();
		json_object_object_add(result, "help", json_object_new_string(cmd.help ? cmd.help : ""));
	} else if (status == 0) {
		status = perimd_exec(c->sock->d, &cmd, &result, err, sizeof(err));
	}
	json_object_put(root);
	if (status)
		pr_info("perimd: request refused (%d): %s\n", status, err);
	client_respond(c, perimd_ctlsock_response(status, result, err));
}

static int client_read(void *ctx, int fd, uint32_t events)
{
	struct client *c = ctx;
	size_t want;
	ssize_t n;

	for (;;) {
		if (c->have < sizeof(c->need)) {
			want = sizeof(c->need) - c->have;
			n = recv(fd, (char *)&c->need + c->have, want, 0);
		} else {
			want = c->need - (c->have - sizeof(c->need));
			n = recv(fd, c->in + c->have - sizeof(c->need), want, 0);
		}
		if (n < 0 && errno == EAGAIN)
			return 0;
		if (n <= 0) {
			client_close(c);
			return 0;
		}
		c->have += n;
		if (c->have == sizeof(c->need)) {
			if (c->need == 0 || c->need > REQUEST_MAX) {
				client_respond(c, perimd_ctlsock_response(PERIM_EXIT_BADINPUT, NULL,
								"Error: request length out of range"));
				return 0;
			}
			c->in = calloc(1, c->need + 1);
			if (!c->in) {
				client_close(c);
				return 0;
			}
		}
		if (c->have > sizeof(c->need) && c->have == sizeof(c->need) + c->need) {
			/* One request per connection: stop reading, answer. */
			client_request(c);
			return 0;
		}
	}
}

static int on_accept(void *ctx, int lfd, uint32_t events)
{
	struct perimd_ctlsock *s = ctx;
	struct client *c;
	char why[160];
	int fd;

	while ((fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC)) >= 0) {
		c = calloc(1, sizeof(*c));
		if (!c) {
			close(fd);
			continue;
		}
		/*
		 * A refused peer still gets its request read before the answer:
		 * closing at once would hand it EPIPE instead of the reason.
		 */
		if (!perimd_peer_allowed(fd, s->group, s->d->cfg.group, why, sizeof(why))) {
			pr_info("perimd: %s\n", why);
			c->denied = strdup(why);
			if (!c->denied) {
				free(c);
				close(fd);
				continue;
			}
		}
		c->sock = s;
		c->fd = fd;
		c->deadline_ns = perimd_now_ns() + CLIENT_DEADLINE_NS;
		c->next = s->clients;
		s->clients = c;
		if (perim_loop_add(s->d->loop, fd, EPOLLIN, client_read, c) < 0) {
			c->fd = -1;
			close(fd);
			client_close(c);
		}
	}
	if (errno != EAGAIN && errno != EINTR && errno != ECONNABORTED)
		pr_warn("perimd: accept on %s: %s\n", s->d->cfg.socket, strerror(errno));
	return 0;
}

void perimd_ctlsock_sweep(struct perimd_ctlsock *s)
{
	uint64_t now = perimd_now_ns();
	struct client *c, *next;

	for (c = s->clients; c; c = next) {
		next = c->next;
		if (now > c->deadline_ns) {
			pr_info("perimd: dropping a control client that missed its deadline\n");
			client_close(c);
		}
	}
}

static int mkdir_parent(const char *path)
{
	char dir[sizeof(((struct sockaddr_un *)0)->sun_path)];

	snprintf(dir, sizeof(dir), "%s", path);
	dirname(dir);
	if (mkdir(dir, 0750) < 0 && errno != EEXIST)
		return -errno;
	return 0;
}

static int lookup_group(const char *name, gid_t *gid, char *err, size_t errlen)
{
	struct group *g;

	*gid = (gid_t)-1;
	if (!name[0])
		return 0;
	g = getgrnam(name);
	if (!g) {
		snprintf(err, errlen, "--group %s: no such group", name);
		return -ENOENT;
	}
	*gid = g->gr_gid;
	return 0;
}

static int listen_on(struct perimd_ctlsock *s, const char *path, char *err, size_t errlen)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	struct stat st;
	const char *step;
	int ret;

	if (strlen(path) >= sizeof(addr.sun_path)) {
		snprintf(err, errlen, "--socket %s: path too long", path);
		return -ENAMETOOLONG;
	}
	strcpy(addr.sun_path, path);
	step = "creating the directory of";
	ret = mkdir_parent(path);
	if (ret)
		goto fail;
	/* A socket left by a killed perimd: nobody listens on it any more. */
	if (!lstat(path, &st) && S_ISSOCK(st.st_mode))
		unlink(path);
	step = "creating";
	s->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (s->fd < 0)
		goto fail_errno;
	step = "binding";
	if (bind(s->fd, (struct sockaddr *)&addr, sizeof(addr)) < 0)
		goto fail_errno;
	step = "setting the mode of";
	if (chmod(path, 0660) < 0)
		goto fail_errno;
	step = "setting the group of";
	if (s->group != (gid_t)-1 && chown(path, -1, s->group) < 0)
		goto fail_errno;
	step = "listening on";
	if (listen(s->fd, 64) < 0)
		goto fail_errno;
	return 0;
fail_errno:
	ret = -errno;
fail:
	snprintf(err, errlen, "%s control socket %s: %s", step, path, strerror(-ret));
	return ret;
}

int perimd_ctlsock_open(struct perimd *d, struct perimd_ctlsock **out, char *err, size_t errlen)
{
	struct perimd_ctlsock *s = calloc(1, sizeof(*s));
	int ret;

	if (!s)
		return -ENOMEM;
	s->d = d;
	s->fd = -1;
	ret = lookup_group(d->cfg.group, &s->group, err, errlen);
	if (!ret)
		ret = listen_on(s, d->cfg.socket, err, errlen);
	if (!ret) {
		ret = perim_loop_add(d->loop, s->fd, EPOLLIN, on_accept, s);
		if (ret)
			snprintf(err, errlen, "watching the control socket: %s", strerror(-ret));
	}
	if (ret) {
		if (s->fd >= 0)
			close(s->fd);
		free(s);
		return ret;
	}
	*out = s;
	return 0;
}

void perimd_ctlsock_close(struct perimd_ctlsock *s)
{
	if (!s)
		return;
	while (s->clients)
		client_close(s->clients);
	perim_loop_del(s->d->loop, s->fd);
	close(s->fd);
	unlink(s->d->cfg.socket);
	free(s);
}
