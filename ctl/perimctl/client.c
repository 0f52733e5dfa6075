// SPDX-License-Identifier: GPL-2.0
/* perimctl's side of the control protocol: send argv, read the status and result. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "perimctl.h"
#include "proto.h"

static int send_argv(int fd, int argc, char **argv)
{
	struct json_object *req = json_object_new_object();
	struct json_object *words = json_object_new_array();
	const char *text;
	int err;

	if (!req || !words) {
		json_object_put(req);
		json_object_put(words);
		return -ENOMEM;
	}
	json_object_object_add(req, "argv", words);
	for (int i = 0; i < argc; i++)
		json_object_array_add(words, json_object_new_string(argv[i]));
	text = json_object_to_json_string_ext(req, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
	err = perim_proto_send(fd, text, strlen(text));
	json_object_put(req);
	return err;
}

int perimctl_open(const struct perimctl_opts *opts, int argc, char **argv)
{
	int fd = perim_proto_connect(opts->socket);
	int err;

	if (fd < 0) {
		if (!opts->quiet)
			fprintf(stderr, "perimctl: cannot reach perimd at %s: %s\n", opts->socket, strerror(-fd));
		return -1;
	}
	err = send_argv(fd, argc, argv);
	if (err) {
		if (!opts->quiet)
			fprintf(stderr, "perimctl: cannot send to perimd at %s: %s\n", opts->socket, strerror(-err));
		close(fd);
		return -1;
	}
	return fd;
}

/* The daemon's error as one line, whatever it contains. */
static void print_error_line(const char *msg)
{
	size_t len = strlen(msg);

	while (len && (msg[len - 1] == '\n' || msg[len - 1] == ' '))
		len--;
	for (size_t i = 0; i < len; i++)
		fputc(msg[i] == '\n' ? ' ' : msg[i], stderr);
	fputc('\n', stderr);
}

static void print_refusal(int status, const char *error)
{
	if (error)
		print_error_line(error);
	else
		fprintf(stderr, "perimctl: perimd failed (status %d) without saying why\n", status);
}

static int response_status(struct json_object *resp, const char **error)
{
	struct json_object *status, *err;

	*error = NULL;
	if (!json_object_is_type(resp, json_type_object) ||
	    !json_object_object_get_ex(resp, "status", &status) ||
	    !json_object_is_type(status, json_type_int))
		return -1;
	if (json_object_object_get_ex(resp, "error", &err))
		*error = json_object_get_string(err);
	return json_object_get_int(status);
}

int perimctl_read_result(const struct perimctl_opts *opts, int fd, struct json_object **result)
{
	struct json_object *resp, *res;
	const char *error;
	size_t len;
	char *text;
	int status, err;

	*result = NULL;
	err = perim_proto_recv(fd, &text, &len);
	if (err) {
		if (!opts->quiet)
			fprintf(stderr, "perimctl: no response from perimd at %s: %s\n", opts->socket,
				err == -ECONNRESET ? "connection closed" : strerror(-err));
		return PERIM_EXIT_FAIL;
	}
	resp = json_tokener_parse(text);
	free(text);
	status = response_status(resp, &error);
	if (status < 0) {
		if (!opts->quiet)
			fprintf(stderr, "perimctl: bad response from perimd at %s: not {\"status\": N, ...}\n",
				opts->socket);
		json_object_put(resp);
		return PERIM_EXIT_FAIL;
	}
	if (status != PERIM_EXIT_OK) {
		if (!opts->quiet)
			print_refusal(status, error);
		json_object_put(resp);
		return status == PERIM_EXIT_BADINPUT ? PERIM_EXIT_BADINPUT : PERIM_EXIT_FAIL;
	}
	if (json_object_object_get_ex(resp, "result", &res))
		*result = json_object_get(res);
	else
		*result = json_object_new_object();
	json_object_put(resp);
	return PERIM_EXIT_OK;
}

int perimctl_call(const struct perimctl_opts *opts, int argc, char **argv, struct json_object **result)
{
	int fd = perimctl_open(opts, argc, argv);
	int status;

	*result = NULL;
	if (fd < 0)
		return PERIM_EXIT_FAIL;
	status = perimctl_read_result(opts, fd, result);
	close(fd);
	return status;
}
