/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The datapath maps of include/perim.h. Every map is pinned (by name, or
 * per slot for the tries) so a restarted perimd adopts the state the running
 * program still enforces.
 */
#ifndef PERIM_XDP_MAPS_H
#define PERIM_XDP_MAPS_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include "perim.h"

/*
 * After a lookup in one family's map: the compiler may otherwise merge the
 * IPv4 and IPv6 lookups into one call whose map differs by path, and the
 * verifier inlines a lookup only where its call always sees one map (the
 * other runs the helper through a retpolined indirect call, tens of ns).
 */
#define PERIM_ONE_MAP_CALL(p) asm volatile("" : "+r"(p))

/*
 * One trie pair per instance, i.e. per interface: no slot in the key, and a
 * 4-byte IPv4 key, make the walk short. Not pinned by name: perimd pins each
 * instance's pair per slot (perim.h) before load.
 */
struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, PERIM_LPM_MAX_ENTRIES);
	__type(key, struct perim_lpm4_key);
	__type(value, struct perim_lpm_value);
} perim_lpm4 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, PERIM_LPM_MAX_ENTRIES);
	__type(key, struct perim_lpm6_key);
	__type(value, struct perim_lpm_value);
} perim_lpm6 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, PERIM_MAX_RULES);
	__type(key, __u32);
	__type(value, struct perim_rule);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} perim_rules SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, PERIM_MAX_RULES);
	__type(key, __u32);
	__type(value, struct perim_rule_state);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} perim_rule_state SEC(".maps");

/*
 * Bounded LRUs: a new key is only inserted after the rule's new-source
 * bucket admits it, so a spoofed-source flood can create at most
 * newsrc-rate entries per second and cannot flush established sources.
 * One per family: an IPv4 key is 8 bytes, hashed on every packet.
 */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, PERIM_SRC_BUCKETS_DEFAULT);
	__type(key, struct perim_src4_key);
	__type(value, struct perim_bucket);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} perim_src4 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, PERIM_SRC_BUCKETS_DEFAULT);
	__type(key, struct perim_src_key);
	__type(value, struct perim_bucket);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} perim_src SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, PERIM_MAX_IFACES);
	__type(key, __u32);
	__type(value, struct perim_if_counters);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} perim_if_stats SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, PERIM_MAX_RULES);
	__type(key, __u32);
	__type(value, struct perim_rule_counters);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} perim_rule_stats SEC(".maps");

#endif /* PERIM_XDP_MAPS_H */
