// SPDX-License-Identifier: GPL-2.0
/*
 * The per-source tables' fill, counted with BPF_MAP_LOOKUP_BATCH (Linux
 * 5.6): a few thousand entries per system call, so a table of a million is
 * a few hundred calls rather than a million get_next_key ones. The walk
 * reads the buckets under their locks one at a time, as any lookup does;
 * the datapath counts nothing for it. (The bpf_map_sum_elem_count kfunc,
 * 6.6, would need a map iterator program, and the oldest kernels perim
 * runs on lack it.)
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "datapath/loader.h"
#include "json_add.h"
#include "perim.h"
#include "telemetry/src_tables.h"
#include "xdp/perim_xdp.skel.h"

#define BATCH_ENTRIES 4096
/* A hash map's batch position is a bucket index; room for any map's key. */
#define TOKEN_MAX 64

struct walk_buf {
	void *keys, *values;
	uint8_t in[TOKEN_MAX], out[TOKEN_MAX];
};

static int walk_buf_init(struct walk_buf *b, const struct bpf_map_info *info)
{
	memset(b, 0, sizeof(*b));
	if (info->key_size > TOKEN_MAX)
		return -EOVERFLOW;
	b->keys = calloc(BATCH_ENTRIES, info->key_size);
	b->values = calloc(BATCH_ENTRIES, info->value_size);
	return b->keys && b->values ? 0 : -ENOMEM;
}

static void walk_buf_free(struct walk_buf *b)
{
	free(b->keys);
	free(b->values);
}

/*
 * Entries the map holds now. Bounded: every call but the last advances by
 * at least one bucket, and a table has no more buckets than twice its
 * entries. Entries inserted and evicted during the walk can be met twice:
 * the count never exceeds the table's size.
 */
static int count_entries(int fd, const struct bpf_map_info *info, uint32_t *entries)
{
	LIBBPF_OPTS(bpf_map_batch_opts, opts);
	uint64_t total = 0, calls_left = 2ull * info->max_entries + 2;
	struct walk_buf b;
	bool first = true;
	int ret;

	ret = walk_buf_init(&b, info);
	while (!ret && calls_left--) {
		__u32 n = BATCH_ENTRIES;

		ret = bpf_map_lookup_batch(fd, first ? NULL : b.in, b.out, b.keys, b.values, &n, &opts);
		ret = ret < 0 ? -errno : 0;
		if (!ret || ret == -ENOENT)
			total += n;
		if (ret == -ENOENT) {
			ret = 0;
			break;
		}
		memcpy(b.in, b.out, sizeof(b.in));
		first = false;
	}
	walk_buf_free(&b);
	*entries = total > info->max_entries ? info->max_entries : (uint32_t)total;
	return ret;
}

static int read_table(int fd, struct perimd_src_table *t, char *err, size_t errlen)
{
	struct bpf_map_info info = { 0 };
	__u32 len = sizeof(info);
	int ret;

	ret = bpf_obj_get_info_by_fd(fd, &info, &len) ? -errno : 0;
	if (ret) {
		snprintf(err, errlen, "reading %s's size: %s", t->name, strerror(-ret));
		return ret;
	}
	t->max_entries = info.max_entries;
	ret = count_entries(fd, &info, &t->entries);
	if (ret)
		snprintf(err, errlen, "counting the entries of %s: %s", t->name, strerror(-ret));
	return ret;
}

int perimd_src_tables_read(const struct perim_loader *l, struct perimd_src_table out[PERIMD_SRC_TABLES],
			   char *err, size_t errlen)
{
	int fds[PERIMD_SRC_TABLES];
	int ret = 0;

	out[0] = (struct perimd_src_table){ .name = PERIM_MAP_SRC4, .family = "ipv4" };
	out[1] = (struct perimd_src_table){ .name = PERIM_MAP_SRC, .family = "ipv6" };
	if (!l->base) {
		snprintf(err, errlen, "the per-source tables are not loaded");
		return -ENOENT;
	}
	fds[0] = bpf_map__fd(l->base->maps.perim_src4);
	fds[1] = bpf_map__fd(l->base->maps.perim_src);
	for (int i = 0; i < PERIMD_SRC_TABLES && !ret; i++)
		ret = read_table(fds[i], &out[i], err, errlen);
	return ret;
}

struct json_object *perimd_src_tables_json(const struct perimd_src_table t[PERIMD_SRC_TABLES])
{
	struct json_object *list = json_object_new_array();

	for (int i = 0; i < PERIMD_SRC_TABLES; i++) {
		struct json_object *o = json_object_new_object();

		json_add_str(o, "table", t[i].name);
		json_add_str(o, "family", t[i].family);
		json_add_u64(o, "entries", t[i].entries);
		json_add_u64(o, "max_entries", t[i].max_entries);
		json_object_array_add(list, o);
	}
	return list;
}
