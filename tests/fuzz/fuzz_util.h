/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Helpers shared by the libFuzzer targets: the parsers under test read
 * files, so an input becomes one or more files in a private scratch
 * directory; a multi-file input is split into sections at "\n%%\n" lines.
 */
#ifndef PERIM_FUZZ_UTIL_H
#define PERIM_FUZZ_UTIL_H

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define FUZZ_SECTION_SEP "\n%%\n"

struct fuzz_section {
	const uint8_t *data;
	size_t len;
};

/* The scratch directory of this process, made once, removed at exit. */
static char fuzz_dir[PATH_MAX];

static void fuzz_dir_remove(void)
{
	char cmd[PATH_MAX + 16];

	if (fuzz_dir[0]) {
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", fuzz_dir);
		if (system(cmd) != 0)
			fprintf(stderr, "fuzz: could not remove %s\n", fuzz_dir);
	}
}

static inline const char *fuzz_scratch(void)
{
	const char *base = getenv("TMPDIR");

	if (fuzz_dir[0])
		return fuzz_dir;
	snprintf(fuzz_dir, sizeof(fuzz_dir), "%s/perim-fuzz.XXXXXX", base && *base ? base : "/tmp");
	if (!mkdtemp(fuzz_dir)) {
		perror("fuzz: mkdtemp");
		abort();
	}
	atexit(fuzz_dir_remove);
	return fuzz_dir;
}

/* dir/name under the scratch directory (dirs made as needed). */
static inline const char *fuzz_path(char *buf, size_t len, const char *name)
{
	snprintf(buf, len, "%s/%s", fuzz_scratch(), name);
	for (char *p = buf + strlen(fuzz_scratch()) + 1; (p = strchr(p, '/')); p++) {
		*p = '\0';
		if (mkdir(buf, 0700) < 0 && errno != EEXIST) {
			perror("fuzz: mkdir");
			abort();
		}
		*p = '/';
	}
	return buf;
}

/* Replaces the file's content with exactly these bytes. */
static inline void fuzz_write(const char *path, const void *data, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

	if (fd < 0 || (len && write(fd, data, len) != (ssize_t)len) || close(fd) < 0) {
		perror("fuzz: writing the input file");
		abort();
	}
}

/* Splits at FUZZ_SECTION_SEP into at most max sections; returns how many. */
static inline size_t fuzz_sections(const uint8_t *data, size_t len, struct fuzz_section *out, size_t max)
{
	size_t n = 0, sep = strlen(FUZZ_SECTION_SEP);

	while (n < max) {
		const uint8_t *end = n + 1 < max ? memmem(data, len, FUZZ_SECTION_SEP, sep) : NULL;

		out[n].data = data;
		out[n].len = end ? (size_t)(end - data) : len;
		n++;
		if (!end)
			break;
		len -= end + sep - data;
		data = end + sep;
	}
	for (size_t i = n; i < max; i++)
		out[i] = (struct fuzz_section){ (const uint8_t *)"", 0 };
	return n;
}

/* A NUL-terminated copy (the caller frees it). */
static inline char *fuzz_strndup(const uint8_t *data, size_t len)
{
	char *s = malloc(len + 1);

	if (!s)
		abort();
	memcpy(s, data, len);
	s[len] = '\0';
	return s;
}

#endif /* PERIM_FUZZ_UTIL_H */
