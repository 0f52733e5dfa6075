/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A BPF ring buffer's consumer and producer positions (bytes since the ring
 * was created), read from its mmapped control pages. libbpf 1.1 has no
 * accessor for them; a ring of fixed-size records turns them into counts:
 * records produced, and records consumed by whoever drains it.
 */
#ifndef PERIMD_RING_POS_H
#define PERIMD_RING_POS_H

#include <stdint.h>

/* The bytes a record of data_size takes on a ring: the 8-byte header, rounded up to 8. */
#define PERIM_RING_RECORD_BYTES(data_size) (((data_size) + 8 + 7) / 8 * 8)

/* 0, or -errno. map_fd: a BPF_MAP_TYPE_RINGBUF. */
int perim_ring_positions(int map_fd, uint64_t *consumer, uint64_t *producer);

#endif /* PERIMD_RING_POS_H */
