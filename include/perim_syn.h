/* SPDX-License-Identifier: GPL-2.0 */
/*
 * SYN protection: the ABI between perimd and the XDP SYN-cookie stage
 * (xdp/lib/syncookie.h, in the perim_xdp_syn program only). Plain C,
 * fixed-width fields, explicit padding, like include/perim.h.
 *
 * For a protected destination (interface, destination prefix, destination
 * port range) a SYN is answered from XDP with a SYN-ACK whose sequence number
 * is a kernel SYN cookie (bpf_tcp_raw_gen_syncookie_ipv4/6) and whose
 * timestamp carries the client's window scale, SACK-permitted and ECN in its
 * low bits, the encoding netfilter's SYNPROXY decodes when the ACK reaches
 * it. An ACK of a flow conntrack does not know is checked in XDP
 * (bpf_tcp_raw_check_syncookie_ipv4/6): valid goes on to the rules and the
 * stack, invalid is dropped as PERIM_REASON_BAD_COOKIE.
 *
 * The helpers and the conntrack kfuncs exist from kernel 6.0; perimd loads
 * perim_xdp_syn only when a probe finds them, and perim_xdp otherwise.
 */
#ifndef PERIM_SYN_H
#define PERIM_SYN_H

#ifdef __bpf__
/* vmlinux.h (or linux/types.h) is included first by the BPF side. */
#else
#include <linux/types.h>
#endif

#define PERIM_XDP_SYN_PROG_NAME "perim_xdp_syn"

/*
 * HASH: __u32 interface slot -> struct perim_syn_table; no entry, no
 * protection. A HASH, not an ARRAY: an update replaces the element as a whole,
 * so a packet never reads a table half old, half new.
 */
#define PERIM_MAP_SYN_TABLE "perim_syn_table"
/* PERCPU_ARRAY indexed by interface slot: struct perim_syn_counters. */
#define PERIM_MAP_SYN_STATS "perim_syn_stats"

#define PERIM_SYN_MAX_PROT 16          /* protections per interface */

#define PERIM_SYN_DRY_RUN (1 << 0)     /* count what would be done, pass everything */

#define PERIM_SYN_MSS_MIN 536
#define PERIM_SYN_MSS_MAX 9000
#define PERIM_SYN_WSCALE_MAX 14
#define PERIM_SYN_MSS4_DEFAULT 1460
#define PERIM_SYN_MSS6_DEFAULT 1440
#define PERIM_SYN_WSCALE_DEFAULT 7

/* One protected destination. Addresses IPv4-mapped for IPv4, as in perim.h. */
struct perim_syn_prot {
	__u32 addr[4];                 /* network order, already masked */
	__u32 mask[4];                 /* network order: the prefix as a mask */
	__u16 dport_lo;                /* host order; 0/0: every port */
	__u16 dport_hi;
	__u16 mss;                     /* MSS advertised in the SYN-ACK; 0: the family's default */
	__u8 wscale;                   /* window scale advertised (the server's, as SYNPROXY sets it) */
	__u8 flags;                    /* PERIM_SYN_* */
};

struct perim_syn_table {
	__u32 n;                       /* <= PERIM_SYN_MAX_PROT */
	__u32 _pad;
	struct perim_syn_prot prot[PERIM_SYN_MAX_PROT];
};

struct perim_syn_counters {
	__u64 synack_sent;             /* SYNs answered with a cookie (XDP_TX) */
	__u64 cookie_valid;            /* ACKs of unknown flows with a valid cookie (passed on) */
	__u64 cookie_bad;              /* ACKs with a bad cookie (dropped: bad-cookie) */
	__u64 dry_run_syns;            /* SYNs a dry-run protection would have answered (passed) */
	__u64 dry_run_bad;             /* bad cookies a dry-run protection passed */
	__u64 unhandled;               /* protected SYNs XDP could not answer (the cookie helper
					* refused the header, or the frame cannot hold the answer
					* without resizing it): left to the stack's SYNPROXY */
};

#ifndef __bpf__
_Static_assert(sizeof(struct perim_syn_prot) == 40, "perim_syn_prot layout");
_Static_assert(sizeof(struct perim_syn_table) == 8 + 40 * PERIM_SYN_MAX_PROT, "perim_syn_table layout");
_Static_assert(sizeof(struct perim_syn_counters) == 48, "perim_syn_counters layout");
#endif

#endif /* PERIM_SYN_H */
