/* SPDX-License-Identifier: GPL-2.0 */
/*
 * perimd's per-slot maps that outlive it (the tries, the fast tables, the
 * fast-path descriptors): found by their pins, else created with the
 * datapath's attributes and pinned, so a restarted daemon adopts them.
 */
#ifndef PERIM_PINNED_MAP_H
#define PERIM_PINNED_MAP_H

#include <stdbool.h>
#include <stddef.h>

#include <bpf/bpf.h>

/* What a map is: how perimd creates it, and what a pin must match to be reused. */
struct perim_map_shape {
	const char *name;          /* the map's name and its pin's stem */
	enum bpf_map_type type;
	__u32 key_size;
	__u32 value_size;
	__u32 max_entries;
	__u32 map_flags;           /* given at creation; a reused pin must have them */
};

/* "<pin_root>/<stem>_<slot>"; -ENAMETOOLONG if it does not fit. */
int perim_slot_pin_path(char *buf, size_t len, const char *pin_root, const char *stem, int slot);

/*
 * The fd of a slot's map pinned under pin_root, checked against shape; else
 * (create) a new map of that shape, pinned there. pin_root NULL: a new
 * unpinned map (create) or -ENOENT. path receives the pin's path (the map's
 * name without a pin root) for the caller's messages. -ENOENT when absent
 * and !create; other -errno with err set (a pin of another shape: -EINVAL).
 */
int perim_slot_map_open(const struct perim_map_shape *shape, const char *pin_root, int slot, bool create,
			char *path, size_t path_len, char *err, size_t errlen);

#endif /* PERIM_PINNED_MAP_H */
