/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The parse core every command object shares: the word cursor (NEXT_ARG
 * style), the one invarg() wording, strict numbers, units, devices,
 * prefixes, a {name, handler} table per level and the formatter's output
 * buffer. Private to ctl/common/cmd/; callers use cmd.h.
 */
#ifndef PERIM_CMD_CORE_H
#define PERIM_CMD_CORE_H

#include <net/if.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cmd.h"
#include "names.h"

struct parse_ctx {
	int argc;
	char **argv;
	int pos;                   /* index of the next unread word */
	struct perim_cmd *cmd;
	char *err;
	size_t errlen;
	const char *mode_word;     /* limit set: the per-source/per-destination/aggregate word given */
};

/* The one wording for every bad argument. Returns PERIM_EXIT_BADINPUT. */
__attribute__((format(printf, 3, 4)))
int invarg(struct parse_ctx *ctx, const char *token, const char *why, ...);

const char *take_arg(struct parse_ctx *ctx);
/* NEXT_ARG: the value after keyword kw, or a clean error naming kw. */
int next_arg(struct parse_ctx *ctx, const char *kw, const char *what, const char **val);
int no_more_args(struct parse_ctx *ctx);
bool looks_like_option(const char *tok);

/*
 * Leading decimal digits of s as a u64; *end points past them. Rejects signs,
 * spaces, overflow, and leading zeros ("08" is -EDOM: octal to some readers).
 */
int parse_digits(const char *s, uint64_t *v, const char **end);
/* A whole-token decimal number in [lo, hi]. */
int parse_number(struct parse_ctx *ctx, const char *tok, const char *what,
		 uint64_t lo, uint64_t hi, uint64_t *v);
/* N{unit}: a positive number with one of units glued on, scaled, at most max. */
int parse_with_unit(struct parse_ctx *ctx, const char *tok, const char *what,
		    const struct perim_unit *units, const char *unit_names,
		    uint64_t max, const char *max_text, uint64_t *out);
/* A port 1..65535 at s (inside token tok, which errors name). */
int parse_port(struct parse_ctx *ctx, const char *tok, const char *s, const char **end, uint16_t *port);

/* "P" or "P-Q" (low-high) into *lo, *hi. */
int parse_port_range(struct parse_ctx *ctx, const char *tok, uint16_t *lo, uint16_t *hi);

int parse_dev(struct parse_ctx *ctx, const char *tok, char dev[IF_NAMESIZE]);
/* The DEV a command requires, named after the command word when missing. */
int take_dev(struct parse_ctx *ctx, const char *command);
/* An optional trailing DEV (list, stats). */
int take_optional_dev(struct parse_ctx *ctx);

int parse_prefix(struct parse_ctx *ctx, const char *tok, struct perim_prefix *p);

/* One level of OBJECT COMMAND: a {name, handler} table ending in { NULL }. */
struct cmd_handler {
	const char *name;
	int (*parse)(struct parse_ctx *ctx);
};

/* OBJECT COMMAND: the object alone means its "list". */
int dispatch_command(struct parse_ctx *ctx, const struct cmd_handler *table, const char *expected);

/*
 * A command object (the first word), defined by its file in this folder as
 * cmd_object_NAME and listed once in dispatch.c.
 */
struct cmd_object {
	const char *name;
	int (*parse)(struct parse_ctx *ctx);
	const char *help;          /* what "perimctl help NAME" prints */
};

/*
 * ruleset.c: a trailing "--confirm SECONDS" of any command, taken off the
 * words before the object parses them; after it parsed, whether the command
 * may carry one. Both 0 or PERIM_EXIT_BADINPUT.
 */
int take_confirm(struct parse_ctx *ctx);
int confirm_allowed(struct parse_ctx *ctx);

/* A formatter's output: snprintf semantics over several appends. */
struct out {
	char *buf;
	size_t len;
	int total;
};

/* An empty output over buf (which may be NULL to measure). */
struct out out_start(char *buf, size_t len);
__attribute__((format(printf, 2, 3)))
void out_add(struct out *o, const char *fmt, ...);
/* out_add(o, "%s", s) and out_add(o, "%llu", v) without a format to interpret: a state file formats thousands of lines. */
void out_str(struct out *o, const char *s);
void out_uint(struct out *o, uint64_t v);

#endif /* PERIM_CMD_CORE_H */
