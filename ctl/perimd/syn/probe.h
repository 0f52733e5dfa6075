/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Whether the running kernel can run perim_xdp_syn: the raw SYN-cookie
 * helpers (Linux 6.0) and the XDP conntrack kfuncs (6.0, in vmlinux or in
 * the nf_conntrack module's BTF). Probed, never assumed from the version.
 */
#ifndef PERIMD_SYN_PROBE_H
#define PERIMD_SYN_PROBE_H

#include <stdbool.h>
#include <stddef.h>

/* true when available; otherwise why names the missing kernel feature. */
bool perim_syn_probe(char *why, size_t whylen);

#endif /* PERIMD_SYN_PROBE_H */
