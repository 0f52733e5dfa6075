// SPDX-License-Identifier: GPL-2.0
/* Batched map writes and deletes with a one-by-one fallback (map_batch.h). */
#include <errno.h>

#include <bpf/bpf.h>

#include "datapath/map_batch.h"

#ifndef ENOTSUPP
#define ENOTSUPP 524 /* the kernel's answer for a map type without batch operations */
#endif

static bool batch_unsupported(int ret)
{
	return ret == -EINVAL || ret == -ENOTSUPP || ret == -EOPNOTSUPP;
}

/*
 * The kernel writes the count back only once it has walked the entries; an
 * error before that (no batch operation for this map type, bad flags)
 * leaves the count as it was, n, which no failed walk can report.
 */
static uint32_t entries_done(int ret, uint32_t n, uint32_t count)
{
	if (!ret)
		return n;
	return count < n ? count : 0;
}

static int update_one_by_one(int fd, const char *keys, uint32_t key_size, const char *values,
			     uint32_t value_size, uint32_t n, uint32_t *done)
{
	for (*done = 0; *done < n; (*done)++)
		if (bpf_map_update_elem(fd, keys + (size_t)*done * key_size, values + (size_t)*done * value_size,
					BPF_ANY) < 0)
			return -errno;
	return 0;
}

int perim_map_update_many(int fd, const void *keys, uint32_t key_size, const void *values, uint32_t value_size,
			  uint32_t n, uint32_t *done)
{
	LIBBPF_OPTS(bpf_map_batch_opts, opts, .elem_flags = BPF_ANY);
	uint32_t count = n;
	int ret = 0;

	*done = 0;
	if (!n)
		return 0;
	if (bpf_map_update_batch(fd, keys, values, &count, &opts) < 0)
		ret = -errno;
	*done = entries_done(ret, n, count);
	if (ret && batch_unsupported(ret) && !*done)
		return update_one_by_one(fd, keys, key_size, values, value_size, n, done);
	return ret;
}

static int delete_one(int fd, const void *key)
{
	return bpf_map_delete_elem(fd, key) < 0 && errno != ENOENT ? -errno : 0;
}

int perim_map_delete_many(int fd, const void *keys, uint32_t key_size, uint32_t n, uint32_t *done)
{
	LIBBPF_OPTS(bpf_map_batch_opts, opts);
	const char *k = keys;
	uint32_t count;
	int ret;

	*done = 0;
	while (*done < n) {
		count = n - *done;
		ret = bpf_map_delete_batch(fd, k + (size_t)*done * key_size, &count, &opts) < 0 ? -errno : 0;
		count = entries_done(ret, n - *done, count);
		*done += count;
		if (!ret)
			return 0;
		if (batch_unsupported(ret) && !count)
			break;
		/* One that is not there is deleted already: step over it. */
		if (ret != -ENOENT)
			return ret;
		(*done)++;
	}
	for (; *done < n; (*done)++) {
		ret = delete_one(fd, k + (size_t)*done * key_size);
		if (ret)
			return ret;
	}
	return 0;
}
