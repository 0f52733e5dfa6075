/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The prefix lookup of the XDP program: exact-match probes of the lengths
 * in use, longest first (include/perim.h, "the fast path"), or the trie when
 * the slot's descriptor says so (a fresh map, or more lengths than fit).
 * The egress program does not include this: it keeps the trie (rule.h).
 */
#ifndef PERIM_XDP_FAST_H
#define PERIM_XDP_FAST_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include "perim.h"
#include "parse.h"
#include "gcra.h"     /* PERIM_READ_ONCE */
#include "trie.h"     /* the fallback */

/* Per instance, pinned per slot by perimd next to the tries (perim.h). */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, PERIM_LPM_MAX_ENTRIES);
	__type(key, struct perim_lpm4_key);
	__type(value, struct perim_lpm_value);
} perim_fast4 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, PERIM_LPM_MAX_ENTRIES);
	__type(key, struct perim_lpm6_key);
	__type(value, struct perim_lpm_value);
} perim_fast6 SEC(".maps");

/* An ARRAY lookup the verifier inlines: no helper call. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, PERIM_FAST_FAMILIES);
	__type(key, __u32);
	__type(value, __u64);
} perim_fastlens SEC(".maps");

/* The mask of the first `bits` bits of a 32-bit word, network order. */
static __always_inline __u32 perim_word_mask(int bits)
{
	if (bits <= 0)
		return 0;
	if (bits >= 32)
		return 0xffffffff;
	return bpf_htonl(0xffffffffU << (32 - bits));
}

static __always_inline struct perim_lpm_value *perim_fast_probe4(const struct perim_pkt *pkt, __u8 len)
{
	struct perim_lpm4_key k = { .prefixlen = len };
	__u32 masked = pkt->addr[3] & perim_word_mask(len);

	struct perim_lpm_value *v;

	__builtin_memcpy(k.addr, &masked, sizeof(k.addr));
	v = bpf_map_lookup_elem(&perim_fast4, &k);
	PERIM_ONE_MAP_CALL(v);
	return v;
}

static __always_inline struct perim_lpm_value *perim_fast_probe6(const struct perim_pkt *pkt, __u8 len)
{
	struct perim_lpm6_key k = { .prefixlen = len };
	__u32 masked[4];

#pragma unroll
	for (int w = 0; w < 4; w++)
		masked[w] = pkt->addr[w] & perim_word_mask((int)len - 32 * w);
	__builtin_memcpy(k.addr, masked, sizeof(k.addr));
	return bpf_map_lookup_elem(&perim_fast6, &k);
}

/*
 * The entry of the longest prefix holding the packet's address, or NULL.
 * A bounded loop, not unrolled: a probe is a hash lookup, and most
 * interfaces use one or two lengths.
 */
static __always_inline struct perim_lpm_value *perim_prefix_lookup(const struct perim_pkt *pkt)
{
	__u32 fam = pkt->is_v6 ? 1 : 0, n;
	__u64 *published = bpf_map_lookup_elem(&perim_fastlens, &fam);
	struct perim_lpm_value *v;
	__u64 lens;

	if (!published)
		return perim_lpm_lookup(pkt);
	/* One load: perimd replaces the whole descriptor with one store. */
	lens = PERIM_READ_ONCE(*published);
	if (PERIM_FAST_STATE(lens) == PERIM_FAST_USE_TRIE)
		return perim_lpm_lookup(pkt);
	n = PERIM_FAST_STATE(lens) - 1;
	for (__u32 i = 0; i < PERIM_FAST_MAX_LENGTHS; i++) {
		if (i >= n)
			break;
		lens >>= 8;
		v = fam ? perim_fast_probe6(pkt, lens & 0xff) : perim_fast_probe4(pkt, lens & 0xff);
		if (v)
			return v;
	}
	return NULL;
}

#endif /* PERIM_XDP_FAST_H */
