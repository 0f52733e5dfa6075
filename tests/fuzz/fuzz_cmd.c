// SPDX-License-Identifier: GPL-2.0
/*
 * The command grammar (ctl/common/cmd.c): an input is an argv, words
 * separated by NUL bytes, as the control socket can deliver them. A command
 * that parses and has a state-file form is formatted and parsed again: the
 * state file must read back what perimd wrote.
 */
#include "cmd.h"
#include "fuzz_util.h"

#define MAX_WORDS 64

static void split_state_words(char *line, char **argv, int *argc)
{
	*argc = 0;
	for (char *w = strtok(line, " "); w && *argc < MAX_WORDS; w = strtok(NULL, " "))
		argv[(*argc)++] = w;
}

/* The formatted line must parse to a command that formats to the same line. */
static void check_round_trip(const char *line)
{
	char copy[1024], again[1024], err[512], *argv[MAX_WORDS];
	struct perim_cmd cmd;
	int argc;

	snprintf(copy, sizeof(copy), "%s", line);
	split_state_words(copy, argv, &argc);
	memset(&cmd, 0, sizeof(cmd));
	if (perim_cmd_parse(argc, argv, &cmd, err, sizeof(err))) {
		fprintf(stderr, "state form \"%s\" does not parse: %s\n", line, err);
		abort();
	}
	again[0] = '\0';
	if (cmd.kind == PERIM_CMD_LIMIT_SET)
		perim_limit_format(cmd.dev, &cmd.limit, again, sizeof(again));
	else if (cmd.kind == PERIM_CMD_SHAPE_SET)
		perim_shape_format(cmd.dev, &cmd.shape, again, sizeof(again));
	else if (cmd.kind == PERIM_CMD_ATTACH)
		perim_attach_format(cmd.dev, cmd.mode, cmd.slot, again, sizeof(again));
	if (strcmp(line, again)) {
		fprintf(stderr, "state form \"%s\" reads back as \"%s\"\n", line, again);
		abort();
	}
}

static void check_formats(const struct perim_cmd *cmd)
{
	char line[1024], prefix[64], again[64];
	struct perim_prefix p;

	switch (cmd->kind) {
	case PERIM_CMD_LIMIT_SET:
		perim_limit_format(cmd->dev, &cmd->limit, line, sizeof(line));
		check_round_trip(line);
		break;
	case PERIM_CMD_SHAPE_SET:
		perim_shape_format(cmd->dev, &cmd->shape, line, sizeof(line));
		check_round_trip(line);
		break;
	case PERIM_CMD_ATTACH:
		perim_attach_format(cmd->dev, cmd->mode, cmd->slot, line, sizeof(line));
		check_round_trip(line);
		break;
	case PERIM_CMD_ALLOW_ADD:
	case PERIM_CMD_DENY_ADD:
		perim_prefix_format(&cmd->prefix, prefix, sizeof(prefix));
		if (perim_prefix_parse(prefix, &p) || (perim_prefix_format(&p, again, sizeof(again)), strcmp(prefix, again))) {
			fprintf(stderr, "prefix \"%s\" does not read back\n", prefix);
			abort();
		}
		break;
	default:
		break;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *buf = fuzz_strndup(data, size), *argv[MAX_WORDS + 1], err[512] = "";
	struct perim_cmd cmd;
	int argc = 0;

	for (size_t off = 0; off < size && argc < MAX_WORDS;) {
		argv[argc++] = buf + off;
		off += strlen(buf + off) + 1;
	}
	argv[argc] = NULL;
	memset(&cmd, 0, sizeof(cmd));
	if (perim_cmd_parse(argc, argv, &cmd, err, sizeof(err)) == 0)
		check_formats(&cmd);
	else if (!memchr(err, '\0', sizeof(err)) || !err[0])
		abort();   /* a refusal always says why, in one terminated line */
	free(buf);
	return 0;
}
