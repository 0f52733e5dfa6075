/* SPDX-License-Identifier: GPL-2.0 */
/* A second XDP program for the dispatcher cases: counts frames, passes them. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} vmxdp_hits SEC(".maps");

SEC("xdp")
int vmxdp_count(struct xdp_md *ctx)
{
	__u32 zero = 0;
	__u64 *hits = bpf_map_lookup_elem(&vmxdp_hits, &zero);

	if (hits)
		__sync_fetch_and_add(hits, 1);
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
