// SPDX-License-Identifier: GPL-2.0
/* A ring buffer's positions: page 0 holds the consumer's, page 1 the producer's (kernel/bpf/ringbuf.c). */
#include <errno.h>
#include <stdint.h>
#include <sys/mman.h>
#include <unistd.h>

#include "telemetry/ring_pos.h"

int perim_ring_positions(int map_fd, uint64_t *consumer, uint64_t *producer)
{
	long page = sysconf(_SC_PAGESIZE);
	void *pages;

	if (page <= 0)
		return -EINVAL;
	/* Read-only: the kernel lets any process map both control pages so. */
	pages = mmap(NULL, 2 * page, PROT_READ, MAP_SHARED, map_fd, 0);
	if (pages == MAP_FAILED)
		return -errno;
	*consumer = __atomic_load_n((uint64_t *)pages, __ATOMIC_ACQUIRE);
	*producer = __atomic_load_n((uint64_t *)((char *)pages + page), __ATOMIC_ACQUIRE);
	munmap(pages, 2 * page);
	return 0;
}
