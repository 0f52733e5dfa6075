// SPDX-License-Identifier: GPL-2.0
/*
 * show, apply, diff on the client side: apply and diff read FILE ("-" is
 * standard input) and send its content as "--text TEXT"; perimd parses it.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "perimctl.h"
#include "proto.h"

static char *read_file(const char *path)
{
	FILE *f = strcmp(path, "-") ? fopen(path, "r") : stdin;
	size_t len = 0, cap = 0, n;
	char *buf = NULL, *grown;

	if (!f) {
		fprintf(stderr, "Error: argument \"%s\" is wrong: %s\n", path, strerror(errno));
		return NULL;
	}
	do {
		if (len + 4096 + 1 > cap) {
			cap = cap ? 2 * cap : 65536;
			grown = cap <= PERIM_PROTO_MAX ? realloc(buf, cap) : NULL;
			if (!grown) {
				fprintf(stderr, "Error: argument \"%s\" is wrong: too big\n", path);
				free(buf);
				buf = NULL;
				break;
			}
			buf = grown;
		}
		n = fread(buf + len, 1, cap - len - 1, f);
		len += n;
	} while (n > 0);
	if (buf && ferror(f)) {
		fprintf(stderr, "Error: argument \"%s\" is wrong: %s\n", path, strerror(errno));
		free(buf);
		buf = NULL;
	}
	if (buf && memchr(buf, '\0', len)) {
		fprintf(stderr, "Error: argument \"%s\" is wrong: a ruleset is text; this file holds a NUL byte\n",
			path);
		free(buf);
		buf = NULL;
	}
	if (buf)
		buf[len] = '\0';
	if (f != stdin)
		fclose(f);
	return buf;
}

static struct json_object *get(struct json_object *o, const char *key)
{
	struct json_object *v;

	return json_object_object_get_ex(o, key, &v) ? v : NULL;
}

static void render_changes(struct json_object *r, bool list)
{
	struct json_object *changes = get(r, "changes");
	size_t n = changes ? json_object_array_length(changes) : 0;

	for (size_t i = 0; list && i < n; i++) {
		struct json_object *c = json_object_array_get_idx(changes, i);
		const char *op = json_object_get_string(get(c, "op"));

		printf("%c %s\n", op[0] == 'a' ? '+' : op[0] == 'r' && op[2] == 'm' ? '-' : '~',
		       json_object_get_string(get(c, "line")));
	}
	if (!json_object_get_boolean(get(r, "changed"))) {
		printf("%s: no change\n", json_object_get_string(get(r, "file")));
		return;
	}
	printf("%s: %d added, %d removed, %d replaced%s\n", json_object_get_string(get(r, "file")),
	       json_object_get_int(get(r, "added")), json_object_get_int(get(r, "removed")),
	       json_object_get_int(get(r, "replaced")),
	       json_object_get_boolean(get(r, "applied")) ? "" : " (not applied)");
}

static void render(const struct perimctl_opts *opts, const struct perim_cmd *cmd, struct json_object *r)
{
	if (cmd->kind == PERIM_CMD_FLEET_APPLY)
		perimctl_render(opts, cmd, r);
	else if (opts->json)
		printf("%s\n", json_object_to_json_string_ext(r, JSON_C_TO_STRING_PLAIN |
							       JSON_C_TO_STRING_NOSLASHESCAPE));
	else if (cmd->kind == PERIM_CMD_SHOW)
		fputs(json_object_get_string(get(r, "text")), stdout);
	else if (cmd->kind == PERIM_CMD_CONFIRM || cmd->kind == PERIM_CMD_ROLLBACK)
		printf("%s\n", json_object_get_string(get(r, "done")));
	else
		render_changes(r, cmd->kind == PERIM_CMD_DIFF);
	if (!opts->json)
		perimctl_render_confirm(r);
}

int perimctl_ruleset(const struct perimctl_opts *opts, const struct perim_cmd *cmd, int argc, char **argv)
{
	struct json_object *result = NULL;
	char **words, *text = NULL;
	int status;

	words = calloc(argc + 3, sizeof(*words));
	if (!words) {
		fprintf(stderr, "out of memory\n");
		return PERIM_EXIT_FAIL;
	}
	memcpy(words, argv, argc * sizeof(*words));
	if ((cmd->kind == PERIM_CMD_APPLY || cmd->kind == PERIM_CMD_DIFF || cmd->kind == PERIM_CMD_FLEET_APPLY) &&
	    !cmd->text) {
		text = read_file(cmd->file);
		if (!text) {
			free(words);
			return PERIM_EXIT_BADINPUT;
		}
		words[argc++] = "--text";
		words[argc++] = text;
	}
	/* Thousands of changed lines cost perimd, the socket and perimctl more than the switch itself. */
	if (cmd->kind == PERIM_CMD_APPLY && !opts->json && !cmd->counts_only)
		words[argc++] = "--counts-only";
	status = perimctl_ssh_guard(opts, cmd, argc, words, text);
	if (status) {
		free(text);
		free(words);
		return status;
	}
	status = perimctl_call(opts, argc, words, &result);
	if (!status)
		render(opts, cmd, result);
	json_object_put(result);
	free(text);
	free(words);
	return status;
}
