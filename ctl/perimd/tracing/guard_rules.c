// SPDX-License-Identifier: GPL-2.0
/* Parsing the guard rail file; the tracers write the result into their maps. */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>

#include "tracing/guard_rules.h"
#include "perim_events.h"

static int guard_op(const char *word)
{
	if (!strcmp(word, "open"))
		return PERIM_GUARD_OPEN;
	if (!strcmp(word, "exec"))
		return PERIM_GUARD_EXEC;
	if (!strcmp(word, "bpf"))
		return PERIM_GUARD_BPF;
	return -1;
}

static int guard_mode(const char *word)
{
	if (!strcmp(word, "audit"))
		return PERIM_GUARD_AUDIT;
	if (!strcmp(word, "enforce"))
		return PERIM_GUARD_ENFORCE;
	return -1;
}

static bool prefix_ok(const char *prefix)
{
	return prefix[0] == '/' && strlen(prefix) <= PERIM_PREFIX_MAX;
}

/* One line split into words; -EINVAL with err set when it is wrong. */
static int parse_line(struct perim_guard_config *c, char *text, int line, const char *where,
		      char *err, size_t errlen)
{
	char *save = NULL, *word[4] = {};
	int n = 0, op, mode = PERIM_GUARD_AUDIT;
	struct perim_guard_rule *r;

	text[strcspn(text, "#\n")] = '\0';
	for (char *w = strtok_r(text, " \t\r", &save); w; w = strtok_r(NULL, " \t\r", &save)) {
		if (n == 3) {
			snprintf(err, errlen, "Error: argument \"%s\" is wrong: %s: too many words", w, where);
			return -EINVAL;
		}
		word[n++] = w;
	}
	if (!n)
		return 0;
	if (n < 2) {
		snprintf(err, errlen, "Error: argument \"%s\" is wrong: %s: needs a PREFIX", word[0], where);
		return -EINVAL;
	}
	if (!prefix_ok(word[1])) {
		snprintf(err, errlen, "Error: argument \"%s\" is wrong: %s: PREFIX must be absolute, at most %d bytes",
			 word[1], where, PERIM_PREFIX_MAX);
		return -EINVAL;
	}
	if (!strcmp(word[0], "write")) {
		if (n > 2) {
			snprintf(err, errlen, "Error: argument \"%s\" is wrong: %s: write takes no mode", word[2], where);
			return -EINVAL;
		}
		if (c->n_write >= PERIM_GUARD_MAX_WRITE) {
			snprintf(err, errlen, "Error: argument \"%s\" is wrong: %s: more than %d write prefixes",
				 word[1], where, PERIM_GUARD_MAX_WRITE);
			return -E2BIG;
		}
		snprintf(c->write_prefixes[c->n_write++], PERIM_PREFIX_MAX + 1, "%s", word[1]);
		return 0;
	}
	op = guard_op(word[0]);
	if (op < 0) {
		snprintf(err, errlen, "Error: argument \"%s\" is wrong: %s: operation must be open, exec, bpf or write",
			 word[0], where);
		return -EINVAL;
	}
	if (n == 3 && (mode = guard_mode(word[2])) < 0) {
		snprintf(err, errlen, "Error: argument \"%s\" is wrong: %s: mode must be audit or enforce", word[2], where);
		return -EINVAL;
	}
	if (c->n_rules >= PERIM_GUARD_MAX_RULES) {
		snprintf(err, errlen, "Error: argument \"%s\" is wrong: %s: more than %d guard rules",
			 word[1], where, PERIM_GUARD_MAX_RULES);
		return -E2BIG;
	}
	for (int i = 0; i < c->n_rules; i++) {
		if (c->rules[i].op == op && !strcmp(c->rules[i].prefix, word[1])) {
			snprintf(err, errlen, "Error: argument \"%s\" is wrong: %s: a second %s rule for it (line %d)",
				 word[1], where, word[0], c->rules[i].line);
			return -EINVAL;
		}
	}
	r = &c->rules[c->n_rules++];
	r->op = op;
	r->mode = mode;
	r->line = line;
	snprintf(r->prefix, sizeof(r->prefix), "%s", word[1]);
	return 0;
}

/* Lines are at most this long, and must be text: a NUL byte would hide the rest of its line. */
#define GUARD_LINE_MAX 510

static int line_problem(const char *line, ssize_t len, const char *where, char *err, size_t errlen)
{
	if ((size_t)len != strlen(line)) {
		snprintf(err, errlen, "Error: argument \"%s\" is wrong: the line contains a NUL byte", where);
		return -EINVAL;
	}
	if (len - (line[len - 1] == '\n') > GUARD_LINE_MAX) {
		snprintf(err, errlen, "Error: argument \"%s\" is wrong: line longer than %d bytes",
			 where, GUARD_LINE_MAX);
		return -EINVAL;
	}
	return 0;
}

static FILE *open_rules_file(const char *path, char *err, size_t errlen)
{
	FILE *f = fopen(path, "re");
	struct stat st;

	if (!f) {
		snprintf(err, errlen, "Error: argument \"%s\" is wrong: %s", path, strerror(errno));
		return NULL;
	}
	if (fstat(fileno(f), &st) == 0 && S_ISDIR(st.st_mode)) {
		snprintf(err, errlen, "Error: argument \"%s\" is wrong: is a directory", path);
		fclose(f);
		return NULL;
	}
	return f;
}

int perim_guard_rules_parse(const char *path, struct perim_guard_config *c, char *err, size_t errlen)
{
	FILE *f = open_rules_file(path, err, errlen);
	char *line = NULL, where[300];
	int lineno = 0, ret = 0;
	size_t cap = 0;
	ssize_t len;

	memset(c, 0, sizeof(*c));
	if (!f)
		return -EINVAL;
	while (!ret && (len = getline(&line, &cap, f)) > 0) {
		lineno++;
		snprintf(where, sizeof(where), "%s:%d", path, lineno);
		ret = line_problem(line, len, where, err, errlen);
		if (!ret)
			ret = parse_line(c, line, lineno, where, err, errlen);
	}
	if (!ret && ferror(f)) {
		ret = -EIO;
		snprintf(err, errlen, "Error: argument \"%s\" is wrong: reading it failed", path);
	}
	free(line);
	fclose(f);
	return ret;
}
