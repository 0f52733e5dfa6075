/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Closes the fds a library call leaves open behind it. libxdp 1.3.1 (Debian
 * 12) leaks the program fd it opens by id in xdp_multiprog__get_from_ifindex
 * (every query of a NIC, every attach and detach) and xdp_program__from_id:
 * it keeps a duplicate and never closes the original. Fixed upstream later;
 * the guard is a no-op with a library that does not leak.
 *
 * Use only around calls that must leave no new fd open once their objects
 * are closed: take a snapshot, make the call, close what it returned, then
 * close every BPF program fd open now that was not before. Only program fds
 * are closed: a library thread (the fleet client's) may open other fds meanwhile.
 */
#ifndef PERIMD_FD_GUARD_H
#define PERIMD_FD_GUARD_H

#include <stddef.h>

struct perim_fd_guard {
	int *open;                 /* fds open at the snapshot, ascending */
	size_t n;
};

/* 0, or -errno (e.g. -EMFILE at the fd limit: the call would fail too). */
int perim_fd_guard_begin(struct perim_fd_guard *g);
/* Closes every BPF program fd opened since begin and still open; returns how many. Frees g. */
int perim_fd_guard_end(struct perim_fd_guard *g);

#endif /* PERIMD_FD_GUARD_H */
