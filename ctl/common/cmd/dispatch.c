// SPDX-License-Identifier: GPL-2.0
/*
 * The first word: which command object parses the rest, and the help
 * overview. Each object lives in its own file here (limit.c, acl.c, ...) and
 * defines cmd_object_NAME; adding one is a line in CMD_OBJECTS below.
 */
#include <string.h>

#include "core.h"

/* Every command object: the first word of a command. */
#define CMD_OBJECTS(X) \
	X(attach) X(detach) X(limit) X(shape) X(syncookie) X(allow) X(deny) \
	X(stats) X(top) X(status) X(events) X(fleet) X(protect) \
	X(show) X(apply) X(diff) X(confirm) X(rollback) X(help)

#define CMD_OBJECT_DECLARE(name) extern const struct cmd_object cmd_object_##name;
#define CMD_OBJECT_ENTRY(name) &cmd_object_##name,

CMD_OBJECTS(CMD_OBJECT_DECLARE)

static const struct cmd_object *const objects[] = { CMD_OBJECTS(CMD_OBJECT_ENTRY) };

static const struct cmd_object *find_object(const char *name)
{
	for (size_t i = 0; i < sizeof(objects) / sizeof(objects[0]); i++)
		if (!strcmp(objects[i]->name, name))
			return objects[i];
	return NULL;
}

static const char help_main[] =
"Usage: perimctl [-j|--json] [-s|--socket PATH] [-f|--force] [-h|--help] OBJECT COMMAND [ARGS]\n"
"OBJECT := { attach | detach | limit | shape | syncookie | allow | deny | stats | top | status | events | fleet | protect | show | apply | diff | confirm | rollback | help }\n"
"  -j, --json     print the daemon's JSON result as one line\n"
"  -s, --socket   the control socket (default: $PERIM_SOCKET, else " "/run/perim/perimd.sock)\n"
"  -f, --force    a deny, limit or fleet block may hit the client of your own SSH\n"
"                 session ($SSH_CONNECTION), and the protect entry covering it may go\n"
"  -h, --help     this text\n"
"Global options come before OBJECT. A changing command may end in --confirm SECONDS\n"
"(\"perimctl help confirm\").\n"
"\"perimctl help OBJECT\" or \"perimctl OBJECT help\" explains one object.\n"
"Exit status: 0 success, 1 failure (daemon unreachable, kernel refused), 2 bad input.\n";

static const char help_help[] =
"Usage: perimctl help [OBJECT]\n"
"       perimctl OBJECT help\n"
"Prints the help of one object, or the overview.\n";

const char *perim_cmd_help(const char *object)
{
	const struct cmd_object *o;

	if (!object)
		return help_main;
	o = find_object(object);
	return o ? o->help : NULL;
}

static bool is_help_word(const char *w)
{
	return !strcmp(w, "-h") || !strcmp(w, "--help");
}

static int parse_help(struct parse_ctx *ctx)
{
	const char *object = take_arg(ctx);

	ctx->cmd->kind = PERIM_CMD_HELP;
	ctx->cmd->help = perim_cmd_help(object && is_help_word(object) ? "help" : object);
	if (!ctx->cmd->help)
		return invarg(ctx, object, "unknown object; try \"perimctl help\"");
	return no_more_args(ctx);
}

const struct cmd_object cmd_object_help = { "help", parse_help, help_help };

/* "OBJECT help" or "-h"/"--help" anywhere after OBJECT asks for its help. */
static bool wants_object_help(int argc, char **argv)
{
	if (argc > 1 && !strcmp(argv[1], "help"))
		return true;
	for (int i = 1; i < argc; i++)
		if (is_help_word(argv[i]))
			return true;
	return false;
}

int perim_cmd_parse(int argc, char **argv, struct perim_cmd *cmd, char *err, size_t errlen)
{
	struct parse_ctx ctx = {
		.argc = argc, .argv = argv, .pos = 1, .cmd = cmd, .err = err, .errlen = errlen,
	};
	const struct cmd_object *o;

	memset(cmd, 0, sizeof(*cmd));
	cmd->slot = -1;
	cmd->limit.per_source = true;
	if (err && errlen)
		err[0] = '\0';
	if (argc < 1)
		return invarg(&ctx, "", "missing OBJECT; try \"perimctl help\"");
	o = find_object(argv[0]);
	if (o) {
		if (o != &cmd_object_help && wants_object_help(argc, argv)) {
			cmd->kind = PERIM_CMD_HELP;
			cmd->help = o->help;
			return 0;
		}
		return take_confirm(&ctx) ?: o->parse(&ctx) ?: confirm_allowed(&ctx);
	}
	if (is_help_word(argv[0])) {
		cmd->kind = PERIM_CMD_HELP;
		cmd->help = help_main;
		return 0;
	}
	return invarg(&ctx, argv[0], "unknown object; try \"perimctl help\"");
}
