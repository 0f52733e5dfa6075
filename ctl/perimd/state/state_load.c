// SPDX-License-Identifier: GPL-2.0
/*
 * The state file's reader: the whole file is read and verified against its
 * trailer before any line counts, so a cut or foreign file changes nothing.
 */
#include <errno.h>
#include <stdio.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "state/state.h"
#include "state/state_format.h"

#define MAX_WORDS 64
#define MAX_LINE 4096

void perimd_state_file_free(struct perimd_state_file *sf)
{
	free(sf->body);
	memset(sf, 0, sizeof(*sf));
}

static int read_whole(int fd, const char *path, char **buf, size_t *len, char *err, size_t errlen)
{
	struct stat st;
	ssize_t n;

	if (fstat(fd, &st) < 0) {
		snprintf(err, errlen, "reading state file %s: %s", path, strerror(errno));
		return PERIM_EXIT_FAIL;
	}
	if (!S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "reading state file %s: %s", path,
			 S_ISDIR(st.st_mode) ? strerror(EISDIR) : "not a regular file");
		return PERIM_EXIT_FAIL;
	}
	if ((unsigned long long)st.st_size > PERIMD_STATE_MAX_BYTES) {
		snprintf(err, errlen, "state file %s: %lld bytes, more than a perim state file can hold (%u)",
			 path, (long long)st.st_size, PERIMD_STATE_MAX_BYTES);
		return PERIM_EXIT_BADINPUT;
	}
	*buf = malloc(st.st_size + 1);
	if (!*buf) {
		snprintf(err, errlen, "reading state file %s: out of memory", path);
		return PERIM_EXIT_FAIL;
	}
	*len = 0;
	while ((n = read(fd, *buf + *len, st.st_size - *len)) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			snprintf(err, errlen, "reading state file %s: %s", path, strerror(errno));
			free(*buf);
			*buf = NULL;
			return PERIM_EXIT_FAIL;
		}
		*len += n;
		if (*len == (size_t)st.st_size)
			break;
	}
	(*buf)[*len] = '\0';
	return 0;
}

static bool starts_with(const char *buf, size_t len, const char *prefix)
{
	size_t n = strlen(prefix);

	return len >= n && memcmp(buf, prefix, n) == 0;
}

/* The trailer must be the last line and match the bytes before it. */
static int verify_trailer(struct perimd_state_file *sf, const char *path, char *err, size_t errlen)
{
	char want[PERIMD_STATE_TRAILER_MAX];
	const char *last;
	size_t body_len;

	if (sf->body[sf->body_len - 1] != '\n') {
		snprintf(err, errlen, "state file %s: cut short (its last line is incomplete)", path);
		return PERIM_EXIT_BADINPUT;
	}
	last = sf->body + sf->body_len - 1;
	while (last > sf->body && last[-1] != '\n')
		last--;
	if (!starts_with(last, sf->body + sf->body_len - last, "# perim-state lines ")) {
		snprintf(err, errlen, "state file %s: no trailer line (\"# perim-state lines N crc32 X\"): cut short?",
			 path);
		return PERIM_EXIT_BADINPUT;
	}
	body_len = last - sf->body;
	perimd_state_trailer(sf->body, body_len, want);
	if (strlen(want) != sf->body_len - body_len || memcmp(want, last, strlen(want)) != 0) {
		snprintf(err, errlen, "state file %s: the content does not match its trailer (line count or crc32): "
			 "cut short or edited", path);
		return PERIM_EXIT_BADINPUT;
	}
	sf->body_len = body_len;
	sf->body[body_len] = '\0';
	return 0;
}

int perimd_state_load(const char *path, struct perimd_state_file *sf, char *err, size_t errlen)
{
	int fd, ret;

	memset(sf, 0, sizeof(*sf));
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 && errno == ENOENT)
		return 0;
	if (fd < 0) {
		snprintf(err, errlen, "reading state file %s: %s", path, strerror(errno));
		return PERIM_EXIT_FAIL;
	}
	ret = read_whole(fd, path, &sf->body, &sf->body_len, err, errlen);
	close(fd);
	if (ret)
		return ret;
	sf->present = true;
	if (starts_with(sf->body, sf->body_len, PERIMD_STATE_HEADER)) {
		ret = verify_trailer(sf, path, err, errlen);
	} else if (starts_with(sf->body, sf->body_len, PERIMD_STATE_HEADER_V1)) {
		sf->legacy = true;
	} else {
		snprintf(err, errlen, "state file %s: %s", path, sf->body_len ? "does not start with perim's "
			 "header: not a perim state file" : "empty: not a perim state file");
		ret = PERIM_EXIT_BADINPUT;
	}
	if (ret)
		perimd_state_file_free(sf);
	return ret;
}

static int split_words(char *line, char **argv)
{
	int argc = 0;

	for (char *w = strtok(line, " \t\r\n"); w; w = strtok(NULL, " \t\r\n")) {
		if (argc == MAX_WORDS)
			return -E2BIG;
		argv[argc++] = w;
	}
	return argc;
}

/* Where a walk over the lines is: the configuration, or the pending rollback after it. */
struct walk {
	const char *path;
	int lineno;
	bool rollback_lines;       /* deliver the rollback-to lines, not the configuration */
	bool in_rollback;          /* past the rollback-at line */
	uint64_t rollback_at_ms;
	perimd_state_fn fn;
	void *ctx;
};

