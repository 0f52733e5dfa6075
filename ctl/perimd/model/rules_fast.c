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

#include "datapath/pinned_map.h"
#include "model/rules.h"
#include "perim.h"

static int key_cmp(const void *a, const void *b)
{
	return memcmp(a, b, sizeof(struct perim_lpm_ukey));
}

/*
 * The sorted runs [0, mid) and [mid, n) of set as one sorted set: a merge,
 * not a sort of the whole (thousands of entries, each compared log n times).
 */
static int merge_runs(struct perim_lpm_set *set, size_t mid)
{
	struct perim_lpm_entry *out = malloc(set->n * sizeof(*out));
	size_t i = 0, j = mid, k = 0;

	if (!out)
		return -ENOMEM;
	while (i < mid && j < set->n)
		out[k++] = key_cmp(&set->e[j].key, &set->e[i].key) < 0 ? set->e[j++] : set->e[i++];
	while (i < mid)
		out[k++] = set->e[i++];
	while (j < set->n)
		out[k++] = set->e[j++];
	free(set->e);
	set->e = out;
	set->cap = set->n;
	return 0;
}

/*
 * The copies keep the originals' order and their family maps V4 and V6 to
 * FAST_V4 and FAST_V6 in the same order, so they are sorted as appended.
 */
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
	return merge_runs(set, n);
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

static const struct perim_map_shape fast_lens_shape = {
	.name = PERIM_MAP_FAST_LENS,
	.type = BPF_MAP_TYPE_ARRAY,
	.key_size = sizeof(__u32),
	.value_size = sizeof(__u64),
	.max_entries = PERIM_FAST_FAMILIES,
	.map_flags = BPF_F_MMAPABLE,       /* a pin without it could not be mapped */
};

int perim_fast_lens_pin_path(char *buf, size_t len, const char *pin_root, int slot)
{
	return perim_slot_pin_path(buf, len, pin_root, PERIM_MAP_FAST_LENS, slot);
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
	fd = perim_slot_map_open(&fast_lens_shape, maps->pin_root, slot, create, path, sizeof(path), err, errlen);
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
