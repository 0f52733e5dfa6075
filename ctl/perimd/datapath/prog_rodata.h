/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A loaded program's read-only settings (its .rodata variables, found by
 * name in the map's BTF): what an adopted program was loaded with, which
 * may not be what this perimd would load.
 */
#ifndef PERIMD_PROG_RODATA_H
#define PERIMD_PROG_RODATA_H

#include <stddef.h>
#include <stdint.h>

/* The __u32 .rodata variable var of program prog_id. 0, or -errno with err set (-ENOENT: no such variable). */
int perim_prog_rodata_u32(uint32_t prog_id, const char *var, uint32_t *value, char *err, size_t errlen);

#endif /* PERIMD_PROG_RODATA_H */