static int bad_line(const struct walk *w, char *err, size_t errlen, const char *why)
{
	snprintf(err, errlen, "state file %s:%d: %s", w->path, w->lineno, why);
	return PERIM_EXIT_BADINPUT;
}

/* "rollback-at UNIX_MS": once, after the configuration. */
static int rollback_at(struct walk *w, int argc, char **argv, char *err, size_t errlen)
{
	char *end;

	if (w->in_rollback)
		return bad_line(w, err, errlen, "a second " PERIMD_STATE_ROLLBACK_AT " line");
	if (argc != 2 || argv[1][0] < '1' || argv[1][0] > '9' || strlen(argv[1]) > 19)
		return bad_line(w, err, errlen, PERIMD_STATE_ROLLBACK_AT " takes one time in ms since 1970");
	w->rollback_at_ms = strtoull(argv[1], &end, 10);
	if (*end)
		return bad_line(w, err, errlen, PERIMD_STATE_ROLLBACK_AT " takes one time in ms since 1970");
	w->in_rollback = true;
	return 0;
}

static int replay_line(struct walk *w, char *line, char *err, size_t errlen)
{
	char *argv[MAX_WORDS], why[512] = "";
	struct perim_cmd cmd;
	int argc = split_words(line, argv), skip = 0, ret;
	bool rollback_to;

	if (argc == 0 || argv[0][0] == '#')
		return 0;
	if (argc < 0) {
		snprintf(why, sizeof(why), "more than %d words", MAX_WORDS);
		return bad_line(w, err, errlen, why);
	}
	if (!strcmp(argv[0], PERIMD_STATE_ROLLBACK_AT))
		return rollback_at(w, argc, argv, err, errlen);
	rollback_to = !strcmp(argv[0], PERIMD_STATE_ROLLBACK_TO);
	if (rollback_to && !w->in_rollback)
		return bad_line(w, err, errlen, "a " PERIMD_STATE_ROLLBACK_TO " line before the "
				PERIMD_STATE_ROLLBACK_AT " line");
	if (!rollback_to && w->in_rollback)
		return bad_line(w, err, errlen, "a configuration line after the " PERIMD_STATE_ROLLBACK_AT " line");
	skip = rollback_to ? 1 : 0;
	if (perim_cmd_parse(argc - skip, argv + skip, &cmd, why, sizeof(why)))
		return bad_line(w, err, errlen, why);
	if (rollback_to && (!perim_cmd_ruleset_line_kind(cmd.kind) || cmd.confirm_s))
		return bad_line(w, err, errlen, "a " PERIMD_STATE_ROLLBACK_TO " line holds a configuration line");
	if (rollback_to != w->rollback_lines)
		return 0;
	ret = w->fn(w->ctx, &cmd, why, sizeof(why));
	if (ret)
		snprintf(err, errlen, "state file %s:%d: %s", w->path, w->lineno, why[0] ? why : "refused");
	return ret;
}

static int walk_lines(const struct perimd_state_file *sf, struct walk *w, char *err, size_t errlen)
{
	const char *p = sf->body, *end = sf->body + sf->body_len;
	char line[MAX_LINE];
	int ret = 0;

	while (!ret && p < end) {
		const char *nl = memchr(p, '\n', end - p);
		size_t n = (nl ? nl : end) - p;

		w->lineno++;
		if (n >= sizeof(line)) {
			snprintf(line, sizeof(line), "longer than %d bytes", MAX_LINE - 1);
			return bad_line(w, err, errlen, line);
		}
		memcpy(line, p, n);
		line[n] = '\0';
		ret = replay_line(w, line, err, errlen);
		p += n + 1;
	}
	return ret;
}

int perimd_state_replay(const struct perimd_state_file *sf, const char *path, perimd_state_fn fn, void *ctx,
			char *err, size_t errlen)
{
	struct walk w = { .path = path, .fn = fn, .ctx = ctx };

	return walk_lines(sf, &w, err, errlen);
}

int perimd_state_replay_rollback(const struct perimd_state_file *sf, const char *path, uint64_t *deadline_ms,
				 perimd_state_fn fn, void *ctx, char *err, size_t errlen)
{
	struct walk w = { .path = path, .rollback_lines = true, .fn = fn, .ctx = ctx };
	int ret = walk_lines(sf, &w, err, errlen);

	*deadline_ms = ret ? 0 : w.rollback_at_ms;
	return ret;
}

/* Past the header line: the commands only. */
static const char *commands_of(const char *body, size_t len, size_t *rest)
{
	const char *nl = memchr(body, '\n', len);

	*rest = nl ? len - (nl + 1 - body) : 0;
	return nl ? nl + 1 : body + len;
}

bool perimd_state_unchanged(const struct perimd_state_file *sf, const struct perim_model *m)
{
	size_t len, a_len, b_len;
	const char *a, *b;
	char *body = NULL;
	bool same;

	if (perimd_state_render(m, &body, &len))
		return false;
	a = commands_of(body, len, &a_len);
	b = sf->present ? commands_of(sf->body, sf->body_len, &b_len) : "";
	if (!sf->present)
		b_len = 0;
	same = a_len == b_len && memcmp(a, b, a_len) == 0;
	free(body);
	return same;
}
