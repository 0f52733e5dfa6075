// SPDX-License-Identifier: GPL-2.0
/*
 * The fast path's user side (include/perim.h): the exact-match copies of the
 * ingress trie entries, and the per-slot descriptor of the prefix lengths in
 * use, a pinned mmappable ARRAY whose words are published with one atomic
 * store each.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "rules.h"

static int key_cmp(const void *a, const void *b)
{
	return memcmp(a, b, sizeof(struct perim_lpm_ukey));
}

int perim_fast_mirror(struct perim_lpm_set *set)
{
	size_t n = set->n, extra = 0;

	for (size_t i = 0; i < n; i++)
		extra += set->e[i].key.family == PERIM_LPM_V4 || set->e[i].key.family == PERIM_LPM_V6;
	if (!extra)
		return 0;
	if (set->cap < n + extra) {
		struct perim_lpm_entry *grown = realloc(set->e, (n + extra) * sizeof(*grown));

		if (!grown)
			return -ENOMEM;
		set->e = grown;
		set->cap = n + extra;
	}
	for (size_t i = 0; i < n; i++) {
		const struct perim_lpm_entry *e = &set->e[i];

		if (e->key.family != PERIM_LPM_V4 && e->key.family != PERIM_LPM_V6)
			continue;
		set->e[set->n] = *e;
		set->e[set->n].key.family = e->key.family == PERIM_LPM_V4 ? PERIM_LPM_FAST_V4 : PERIM_LPM_FAST_V6;
		set->n++;
	}
	qsort(set->e, set->n, sizeof(set->e[0]), key_cmp);
	return 0;
}

__u64 perim_fast_lens_make(const struct perim_lpm_set *set, int slot, int fam)
{
	int family = fam ? PERIM_LPM_FAST_V6 : PERIM_LPM_FAST_V4;
	bool used[129] = { false };
	__u64 lens = 0;
	unsigned n = 0;

	for (size_t i = 0; i < set->n; i++) {
		const struct perim_lpm_ukey *k = &set->e[i].key;

		if (k->slot == slot && k->family == family && k->prefixlen <= 128)
			used[k->prefixlen] = true;
	}
	for (int len = 128; len >= 0; len--) {
		if (!used[len])
			continue;
		if (n == PERIM_FAST_MAX_LENGTHS)
			return PERIM_FAST_USE_TRIE;
		lens |= (__u64)len << (8 * (n + 1));
		n++;
	}
	return lens | (n + 1);
}

int perim_fast_lens_pin_path(char *buf, size_t len, const char *pin_root, int slot)
{
	int n = snprintf(buf, len, "%s/%s_%d", pin_root, PERIM_MAP_FAST_LENS, slot);

	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

/* A pin of another layout could not be mapped or would be misread: refuse it. */
static int check_fast_lens_map(int fd, const char *path, char *err, size_t errlen)
{
	struct bpf_map_info info = {};
	__u32 len = sizeof(info);
	int ret;

	if (bpf_obj_get_info_by_fd(fd, &info, &len) < 0) {
		ret = -errno;
		snprintf(err, errlen, "inspecting %s: %s", path, strerror(-ret));
		return ret;
	}
	if (info.type != BPF_MAP_TYPE_ARRAY || info.key_size != sizeof(__u32) ||
	    info.value_size != sizeof(__u64) || info.max_entries != PERIM_FAST_FAMILIES ||
	    !(info.map_flags & BPF_F_MMAPABLE)) {
		snprintf(err, errlen, "%s is not a %s descriptor of this perim version", path,
			 PERIM_MAP_FAST_LENS);
		return -EINVAL;
	}
	return 0;
}

static int create_fast_lens_map(const char *path, char *err, size_t errlen)
{
	LIBBPF_OPTS(bpf_map_create_opts, opts, .map_flags = BPF_F_MMAPABLE);
	int fd, ret;

	fd = bpf_map_create(BPF_MAP_TYPE_ARRAY, PERIM_MAP_FAST_LENS, sizeof(__u32), sizeof(__u64),
			    PERIM_FAST_FAMILIES, &opts);
	if (fd < 0) {
		ret = -errno;
		snprintf(err, errlen, "creating %s: %s", path ? path : PERIM_MAP_FAST_LENS, strerror(-ret));
		return ret;
	}
	if (path && bpf_obj_pin(fd, path) < 0) {
		ret = -errno;
		snprintf(err, errlen, "pinning %s: %s", path, strerror(-ret));
		close(fd);
		return ret;
	}
	return fd;
}

/* The pinned map, or -ENOENT; (create) a new one, pinned when there is a pin root. */
static int open_fast_lens_map(const struct perim_maps *maps, int slot, bool create, char *path,
			      size_t path_len, char *err, size_t errlen)
{
	int fd, ret;

	if (!maps->pin_root) {
		snprintf(path, path_len, "%s", PERIM_MAP_FAST_LENS);
		return create ? create_fast_lens_map(NULL, err, errlen) : -ENOENT;
	}
	ret = perim_fast_lens_pin_path(path, path_len, maps->pin_root, slot);
	if (ret) {
		snprintf(err, errlen, "pin path under %s: %s", maps->pin_root, strerror(-ret));
		return ret;
	}
	fd = bpf_obj_get(path);
	if (fd < 0 && errno != ENOENT) {
		ret = -errno;
		snprintf(err, errlen, "opening %s: %s", path, strerror(-ret));
		return ret;
	}
	if (fd < 0)
		return create ? create_fast_lens_map(path, err, errlen) : -ENOENT;
	ret = check_fast_lens_map(fd, path, err, errlen);
	if (ret) {
		close(fd);
		return ret;
	}
	return fd;
}

int perim_maps_fast_lens(struct perim_maps *maps, int slot, bool create, __u64 **lens,
			 char *err, size_t errlen)
{
	char path[4200];
	void *mem;
	int fd, ret;

	if (maps->fast_lens[slot]) {
		*lens = maps->fast_lens[slot];
		return 0;
	}
	fd = open_fast_lens_map(maps, slot, create, path, sizeof(path), err, errlen);
	if (fd < 0)
		return fd;
	mem = mmap(NULL, sysconf(_SC_PAGESIZE), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (mem == MAP_FAILED) {
		ret = -errno;
		snprintf(err, errlen, "mapping %s: %s", path, strerror(-ret));
		close(fd);
		return ret;
	}
	maps->fast_lens_fd[slot] = fd;
	maps->fast_lens[slot] = mem;
	*lens = mem;
	return 0;
}

void perim_fast_lens_store(__u64 *lens, int fam, __u64 value)
{
	__atomic_store_n(&lens[fam], value, __ATOMIC_RELEASE);
}
