/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The commit's kernel step for SYN protections (model/syncookies.h): for each
 * interface whose protections a change touches, perim's nftables table
 * (synproxy.h) first, then the datapath's perim_syn_table
 * (include/perim_syn.h), so an ACK XDP passes always finds its SYNPROXY rule.
 */
#ifndef PERIMD_SYN_APPLY_H
#define PERIMD_SYN_APPLY_H

#include <stddef.h>

struct perimd;
struct perim_model;

/*
 * Put in the kernel the protections `to` changes from `from` (NULL: none
 * installed, at start). A slot whose protections cannot be enforced (the
 * kernel or the program on the NIC has no SYN-cookie stage) is logged and
 * left out: the state file keeps them for a kernel that can. On failure the
 * slots already changed are put back as `from` has them. PERIM_EXIT_*.
 */
int perimd_syn_apply(struct perimd *d, const struct perim_model *from, const struct perim_model *to,
		     char *err, size_t errlen);

/* Can slot's protections be enforced: the kernel has the stage and the NIC runs perim_xdp_syn? 0 or PERIM_EXIT_FAIL with err. */
int perimd_syn_enforceable(struct perimd *d, int slot, const char *dev, char *err, size_t errlen);

#endif /* PERIMD_SYN_APPLY_H */
