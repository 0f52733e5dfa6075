// SPDX-License-Identifier: GPL-2.0
/* The control socket server: accept, check credentials, read one request, answer. */
#include <errno.h>
#include <grp.h>
#include <libgen.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <poll.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <json-c/json.h>

#include "control/ctlsock.h"
#include "control/commands.h"
#include "daemon.h"
#include "tracing/tracers.h"
#include "events/bus.h"
#include "fleet/fleet.h"
#include "log.h"
#include "control/peercred.h"
#include "loop.h"
#include "telemetry/stats.h"
#include "cmd.h"
#include "names.h"

#define REQUEST_MAX (16u << 20)     /* an argv; "apply" carries a whole ruleset */
#define CLIENT_DEADLINE_NS (5ULL * 1000000000ULL)

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

/* Bytes of a valid UTF-8 sequence at s (RFC 3629: no overlongs, surrogates, > U+10FFFF), or 0. */
static size_t utf8_seq_len(const unsigned char *s)
{
	size_t n = s[0] < 0x80 ? 1 : (s[0] & 0xe0) == 0xc0 ? 2 : (s[0] & 0xf0) == 0xe0 ? 3 :
		   (s[0] & 0xf8) == 0xf0 ? 4 : 0;
	uint32_t cp;

	if (n <= 1)
		return n;
	cp = s[0] & (0x7f >> n);
	for (size_t i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	if ((n == 2 && cp < 0x80) || (n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) ||
	    cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return n;
}

/*
 * An error message as valid UTF-8: json-c copies string bytes into the reply
 * as they are, so a stray byte (a truncated message, a name from the kernel)
 * would make the whole reply invalid JSON. Each such byte becomes '?'.
 */
static void utf8_sanitize(char *s)
{
	unsigned char *p = (unsigned char *)s;

	while (*p) {
		size_t n = utf8_seq_len(p);

		if (!n)
			*p++ = '?';
		else
			p += n;
	}
}

char *perimd_ctlsock_response(int status, struct json_object *result, const char *error)
{
	struct json_object *r = json_object_new_object();
	char safe[1024];
	char *text;

	snprintf(safe, sizeof(safe), "%s", error ? error : "");
	utf8_sanitize(safe);
	error = safe;

	json_object_object_add(r, "status", json_object_new_int(status));
	if (status == 0)
		json_object_object_add(r, "result", result ? result : json_object_new_object());
	else
		json_object_object_add(r, "error", json_object_new_string(error));
	text = strdup(json_object_to_json_string_ext(r, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
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

/*
 * The request, strictly: valid UTF-8 (the reply may echo an argument, and
 * must stay valid JSON), one JSON value and nothing after it.
 */
static struct json_object *request_parse(const char *text, size_t len, char *err, size_t errlen)
{
	struct json_tokener *tok = json_tokener_new();
	struct json_object *root;

	if (!tok) {
		snprintf(err, errlen, "Error: out of memory");
		return NULL;
	}
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_ALLOW_TRAILING_CHARS |
				    JSON_TOKENER_VALIDATE_UTF8);
	root = json_tokener_parse_ex(tok, text, len);
	if (!root && json_tokener_get_error(tok) == json_tokener_continue)
		snprintf(err, errlen, "Error: the request's JSON ends before it is complete");
	else if (!root)
		snprintf(err, errlen, "Error: the request is not valid JSON (%s at byte %zu)",
			 json_tokener_error_desc(json_tokener_get_error(tok)), json_tokener_get_parse_end(tok));
	else if (json_tokener_get_parse_end(tok) != len)
		snprintf(err, errlen, "Error: %zu bytes after the request's JSON object",
			 len - json_tokener_get_parse_end(tok));
	json_tokener_free(tok);
	if (root && !err[0])
		return root;
	json_object_put(root);
	return NULL;
}

int perimd_request_argv(const char *text, size_t len, struct json_object **root, char **argv,
			char *err, size_t errlen)
{
	struct json_object *args;
	int argc;

	err[0] = '\0';
	*root = request_parse(text, len, err, errlen);
	if (!*root && err[0])
		return -1;
	if (!*root || !json_object_object_get_ex(*root, "argv", &args) ||
	    !json_object_is_type(args, json_type_array)) {
		snprintf(err, errlen, "Error: the request is not {\"argv\": [...]}");
		return -1;
	}
	argc = json_object_array_length(args);
	if (argc > PERIMD_REQUEST_MAX_ARGS) {
		snprintf(err, errlen, "Error: more than %d arguments", PERIMD_REQUEST_MAX_ARGS);
		return -1;
	}
	for (int i = 0; i < argc; i++) {
		struct json_object *a = json_object_array_get_idx(args, i);

		if (!json_object_is_type(a, json_type_string)) {
			snprintf(err, errlen, "Error: argument %d is not a string", i + 1);
			return -1;
		}
		argv[i] = (char *)json_object_get_string(a);
		if (strlen(argv[i]) != (size_t)json_object_get_string_len(a)) {
			snprintf(err, errlen, "Error: argument %d contains a NUL character", i + 1);
			return -1;
		}
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
	perim_tracers_drain(d->tracers);
	ret = perimd_bus_subscribe(d->bus, fd, cmd->types[0] ? cmd->types : NULL, cmd->follow);
	if (ret < 0 && ret != -EUSERS)   /* -EUSERS: the bus said why */
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
	char *argv[PERIMD_REQUEST_MAX_ARGS + 1], err[512];
	struct perim_cmd cmd;
	int argc, status;

	if (c->denied) {
		client_respond(c, perimd_ctlsock_response(PERIM_EXIT_FAIL, NULL, c->denied));
		return;
	}
	argc = perimd_request_argv(c->in, c->need, &root, argv, err, sizeof(err));
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
		/* After: fleet apply's text points into the request. */
		hand_over_fleet(c, &cmd);
		json_object_put(root);
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
		c->deadline_ns = perim_mono_ns() + CLIENT_DEADLINE_NS;
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

/*
 * Bytes the client sent that perimd has not read yet: perimd is behind (a burst
 * of clients), not the client, so its deadline is not what ran out.
 */
static bool request_waiting(int fd)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };

	return poll(&p, 1, 0) == 1 && (p.revents & POLLIN);
}

void perimd_ctlsock_sweep(struct perimd_ctlsock *s)
{
	uint64_t now = perim_mono_ns();
	struct client *c, *next;

	for (c = s->clients; c; c = next) {
		next = c->next;
		if (now > c->deadline_ns && !(c->fd >= 0 && request_waiting(c->fd))) {
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
