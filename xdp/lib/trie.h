/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The lookup in the instance's trie of the packet's family: the egress
 * program's prefix lookup, and the XDP program's when its fast path is off
 * (fast.h). Which address the tries hold, source or destination, is the
 * parser's business (PERIM_MATCH_DST).
 */
#ifndef PERIM_XDP_TRIE_H
#define PERIM_XDP_TRIE_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include "perim.h"
#include "maps.h"
#include "parse.h"

static __always_inline struct perim_lpm_value *perim_lpm_lookup(const struct perim_pkt *pkt)
{
	if (pkt->is_v6) {
		struct perim_lpm6_key k6 = { .prefixlen = 128 };

		__builtin_memcpy(k6.addr, pkt->addr, sizeof(k6.addr));
		return bpf_map_lookup_elem(&perim_lpm6, &k6);
	}
	struct perim_lpm4_key k4 = { .prefixlen = 32 };
	struct perim_lpm_value *v;

	__builtin_memcpy(k4.addr, &pkt->addr[3], sizeof(k4.addr));
	v = bpf_map_lookup_elem(&perim_lpm4, &k4);
	PERIM_ONE_MAP_CALL(v);
	return v;
}

#endif /* PERIM_XDP_TRIE_H */
