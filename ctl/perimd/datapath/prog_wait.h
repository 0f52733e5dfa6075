/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Waiting until every BPF program that may have read the old content of a
 * map has finished: an update of a map-in-map makes the kernel wait for an
 * RCU grace period before the syscall returns (maybe_wait_bpf_programs), so
 * one update of a private one-slot ARRAY_OF_MAPS is that wait.
 */
#ifndef PERIMD_PROG_WAIT_H
#define PERIMD_PROG_WAIT_H

#include <stddef.h>

/* 0, or -errno with err set. The maps are made on first use and kept. */
int perim_wait_for_programs(char *err, size_t errlen);

#endif /* PERIMD_PROG_WAIT_H */
