// SPDX-License-Identifier: GPL-2.0
/*
 * perimctl: checks the command locally with the parser perimd uses (bad input
 * exits 2 without contacting the daemon), sends the command words to perimd,
 * and prints the result.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "perimctl.h"
#include "proto.h"

static const struct option global_options[] = {
	{ "json", no_argument, NULL, 'j' },
	{ "socket", required_argument, NULL, 's' },
	{ "help", no_argument, NULL, 'h' },
	{ "force", no_argument, NULL, 'f' },
	{ NULL, 0, NULL, 0 },
};

/* Global options end at the first non-option word: the OBJECT. */
static int parse_global_options(int argc, char **argv, struct perimctl_opts *opts, bool *help)
{
	const char *env = getenv("PERIM_SOCKET");
	int c;

	opts->socket = env && *env ? env : PERIM_SOCKET_DEFAULT;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "+:js:hf", global_options, NULL)) != -1) {
		switch (c) {
		case 'j':
			opts->json = true;
			break;
		case 's':
			if (!*optarg) {
				fprintf(stderr, "Error: argument \"%s\" is wrong: socket path is empty\n",
					argv[optind - 1]);
				return PERIM_EXIT_BADINPUT;
			}
			opts->socket = optarg;
			break;
		case 'h':
			*help = true;
			break;
		case 'f':
			opts->force = true;
			break;
		case ':':
			fprintf(stderr, "Error: argument \"%s\" is wrong: missing PATH after it\n",
				argv[optind - 1]);
			return PERIM_EXIT_BADINPUT;
		default:
			fprintf(stderr, "Error: argument \"%s\" is wrong: unknown option; try \"perimctl help\"\n",
				argv[optind - 1]);
			return PERIM_EXIT_BADINPUT;
		}
	}
	return PERIM_EXIT_OK;
}

static int run_once(const struct perimctl_opts *opts, const struct perim_cmd *cmd, int argc, char **argv)
{
	struct json_object *result;
	int status = perimctl_call(opts, argc, argv, &result);

	if (status)
		return status;
	perimctl_render(opts, cmd, result);
	json_object_put(result);
	return PERIM_EXIT_OK;
}

int main(int argc, char **argv)
{
	struct perimctl_opts opts = { 0 };
	struct perim_cmd cmd;
	bool help = false;
	char err[512];
	int status;

	status = parse_global_options(argc, argv, &opts, &help);
	if (status)
		return status;
	argc -= optind;
	argv += optind;
	if (help) {
		fputs(perim_cmd_help(NULL), stdout);
		return PERIM_EXIT_OK;
	}
	if (argc == 0) {
		fputs(perim_cmd_help(NULL), stderr);
		return PERIM_EXIT_BADINPUT;
	}
	if (perim_cmd_parse(argc, argv, &cmd, err, sizeof(err))) {
		fprintf(stderr, "%s\n", err);
		return PERIM_EXIT_BADINPUT;
	}
	if (cmd.kind == PERIM_CMD_HELP) {
		fputs(cmd.help, stdout);
		return PERIM_EXIT_OK;
	}
	if ((cmd.kind == PERIM_CMD_STATS || cmd.kind == PERIM_CMD_TOP) && cmd.watch)
		return perimctl_stats_watch(&opts, &cmd, argc, argv);
	if (cmd.kind == PERIM_CMD_EVENTS)
		return perimctl_events(&opts, argc, argv);
	if (cmd.kind == PERIM_CMD_SHOW || cmd.kind == PERIM_CMD_APPLY || cmd.kind == PERIM_CMD_DIFF ||
	    cmd.kind == PERIM_CMD_CONFIRM || cmd.kind == PERIM_CMD_ROLLBACK || cmd.kind == PERIM_CMD_FLEET_APPLY)
		return perimctl_ruleset(&opts, &cmd, argc, argv);
	status = perimctl_ssh_guard(&opts, &cmd, argc, argv, NULL);
	if (status)
		return status;
	return run_once(&opts, &cmd, argc, argv);
}
