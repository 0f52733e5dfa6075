/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Many entries of one map in one syscall (BPF_MAP_UPDATE_BATCH and
 * BPF_MAP_DELETE_BATCH: arrays and hashes since 5.6, LPM tries where the
 * kernel has them), one by one where it does not. Either way the entries
 * are processed in the order given, and on failure the ones before the
 * failing one are done and the rest are not.
 */
#ifndef PERIMD_MAP_BATCH_H
#define PERIMD_MAP_BATCH_H

#include <stdint.h>

/* n keys and n values, packed. 0, or -errno with *done the index of the entry that failed. */
int perim_map_update_many(int fd, const void *keys, uint32_t key_size, const void *values, uint32_t value_size,
			  uint32_t n, uint32_t *done);

/* n keys, packed; a key that is not there counts as deleted. As perim_map_update_many. */
int perim_map_delete_many(int fd, const void *keys, uint32_t key_size, uint32_t n, uint32_t *done);

#endif /* PERIMD_MAP_BATCH_H */
