// SPDX-License-Identifier: GPL-2.0
/*
 * The process table's /proc reader (ctl/perimd/proctable.c, images kept by
 * proc_image.c): an input is one process's /proc files, sections
 * stat %% status %% cmdline %% exe link target, under a scratch /proc root.
 * A second process with the same files is the forked twin sharing its image.
 */
#include "fuzz_util.h"
#include "procs/proctable.h"

enum { SEC_STAT, SEC_STATUS, SEC_CMDLINE, SEC_EXE, N_SECS };

static void write_proc(const char *pid, const struct fuzz_section *s)
{
	char path[PATH_MAX], name[64], *target;

	snprintf(name, sizeof(name), "proc/%s/stat", pid);
	fuzz_write(fuzz_path(path, sizeof(path), name), s[SEC_STAT].data, s[SEC_STAT].len);
	snprintf(name, sizeof(name), "proc/%s/status", pid);
	fuzz_write(fuzz_path(path, sizeof(path), name), s[SEC_STATUS].data, s[SEC_STATUS].len);
	snprintf(name, sizeof(name), "proc/%s/cmdline", pid);
	fuzz_write(fuzz_path(path, sizeof(path), name), s[SEC_CMDLINE].data, s[SEC_CMDLINE].len);
	snprintf(name, sizeof(name), "proc/%s/exe", pid);
	fuzz_path(path, sizeof(path), name);
	unlink(path);
	/* A link target is a C string, at most PATH_MAX: what /proc can show. */
	target = fuzz_strndup(s[SEC_EXE].data, s[SEC_EXE].len < PATH_MAX - 1 ? s[SEC_EXE].len : PATH_MAX - 1);
	if (target[0] && symlink(target, path) < 0 && errno != ENAMETOOLONG) {
		perror("fuzz: symlink");
		abort();
	}
	free(target);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_section s[N_SECS];
	struct perim_proctable_stats st;
	struct perim_proctable *t;
	char root[PATH_MAX];
	int n;

	fuzz_sections(data, size, s, N_SECS);
	write_proc("4242", s);
	write_proc("4243", s);
	snprintf(root, sizeof(root), "%s/proc", fuzz_scratch());
	t = perim_proctable_new(64, 1000000000ULL);
	if (!t)
		abort();
	n = perim_proctable_scan(t, root);
	if (n < 0 || n > 2)
		abort();
	/* The exit path frees what the scan interned. */
	perim_proctable_exit(t, 4242, 0, 1);
	perim_proctable_evict(t, UINT64_MAX);
	perim_proctable_stats(t, &st);
	perim_proctable_free(t);
	return 0;
}
