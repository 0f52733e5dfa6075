/* SPDX-License-Identifier: GPL-2.0 */
/* Paths: user strings, dentry names, the sensitive-prefix filter. */
#ifndef PERIM_TRACERS_PATH_H
#define PERIM_TRACERS_PATH_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include "perim_events.h"
#include "common.h"

#define PERIM_O_WRONLY 01
#define PERIM_O_RDWR   02
#define PERIM_O_CREAT  0100
#define PERIM_O_TRUNC  01000
#define PERIM_WRITE_FLAGS (PERIM_O_WRONLY | PERIM_O_RDWR | PERIM_O_CREAT | PERIM_O_TRUNC)
#define PERIM_FMODE_WRITE 0x2

/* Sensitive prefixes ("/etc/", "/root/.ssh/", ...): byte-wise longest prefix match. */
struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, 256);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct perim_prefix_key);
	__type(value, __u8);
} perim_write_prefixes SEC(".maps");

/* Scratch for a full path (bigger than the verifier lets a stack hold comfortably). */
struct perim_path_scratch {
	struct perim_prefix_key key;
	char path[PERIM_PATH_MAX];
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct perim_path_scratch);
} perim_path_scratch SEC(".maps");

static __always_inline bool perim_prefix_match(struct perim_prefix_key *key)
{
	key->prefixlen = PERIM_PREFIX_MAX * 8;
	return bpf_map_lookup_elem(&perim_write_prefixes, key) != NULL;
}

/* Does the user path start with a sensitive prefix? Only absolute paths can. */
static __always_inline bool perim_user_path_sensitive(const char *upath)
{
	struct perim_prefix_key key = {};

	if (bpf_probe_read_user_str(key.path, sizeof(key.path), upath) <= 1 || key.path[0] != '/')
		return false;
	return perim_prefix_match(&key);
}

static __always_inline __u16 perim_read_user_path(char *dst, const char *upath)
{
	return perim_str_len(bpf_probe_read_user_str(dst, PERIM_PATH_MAX, upath));
}

static __always_inline __u16 perim_read_dentry_name(char *dst, struct dentry *d)
{
	const unsigned char *name = BPF_CORE_READ(d, d_name.name);

	return perim_str_len(bpf_probe_read_kernel_str(dst, PERIM_PATH_MAX, name));
}

/* The dentry name of the file behind fd in the current task. */
static __always_inline __u16 perim_read_fd_name(char *dst, int fd)
{
	struct file *file = perim_file_of_fd(fd);

	if (!file)
		return 0;
	return perim_read_dentry_name(dst, BPF_CORE_READ(file, f_path.dentry));
}

#endif /* PERIM_TRACERS_PATH_H */
