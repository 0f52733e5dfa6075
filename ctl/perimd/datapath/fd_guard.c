// SPDX-License-Identifier: GPL-2.0
/* The fds a library call left open, found by comparing /proc/self/fd before and after. */
#include <dirent.h>
#include <stdbool.h>
#include <stdio.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "datapath/fd_guard.h"
#include "log.h"

static int int_cmp(const void *a, const void *b)
{
	int x = *(const int *)a, y = *(const int *)b;

	return (x > y) - (x < y);
}

/* Every open fd but the directory stream's own, ascending. 0 or -errno. */
static int open_fds(int **out, size_t *n)
{
	DIR *dir = opendir("/proc/self/fd");
	size_t cap = 256, k = 0;
	struct dirent *de;
	int *fds, *grown;

	if (!dir)
		return -errno;
	fds = malloc(cap * sizeof(*fds));
	if (!fds) {
		closedir(dir);
		return -ENOMEM;
	}
	while ((de = readdir(dir))) {
		char *end;
		long fd = strtol(de->d_name, &end, 10);

		if (de->d_name[0] == '.' || *end || fd == dirfd(dir))
			continue;
		if (k == cap) {
			grown = realloc(fds, 2 * cap * sizeof(*fds));
			if (!grown) {
				free(fds);
				closedir(dir);
				return -ENOMEM;
			}
			fds = grown;
			cap *= 2;
		}
		fds[k++] = (int)fd;
	}
	closedir(dir);
	qsort(fds, k, sizeof(*fds), int_cmp);
	*out = fds;
	*n = k;
	return 0;
}

int perim_fd_guard_begin(struct perim_fd_guard *g)
{
	memset(g, 0, sizeof(*g));
	return open_fds(&g->open, &g->n);
}

/*
 * Only a BPF program's fd is what libxdp leaks; anything else (a socket a
 * library thread opened meanwhile, such as the fleet client's) is not ours to close.
 */
static bool is_bpf_prog_fd(int fd)
{
	char path[32], target[64];
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	n = readlink(path, target, sizeof(target) - 1);
	if (n < 0)
		return false;
	target[n] = '\0';
	return !strcmp(target, "anon_inode:bpf-prog");
}

int perim_fd_guard_end(struct perim_fd_guard *g)
{
	int *now = NULL, closed = 0;
	size_t n = 0;
	int ret = open_fds(&now, &n);

	if (ret) {
		pr_warn("perimd: listing open fds after a libxdp query: %s\n", strerror(-ret));
	} else {
		for (size_t i = 0; i < n; i++) {
			if (bsearch(&now[i], g->open, g->n, sizeof(*g->open), int_cmp) || !is_bpf_prog_fd(now[i]))
				continue;
			close(now[i]);
			closed++;
		}
	}
	free(now);
	free(g->open);
	memset(g, 0, sizeof(*g));
	return closed;
}
