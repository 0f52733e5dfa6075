// SPDX-License-Identifier: GPL-2.0
/*
 * bpfget: asks the kernel for a new fd to BPF objects, one line per object.
 *
 *   bpfget map ID... | prog ID... | pin PATH...
 *
 * Prints "<kind> <id-or-path> ok" or "<kind> <id-or-path> <strerror>" for
 * each, closing what it got, and exits 0 when every request was answered
 * (refused or not: the caller judges the lines), 2 on bad arguments. The
 * guard cases ask for every map and program of perimd with it: one process,
 * where a bpftool per object cost a second each under emulation.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>

static int fd_for(const char *kind, const char *what)
{
	char *end;
	unsigned long id;

	if (!strcmp(kind, "pin"))
		return bpf_obj_get(what);
	errno = 0;
	id = strtoul(what, &end, 10);
	if (errno || end == what || *end || id > 0xffffffffUL) {
		fprintf(stderr, "bpfget: bad %s id '%s'\n", kind, what);
		exit(2);
	}
	return !strcmp(kind, "map") ? bpf_map_get_fd_by_id(id) : bpf_prog_get_fd_by_id(id);
}

int main(int argc, char **argv)
{
	const char *kind = argc > 1 ? argv[1] : "";

	if (argc < 3 || (strcmp(kind, "map") && strcmp(kind, "prog") && strcmp(kind, "pin"))) {
		fprintf(stderr, "usage: bpfget map ID... | prog ID... | pin PATH...\n");
		return 2;
	}
	for (int i = 2; i < argc; i++) {
		int fd = fd_for(kind, argv[i]);

		if (fd >= 0) {
			printf("%s %s ok\n", kind, argv[i]);
			close(fd);
		} else {
			printf("%s %s %s\n", kind, argv[i], strerror(errno));
		}
	}
	return 0;
}
