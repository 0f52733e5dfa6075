/* SPDX-License-Identifier: GPL-2.0 */
/*
 * netfilter's side of SYN protection, through libnftables: per interface,
 * a table of perim's own, "inet perim_synproxy_<dev>", holding
 *  - prerouting at raw priority: notrack for the protected SYNs that reach
 *    the stack (dry-run, or what XDP left to it), so conntrack keeps no state
 *    for them;
 *  - input (services on the gateway) and forward (servers behind it):
 *    synproxy for untracked or invalid TCP to the protected destinations,
 *    with the MSS and window scale XDP advertises, SACK and timestamps,
 *    then a drop of what stays invalid.
 * The rules match destination and port, not the interface: traffic XDP
 * passed on from DEV reaches the stack on DEV or on a VLAN device above it.
 * The table is replaced as a whole in one nftables transaction and deleted
 * with the interface's last protection; no other table is ever named.
 */
#ifndef PERIMD_SYN_SYNPROXY_H
#define PERIMD_SYN_SYNPROXY_H

#include <stddef.h>

#include "cmd.h"

/* The table's name for dev, e.g. "perim_synproxy_eth0". */
int perim_synproxy_table_name(const char *dev, char *buf, size_t len);

/*
 * Make dev's table hold exactly the rules for specs[0..n) (dry-run specs get
 * none); n == 0 (or only dry-run) deletes the table. All or nothing.
 * 0, or PERIM_EXIT_FAIL with err set (nftables' own message).
 */
int perim_synproxy_apply(const char *dev, const struct perim_syn_spec *specs, int n, char *err, size_t errlen);

#endif /* PERIMD_SYN_SYNPROXY_H */
