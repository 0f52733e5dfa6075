// SPDX-License-Identifier: GPL-2.0
/*
 * The control protocol (ctl/common/proto.c framing, then the request
 * parser perimd uses, then the command grammar): an input is the byte
 * stream a client sends, length header included.
 */
#include <string.h>

#include <json-c/json.h>

#include "cmd.h"
#include "control/ctlsock.h"
#include "fuzz_util.h"
#include "proto.h"

#define PIPE_ROOM 60000   /* below a pipe's default 64 KiB: one write never blocks */

static void parse_request(const char *json)
{
	char *argv[PERIMD_REQUEST_MAX_ARGS + 1], err[512] = "";
	struct json_object *root = NULL;
	struct perim_cmd cmd;
	int argc = perimd_request_argv(json, strlen(json), &root, argv, err, sizeof(err));

	if (argc < 0 && !err[0])
		abort();
	if (argc >= 0) {
		if (argc > PERIMD_REQUEST_MAX_ARGS)
			abort();
		argv[argc] = NULL;
		memset(&cmd, 0, sizeof(cmd));
		perim_cmd_parse(argc, argv, &cmd, err, sizeof(err));
	}
	json_object_put(root);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *json = NULL;
	size_t len;
	int fds[2];

	if (size > PIPE_ROOM)
		return -1;
	if (pipe2(fds, O_CLOEXEC) < 0)
		abort();
	if (size && write(fds[1], data, size) != (ssize_t)size)
		abort();
	close(fds[1]);
	if (perim_proto_recv(fds[0], &json, &len) == 0) {
		if (!json || len == 0 || len > PERIM_PROTO_MAX || json[len] != '\0' || len > size - 4)
			abort();
		parse_request(json);
	} else if (json) {
		abort();   /* a failed read hands nothing over */
	}
	free(json);
	close(fds[0]);
	return 0;
}
